"""Pure mapping of schedule files (``ScheduleFile``, read through MPXJ) into canonical records.

No I/O: ``reader.py`` reads, this module converts, ``connector.py`` wires them. A file maps as a
project published to Project Server maps through the PWA connector, reusing that mapper's
converters, and keeps the whole schedule besides (see docs/files-import.md):

* The project summary task (outline level 0, UID 0) is the project itself, not a work item;
  every other task is a ``WorkItem`` of kind ``summary``, ``milestone`` or ``task``. A milestone
  task is also a ``Milestone`` with the same external id (due = finish, baseline due = baseline 0
  finish). Each work item keeps its times, durations (working minutes, with the file's unit and
  the elapsed flag), schedule mode, constraint, deadline, calendar, actuals, MS Project's own
  slack/critical/early/late values, baselines 0-10, every assignment and its custom fields.
* Dates: ``start``/``due`` are days (a finish at exactly midnight ends the previous day);
  ``start_at``/``finish_at`` and the other date-times are the file's local wall clock.
* Links keep their type (FS/SS/FF/SF), their lag in minutes (rounded half-even as the PWA
  mapper rounds ``LinkLag``), a percentage lag as ``lag_percent`` and the elapsed flag.
* Every calendar of the file is a ``Calendar`` (external id ``{project}:cal:{UID}``); the project
  points at its default calendar, a task at its own calendar when it has one.
* Work resources become ``Person`` records; a task's assignee is the resource carrying most
  work on it (the PWA connector's rule); ``assignments`` lists them all.

Identity (§A.1 of the canonical model note: a UID is only unique inside one file): a project's
external id is its identity (GUID, else P6's project ID, title, name, file name), unless another
plan already holds that id (see ``plans.py``); a task's is its GUID, else ``{project}:{UID}``;
a resource's is its GUID, else ``{project}:resource:{UID}``; a link's ``{pred}->{succ}``.

Master plans and stubs: an inserted subproject row points at the subproject's project
(``WorkItem.subproject``) when that file is in the import or an earlier one; a placeholder of
another file's task resolves to that task when the file is in the same import; a file that
only stands for other projects (every task a placeholder) is a stub: it resolves to the real
project by code or name and is never a portfolio project of its own.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from pmosync.canonical_model import (
    EntityType,
    ExternalRef,
    PulledRecord,
    Quarantined,
    RemotePointer,
)
from pmosync.connectors.files.model import (
    CONSTRAINT_TYPES,
    ScheduleAssignment,
    ScheduleCalendar,
    ScheduleFile,
    ScheduleLink,
    ScheduleResource,
    ScheduleTask,
)
from pmosync.connectors.files.plans import (
    StoredProject,
    file_basename,
    plan_signature,
    resolve_plan_ids,
)
from pmosync.connectors.msproject import mapper as pwa_mapper
from pmosync.connectors.msproject.mapper import (
    MappingError,
    finish,
    finish_date,
    lag_minutes,
    percent,
    start_date,
    status_from_percent,
)

__all__ = [
    "READABLE",
    "MappedImport",
    "calendar_external_id",
    "count",
    "map_files",
    "map_import",
    "map_schedule_file",
    "project_code",
    "project_identity",
    "project_name",
    "task_external_id",
]

# The schedule fields a file holds beyond the ones the PWA connector already reads (its
# READABLE work item carries the rest of the schedule): each task's calendar and inserted
# subproject.
_SCHEDULE_FIELDS = frozenset({"calendar", "subproject"})

# What an import reads: what the PWA connector reads plus the whole schedule; a file's project
# code comes from the file (there is no team mapping to name it); files hold no RAID registers.
READABLE: dict[EntityType, frozenset[str]] = {
    **{k: v for k, v in pwa_mapper.READABLE.items() if k is not EntityType.RAID_ITEM},
    EntityType.PROJECT: frozenset(
        {
            "name",
            "code",
            "planned_start",
            "planned_finish",
            "percent_complete",
            "status",
            "status_date",
            "calendar",
            "external",
            "custom",
        }
    ),
    EntityType.WORK_ITEM: pwa_mapper.READABLE[EntityType.WORK_ITEM] | _SCHEDULE_FIELDS,
    EntityType.MILESTONE: pwa_mapper.READABLE[EntityType.MILESTONE] | {"due_at"},
    EntityType.DEPENDENCY: pwa_mapper.READABLE[EntityType.DEPENDENCY]
    | {"lag_percent", "lag_elapsed", "origin"},
    EntityType.CALENDAR: frozenset(
        {
            "name",
            "project",
            "base_calendar",
            "week",
            "exceptions",
            "minutes_per_day",
            "minutes_per_week",
            "days_per_month",
        }
    ),
}

# Custom fields (by alias or name, case-insensitive) that carry a project's code.
CODE_FIELDS = ("project code", "code")
# Extensions stripped from a project name that is really a file name (MSPDI's <Name>).
_FILE_SUFFIXES = (".xml", ".mpp", ".mpx", ".xer", ".mpt")
# MPXJ TimeUnit names -> the unit MS Project shows ("3ed" is three elapsed days).
DURATION_UNITS: dict[str, str] = {
    "MINUTES": "m",
    "HOURS": "h",
    "DAYS": "d",
    "WEEKS": "w",
    "MONTHS": "mo",
    "YEARS": "y",
    "ELAPSED_MINUTES": "em",
    "ELAPSED_HOURS": "eh",
    "ELAPSED_DAYS": "ed",
    "ELAPSED_WEEKS": "ew",
    "ELAPSED_MONTHS": "emo",
    "ELAPSED_YEARS": "ey",
    "PERCENT": "%",
    "ELAPSED_PERCENT": "e%",
}
_PERCENT_UNITS = ("PERCENT", "ELAPSED_PERCENT")

Record = PulledRecord | Quarantined


@dataclass(frozen=True)
class _Provenance:
    """What every record of one file carries: where it came from and which save of it."""

    connection: str
    version_token: str
    modified: datetime | None

    def ref(self, entity_type: EntityType, external_id: str, key: str | None = None) -> ExternalRef:
        return ExternalRef(
            connection=self.connection,
            entity_type=entity_type,
            external_id=external_id,
            external_key=key,
            version_token=self.version_token,
            source_modified_at=self.modified,
        )


# -- identity ------------------------------------------------------------------------------


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _guid(value: str | None) -> str | None:
    """GUIDs lower-cased, as the PWA mapper keeps them; an all-zero GUID is no GUID."""
    text = _text(value)
    if text is None or set(text.replace("-", "").replace("{", "").replace("}", "")) <= {"0"}:
        return None
    return text.strip("{}").lower()


def project_identity(sf: ScheduleFile) -> str:
    """The project's stable identity: GUID, P6 project ID, title, name, else the file name."""
    props = sf.properties
    if props is not None:
        for candidate in (_guid(props.guid), _text(props.project_id)):
            if candidate:
                return candidate
        for candidate in (props.title, props.name):
            if _text(candidate):
                return str(_text(candidate))
    name = sf.path.name
    # A multi-project file with neither GUIDs nor IDs: its projects differ only by position.
    return f"{name}#{sf.project_index}" if sf.project_index else name


