"""What moves if an item slips (pure): §B.6 of the schedule notes.

Two modes:

* **push** (the default; right for entered dates, which no scheduler keeps): the slipped item
  moves by the slip; each successor moves only as far as a moved predecessor pushes it, every
  link first absorbing the gap it already had. Nothing ever moves earlier.
* **replan**: CPM is run twice from the status date, as planned and with the slip, and every
  item whose early finish or total slack changes is reported.

Nothing is written anywhere; the caller shows the result.
"""

from __future__ import annotations

import dataclasses
import re
from collections import defaultdict, deque
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Literal

import networkx as nx

from pmosync.analysis.calendar import WorkCalendar
from pmosync.analysis.graph import (
    ItemNode,
    LinkEdge,
    PortfolioGraph,
    calendar_for,
    find_item,
    link_need,
)
from pmosync.errors import ConfigError

if TYPE_CHECKING:
    from pmosync.analysis.cpm import CpmResult, CpmTask

__all__ = ["SlipResult", "SlipRow", "parse_slip", "propagate_slip"]

# below half a working minute a difference is float noise from the calendar arithmetic
_EPS = 0.5


@dataclass(frozen=True)
class SlipRow:
    item: str
    old_start: datetime | None
    old_finish: datetime | None
    new_start: datetime | None
    new_finish: datetime | None
    delta_days: float  # working days on the item's calendar (its finish, in replan mode)
    chain: tuple[str, ...]  # driving chain back to the slipped item: (slipped, ..., item)
    # addition: replan mode's slack consumed (old total slack − new), in working days
    slack_consumed_days: float | None = None


@dataclass(frozen=True)
class SlipResult:
    target: str
    slip_days: float
    rows: tuple[SlipRow, ...]
    absorbed: tuple[tuple[str, float], ...]  # (link id, days absorbed by its gap)
    milestones: tuple[str, ...]  # key milestones that move
    projects: tuple[str, ...]  # projects with an item that moves


def parse_slip(text: str) -> float:
    """Working days from ``"10d"``, ``"2w"`` (5 working days a week), ``"3"`` (days) or
    ``"-1d"``.

    Raises:
        ConfigError: anything else, saying what is accepted.
    """
    m = re.fullmatch(
        r"\s*([+-]?\d+(?:\.\d+)?)\s*(d|day|days|wd|w|wk|week|weeks)?\s*", text or "", re.I
    )
    if m is None:
        raise ConfigError(
            f"slip {text!r} is not understood: give working days such as 10d, 3 or -1d, "
            "or working weeks such as 2w"
        )
    value = float(m.group(1))
    unit = (m.group(2) or "d").lower()
    return value * 5 if unit.startswith("w") and unit != "wd" else value


def propagate_slip(
    graph: PortfolioGraph,
    item: str,
    slip_days: float,
    *,
    calendar: WorkCalendar,
    mode: Literal["push", "replan"] = "push",
    status_date: datetime | None = None,
    calendars: Mapping[str, WorkCalendar] | None = None,
) -> SlipResult:
    """What moves, by how much and through which chain, if ``item`` slips ``slip_days``
    working days (negative: comes in earlier; push mode then moves nothing else).

    ``item`` is a canonical id, key or name (see ``find_item``). A summary slips as a whole:
    every leaf below it moves. ``calendars`` (by canonical calendar id) overrides ``calendar``
    for items that name one.

    Raises:
        ConfigError: the item is unknown, ambiguous or done, or its successors loop.
    """
    node = graph.nodes.get(item) or find_item(graph, item)
    if node.done:
        raise ConfigError(
            f"{graph.describe(node.id)} is done: a slip applies to work still to do; name an "
            "open item"
        )
    if mode == "replan":
        return _replan(graph, node, slip_days, calendar, calendars, status_date)
    if mode != "push":
        raise ConfigError(f"what-if mode {mode!r} is not known: use push or replan")
    return _push(graph, node, slip_days, calendar, calendars)


# -- push-only ---------------------------------------------------------------------------------


