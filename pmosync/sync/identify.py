"""Identify: every pulled record gets its canonical id through the link table.

A record seen before keeps its link. A new one is matched to an existing entity only by the
pmo-sync id it carries (a record we created) or a configured key rule (e.g. project code),
never by guessing; otherwise it becomes a new entity.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pmosync.canonical_model import EntityType, PulledRecord, Quarantined
from pmosync.canonical_model.provenance import NAMED_POINTER
from pmosync.sync.recovery import adopt, fold_adopted, split_ambiguous
from pmosync.sync.state import LinkState, WorkingState
from pmosync.sync.store import utcnow

_MISSING: Any = object()


@dataclass
class IngestStats:
    new: Counter[str] = field(default_factory=Counter)  # per connection
    changed: Counter[str] = field(default_factory=Counter)
    unresolved_references: int = 0
    revived: list[LinkState] = field(default_factory=list)  # tombstoned records that reappeared
    ambiguous: list[Quarantined] = field(default_factory=list)  # one key, two records, one tool
    recovered: int = 0  # entities re-joined through pmo-sync ids the store had lost


class _Matcher:
    def __init__(self, state: WorkingState, identity: Mapping[EntityType, str]) -> None:
        self.state = state
        self.identity = identity
        self.linked = {(lk.connection, lk.canonical_id) for lk in state.links.values()}
        self.adopted: set[str] = set()  # pmo-sync ids the store did not know (recovery.py)
        self.index: dict[tuple[EntityType, Any], str] = {}
        for entity in state.entities.values():
            key_field = identity.get(entity.entity_type)
            if key_field and entity.values.get(key_field) is not None:
                self.index.setdefault((entity.entity_type, entity.values[key_field]), entity.id)

    def canonical_id(self, record: PulledRecord) -> str:
        """Canonical id for a record seen for the first time."""
        entity_type = record.ref.entity_type
        connection = record.ref.connection
        key_field = self.identity.get(entity_type)
        if adopt(self.state, record):  # a lost store: the tool still carries our id
            assert record.pmo_id is not None
            self.adopted.add(record.pmo_id)
            value = record.values.get(key_field) if key_field else None
            if key_field and value is not None:
                self.state.entities[record.pmo_id].values[key_field] = value
                self.index.setdefault((entity_type, value), record.pmo_id)
        twin = self.state.entities.get(record.pmo_id) if record.pmo_id else None
        if (
            twin is not None
            and twin.entity_type is entity_type
            and (connection, twin.id) not in self.linked
        ):
            return self._link(connection, twin.id)  # ours; a dead run lost its link
        value = record.values.get(key_field) if key_field else None
        if value is not None:
            candidate = self.index.get((entity_type, value))
            # Two records of one connection never merge into one entity.
            if candidate and (connection, candidate) not in self.linked:
                return self._link(connection, candidate)
        entity = self.state.new_entity(entity_type)
        if key_field and value is not None:
            entity.values[key_field] = value
            self.index[(entity_type, value)] = entity.id
        return self._link(connection, entity.id)

    def _link(self, connection: str, canonical_id: str) -> str:
        self.linked.add((connection, canonical_id))
        return canonical_id


def saved_again(stored_token: str | None, pulled_token: str | None) -> bool:
    """A record that comes back with the content hash of our last read but a new version
    token was saved again since: after one of our writes, a person put back the values we
    overwrote, which is an edit to take, not the last read again. With the same token it is
    the last read again (a lagging search index, such as Jira's, serving the record as it
    was before our write): what we wrote since still stands."""
    return stored_token is not None and pulled_token is not None and stored_token != pulled_token


def ingest(
    state: WorkingState,
    pulled: Mapping[str, Sequence[PulledRecord]],
    identity: Mapping[EntityType, str],
    *,
    unique_in: Collection[str] | None = None,
) -> IngestStats:
    """Record what each connection holds now, in canonical terms, on its links.

    ``unique_in``: the connections in which an identity key must be unique (None: all); a
    file import keeps plans sharing a code apart by its own same-plan rule instead.
    """
    stats = IngestStats()
    matcher = _Matcher(state, identity)
    now = utcnow()
    pending: list[tuple[LinkState, PulledRecord]] = []
    for name in sorted(pulled):
        records: list[PulledRecord] = list(pulled[name])
        ambiguous: list[Quarantined] = []
        if unique_in is None or name in unique_in:
            records, ambiguous = split_ambiguous(pulled[name], identity)
        stats.ambiguous.extend(ambiguous)
        for record in records:
            ref = record.ref
            # the link keeps these values for the whole run: equal strings become one object
            state.strings.share(record.values)
            key = (ref.connection, ref.entity_type.value, ref.external_id)
            link = state.links.get(key)
            if link is None and key in state.tombstoned:
                # deleted once, listed again (restored from the bin, or a listing that missed
                # it): the same link and entity come back with everything they had
                link = state.tombstoned.pop(key)
                link.deleted_at = None
                link.dirty = True
                state.links[key] = link
                stats.revived.append(link)
            if link is None:
                link = LinkState(
                    matcher.canonical_id(record),
                    ref.connection,
                    ref.entity_type,
                    ref.external_id,
                    {},
                )
                state.links[key] = link
            if link.id is None:
                stats.new[name] += 1
            elif any(link.remote_values.get(k, _MISSING) != v for k, v in record.values.items()):
                # compared with what we last knew, our own writes included: an echo is no change
                stats.changed[name] += 1
            record_hash = record.hash
            if (
                link.content_hash != record_hash
                or link.id is None
                or saved_again(link.version_token, ref.version_token)
            ):
                # a new link takes the record's own dict (the record is dropped after this
                # stage): one copy of every value less at a portfolio's first run
                link.remote_values = (
                    {**link.remote_values, **record.values} if link.remote_values else record.values
                )
                link.content_hash = record_hash
                link.dirty = True
            link.external_key = ref.external_key
            if link.version_token != ref.version_token:
                link.version_token = ref.version_token
                link.source_modified_at = ref.source_modified_at
                link.dirty = True
            link.fetched_at = now
            pending.append((link, record))
    # References resolve once every record is in: a target may be new in this same run.
    for link, record in pending:
        for name, pointer in record.pointers.items():
            if pointer.external_id.startswith(NAMED_POINTER):
                # names an item in any tool: resolved against the store (named_refs)
                if link.pointers.get(name) != pointer.external_id:
                    link.pointers[name] = pointer.external_id
                    link.dirty = True
                continue
            target = state.links.get(
                (link.connection, pointer.entity_type.value, pointer.external_id)
            )
            resolved = target.canonical_id if target else None
            if target is None:
                stats.unresolved_references += 1
            if (
                link.remote_values.get(name) != resolved
                or link.pointers.get(name) != pointer.external_id
            ):
                link.remote_values[name] = resolved
                link.pointers[name] = pointer.external_id
                link.dirty = True
    stats.recovered = fold_adopted(state, matcher.adopted, identity)
    state.strings.forget()  # the values are shared now; the lookup table is not needed again
    return stats
