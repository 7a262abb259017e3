"""Identity safety nets for ingest (issue #11, items 5 and 6).

* Ambiguous identity: two records of ONE tool carrying the same identity key (two register
  rows with project code P001) cannot both be "P001". Guessing would merge or duplicate; both
  are quarantined with the reason until a person fixes the tool.
* Identity recovery: a record carrying a pmo-sync id the store does not know (the store was
  lost or rebuilt) adopts that id, and the entity another tool brought in for the same item in
  this run (same type, name and project) is folded into it. So `sync --full` on an empty store
  against tools that already carry pmo-sync ids converges without creating anything.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from pmosync.canonical_model import EntityType, PulledRecord, Quarantined
from pmosync.sync.state import EntityState, LinkState, WorkingState


def split_ambiguous(
    records: Sequence[PulledRecord], identity: Mapping[EntityType, str]
) -> tuple[list[PulledRecord], list[Quarantined]]:
    """The records whose identity key is unique inside their tool, and the others quarantined."""
    groups: dict[tuple[EntityType, Any], list[PulledRecord]] = defaultdict(list)
    for record in records:
        key_field = identity.get(record.ref.entity_type)
        value = record.values.get(key_field) if key_field else None
        if value is not None and value != "":
            groups[(record.ref.entity_type, value)].append(record)
    ambiguous = {
        id(r): (key, group) for key, group in groups.items() if len(group) > 1 for r in group
    }
    kept = [r for r in records if id(r) not in ambiguous]
    quarantined = []
    for record in records:
        if id(record) not in ambiguous:
            continue
        (entity_type, value), group = ambiguous[id(record)]
        others = ", ".join(
            r.ref.external_key or r.ref.external_id for r in group if r is not record
        )
        key_field = identity[entity_type]
        quarantined.append(
            Quarantined(
                record.ref.connection,
                entity_type,
                record.ref.external_id,
                f"ambiguous identity: {key_field} {value!r} is also used by {others} in "
                f"{record.ref.connection}; give each {entity_type.value} its own {key_field}",
            )
        )
    return kept, quarantined


def adopt(state: WorkingState, record: PulledRecord) -> str | None:
    """The pmo-sync id a record carries, made an entity when the store does not know it."""
    pmo_id = record.pmo_id
    if not pmo_id or pmo_id in state.entities:
        return None
    entity = EntityState(pmo_id, record.ref.entity_type, {}, dirty=True, new=True)
    state.entities[pmo_id] = entity
    return pmo_id


def _natural_key(
    links: Sequence[LinkState], identity: Mapping[EntityType, str]
) -> tuple[Any, ...] | None:
    """What the tools holding one entity say it is: its identity key (project code) where the
    type has one, else (name, project); None when they disagree or say nothing."""
    if not links:
        return None
    entity_type = links[0].entity_type
    key_field = identity.get(entity_type)
    if key_field:
        keys = {lk.remote_values.get(key_field) for lk in links} - {None, ""}
        return (entity_type, key_field, keys.pop()) if len(keys) == 1 else None
    names = {
        lk.remote_values["name"].strip().casefold()
        for lk in links
        if isinstance(lk.remote_values.get("name"), str) and lk.remote_values["name"].strip()
    }
    projects = {lk.remote_values.get("project") for lk in links} - {None}
    if len(names) != 1 or len(projects) > 1:
        return None
    return (entity_type, names.pop(), next(iter(projects), None))


# Parents first: once two projects are one, their milestones' project references agree.
_ORDER = (EntityType.PORTFOLIO, EntityType.PROGRAMME, EntityType.PROJECT)


def fold_adopted(state: WorkingState, adopted: set[str], identity: Mapping[EntityType, str]) -> int:
    """Merge each entity created this run for another tool's record into the adopted entity
    with the same natural key (one candidate only: never a guess). Returns how many."""
    if not adopted:
        return 0
    folded = 0
    types = sorted(
        {state.entities[a].entity_type for a in adopted if a in state.entities},
        key=lambda t: (_ORDER.index(t) if t in _ORDER else len(_ORDER), t.value),
    )
    for entity_type in types:
        members: dict[str, list[LinkState]] = defaultdict(list)
        for link in state.links.values():
            if link.entity_type is entity_type:
                members[link.canonical_id].append(link)
        by_key: dict[tuple[Any, ...], list[str]] = defaultdict(list)
        for entity in state.entities.values():
            if entity.new and entity.id not in adopted and entity.entity_type is entity_type:
                key = _natural_key(members[entity.id], identity)
                if key is not None:
                    by_key[key].append(entity.id)
        renamed: dict[str, str] = {}
        for pmo_id in sorted(a for a in adopted if a in state.entities):
            if state.entities[pmo_id].entity_type is not entity_type:
                continue
            key = _natural_key(members[pmo_id], identity)
            mine = {lk.connection for lk in members[pmo_id]}
            candidates = [
                c
                for c in (by_key.get(key, []) if key is not None else [])
                if c not in renamed and not mine & {lk.connection for lk in members[c]}
            ]
            if len(candidates) == 1:
                renamed[candidates[0]] = pmo_id
        for old, new in renamed.items():
            target: EntityState = state.entities[new]
            for name, value in state.entities.pop(old).values.items():
                target.values.setdefault(name, value)
        if renamed:
            for link in state.links.values():
                if link.canonical_id in renamed:
                    link.canonical_id = renamed[link.canonical_id]
                    link.dirty = True
                for name, value in list(link.remote_values.items()):
                    if isinstance(value, str) and value in renamed:
                        link.remote_values[name] = renamed[value]
                        link.dirty = True
        folded += len(renamed)
    return folded
