"""The emulator's state: bases, tables, fields, views and records, plus how a record reads.

Cells are stored by field id. Computed fields (formula, count, createdTime,
lastModifiedTime, autoNumber) are never stored; they are worked out when a record is read.
Every stored cell remembers when it last changed, which is what ``LAST_MODIFIED_TIME()``
and lastModifiedTime fields report.
"""

from __future__ import annotations

import random
import re
import string
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pmosync.sandbox.airtable import fieldtypes
from pmosync.sandbox.airtable.formula import (
    FormulaSyntaxError,
    FormulaValueError,
    Node,
    evaluate,
    format_datetime,
    parse,
)

ID_ALPHABET = string.ascii_letters + string.digits


class IdFactory:
    """Airtable-shaped ids (prefix + 14 alphanumerics), deterministic for a given seed."""

    def __init__(self, seed: int | str = 0) -> None:
        self._rng = random.Random(seed)
        self._issued: set[str] = set()

    def new(self, prefix: str) -> str:
        while True:
            candidate = prefix + "".join(self._rng.choice(ID_ALPHABET) for _ in range(14))
            if candidate not in self._issued:
                self._issued.add(candidate)
                return candidate

    def reserve(self, identifier: str) -> str:
        self._issued.add(identifier)
        return identifier


def is_id(value: str, prefix: str) -> bool:
    return len(value) == 17 and value.startswith(prefix) and value[3:].isalnum()


@dataclass
class Field:
    id: str
    name: str
    type: str
    options: dict[str, Any] | None = None
    description: str | None = None
    _parsed: Node | None = field(default=None, repr=False, compare=False)

    @property
    def computed(self) -> bool:
        return self.type in fieldtypes.COMPUTED_TYPES

    def choice_names(self) -> list[str]:
        return [c["name"] for c in (self.options or {}).get("choices", [])]


@dataclass
class View:
    id: str
    name: str
    type: str = "grid"
    visible_field_ids: list[str] | None = None  # None: every field
    formula: str | None = None  # records the view shows (a view filter)
    sort: list[tuple[str, str]] = field(default_factory=list)  # (field id, asc|desc)


@dataclass
class Record:
    id: str
    created_time: datetime
    cells: dict[str, Any] = field(default_factory=dict)
    modified: dict[str, datetime] = field(default_factory=dict)
    number: int = 0
    comments: list[dict[str, Any]] = field(default_factory=list)  # oldest first, API shape

    def last_modified(self, field_ids: list[str] | None = None) -> datetime | None:
        """Newest change to the given fields (any field when None; creation if untouched)."""
        if field_ids is None:
            return max(self.modified.values(), default=self.created_time)
        times = [self.modified[f] for f in field_ids if f in self.modified]
        return max(times, default=None)


@dataclass
class Table:
    id: str
    name: str
    primary_field_id: str
    fields: list[Field]
    views: list[View]
    description: str | None = None
    records: dict[str, Record] = field(default_factory=dict)
    next_number: int = 1

    def field(self, key: str) -> Field | None:
        """By name first (that is what users write), then by ``fld`` id."""
        for candidate in self.fields:
            if candidate.name == key:
                return candidate
        for candidate in self.fields:
            if candidate.id == key:
                return candidate
        return None

    def field_by_id(self, field_id: str) -> Field:
        for candidate in self.fields:
            if candidate.id == field_id:
                return candidate
        raise KeyError(field_id)

    def field_by_name(self, name: str) -> Field | None:
        for candidate in self.fields:
            if candidate.name == name:
                return candidate
        return None

    def view(self, key: str) -> View | None:
        for candidate in self.views:
            if key in (candidate.name, candidate.id):
                return candidate
        return None

    @property
    def primary(self) -> Field:
        return self.field_by_id(self.primary_field_id)


@dataclass
class Base:
    id: str
    name: str
    tables: list[Table]
    permission_level: str = "create"
    collaborators: list[dict[str, str]] = field(default_factory=list)

    def table(self, key: str) -> Table | None:
        for candidate in self.tables:
            if key in (candidate.id, candidate.name):
                return candidate
        return None

    def table_by_id(self, table_id: str) -> Table:
        table = self.table(table_id)
        if table is None:
            raise KeyError(table_id)
        return table


# -- schema ------------------------------------------------------------------------------------
_FIELD_REF = re.compile(r"\{([^}]*)\}")


