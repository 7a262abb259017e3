"""The roadmap model (pure): portfolio → programme → project swimlanes, bars, diamonds, arrows.

This is "a running calendar of future projects or key events" (reference §B.9):

* each project is a bar from its forecast start to its forecast finish (or its planned dates,
  said so, when no forecast was computed), with its baseline as a ghost bar and its RAG as colour;
* milestones and releases are diamonds at their forecast date, with a hollow diamond at the
  baseline and the slip between them in working days (Monday to Friday);
* within a programme lane, bars share rows where they do not overlap (greedy interval
  colouring: sort by start, reuse the first free row), so a lane is as short as it can be;
* arrows between projects come from the task graph *contracted* to projects: A → B when any
  logic link runs from an item of A to an item of B; the arrow takes the worst finding of the
  links underneath, or "unchecked" when no dependency check ran (never a made-up "fine");
* a key-events lane lists milestones, releases and gates in date order for the next N days.

Renderers (pmosync/reports/) only draw what this module decides; nothing here touches the
store, a file or the network.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Literal

import numpy as np

DatesBasis = Literal["forecast", "planned", "actual"]
ArrowState = Literal["violated", "at_risk", "ok", "unchecked"]
EventKind = Literal["milestone", "release", "gate"]

NO_PROGRAMME = "No programme"
_SEVERITY_RANK = {"high": 3, "medium": 2, "low": 1}


@dataclass(frozen=True)
class ProjectInput:
    id: str
    code: str | None
    name: str | None
    programme: str | None = None  # programme id
    rag: str | None = None  # G/A/R shown (computed when there is one, else entered)
    rag_entered: str | None = None
    rag_computed: str | None = None
    reasons: str | None = None
    status: str | None = None
    tools: tuple[str, ...] = ()
    start: date | None = None
    finish: date | None = None
    dates_basis: DatesBasis = "planned"
    baseline_start: date | None = None
    baseline_finish: date | None = None
    percent_complete: float | None = None
    manager: str | None = None

    @property
    def label(self) -> str:
        if self.code and self.name:
            return f"{self.code} · {self.name}"
        return self.name or self.code or "(unnamed project)"


@dataclass(frozen=True)
class ProgrammeInput:
    id: str
    name: str | None
    code: str | None = None
    rag: str | None = None  # from the programme roll-up; None when roll-ups were not computed
    reasons: str | None = None

    @property
    def label(self) -> str:
        return self.name or self.code or "(unnamed programme)"


@dataclass(frozen=True)
class EventInput:
    id: str
    project: str | None
    name: str | None
    kind: EventKind = "milestone"
    date: dt.date | None = None  # forecast (or current) date
    baseline: dt.date | None = None
    done: bool = False
    critical: bool | None = None


@dataclass(frozen=True)
class LinkInput:
    """One logic link of the task graph (item ids, as in the store)."""

    id: str
    predecessor: str
    successor: str


@dataclass(frozen=True)
class FindingInput:
    kind: str
    severity: str
    link: str | None
    message: str
    shortfall_days: float | None = None


@dataclass(frozen=True)
class Bar:
    project: ProjectInput
    row: int
    slip_days: int | None  # forecast finish − baseline finish, working days


@dataclass(frozen=True)
class Diamond:
    event: EventInput
    project: ProjectInput | None
    row: int
    slip_days: int | None  # forecast − baseline, working days

    @property
    def label(self) -> str:
        return self.event.name or "(unnamed)"


@dataclass(frozen=True)
class Lane:
    id: str | None  # programme id; None for projects without a programme
    title: str
    rag: str | None
    reasons: str | None
    rows: int
    bars: tuple[Bar, ...]
    diamonds: tuple[Diamond, ...]


@dataclass(frozen=True)
class Arrow:
    source: str  # project id
    target: str
    links: tuple[str, ...]
    state: ArrowState
    messages: tuple[str, ...] = ()
    # the hand-off: latest finish of the predecessor items, earliest start of the successors
    # (None when the items have no dates; renderers then use the bars' ends)
    source_date: date | None = None
    target_date: date | None = None


@dataclass(frozen=True)
class Roadmap:
    title: str
    today: date
    start: date
    end: date
    lanes: tuple[Lane, ...]
    arrows: tuple[Arrow, ...]
    key_events: tuple[Diamond, ...]
    key_event_days: int
    undated: tuple[ProjectInput, ...]  # projects with no dates at all: listed, never drawn
    findings_computed: bool
    dates_basis: frozenset[str] = field(default_factory=frozenset)

    @property
    def bars(self) -> list[Bar]:
        return [bar for lane in self.lanes for bar in lane.bars]

    def bar_for(self, project_id: str) -> Bar | None:
        return next((b for b in self.bars if b.project.id == project_id), None)


def working_days_between(a: date, b: date) -> int:
    """Signed Monday-to-Friday days from a to b (b later → positive)."""
    return int(np.busday_count(a, b)) if b >= a else -int(np.busday_count(b, a))


def pack_rows(intervals: Sequence[tuple[date, date]], gap_days: int = 0) -> list[int]:
    """Row index per interval: greedy interval colouring (sort by start, first free row).

    Two intervals share a row only when one ends ``gap_days`` before the other starts, so
    labels drawn after a bar have room. Returns rows in the input order.
    """
    order = sorted(range(len(intervals)), key=lambda i: (intervals[i][0], intervals[i][1]))
    row_end: list[date] = []
    rows = [0] * len(intervals)
    for i in order:
        start, end = intervals[i]
        for r, busy_until in enumerate(row_end):
            if busy_until + timedelta(days=gap_days) < start:
                rows[i] = r
                row_end[r] = end
                break
        else:
            rows[i] = len(row_end)
            row_end.append(end)
    return rows


def contract_links(
    links: Iterable[LinkInput],
    item_project: Mapping[str, str],
    findings: Sequence[FindingInput] | None,
    item_dates: Mapping[str, tuple[date | None, date | None]] | None = None,
) -> list[Arrow]:
    """Project → project arrows from item links, each with the worst finding underneath.

    ``findings`` None means no dependency check ran for this data: arrows are "unchecked".
    Links inside one project and links to items of unknown projects are not arrows.
    """
    by_link: dict[str, list[FindingInput]] = defaultdict(list)
    for finding in findings or ():
        if finding.link:
            by_link[finding.link].append(finding)
    grouped: dict[tuple[str, str], list[str]] = defaultdict(list)
    hand_off: dict[tuple[str, str], tuple[list[date], list[date]]] = defaultdict(lambda: ([], []))
    dates = item_dates or {}
    for link in links:
        source = item_project.get(link.predecessor)
        target = item_project.get(link.successor)
        if source and target and source != target:
            grouped[(source, target)].append(link.id)
            p_start, p_finish = dates.get(link.predecessor, (None, None))
            s_start, s_finish = dates.get(link.successor, (None, None))
            if p_finish or p_start:
                hand_off[(source, target)][0].append(p_finish or p_start)  # type: ignore[arg-type]
            if s_start or s_finish:
                hand_off[(source, target)][1].append(s_start or s_finish)  # type: ignore[arg-type]
    arrows = []
    for (source, target), link_ids in sorted(grouped.items()):
        state: ArrowState
        messages: list[str] = []
        if findings is None:
            state = "unchecked"
        else:
            worst = 0
            for link_id in link_ids:
                for finding in by_link.get(link_id, ()):
                    rank = _SEVERITY_RANK.get(finding.severity, 0)
                    worst = max(worst, rank)
                    if rank >= 2:
                        messages.append(finding.message)
            state = "violated" if worst >= 3 else "at_risk" if worst == 2 else "ok"
        finishes, starts = hand_off.get((source, target), ([], []))
        arrows.append(
            Arrow(
                source,
                target,
                tuple(sorted(link_ids)),
                state,
                tuple(messages),
                max(finishes) if finishes else None,
                min(starts) if starts else None,
            )
        )
    return arrows


def _extent(project: ProjectInput, events: Sequence[EventInput]) -> tuple[date, date] | None:
    days = [
        d
        for d in (project.start, project.finish, project.baseline_start, project.baseline_finish)
        if d
    ]
    days += [d for e in events for d in (e.date, e.baseline) if d]
    return (min(days), max(days)) if days else None


def _reaching_its_milestones(project: ProjectInput, events: Sequence[EventInput]) -> ProjectInput:
    """A project cannot finish before its own open milestones: when a tool still holds one
    after the project's finish, the bar (and its slip) runs to that milestone."""
    open_dates = [e.date for e in events if e.date and not e.done]
    if not open_dates or project.finish is None or max(open_dates) <= project.finish:
        return project
    return replace(project, finish=max(open_dates))


