"""The analyse stage's schedule work: one dependency graph across every tool, the portfolio
schedule (CPM across cross-project links), dependency checks, and the computed fields they
give work items and milestones.

The pure analysis lives in ``pmosync.analysis``; this module feeds it the run's working state
and takes its results back: computed fields into entity values (planned as writes like any
other push-only field), per-run rows for the store, and a summary for the run report.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from pmosync.analysis.calendar import (
    WorkCalendar,
    derive_calendar,
    holiday_calendar,
    standard_calendar,
)
from pmosync.analysis.cpm import CpmLink, CpmResult, CpmTask, ScheduleCycleError, compute_schedule
from pmosync.analysis.dependencies import (
    Finding,
    PortfolioGraph,
    build_graph,
    check_dependencies,
    to_cpm,
)
from pmosync.analysis.milestones import consolidate, milestone_views, overdue_by_project
from pmosync.analysis.rag import project_rag
from pmosync.analysis.whatif import SlipResult
from pmosync.canonical_model import EntityType, validate_computed
from pmosync.config.calendar import portfolio_work_calendar
from pmosync.config.loader import LoadedConfig
from pmosync.config.models import PortfolioConfig
from pmosync.errors import ConfigError
from pmosync.sync import models
from pmosync.sync.state import WorkingState

log = logging.getLogger("pmosync.sync")

GRAPH_TYPES = (
    EntityType.WORK_ITEM,
    EntityType.MILESTONE,
    EntityType.DEPENDENCY,
    EntityType.PROJECT,
)
# A cycle is reported, its links are left out and the rest is scheduled; a few rounds cover
# several independent cycles that the scheduler reports one batch at a time.
MAX_CYCLE_ROUNDS = 5
# The run report lists this many findings in text (all of them in --json and the store).
REPORT_FINDINGS = 200


@dataclass
class ScheduleAnalysis:
    """What the analyse stage computed in one run."""

    graph: PortfolioGraph
    calendar: WorkCalendar
    result: CpmResult | None
    findings: list[Finding]
    cross_tool: list[dict[str, Any]] = field(default_factory=list)
    cycle_items: set[str] = field(default_factory=set)  # their links left out of the schedule
    computed_changes: int = 0
    error: str | None = None  # the schedule could not be computed (the run goes on)


# -- calendars ----------------------------------------------------------------------------


def _years(state: WorkingState, today: date) -> range:
    """The years the portfolio's dates span (holidays are loaded for these), with margin."""
    years = {today.year}
    for entity in state.entities.values():
        if entity.entity_type in (EntityType.WORK_ITEM, EntityType.MILESTONE):
            for name in ("start", "due", "start_at", "finish_at", "due_at"):
                value = entity.values.get(name)
                if isinstance(value, str) and len(value) >= 4 and value[:4].isdigit():
                    years.add(int(value[:4]))
    low, high = min(years), max(years)
    # a slipped item can move past the last year the data names
    return range(max(low - 1, 1900), min(high + 3, 9999))


def portfolio_calendar(portfolio: PortfolioConfig | None, years: Iterable[int]) -> WorkCalendar:
    """The calendar of date-only tools (Jira, Airtable) and of projects without their own:
    the configured portfolio week and holidays (``portfolio:`` in the config), else the
    standard week."""
    if portfolio is None:
        return standard_calendar("Portfolio")
    return portfolio_work_calendar(portfolio, years)


def store_calendars(state: WorkingState, years: Iterable[int]) -> dict[str, WorkCalendar]:
    """Calendar entities (MS Project's, Project Server's) as WorkCalendars by canonical id."""
    raw = {e.id: e.values for e in state.entities.values() if e.entity_type is EntityType.CALENDAR}
    out: dict[str, WorkCalendar] = {}
    span = list(years)

    def build(cal_id: str, seen: tuple[str, ...]) -> WorkCalendar:
        if cal_id in out:
            return out[cal_id]
        values = raw[cal_id]
        base_id = values.get("base_calendar")
        base = (
            build(base_id, (*seen, cal_id))
            if base_id in raw and base_id not in seen
            else standard_calendar()
        )
        name = str(values.get("name") or cal_id)
        region = values.get("holiday_region")
        if region:
            base = holiday_calendar(region, span, base=base)
        week = values.get("week") or None
        days = (
            [None if day is None else tuple(tuple(iv) for iv in day) for day in week]
            if week and len(week) == 7
            else None
        )
        out[cal_id] = derive_calendar(
            base,
            name=name,
            week=days,
            exceptions=dict(_exception_days(values.get("exceptions") or [])),
            minutes_per_day=values.get("minutes_per_day"),
            minutes_per_week=values.get("minutes_per_week"),
            days_per_month=values.get("days_per_month"),
        )
        return out[cal_id]

    for cal_id in sorted(raw):
        try:
            build(cal_id, ())
        except (ValueError, TypeError) as exc:
            # a calendar we cannot read: its items use the portfolio calendar, said in the log
            log.warning("calendar %s is unusable (%s); using the portfolio calendar", cal_id, exc)
    return out