def _shift(
    cal: WorkCalendar, t: datetime | None, minutes: float, *, finish: bool
) -> datetime | None:
    """``t`` moved by working minutes, reported as a start or as a finish (MS Project's
    conventions: a finish at Friday 17:00, a start at Monday 08:00)."""
    if t is None or abs(minutes) < _EPS:
        return t
    moved = cal.add_work(t, minutes)
    return cal.prev_work_finish(moved) if finish else cal.next_work_start(moved)


def _moved(
    cal: WorkCalendar,
    node: ItemNode,
    start: datetime | None,
    finish: datetime | None,
    minutes: float,
) -> tuple[datetime | None, datetime | None]:
    """An item's dates moved by working minutes; a milestone stays one instant (a finish)."""
    new_finish = _shift(cal, finish, minutes, finish=True)
    if node.milestone:
        point = new_finish if new_finish is not None else _shift(cal, start, minutes, finish=True)
        return point, point
    return _shift(cal, start, minutes, finish=False), new_finish


def _short(
    need: tuple[str, datetime] | None,
    start: datetime | None,
    finish: datetime | None,
    cal: WorkCalendar,
) -> float | None:
    """Working minutes the successor's dates fall short of a link's need (negative: the gap
    the link still has); None without the dates to compare."""
    if need is None:
        return None
    side, at = need
    own = (start or finish) if side == "start" else finish
    return None if own is None else cal.work_between(own, at)


def _successors(graph: PortfolioGraph) -> dict[str, list[tuple[str, LinkEdge]]]:
    out: dict[str, list[tuple[str, LinkEdge]]] = defaultdict(list)
    for p, s, e in graph.leaf_links():
        out[p].append((s, e))
    return out


def _order(
    graph: PortfolioGraph, sources: list[str], succ: Mapping[str, list[tuple[str, LinkEdge]]]
) -> list[str]:
    """Everything reachable from ``sources``, in topological order (Kahn on the reachable part
    only, so a slip deep in a 100k-item portfolio touches just what it can reach)."""
    reach: set[str] = set(sources)
    queue = deque(sources)
    while queue:
        cur = queue.popleft()
        for s, _e in succ.get(cur, ()):
            if s not in reach:
                reach.add(s)
                queue.append(s)
    indeg: dict[str, int] = dict.fromkeys(reach, 0)
    for cur in reach:
        for s, _e in succ.get(cur, ()):
            indeg[s] += 1
    ready = deque(sorted(i for i, d in indeg.items() if d == 0))
    order: list[str] = []
    while ready:
        cur = ready.popleft()
        order.append(cur)
        for s, _e in succ.get(cur, ()):
            indeg[s] -= 1
            if indeg[s] == 0:
                ready.append(s)
    if len(order) < len(reach):
        stuck = {i for i, d in indeg.items() if d > 0}
        g = nx.DiGraph((p, s) for p in stuck for s, _e in succ.get(p, ()) if s in stuck)
        loop = [u for u, _v in nx.find_cycle(g)]
        path = " → ".join(graph.describe(i) for i in (*loop, loop[0]))
        raise ConfigError(
            f"the successors of the slipped item loop ({path}): a slip cannot be followed "
            "through a loop; remove or reverse one of these links first"
        )
    return order


