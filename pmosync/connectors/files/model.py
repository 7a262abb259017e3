"""What the MPXJ worker hands back for one project in one schedule file.

These are plain, frozen, picklable values: they cross a process boundary (the JVM lives in its own
worker, see ``reader.py``) and are then mapped into the canonical model by someone else. So they
mirror what the file holds, in MPXJ's vocabulary, with only two normalisations:

* every date is a naive local ``datetime``, because MSPDI and MPP store wall-clock times with no
  time zone, and inventing one here would shift milestones across midnight;
* every duration (task duration, slack, lag, work) is also given in minutes, converted with the
  file's own minutes per day/week and days per month, because MPP reports slack in days or hours
  while MSPDI reports minutes, and callers must never have to care. Elapsed units (``ELAPSED_DAYS``
  etc.) count 24-hour days, so their minutes are wall-clock minutes, not working minutes.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict

from pmosync.errors import SkippableRecordError

__all__ = [
    "CONSTRAINT_TYPES",
    "CustomFieldDefinition",
    "CustomValue",
    "EntityKind",
    "FileErrorKind",
    "LinkType",
    "ScheduleAssignment",
    "ScheduleBaseline",
    "ScheduleCalendar",
    "ScheduleCalendarException",
    "ScheduleFile",
    "ScheduleFileError",
    "ScheduleLink",
    "ScheduleProperties",
    "ScheduleResource",
    "ScheduleTask",
]

# Custom field values keep the type the file gave them; durations arrive as minutes (see above),
# lookup-table values as their text.
CustomValue = bool | int | float | str | datetime | date | None
LinkType = Literal["FS", "SS", "FF", "SF"]
EntityKind = Literal["task", "resource", "assignment", "project", "other"]
FileErrorKind = Literal["not_found", "not_a_schedule", "unreadable", "timeout", "worker_crashed"]
# MPXJ ConstraintType names -> the canonical abbreviations (MS Project's own).
CONSTRAINT_TYPES: dict[str, str] = {
    "AS_SOON_AS_POSSIBLE": "ASAP",
    "AS_LATE_AS_POSSIBLE": "ALAP",
    "START_NO_EARLIER_THAN": "SNET",
    "START_NO_LATER_THAN": "SNLT",
    "FINISH_NO_EARLIER_THAN": "FNET",
    "FINISH_NO_LATER_THAN": "FNLT",
    "MUST_START_ON": "MSO",
    "MUST_FINISH_ON": "MFO",
    # MPXJ's names for Primavera's "Start On"/"Finish On": the date is pinned, as by MSO/MFO
    "START_ON": "MSO",
    "FINISH_ON": "MFO",
}


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ScheduleProperties(_Frozen):
    """Project header. ``name`` is often the file name (MSPDI) or absent (MPP); see ``title``."""

    name: str | None = None
    title: str | None = None
    project_id: str | None = None  # P6's project ID (proj_short_name); MS Project has none
    guid: str | None = None
    author: str | None = None
    company: str | None = None
    start: datetime | None = None
    finish: datetime | None = None
    status_date: datetime | None = None
    creation_date: datetime | None = None
    last_saved: datetime | None = None
    minutes_per_day: int
    minutes_per_week: int
    days_per_month: int
    currency_symbol: str | None = None
    currency_code: str | None = None
    # MPXJ's names for the format and the writing application (e.g. "MSPDI"/"Microsoft",
    # "XER"/"Primavera"), so the mapper can tell P6 semantics from MS Project ones.
    file_type: str | None = None
    file_application: str | None = None
    # Primavera only: False for a project the file holds only because an exported one links to
    # it (P6's external-project stub, export_flag N); None for formats without the notion.
    export_flag: bool | None = None
    # The project calendar: tasks with no calendar of their own are scheduled on it.
    default_calendar_unique_id: int | None = None


# A weekday's or an exception's working time: (start, end) in minutes from midnight, end <= 1440.
WorkingRanges = tuple[tuple[int, int], ...]


class ScheduleCalendarException(_Frozen):
    """Dates from ``from_date`` to ``to_date`` (inclusive) with their own working time;
    ``ranges == ()`` is a non-working exception. Recurring exceptions arrive expanded."""

    from_date: date
    to_date: date
    name: str | None = None
    ranges: WorkingRanges = ()


class ScheduleCalendar(_Frozen):
    """A base or derived (resource, task) calendar as the file holds it.

    ``week`` is Monday first; an entry of ``None`` means "as the base calendar" (MS Project's
    default day type), which only occurs on derived calendars.
    """

    unique_id: int
    name: str | None = None
    base_calendar_unique_id: int | None = None
    week: tuple[WorkingRanges | None, ...] = ()
    exceptions: tuple[ScheduleCalendarException, ...] = ()
    minutes_per_day: int | None = None
    minutes_per_week: int | None = None
    days_per_month: int | None = None


class ScheduleBaseline(_Frozen):
    """One of MS Project's baselines 0-10 for a task; only present when the file holds it."""

    number: int
    start: datetime | None = None
    finish: datetime | None = None
    duration_minutes: float | None = None
    work_minutes: float | None = None
    cost: float | None = None


