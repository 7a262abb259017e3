"""Checks on the graph and on dates as entered (§B.3, §B.5)."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from portfolio_builder import CAL, Portfolio, toy

from pmosync.analysis.calendar import standard_calendar
from pmosync.analysis.cpm import compute_schedule
from pmosync.analysis.dependencies import Finding, check_dependencies, to_cpm

NOW = datetime(2027, 2, 1)  # before every date below, unless a test says otherwise


def findings(p: Portfolio, kind: str | None = None, **kw: Any) -> list[Finding]:
    out = check_dependencies(
        p.graph(kw.pop("cal", CAL)),
        calendar=kw.pop("cal2", CAL),
        status_date=kw.pop("status_date", NOW),
        **kw,
    )
    return [f for f in out if kind is None or f.kind == kind]


def pair(
    link: dict[str, Any],
    a: tuple[str | None, str | None],
    b: tuple[str | None, str | None],
    **b_values: Any,
) -> Portfolio:
    p = Portfolio()
    p.project("P", "P")
    p.item("a", "P-1", "P", *a)
    p.item("b", "P-2", "P", *b, **b_values)
    p.link("a", "b", **link)
    return p


# -- violations --------------------------------------------------------------------------------


def test_fs_violation_shortfall_is_in_working_days_across_the_weekend() -> None:
    # a finishes Friday 17:00; b was entered to start Thursday: Thursday and Friday are short
    (f,) = findings(
        pair({}, ("2027-03-08", "2027-03-12"), ("2027-03-11", "2027-03-19")), "violation"
    )
    assert f.shortfall_days == 2.0 and f.items == ("a", "b") and f.severity == "medium"
    assert "P-2 b" in f.message and "P-1 a" in f.message and "2 working day" in f.message


def test_an_fs_successor_on_the_next_working_day_is_fine() -> None:
    # Friday 17:00 → Monday 08:00 is no working time at all
    assert (
        findings(pair({}, ("2027-03-08", "2027-03-12"), ("2027-03-15", "2027-03-19")), "violation")
        == []
    )


def test_shortfall_skips_holidays_on_the_successors_calendar() -> None:
    cal = standard_calendar().with_exceptions({date(2027, 3, 15): ()})  # Monday off
    # a finishes Tuesday 16th, b starts Friday 12th: Fri, (Mon off), Tue = 2 days
    p = pair({}, ("2027-03-08", "2027-03-16"), ("2027-03-12", "2027-03-19"))
    (f,) = findings(p, "violation", cal=cal, cal2=cal)
    assert f.shortfall_days == 2.0
    (g,) = findings(p, "violation")  # on the Standard calendar Monday counts
    assert g.shortfall_days == 3.0


@pytest.mark.parametrize(
    ("link", "a", "b", "short"),
    [
        # SS+2d: a starts Mon 1st, so b may start Wed 3rd; it was entered Tue 2nd
        (
            {"link_type": "SS", "lag_minutes": 960},
            ("2027-03-01", "2027-03-05"),
            ("2027-03-02", "2027-03-05"),
            1.0,
        ),
        # FF: a finishes Fri 12th; b was entered to finish Wed 10th
        ({"link_type": "FF"}, ("2027-03-01", "2027-03-12"), ("2027-03-01", "2027-03-10"), 2.0),
        # SF: a starts Tue 9th, so b may finish no earlier than Tue 08:00; b finishes Fri 5th
        ({"link_type": "SF"}, ("2027-03-09", "2027-03-12"), ("2027-03-01", "2027-03-05"), 1.0),
        # FS+3d working lag from Fri 12th 17:00: b may start Thu 18th; entered Mon 15th
        ({"lag_minutes": 1440}, ("2027-03-08", "2027-03-12"), ("2027-03-15", "2027-03-19"), 3.0),
        # FS+3ed elapsed lag from Fri 17:00 → Mon 17:00; entered Monday 08:00
        (
            {"lag_minutes": 4320, "lag_elapsed": True},
            ("2027-03-08", "2027-03-12"),
            ("2027-03-15", "2027-03-19"),
            1.0,
        ),
        # SS+50% of a's 10 days: b may start Mon 8th; entered Wed 3rd
        (
            {"link_type": "SS", "lag_percent": "50"},
            ("2027-03-01", "2027-03-12"),
            ("2027-03-03", "2027-03-19"),
            3.0,
        ),
    ],
)
def test_every_link_type_and_lag_kind(
    link: dict[str, Any], a: tuple[str, str], b: tuple[str, str], short: float
) -> None:
    (f,) = findings(pair(link, a, b), "violation")
    assert f.shortfall_days == short


def test_sf_met_exactly_is_no_violation() -> None:
    # a starts Mon 8th 08:00; b finishes Fri 5th 17:00: no working time between them
    assert (
        findings(
            pair({"link_type": "SF"}, ("2027-03-08", "2027-03-12"), ("2027-03-01", "2027-03-05")),
            "violation",
        )
        == []
    )


def test_a_successor_with_only_a_due_date_is_checked_against_it() -> None:
    (f,) = findings(pair({}, ("2027-03-08", "2027-03-12"), (None, "2027-03-10")), "violation")
    assert f.shortfall_days == 2.0


@pytest.mark.parametrize(
    ("b_values", "severity"),
    [
        ({}, "medium"),
        ({"status": "active"}, "high"),
        ({"actual_start": "2027-03-11T08:00:00"}, "high"),
        ({"kind": "milestone"}, "high"),
    ],
)
def test_severity_is_higher_when_the_successor_started_or_is_a_key_milestone(
    b_values: dict[str, Any], severity: str
) -> None:
    # (a milestone is an instant: entered on its due date, Thursday 11th)
    due = "2027-03-11" if b_values.get("kind") == "milestone" else "2027-03-19"
    p = pair({}, ("2027-03-08", "2027-03-12"), ("2027-03-11", due), **b_values)
    (f,) = findings(p, "violation")
    assert f.severity == severity


def test_a_done_predecessor_whose_actual_finish_meets_the_link_is_ignored() -> None:
    # entered finish was late, but it actually finished in time
    p = pair(
        {},
        ("2027-03-08", "2027-03-12"),
        ("2027-03-11", "2027-03-19"),
    )
    p.entities[1][2]["actual_finish"] = "2027-03-10T17:00:00"
    assert findings(p, "violation") == []
    # and one that actually finished late is still a violation
    q = pair(
        {},
        ("2027-03-08", "2027-03-12"),
        ("2027-03-11", "2027-03-19"),
    )
    q.entities[1][2]["actual_finish"] = "2027-03-11T17:00:00"
    (f,) = findings(q, "violation")
    assert f.shortfall_days == 1.0


def test_closed_predecessors_without_actuals_constrain_nothing() -> None:
    for status in ("done", "cancelled"):
        p = pair({}, ("2027-03-08", "2027-03-12"), ("2027-03-11", "2027-03-19"))
        p.entities[1][2]["status"] = status
        assert [f for f in findings(p) if f.kind in ("violation", "at_risk")] == [], status


def test_an_overdue_open_predecessor_finishes_no_earlier_than_the_status_date() -> None:
    # a was due Fri 12th and is still open on Wed 17th; b starts Thu 18th: one day short
    p = pair({}, ("2027-03-08", "2027-03-12"), ("2027-03-18", "2027-03-19"))
    (f,) = findings(p, "violation", status_date=datetime(2027, 3, 18, 17, 0))
    assert f.shortfall_days == 1.0
    assert findings(p, "violation") == []


# -- at risk -----------------------------------------------------------------------------------


def forecast_portfolio() -> Portfolio:
    p = Portfolio()
    p.project("A", "A")
    p.project("B", "B")
    p.item("q", "A-1", "A", "2027-03-01", "2027-03-10")
    p.item("p", "A-2", "A", "2027-03-01", "2027-03-05")  # entered as if q did not exist
    p.item("s", "B-1", "B", "2027-03-15", "2027-03-19")
    p.link("q", "p")
    p.link("p", "s")
    return p


def test_a_forecast_that_breaks_the_successor_is_at_risk_though_entered_dates_hold() -> None:
    p = forecast_portfolio()
    g = p.graph()
    forecast = compute_schedule(*to_cpm(g, calendar=CAL), default_calendar=CAL)
    # q → p pushes p to Thu 11th .. Wed 17th, past s's entered start on Mon 15th
    out = check_dependencies(g, calendar=CAL, status_date=NOW, forecast=forecast)
    (risk,) = [f for f in out if f.kind == "at_risk"]
    assert risk.items == ("p", "s") and risk.shortfall_days == 3.0 and risk.severity == "medium"
    assert "A-2 p" in risk.message and "2027-03-17" in risk.message
    # without the forecast the same link is only a thin cross-project margin (5 days < 6)
    (thin,) = [
        f
        for f in check_dependencies(g, calendar=CAL, status_date=NOW, at_risk_days=6)
        if f.kind == "at_risk"
    ]
    assert thin.severity == "low" and thin.margin_days == 5.0 and thin.shortfall_days is None


def test_thin_margins_are_flagged_only_where_two_projects_meet() -> None:
    out = findings(toy(), "at_risk")
    # the only cross-project link has a 2-day gap, below the 5-day threshold
    assert [(f.items, f.margin_days) for f in out] == [(("ga", "integration"), 2.0)]
    assert findings(toy(), "at_risk", at_risk_days=2) == []


# -- structure ---------------------------------------------------------------------------------


def chain(p: Portfolio, *names: str) -> None:
    for a, b in zip(names, names[1:], strict=False):
        p.link(a, b)


def test_each_cycle_is_reported_once_with_a_witness_that_closes() -> None:
    p = Portfolio()
    p.project("P", "P")
    for i, n in enumerate("abcdefx"):
        p.item(n, f"P-{i + 1}", "P", "2027-03-01", "2027-03-05")
    chain(p, "a", "b", "c", "a")
    p.link("b", "a")  # a second loop inside the same component
    chain(p, "d", "e", "d")
    p.link("x", "x")  # a self-loop is a cycle too
    p.link("c", "f")  # f hangs off a loop but is not in one
    cycles = findings(p, "cycle")
    assert sorted(f.items for f in cycles) == [("a", "b", "c"), ("d", "e"), ("x",)]
    lg = p.graph().logic_graph()
    for f in cycles:
        assert f.severity == "high" and f.witness[0] == f.witness[-1]
        assert all(lg.has_edge(u, v) for u, v in zip(f.witness, f.witness[1:], strict=False))
        assert "P-" in f.message and "loop" in f.message


def test_a_link_to_an_own_ancestor_is_a_finding() -> None:
    p = Portfolio()
    p.project("P", "P")
    p.item("phase", "P-1", "P", kind="summary")
    p.item("a", "P-2", "P", "2027-03-01", "2027-03-05", parent="phase")
    p.link("a", "phase")
    (f,) = findings(p, "ancestor_link")
    assert f.items == ("a", "phase") and "P-2 a sits inside P-1 phase" in f.message
    assert findings(p, "cycle") == []


def test_dangling_ends_say_deleted_or_unknown() -> None:
    p = Portfolio(uuids=True)
    p.project("P", "P")
    p.item("a", "P-1", "P", "2027-03-01", "2027-03-05")
    p.item("gone", "P-2", "P", "2027-03-01", "2027-03-05")
    p.link("a", "gone", origin="jira_issue_link")
    p.link("stranger", "a")
    out = findings_by_graph(p, tombstoned=["gone"])
    texts = [f.message for f in out if f.kind == "dangling"]
    assert len(texts) == 2
    (deleted,) = [t for t in texts if "a deleted item" in t]
    (unknown,) = [t for t in texts if "does not know" in t]
    assert "jira_issue_link" in deleted and "P-1 a" in deleted and "P-1 a" in unknown


def findings_by_graph(p: Portfolio, **kw: Any) -> list[Finding]:
    return check_dependencies(p.graph(**kw), calendar=CAL, status_date=NOW)


def test_open_ends_only_in_projects_that_use_logic_and_never_on_milestones() -> None:
    p = toy()
    p.item("stray", "A-9", "A", "2027-03-01", "2027-03-05")
    p.project("C", "C")
    p.item("backlog", "C-1", "C", "2027-03-01", "2027-03-05")  # a project with no links at all
    p.item("closed", "A-8", "A", "2027-03-01", "2027-03-05", status="done")
    out = {f.items[0]: f for f in findings(p, "open_end")}
    # build has no predecessor, integration is driven; milestones and C are left alone
    assert set(out) == {"stray", "build"}
    assert "no predecessor and no successor" in out["stray"].message
    assert out["build"].severity == "low" and "nothing in the plan drives" in out["build"].message


def test_leads_and_long_lags() -> None:
    p = Portfolio()
    p.project("P", "P")
    for n, k in (("a", "P-1"), ("b", "P-2"), ("c", "P-3")):
        p.item(n, k, "P", "2027-01-01", "2027-01-05")
    p.link("a", "b", lag_minutes=-960)
    p.link("b", "c", lag_minutes=25 * 480)
    (lead,) = findings(p, "lead")
    assert lead.items == ("a", "b") and "2 working day" in lead.message
    (long,) = findings(p, "long_lag")
    assert long.items == ("b", "c") and "25 working days" in long.message
    assert findings(p, "long_lag", long_lag_days=30) == []


def test_messages_never_show_a_uuid_and_findings_are_most_severe_first() -> None:
    p = Portfolio(uuids=True)
    p.project("A", "A")
    p.project("B", "B")
    p.item("x", "A-1", "A", "2027-03-08", "2027-03-12")
    p.item("y", "B-1", "B", "2027-03-10", "2027-03-19")
    p.item("z", None, "B", "2027-03-10", "2027-03-19")
    p.milestone("m", "B", "2027-03-11")
    p.link("x", "y")
    p.link("x", "z", lag_minutes=-480)
    p.link("x", "m")
    p.link("y", "x")
    p.link("y", "nowhere")
    out = findings_by_graph(p)
    assert {f.kind for f in out} >= {"violation", "cycle", "dangling", "lead"}
    uuid = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-")
    assert not [f.message for f in out if uuid.search(f.message)]
    order = {"high": 0, "medium": 1, "low": 2}
    assert [order[f.severity] for f in out] == sorted(order[f.severity] for f in out)
    # a violation on a key milestone is high
    (ms,) = [f for f in out if f.kind == "violation" and p.ids["m"] in f.items]
    assert ms.severity == "high"


# -- an independent count of working days ------------------------------------------------------


def working_days(first: date, last: date, holidays: set[date]) -> int:
    """Weekdays from ``first`` to ``last`` inclusive that are not holidays, counted one by one
    (no calendar code involved)."""
    n, d = 0, first
    while d <= last:
        n += d.weekday() < 5 and d not in holidays
        d += timedelta(days=1)
    return n


@settings(max_examples=80, deadline=None)
@given(
    link_type=st.sampled_from(["FS", "SS"]),
    p_start=st.integers(0, 40),
    p_len=st.integers(0, 10),
    s_start=st.integers(0, 40),
    holidays=st.sets(st.integers(0, 50), max_size=6),
)
def test_date_only_shortfall_matches_a_day_by_day_count(
    link_type: str, p_start: int, p_len: int, s_start: int, holidays: set[int]
) -> None:
    day0 = date(2027, 3, 1)
    off = {day0 + timedelta(days=h) for h in holidays}
    cal = standard_calendar().with_exceptions(dict.fromkeys(off, ()))
    ps, pd, ss = (day0 + timedelta(days=x) for x in (p_start, p_start + p_len, s_start))
    p = pair(
        {"link_type": link_type},
        (ps.isoformat(), pd.isoformat()),
        (ss.isoformat(), (ss + timedelta(days=3)).isoformat()),
    )
    # an item entered wholly on days off has no working time to compare
    assume(working_days(ps, pd, off) > 0 and working_days(ss, ss + timedelta(days=3), off) > 0)
    found = findings(p, "violation", cal=cal, cal2=cal)
    if link_type == "FS":
        # b may start after a's last working day: b's days up to and including it are short
        expected = working_days(ss, pd, off)
    else:
        # b may start when a starts: b's days before a's first working day are short
        expected = working_days(ss, ps - timedelta(days=1), off)
    assert [f.shortfall_days for f in found] == ([float(expected)] if expected else [])
