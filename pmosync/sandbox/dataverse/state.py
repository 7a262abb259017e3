"""The Dataverse emulator's tables: rows by entity set, a version counter for ETags and change
tracking, and the tombstones change tracking reports.

``versionnumber`` is Dataverse's row version (the number inside ``@odata.etag`` W/"..."), and
change tracking's delta token is a version watermark ("Use change tracking to synchronize data
with external systems", https://learn.microsoft.com/power-apps/developer/data-platform/use-change-tracking-synchronize-data-external-systems).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pmosync.sandbox.dataverse.csdl import Schema


def instant(moment: datetime | None = None) -> str:
    moment = moment or datetime.now(UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Tables:
    schema: Schema
    rows: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    deleted: dict[str, list[tuple[int, str]]] = field(default_factory=dict)
    version: int = 1000
    lock: threading.RLock = field(default_factory=threading.RLock)

    def key(self, entity_set: str) -> str:
        return self.schema.keys[self.schema.sets[entity_set]]

    def put(self, entity_set: str, row: dict[str, Any]) -> dict[str, Any]:
        """Insert or replace a whole row (seeding); stamps modifiedon and versionnumber."""
        with self.lock:
            entity_type = self.schema.sets[entity_set]
            full: dict[str, Any] = {name: None for name in self.schema.types[entity_type]}
            full.update(row)
            self.version += 1
            full["versionnumber"] = self.version
            full["modifiedon"] = row.get("modifiedon") or instant()
            self.schema.check(entity_type, full)
            self.rows.setdefault(entity_set, {})[str(full[self.key(entity_set)])] = full
            return full

    def update(self, entity_set: str, record_id: str, changes: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            row = self.rows[entity_set][record_id]
            row.update(changes)
            self.version += 1
            row["versionnumber"] = self.version
            row["modifiedon"] = instant()
            self.schema.check(self.schema.sets[entity_set], row)
            return row

    def delete(self, entity_set: str, record_id: str) -> None:
        with self.lock:
            self.rows.get(entity_set, {}).pop(record_id, None)
            self.version += 1
            self.deleted.setdefault(entity_set, []).append((self.version, record_id))

    def get(self, entity_set: str, record_id: str) -> dict[str, Any] | None:
        return self.rows.get(entity_set, {}).get(record_id.lower())

    def all(self, entity_set: str) -> list[dict[str, Any]]:
        with self.lock:
            return [dict(r) for r in self.rows.get(entity_set, {}).values()]
