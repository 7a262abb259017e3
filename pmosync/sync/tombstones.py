"""Deletions as tombstones: a record a complete listing no longer contains is marked, never
deleted, and stops counting; the same record reappearing brings it back.

Only a listing that vouches for its completeness can tell a deletion:

* a ``--full`` pull of a configured connection that succeeded: every scope was listed from
  the beginning, so a link of an entity type the connection reads that was not listed (nor
  quarantined) is gone;
* a record whose connector re-reads its children with it (Capabilities.whole_children):
  Project Server re-reads a republished project whole, a schedule file is re-imported whole;
  a child of that record not in this pull is gone, even on an incremental run.

A failed pull is never handed here (it is dropped whole before identify), a backfill window
lists only a slice, and people, iterations and calendars only appear incidentally (as an
assignee, a sprint), so none of those ever tombstone anything.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import select

from pmosync.canonical_model import EntityType, PlannedWrite, PulledRecord, Quarantined
from pmosync.sync import models
from pmosync.sync.state import LinkKey, LinkState, WorkingState
from pmosync.sync.store import Store

# Entity types a listing enumerates on purpose (people, sprints and calendars only come along).
TOMBSTONABLE = frozenset(
    {
        EntityType.PORTFOLIO,
        EntityType.PROGRAMME,
        EntityType.PROJECT,
        EntityType.WORK_ITEM,
        EntityType.MILESTONE,
        EntityType.DEPENDENCY,
        EntityType.RAID_ITEM,
        EntityType.RELEASE,
        EntityType.STATUS_REPORT,
    }
)


@dataclass
class Listing:
    """What one successful pull of one connection listed."""

    connection: str
    # every scope listed from the beginning (a --full pull, no backfill window)
    whole: bool
    # entity types the connection reads (a whole listing speaks for these only)
    covers: frozenset[EntityType]
    # parent type -> child types the connector re-reads with every parent record it yields
    whole_children: Mapping[EntityType, frozenset[EntityType]] = field(default_factory=dict)
    seen: set[LinkKey] = field(default_factory=set)
    parents: list[tuple[EntityType, str]] = field(default_factory=list)

    def add(self, items: Iterable[PulledRecord | Quarantined]) -> None:
        for item in items:
            if isinstance(item, Quarantined):  # still there, only unreadable
                self.seen.add((item.connection, item.entity_type.value, item.external_id))
                continue
            ref = item.ref
            self.seen.add((ref.connection, ref.entity_type.value, ref.external_id))
            if ref.entity_type in self.whole_children:
                self.parents.append((ref.entity_type, ref.external_id))


@dataclass(frozen=True)
class Tombstone:
    """One link marked deleted (or brought back) in this run, for the run report."""

    connection: str
    entity_type: str
    external_id: str
    canonical_id: str
    label: str
    entity_tombstoned: bool  # no tool holds the record any more: it stops counting

    def to_dict(self) -> dict[str, Any]:
        return {
            "connection": self.connection,
            "entity_type": self.entity_type,
            "external_id": self.external_id,
            "canonical_id": self.canonical_id,
            "label": self.label,
            "entity_tombstoned": self.entity_tombstoned,
        }


def label_of(values: Mapping[str, Any], link: LinkState | None = None) -> str:
    """What a person recognises a record by: key or code, then name; never a bare UUID."""
    parts = [
        str(v)
        for v in (
            values.get("key") or values.get("code") or (link.external_key if link else None),
            values.get("name"),
        )
        if v
    ]
    if parts:
        return " ".join(dict.fromkeys(parts))
    return f"{link.external_id}" if link else "(unnamed)"


def _deleted(state: WorkingState, listing: Listing) -> list[LinkState]:
    conn = listing.connection
    own = [link for link in state.links.values() if link.connection == conn]
    gone: dict[LinkKey, LinkState] = {}
    if listing.whole:
        for link in own:
            if (
                link.entity_type in TOMBSTONABLE
                and link.entity_type in listing.covers
                and link.key not in listing.seen
            ):
                gone[link.key] = link
    for parent_type, parent_id in listing.parents:
        kinds = listing.whole_children.get(parent_type, frozenset())
        pointer = parent_type.value
        children = [
            link
            for link in own
            if link.entity_type in kinds
            and link.entity_type is not EntityType.DEPENDENCY
            and link.pointers.get(pointer) == parent_id
        ]
        for link in children:
            if link.key not in listing.seen and link.entity_type in TOMBSTONABLE:
                gone[link.key] = link
        if EntityType.DEPENDENCY not in kinds:
            continue
        # A link between two of the parent's own children: re-read with the parent. A link to
        # another project's task may be listed under that project only, so it is left alone.
        inside = {link.external_id for link in children if link.entity_type is EntityType.WORK_ITEM}
        for link in own:
            if link.entity_type is not EntityType.DEPENDENCY or link.key in listing.seen:
                continue
            ends = {link.pointers.get("predecessor"), link.pointers.get("successor")}
            if ends and ends <= inside:
                gone[link.key] = link
    return sorted(gone.values(), key=lambda lk: lk.key)


def entity_tombstoned(state: WorkingState, canonical_id: str) -> bool:
    """True when every tool that held the entity has deleted it (and at least one did)."""
    live = any(link.canonical_id == canonical_id for link in state.links.values())
    dead = any(link.canonical_id == canonical_id for link in state.tombstoned.values())
    return dead and not live


def mark_entities(state: WorkingState) -> None:
    """Set each entity's ``tombstoned`` flag from its links (live ones win)."""
    live = {link.canonical_id for link in state.links.values()}
    dead = {link.canonical_id for link in state.tombstoned.values()}
    for entity in state.entities.values():
        entity.tombstoned = entity.id in dead and entity.id not in live


