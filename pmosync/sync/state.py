"""The working state of one run: what the store knows, loaded once, changed in memory,
written back in bulk at the run's commit points."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice
from typing import Any

from sqlalchemy import Select, Table, Text, bindparam, cast, func, insert, select, update

from pmosync.canonical_model import EntityType
from pmosync.sync import models
from pmosync.sync.sharing import SharedStrings
from pmosync.sync.store import Store, aware, utcnow

LinkKey = tuple[str, str, str]  # connection, entity type, external id
BaseKey = tuple[str, str, str]  # canonical id, field, connection


# slots: one of each per record and per entity, so an instance dict each (about 100 bytes) is
# megabytes at portfolio scale
@dataclass(slots=True)
class LinkState:
    canonical_id: str
    connection: str
    entity_type: EntityType
    external_id: str
    remote_values: dict[str, Any]
    pointers: dict[str, str] = field(default_factory=dict)
    external_key: str | None = None
    version_token: str | None = None
    source_modified_at: datetime | None = None
    content_hash: str | None = None
    fetched_at: datetime | None = None
    id: int | None = None
    dirty: bool = False
    deleted_at: datetime | None = None  # tombstoned: a complete listing no longer had it

    @property
    def key(self) -> LinkKey:
        return (self.connection, self.entity_type.value, self.external_id)


@dataclass(slots=True)
class EntityState:
    id: str
    entity_type: EntityType
    values: dict[str, Any]
    dirty: bool = False
    new: bool = False
    # every tool that held it deleted it: kept, but it stops counting (see sync/tombstones.py)
    tombstoned: bool = False


@dataclass
class WorkingState:
    links: dict[LinkKey, LinkState] = field(default_factory=dict)
    entities: dict[str, EntityState] = field(default_factory=dict)
    # (canonical id, field, connection) -> what that system held when last settled
    bases: dict[BaseKey, Any] = field(default_factory=dict)
    dirty_bases: set[BaseKey] = field(default_factory=set)
    new_bases: set[BaseKey] = field(default_factory=set)
    cursors: dict[tuple[str, str], datetime] = field(default_factory=dict)
    # links whose record was deleted in its tool (deleted_at set); a reappearance revives them
    tombstoned: dict[LinkKey, LinkState] = field(default_factory=dict)
    # one object per distinct string across the loaded and the pulled values (sync/sharing.py)
    strings: SharedStrings = field(default_factory=SharedStrings, repr=False, compare=False)

    def links_of(self, canonical_id: str) -> list[LinkState]:
        return [link for link in self.links.values() if link.canonical_id == canonical_id]

    def new_entity(self, entity_type: EntityType) -> EntityState:
        entity = EntityState(str(uuid.uuid4()), entity_type, {}, dirty=True, new=True)
        self.entities[entity.id] = entity
        return entity

    def set_base(self, canonical_id: str, name: str, connection: str, value: Any) -> None:
        key = (canonical_id, name, connection)
        if key in self.bases and self.bases[key] == value:
            return
        if key not in self.bases:
            self.new_bases.add(key)
        self.bases[key] = value
        self.dirty_bases.add(key)


def load_state(store: Store) -> WorkingState:
    state = WorkingState()
    # the JSON columns are read as text and decoded here, so that every string is one shared
    # object across the whole store (sync/sharing.py): a third of the memory row-by-row
    # decoding took (the no-op run that loads the store peaked far above the full run)
    shared = state.strings
    decode = shared.decode
    with store.sessions() as session:
        # Core rows, not ORM objects: loading tens of thousands of rows is most of a no-op run.
        entities = models.table_of(models.Entity)
        for row in session.execute(_as_text(entities, "values")):
            entity_id = shared(row.id)
            state.entities[entity_id] = EntityState(
                entity_id, EntityType(row.entity_type), decode(row.values)
            )
        links = models.table_of(models.Link)
        for link in session.execute(_as_text(links, "remote_values", "pointers")):
            ls = LinkState(
                id=link.id,
                canonical_id=shared(link.canonical_id),
                connection=shared(link.connection),
                entity_type=EntityType(link.entity_type),
                external_id=shared(link.external_id),
                remote_values=decode(link.remote_values),
                pointers=decode(link.pointers),
                external_key=link.external_key,
                version_token=link.version_token,
                source_modified_at=aware(link.source_modified_at),
                content_hash=link.content_hash,
                fetched_at=aware(link.fetched_at),
                deleted_at=aware(link.deleted_at),
            )
            (state.tombstoned if ls.deleted_at else state.links)[ls.key] = ls
        bases = models.table_of(models.FieldBase)
        for base in session.execute(_as_text(bases, "value")):
            key = (shared(base.canonical_id), shared(base.field), shared(base.connection))
            state.bases[key] = decode(base.value).get("v")
    state.cursors = load_cursors(store)
    return state


def _as_text(table: Table, *json_columns: str) -> Select[Any]:
    """Every column of ``table``, the JSON ones as their stored text (SQLite keeps it as text,
    PostgreSQL's json type keeps the input text) for SharedStrings.decode."""
    return select(
        *(
            cast(column, Text).label(column.name) if column.name in json_columns else column
            for column in table.columns
        )
    )


def load_cursors(store: Store) -> dict[tuple[str, str], datetime]:
    cursors: dict[tuple[str, str], datetime] = {}
    with store.sessions() as session:
        for cursor in session.execute(select(models.table_of(models.Cursor))):
            value = aware(cursor.value)
            assert value is not None
            cursors[(cursor.connection, cursor.scope)] = value
    return cursors


def _link_row(link: LinkState, now: datetime) -> dict[str, Any]:
    return {
        "canonical_id": link.canonical_id,
        "connection": link.connection,
        "entity_type": link.entity_type.value,
        "external_id": link.external_id,
        "external_key": link.external_key,
        "version_token": link.version_token,
        "source_modified_at": link.source_modified_at,
        "content_hash": link.content_hash,
        "remote_values": link.remote_values,
        "pointers": link.pointers,
        "fetched_at": link.fetched_at or now,
        "deleted_at": link.deleted_at,
    }


def persist(store: Store, state: WorkingState, session: Any | None = None) -> None:
    """Write every dirty row in bulk: Core ``executemany`` statements, one per table and kind
    of change (the ORM's per-row bookkeeping was most of a full run's commit)."""
    now = utcnow()

    def run(session: Any) -> None:
        _persist_entities(session, state, now)
        _persist_links(session, state, now)
        _persist_bases(session, state)

    if session is not None:
        run(session)
    else:
        with store.session() as own:
            run(own)


BULK_ROWS = 5000  # rows per executemany: bounded memory for the parameters, few round trips


def _bulk(session: Any, statement: Any, rows: Iterable[dict[str, Any]]) -> None:
    """One statement over many rows, in chunks of BULK_ROWS (nothing when there are none)."""
    iterator = iter(rows)
    while chunk := list(islice(iterator, BULK_ROWS)):
        session.execute(statement, chunk)


def _persist_entities(session: Any, state: WorkingState, now: datetime) -> None:
    table = models.table_of(models.Entity)
    entities = state.entities.values()
    # rows are made as each chunk is sent: a first run inserts every entity, and a list of all
    # their rows was tens of megabytes at the run's peak
    _bulk(
        session,
        insert(table),
        (
            {"id": e.id, "entity_type": e.entity_type.value, "values": e.values, "updated_at": now}
            for e in entities
            if e.new
        ),
    )
    _bulk(
        session,
        update(table).where(table.c.id == bindparam("_id")),
        (
            {"_id": e.id, "values": e.values, "updated_at": now}
            for e in entities
            if e.dirty and not e.new
        ),
    )
    for e in entities:
        e.dirty = e.new = False


def _persist_links(session: Any, state: WorkingState, now: datetime) -> None:
    table = models.table_of(models.Link)
    new_links = [link for link in state.links.values() if link.id is None]
    if new_links:
        # No RETURNING: SQLAlchemy splices each RETURNING batch onto everything returned so
        # far (quadratic in the rows). Rows above the highest id before the insert are ours
        # (the run lock, or on PostgreSQL the sequence's order) and are matched by their key.
        floor = session.scalar(select(func.coalesce(func.max(table.c.id), 0)))
        _bulk(session, insert(table), (_link_row(link, now) for link in new_links))
        query = select(table.c.id, table.c.connection, table.c.entity_type, table.c.external_id)
        for row in session.execute(query.where(table.c.id > floor)):
            # state.links is keyed the same way: no second index of every new link
            link = state.links.get((row.connection, row.entity_type, row.external_id))
            if link is not None and link.id is None:
                link.id = row.id
                link.dirty = False
    dirty = [link for link in (*state.links.values(), *state.tombstoned.values()) if link.dirty]
    _bulk(
        session,
        update(table).where(table.c.id == bindparam("_id")),
        ({"_id": link.id, **_link_row(link, now)} for link in dirty),
    )
    for link in dirty:
        link.dirty = False


def _persist_bases(session: Any, state: WorkingState) -> None:
    table = models.table_of(models.FieldBase)
    _bulk(
        session,
        insert(table),
        (
            {"canonical_id": c, "field": f, "connection": n, "value": {"v": state.bases[(c, f, n)]}}
            for (c, f, n) in state.new_bases
        ),
    )
    _bulk(
        session,
        update(table).where(
            table.c.canonical_id == bindparam("_c"),
            table.c.field == bindparam("_f"),
            table.c.connection == bindparam("_n"),
        ),
        (
            {"_c": c, "_f": f, "_n": n, "value": {"v": state.bases[(c, f, n)]}}
            for (c, f, n) in state.dirty_bases - state.new_bases
        ),
    )
    state.new_bases.clear()
    state.dirty_bases.clear()


def save_cursor(session: Any, connection: str, scope: str, value: datetime) -> None:
    row = session.get(models.Cursor, (connection, scope))
    if row is None:
        session.add(
            models.Cursor(connection=connection, scope=scope, value=value, updated_at=utcnow())
        )
    else:
        row.value = value
        row.updated_at = utcnow()
