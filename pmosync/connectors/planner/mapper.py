"""Pure Dataverse (Planner Premium) <-> canonical functions. No HTTP, no store.

Field semantics and their sources:

* Dates (msdyn_scheduledstart/-end, msdyn_finish) are answered in UTC (Dataverse "Date and time
  column behavior": User Local columns are stored and returned in UTC,
  https://learn.microsoft.com/power-apps/maker/data-platform/behavior-format-date-time-field);
  the canonical start_at/finish_at are local wall-clock times in the connection's time zone.
* msdyn_duration is in days, msdyn_effort / msdyn_effortremaining in hours, msdyn_progress a
  percentage 0-100 (MPXJ's MsPlannerReader maps them to Duration, Work, % Complete; reference
  canonical-model-and-schedule-math.md, "Planner Premium"). A day is the project's
  msdyn_hoursperday (default 8).
* msdyn_projecttaskdependencylinktype: 0=FF, 1=FS, 2=SF, 3=SS, and
  msdyn_projecttaskdependencylinklag in seconds (MPXJ divides it by 3600 for hours; same
  reference section). Other public code treats the lag as minutes: docs/planner-premium.md.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from pmosync.canonical_model import EntityType, RemotePointer, validate_fields
from pmosync.config.mapping import FieldMapping
from pmosync.connectors.msproject.values import Mapped, MappingError, number, status_from_percent

LINK_TYPES = {0: "FF", 1: "FS", 2: "SF", 3: "SS"}
LINK_CODES = {v: k for k, v in LINK_TYPES.items()}

READABLE: dict[EntityType, frozenset[str]] = {
    EntityType.PROGRAMME: frozenset({"name"}),
    EntityType.PROJECT: frozenset(
        {
            "name",
            "description",
            "programme",
            "planned_start",
            "planned_finish",
            "percent_complete",
            "time_zone",
        }
    ),
    EntityType.WORK_ITEM: frozenset(
        {
            "name",
            "kind",
            "project",
            "parent",
            "status",
            "assignee",
            "start",
            "due",
            "percent_complete",
            "labels",
            "start_at",
            "finish_at",
            "outline_level",
            "duration_minutes",
            "duration_unit",
            "duration_elapsed",
            "work_minutes",
            "remaining_minutes",
            "schedule_mode",
            "source_critical",
            "assignments",
        }
    ),
    EntityType.MILESTONE: frozenset({"name", "project", "due", "due_at", "status", "done"}),
    EntityType.DEPENDENCY: frozenset(
        {"predecessor", "successor", "link_type", "lag_minutes", "lag_elapsed", "source_link_type"}
    ),
    EntityType.PERSON: frozenset({"name"}),
}

# canonical field -> msdyn_projecttask column a push may write (through msdyn_PssUpdateV1)
TASK_WRITABLE: dict[str, str] = {
    "name": "msdyn_subject",
    "start": "msdyn_scheduledstart",
    "due": "msdyn_scheduledend",
    "start_at": "msdyn_scheduledstart",
    "finish_at": "msdyn_scheduledend",
    "percent_complete": "msdyn_progress",
}
PROJECT_COLUMNS: dict[str, str] = {"name": "msdyn_subject", "description": "msdyn_description"}


# -- converters ----------------------------------------------------------------------------
def instant(value: Any) -> datetime | None:
    """A Dataverse Edm.DateTimeOffset ("2026-09-07T08:00:00Z") as an aware UTC datetime."""
    if value in (None, ""):
        return None
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise MappingError("date", f"{value!r} is not an ISO 8601 instant") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def local(value: Any, zone: ZoneInfo) -> datetime | None:
    moment = instant(value)
    return moment.astimezone(zone).replace(tzinfo=None) if moment else None


def to_instant(moment: datetime, zone: ZoneInfo) -> str:
    """A local wall-clock time (or aware instant) as Dataverse's UTC literal."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=zone)
    return aware.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def tidy(value: Decimal | None) -> Decimal | None:
    """1350.00 -> 1350 (products of decimals carry their scale; a value must hash the same
    however it was computed)."""
    if value is None:
        return None
    whole = value.to_integral_value()
    return whole if value == whole else value.normalize()


