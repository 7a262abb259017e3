"""One dependency graph across every tool, its checks, and its hand-over to CPM (pure).

The graph lives in ``graph.py`` and the checks in ``checks.py``; this module is the one place
callers import from, and holds ``to_cpm``, which turns the graph into the scheduler's input.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from pmosync.analysis.calendar import WorkCalendar
from pmosync.analysis.checks import Finding, FindingKind, Severity, check_dependencies
from pmosync.analysis.graph import (
    Hub,
    ItemNode,
    LinkEdge,
    PortfolioGraph,
    ProjectInfo,
    build_graph,
    find_item,
)

if TYPE_CHECKING:
    from pmosync.analysis.cpm import CpmLink, CpmTask

__all__ = [
    "Finding",
    "FindingKind",
    "ItemNode",
    "LinkEdge",
    "PortfolioGraph",
    "ProjectInfo",
    "Severity",
    "build_graph",
    "check_dependencies",
    "find_item",
    "to_cpm",
]


def to_cpm(
    graph: PortfolioGraph,
    *,
    calendar: WorkCalendar,
    calendars: Mapping[str, WorkCalendar] | None = None,
) -> tuple[list[CpmTask], list[CpmLink]]:
    """The scheduler's tasks and links for the whole portfolio.

    * Auto and manual items (MS Project) keep their schedule fields as the source holds them.
    * Entered items (Jira, Airtable) become tasks lasting the working time between their entered
      dates, with an SNET at their entered start, so logic can only push them later.
    * Items in an external project (placeholders that no real plan resolved) and milestones
      from milestone tables are pinned: held at their stored dates.
    * A done item without recorded actuals is taken as done at its entered dates, so it is not
      rescheduled after the status date.
    * ``CpmTask.calendar`` is the item's (or its project's) calendar id when ``calendars``
      holds it, else None (the scheduler's default calendar, which should be ``calendar``).
    * Summaries are passed as summaries (for roll-up); links are already expanded to leaves and
      links between an item and its own ancestor are left out (``check_dependencies`` reports
      them). A link the graph keeps as a hub (many leaves at both ends) is passed as the
      summary link it is: the scheduler expands it through its own hubs, to the same leaves.
    """
    from pmosync.analysis.cpm import CpmLink, CpmTask

    tasks: list[CpmTask] = []
    for node in graph.nodes.values():
        parent = node.parent if node.parent in graph.nodes else None
        cal_key = node.calendar if calendars and node.calendar in calendars else None
        tasks.append(_task(CpmTask, node, parent, cal_key, calendar))
    ends = [
        (k.link.predecessor, k.link.successor, k.link) if isinstance(k, Hub) else k
        for k in graph.logic_links()
    ]
    links = [
        CpmLink(
            predecessor=p,
            successor=s,
            type=e.type,
            lag_minutes=e.lag_minutes,
            lag_percent=e.lag_percent,
            lag_elapsed=e.lag_elapsed,
        )
        for p, s, e in ends
    ]
    return tasks, links


def _task(
    cls: type[CpmTask],
    node: ItemNode,
    parent: str | None,
    cal_key: str | None,
    calendar: WorkCalendar,
) -> CpmTask:
    common = {
        "id": node.id,
        "project": node.project,
        "parent": parent,
        "summary": node.summary,
        "milestone": node.milestone,
        "calendar": cal_key,
        "deadline": node.deadline,
        "percent_complete": node.percent_complete,
        "remaining_minutes": node.remaining_minutes,
    }
    duration = node.duration_minutes if node.duration_minutes is not None else 0.0
    if node.milestone:
        duration = 0.0
    actual_start, actual_finish = node.actual_start, node.actual_finish
    if node.done and actual_finish is None and node.finish is not None:
        # closed in a tool that records no actuals: done at the dates it carried
        actual_finish = node.finish
        actual_start = actual_start or node.start or node.finish
    mode = node.schedule_mode
    pinned = node.external or mode == "manual"
    if node.summary:
        return cls(duration_minutes=duration, **common)  # type: ignore[arg-type]
    if mode in ("auto", "manual") and not node.external:
        return cls(
            duration_minutes=duration,
            manual=pinned,
            start=node.start,
            finish=node.finish,
            elapsed=False,
            constraint_type=node.constraint_type or "ASAP",
            constraint_date=node.constraint_date,
            actual_start=actual_start,
            actual_finish=actual_finish,
            **common,  # type: ignore[arg-type]
        )
    if pinned or (node.entity_type == "milestone" and mode != "entered"):
        return cls(
            duration_minutes=duration,
            manual=True,
            start=node.start,
            finish=node.finish,
            actual_start=actual_start,
            actual_finish=actual_finish,
            **common,  # type: ignore[arg-type]
        )
    # entered dates (or none): an SNET at the entered start, the entered span as duration
    start = node.start
    if start is None and node.finish is not None:
        start = calendar.add_work(node.finish, -duration) if duration else node.finish
    return cls(
        duration_minutes=duration,
        start=node.start,
        finish=node.finish,
        constraint_type="SNET" if start is not None else "ASAP",
        constraint_date=start,
        actual_start=actual_start,
        actual_finish=actual_finish,
        **common,  # type: ignore[arg-type]
    )