def _push(
    graph: PortfolioGraph,
    node: ItemNode,
    slip_days: float,
    default: WorkCalendar,
    calendars: Mapping[str, WorkCalendar] | None,
) -> SlipResult:
    nodes = graph.nodes
    targets = graph.leaf_descendants(node.id)
    dates: dict[str, tuple[datetime | None, datetime | None]] = {}
    chain: dict[str, tuple[str, ...]] = {}
    moved_by: dict[str, float] = {}
    for t in targets:
        n = nodes[t]
        cal = calendar_for(graph, t, default, calendars)
        m = slip_days * cal.minutes_per_day
        dates[t] = _moved(cal, n, n.start, n.finish, m)
        chain[t] = (t,) if t == node.id else (node.id, t)
        moved_by[t] = m
    succ = _successors(graph)
    preds: dict[str, list[tuple[str, LinkEdge]]] = defaultdict(list)
    order = _order(graph, targets, succ)
    for p_id in order:
        for succ_id, link in succ.get(p_id, ()):
            preds[succ_id].append((p_id, link))
    absorbed: dict[str, float] = {}
    target_set = set(targets)
    for s_id in order:
        s = nodes[s_id]
        changed = [(p, e) for p, e in preds.get(s_id, ()) if p in dates]
        if not changed or s.done:
            continue
        cal = calendar_for(graph, s_id, default, calendars)
        # a slipped item that another slipped item also pushes starts from its slipped dates
        s_start, s_finish = dates.get(s_id, (s.start, s.finish))
        push = 0.0
        driver: str | None = None
        for p_id, e in changed:
            p = nodes[p_id]
            new_start, new_finish = dates[p_id]
            old = _short(link_need(e, p, p.start, p.finish, cal), s.start, s.finish, cal)
            new = _short(link_need(e, p, new_start, new_finish, cal), s_start, s_finish, cal)
            if old is None or new is None:
                continue
            # a link broken before the slip passes on only what the slip adds to its shortfall
            # (the existing shortfall is a violation, which the checks report)
            passed = max(0.0, new) - max(0.0, old)
            moved = new - old
            if moved > _EPS and moved - max(passed, 0.0) > _EPS:
                days = round((moved - max(passed, 0.0)) / cal.minutes_per_day, 2)
                absorbed[e.id] = max(absorbed.get(e.id, 0.0), days)
            if passed > push + _EPS:
                push, driver = passed, p_id
        if driver is None:
            continue
        dates[s_id] = _moved(cal, s, s_start, s_finish, push)
        moved_by[s_id] = moved_by.get(s_id, 0.0) + push if s_id in target_set else push
        chain[s_id] = (*chain[driver], s_id)
    rows: list[SlipRow] = []
    for i in order:
        if i not in dates:
            continue
        n = nodes[i]
        cal = calendar_for(graph, i, default, calendars)
        new_start, new_finish = dates[i]
        rows.append(
            SlipRow(
                item=i,
                old_start=n.start,
                old_finish=n.finish,
                new_start=new_start,
                new_finish=new_finish,
                delta_days=round(moved_by[i] / cal.minutes_per_day, 2),
                chain=chain[i],
            )
        )
    return _result(graph, node, slip_days, rows, tuple(sorted(absorbed.items())))


def _result(
    graph: PortfolioGraph,
    node: ItemNode,
    slip_days: float,
    rows: list[SlipRow],
    absorbed: tuple[tuple[str, float], ...],
) -> SlipResult:
    moving = [r for r in rows if abs(r.delta_days) > 0]
    milestones = tuple(r.item for r in moving if graph.nodes[r.item].key_milestone)
    projects: list[str] = []
    for r in moving:
        p = graph.nodes[r.item].project
        if p is not None and p not in projects:
            projects.append(p)
    return SlipResult(
        target=node.id,
        slip_days=slip_days,
        rows=tuple(rows),
        absorbed=absorbed,
        milestones=milestones,
        projects=tuple(projects),
    )


# -- re-plan (CPM) -----------------------------------------------------------------------------


def _slipped_task(
    task: CpmTask, node: ItemNode, minutes: float, es: datetime, cal: WorkCalendar
) -> CpmTask:
    """The task with its slip: work in progress takes longer; anything else starts later
    (an SNET past its planned early start, or its pinned dates moved)."""
    if task.manual:
        return dataclasses.replace(
            task,
            start=_shift(cal, task.start, minutes, finish=False),
            finish=_shift(cal, task.finish, minutes, finish=True),
        )
    if task.actual_start is not None and task.actual_finish is None:
        remaining = task.remaining_minutes
        if remaining is None:
            return dataclasses.replace(
                task, duration_minutes=max(0.0, task.duration_minutes + minutes)
            )
        return dataclasses.replace(task, remaining_minutes=max(0.0, remaining + minutes))
    new_start = _shift(cal, es, minutes, finish=False)
    if minutes < 0:
        # coming in earlier than logic allows is only possible by fixing the date
        return dataclasses.replace(task, constraint_type="MSO", constraint_date=new_start)
    return dataclasses.replace(task, constraint_type="SNET", constraint_date=new_start)


