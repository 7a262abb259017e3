"""Pure mapping between PWA payloads (cleaned of OData metadata) and canonical values.

No I/O here: the connector fetches, this module converts. Every function takes the payload of
one remote record plus what it needs to resolve (custom field catalog, team field mapping) and
returns canonical values validated against the canonical model, or raises :class:`MappingError`
naming the field, which the connector turns into a ``Quarantined`` record.

Decisions (see docs/microsoft-project.md):

* A summary task is a ``WorkItem`` of kind ``summary``; a milestone task is yielded twice, as a
  ``WorkItem`` of kind ``milestone`` (so dependencies and CPM see it) and as a ``Milestone``
  (due date, baseline due, done) with the same external id.
* Dates: Project stores local wall-clock times; start dates take the day they fall on, finish
  dates too, except a finish at exactly midnight, which ends the previous day.
* Link types use Project's codes FF=0, FS=1, SF=2, SS=3; ``LinkLag`` is in tenths of a minute
  (tenths of a percent for a percentage lag) and ``LinkLagFmt`` says its unit with MSPDI's
  LagFormat codes (7 = d, 8 = ed, 19 = %, ...; +32 = estimated).
* The schedule is kept as Project Server holds it (``schedule_values``): local wall-clock
  start/finish, durations and work in minutes from the ``…TimeSpan`` form (the
  ``…Milliseconds`` form is an Edm.Int32 and overflows past 596 hours), the display string's
  unit, constraint, deadline, actuals, Project's own slack and critical flag, baseline 0 from
  the task (0-10 from ProjectData TaskBaselines when read), every assignment and every
  enterprise custom field value by name.
* ``ConstraintType`` codes follow Microsoft.ProjectServer.Client.ConstraintType (CSOM,
  learn.microsoft.com jj232955): -1 NotSpecified, 0 ASAP, 1 ALAP, 2 MSO, 3 MFO, 4 SNET,
  5 SNLT, 6 FNET, 7 FNLT, the same codes as MSPDI and Task.ConstraintType of the server
  library. (The Project Online REST reference page prints 0 NotSpecified … 8 FNLT; see
  docs/microsoft-project.md.)
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import ValidationError

from pmosync.canonical_model import EntityType, RemotePointer, validate_fields
from pmosync.canonical_model.entities import ENTITY_CLASSES
from pmosync.config.mapping import FieldMapping
from pmosync.connectors.msproject.customfields import (
    CustomFieldCatalog,
    CustomFieldDef,
    CustomFieldValueError,
    decode,
    encode,
)
from pmosync.connectors.msproject.odata import parse_datetime
from pmosync.connectors.msproject.values import Mapped, MappingError, status_from_percent
from pmosync.connectors.msproject.values import number as _number

LINK_TYPES: dict[int, str] = {0: "FF", 1: "FS", 2: "SF", 3: "SS"}
LINK_CODES: dict[str, int] = {v: k for k, v in LINK_TYPES.items()}

# Canonical fields a Project source reads, per entity type (PWA and imported files alike).
READABLE: dict[EntityType, frozenset[str]] = {
    EntityType.PROJECT: frozenset(
        {"name", "description", "planned_start", "planned_finish", "percent_complete", "status"}
    ),
    EntityType.WORK_ITEM: frozenset(
        {
            "name",
            "key",
            "kind",
            "start",
            "due",
            "percent_complete",
            "status",
            "project",
            "parent",
            "assignee",
            # the schedule as Project Server holds it
            "start_at",
            "finish_at",
            "outline_level",
            "duration_minutes",
            "duration_unit",
            "duration_elapsed",
            "remaining_minutes",
            "work_minutes",
            "schedule_mode",
            "constraint_type",
            "constraint_date",
            "deadline",
            "actual_start",
            "actual_finish",
            "source_critical",
            "source_total_slack_minutes",
            "source_free_slack_minutes",
            "source_early_start",
            "source_early_finish",
            "source_late_start",
            "source_late_finish",
            "baselines",
            "assignments",
            "custom",
        }
    ),
    EntityType.MILESTONE: frozenset(
        {"name", "due", "due_at", "baseline_due", "status", "done", "project"}
    ),
    EntityType.DEPENDENCY: frozenset(
        {
            "predecessor",
            "successor",
            "link_type",
            "lag_minutes",
            "lag_percent",
            "lag_elapsed",
            "dependency_class",
            "origin",
        }
    ),
    EntityType.RAID_ITEM: frozenset(
        {"name", "kind", "status", "due", "probability", "impact", "mitigation", "project", "owner"}
    ),
    EntityType.PERSON: frozenset({"name", "email"}),
}

# Standard PWA properties that carry canonical fields without any mapping (pull only; a team
# mapping that names the same canonical field overrides these, and only mapped fields push).
PROJECT_DEFAULTS: dict[str, str] = {
    "name": "Name",
    "description": "Description",
    "planned_start": "StartDate",
    "planned_finish": "FinishDate",
}
# Writable DraftProject properties (a MERGE on /Draft), by their remote names.
DRAFT_PROJECT_WRITABLE = frozenset({"Name", "Description", "StartDate", "StatusDate"})
# Writable DraftTask properties we support pushing, by canonical field.
TASK_WRITABLE: dict[str, str] = {
    "name": "Name",
    "start": "Start",
    "due": "Finish",
    "percent_complete": "PercentComplete",
}

DEFAULT_RAID_STATUS: dict[str, str] = {
    "(1) Active": "active",
    "Active": "active",
    "(2) Postponed": "on_hold",
    "Postponed": "on_hold",
    "(3) Closed": "done",
    "Closed": "done",
}


# A programme named by a project custom field: its external id is this prefix and the name.
PROGRAMME_PREFIX = "programme:"


# -- small converters ----------------------------------------------------------------------


def start_date(value: Any) -> date | None:
    moment = parse_datetime(value)
    return moment.date() if moment else None


def finish_date(value: Any) -> date | None:
    """A finish instant as the inclusive last day: ``…T00:00`` ends the previous day."""
    moment = parse_datetime(value)
    if moment is None:
        return None
    if moment.time() == time(0, 0):
        return (moment - timedelta(days=1)).date()
    return moment.date()


def link_type(code: Any) -> str:
    try:
        return LINK_TYPES[int(code)]
    except (KeyError, TypeError, ValueError):
        raise MappingError("link_type", f"unknown DependencyType {code!r}") from None


def lag_minutes(tenths: Any) -> int:
    """``LinkLag`` (tenths of a minute, negative for a lead) as whole minutes."""
    if tenths in (None, ""):
        return 0
    try:
        value = Decimal(str(tenths)) / 10
    except InvalidOperation:
        raise MappingError("lag_minutes", f"LinkLag {tenths!r} is not a number") from None
    return int(value.to_integral_value(rounding="ROUND_HALF_EVEN"))


def percent(value: Any) -> Decimal | None:
    return _number(value, "percent_complete")


def _guid(raw: Mapping[str, Any], *names: str) -> str | None:
    """First present id among flat names and ``Nav/Id`` forms (``Parent`` expanded)."""
    for name in names:
        if "/" in name:
            nav, _, key = name.partition("/")
            inner = raw.get(nav)
            if isinstance(inner, Mapping) and inner.get(key):
                return str(inner[key]).lower()
        elif raw.get(name):
            return str(raw[name]).lower()
    return None


def _is_empty_guid(value: str | None) -> bool:
    return not value or set(value.replace("-", "")) == {"0"}


# -- reading mapped fields -----------------------------------------------------------------


def read_remote(
    raw: Mapping[str, Any], remote: str, catalog: CustomFieldCatalog, entity: str
) -> Any:
    """The value of a remote field: a property of the payload or an enterprise custom field
    (by display name, internal name or JSON key), lookup entries resolved to their text."""
    definition = catalog.find(remote, entity)
    if definition is not None:
        try:
            return decode(definition, raw.get(definition.json_key))
        except CustomFieldValueError as exc:
            raise MappingError(remote, str(exc)) from None
    if remote in raw:
        return raw[remote]
    raise MappingError(
        remote, f"is neither a {entity} property in the payload nor an enterprise custom field"
    )


def apply_values(name: str, mapping: FieldMapping, value: Any) -> Any:
    """Translate remote options to canonical values with the mapping's ``values`` table."""
    if mapping.values is None or value is None:
        return value
    if isinstance(value, list):
        return [apply_values(name, mapping, v) for v in value]
    if value in mapping.values:
        return mapping.values[value]
    for option, canonical in mapping.values.items():
        if str(option).lower() == str(value).lower():
            return canonical
    raise MappingError(name, f"remote value {value!r} has no entry in the mapping's values")


