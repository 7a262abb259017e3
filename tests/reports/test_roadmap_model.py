"""The roadmap model (pure): row packing, contraction of item links to project arrows, lanes,
slip in working days, key events."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from pmosync.analysis.roadmap import (
    NO_PROGRAMME,
    EventInput,
    FindingInput,
    LinkInput,
    ProgrammeInput,
    ProjectInput,
    build_roadmap,
    contract_links,
    pack_rows,
    working_days_between,
)

D0 = date(2027, 1, 4)  # a Monday


def day(n: int) -> date:
    return D0 + timedelta(days=n)


def test_greedy_packing_reuses_the_first_free_row() -> None:
    intervals = [(day(0), day(10)), (day(11), day(20)), (day(5), day(15)), (day(16), day(30))]
    assert pack_rows(intervals) == [0, 0, 1, 1]
    # a gap keeps a bar's label clear of the next bar on the row
    assert pack_rows(intervals, gap_days=3) == [0, 2, 1, 0]


@given(st.lists(st.tuples(st.integers(0, 200), st.integers(0, 60)), min_size=1, max_size=40))
def test_packing_never_overlaps_and_uses_as_few_rows_as_the_busiest_day(
    spans: list[tuple[int, int]],
) -> None:
    intervals = [(day(s), day(s + length)) for s, length in spans]
    rows = pack_rows(intervals)
    for r in set(rows):
        mine = sorted(iv for iv, row in zip(intervals, rows, strict=True) if row == r)
        for (_, end), (start, _) in zip(mine, mine[1:], strict=False):
            assert end < start
    busiest = max(sum(1 for s, e in intervals if s <= d <= e) for d, _ in intervals)
    assert max(rows) + 1 == busiest  # greedy colouring is optimal on intervals


def test_links_contract_to_projects_with_the_worst_finding() -> None:
    item_project = {"a1": "A", "a2": "A", "b1": "B", "c1": "C"}
    links = [
        LinkInput("l1", "a1", "b1"),
        LinkInput("l2", "a2", "b1"),
        LinkInput("l3", "a1", "a2"),  # inside A: no arrow
        LinkInput("l4", "b1", "c1"),
        LinkInput("l5", "b1", "zz"),  # unknown item: no arrow
    ]
    findings = [
        FindingInput("at_risk", "medium", "l1", "l1 at risk"),
        FindingInput("violation", "high", "l2", "l2 violated", 4.0),
        FindingInput("open_end", "low", None, "open end"),
    ]
    arrows = {(a.source, a.target): a for a in contract_links(links, item_project, findings)}
    assert set(arrows) == {("A", "B"), ("B", "C")}
    assert arrows[("A", "B")].state == "violated"
    assert arrows[("A", "B")].links == ("l1", "l2")
    assert set(arrows[("A", "B")].messages) == {"l1 at risk", "l2 violated"}
    assert arrows[("B", "C")].state == "ok"
    unchecked = contract_links(links, item_project, None)
    assert {a.state for a in unchecked} == {"unchecked"}


def test_arrows_carry_the_hand_off_dates() -> None:
    dates = {"a1": (day(0), day(9)), "a2": (day(0), day(20)), "b1": (day(15), day(30))}
    [arrow] = contract_links(
        [LinkInput("l1", "a1", "b1"), LinkInput("l2", "a2", "b1")],
        {"a1": "A", "a2": "A", "b1": "B"},
        [],
        dates,
    )
    assert (arrow.source_date, arrow.target_date) == (day(20), day(15))


def test_working_days_are_signed_and_skip_weekends() -> None:
    friday, monday = date(2027, 3, 5), date(2027, 3, 8)
    assert working_days_between(friday, monday) == 1
    assert working_days_between(monday, friday) == -1
    assert working_days_between(monday, monday) == 0


def test_build_roadmap_lanes_bars_diamonds_and_key_events() -> None:
    projects = [
        ProjectInput(
            "p1",
            "ALP",
            "Alpha",
            programme="g1",
            rag="A",
            start=day(0),
            finish=day(60),
            baseline_start=day(0),
            baseline_finish=day(53),
        ),
        ProjectInput("p2", "BET", "Beta", programme="g1", rag="R", start=day(70), finish=day(90)),
        ProjectInput("p3", "GAM", "Gamma", programme="unknown", start=day(10), finish=day(20)),
        ProjectInput("p4", "UND", "Undated"),
    ]
    events = [
        EventInput("m1", "p1", "Alpha live", date=day(60), baseline=day(53)),
        EventInput("m2", "p2", "Beta done", date=day(200), done=False),
        EventInput("m3", "p2", "Beta kick-off", date=day(71), done=True),
        EventInput("r1", "p2", "Release 1", kind="release", date=day(80)),
    ]
    roadmap = build_roadmap(
        title="T",
        today=day(1),
        projects=projects,
        programmes=[ProgrammeInput("g1", "Digital", rag="A", reasons="one amber")],
        events=events,
        key_event_days=90,
    )
    assert [lane.title for lane in roadmap.lanes] == ["Digital", NO_PROGRAMME]
    digital = roadmap.lanes[0]
    assert digital.rag == "A" and digital.rows == 1  # Alpha and Beta share a row
    assert [b.project.code for b in digital.bars] == ["ALP", "BET"]
    alpha = roadmap.bar_for("p1")
    assert alpha is not None and alpha.slip_days == 5  # 53 → 60 calendar days = 5 working
    [live] = [d for d in digital.diamonds if d.event.id == "m1"]
    assert live.slip_days == 5 and live.row == alpha.row
    # key events: open, inside the window, in date order; the done one and the far one left out
    assert [d.label for d in roadmap.key_events] == ["Alpha live", "Release 1"]
    assert [p.code for p in roadmap.undated] == ["UND"]
    assert roadmap.start == date(2027, 1, 1) and roadmap.end == date(2027, 8, 1)
    assert not roadmap.findings_computed


def test_a_bar_runs_to_its_projects_last_open_milestone() -> None:
    projects = [ProjectInput("p1", "ALP", "Alpha", start=day(0), finish=day(20))]
    events = [
        EventInput("m1", "p1", "Go-live", date=day(40)),  # open, after the project's finish
        EventInput("m2", "p1", "Archive", date=day(90), done=True),  # done ones do not count
    ]
    roadmap = build_roadmap(title="T", today=day(1), projects=projects, events=events)
    bar = roadmap.bar_for("p1")
    assert bar is not None and bar.project.finish == day(40)
    # and a project whose milestones all lie inside it keeps its own finish
    inside = build_roadmap(
        title="T",
        today=day(1),
        projects=projects,
        events=[EventInput("m1", "p1", "Go-live", date=day(10))],
    )
    kept = inside.bar_for("p1")
    assert kept is not None and kept.project.finish == day(20)
