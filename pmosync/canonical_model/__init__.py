"""The canonical PMO model: entities, provenance and change types."""

from __future__ import annotations

from pmosync.canonical_model.entities import (
    ENTITY_CLASSES,
    Dependency,
    Entity,
    EntityType,
    Milestone,
    Person,
    Portfolio,
    Programme,
    Project,
    Rag,
    RaidItem,
    Status,
    StatusReport,
    WorkItem,
    entity_fields,
    validate_fields,
)
from pmosync.canonical_model.provenance import (
    ExternalRef,
    FieldChange,
    PlannedWrite,
    PulledRecord,
    Quarantined,
    RemotePointer,
    WriteResult,
    content_hash,
)

__all__ = [
    "ENTITY_CLASSES",
    "Dependency",
    "Entity",
    "EntityType",
    "ExternalRef",
    "FieldChange",
    "Milestone",
    "Person",
    "PlannedWrite",
    "Portfolio",
    "Programme",
    "Project",
    "PulledRecord",
    "Quarantined",
    "RaidItem",
    "Rag",
    "RemotePointer",
    "Status",
    "StatusReport",
    "WorkItem",
    "WriteResult",
    "content_hash",
    "entity_fields",
    "validate_fields",
]
