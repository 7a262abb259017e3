"""Planner Premium (Project for the web) connector: Dataverse Web API + Project schedule APIs.

Pull (one scope, ``plans``): programmes, then every plan changed since the cursor minus the
overlap, re-read whole (project, tasks with hierarchy and buckets, links, assignments, team).
"Changed" is ``modifiedon ge`` the threshold on the project or on any of its child rows, one
probe per table, so a quiet run costs a handful of requests. A plan whose every changed row still
has the version our own write left (``own_writes.py``) is not re-read: the store holds what we
wrote. Everything of a run is read before anything is yielded: a failure raises and the cursor
does not move.

Push: project columns (the custom status columns a mapping names) and task fields the mapping
gives this connection authority over go through ONE operation set per project per run (split
only at the 200-operation limit), executed and polled to completion. A failed set applied
nothing; each of its writes is reported failed with the per-task reason Dataverse logged.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from datetime import time as dtime
from typing import Any
from zoneinfo import ZoneInfo

from pmosync.canonical_model import (
    EntityType,
    ExternalRef,
    PlannedWrite,
    PulledRecord,
    Quarantined,
    WriteResult,
)
from pmosync.config.connections.planner import PlannerConnection
from pmosync.config.mapping import EntityMapping, FieldMapping, TeamMapping
from pmosync.connectors.base import Capabilities, Scope
from pmosync.connectors.msproject.auth import Credentials, MsalCredentials, default_cache_path
from pmosync.connectors.msproject.transport import build_session
from pmosync.connectors.planner import mapper
from pmosync.connectors.planner.client import DataverseClient, Query
from pmosync.connectors.planner.opsets import OperationSetRunner, SetOutcome, Update
from pmosync.connectors.planner.own_writes import OwnWrites, etag_version
from pmosync.connectors.team_mapping import day_clock, merge_team_mappings
from pmosync.errors import ConfigError, FatalConnectorError, PmoSyncError

log = logging.getLogger(__name__)

PLANS_SCOPE = Scope("plans", EntityType.PROJECT)
# child table -> its project lookup (what a change probe selects)
CHILD_TABLES = {
    "msdyn_projecttasks": "_msdyn_project_value",
    "msdyn_projecttaskdependencies": "_msdyn_project_value",
    "msdyn_resourceassignments": "_msdyn_projectid_value",
    "msdyn_projectbuckets": "_msdyn_project_value",
    "msdyn_projectteams": "_msdyn_project_value",
}
# entity set -> its primary key, which Dataverse returns with every row whatever the $select
ROW_KEYS = {
    "msdyn_projects": "msdyn_projectid",
    "msdyn_projecttasks": "msdyn_projecttaskid",
    "msdyn_projecttaskdependencies": "msdyn_projecttaskdependencyid",
    "msdyn_resourceassignments": "msdyn_resourceassignmentid",
    "msdyn_projectbuckets": "msdyn_projectbucketid",
    "msdyn_projectteams": "msdyn_projectteamid",
}
WRITTEN_SETS = {"msdyn_project": "msdyn_projects", "msdyn_projecttask": "msdyn_projecttasks"}
# Columns whose change the scheduling engine answers by recomputing others (finish from start
# and duration, effort and roll-ups from progress, successors' dates): the schedule APIs exist
# for these "schedule impacting requests" (schedule-api-preview, "OperationSet"). A row we wrote
# one of them to may hold values we did not write, so it is never taken for our own echo.
SCHEDULE_COLUMNS = frozenset(
    {
        "msdyn_scheduledstart",
        "msdyn_scheduledend",
        "msdyn_finish",
        "msdyn_duration",
        "msdyn_progress",
        "msdyn_effort",
    }
)
# the tables a change probe lists, with the lookup naming the row's plan
PROBED = (("msdyn_projects", "msdyn_projectid"), *CHILD_TABLES.items())
PROJECTS_PER_FILTER = 20  # keeps a $filter of "or"ed ids well under URL limits
MILESTONE_WRITABLE = {"name": "msdyn_subject", "due": "msdyn_scheduledend"}


@dataclass(frozen=True)
class PlannerOptions:
    projects: tuple[str, ...] = ()  # codes, names or ids; empty = every plan
    milestones: bool = True  # milestone tasks also as canonical Milestones
    day_start: str = "08:00"
    day_finish: str = "17:00"

    @classmethod
    def from_mapping(cls, mapping: EntityMapping | None) -> PlannerOptions:
        if mapping is None:
            return cls()
        raw = dict(mapping.options)
        unknown = set(raw) - set(cls.__dataclass_fields__)
        if unknown:
            raise ConfigError(
                f"unknown Planner option(s) {', '.join(sorted(unknown))} "
                f"(known: {', '.join(sorted(cls.__dataclass_fields__))})"
            )
        if mapping.projects:
            raw.setdefault("projects", mapping.projects)
        raw["projects"] = tuple(str(p) for p in raw.get("projects") or ())
        options = cls(**raw)
        options.clock("start"), options.clock("finish")
        return options

    def clock(self, which: str) -> dtime:
        return day_clock(self.day_start, self.day_finish, which)


@dataclass
class _Plan:
    project: dict[str, Any]
    tasks: list[dict[str, Any]] = field(default_factory=list)
    links: list[dict[str, Any]] = field(default_factory=list)
    assignments: list[dict[str, Any]] = field(default_factory=list)
    buckets: dict[str, str] = field(default_factory=dict)
    team: dict[str, dict[str, Any]] = field(default_factory=dict)


def _literal(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class PlannerConnector:
    """Implements the Connector protocol for one Dataverse environment."""

    def __init__(
        self,
        name: str,
        config: PlannerConnection,
        mappings: list[TeamMapping],
        *,
        overlap_seconds: float = 300.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.name = name
        self.config = config
        self.overlap = timedelta(seconds=overlap_seconds)
        self.entities = merge_team_mappings(mappings)
        try:
            self.options = PlannerOptions.from_mapping(self.entities.get(EntityType.PROJECT))
        except (ConfigError, TypeError, ValueError) as exc:
            raise ConfigError(f"Planner mapping options: {exc}", connection=name) from None
        settings = config.msal_settings()
        self.session, self.adapter = build_session(settings)
        self.credentials: Credentials = MsalCredentials(name, settings, self.session)
        self.client = DataverseClient(name, config, self.session, self.credentials)
        self.runner = OperationSetRunner(
            self.client,
            poll_seconds=config.poll_seconds,
            timeout_seconds=config.poll_timeout_seconds,
            max_operations=config.max_operations_per_set,
            sleep=sleep,
        )
        self.zone = ZoneInfo(config.time_zone)
        self._task_project: dict[str, str] = {}
        cache = config.token_cache or default_cache_path(name)
        self.own_writes = OwnWrites(cache.with_name(f"{cache.stem}.own-writes.json"))
        self.echoes_skipped = 0  # plans not re-read because only our own writes changed them
        # This run's pull: the oldest change it can have missed (its threshold) and the version
        # of every row it listed, so the push can tell a row nobody touched since.
        self._guard: str | None = None
        self._seen: dict[str, str] = {}

    # -- description ----------------------------------------------------------------------
    def _fields(self, entity_type: EntityType) -> dict[str, FieldMapping]:
        entity = self.entities.get(entity_type)
        return dict(entity.fields) if entity else {}

    def capabilities(self) -> Capabilities:
        readable: dict[EntityType, frozenset[str]] = {}
        for entity_type, base in mapper.READABLE.items():
            entity = self.entities.get(entity_type)
            readable[entity_type] = base | (entity.readable(entity_type) if entity else frozenset())
        writable: dict[EntityType, frozenset[str]] = {}
        project = self.entities.get(EntityType.PROJECT)
        if project:
            writable[EntityType.PROJECT] = project.writable(EntityType.PROJECT)
        task = self.entities.get(EntityType.WORK_ITEM)
        if task:
            writable[EntityType.WORK_ITEM] = frozenset(
                n
                for n in task.writable(EntityType.WORK_ITEM)
                if mapper.TASK_WRITABLE.get(n) == task.fields[n].field
            )
        milestone = self.entities.get(EntityType.MILESTONE)
        if milestone:
            writable[EntityType.MILESTONE] = frozenset(
                n
                for n in milestone.writable(EntityType.MILESTONE)
                if MILESTONE_WRITABLE.get(n) == milestone.fields[n].field
            )
        return Capabilities(
            readable=readable,
            writable=writable,
            incremental=True,
            whole_children={
                EntityType.PROJECT: frozenset(
                    {EntityType.WORK_ITEM, EntityType.MILESTONE, EntityType.DEPENDENCY}
                )
            },
        )

    def scopes(self) -> list[Scope]:
        return [PLANS_SCOPE]

    def api_calls(self) -> int:
        return self.adapter.stats.requests

    def waits(self) -> dict[str, float]:
        return dict(self.adapter.stats.waited)

    def close(self) -> None:
        self.session.close()

    # -- pull -----------------------------------------------------------------------------
    def pull(
        self, scope: Scope, since: datetime | None, until: datetime | None
    ) -> Iterator[PulledRecord | Quarantined]:
        if scope.name != PLANS_SCOPE.name:
            raise ConfigError(f"unknown scope {scope.name!r}", connection=self.name)
        threshold = None
        if since is not None:
            since = since if since.tzinfo else since.replace(tzinfo=UTC)
            threshold = _literal(since - self.overlap)
        guard = threshold or _literal(datetime.now(UTC) - self.overlap)
        self._guard = None
        if threshold is None:
            programmes = list(self._rows("msdyn_programs", "programmes"))
            plans = self._all_plans()
        else:
            # the programmes and every table's change probe in one round trip
            programmes, *probed = self.client.batch_rows(
                self._probes(threshold), what="change probes"
            )
            plans = self._changed_plans(probed)
        # only a pull that read everything can vouch for the rows it did not list (see push)
        self._guard = guard
        # everything is read before anything is yielded: a failure raises with nothing handed over
        for row in programmes:
            yield self._record(
                EntityType.PROGRAMME, row.get("msdyn_programid"), mapper.map_programme, row
            )
        people: set[str] = set()
        for plan in plans.values():
            yield from self._plan_records(plan, people)

    def _rows(
        self, entity_set: str, what: str, filter_: str | None = None, select: str | None = None
    ) -> Iterator[dict[str, Any]]:
        params: dict[str, str] = {}
        if filter_:
            params["$filter"] = filter_
        if select:
            params["$select"] = select
        return self.client.rows(entity_set, what=what, params=params)

    def _seen_row(self, table: str, row: dict[str, Any]) -> str:
        """Note the version of a row this pull listed; its id ("" when it came without one)."""
        row_id = str(row.get(ROW_KEYS[table]) or "").lower()
        version = etag_version(row)
        if row_id and version:
            self._seen[row_id] = version
        return row_id

    def _all_plans(self) -> dict[str, _Plan]:
        projects = list(self._rows("msdyn_projects", "projects"))
        plans = {str(p["msdyn_projectid"]).lower(): _Plan(p) for p in projects if self._selected(p)}
        for project in projects:
            self._seen_row("msdyn_projects", project)
        self._read_children(plans, None)
        return plans

    def _probes(self, threshold: str) -> list[Query]:
        """The changed programmes, then one probe per plan table: the rows changed since the
        threshold, their key and plan only (and the ETag Dataverse adds to every row)."""
        changed = f"modifiedon ge {threshold}"
        return [
            Query("msdyn_programs", "changed programmes", {"$filter": changed}),
            *(
                Query(
                    table,
                    f"changed {table}",
                    {
                        "$filter": changed,
                        "$select": ",".join(dict.fromkeys((ROW_KEYS[table], lookup))),
                    },
                )
                for table, lookup in PROBED
            ),
        ]

    def _changed_plans(self, probed: list[list[dict[str, Any]]]) -> dict[str, _Plan]:
        ids = self._plans_changed_by_others(probed)
        plans = {}
        for start in range(0, len(ids), PROJECTS_PER_FILTER):
            chunk = ids[start : start + PROJECTS_PER_FILTER]
            clause = " or ".join(f"msdyn_projectid eq {i}" for i in chunk)
            for project in self._rows("msdyn_projects", "changed projects", clause):
                self._seen_row("msdyn_projects", project)
                if self._selected(project):
                    plans[str(project["msdyn_projectid"]).lower()] = _Plan(project)
        if plans:
            self._read_children(plans, sorted(plans))
        return plans

    def _plans_changed_by_others(self, probed: list[list[dict[str, Any]]]) -> list[str]:
        """The plans with a row the probes listed that is not our own write as we left it. A
        plan whose every changed row is ours is skipped: the store holds what we wrote (the
        engine records what a write sent); --full reads it."""
        others: dict[str, bool] = {}  # plan -> some changed row is not our own write
        listed: set[str] = set()
        for (table, lookup), rows in zip(PROBED, probed, strict=True):
            for row in rows:
                project = str(row.get(lookup) or "").lower()
                if not project:
                    continue
                row_id = self._seen_row(table, row)
                ours = self.own_writes.ours(row_id, etag_version(row))
                if ours:
                    listed.add(row_id)
                others[project] = others.get(project, False) or not ours
        # a stamp whose row was not listed as we left it can never match again: drop it
        self.own_writes.keep_only(listed)
        self.own_writes.save()
        self.echoes_skipped += sum(1 for other in others.values() if not other)
        return sorted(project for project, other in others.items() if other)

    def _read_children(self, plans: dict[str, _Plan], ids: list[str] | None) -> None:
        def rows(table: str) -> Iterator[dict[str, Any]]:
            lookup = CHILD_TABLES[table]
            if ids is None:
                yield from self._rows(table, table)
                return
            for start in range(0, len(ids), PROJECTS_PER_FILTER):
                chunk = ids[start : start + PROJECTS_PER_FILTER]
                yield from self._rows(table, table, " or ".join(f"{lookup} eq {i}" for i in chunk))

        def owner(row: dict[str, Any], table: str) -> _Plan | None:
            return plans.get(str(row.get(CHILD_TABLES[table]) or "").lower())

        for row in rows("msdyn_projectbuckets"):
            self._seen_row("msdyn_projectbuckets", row)
            if plan := owner(row, "msdyn_projectbuckets"):
                plan.buckets[str(row["msdyn_projectbucketid"]).lower()] = str(
                    row.get("msdyn_name") or ""
                )
        for row in rows("msdyn_projectteams"):
            self._seen_row("msdyn_projectteams", row)
            if plan := owner(row, "msdyn_projectteams"):
                plan.team[str(row["msdyn_projectteamid"]).lower()] = row
        for table, target in (
            ("msdyn_projecttasks", "tasks"),
            ("msdyn_projecttaskdependencies", "links"),
            ("msdyn_resourceassignments", "assignments"),
        ):
            for row in rows(table):
                self._seen_row(table, row)
                if plan := owner(row, table):
                    getattr(plan, target).append(row)

    def _selected(self, project: dict[str, Any]) -> bool:
        if not self.options.projects:
            return True
        wanted = {p.lower() for p in self.options.projects}
        code_field = self._fields(EntityType.PROJECT).get("code")
        candidates = {
            str(project.get("msdyn_projectid") or "").lower(),
            str(project.get("msdyn_subject") or "").lower(),
            str(project.get(code_field.field) or "").lower() if code_field else "",
        }
        return bool(candidates & wanted)

    def _plan_records(self, plan: _Plan, people: set[str]) -> Iterator[PulledRecord | Quarantined]:
        project = plan.project
        project_id = str(project["msdyn_projectid"]).lower()
        project_fields = self._fields(EntityType.PROJECT)
        code_field = project_fields.get("code")
        yield self._record(
            EntityType.PROJECT,
            project_id,
            mapper.map_project,
            project,
            key=str(project.get(code_field.field) or "") or None if code_field else None,
            fields=project_fields,
            zone=self.zone,
            zone_name=self.config.time_zone,
        )
        for member in plan.team.values():
            person = mapper.person_id(member)
            if person and person not in people:
                people.add(person)
                yield self._record(EntityType.PERSON, person, mapper.map_person, member)
        time_factors = mapper.ProjectTime.of(project)
        by_task = mapper.assignments_by_task(plan.assignments, plan.team, self.zone)
        task_fields = self._fields(EntityType.WORK_ITEM)
        ordered = sorted(plan.tasks, key=lambda t: float(t.get("msdyn_displaysequence") or 0))
        for task in ordered:
            task_id = str(task.get("msdyn_projecttaskid") or "").lower()
            self._task_project[task_id] = project_id
            bucket = plan.buckets.get(str(task.get("_msdyn_projectbucket_value") or "").lower())
            yield self._record(
                EntityType.WORK_ITEM,
                task_id,
                mapper.map_task,
                task,
                project_id=project_id,
                zone=self.zone,
                time_factors=time_factors,
                bucket=bucket,
                assignments=by_task.get(task_id, []),
                fields=task_fields,
            )
            if self.options.milestones and task.get("msdyn_ismilestone"):
                yield self._record(
                    EntityType.MILESTONE,
                    task_id,
                    mapper.map_milestone,
                    task,
                    project_id=project_id,
                    zone=self.zone,
                )
        for link in plan.links:
            link_id = str(link.get("msdyn_projecttaskdependencyid") or "").lower()
            yield self._record(EntityType.DEPENDENCY, link_id, mapper.map_dependency, link)

    def _record(
        self,
        entity_type: EntityType,
        external_id: Any,
        build: Callable[..., mapper.Mapped],
        *args: Any,
        key: str | None = None,
        **kwargs: Any,
    ) -> PulledRecord | Quarantined:
        record_id = str(external_id or "").lower()
        if not record_id:
            return Quarantined(self.name, entity_type, "?", f"{entity_type.value} without an id")
        try:
            mapped = build(*args, **kwargs)
        except mapper.MappingError as exc:
            return Quarantined(
                self.name, entity_type, record_id, f"{entity_type.value} {record_id}: {exc}"
            )
        ref = ExternalRef(
            connection=self.name,
            entity_type=entity_type,
            external_id=record_id,
            external_key=key,
            version_token=mapped.version_token,
            source_modified_at=mapped.modified,
        )
        return PulledRecord(ref=ref, values=mapped.values, pointers=mapped.pointers)

    # -- push -----------------------------------------------------------------------------
    def push(self, writes: Sequence[PlannedWrite]) -> list[WriteResult]:
        results: list[WriteResult | None] = [None] * len(writes)
        # project id -> (entity, record id) -> columns, and which writes each row carries
        updates: dict[str, dict[tuple[str, str], dict[str, Any]]] = {}
        members: dict[tuple[str, str], list[int]] = {}
        landed: dict[tuple[str, str], str] = {}
        for index, write in enumerate(writes):
            try:
                project_id, entity, record_id, columns = self._plan(write)
            except (mapper.MappingError, PmoSyncError) as exc:
                results[index] = _failed(write, str(exc))
                continue
            updates.setdefault(project_id, {}).setdefault((entity, record_id), {}).update(columns)
            members.setdefault((entity, record_id), []).append(index)
        untouched = self._untouched_since_pull(updates)
        for project_id, rows in updates.items():
            batch = [
                Update(entity, record_id, columns) for (entity, record_id), columns in rows.items()
            ]
            try:
                outcomes = self.runner.apply(
                    project_id, batch, f"pmo-sync run for project {project_id}"
                )
            except PmoSyncError as exc:
                for update in batch:
                    for index in members[(update.entity, update.record_id)]:
                        results[index] = _failed(writes[index], str(exc))
                continue
            self._report(batch, outcomes, members, writes, results)
            landed.update(self._landed(batch, outcomes, untouched))
        self._remember_writes(landed)
        return [r for r in results if r is not None]

    # -- own writes (echo) ----------------------------------------------------------------
    def _listed_since(self, tables: list[str]) -> dict[str, tuple[str | None, str | None]] | None:
        """Row id -> (version, modifiedon) of every row of these tables changed since this
        run's pull threshold, in one $batch; None when it could not be read (then nothing is
        recorded: the record is a hint)."""
        queries = [
            Query(
                table,
                f"rows changed in {table}",
                {
                    "$filter": f"modifiedon ge {self._guard}",
                    "$select": f"{ROW_KEYS[table]},modifiedon",
                },
            )
            for table in tables
        ]
        try:
            listed = self.client.batch_rows(queries, what="rows changed since the pull")
        except PmoSyncError as exc:
            log.warning("[%s] %s; our writes there are read again next run", self.name, exc)
            return None
        return {
            str(row.get(ROW_KEYS[table]) or "").lower(): (etag_version(row), row.get("modifiedon"))
            for table, rows in zip(tables, listed, strict=True)
            for row in rows
        }

    def _untouched_since_pull(
        self, updates: dict[str, dict[tuple[str, str], dict[str, Any]]]
    ) -> set[str]:
        """The rows about to be written that nobody changed since this run's pull read them,
        among those whose write cannot make the scheduling engine change other columns: only
        these may be taken for our own echo afterwards. A row changed between our pull and our
        write would carry that change, unread, under the version our write leaves."""
        if self._guard is None:  # no pull in this run: nothing to compare with
            return set()
        wanted: dict[str, set[str]] = {}
        for rows in updates.values():
            for (entity, record_id), columns in rows.items():
                if entity in WRITTEN_SETS and not SCHEDULE_COLUMNS & set(columns):
                    wanted.setdefault(WRITTEN_SETS[entity], set()).add(record_id)
        changed = self._listed_since(sorted(wanted)) if wanted else None
        if changed is None:
            return set()
        # not listed: unchanged since before the pull's threshold; listed: as the pull saw it
        return {
            i
            for ids in wanted.values()
            for i in ids
            if i not in changed or _same(changed[i][0], self._seen.get(i))
        }

    def _landed(
        self, batch: list[Update], outcomes: list[SetOutcome], untouched: set[str]
    ) -> dict[tuple[str, str], str]:
        """(entity set, row id) -> the set's completion time, for the untouched rows whose
        operation set was applied."""
        size = self.runner.max_operations
        landed: dict[tuple[str, str], str] = {}
        for position, update in enumerate(batch):
            outcome = outcomes[position // size]
            if outcome.applied and outcome.completed_on and update.record_id in untouched:
                landed[(WRITTEN_SETS[update.entity], update.record_id)] = outcome.completed_on
        return landed

    def _remember_writes(self, landed: dict[tuple[str, str], str]) -> None:
        """Record the version each landed row has now, unless it was modified after its set
        completed (someone's edit already followed ours). The operation set answers no row
        versions, so they are read back, in one $batch, right after the writes."""
        now = (self._listed_since(sorted({table for table, _ in landed})) if landed else None) or {}
        for (_, row_id), completed in landed.items():
            version, modified = now.get(row_id, (None, None))
            if version and modified and _moment(modified) <= _moment(completed):
                self.own_writes.record(row_id, version)
        self.own_writes.save()

    def _report(
        self,
        batch: list[Update],
        outcomes: list[SetOutcome],
        members: dict[tuple[str, str], list[int]],
        writes: Sequence[PlannedWrite],
        results: list[WriteResult | None],
    ) -> None:
        size = self.runner.max_operations
        for position, update in enumerate(batch):
            outcome = outcomes[position // size]
            for index in members[(update.entity, update.record_id)]:
                write = writes[index]
                if outcome.applied:
                    results[index] = WriteResult(
                        outbox_id=write.outbox_id,
                        ok=True,
                        external_id=write.external_id,
                        values=write.values,
                    )
                    continue
                reason = outcome.per_record.get(update.record_id)
                detail = f"{update.entity} {update.record_id}: {reason}; " if reason else ""
                results[index] = _failed(write, f"{detail}{outcome.error}")
                log.warning("[%s] %s", self.name, results[index].error)  # type: ignore[union-attr]

    def _plan(self, write: PlannedWrite) -> tuple[str, str, str, dict[str, Any]]:
        if write.op != "update" or not write.external_id:
            raise FatalConnectorError(
                f"{write.entity_type.value}: pmo-sync does not create rows in Planner Premium; "
                "create the plan or task in Planner and let pmo-sync match it",
                connection=self.name,
            )
        record_id = write.external_id.lower()
        if write.entity_type is EntityType.PROJECT:
            columns = mapper.project_columns(write.values, self._fields(EntityType.PROJECT))
            return record_id, "msdyn_project", record_id, columns
        if write.entity_type in (EntityType.WORK_ITEM, EntityType.MILESTONE):
            fields = self._fields(write.entity_type)
            if write.entity_type is EntityType.MILESTONE:
                fields = {
                    n: FieldMapping(field=mapper.TASK_WRITABLE[n], direction=m.direction)
                    for n, m in fields.items()
                    if MILESTONE_WRITABLE.get(n) == m.field
                }
            columns = mapper.task_columns(
                write.values,
                fields=fields,
                zone=self.zone,
                day_start=self.options.clock("start"),
                day_finish=self.options.clock("finish"),
            )
            return self._project_of(record_id), "msdyn_projecttask", record_id, columns
        raise FatalConnectorError(
            f"{write.entity_type.value} records are read-only in Planner Premium",
            connection=self.name,
        )

    def _project_of(self, task_id: str) -> str:
        if task_id not in self._task_project:
            row = self.client.row(
                f"msdyn_projecttasks({task_id})",
                what=f"task {task_id}",
                params={"$select": "_msdyn_project_value"},
            )
            self._task_project[task_id] = str(row.get("_msdyn_project_value") or "").lower()
        return self._task_project[task_id]


def _same(version: str | None, seen: str | None) -> bool:
    return version is not None and version == seen


def _moment(value: str) -> datetime:
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # Dataverse answers UTC


def _failed(write: PlannedWrite, error: str) -> WriteResult:
    return WriteResult(
        outbox_id=write.outbox_id, ok=False, external_id=write.external_id, error=error
    )
