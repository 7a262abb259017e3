"""PWA connector: Project Server Subscription Edition / Project Online through the REST API.

Pull has two scopes, each with its own cursor:

* ``projects``: the projects published since the cursor (minus the overlap window), each re-read
  whole (project with custom fields, tasks with summaries and milestones, links, assignments,
  team resources, baselines). The cursor means "projects published since", and any failure
  while reading a changed project raises, so it never moves past a project whose children were
  not all read.
* ``raid``: ProjectData Issues and Risks modified since the cursor. They are SharePoint list
  items on the project sites: editing one does not republish its project, so they need their
  own change filter.

Push writes one project at a time: all of its changes inside ONE check-out → UpdateCustomFields
/ Draft MERGE → publish(check-in) cycle with queue-job polling; any failure force-checks-in so
no project stays locked; a project checked out by someone else is retried with back-off and then
reported as failed writes while the other projects go on.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import islice
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pmosync.canonical_model import (
    EntityType,
    ExternalRef,
    PlannedWrite,
    PulledRecord,
    Quarantined,
    WriteResult,
)
from pmosync.config.connections.pwa import PwaConnection
from pmosync.config.mapping import EntityMapping, FieldMapping, TeamMapping
from pmosync.connectors.base import Capabilities, Scope
from pmosync.connectors.isolation import record_problem
from pmosync.connectors.msproject import mapper
from pmosync.connectors.msproject.api import PwaApi
from pmosync.connectors.msproject.auth import Credentials, credentials_for, default_cache_path
from pmosync.connectors.msproject.client import (
    NotFoundError,
    ProjectCheckedOutError,
    ProjectWriteLockError,
    PwaClient,
    QueueJobBlockedError,
)
from pmosync.connectors.msproject.customfields import CustomFieldCatalog
from pmosync.connectors.msproject.odata import datetime_literal, parse_datetime
from pmosync.connectors.msproject.own_publishes import OwnPublishes, stamps
from pmosync.connectors.msproject.transport import build_session
from pmosync.connectors.team_mapping import day_clock, merge_team_mappings
from pmosync.errors import ConfigError, FatalConnectorError, PmoSyncError, RetriableError

log = logging.getLogger(__name__)

PROJECTS_SCOPE = Scope("projects", EntityType.PROJECT)
RAID_SCOPE = Scope("raid", EntityType.RAID_ITEM)


@dataclass(frozen=True)
class PwaOptions:
    """Connector settings read from the project entity mapping's ``options``."""

    projects: tuple[str, ...] = ()  # project names or GUIDs; empty = every project
    milestones: Literal["both", "milestone", "work_item"] = "both"
    # None: the tasks' own BaselineFinish (baseline 0, no extra request); 0-10: that baseline
    # from ProjectData TaskBaselines.
    baseline: int | None = None
    raid: bool = True  # ProjectData Issues and Risks
    risk_impact_scale: int = 10  # PWA's risk list scores Impact 1-10
    changed_by: Literal["LastPublishedDate", "LastSavedDate"] = "LastPublishedDate"
    day_start: str = "08:00"
    day_finish: str = "17:00"

    @classmethod
    def from_mapping(cls, mapping: EntityMapping | None) -> PwaOptions:
        if mapping is None:
            return cls()
        raw = dict(mapping.options)
        known = set(cls.__dataclass_fields__)
        unknown = set(raw) - known
        if unknown:
            raise ConfigError(
                f"unknown PWA option(s) {', '.join(sorted(unknown))} "
                f"(known: {', '.join(sorted(known))})"
            )
        if mapping.projects:
            raw.setdefault("projects", mapping.projects)
        if "projects" in raw:
            raw["projects"] = tuple(str(p) for p in raw["projects"] or ())
        options = cls(**raw)
        if options.milestones not in ("both", "milestone", "work_item"):
            raise ConfigError("option milestones: use both, milestone or work_item")
        if options.changed_by not in ("LastPublishedDate", "LastSavedDate"):
            raise ConfigError("option changed_by: use LastPublishedDate or LastSavedDate")
        if options.baseline is not None and not 0 <= int(options.baseline) <= 10:
            raise ConfigError("option baseline: use a baseline number 0-10")
        if options.risk_impact_scale not in (5, 10, 100):
            raise ConfigError("option risk_impact_scale: use 5, 10 or 100")
        return options

    def clock(self, which: str) -> Any:
        return day_clock(self.day_start, self.day_finish, which)


