"""Three-way merge of one canonical field across the systems that carry it (pure).

Each system's base is the value it held when the field was last settled. A system whose value
differs from its base changed it. One changed system, or several that agree: that value wins.
Several that disagree: a conflict, settled by the field's policy. A system that only feeds a
field and is never written keeps its own value as its base, so it is not "changed" forever.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, NamedTuple

from pmosync.canonical_model import ENTITY_CLASSES, EntityType
from pmosync.sync.state import LinkState, WorkingState

MISSING: Any = object()

Mode = Literal["authority", "latest", "hold"]


class Observation(NamedTuple):
    """One system's value of one field (a tuple: made per field and system, so it is cheap)."""

    value: Any
    modified_at: datetime | None


@dataclass(frozen=True)
class FieldPolicy:
    mode: Mode
    authority: str | None = None


@dataclass(frozen=True)
class Decision:
    value: Any
    reason: str
    conflict: bool = False
    held: bool = False


def merge(
    observed: dict[str, Observation],
    bases: dict[str, Any],
    current: Any,
    policy: FieldPolicy,
) -> Decision:
    """Decide one field.

    ``bases`` holds, per connection, what that system held when the field was last settled
    (absent: never); ``current`` is the value pmo-sync holds now (:data:`MISSING`: never
    decided). A system that differs from its own base changed the field; a system seen for the
    first time brings news only where it disagrees with ``current``.
    """
    if not observed:
        return Decision(None if current is MISSING else current, "no system carries the field")
    changed: dict[str, Any] = {}
    first_sight = True
    for conn, obs in observed.items():
        base = bases.get(conn, MISSING)
        if base is MISSING:
            if current is MISSING or obs.value != current:
                changed[conn] = obs.value
        else:
            first_sight = False
            if obs.value != base:
                changed[conn] = obs.value
    if not changed:
        if current is MISSING:  # settled bases but no decision kept: take what they agree on
            return _settle(observed, {c: o.value for c, o in observed.items()}, MISSING, policy)
        return Decision(current, "unchanged")
    distinct = _distinct(changed.values())
    if len(distinct) == 1:
        who = ", ".join(sorted(changed))
        reason = "first sight" if first_sight and current is MISSING else f"changed in {who}"
        return Decision(distinct[0], reason)
    return _settle(observed, changed, current, policy)


def _settle(
    observed: dict[str, Observation], changed: dict[str, Any], current: Any, policy: FieldPolicy
) -> Decision:
    who = ", ".join(f"{conn}={value!r}" for conn, value in sorted(changed.items()))
    if policy.mode == "authority" and policy.authority in observed:
        value = observed[policy.authority].value
        return Decision(value, f"conflict ({who}); {policy.authority} is the authority", True)
    if policy.mode == "hold":
        keep = current if current is not MISSING else None
        return Decision(keep, f"conflict ({who}); held for a person to resolve", True, True)

    # latest: the newest source modification wins; ties go to the connection name, so the
    # outcome never depends on the order connections were pulled in.
    def newest(conn: str) -> tuple[float, str]:
        when = observed[conn].modified_at
        return (when.timestamp() if when else float("-inf"), conn)

    winner = max(changed, key=newest)
    return Decision(changed[winner], f"conflict ({who}); {winner} changed it last", True)


def _distinct(values: Any) -> list[Any]:
    out: list[Any] = []
    for value in values:
        if value not in out:
            out.append(value)
    return out


# -- applying the merge to a run's working state -------------------------------------------

Readable = Callable[[str, EntityType], "frozenset[str] | None"]
PolicyFor = Callable[[EntityType, str], FieldPolicy]


@dataclass
class Reconciliation:
    decisions: dict[tuple[str, str], Decision] = field(default_factory=dict)
    conflicts: list[dict[str, Any]] = field(default_factory=list)
    held: set[tuple[str, str]] = field(default_factory=set)
    # fields two or more systems carry: the only ones whose bases matter
    shared: set[tuple[str, str]] = field(default_factory=set)


