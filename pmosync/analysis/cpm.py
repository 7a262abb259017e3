"""Critical path method with MS Project's semantics, on working-time calendars (pure).

The forward and backward passes follow the reference (canonical-model-and-schedule-math §B.4)
and MS Project's own behaviour where the two differ:

* constraints are *honoured* (MS Project's default "tasks will always honour their constraint
  dates"): SNET/FNET push a task later, SNLT/FNLT pull it earlier, MSO/MFO pin it; an
  unmeetable hard constraint shows as negative total slack, measured against the date logic
  alone would give;
* a task with no predecessor starts at the project start, or at its SNET/FNET date;
* an FF-driven start never precedes the project start;
* a late finish implied by a successor never exceeds the node's anchor (its project's finish);
* slack is measured in working time on the task's own calendar.

Every time is held as a *working-minute offset* on the node's calendar (see ``calendar.py``),
so the hot loops are float arithmetic; a link between two calendars, an elapsed lag and an
elapsed duration go through wall-clock time. Summary tasks are not nodes: links on them are
expanded to their leaves and their dates are rolled up afterwards (§B.2). A link with many
leaves at both ends goes through a zero-duration hub node (one per successor calendar): an edge
from each predecessor leaf, one to each successor leaf, O(m + n) instead of m x n, with exactly
the dates the cross product gives (see hub_forward and hub_backward).
"""

from __future__ import annotations

import gc
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from pmosync.analysis.calendar import WorkCalendar, standard_calendar
from pmosync.errors import ConfigError

__all__ = [
    "CONSTRAINT_TYPES",
    "LINK_TYPES",
    "CpmLink",
    "CpmResult",
    "CpmTask",
    "ScheduleCycleError",
    "TaskSchedule",
    "compute_schedule",
]

CONSTRAINT_TYPES = ("ASAP", "ALAP", "SNET", "SNLT", "FNET", "FNLT", "MSO", "MFO")
LINK_TYPES = ("FS", "SS", "FF", "SF")
_FS, _SS, _FF, _SF = 0, 1, 2, 3
_EPS = 1e-6
_FAR = 1e300  # beyond any working-minute offset: "no bound"


@dataclass(frozen=True)
class CpmTask:
    id: str
    duration_minutes: float = 0.0
    project: str | None = None
    parent: str | None = None  # summary parent id (summaries roll up; links expand to leaves)
    summary: bool = False
    milestone: bool = False
    manual: bool = False  # manually scheduled / pinned: held at start/finish
    start: datetime | None = None  # entered/stored start (used when manual)
    finish: datetime | None = None
    elapsed: bool = False  # duration in wall-clock time
    calendar: str | None = None  # key into calendars; None = the project calendar or default
    constraint_type: str = "ASAP"  # ASAP, ALAP, SNET, SNLT, FNET, FNLT, MSO, MFO
    constraint_date: datetime | None = None
    deadline: datetime | None = None
    actual_start: datetime | None = None
    actual_finish: datetime | None = None
    remaining_minutes: float | None = None
    percent_complete: float | None = None


@dataclass(frozen=True)
class CpmLink:
    predecessor: str
    successor: str
    type: str = "FS"  # FS, SS, FF, SF
    lag_minutes: float = 0.0  # working minutes on the successor's calendar (negative = lead)
    lag_percent: float | None = None  # percentage lag: % of the predecessor's duration
    lag_elapsed: bool = False  # lag in wall-clock minutes


@dataclass(frozen=True)
class TaskSchedule:
    early_start: datetime
    early_finish: datetime
    late_start: datetime
    late_finish: datetime
    total_slack_minutes: float
    free_slack_minutes: float
    critical: bool
    driving_predecessors: tuple[str, ...]


@dataclass(frozen=True)
class CpmResult:
    tasks: dict[str, TaskSchedule]
    project_finish: dict[str | None, datetime]

    def critical_path_to(self, target: str) -> list[str]:
        """The driving chain that ends at ``target``, start first (P6's "longest path").

        At each step the first driving predecessor is followed; a task with none ends the walk.
        """
        if target not in self.tasks:
            raise KeyError(target)
        chain = [target]
        seen = {target}
        current = target
        while True:
            drivers = self.tasks[current].driving_predecessors
            nxt = next((d for d in drivers if d not in seen), None)
            if nxt is None:
                break
            chain.append(nxt)
            seen.add(nxt)
            current = nxt
        chain.reverse()
        return chain


class ScheduleCycleError(ConfigError):
    """The logic has cycles: a person must break them. ``cycles`` holds one witness cycle
    (task ids, in link order) per strongly connected component."""

    def __init__(self, cycles: list[list[str]]):
        self.cycles = cycles
        shown = "; ".join(" -> ".join([*c, c[0]]) for c in cycles[:5])
        more = f" (and {len(cycles) - 5} more)" if len(cycles) > 5 else ""
        super().__init__(
            f"the schedule logic has {len(cycles)} cycle(s): {shown}{more}",
            problems=[" -> ".join([*c, c[0]]) for c in cycles],
        )


