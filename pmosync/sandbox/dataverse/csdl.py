"""The emulator's $metadata: parsed once, used to check every entity it answers with and every
entity a schedule API call sends.

A property the document does not declare, or a value of the wrong EDM type, in a RESPONSE is an
emulator bug (the real service only answers with declared properties: "Web API EntityType
reference", https://learn.microsoft.com/power-apps/developer/data-platform/webapi/reference/entitytypes);
in a REQUEST it is the client's error, answered as Dataverse does (400, "Could not find a
property named '...' on type 'Microsoft.Dynamics.CRM....'").
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

NS = {"edm": "http://docs.oasis-open.org/odata/ns/edm"}
METADATA_PATH = Path(__file__).with_name("metadata.xml")
_GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_INSTANT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")


class CsdlViolation(ValueError):
    """A value that does not fit the document."""


@dataclass(frozen=True)
class Schema:
    types: dict[str, dict[str, str]]  # entity type -> property -> EDM type
    sets: dict[str, str]  # entity set -> entity type
    keys: dict[str, str]  # entity type -> key property
    actions: frozenset[str]

    def type_of_set(self, entity_set: str) -> str | None:
        return self.sets.get(entity_set)

    def check(self, entity_type: str, row: dict[str, Any], *, partial: bool = True) -> None:
        """Raise CsdlViolation when ``row`` has a property the type lacks or a mistyped value."""
        declared = self.types.get(entity_type)
        if declared is None:
            raise CsdlViolation(f"no entity type {entity_type!r} in $metadata")
        for name, value in row.items():
            if name.startswith("@") or "@" in name:
                continue  # annotations (@odata.etag, @odata.type, ...@odata.bind)
            edm = declared.get(name)
            if edm is None:
                raise CsdlViolation(
                    f"Could not find a property named '{name}' on type "
                    f"'Microsoft.Dynamics.CRM.{entity_type}'."
                )
            if value is not None and not _fits(edm, value):
                raise CsdlViolation(
                    f"Property '{name}' of type '{entity_type}' is {edm}; got {value!r}"
                )


def _fits(edm: str, value: Any) -> bool:
    if edm == "Edm.Guid":
        return isinstance(value, str) and bool(_GUID.match(value))
    if edm == "Edm.String":
        return isinstance(value, str)
    if edm in ("Edm.Int32", "Edm.Int64"):
        return isinstance(value, int) and not isinstance(value, bool)
    if edm == "Edm.Decimal":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if edm == "Edm.Boolean":
        return isinstance(value, bool)
    if edm == "Edm.DateTimeOffset":
        return isinstance(value, str) and bool(_INSTANT.match(value))
    if edm == "Edm.Date":
        return isinstance(value, str) and bool(_DATE.match(value))
    return True


@cache
def load_schema(path: Path = METADATA_PATH) -> Schema:
    root = ET.parse(path).getroot()  # noqa: S314 - our own packaged file
    types: dict[str, dict[str, str]] = {}
    keys: dict[str, str] = {}
    for entity in root.iterfind(".//edm:EntityType", NS):
        name = entity.attrib["Name"]
        types[name] = {
            p.attrib["Name"]: p.attrib["Type"] for p in entity.iterfind("edm:Property", NS)
        }
        ref = entity.find("edm:Key/edm:PropertyRef", NS)
        if ref is not None:
            keys[name] = ref.attrib["Name"]
    sets = {
        s.attrib["Name"]: s.attrib["EntityType"].rpartition(".")[2]
        for s in root.iterfind(".//edm:EntitySet", NS)
    }
    actions = frozenset(a.attrib["Name"] for a in root.iterfind(".//edm:ActionImport", NS))
    return Schema(types=types, sets=sets, keys=keys, actions=actions)


def metadata_document() -> bytes:
    return METADATA_PATH.read_bytes()