def _summary_task(sf: ScheduleFile) -> ScheduleTask | None:
    return next((t for t in sf.tasks if t.outline_level == 0), None)


def project_name(sf: ScheduleFile) -> str:
    """Title, else the project summary task's name, else the name (file suffix dropped)."""
    props = sf.properties
    summary = _summary_task(sf)
    for candidate in (
        props.title if props else None,
        summary.name if summary else None,
        props.name if props else None,
    ):
        text = _text(candidate)
        if text:
            for suffix in _FILE_SUFFIXES:
                if text.lower().endswith(suffix):
                    return text[: -len(suffix)]
            return text
    return sf.path.stem


def project_code(sf: ScheduleFile) -> str:
    """A custom field named or aliased "Project Code" or "Code", else the project's name.

    The code is what ``sync.identity`` matches projects across tools by (by default), so a
    PMO that keys projects by code should put it in such a field; the title is the fallback.
    """
    summary = _summary_task(sf)
    sources: list[Mapping[str, Any]] = [summary.custom_fields] if summary else []
    for wanted in CODE_FIELDS:
        for values in sources:
            for key, value in values.items():
                if key.strip().lower() == wanted and _text(value):
                    return str(_text(value))
    return project_name(sf)


def task_external_id(identity: str, task: ScheduleTask, *, namespaced: bool = False) -> str:
    """The task's GUID, else ``{project}:{UID}``; always the latter for a plan that had to
    take another id than its own (a copied plan shares its tasks' GUIDs with the original)."""
    guid = None if namespaced else _guid(task.guid)
    return guid or f"{identity}:{task.unique_id}"


def calendar_external_id(project: str, calendar_uid: int) -> str:
    return f"{project}:cal:{calendar_uid}"


def _resource_external_id(identity: str, resource: ScheduleResource) -> str:
    return _guid(resource.guid) or f"{identity}:resource:{resource.unique_id}"