def _validated(entity_type: EntityType, values: dict[str, Any], record: str) -> dict[str, Any]:
    try:
        return validate_fields(entity_type, values)
    except ValidationError as exc:
        first = exc.errors()[0]
        name = str(first["loc"][0]) if first["loc"] else "?"
        raise MappingError(
            name, f"{values.get(name)!r} is not valid ({first['msg']}; {record})"
        ) from None


def _guid(row: Mapping[str, Any], name: str) -> str | None:
    value = row.get(name)
    return str(value).lower() if value else None


def _version(row: Mapping[str, Any]) -> tuple[str | None, datetime | None]:
    modified = instant(row.get("modifiedon"))
    token = row.get("@odata.etag") or (
        str(row["versionnumber"]) if row.get("versionnumber") else None
    )
    return (str(token) if token else None), modified


def mapped_values(row: Mapping[str, Any], fields: Mapping[str, FieldMapping]) -> dict[str, Any]:
    """Canonical values of the pull-direction fields the team mapping names (custom columns)."""
    out: dict[str, Any] = {}
    for name, mapping in fields.items():
        if mapping.direction == "push" or mapping.field not in row:
            continue
        value = row.get(mapping.field)
        if mapping.values is not None and value is not None:
            value = mapping.values.get(str(value))
        out[name] = value
    return out


def _add_mapped(
    values: dict[str, Any], row: Mapping[str, Any], fields: Mapping[str, FieldMapping]
) -> None:
    # a mapping naming a built-in column (msdyn_subject for name) gives authority for writes;
    # the value read is the one converted above (dates to local time), not the raw column
    for name, value in mapped_values(row, fields).items():
        values.setdefault(name, value)


# -- pull ----------------------------------------------------------------------------------
def map_programme(row: Mapping[str, Any]) -> Mapped:
    token, modified = _version(row)
    values = {"name": row.get("msdyn_name")}
    return Mapped(_validated(EntityType.PROGRAMME, values, "programme"), {}, token, modified)


def map_project(
    row: Mapping[str, Any], *, fields: Mapping[str, FieldMapping], zone: ZoneInfo, zone_name: str
) -> Mapped:
    project_id = _guid(row, "msdyn_projectid")
    if not project_id:
        raise MappingError("msdyn_projectid", "project has no id")
    start = local(row.get("msdyn_scheduledstart"), zone)
    finish = local(row.get("msdyn_finish"), zone)
    progress = number(row.get("msdyn_progress"), "percent_complete")
    values: dict[str, Any] = {
        "name": row.get("msdyn_subject"),
        "description": row.get("msdyn_description") or None,
        "planned_start": start.date() if start else None,
        "planned_finish": finish.date() if finish else None,
        "percent_complete": progress,
        "time_zone": zone_name,
    }
    _add_mapped(values, row, fields)
    pointers: dict[str, RemotePointer] = {}
    programme = _guid(row, "_msdyn_program_value")
    if programme:
        pointers["programme"] = RemotePointer(EntityType.PROGRAMME, programme)
    token, modified = _version(row)
    return Mapped(
        _validated(EntityType.PROJECT, values, f"project {project_id}"), pointers, token, modified
    )


@dataclass(frozen=True)
class ProjectTime:
    hours_per_day: Decimal = Decimal(8)

    @classmethod
    def of(cls, project: Mapping[str, Any]) -> ProjectTime:
        hours = number(project.get("msdyn_hoursperday"), "msdyn_hoursperday")
        return cls(hours if hours and hours > 0 else Decimal(8))