def _annotation_text(entity_type: EntityType, name: str) -> str:
    info = ENTITY_CLASSES[entity_type].model_fields.get(name)
    return str(info.annotation) if info else ""


def coerce(entity_type: EntityType, name: str, value: Any) -> Any:
    """Fit a remote value to the canonical field's type where the remote type differs."""
    text = _annotation_text(entity_type, name)
    if isinstance(value, datetime) and "datetime.date" in text and "datetime.datetime" not in text:
        return (
            finish_date(value)
            if name in ("due", "planned_finish", "baseline_due")
            else (value.date())
        )
    if isinstance(value, str) and "datetime.date" in text and value:
        parsed = parse_datetime(value)
        return parsed.date() if parsed else None
    if isinstance(value, Decimal) and ("int" in text and "Decimal" not in text):
        return int(value)
    if isinstance(value, list) and "list" not in text:
        return value[0] if value else None
    if "list" in text and not isinstance(value, list):
        return [] if value in (None, "") else [value]
    return value


def finish(entity_type: EntityType, values: dict[str, Any], record: str) -> dict[str, Any]:
    """Validate canonical values; a bad one becomes a MappingError naming the field."""
    try:
        return validate_fields(entity_type, values)
    except ValidationError as exc:
        first = exc.errors()[0]
        name = str(first["loc"][0]) if first["loc"] else "?"
        raise MappingError(
            name,
            f"{values.get(name)!r} is not valid for {entity_type.value}.{name}: "
            f"{first['msg']} ({record})",
        ) from None


def mapped_values(
    raw: Mapping[str, Any],
    *,
    entity_type: EntityType,
    remote_entity: str,
    fields: Mapping[str, FieldMapping],
    catalog: CustomFieldCatalog,
) -> dict[str, Any]:
    """Canonical values of every pull-direction field the team mapping names."""
    cls = ENTITY_CLASSES[entity_type]
    out: dict[str, Any] = {}
    for name, mapping in fields.items():
        direction = mapping.direction or ("push" if name in cls.computed else "both")
        if direction == "push" or name in cls.references:
            continue
        value = read_remote(raw, mapping.field, catalog, remote_entity)
        out[name] = coerce(entity_type, name, apply_values(name, mapping, value))
    return out


# -- the schedule --------------------------------------------------------------------------