def _provenance(sf: ScheduleFile, connection: str) -> _Provenance:
    last_saved = sf.properties.last_saved if sf.properties else None
    # MSPDI and MPP store LastSaved as a wall clock with no zone; it is taken as UTC (the
    # only choice that does not depend on the importing machine), which is good enough for
    # "which save is newer", the one thing it decides.
    modified = None
    if last_saved is not None:
        modified = last_saved if last_saved.tzinfo else last_saved.replace(tzinfo=UTC)
        modified = modified.astimezone(UTC)
    saved = modified.isoformat() if modified else ""
    return _Provenance(connection, f"{sf.sha256 or ''}:{saved}", modified)


# -- values --------------------------------------------------------------------------------


def _percent(value: float | None) -> Decimal | None:
    if value is None:
        return None
    # 50.0 and 50 are one value; keep the integral form PWA's payloads have.
    return percent(int(value) if float(value).is_integer() else value)


def _minutes(value: float | None) -> Decimal | None:
    """Minutes as the reader gave them (to a thousandth); integral ones without a fraction,
    so that a re-import hashes exactly as the import before it."""
    if value is None:
        return None
    rounded = round(float(value), 3)
    return Decimal(int(rounded)) if rounded.is_integer() else Decimal(str(rounded))


def _money(value: float | None) -> Decimal | None:
    if value is None:
        return None
    rounded = round(float(value), 4)
    return Decimal(int(rounded)) if rounded.is_integer() else Decimal(str(rounded))


def _kind(task: ScheduleTask) -> str:
    if task.summary or task.inserted_project:
        return "summary"  # an inserted subproject stands for a whole plan
    return "milestone" if task.milestone else "task"


def _unit(name: str | None) -> str | None:
    return None if name is None else DURATION_UNITS.get(name, name.lower())


def _project_values(sf: ScheduleFile, *, external: bool) -> dict[str, Any]:
    props = sf.properties
    summary = _summary_task(sf)
    values: dict[str, Any] = {
        "name": project_name(sf),
        # a stub's code would match it to the real project of another tool by the identity
        # rule and mark that one external; the stub is only ever matched here, by name
        "code": None if external else project_code(sf),
        "planned_start": start_date(props.start if props else None),
        "planned_finish": finish_date(props.finish if props else None),
        "status_date": props.status_date if props else None,
        "external": external,
        # project-level custom fields (ENTERPRISE_PROJECT_*, Text fields of the summary row)
        "custom": dict(summary.custom_fields) if summary else {},
    }
    # The project has no % complete of its own; its summary task rolls it up (as in PWA).
    pct = _percent(summary.percent_complete) if summary else None
    if pct is not None:
        values["percent_complete"] = pct
        values["status"] = status_from_percent(pct)
    return values


def _baseline_values(task: ScheduleTask) -> list[dict[str, Any]]:
    return [
        {
            "number": b.number,
            "start": b.start,
            "finish": b.finish,
            "duration_minutes": _minutes(b.duration_minutes),
            "work_minutes": _minutes(b.work_minutes),
            "cost": _money(b.cost),
        }
        for b in sorted(task.baselines, key=lambda b: b.number)
    ]


def _task_values(task: ScheduleTask) -> dict[str, Any]:
    pct = _percent(task.percent_complete)
    status = status_from_percent(pct)
    if not task.active:
        status = "cancelled"  # an inactive task stays in the plan but no longer counts
    unit = task.duration_unit
    constraint = CONSTRAINT_TYPES.get(task.constraint_type or "") if task.constraint_type else None
    return {
        "name": task.name,
        "key": _text(task.wbs),
        "kind": _kind(task),
        "start": start_date(task.start),
        "due": finish_date(task.finish),
        "percent_complete": pct,
        "status": status,
        "start_at": task.start,
        "finish_at": task.finish,
        "outline_level": task.outline_level,
        "duration_minutes": _minutes(task.duration_minutes),
        "duration_unit": _unit(unit),
        "duration_elapsed": None if unit is None else unit.startswith("ELAPSED_"),
        "remaining_minutes": _minutes(task.remaining_duration_minutes),
        "work_minutes": _minutes(task.work_minutes),
        "schedule_mode": "manual" if task.manually_scheduled else "auto",
        "constraint_type": constraint,
        "constraint_date": task.constraint_date,
        "deadline": task.deadline,
        "actual_start": task.actual_start,
        "actual_finish": task.actual_finish,
        "source_critical": task.critical,
        "source_total_slack_minutes": _minutes(task.total_slack_minutes),
        "source_free_slack_minutes": _minutes(task.free_slack_minutes),
        "source_early_start": task.early_start,
        "source_early_finish": task.early_finish,
        "source_late_start": task.late_start,
        "source_late_finish": task.late_finish,
        "baselines": _baseline_values(task),
        "custom": dict(task.custom_fields),
    }


