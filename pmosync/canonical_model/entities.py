"""Canonical PMO entities. Every source maps into these; analysis and reports read only these.

Field names here are the vocabulary of the team mapping files: a mapping names a canonical
field, the loader checks it exists on the entity.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field


class EntityType(enum.StrEnum):
    PORTFOLIO = "portfolio"
    PROGRAMME = "programme"
    PROJECT = "project"
    WORK_ITEM = "work_item"
    MILESTONE = "milestone"
    DEPENDENCY = "dependency"
    RAID_ITEM = "raid_item"
    PERSON = "person"
    STATUS_REPORT = "status_report"
    RELEASE = "release"
    ITERATION = "iteration"
    CALENDAR = "calendar"


class Status(enum.StrEnum):
    """Canonical delivery status; every tool's statuses map onto these."""

    NOT_STARTED = "not_started"
    ACTIVE = "active"
    ON_HOLD = "on_hold"
    DONE = "done"
    CANCELLED = "cancelled"


class Rag(enum.StrEnum):
    GREEN = "G"
    AMBER = "A"
    RED = "R"
    GREY = "grey"


class WorkItemKind(enum.StrEnum):
    EPIC = "epic"
    FEATURE = "feature"
    STORY = "story"
    TASK = "task"
    SUBTASK = "subtask"
    BUG = "bug"
    SUMMARY = "summary"
    MILESTONE = "milestone"


class RaidKind(enum.StrEnum):
    RISK = "risk"
    ASSUMPTION = "assumption"
    ISSUE = "issue"
    DECISION = "decision"
    DEPENDENCY = "dependency"


class LinkType(enum.StrEnum):
    FS = "FS"
    SS = "SS"
    FF = "FF"
    SF = "SF"


class ScheduleMode(enum.StrEnum):
    """How a work item's dates come about."""

    AUTO = "auto"  # a scheduler (MS Project) derives them from logic and durations
    MANUAL = "manual"  # MS Project's manually scheduled task: held at its dates
    ENTERED = "entered"  # typed in by a person (Jira, Airtable): no scheduler behind them


class ConstraintType(enum.StrEnum):
    ASAP = "ASAP"
    ALAP = "ALAP"
    SNET = "SNET"
    SNLT = "SNLT"
    FNET = "FNET"
    FNLT = "FNLT"
    MSO = "MSO"
    MFO = "MFO"


class DependencyClass(enum.StrEnum):
    LOGIC = "logic"  # drives dates, carries type and lag
    GATING = "gating"  # "blocks": cannot close until the other closes
    INFO = "info"  # relates, duplicates


class Entity(BaseModel):
    """Base of canonical entities: tolerant of missing values, strict about unknown names."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, use_enum_values=True)
    entity_type: ClassVar[EntityType]
    # Fields that hold a reference to another canonical entity, and the entity type they name.
    references: ClassVar[dict[str, EntityType]] = {}
    # Fields only pmo-sync computes: written to tools, never read back as truth.
    computed: ClassVar[frozenset[str]] = frozenset()


class Value(BaseModel):
    """A structured value inside an entity (baseline, assignment, calendar exception)."""

    model_config = ConfigDict(extra="forbid", use_enum_values=True)


class BaselineValues(Value):
    """One of MS Project's baselines 0-10 (or a PMO snapshot, 100+) for one work item."""

    number: int = Field(ge=0)
    start: datetime | None = None
    finish: datetime | None = None
    duration_minutes: Decimal | None = None
    work_minutes: Decimal | None = None
    cost: Decimal | None = None


class AssignmentValues(Value):
    """A resource on a work item. ``resource`` is the source's resource key (a name when the
    source has nothing better); ``person`` the canonical person when the resource is one."""

    resource: str
    resource_name: str | None = None
    person: str | None = None
    units_percent: Decimal | None = None
    work_minutes: Decimal | None = None
    actual_work_minutes: Decimal | None = None
    remaining_work_minutes: Decimal | None = None
    start: datetime | None = None
    finish: datetime | None = None
    cost: Decimal | None = None