def map_task(
    row: Mapping[str, Any],
    *,
    project_id: str,
    zone: ZoneInfo,
    time_factors: ProjectTime,
    bucket: str | None,
    assignments: list[dict[str, Any]],
    fields: Mapping[str, FieldMapping],
) -> Mapped:
    task_id = _guid(row, "msdyn_projecttaskid")
    if not task_id:
        raise MappingError("msdyn_projecttaskid", "task has no id")
    kind = (
        "summary"
        if row.get("msdyn_summary")
        else ("milestone" if row.get("msdyn_ismilestone") else "task")
    )
    start_at = local(row.get("msdyn_scheduledstart"), zone)
    finish_at = local(row.get("msdyn_scheduledend"), zone)
    progress = number(row.get("msdyn_progress"), "percent_complete")
    days = number(row.get("msdyn_duration"), "duration_minutes")
    effort = number(row.get("msdyn_effort"), "work_minutes")
    minutes_per_day = time_factors.hours_per_day * 60
    duration = days * minutes_per_day if days is not None else None
    values: dict[str, Any] = {
        "name": row.get("msdyn_subject"),
        "kind": kind,
        "status": status_from_percent(progress),
        "start": start_at.date() if start_at else None,
        "due": finish_at.date() if finish_at else None,
        "percent_complete": progress,
        "labels": [bucket] if bucket else [],
        "start_at": start_at,
        "finish_at": finish_at,
        "outline_level": row.get("msdyn_outlinelevel"),
        "duration_minutes": tidy(duration),
        "duration_unit": "d",
        "duration_elapsed": False,
        "work_minutes": tidy(effort * 60) if effort is not None else None,
        # remaining duration, as MS Project derives it: duration x (1 - % complete)
        "remaining_minutes": tidy(duration * (100 - progress) / 100)
        if duration is not None and progress is not None
        else None,
        "schedule_mode": "manual" if row.get("msdyn_ismanual") else "auto",
        "source_critical": row.get("msdyn_iscritical"),
        "assignments": assignments,
    }
    _add_mapped(values, row, fields)
    pointers = {"project": RemotePointer(EntityType.PROJECT, project_id)}
    parent = _guid(row, "_msdyn_parenttask_value")
    if parent:
        pointers["parent"] = RemotePointer(EntityType.WORK_ITEM, parent)
    if assignments and assignments[0].get("person"):
        pointers["assignee"] = RemotePointer(EntityType.PERSON, str(assignments[0]["person"]))
    token, modified = _version(row)
    return Mapped(
        _validated(EntityType.WORK_ITEM, values, f"task {task_id}"), pointers, token, modified
    )


def map_milestone(row: Mapping[str, Any], *, project_id: str, zone: ZoneInfo) -> Mapped:
    due_at = local(row.get("msdyn_scheduledend"), zone)
    progress = number(row.get("msdyn_progress"), "percent_complete")
    values = {
        "name": row.get("msdyn_subject"),
        "due": due_at.date() if due_at else None,
        "due_at": due_at,
        "status": status_from_percent(progress),
        "done": None if progress is None else progress >= 100,
    }
    token, modified = _version(row)
    pointers = {"project": RemotePointer(EntityType.PROJECT, project_id)}
    return Mapped(_validated(EntityType.MILESTONE, values, "milestone"), pointers, token, modified)


def map_dependency(row: Mapping[str, Any]) -> Mapped:
    predecessor = _guid(row, "_msdyn_predecessortask_value")
    successor = _guid(row, "_msdyn_successortask_value")
    if not predecessor or not successor:
        raise MappingError("_msdyn_predecessortask_value", "link without both ends")
    code = row.get("msdyn_projecttaskdependencylinktype")
    link_type = LINK_TYPES.get(code if isinstance(code, int) else 1 if code is None else -1)
    if link_type is None:
        raise MappingError("msdyn_projecttaskdependencylinktype", f"unknown link type {code!r}")
    lag_seconds = number(row.get("msdyn_projecttaskdependencylinklag"), "lag_minutes") or Decimal(0)
    values = {
        "link_type": link_type,
        "lag_minutes": int(lag_seconds / 60),
        "lag_elapsed": False,
        "source_link_type": str(code if code is not None else 1),
    }
    pointers = {
        "predecessor": RemotePointer(EntityType.WORK_ITEM, predecessor),
        "successor": RemotePointer(EntityType.WORK_ITEM, successor),
    }
    token, modified = _version(row)
    return Mapped(
        _validated(EntityType.DEPENDENCY, values, "dependency"), pointers, token, modified
    )


