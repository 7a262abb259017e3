"""Airtable records <-> canonical values (pure functions, no I/O)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import ValidationError

from pmosync.canonical_model import ENTITY_CLASSES, EntityType, RemotePointer, validate_fields
from pmosync.canonical_model.provenance import named_pointer
from pmosync.errors import SkippableRecordError

# Airtable field types whose absence in a record means False / empty rather than unknown.
_OMITTED_WHEN_FALSE = {"checkbox"}
_NUMERIC = {"number", "percent", "currency", "rating", "duration"}


@dataclass(frozen=True)
class ResolvedField:
    canonical: str
    field_id: str
    field_type: str
    values: dict[str, Any] | None


@dataclass(frozen=True)
class TableMap:
    """One entity's mapping with remote field names resolved to ids against the schema."""

    entity_type: EntityType
    table_id: str
    fields: tuple[ResolvedField, ...]
    id_field: str | None
    constants: dict[str, Any]
    modified_field: str | None  # a lastModifiedTime field, used as the version token


def parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def to_canonical(
    record: dict[str, Any], table: TableMap
) -> tuple[dict[str, Any], dict[str, RemotePointer]]:
    """Canonical values and reference pointers of one record.

    Raises:
        SkippableRecordError: a value that cannot be mapped (unknown option, bad date);
            the message names the field so the quarantine entry says what to fix.
    """
    cells: dict[str, Any] = record.get("fields") or {}
    cls = ENTITY_CLASSES[table.entity_type]
    values: dict[str, Any] = dict(table.constants)
    pointers: dict[str, RemotePointer] = {}
    for spec in table.fields:
        raw = cells.get(spec.field_id)
        if spec.canonical in cls.references:
            if isinstance(raw, list) and raw:
                target = cls.references[spec.canonical]
                pointers[spec.canonical] = RemotePointer(target, str(raw[0]))
            elif isinstance(raw, str) and raw.strip():
                # a text cell naming an item in any tool (a Jira key, "P001 / Go-live"):
                # an explicit cross-tool link, resolved by the sync against the store
                target = cls.references[spec.canonical]
                pointers[spec.canonical] = named_pointer(target, raw)
            elif raw is None:
                values[spec.canonical] = None
            continue
        if raw is None and spec.field_type in _OMITTED_WHEN_FALSE:
            raw = False
        if isinstance(raw, dict) and ("error" in raw or "specialValue" in raw):
            raise SkippableRecordError(
                f"field {spec.field_id} ({spec.canonical}) holds a formula error {raw!r}"
            )
        if isinstance(raw, dict) and "name" in raw:  # collaborator
            raw = raw.get("email") or raw.get("name")
        if spec.values is not None and raw is not None:
            key = raw if not isinstance(raw, list) else (raw[0] if raw else None)
            if key not in spec.values:
                known = ", ".join(repr(k) for k in spec.values)
                raise SkippableRecordError(
                    f"field {spec.field_id} ({spec.canonical}): option {key!r} has no mapping "
                    f"(mapped: {known}); add it to the team mapping's values"
                )
            raw = spec.values[key]
        if spec.field_type == "percent" and isinstance(raw, int | float):
            raw = raw * 100  # Airtable stores 50 % as 0.5; canonical percentages are 0-100
        if isinstance(raw, float) and raw.is_integer():
            raw = int(raw)  # 22.0 reads as 22: the decimal we wrote, not a change to write back
        values[spec.canonical] = raw
    if table.entity_type is EntityType.WORK_ITEM and (values.get("start") or values.get("due")):
        # dates a person typed in: no scheduler behind them, durations left to the analysis
        values.setdefault("schedule_mode", "entered")
    try:
        clean = validate_fields(table.entity_type, values)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        raise SkippableRecordError(f"cannot map: {problems}") from None
    return clean, pointers


def to_remote(changes: dict[str, Any], table: TableMap) -> dict[str, Any]:
    """Airtable cell values (keyed by field id) for canonical values to write."""
    by_canonical = {spec.canonical: spec for spec in table.fields}
    cls = ENTITY_CLASSES[table.entity_type]
    cells: dict[str, Any] = {}
    for name, value in changes.items():
        spec = by_canonical[name]
        if name in cls.references:
            cells[spec.field_id] = [value] if value else []
            continue
        if spec.values is not None and value is not None:
            value = next((remote for remote, canon in spec.values.items() if canon == value), None)
        if isinstance(value, str) and spec.field_type in _NUMERIC:
            value = Decimal(value)  # canonical decimals are stored as strings
        if isinstance(value, Decimal):
            value = float(value)
        if spec.field_type == "percent" and isinstance(value, int | float):
            value = value / 100
        cells[spec.field_id] = value
    return cells
