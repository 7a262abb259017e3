"""The portfolio's dependency graph across every tool (pure), as §B.2 of the schedule notes
defines it.

Input is what the store holds: ``(canonical_id, entity_type, canonical JSON values)``. Work items
and milestones become ``ItemNode`` values; dependencies become ``LinkEdge`` values. The logic
graph (``PortfolioGraph.logic_graph``) has leaf items only: a link on a summary is expanded to
its leaf descendants, as MS Project does, so a summary never carries logic of its own.

A link with many leaves at both ends (an epic blocking an epic of 600 stories each) is not
expanded to the m x n cross product (360,000 links) but passes through a ``Hub``: one node, an
edge from each predecessor leaf and one to each successor leaf, O(m + n). A path p -> hub -> s
stands for the leaf link p -> s, so reachability, loops and (in ``cpm.py``) dates are the cross
product's; a hub is never an item and no finding names one.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

import networkx as nx

from pmosync.analysis.calendar import WorkCalendar, day_finish, day_start
from pmosync.errors import ConfigError

__all__ = [
    "Hub",
    "ItemNode",
    "LinkEdge",
    "PortfolioGraph",
    "ProjectInfo",
    "build_graph",
    "calendar_for",
    "find_item",
    "lag_minutes_of",
    "link_need",
    "strong_components",
]

CLOSED = frozenset({"done", "cancelled"})


@dataclass(frozen=True)
class ItemNode:
    id: str  # canonical id
    entity_type: str  # "work_item" or "milestone"
    name: str | None
    key: str | None
    project: str | None
    parent: str | None
    kind: str | None
    milestone: bool
    key_milestone: bool
    summary: bool
    done: bool
    schedule_mode: str | None  # auto / manual / entered
    # current dates: actual if present, else as entered/stored; date-only values turned into
    # datetimes with day_start/day_finish on the calendar
    start: datetime | None
    finish: datetime | None
    duration_minutes: float | None
    calendar: str | None  # the item's own calendar, else its project's
    constraint_type: str | None
    constraint_date: datetime | None
    deadline: datetime | None
    actual_start: datetime | None
    actual_finish: datetime | None
    remaining_minutes: float | None
    percent_complete: float | None
    # additions to the agreed API
    status: str | None = None
    external: bool = False  # a placeholder in an external project: a pinned ghost node
    started: bool = False  # has an actual start, or its tool says it is in progress


@dataclass(frozen=True)
class LinkEdge:
    id: str
    predecessor: str
    successor: str
    type: str
    lag_minutes: float
    lag_percent: float | None
    lag_elapsed: bool
    dependency_class: str
    origin: str | None
    source_link_type: str | None
    cross_project: bool


@dataclass(frozen=True)
class Hub:
    """A summary link between many leaves and many leaves, as one node of the logic graph: each
    predecessor leaf links to it and it links to each successor leaf (see the module doc)."""

    id: str  # "hub:<link id>", never an item id
    link: LinkEdge
    preds: tuple[str, ...]
    succs: tuple[str, ...]


HUB_PREFIX = "hub:"


@dataclass(frozen=True)
class ProjectInfo:
    id: str
    code: str | None
    name: str | None
    calendar: str | None
    external: bool
    status_date: datetime | None

    @property
    def label(self) -> str:
        return self.code or self.name or "unnamed project"


@dataclass(frozen=True)
class PortfolioGraph:
    # every work item and milestone, summaries included (flagged ``summary``); the logic graph
    # holds the leaves only
    nodes: Mapping[str, ItemNode]
    # links whose two ends are known (as stored: ends may be summaries)
    edges: tuple[LinkEdge, ...]
    # links with an end that is unknown or tombstoned
    dangling: tuple[LinkEdge, ...]
    projects: Mapping[str, ProjectInfo] = field(default_factory=dict)
    # ids that were known once and are now deleted (to say "deleted" rather than "unknown")
    tombstoned: frozenset[str] = frozenset()
    # True: every summary link as leaf pairs, no hub (the m x n reference the tests compare
    # the hubs with; never for real portfolios)
    cross_product: bool = False
    _cache: dict[str, Any] = field(default_factory=dict, compare=False, repr=False, hash=False)

    # -- the logic graph -------------------------------------------------------------------

    def logic_graph(self) -> nx.MultiDiGraph:
        """Leaf items and logic-class links, summaries expanded to leaves; a fresh graph each
        call (callers may change it). Each node's ``item`` attribute is its ``ItemNode``; edge
        keys are the link ids and each edge's ``link`` attribute is its ``LinkEdge``. Links
        between an item and its own ancestor are left out (they are findings, and would be
        hidden cycles once expanded). A hub is a node with a ``hub`` attribute (its ``Hub``)
        instead of ``item``."""
        g = nx.MultiDiGraph()
        g.add_nodes_from((i, {"item": self.nodes[i]}) for i in self.leaves())
        g.add_edges_from((p, s, e.id, {"link": e}) for p, s, e in self.leaf_links())
        for hub in self.hubs():
            e = hub.link
            g.add_node(hub.id, hub=hub)
            g.add_edges_from((p, hub.id, e.id, {"link": e}) for p in hub.preds)
            g.add_edges_from((hub.id, s, e.id, {"link": e}) for s in hub.succs)
        return g

    def leaves(self) -> list[str]:
        cached: list[str] | None = self._cache.get("leaves")
        if cached is None:
            cached = [i for i, n in self.nodes.items() if not n.summary]
            self._cache["leaves"] = cached
        return cached

    def children(self) -> Mapping[str, list[str]]:
        cached: dict[str, list[str]] | None = self._cache.get("children")
        if cached is None:
            cached = defaultdict(list)
            for i, n in self.nodes.items():
                if n.parent is not None and n.parent in self.nodes:
                    cached[n.parent].append(i)
            self._cache["children"] = cached
        return cached

    def leaf_descendants(self, item_id: str) -> list[str]:
        """The item itself when it is a leaf, else every leaf below it."""
        memo: dict[str, list[str]] = self._cache.setdefault("leaf_desc", {})
        found = memo.get(item_id)
        if found is not None:
            return found
        node = self.nodes.get(item_id)
        if node is None:
            return []
        if not node.summary:
            memo[item_id] = [item_id]
            return memo[item_id]
        # iterative walk: deep outlines must not hit the recursion limit
        out: list[str] = []
        stack = [item_id]
        kids = self.children()
        seen: set[str] = set()
        while stack:
            cur = stack.pop()
            if cur in seen:
                continue  # a parent loop in bad data
            seen.add(cur)
            if cur != item_id and not self.nodes[cur].summary:
                out.append(cur)
            else:
                stack.extend(kids.get(cur, ()))
        memo[item_id] = out
        return out

    def ancestors(self, item_id: str) -> frozenset[str]:
        """Ids above the item in the work item tree (parent, grandparent, ...)."""
        memo: dict[str, frozenset[str]] = self._cache.setdefault("ancestors", {})
        found = memo.get(item_id)
        if found is not None:
            return found
        # walk up to the first memoised ancestor, then fill the memo on the way back down
        chain: list[str] = []
        cur: str | None = item_id
        base: frozenset[str] = frozenset()
        on_chain: set[str] = set()
        while cur is not None:
            if cur in memo:
                base = memo[cur] | {cur}
                break
            if cur in on_chain:  # a parent loop in bad data: stop there
                break
            on_chain.add(cur)
            chain.append(cur)
            node = self.nodes.get(cur)
            cur = node.parent if node is not None and node.parent in self.nodes else None
        for above in reversed(chain):
            memo[above] = base
            base = base | {above}
        return memo[item_id]

    def is_ancestor_link(self, edge: LinkEdge) -> bool:
        p, s = edge.predecessor, edge.successor
        if p == s:
            return False
        pn, sn = self.nodes.get(p), self.nodes.get(s)
        # top-level items (most of a flat Jira or Airtable project) have no ancestor to hit
        if (pn is None or pn.parent is None) and (sn is None or sn.parent is None):
            return False
        return p in self.ancestors(s) or s in self.ancestors(p)

    def leaf_links(self) -> list[tuple[str, str, LinkEdge]]:
        """Logic links straight between leaves: ``(predecessor leaf, successor leaf, link)``.
        A link with many leaves at both ends is a hub instead (see ``hubs``)."""
        self._expand()
        found: list[tuple[str, str, LinkEdge]] = self._cache["leaf_links"]
        return found

    def hubs(self) -> list[Hub]:
        """Logic links with many leaves at both ends, each as a hub (see the module doc)."""
        self._expand()
        found: list[Hub] = self._cache["hubs"]
        return found

    def hub(self, node_id: str) -> Hub | None:
        """The hub of that id, or None for an item."""
        if not node_id.startswith(HUB_PREFIX):
            return None
        by_id: dict[str, Hub] | None = self._cache.get("hub_by_id")
        if by_id is None:
            by_id = self._cache["hub_by_id"] = {h.id: h for h in self.hubs()}
        return by_id.get(node_id)

    def logic_links(self) -> list[tuple[str, str, LinkEdge] | Hub]:
        """Leaf links and hubs together, in the order of the links they come from."""
        self._expand()
        found: list[tuple[str, str, LinkEdge] | Hub] = self._cache["logic_links"]
        return found

    def _expand(self) -> None:
        if "leaf_links" in self._cache:
            return
        out: list[tuple[str, str, LinkEdge]] = []
        hubs: list[Hub] = []
        both: list[tuple[str, str, LinkEdge] | Hub] = []
        for e in self.edges:
            if e.dependency_class != "logic" or self.is_ancestor_link(e):
                continue
            preds = self.leaf_descendants(e.predecessor)
            succs = self.leaf_descendants(e.successor)
            if len(preds) == 1 and len(succs) == 1:
                out.append((preds[0], succs[0], e))
                both.append(out[-1])
                continue
            # A hub stands for the whole cross product, so only where the two leaf sets are
            # apart: a summary linked to itself keeps its pairs (p -> p is no link).
            many = len(preds) * len(succs) > len(preds) + len(succs)
            if many and e.predecessor != e.successor and not self.cross_product:
                hubs.append(Hub(HUB_PREFIX + e.id, e, tuple(preds), tuple(succs)))
                both.append(hubs[-1])
                continue
            for p in preds:
                for s in succs:
                    if p != s:
                        out.append((p, s, e))
                        both.append(out[-1])
        self._cache["logic_links"] = both
        self._cache["leaf_links"] = out
        self._cache["hubs"] = hubs

    def successors(self) -> Mapping[str, list[tuple[str, LinkEdge]]]:
        """Logic links by predecessor: ``{p: [(s, link), ...]}``, leaves and hubs (a leaf
        linked through a hub has the hub's id as a successor, and the hub its successors)."""
        cached: dict[str, list[tuple[str, LinkEdge]]] | None = self._cache.get("succ")
        if cached is None:
            cached = defaultdict(list)
            for p, s, e in self.leaf_links():
                cached[p].append((s, e))
            for hub in self.hubs():
                for p in hub.preds:
                    cached[p].append((hub.id, hub.link))
                cached[hub.id] = [(s, hub.link) for s in hub.succs]
            self._cache["succ"] = cached
        return cached

    def components(self) -> list[set[str]]:
        """Strongly connected components of the leaf logic, in reverse topological order
        (hubs included: drop them with ``hub``)."""
        cached: list[set[str]] | None = self._cache.get("components")
        if cached is None:
            adjacency = {p: [s for s, _e in links] for p, links in self.successors().items()}
            cached = strong_components(adjacency)
            self._cache["components"] = cached
        return cached

    def topo_rank(self) -> tuple[dict[str, int], frozenset[str]]:
        """A rank per linked leaf (and hub) that grows along every link outside a loop, and the
        leaves (and hubs) that sit in a loop (a component of two or more, or a self-link)."""
        cached: tuple[dict[str, int], frozenset[str]] | None = self._cache.get("rank")
        if cached is None:
            comps = self.components()
            rank: dict[str, int] = {}
            looped: set[str] = set()
            succ = self.successors()
            for r, comp in enumerate(reversed(comps)):
                for i in comp:
                    rank[i] = r
                if len(comp) > 1:
                    looped |= comp
                else:
                    (only,) = comp
                    if any(s == only for s, _e in succ.get(only, ())):
                        looped.add(only)
            cached = (rank, frozenset(looped))
            self._cache["rank"] = cached
        return cached

    # -- naming ----------------------------------------------------------------------------

    def project_label(self, project_id: str | None) -> str | None:
        if project_id is None:
            return None
        info = self.projects.get(project_id)
        return info.label if info is not None else None

    def label(self, item_id: str) -> str:
        """``"KEY name"`` for people, never a bare UUID."""
        memo: dict[str, str] = self._cache.setdefault("label", {})
        found = memo.get(item_id)
        if found is None:
            found = memo[item_id] = self._label(item_id)
        return found

    def _label(self, item_id: str) -> str:
        node = self.nodes.get(item_id)
        if node is None:
            state = "deleted" if item_id in self.tombstoned else "unknown"
            return f"{state} item ({item_id[:8]})"
        parts = [p for p in (node.key, node.name) if p]
        if parts:
            return " ".join(parts)
        what = "milestone" if node.milestone else "work item"
        project = self.project_label(node.project)
        where = f" in {project}" if project else ""
        return f"unnamed {what}{where} ({item_id[:8]})"

    def describe(self, item_id: str) -> str:
        """The label with the project: ``"DEL-12 Build [DEL]"``."""
        memo: dict[str, str] = self._cache.setdefault("describe", {})
        found = memo.get(item_id)
        if found is None:
            found = memo[item_id] = self._describe(item_id)
        return found

    def _describe(self, item_id: str) -> str:
        node = self.nodes.get(item_id)
        project = self.project_label(node.project) if node is not None else None
        label = self.label(item_id)
        if project and not (node is not None and node.key and node.key.startswith(project)):
            return f"{label} [{project}]"
        return label


def strong_components(succ: Mapping[str, list[str]]) -> list[set[str]]:
    """Tarjan's strongly connected components, iterative (deep chains must not hit the
    recursion limit) and on plain adjacency lists (networkx's graph build costs more than the
    search on 150k links). Components come out in reverse topological order: each after
    every component it reaches."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    out: list[set[str]] = []
    counter = 0
    for root in succ:
        if root in index:
            continue
        work: list[tuple[str, int]] = [(root, 0)]
        while work:
            v, i = work.pop()
            if i == 0:
                index[v] = low[v] = counter
                counter += 1
                stack.append(v)
                on_stack.add(v)
            kids = succ.get(v, ())
            recurse = False
            while i < len(kids):
                w = kids[i]
                i += 1
                if w not in index:
                    work.append((v, i))
                    work.append((w, 0))
                    recurse = True
                    break
                if w in on_stack:
                    low[v] = min(low[v], index[w])
            if recurse:
                continue
            if low[v] == index[v]:
                comp: set[str] = set()
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    comp.add(w)
                    if w == v:
                        break
                out.append(comp)
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[v])
    return out


# -- parsing the stored JSON tolerantly --------------------------------------------------------


def _datetime(value: Any) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        out = value
    elif isinstance(value, date):
        out = datetime(value.year, value.month, value.day)
    else:
        text = str(value).strip()
        if text.endswith("Z"):
            text = text[:-1] + "+00:00"
        try:
            out = datetime.fromisoformat(text)
        except ValueError:
            return None
    # local wall-clock times throughout (the project's zone is a separate field)
    return out.replace(tzinfo=None) if out.tzinfo is not None else out


def _date(value: Any) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip()[:10])
    except ValueError:
        return None


def _number(value: Any) -> float | None:
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        out = float(Decimal(str(value)))
    except (InvalidOperation, ValueError):
        return None
    return out if math.isfinite(out) else None


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _is_date_only(value: Any) -> bool:
    if isinstance(value, datetime):
        return False
    return isinstance(value, date) or (isinstance(value, str) and len(value.strip()) == 10)


_DayMemo = dict[tuple[int, date, bool], datetime]


def _on_day(cal: WorkCalendar, d: date, finish: bool, memo: _DayMemo) -> datetime:
    # a portfolio has many items per date: convert each (calendar, date) once
    k = (id(cal), d, finish)
    found = memo.get(k)
    if found is None:
        found = memo[k] = day_finish(cal, d) if finish else day_start(cal, d)
    return found


def _point(
    at: Any, day: Any, cal: WorkCalendar, *, finish: bool, memo: _DayMemo
) -> datetime | None:
    """A start or finish instant: the source's date-time, else its date on the calendar."""
    if at not in (None, ""):
        if _is_date_only(at):
            d = _date(at)
            return None if d is None else _on_day(cal, d, finish, memo)
        return _datetime(at)
    d = _date(day)
    return None if d is None else _on_day(cal, d, finish, memo)


# -- building ----------------------------------------------------------------------------------


def build_graph(
    entities: Iterable[tuple[str, str, Mapping[str, Any]]],
    *,
    calendar: WorkCalendar,
    tombstoned: Collection[str] = (),
    calendars: Mapping[str, WorkCalendar] | None = None,
) -> PortfolioGraph:
    """The portfolio graph from canonical store values.

    ``entities``: ``(canonical_id, entity_type, values)`` with entity types ``work_item``,
    ``milestone``, ``dependency`` and ``project`` (others are ignored). ``calendar`` turns
    date-only values into instants; ``calendars`` (by canonical calendar id) is used instead for
    items whose own or project calendar it holds. ``tombstoned``: ids deleted in their tool, so
    links to them are reported as dangling ("deleted" rather than "unknown").
    """
    projects: dict[str, ProjectInfo] = {}
    items: list[tuple[str, str, Mapping[str, Any]]] = []
    deps: list[tuple[str, Mapping[str, Any]]] = []
    dead = frozenset(tombstoned)
    for cid, etype, values in entities:
        if cid in dead:
            continue
        if etype == "project":
            projects[cid] = ProjectInfo(
                id=cid,
                code=_text(values.get("code")),
                name=_text(values.get("name")),
                calendar=_text(values.get("calendar")),
                external=bool(values.get("external")),
                status_date=_datetime(values.get("status_date")),
            )
        elif etype in ("work_item", "milestone"):
            items.append((cid, etype, values))
        elif etype == "dependency":
            deps.append((cid, values))

    has_children: set[str] = set()
    for _cid, etype, values in items:
        parent = _text(values.get("parent")) if etype == "work_item" else None
        if parent:
            has_children.add(parent)
    cals = calendars or {}

    nodes: dict[str, ItemNode] = {}
    memo: _DayMemo = {}
    for cid, etype, values in items:
        project = _text(values.get("project"))
        pinfo = projects.get(project) if project else None
        cal_id = _text(values.get("calendar")) or (pinfo.calendar if pinfo else None)
        cal = cals.get(cal_id, calendar) if cal_id else calendar
        nodes[cid] = _node(
            cid, etype, values, project, pinfo, cal_id, cal, cid in has_children, memo
        )

    edges: list[LinkEdge] = []
    dangling: list[LinkEdge] = []
    for cid, values in deps:
        pred = _text(values.get("predecessor")) or ""
        succ = _text(values.get("successor")) or ""
        pn, sn = nodes.get(pred), nodes.get(succ)
        cross = bool(
            pn is not None
            and sn is not None
            and pn.project is not None
            and sn.project is not None
            and pn.project != sn.project
        )
        link_type = (_text(values.get("link_type")) or "FS").upper()
        edge = LinkEdge(
            id=cid,
            predecessor=pred,
            successor=succ,
            type=link_type if link_type in ("FS", "SS", "FF", "SF") else "FS",
            lag_minutes=_number(values.get("lag_minutes")) or 0.0,
            lag_percent=_number(values.get("lag_percent")),
            lag_elapsed=bool(values.get("lag_elapsed")),
            dependency_class=_text(values.get("dependency_class")) or "logic",
            origin=_text(values.get("origin")),
            source_link_type=_text(values.get("source_link_type")),
            cross_project=cross,
        )
        (edges if pn is not None and sn is not None else dangling).append(edge)
    return PortfolioGraph(
        nodes=nodes,
        edges=tuple(edges),
        dangling=tuple(dangling),
        projects=projects,
        tombstoned=dead,
    )


def _node(
    cid: str,
    etype: str,
    values: Mapping[str, Any],
    project: str | None,
    pinfo: ProjectInfo | None,
    cal_id: str | None,
    cal: WorkCalendar,
    has_children: bool,
    memo: _DayMemo,
) -> ItemNode:
    status = _text(values.get("status"))
    actual_start = _datetime(values.get("actual_start"))
    actual_finish = _datetime(values.get("actual_finish"))
    kind = _text(values.get("kind"))
    done = status in CLOSED or bool(values.get("done")) or actual_finish is not None
    if etype == "milestone":
        at = _point(values.get("due_at"), values.get("due"), cal, finish=True, memo=memo)
        finish = actual_finish or at
        return ItemNode(
            id=cid,
            entity_type=etype,
            name=_text(values.get("name")),
            key=None,
            project=project,
            parent=None,
            kind="milestone",
            milestone=True,
            key_milestone=True,
            summary=False,
            done=done,
            schedule_mode=_text(values.get("schedule_mode")) or "entered",
            start=finish,
            finish=finish,
            duration_minutes=0.0,
            calendar=cal_id,
            constraint_type=None,
            constraint_date=None,
            deadline=None,
            actual_start=actual_start,
            actual_finish=actual_finish,
            remaining_minutes=None,
            percent_complete=100.0 if done else None,
            status=status,
            external=bool(pinfo and pinfo.external),
            started=actual_start is not None or done,
        )
    milestone = kind == "milestone"
    start = _point(values.get("start_at"), values.get("start"), cal, finish=False, memo=memo)
    finish = _point(values.get("finish_at"), values.get("due"), cal, finish=True, memo=memo)
    if milestone:
        # a milestone is an instant: whichever date the source gave, at the end of that day
        # when it is date-only (MS Project puts milestones at a finish)
        if values.get("finish_at") or values.get("start_at"):
            point = finish or start
        else:
            point = finish or _point(None, values.get("start"), cal, finish=True, memo=memo)
        start = finish = point
    start = actual_start or start
    finish = actual_finish or finish
    duration = _number(values.get("duration_minutes"))
    mode = _text(values.get("schedule_mode"))
    if duration is None:
        if milestone:
            duration = 0.0
        elif start is not None and finish is not None and finish >= start:
            # entered dates: the working time between them is the duration
            duration = cal.work_between(start, finish)
    summary = kind == "summary" or has_children
    return ItemNode(
        id=cid,
        entity_type=etype,
        name=_text(values.get("name")),
        key=_text(values.get("key")),
        project=project,
        parent=_text(values.get("parent")),
        kind=kind,
        milestone=milestone,
        key_milestone=milestone,
        summary=summary,
        done=done,
        schedule_mode=mode,
        start=start,
        finish=finish,
        duration_minutes=duration,
        calendar=cal_id,
        constraint_type=_text(values.get("constraint_type")),
        constraint_date=_datetime(values.get("constraint_date")),
        deadline=_datetime(values.get("deadline")),
        actual_start=actual_start,
        actual_finish=actual_finish,
        remaining_minutes=_number(values.get("remaining_minutes")),
        percent_complete=_number(values.get("percent_complete")),
        status=status,
        external=bool(pinfo and pinfo.external),
        started=actual_start is not None or status in ("active", "done"),
    )


# -- link arithmetic shared by the checks and the what-if --------------------------------------


def calendar_for(
    graph: PortfolioGraph,
    item_id: str,
    default: WorkCalendar,
    calendars: Mapping[str, WorkCalendar] | None,
) -> WorkCalendar:
    """The item's calendar (its own, else its project's), else ``default``."""
    node = graph.nodes.get(item_id)
    if calendars and node is not None and node.calendar:
        return calendars.get(node.calendar, default)
    return default


def lag_minutes_of(edge: LinkEdge, pred: ItemNode) -> float:
    """The link's lag in minutes; a percentage lag is a share of the predecessor's duration."""
    if edge.lag_percent is not None and pred.duration_minutes is not None:
        return edge.lag_percent / 100.0 * pred.duration_minutes
    return edge.lag_minutes


def link_need(
    edge: LinkEdge,
    pred: ItemNode,
    p_start: datetime | None,
    p_finish: datetime | None,
    cal: WorkCalendar,
) -> tuple[str, datetime] | None:
    """What the link asks of its successor: ``("start", t)`` (s must start at or after t) or
    ``("finish", t)`` (s must finish at or after t); None when the predecessor lacks the date.

    FS: finish_p + L; SS: start_p + L; FF: finish_p + L on the finish; SF: start_p + L on the
    finish. These are §B.4's forward formulas with ``− d_s`` moved to the successor's side.
    A working lag is counted on ``cal`` (the successor's calendar), an elapsed one on the clock.
    """
    base = p_finish if edge.type in ("FS", "FF") else p_start
    if base is None:
        return None
    lag = lag_minutes_of(edge, pred)
    if lag == 0:
        at = base
    elif edge.lag_elapsed:
        at = base + timedelta(minutes=lag)
    else:
        at = cal.add_work(base, lag)
    return ("start" if edge.type in ("FS", "SS") else "finish", at)


# -- finding an item by what a person types ----------------------------------------------------


def find_item(graph: PortfolioGraph, query: str) -> ItemNode:
    """An item by canonical id, key (e.g. DEL-12) or name, case-insensitive.

    Raises:
        ConfigError: nothing matches, several items match (the candidates are listed with their
            keys and projects), or the text names a project rather than an item.
    """
    text = query.strip()
    if text in graph.nodes:
        return graph.nodes[text]
    folded = text.casefold()
    if not folded:
        raise ConfigError("name an item: its key (e.g. DEL-12) or its name")
    by_key = [n for n in graph.nodes.values() if n.key and n.key.casefold() == folded]
    if len(by_key) == 1:
        return by_key[0]
    if by_key:
        _ambiguous(graph, query, by_key)
    by_name = _prefer_linked(
        graph, [n for n in graph.nodes.values() if (n.name or "").casefold() == folded]
    )
    if len(by_name) == 1:
        return by_name[0]
    if by_name:
        _ambiguous(graph, query, by_name)
    projects = [
        p
        for p in graph.projects.values()
        if folded in {(p.code or "").casefold(), (p.name or "").casefold()}
    ]
    if projects:
        p = projects[0]
        inside = sorted(
            (n for n in graph.nodes.values() if n.project == p.id and n.key_milestone),
            key=lambda n: (n.finish or datetime.max, graph.label(n.id)),
        )
        hint = (
            "; its milestones: " + ", ".join(graph.label(n.id) for n in inside[:10])
            if inside
            else ""
        )
        raise ConfigError(
            f"{query!r} is a project ({p.name or p.code}), not an item: name one of its tasks, "
            f"milestones or issues by key or name{hint}"
        )
    partial = _prefer_linked(
        graph,
        [
            n
            for n in graph.nodes.values()
            if folded in (n.name or "").casefold() or folded in (n.key or "").casefold()
        ],
    )
    if len(partial) == 1:
        return partial[0]
    if partial:
        _ambiguous(graph, query, partial)
    raise ConfigError(
        f"no item matches {query!r}: give a key (e.g. DEL-12), a canonical id or an item's name "
        "(`pmo-sync report status` lists them)"
    )


def _prefer_linked(graph: PortfolioGraph, found: list[ItemNode]) -> list[ItemNode]:
    """MS Project gives a milestone twice (a Milestone and a milestone WorkItem); when a name
    matches both in one project, the work item (which carries the links) is the one meant."""
    items = {(n.project, (n.name or "").casefold()) for n in found if n.entity_type == "work_item"}
    return [
        n
        for n in found
        if not (n.entity_type == "milestone" and (n.project, (n.name or "").casefold()) in items)
    ]


def _ambiguous(graph: PortfolioGraph, query: str, found: list[ItemNode]) -> None:
    names = sorted(graph.describe(n.id) for n in found)
    shown = names[:20]
    more = f" and {len(names) - 20} more" if len(names) > 20 else ""
    raise ConfigError(
        f"{query!r} matches {len(names)} items: "
        + "; ".join(shown)
        + more
        + ". Give the key instead (or a name with no twin).",
        problems=names,
    )