CONSTRAINT_TYPES: dict[int, str] = {
    0: "ASAP",
    1: "ALAP",
    2: "MSO",
    3: "MFO",
    4: "SNET",
    5: "SNLT",
    6: "FNET",
    7: "FNLT",
}
# MSPDI LagFormat / DurationFormat codes (Microsoft's Project XML schema); +32 = estimated.
LAG_FORMATS: dict[int, str] = {
    3: "m",
    4: "em",
    5: "h",
    6: "eh",
    7: "d",
    8: "ed",
    9: "w",
    10: "ew",
    11: "mo",
    12: "emo",
    19: "%",
    20: "e%",
}
_DISPLAY = re.compile(r"^\s*(-?\d+(?:[.,]\d+)?)\s*(emo|em|eh|ed|ew|e%|mo|m|h|d|w|%)\??\s*$")
_TIMESPAN = re.compile(r"^(-)?P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$")


@dataclass(frozen=True)
class ProjectTime:
    """A project's working-time conversion factors (PublishedProject's own values)."""

    minutes_per_day: int = 480
    minutes_per_week: int = 2400
    days_per_month: int = 20

    @classmethod
    def of(cls, project: Mapping[str, Any]) -> ProjectTime:
        def number(name: str, default: int) -> int:
            try:
                return int(project.get(name) or default)
            except (TypeError, ValueError):
                return default

        return cls(
            number("MinutesPerDay", 480),
            number("MinutesPerWeek", 2400),
            number("DaysPerMonth", 20),
        )

    def unit_minutes(self, unit: str) -> Decimal:
        return Decimal(
            {
                "m": 1,
                "em": 1,
                "h": 60,
                "eh": 60,
                "d": self.minutes_per_day,
                "ed": 1440,
                "w": self.minutes_per_week,
                "ew": 10080,
                "mo": self.minutes_per_day * self.days_per_month,
                "emo": 43200,
            }[unit]
        )


def display_unit(text: Any) -> str | None:
    """The unit of a display string like ``"5d"``, ``"3ed"``, ``"2w?"``; None if unreadable."""
    match = _DISPLAY.match(str(text or ""))
    return match.group(2) if match else None


def timespan_minutes(text: Any) -> Decimal | None:
    """An Edm.Time (``"P24DT8H"``, ``"-PT30M"``) in minutes (days of 24 hours)."""
    match = _TIMESPAN.match(str(text or "").strip())
    if not match or text in ("P", "-P"):
        return None
    sign, days, hours, minutes, seconds = match.groups()
    total = (
        Decimal(days or 0) * 1440
        + Decimal(hours or 0) * 60
        + Decimal(minutes or 0)
        + Decimal(seconds or 0) / 60
    )
    return -total if sign else total


def amount_minutes(raw: Mapping[str, Any], prefix: str, time: ProjectTime) -> Decimal | None:
    """A duration or work amount in minutes: ``<prefix>TimeSpan`` first (no overflow), then
    ``<prefix>Milliseconds``, then the display string with the project's factors."""
    span = timespan_minutes(raw.get(f"{prefix}TimeSpan"))
    if span is not None:
        return span
    millis = raw.get(f"{prefix}Milliseconds")
    if millis not in (None, ""):
        try:
            return Decimal(str(millis)) / 60000
        except InvalidOperation:
            pass
    match = _DISPLAY.match(str(raw.get(prefix) or ""))
    if match and not match.group(2).endswith("%"):
        return Decimal(match.group(1).replace(",", ".")) * time.unit_minutes(match.group(2))
    return None


def constraint(code: Any) -> str | None:
    if code in (None, ""):
        return None
    try:
        number = int(code)
    except (TypeError, ValueError):
        raise MappingError("constraint_type", f"unknown ConstraintType {code!r}") from None
    if number == -1:
        return None  # NotSpecified
    if number not in CONSTRAINT_TYPES:
        raise MappingError("constraint_type", f"unknown ConstraintType {code!r}")
    return CONSTRAINT_TYPES[number]


def schedule_values(raw: Mapping[str, Any], time: ProjectTime) -> dict[str, Any]:
    """A PublishedTask's schedule in canonical fields (absent properties stay unset)."""
    unit = display_unit(raw.get("Duration"))
    values: dict[str, Any] = {
        "start_at": parse_datetime(raw.get("Start")),
        "finish_at": parse_datetime(raw.get("Finish")),
        "duration_minutes": amount_minutes(raw, "Duration", time),
        "duration_unit": unit,
        "duration_elapsed": None if unit is None else unit.startswith("e"),
        "remaining_minutes": amount_minutes(raw, "RemainingDuration", time),
        "work_minutes": amount_minutes(raw, "Work", time),
        "constraint_type": constraint(raw.get("ConstraintType")),
        "constraint_date": parse_datetime(raw.get("ConstraintStartEnd")),
        "deadline": parse_datetime(raw.get("Deadline")),
        "actual_start": parse_datetime(raw.get("ActualStart")),
        "actual_finish": parse_datetime(raw.get("ActualFinish")),
        "source_total_slack_minutes": amount_minutes(raw, "TotalSlack", time),
        "source_free_slack_minutes": amount_minutes(raw, "FreeSlack", time),
        "source_early_start": parse_datetime(raw.get("EarliestStart")),
        "source_early_finish": parse_datetime(raw.get("EarliestFinish")),
        "source_late_start": parse_datetime(raw.get("LatestStart")),
        "source_late_finish": parse_datetime(raw.get("LatestFinish")),
    }
    if "OutlineLevel" in raw:
        values["outline_level"] = int(raw["OutlineLevel"])
    if "IsManual" in raw:
        values["schedule_mode"] = "manual" if _flag(raw.get("IsManual")) else "auto"
    if "IsCritical" in raw:
        values["source_critical"] = _flag(raw.get("IsCritical"))
    return {k: v for k, v in values.items() if v is not None or k in _CLEARABLE}


