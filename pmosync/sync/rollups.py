"""The roll-up part of the analyse stage: facts from the working state (and the schedule
analysis of sync/analyse.py, when it ran), pure roll-ups (analysis/rollup.py), and the
computed fields they give, set on projects, programmes and portfolios.

Tombstoned records (deleted in every tool that held them) take no part.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import TYPE_CHECKING, Any

from pmosync.analysis.rollup import (
    CLOSED,
    LinkFacts,
    MemberFacts,
    MilestoneFacts,
    RaidFacts,
    Rollup,
    RollupRules,
    as_member,
    critical_chain,
    rollup_group,
    slip,
    working_days,
)
from pmosync.canonical_model import (
    EntityType,
    FieldChange,
    PlannedWrite,
    validate_computed,
    validate_fields,
)
from pmosync.connectors.base import Capabilities
from pmosync.sync.state import EntityState, WorkingState

if TYPE_CHECKING:
    from pmosync.sync.analyse import ScheduleAnalysis

# How many blocking items a project's status names before "and N more".
BLOCKING_SHOWN = 3


@dataclass
class RollupReport:
    programmes: list[dict[str, Any]] = field(default_factory=list)
    portfolio: dict[str, Any] | None = None
    changed: int = 0  # entities whose computed roll-up fields changed


def _day(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


def _num(value: Any) -> float | None:
    try:
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _label(values: Mapping[str, Any]) -> str:
    parts = [str(v) for v in (values.get("code"), values.get("name")) if v]
    return " ".join(dict.fromkeys(parts)) or "unnamed"


@dataclass
class Facts:
    """What the roll-ups read, gathered once per run."""

    projects: dict[str, EntityState]
    programmes: dict[str, EntityState]
    portfolios: dict[str, EntityState]
    milestones: list[MilestoneFacts]
    raid: list[RaidFacts]
    links: list[LinkFacts]
    item_project: dict[str, str | None]
    finishes: dict[str, date]
    critical: list[str]


def gather(state: WorkingState, schedule: ScheduleAnalysis | None) -> Facts:
    live = [e for e in state.entities.values() if not e.tombstoned]
    by_type: dict[EntityType, list[EntityState]] = defaultdict(list)
    for e in live:
        by_type[e.entity_type].append(e)
    projects = {e.id: e for e in by_type[EntityType.PROJECT] if not e.values.get("external")}
    milestones: list[MilestoneFacts] = []
    seen: set[tuple[Any, Any, Any]] = set()
    for e in [*by_type[EntityType.MILESTONE], *by_type[EntityType.WORK_ITEM]]:
        v = e.values
        if e.entity_type is EntityType.WORK_ITEM and v.get("kind") != "milestone":
            continue
        key = (v.get("project"), v.get("name"), v.get("due"))
        if not v.get("project") or key in seen:
            continue  # a Project Server milestone is held twice (milestone and work item)
        seen.add(key)
        milestones.append(
            MilestoneFacts(
                project=v["project"],
                name=v.get("name"),
                due=_day(v.get("due")),
                done=bool(v.get("done")) or v.get("status") in CLOSED,
                baseline_due=_day(v.get("baseline_due")),
                forecast=_day(v.get("forecast_finish")),
            )
        )
    raid = [
        RaidFacts(
            e.values.get("project"),
            e.values.get("status"),
            e.values.get("probability"),
            e.values.get("impact"),
        )
        for e in by_type[EntityType.RAID_ITEM]
    ]
    item_project: dict[str, str | None] = {}
    links: list[LinkFacts] = []
    finishes: dict[str, date] = {}
    critical: list[str] = []
    if schedule is not None:
        item_project = {i: n.project for i, n in schedule.graph.nodes.items()}
        found: dict[str, tuple[str, float | None, str]] = {}
        for f in schedule.findings:
            if f.link and f.kind in ("violation", "at_risk"):
                prior = found.get(f.link)
                if prior is None or prior[0] != "violation":
                    found[f.link] = (f.kind, f.shortfall_days, f.message)
        for edge in schedule.graph.edges:
            if edge.dependency_class != "logic":
                continue
            kind, short, message = found.get(edge.id, (None, None, ""))
            links.append(
                LinkFacts(
                    edge.id,
                    item_project.get(edge.predecessor),
                    item_project.get(edge.successor),
                    kind,
                    short,
                    message,
                )
            )
        if schedule.result is not None:
            for item, ts in schedule.result.tasks.items():
                finishes[item] = ts.early_finish.date()
                if ts.critical:
                    critical.append(item)
    else:
        for e in live:
            if e.entity_type in (EntityType.WORK_ITEM, EntityType.MILESTONE):
                item_project[e.id] = e.values.get("project")
        for e in by_type[EntityType.DEPENDENCY]:
            pred, succ = e.values.get("predecessor"), e.values.get("successor")
            if e.values.get("dependency_class", "logic") == "logic" and pred and succ:
                links.append(LinkFacts(e.id, item_project.get(pred), item_project.get(succ)))
    return Facts(
        projects=projects,
        programmes={e.id: e for e in by_type[EntityType.PROGRAMME]},
        portfolios={e.id: e for e in by_type[EntityType.PORTFOLIO]},
        milestones=milestones,
        raid=raid,
        links=links,
        item_project=item_project,
        finishes=finishes,
        critical=sorted(critical),
    )


def project_member(entity: EntityState, rules: RollupRules) -> MemberFacts:
    v = entity.values
    start, finish = _day(v.get("planned_start")), _day(v.get("planned_finish"))
    priority = v.get("priority")
    return MemberFacts(
        id=entity.id,
        label=_label(v),
        status=v.get("status"),
        rag=v.get("rag_computed") or v.get("rag"),
        key=isinstance(priority, int) and priority <= rules.key_priority,
        percent_complete=_num(v.get("percent_complete")),
        duration_days=working_days(start, finish) if start and finish else None,
    )


def _connections(state: WorkingState) -> dict[str, set[str]]:
    out: dict[str, set[str]] = defaultdict(set)
    for link in state.links.values():
        out[link.canonical_id].add(link.connection)
    return out


def project_fields(
    state: WorkingState, facts: Facts, schedule: ScheduleAnalysis | None
) -> dict[str, dict[str, Any]]:
    """Per project: forecast finish, slip against baseline, blocking items elsewhere, critical."""
    by_project: dict[str, list[MilestoneFacts]] = defaultdict(list)
    for m in facts.milestones:
        by_project[m.project].append(m)
    forecast: dict[str, date] = {}
    critical_projects: set[str] = set()
    for item, finish in facts.finishes.items():
        project = facts.item_project.get(item)
        if project and (project not in forecast or finish > forecast[project]):
            forecast[project] = finish
    for item in facts.critical:
        project = facts.item_project.get(item)
        if project:
            critical_projects.add(project)
    blocking: dict[str, list[str]] = defaultdict(list)
    if schedule is not None:
        tools = _connections(state)
        nodes = schedule.graph.nodes
        for edge in schedule.graph.edges:
            pred, succ = nodes.get(edge.predecessor), nodes.get(edge.successor)
            if pred is None or succ is None or pred.done or not succ.project:
                continue
            if pred.project == succ.project:
                continue
            elsewhere = sorted(tools.get(pred.id, set()) - tools.get(succ.project, set()))
            if not elsewhere:
                continue  # the blocker lives in the same tool as the project: seen there
            status = state.entities[pred.id].values.get("status") or "open"
            text = f"{schedule.graph.label(pred.id)} ({status}, {', '.join(elsewhere)})"
            if text not in blocking[succ.project]:
                blocking[succ.project].append(text)
    out: dict[str, dict[str, Any]] = {}
    for pid in facts.projects:
        days, _why = slip(by_project.get(pid, []))
        items = sorted(blocking.get(pid, []))
        shown = "; ".join(items[:BLOCKING_SHOWN])
        if len(items) > BLOCKING_SHOWN:
            shown += f"; and {len(items) - BLOCKING_SHOWN} more"
        values: dict[str, Any] = {
            "forecast_finish": forecast.get(pid),
            "slip_days": None if days is None else f"{days:g}",
            "blocking_items": shown or None,
        }
        if schedule is not None and schedule.result is not None:
            values["critical"] = pid in critical_projects
        out[pid] = validate_computed(EntityType.PROJECT, values)
    return out


def programme_rollups(
    facts: Facts,
    schedule: ScheduleAnalysis | None,
    today: date,
    rules: RollupRules,
) -> tuple[dict[str, Rollup], Rollup]:
    """Each programme's roll-up and the portfolio's (programmes, and projects in none)."""
    members: dict[str, list[str]] = defaultdict(list)
    loose: list[str] = []
    for pid, project in sorted(facts.projects.items()):
        programme = project.values.get("programme")
        if programme in facts.programmes:
            members[programme].append(pid)
        else:
            loose.append(pid)

    def chain_for(projects: frozenset[str]) -> tuple[str, ...]:
        if schedule is None or schedule.result is None:
            return ()
        return critical_chain(
            facts.finishes,
            facts.critical,
            schedule.result.critical_path_to,
            facts.item_project,
            projects,
            schedule.graph.label,
        )

    rollups: dict[str, Rollup] = {}
    for gid, programme in sorted(facts.programmes.items()):
        pids = frozenset(members.get(gid, []))
        rollups[gid] = rollup_group(
            gid,
            _label(programme.values),
            [project_member(facts.projects[p], rules) for p in sorted(pids)],
            projects=pids,
            milestones=facts.milestones,
            links=facts.links,
            raid=facts.raid,
            today=today,
            rules=rules,
            chain=chain_for(pids),
        )
    portfolio_members = [as_member(r) for r in rollups.values()]
    portfolio_members += [project_member(facts.projects[p], rules) for p in loose]
    every = frozenset(facts.projects)
    portfolio = rollup_group(
        "portfolio",
        "portfolio",
        portfolio_members,
        projects=every,
        milestones=facts.milestones,
        links=facts.links,
        raid=facts.raid,
        today=today,
        rules=rules,
        chain=chain_for(every),
        noun="programme" if rollups else "project",
    )
    return rollups, portfolio


def _apply(entity: EntityState, values: Mapping[str, Any]) -> bool:
    if all(entity.values.get(k) == v for k, v in values.items()):
        return False
    entity.values = {**entity.values, **values}
    entity.dirty = True
    return True


def _rollup_dict(r: Rollup) -> dict[str, Any]:
    return {"id": r.id, "label": r.label, **r.fields(), "by_rag": dict(r.by_rag)}


def run_rollups(
    state: WorkingState,
    schedule: ScheduleAnalysis | None,
    today: date,
    rules: RollupRules | None = None,
) -> RollupReport:
    """Set project extras and programme/portfolio roll-ups; returns them for the run report."""
    rules = rules or RollupRules()
    facts = gather(state, schedule)
    report = RollupReport()
    for pid, values in project_fields(state, facts, schedule).items():
        report.changed += _apply(facts.projects[pid], values)
    rollups, portfolio = programme_rollups(facts, schedule, today, rules)
    for gid, rollup in rollups.items():
        values = validate_computed(EntityType.PROGRAMME, rollup.fields())
        report.changed += _apply(facts.programmes[gid], values)
        report.programmes.append(_rollup_dict(rollup))
    for entity in facts.portfolios.values():
        values = validate_computed(EntityType.PORTFOLIO, portfolio.fields())
        report.changed += _apply(entity, values)
    report.portfolio = _rollup_dict(portfolio)
    return report


def rules_from(config: Any) -> RollupRules:
    """The configured thresholds (``portfolio.rollup`` in pmo-sync.yaml), else the defaults."""
    rollup = getattr(config, "rollup", None)
    if rollup is None:
        return RollupRules()
    return RollupRules(**{k: v for k, v in dict(rollup).items() if v is not None})


def live(entities: Iterable[EntityState]) -> list[EntityState]:
    """Entities that still count (not tombstoned)."""
    return [e for e in entities if not e.tombstoned]


# -- status history: one StatusReport per project per run whose status changed ------------

HISTORY_NAMESPACE = uuid.UUID("5f1d0c8e-4b7a-4e0a-9a57-6d2c3b1e8f40")


def history_id(project_id: str, day: date, rag: Any, summary: Any) -> str:
    """Keyed on content: a re-run with the same status finds its row instead of adding one."""
    return str(uuid.uuid5(HISTORY_NAMESPACE, f"{project_id}|{day.isoformat()}|{rag}|{summary}"))


def record_history(state: WorkingState, today: date) -> int:
    """Add a status report for each live project whose computed status differs from its
    latest report; returns how many were added."""
    latest: dict[str, tuple[str, str, Any, Any]] = {}
    for e in state.entities.values():
        if e.entity_type is not EntityType.STATUS_REPORT:
            continue
        v = e.values
        pid = v.get("project")
        if not pid:
            continue
        stamp = (str(v.get("period_end") or ""), str(v.get("created_at") or ""))
        if pid not in latest or stamp > latest[pid][:2]:
            latest[pid] = (*stamp, v.get("rag"), v.get("summary"))
    added = 0
    for project in list(state.entities.values()):
        if project.entity_type is not EntityType.PROJECT or project.tombstoned:
            continue
        rag, summary = project.values.get("rag_computed"), project.values.get("pmo_status")
        if rag is None and summary is None:
            continue
        prior = latest.get(project.id)
        if prior is not None and (prior[2], prior[3]) == (rag, summary):
            continue
        rid = history_id(project.id, today, rag, summary)
        if rid in state.entities:
            continue
        values = validate_fields(
            EntityType.STATUS_REPORT,
            {
                "project": project.id,
                "period_end": today,
                "rag": rag,
                "summary": summary,
                "created_at": datetime.combine(today, time()),
            },
        )
        state.entities[rid] = EntityState(
            rid, EntityType.STATUS_REPORT, values, dirty=True, new=True
        )
        added += 1
    return added


def plan_history(
    state: WorkingState,
    capabilities: Mapping[str, Capabilities],
    create_types: Mapping[str, set[EntityType]],
) -> list[PlannedWrite]:
    """Creates for status reports no tool holds yet, in every connection that keeps a status
    history (status_report mapped with create_missing). Reports held somewhere already are
    plan_creates' business; a report whose project is not in that tool is left out."""
    held = {link.canonical_id for link in state.links.values()}
    held |= {link.canonical_id for link in state.tombstoned.values()}
    external: dict[tuple[str, str], str] = {
        (link.connection, link.canonical_id): link.external_id for link in state.links.values()
    }
    writes: list[PlannedWrite] = []
    for connection, types in sorted(create_types.items()):
        caps = capabilities.get(connection)
        if EntityType.STATUS_REPORT not in types or caps is None:
            continue
        if EntityType.STATUS_REPORT not in caps.can_create:
            continue
        writable = caps.writable.get(EntityType.STATUS_REPORT, frozenset())
        for entity in sorted(state.entities.values(), key=lambda e: e.id):
            if entity.entity_type is not EntityType.STATUS_REPORT or entity.id in held:
                continue
            project = external.get((connection, str(entity.values.get("project"))))
            if project is None:
                continue
            changes = []
            for name in sorted(writable):
                value = project if name == "project" else entity.values.get(name)
                if value is not None:
                    changes.append(FieldChange(name, None, value, "status history"))
            writes.append(
                PlannedWrite(
                    connection=connection,
                    entity_type=EntityType.STATUS_REPORT,
                    canonical_id=entity.id,
                    op="create",
                    changes=changes,
                )
            )
    return writes
