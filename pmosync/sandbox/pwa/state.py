"""The PWA emulator's state: projects with a published and a draft plan, check-out locks,
queue jobs, enterprise custom fields, lookup tables and resources.

Values are kept as Python values (``datetime`` naive local wall-clock time, :class:`Guid`,
``int`` milliseconds for durations and work) and only turned into wire formats when served.
The draft/published split follows api-wire-protocol §5.5: every write goes to the draft of a
checked-out project; readers of ``Projects``/``ProjectData`` see the published plan, which
changes only when a publish queue job completes.
"""

from __future__ import annotations

import copy
import math
import re
import time
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from pmosync.sandbox.pwa.odata import Guid

MINUTES_PER_DAY = 480
MINUTES_PER_WEEK = 2400
MS_PER_MINUTE = 60_000
DAY_START = 8  # 08:00
DAY_FINISH = 17  # 17:00 (one hour lunch: eight working hours)

# QueueMsgType values (api-wire-protocol §5.4).
MSG_CHECKIN = 21
MSG_CREATE = 22
MSG_DELETE = 23
MSG_PUBLISH = 24
MSG_UPDATE = 28
MSG_UPDATE_TEAM = 29

# JobState values (PS.JobState, api-wire-protocol §5.4; Microsoft.ProjectServer.JobState on
# learn.microsoft.com). A Failed job blocks the later jobs of its project (CorrelationBlocked)
# until an administrator cancels it in PWA → Server Settings → Manage Queue Jobs.
JOB_READY = 1
JOB_PROCESSING = 3
JOB_SUCCESS = 4
JOB_FAILED = 5
JOB_BLOCKED = 8
JOB_CANCELED = 9

# CustomFieldType values.
CF_DATE = 4
CF_DURATION = 6
CF_COST = 9
CF_NUMBER = 15
CF_FLAG = 17
CF_TEXT = 21
CF_FINISHDATE = 27

ENTITY_PROJECT = Guid("1b0e4f5c-0b2b-4c2c-8c6a-5a3e1e3f4b01")
ENTITY_TASK = Guid("2c1f5a6d-1c3c-4d3d-9d7b-6b4f2f4a5c02")
ENTITY_RESOURCE = Guid("3d2a6b7e-2d4d-4e4e-ae8c-7c5a3a5b6d03")
ENTITY_ASSIGNMENT = Guid("4e3b7c8f-3e5e-4f5f-bf9d-8d6b4b6c7e04")
ENTITY_TYPES = {
    "ProjectEntity": ENTITY_PROJECT,
    "TaskEntity": ENTITY_TASK,
    "ResourceEntity": ENTITY_RESOURCE,
    "AssignmentEntity": ENTITY_ASSIGNMENT,
}


def new_guid() -> Guid:
    return Guid(uuid.uuid4())


# -- working-time arithmetic ---------------------------------------------------------------
def is_workday(day: date) -> bool:
    return day.weekday() < 5


def add_workdays(day: date, count: int) -> date:
    step = 1 if count >= 0 else -1
    remaining = abs(count)
    while remaining:
        day += timedelta(days=step)
        if is_workday(day):
            remaining -= 1
    return day


def next_workday(day: date) -> date:
    while not is_workday(day):
        day += timedelta(days=1)
    return day


def workdays_between(start: date, finish: date) -> int:
    """Working days in [start, finish] (inclusive)."""
    if finish < start:
        return 0
    days = 0
    current = start
    while current <= finish:
        days += is_workday(current)
        current += timedelta(days=1)
    return days


def at(day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour)


def finish_for(start: datetime, duration_ms: int) -> datetime:
    """Finish of an auto-scheduled task that starts at ``start`` (whole working days)."""
    if duration_ms <= 0:
        return start
    days = max(1, math.ceil(duration_ms / (MINUTES_PER_DAY * MS_PER_MINUTE)))
    return at(add_workdays(next_workday(start.date()), days - 1), DAY_FINISH)