# Schedule fields a republished plan may clear (a removed constraint date or deadline).
_CLEARABLE = frozenset({"constraint_date", "deadline", "actual_start", "actual_finish"})


def task_baseline(raw: Mapping[str, Any], time: ProjectTime) -> dict[str, Any] | None:
    """Baseline 0 from the task's own Baseline* properties; None when it has none."""
    values = {
        "number": 0,
        "start": parse_datetime(raw.get("BaselineStart")),
        "finish": parse_datetime(raw.get("BaselineFinish")),
        "duration_minutes": amount_minutes(raw, "BaselineDuration", time),
        "work_minutes": amount_minutes(raw, "BaselineWork", time),
        "cost": _decimal(raw.get("BaselineCost")),
    }
    if values["start"] is None and values["finish"] is None:
        return None  # Project keeps zero duration/work/cost on never-baselined tasks
    return values


def reporting_baselines(
    rows: Iterable[Mapping[str, Any]], time: ProjectTime
) -> dict[str, list[dict[str, Any]]]:
    """ProjectData TaskBaselines rows (0-10) by task id. Duration is in days and work in
    hours there (the reporting feed's units)."""
    out: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        task_id = str(row.get("TaskId") or "").lower()
        number = row.get("BaselineNumber")
        if not task_id or number in (None, ""):
            continue
        days = _decimal(row.get("TaskBaselineDuration"))
        hours = _decimal(row.get("TaskBaselineWork"))
        out.setdefault(task_id, []).append(
            {
                "number": int(number),
                "start": parse_datetime(row.get("TaskBaselineStartDate")),
                "finish": parse_datetime(row.get("TaskBaselineFinishDate")),
                "duration_minutes": None if days is None else days * time.minutes_per_day,
                "work_minutes": None if hours is None else hours * 60,
                "cost": _decimal(row.get("TaskBaselineCost")),
            }
        )
    for baselines in out.values():
        baselines.sort(key=lambda b: b["number"])
    return out


def _decimal(value: Any) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def assignment_values(raw: Mapping[str, Any], time: ProjectTime) -> dict[str, Any] | None:
    """A PublishedAssignment (``Resource`` expanded) as canonical AssignmentValues."""
    resource = _guid(raw, "ResourceId", "Resource/Id")
    if not resource or _is_empty_guid(resource):
        return None
    expanded = raw.get("Resource")
    name = expanded.get("Name") if isinstance(expanded, Mapping) else None
    return {
        "resource": resource,
        "resource_name": name or None,
        "work_minutes": amount_minutes(raw, "Work", time),
        "actual_work_minutes": amount_minutes(raw, "ActualWork", time),
        "remaining_work_minutes": amount_minutes(raw, "RemainingWork", time),
        "start": parse_datetime(raw.get("Start")),
        "finish": parse_datetime(raw.get("Finish")),
        "cost": _decimal(raw.get("Cost")),
    }


def assignments_by_task(
    assignments: Iterable[Mapping[str, Any]], time: ProjectTime
) -> dict[str, list[dict[str, Any]]]:
    """task id -> every assignment on it (stable order: by resource id)."""
    out: dict[str, list[dict[str, Any]]] = {}
    for raw in assignments:
        task = _guid(raw, "TaskId", "Task/Id")
        values = assignment_values(raw, time)
        if task and values:
            out.setdefault(task, []).append(values)
    for rows in out.values():
        rows.sort(key=lambda a: a["resource"])
    return out


def custom_values(
    raw: Mapping[str, Any], catalog: CustomFieldCatalog, entity: str
) -> dict[str, Any]:
    """Every enterprise custom field value in the payload, by the field's display name.

    A lookup value whose entry is not in the lookup table is kept as the raw entry names (the
    value is not lost, and the record is not quarantined for a field nobody mapped)."""
    out: dict[str, Any] = {}
    for key, value in raw.items():
        if not key.startswith("Custom_"):
            continue
        definition: CustomFieldDef | None = catalog.by_json_key(key)
        if definition is None or definition.entity not in (None, entity):
            continue
        try:
            decoded = decode(definition, value)
        except CustomFieldValueError:
            decoded = value
        if decoded in (None, [], ""):
            continue
        out[definition.name] = decoded
    return out


# -- calendars -----------------------------------------------------------------------------

_WEEKDAY_BITS = (2, 4, 8, 16, 32, 64, 1)  # CalendarRecurrenceDays, Monday first (Sunday = 1)


def exception_days(raw: Mapping[str, Any]) -> list[date]:
    """The days a PS.CalendarException covers, its recurrence expanded (learn.microsoft.com
    CalendarException / CalendarRecurrenceType: 0 daily and 1 daily-skip every
    RecurrenceFrequency days, 2 weekly on the RecurrenceDays mask, 3 monthly on
    RecurrenceMonthDay, 4 yearly on RecurrenceMonth/RecurrenceMonthDay)."""
    start = parse_datetime(raw.get("Start"))
    finish = parse_datetime(raw.get("Finish"))
    if start is None:
        return []
    first = start.date()
    last = max(first, finish.date()) if finish else first
    kind = int(raw.get("RecurrenceType") or 0)
    every = max(1, int(raw.get("RecurrenceFrequency") or 1))
    days: list[date] = []
    day = first
    while day <= last:
        offset = (day - first).days
        if kind in (0, 1):
            hit = offset % every == 0
        elif kind == 2:
            mask = int(raw.get("RecurrenceDays") or 0)
            week = offset // 7
            hit = bool(mask & _WEEKDAY_BITS[day.weekday()]) and week % every == 0
        elif kind == 3:
            month_day = int(raw.get("RecurrenceMonthDay") or first.day)
            months = (day.year - first.year) * 12 + day.month - first.month
            hit = day.day == month_day and months % every == 0
        elif kind == 4:
            month = int(raw.get("RecurrenceMonth") or first.month)
            month_day = int(raw.get("RecurrenceMonthDay") or first.day)
            hit = day.month == month and day.day == month_day
        else:
            raise MappingError("exceptions", f"unknown RecurrenceType {kind!r}")
        if hit:
            days.append(day)
        day += timedelta(days=1)
    return days


