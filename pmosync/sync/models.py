"""Store schema (SQLAlchemy 2). Changed only through alembic migrations in ``migrations/``."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    JSON,
    DateTime,
    Float,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, datetime: DateTime(timezone=True)}


class Run(Base):
    __tablename__ = "runs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(20))
    dry_run: Mapped[bool] = mapped_column(default=False)
    report: Mapped[dict[str, Any] | None]


class Entity(Base):
    """The resolved canonical record."""

    __tablename__ = "entities"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    entity_type: Mapped[str] = mapped_column(String(30), index=True)
    values: Mapped[dict[str, Any]]
    updated_at: Mapped[datetime]


class Link(Base):
    """(connection, entity type, external id) -> canonical id, plus what that remote last held."""

    __tablename__ = "links"
    __table_args__ = (
        UniqueConstraint("connection", "entity_type", "external_id", name="uq_links_remote"),
        Index("ix_links_canonical", "canonical_id"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    canonical_id: Mapped[str] = mapped_column(String(36))
    connection: Mapped[str] = mapped_column(String(100))
    entity_type: Mapped[str] = mapped_column(String(30))
    external_id: Mapped[str] = mapped_column(String(255))
    external_key: Mapped[str | None] = mapped_column(String(255))
    version_token: Mapped[str | None] = mapped_column(String(255))
    source_modified_at: Mapped[datetime | None]
    content_hash: Mapped[str | None] = mapped_column(String(64))
    # canonical field -> value as the remote last held it (pointers resolved to canonical ids)
    remote_values: Mapped[dict[str, Any]]
    # canonical reference field -> external id of the target in this connection
    pointers: Mapped[dict[str, Any]]
    fetched_at: Mapped[datetime]
    deleted_at: Mapped[datetime | None]


class FieldBase(Base):
    """What one system held for one field after the last settled run (three-way merge base).

    Kept per connection: a system that only feeds a field (never written) keeps its own value,
    and comparing each system with its own base is what tells "changed" from "always differed".
    """

    __tablename__ = "field_bases"
    canonical_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    field: Mapped[str] = mapped_column(String(100), primary_key=True)
    connection: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[dict[str, Any]]  # {"v": value}, so a JSON null base is distinguishable


class Cursor(Base):
    __tablename__ = "cursors"
    connection: Mapped[str] = mapped_column(String(100), primary_key=True)
    scope: Mapped[str] = mapped_column(String(200), primary_key=True)
    value: Mapped[datetime]
    updated_at: Mapped[datetime]


class Outbox(Base):
    """Every write is recorded here before it is sent and marked after."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_status", "status"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(Integer)
    connection: Mapped[str] = mapped_column(String(100))
    entity_type: Mapped[str] = mapped_column(String(30))
    canonical_id: Mapped[str] = mapped_column(String(36))
    external_id: Mapped[str | None] = mapped_column(String(255))
    op: Mapped[str] = mapped_column(String(10))
    payload: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(String(12))  # pending, done, failed, superseded
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Conflict(Base):
    __tablename__ = "conflicts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    canonical_id: Mapped[str] = mapped_column(String(36))
    entity_type: Mapped[str] = mapped_column(String(30))
    field: Mapped[str] = mapped_column(String(100))
    observed: Mapped[dict[str, Any]]  # connection -> value
    base: Mapped[dict[str, Any] | None]
    policy: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(12))  # open, settled, resolved
    resolution: Mapped[dict[str, Any] | None]
    detected_at: Mapped[datetime]
    run_id: Mapped[int] = mapped_column(Integer)


class QuarantinedRecord(Base):
    __tablename__ = "quarantine"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(Integer)
    connection: Mapped[str] = mapped_column(String(100))
    entity_type: Mapped[str] = mapped_column(String(30))
    external_id: Mapped[str] = mapped_column(String(255))
    reason: Mapped[str] = mapped_column(Text)
    seen_at: Mapped[datetime]


class ScheduleResult(Base):
    """The schedule the analyse stage computed for one item in one run (never a source value)."""

    __tablename__ = "schedule_results"
    run_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    canonical_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    early_start: Mapped[datetime | None]
    early_finish: Mapped[datetime | None]
    late_start: Mapped[datetime | None]
    late_finish: Mapped[datetime | None]
    total_slack_minutes: Mapped[float | None] = mapped_column(Float)
    free_slack_minutes: Mapped[float | None] = mapped_column(Float)
    critical: Mapped[bool | None]
    driving_predecessor: Mapped[str | None] = mapped_column(String(36))


class DependencyFinding(Base):
    """One dependency check finding of one run (violation, at risk, cycle, dangling...)."""

    __tablename__ = "dependency_findings"
    __table_args__ = (Index("ix_dependency_findings_run", "run_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20))
    severity: Mapped[str] = mapped_column(String(10))
    link: Mapped[str | None] = mapped_column(String(36))  # the dependency's canonical id
    items: Mapped[dict[str, Any]]  # {"ids": [...], "witness": [...]}
    shortfall_days: Mapped[float | None] = mapped_column(Float)
    message: Mapped[str] = mapped_column(Text)


def table_of(model: type[Base]) -> Table:
    """A model's Core table, for the bulk ``executemany`` paths (no ORM work per row)."""
    return cast(Table, model.__table__)