def map_person(row: Mapping[str, Any]) -> Mapped:
    token, modified = _version(row)
    return Mapped(
        _validated(EntityType.PERSON, {"name": row.get("msdyn_name")}, "team member"),
        {},
        token,
        modified,
    )


def person_id(member: Mapping[str, Any]) -> str | None:
    """A team member is a person through its bookable resource (the same person on several
    teams); a member without one (a generic resource) is keyed on itself."""
    return _guid(member, "_msdyn_bookableresourceid_value") or _guid(member, "msdyn_projectteamid")


def assignments_by_task(
    rows: Sequence[Mapping[str, Any]],
    members: Mapping[str, Mapping[str, Any]],
    zone: ZoneInfo,
) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        task = _guid(row, "_msdyn_taskid_value")
        member_id = _guid(row, "_msdyn_projectteamid_value")
        if not task or not member_id:
            continue
        member = members.get(member_id, {})
        effort = number(row.get("msdyn_effort"), "assignments")
        out.setdefault(task, []).append(
            {
                "resource": member_id,
                "resource_name": member.get("msdyn_name"),
                "person": person_id(member) if member else None,
                "work_minutes": effort * 60 if effort is not None else None,
                "start": local(row.get("msdyn_scheduledstart"), zone),
                "finish": local(row.get("msdyn_scheduledend"), zone),
            }
        )
    for items in out.values():
        items.sort(key=lambda a: str(a["resource"]))
    return out


# -- push ----------------------------------------------------------------------------------
def _remote(name: str, mapping: FieldMapping, value: Any) -> Any:
    if mapping.values is not None and value is not None:
        remote = mapping.remote_for(value)
        if remote is None:
            raise MappingError(name, f"canonical value {value!r} has no remote option in values")
        value = remote
    return _json_value(value)


def _json_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    return value


def project_columns(
    changes: Mapping[str, Any], fields: Mapping[str, FieldMapping]
) -> dict[str, Any]:
    """Canonical project changes as msdyn_project columns (custom columns the mapping names)."""
    out: dict[str, Any] = {}
    for name, value in changes.items():
        mapping = fields.get(name)
        if mapping is None:
            if name not in PROJECT_COLUMNS:
                raise MappingError(name, "is not mapped to a msdyn_project column")
            mapping = FieldMapping(field=PROJECT_COLUMNS[name], direction="both")
        if mapping.direction == "pull":
            raise MappingError(name, "is mapped pull-only")
        out[mapping.field] = _remote(name, mapping, value)
    return out


def task_columns(
    changes: Mapping[str, Any],
    *,
    fields: Mapping[str, FieldMapping],
    zone: ZoneInfo,
    day_start: time,
    day_finish: time,
) -> dict[str, Any]:
    """Canonical task changes as msdyn_projecttask columns. Only fields the mapping names and
    does not mark pull-only are written: the mapping gives this connection the authority."""
    out: dict[str, Any] = {}
    for name, value in changes.items():
        mapping = fields.get(name)
        if mapping is None or mapping.direction == "pull":
            raise MappingError(name, "is not mapped for writing to Planner tasks")
        column = TASK_WRITABLE.get(name)
        if column is None or mapping.field != column:
            raise MappingError(
                name, f"only {', '.join(sorted(set(TASK_WRITABLE.values())))} are written"
            )
        if value is None:
            out[column] = None
        elif name in ("start", "due"):
            day = value if isinstance(value, date) else date.fromisoformat(str(value))
            moment = datetime.combine(day, day_start if name == "start" else day_finish)
            out[column] = to_instant(moment, zone)
        elif name in ("start_at", "finish_at"):
            moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
            out[column] = to_instant(moment, zone)
        elif name == "percent_complete":
            out[column] = float(value)
        else:
            out[column] = _json_value(value)
    return out