class _Cal:
    """A calendar with memoised offset <-> datetime conversions."""

    __slots__ = ("cal", "to_cache", "start_cache", "finish_cache")

    def __init__(self, cal: WorkCalendar) -> None:
        self.cal = cal
        self.to_cache: dict[datetime, float] = {}
        self.start_cache: dict[float, datetime] = {}
        self.finish_cache: dict[float, datetime] = {}

    def to_work(self, t: datetime) -> float:
        v = self.to_cache.get(t)
        if v is None:
            v = self.to_cache[t] = self.cal.to_work(t)
        return v

    def start(self, m: float) -> datetime:
        v = self.start_cache.get(m)
        if v is None:
            v = self.start_cache[m] = self.cal.from_work(m, at_start=True)
        return v

    def finish(self, m: float) -> datetime:
        v = self.finish_cache.get(m)
        if v is None:
            v = self.finish_cache[m] = self.cal.from_work(m, at_start=False)
        return v


def _topological_order(n: int, succ: list[list[int]], ids: list[str], real: int) -> list[int]:
    """Kahn's order of ``n`` nodes; the first ``real`` are tasks, the rest hubs."""
    indeg = [0] * n
    for targets in succ:
        for s in targets:
            indeg[s] += 1
    order = [i for i in range(n) if indeg[i] == 0]
    head = 0
    while head < len(order):
        i = order[head]
        head += 1
        for s in succ[i]:
            indeg[s] -= 1
            if indeg[s] == 0:
                order.append(s)
    if len(order) < n:
        raise ScheduleCycleError(_cycles(n, succ, ids, set(order), real))
    return order


def _cycles(
    n: int, succ: list[list[int]], ids: list[str], done: set[int], real: int
) -> list[list[str]]:
    import networkx as nx

    graph: nx.MultiDiGraph = nx.MultiDiGraph()
    for i in range(n):
        if i in done:
            continue
        for s in succ[i]:
            if s not in done:
                graph.add_edge(i, s)
    cycles: list[list[str]] = []
    for component in nx.strongly_connected_components(graph):
        if len(component) == 1:
            (node,) = component
            if not graph.has_edge(node, node):
                continue
        edges = nx.find_cycle(graph.subgraph(component))
        # a hub only passes a link on (p -> hub -> s is the link p -> s): leave it out
        cycles.append([ids[e[0]] for e in edges if e[0] < real])
    cycles.sort(key=lambda c: (len(c), c))
    return cycles


def compute_schedule(
    tasks: Sequence[CpmTask],
    links: Sequence[CpmLink],
    *,
    calendars: Mapping[str, WorkCalendar] | None = None,
    default_calendar: WorkCalendar | None = None,
    project_calendars: Mapping[str | None, str] | None = None,
    project_start: datetime | Mapping[str | None, datetime] | None = None,
    status_date: datetime | None = None,
    project_finish_anchor: Mapping[str | None, datetime] | None = None,
    critical_slack_limit: float = 0.0,
    left_out: Sequence[Collection[str]] = (),
) -> CpmResult:
    """Early/late dates, total and free slack, criticality and driving links for every task.

    Args:
        tasks: every task, summaries included (``summary`` or having children).
        links: logic links; links to or from a summary apply to each of its leaves.
        calendars: calendars by key (``CpmTask.calendar``, ``project_calendars`` values).
        default_calendar: for tasks with neither a calendar nor a project calendar
            (default: MS Project's Standard).
        project_calendars: the calendar key of each project.
        project_start: the start of every project, or per project; defaults to the earliest
            entered start of the project's tasks.
        status_date: with progress: unstarted work starts no earlier, in-progress work's
            remaining duration runs from max(status date, actual start).
        project_finish_anchor: a committed finish per project for the backward pass
            (default: the project's own early finish).
        critical_slack_limit: a task is critical when its total slack is at most this.
        left_out: groups of leaf tasks (a cycle each) whose links among themselves are left
            out: a leaf link with both ends in one group, and those leaf pairs of a summary
            link (the rest of the summary link stays).

    Raises:
        ScheduleCycleError: the logic (after summary expansion) has a cycle.
        ConfigError: a link names an unknown task, a constraint type is unknown, a calendar
            key is unknown, or no project start can be found.
    """
    # The passes allocate a few hundred thousand small tuples and no reference cycles; the
    # cyclic collector re-scanning them doubles the run time on large networks.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _compute(
            tasks,
            links,
            calendars=calendars or {},
            default_cal=default_calendar or standard_calendar(),
            project_calendars=project_calendars or {},
            project_start=project_start,
            status_date=status_date,
            project_finish_anchor=project_finish_anchor,
            critical_slack_limit=critical_slack_limit,
            left_out=left_out,
        )
    finally:
        if gc_was_enabled:
            gc.enable()