def duration_between(start: datetime, finish: datetime) -> int:
    if finish <= start:
        return 0
    return workdays_between(start.date(), finish.date()) * MINUTES_PER_DAY * MS_PER_MINUTE


_DURATION = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*(e?)(m|h|d|w|mo)?s?\??\s*$", re.IGNORECASE)


def parse_duration(text: str | int | float) -> int:
    """``"5d"``, ``"40h"``, ``"2w"``, ``"30m"``, ``"0ed"`` or a number of days -> milliseconds."""
    if isinstance(text, int | float):
        return int(float(text) * MINUTES_PER_DAY * MS_PER_MINUTE)
    match = _DURATION.match(text)
    if match is None:
        raise ValueError(f"'{text}' is not a valid duration")
    amount = float(match.group(1))
    elapsed = bool(match.group(2))
    unit = (match.group(3) or "d").lower()
    minutes_per = {
        "m": 1,
        "h": 60,
        "d": 1440 if elapsed else MINUTES_PER_DAY,
        "w": 10080 if elapsed else MINUTES_PER_WEEK,
        "mo": 43200 if elapsed else MINUTES_PER_DAY * 20,
    }[unit]
    return int(amount * minutes_per * MS_PER_MINUTE)


def duration_text(ms: int, unit: str = "d") -> str:
    minutes = ms / MS_PER_MINUTE
    value = minutes / (MINUTES_PER_DAY if unit == "d" else 60)
    shown = f"{value:.2f}".rstrip("0").rstrip(".")
    return f"{shown}{unit}"


# MSPDI LagFormat / DurationFormat codes (Microsoft's Project XML schema, PredecessorLink
# element: 3=m, 4=em, 5=h, 6=eh, 7=d, 8=ed, 9=w, 10=ew, 11=mo, 12=emo, 19=%, 20=e%; +32 marks
# an estimate, "d?"): PWA's LinkLagFmt uses the same codes.
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
LAG_FMT_DAYS = 7
_UNIT_MINUTES = {
    "m": 1,
    "em": 1,
    "h": 60,
    "eh": 60,
    "d": MINUTES_PER_DAY,
    "ed": 1440,
    "w": MINUTES_PER_WEEK,
    "ew": 10080,
    "mo": MINUTES_PER_DAY * 20,
    "emo": 43200,
}


def lag_text(tenths: int, fmt: int) -> str:
    """``LinkLagDuration`` as Project shows it: ``"1d"``, ``"-2ed"``, ``"50%"``."""
    unit = LAG_FORMATS.get(fmt % 32 if fmt > 32 else fmt, "d")
    value = tenths / 10 if unit.endswith("%") else tenths / 10 / _UNIT_MINUTES[unit]
    shown = f"{value:.2f}".rstrip("0").rstrip(".")
    return f"{shown}{unit}"


