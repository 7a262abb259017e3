"""The cross-project dependency picture, laid out on a time axis.

Nodes are the items at either end of a cross-project logic link (and, when the CPM ran, the
links of the critical chain between them); each sits in its project's band at its finish
date, so a link that runs backwards in time is visibly wrong even before any check ran.
Edges carry the worst finding on their link; "unchecked" when no check ran for the run.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from pmosync.analysis.roadmap import FindingInput, pack_rows
from pmosync.reports.common import fmt_date
from pmosync.reports.data import ReportData

EdgeState = Literal["violated", "at_risk", "critical", "ok", "unchecked"]
_RANK = {"high": 3, "medium": 2, "low": 1}


@dataclass(frozen=True)
class DepNode:
    id: str
    label: str
    project: str
    project_label: str
    day: date | None  # finish (where links leave)
    start: date | None  # where links arrive; the item is drawn as a bar start → finish
    critical: bool
    band: int
    row: int


@dataclass(frozen=True)
class DepEdge:
    id: str
    source: str
    target: str
    state: EdgeState
    cross_project: bool
    shortfall_days: float | None
    messages: tuple[str, ...]


@dataclass(frozen=True)
class DepPicture:
    title: str
    as_of: str
    today: date
    start: date
    end: date
    bands: tuple[tuple[str, int], ...]  # project label, rows
    nodes: tuple[DepNode, ...]
    edges: tuple[DepEdge, ...]
    findings: tuple[FindingInput, ...] | None
    critical_computed: bool

    @property
    def checked(self) -> bool:
        return self.findings is not None


def build_dependency_picture(data: ReportData, today: date, *, width_px: int = 1150) -> DepPicture:
    item_project = data.item_project()
    scope = data.project_ids()
    dates = data.item_dates()
    critical = {item_id for item_id, row in (data.schedule or {}).items() if row.critical}
    by_link: dict[str, list[FindingInput]] = {}
    for finding in data.findings or ():
        if finding.link:
            by_link.setdefault(finding.link, []).append(finding)

    chosen = []
    for link in data.link_inputs():
        sp, tp = item_project.get(link.predecessor), item_project.get(link.successor)
        if not sp or not tp or (sp not in scope and tp not in scope):
            continue
        cross = sp != tp
        on_chain = link.predecessor in critical and link.successor in critical
        if cross or on_chain or link.id in by_link:
            chosen.append((link, cross))

    node_ids = sorted({i for link, _ in chosen for i in (link.predecessor, link.successor)})
    projects = sorted(
        {item_project[i] for i in node_ids}, key=lambda pid: data.project_label(pid).lower()
    )
    band_of = {pid: n for n, pid in enumerate(projects)}

    def node_day(item_id: str) -> date | None:
        start, finish = dates.get(item_id, (None, None))
        return finish or start

    known = [d for d in (node_day(i) for i in node_ids) if d] + [today]
    span_days = max(30, (max(known) - min(known)).days + 60)
    days_per_char = span_days * 6.2 / width_px  # 11 px labels on the SVG's time axis
    nodes: list[DepNode] = []
    bands = []
    for pid in projects:
        members = sorted(
            (i for i in node_ids if item_project[i] == pid),
            key=lambda i: (node_day(i) or today, data.item_label(i)),
        )
        spans = []
        for i in members:
            start = dates.get(i, (None, None))[0] or node_day(i) or today
            d = node_day(i) or start
            width = timedelta(days=int(len(data.item_label(i)[:34]) * days_per_char))
            spans.append((start, max(d, start + width)))
        rows = pack_rows(spans, gap_days=2)
        for i, row in zip(members, rows, strict=True):
            nodes.append(
                DepNode(
                    id=i,
                    label=data.item_label(i),
                    project=pid,
                    project_label=data.project_label(pid),
                    day=node_day(i),
                    start=dates.get(i, (None, None))[0] or node_day(i),
                    critical=i in critical,
                    band=band_of[pid],
                    row=row,
                )
            )
        bands.append((data.project_label(pid), max(rows) + 1 if rows else 1))

    edges = []
    for link, cross in chosen:
        found = by_link.get(link.id, [])
        worst = max((_RANK.get(f.severity, 0) for f in found), default=0)
        state: EdgeState
        if worst >= 3:
            state = "violated"
        elif worst == 2:
            state = "at_risk"
        elif link.predecessor in critical and link.successor in critical:
            state = "critical"
        elif data.findings is None:
            state = "unchecked"
        else:
            state = "ok"
        shortfalls = [f.shortfall_days for f in found if f.shortfall_days]
        edges.append(
            DepEdge(
                id=link.id,
                source=link.predecessor,
                target=link.successor,
                state=state,
                cross_project=cross,
                shortfall_days=max(shortfalls) if shortfalls else None,
                messages=tuple(f.message for f in found),
            )
        )
    days = [d for n in nodes for d in (n.start, n.day) if d] + [today]
    start = (min(days) - timedelta(days=20)).replace(day=1)
    last = max(days) + timedelta(days=20)
    end = (last.replace(day=28) + timedelta(days=4)).replace(day=1)
    return DepPicture(
        title=f"{data.portfolio}: cross-project dependencies",
        as_of=f"{data.as_of} · status date {fmt_date(today)}",
        today=today,
        start=start,
        end=end,
        bands=tuple(bands),
        nodes=tuple(nodes),
        edges=tuple(edges),
        findings=tuple(data.findings) if data.findings is not None else None,
        critical_computed=data.schedule is not None,
    )
