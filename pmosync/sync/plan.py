"""Desired state minus last-known remote state: the minimal writes per connection (pure)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
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


# -- cross-tool dependencies written back --------------------------------------------------

ITEM_TYPES = (EntityType.WORK_ITEM, EntityType.MILESTONE)
REMOTE_LINK_PREFIX = "remote:"  # a Jira remote link's external id (see connectors/jira/push.py)


def plan_cross_links(
    state: WorkingState,
    connections: Iterable[str],
    locate: Callable[[str, str], dict[str, str] | None],
) -> Changeset:
    """Remote links for dependencies whose ends live in different tools.

    ``connections`` hold such links (Jira with ``remote_links: true``); ``locate(connection,
    canonical_id)`` gives ``{"url", "title"}`` of the item in the tool that holds it, or None
    (that tool cannot say where it is: nothing is planned). A dependency that already has a
    remote link in a connection gets no second one; the link is upserted on a stable globalId
    besides, so a write journaled twice cannot duplicate it.
    """
    targets = set(connections)
    holders: dict[str, dict[str, str]] = {}  # canonical id -> connection -> external id
    written: set[tuple[str, str]] = set()  # (connection, dependency id) with a remote link
    for link in state.links.values():
        if link.entity_type in ITEM_TYPES:
            holders.setdefault(link.canonical_id, {})[link.connection] = link.external_id
        elif link.entity_type is EntityType.DEPENDENCY and link.external_id.startswith(
            REMOTE_LINK_PREFIX
        ):
            written.add((link.connection, link.canonical_id))
    writes: list[PlannedWrite] = []
    for dep in sorted(state.entities.values(), key=lambda e: e.id):
        if dep.entity_type is not EntityType.DEPENDENCY or getattr(dep, "tombstoned", False):
            continue
        pred, succ = dep.values.get("predecessor"), dep.values.get("successor")
        if not pred or not succ:
            continue
        at_pred, at_succ = holders.get(pred, {}), holders.get(succ, {})
        if not at_pred or not at_succ or set(at_pred) & set(at_succ):
            continue  # not across tools (or an end is in no tool)
        for connection in sorted(targets):
            if (connection, dep.id) in written:
                continue
            if connection in at_succ:
                here, there, other_id = at_succ[connection], at_pred, pred
            elif connection in at_pred:
                here, there, other_id = at_pred[connection], at_succ, succ
            else:
                continue
            where = next((w for c in sorted(there) if (w := locate(c, other_id))), None)
            if where is None:
                continue
            local_is_succ = connection in at_succ
            ends: dict[str, Any] = {
                "predecessor": where if local_is_succ else here,
                "successor": here if local_is_succ else where,
            }
            tools = ", ".join(sorted(there))
            writes.append(
                PlannedWrite(
                    connection=connection,
                    entity_type=EntityType.DEPENDENCY,
                    canonical_id=dep.id,
                    op="create",
                    changes=[
                        FieldChange(name, None, value, f"cross-tool link: other end in {tools}")
                        for name, value in ends.items()
                    ],
                )
            )
    return Changeset(writes)
