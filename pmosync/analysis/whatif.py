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

import bisect
import dataclasses
import heapq
import re
from collections import defaultdict, deque
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Literal

import networkx as nx

from pmosync.analysis.calendar import WorkCalendar
from pmosync.analysis.graph import (
    Hub,
    ItemNode,
    LinkEdge,
    PortfolioGraph,
    calendar_for,
    find_item,
    lag_minutes_of,
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


def _loop_error(graph: PortfolioGraph, start: str) -> ConfigError:
    comp = next(c for c in graph.components() if start in c)
    succ = graph.successors()
    sub = nx.DiGraph((u, v) for u in comp for v, _e in succ.get(u, ()) if v in comp)
    # p -> hub -> s is the link p -> s: the loop names items only
    loop = [u for u, _v in nx.find_cycle(sub, start) if graph.hub(u) is None]
    path = " → ".join(graph.describe(i) for i in (*loop, loop[0]))
    return ConfigError(
        f"the slip reaches a dependency loop ({path}) and cannot be followed through it; "
        "remove or reverse one of these links first"
    )


class _Offsets:
    """Items' dates as working-minute offsets on a calendar, each computed once, with the
    moved items' new offsets. Push-only arithmetic is then additions and comparisons; only the
    rows shown at the end are turned back into dates."""

    def __init__(
        self,
        graph: PortfolioGraph,
        default: WorkCalendar,
        calendars: Mapping[str, WorkCalendar] | None,
    ) -> None:
        self.graph = graph
        self.default = default
        self.calendars = calendars
        self._cal: dict[str, WorkCalendar] = {}
        self._old: dict[tuple[str, bool, int], float | None] = {}
        # moved items: new (start, finish) offsets on their own calendar, and minutes moved
        self.new: dict[str, tuple[float | None, float | None]] = {}
        self.shift: dict[str, float] = {}

    def cal(self, i: str) -> WorkCalendar:
        found = self._cal.get(i)
        if found is None:
            found = self._cal[i] = calendar_for(self.graph, i, self.default, self.calendars)
        return found

    def old(self, i: str, finish: bool, cal: WorkCalendar) -> float | None:
        key = (i, finish, id(cal))
        if key not in self._old:
            n = self.graph.nodes[i]
            t = n.finish if finish else n.start
            self._old[key] = None if t is None else cal.to_work(t)
        return self._old[key]

    def moved_to(self, i: str, finish: bool, cal: WorkCalendar) -> float | None:
        """A moved item's new offset, on ``cal``."""
        own = self.cal(i)
        off = self.new[i][1 if finish else 0]
        if off is None or cal is own:
            return off
        return cal.to_work(self.when(i, off, finish))

    def when(self, i: str, off: float, finish: bool) -> datetime:
        # a milestone is one instant, reported as a finish (Friday 17:00, not Monday 08:00)
        at_start = not finish and not self.graph.nodes[i].milestone
        return self.cal(i).from_work(off, at_start=at_start)

    def now(self, i: str, finish: bool, cal: WorkCalendar) -> float | None:
        return self.moved_to(i, finish, cal) if i in self.new else self.old(i, finish, cal)

    def move(self, i: str, minutes: float) -> None:
        cal = self.cal(i)
        start = self.now(i, False, cal)
        finish = self.now(i, True, cal)
        self.new[i] = (
            None if start is None else start + minutes,
            None if finish is None else finish + minutes,
        )
        self.shift[i] = self.shift.get(i, 0.0) + minutes

    def dates(self, i: str) -> tuple[datetime | None, datetime | None]:
        n = self.graph.nodes[i]
        if abs(self.shift.get(i, 0.0)) < _EPS:
            return n.start, n.finish
        start, finish = self.new[i]
        return (
            None if start is None else self.when(i, start, False),
            None if finish is None else self.when(i, finish, True),
        )


def _need(
    offs: _Offsets, e: LinkEdge, p_id: str, cal: WorkCalendar, *, moved: bool
) -> float | None:
    """The link's need on the successor's calendar, as an offset (§B.4's forward formulas;
    FF and SF are compared on the successor's finish)."""
    on_finish = e.type in ("FS", "FF")
    base = offs.now(p_id, on_finish, cal) if moved else offs.old(p_id, on_finish, cal)
    if base is None:
        return None
    p = offs.graph.nodes[p_id]
    lag = lag_minutes_of(e, p)
    if lag == 0:
        return base
    if e.lag_elapsed:
        if moved and p_id in offs.new:
            t = offs.when(p_id, offs.new[p_id][1 if on_finish else 0] or 0.0, on_finish)
        else:
            t0 = p.finish if on_finish else p.start
            assert t0 is not None
            t = t0
        return cal.to_work(t + timedelta(minutes=lag))
    return base + lag


def _own(offs: _Offsets, s_id: str, e: LinkEdge, cal: WorkCalendar, *, moved: bool) -> float | None:
    """The successor's date the link is compared with: its start (FS, SS; its due date when it
    has no start) or its finish (FF, SF)."""
    get = offs.now if moved else offs.old
    if e.type in ("FS", "SS"):
        start = get(s_id, False, cal)
        return start if start is not None else get(s_id, True, cal)
    return get(s_id, True, cal)


def _push(
    graph: PortfolioGraph,
    node: ItemNode,
    slip_days: float,
    default: WorkCalendar,
    calendars: Mapping[str, WorkCalendar] | None,
) -> SlipResult:
    nodes = graph.nodes
    offs = _Offsets(graph, default, calendars)
    targets = graph.leaf_descendants(node.id)
    chain: dict[str, tuple[str, ...]] = {}
    for t in targets:
        offs.move(t, slip_days * offs.cal(t).minutes_per_day)
        chain[t] = (t,) if t == node.id else (node.id, t)
    # Visit successors in topological rank, only where something moved: a slip deep in a
    # 100k-item portfolio costs what it touches. Every item pushed later has a higher rank
    # than the one that pushed it, so an item is settled once all its moved predecessors are.
    succ = graph.successors()
    rank, looped = graph.topo_rank()
    preds: dict[str, list[tuple[str, LinkEdge]]] = defaultdict(list)
    heap: list[tuple[int, str]] = []
    queued: set[str] = set()
    order: list[str] = []

    reached: dict[str, int] = {}  # the order items moved in: the cross product's pair order

    def reach(p_id: str) -> None:
        reached.setdefault(p_id, len(reached))
        for s_id, link in succ.get(p_id, ()):
            preds[s_id].append((p_id, link))
            if s_id not in queued:
                queued.add(s_id)
                heapq.heappush(heap, (rank[s_id], s_id))

    for t in targets:
        if t in looped:
            raise _loop_error(graph, t)
        order.append(t)
        reach(t)
    absorbed: dict[str, float] = {}
    # what a hub passes on to each of its successors: (successor, hub) -> (push, driver)
    offers: dict[tuple[str, str], tuple[float, str]] = {}
    while heap:
        _r, s_id = heapq.heappop(heap)
        hub = graph.hub(s_id)
        if hub is not None:
            # a hub is not an item: it works out what its moved predecessors pass to each
            # successor, and hands it on (after them all: it ranks above each)
            for s, offer in _hub_offers(offs, hub, [p for p, _e in preds[s_id]], absorbed):
                offers[(s, s_id)] = offer
                preds[s].append((s_id, hub.link))
                if s not in queued:
                    queued.add(s)
                    heapq.heappush(heap, (rank[s], s))
            continue
        changed = [(p, e) for p, e in preds[s_id] if p in offs.new or (s_id, p) in offers]
        if not changed or nodes[s_id].done:
            continue
        cal = offs.cal(s_id)
        pushes: list[tuple[int, float, str]] = []  # (when the pusher moved, push, pusher)
        for p_id, e in changed:
            if (s_id, p_id) in offers:
                passed, p_id = offers[(s_id, p_id)]
            else:
                got = _passed(offs, e, p_id, s_id, cal)
                if got is None:
                    continue
                passed, moved = got
                _absorb(absorbed, e, moved, passed, cal)
            pushes.append((reached[p_id], passed, p_id))
        # in the order the pushers moved, as the pairs of a cross product would come (a hub
        # hands its offers on later): the first of equal pushes drives
        pushes.sort(key=lambda x: x[0])
        push = 0.0
        driver: str | None = None
        for _when, passed, p_id in pushes:
            if passed > push + _EPS:
                push, driver = passed, p_id
        if driver is None:
            continue
        if s_id in looped:
            # the slip reaches a loop and would move it: there is no order to follow
            raise _loop_error(graph, s_id)
        offs.move(s_id, push)
        chain[s_id] = (*chain[driver], s_id)
        if s_id not in order:
            order.append(s_id)
        reach(s_id)
    rows: list[SlipRow] = []
    for i in order:
        if i not in offs.new:
            continue
        n = nodes[i]
        new_start, new_finish = offs.dates(i)
        rows.append(
            SlipRow(
                item=i,
                old_start=n.start,
                old_finish=n.finish,
                new_start=new_start,
                new_finish=new_finish,
                delta_days=round(offs.shift[i] / offs.cal(i).minutes_per_day, 2),
                chain=chain[i],
            )
        )
    return _result(graph, node, slip_days, rows, tuple(sorted(absorbed.items())))


def _passed(
    offs: _Offsets, e: LinkEdge, p_id: str, s_id: str, cal: WorkCalendar
) -> tuple[float, float] | None:
    """How far the moved predecessor pushes the successor through the link, and how far the
    link's need moved; None where a date is missing."""
    need_old = _need(offs, e, p_id, cal, moved=False)
    need_new = _need(offs, e, p_id, cal, moved=True)
    own_old = _own(offs, s_id, e, cal, moved=False)
    own_new = _own(offs, s_id, e, cal, moved=True)
    if need_old is None or need_new is None or own_old is None or own_new is None:
        return None
    old, new = need_old - own_old, need_new - own_new
    # a link broken before the slip passes on only what the slip adds to its shortfall
    # (the existing shortfall is a violation, which the checks report)
    return max(0.0, new) - max(0.0, old), new - old


def _absorb(
    absorbed: dict[str, float], e: LinkEdge, moved: float, passed: float, cal: WorkCalendar
) -> None:
    """Record the working days of a moved need that the link's gap swallowed."""
    if moved > _EPS and moved - max(passed, 0.0) > _EPS:
        days = round((moved - max(passed, 0.0)) / cal.minutes_per_day, 2)
        absorbed[e.id] = max(absorbed.get(e.id, 0.0), days)


def _hub_offers(
    offs: _Offsets, hub: Hub, moved: list[str], absorbed: dict[str, float]
) -> list[tuple[str, tuple[float, str]]]:
    """What a summary link passes to each successor leaf from its moved predecessor leaves:
    the largest push any of them gives through its own leaf link (the first of equals, in the
    order they moved), as the cross product would, without visiting m x n pairs.

    With a successor not yet moved (own date o both before and after), a predecessor whose need
    goes from a to b passes max(0, b - max(o, a)): the latest b among those with a <= o, or the
    largest b - a among those with a > o. Sorting the predecessors by a once per calendar
    makes each successor a bisection. A successor that moved itself (a slipped leaf) is paired
    only with predecessors whose need moved further than it did (no other can push it).
    """
    e = hub.link
    out: list[tuple[str, tuple[float, str]]] = []
    groups: dict[int, tuple[WorkCalendar, list[str]]] = {}
    for s in hub.succs:
        if offs.graph.nodes[s].done:
            continue
        cal = offs.cal(s)
        groups.setdefault(id(cal), (cal, []))[1].append(s)
    for cal, succs in groups.values():
        rows: list[tuple[float, int, float, str]] = []  # (old need, move order, new need, p)
        for k, p in enumerate(moved):
            old = _need(offs, e, p, cal, moved=False)
            new = _need(offs, e, p, cal, moved=True)
            if old is not None and new is not None:
                rows.append((old, k, new, p))
        if not rows:
            continue
        rows.sort()
        olds = [r[0] for r in rows]
        # best (largest, then first moved) new need up to each row; best new - old from each
        best_new: list[tuple[float, int]] = []
        for i, (_a, k, b, _p) in enumerate(rows):
            here = (b, -k)
            best_new.append(here if i == 0 or here > best_new[-1] else best_new[-1])
        best_gain: list[tuple[float, int]] = [(0.0, 0)] * len(rows)
        for i in range(len(rows) - 1, -1, -1):
            a, k, b, _p = rows[i]
            here = (b - a, -k)
            later = best_gain[i + 1] if i + 1 < len(rows) else here
            best_gain[i] = here if here > later else later
        by_order = {k: p for _a, k, _b, p in rows}
        widest = sorted(rows, key=lambda r: (-(r[2] - r[0]), r[1]))
        latest_own: float | None = None
        for s in succs:
            own_old = _own(offs, s, e, cal, moved=False)
            own_new = _own(offs, s, e, cal, moved=True)
            if own_old is None or own_new is None:
                continue
            if own_new != own_old:
                pairs = [r[3] for r in widest if (r[2] - r[0]) - (own_new - own_old) > _EPS]
            else:
                latest_own = own_old if latest_own is None else max(latest_own, own_old)
                cut = bisect.bisect_right(olds, own_old)
                picks = []
                if cut > 0:
                    picks.append(-best_new[cut - 1][1])
                if cut < len(rows):
                    picks.append(-best_gain[cut][1])
                pairs = [by_order[k] for k in sorted(picks)]
            push, driver = 0.0, None
            for p in pairs:
                got = _passed(offs, e, p, s, cal)
                if got is None:
                    continue
                if own_new != own_old:
                    _absorb(absorbed, e, got[1], got[0], cal)
                if got[0] > push + _EPS:
                    push, driver = got[0], p
            if driver is not None:
                out.append((s, (push, driver)))
        if latest_own is not None:
            # gaps swallow most against the latest successor: max(0, min(o, b) - a) grows
            # with o, so one pass over the predecessors gives the link's largest absorption
            swallowed = max(max(0.0, min(latest_own, b) - a) for a, _k, b, _p in rows)
            _absorb(absorbed, e, swallowed, 0.0, cal)
    return out


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