def _exception_days(exceptions: list[Any]) -> Iterator[tuple[date, tuple[tuple[int, int], ...]]]:
    for exc in exceptions:
        if not isinstance(exc, Mapping):
            continue
        start, finish = exc.get("start"), exc.get("finish") or exc.get("start")
        if not start:
            continue
        day, last = date.fromisoformat(str(start)), date.fromisoformat(str(finish))
        intervals = tuple(tuple(iv) for iv in exc.get("intervals") or ())
        while day <= last:
            yield day, intervals  # type: ignore[misc]
            day += timedelta(days=1)


# -- the stage ------------------------------------------------------------------------------


def graph_input(state: WorkingState) -> Iterator[tuple[str, str, Mapping[str, Any]]]:
    for entity in state.entities.values():
        # a record deleted in its tool (tombstoned) no longer takes part
        if entity.entity_type in GRAPH_TYPES and not getattr(entity, "tombstoned", False):
            yield entity.id, entity.entity_type.value, entity.values


def build_portfolio(
    state: WorkingState, *, today: date, portfolio: PortfolioConfig | None
) -> tuple[PortfolioGraph, WorkCalendar, dict[str, WorkCalendar]]:
    """The dependency graph of the whole portfolio, its default calendar and the stored ones."""
    years = _years(state, today)
    calendar = portfolio_calendar(portfolio, years)
    calendars = store_calendars(state, years)
    graph = build_graph(graph_input(state), calendar=calendar, calendars=calendars)
    return graph, calendar, calendars


def analyse_schedule(
    state: WorkingState,
    *,
    today: date,
    portfolio: PortfolioConfig | None,
    at_risk_days: float = 5.0,
) -> ScheduleAnalysis:
    """Graph, portfolio schedule and dependency checks for the working state (read-only)."""
    graph, calendar, calendars = build_portfolio(state, today=today, portfolio=portfolio)
    analysis = ScheduleAnalysis(graph=graph, calendar=calendar, result=None, findings=[])
    status_date = datetime.combine(today, time())
    tasks, links = to_cpm(graph, calendar=calendar, calendars=calendars)
    try:
        analysis.result, analysis.cycle_items = schedule_around_cycles(
            tasks, links, calendars=calendars, calendar=calendar, status_date=status_date
        )
    except (ConfigError, ValueError, ArithmeticError) as exc:
        # bad data in one plan must not stop the sync: the checks still run on entered dates
        analysis.error = f"the schedule could not be computed: {exc}"
        log.warning("%s", analysis.error)
    analysis.findings = check_dependencies(
        graph,
        calendar=calendar,
        status_date=status_date,
        at_risk_days=at_risk_days,
        forecast=analysis.result,
    )
    analysis.cross_tool = cross_tool_links(state, graph)
    return analysis


def schedule_around_cycles(
    tasks: list[CpmTask],
    links: list[CpmLink],
    *,
    calendars: Mapping[str, WorkCalendar],
    calendar: WorkCalendar,
    status_date: datetime,
) -> tuple[CpmResult, set[str]]:
    """CPM over every task; links inside a cycle are left out (the checks report the cycle)
    so the rest of the portfolio is still scheduled. Returns the result and the ids of the
    items whose links were dropped."""
    dropped: set[str] = set()
    # A project whose items have no date at all (a backlog) starts at the status date.
    dated = {t.project for t in tasks if t.start or t.actual_start}
    undated = {t.project: status_date for t in tasks if t.project not in dated}
    cycles: list[set[str]] = []  # each round's cycle members: the links among them go
    for _ in range(MAX_CYCLE_ROUNDS):
        try:
            result = compute_schedule(
                tasks,
                links,
                calendars=calendars,
                default_calendar=calendar,
                status_date=status_date,
                project_start=undated,
                left_out=cycles,  # also the leaf pairs of a summary link (cpm's hubs)
            )
            return result, dropped
        except ScheduleCycleError as exc:
            members = {item for cycle in exc.cycles for item in cycle}
            dropped |= members
            cycles.append(members)
    raise ValueError("dependency cycles remain after leaving out every link found in one")


