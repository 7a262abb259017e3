"""Provenance and change types: where a value came from and what we intend to write."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from pmosync.canonical_model.entities import EntityType
from pmosync.fastjson import dumps


def content_hash(values: dict[str, Any]) -> str:
    """sha256 of canonical values, stable across key order (echo and no-op detection)."""
    return hashlib.sha256(dumps(values, sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True)
class ExternalRef:
    """One record in one remote system."""

    connection: str
    entity_type: EntityType
    external_id: str
    external_key: str | None = None
    version_token: str | None = None
    source_modified_at: datetime | None = None


@dataclass(frozen=True)
class RemotePointer:
    """A reference field's raw target: the external id of another record in the same system."""

    entity_type: EntityType
    external_id: str


# A pointer whose external id starts with this names an item in any tool by key, code or name
# (an explicit cross-tool link a mapping defines); the sync resolves it against the store.
NAMED_POINTER = "named:"


def named_pointer(entity_type: EntityType, text: str) -> RemotePointer:
    return RemotePointer(entity_type, NAMED_POINTER + text.strip())


@dataclass
class PulledRecord:
    """A remote record mapped into canonical values, as a connector yields it."""

    ref: ExternalRef
    values: dict[str, Any]
    # canonical reference field -> pointer to another record of the same connection
    pointers: dict[str, RemotePointer] = field(default_factory=dict)
    # the pmo-sync id the remote record carries (written by an earlier create), if any
    pmo_id: str | None = None

    @property
    def hash(self) -> str:
        pointers = {k: v.external_id for k, v in self.pointers.items()}
        return content_hash({"v": self.values, "p": pointers})


@dataclass(frozen=True)
class Quarantined:
    """A remote record that could not be mapped; the run goes on without it."""

    connection: str
    entity_type: EntityType
    external_id: str
    reason: str


@dataclass(frozen=True)
class FieldChange:
    field: str
    old: Any
    new: Any
    reason: str


@dataclass
class PlannedWrite:
    """One write to one remote record (or one create), as planned and journaled in the outbox."""

    connection: str
    entity_type: EntityType
    canonical_id: str
    op: Literal["create", "update"]
    changes: list[FieldChange]
    external_id: str | None = None
    outbox_id: int | None = None

    @property
    def values(self) -> dict[str, Any]:
        return {c.field: c.new for c in self.changes}


@dataclass
class Changeset:
    """A run's plan: every write, grouped per connection on demand (what --dry-run prints)."""

    writes: list[PlannedWrite] = field(default_factory=list)

    def by_connection(self) -> dict[str, list[PlannedWrite]]:
        grouped: dict[str, list[PlannedWrite]] = {}
        for write in self.writes:
            grouped.setdefault(write.connection, []).append(write)
        return grouped

    def __len__(self) -> int:
        return len(self.writes)


@dataclass(frozen=True)
class WriteResult:
    outbox_id: int | None
    ok: bool
    external_id: str | None = None
    version_token: str | None = None
    error: str | None = None
    # values as the remote now holds them (canonical form), when the API returns them
    values: dict[str, Any] | None = None
    # external id of a remote record the write found deleted (the record written, or one its
    # reference names): its link is tombstoned instead of the write failing on every run
    gone: str | None = None