def _milestone_values(task: ScheduleTask) -> dict[str, Any]:
    pct = _percent(task.percent_complete)
    baseline = next((b for b in task.baselines if b.number == 0), None)
    return {
        "name": task.name,
        "due": finish_date(task.finish),
        "due_at": task.finish,
        "baseline_due": finish_date(baseline.finish if baseline else None),
        "status": status_from_percent(pct),
        "done": None if pct is None else pct >= 100,
    }


def _link_values(link: ScheduleLink) -> dict[str, Any]:
    lag_percent: Decimal | None = None
    minutes = link.lag_minutes
    if link.lag_unit in _PERCENT_UNITS:
        # MS Project's "FS+50%": kept as the percentage (a scheduler applies it to the
        # predecessor's duration); the minutes are that share when the reader knew it.
        lag_percent = _minutes(link.lag_value)
        minutes = minutes if minutes is not None else 0.0
    elif minutes is None:
        raise MappingError(
            "lag_minutes", f"lag {link.lag_value:g} {link.lag_unit} has no length in minutes"
        )
    return {
        "link_type": link.type,
        # the PWA mapper rounds tenths of a minute; files give minutes
        "lag_minutes": lag_minutes(Decimal(str(minutes)) * 10),
        "lag_percent": lag_percent,
        "lag_elapsed": link.lag_elapsed,
        "dependency_class": "logic",
        "origin": "schedule_link",
    }


def _calendar_values(cal: ScheduleCalendar) -> dict[str, Any]:
    return {
        "name": cal.name,
        "week": [None if day is None else [list(r) for r in day] for day in cal.week],
        "exceptions": [
            {
                "start": exc.from_date,
                "finish": exc.to_date,
                "name": exc.name,
                "intervals": [list(r) for r in exc.ranges],
            }
            for exc in sorted(cal.exceptions, key=lambda e: (e.from_date, e.to_date))
        ],
        "minutes_per_day": cal.minutes_per_day,
        "minutes_per_week": cal.minutes_per_week,
        "days_per_month": cal.days_per_month,
    }


def _primary_assignees(sf: ScheduleFile, people: Mapping[int, str]) -> dict[int, str]:
    """task UID -> external id of the person carrying most work on it (ties: lowest UID).

    The PWA mapper's rule (``primary_assignees``), over UIDs instead of GUIDs.
    """
    best: dict[int, tuple[float, int]] = {}
    for assignment in sf.assignments:
        resource = assignment.resource_unique_id
        if resource is None or resource not in people:
            continue
        work = assignment.work_minutes or 0.0
        current = best.get(assignment.task_unique_id)
        if current is None or work > current[0] or (work == current[0] and resource < current[1]):
            best[assignment.task_unique_id] = (work, resource)
    return {task: people[resource] for task, (_, resource) in best.items()}


def _assignment_values(
    sf: ScheduleFile, identity: str, people: Mapping[int, str]
) -> dict[int, list[dict[str, Any]]]:
    """task UID -> every resource on it, in a stable order (so a re-import hashes the same).

    ``resource`` is the resource's external id; ``person`` the same id when the resource is a
    work resource (a ``Person`` of this connection), so it resolves through the link table.
    """
    resources = {r.unique_id: r for r in sf.resources}
    out: dict[int, list[tuple[tuple[int, int], dict[str, Any]]]] = {}
    for assignment in sf.assignments:
        uid = assignment.resource_unique_id
        if uid is None:
            continue  # MS Project's "unassigned" placeholder: no resource at all
        resource = resources.get(uid)
        key = (
            _resource_external_id(identity, resource)
            if resource is not None
            else f"{identity}:resource:{uid}"
        )
        values = _one_assignment(assignment, key, resource, people.get(uid))
        order = (assignment.unique_id if assignment.unique_id is not None else -1, uid)
        out.setdefault(assignment.task_unique_id, []).append((order, values))
    return {task: [v for _, v in sorted(rows, key=lambda r: r[0])] for task, rows in out.items()}


