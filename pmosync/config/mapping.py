"""pydantic models of a team mapping file: canonical entity and field -> remote table/field."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from pmosync.canonical_model import ENTITY_CLASSES, EntityType

Direction = Literal["pull", "push", "both"]
ConflictPolicy = Literal["authority", "latest", "hold"]


class FieldMapping(BaseModel):
    """One canonical field carried by one remote field."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    field: str = Field(description="Remote field id (preferred: survives renames) or name")
    direction: Direction | None = Field(
        default=None, description="pull, push or both; computed fields are push only"
    )
    values: dict[str, Any] | None = Field(
        default=None, description="Remote option -> canonical value (status, RAG, kinds)"
    )
    conflict: ConflictPolicy | None = Field(
        default=None,
        description="authority: this connection wins conflicts on the field; latest; hold",
    )

    def remote_for(self, canonical: Any) -> Any:
        """The remote option for a canonical value (first one listed wins)."""
        if self.values is None:
            return canonical
        for remote, value in self.values.items():
            if value == canonical:
                return remote
        return None


LinkTypeRole = Literal["FS", "SS", "FF", "SF", "logic", "gating", "info"]


class CrossToolField(BaseModel):
    """A field on a record of this tool that names an item in another tool.

    Example (Jira): ``{field: "Depends on"}`` on a Jira epic whose field holds ``P001 / Go-live``
    makes the epic wait for that Project Server milestone (its predecessor).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)
    field: str = Field(description="Remote field holding the other item's key, code or name")
    names: Literal["predecessor", "successor"] = Field(
        default="predecessor",
        description="What the named item is: predecessor (the record holding the field waits "
        "for it, the usual 'depends on') or successor (it waits for the record)",
    )
    link_type: Literal["FS", "SS", "FF", "SF"] = "FS"
    dependency_class: Literal["logic", "gating", "info"] = "logic"


class EntityMapping(BaseModel):
    """Where one canonical entity type lives in one remote system."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    # Airtable
    table: str | None = Field(default=None, description="Airtable table id (tbl…) or name")
    id_field: str | None = Field(
        default=None, description="Remote field holding the pmo-sync id (upsert merge key)"
    )
    create_missing: bool = Field(
        default=False,
        description="Create records here for entities other tools have and this one lacks "
        "(needs id_field on Airtable: the pmo-sync id makes a retried create find its twin)",
    )
    # Jira
    jql: str | None = Field(default=None, description="Jira: extra JQL restricting the scope")
    projects: list[str] | None = Field(default=None, description="Jira project keys")
    issue_types: list[str] | None = Field(default=None, description="Jira issue types")
    link_types: dict[str, LinkTypeRole] | None = Field(
        default=None,
        description="Jira link type name -> FS/SS/FF/SF (a logic link of that type) or "
        "logic/gating/info (how the link counts: logic drives dates, gating blocks closing, "
        "info is shown only)",
    )
    cross_tool: list[CrossToolField] = Field(
        default_factory=list,
        description="Fields naming an item in another tool (a Project Server task or "
        "milestone, an Airtable record) by key, code or name: each value becomes a dependency",
    )
    remote_links: bool = Field(
        default=False,
        description="Jira: write dependencies on items in other tools as remote links "
        "(upserted on a stable globalId, so re-runs never duplicate them)",
    )
    options: dict[str, Any] = Field(default_factory=dict, description="Connector-specific settings")
    fields: dict[str, FieldMapping] = Field(default_factory=dict)

    def direction(self, entity_type: EntityType, name: str) -> Direction:
        mapping = self.fields[name]
        if mapping.direction:
            return mapping.direction
        return "push" if name in ENTITY_CLASSES[entity_type].computed else "both"

    def readable(self, entity_type: EntityType) -> frozenset[str]:
        return frozenset(f for f in self.fields if self.direction(entity_type, f) != "push")

    def writable(self, entity_type: EntityType) -> frozenset[str]:
        return frozenset(f for f in self.fields if self.direction(entity_type, f) != "pull")


class TeamMapping(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    entities: dict[EntityType, EntityMapping] = Field(min_length=1)
    # filled by the loader, not by users
    team: str = Field(default="", exclude=True)
    connection: str = Field(default="", exclude=True)
    source: str = Field(default="", exclude=True)
