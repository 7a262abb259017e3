"""Turning table specs (the meta API's create-table shape plus ids, views and records) into
emulator state: field options filled in, links wired to their inverse, records seeded."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from pmosync.sandbox.airtable import fieldtypes
from pmosync.sandbox.airtable.formula import FormulaSyntaxError, parse_datetime
from pmosync.sandbox.airtable.store import (
    Base,
    Field,
    IdFactory,
    Record,
    Table,
    View,
    parsed_formula,
)
from pmosync.sandbox.airtable.writes import Writer


class BaseBuilder:
    def __init__(self, ids: IdFactory, clock: Callable[[], datetime]) -> None:
        self.ids = ids
        self.clock = clock

    def table(self, spec: dict[str, Any]) -> Table:
        fields: list[Field] = []
        for fspec in spec["fields"]:
            if fspec["type"] not in fieldtypes.SUPPORTED_TYPES:
                raise ValueError(f"field type {fspec['type']!r} is not emulated")
            fields.append(
                Field(
                    id=self.ids.reserve(fspec["id"]) if "id" in fspec else self.ids.new("fld"),
                    name=fspec["name"],
                    type=fspec["type"],
                    options=fieldtypes.default_options(fspec["type"], fspec.get("options")),
                    description=fspec.get("description"),
                )
            )
        for fld in fields:
            for choice in (fld.options or {}).get("choices", []):
                choice.setdefault("id", self.ids.new("sel"))
        views = [
            View(
                id=self.ids.reserve(v["id"]) if "id" in v else self.ids.new("viw"),
                name=v["name"],
                type=v.get("type", "grid"),
                visible_field_ids=v.get("visibleFieldIds"),
                formula=v.get("formula"),
                sort=[(s["field"], s.get("direction", "asc")) for s in v.get("sort", [])],
            )
            for v in spec.get("views") or [{"name": "Grid view"}]
        ]
        table = Table(
            id=self.ids.reserve(spec["id"]) if "id" in spec else self.ids.new("tbl"),
            name=spec["name"],
            primary_field_id=fields[0].id,
            fields=fields,
            views=views,
            description=spec.get("description"),
        )
        for view in table.views:  # view sort and visible fields may name fields
            view.sort = [(_field_id(table, f), d) for f, d in view.sort]
            if view.visible_field_ids is not None:
                view.visible_field_ids = [_field_id(table, f) for f in view.visible_field_ids]
        return table

    def wire_links(self, base: Base) -> None:
        for table in list(base.tables):
            for fld in list(table.fields):
                options = fld.options or {}
                if fld.type == "count" and "recordLinkFieldId" in options:
                    options["recordLinkFieldId"] = _field_id(table, options["recordLinkFieldId"])
                if fld.type == "lastModifiedTime" and options.get("referencedFieldIds"):
                    options["referencedFieldIds"] = [
                        _field_id(table, f) for f in options["referencedFieldIds"]
                    ]
                if fld.type != "multipleRecordLinks":
                    continue
                linked = base.table(options["linkedTableId"])
                if linked is None:
                    raise ValueError(f"{fld.name}: no table {options['linkedTableId']!r}")
                options["linkedTableId"] = linked.id
                inverse_key = options.get("inverseLinkFieldId")
                if inverse_key:
                    inverse = linked.field(inverse_key)
                    if inverse is None:
                        raise ValueError(f"{fld.name}: no inverse field {inverse_key!r}")
                elif linked is not table:
                    inverse = Field(
                        id=self.ids.new("fld"),
                        name=_unique_name(linked, table.name),
                        type="multipleRecordLinks",
                        options=fieldtypes.default_options("multipleRecordLinks", {}),
                    )
                    linked.fields.append(inverse)
                else:
                    continue
                options["inverseLinkFieldId"] = inverse.id
                inverse_options = inverse.options if inverse.options is not None else {}
                inverse_options["linkedTableId"] = table.id
                inverse_options["inverseLinkFieldId"] = fld.id
                inverse.options = inverse_options
        for table in base.tables:
            for fld in table.fields:
                if fld.type == "formula":
                    try:
                        parsed_formula(table, fld)
                    except FormulaSyntaxError as exc:
                        raise ValueError(f"formula field {fld.name!r}: {exc}") from exc

    def seed_records(self, base: Base, specs: list[dict[str, Any]]) -> None:
        # Two passes so links may point at records defined later (in any table).
        pending_links: list[tuple[Table, Record, dict[str, Any], datetime]] = []
        for spec, table in zip(specs, base.tables, strict=False):
            writer = Writer(base, table, self.ids, typecast=False)
            for rspec in spec.get("records", []):
                created = rspec.get("createdTime") or self.clock()
                if isinstance(created, str):
                    created = parse_datetime(created) or self.clock()
                plain: dict[str, Any] = {}
                links: dict[str, Any] = {}
                for key, value in rspec.get("fields", {}).items():
                    fld = table.field(key)
                    target = (
                        links if fld is not None and fld.type == "multipleRecordLinks" else plain
                    )
                    target[key] = value
                prepared = writer.prepare(plain)
                writer.commit_choices()
                record_id = self.ids.reserve(rspec["id"]) if "id" in rspec else None
                record = writer.create(prepared, created, record_id)
                if links:
                    pending_links.append((table, record, links, created))
        for table, record, links, created in pending_links:
            writer = Writer(base, table, self.ids, typecast=False)
            writer.apply(record, writer.prepare(links).values, created)


def _field_id(table: Table, key: str) -> str:
    fld = table.field(key)
    if fld is None:
        raise ValueError(f"table {table.name!r} has no field {key!r}")
    return fld.id


def _unique_name(table: Table, wanted: str) -> str:
    name, n = wanted, 2
    while table.field_by_name(name) is not None:
        name, n = f"{wanted} {n}", n + 1
    return name
