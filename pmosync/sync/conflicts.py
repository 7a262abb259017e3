"""Conflicts in the store: held ones stay open under one id until a person resolves them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from pmosync.errors import ConfigError
from pmosync.sync import models
from pmosync.sync.store import Store, utcnow

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


def parse_value(entity_type: str, field: str, text: str) -> Any:
    """A person's ``--value`` as the canonical field's type, in its stored (JSON) form.

    JSON first (``"done"``, ``3``, ``null``); text that is not JSON is taken as a string, so
    ``--value 2027-01-01`` and ``--value done`` work unquoted.

    Raises:
        ConfigError: the value does not fit the field (a date that is not a date, an unknown
            status), naming what the field accepts.
    """
    import json

    from pydantic import TypeAdapter, ValidationError

    from pmosync.canonical_model import ENTITY_CLASSES, EntityType

    try:
        raw = json.loads(text)
    except json.JSONDecodeError:
        raw = text
    cls = ENTITY_CLASSES[EntityType(entity_type)]
    info = cls.model_fields.get(field)
    if info is None or info.annotation is None:
        return raw  # a custom field: no declared type to check against
    adapter: TypeAdapter[Any] = TypeAdapter(info.annotation)
    try:
        value = adapter.validate_python(raw)
    except ValidationError as exc:
        reason = exc.errors()[0]["msg"]
        raise ConfigError(
            f"--value {text!r} is not a valid {entity_type} {field}: {reason}",
            problems=[f"{field} takes {_describe(info.annotation)}"],
        ) from None
    return adapter.dump_python(value, mode="json")


def _describe(annotation: Any) -> str:
    import enum
    import typing
    from datetime import date, datetime

    args = [a for a in typing.get_args(annotation) if a is not type(None)] or [annotation]
    out = []
    for arg in args:
        if isinstance(arg, type) and issubclass(arg, enum.Enum):
            out.append("one of " + ", ".join(repr(m.value) for m in arg))
        elif arg is datetime:
            out.append("a date and time (2027-01-31T17:00)")
        elif arg is date:
            out.append("a date (2027-01-31)")
        else:
            out.append(getattr(arg, "__name__", str(arg)))
    return " or ".join(out) + " (or null)"


def reopen_conflict(store: Store, conflict_id: int) -> models.Conflict:
    """Undo a person's decision: the conflict is open (held) again and nothing is written.

    Raises:
        ConfigError: no conflict has that id, or it is still open.
    """
    with store.session() as session:
        row = session.get(models.Conflict, conflict_id)
        if row is None:
            raise ConfigError(f"no conflict #{conflict_id} (see `pmo-sync conflicts list --all`)")
        if row.status == "open":
            raise ConfigError(f"conflict #{conflict_id} is already open")
        previous = dict(row.resolution or {})
        row.status = "open"
        row.resolution = {"reopened_at": utcnow().isoformat(), "previous": previous}
        return row


def list_conflicts(store: Store, *, every: bool = False) -> list[models.Conflict]:
    """Open conflicts (or every conflict, newest last)."""
    with store.sessions() as session:
        query = select(models.Conflict)
        if not every:
            query = query.where(models.Conflict.status.in_(("open", "resolved")))
        return list(session.scalars(query.order_by(models.Conflict.id)))


def labels(store: Store, ids: Sequence[str]) -> dict[str, str]:
    """Canonical id -> how people name the record (project code and name, issue key...)."""
    from pmosync.humanize import record_label

    with store.sessions() as session:
        rows = {
            e.id: e.values
            for e in session.scalars(select(models.Entity).where(models.Entity.id.in_(ids)))
        }
        projects = {
            str(v.get("project")) for v in rows.values() if isinstance(v.get("project"), str)
        }
        for e in session.scalars(select(models.Entity).where(models.Entity.id.in_(projects))):
            rows.setdefault(e.id, e.values)
    return {i: record_label(rows.get(i, {}), external_id=i, lookup=rows.get) for i in ids}
