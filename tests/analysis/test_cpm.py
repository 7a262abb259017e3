"""compute_schedule: link types, lags, constraints, summaries, progress, anchors, cycles."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from pmosync.analysis.calendar import WorkCalendar, standard_calendar
from pmosync.analysis.cpm import (
    CpmLink,
    CpmResult,
    CpmTask,
    ScheduleCycleError,
    compute_schedule,
)
from pmosync.errors import ConfigError, PmoSyncError

DAY = 480
MON = datetime(2027, 1, 4, 8)  # a Monday


def d(day: int, hour: int = 8, minute: int = 0) -> datetime:
    """Working day ``day`` of the first weeks (0 = Monday 4 Jan 2027) at hour:minute."""
    week, weekday = divmod(day, 5)
    return MON.replace(hour=hour, minute=minute) + timedelta(days=7 * week + weekday)


def run(tasks: list[CpmTask], links: list[CpmLink] = (), **kw: object) -> CpmResult:  # type: ignore[assignment]
    kw.setdefault("project_start", MON)
    return compute_schedule(tasks, list(links), **kw)  # type: ignore[arg-type]


def dates(result: CpmResult, tid: str) -> tuple[datetime, datetime, datetime, datetime]:
    s = result.tasks[tid]
    return s.early_start, s.early_finish, s.late_start, s.late_finish


def test_fs_chain_and_a_parallel_branch() -> None:
    r = run(
        [CpmTask("A", DAY), CpmTask("B", 2 * DAY), CpmTask("C", DAY), CpmTask("M", milestone=True)],
        [CpmLink("A", "B"), CpmLink("A", "C"), CpmLink("B", "M"), CpmLink("C", "M")],
    )
    assert dates(r, "A") == (d(0), d(0, 17), d(0), d(0, 17))
    assert dates(r, "B") == (d(1), d(2, 17), d(1), d(2, 17))
    assert dates(r, "C") == (d(1), d(1, 17), d(2), d(2, 17))
    assert r.tasks["C"].total_slack_minutes == DAY == r.tasks["C"].free_slack_minutes
    # A milestone after a finish is shown at that finish (17:00), as MS Project does.
    assert r.tasks["M"].early_start == d(2, 17) == r.tasks["M"].early_finish
    assert [t for t, s in r.tasks.items() if s.critical] == ["A", "B", "M"]
    assert r.project_finish == {None: d(2, 17)}
    assert r.tasks["B"].driving_predecessors == ("A",)
    assert r.tasks["M"].driving_predecessors == ("B",)
    assert r.critical_path_to("M") == ["A", "B", "M"]


@pytest.mark.parametrize(
    ("kind", "lag", "start", "finish"),
    [
        ("FS", 0, d(2), d(3, 17)),
        ("FS", DAY, d(3), d(4, 17)),
        ("FS", -DAY, d(1), d(2, 17)),  # a lead
        ("SS", DAY, d(1), d(2, 17)),
        ("FF", 0, d(0), d(1, 17)),
        ("FF", DAY, d(1), d(2, 17)),
        ("SF", 3 * DAY, d(1), d(2, 17)),
    ],
)
def test_link_types_and_lags(kind: str, lag: int, start: datetime, finish: datetime) -> None:
    r = run([CpmTask("P", 2 * DAY), CpmTask("S", 2 * DAY)], [CpmLink("P", "S", kind, lag)])
    assert (r.tasks["S"].early_start, r.tasks["S"].early_finish) == (start, finish)


def test_ff_never_starts_before_the_project() -> None:
    r = run([CpmTask("P", DAY), CpmTask("S", 3 * DAY)], [CpmLink("P", "S", "FF")])
    assert r.tasks["S"].early_start == MON


def test_percentage_and_elapsed_lags() -> None:
    r = run(
        [CpmTask("P", 2 * DAY), CpmTask("S", DAY), CpmTask("E", DAY), CpmTask("W", DAY)],
        [
            CpmLink("P", "S", lag_percent=50.0),  # half of P's two days
            CpmLink("P", "E", lag_minutes=24 * 60, lag_elapsed=True),  # Tue 17:00 + 24h
            CpmLink("P", "W", lag_minutes=4 * 24 * 60, lag_elapsed=True),  # into the weekend
        ],
    )
    assert r.tasks["S"].early_start == d(3)
    assert r.tasks["E"].early_start == d(3)  # Wed 17:00 is not working: Thursday 08:00
    assert r.tasks["W"].early_start == d(5)  # Saturday 17:00 -> Monday 08:00


def test_elapsed_duration_runs_through_the_weekend() -> None:
    r = run(
        [
            CpmTask("A", 4 * DAY),
            CpmTask("E", 2 * 24 * 60, elapsed=True),
            CpmTask("B", DAY),
        ],
        [CpmLink("A", "E"), CpmLink("E", "B")],
    )
    assert r.tasks["E"].early_start == d(4)  # Friday 08:00
    assert r.tasks["E"].early_finish == d(4) + timedelta(days=2)  # Sunday 08:00
    assert r.tasks["B"].early_start == d(5)


def test_lag_is_on_the_successors_calendar_and_links_cross_calendars() -> None:
    night = WorkCalendar(
        "Night",
        week=(((1320, 1440),),) * 5 + ((), ()),  # 22:00-24:00 on weekdays
    )
    r = run(
        [
            CpmTask("D", DAY),
            CpmTask("N", 120, calendar="night"),
            CpmTask("L", 60, calendar="night"),
        ],
        [CpmLink("D", "N"), CpmLink("D", "L", lag_minutes=120)],
        calendars={"night": night},
    )
    assert r.tasks["N"].early_start == d(0, 22)
    assert r.tasks["N"].early_finish == d(1, 0)
    # Two night-shift hours of lag: the whole of Monday night.
    assert r.tasks["L"].early_start == d(1, 22)


CONSTRAINED = [CpmTask("A", DAY), CpmTask("B", DAY), CpmTask("C", DAY)]
CHAIN = [CpmLink("A", "B"), CpmLink("B", "C")]


def _with(tid: str, ctype: str, when: datetime) -> list[CpmTask]:
    return [
        CpmTask(t.id, t.duration_minutes, constraint_type=ctype, constraint_date=when)
        if t.id == tid
        else t
        for t in CONSTRAINED
    ]


@pytest.mark.parametrize(
    ("ctype", "when", "es", "ts"),
    [
        ("ASAP", None, d(1), 0),
        ("ALAP", None, d(1), 0),
        ("SNET", d(3), d(3), 0),  # pushes B (and C) later
        ("SNET", d(0), d(1), 0),  # already met
        ("FNET", d(3, 17), d(3), 0),
        ("SNLT", d(0), d(0), -DAY),  # honoured: B starts before A ends, negative slack
        ("FNLT", d(2, 17), d(1), 0),
        ("FNLT", d(0, 17), d(0), -DAY),
        ("MSO", d(4), d(4), 0),
        ("MFO", d(0, 17), d(0), -DAY),
    ],
)
def test_constraints(ctype: str, when: datetime | None, es: datetime, ts: float) -> None:
    tasks = CONSTRAINED if when is None else _with("B", ctype, when)
    if when is None:
        tasks = [CpmTask(t.id, t.duration_minutes, constraint_type=ctype) for t in CONSTRAINED]
    r = run(tasks, CHAIN)
    assert r.tasks["B"].early_start == es
    assert r.tasks["B"].total_slack_minutes == ts
    assert r.tasks["B"].critical is (ts <= 0)


def test_snet_without_predecessors_may_start_before_the_project() -> None:
    r = run([CpmTask("A", DAY, constraint_type="SNET", constraint_date=d(0) - timedelta(days=7))])
    assert r.tasks["A"].early_start == d(0) - timedelta(days=7)


def test_deadline_gives_negative_slack_without_moving_the_task() -> None:
    tasks = [CpmTask("A", 2 * DAY), CpmTask("B", DAY, deadline=d(1, 17))]
    r = run(tasks, [CpmLink("A", "B")])
    assert r.tasks["B"].early_finish == d(2, 17)
    assert r.tasks["B"].late_finish == d(1, 17)
    assert r.tasks["B"].total_slack_minutes == -DAY
    assert r.tasks["A"].total_slack_minutes == -DAY


def test_links_on_summaries_expand_to_leaves_and_summaries_roll_up() -> None:
    tasks = [
        CpmTask("P1", summary=True),
        CpmTask("a", DAY, parent="P1"),
        CpmTask("b", 2 * DAY, parent="P1"),
        CpmTask("P2", summary=True),
        CpmTask("c", DAY, parent="P2"),
        CpmTask("d", DAY, parent="P2"),
    ]
    r = run(tasks, [CpmLink("P1", "P2"), CpmLink("c", "d")])
    assert r.tasks["c"].early_start == d(2)  # after b, the longer leaf of P1
    assert r.tasks["d"].early_start == d(3)
    assert dates(r, "P1")[:2] == (d(0), d(1, 17))
    assert dates(r, "P2")[:2] == (d(2), d(3, 17))
    assert r.tasks["P2"].total_slack_minutes == 0 and r.tasks["P2"].critical
    assert r.tasks["a"].total_slack_minutes == DAY


def test_a_parent_loop_in_bad_data_does_not_stop_the_schedule() -> None:
    """Two summaries each other's parent (merged from tools that disagree): each still spans
    its real children, and the leaves are scheduled."""
    tasks = [
        CpmTask("P1", summary=True, parent="P2"),
        CpmTask("P2", summary=True, parent="P1"),
        CpmTask("a", DAY, parent="P1"),
        CpmTask("b", 2 * DAY, parent="P2"),
    ]
    r = run(tasks, [CpmLink("a", "b")])
    assert r.tasks["b"].early_start == d(1)
    # which of the two holds the other depends on where the walk starts; both hold their own
    assert dates(r, "P1")[0] == d(0) and dates(r, "P2")[1] == d(2, 17)


def test_manual_tasks_are_held_at_their_dates() -> None:
    tasks = [
        CpmTask("A", 2 * DAY),
        CpmTask("M", DAY, manual=True, start=d(0), finish=d(0, 17)),
        CpmTask("B", DAY),
    ]
    r = run(tasks, [CpmLink("A", "M"), CpmLink("M", "B")])
    assert (r.tasks["M"].early_start, r.tasks["M"].early_finish) == (d(0), d(0, 17))
    assert r.tasks["B"].early_start == d(1)


def test_progress_against_a_status_date() -> None:
    status = d(3, 12)
    tasks = [
        CpmTask("done", DAY, actual_start=d(0), actual_finish=d(1, 17)),
        CpmTask("doing", 2 * DAY, actual_start=d(2), remaining_minutes=DAY),
        CpmTask("todo", DAY),
        CpmTask("free", DAY),
    ]
    r = run(
        tasks,
        [CpmLink("done", "doing"), CpmLink("doing", "todo")],
        status_date=status,
    )
    assert dates(r, "done") == (d(0), d(1, 17), d(0), d(1, 17))
    assert r.tasks["done"].critical is False
    # One remaining day from the status date (Thursday 12:00): Friday 12:00.
    assert (r.tasks["doing"].early_start, r.tasks["doing"].early_finish) == (d(2), d(4, 12))
    assert r.tasks["todo"].early_start == d(4, 13)
    # Unstarted work without logic cannot start before the status date.
    assert r.tasks["free"].early_start == d(3, 13)


def test_in_progress_by_percent_complete() -> None:
    tasks = [CpmTask("half", 4 * DAY, actual_start=d(0), percent_complete=50.0)]
    r = run(tasks, status_date=d(0, 8))
    assert r.tasks["half"].early_finish == d(1, 17)


def test_portfolio_anchors_each_project_at_its_own_finish() -> None:
    tasks = [
        CpmTask("long1", 10 * DAY, project="L"),
        CpmTask("short1", DAY, project="S"),
        CpmTask("short2", DAY, project="S"),
    ]
    r = run(tasks, [CpmLink("short1", "short2")])
    assert r.tasks["short1"].total_slack_minutes == 0
    assert r.tasks["short2"].critical
    assert r.project_finish == {"L": d(9, 17), "S": d(1, 17)}
    committed = run(tasks, [CpmLink("short1", "short2")], project_finish_anchor={"S": d(4, 17)})
    assert committed.tasks["short1"].total_slack_minutes == 3 * DAY
    assert not committed.tasks["short1"].critical


def test_cross_project_links_are_just_edges_and_projects_have_their_own_start() -> None:
    tasks = [CpmTask("a", DAY, project="X"), CpmTask("b", DAY, project="Y")]
    r = run(
        tasks,
        [CpmLink("a", "b")],
        project_start={"X": d(5), "Y": d(0)},
    )
    assert r.tasks["b"].early_start == d(6)


def test_project_calendars_and_default_calendar() -> None:
    four_day = WorkCalendar("4x10", week=(((420, 1020),),) * 4 + ((), (), ()))
    tasks = [CpmTask("a", 1200, project="X"), CpmTask("b", 600, project="Y")]
    r = run(
        tasks,
        calendars={"4x10": four_day},
        project_calendars={"X": "4x10"},
        default_calendar=standard_calendar(),
    )
    # 07:00-17:00 from Monday 08:00: 9 h, then 10 h on Tuesday, the last hour on Wednesday.
    assert r.tasks["a"].early_finish == d(2, 8)
    assert r.tasks["b"].early_finish == d(1, 10)  # 8 h days: Tuesday 10:00


def test_critical_slack_limit() -> None:
    tasks = [CpmTask("A", 3 * DAY), CpmTask("B", 2 * DAY)]
    assert not run(tasks).tasks["B"].critical
    assert run(tasks, critical_slack_limit=DAY).tasks["B"].critical


def test_cycles_are_reported_with_one_witness_per_component() -> None:
    tasks = [CpmTask(x, DAY) for x in "ABCDE"]
    links = [
        CpmLink("A", "B"),
        CpmLink("B", "C"),
        CpmLink("C", "A"),
        CpmLink("D", "D"),
        CpmLink("C", "E"),
    ]
    with pytest.raises(ScheduleCycleError) as info:
        run(tasks, links)
    error = info.value
    assert isinstance(error, ConfigError) and isinstance(error, PmoSyncError)
    assert sorted(sorted(c) for c in error.cycles) == [["A", "B", "C"], ["D"]]
    for cycle in error.cycles:
        pairs = {(link.predecessor, link.successor) for link in links}
        assert all((cycle[k], cycle[(k + 1) % len(cycle)]) in pairs for k in range(len(cycle)))
    assert (
        "A -> B -> C -> A" in str(error)
        or "B -> C -> A -> B" in str(error)
        or ("C -> A -> B -> C" in str(error))
    )


def test_a_link_from_a_summary_to_its_own_child_is_a_cycle() -> None:
    tasks = [CpmTask("S", summary=True), CpmTask("x", DAY, parent="S")]
    with pytest.raises(ScheduleCycleError):
        run(tasks, [CpmLink("S", "x")])


@pytest.mark.parametrize(
    ("tasks", "links", "message"),
    [
        ([CpmTask("A")], [CpmLink("A", "Z")], "no task 'Z'"),
        ([CpmTask("A"), CpmTask("B")], [CpmLink("A", "B", "XX")], "unknown type"),
        ([CpmTask("A", constraint_type="SOON")], [], "unknown constraint type"),
        ([CpmTask("A", calendar="nope")], [], "unknown calendar 'nope'"),
        ([CpmTask("A"), CpmTask("A")], [], "appears twice"),
    ],
)
def test_bad_input_is_a_config_error(
    tasks: list[CpmTask], links: list[CpmLink], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        run(tasks, links)


def test_project_start_defaults_to_the_earliest_entered_start() -> None:
    r = compute_schedule([CpmTask("A", DAY, start=d(2)), CpmTask("B", DAY)], [])
    assert r.tasks["B"].early_start == d(2)
    with pytest.raises(ConfigError, match="no project start"):
        compute_schedule([CpmTask("A", DAY)], [])


def test_alap_task_sits_at_its_late_dates_and_drives_its_successors_from_there() -> None:
    tasks = [
        CpmTask("A", DAY),
        CpmTask("L", DAY, constraint_type="ALAP"),
        CpmTask("X", DAY),
        CpmTask("B", 3 * DAY),
    ]
    r = run(tasks, [CpmLink("A", "L"), CpmLink("L", "X"), CpmLink("A", "B")])
    # L's early dates stay its ASAP position; its late dates are where MS Project puts it.
    assert dates(r, "L") == (d(1), d(1, 17), d(2), d(2, 17))
    assert r.tasks["L"].total_slack_minutes == 2 * DAY - DAY
    assert r.tasks["L"].free_slack_minutes == 0
    # X follows L's late finish (a second forward pass, as MS Project does).
    assert r.tasks["X"].early_start == d(3)
    assert r.tasks["X"].critical