def _one_assignment(
    assignment: ScheduleAssignment,
    key: str,
    resource: ScheduleResource | None,
    person: str | None,
) -> dict[str, Any]:
    return {
        "resource": key,
        "resource_name": _text(resource.name) if resource else None,
        "person": person,
        "units_percent": _minutes(assignment.units_percent),
        "work_minutes": _minutes(assignment.work_minutes),
        "actual_work_minutes": _minutes(assignment.actual_work_minutes),
        "remaining_work_minutes": _minutes(assignment.remaining_work_minutes),
        "start": assignment.start,
        "finish": assignment.finish,
        "cost": _money(assignment.cost),
    }


def _is_person(resource: ScheduleResource) -> bool:
    # UID 0 is MS Project's hidden placeholder resource; material and cost are not people.
    return bool(_text(resource.name)) and (resource.type or "WORK") == "WORK"


def is_stub(sf: ScheduleFile) -> bool:
    """A project that only stands for another one: a P6 project the file holds only because
    an exported one links to it (export flag off), or a file whose every task is a placeholder
    of another project's task (MSPDI/MPP external tasks)."""
    if sf.properties is not None and sf.properties.export_flag is False:
        return True
    tasks = [t for t in sf.tasks if t.outline_level != 0]
    return bool(tasks) and all(t.external for t in tasks)


# -- across the files of an import ------------------------------------------------------------


@dataclass
class _Batch:
    """What one file's mapping may look up in the rest of the import and in the store."""

    ids: Mapping[int, str] = field(default_factory=dict)  # position -> project id
    base: Mapping[int, str] = field(default_factory=dict)  # position -> the file's own identity
    files: Sequence[ScheduleFile] = ()
    stored: Mapping[str, StoredProject] = field(default_factory=dict)

    def project_id(self, position: int, sf: ScheduleFile) -> str:
        return self.ids.get(position) or project_identity(sf)

    def namespaced(self, position: int) -> bool:
        return position in self.ids and self.ids[position] != self.base.get(position)

    def by_file_name(self, path_text: str) -> tuple[int, ScheduleFile] | None:
        """The file of this import a master plan names (by file name: the path is the
        author's machine's)."""
        wanted = file_basename(path_text)
        for position, sf in enumerate(self.files):
            if sf.ok and sf.properties is not None and file_basename(str(sf.path)) == wanted:
                return position, sf
        return None

    def subproject(self, path_text: str) -> str | None:
        """The project id of the file a subproject row names: in this import, else stored."""
        found = self.by_file_name(path_text)
        if found is not None:
            return self.project_id(*found)
        wanted = file_basename(path_text)
        for external_id, project in sorted(self.stored.items()):
            sig = project.signature
            if sig is not None and file_basename(sig.path) == wanted:
                return external_id
        return None

    def external_task(self, task: ScheduleTask) -> str | None:
        """The real task a placeholder stands for, when its file is in this import."""
        if not task.subproject_file:
            return None
        found = self.by_file_name(task.subproject_file)
        if found is None:
            return None
        position, other = found
        for candidate in other.tasks:
            if (
                task.subproject_task_unique_id is not None
                and candidate.unique_id == task.subproject_task_unique_id
            ) or (
                task.subproject_task_unique_id is None
                and task.subproject_task_id is not None
                and candidate.id == task.subproject_task_id
            ):
                return task_external_id(
                    self.project_id(position, other),
                    candidate,
                    namespaced=self.namespaced(position),
                )
        return None

    def real_project(self, stub: ScheduleFile) -> str | None:
        """The project a stub stands for: one of this import or the store, by code or name."""
        wanted = {project_code(stub).casefold(), project_name(stub).casefold()}
        identity = project_identity(stub)  # a stub often carries the real plan's GUID
        for position, sf in enumerate(self.files):
            if sf is stub or not sf.ok or sf.properties is None or is_stub(sf):
                continue
            names = {project_code(sf).casefold(), project_name(sf).casefold()}
            if names & wanted or self.base.get(position) == identity:
                return self.project_id(position, sf)
        known = self.stored.get(identity)
        if known is not None and not known.external:
            return identity
        for external_id, project in sorted(self.stored.items()):
            names = {(project.code or "").casefold(), (project.name or "").casefold()} - {""}
            if not project.external and names & wanted:
                return external_id
        return None


# -- one file ------------------------------------------------------------------------------


def _record(
    prov: _Provenance,
    entity_type: EntityType,
    external_id: str,
    values: dict[str, Any],
    pointers: dict[str, RemotePointer] | None = None,
    *,
    key: str | None = None,
    where: str,
) -> Record:
    try:
        checked = finish(entity_type, values, where)
    except MappingError as exc:
        return Quarantined(prov.connection, entity_type, external_id, f"{where}: {exc}")
    return PulledRecord(prov.ref(entity_type, external_id, key), checked, pointers or {})


