"""Enterprise custom fields: definitions, lookup tables, and value decoding/encoding (pure).

Project Server names a field ``Custom_<32 hex>`` (its GUID without hyphens) and sends its value
under the JSON key ``Custom_x005f_<32 hex>``, because SharePoint escapes ``_`` as ``_x005f_``.
Lookup-table fields hold entry internal names (``Entry_<32 hex>``) that we resolve to the
entry's ``FullValue``; writing goes the other way, multi-values joined with ``;#``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from pmosync.connectors.msproject.odata import parse_datetime

# CustomFieldType codes (Microsoft.ProjectServer.CustomFieldType)
DATE, DURATION, COST, NUMBER, FLAG, TEXT, FINISHDATE = 4, 6, 9, 15, 17, 21, 27
_TYPE_NAMES = {
    DATE: "date",
    DURATION: "duration",
    COST: "cost",
    NUMBER: "number",
    FLAG: "flag",
    TEXT: "text",
    FINISHDATE: "finishdate",
}
_ENTITY_NAMES = {"project": "project", "task": "task", "resource": "resource"}


class CustomFieldValueError(ValueError):
    """A value that cannot be decoded or encoded; the message names the field and value."""


@dataclass(frozen=True)
class LookupEntry:
    internal_name: str
    full_value: str
    id: str | None = None


@dataclass(frozen=True)
class CustomFieldDef:
    id: str
    name: str
    internal_name: str
    field_type: int | None = None
    entity: str | None = None  # "project", "task", "resource", "assignment" or None (unknown)
    lookup_table_id: str | None = None
    multi: bool = False
    entries: tuple[LookupEntry, ...] = field(default=())
    formula: bool = False  # computed by Project from other fields (PS.CustomField.Formula)

    @property
    def json_key(self) -> str:
        return json_key(self.internal_name)

    @property
    def is_lookup(self) -> bool:
        return bool(self.lookup_table_id)

    @property
    def type_name(self) -> str:
        return _TYPE_NAMES.get(self.field_type or 0, "text")

    @property
    def value_type(self) -> str:
        """The ``ValueType`` UpdateCustomFields wants for this field."""
        if self.is_lookup:
            return "Edm.String"
        if self.field_type in (NUMBER, COST):
            return "Edm.Double"
        if self.field_type in (DATE, FINISHDATE):
            return "Edm.DateTime"
        return "Edm.String"


def json_key(internal_name: str) -> str:
    if internal_name.startswith("Custom_x005f_"):
        return internal_name
    return internal_name.replace("Custom_", "Custom_x005f_", 1)


def internal_from_key(key: str) -> str:
    return key.replace("Custom_x005f_", "Custom_", 1)


def _norm_guid(value: Any) -> str:
    return str(value or "").replace("-", "").lower()


def _entity_name(raw: Any) -> str | None:
    if isinstance(raw, dict):
        raw = raw.get("Name") or raw.get("name")
    if not isinstance(raw, str):
        return None
    lowered = raw.lower().removesuffix("entity")
    return _ENTITY_NAMES.get(lowered, lowered or None)


class CustomFieldCatalog:
    """All enterprise custom fields of a PWA site with their lookup entries."""

    def __init__(self, fields: Iterable[CustomFieldDef]) -> None:
        self.fields = tuple(fields)
        self._by_internal = {f.internal_name.lower(): f for f in self.fields}

    @classmethod
    def from_payloads(
        cls, custom_fields: Iterable[Mapping[str, Any]], lookup_tables: Iterable[Mapping[str, Any]]
    ) -> CustomFieldCatalog:
        """Build from ``/CustomFields`` (with ``EntityType``/``LookupTable`` expanded or not)
        and ``/LookupTables?$expand=Entries`` items, both already cleaned of OData metadata."""
        tables: dict[str, tuple[LookupEntry, ...]] = {}
        for table in lookup_tables:
            entries = table.get("Entries") or []
            tables[_norm_guid(table.get("Id"))] = tuple(
                LookupEntry(
                    internal_name=str(e.get("InternalName")),
                    full_value=str(e.get("FullValue") if e.get("FullValue") is not None else ""),
                    id=e.get("Id"),
                )
                for e in entries
                if isinstance(e, Mapping) and e.get("InternalName")
            )
        defs = []
        for raw in custom_fields:
            internal = raw.get("InternalName")
            if not internal:
                continue
            expanded: Any = raw.get("LookupTable")
            table_id = raw.get("LookupTableId") or (
                expanded.get("Id") if isinstance(expanded, Mapping) else None
            )
            table_id = _norm_guid(table_id) or None
            if table_id and set(table_id) == {"0"}:
                table_id = None  # Guid.Empty: no lookup table
            entries = tables.get(table_id or "", ())
            if not entries and isinstance(expanded, Mapping) and expanded.get("Entries"):
                entries = tuple(
                    LookupEntry(str(e["InternalName"]), str(e.get("FullValue") or ""), e.get("Id"))
                    for e in expanded["Entries"]
                    if isinstance(e, Mapping) and e.get("InternalName")
                )
            field_type = raw.get("FieldType")
            defs.append(
                CustomFieldDef(
                    id=str(raw.get("Id") or ""),
                    name=str(raw.get("Name") or internal),
                    internal_name=str(internal),
                    field_type=int(field_type) if field_type not in (None, "") else None,
                    entity=_entity_name(raw.get("EntityType")),
                    lookup_table_id=table_id,
                    multi=bool(raw.get("LookupAllowMultiSelect")),
                    entries=entries,
                    formula=bool(str(raw.get("Formula") or "").strip()),
                )
            )
        return cls(defs)

    @property
    def has_formulas(self) -> bool:
        return any(f.formula for f in self.fields)

    def find(self, ref: str, entity: str | None = None) -> CustomFieldDef | None:
        """By internal name, JSON key, GUID or display name (case-insensitive), optionally
        restricted to an entity (fields whose entity is unknown match any)."""
        wanted = ref.strip()
        lowered = wanted.lower()
        candidates: list[CustomFieldDef] = []
        hit = self._by_internal.get(internal_from_key(wanted).lower())
        if hit:
            candidates.append(hit)
        else:
            guid = _norm_guid(wanted)
            candidates = [
                f
                for f in self.fields
                if f.name.lower() == lowered or (len(guid) == 32 and _norm_guid(f.id) == guid)
            ]
        for candidate in candidates:
            if entity is None or candidate.entity in (None, entity):
                return candidate
        return None

    def by_json_key(self, key: str) -> CustomFieldDef | None:
        return self._by_internal.get(internal_from_key(key).lower())


def decode(definition: CustomFieldDef, raw: Any) -> Any:
    """A remote custom field value as a plain Python value (lookup entries as their text)."""
    if raw is None or raw == "":
        return [] if definition.multi else None
    if definition.is_lookup or _looks_like_entries(raw):
        names = _entry_names(raw)
        by_name = {e.internal_name.lower(): e.full_value for e in definition.entries}
        values = []
        for name in names:
            if name.lower() not in by_name:
                raise CustomFieldValueError(
                    f"custom field {definition.name!r}: lookup entry {name!r} is not in its "
                    "lookup table"
                )
            values.append(by_name[name.lower()])
        if definition.multi:
            return values
        return values[0] if values else None
    kind = definition.field_type
    try:
        if kind in (NUMBER, COST, DURATION):
            return Decimal(str(raw))
        if kind in (DATE, FINISHDATE):
            return parse_datetime(raw)
        if kind == FLAG:
            if isinstance(raw, bool):
                return raw
            return str(raw).strip().lower() in ("true", "1", "yes")
    except (InvalidOperation, ValueError) as exc:
        raise CustomFieldValueError(
            f"custom field {definition.name!r}: cannot read {raw!r} as {definition.type_name}"
        ) from exc
    return raw


def _looks_like_entries(raw: Any) -> bool:
    if isinstance(raw, list):
        return all(isinstance(v, str) and v.startswith("Entry_") for v in raw) and bool(raw)
    return isinstance(raw, str) and raw.startswith("Entry_")


def _entry_names(raw: Any) -> list[str]:
    if isinstance(raw, list):
        return [str(v) for v in raw if v]
    return [part for part in str(raw).split(";#") if part]


def encode(definition: CustomFieldDef, value: Any) -> tuple[str, str]:
    """``(Value, ValueType)`` for UpdateCustomFields; Value is always a string."""
    if definition.is_lookup:
        items = value if isinstance(value, list | tuple) else [value]
        names = []
        for item in items:
            if item is None or item == "":
                continue
            names.append(entry_for(definition, str(item)).internal_name)
        if len(names) > 1 and not definition.multi:
            raise CustomFieldValueError(
                f"custom field {definition.name!r} takes one value, got {len(names)}"
            )
        return ";#".join(names), definition.value_type
    if value is None:
        return "", definition.value_type
    kind = definition.field_type
    if kind in (DATE, FINISHDATE):
        if isinstance(value, datetime):
            moment = value.replace(tzinfo=None, microsecond=0)
        elif isinstance(value, date):
            moment = datetime(value.year, value.month, value.day)
        else:
            parsed = parse_datetime(str(value))
            if parsed is None:
                return "", definition.value_type
            moment = parsed
        return moment.isoformat(), definition.value_type
    if kind in (NUMBER, COST):
        try:
            number = Decimal(str(value))
        except InvalidOperation as exc:
            raise CustomFieldValueError(
                f"custom field {definition.name!r}: {value!r} is not a number"
            ) from exc
        return format(number.normalize(), "f"), definition.value_type
    if kind == FLAG:
        return ("true" if _truthy(value) else "false"), definition.value_type
    return str(value), definition.value_type


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes")
    return bool(value)


def entry_for(definition: CustomFieldDef, text: str) -> LookupEntry:
    """The lookup entry whose FullValue is ``text`` (exact first, then case-insensitive)."""
    for entry in definition.entries:
        if entry.full_value == text:
            return entry
    for entry in definition.entries:
        if entry.full_value.lower() == text.lower():
            return entry
    known = ", ".join(repr(e.full_value) for e in definition.entries) or "none"
    raise CustomFieldValueError(
        f"custom field {definition.name!r}: no lookup entry {text!r} (entries: {known})"
    )
