"""Desired state minus last-known remote state: the minimal writes per connection (pure)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pmosync.canonical_model import (
    ENTITY_CLASSES,
    Changeset,
    EntityType,
    FieldChange,
    PlannedWrite,
)
from pmosync.connectors.base import Capabilities
from pmosync.sync.state import WorkingState


def plan_writes(
    state: WorkingState,
    capabilities: Mapping[str, Capabilities],
    connections: Iterable[str],
    held: set[tuple[str, str]],
) -> Changeset:
    """Updates for every linked record of ``connections`` whose writable fields differ.

    Fields nobody has a value for are left alone (never blanked); held conflicts are skipped;
    a reference is written only when its target also lives in that connection.
    """
    targets = set(connections)
    writes: list[PlannedWrite] = []
    external_ids: dict[tuple[str, str], str] = {
        (link.connection, link.canonical_id): link.external_id for link in state.links.values()
    }
    for link in sorted(state.links.values(), key=lambda lk: lk.key):
        if link.connection not in targets:
            continue
        writable = capabilities[link.connection].writable.get(link.entity_type, frozenset())
        entity = state.entities.get(link.canonical_id)
        if entity is None or not writable:
            continue
        cls = ENTITY_CLASSES[link.entity_type]
        changes: list[FieldChange] = []
        for name in sorted(writable):
            if (link.canonical_id, name) in held:
                continue
            if name not in entity.values:
                continue
            desired = entity.values[name]
            current = link.remote_values.get(name, _ABSENT)
            if current == desired:
                continue
            if current is _ABSENT and desired is None:
                continue
            new: Any = desired
            if name in cls.references and desired is not None:
                target = external_ids.get((link.connection, desired))
                if target is None:
                    continue  # the referenced record does not exist in this tool
                new = target
            reason = "drift: overwritten" if name in cls.computed else "reconciled"
            old = None if current is _ABSENT else current
            changes.append(FieldChange(name, old, new, reason))
        if changes:
            writes.append(
                PlannedWrite(
                    connection=link.connection,
                    entity_type=link.entity_type,
                    canonical_id=link.canonical_id,
                    op="update",
                    changes=changes,
                    external_id=link.external_id,
                )
            )
    return Changeset(writes)


def plan_creates(
    state: WorkingState,
    capabilities: Mapping[str, Capabilities],
    create_types: Mapping[str, set[EntityType]],
) -> Changeset:
    """Creates for entities that other tools have and a connection opted in to receive.

    A reference whose target does not exist in that connection yet is left out; the next run
    fills it in as an update once the target has been created there too.
    """
    linked: dict[str, set[str]] = {}
    external_ids: dict[tuple[str, str], str] = {}
    for link in state.links.values():
        linked.setdefault(link.canonical_id, set()).add(link.connection)
        external_ids[(link.connection, link.canonical_id)] = link.external_id
    writes: list[PlannedWrite] = []
    for connection, types in sorted(create_types.items()):
        caps = capabilities[connection]
        for entity in sorted(state.entities.values(), key=lambda e: e.id):
            if entity.entity_type not in types or entity.entity_type not in caps.can_create:
                continue
            holders = linked.get(entity.id, set())
            if not holders or connection in holders:
                continue
            cls = ENTITY_CLASSES[entity.entity_type]
            changes = []
            for name in sorted(caps.writable.get(entity.entity_type, frozenset())):
                value = entity.values.get(name)
                if value is None:
                    continue
                if name in cls.references:
                    value = external_ids.get((connection, value))
                    if value is None:
                        continue
                changes.append(
                    FieldChange(
                        name, None, value, "created: exists in " + ", ".join(sorted(holders))
                    )
                )
            writes.append(
                PlannedWrite(
                    connection=connection,
                    entity_type=entity.entity_type,
                    canonical_id=entity.id,
                    op="create",
                    changes=changes,
                )
            )
    return Changeset(writes)


def canonical_value(state: WorkingState, write: PlannedWrite, change: FieldChange) -> Any:
    """The canonical form of a planned value (reference fields go back to canonical ids)."""
    cls = ENTITY_CLASSES[EntityType(write.entity_type)]
    if change.field in cls.references and change.new is not None:
        return state.entities[write.canonical_id].values.get(change.field)
    return change.new


_ABSENT: Any = object()