def map_schedule_file(
    sf: ScheduleFile,
    *,
    connection: str,
    siblings: Sequence[ScheduleFile] = (),
    batch: _Batch | None = None,
    position: int = 0,
    notes: list[str] | None = None,
) -> list[Record]:
    """One project of one file as canonical records; a file that failed as one Quarantined.

    ``siblings`` are the other projects of the same multi-project file (XER), by
    ``project_index``, so a link between two of them can name the other project's task.
    ``batch`` is the rest of the import (``map_import`` passes it); ``notes`` collects lines
    for the run report (a subproject whose file is not imported, a stub resolved).
    """
    if sf.error is not None or sf.properties is None:
        reason = sf.error.message if sf.error else f"{sf.path}: no project in it"
        return [Quarantined(connection, EntityType.PROJECT, str(sf.path), reason)]
    batch = batch or _Batch()
    notes = notes if notes is not None else []
    prov = _provenance(sf, connection)
    identity = batch.project_id(position, sf)
    namespaced = batch.namespaced(position)
    where = f"{sf.path.name}"
    out: list[Record] = []

    stub = is_stub(sf)
    real = batch.real_project(sf) if stub else None
    if real is not None:
        notes.append(
            f"{sf.path}: only stands for project {project_name(sf)!r} (all its tasks are "
            f"placeholders), which is project {real} of this connection: nothing stored for it"
        )
    else:
        project_pointers: dict[str, RemotePointer] = {}
        default_cal = sf.properties.default_calendar_unique_id
        if default_cal is not None and any(c.unique_id == default_cal for c in sf.calendars):
            project_pointers["calendar"] = RemotePointer(
                EntityType.CALENDAR, calendar_external_id(identity, default_cal)
            )
        out.append(
            _record(
                prov,
                EntityType.PROJECT,
                identity,
                _project_values(sf, external=stub),
                project_pointers,
                # a stub claims no plan: the real plan, imported later, takes its id over
                key=None if stub else plan_signature(sf).key(),
                where=f"{where}: project {identity}",
            )
        )
    project = RemotePointer(EntityType.PROJECT, real or identity)

    calendar_ids = {c.unique_id for c in sf.calendars}
    if real is None:
        out.extend(_map_calendars(prov, sf, identity, project, where))

    people: dict[int, str] = {}
    for resource in sf.resources:
        if not _is_person(resource):
            continue
        person_id = _resource_external_id(identity, resource)
        people[resource.unique_id] = person_id
        values = {"name": _text(resource.name), "email": _text(resource.email)}
        out.append(
            _record(
                prov,
                EntityType.PERSON,
                person_id,
                values,
                where=f"{where}: resource UID {resource.unique_id}",
            )
        )
    assignees = _primary_assignees(sf, people)
    assignments = _assignment_values(sf, identity, people)

    # Task UID -> external id, for parents and link ends; the summary task and placeholders of
    # other projects' tasks are not work items of this project.
    ids: dict[int, str] = {}
    skipped: dict[int, str] = {}
    resolved: dict[int, str] = {}  # placeholder UID -> the real task of another file
    for task in sf.tasks:
        if task.outline_level == 0:
            skipped[task.unique_id] = "the project summary task"
        elif task.external:
            other = batch.external_task(task)
            if other is not None:
                resolved[task.unique_id] = other
            elif task.subproject_file:
                skipped[task.unique_id] = (
                    f"a placeholder of task {_task_ref(task)} of {task.subproject_file}, "
                    "which this import does not include (import both files together)"
                )
            else:
                skipped[task.unique_id] = "a placeholder of another project's task"
        elif stub:
            # the real project's own export holds this task; its links name it by that id
            skipped[task.unique_id] = f"a task of the external project {project_name(sf)!r}"
        else:
            ids[task.unique_id] = task_external_id(identity, task, namespaced=namespaced)
    seen: set[str] = set()
    for task in sf.tasks:
        task_id = ids.get(task.unique_id)
        if task_id is None:
            continue
        label = f"{where}: task UID {task.unique_id}"
        if task_id in seen:
            out.append(
                Quarantined(
                    connection,
                    EntityType.WORK_ITEM,
                    task_id,
                    f"{label}: external id {task_id} (its GUID) is used by another task",
                )
            )
            continue
        seen.add(task_id)
        pointers = {"project": project}
        parent = ids.get(task.parent_unique_id) if task.parent_unique_id is not None else None
        if parent:
            pointers["parent"] = RemotePointer(EntityType.WORK_ITEM, parent)
        if task.unique_id in assignees:
            pointers["assignee"] = RemotePointer(EntityType.PERSON, assignees[task.unique_id])
        if task.calendar_unique_id is not None and task.calendar_unique_id in calendar_ids:
            pointers["calendar"] = RemotePointer(
                EntityType.CALENDAR, calendar_external_id(identity, task.calendar_unique_id)
            )
        task_values = _task_values(task)
        task_values["assignments"] = assignments.get(task.unique_id, [])
        if task.inserted_project and task.subproject_file:
            target = batch.subproject(task.subproject_file)
            if target is not None:
                pointers["subproject"] = RemotePointer(EntityType.PROJECT, target)
            else:
                notes.append(
                    f"{sf.path}: task UID {task.unique_id} {task.name!r} is the inserted "
                    f"subproject {task.subproject_file}, which is neither in this import nor "
                    "imported before: import that file too to link them"
                )
        key = _text(task.wbs)
        out.append(
            _record(
                prov,
                EntityType.WORK_ITEM,
                task_id,
                task_values,
                pointers,
                key=key,
                where=label,
            )
        )
        if task.milestone and not task.summary:
            out.append(
                _record(
                    prov,
                    EntityType.MILESTONE,
                    task_id,
                    _milestone_values(task),
                    {"project": project},
                    key=key,
                    where=label,
                )
            )

    by_index = {s.project_index: s for s in siblings}
    ends = _LinkEnds(ids, skipped, resolved, identity, namespaced)
    for link in sf.links:
        out.extend(_map_link(prov, sf, link, ends, by_index, where))
    return out


