"""What a run's plan leaves for the next run (pure).

A run writes what it can now; some writes can only be planned once this run's creates exist
in their tool, so the next run's plan will hold them although nothing changes in between.
Such a run has not converged, and the run after it must not be quiet (sync/quiet.py). Each
case below mirrors a place where plan.py or rollups.py leaves something out:

* a reference left out (plan_creates) or not written (plan_writes) because its target is not
  in that tool, when this run creates the target there: apply records the reference as empty
  in that tool (apply.py ``_record_results``) and the next plan fills it in;
* an entity held by no tool before this run (a status report of rollups.record_history) that
  this run creates somewhere but not in another tool that would receive it
  (plan_history leaves a report out of a tool lacking its project): the next plan_creates
  sees it held and creates it there; or that this run creates nowhere because the one tool
  keeping a history lacks its project, which this run creates there;
* an item this run creates at one end of a dependency, when some tool keeps cross-tool links
  (plan_cross_links): the item's new home changes where the link's ends live, so the next
  run may plan a remote link.

A reference whose target this run does not create in that tool is not left for later: the
next plan cannot write it either (it stays out until the target arrives, which a pull would
show as a change).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence

from pmosync.canonical_model import ENTITY_CLASSES, EntityType, PlannedWrite
from pmosync.connectors.base import Capabilities
from pmosync.sync.plan import ITEM_TYPES
from pmosync.sync.state import WorkingState


def left_for_later(
    state: WorkingState,
    writes: Sequence[PlannedWrite],
    capabilities: Mapping[str, Capabilities],
    create_types: Mapping[str, set[EntityType]],
    held: Collection[tuple[str, str]],
    cross_link_connections: Iterable[str] = (),
) -> list[dict[str, str]]:
    """One entry (connection, entity_type, canonical_id, reason) per thing the next run would
    plan because of this run's ``writes``; ``state`` is the state they were planned from
    (before apply). Empty: once every write lands, the next plan has nothing to do."""
    created: dict[str, set[str]] = {}  # canonical id -> connections creating it this run
    for write in writes:
        if write.op == "create":
            created.setdefault(write.canonical_id, set()).add(write.connection)
    if not created:
        return []
    linked: set[str] = {link.canonical_id for link in state.links.values()}
    deferred = _references(state, writes, capabilities, created, held)
    deferred += _first_homes(state, capabilities, create_types, created, linked)
    deferred += _history_waiting(state, capabilities, create_types, created, linked)
    if any(True for _ in cross_link_connections):
        deferred += _cross_link_ends(state, created)
    return deferred


def _entry(
    connection: str, entity_type: EntityType, canonical_id: str, reason: str
) -> dict[str, str]:
    return {
        "connection": connection,
        "entity_type": entity_type.value,
        "canonical_id": canonical_id,
        "reason": reason,
    }


def _references(
    state: WorkingState,
    writes: Sequence[PlannedWrite],
    capabilities: Mapping[str, Capabilities],
    created: Mapping[str, set[str]],
    held: Collection[tuple[str, str]],
) -> list[dict[str, str]]:
    """References to a target this run creates in the same tool, on a record that tool holds
    already or gets this run: not writable now (no external id yet), filled in next run."""
    homes = [(link.connection, link.canonical_id) for link in state.links.values()]
    homes += [(w.connection, w.canonical_id) for w in writes if w.op == "create"]
    out: list[dict[str, str]] = []
    for connection, canonical_id in sorted(set(homes)):
        entity = state.entities.get(canonical_id)
        caps = capabilities.get(connection)
        if entity is None or caps is None:
            continue
        writable = caps.writable.get(entity.entity_type, frozenset())
        for name in sorted(ENTITY_CLASSES[entity.entity_type].references):
            target = entity.values.get(name)
            if name not in writable or target is None or (canonical_id, name) in held:
                continue
            if connection in created.get(str(target), ()):
                reason = f"{name} left out: its target is created in {connection} this run"
                out.append(_entry(connection, entity.entity_type, canonical_id, reason))
    return out


def _first_homes(
    state: WorkingState,
    capabilities: Mapping[str, Capabilities],
    create_types: Mapping[str, set[EntityType]],
    created: Mapping[str, set[str]],
    linked: set[str],
) -> list[dict[str, str]]:
    """Entities no tool held before this run, created in some tools but not in every tool
    that creates their type: once held somewhere, plan_creates gives them to the others."""
    out: list[dict[str, str]] = []
    for canonical_id, where in sorted(created.items()):
        entity = state.entities.get(canonical_id)
        if entity is None or canonical_id in linked:
            continue
        for connection, types in sorted(create_types.items()):
            caps = capabilities.get(connection)
            if connection in where or caps is None:
                continue
            if entity.entity_type in types and entity.entity_type in caps.can_create:
                reason = f"created in {', '.join(sorted(where))} only: {connection} gets it next"
                out.append(_entry(connection, entity.entity_type, canonical_id, reason))
    return out


def _history_waiting(
    state: WorkingState,
    capabilities: Mapping[str, Capabilities],
    create_types: Mapping[str, set[EntityType]],
    created: Mapping[str, set[str]],
    linked: set[str],
) -> list[dict[str, str]]:
    """Status reports no tool holds, left out of a tool that keeps a history because it
    lacks their project, when this run creates the project there: plan_history writes them
    once the project's create landed."""
    out: list[dict[str, str]] = []
    for report in sorted(state.entities.values(), key=lambda e: e.id):
        if report.entity_type is not EntityType.STATUS_REPORT or report.id in linked:
            continue
        if report.id in created:
            continue  # _first_homes' business
        for connection in sorted(created.get(str(report.values.get("project")), ())):
            caps = capabilities.get(connection)
            types = create_types.get(connection, set())
            if caps and EntityType.STATUS_REPORT in types & caps.can_create:
                reason = f"waits for its project, created in {connection} this run"
                out.append(_entry(connection, EntityType.STATUS_REPORT, report.id, reason))
    return out


def _cross_link_ends(state: WorkingState, created: Mapping[str, set[str]]) -> list[dict[str, str]]:
    """Dependencies with an end this run creates in a tool: where their ends live changes,
    and with it the remote links plan_cross_links plans."""
    out: list[dict[str, str]] = []
    for dep in sorted(state.entities.values(), key=lambda e: e.id):
        if dep.entity_type is not EntityType.DEPENDENCY or dep.tombstoned:
            continue
        for end in ("predecessor", "successor"):
            item = state.entities.get(str(dep.values.get(end)))
            if item is not None and item.entity_type in ITEM_TYPES and item.id in created:
                tools = ", ".join(sorted(created[item.id]))
                reason = f"{end} created in {tools} this run: its cross-tool links follow"
                out.append(_entry("", EntityType.DEPENDENCY, dep.id, reason))
                break
    return out