@dataclass
class _ProjectPlan:
    project_id: str
    write: mapper.ProjectWrite = field(default_factory=mapper.ProjectWrite)
    tasks: dict[str, dict[str, Any]] = field(default_factory=dict)
    members: list[int] = field(default_factory=list)


@dataclass
class _PlanRead:
    """One plan's collections as read from ``/_api/ProjectServer`` (and its baselines from
    ProjectData), before any mapping."""

    project: dict[str, Any]
    tasks: list[dict[str, Any]]
    links: list[dict[str, Any]]
    assignments: list[dict[str, Any]]
    resources: list[dict[str, Any]]
    percent: Any
    time_factors: mapper.ProjectTime
    baselines: dict[str, list[dict[str, Any]]]


class PwaConnector:
    """Implements the Connector protocol for one PWA site."""

    def __init__(
        self,
        name: str,
        config: PwaConnection,
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
            self.options = PwaOptions.from_mapping(self.entities.get(EntityType.PROJECT))
        except (ConfigError, TypeError, ValueError) as exc:
            raise ConfigError(f"PWA mapping options: {exc}", connection=name) from None
        self.session, self.adapter = build_session(config)
        self.credentials: Credentials = credentials_for(name, config, self.session)
        self.client = PwaClient(name, config, self.session, self.credentials, sleep=sleep)
        self.api = PwaApi(self.client)
        self._sleep = sleep
        self._zone = ZoneInfo(config.server_timezone)
        self._catalog: CustomFieldCatalog | None = None
        self._calendars: list[dict[str, Any]] | None = None
        self._task_project: dict[str, str] = {}
        # this run's listing (project id -> Id, Name and publish stamps), for the push
        self._listed: dict[str, dict[str, Any]] = {}
        self._tasks_listed: set[str] = set()  # plans whose task ids were read for a lookup
        cache = config.token_cache or default_cache_path(name)
        self.own_publishes = OwnPublishes(cache.with_name(f"{cache.stem}.own-publishes.json"))
        self._publishes_lock = threading.Lock()
        self.echoes_skipped = 0  # plans not re-read because only our own publish changed them

    # -- protocol: description -----------------------------------------------------------
    def _fields(self, entity_type: EntityType) -> dict[str, FieldMapping]:
        entity = self.entities.get(entity_type)
        return dict(entity.fields) if entity else {}

    def capabilities(self) -> Capabilities:
        readable: dict[EntityType, frozenset[str]] = {}
        for entity_type, base in mapper.READABLE.items():
            entity = self.entities.get(entity_type)
            readable[entity_type] = base | (entity.readable(entity_type) if entity else frozenset())
        if "programme" in readable.get(EntityType.PROJECT, frozenset()):
            readable[EntityType.PROGRAMME] = frozenset({"name"})  # from the project's field
        writable: dict[EntityType, frozenset[str]] = {}
        project = self.entities.get(EntityType.PROJECT)
        if project:
            writable[EntityType.PROJECT] = project.writable(EntityType.PROJECT)
        for entity_type in (EntityType.WORK_ITEM, EntityType.MILESTONE):
            entity = self.entities.get(entity_type)
            if entity:
                writable[entity_type] = frozenset(
                    name
                    for name in entity.writable(entity_type)
                    if entity.fields[name].field in mapper.TASK_WRITABLE.values()
                    and (entity_type is EntityType.WORK_ITEM or name in ("name", "due"))
                )
        return Capabilities(
            readable=readable,
            writable=writable,
            incremental=True,
            # a changed project is re-read whole (tasks, milestones, links): a task missing from
            # it was deleted, even on an incremental run
            whole_children={
                EntityType.PROJECT: frozenset(
                    {EntityType.WORK_ITEM, EntityType.MILESTONE, EntityType.DEPENDENCY}
                )
            },
        )

    def scopes(self) -> list[Scope]:
        return [PROJECTS_SCOPE, RAID_SCOPE] if self.options.raid else [PROJECTS_SCOPE]

    def api_calls(self) -> int:
        return self.adapter.stats.requests

    def waits(self) -> dict[str, float]:
        return dict(self.adapter.stats.waited)

    def close(self) -> None:
        self.session.close()

    # -- time ----------------------------------------------------------------------------
    def _server_time(self, moment: datetime) -> datetime:
        """An instant as the server's naive wall clock (what its date filters compare)."""
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return moment.astimezone(self._zone).replace(tzinfo=None)

    def _instant(self, naive: datetime | None) -> datetime | None:
        if naive is None:
            return None
        return naive.replace(tzinfo=self._zone).astimezone(UTC)

    # -- pull ----------------------------------------------------------------------------
    def catalog(self) -> CustomFieldCatalog:
        if self._catalog is None:
            self._catalog = CustomFieldCatalog.from_payloads(
                self.api.custom_fields(), self.api.lookup_tables()
            )
        return self._catalog

    def pull(
        self, scope: Scope, since: datetime | None, until: datetime | None
    ) -> Iterator[PulledRecord | Quarantined]:
        """``projects``: every record of every project published since ``since - overlap``;
        ``raid``: the Issues and Risks modified since then (they live in project-site lists,
        so editing one does not republish its project).

        ``until`` is not applied: a record changed after it is simply read now and again next
        run (the overlap de-duplicates), which is cheaper than missing it.
        """
        threshold = self._server_time(since - self.overlap) if since else None
        if scope.name == RAID_SCOPE.name:
            yield from self._pull_raid(threshold)
            return
        if scope.name != PROJECTS_SCOPE.name:
            raise ConfigError(f"unknown scope {scope.name!r}", connection=self.name)
        # One listing of every project; the date test is ours (see PwaApi.projects).
        listed = list(self.api.projects())
        people: set[str] = set()  # a resource on several teams is yielded once per pull
        to_read: list[str] = []
        for summary in listed:
            if not self._selected(summary):
                continue
            project_id = str(summary.get("Id") or "").lower()
            if not project_id:
                raise FatalConnectorError("a project in the list has no Id", connection=self.name)
            self._listed[project_id] = summary
            if threshold is not None and not self._changed_since(summary, threshold):
                continue
            if threshold is not None and self.own_publishes.ours(project_id, summary):
                # Unchanged since our own publish, which changed only what we wrote: the store
                # already holds it (the engine records what a write sent). --full reads it.
                self.echoes_skipped += 1
                continue
            to_read.append(project_id)
        if not to_read:
            return  # the catalog and the calendars too: a quiet run costs one listing
        yield from self._pull_calendars()
        catalog = self.catalog()
        for project_id, plan in self._read_ahead(to_read):
            if plan is not None:
                yield from self._map_project(project_id, plan, catalog, people)

    def _changed_since(self, summary: dict[str, Any], threshold: datetime) -> bool:
        raw = summary.get(self.options.changed_by)
        moment = parse_datetime(raw)
        if moment is None:
            # the 0001-01-01 sentinel: never published (or saved), nothing to read; no date at
            # all: read the project rather than risk missing it
            return not raw
        return moment >= threshold

    def _pull_calendars(self) -> Iterator[PulledRecord | Quarantined]:
        """Enterprise base calendars (one request, ``BaseCalendarExceptions`` expanded)."""
        if self._calendars is None:
            self._calendars = self.api.calendars()
        for calendar in self._calendars:
            calendar_id = str(calendar.get("Id") or "").lower()
            if not calendar_id:
                yield Quarantined(self.name, EntityType.CALENDAR, "?", "calendar without Id")
                continue
            yield self._record(EntityType.CALENDAR, calendar_id, mapper.map_calendar, calendar)

    def _selected(self, summary: dict[str, Any]) -> bool:
        if not self.options.projects:
            return True
        wanted = {p.lower() for p in self.options.projects}
        project_id = summary.get("Id") or summary.get("ProjectId")
        name = summary.get("Name") or summary.get("ProjectName")
        return str(project_id or "").lower() in wanted or str(name or "").lower() in wanted

    def _pull_raid(self, threshold: datetime | None) -> Iterator[PulledRecord | Quarantined]:
        changed = f"ModifiedDate ge {datetime_literal(threshold)}" if threshold else None
        rows: list[tuple[str, dict[str, Any]]] = []
        for kind, entity_set in (("issue", "Issues"), ("risk", "Risks")):
            rows += [
                (kind, row)
                for row in self.api.reporting_changed(entity_set, changed)
                if self._selected(row)
            ]
        if not rows:
            return
        # Owners are named, not linked: resolve names to resources only when there is work.
        by_name = {
            str(r["ResourceName"]).strip().lower(): str(r["ResourceId"]).lower()
            for r in self.api.reporting_resources()
            if r.get("ResourceName") and r.get("ResourceId")
        }
        fields = self._fields(EntityType.RAID_ITEM)
        catalog = self.catalog() if fields else CustomFieldCatalog(())
        for kind, row in rows:
            try:
                raid_id = mapper.raid_id(kind, row)
            except mapper.MappingError as exc:
                yield Quarantined(self.name, EntityType.RAID_ITEM, "?", f"{kind}: {exc}")
                continue
            yield self._record(
                EntityType.RAID_ITEM,
                raid_id,
                mapper.map_raid,
                kind,
                row,
                fields=fields,
                catalog=catalog,
                resources_by_name=by_name,
                impact_scale=self.options.risk_impact_scale,
            )

    def _ref(
        self,
        entity_type: EntityType,
        external_id: str,
        mapped: mapper.Mapped,
        key: str | None = None,
    ) -> ExternalRef:
        return ExternalRef(
            connection=self.name,
            entity_type=entity_type,
            external_id=external_id,
            external_key=key,
            version_token=mapped.version_token,
            source_modified_at=self._instant(mapped.modified),
        )

    def _record(
        self,
        entity_type: EntityType,
        external_id: str,
        build: Callable[..., mapper.Mapped],
        *args: Any,
        key: str | None = None,
        **kwargs: Any,
    ) -> PulledRecord | Quarantined:
        try:
            mapped = build(*args, **kwargs)
        except Exception as exc:  # one record's problem, never its connection's (isolation)
            problem = str(exc) if isinstance(exc, mapper.MappingError) else record_problem(exc)
            if problem is None:
                raise
            return Quarantined(
                connection=self.name,
                entity_type=entity_type,
                external_id=external_id,
                reason=f"{entity_type.value} {external_id}: {problem}",
            )
        return PulledRecord(
            ref=self._ref(entity_type, external_id, mapped, key),
            values=mapped.values,
            pointers=mapped.pointers,
        )

    def _read_ahead(self, project_ids: Sequence[str]) -> Iterator[tuple[str, _PlanRead | None]]:
        """Each plan as read, in order, with up to ``read_concurrency`` plans read ahead of
        the one being mapped: the reads of the next plans overlap the mapping of this one (and
        each other), as the publishes do. A failed read raises when its plan's turn comes, before
        anything of that plan is handed over; the reads still running are waited for."""
        workers = min(self.config.read_concurrency, len(project_ids))
        if workers <= 1:
            for project_id in project_ids:
                yield project_id, self._read_project(project_id)
            return
        ids = iter(project_ids)
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="pwa-read") as pool:
            ahead = deque((i, pool.submit(self._read_project, i)) for i in islice(ids, workers))
            try:
                while ahead:
                    project_id, future = ahead.popleft()
                    plan = future.result()
                    following = next(ids, None)
                    if following is not None:
                        ahead.append((following, pool.submit(self._read_project, following)))
                    yield project_id, plan
            finally:
                for _, future in ahead:
                    future.cancel()

    def _read_project(self, project_id: str) -> _PlanRead | None:
        """Every collection of one plan (None: it vanished since the listing). Everything is
        read before anything is mapped, so a failure never hands over a partial project."""
        try:
            project = self.api.project(project_id)
        except NotFoundError:
            log.info("[%s] project %s vanished between listing and reading", self.name, project_id)
            return None
        links = list(self.api.task_links(project_id))
        if any(not link.get("PredecessorTaskId") for link in links):
            # SharePoint 2019 publishes links without ids: read them again with their ends
            links = list(self.api.task_links(project_id, expand_ends=True))
        time_factors = mapper.ProjectTime.of(project)
        return _PlanRead(
            project=project,
            tasks=list(self.api.tasks(project_id)),
            links=links,
            assignments=list(self.api.assignments(project_id)),
            resources=list(self.api.project_resources(project_id)),
            percent=self._project_percent(project_id, project),
            time_factors=time_factors,
            baselines=self._baselines(project_id, time_factors),
        )

    def _map_project(
        self,
        project_id: str,
        plan: _PlanRead,
        catalog: CustomFieldCatalog,
        people: set[str],
    ) -> Iterator[PulledRecord | Quarantined]:
        project, tasks, links, assignments = plan.project, plan.tasks, plan.links, plan.assignments
        resources, percent, time_factors = plan.resources, plan.percent, plan.time_factors
        baselines = plan.baselines

        project_fields = self._fields(EntityType.PROJECT)
        record = self._record(
            EntityType.PROJECT,
            project_id,
            mapper.map_project,
            project,
            catalog=catalog,
            fields=project_fields,
            percent_complete=percent,
            time_zone=self.config.server_timezone,
        )
        yield record
        programme = record.pointers.get("programme") if isinstance(record, PulledRecord) else None
        if programme is not None and programme.external_id not in people:
            people.add(programme.external_id)  # once per pull, like a shared resource
            name = programme.external_id[len(mapper.PROGRAMME_PREFIX) :]
            yield PulledRecord(
                ref=ExternalRef(self.name, EntityType.PROGRAMME, programme.external_id, name),
                values={"name": name},
            )
        for resource in resources:
            resource_id = str(resource.get("Id") or "").lower()
            if not resource_id or resource_id in people:
                continue
            people.add(resource_id)
            yield self._record(EntityType.PERSON, resource_id, mapper.map_resource, resource)
        assignees = mapper.primary_assignees(assignments)
        by_task = mapper.assignments_by_task(assignments, time_factors)
        chosen = self.options.baseline
        summary_task = str(project.get("SummaryTaskId") or "").lower() or None
        task_fields = self._fields(EntityType.WORK_ITEM)
        milestone_fields = self._fields(EntityType.MILESTONE)
        for task in tasks:
            task_id = str(task.get("Id") or "").lower()
            if not task_id or task_id == summary_task or str(task.get("OutlineLevel")) == "0":
                continue  # the project summary task is the project itself
            self._task_project[task_id] = project_id
            milestone = mapper.is_milestone(task)
            if not milestone or self.options.milestones != "milestone":
                yield self._record(
                    EntityType.WORK_ITEM,
                    task_id,
                    mapper.map_task,
                    task,
                    key=task.get("WorkBreakdownStructure") or None,
                    project_id=project_id,
                    summary_task_id=summary_task,
                    catalog=catalog,
                    fields=task_fields,
                    assignee_id=assignees.get(task_id),
                    time=time_factors,
                    assignments=by_task.get(task_id, []),
                    baselines=None if chosen is None else baselines.get(task_id, []),
                )
            if milestone and self.options.milestones != "work_item":
                yield self._record(
                    EntityType.MILESTONE,
                    task_id,
                    mapper.map_milestone,
                    task,
                    project_id=project_id,
                    baseline_finish=next(
                        (b["finish"] for b in baselines.get(task_id, []) if b["number"] == chosen),
                        None,
                    ),
                    task_baseline=chosen is None,
                    fields=milestone_fields,
                    catalog=catalog,
                )
        for link in links:
            try:
                link_id = mapper.link_id(link)
            except mapper.MappingError as exc:
                yield Quarantined(
                    self.name, EntityType.DEPENDENCY, str(link.get("Id") or "?"), f"link: {exc}"
                )
                continue
            yield self._record(EntityType.DEPENDENCY, link_id, mapper.map_link, link, time_factors)

    def _project_percent(self, project_id: str, project: dict[str, Any]) -> Any:
        # The project itself has no PercentComplete; its summary task rolls it up. It comes
        # expanded with the project; a server that leaves it out is asked for it.
        expanded = project.get("ProjectSummaryTask")
        if isinstance(expanded, dict):
            return expanded.get("PercentComplete")
        try:
            return self.api.project_summary_task(project_id).get("PercentComplete")
        except NotFoundError:
            return None

    def _baselines(
        self, project_id: str, time_factors: mapper.ProjectTime
    ) -> dict[str, list[dict[str, Any]]]:
        """task id -> its baselines 0-10 from ProjectData TaskBaselines (one request per
        project), when the ``baseline`` option asks for the reporting feed; else nothing (the
        tasks carry baseline 0 themselves)."""
        if self.options.baseline is None:
            return {}
        self._await_reporting(project_id)
        rows = self.api.reporting("TaskBaselines", project_id)
        return mapper.reporting_baselines(rows, time_factors)

    def _await_reporting(self, project_id: str) -> None:
        """Wait until ProjectData shows the publish this run's listing saw. It lags publishing
        (a reporting job runs after each publish), and baselines read before it caught up
        would be the previous publish's, kept until the plan's next publish. Polled every
        ``queue_poll_seconds`` for up to ``queue_timeout_seconds``; past that the pull fails,
        retriable, and its cursor stays, so the next run reads the project again."""
        listed = parse_datetime((self._listed.get(project_id) or {}).get("LastPublishedDate"))
        if listed is None:
            return
        deadline = time.monotonic() + self.config.queue_timeout_seconds
        while True:
            reported = parse_datetime(self.api.reporting_publish_date(project_id))
            if reported is not None and reported >= listed:
                return
            if time.monotonic() >= deadline:
                waited = self.config.queue_timeout_seconds
                raise RetriableError(
                    f"project {project_id}: the reporting feed (ProjectData) still shows the "
                    f"publish before {listed.isoformat()} after {waited:g} s, so its baselines "
                    "cannot be read yet; the next run reads the project again (check the "
                    "Reporting jobs in Manage Queue Jobs if this persists)",
                    connection=self.name,
                )
            self._sleep(self.config.queue_poll_seconds)

    # -- push ----------------------------------------------------------------------------
    def push(self, writes: Sequence[PlannedWrite]) -> list[WriteResult]:
        results: list[WriteResult | None] = [None] * len(writes)
        plans: dict[str, _ProjectPlan] = {}
        for index, write in enumerate(writes):
            try:
                self._plan(write, index, plans)
            except (mapper.MappingError, PmoSyncError) as exc:
                results[index] = _failed(write, str(exc))
        for plan, token, error in self._apply_all(list(plans.values())):
            if error is not None:
                for index in plan.members:
                    results[index] = _failed(writes[index], str(error))
                continue
            for index in plan.members:
                write = writes[index]
                results[index] = WriteResult(
                    outbox_id=write.outbox_id,
                    ok=True,
                    external_id=write.external_id,
                    version_token=token if write.entity_type is EntityType.PROJECT else None,
                    values=write.values,
                )
        self.own_publishes.save()
        return [r for r in results if r is not None]

    def _apply_all(
        self, plans: list[_ProjectPlan]
    ) -> list[tuple[_ProjectPlan, str | None, PmoSyncError | None]]:
        """Each plan's cycle, up to ``publish_concurrency`` plans at once (their queue jobs
        run side by side on the server). A bug (not a PmoSyncError) is raised once every
        started cycle has ended, so no plan is left checked out by an abandoned thread."""

        def one(plan: _ProjectPlan) -> tuple[_ProjectPlan, str | None, PmoSyncError | None]:
            try:
                return plan, self._apply(plan), None
            except PmoSyncError as exc:
                return plan, None, exc

        workers = min(self.config.publish_concurrency, len(plans))
        if workers <= 1:
            return [one(plan) for plan in plans]
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="pwa-publish") as pool:
            futures = [pool.submit(one, plan) for plan in plans]
        return [future.result() for future in futures]  # the pool has waited for them all

    def _plan(self, write: PlannedWrite, index: int, plans: dict[str, _ProjectPlan]) -> None:
        if write.op != "update" or not write.external_id:
            raise FatalConnectorError(
                f"{write.entity_type.value}: creating records in PWA is not supported; create "
                "projects and tasks in Project and let pmo-sync link them",
                connection=self.name,
            )
        external_id = write.external_id.lower()
        if write.entity_type is EntityType.PROJECT:
            plan = plans.setdefault(external_id, _ProjectPlan(external_id))
            part = mapper.project_write(
                write.values, fields=self._fields(EntityType.PROJECT), catalog=self.catalog()
            )
            plan.write.custom_fields.update(part.custom_fields)
            plan.write.draft.update(part.draft)
        elif write.entity_type in (EntityType.WORK_ITEM, EntityType.MILESTONE):
            project_id = self._project_of(external_id)
            plan = plans.setdefault(project_id, _ProjectPlan(project_id))
            changes = write.values
            if write.entity_type is EntityType.MILESTONE:
                changes = mapper.canonical_milestone_changes(changes)
            body = mapper.task_write(
                changes,
                fields=self._fields(write.entity_type),
                day_start=self.options.clock("start"),
                day_finish=self.options.clock("finish"),
            )
            plan.tasks.setdefault(external_id, {}).update(body)
        else:
            raise FatalConnectorError(
                f"{write.entity_type.value} records are read-only in PWA", connection=self.name
            )
        plan.members.append(index)

    def _project_of(self, task_id: str) -> str:
        """The plan a task belongs to: known from this run's pull, else from the reporting
        feed's task index, else from the plans that feed has not caught up with yet."""
        if task_id not in self._task_project:
            project_id = self.api.task_project(task_id) or self._find_in_lagging_plans(task_id)
            if project_id is None:
                raise FatalConnectorError(f"task {task_id} not found", connection=self.name)
            self._task_project[task_id] = project_id
        return self._task_project[task_id]

    def _find_in_lagging_plans(self, task_id: str) -> str | None:
        """ProjectData is refreshed by a reporting job queued after each publish, so it lags
        publishing (learn.microsoft.com/previous-versions/office/project-odata/dn776317;
        support.microsoft.com "Configure rollup of timephased reporting data": the "Reporting
        Publish" queue job): a task published since is not in its index yet. Only plans whose
        reporting date is older than their ProjectServer publish can hold such a task; their
        task ids are read from ProjectServer, which is current."""
        if not self._listed:
            for summary in self.api.projects():
                if self._selected(summary) and summary.get("Id"):
                    self._listed[str(summary["Id"]).lower()] = summary
        reported = {
            str(row.get("ProjectId") or "").lower(): parse_datetime(
                row.get("ProjectLastPublishedDate")
            )
            for row in self.api.reporting_projects()
        }
        for project_id, summary in self._listed.items():
            published = parse_datetime(summary.get("LastPublishedDate"))
            caught_up = reported.get(project_id)
            if project_id in self._tasks_listed or (
                published is not None and caught_up is not None and caught_up >= published
            ):
                continue
            self._tasks_listed.add(project_id)
            for row in self.api.task_ids(project_id):
                if row.get("Id"):
                    self._task_project[str(row["Id"]).lower()] = project_id
            if task_id in self._task_project:
                return self._task_project[task_id]
        return None

    def _apply(self, plan: _ProjectPlan) -> str | None:
        """One check-out → update → publish cycle; force check-in on any failure."""
        pid = plan.project_id
        if not (plan.write.custom_fields or plan.write.draft or plan.tasks):
            return None
        before = self._check_out(pid)
        try:
            if plan.write.custom_fields:
                job = self.api.update_custom_fields(pid, plan.write.custom_field_dictionary())
                self.api.wait(pid, job, f"update custom fields of {pid}")
            if plan.write.draft:
                self.api.merge_draft(pid, plan.write.draft)
            for task_id, body in plan.tasks.items():
                self.api.merge_draft_task(pid, task_id, body)
            if plan.write.draft or plan.tasks:
                self.api.wait(pid, self.api.update_draft(pid), f"save draft {pid}")
            self.api.wait(pid, self.api.publish(pid, check_in=True), f"publish {pid}")
        except BaseException as exc:
            self._force_check_in(pid, exc)
            raise
        try:
            published = self.api.project(pid)
        except PmoSyncError:
            with self._publishes_lock:
                self.own_publishes.forget(pid)
            return None
        with self._publishes_lock:  # cycles of several plans end side by side (_apply_all)
            self._remember_publish(plan, before, published)
        moment = parse_datetime(published.get("LastPublishedDate"))
        return moment.isoformat() if moment else None

    def _remember_publish(
        self, plan: _ProjectPlan, before: dict[str, Any] | None, published: dict[str, Any]
    ) -> None:
        """Record the stamps our publish left, so the next pull need not re-read the plan, only
        when that publish changed nothing but what we wrote (which the store records):

        * the draft we checked out was the plan this run's listing showed (same publish and
          save stamps): nobody published or saved a draft between our pull and our check-out,
          so our publish carried no one else's change;
        * we wrote enterprise custom fields only: a draft or task change makes Project
          reschedule, which moves dates we did not write;
        * the site has no formula custom field, whose value could follow the ones we wrote;
        * the plan was checked in and nobody has it checked out again.

        Otherwise the record is dropped and the next pull reads the plan as before.
        """
        pid = plan.project_id
        listed = self._listed.get(pid)
        quiet = (
            listed is not None
            and before is not None
            and stamps(before) is not None
            and stamps(before) == stamps(listed)
            and not plan.write.draft
            and not plan.tasks
            and not self.catalog().has_formulas
            and published.get("IsCheckedOut") is False
        )
        if quiet:
            self.own_publishes.record(pid, published)
        else:
            self.own_publishes.forget(pid)

    def _check_out(self, project_id: str) -> dict[str, Any] | None:
        """Check the project out; the draft the server answers with (None if it sent none)."""
        wait = self.config.checkout_backoff_seconds
        attempts = self.config.checkout_attempts
        for attempt in range(1, attempts + 1):
            try:
                return self.api.check_out(project_id)
            except (ProjectCheckedOutError, ProjectWriteLockError) as exc:
                if attempt == attempts:
                    raise type(exc)(
                        f"project {project_id} is still locked after {attempts} check-out "
                        f"attempts ({exc}); its writes wait for the next run",
                        connection=self.name,
                    ) from None
                log.info(
                    "[%s] project %s locked (%s); retrying check-out in %.1f s",
                    self.name,
                    project_id,
                    type(exc).__name__,
                    wait,
                )
                self._sleep(wait)
                wait *= 2
        raise AssertionError("checkout_attempts is at least 1")  # the loop returns or raises

    def _force_check_in(self, project_id: str, cause: BaseException) -> None:
        wait = self.config.checkout_backoff_seconds
        for attempt in range(1, self.config.checkout_attempts + 1):
            try:
                job = self.api.check_in(project_id, force=True)
                # This job is what releases the lock: give it more time than the others.
                self.api.wait(
                    project_id,
                    job,
                    f"force check-in {project_id}",
                    timeout=3 * self.config.queue_timeout_seconds,
                )
                return
            except ProjectWriteLockError as exc:
                # Our own timed-out publish job may still hold the project: let it finish.
                if attempt == self.config.checkout_attempts:
                    self._report_lock_left(project_id, cause, exc)
                    return
                self._sleep(wait)
                wait *= 2
            except QueueJobBlockedError:
                # Queued behind the failed job: it releases the project once an administrator
                # cancels that job. Waiting here would only poll a job that cannot run.
                log.warning(
                    "[%s] project %s stays checked out: its check-in waits behind a failed "
                    "queue job (%s)",
                    self.name,
                    project_id,
                    cause,
                )
                if isinstance(cause, PmoSyncError):
                    cause.args = (
                        f"{cause.args[0]}; the project stays checked out until then (its "
                        "forced check-in is queued and runs once the failed job is cancelled)",
                    )
                return
            except PmoSyncError as exc:
                self._report_lock_left(project_id, cause, exc)
                return

    def _report_lock_left(self, project_id: str, cause: BaseException, exc: PmoSyncError) -> None:
        # The original error stays the one reported, extended to say the lock may remain.
        log.error(
            "[%s] project %s may still be checked out: force check-in failed (%s) after %s",
            self.name,
            project_id,
            exc,
            cause,
        )
        if isinstance(cause, PmoSyncError):
            cause.args = (
                f"{cause.args[0]}; force check-in ALSO failed ({exc}): the project may "
                "still be checked out in PWA",
            )


def _failed(write: PlannedWrite, error: str) -> WriteResult:
    return WriteResult(
        outbox_id=write.outbox_id, ok=False, external_id=write.external_id, error=error
    )