def _task_ref(task: ScheduleTask) -> str:
    if task.subproject_task_unique_id is not None:
        return f"UID {task.subproject_task_unique_id}"
    if task.subproject_task_id is not None:
        return f"ID {task.subproject_task_id}"
    return repr(task.name)


def _map_calendars(
    prov: _Provenance, sf: ScheduleFile, identity: str, project: RemotePointer, where: str
) -> list[Record]:
    out: list[Record] = []
    known = {c.unique_id for c in sf.calendars}
    for cal in sf.calendars:
        pointers = {"project": project}
        if cal.base_calendar_unique_id is not None and cal.base_calendar_unique_id in known:
            pointers["base_calendar"] = RemotePointer(
                EntityType.CALENDAR, calendar_external_id(identity, cal.base_calendar_unique_id)
            )
        out.append(
            _record(
                prov,
                EntityType.CALENDAR,
                calendar_external_id(identity, cal.unique_id),
                _calendar_values(cal),
                pointers,
                where=f"{where}: calendar UID {cal.unique_id}",
            )
        )
    return out


@dataclass(frozen=True)
class _LinkEnds:
    ids: Mapping[int, str]
    skipped: Mapping[int, str]
    resolved: Mapping[int, str]
    identity: str
    namespaced: bool

    def get(self, uid: int) -> str | None:
        return self.ids.get(uid) or self.resolved.get(uid)


def _map_link(
    prov: _Provenance,
    sf: ScheduleFile,
    link: ScheduleLink,
    ends: _LinkEnds,
    siblings: Mapping[int, ScheduleFile],
    where: str,
) -> list[Record]:
    pred_uid, succ_uid = link.predecessor_unique_id, link.successor_unique_id
    label = f"{where}: link UID {pred_uid} -> UID {succ_uid}"
    pred, succ = ends.get(pred_uid), ends.get(succ_uid)
    if link.other_project_index is not None:
        other = siblings.get(link.other_project_index)
        local = {t.unique_id for t in sf.tasks}
        if pred_uid in local and succ_uid not in local:
            # The successor's project yields this link, so it is stored once.
            return []
        if other is not None and succ_uid in local:
            remote = next((t for t in other.tasks if t.unique_id == pred_uid), None)
            if remote is not None:
                pred = task_external_id(project_identity(other), remote)
    if pred is None or succ is None:
        missing = pred_uid if pred is None else succ_uid
        why = ends.skipped.get(missing, "a task that is not in the file")
        identity = ends.identity
        link_id = f"{pred or f'{identity}:{pred_uid}'}->{succ or f'{identity}:{succ_uid}'}"
        return [
            Quarantined(
                prov.connection,
                EntityType.DEPENDENCY,
                link_id,
                f"{label}: UID {missing} is {why}, not a work item of this import",
            )
        ]
    pointers = {
        "predecessor": RemotePointer(EntityType.WORK_ITEM, pred),
        "successor": RemotePointer(EntityType.WORK_ITEM, succ),
    }
    link_id = f"{pred}->{succ}"
    try:
        values = _link_values(link)
    except MappingError as exc:
        return [Quarantined(prov.connection, EntityType.DEPENDENCY, link_id, f"{label}: {exc}")]
    return [
        _record(prov, EntityType.DEPENDENCY, link_id, values, pointers, where=label),
    ]