def exception_intervals(raw: Mapping[str, Any]) -> list[tuple[int, int]]:
    """Shift1..Shift5 (minutes from midnight) as working intervals; none = non-working."""
    out = []
    for number in range(1, 6):
        begin, end = raw.get(f"Shift{number}Start"), raw.get(f"Shift{number}Finish")
        if begin in (None, "") or end in (None, ""):
            continue
        b, e = int(begin), int(end)
        if e > b:
            out.append((b, e))
    return out


def map_calendar(raw: Mapping[str, Any]) -> Mapped:
    """A PS.Calendar with ``BaseCalendarExceptions`` expanded as a canonical Calendar.

    Project Server's REST API exposes no working week for a calendar (PS.Calendar has only
    its name, flags and exceptions), so ``week`` stays empty: the analysis uses the standard
    week there. A recurring exception becomes one exception per day it falls on; a plain span
    stays one exception."""
    calendar_id = _guid(raw, "Id")
    if not calendar_id:
        raise MappingError("Id", "calendar has no Id")
    exceptions: list[dict[str, Any]] = []
    rows = raw.get("BaseCalendarExceptions") or []
    for row in rows if isinstance(rows, list) else []:
        intervals = exception_intervals(row)
        days = exception_days(row)
        if not days:
            continue
        recurring = (
            int(row.get("RecurrenceType") or 0) > 1 or int(row.get("RecurrenceFrequency") or 1) > 1
        )
        spans = [(d, d) for d in days] if recurring else [(days[0], days[-1])]
        for first, last in spans:
            exceptions.append(
                {
                    "start": first,
                    "finish": last,
                    "name": row.get("Name") or None,
                    "intervals": intervals,
                }
            )
    values = {"name": raw.get("Name"), "exceptions": exceptions}
    modified = parse_datetime(raw.get("Modified"))
    return Mapped(
        values=finish(EntityType.CALENDAR, values, f"calendar {calendar_id}"),
        version_token=modified.isoformat() if modified else None,
        modified=modified,
    )


# -- entities ------------------------------------------------------------------------------


def map_project(
    raw: Mapping[str, Any],
    *,
    catalog: CustomFieldCatalog,
    fields: Mapping[str, FieldMapping],
    percent_complete: Any = None,
    time_zone: str | None = None,
) -> Mapped:
    """A PublishedProject (with ``IncludeCustomFields``, ``Calendar`` expanded) as a canonical
    Project. ``time_zone`` is the zone of its wall-clock dates: PWA's API does not say, so it
    is the connection's ``server_timezone``."""
    project_id = _guid(raw, "Id", "ProjectId")
    if not project_id:
        raise MappingError("Id", "project has no Id")
    values: dict[str, Any] = {
        "name": raw.get("Name") or raw.get("ProjectName"),
        "description": raw.get("Description") or None,
        "planned_start": start_date(raw.get("StartDate") or raw.get("ProjectStartDate")),
        "planned_finish": finish_date(raw.get("FinishDate") or raw.get("ProjectFinishDate")),
        "custom": custom_values(raw, catalog, "project"),
    }
    if "StatusDate" in raw:
        values["status_date"] = parse_datetime(raw.get("StatusDate"))
    if time_zone:
        values["time_zone"] = time_zone
    pct = percent(percent_complete)
    if pct is not None:
        values["percent_complete"] = pct
        values["status"] = status_from_percent(pct)
    values.update(
        mapped_values(
            raw,
            entity_type=EntityType.PROJECT,
            remote_entity="project",
            fields=fields,
            catalog=catalog,
        )
    )
    published = parse_datetime(raw.get("LastPublishedDate") or raw.get("ProjectLastPublishedDate"))
    modified = published or parse_datetime(
        raw.get("LastSavedDate") or raw.get("ProjectModifiedDate")
    )
    pointers: dict[str, RemotePointer] = {}
    programme = fields.get("programme")
    if programme is not None and programme.direction != "push":
        # an enterprise custom field (a lookup, usually) naming the project's programme
        text = read_remote(raw, programme.field, catalog, "project")
        if isinstance(text, list):
            text = text[0] if text else None
        if text is not None and str(text).strip():
            pointers["programme"] = RemotePointer(
                EntityType.PROGRAMME, PROGRAMME_PREFIX + str(text).strip()
            )
    calendar_id = _guid(raw, "Calendar/Id")
    if calendar_id and not _is_empty_guid(calendar_id):
        pointers["calendar"] = RemotePointer(EntityType.CALENDAR, calendar_id)
    return Mapped(
        values=finish(EntityType.PROJECT, values, f"project {project_id}"),
        pointers=pointers,
        version_token=modified.isoformat() if modified else None,
        modified=modified,
    )