class CalendarException(Value):
    """Days ``start``..``finish`` (inclusive) work the given intervals; none = non-working."""

    start: date
    finish: date
    name: str | None = None
    # (start_minute, end_minute) from midnight; end may be 1440
    intervals: list[tuple[int, int]] = Field(default_factory=list)


class Person(Entity):
    entity_type = EntityType.PERSON
    name: str | None = None
    email: str | None = None
    account_id: str | None = None


# Roll-up fields pmo-sync computes for a programme or the portfolio (analysis/rollup.py)
ROLLUP_FIELDS = frozenset(
    {
        "rag_computed",
        "pmo_status",
        "next_milestone",
        "next_milestone_date",
        "overdue_milestones",
        "slip_days",
        "percent_complete_computed",
        "dependency_health",
        "raid_summary",
        "critical_chain",
    }
)


class RollupValues(Entity):
    """The computed, write-only roll-up fields shared by Programme and Portfolio."""

    rag_computed: Rag | None = None
    pmo_status: str | None = None
    next_milestone: str | None = None
    next_milestone_date: date | None = None
    overdue_milestones: int | None = None
    slip_days: Decimal | None = None  # working days against baseline, worst milestone
    percent_complete_computed: Decimal | None = None  # weighted by duration
    dependency_health: str | None = None
    raid_summary: str | None = None
    critical_chain: str | None = None


class Portfolio(RollupValues):
    entity_type = EntityType.PORTFOLIO
    computed = ROLLUP_FIELDS
    name: str | None = None
    code: str | None = None
    description: str | None = None
    owner: str | None = None


class Programme(RollupValues):
    entity_type = EntityType.PROGRAMME
    references = {"portfolio": EntityType.PORTFOLIO}
    computed = ROLLUP_FIELDS
    name: str | None = None
    code: str | None = None
    portfolio: str | None = None
    status: Status | None = None
    planned_start: date | None = None
    planned_finish: date | None = None


class Project(Entity):
    entity_type = EntityType.PROJECT
    references = {
        "programme": EntityType.PROGRAMME,
        "manager": EntityType.PERSON,
        "calendar": EntityType.CALENDAR,
    }
    computed = frozenset(
        {
            "next_milestone",
            "next_milestone_date",
            "overdue_milestones",
            "rag_computed",
            "pmo_status",
            "forecast_finish",
            "slip_days",
            "blocking_items",
            "critical",
        }
    )
    name: str | None = None
    code: str | None = None
    description: str | None = None
    programme: str | None = None
    manager: str | None = None
    status: Status | None = None
    stage: str | None = None
    priority: int | None = None
    planned_start: date | None = None
    planned_finish: date | None = None
    actual_start: date | None = None
    actual_finish: date | None = None
    percent_complete: Decimal | None = Field(default=None, ge=0, le=100)
    budget: Decimal | None = None
    rag: Rag | None = None
    rag_reason: str | None = None
    # computed, write-only
    next_milestone: str | None = None
    next_milestone_date: date | None = None
    overdue_milestones: int | None = None
    rag_computed: Rag | None = None
    pmo_status: str | None = None
    forecast_finish: date | None = None  # the schedule's forecast of its last item
    slip_days: Decimal | None = None  # working days against baseline, worst milestone
    blocking_items: str | None = None  # items in other tools it waits for, with their state
    critical: bool | None = None  # on the portfolio's critical path
    # schedule context (MS Project files and Project Server): dates in the plan are local
    # wall-clock times in this zone; the calendar is the project's default
    time_zone: str | None = None
    calendar: str | None = None
    status_date: datetime | None = None
    # a plan that only stands for another one (a Primavera external-project stub, an inserted
    # subproject's placeholder): resolved to the real project, never a portfolio project itself
    external: bool | None = None
    custom: dict[str, Any] = Field(default_factory=dict)