class ScheduleTask(_Frozen):
    """One task row. ``outline_level == 0`` is MS Project's project summary task (UID 0)."""

    unique_id: int
    id: int | None = None
    guid: str | None = None
    name: str | None = None
    wbs: str | None = None
    outline_number: str | None = None
    outline_level: int | None = None
    parent_unique_id: int | None = None
    summary: bool = False
    milestone: bool = False
    manually_scheduled: bool = False
    active: bool = True
    recurring: bool = False
    # A placeholder for a task of another project (cross-project link in MSPDI/MPP).
    external: bool = False
    # An inserted subproject (a master plan's row standing for another file), and for both it
    # and an external placeholder: the other file as the author's machine named it, and the
    # task there (MS Project names it by ID in cross-project links, by UID in some formats).
    inserted_project: bool = False
    subproject_file: str | None = None
    subproject_task_id: int | None = None
    subproject_task_unique_id: int | None = None
    start: datetime | None = None
    finish: datetime | None = None
    actual_start: datetime | None = None
    actual_finish: datetime | None = None
    duration_minutes: float | None = None
    duration_unit: str | None = None
    remaining_duration_minutes: float | None = None
    work_minutes: float | None = None
    percent_complete: float | None = None
    early_start: datetime | None = None
    early_finish: datetime | None = None
    late_start: datetime | None = None
    late_finish: datetime | None = None
    total_slack_minutes: float | None = None
    free_slack_minutes: float | None = None
    critical: bool | None = None
    constraint_type: str | None = None  # MPXJ ConstraintType name, e.g. "MUST_FINISH_ON"
    constraint_date: datetime | None = None
    deadline: datetime | None = None
    # The task's own calendar; None = the project's default calendar.
    calendar_unique_id: int | None = None
    ignore_resource_calendar: bool = False
    baselines: tuple[ScheduleBaseline, ...] = ()
    notes: str | None = None
    # Keyed by the field's alias when the file defines one, else by its name ("Text1",
    # "Enterprise Cost1"); ``ScheduleFile.custom_fields`` says which field each key is.
    custom_fields: dict[str, CustomValue] = {}


class ScheduleLink(_Frozen):
    """A logic link. ``lag_value``/``lag_unit`` are as MPXJ reports them (e.g. 1.0, "WEEKS").

    A link between two projects of one multi-project file (XER) appears in both projects'
    ``links``, with the same ``unique_id`` and ``other_project_index`` naming the other one.
    """

    unique_id: int | None = None
    predecessor_unique_id: int
    successor_unique_id: int
    type: LinkType
    lag_minutes: float | None = None
    lag_value: float
    lag_unit: str
    lag_elapsed: bool = False
    other_project_index: int | None = None


class ScheduleResource(_Frozen):
    unique_id: int
    id: int | None = None
    guid: str | None = None
    name: str | None = None
    email: str | None = None
    initials: str | None = None
    group: str | None = None
    type: str | None = None  # MPXJ ResourceType name: WORK, MATERIAL, COST
    max_units_percent: float | None = None
    calendar_unique_id: int | None = None
    custom_fields: dict[str, CustomValue] = {}


class ScheduleAssignment(_Frozen):
    unique_id: int | None = None
    task_unique_id: int
    # None for MS Project's "unassigned" placeholder (MSPDI ResourceUID -65535).
    resource_unique_id: int | None = None
    work_minutes: float | None = None
    actual_work_minutes: float | None = None
    remaining_work_minutes: float | None = None
    units_percent: float | None = None  # 100.0 = one full-time resource
    start: datetime | None = None
    finish: datetime | None = None
    cost: float | None = None
    custom_fields: dict[str, CustomValue] = {}


class CustomFieldDefinition(_Frozen):
    """A custom or enterprise field the file defines (has an alias) or fills in."""

    entity: EntityKind
    field: str  # MPXJ's constant, e.g. "TEXT1", "ENTERPRISE_COST1"
    field_name: str  # MS Project's display name, e.g. "Text1", "Enterprise Cost1"
    field_id: int | None = None  # MS Project's FieldID as in MSPDI <ExtendedAttribute>
    data_type: str | None = None  # MPXJ DataType name
    alias: str | None = None
    lookup_values: tuple[str, ...] = ()
    # The key under which values of this field appear in ``custom_fields`` of the entities.
    key: str


class ScheduleFileError(_Frozen):
    kind: FileErrorKind
    message: str  # always names the file


class ScheduleFile(_Frozen):
    """One project read from one file; a multi-project file (XER) yields several, by index.

    A file that could not be read yields exactly one ``ScheduleFile`` with ``error`` set and no
    content, so a batch import can report it and go on.
    """

    path: Path
    sha256: str | None = None  # of the file's bytes; None only when the file could not be opened
    project_index: int = 0
    properties: ScheduleProperties | None = None
    tasks: tuple[ScheduleTask, ...] = ()
    links: tuple[ScheduleLink, ...] = ()
    resources: tuple[ScheduleResource, ...] = ()
    assignments: tuple[ScheduleAssignment, ...] = ()
    custom_fields: tuple[CustomFieldDefinition, ...] = ()
    calendars: tuple[ScheduleCalendar, ...] = ()
    error: ScheduleFileError | None = None
    # Which worker process read the file and how long MPXJ plus extraction took: lets callers
    # see that one JVM served the whole batch, and gives import a figure to report.
    worker_pid: int | None = None
    read_seconds: float | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def raise_for_error(self) -> None:
        """Turn a per-file failure into the error the sync engine quarantines and counts."""
        if self.error is not None:
            raise SkippableRecordError(self.error.message)
