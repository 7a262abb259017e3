"""Slip propagation (§B.6): push-only and re-plan."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from portfolio_builder import CAL, Portfolio, toy

from pmosync.analysis.calendar import standard_calendar
from pmosync.analysis.whatif import SlipResult, parse_slip, propagate_slip
from pmosync.errors import ConfigError


def dt(text: str) -> datetime:
    return datetime.fromisoformat(text)


def deltas(result: SlipResult) -> dict[str, float]:
    return {r.item: r.delta_days for r in result.rows}


# -- the verified toy case ---------------------------------------------------------------------


def test_a_ten_day_slip_of_a_ga_moves_b_by_eight_days() -> None:
    g = toy().graph()
    r = propagate_slip(g, "A-2", 10, calendar=CAL)
    assert deltas(r) == {"ga": 10.0, "integration": 8.0, "launch": 8.0}
    rows = {row.item: row for row in r.rows}
    integ = rows["integration"]
    assert (integ.old_start, integ.new_start) == (dt("2027-03-17 08:00"), dt("2027-03-29 08:00"))
    assert (integ.old_finish, integ.new_finish) == (dt("2027-03-26 17:00"), dt("2027-04-07 17:00"))
    assert rows["launch"].chain == ("ga", "integration", "launch")
    # a milestone stays one instant
    assert rows["ga"].new_start == rows["ga"].new_finish == dt("2027-03-26 17:00")
    # the GA → integration link absorbed its 2 days' gap
    (absorbed,) = r.absorbed
    (link,) = [e for e in g.edges if (e.predecessor, e.successor) == ("ga", "integration")]
    assert absorbed == (link.id, 2.0)
    assert r.milestones == ("ga", "launch") and r.projects == ("A", "B")


def test_a_one_day_slip_of_a_build_is_absorbed_before_b() -> None:
    r = propagate_slip(toy().graph(), "build", 1, calendar=CAL)
    assert deltas(r) == {"build": 1.0, "ga": 1.0}
    assert r.projects == ("A",) and r.milestones == ("ga",)
    assert [days for _link, days in r.absorbed] == [1.0]


def test_nothing_moves_earlier_when_an_item_comes_in() -> None:
    r = propagate_slip(toy().graph(), "A-2", -3, calendar=CAL)
    assert deltas(r) == {"ga": -3.0}


def test_slips_are_counted_on_the_working_calendar() -> None:
    cal = standard_calendar().with_exceptions({date(2027, 3, 15): ()})  # Monday off
    p = Portfolio()
    p.project("P", "P")
    p.item("a", "P-1", "P", "2027-03-08", "2027-03-12")
    p.item("b", "P-2", "P", "2027-03-15", "2027-03-19")  # entered on the holiday: starts Tue
    p.link("a", "b")
    g = p.graph(cal)
    r = propagate_slip(g, "a", 1, calendar=cal)
    rows = {row.item: row for row in r.rows}
    # Friday + 1 working day, skipping the weekend and Monday's holiday
    assert rows["a"].new_finish == dt("2027-03-16 17:00")
    # b started Tue 08:00 with no gap: it moves one day, to Wednesday
    assert rows["b"].new_start == dt("2027-03-17 08:00") and rows["b"].delta_days == 1.0


@pytest.mark.parametrize(
    ("link", "b", "moved"),
    [
        # SS+1d: a starts Mon 1st, b Wed 3rd (1 day gap); a slips 3 → b moves 2
        ({"link_type": "SS", "lag_minutes": 480}, ("2027-03-03", "2027-03-05"), 2.0),
        # FF: a finishes Fri 5th, b Tue 9th (2 days gap); a slips 3 → b moves 1
        ({"link_type": "FF"}, ("2027-03-08", "2027-03-09"), 1.0),
        # SF: a starts Mon 1st, b finishes Thu 4th (3.. days gap); a slips 3 → b does not move
        ({"link_type": "SF"}, ("2027-03-01", "2027-03-04"), 0.0),
        # FS+2ed: Fri 5th 17:00 + 2 calendar days is Sunday → b may start Mon 8th, as entered.
        # Slipped 3 days a finishes Wed 10th; + 2 calendar days is Fri 12th 17:00, so b waits
        # for Mon 15th: an elapsed lag that no longer spans a weekend passes on 5 days
        ({"lag_minutes": 2880, "lag_elapsed": True}, ("2027-03-08", "2027-03-09"), 5.0),
    ],
)
def test_push_through_each_link_type(
    link: dict[str, object], b: tuple[str, str], moved: float
) -> None:
    p = Portfolio()
    p.project("P", "P")
    p.item("a", "P-1", "P", "2027-03-01", "2027-03-05")
    p.item("b", "P-2", "P", *b)
    p.link("a", "b", **link)
    r = propagate_slip(p.graph(), "a", 3, calendar=CAL)
    assert deltas(r).get("b", 0.0) == moved


def test_the_driving_chain_is_the_link_that_pushes_furthest() -> None:
    p = Portfolio()
    p.project("P", "P")
    p.item("x", "P-1", "P", "2027-03-01", "2027-03-05")
    p.item("near", "P-2", "P", "2027-03-08", "2027-03-08")  # right after x
    p.item("far", "P-3", "P", "2027-03-16", "2027-03-17")  # 6 working days after x
    p.item("end", "P-4", "P", "2027-03-18", "2027-03-19")
    p.link("x", "near")
    p.link("x", "far")
    p.link("near", "end")  # 7 days' gap
    p.link("far", "end")  # no gap
    r = propagate_slip(p.graph(), "x", 8, calendar=CAL)
    # through near: 8 − 0 − 7 = 1; through far: 8 − 6 − 0 = 2
    assert deltas(r) == {"x": 8.0, "near": 8.0, "far": 2.0, "end": 2.0}
    (end,) = [row for row in r.rows if row.item == "end"]
    # near moved more but its link had more gap; far is what moves end
    assert end.chain == ("x", "far", "end")


def test_a_summary_slips_as_a_whole() -> None:
    p = Portfolio()
    p.project("P", "P")
    p.item("phase", "P-1", "P", kind="summary")
    p.item("a", "P-2", "P", "2027-03-01", "2027-03-05", parent="phase")
    p.item("b", "P-3", "P", "2027-03-01", "2027-03-02", parent="phase")
    p.item("after", "P-4", "P", "2027-03-08", "2027-03-09")
    p.link("phase", "after")
    r = propagate_slip(p.graph(), "P-1", 2, calendar=CAL)
    assert deltas(r) == {"a": 2.0, "b": 2.0, "after": 2.0}
    assert {row.chain for row in r.rows if row.item != "after"} == {
        ("phase", "a"),
        ("phase", "b"),
    }


def test_done_items_and_loops_are_refused_with_names() -> None:
    p = toy()
    p.item("old", "A-0", "A", "2027-01-01", "2027-01-05", status="done")
    p.link("launch", "integration")  # a loop downstream of GA
    g = p.graph()
    with pytest.raises(ConfigError, match="A-0 old .*is done"):
        propagate_slip(g, "A-0", 2, calendar=CAL)
    with pytest.raises(ConfigError, match="loop.*B-1 integration"):
        propagate_slip(g, "A-2", 3, calendar=CAL)
    # a slip absorbed before the loop never reaches it
    assert deltas(propagate_slip(g, "A-2", 2, calendar=CAL)) == {"ga": 2.0}


def test_done_successors_stay_where_they_happened() -> None:
    p = toy()
    p.entities[4][2]["status"] = "done"  # integration
    r = propagate_slip(p.graph(), "ga", 10, calendar=CAL)
    assert deltas(r) == {"ga": 10.0}


# -- properties --------------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    durations=st.lists(st.integers(1, 4), min_size=2, max_size=7),
    gaps=st.data(),
    slip=st.integers(0, 20),
)
def test_a_slip_through_an_fs_chain_loses_each_gap_it_crosses(
    durations: list[int], gaps: st.DataObject, slip: int
) -> None:
    gap = gaps.draw(
        st.lists(st.integers(0, 5), min_size=len(durations) - 1, max_size=len(durations) - 1)
    )
    p = Portfolio()
    p.project("P", "P")
    start = datetime(2027, 3, 1, 8, 0)
    for i, d in enumerate(durations):
        finish = CAL.add_work(start, d * 480)
        p.item(f"t{i}", f"P-{i}", "P", start_at=start.isoformat(), finish_at=finish.isoformat())
        if i < len(gap):
            start = CAL.add_work(CAL.next_work_start(finish), gap[i] * 480)
            start = CAL.next_work_start(start)
    for i in range(len(durations) - 1):
        p.link(f"t{i}", f"t{i + 1}")
    r = propagate_slip(p.graph(), "t0", slip, calendar=CAL)
    got = deltas(r)
    for i in range(1, len(durations)):
        expected = max(0, slip - sum(gap[:i]))
        assert got.get(f"t{i}", 0.0) == expected
    if slip == 0:
        assert all(v == 0 for v in got.values())


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(2, 9),
    edges=st.sets(st.tuples(st.integers(0, 8), st.integers(0, 8)), max_size=20),
    offsets=st.lists(st.integers(0, 30), min_size=9, max_size=9),
    lengths=st.lists(st.integers(0, 5), min_size=9, max_size=9),
    types=st.lists(st.sampled_from(["FS", "SS", "FF", "SF"]), min_size=20, max_size=20),
    slip=st.integers(0, 15),
    target=st.integers(0, 8),
)
def test_push_only_never_moves_anything_earlier(
    n: int,
    edges: set[tuple[int, int]],
    offsets: list[int],
    lengths: list[int],
    types: list[str],
    slip: int,
    target: int,
) -> None:
    p = Portfolio()
    p.project("P", "P")
    day0 = date(2027, 3, 1)
    for i in range(n):
        s = day0 + timedelta(days=offsets[i])
        p.item(f"t{i}", f"P-{i}", "P", s.isoformat(), (s + timedelta(days=lengths[i])).isoformat())
    # forward edges only (a < b) keep the graph acyclic
    for k, (a, b) in enumerate(sorted(edges)):
        if a < b < n:
            p.link(f"t{a}", f"t{b}", link_type=types[k])
    g = p.graph()
    r = propagate_slip(g, f"t{target % n}", slip, calendar=CAL)
    for row in r.rows:
        assert row.delta_days >= 0
        if row.old_start and row.new_start:
            assert row.new_start >= row.old_start
        if row.old_finish and row.new_finish:
            assert row.new_finish >= row.old_finish
    if slip == 0:
        assert all(row.delta_days == 0 for row in r.rows)
        assert r.milestones == () and r.projects == ()


# -- re-plan -----------------------------------------------------------------------------------


def test_replan_reruns_cpm_and_reports_finish_moves_and_slack_consumed() -> None:
    g = toy().graph()
    r = propagate_slip(g, "A-2", 10, calendar=CAL, mode="replan", status_date=dt("2027-02-01"))
    d = deltas(r)
    assert d["ga"] == 10.0 and d["integration"] == 8.0 and d["launch"] == 8.0
    assert "build" not in d  # unmoved, and it lost no slack
    rows = {row.item: row for row in r.rows}
    assert rows["launch"].chain == ("ga", "integration", "launch")
    assert rows["integration"].new_start == dt("2027-03-29 08:00")
    assert set(r.milestones) == {"ga", "launch"} and r.projects == ("A", "B")


def test_replan_reports_slack_consumed_where_a_project_had_some() -> None:
    p = toy()
    # B also has work finishing Wed 31st, so launch (Fri 26th) had 3 days of slack
    p.item("docs", "B-3", "B", "2027-03-29", "2027-03-31")
    r = propagate_slip(
        p.graph(), "A-2", 10, calendar=CAL, mode="replan", status_date=dt("2027-02-01")
    )
    rows = {row.item: row for row in r.rows}
    assert rows["launch"].delta_days == 8.0 and rows["launch"].slack_consumed_days == 3.0
    # docs gained slack (B now finishes later): not reported as a change
    assert "docs" not in rows


def test_replan_of_a_small_slip_moves_nothing_downstream_of_the_gap() -> None:
    r = propagate_slip(
        toy().graph(), "build", 1, calendar=CAL, mode="replan", status_date=dt("2027-02-01")
    )
    d = {k: v for k, v in deltas(r).items() if v}
    assert d == {"build": 1.0, "ga": 1.0}


# -- parse_slip --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "days"),
    [("10d", 10.0), ("2w", 10.0), ("3", 3.0), ("-1d", -1.0), (" 1.5 days ", 1.5), ("+4D", 4.0)],
)
def test_parse_slip(text: str, days: float) -> None:
    assert parse_slip(text) == days


@pytest.mark.parametrize("text", ["", "ten days", "3h", "1d2", "d"])
def test_parse_slip_says_what_is_accepted(text: str) -> None:
    with pytest.raises(ConfigError, match="10d"):
        parse_slip(text)