def duration_timespan(ms: int) -> str:
    """ISO 8601 duration of the working time, e.g. ``P5D`` is not used: Project reports the
    working hours as ``PT40H``-style values rolled into days of 24 h (``P1DT16H``)."""
    total_seconds = ms // 1000
    days, rest = divmod(total_seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    out = "P" + (f"{days}D" if days else "")
    clock = (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "")
    clock += f"{seconds}S" if seconds else ""
    if clock:
        out += "T" + clock
    return out if out != "P" else "PT0S"


# -- definitions ---------------------------------------------------------------------------
@dataclass
class LookupEntry:
    id: Guid
    full_value: str
    description: str = ""
    sort_index: int = 0

    @property
    def internal_name(self) -> str:
        return "Entry_" + self.id.replace("-", "")


@dataclass
class LookupTable:
    id: Guid
    name: str
    entries: list[LookupEntry] = field(default_factory=list)

    def entry(self, internal_name: str) -> LookupEntry | None:
        return next((e for e in self.entries if e.internal_name == internal_name), None)

    def by_value(self, full_value: str) -> LookupEntry | None:
        return next((e for e in self.entries if e.full_value == full_value), None)


@dataclass
class CustomFieldDef:
    id: Guid
    name: str
    field_type: int
    entity: str  # "project" | "task"
    lookup_table_id: Guid | None = None
    multi: bool = False
    description: str = ""

    @property
    def hex(self) -> str:
        return self.id.replace("-", "")

    @property
    def internal_name(self) -> str:
        return "Custom_" + self.hex

    @property
    def json_key(self) -> str:
        # SharePoint escapes "_" in property names as "_x005f_".
        return "Custom_x005f_" + self.hex

    @property
    def reporting_name(self) -> str:
        return re.sub(r"[^A-Za-z0-9]", "", self.name)


# -- plans ---------------------------------------------------------------------------------
@dataclass
class Plan:
    """One version (draft or published) of a project's schedule."""

    props: dict[str, Any]  # PublishedProject scalars (Name, Description, StartDate, ...)
    custom: dict[str, Any] = field(default_factory=dict)  # project CF internal name -> value
    tasks: list[dict[str, Any]] = field(default_factory=list)
    links: list[dict[str, Any]] = field(default_factory=list)
    resources: list[dict[str, Any]] = field(default_factory=list)  # project team
    assignments: list[dict[str, Any]] = field(default_factory=list)

    def task(self, task_id: str) -> dict[str, Any] | None:
        return next((t for t in self.tasks if t["Id"] == task_id), None)

    def children(self, task_id: str | None) -> list[dict[str, Any]]:
        return [t for t in self.tasks if t.get("ParentId") == task_id]

    def clone(self) -> Plan:
        return copy.deepcopy(self)

    def rollup(self) -> None:
        """Summary tasks take their children's dates and duration-weighted progress; the
        project summary (outline level 0) rolls up everything."""
        for task in sorted(self.tasks, key=lambda t: -int(t["OutlineLevel"])):
            kids = self.children(task["Id"])
            if not kids:
                continue
            task["IsSummary"] = True
            task["Start"] = min(k["Start"] for k in kids)
            task["Finish"] = max(k["Finish"] for k in kids)
            task["DurationMilliseconds"] = duration_between(task["Start"], task["Finish"])
            weights = [max(int(k["DurationMilliseconds"]), 1) for k in kids]
            done = sum(w * int(k["PercentComplete"]) for w, k in zip(weights, kids, strict=True))
            task["PercentComplete"] = int(round(done / sum(weights)))
            task["Work"] = sum(int(k.get("Work", 0)) for k in kids)
            base_starts = [k["BaselineStart"] for k in kids if k.get("BaselineStart")]
            base_finishes = [k["BaselineFinish"] for k in kids if k.get("BaselineFinish")]
            if base_starts and base_finishes:
                task["BaselineStart"] = min(base_starts)
                task["BaselineFinish"] = max(base_finishes)
        top = [t for t in self.tasks if int(t["OutlineLevel"]) == 0]
        if top:
            self.props["StartDate"] = top[0]["Start"]
            self.props["FinishDate"] = top[0]["Finish"]
        self.renumber()

    def renumber(self) -> None:
        counters: dict[str | None, int] = {}
        wbs: dict[str, str] = {}
        for task in self.tasks:
            parent = task.get("ParentId")
            counters[parent] = counters.get(parent, 0) + 1
            task["OutlinePosition"] = counters[parent]
            if int(task["OutlineLevel"]) == 0:
                wbs[task["Id"]] = "0"
                task["WorkBreakdownStructure"] = "0"
                continue
            prefix = wbs.get(parent or "", "0")
            number = str(counters[parent]) if prefix == "0" else f"{prefix}.{counters[parent]}"
            wbs[task["Id"]] = number
            task["WorkBreakdownStructure"] = number


@dataclass
class Checkout:
    owner_id: str  # the token's oid (user or service principal)
    owner_name: str
    checkout_id: Guid
    since: datetime
    description: str = ""


@dataclass
class QueueJob:
    id: Guid
    project_id: Guid
    msg_type: int
    submitted: datetime
    polls_needed: int
    seconds_needed: float
    created_at: float = field(default_factory=time.monotonic)
    polls: int = 0
    state: int = JOB_READY
    fail: bool = False
    effect: Any = None  # Callable[[], None], applied once on success
    error: str | None = None

    @property
    def done(self) -> bool:
        return self.state in (JOB_SUCCESS, JOB_FAILED, JOB_CANCELED)

    def percent(self) -> int:
        if self.done:
            return 100
        if self.polls_needed <= 0:
            return 50
        return min(99, int(100 * self.polls / (self.polls_needed + 1)))


@dataclass
class ProjectRecord:
    id: Guid
    published: Plan
    draft: Plan
    created: datetime
    last_published: datetime
    last_saved: datetime
    modified: datetime
    checkout: Checkout | None = None
    issues: list[dict[str, Any]] = field(default_factory=list)
    risks: list[dict[str, Any]] = field(default_factory=list)
    owner_name: str = ""
    calendar_id: Any = None  # an enterprise calendar's Id (PublishedProject.Calendar)
    # What the reporting database (ProjectData) still shows while it lags a publish.
    reporting_plan: Plan | None = None
    reporting_published: datetime | None = None
    reporting_until: float = 0.0

    @property
    def name(self) -> str:
        return str(self.published.props["Name"])

    def reporting_view(self) -> tuple[Plan, datetime]:
        """The plan and publish date ProjectData serves: the previous publish until the
        reporting sync catches up, then the current one."""
        if self.reporting_plan is not None and time.monotonic() < self.reporting_until:
            assert self.reporting_published is not None
            return self.reporting_plan, self.reporting_published
        return self.published, self.last_published

    def reporting_pending(self) -> bool:
        return self.reporting_plan is not None and time.monotonic() < self.reporting_until


@dataclass
class PwaState:
    projects: dict[str, ProjectRecord] = field(default_factory=dict)
    custom_fields: list[CustomFieldDef] = field(default_factory=list)
    lookup_tables: list[LookupTable] = field(default_factory=list)
    resources: list[dict[str, Any]] = field(default_factory=list)  # enterprise resources
    jobs: dict[str, QueueJob] = field(default_factory=dict)
    # enterprise base calendars: {"Id", "Name", "IsStandardCalendar", "Created", "Modified",
    # "OriginalId", "exceptions": [PS.BaseCalendarException property dicts]}
    calendars: list[dict[str, Any]] = field(default_factory=list)
    # Bumped on every change, so derived views (ProjectData) can be cached between changes.
    version: int = 0

    def field_by_name(self, name: str) -> CustomFieldDef | None:
        return next((f for f in self.custom_fields if f.name == name), None)

    def field_by_internal(self, internal_name: str) -> CustomFieldDef | None:
        wanted = internal_name.replace("_x005f_", "_")
        return next((f for f in self.custom_fields if f.internal_name == wanted), None)

    def lookup_table(self, table_id: Guid | None) -> LookupTable | None:
        return next((t for t in self.lookup_tables if t.id == table_id), None)

    def calendar(self, calendar_id: Any) -> dict[str, Any] | None:
        return next((c for c in self.calendars if c["Id"] == calendar_id), None)

    def resource(self, resource_id: str) -> dict[str, Any] | None:
        return next((r for r in self.resources if r["Id"] == resource_id), None)

    def running_job(self, project_id: str) -> QueueJob | None:
        # A blocked job waits in the queue without running, so it holds no write lock: later
        # writes are accepted and queued behind it (blocked as well).
        return next(
            (
                j
                for j in self.jobs.values()
                if j.project_id == project_id and not j.done and j.state != JOB_BLOCKED
            ),
            None,
        )

    def failed_job(self, project_id: str) -> QueueJob | None:
        """The project's Failed job that blocks its queue correlation, if any."""
        return next(
            (j for j in self.jobs.values() if j.project_id == project_id and j.state == JOB_FAILED),
            None,
        )