def map_task(
    raw: Mapping[str, Any],
    *,
    project_id: str,
    summary_task_id: str | None,
    catalog: CustomFieldCatalog,
    fields: Mapping[str, FieldMapping],
    assignee_id: str | None = None,
    time: ProjectTime | None = None,
    assignments: list[dict[str, Any]] | None = None,
    baselines: list[dict[str, Any]] | None = None,
) -> Mapped:
    """A PublishedTask as a canonical WorkItem (kind task, summary or milestone) with its
    schedule, every assignment, its custom field values and its baselines (``baselines``
    from ProjectData when read, else baseline 0 from the task itself)."""
    time = time or ProjectTime()
    task_id = _guid(raw, "Id", "TaskId")
    if not task_id:
        raise MappingError("Id", "task has no Id")
    kind = "task"
    if _flag(raw.get("IsSummary")):
        kind = "summary"
    elif _flag(raw.get("IsMilestone")):
        kind = "milestone"
    pct = percent(raw.get("PercentComplete"))
    values: dict[str, Any] = {
        "name": raw.get("Name"),
        "key": raw.get("WorkBreakdownStructure") or None,
        "kind": kind,
        "start": start_date(raw.get("Start")),
        "due": finish_date(raw.get("Finish")),
        "percent_complete": pct,
        "status": status_from_percent(pct),
        **schedule_values(raw, time),
        "custom": custom_values(raw, catalog, "task"),
        "assignments": list(assignments or []),
    }
    if baselines is None:
        own = task_baseline(raw, time)
        baselines = [own] if own else []
    values["baselines"] = baselines
    values.update(
        mapped_values(
            raw,
            entity_type=EntityType.WORK_ITEM,
            remote_entity="task",
            fields=fields,
            catalog=catalog,
        )
    )
    pointers = {"project": RemotePointer(EntityType.PROJECT, project_id)}
    parent = _guid(raw, "ParentId", "Parent/Id", "TaskParentTaskId")
    if parent and not _is_empty_guid(parent) and parent != (summary_task_id or "").lower():
        pointers["parent"] = RemotePointer(EntityType.WORK_ITEM, parent)
    if assignee_id:
        pointers["assignee"] = RemotePointer(EntityType.PERSON, assignee_id)
    modified = parse_datetime(raw.get("Modified"))
    return Mapped(
        values=finish(EntityType.WORK_ITEM, values, f"task {task_id}"),
        pointers=pointers,
        version_token=modified.isoformat() if modified else None,
        modified=modified,
    )


def is_milestone(raw: Mapping[str, Any]) -> bool:
    return _flag(raw.get("IsMilestone")) and not _flag(raw.get("IsSummary"))


def map_milestone(
    raw: Mapping[str, Any],
    *,
    project_id: str,
    baseline_finish: Any = None,
    fields: Mapping[str, FieldMapping] | None = None,
    catalog: CustomFieldCatalog | None = None,
    task_baseline: bool = True,
) -> Mapped:
    """A milestone task as a canonical Milestone. With ``task_baseline`` the baseline is the
    task's own ``BaselineFinish`` (baseline 0); without it, ``baseline_finish`` (from
    ProjectData TaskBaselines, None when the task has no such baseline)."""
    task_id = _guid(raw, "Id", "TaskId")
    if not task_id:
        raise MappingError("Id", "task has no Id")
    pct = percent(raw.get("PercentComplete"))
    baseline = raw.get("BaselineFinish") if task_baseline else baseline_finish
    values: dict[str, Any] = {
        "name": raw.get("Name"),
        "due": finish_date(raw.get("Finish")),
        "due_at": parse_datetime(raw.get("Finish")),
        "baseline_due": finish_date(baseline),
        "status": status_from_percent(pct),
        "done": None if pct is None else pct >= 100,
    }
    if fields and catalog is not None:
        values.update(
            mapped_values(
                raw,
                entity_type=EntityType.MILESTONE,
                remote_entity="task",
                fields=fields,
                catalog=catalog,
            )
        )
    modified = parse_datetime(raw.get("Modified"))
    return Mapped(
        values=finish(EntityType.MILESTONE, values, f"milestone {task_id}"),
        pointers={"project": RemotePointer(EntityType.PROJECT, project_id)},
        version_token=modified.isoformat() if modified else None,
        modified=modified,
    )


def link_id(raw: Mapping[str, Any]) -> str:
    found = _guid(raw, "Id")
    if found:
        return found
    pred, succ = link_ends(raw)
    return f"{pred}->{succ}"


def link_ends(raw: Mapping[str, Any]) -> tuple[str, str]:
    pred = _guid(raw, "PredecessorTaskId", "Start/Id", "StartId", "PredecessorId")
    succ = _guid(raw, "SuccessorTaskId", "End/Id", "EndId", "SuccessorId")
    if not pred or not succ:
        raise MappingError("predecessor", "task link without both predecessor and successor")
    return pred, succ


def link_lag(raw: Mapping[str, Any], time: ProjectTime) -> dict[str, Any]:
    """``lag_minutes``/``lag_percent``/``lag_elapsed`` from a published link.

    ``LinkLagFmt`` (Project Online) names the unit; SharePoint 2019's published links carry no
    lag at all, so there the display string ``LinkLagDuration`` is read when present and the
    lag is otherwise 0."""
    fmt = raw.get("LinkLagFmt")
    unit: str | None = None
    if fmt not in (None, ""):
        code = int(fmt)
        unit = LAG_FORMATS.get(code - 32 if code > 32 else code)
        if unit is None:
            raise MappingError("lag_minutes", f"unknown LinkLagFmt {fmt!r}")
    tenths = raw.get("LinkLag", raw.get("Lag"))
    text = raw.get("LinkLagDuration")
    if unit is None and text:
        unit = display_unit(text)
    elapsed = bool(unit and unit.startswith("e"))
    if unit and unit.endswith("%"):
        # a share of the predecessor's duration; LinkLag holds tenths of a percent
        if tenths not in (None, ""):
            share = Decimal(str(tenths)) / 10
        else:
            match = _DISPLAY.match(str(text or ""))
            share = Decimal(match.group(1).replace(",", ".")) if match else Decimal(0)
        return {"lag_minutes": 0, "lag_percent": share, "lag_elapsed": elapsed}
    if tenths in (None, "") and text:
        match = _DISPLAY.match(str(text))
        if match is None:
            raise MappingError("lag_minutes", f"LinkLagDuration {text!r} is not a duration")
        minutes = Decimal(match.group(1).replace(",", ".")) * time.unit_minutes(match.group(2))
        lag = int(minutes.to_integral_value(rounding="ROUND_HALF_EVEN"))
    else:
        lag = lag_minutes(tenths)
    return {"lag_minutes": lag, "lag_percent": None, "lag_elapsed": elapsed}


