"""The portfolio graph's hubs against the cross product it stands for: the schedule (to_cpm),
push-only slips and the findings, on random portfolios of epics linked to epics."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st
from link_ends import draw_link_ends
from portfolio_builder import CAL, Portfolio

from pmosync.analysis.cpm import ScheduleCycleError, compute_schedule
from pmosync.analysis.dependencies import PortfolioGraph, check_dependencies, to_cpm
from pmosync.analysis.whatif import propagate_slip
from pmosync.errors import ConfigError

NOW = datetime(2027, 3, 10, 9)
DAY0 = date(2027, 3, 1)


def day(k: int) -> str:
    return (DAY0 + timedelta(days=k)).isoformat()


@st.composite
def portfolios(draw: st.DrawFn, *, loops: bool = False) -> Portfolio:
    """Two projects; epics of 2 to 5 stories with entered dates (some done, one cancelled
    now and then), a few loose stories, and links between epics mostly, of every type."""
    p = Portfolio()
    p.project("A", "A")
    p.project("B", "B")
    ends: list[str] = []
    for k in range(draw(st.integers(2, 4))):
        epic = f"E{k}"
        project = draw(st.sampled_from(["A", "B"]))
        p.item(epic, f"{project}-{k}", project, kind="summary")
        ends.append(epic)
        for j in range(draw(st.integers(2, 5))):
            start = draw(st.integers(0, 20))
            status = draw(st.sampled_from(["todo", "todo", "todo", "active", "done", "cancelled"]))
            p.item(
                f"{epic}.{j}",
                f"{project}-{k}{j}",
                project,
                day(start),
                day(start + draw(st.integers(0, 6))),
                parent=epic,
                status=status,
            )
    for j in range(draw(st.integers(0, 3))):
        start = draw(st.integers(0, 20))
        p.item(f"L{j}", f"A-L{j}", "A", day(start), day(start + 2))
        ends.append(f"L{j}")
    epics = [e for e in ends if e.startswith("E")]
    for _ in range(draw(st.integers(1, 6))):
        a, b = draw_link_ends(draw, epics, ends, loops=loops)
        p.link(
            a,
            b,
            link_type=draw(st.sampled_from(["FS", "FS", "SS", "FF", "SF"])),
            lag_minutes=draw(st.sampled_from([0, 0, 480, -480, 960])),
        )
    return p


def both(p: Portfolio) -> tuple[PortfolioGraph, PortfolioGraph]:
    g = p.graph()
    return g, dataclasses.replace(g, cross_product=True, _cache={})


def slip_or_error(g: PortfolioGraph, item: str) -> object:
    """The slip's result, its rows by item (they come in a topological order, which hubs may
    change among items that do not depend on each other); or the error's type."""
    try:
        r = propagate_slip(g, item, 3, calendar=CAL)
    except ConfigError as error:
        return type(error)
    return dataclasses.replace(r, rows=tuple(sorted(r.rows, key=lambda row: row.item)))


@settings(max_examples=40, deadline=None)
@given(portfolios())
def test_schedule_and_slips_through_hubs_are_the_cross_products(p: Portfolio) -> None:
    g, cross = both(p)
    planned = [
        compute_schedule(*to_cpm(x, calendar=CAL), default_calendar=CAL, status_date=NOW)
        for x in (g, cross)
    ]
    assert planned[0] == planned[1]
    for item in ("E0", "E1", "E0.0", "E1.1"):
        if item in g.nodes and not g.nodes[item].done:
            assert slip_or_error(g, item) == slip_or_error(cross, item), item


@settings(max_examples=40, deadline=None)
@given(portfolios(loops=True))
def test_findings_through_hubs_name_items_and_keep_the_worst_per_successor(
    p: Portfolio,
) -> None:
    g, cross = both(p)
    try:
        forecast = compute_schedule(*to_cpm(g, calendar=CAL), default_calendar=CAL)
    except ScheduleCycleError:
        forecast = None
    found = check_dependencies(g, calendar=CAL, status_date=NOW, forecast=forecast)
    want = check_dependencies(cross, calendar=CAL, status_date=NOW, forecast=forecast)
    for f in found:
        assert all(i in g.nodes for i in (*f.items, *f.witness))
    # loops: as many, over the same items, each witness a loop of leaf links
    pairs = {(a, b) for a, b, _e in cross.leaf_links()}
    loops = [f for f in found if f.kind == "cycle"]
    assert sorted(f.items for f in loops) == sorted(f.items for f in want if f.kind == "cycle")
    for f in loops:
        assert all((a, b) in pairs for a, b in zip(f.witness, f.witness[1:], strict=False))
    # dates: where a successor leaf has findings on a summary link, it keeps the worst one
    hub_links = {h.link.id for h in g.hubs()}
    dated = {"violation", "at_risk"}
    order = {"high": 0, "medium": 1, "low": 2}
    worst: dict[tuple[str | None, str], int] = {}
    for f in want:
        if f.kind in dated and f.link in hub_links:
            key = (f.link, f.items[1])
            worst[key] = min(worst.get(key, 9), order[f.severity])
    through = [f for f in found if f.kind in dated and f.link in hub_links]
    mine = {(f.link, f.items[1]): order[f.severity] for f in through}
    assert mine == worst and len(mine) == len(through)  # one each, the worst
    # everything else is as before
    rest = [f for f in found if f.kind != "cycle" and f not in through]
    assert rest == [
        f for f in want if f.kind != "cycle" and not (f.kind in dated and f.link in hub_links)
    ]


def test_an_epic_blocking_an_epic_of_600_stories_is_1200_edges() -> None:
    p = Portfolio()
    p.project("A", "A")
    for epic in ("E1", "E2"):
        p.item(epic, epic, "A", kind="summary")
        for k in range(600):
            p.item(f"{epic}-{k}", f"{epic}-{k}", "A", day(k % 20), day(k % 20 + 1), parent=epic)
    p.link("E1", "E2")
    g = p.graph()
    assert g.logic_graph().number_of_edges() == 1200
    assert sum(len(v) for v in g.successors().values()) == 1200
    (hub,) = g.hubs()
    assert len(hub.preds) == len(hub.succs) == 600 and g.leaf_links() == []
    # the stories of E2 that start before E1's last story finishes: one finding each (not one
    # per story of E1 finishing after it), naming a story of E1 that finishes last
    last = max(f for f in (g.nodes[i].finish for i in hub.preds) if f is not None)
    starts = {i: g.nodes[i].start for i in hub.succs}
    early = {i for i, t in starts.items() if t is not None and CAL.work_between(t, last) > 0.5}
    found = check_dependencies(g, calendar=CAL, status_date=NOW)
    late = [f for f in found if f.kind == "violation"]
    assert len(early) > 500 and sorted(f.items[1] for f in late) == sorted(early)
    assert {g.nodes[f.items[0]].finish for f in late} == {last}