def _compute(
    tasks: Sequence[CpmTask],
    links: Sequence[CpmLink],
    *,
    calendars: Mapping[str, WorkCalendar],
    default_cal: WorkCalendar,
    project_calendars: Mapping[str | None, str],
    project_start: datetime | Mapping[str | None, datetime] | None,
    status_date: datetime | None,
    project_finish_anchor: Mapping[str | None, datetime] | None,
    critical_slack_limit: float,
    left_out: Sequence[Collection[str]],
) -> CpmResult:

    by_id: dict[str, CpmTask] = {}
    for t in tasks:
        if t.id in by_id:
            raise ConfigError(f"task id {t.id!r} appears twice")
        if t.constraint_type not in CONSTRAINT_TYPES:
            raise ConfigError(
                f"task {t.id!r}: unknown constraint type {t.constraint_type!r} "
                f"(use one of {', '.join(CONSTRAINT_TYPES)})"
            )
        by_id[t.id] = t
    children: dict[str, list[str]] = {}
    for t in tasks:
        if t.parent is not None:
            if t.parent not in by_id:
                raise ConfigError(f"task {t.id!r}: parent {t.parent!r} is not a task")
            children.setdefault(t.parent, []).append(t.id)
    summaries = {t.id for t in tasks if t.summary} | set(children)
    leaf_ids = [t.id for t in tasks if t.id not in summaries]
    index = {tid: i for i, tid in enumerate(leaf_ids)}
    leaves = [by_id[tid] for tid in leaf_ids]
    n = len(leaves)

    leaf_cache: dict[str, list[int]] = {}

    def leaves_of(tid: str) -> list[int]:
        got = leaf_cache.get(tid)
        if got is None:
            if tid not in summaries:
                got = [index[tid]]
            else:
                got = []
                stack = list(children.get(tid, ()))
                seen: set[str] = set()
                while stack:
                    c = stack.pop()
                    if c in seen:
                        continue  # a parent loop in bad data
                    seen.add(c)
                    if c in summaries:
                        stack.extend(children.get(c, ()))
                    else:
                        got.append(index[c])
            leaf_cache[tid] = got
        return got

    # -- calendars ---------------------------------------------------------------------------
    cal_objs: list[_Cal] = []
    cal_index: dict[int, int] = {}

    def cal_id(cal: WorkCalendar) -> int:
        key = id(cal)
        got = cal_index.get(key)
        if got is None:
            got = cal_index[key] = len(cal_objs)
            cal_objs.append(_Cal(cal))
        return got

    def lookup(key: str, who: str) -> WorkCalendar:
        try:
            return calendars[key]
        except KeyError:
            raise ConfigError(f"{who}: unknown calendar {key!r}") from None

    project_cal: dict[str | None, int] = {}
    ncal = [0] * n
    for i, t in enumerate(leaves):
        if t.calendar is not None:
            ncal[i] = cal_id(lookup(t.calendar, f"task {t.id!r}"))
            continue
        pc = project_cal.get(t.project)
        if pc is None:
            key = project_calendars.get(t.project)
            cal = default_cal if key is None else lookup(key, f"project {t.project!r}")
            pc = project_cal[t.project] = cal_id(cal)
        ncal[i] = pc
    for t in tasks:  # summaries report on their project's calendar
        if t.project not in project_cal:
            key = project_calendars.get(t.project)
            cal = default_cal if key is None else lookup(key, f"project {t.project!r}")
            project_cal[t.project] = cal_id(cal)
    cals = cal_objs

    def conv(x: float, a: int, b: int, at_start: bool) -> float:
        if a == b:
            return x
        ca = cals[a]
        return cals[b].to_work(ca.start(x) if at_start else ca.finish(x))

    # -- links -------------------------------------------------------------------------------
    dur = [float(t.duration_minutes or 0.0) for t in leaves]
    elapsed = [t.elapsed for t in leaves]
    any_elapsed = any(elapsed)
    # Per link: predecessor, successor, type code, lag (working minutes), elapsed lag or None.
    # ``simple``: same calendar, no elapsed lag or duration, so plain arithmetic on offsets.
    preds: list[list[tuple[int, int, float, float | None, bool]]] = [[] for _ in range(n)]
    succs: list[list[tuple[int, int, float, float | None, bool]]] = [[] for _ in range(n)]
    succ_nodes: list[list[int]] = [[] for _ in range(n)]
    type_codes = {"FS": _FS, "SS": _SS, "FF": _FF, "SF": _SF}
    # Node ids by index: the leaves, then the hubs (named after their link, never reported
    # except inside a cycle message, where they are left out).
    ids: list[str] = list(leaf_ids)

    def add_edge(p: int, s: int, code: int, lag: float, elag: float | None) -> None:
        simple = elag is None and ncal[p] == ncal[s] and not elapsed[p] and not elapsed[s]
        preds[s].append((p, code, lag, elag, simple))
        succs[p].append((s, code, lag, elag, simple))
        succ_nodes[p].append(s)

    def add(p: int, s: int, code: int, link: CpmLink) -> None:
        lag = float(link.lag_minutes or 0.0)
        if link.lag_percent is not None:
            lag = dur[p] * link.lag_percent / 100.0
        elag: float | None = None
        if link.lag_elapsed:
            elag, lag = lag, 0.0
        add_edge(p, s, code, lag, elag)

    groups = [frozenset(index[i] for i in group if i in index) for group in left_out]

    def cut(p: int, s: int) -> bool:
        return any(p in g and s in g for g in groups)

    def touches(p_leaves: list[int], s_leaves: list[int]) -> bool:
        # a summary link with leaf pairs to leave out: spelled out pair by pair (a cycle is
        # an error a person fixes; the quadratic case is only ever that one)
        return any(not g.isdisjoint(p_leaves) and not g.isdisjoint(s_leaves) for g in groups)

    for link in links:
        code = type_codes.get(link.type)
        if code is None:
            raise ConfigError(
                f"link {link.predecessor}->{link.successor}: unknown type {link.type!r}"
            )
        p = index.get(link.predecessor, -1)
        s = index.get(link.successor, -1)
        if p >= 0 and s >= 0 and left_out and cut(p, s):
            continue
        if p >= 0 and s >= 0 and link.lag_percent is None and not link.lag_elapsed:
            # Leaf to leaf with a working-time lag: the common case, kept lean.
            lag = float(link.lag_minutes or 0.0)
            simple = ncal[p] == ncal[s] and not elapsed[p] and not elapsed[s]
            preds[s].append((p, code, lag, None, simple))
            succs[p].append((s, code, lag, None, simple))
            succ_nodes[p].append(s)
            continue
        for end in (link.predecessor, link.successor):
            if end not in by_id:
                raise ConfigError(f"link {link.predecessor}->{link.successor}: no task {end!r}")
        p_leaves = leaves_of(link.predecessor)
        s_leaves = leaves_of(link.successor)
        many = len(p_leaves) * len(s_leaves) > len(p_leaves) + len(s_leaves)
        if many and not (left_out and touches(p_leaves, s_leaves)):
            # Summary to summary: through hubs, O(m + n) edges instead of m x n (hub_forward
            # and hub_backward say why the dates are the same)
            by_cal: dict[int, list[int]] = {}
            for s in s_leaves:
                by_cal.setdefault(ncal[s], []).append(s)
            for cal_key, group in by_cal.items():
                h = len(dur)
                ids.append(f"hub of {link.predecessor}->{link.successor}")
                ncal.append(cal_key)
                dur.append(0.0)
                elapsed.append(False)
                preds.append([])
                succs.append([])
                succ_nodes.append([])
                for p in p_leaves:
                    add(p, h, code, link)
                for s in group:
                    # the lag was taken on the way in: hub to successor is a plain pass-on
                    add_edge(h, s, code, 0.0, None)
            continue
        for p in p_leaves:
            for s in s_leaves:
                if not (left_out and cut(p, s)):
                    add(p, s, code, link)

    hub_count = len(dur) - n
    total = n + hub_count
    order = _topological_order(total, succ_nodes, ids, n)

    # -- project starts ----------------------------------------------------------------------
    # the earliest entered start per project, in one pass (not one pass per project)
    earliest: dict[str | None, datetime] = {}
    for t in tasks:
        entered = t.start or t.actual_start
        if entered is not None and (t.project not in earliest or entered < earliest[t.project]):
            earliest[t.project] = entered

    def start_of(project: str | None) -> datetime:
        if isinstance(project_start, datetime):
            return project_start
        if isinstance(project_start, Mapping) and project in project_start:
            return project_start[project]
        if project not in earliest:
            raise ConfigError(
                f"project {project!r}: no project start given and no task has a start"
            )
        return earliest[project]

    pstart_dt: dict[str | None, datetime] = {}
    pstart = [0.0] * n
    for i, t in enumerate(leaves):
        if t.project not in pstart_dt:
            pstart_dt[t.project] = start_of(t.project)
        pstart[i] = cals[ncal[i]].to_work(pstart_dt[t.project])
    pstart.extend([-_FAR] * hub_count)  # a hub passes a need on unfloored: its successor floors

    # Exact wall-clock dates where offsets cannot carry them (manual, actuals, elapsed).
    es_wall: dict[int, datetime] = {}
    ef_wall: dict[int, datetime] = {}

    def finish_from_start(i: int, es: float) -> float:
        if not elapsed[i]:
            return es + dur[i]
        c = cals[ncal[i]]
        return c.to_work(c.start(es) + timedelta(minutes=dur[i]))

    def start_from_finish(i: int, ef: float) -> float:
        if not elapsed[i]:
            return ef - dur[i]
        c = cals[ncal[i]]
        return c.to_work(c.finish(ef) - timedelta(minutes=dur[i]))

    def plus_lag(x: float, s: int, lag: float, elag: float | None, at_start: bool) -> float:
        if elag is None:
            return x + lag
        c = cals[ncal[s]]
        moment = c.start(x) if at_start else c.finish(x)
        return c.to_work(moment + timedelta(minutes=elag))

    status_off: list[float] | None = None
    if status_date is not None:
        status_off = [cals[k].to_work(status_date) for k in range(len(cals))]

    def required(
        p: int, s: int, code: int, lag: float, elag: float | None, floor: bool = True
    ) -> float:
        """The early start link p->s asks of s, in s's calendar (general case)."""
        cp, cs = ncal[p], ncal[s]
        if code == _FS:
            return plus_lag(conv(pef[p], cp, cs, False), s, lag, elag, False)
        if code == _SS:
            return plus_lag(conv(pes[p], cp, cs, True), s, lag, elag, True)
        if code == _FF:
            x = start_from_finish(s, plus_lag(conv(pef[p], cp, cs, False), s, lag, elag, False))
            return x if x > pstart[s] or not floor else pstart[s]
        return start_from_finish(s, plus_lag(conv(pes[p], cp, cs, True), s, lag, elag, True))

    def implied_finish(p: int, s: int, code: int, lag: float, elag: float | None) -> float:
        """The late finish link p->s allows p, in p's calendar (general case).

        A converted value keeps its own nature: a late start is the instant work begins.
        """
        cp, cs = ncal[p], ncal[s]
        back = None if elag is None else -elag
        if code == _FS:
            return conv(plus_lag(ls[s], s, -lag, back, True), cs, cp, True)
        if code == _SS:
            return finish_from_start(p, conv(plus_lag(ls[s], s, -lag, back, True), cs, cp, True))
        if code == _FF:
            return conv(plus_lag(lf[s], s, -lag, back, False), cs, cp, False)
        return finish_from_start(p, conv(plus_lag(lf[s], s, -lag, back, False), cs, cp, False))

    def link_gap(p: int, s: int, code: int, lag: float, elag: float | None) -> float:
        """How far s's early dates sit beyond what link p->s requires, in s's calendar."""
        cp, cs = ncal[p], ncal[s]
        if code == _FS:
            return es[s] - plus_lag(conv(pef[p], cp, cs, False), s, lag, elag, False)
        if code == _SS:
            return es[s] - plus_lag(conv(pes[p], cp, cs, True), s, lag, elag, True)
        if code == _FF:
            return ef[s] - plus_lag(conv(pef[p], cp, cs, False), s, lag, elag, False)
        return ef[s] - plus_lag(conv(pes[p], cp, cs, True), s, lag, elag, True)

    # -- forward pass ------------------------------------------------------------------------
    es = [0.0] * total
    ef = [0.0] * total
    es_logic = [0.0] * total
    fixed = [False] * total  # completed: actual dates (a hub: no open successor)
    con_type = [t.constraint_type for t in leaves] + ["ASAP"] * hub_count
    con_off: list[float | None] = [
        cals[ncal[i]].to_work(t.constraint_date) if t.constraint_date is not None else None
        for i, t in enumerate(leaves)
    ] + [None] * hub_count
    manual = [t.manual and t.start is not None and t.finish is not None for t in leaves]
    manual += [False] * hub_count

    def hub_forward(h: int) -> None:
        """A hub's date is the latest need among its predecessors' links (lag included, in
        its successors' calendar): max commutes with every link formula, as each is monotone
        in the predecessor's date, so its successors see exactly what the cross product
        would give them. No floor and no constraint: those are the successor's own."""
        value = -_FAR
        for p, code, lag, elag, simple in preds[h]:
            if simple:
                x = (pef[p] if code in (_FS, _FF) else pes[p]) + lag
            else:
                x = required(p, h, code, lag, elag, floor=False)
            if x > value:
                value = x
        es[h] = ef[h] = es_logic[h] = value

    def node(i: int) -> None:
        if i >= n:
            hub_forward(i)
            return
        t = leaves[i]
        ci = ncal[i]
        c = cals[ci]
        if manual[i]:
            assert t.start is not None and t.finish is not None
            es[i] = es_logic[i] = c.to_work(t.start)
            ef[i] = c.to_work(t.finish)
            es_wall[i], ef_wall[i] = t.start, t.finish
            return
        if t.actual_start is not None:
            es[i] = es_logic[i] = c.to_work(t.actual_start)
            es_wall[i] = t.actual_start
            if t.actual_finish is not None:
                ef[i] = c.to_work(t.actual_finish)
                ef_wall[i] = t.actual_finish
                fixed[i] = True
                return
            if status_off is not None:
                remaining = t.remaining_minutes
                if remaining is None:
                    done = (t.percent_complete or 0.0) / 100.0
                    remaining = dur[i] * (1.0 - done)
                base = max(status_off[ci], es[i])
                ef[i] = base + remaining
            else:
                ef[i] = finish_from_start(i, es[i])
            fnet = con_off[i]
            if con_type[i] == "FNET" and fnet is not None:
                ef[i] = max(ef[i], fnet)
            return

        ctype = con_type[i]
        cdate = con_off[i]
        incoming = preds[i]
        if not incoming:
            if ctype == "SNET" and cdate is not None:
                value = cdate
            elif ctype == "FNET" and cdate is not None:
                value = start_from_finish(i, cdate)
            else:
                value = pstart[i]
        else:
            value = -1e300
            d_i = dur[i]
            ps = pstart[i]
            for p, code, lag, elag, simple in incoming:
                if simple:
                    if code == _FS:
                        x = pef[p] + lag
                    elif code == _SS:
                        x = pes[p] + lag
                    elif code == _FF:
                        x = pef[p] + lag - d_i
                        if x < ps:
                            x = ps
                    else:
                        x = pes[p] + lag - d_i
                else:
                    x = required(p, i, code, lag, elag)
                if x > value:
                    value = x
            # Leads and SF/FF links never pull a task before its project's start (only a
            # constraint can); MS Project schedules from the project start the same way.
            if value < pstart[i]:
                value = pstart[i]
        if status_off is not None and value < status_off[ci]:
            value = status_off[ci]
        es_logic[i] = value
        if cdate is not None:
            if ctype == "SNET":
                value = max(value, cdate)
            elif ctype == "SNLT":
                value = min(value, cdate)
            elif ctype == "FNET":
                value = max(value, start_from_finish(i, cdate))
            elif ctype == "FNLT":
                value = min(value, start_from_finish(i, cdate))
            elif ctype == "MSO":
                value = cdate
            elif ctype == "MFO":
                value = start_from_finish(i, cdate)
        es[i] = value
        ef[i] = finish_from_start(i, value) if (any_elapsed and elapsed[i]) else value + dur[i]
        if elapsed[i]:
            es_wall[i] = c.start(value)
            ef_wall[i] = es_wall[i] + timedelta(minutes=dur[i])

    # What successors see of each predecessor: its early dates, except that an ALAP task is
    # placed at its late dates once they are known (a second forward pass, as MS Project).
    pes, pef = es, ef

    def forward() -> None:
        for i in order:
            node(i)
            if pes is not es:
                if alap[i]:
                    pes[i], pef[i] = ls[i], lf[i]
                else:
                    pes[i], pef[i] = es[i], ef[i]

    alap = [ct == "ALAP" and not manual[i] for i, ct in enumerate(con_type)]  # hubs: ASAP
    ls = [0.0] * total
    lf = [0.0] * total
    forward()

    # -- anchors: each project's finish (or committed date) ----------------------------------
    best: dict[tuple[str | None, int], float] = {}
    for i, t in enumerate(leaves):
        pair = (t.project, ncal[i])
        if pair not in best or ef[i] > best[pair]:
            best[pair] = ef[i]
    project_finish: dict[str | None, datetime] = {}
    for (project, ci), value in best.items():
        moment = cals[ci].finish(value)
        if project not in project_finish or moment > project_finish[project]:
            project_finish[project] = moment
    for i, moment in ef_wall.items():  # an elapsed or actual finish may lie in non-working time
        project = leaves[i].project
        if moment > project_finish[project]:
            project_finish[project] = moment
    anchors_dt = dict(project_finish)
    if project_finish_anchor:
        anchors_dt.update({k: v for k, v in project_finish_anchor.items() if k in anchors_dt})
    anchor = [_FAR] * total  # a hub has no anchor of its own
    anchor_cache: dict[tuple[str | None, int], float] = {}
    for i, t in enumerate(leaves):
        pair = (t.project, ncal[i])
        got = anchor_cache.get(pair)
        if got is None:
            got = anchor_cache[pair] = cals[ncal[i]].to_work(anchors_dt[t.project])
        anchor[i] = got

    # -- backward pass -----------------------------------------------------------------------
    def hub_backward(h: int) -> None:
        """The earliest late date among the hub's open successors (min commutes with the
        backward formulas as max does with the forward ones); with none open, the hub asks
        nothing of its predecessors, as completed successors ask nothing."""
        value = _FAR
        for s, code, lag, elag, simple in succs[h]:
            if fixed[s]:
                continue
            if simple:
                x = ls[s] if code in (_FS, _SS) else lf[s]
            else:
                x = implied_finish(h, s, code, lag, elag)
            if x < value:
                value = x
        ls[h] = lf[h] = value
        fixed[h] = value == _FAR

    for i in reversed(order):
        if i >= n:
            hub_backward(i)
            continue
        if fixed[i]:
            ls[i], lf[i] = es[i], ef[i]
            continue
        ci = ncal[i]
        cap = anchor[i]
        value = cap
        first = True
        d_i = dur[i]
        for s, code, lag, elag, simple in succs[i]:
            if fixed[s]:
                continue
            if simple:
                if code == _FS:
                    x = ls[s] - lag
                elif code == _SS:
                    x = ls[s] - lag + d_i
                elif code == _FF:
                    x = lf[s] - lag
                else:
                    x = lf[s] - lag + d_i
            else:
                x = implied_finish(i, s, code, lag, elag)
            if x > cap:
                x = cap
            if first or x < value:
                value = x
                first = False
        ctype = con_type[i]
        cdate = con_off[i]
        if cdate is not None:
            if ctype == "MSO":
                value = finish_from_start(i, cdate)
            elif ctype == "MFO":
                value = cdate
            elif ctype == "SNLT":
                value = min(value, finish_from_start(i, cdate))
            elif ctype == "FNLT":
                value = min(value, cdate)
        t = leaves[i]
        if t.deadline is not None:
            value = min(value, cals[ci].to_work(t.deadline))
        lf[i] = value
        ls[i] = start_from_finish(i, value) if elapsed[i] else value - dur[i]

    if any(alap):
        pes, pef = list(es), list(ef)
        forward()

    # -- slack, criticality, driving links ---------------------------------------------------
    def hub_needs() -> dict[int, list[tuple[float, int, int]]]:
        """Per hub, what each predecessor's link asks, latest first: (need, link order, p)."""
        out: dict[int, list[tuple[float, int, int]]] = {}
        for h in range(n, total):
            rows = []
            for pos, (p, code, lag, elag, simple) in enumerate(preds[h]):
                if simple:
                    x = (pef[p] if code in (_FS, _FF) else pes[p]) + lag
                else:
                    x = required(p, h, code, lag, elag, floor=False)
                rows.append((x, pos, p))
            rows.sort(key=lambda r: (-r[0], r[1]))
            out[h] = rows
        return out

    hub_in: dict[int, list[tuple[float, int, int]]] = {}
    hub_memo: dict[tuple[int, int, float, float, bool], tuple[str, ...]] = {}

    def hub_drivers(h: int, i: int, code: int, target: float) -> tuple[str, ...]:
        """The predecessors that drive ``i`` through hub ``h``: those whose own link would
        drive it in the cross product, in link order (a successor's drivers as before)."""
        finish_side = code in (_FF, _SF)
        key = (h, code, target, dur[i] if finish_side else 0.0, elapsed[i] and finish_side)
        got = hub_memo.get(key)
        if got is None:

            def asks(need: float) -> float:  # what that need asks of i's start
                if not finish_side:
                    return need
                return start_from_finish(i, need) if elapsed[i] else need - dur[i]

            rows = hub_in[h]
            # latest first, so what they ask only falls: skip those asking more than i's
            # start (an actual start may precede them) by bisection, stop at the first less
            lo, hi = 0, len(rows)
            while lo < hi:
                mid = (lo + hi) // 2
                if asks(rows[mid][0]) - target > _EPS:
                    lo = mid + 1
                else:
                    hi = mid
            picked: list[tuple[int, int]] = []
            for need, pos, p in rows[lo:]:
                if asks(need) - target < -_EPS:
                    break
                picked.append((pos, p))
            picked.sort()
            got = hub_memo[key] = tuple(leaf_ids[p] for _pos, p in picked)
        return got

    if hub_count:
        # From here a hub's early dates are what free slack compares with: the earliest early
        # date among all its successors (what link_gap reads as "es[s]"/"ef[s]"). What the hub
        # passes on stays in pes/pef, which the driving links read.
        if pes is es:
            pes, pef = list(es), list(ef)
        hub_in = hub_needs()
        for h in range(n, total):
            g_start = g_finish = _FAR
            for s, _code, _lag, _elag, _simple in succs[h]:
                g_start = min(g_start, es[s])
                g_finish = min(g_finish, ef[s])
            es[h], ef[h] = g_start, g_finish

    out: dict[str, TaskSchedule] = {}
    limit = critical_slack_limit + _EPS
    for i, t in enumerate(leaves):
        ci = ncal[i]
        c = cals[ci]
        if fixed[i]:
            ts = 0.0
            fs = 0.0
            drivers: tuple[str, ...] = ()
        else:
            es_star = es[i]
            ef_star = ef[i]
            if es_logic[i] > es[i] and not manual[i] and t.actual_start is None:
                es_star = es_logic[i]
                ef_star = finish_from_start(i, es_star)
            ts = min(ls[i] - es_star, lf[i] - ef_star)
            gap = anchor[i] - ef[i]
            for s, code, lag, elag, simple in succs[i]:
                if simple:
                    if code == _FS:
                        g = es[s] - pef[i] - lag
                    elif code == _SS:
                        g = es[s] - pes[i] - lag
                    elif code == _FF:
                        g = ef[s] - pef[i] - lag
                    else:
                        g = ef[s] - pes[i] - lag
                else:
                    g = link_gap(i, s, code, lag, elag)
                if g < gap:
                    gap = g
            fs = max(0.0, min(ts, gap))
            drivers = ()
            if preds[i]:
                target = es_logic[i]
                found: list[str] = []
                named: set[str] = set()
                via_hubs: list[tuple[str, ...]] = []
                d_i = dur[i]
                for p, code, lag, elag, simple in preds[i]:
                    if simple:
                        if code == _FS:
                            x = pef[p] + lag
                        elif code == _SS:
                            x = pes[p] + lag
                        elif code == _FF:
                            x = pef[p] + lag - d_i
                        else:
                            x = pes[p] + lag - d_i
                    else:
                        # Unfloored: where the project start holds a task, no link drives it.
                        x = required(p, i, code, lag, elag, floor=False)
                    if p >= n:
                        # behind a hub: the predecessors whose own link drives (the hub's
                        # latest need may not, where an actual start comes before it)
                        names = hub_drivers(p, i, code, target)
                        if names:
                            via_hubs.append(names)
                    elif -_EPS <= x - target <= _EPS:
                        names = (leaf_ids[p],)
                    else:
                        continue
                    for d in names:
                        if d not in named:
                            named.add(d)
                            found.append(d)
                # one hub alone: share its tuple (600 successors of one epic, one tuple)
                only_hub = len(via_hubs) == 1 and len(via_hubs[0]) == len(found)
                drivers = via_hubs[0] if only_hub else tuple(found)
        if i in es_wall:
            es_dt = es_wall[i]
        elif dur[i] == 0 and preds[i]:
            es_dt = c.finish(es[i])
        else:
            es_dt = c.start(es[i])
        ef_dt = ef_wall[i] if i in ef_wall else (c.finish(ef[i]) if ef[i] > es[i] else es_dt)
        if fixed[i]:
            ls_dt, lf_dt = es_dt, ef_dt
        else:
            ls_dt = c.start(ls[i]) if lf[i] > ls[i] else c.finish(ls[i])
            lf_dt = c.finish(lf[i])
        # Slack to the thousandth of a minute: files store tenths, floats add noise.
        ts_r = round(ts, 3) + 0.0
        fs_r = round(fs, 3) + 0.0
        out[t.id] = TaskSchedule(
            es_dt,
            ef_dt,
            ls_dt,
            lf_dt,
            ts_r,
            fs_r,
            (not fixed[i]) and ts <= limit,
            drivers,
        )

    _roll_up(tasks, summaries, children, out, project_cal, cals, critical_slack_limit)
    return CpmResult(tasks=out, project_finish=project_finish)


