"""Conflicts in the store: held ones stay open under one id until a person resolves them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from pmosync.sync import models
from pmosync.sync.store import Store

Overrides = dict[tuple[str, str], tuple[Any, int]]


def load_overrides(store: Store) -> Overrides:
    """(canonical id, field) -> (value, conflict id) for conflicts a person resolved."""
    with store.sessions() as session:
        rows = session.scalars(select(models.Conflict).where(models.Conflict.status == "resolved"))
        return {
            (row.canonical_id, row.field): ((row.resolution or {}).get("value"), row.id)
            for row in rows
        }


def record_conflicts(
    session: Session,
    conflicts: Sequence[dict[str, Any]],
    applied: Mapping[tuple[str, str], tuple[Any, int]],
    run_id: int,
    now: datetime,
) -> None:
    """Store this run's conflicts; a held one keeps its open row (and id) across runs."""
    open_rows = {
        (row.canonical_id, row.field): row
        for row in session.scalars(select(models.Conflict).where(models.Conflict.status == "open"))
    }
    for c in conflicts:
        key = (c["canonical_id"], c["field"])
        row = open_rows.pop(key, None) if c["held"] else None
        if row is not None:
            row.observed = c["observed"]
            row.run_id = run_id
            continue
        session.add(
            models.Conflict(
                canonical_id=c["canonical_id"],
                entity_type=c["entity_type"],
                field=c["field"],
                observed=c["observed"],
                base={"v": c["base"]},
                policy=c["policy"],
                status="open" if c["held"] else "settled",
                resolution={"reason": c["reason"]},
                detected_at=now,
                run_id=run_id,
            )
        )
    for row in open_rows.values():
        row.status = "settled"  # the systems agree again
    if applied:
        ids = [conflict_id for _, conflict_id in applied.values()]
        session.execute(
            update(models.Conflict).where(models.Conflict.id.in_(ids)).values(status="applied")
        )
