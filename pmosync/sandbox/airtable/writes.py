"""Record writes: value coercion (with ``typecast``), create/update/replace/delete, and the
inverse side of record links. A batch is validated completely before anything changes, so a
422 leaves the base untouched, as Airtable does."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pmosync.sandbox.airtable import errors, fieldtypes
from pmosync.sandbox.airtable.fieldtypes import CoercionError
from pmosync.sandbox.airtable.store import Base, Field, IdFactory, Record, Table, is_id, raw_value

CHOICE_COLORS = ("blueLight2", "cyanLight2", "tealLight2", "greenLight2", "yellowLight2")


@dataclass
class Prepared:
    """Coerced values for one record, by field id (None clears the cell)."""

    values: dict[str, Any]
    record_id: str | None = None


@dataclass
class Writer:
    """One write request against one table; collects new select options until commit."""

    base: Base
    table: Table
    ids: IdFactory
    typecast: bool = False
    new_choices: dict[str, list[str]] = field(default_factory=dict)

    # -- validation ---------------------------------------------------------------------------
    def prepare(self, raw: Any, record_id: str | None = None) -> Prepared:
        if not isinstance(raw, dict):
            raise errors.invalid_request('"fields" must be an object')
        values: dict[str, Any] = {}
        for key, value in raw.items():
            fld = self.table.field(key)
            if fld is None:
                raise errors.unknown_field(key)
            if fld.computed:
                raise errors.computed_field(fld.name)
            try:
                values[fld.id] = self.coerce(fld, value)
            except CoercionError:
                raise errors.invalid_value(fld.name) from None
        return Prepared(values, record_id)

    def coerce(self, fld: Field, value: Any) -> Any:
        if value is None:
            return None
        kind, typecast = fld.type, self.typecast
        if kind in fieldtypes.TEXT_TYPES:
            return fieldtypes.coerce_text(value, typecast)
        if kind in fieldtypes.NUMBER_TYPES:
            return fieldtypes.coerce_number(value, typecast)
        if kind == "date":
            return fieldtypes.coerce_date(value, typecast)
        if kind == "dateTime":
            return fieldtypes.coerce_datetime(value, typecast)
        if kind == "checkbox":
            return fieldtypes.coerce_checkbox(value, typecast)
        if kind == "singleSelect":
            if typecast and not isinstance(value, str):
                value = str(value)
            if not isinstance(value, str):
                raise CoercionError
            return self.choice(fld, value) if value else None
        if kind == "multipleSelects":
            names: list[str] = []
            for name in fieldtypes.split_multi(value, typecast):
                chosen = self.choice(fld, name)
                if chosen not in names:
                    names.append(chosen)
            return names or None
        if kind == "multipleRecordLinks":
            return self.links(fld, value)
        if kind == "singleCollaborator":
            return self.collaborator(value)
        raise CoercionError

    def choice(self, fld: Field, name: str) -> str:
        existing = (fld.options or {}).get("choices", [])
        for choice in existing:
            if choice["name"] == name:
                return name
        if self.typecast:
            for choice in existing:
                if choice["id"] == name:
                    return str(choice["name"])
            pending = self.new_choices.setdefault(fld.id, [])
            if name not in pending:
                pending.append(name)
            return name
        raise errors.invalid_select_option(name)

    def links(self, fld: Field, value: Any) -> list[str] | None:
        if isinstance(value, str) and self.typecast:
            value = [part.strip() for part in value.split(",") if part.strip()]
        if not isinstance(value, list):
            raise CoercionError
        linked = self.base.table_by_id((fld.options or {})["linkedTableId"])
        out: list[str] = []
        for item in value:
            if isinstance(item, dict) and isinstance(item.get("id"), str):
                item = item["id"]  # the shape some clients echo back
            if not isinstance(item, str):
                raise CoercionError
            target = item if item in linked.records else None
            if target is None and self.typecast:
                # typecast links by the linked record's primary field value
                target = next(
                    (
                        r.id
                        for r in linked.records.values()
                        if raw_value(self.base, linked, r, linked.primary) == item
                    ),
                    None,
                )
            if target is None:
                if is_id(item, "rec"):
                    raise errors.AirtableError(
                        422, "ROW_DOES_NOT_EXIST", f"Record ID {item} does not exist"
                    )
                raise CoercionError
            if target not in out:
                out.append(target)
        return out or None

    def collaborator(self, value: Any) -> dict[str, str]:
        if isinstance(value, str) and self.typecast:
            value = {"email": value} if "@" in value else {"id": value}
        if not isinstance(value, dict):
            raise CoercionError
        for person in self.base.collaborators:
            if value.get("id") == person["id"] or (
                value.get("email") and str(value["email"]).lower() == person["email"].lower()
            ):
                return dict(person)
        raise CoercionError

    # -- applying -----------------------------------------------------------------------------
    def commit_choices(self) -> None:
        for field_id, names in self.new_choices.items():
            fld = self.table.field_by_id(field_id)
            options = fld.options if fld.options is not None else {}
            choices = options.setdefault("choices", [])
            for name in names:
                if name not in [c["name"] for c in choices]:
                    color = CHOICE_COLORS[len(choices) % len(CHOICE_COLORS)]
                    choices.append({"id": self.ids.new("sel"), "name": name, "color": color})
            fld.options = options
        self.new_choices.clear()

    def create(self, prepared: Prepared, now: datetime, record_id: str | None = None) -> Record:
        record = Record(
            id=record_id or self.ids.new("rec"), created_time=now, number=self.table.next_number
        )
        self.table.next_number += 1
        self.table.records[record.id] = record
        self.apply(record, prepared.values, now)
        return record

    def apply(
        self, record: Record, values: dict[str, Any], now: datetime, replace: bool = False
    ) -> None:
        if replace:
            values = {
                **{f.id: None for f in self.table.fields if not f.computed},
                **values,
            }
        for field_id, value in values.items():
            set_cell(self.base, self.table, record, field_id, value, now)


def set_cell(
    base: Base, table: Table, record: Record, field_id: str, value: Any, now: datetime
) -> None:
    """Store one cell, stamp its modification time, and keep inverse links in step."""
    old = record.cells.get(field_id)
    if old == value:
        return  # a write that changes nothing does not count as a modification
    if value is None:
        record.cells.pop(field_id, None)
    else:
        record.cells[field_id] = value
    record.modified[field_id] = now
    fld = table.field_by_id(field_id)
    if fld.type == "multipleRecordLinks":
        _sync_inverse(base, fld, record.id, old or [], value or [], now)


def _sync_inverse(
    base: Base, fld: Field, record_id: str, old: list[str], new: list[str], now: datetime
) -> None:
    options = fld.options or {}
    inverse_id = options.get("inverseLinkFieldId")
    if not inverse_id:
        return
    linked = base.table_by_id(options["linkedTableId"])
    for other_id in set(old) ^ set(new):
        other = linked.records.get(other_id)
        if other is None:
            continue
        current = list(other.cells.get(inverse_id) or [])
        if other_id in new and record_id not in current:
            current.append(record_id)
        elif other_id not in new and record_id in current:
            current.remove(record_id)
        else:
            continue
        if current:
            other.cells[inverse_id] = current
        else:
            other.cells.pop(inverse_id, None)
        other.modified[inverse_id] = now


def delete_record(base: Base, table: Table, record_id: str, now: datetime) -> None:
    record = table.records.pop(record_id)
    for fld in table.fields:
        if fld.type == "multipleRecordLinks" and record.cells.get(fld.id):
            _sync_inverse(base, fld, record_id, record.cells[fld.id], [], now)


def fields_of(item: dict[str, Any]) -> Any:
    """The ``fields`` of one record in a write body (422 when it is missing)."""
    if "fields" not in item:
        raise errors.missing_fields()
    return item["fields"]


@dataclass
class UpsertResult:
    records: list[Record]
    created: list[str]
    updated: list[str]


def _matching(table: Table, merge_ids: list[str], values: dict[str, Any]) -> list[Record]:
    return [
        r
        for r in table.records.values()
        if all(r.cells.get(fid) == values.get(fid) for fid in merge_ids)
    ]


def upsert_records(
    writer: Writer,
    items: list[dict[str, Any]],
    perform_upsert: Any,
    clock: Callable[[], datetime],
    *,
    replace: bool,
) -> UpsertResult:
    """``performUpsert``: records with an id update that record; the others match on
    ``fieldsToMergeOn`` (1-3 fields, names or ids): no match creates, one match updates,
    several matches reject the whole request."""
    table = writer.table
    merge_on = perform_upsert.get("fieldsToMergeOn") if isinstance(perform_upsert, dict) else None
    if not isinstance(merge_on, list) or not 1 <= len(merge_on) <= 3:
        raise errors.invalid_request(
            "performUpsert.fieldsToMergeOn must list between 1 and 3 fields"
        )
    merge_ids: list[str] = []
    for key in merge_on:
        fld = table.field(key) if isinstance(key, str) else None
        if fld is None:
            raise errors.unknown_field(str(key))
        if fld.type not in fieldtypes.MERGEABLE_TYPES:
            raise errors.invalid_request(f'Field "{fld.name}" cannot be used in fieldsToMergeOn')
        merge_ids.append(fld.id)
    prepared: list[Prepared] = []
    for item in items:
        record_id = item.get("id")
        if record_id is not None:
            if not isinstance(record_id, str) or record_id not in table.records:
                raise errors.row_does_not_exist(str(record_id))  # a batch write: 422
            prepared.append(writer.prepare(fields_of(item), record_id))
            continue
        candidate = writer.prepare(fields_of(item))
        missing = [table.field_by_id(f).name for f in merge_ids if f not in candidate.values]
        if missing:
            raise errors.invalid_request(
                "Records without an id must include every fieldsToMergeOn field: "
                + ", ".join(missing)
            )
        if len(_matching(table, merge_ids, candidate.values)) > 1:
            raise errors.invalid_records(
                "Cannot upsert: more than one record matches the fieldsToMergeOn values"
            )
        prepared.append(candidate)
    writer.commit_choices()
    now = clock()
    result = UpsertResult([], [], [])
    for p in prepared:
        if p.record_id is not None:
            record = table.records[p.record_id]
        else:
            found = _matching(table, merge_ids, p.values)
            if not found:
                # Matched sequentially, so a key repeated later in the batch updates this one.
                record = writer.create(p, now)
                result.created.append(record.id)
                result.records.append(record)
                continue
            record = found[0]
        writer.apply(record, p.values, now, replace=replace)
        if record.id not in result.updated and record.id not in result.created:
            result.updated.append(record.id)
        result.records.append(record)
    return result
