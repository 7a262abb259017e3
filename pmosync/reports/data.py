"""What every report reads: the store as of the last successful run, never the tools.

One load, one snapshot: canonical entities (tombstoned records left out), which connections
hold each one, and — when the analyse stage stored them for that run — the CPM results and
the dependency findings. Anything not computed stays ``None`` so renderers can say "not
computed" instead of drawing a made-up value.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import inspect, select

from pmosync.analysis.roadmap import (
    EventInput,
    FindingInput,
    LinkInput,
    ProgrammeInput,
    ProjectInput,
)
from pmosync.errors import ConfigError
from pmosync.sync import models
from pmosync.sync.store import Store

FINISHED_OK = ("ok", "partial")
CLOSED = {"done", "cancelled"}


@dataclass(frozen=True)
class ScheduleRow:
    early_start: datetime | None
    early_finish: datetime | None
    total_slack_minutes: float | None
    critical: bool | None


@dataclass
class ReportData:
    portfolio: str
    run_id: int
    run_finished: datetime | None
    run_status: str
    entities: dict[str, dict[str, dict[str, Any]]]  # entity type -> id -> canonical values
    sources: dict[str, tuple[str, ...]]  # canonical id -> connections holding it
    schedule: dict[str, ScheduleRow] | None = None  # None: no CPM results stored for the run
    findings: list[FindingInput] | None = None  # None: dependency checks not stored for the run
    tombstoned: int = 0
    programme_filter: str | None = None
    # the run's portfolio roll-up (sync/rollups.py), for stores where no tool holds a portfolio
    portfolio_rollup: dict[str, Any] = field(default_factory=dict)
    _filtered_projects: set[str] | None = field(default=None, repr=False)

    # -- plain lookups -----------------------------------------------------------------------
    def of(self, entity_type: str) -> dict[str, dict[str, Any]]:
        return self.entities.get(entity_type, {})

    @property
    def as_of(self) -> str:
        when = self.run_finished.strftime("%d %b %Y %H:%M UTC") if self.run_finished else "?"
        return f"data as of run {self.run_id} ({self.run_status}) at {when}"

    def person(self, person_id: str | None) -> str | None:
        if not person_id:
            return None
        values = self.of("person").get(person_id, {})
        return values.get("name") or values.get("email")

    def project_label(self, project_id: str | None) -> str:
        values = self.of("project").get(project_id or "", {})
        code, name = values.get("code"), values.get("name")
        return f"{code} · {name}" if code and name else name or code or "(no project)"

    def programme_label(self, programme_id: str | None) -> str:
        values = self.of("programme").get(programme_id or "", {})
        return values.get("name") or values.get("code") or "No programme"

    def item_label(self, item_id: str) -> str:
        for kind in ("work_item", "milestone"):
            values = self.of(kind).get(item_id)
            if values is not None:
                key, name = values.get("key"), values.get("name")
                return f"{key} {name}" if key and name else key or name or "(unnamed item)"
        return "(unknown item)"

    def item_project(self) -> dict[str, str]:
        mapping = {}
        for kind in ("work_item", "milestone"):
            for item_id, values in self.of(kind).items():
                if values.get("project"):
                    mapping[item_id] = values["project"]
        return mapping

    def item_dates(self) -> dict[str, tuple[date | None, date | None]]:
        """(start, finish) of each work item and milestone: the CPM forecast when stored,
        else the computed forecast fields, else the dates as entered."""
        out: dict[str, tuple[date | None, date | None]] = {}
        for item_id, v in self.of("work_item").items():
            row = self.schedule.get(item_id) if self.schedule else None
            if row:
                out[item_id] = (_day(row.early_start), _day(row.early_finish))
                continue
            start = _day(v.get("forecast_start")) or _day(v.get("start_at")) or _day(v.get("start"))
            finish = (
                _day(v.get("forecast_finish")) or _day(v.get("finish_at")) or _day(v.get("due"))
            )
            out[item_id] = (start, finish)
        for mid, v in self.of("milestone").items():
            due = _day(v.get("forecast_finish")) or _day(v.get("due")) or _day(v.get("due_at"))
            out[mid] = (due, due)
        return out

    def programmes_in_scope(self) -> set[str]:
        return {
            str(self.of("project")[pid].get("programme"))
            for pid in self.project_ids()
            if self.of("project")[pid].get("programme")
        }

    def portfolio_values(self) -> dict[str, Any]:
        """The portfolio roll-up (computed fields): the portfolio record when one tool holds
        it, else the roll-up the run computed over every programme (its run report). A
        --programme filter has no portfolio figure."""
        if self.programme_filter:
            return {}
        portfolios = list(self.of("portfolio").values())
        if len(portfolios) == 1:
            return portfolios[0]
        return self.portfolio_rollup

    def project_ids(self) -> set[str]:
        """Projects in scope (all, or those of the --programme filter)."""
        if self._filtered_projects is None:
            wanted = self.programme_filter
            # an external project is a stub standing for another plan (files import)
            ids = {pid for pid, v in self.of("project").items() if not v.get("external")}
            if wanted:
                programmes = {
                    pid
                    for pid, v in self.of("programme").items()
                    if wanted.lower()
                    in {str(v.get("name", "")).lower(), str(v.get("code", "")).lower()}
                    or pid == wanted
                }
                if not programmes:
                    known = sorted(
                        str(v.get("code") or v.get("name")) for v in self.of("programme").values()
                    )
                    raise ConfigError(
                        f"--programme {wanted!r}: no such programme in the store; "
                        f"known: {', '.join(known) or 'none (no programme is mapped yet)'}"
                    )
                ids = {pid for pid in ids if self.of("project")[pid].get("programme") in programmes}
            self._filtered_projects = ids
        return self._filtered_projects

    # -- roadmap inputs ----------------------------------------------------------------------
    def programme_inputs(self) -> list[ProgrammeInput]:
        return [
            ProgrammeInput(
                id=pid,
                name=v.get("name"),
                code=v.get("code"),
                rag=v.get("rag_computed") or v.get("rag"),
                reasons=v.get("pmo_status") or v.get("rag_reason"),
            )
            for pid, v in self.of("programme").items()
            if not self.programme_filter or pid in self.programmes_in_scope()
        ]

    def _items_by_project(self) -> dict[str, list[tuple[str, dict[str, Any]]]]:
        grouped: dict[str, list[tuple[str, dict[str, Any]]]] = defaultdict(list)
        for item_id, values in self.of("work_item").items():
            if values.get("project"):
                grouped[values["project"]].append((item_id, values))
        return grouped

    def project_inputs(self) -> list[ProjectInput]:
        items = self._items_by_project()
        out = []
        for pid in sorted(self.project_ids()):
            v = self.of("project")[pid]
            start, finish, basis = _project_dates(v, items.get(pid, []), self.schedule)
            b_start, b_finish = _baseline_dates(items.get(pid, []))
            pct = v.get("percent_complete")
            out.append(
                ProjectInput(
                    id=pid,
                    code=v.get("code"),
                    name=v.get("name"),
                    programme=v.get("programme"),
                    rag=v.get("rag_computed") or v.get("rag"),
                    rag_entered=v.get("rag"),
                    rag_computed=v.get("rag_computed"),
                    reasons=v.get("pmo_status") or v.get("rag_reason"),
                    status=v.get("status"),
                    tools=self.sources.get(pid, ()),
                    start=start,
                    finish=finish,
                    dates_basis=basis,
                    baseline_start=b_start,
                    baseline_finish=b_finish,
                    percent_complete=float(pct) if pct is not None else None,
                    manager=self.person(v.get("manager")),
                )
            )
        return out

    def event_inputs(self) -> list[EventInput]:
        scope = self.project_ids()
        events = []
        seen: set[tuple[str, str | None, date | None]] = set()
        for mid, v in self.of("milestone").items():
            if v.get("project") not in scope:
                continue
            current = _day(v.get("forecast_finish")) or _day(v.get("due")) or _day(v.get("due_at"))
            key = (v["project"], v.get("name"), current)
            if key in seen:  # a Project task given as Milestone and work item counts once
                continue
            seen.add(key)
            events.append(
                EventInput(
                    id=mid,
                    project=v["project"],
                    name=v.get("name"),
                    kind="gate" if "gate" in str(v.get("name", "")).lower() else "milestone",
                    date=current,
                    baseline=_day(v.get("baseline_due")),
                    done=bool(v.get("done")) or v.get("status") in CLOSED,
                    critical=v.get("critical"),
                )
            )
        for rid, v in self.of("release").items():
            if v.get("project") not in scope:
                continue
            events.append(
                EventInput(
                    id=rid,
                    project=v["project"],
                    name=v.get("name"),
                    kind="release",
                    date=_day(v.get("release_date")),
                    done=bool(v.get("released")),
                )
            )
        return events

    def link_inputs(self) -> list[LinkInput]:
        return [
            LinkInput(did, v["predecessor"], v["successor"])
            for did, v in self.of("dependency").items()
            if v.get("predecessor")
            and v.get("successor")
            and v.get("dependency_class", "logic") == "logic"
        ]


def _day(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str) and value:
        return date.fromisoformat(value[:10])
    return None


def _project_dates(
    project: dict[str, Any],
    items: list[tuple[str, dict[str, Any]]],
    schedule: dict[str, ScheduleRow] | None,
) -> tuple[date | None, date | None, Any]:
    """Forecast dates from the stored CPM results (or the items' computed forecast fields);
    planned dates, labelled so, when nothing was forecast."""
    starts: list[date] = []
    finishes: list[date] = []
    for item_id, values in items:
        row = schedule.get(item_id) if schedule else None
        s = _day(row.early_start) if row else _day(values.get("forecast_start"))
        f = _day(row.early_finish) if row else _day(values.get("forecast_finish"))
        if s:
            starts.append(s)
        if f:
            finishes.append(f)
    actual = _day(project.get("actual_start"))
    if not finishes and _day(project.get("forecast_finish")):
        finishes.append(_day(project.get("forecast_finish")))  # type: ignore[arg-type]
    if finishes:
        start = actual or (min(starts) if starts else _day(project.get("planned_start")))
        return start, max(finishes), "forecast"
    start = actual or _day(project.get("planned_start"))
    finish = _day(project.get("actual_finish")) or _day(project.get("planned_finish"))
    basis = "actual" if project.get("actual_finish") else "planned"
    return start, finish, basis


def _baseline_dates(items: list[tuple[str, dict[str, Any]]]) -> tuple[date | None, date | None]:
    starts, finishes = [], []
    for _, values in items:
        for baseline in values.get("baselines") or ():
            if baseline.get("number") == 0:
                if s := _day(baseline.get("start")):
                    starts.append(s)
                if f := _day(baseline.get("finish")):
                    finishes.append(f)
    return (min(starts) if starts else None, max(finishes) if finishes else None)


def load_report_data(store: Store, portfolio: str, *, programme: str | None = None) -> ReportData:
    """Read the store as of its last successful run. ConfigError when nothing synced yet."""
    with store.sessions() as session:
        run = session.scalars(
            select(models.Run)
            .where(models.Run.status.in_(FINISHED_OK), models.Run.dry_run.is_(False))
            .order_by(models.Run.id.desc())
            .limit(1)
        ).first()
        if run is None:
            raise ConfigError(
                "the store has no successful sync run yet: run `pmo-sync sync` first, "
                "then the reports"
            )
        links_by_entity: dict[str, list[models.Link]] = defaultdict(list)
        for link in session.scalars(select(models.Link)):
            links_by_entity[link.canonical_id].append(link)
        entities: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
        sources: dict[str, tuple[str, ...]] = {}
        tombstoned = 0
        for entity in session.scalars(select(models.Entity)):
            held = links_by_entity.get(entity.id, [])
            values = entity.values or {}
            # A record every tool has deleted (or one the roll-ups marked so) no longer counts.
            if values.get("tombstoned") or (held and all(lk.deleted_at for lk in held)):
                tombstoned += 1
                continue
            entities[entity.entity_type][entity.id] = values
            sources[entity.id] = tuple(sorted({lk.connection for lk in held if not lk.deleted_at}))
        # a quiet run (nothing changed) stands on the analysis of an earlier run
        analysed = int((run.report or {}).get("analysis_run") or run.id)
        schedule = _schedule_rows(session, analysed)
        findings = _findings(session, analysed)
        return ReportData(
            portfolio=portfolio,
            run_id=run.id,
            run_finished=run.finished_at,
            run_status=run.status,
            entities=dict(entities),
            sources=sources,
            schedule=schedule,
            findings=findings,
            tombstoned=tombstoned,
            programme_filter=programme,
            portfolio_rollup=dict(((run.report or {}).get("rollups") or {}).get("portfolio") or {}),
        )


def _has_table(session: Any, name: str) -> bool:
    return bool(inspect(session.get_bind()).has_table(name))


def _schedule_rows(session: Any, run_id: int) -> dict[str, ScheduleRow] | None:
    """CPM results the analyse stage stored for this run; None when it stored none."""
    model = getattr(models, "ScheduleResult", None)
    if model is None or not _has_table(session, model.__tablename__):
        return None
    rows = session.scalars(select(model).where(model.run_id == run_id)).all()
    if not rows:
        return None
    return {
        r.canonical_id: ScheduleRow(
            r.early_start, r.early_finish, r.total_slack_minutes, r.critical
        )
        for r in rows
    }


def _findings(session: Any, run_id: int) -> list[FindingInput] | None:
    """Dependency findings of this run; None when the checks did not run for it.

    A run that checked and found nothing is told apart by its report's ``schedule`` section
    (written by the analyse stage); without it there is no way to say "fine".
    """
    model = getattr(models, "DependencyFinding", None)
    if model is None or not _has_table(session, model.__tablename__):
        return None
    rows = session.scalars(select(model).where(model.run_id == run_id)).all()
    run = session.get(models.Run, run_id)
    section = ((run.report or {}).get("schedule") if run else None) or {}
    if not rows and not section:
        return None
    return [FindingInput(r.kind, r.severity, r.link, r.message, r.shortfall_days) for r in rows]