def map_link(raw: Mapping[str, Any], time: ProjectTime | None = None) -> Mapped:
    """A TaskLink as a canonical logic Dependency, stored predecessor -> successor."""
    pred, succ = link_ends(raw)
    values = {
        "link_type": link_type(raw.get("DependencyType", 1)),
        **link_lag(raw, time or ProjectTime()),
        "dependency_class": "logic",
        "origin": "pwa_link",
    }
    return Mapped(
        values=finish(EntityType.DEPENDENCY, values, f"link {link_id(raw)}"),
        pointers={
            "predecessor": RemotePointer(EntityType.WORK_ITEM, pred),
            "successor": RemotePointer(EntityType.WORK_ITEM, succ),
        },
    )


def map_resource(raw: Mapping[str, Any]) -> Mapped:
    """An (enterprise or project) resource as a canonical Person."""
    resource_id = _guid(raw, "Id", "ResourceId")
    if not resource_id:
        raise MappingError("Id", "resource has no Id")
    values = {
        "name": raw.get("Name") or raw.get("ResourceName"),
        "email": raw.get("Email") or raw.get("ResourceEmail") or None,
    }
    modified = parse_datetime(raw.get("Modified") or raw.get("ResourceModifiedDate"))
    return Mapped(
        values=finish(EntityType.PERSON, values, f"resource {resource_id}"),
        version_token=modified.isoformat() if modified else None,
        modified=modified,
    )


