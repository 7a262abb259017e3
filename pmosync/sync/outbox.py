"""The outbox seen by a person: writes that keep failing, retried or dropped on purpose.

A failed write is not replayed from its row: the next run plans it again from the store (the
tool still lacks the value), so it fails again until the cause is fixed. ``drop`` records that
a person gave up on one change: the planner then leaves out a write carrying exactly the same
new values to the same record, until the value changes or ``retry`` takes the drop back.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, update

from pmosync.canonical_model import PlannedWrite
from pmosync.errors import ConfigError
from pmosync.sync import models
from pmosync.sync.store import Store, utcnow


def _signature(
    connection: str, canonical_id: str, changes: Sequence[dict[str, Any]]
) -> tuple[str, str, str]:
    import json

    values = sorted(
        (c["field"], json.dumps(c.get("new"), sort_keys=True, default=str)) for c in changes
    )
    return connection, canonical_id, json.dumps(values)


@dataclass
class FailingWrite:
    """The newest row of one write (record + changes) and how often it failed."""

    row: models.Outbox
    failures: int
    first_failed_at: Any
    runs: list[int] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        r = self.row
        return {
            "id": r.id,
            "status": r.status,
            "connection": r.connection,
            "entity_type": r.entity_type,
            "canonical_id": r.canonical_id,
            "external_id": r.external_id,
            "op": r.op,
            "changes": (r.payload or {}).get("changes", []),
            "failures": self.failures,
            "runs": self.runs,
            "first_failed_at": self.first_failed_at,
            "last_error": r.last_error,
        }


def failing_writes(store: Store, *, dropped: bool = False) -> list[FailingWrite]:
    """Writes whose latest attempt failed (or was dropped), newest row per record and change."""
    with store.sessions() as session:
        rows = list(
            session.scalars(
                select(models.Outbox)
                .where(models.Outbox.status.in_(("failed", "dropped", "done", "retry")))
                .order_by(models.Outbox.id)
            )
        )
    out: dict[tuple[str, str, str], FailingWrite] = {}
    for row in rows:
        key = _signature(row.connection, row.canonical_id, (row.payload or {}).get("changes", []))
        if row.status in ("done", "retry") or (row.status == "dropped" and not dropped):
            out.pop(key, None)  # it went through, a person asked again, or gave up on it
            continue
        seen = out.get(key)
        if seen is None:
            out[key] = FailingWrite(row, 1, row.updated_at, [row.run_id])
        else:
            seen.row = row
            seen.failures += 1
            seen.runs.append(row.run_id)
    return sorted(out.values(), key=lambda f: f.row.id)


def set_status(
    store: Store, ids: Sequence[int], status: str, allowed: tuple[str, ...]
) -> list[models.Outbox]:
    """Mark the rows named and every earlier attempt of the same write (``dropped`` or
    ``retry``); raises ConfigError for unknown ids or rows in another state."""
    with store.sessions() as session:
        rows = list(session.scalars(select(models.Outbox).where(models.Outbox.id.in_(ids))))
        found = {r.id for r in rows}
        missing = [i for i in ids if i not in found]
        if missing:
            names = ", ".join(f"#{i}" for i in missing)
            raise ConfigError(f"no outbox row {names} (see `pmo-sync outbox list`)")
        wrong = [r for r in rows if r.status not in allowed]
        if wrong:
            r = wrong[0]
            raise ConfigError(f"outbox row #{r.id} is {r.status}, not {' or '.join(allowed)}")
        keys = {
            _signature(r.connection, r.canonical_id, (r.payload or {}).get("changes", []))
            for r in rows
        }
        same = [
            r.id
            for r in session.scalars(select(models.Outbox).where(models.Outbox.status.in_(allowed)))
            if _signature(r.connection, r.canonical_id, (r.payload or {}).get("changes", []))
            in keys
        ]
    with store.session() as session:
        session.execute(
            update(models.Outbox)
            .where(models.Outbox.id.in_(same))
            .values(status=status, updated_at=utcnow())
        )
    return rows


def skip_dropped(store: Store, writes: list[PlannedWrite]) -> tuple[list[PlannedWrite], int]:
    """The planned writes minus the ones a person dropped (same record, same new values)."""
    with store.sessions() as session:
        rows = list(session.scalars(select(models.Outbox).where(models.Outbox.status == "dropped")))
    if not rows:
        return writes, 0
    dropped = {
        _signature(r.connection, r.canonical_id, (r.payload or {}).get("changes", [])) for r in rows
    }
    kept = [
        w
        for w in writes
        if _signature(
            w.connection,
            w.canonical_id,
            [{"field": c.field, "new": c.new} for c in w.changes],
        )
        not in dropped
    ]
    return kept, len(writes) - len(kept)
