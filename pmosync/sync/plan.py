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


def canonical_value(state: WorkingState, write: PlannedWrite, change: FieldChange) -> Any:
    """The canonical form of a planned value (reference fields go back to canonical ids)."""
    cls = ENTITY_CLASSES[EntityType(write.entity_type)]
    if change.field in cls.references and change.new is not None:
        return state.entities[write.canonical_id].values.get(change.field)
    return change.new


_ABSENT: Any = object()
