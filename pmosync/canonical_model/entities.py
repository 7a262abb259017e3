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


class Person(Entity):
    entity_type = EntityType.PERSON
    name: str | None = None
    email: str | None = None
    account_id: str | None = None


class Portfolio(Entity):
    entity_type = EntityType.PORTFOLIO
    name: str | None = None
    code: str | None = None
    description: str | None = None
    owner: str | None = None


class Programme(Entity):
    entity_type = EntityType.PROGRAMME
    references = {"portfolio": EntityType.PORTFOLIO}
    name: str | None = None
    code: str | None = None
    portfolio: str | None = None
    status: Status | None = None
    planned_start: date | None = None
    planned_finish: date | None = None


class Project(Entity):
    entity_type = EntityType.PROJECT
    references = {"programme": EntityType.PROGRAMME, "manager": EntityType.PERSON}
    computed = frozenset(
        {
            "next_milestone",
            "next_milestone_date",
            "overdue_milestones",
            "rag_computed",
            "pmo_status",
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


class WorkItem(Entity):
    entity_type = EntityType.WORK_ITEM
    references = {
        "project": EntityType.PROJECT,
        "parent": EntityType.WORK_ITEM,
        "assignee": EntityType.PERSON,
    }
    computed = frozenset({"critical", "total_slack_days", "forecast_finish"})
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
    critical: bool | None = None
    total_slack_days: Decimal | None = None
    forecast_finish: date | None = None


class Milestone(Entity):
    """A key date: a record in a milestone table, a Jira release, a zero-length MS Project task."""

    entity_type = EntityType.MILESTONE
    references = {"project": EntityType.PROJECT}
    name: str | None = None
    project: str | None = None
    due: date | None = None
    baseline_due: date | None = None
    status: Status | None = None
    done: bool | None = None


class Dependency(Entity):
    """A link stored predecessor -> successor; inverse link names are normalised on input."""

    entity_type = EntityType.DEPENDENCY
    references = {"predecessor": EntityType.WORK_ITEM, "successor": EntityType.WORK_ITEM}
    predecessor: str | None = None
    successor: str | None = None
    link_type: LinkType = LinkType.FS
    lag_minutes: int = 0
    dependency_class: DependencyClass = DependencyClass.LOGIC


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
    )
}


def entity_fields(entity_type: EntityType) -> set[str]:
    """Canonical field names a mapping may name for an entity type."""
    return set(ENTITY_CLASSES[entity_type].model_fields)


def validate_fields(entity_type: EntityType, values: dict[str, Any]) -> dict[str, Any]:
    """Validate canonical values and return them in their JSON form (for the store)."""
    cls = ENTITY_CLASSES[entity_type]
    model = cls.model_validate(values)
    dumped = model.model_dump(mode="json", include=set(values))
    return dumped
