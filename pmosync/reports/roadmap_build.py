"""From the stored snapshot to a laid-out roadmap, and the roadmap as plain data (JSON, CSV)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

from pmosync.analysis.roadmap import Roadmap, build_roadmap
from pmosync.reports.common import fmt_date, fmt_slip, rag_key
from pmosync.reports.data import ReportData

# The packing reserves room for a bar's label: at this chart width one character of the
# 11 px label font takes about this many pixels.
CHART_PX = 1100
CHAR_PX = 6.4


def roadmap_from_data(
    data: ReportData, today: date, *, key_event_days: int = 90, chart_px: int = CHART_PX
) -> Roadmap:
    inputs: dict[str, Any] = dict(
        title=f"{data.portfolio}: roadmap",
        today=today,
        projects=data.project_inputs(),
        programmes=data.programme_inputs(),
        events=data.event_inputs(),
        links=data.link_inputs(),
        item_project=data.item_project(),
        item_dates=data.item_dates(),
        findings=data.findings,
        key_event_days=key_event_days,
    )
    first = build_roadmap(**inputs)  # only for the span, to know how wide a character is
    span_days = max(30, (first.end - first.start).days)
    days_per_char = CHAR_PX * span_days / chart_px
    if data.programme_filter:
        inputs["title"] = f"{data.portfolio}: roadmap ({data.programme_filter})"
    roadmap = build_roadmap(**inputs, label_days_per_char=days_per_char)
    return replace(roadmap, title=inputs["title"])


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def roadmap_payload(roadmap: Roadmap, data: ReportData) -> dict[str, Any]:
    """Everything the HTML page draws, as JSON-ready data (values from tools stay text)."""
    projects: list[dict[str, Any]] = []
    lanes: list[dict[str, Any]] = []
    for index, lane in enumerate(roadmap.lanes):
        lanes.append(
            {
                "id": lane.id or "",
                "title": lane.title,
                "rag": rag_key(lane.rag),
                "reasons": lane.reasons or "",
                "rows": lane.rows,
            }
        )
        for bar in lane.bars:
            p = bar.project
            projects.append(
                {
                    "id": p.id,
                    "lane": index,
                    "row": bar.row,
                    "label": p.label,
                    "rag": rag_key(p.rag),
                    "ragEntered": rag_key(p.rag_entered),
                    "ragComputed": rag_key(p.rag_computed),
                    "reasons": p.reasons or "",
                    "status": (p.status or "").replace("_", " "),
                    "tools": list(p.tools),
                    "manager": p.manager or "",
                    "start": _iso(p.start),
                    "finish": _iso(p.finish),
                    "startText": fmt_date(p.start, "—"),
                    "finishText": fmt_date(p.finish, "—"),
                    "basis": p.dates_basis,
                    "baseStart": _iso(p.baseline_start),
                    "baseFinish": _iso(p.baseline_finish),
                    "baseText": (
                        f"{fmt_date(p.baseline_start, '—')} – {fmt_date(p.baseline_finish, '—')}"
                        if p.baseline_start or p.baseline_finish
                        else "no baseline"
                    ),
                    "slip": fmt_slip(bar.slip_days),
                    "percent": p.percent_complete,
                }
            )
        # diamonds are attached to projects by id below
    diamonds = [
        {
            "project": d.project.id if d.project else None,
            "name": d.label,
            "kind": d.event.kind,
            "date": _iso(d.event.date),
            "dateText": fmt_date(d.event.date, "—"),
            "baseline": _iso(d.event.baseline),
            "baselineText": fmt_date(d.event.baseline, "none"),
            "slip": fmt_slip(d.slip_days),
            "slipDays": d.slip_days,
            "done": d.event.done,
            "critical": d.event.critical,
        }
        for lane in roadmap.lanes
        for d in lane.diamonds
    ]
    arrows = [
        {
            "source": a.source,
            "target": a.target,
            "state": a.state,
            "links": len(a.links),
            "from": _iso(a.source_date),
            "to": _iso(a.target_date),
            "messages": list(a.messages[:5]),
        }
        for a in roadmap.arrows
    ]
    key_events = [
        {
            "date": fmt_date(d.event.date),
            "kind": d.event.kind,
            "name": d.label,
            "project": d.project.label if d.project else "",
            "projectId": d.project.id if d.project else "",
            "slip": fmt_slip(d.slip_days),
        }
        for d in roadmap.key_events
    ]
    return {
        "title": roadmap.title,
        "asOf": data.as_of,
        "today": roadmap.today.isoformat(),
        "todayText": fmt_date(roadmap.today),
        "start": roadmap.start.isoformat(),
        "end": roadmap.end.isoformat(),
        "lanes": lanes,
        "projects": projects,
        "diamonds": diamonds,
        "arrows": arrows,
        "keyEvents": key_events,
        "keyEventDays": roadmap.key_event_days,
        "undated": [p.label for p in roadmap.undated],
        "findingsComputed": roadmap.findings_computed,
        "basis": sorted(roadmap.dates_basis),
        "tools": sorted({t for bar in roadmap.bars for t in bar.project.tools}),
    }


CSV_COLUMNS = [
    "Programme",
    "Project code",
    "Project",
    "Kind",
    "Name",
    "Start",
    "Finish",
    "Dates",
    "Baseline start",
    "Baseline finish",
    "Slip (working days)",
    "RAG",
    "Status",
    "Tools",
]


def roadmap_rows(roadmap: Roadmap) -> list[list[Any]]:
    """One row per bar and per diamond, in lane order, dates ISO-8601 (for BI tools)."""
    rows: list[list[Any]] = []
    for lane in roadmap.lanes:
        for bar in lane.bars:
            p = bar.project
            rows.append(
                [
                    lane.title,
                    p.code or "",
                    p.name or "",
                    "project",
                    p.label,
                    _iso(p.start) or "",
                    _iso(p.finish) or "",
                    p.dates_basis,
                    _iso(p.baseline_start) or "",
                    _iso(p.baseline_finish) or "",
                    "" if bar.slip_days is None else bar.slip_days,
                    rag_key(p.rag) or "",
                    p.status or "",
                    ", ".join(p.tools),
                ]
            )
            for d in lane.diamonds:
                if d.project is not p:
                    continue
                rows.append(
                    [
                        lane.title,
                        p.code or "",
                        p.name or "",
                        d.event.kind,
                        d.label,
                        "",
                        _iso(d.event.date) or "",
                        "done" if d.event.done else "forecast",
                        "",
                        _iso(d.event.baseline) or "",
                        "" if d.slip_days is None else d.slip_days,
                        "",
                        "done" if d.event.done else "open",
                        ", ".join(p.tools),
                    ]
                )
    return rows
