"""The report tables (pure, from one snapshot): projects, programmes, milestones, RAID,
dependencies. Spreadsheet, CSV, HTML and slide renderers all take their rows from here, so
a number is the same wherever a director reads it. Dates stay ``date`` values; renderers
format them. Nothing here invents a value: what was not computed is said so.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date
from typing import Any

from pmosync.analysis.roadmap import Roadmap
from pmosync.reports.common import rag_key
from pmosync.reports.data import CLOSED, ReportData, _day

NOT_COMPUTED = "not computed"
_SEVERITY = {"high": 3, "medium": 2, "low": 1}


@dataclass(frozen=True)
class Table:
    title: str
    columns: list[str]
    rows: list[list[Any]]


def project_table(data: ReportData, roadmap: Roadmap) -> Table:
    bars = {b.project.id: b for b in roadmap.bars}
    undated = {p.id: p for p in roadmap.undated}
    rows = []
    for pid in sorted(data.project_ids(), key=lambda i: data.project_label(i).lower()):
        v = data.of("project")[pid]
        bar = bars.get(pid)
        p = bar.project if bar else undated.get(pid)
        rows.append(
            [
                data.programme_label(v.get("programme")),
                v.get("code") or "",
                v.get("name") or "",
                rag_key(v.get("rag_computed")) or "",
                rag_key(v.get("rag")) or "",
                v.get("pmo_status") or v.get("rag_reason") or "",
                str(v.get("status") or "").replace("_", " "),
                p.start if p else None,
                p.finish if p else None,
                p.dates_basis if p else "",
                p.baseline_finish if p else None,
                bar.slip_days if bar and bar.slip_days is not None else _num(v.get("slip_days")),
                v.get("next_milestone") or "",
                _day(v.get("next_milestone_date")),
                v.get("overdue_milestones"),
                ", ".join(data.sources.get(pid, ())),
            ]
        )
    return Table(
        "Projects",
        [
            "Programme",
            "Code",
            "Project",
            "RAG (computed)",
            "RAG (entered)",
            "Why",
            "Status",
            "Start",
            "Finish",
            "Dates are",
            "Baseline finish",
            "Slip (working days)",
            "Next milestone",
            "Due",
            "Overdue milestones",
            "Tools",
        ],
        rows,
    )


def programme_table(data: ReportData) -> Table:
    projects = [data.of("project")[pid] for pid in data.project_ids()]
    by_programme: dict[str | None, list[dict[str, Any]]] = {}
    for v in projects:
        programme = v.get("programme") if v.get("programme") in data.of("programme") else None
        by_programme.setdefault(programme, []).append(v)
    rows = []
    for programme_id, members in sorted(
        by_programme.items(), key=lambda kv: (kv[0] is None, data.programme_label(kv[0]))
    ):
        pv = data.of("programme").get(programme_id or "", {})
        rags = Counter(rag_key(m.get("rag_computed") or m.get("rag")) for m in members)
        overdue = sum(int(m.get("overdue_milestones") or 0) for m in members)
        computed = bool(pv.get("rag_computed") or pv.get("pmo_status"))

        def rolled(name: str, pv: dict[str, Any] = pv, computed: bool = computed) -> Any:
            value = pv.get(name)
            return value if value is not None else ("" if computed else NOT_COMPUTED)

        rows.append(
            [
                data.programme_label(programme_id),
                (rag_key(pv.get("rag_computed") or pv.get("rag")) or NOT_COMPUTED)
                if programme_id
                else "",
                pv.get("pmo_status") or pv.get("rag_reason") or "",
                len(members),
                rags.get("R", 0),
                rags.get("A", 0),
                rags.get("G", 0),
                overdue,
                _num(rolled("slip_days")) if programme_id else "",
                _num(rolled("percent_complete_computed")) if programme_id else "",
                rolled("dependency_health") if programme_id else "",
                rolled("raid_summary") if programme_id else "",
                rolled("critical_chain") if programme_id else "",
            ]
        )
    return Table(
        "Programmes",
        [
            "Programme",
            "RAG",
            "Why",
            "Projects",
            "Red",
            "Amber",
            "Green",
            "Overdue milestones",
            "Slip (working days)",
            "% complete (by duration)",
            "Dependency health",
            "RAID",
            "Critical chain",
        ],
        rows,
    )


def _num(value: Any) -> Any:
    """A stored decimal as a number for spreadsheets; text (e.g. "not computed") as is."""
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    return value


def milestone_table(data: ReportData, roadmap: Roadmap, today: date) -> Table:
    rows = []
    for lane in roadmap.lanes:
        for d in lane.diamonds:
            e = d.event
            if e.done:
                state = "done"
            elif e.date and e.date < today:
                state = "overdue"
            else:
                state = "open"
            rows.append(
                [
                    lane.title,
                    d.project.label if d.project else "",
                    d.label,
                    e.kind,
                    e.baseline,
                    e.date,
                    d.slip_days,
                    state,
                    {True: "yes", False: "no", None: NOT_COMPUTED}[e.critical],
                ]
            )
    rows.sort(key=lambda r: (r[5] or date.max, r[1], r[2]))
    return Table(
        "Milestones",
        [
            "Programme",
            "Project",
            "Milestone",
            "Kind",
            "Baseline",
            "Forecast",
            "Slip (working days)",
            "State",
            "Critical",
        ],
        rows,
    )


def raid_table(data: ReportData) -> Table:
    scope = data.project_ids()
    rows: list[list[Any]] = []
    for _rid, v in data.of("raid_item").items():
        if v.get("project") and v["project"] not in scope:
            continue
        p, i = v.get("probability"), v.get("impact")
        rows.append(
            [
                str(v.get("kind") or "").capitalize(),
                v.get("name") or "",
                data.project_label(v.get("project")) if v.get("project") else "",
                data.person(v.get("owner")) or "",
                str(v.get("status") or "").replace("_", " "),
                p,
                i,
                p * i if isinstance(p, int) and isinstance(i, int) else None,
                _day(v.get("due")),
                v.get("mitigation") or "",
            ]
        )
    # open first, then by exposure, then by due date
    rows.sort(key=lambda r: (r[4] in ("done", "cancelled"), -(r[7] or 0), r[8] or date.max))
    return Table(
        "RAID log",
        [
            "Kind",
            "Title",
            "Project",
            "Owner",
            "Status",
            "Probability",
            "Impact",
            "Score",
            "Due",
            "Mitigation",
        ],
        rows,
    )


def dependency_table(data: ReportData) -> Table:
    item_project = data.item_project()
    by_link: dict[str, list[Any]] = {}
    for f in data.findings or ():
        if f.link:
            by_link.setdefault(f.link, []).append(f)
    rows: list[list[Any]] = []
    dates = data.item_dates()
    for did, v in data.of("dependency").items():
        pred, succ = v.get("predecessor"), v.get("successor")
        sp, tp = item_project.get(pred or ""), item_project.get(succ or "")
        if sp not in data.project_ids() and tp not in data.project_ids():
            continue
        found = sorted(by_link.get(did, []), key=lambda f: -_SEVERITY.get(f.severity, 0))
        if data.findings is None:
            finding, severity, message, short = NOT_COMPUTED, "", "", None
        elif found:
            worst = found[0]
            finding = worst.kind.replace("_", " ")
            severity, message, short = worst.severity, worst.message, worst.shortfall_days
        else:
            finding, severity, message, short = "fine", "", "", None
        rows.append(
            [
                data.item_label(pred) if pred else "(missing)",
                data.project_label(sp),
                (dates.get(pred or "", (None, None))[1]),
                data.item_label(succ) if succ else "(missing)",
                data.project_label(tp),
                (dates.get(succ or "", (None, None))[0]),
                v.get("link_type") or "FS",
                "yes" if sp and tp and sp != tp else "no",
                v.get("dependency_class") or "logic",
                finding,
                severity,
                short,
                message,
            ]
        )
    rows.sort(key=lambda r: (-_SEVERITY.get(r[10], 0), r[7] != "yes", r[1], r[0]))
    return Table(
        "Dependencies",
        [
            "Predecessor",
            "Predecessor project",
            "Predecessor finish",
            "Successor",
            "Successor project",
            "Successor start",
            "Type",
            "Cross-project",
            "Class",
            "Finding",
            "Severity",
            "Shortfall (days)",
            "Details",
        ],
        rows,
    )


def portfolio_summary(data: ReportData, roadmap: Roadmap, today: date) -> list[tuple[str, Any]]:
    """Headline figures for the summary sheet and the portfolio slide."""
    projects = [data.of("project")[pid] for pid in data.project_ids()]
    rags = Counter(rag_key(v.get("rag_computed") or v.get("rag")) for v in projects)
    open_risks = [
        v
        for v in data.of("raid_item").values()
        if v.get("kind") == "risk"
        and v.get("status") not in CLOSED
        and (not v.get("project") or v["project"] in data.project_ids())
    ]
    high = sum(1 for v in open_risks if (v.get("probability") or 0) * (v.get("impact") or 0) >= 15)
    slips = [b.slip_days for b in roadmap.bars if b.slip_days is not None]
    if data.findings is None:
        violated: Any = NOT_COMPUTED
        at_risk: Any = NOT_COMPUTED
    else:
        # links, not findings: one link can carry several findings
        violated = len({f.link or f.message for f in data.findings if f.kind == "violation"})
        at_risk = len({f.link or f.message for f in data.findings if f.kind == "at_risk"})
    upcoming = len(roadmap.key_events)
    portfolio = data.portfolio_values()
    portfolio_rag = rag_key(portfolio.get("rag_computed"))
    return [
        (
            "Portfolio RAG",
            {"R": "Red", "A": "Amber", "G": "Green"}.get(portfolio_rag or "", NOT_COMPUTED),
        ),
        ("Projects", len(projects)),
        ("Red", rags.get("R", 0)),
        ("Amber", rags.get("A", 0)),
        ("Green", rags.get("G", 0)),
        ("No RAG", rags.get(None, 0)),
        ("Overdue milestones", sum(int(v.get("overdue_milestones") or 0) for v in projects)),
        (f"Key events in the next {roadmap.key_event_days} days", upcoming),
        ("Open risks", len(open_risks)),
        ("Open risks scored 15 or more", high),
        ("Dependencies violated (links)", violated),
        ("Dependencies at risk (links)", at_risk),
        (
            "Worst project slip (working days)",
            max(slips) if slips else "no baselines",
        ),
        ("Records tombstoned (no longer counted)", data.tombstoned),
    ]
