"""Field resolution per Jira instance: a mapping names a field by id, name or schema.

Custom field ids differ per site (``customfield_10016`` here, ``customfield_10026`` there), so
mappings may name fields by display name ("Story Points") or by custom type
(``com.pyxis.greenhopper.jira:gh-sprint``). Resolution happens once per connector from
``GET /field`` and fails closed: a mapped field that vanished, became ambiguous or changed to
an incompatible type stops the connection with a :class:`ConfigError` before anything is read
or written.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from pmosync.errors import ConfigError

SPRINT_CUSTOM = "com.pyxis.greenhopper.jira:gh-sprint"
EPIC_LINK_CUSTOM = "com.pyxis.greenhopper.jira:gh-epic-link"
STORY_POINTS_CUSTOM = "com.pyxis.greenhopper.jira:jsw-story-points"
TEXTAREA_CUSTOM = "com.atlassian.jira.plugin.system.customfieldtypes:textarea"
# System fields whose values are rich text (ADF on v3, wiki markup on v2).
RICH_TEXT_SYSTEM = frozenset({"description", "environment"})

# Pseudo fields: parts of the issue bean that are not in /field but mappings may name.
PSEUDO_FIELDS: dict[str, dict[str, Any]] = {
    "key": {"id": "key", "name": "Key", "custom": False, "schema": {"type": "string"}},
    "id": {"id": "id", "name": "Id", "custom": False, "schema": {"type": "string"}},
}


@dataclass(frozen=True)
class JiraField:
    """One field of one instance, as ``/field`` describes it."""

    id: str
    name: str
    custom: bool
    type: str | None  # schema.type: string, number, date, datetime, option, array, user, ...
    items: str | None  # schema.items for arrays
    custom_type: str | None  # schema.custom, e.g. com.pyxis.greenhopper.jira:gh-sprint
    system: str | None  # schema.system

    @property
    def rich_text(self) -> bool:
        return self.id in RICH_TEXT_SYSTEM or self.custom_type == TEXTAREA_CUSTOM

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> JiraField:
        schema = raw.get("schema") or {}
        return cls(
            id=str(raw["id"]),
            name=str(raw.get("name") or raw["id"]),
            custom=bool(raw.get("custom")),
            type=schema.get("type"),
            items=schema.get("items"),
            custom_type=schema.get("custom"),
            system=schema.get("system"),
        )


class FieldCatalog:
    """The fields of one instance, looked up by id, clause name, name or custom type."""

    def __init__(self, fields: Iterable[dict[str, Any]], *, connection: str, instance: str):
        self.connection = connection
        self.instance = instance
        self.fields: dict[str, JiraField] = {}
        for raw in [*PSEUDO_FIELDS.values(), *fields]:
            if isinstance(raw, dict) and raw.get("id"):
                field = JiraField.from_json(raw)
                self.fields[field.id] = field
        self._clauses: dict[str, str] = {}
        for raw in fields:
            if isinstance(raw, dict) and raw.get("id"):
                for clause in raw.get("clauseNames") or []:
                    self._clauses.setdefault(str(clause).lower(), str(raw["id"]))

    def find(self, ref: str) -> list[JiraField]:
        """Every field ``ref`` could mean: an id, a ``cf[N]`` clause, a name, a custom type."""
        if ref in self.fields:
            return [self.fields[ref]]
        lowered = ref.strip().lower()
        clause = self._clauses.get(lowered)
        if clause and (lowered.startswith("cf[") or clause == lowered):
            return [self.fields[clause]]
        by_name = [f for f in self.fields.values() if f.name.lower() == lowered]
        if by_name:
            return by_name
        return [
            f for f in self.fields.values() if f.custom_type and f.custom_type.lower() == lowered
        ]

    def by_custom_type(self, custom_type: str, name: str | None = None) -> JiraField | None:
        """The field of a custom type (preferring one with ``name``); None when absent."""
        matches = [f for f in self.fields.values() if f.custom_type == custom_type]
        if name:
            named = [f for f in matches if f.name.lower() == name.lower()]
            matches = named or matches
        return matches[0] if matches else None

    def resolve(self, ref: str, *, where: str, expect: frozenset[str] | None = None) -> JiraField:
        """The one field ``ref`` names, checked against the types the canonical field takes.

        Raises:
            ConfigError: the field is missing, ambiguous or of an incompatible type; the
                message names ``where`` (mapping file and key) and the instance.
        """
        found = self.find(ref)
        if not found:
            raise ConfigError(
                f"{where}: Jira field {ref!r} does not exist on {self.instance} (renamed or "
                "removed?); fix the mapping (run `pmo-sync discover` to list fields). "
                "Nothing was read or written",
                connection=self.connection,
            )
        if len(found) > 1:
            ids = ", ".join(f.id for f in found)
            raise ConfigError(
                f"{where}: Jira field {ref!r} is ambiguous on {self.instance} ({ids}); name it "
                "by id in the mapping",
                connection=self.connection,
            )
        field = found[0]
        if expect is not None and field.type is not None and field.type not in expect:
            raise ConfigError(
                f"{where}: Jira field {ref!r} ({field.id}) on {self.instance} is of type "
                f"{field.type!r}, which cannot carry this value (expected one of "
                f"{', '.join(sorted(expect))}); its type changed or the mapping names the wrong "
                "field. Nothing was read or written",
                connection=self.connection,
            )
        return field

    def sprint_field(self) -> JiraField | None:
        return self.by_custom_type(SPRINT_CUSTOM, "Sprint")

    def epic_link_field(self) -> JiraField | None:
        return self.by_custom_type(EPIC_LINK_CUSTOM, "Epic Link")