def _slip(current: date | None, baseline: date | None) -> int | None:
    return working_days_between(baseline, current) if current and baseline else None


def build_roadmap(
    *,
    title: str,
    today: date,
    projects: Sequence[ProjectInput],
    programmes: Sequence[ProgrammeInput] = (),
    events: Sequence[EventInput] = (),
    links: Iterable[LinkInput] = (),
    item_project: Mapping[str, str] | None = None,
    item_dates: Mapping[str, tuple[date | None, date | None]] | None = None,
    findings: Sequence[FindingInput] | None = None,
    key_event_days: int = 90,
    label_days_per_char: float = 0.0,
) -> Roadmap:
    """Lay the portfolio out as lanes of packed bars, diamonds and arrows.

    ``label_days_per_char`` lets a renderer reserve room for a bar's label on its row (the
    renderer knows how many days one character takes at its width); 0 packs on dates only.
    """
    events_by_project: dict[str | None, list[EventInput]] = defaultdict(list)
    for event in events:
        events_by_project[event.project].append(event)
    known_programmes = {p.id: p for p in programmes}
    lanes_projects: dict[str | None, list[ProjectInput]] = defaultdict(list)
    undated: list[ProjectInput] = []
    extents: dict[str, tuple[date, date]] = {}
    for project in projects:
        project = _reaching_its_milestones(project, events_by_project.get(project.id, ()))
        extent = _extent(project, events_by_project.get(project.id, ()))
        if extent is None:
            undated.append(project)
            continue
        extents[project.id] = extent
        programme = project.programme if project.programme in known_programmes else None
        lanes_projects[programme].append(project)

    lanes = []
    order = sorted(
        lanes_projects,
        key=lambda pid: (pid is None, (known_programmes[pid].label if pid else "").lower()),
    )
    for programme_id in order:
        members = sorted(
            lanes_projects[programme_id], key=lambda p: (extents[p.id][0], p.label.lower())
        )
        intervals = []
        for p in members:
            start, end = extents[p.id]
            label_end = (p.start or start) + timedelta(days=len(p.label) * label_days_per_char)
            intervals.append((start, max(end, label_end)))
        rows = pack_rows(intervals, gap_days=max(1, int(label_days_per_char * 2)))
        bars = []
        diamonds = []
        for p, row in zip(members, rows, strict=True):
            bars.append(Bar(p, row, _slip(p.finish, p.baseline_finish)))
            for event in sorted(events_by_project.get(p.id, ()), key=lambda e: e.date or date.max):
                if event.date or event.baseline:
                    diamonds.append(Diamond(event, p, row, _slip(event.date, event.baseline)))
        lane_programme = known_programmes.get(programme_id) if programme_id else None
        lanes.append(
            Lane(
                id=programme_id,
                title=lane_programme.label if lane_programme else NO_PROGRAMME,
                rag=lane_programme.rag if lane_programme else None,
                reasons=lane_programme.reasons if lane_programme else None,
                rows=max(rows) + 1 if rows else 0,
                bars=tuple(bars),
                diamonds=tuple(diamonds),
            )
        )

    all_days = [d for e in extents.values() for d in e] + [today]
    start = min(all_days).replace(day=1)
    last = max(all_days)
    end = (last.replace(day=28) + timedelta(days=4)).replace(day=1)  # first of next month

    drawn = {p.id for lane in lanes for p in (b.project for b in lane.bars)}
    arrows = [
        a
        for a in contract_links(links, item_project or {}, findings, item_dates)
        if a.source in drawn and a.target in drawn
    ]
    horizon = today + timedelta(days=key_event_days)
    upcoming = sorted(
        (
            d
            for lane in lanes
            for d in lane.diamonds
            if not d.event.done and d.event.date and today <= d.event.date <= horizon
        ),
        key=lambda d: (d.event.date or date.max, d.label.lower()),
    )
    return Roadmap(
        title=title,
        today=today,
        start=start,
        end=end,
        lanes=tuple(lanes),
        arrows=tuple(arrows),
        key_events=tuple(upcoming),
        key_event_days=key_event_days,
        undated=tuple(sorted(undated, key=lambda p: p.label.lower())),
        findings_computed=findings is not None,
        dates_basis=frozenset(b.project.dates_basis for lane in lanes for b in lane.bars),
    )