def field_schema(table: Table, fld: Field) -> dict[str, Any]:
    out: dict[str, Any] = {"id": fld.id, "name": fld.name, "type": fld.type}
    if fld.description:
        out["description"] = fld.description
    if fld.options is not None:
        options = dict(fld.options)
        if fld.type == "formula" and "formula" in options:
            # Airtable shows formulas with field ids, so renames do not break them.
            def to_id(match: re.Match[str]) -> str:
                ref = table.field_by_name(match.group(1))
                return "{" + (ref.id if ref else match.group(1)) + "}"

            options["formula"] = _FIELD_REF.sub(to_id, options["formula"])
        out["options"] = options
    return out


def table_schema(table: Table, include_visible: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": table.id,
        "name": table.name,
        "primaryFieldId": table.primary_field_id,
    }
    if table.description:
        out["description"] = table.description
    out["fields"] = [field_schema(table, f) for f in table.fields]
    views = []
    for view in table.views:
        shown: dict[str, Any] = {"id": view.id, "name": view.name, "type": view.type}
        if include_visible and view.type == "grid":
            shown["visibleFieldIds"] = (
                list(view.visible_field_ids)
                if view.visible_field_ids is not None
                else [f.id for f in table.fields]
            )
        views.append(shown)
    out["views"] = views
    return out


# -- reading records ---------------------------------------------------------------------------
def parsed_formula(table: Table, fld: Field) -> Node:
    if fld._parsed is None:
        text = (fld.options or {}).get("formula", "")
        fld._parsed = parse(text, lambda name: table.field_by_name(name) is not None)
    return fld._parsed


def raw_value(base: Base, table: Table, record: Record, fld: Field) -> Any:
    """The cell as Python: stored cells as stored, computed ones evaluated (datetimes raw)."""
    if fld.type == "formula":
        try:
            return evaluate(parsed_formula(table, fld), RecordContext(base, table, record))
        except (FormulaValueError, FormulaSyntaxError):
            return {"error": "#ERROR!"}
    if fld.type == "count":
        link_id = (fld.options or {}).get("recordLinkFieldId")
        return len(record.cells.get(link_id) or []) if link_id else 0
    if fld.type == "createdTime":
        return record.created_time
    if fld.type == "lastModifiedTime":
        refs = (fld.options or {}).get("referencedFieldIds") or None
        return record.last_modified(refs)
    if fld.type == "autoNumber":
        return record.number
    return record.cells.get(fld.id)


def json_cell(value: Any) -> Any:
    if isinstance(value, datetime):
        return format_datetime(value)
    if isinstance(value, bool) and value is False:
        return None
    return value


def is_empty(value: Any) -> bool:
    # Airtable omits empty cells, unchecked checkboxes and empty arrays; 0 is a value.
    return value is None or value is False or value == "" or value == []


def render_record(
    base: Base,
    table: Table,
    record: Record,
    *,
    by_id: bool = False,
    only: set[str] | None = None,
    cell_format: str = "json",
    time_zone: str | None = None,
) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for fld in table.fields:
        if only is not None and fld.id not in only:
            continue
        value = json_cell(raw_value(base, table, record, fld))
        if is_empty(value):
            continue
        if cell_format == "string":
            if fld.type == "multipleRecordLinks":
                value = [primary_text(base, fld, rid) for rid in value]
            value = fieldtypes.string_value(fld.type, fld.options, value, time_zone)
        fields[fld.id if by_id else fld.name] = value
    return {"id": record.id, "createdTime": format_datetime(record.created_time), "fields": fields}


def primary_text(base: Base, link_field: Field, record_id: str) -> str:
    linked = base.table((link_field.options or {}).get("linkedTableId", ""))
    if linked is None or record_id not in linked.records:
        return record_id
    value = json_cell(raw_value(base, linked, linked.records[record_id], linked.primary))
    return fieldtypes.string_value(linked.primary.type, linked.primary.options, value, None)


class RecordContext:
    """The formula evaluator's view of one record."""

    def __init__(self, base: Base, table: Table, record: Record) -> None:
        self.base, self.table, self.record = base, table, record

    def field_value(self, name: str) -> Any:
        fld = self.table.field_by_name(name)
        if fld is None:
            raise FormulaValueError(f"unknown field {name}")
        value = raw_value(self.base, self.table, self.record, fld)
        if isinstance(value, dict) and "error" in value:
            raise FormulaValueError(value["error"])
        if fld.type == "multipleRecordLinks" and value:
            return ", ".join(primary_text(self.base, fld, rid) for rid in value)
        if fld.type == "formula":
            return value
        return fieldtypes.formula_value(fld.type, value)

    def record_id(self) -> str:
        return self.record.id

    def created_time(self) -> datetime:
        return self.record.created_time

    def last_modified(self, names: list[str] | None) -> datetime | None:
        if names is None:
            return self.record.last_modified(None)
        ids = [f.id for n in names if (f := self.table.field_by_name(n)) is not None]
        return self.record.last_modified(ids)
