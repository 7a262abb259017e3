"""Pure mapping of schedule files (``ScheduleFile``, read through MPXJ) into canonical records.

No I/O: ``reader.py`` reads, this module converts, ``connector.py`` wires them. A file maps
exactly as a project published to Project Server maps through the PWA connector, reusing that
mapper's converters (see docs/files-import.md):

* The project summary task (outline level 0, UID 0) is the project itself, not a work item;
  every other task is a ``WorkItem`` of kind ``summary``, ``milestone`` or ``task``. A milestone
  task is also a ``Milestone`` with the same external id (due = finish, baseline due = baseline 0
  finish). Placeholders of another project's tasks (cross-project links in MSPDI/MPP) are not
  this project's work items and are skipped; links to them are quarantined.
* Dates: start takes the day it falls on; a finish at exactly midnight ends the previous day.
* Links keep their type (FS/SS/FF/SF) and their lag in minutes, rounded half-even as the PWA
  mapper rounds ``LinkLag``. Elapsed lags ("2ed") are wall-clock minutes, as ``LinkLag`` is.
* Work resources become ``Person`` records; a task's assignee is the resource carrying most
  work on it (the PWA connector's rule). Material and cost resources are not people.

Identity (§A.1 of the canonical model note: a UID is only unique inside one file):

* project identity = the project GUID; else P6's project ID (XER/PMXML); else the project
  title; else the project name (MSPDI writes the file name there); else the file's name. The
  project's external id is that identity;
* a task's external id is its GUID (Project 2010+ files have one), else ``{identity}:{UID}``;
  a resource's is its GUID, else ``{identity}:resource:{UID}``; a link's is
  ``{predecessor id}->{successor id}`` (Project allows one link per pair).

So re-importing a file, or a newer save of it under another name, updates the same records.
When one import holds the same project twice (two saves of one schedule), the later save wins
and the other is quarantined, naming both files.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
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
    ScheduleFile,
    ScheduleLink,
    ScheduleResource,
    ScheduleTask,
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
    "count",
    "map_files",
    "map_schedule_file",
    "project_code",
    "project_identity",
    "project_name",
    "task_external_id",
]

# What an import reads: what the PWA connector reads, but a file's project code comes from the
# file (there is no team mapping to name it) and files hold no RAID registers.
READABLE: dict[EntityType, frozenset[str]] = {
    **{k: v for k, v in pwa_mapper.READABLE.items() if k is not EntityType.RAID_ITEM},
    EntityType.PROJECT: frozenset(
        {"name", "code", "planned_start", "planned_finish", "percent_complete", "status"}
    ),
}

# Custom fields (by alias or name, case-insensitive) that carry a project's code.
CODE_FIELDS = ("project code", "code")
# Extensions stripped from a project name that is really a file name (MSPDI's <Name>).
_FILE_SUFFIXES = (".xml", ".mpp", ".mpx", ".xer", ".mpt")

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


def task_external_id(identity: str, task: ScheduleTask) -> str:
    return _guid(task.guid) or f"{identity}:{task.unique_id}"


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


def _kind(task: ScheduleTask) -> str:
    if task.summary:
        return "summary"
    return "milestone" if task.milestone else "task"


def _project_values(sf: ScheduleFile) -> dict[str, Any]:
    props = sf.properties
    summary = _summary_task(sf)
    values: dict[str, Any] = {
        "name": project_name(sf),
        "code": project_code(sf),
        "planned_start": start_date(props.start if props else None),
        "planned_finish": finish_date(props.finish if props else None),
    }
    # The project has no % complete of its own; its summary task rolls it up (as in PWA).
    pct = _percent(summary.percent_complete) if summary else None
    if pct is not None:
        values["percent_complete"] = pct
        values["status"] = status_from_percent(pct)
    return values


def _task_values(task: ScheduleTask) -> dict[str, Any]:
    pct = _percent(task.percent_complete)
    status = status_from_percent(pct)
    if not task.active:
        status = "cancelled"  # an inactive task stays in the plan but no longer counts
    return {
        "name": task.name,
        "key": _text(task.wbs),
        "kind": _kind(task),
        "start": start_date(task.start),
        "due": finish_date(task.finish),
        "percent_complete": pct,
        "status": status,
    }


def _milestone_values(task: ScheduleTask) -> dict[str, Any]:
    pct = _percent(task.percent_complete)
    baseline = next((b for b in task.baselines if b.number == 0), None)
    return {
        "name": task.name,
        "due": finish_date(task.finish),
        "baseline_due": finish_date(baseline.finish if baseline else None),
        "status": status_from_percent(pct),
        "done": None if pct is None else pct >= 100,
    }


def _link_values(link: ScheduleLink) -> dict[str, Any]:
    if link.lag_minutes is None:
        raise MappingError(
            "lag_minutes",
            f"lag {link.lag_value:g} {link.lag_unit} has no length in minutes "
            "(a percentage of a predecessor without a duration)",
        )
    return {
        "link_type": link.type,
        # the PWA mapper rounds tenths of a minute; files give minutes
        "lag_minutes": lag_minutes(Decimal(str(link.lag_minutes)) * 10),
        "dependency_class": "logic",
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


def _is_person(resource: ScheduleResource) -> bool:
    # UID 0 is MS Project's hidden placeholder resource; material and cost are not people.
    return bool(_text(resource.name)) and (resource.type or "WORK") == "WORK"


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
) -> list[Record]:
    """One project of one file as canonical records; a file that failed as one Quarantined.

    ``siblings`` are the other projects of the same multi-project file (XER), by
    ``project_index``, so a link between two of them can name the other project's task.
    """
    if sf.error is not None or sf.properties is None:
        reason = sf.error.message if sf.error else f"{sf.path}: no project in it"
        return [Quarantined(connection, EntityType.PROJECT, str(sf.path), reason)]
    prov = _provenance(sf, connection)
    identity = project_identity(sf)
    where = f"{sf.path.name}"
    out: list[Record] = [
        _record(
            prov,
            EntityType.PROJECT,
            identity,
            _project_values(sf),
            where=f"{where}: project {identity}",
        )
    ]
    project = RemotePointer(EntityType.PROJECT, identity)

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

    # Task UID -> external id, for parents and link ends; the summary task and placeholders of
    # other projects' tasks are not work items of this project.
    ids: dict[int, str] = {}
    skipped: dict[int, str] = {}
    for task in sf.tasks:
        if task.outline_level == 0:
            skipped[task.unique_id] = "the project summary task"
        elif task.external:
            skipped[task.unique_id] = "a placeholder of another project's task"
        else:
            ids[task.unique_id] = task_external_id(identity, task)
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
        key = _text(task.wbs)
        out.append(
            _record(
                prov,
                EntityType.WORK_ITEM,
                task_id,
                _task_values(task),
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
    for link in sf.links:
        out.extend(_map_link(prov, sf, link, ids, skipped, by_index, where))
    return out


def _map_link(
    prov: _Provenance,
    sf: ScheduleFile,
    link: ScheduleLink,
    ids: Mapping[int, str],
    skipped: Mapping[int, str],
    siblings: Mapping[int, ScheduleFile],
    where: str,
) -> list[Record]:
    pred_uid, succ_uid = link.predecessor_unique_id, link.successor_unique_id
    label = f"{where}: link UID {pred_uid} -> UID {succ_uid}"
    pred, succ = ids.get(pred_uid), ids.get(succ_uid)
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
        why = skipped.get(missing, "a task that is not in the file")
        identity = project_identity(sf)
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


def _superseded(files: Sequence[ScheduleFile]) -> dict[int, str]:
    """Position -> reason, for projects that another file of the batch holds in a later save."""
    winners: dict[str, int] = {}
    out: dict[int, str] = {}
    for position, sf in enumerate(files):
        if sf.error is not None or sf.properties is None:
            continue
        identity = project_identity(sf)
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
            f"{why}; only that file's copy was imported"
        )
    return out


def map_files(files: Sequence[ScheduleFile], *, connection: str) -> dict[Path, list[Record]]:
    """Every file of one import, by path (in the order read), as canonical records.

    A person (resource GUID) shared by several files is yielded once, as the PWA connector
    yields a resource shared by several projects once per pull.
    """
    superseded = _superseded(files)
    by_path: dict[Path, list[ScheduleFile]] = {}
    for sf in files:
        by_path.setdefault(sf.path, []).append(sf)
    out: dict[Path, list[Record]] = {path: [] for path in by_path}
    people: set[str] = set()
    for position, sf in enumerate(files):
        if position in superseded:
            out[sf.path].append(
                Quarantined(
                    connection, EntityType.PROJECT, project_identity(sf), superseded[position]
                )
            )
            continue
        siblings = [s for s in by_path[sf.path] if s is not sf]
        for record in map_schedule_file(sf, connection=connection, siblings=siblings):
            if isinstance(record, PulledRecord) and record.ref.entity_type is EntityType.PERSON:
                if record.ref.external_id in people:
                    continue
                people.add(record.ref.external_id)
            out[sf.path].append(record)
    return out


def count(records: Iterable[Record]) -> dict[str, int]:
    """Records per entity type (quarantined ones as ``quarantined``), for progress messages."""
    counts: dict[str, int] = {}
    for record in records:
        name = "quarantined" if isinstance(record, Quarantined) else record.ref.entity_type.value
        counts[name] = counts.get(name, 0) + 1
    return counts