class WorkItem(Entity):
    entity_type = EntityType.WORK_ITEM
    references = {
        "project": EntityType.PROJECT,
        "parent": EntityType.WORK_ITEM,
        "assignee": EntityType.PERSON,
        "calendar": EntityType.CALENDAR,
        "subproject": EntityType.PROJECT,
    }
    # Computed by the analysis stage (CPM across every tool); never read back as truth.
    computed = frozenset(
        {
            "critical",
            "total_slack_days",
            "free_slack_days",
            "forecast_start",
            "forecast_finish",
            "driving_predecessor",
        }
    )
    name: str | None = None
    key: str | None = None
    kind: WorkItemKind | None = None
    project: str | None = None
    parent: str | None = None
    status: Status | None = None
    assignee: str | None = None
    start: date | None = None
    due: date | None = None
    percent_complete: Decimal | None = Field(default=None, ge=0, le=100)
    story_points: Decimal | None = None
    labels: list[str] = Field(default_factory=list)
    # -- the schedule as the source holds it (start/due above are its dates, for date tools)
    start_at: datetime | None = None  # local wall-clock time as the source gave it
    finish_at: datetime | None = None
    outline_level: int | None = None
    duration_minutes: Decimal | None = None  # working minutes (wall-clock when elapsed)
    duration_unit: str | None = None  # the source's unit: m, h, d, w, mo, em, eh, ed, ew, emo
    duration_elapsed: bool | None = None
    remaining_minutes: Decimal | None = None
    work_minutes: Decimal | None = None
    schedule_mode: ScheduleMode | None = None
    constraint_type: ConstraintType | None = None
    constraint_date: datetime | None = None
    deadline: datetime | None = None
    calendar: str | None = None
    actual_start: datetime | None = None
    actual_finish: datetime | None = None
    # the source scheduler's own results, kept for cross-checks and never overwritten
    source_critical: bool | None = None
    source_total_slack_minutes: Decimal | None = None
    source_free_slack_minutes: Decimal | None = None
    source_early_start: datetime | None = None
    source_early_finish: datetime | None = None
    source_late_start: datetime | None = None
    source_late_finish: datetime | None = None
    baselines: list[BaselineValues] = Field(default_factory=list)
    assignments: list[AssignmentValues] = Field(default_factory=list)
    # custom field values by the field's name as the source shows it (alias, else name)
    custom: dict[str, Any] = Field(default_factory=dict)
    # a master plan's inserted-subproject row: the project that row stands for
    subproject: str | None = None
    # computed, write-only
    critical: bool | None = None
    total_slack_days: Decimal | None = None
    free_slack_days: Decimal | None = None
    forecast_start: date | None = None
    forecast_finish: date | None = None
    driving_predecessor: str | None = None  # readable: key or name of the driving item


class Milestone(Entity):
    """A key date: a record in a milestone table, a Jira release, a zero-length MS Project task."""

    entity_type = EntityType.MILESTONE
    references = {"project": EntityType.PROJECT}
    computed = frozenset({"critical", "total_slack_days", "forecast_finish"})
    name: str | None = None
    project: str | None = None
    due: date | None = None
    due_at: datetime | None = None  # local wall-clock time, for sources that have one
    baseline_due: date | None = None
    status: Status | None = None
    done: bool | None = None
    # computed, write-only
    critical: bool | None = None
    total_slack_days: Decimal | None = None
    forecast_finish: date | None = None


class Dependency(Entity):
    """A link stored predecessor -> successor; inverse link names are normalised on input."""

    entity_type = EntityType.DEPENDENCY
    references = {"predecessor": EntityType.WORK_ITEM, "successor": EntityType.WORK_ITEM}
    predecessor: str | None = None
    successor: str | None = None
    link_type: LinkType = LinkType.FS
    lag_minutes: int = 0
    lag_percent: Decimal | None = None  # a percentage lag (of the predecessor's duration)
    lag_elapsed: bool | None = None  # lag in wall-clock time (MS Project's "ed", "eh")
    dependency_class: DependencyClass = DependencyClass.LOGIC
    # where the link comes from: schedule_link, jira_issue_link, jira_remote_link,
    # airtable_link, pwa_link, mapping (an explicit cross-tool link a team mapping defines)
    origin: str | None = None
    source_link_type: str | None = None  # the source's own name, e.g. Jira's "Blocks"