def _tidy(value: float) -> float:
    rounded = round(value, 3)
    return 0.0 if rounded == 0 else rounded


def _roll_up(  # type: ignore[no-untyped-def]
    tasks: Sequence[CpmTask],
    summaries: set[str],
    children: dict[str, list[str]],
    out: dict[str, TaskSchedule],
    project_cal: dict[str | None, int],
    cals,
    limit: float,
) -> None:
    """Summary dates span their children's; slack is the summary's own, on its calendar."""
    by_id = {t.id: t for t in tasks}
    visiting: set[str] = set()

    def visit(tid: str) -> TaskSchedule | None:
        if tid in out:
            return out[tid]
        if tid in visiting:
            return None  # a parent loop in bad data: the summary spans its other children
        visiting.add(tid)
        kids = [k for k in (visit(c) for c in children.get(tid, ())) if k is not None]
        if not kids:
            return None
        c = cals[project_cal[by_id[tid].project]].cal
        es = min(k.early_start for k in kids)
        ef = max(k.early_finish for k in kids)
        ls = min(k.late_start for k in kids)
        lf = max(k.late_finish for k in kids)
        ts = min(c.work_between(es, ls), c.work_between(ef, lf))
        fs = max(0.0, min(ts, min(k.free_slack_minutes for k in kids)))
        sched = TaskSchedule(es, ef, ls, lf, _tidy(ts), _tidy(fs), ts <= limit + _EPS, ())
        out[tid] = sched
        return sched

    for tid in summaries:
        visit(tid)