def tombstone(state: WorkingState, listings: Iterable[Listing], now: datetime) -> list[Tombstone]:
    """Mark the links complete listings no longer contain; returns what was marked.

    Links move from ``state.links`` to ``state.tombstoned`` with ``deleted_at`` set (and are
    persisted so); their entities keep every value, so a record that reappears comes back as
    it was.
    """
    marked: list[LinkState] = []
    for listing in listings:
        for link in _deleted(state, listing):
            state.links.pop(link.key, None)
            link.deleted_at = now
            link.dirty = True
            state.tombstoned[link.key] = link
            marked.append(link)
    mark_entities(state)
    out = []
    for link in marked:
        entity = state.entities.get(link.canonical_id)
        values = entity.values if entity else {}
        out.append(
            Tombstone(
                link.connection,
                link.entity_type.value,
                link.external_id,
                link.canonical_id,
                label_of(values, link),
                bool(entity and entity.tombstoned),
            )
        )
    return out


def revived(state: WorkingState, links: Iterable[LinkState]) -> list[Tombstone]:
    """Report entries for links brought back by identify (the record reappeared)."""
    mark_entities(state)
    out = []
    for link in links:
        entity = state.entities.get(link.canonical_id)
        out.append(
            Tombstone(
                link.connection,
                link.entity_type.value,
                link.external_id,
                link.canonical_id,
                label_of(entity.values if entity else {}, link),
                bool(entity and entity.tombstoned),
            )
        )
    return out


def summary(tombstones: list[Tombstone], *, verb: str = "tombstoned", limit: int = 10) -> str:
    """'3 records tombstoned: pmo_airtable milestone APP-M2 Go-live, …'"""
    if not tombstones:
        return ""
    names = [f"{t.connection} {t.entity_type} {t.label}" for t in tombstones[:limit]]
    more = f", and {len(tombstones) - limit} more" if len(tombstones) > limit else ""
    noun = "record" if len(tombstones) == 1 else "records"
    return f"{len(tombstones)} {noun} {verb}: {', '.join(names)}{more}"


# apply.py supersedes the outbox row of a write that found its record deleted with this error
# (see _record_results there): the journal is what remembers how a link was tombstoned.
FOUND_ON_WRITE_ERROR = "deleted in "


def found_on_write(store: Store) -> set[tuple[str, str]]:
    """(connection, external id) of every record a write of ours found deleted."""
    with store.sessions() as session:
        rows = session.execute(
            select(models.Outbox.connection, models.Outbox.external_id).where(
                models.Outbox.status == "superseded",
                models.Outbox.last_error.like(FOUND_ON_WRITE_ERROR + "%"),
            )
        )
        return {(conn, ext) for conn, ext in rows if ext}


@dataclass(frozen=True)
class CreateRule:
    """Which creates the tombstones allow (issue #11 item 2).

    A record someone deleted in a tool is not created there again (their deletion stands),
    except once: a record a write of ours found deleted (a person deleted it while pmo-sync
    held a change for it) is created again where the mapping has ``create_missing``, so the
    change is not lost. Creates only reach here for create_missing types (plan_creates), and a
    second deletion of the re-created record is a second tombstone: it stands.
    """

    blocked: frozenset[tuple[str, str]]  # (connection, canonical id): never created again
    recreate: Mapping[tuple[str, str], LinkState]  # (connection, canonical id): created once

    def allows(self, write: PlannedWrite) -> bool:
        return (write.connection, write.canonical_id) not in self.blocked

    def mark(self, write: PlannedWrite) -> PlannedWrite:
        """A re-create says why in every change of the plan."""
        link = self.recreate.get((write.connection, write.canonical_id))
        if link is None or write.op != "create":
            return write
        why = (
            f"re-created: {write.connection} {link.external_id} was deleted while pmo-sync held "
            "a change for it, and the mapping has create_missing"
        )
        write.changes = [
            replace(c, reason=f"{why}; {c.reason}" if c.reason else why) for c in write.changes
        ]
        return write


def create_rule(state: WorkingState, on_write: set[tuple[str, str]]) -> CreateRule:
    """The rule from the tombstoned links and what writes found deleted (found_on_write)."""
    by_target: dict[tuple[str, str], list[LinkState]] = {}
    for link in state.tombstoned.values():
        by_target.setdefault((link.connection, link.canonical_id), []).append(link)
    blocked: set[tuple[str, str]] = set()
    recreate: dict[tuple[str, str], LinkState] = {}
    for target, links in by_target.items():
        if len(links) == 1 and (links[0].connection, links[0].external_id) in on_write:
            recreate[target] = links[0]
        else:
            blocked.add(target)
    return CreateRule(frozenset(blocked), recreate)


def recreated_notice(writes: Iterable[PlannedWrite], rule: CreateRule, state: WorkingState) -> str:
    """'1 record re-created: pmo_a project P001 Alpha (deleted there while …)'"""
    marks = []
    for write in writes:
        link = rule.recreate.get((write.connection, write.canonical_id))
        if link is None or write.op != "create":
            continue
        entity = state.entities.get(write.canonical_id)
        label = label_of(entity.values if entity else {}, link)
        marks.append(
            Tombstone(
                write.connection,
                write.entity_type.value,
                link.external_id,
                write.canonical_id,
                label,
                False,
            )
        )
    text = summary(marks, verb="re-created")
    if text:
        text += (
            " (deleted there while pmo-sync held a change for it; the mapping has "
            "create_missing, so the change is not lost; a second deletion stands)"
        )
    return text