def cross_tool_links(state: WorkingState, graph: PortfolioGraph) -> list[dict[str, Any]]:
    """Dependencies whose two ends live in different tools (no connection holds both)."""
    tools: dict[str, set[str]] = {}
    for link in state.links.values():
        tools.setdefault(link.canonical_id, set()).add(link.connection)
    out = []
    for edge in sorted(graph.edges, key=lambda e: e.id):
        pred, succ = tools.get(edge.predecessor, set()), tools.get(edge.successor, set())
        if not pred or not succ or pred & succ:
            continue
        out.append(
            {
                "dependency": edge.id,
                "predecessor": graph.describe(edge.predecessor),
                "successor": graph.describe(edge.successor),
                "from": sorted(pred),
                "to": sorted(succ),
                "type": edge.type,
                "class": edge.dependency_class,
                "origin": edge.origin,
                "cross_project": edge.cross_project,
            }
        )
    return out


# -- computed fields --------------------------------------------------------------------------


def _finish_date(moment: datetime) -> date:
    """The day a finish falls on; a finish at midnight ends the day before."""
    if moment.time() == time() and moment.date() > date.min:
        return (moment - timedelta(minutes=1)).date()
    return moment.date()


def _days(minutes: float, cal: WorkCalendar) -> Decimal:
    per_day = cal.minutes_per_day or 480
    return Decimal(str(round(minutes / per_day, 2)))


def computed_fields(analysis: ScheduleAnalysis, state: WorkingState) -> dict[str, dict[str, Any]]:
    """Canonical id -> computed field values in their JSON (store) form."""
    if analysis.result is None:
        return {}
    graph, cal = analysis.graph, analysis.calendar
    out: dict[str, dict[str, Any]] = {}
    for item_id, ts in analysis.result.tasks.items():
        node = graph.nodes.get(item_id)
        if node is None:
            continue
        if node.entity_type == EntityType.MILESTONE.value:
            out[item_id] = validate_computed(
                EntityType.MILESTONE,
                {
                    "critical": ts.critical,
                    "total_slack_days": _days(ts.total_slack_minutes, cal),
                    "forecast_finish": _finish_date(ts.early_finish),
                },
            )
            continue
        driver = ts.driving_predecessors[0] if ts.driving_predecessors else None
        out[item_id] = validate_computed(
            EntityType.WORK_ITEM,
            {
                "critical": ts.critical,
                "total_slack_days": _days(ts.total_slack_minutes, cal),
                "free_slack_days": _days(ts.free_slack_minutes, cal),
                "forecast_start": ts.early_start.date(),
                "forecast_finish": _finish_date(ts.early_finish),
                "driving_predecessor": graph.label(driver) if driver else None,
            },
        )
    # A Project Server milestone is one task held twice (a work item the schedule sees and a
    # milestone): the milestone takes its work item's figures.
    for milestone_id, item_id in milestone_twins(state).items():
        if item_id in out and milestone_id not in out:
            values = out[item_id]
            out[milestone_id] = {
                k: values[k] for k in ("critical", "total_slack_days", "forecast_finish")
            }
    return out


def milestone_twins(state: WorkingState) -> dict[str, str]:
    """Milestone id -> work item id, for records one tool gives as both (same external id)."""
    items: dict[tuple[str, str], str] = {}
    milestones: dict[tuple[str, str], str] = {}
    for link in state.links.values():
        key = (link.connection, link.external_id)
        if link.entity_type is EntityType.WORK_ITEM:
            items[key] = link.canonical_id
        elif link.entity_type is EntityType.MILESTONE:
            milestones[key] = link.canonical_id
    return {m: items[k] for k, m in milestones.items() if k in items}


def apply_computed(state: WorkingState, values: Mapping[str, Mapping[str, Any]]) -> int:
    """Set computed fields on entities (only what changed); returns the entities changed."""
    changed = 0
    for item_id, computed in values.items():
        entity = state.entities.get(item_id)
        if entity is None:
            continue
        if any(entity.values.get(k) != v for k, v in computed.items()):
            entity.values = {**entity.values, **computed}
            entity.dirty = True
            changed += 1
    return changed