class RaidItem(Entity):
    entity_type = EntityType.RAID_ITEM
    references = {"project": EntityType.PROJECT, "owner": EntityType.PERSON}
    name: str | None = None
    kind: RaidKind | None = None
    project: str | None = None
    owner: str | None = None
    status: Status | None = None
    probability: int | None = Field(default=None, ge=1, le=5)
    impact: int | None = Field(default=None, ge=1, le=5)
    due: date | None = None
    mitigation: str | None = None


class StatusReport(Entity):
    entity_type = EntityType.STATUS_REPORT
    references = {"project": EntityType.PROJECT}
    project: str | None = None
    period_end: date | None = None
    rag: Rag | None = None
    summary: str | None = None
    created_at: datetime | None = None


class Release(Entity):
    entity_type = EntityType.RELEASE
    references = {"project": EntityType.PROJECT}
    name: str | None = None
    project: str | None = None
    release_date: date | None = None
    released: bool | None = None


class Calendar(Entity):
    """A working-time calendar: MS Project's, or the portfolio's for date-only tools."""

    entity_type = EntityType.CALENDAR
    references = {"base_calendar": EntityType.CALENDAR, "project": EntityType.PROJECT}
    name: str | None = None
    project: str | None = None
    base_calendar: str | None = None
    time_zone: str | None = None
    # seven entries, Monday first; each the day's working intervals as (start, end) minutes
    # from midnight. None for a day means "as the base calendar".
    week: list[list[tuple[int, int]] | None] = Field(default_factory=list)
    exceptions: list[CalendarException] = Field(default_factory=list)
    minutes_per_day: int | None = None
    minutes_per_week: int | None = None
    days_per_month: int | None = None
    holiday_region: str | None = None  # e.g. GB-ENG, for the holidays package


class Iteration(Entity):
    entity_type = EntityType.ITERATION
    name: str | None = None
    state: str | None = None
    start: date | None = None
    end: date | None = None


ENTITY_CLASSES: dict[EntityType, type[Entity]] = {
    cls.entity_type: cls
    for cls in (
        Person,
        Portfolio,
        Programme,
        Project,
        WorkItem,
        Milestone,
        Dependency,
        RaidItem,
        StatusReport,
        Release,
        Iteration,
        Calendar,
    )
}


def entity_fields(entity_type: EntityType) -> set[str]:
    """Canonical field names a mapping may name for an entity type."""
    return set(ENTITY_CLASSES[entity_type].model_fields)


def validate_fields(entity_type: EntityType, values: dict[str, Any]) -> dict[str, Any]:
    """Validate canonical values and return them in their JSON form (for the store)."""
    cls = ENTITY_CLASSES[entity_type]
    model = cls.model_validate(values)
    for name in values:
        # A year like 9999 or 0001 is a typo, and schedule arithmetic on it overflows: refused
        # here, so the one record is quarantined (issue #11) instead of the run failing.
        value = getattr(model, name, None)
        if isinstance(value, date) and not YEARS[0] <= value.year <= YEARS[1]:
            raise ValueError(
                f"{name}: {value.isoformat()} is outside the years {YEARS[0]}-{YEARS[1]}"
            )
    dumped = model.model_dump(mode="json", include=set(values))
    return dumped


def validate_computed(entity_type: EntityType, values: dict[str, Any]) -> dict[str, Any]:
    """:func:`validate_fields` for values pmo-sync computed: a date the model cannot hold (a
    forecast past 2999, from an item due on its last day) is left out, the rest stands. A
    computed figure must never end a run the way a typo in one record may not either."""
    kept = {
        k: v
        for k, v in values.items()
        if not (isinstance(v, date) and not YEARS[0] <= v.year <= YEARS[1])
    }
    return validate_fields(entity_type, kept)


# The years a canonical date may fall in.
YEARS = (1900, 2999)
