"""Which links a listing tombstones (pure, on a working state): only what a complete listing
vouches for, never people, never a quarantined record, never a link into another project."""

from __future__ import annotations

from datetime import UTC, datetime

from pmosync.canonical_model import EntityType, ExternalRef, PulledRecord, Quarantined
from pmosync.sync.state import EntityState, LinkState, WorkingState
from pmosync.sync.tombstones import Listing, summary, tombstone

NOW = datetime(2026, 11, 20, tzinfo=UTC)
CHILDREN = {
    EntityType.PROJECT: frozenset(
        {EntityType.WORK_ITEM, EntityType.MILESTONE, EntityType.DEPENDENCY}
    )
}


def state_with(*links: tuple[EntityType, str, dict[str, str]]) -> WorkingState:
    state = WorkingState()
    for entity_type, ext, pointers in links:
        cid = f"c-{ext}"
        state.entities[cid] = EntityState(cid, entity_type, {"name": ext.upper()})
        link = LinkState(cid, "pwa", entity_type, ext, {}, pointers=dict(pointers))
        state.links[link.key] = link
    return state


def record(entity_type: EntityType, ext: str) -> PulledRecord:
    return PulledRecord(ExternalRef("pwa", entity_type, ext), {})


def test_a_whole_listing_tombstones_what_it_no_longer_has_but_not_people_or_quarantined() -> None:
    state = state_with(
        (EntityType.PROJECT, "p1", {}),
        (EntityType.WORK_ITEM, "t1", {"project": "p1"}),
        (EntityType.WORK_ITEM, "t2", {"project": "p1"}),
        (EntityType.WORK_ITEM, "t3", {"project": "p1"}),
        (EntityType.PERSON, "u1", {}),
    )
    listing = Listing("pwa", whole=True, covers=frozenset(EntityType))
    listing.add([record(EntityType.PROJECT, "p1"), record(EntityType.WORK_ITEM, "t1")])
    listing.add([Quarantined("pwa", EntityType.WORK_ITEM, "t3", "bad date")])
    marked = tombstone(state, [listing], NOW)
    assert [t.external_id for t in marked] == ["t2"]
    assert state.entities["c-t2"].tombstoned and not state.entities["c-u1"].tombstoned
    assert state.tombstoned[("pwa", "work_item", "t2")].deleted_at == NOW
    assert summary(marked) == "1 record tombstoned: pwa work_item T2"


def test_a_listing_that_is_not_whole_tombstones_nothing_but_children_of_a_reread_parent() -> None:
    state = state_with(
        (EntityType.PROJECT, "p1", {}),
        (EntityType.PROJECT, "p2", {}),
        (EntityType.WORK_ITEM, "a1", {"project": "p1"}),
        (EntityType.WORK_ITEM, "a2", {"project": "p1"}),
        (EntityType.WORK_ITEM, "b1", {"project": "p2"}),
        (EntityType.DEPENDENCY, "a1-a2", {"predecessor": "a1", "successor": "a2"}),
        (EntityType.DEPENDENCY, "b1-a1", {"predecessor": "b1", "successor": "a1"}),
    )
    listing = Listing("pwa", whole=False, covers=frozenset(EntityType), whole_children=CHILDREN)
    # p1 republished: re-read with a1 only (a2 and the a1-a2 link deleted); p2 not re-read
    listing.add([record(EntityType.PROJECT, "p1"), record(EntityType.WORK_ITEM, "a1")])
    marked = {t.external_id for t in tombstone(state, [listing], NOW)}
    # b1 (another project, not re-read) stays; the link from p2's task may be listed there
    assert marked == {"a2", "a1-a2"}


def test_entity_held_by_another_tool_keeps_counting() -> None:
    state = state_with((EntityType.MILESTONE, "m1", {}))
    other = LinkState("c-m1", "jira", EntityType.MILESTONE, "v1", {})
    state.links[other.key] = other
    listing = Listing("pwa", whole=True, covers=frozenset(EntityType))
    [marked] = tombstone(state, [listing], NOW)
    assert marked.external_id == "m1" and not marked.entity_tombstoned
    assert not state.entities["c-m1"].tombstoned