# -- the run report and the store -------------------------------------------------------------


def finding_dict(finding: Finding, graph: PortfolioGraph) -> dict[str, Any]:
    return {
        "kind": finding.kind,
        "severity": finding.severity,
        "link": finding.link,
        "items": [graph.label(i) for i in finding.items],
        "item_ids": list(finding.items),
        "shortfall_days": finding.shortfall_days,
        "witness": [graph.label(i) for i in finding.witness],
        "message": finding.message,
    }


# The run report lists the worst findings only: every finding is stored per run
# (dependency_findings, which `pmo-sync report dependencies` reads), and at portfolio-L the
# whole list was 14 MB of JSON in every run's report, copied into each quiet run's as well.
REPORT_FINDINGS = 200
_SEVERITY_RANK = {"high": 0, "medium": 1, "low": 2}


def report_section(analysis: ScheduleAnalysis) -> dict[str, Any]:
    """The run report's ``schedule`` section (JSON-ready): counts, and the
    ``REPORT_FINDINGS`` worst findings (most severe first, in the checks' order within)."""
    counts: dict[str, int] = {}
    for finding in analysis.findings:
        counts[finding.kind] = counts.get(finding.kind, 0) + 1
    worst = sorted(analysis.findings, key=lambda f: _SEVERITY_RANK.get(f.severity, 3))
    result = analysis.result
    return {
        "items": len(analysis.graph.nodes),
        "links": len(analysis.graph.edges),
        "scheduled": len(result.tasks) if result else 0,
        "critical": sum(1 for t in result.tasks.values() if t.critical) if result else 0,
        "calendar": analysis.calendar.name,
        "cross_tool_links": len(analysis.cross_tool),
        "cross_project_links": sum(1 for e in analysis.graph.edges if e.cross_project),
        "computed_changes": analysis.computed_changes,
        "error": analysis.error,
        "findings_by_kind": dict(sorted(counts.items())),
        "findings_total": len(analysis.findings),
        "findings": [finding_dict(f, analysis.graph) for f in worst[:REPORT_FINDINGS]],
        "cross_tool": analysis.cross_tool,
    }


# How many runs keep their computed schedule and findings. A cron run every 15 minutes over
# 50,000 items would otherwise add 4.8 million rows a day; reports read the latest run, and a
# few days of history is enough to see when a slip appeared.
KEEP_RUNS = 50


def prune_analysis(session: Session, run_id: int, keep: int = KEEP_RUNS) -> None:
    """Drop per-run analysis rows of all but the ``keep`` newest runs that stored any."""
    for model in (models.ScheduleResult, models.DependencyFinding):
        kept = session.scalars(
            select(model.run_id).distinct().order_by(model.run_id.desc()).limit(keep)
        ).all()
        if len(kept) >= keep:
            session.execute(delete(model).where(model.run_id < min(kept)))


def _storable(text: str) -> str:
    """Messages quote names from the tools; PostgreSQL text cannot hold NUL, which a hostile
    or corrupted record may carry, so it is shown as the replacement character."""
    return text.replace("\x00", "\ufffd")


def analysis_digest(analysis: ScheduleAnalysis) -> str:
    """sha256 of what record_analysis stores: a run whose schedule and findings equal an
    earlier run's points at that run's rows instead of storing them again."""
    digest = hashlib.sha256()
    result = analysis.result
    for item_id, ts in sorted(result.tasks.items()) if result is not None else ():
        digest.update(
            repr(
                (
                    item_id,
                    ts.early_start,
                    ts.early_finish,
                    ts.late_start,
                    ts.late_finish,
                    float(ts.total_slack_minutes),
                    float(ts.free_slack_minutes),
                    ts.critical,
                    ts.driving_predecessors[:1],
                )
            ).encode()
        )
    for f in analysis.findings:
        digest.update(
            repr((f.kind, f.severity, f.link, f.items, f.witness, f.shortfall_days)).encode()
        )
        digest.update(_storable(f.message).encode())
    return digest.hexdigest()