def _replan(
    graph: PortfolioGraph,
    node: ItemNode,
    slip_days: float,
    default: WorkCalendar,
    calendars: Mapping[str, WorkCalendar] | None,
    status_date: datetime | None,
) -> SlipResult:
    from pmosync.analysis.cpm import ScheduleCycleError, compute_schedule
    from pmosync.analysis.dependencies import to_cpm

    tasks, links = to_cpm(graph, calendar=default, calendars=calendars)
    kwargs = {
        "calendars": calendars,
        "default_calendar": default,
        "status_date": status_date,
        "project_start": _project_starts(graph, status_date),
    }

    def run(ts: list[CpmTask]) -> CpmResult:
        try:
            return compute_schedule(ts, links, **kwargs)  # type: ignore[arg-type]
        except ScheduleCycleError as exc:
            loop = exc.cycles[0] if exc.cycles else []
            path = " → ".join(graph.describe(i) for i in (*loop, *loop[:1]))
            raise ConfigError(
                f"the schedule has a dependency loop ({path}); remove or reverse one of "
                "these links before re-planning"
            ) from exc

    before = run(tasks)
    targets = set(graph.leaf_descendants(node.id))
    slipped: list[CpmTask] = []
    for t in tasks:
        if t.id in targets and t.id in before.tasks:
            cal = calendar_for(graph, t.id, default, calendars)
            minutes = slip_days * cal.minutes_per_day
            t = _slipped_task(t, graph.nodes[t.id], minutes, before.tasks[t.id].early_start, cal)
        slipped.append(t)
    after = run(slipped)
    rows: list[SlipRow] = []
    for i, new in after.tasks.items():
        n = graph.nodes.get(i)
        old = before.tasks.get(i)
        if n is None or n.summary or old is None:
            continue
        cal = calendar_for(graph, i, default, calendars)
        d_finish = cal.work_between(old.early_finish, new.early_finish)
        consumed = old.total_slack_minutes - new.total_slack_minutes
        # slack gained is not news (a later project finish gives every other item more);
        # slack lost is, even where nothing moves yet
        if abs(d_finish) < _EPS and consumed < _EPS and i not in targets:
            continue
        rows.append(
            SlipRow(
                item=i,
                old_start=old.early_start,
                old_finish=old.early_finish,
                new_start=new.early_start,
                new_finish=new.early_finish,
                delta_days=round(d_finish / cal.minutes_per_day, 2),
                chain=_driving_chain(after, i, targets, node.id),
                slack_consumed_days=round(consumed / cal.minutes_per_day, 2),
            )
        )
    rows.sort(key=lambda r: (r.new_finish or datetime.max, graph.label(r.item)))
    return _result(graph, node, slip_days, rows, ())


def _project_starts(
    graph: PortfolioGraph, status_date: datetime | None
) -> dict[str | None, datetime]:
    """Each project starts at its earliest dated item (or the status date when nothing is)."""
    out: dict[str | None, datetime] = {}
    for n in graph.nodes.values():
        if n.start is not None and (n.project not in out or n.start < out[n.project]):
            out[n.project] = n.start
    fallback = status_date or min(out.values(), default=None)
    if fallback is not None:
        for n in graph.nodes.values():
            out.setdefault(n.project, fallback)
    return out


def _driving_chain(
    result: CpmResult, item: str, targets: set[str], slipped: str
) -> tuple[str, ...]:
    """Back along driving predecessors from ``item`` to a slipped task (breadth first, so the
    shortest driving chain); just the item when no driving chain reaches the slip."""
    if item in targets:
        return (item,) if item == slipped else (slipped, item)
    back: dict[str, str] = {}
    queue = deque([item])
    seen = {item}
    while queue:
        cur = queue.popleft()
        sched = result.tasks.get(cur)
        for p in sched.driving_predecessors if sched is not None else ():
            if p in seen:
                continue
            seen.add(p)
            back[p] = cur
            if p in targets:
                path = [p]
                while path[-1] != item:
                    path.append(back[path[-1]])
                head = () if p == slipped else (slipped,)
                return (*head, *path)
            queue.append(p)
    return (item,)