# -- a batch of files ----------------------------------------------------------------------


def _last_saved(sf: ScheduleFile) -> datetime | None:
    return sf.properties.last_saved if sf.properties else None


def _superseded(files: Sequence[ScheduleFile], ids: Mapping[int, str]) -> dict[int, str]:
    """Position -> reason, for projects that another file of the batch holds in a later save
    (the same plan by ``plans.same_plan``, so the same project id)."""
    winners: dict[str, int] = {}
    out: dict[int, str] = {}
    for position, sf in enumerate(files):
        if sf.error is not None or sf.properties is None or position not in ids:
            continue
        identity = ids[position]
        if identity not in winners:
            winners[identity] = position
            continue
        kept = files[winners[identity]]
        mine = sf.properties.last_saved or datetime.min
        theirs = kept.properties.last_saved if kept.properties else None
        loser, winner = (position, winners[identity])
        # A later save wins; equal saves: the file named later on the command line.
        if theirs is None or mine >= theirs:
            loser, winner = winners[identity], position
            winners[identity] = position
        out.pop(winner, None)
        saves = {_last_saved(files[winner]), _last_saved(files[loser])}
        why = "saved later" if len(saves) == 2 else "saved at the same time and named later"
        out[loser] = (
            f"{files[loser].path}: project {identity} is also in {files[winner].path}, "
            f"a save of the same plan {why}; only that file's copy was imported"
        )
    return out


@dataclass
class MappedImport:
    """Every file of one import as canonical records, by path, and the run-report lines."""

    records: dict[Path, list[Record]]
    warnings: list[str]


def map_import(
    files: Sequence[ScheduleFile],
    *,
    connection: str,
    stored: Mapping[str, StoredProject] | None = None,
) -> MappedImport:
    """Every file of one import, by path (in the order read), as canonical records.

    ``stored`` is what earlier imports under this connection stored (project id -> its plan
    signature, name and code), so that a different plan carrying a stored project's GUID gets
    a project of its own (``plans.py``) and a master plan finds a subproject imported before.

    A person (resource GUID) shared by several files is yielded once, as the PWA connector
    yields a resource shared by several projects once per pull; so is a link that two files
    both hold (a cross-project link between a master and its subproject).
    """
    stored = stored or {}
    # a stub never owns a project id: it is resolved to the project it stands for
    identities = {
        position: project_identity(sf)
        for position, sf in enumerate(files)
        if sf.error is None and sf.properties is not None and not is_stub(sf)
    }
    plan_ids = resolve_plan_ids(files, identities, stored)
    batch = _Batch(plan_ids.ids, plan_ids.base, files, stored)
    superseded = _superseded(files, plan_ids.ids)
    by_path: dict[Path, list[ScheduleFile]] = {}
    for sf in files:
        by_path.setdefault(sf.path, []).append(sf)
    out: dict[Path, list[Record]] = {path: [] for path in by_path}
    warnings = list(plan_ids.warnings)
    once: set[tuple[EntityType, str]] = set()
    for position, sf in enumerate(files):
        if position in superseded:
            out[sf.path].append(
                Quarantined(
                    connection, EntityType.PROJECT, plan_ids.ids[position], superseded[position]
                )
            )
            continue
        siblings = [s for s in by_path[sf.path] if s is not sf]
        records = map_schedule_file(
            sf,
            connection=connection,
            siblings=siblings,
            batch=batch,
            position=position,
            notes=warnings,
        )
        for record in records:
            if isinstance(record, PulledRecord) and record.ref.entity_type in (
                EntityType.PERSON,
                EntityType.DEPENDENCY,
            ):
                key = (record.ref.entity_type, record.ref.external_id)
                if key in once:
                    continue
                once.add(key)
            out[sf.path].append(record)
    return MappedImport(out, warnings)


def map_files(files: Sequence[ScheduleFile], *, connection: str) -> dict[Path, list[Record]]:
    """``map_import`` with nothing stored before, records only."""
    return map_import(files, connection=connection).records


def count(records: Iterable[Record]) -> dict[str, int]:
    """Records per entity type (quarantined ones as ``quarantined``), for progress messages."""
    counts: dict[str, int] = {}
    for record in records:
        name = "quarantined" if isinstance(record, Quarantined) else record.ref.entity_type.value
        counts[name] = counts.get(name, 0) + 1
    return counts