def record_analysis(session: Session, analysis: ScheduleAnalysis, run_id: int) -> None:
    """Per-run rows: the computed schedule and the findings (in the caller's transaction).

    Older runs' rows beyond ``KEEP_RUNS`` are pruned here, so the tables stay bounded.
    """
    result = analysis.result
    if result is not None and result.tasks:
        session.execute(
            insert(models.table_of(models.ScheduleResult)),  # Core executemany: no ORM per row
            [
                {
                    "run_id": run_id,
                    "canonical_id": item_id,
                    "early_start": ts.early_start,
                    "early_finish": ts.early_finish,
                    "late_start": ts.late_start,
                    "late_finish": ts.late_finish,
                    "total_slack_minutes": float(ts.total_slack_minutes),
                    "free_slack_minutes": float(ts.free_slack_minutes),
                    "critical": ts.critical,
                    "driving_predecessor": (
                        ts.driving_predecessors[0] if ts.driving_predecessors else None
                    ),
                }
                for item_id, ts in sorted(result.tasks.items())
            ],
        )
    if analysis.findings:
        session.execute(
            insert(models.table_of(models.DependencyFinding)),
            [
                {
                    "run_id": run_id,
                    "kind": f.kind,
                    "severity": f.severity,
                    "link": f.link,
                    "items": {"ids": list(f.items), "witness": list(f.witness)},
                    "shortfall_days": f.shortfall_days,
                    "message": _storable(f.message),
                }
                for f in analysis.findings
            ],
        )
    prune_analysis(session, run_id)


def run_analysis(
    state: WorkingState, *, today: date, portfolio: PortfolioConfig | None
) -> ScheduleAnalysis:
    """The stage as the engine runs it: analyse, then set the computed fields it gives."""
    analysis = analyse_schedule(state, today=today, portfolio=portfolio)
    analysis.computed_changes = apply_computed(state, computed_fields(analysis, state))
    return analysis


def remote_link_connections(loaded: LoadedConfig) -> list[str]:
    """Connections whose team mapping asks for cross-tool dependencies as remote links."""
    names = set()
    for mapping in loaded.mappings.values():
        dep = mapping.entities.get(EntityType.DEPENDENCY)
        if dep is not None and dep.remote_links:
            names.add(mapping.connection)
    return sorted(names)


# -- what-if --------------------------------------------------------------------------------


def slipped_values(state: WorkingState, result: SlipResult) -> dict[str, dict[str, Any]]:
    """Canonical values of the items a slip moves, with their moved dates (for RAG)."""
    twins = {item: m for m, item in milestone_twins(state).items()}
    out: dict[str, dict[str, Any]] = {}
    for row in result.rows:
        if row.new_finish is None:
            continue
        finish = _finish_date(row.new_finish).isoformat()
        for item_id in (row.item, twins.get(row.item)):
            entity = state.entities.get(item_id or "")
            if entity is None:
                continue
            moved = {**entity.values}
            if entity.entity_type is EntityType.MILESTONE:
                moved["due"] = finish
            else:
                moved["due"] = finish
                if row.new_start is not None:
                    moved["start"] = row.new_start.date().isoformat()
            out[entity.id] = moved
    return out


def _project_rags(
    state: WorkingState, overrides: Mapping[str, Mapping[str, Any]], today: date
) -> dict[str, tuple[str, tuple[str, ...]]]:
    """Computed RAG (and reasons) of every project, items replaced by ``overrides``."""
    live = [e for e in state.entities.values() if not getattr(e, "tombstoned", False)]
    projects = [e for e in live if e.entity_type is EntityType.PROJECT]
    views = milestone_views(
        (e.entity_type.value, dict(overrides.get(e.id, e.values)))
        for e in live
        if e.entity_type in (EntityType.MILESTONE, EntityType.WORK_ITEM)
    )
    overdue = overdue_by_project(views, today)
    computed = consolidate([p.id for p in projects], views, today)
    out = {}
    for project in projects:
        merged = {**project.values, **computed.get(project.id, {})}
        result = project_rag(merged, overdue.get(project.id, []), today)
        out[project.id] = (str(result.rag), tuple(result.reasons))
    return out


def rag_changes(
    state: WorkingState, overrides: Mapping[str, Mapping[str, Any]], today: date
) -> list[dict[str, Any]]:
    """Projects whose computed RAG differs once ``overrides`` (moved items) apply."""
    before = _project_rags(state, {}, today)
    after = _project_rags(state, overrides, today)
    out = []
    for project_id, (rag, _) in sorted(before.items()):
        new, reasons = after[project_id]
        if new != rag:
            values = state.entities[project_id].values
            out.append(
                {
                    "project": str(values.get("code") or values.get("name") or project_id),
                    "project_id": project_id,
                    "before": rag,
                    "after": new,
                    "reasons": list(reasons),
                }
            )
    return out