def reconcile_state(
    state: WorkingState,
    readable: Readable,
    policy_for: PolicyFor,
    overrides: Mapping[tuple[str, str], tuple[Any, int]],
    *,
    only: Collection[str] | None = None,
) -> Reconciliation:
    """Decide every field two or more systems (or one) carry, and set the resolved values.

    ``only``: the entities to decide (the engine's incremental scope); None decides all.

    ``readable(connection, entity_type)`` says which fields a connection reads (None: all it
    recorded); ``overrides`` are a person's resolutions of held conflicts, applied once.
    """
    out = Reconciliation()
    by_entity: dict[str, list[LinkState]] = defaultdict(list)
    for link in state.links.values():
        if only is None or link.canonical_id in only:
            by_entity[link.canonical_id].append(link)
    policies: dict[tuple[EntityType, str], FieldPolicy] = {}
    # deciding everything: skip the per-field lookups for entities with no merge base at all
    # (every one, on a first run)
    based = {cid for cid, _name, _conn in state.bases} if only is None else None
    readable_cache: dict[tuple[str, EntityType], frozenset[str] | None] = {}
    for canonical_id, links in by_entity.items():
        entity = state.entities[canonical_id]
        computed = ENTITY_CLASSES[entity.entity_type].computed
        observed: dict[str, dict[str, Observation]] = defaultdict(dict)
        for link in links:
            where = (link.connection, link.entity_type)
            if where not in readable_cache:
                readable_cache[where] = readable(*where)
            fields = readable_cache[where]
            for name, value in link.remote_values.items():
                if name in computed or (fields is not None and name not in fields):
                    continue
                observed[name][link.connection] = Observation(value, link.source_modified_at)
        updates: dict[str, Any] = {}  # applied once per entity, not copied per field
        for name, obs in observed.items():
            key = (entity.entity_type, name)
            if key not in policies:
                policies[key] = policy_for(entity.entity_type, name)
            bases = (
                {
                    conn: state.bases[(canonical_id, name, conn)]
                    for conn in obs
                    if (canonical_id, name, conn) in state.bases
                }
                if based is None or canonical_id in based
                else {}
            )
            current = entity.values.get(name, MISSING)
            override = overrides.get((canonical_id, name))
            if override is not None:
                value, conflict_id = override
                decision = Decision(value, f"resolved by a person (conflict #{conflict_id})")
            else:
                decision = merge(obs, bases, current, policies[key])
            if len(obs) > 1 or bases or decision.conflict or override is not None:
                # kept for the bases and the plan's reasons; a field one system alone carries
                # needs neither, and on a portfolio's first run that is most of millions
                out.decisions[(canonical_id, name)] = decision
            if len(obs) > 1 or bases:
                out.shared.add((canonical_id, name))
            if current != decision.value:
                updates[name] = decision.value
            if decision.conflict:
                known = {**entity.values, **updates}
                out.conflicts.append(
                    {
                        "canonical_id": canonical_id,
                        "entity_type": entity.entity_type.value,
                        # what a person recognises the record by
                        "label": known.get("code") or known.get("name"),
                        "field": name,
                        "observed": {c: o.value for c, o in obs.items()},
                        "base": None if current is MISSING else current,
                        "policy": policies[key].mode,
                        "held": decision.held,
                        "reason": decision.reason,
                    }
                )
                if decision.held:
                    out.held.add((canonical_id, name))
        if updates:
            entity.values = {**entity.values, **updates}
            entity.dirty = True
    return out


def settle_bases(state: WorkingState, merged: Reconciliation, failed: set[str]) -> None:
    """Each system's base becomes what it holds now, for every field several systems carry.

    A field only one system carries needs no base (its value simply wins, and a system linked
    later is compared with the current value). Held conflicts stay unsettled so they are seen
    again; a connection that failed this run keeps its bases, so its next successful pull is
    compared with what it last had.
    """
    by_entity: dict[str, list[LinkState]] = defaultdict(list)
    for link in state.links.values():
        by_entity[link.canonical_id].append(link)
    for canonical_id, name in merged.shared:
        if merged.decisions[(canonical_id, name)].held:
            continue
        for link in by_entity[canonical_id]:
            if link.connection in failed or name not in link.remote_values:
                continue
            state.set_base(canonical_id, name, link.connection, link.remote_values[name])