def primary_assignees(assignments: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """task id -> the resource carrying most work on it (ties: lowest resource id, so stable)."""
    best: dict[str, tuple[Decimal, str]] = {}
    for raw in assignments:
        task = _guid(raw, "TaskId", "Task/Id")
        resource = _guid(raw, "ResourceId", "Resource/Id")
        if not task or not resource or _is_empty_guid(resource):
            continue
        work = _work_amount(raw)
        current = best.get(task)
        if current is None or work > current[0] or (work == current[0] and resource < current[1]):
            best[task] = (work, resource)
    return {task: resource for task, (_, resource) in best.items()}


def _work_amount(raw: Mapping[str, Any]) -> Decimal:
    for key in ("WorkMilliseconds", "AssignmentWork", "Work"):
        value = raw.get(key)
        if value in (None, ""):
            continue
        try:
            return Decimal(str(value))
        except InvalidOperation:
            digits = "".join(c for c in str(value) if c.isdigit() or c == ".")
            try:
                return Decimal(digits) if digits else Decimal(0)
            except InvalidOperation:
                return Decimal(0)
    return Decimal(0)


def raid_id(kind: str, raw: Mapping[str, Any]) -> str:
    project = _guid(raw, "ProjectId")
    item = raw.get("IssueId" if kind == "issue" else "RiskId")
    if not project or item in (None, ""):
        raise MappingError("id", f"{kind} without ProjectId and {kind.title()}Id")
    return f"{kind}/{project}/{str(item).lower()}"


def map_raid(
    kind: str,
    raw: Mapping[str, Any],
    *,
    fields: Mapping[str, FieldMapping],
    catalog: CustomFieldCatalog,
    resources_by_name: Mapping[str, str] | None = None,
    impact_scale: int = 10,
) -> Mapped:
    """A ProjectData Issue or Risk as a canonical RaidItem.

    Risk ``Probability`` is a percentage and ``Impact`` a 1-10 score in PWA's default risk
    list (``impact_scale`` when a site changed it); the canonical model scores both 1-5, so
    they are bucketed (0-20 % -> 1, ...; impact 1-2 -> 1, ...). The owner is the project team
    member whose name matches ``AssignedToResource``.
    """
    external_id = raid_id(kind, raw)
    status_mapping = fields.get("status")
    raw_status = raw.get("Status")
    if status_mapping is not None and status_mapping.values is not None:
        status = apply_values("status", status_mapping, raw_status)
    elif raw_status in (None, ""):
        status = None
    else:
        status = DEFAULT_RAID_STATUS.get(str(raw_status))
        if status is None:
            raise MappingError("status", f"unknown {kind} status {raw_status!r}")
    values: dict[str, Any] = {
        "name": raw.get("Title"),
        "kind": kind,
        "status": status,
        "due": start_date(raw.get("DueDate")),
    }
    if kind == "risk":
        values["probability"] = _bucket(raw.get("Probability"), 100, "probability")
        values["impact"] = _bucket(raw.get("Impact"), impact_scale, "impact")
        values["mitigation"] = raw.get("MitigationPlan") or None
    other = {k: v for k, v in fields.items() if k != "status"}
    values.update(
        mapped_values(
            raw,
            entity_type=EntityType.RAID_ITEM,
            remote_entity=kind,
            fields=other,
            catalog=catalog,
        )
    )
    project_id = _guid(raw, "ProjectId")
    assert project_id is not None
    pointers = {"project": RemotePointer(EntityType.PROJECT, project_id)}
    owner_name = raw.get("AssignedToResource") or raw.get("Owner")
    if owner_name and resources_by_name:
        owner = resources_by_name.get(str(owner_name).strip().lower())
        if owner:
            pointers["owner"] = RemotePointer(EntityType.PERSON, owner)
    modified = parse_datetime(raw.get("ModifiedDate"))
    return Mapped(
        values=finish(EntityType.RAID_ITEM, values, f"{kind} {external_id}"),
        pointers=pointers,
        version_token=modified.isoformat() if modified else None,
        modified=modified,
    )


def _bucket(value: Any, scale: int, name: str) -> int | None:
    if value in (None, ""):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise MappingError(name, f"{value!r} is not a number") from None
    if number <= 0:
        return None
    if scale == 100 and number <= 1:
        number *= 100  # some lists store probability as a fraction
    return max(1, min(5, math.ceil(number / (scale / 5))))


def _flag(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1")
    return bool(value)


# -- push: canonical -> PWA ----------------------------------------------------------------


@dataclass
class ProjectWrite:
    """What one project's changes turn into: custom field entries and draft properties."""

    custom_fields: dict[str, tuple[str, str]] = field(default_factory=dict)  # key -> (value, type)
    draft: dict[str, Any] = field(default_factory=dict)

    def custom_field_dictionary(self) -> list[dict[str, str]]:
        return [
            {"Key": key, "Value": value, "ValueType": value_type}
            for key, (value, value_type) in self.custom_fields.items()
        ]


def project_write(
    changes: Mapping[str, Any],
    *,
    fields: Mapping[str, FieldMapping],
    catalog: CustomFieldCatalog,
) -> ProjectWrite:
    """Canonical project field changes as UpdateCustomFields entries and Draft properties."""
    out = ProjectWrite()
    for name, value in changes.items():
        mapping = fields.get(name)
        if mapping is None:
            if name in PROJECT_DEFAULTS:
                mapping = FieldMapping(field=PROJECT_DEFAULTS[name], direction="both")
            else:
                raise MappingError(name, "is not mapped to a PWA field")
        if mapping.direction == "pull":
            raise MappingError(name, "is mapped pull-only")
        remote_value = _remote_option(name, mapping, value)
        definition = catalog.find(mapping.field, "project")
        if definition is not None:
            try:
                out.custom_fields[definition.internal_name] = encode(definition, remote_value)
            except CustomFieldValueError as exc:
                raise MappingError(name, str(exc)) from None
        elif mapping.field in DRAFT_PROJECT_WRITABLE:
            out.draft[mapping.field] = _draft_value(mapping.field, remote_value)
        else:
            raise MappingError(
                name,
                f"remote field {mapping.field!r} is neither a project custom field nor a "
                f"writable project property ({', '.join(sorted(DRAFT_PROJECT_WRITABLE))})",
            )
    return out


def _remote_option(name: str, mapping: FieldMapping, value: Any) -> Any:
    if mapping.values is None or value is None:
        return value
    if isinstance(value, list):
        return [_remote_option(name, mapping, v) for v in value]
    remote = mapping.remote_for(value)
    if remote is None:
        raise MappingError(name, f"canonical value {value!r} has no remote option in values")
    return remote


def _draft_value(remote: str, value: Any) -> Any:
    if remote in ("StartDate", "StatusDate") and value is not None:
        moment = parse_datetime(value) if isinstance(value, str) else value
        if isinstance(moment, date) and not isinstance(moment, datetime):
            moment = datetime.combine(moment, time(0, 0))
        return moment.isoformat() if moment else None
    return value


def task_write(
    changes: Mapping[str, Any],
    *,
    fields: Mapping[str, FieldMapping],
    day_start: time = time(8, 0),
    day_finish: time = time(17, 0),
) -> dict[str, Any]:
    """Canonical WorkItem/Milestone changes as a DraftTask MERGE body.

    Canonical dates are days; PWA wants instants, so a start goes to the working day's first
    minute and a finish to its last (the project calendar's defaults, 08:00 and 17:00).
    """
    body: dict[str, Any] = {}
    for name, value in changes.items():
        mapping = fields.get(name)
        remote = mapping.field if mapping else TASK_WRITABLE.get(name)
        if mapping is not None and mapping.direction == "pull":
            raise MappingError(name, "is mapped pull-only")
        if remote is None or remote not in TASK_WRITABLE.values():
            raise MappingError(
                name,
                "task custom fields and most task properties cannot be written through the "
                f"REST API (writable: {', '.join(sorted(TASK_WRITABLE.values()))})",
            )
        if mapping is not None:
            value = _remote_option(name, mapping, value)
        body[remote] = _task_value(name, remote, value, day_start, day_finish)
    return body


def _task_value(name: str, remote: str, value: Any, day_start: time, day_finish: time) -> Any:
    if remote in ("Start", "Finish"):
        if value is None:
            raise MappingError(name, "a task date cannot be cleared")
        day = value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
        if isinstance(day, datetime):
            return day.replace(tzinfo=None, microsecond=0).isoformat()
        moment = datetime.combine(day, day_start if remote == "Start" else day_finish)
        return moment.isoformat()
    if remote == "PercentComplete":
        if value is None:
            raise MappingError(name, "percent complete cannot be cleared")
        number = Decimal(str(value))
        if not 0 <= number <= 100:
            raise MappingError(name, f"{value!r} is outside 0-100")
        return int(number.to_integral_value())
    return value


def canonical_milestone_changes(changes: Mapping[str, Any]) -> dict[str, Any]:
    """A Milestone's writable fields in WorkItem terms (``due`` -> task Finish)."""
    return {k: v for k, v in changes.items() if k in ("name", "due")}
