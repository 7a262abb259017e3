"""One sync run: lock → pull → identify → reconcile → analyse → plan → apply → report."""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, update

from pmosync.analysis.milestones import consolidate, milestone_views
from pmosync.canonical_model import (
    ENTITY_CLASSES,
    Changeset,
    EntityType,
    PlannedWrite,
    PulledRecord,
    Quarantined,
)
from pmosync.config.loader import LoadedConfig
from pmosync.connectors import get_connector
from pmosync.connectors.base import Capabilities, Connector
from pmosync.errors import (
    AuthError,
    ConfigError,
    FatalConnectorError,
    PmoSyncError,
    RetriableError,
)
from pmosync.sync import models
from pmosync.sync.lock import run_lock
from pmosync.sync.plan import canonical_value, plan_creates, plan_writes
from pmosync.sync.reconcile import MISSING, Decision, FieldPolicy, Observation, merge
from pmosync.sync.report import ConnectionReport, RunReport
from pmosync.sync.state import LinkState, WorkingState, load_state, persist, save_cursor
from pmosync.sync.store import Store, utcnow

log = logging.getLogger("pmosync.sync")

APPLY_CHUNK = 100
ConnectorFactory = Callable[[str, LoadedConfig, Sequence[str]], Connector]
# Remote ids we wrote this recently are handed to connectors whose search lags behind writes
# (Jira Cloud), so the next pull reads them consistently; beyond this, the overlap covers it.
RECENT_WRITES_WINDOW = timedelta(hours=1)


@dataclass
class SyncOptions:
    dry_run: bool = False
    full: bool = False
    today: date | None = None
    only: Sequence[str] | None = None  # connection names; None = all with a team mapping
    # connectors that are not in the config (a one-off file import); pulled, never written
    extra: Sequence[Connector] = ()
    # a backfill: pull exactly [since, until) and leave the stored cursors where they are
    window: tuple[datetime | None, datetime | None] | None = None
    # called as records arrive: (connection, records so far)
    progress: Callable[[str, int], None] | None = None


@dataclass
class _Pulled:
    records: list[PulledRecord] = field(default_factory=list)
    quarantined: list[Quarantined] = field(default_factory=list)
    scopes: dict[str, int] = field(default_factory=dict)


def default_factory(name: str, loaded: LoadedConfig, recent_writes: Sequence[str]) -> Connector:
    config = loaded.config.connections[name]
    extra: dict[str, object] = {}
    if config.kind == "jira":
        extra["recent_writes"] = recent_writes
    return get_connector(
        name,
        config,
        loaded.mappings_for(name),
        overlap_seconds=loaded.config.sync.overlap,
        **extra,
    )


def run_sync(
    loaded: LoadedConfig,
    options: SyncOptions | None = None,
    *,
    factory: ConnectorFactory = default_factory,
) -> RunReport:
    """Run one sync against the configured store, holding the store's run lock.

    Raises:
        LockedError: another run holds the lock.
        ConfigError: the store cannot be opened.
    """
    store = Store.open(loaded.store_url())
    try:
        with run_lock(store):
            return Engine(loaded, store, options or SyncOptions(), factory).run()
    finally:
        store.close()


def _error_kind(exc: PmoSyncError) -> str:
    if isinstance(exc, AuthError):
        return "auth"
    if isinstance(exc, ConfigError):
        return "config"
    if isinstance(exc, RetriableError):
        return "retriable"
    return "fatal"


class Engine:
    def __init__(
        self, loaded: LoadedConfig, store: Store, options: SyncOptions, factory: ConnectorFactory
    ) -> None:
        self.loaded = loaded
        self.store = store
        self.options = options
        self.factory = factory
        self.report = RunReport(dry_run=options.dry_run, full=options.full)
        self.connectors: dict[str, Connector] = {}
        self.capabilities: dict[str, Capabilities] = {}
        self.decisions: dict[tuple[str, str], Decision] = {}
        self.held: set[tuple[str, str]] = set()
        # (canonical id, field) -> (value, conflict id): a person's resolution, applied once
        self.overrides: dict[tuple[str, str], tuple[Any, int]] = {}

    # -- the run ----------------------------------------------------------------------------
    def run(self) -> RunReport:
        started = utcnow()
        clock = time.monotonic()
        self.report.started_at = started.isoformat()
        run_id = None if self.options.dry_run else self._start_run(started)
        self.report.run_id = run_id
        try:
            state = load_state(self.store)
            self._load_overrides()
            self._build_connectors()
            pulled = self._pull(state)
            self._ingest(state, pulled)
            self._reconcile(state)
            self._analyse(state)
            healthy = [n for n, c in self.report.connections.items() if c.status == "ok"]
            writes = plan_writes(state, self.capabilities, healthy, self.held).writes
            writes += plan_creates(state, self.capabilities, self._create_types(healthy)).writes
            self._annotate(writes)
            for write in writes:
                self.report.connections[write.connection].writes_planned += 1
            if self.options.dry_run:
                return self.report
            self._commit_pull(state, pulled, writes, run_id or 0, started)
            self._apply(state, writes)
            self._settle_bases(state)
            persist(self.store, state)
        finally:
            for connector in self.connectors.values():
                self.report.connections[connector.name].api_calls = connector.api_calls()
                connector.close()
            self.report.entities = self._entity_counts()
            self.report.finished_at = utcnow().isoformat()
            self.report.duration_seconds = round(time.monotonic() - clock, 3)
            self.report.status = self._overall_status()
            if run_id is not None:
                self._finish_run(run_id)
        return self.report

    def _start_run(self, started: datetime) -> int:
        with self.store.session() as session:
            # We hold the run lock, so a run still marked running was killed mid-way.
            session.execute(
                update(models.Run)
                .where(models.Run.status == "running")
                .values(status="interrupted")
            )
            run = models.Run(started_at=started, status="running", dry_run=False)
            session.add(run)
            session.flush()
            return run.id

    def _finish_run(self, run_id: int) -> None:
        with self.store.session() as session:
            session.execute(
                update(models.Run)
                .where(models.Run.id == run_id)
                .values(
                    finished_at=utcnow(), status=self.report.status, report=self.report.to_dict()
                )
            )

    def _overall_status(self) -> str:
        conns = list(self.report.connections.values())
        if conns and all(c.status == "failed" for c in conns):
            return "failed"
        if any(c.status == "failed" or c.writes_failed for c in conns):
            return "partial"
        return "ok"

    def _entity_counts(self) -> dict[str, int]:
        counts: dict[str, int] = defaultdict(int)
        with self.store.sessions() as session:
            for (entity_type,) in session.execute(
                models.Entity.__table__.select().with_only_columns(models.Entity.entity_type)
            ):
                counts[entity_type] += 1
        return dict(counts)

    # -- connectors and pull ----------------------------------------------------------------
    def _build_connectors(self) -> None:
        config = self.loaded.config
        names = sorted({m.connection for m in self.loaded.mappings.values()})
        if self.options.only:
            unknown = set(self.options.only) - set(config.connections)
            if unknown:
                raise ConfigError(f"unknown connection(s): {', '.join(sorted(unknown))}")
            names = [n for n in names if n in self.options.only]
        for connector in self.options.extra:
            self.report.connections[connector.name] = ConnectionReport(connector.name, "files")
            self.connectors[connector.name] = connector
            self.capabilities[connector.name] = connector.capabilities()
        if self.options.extra and not self.options.only:
            return
        for name in names:
            conn_report = ConnectionReport(name=name, kind=config.connections[name].kind)
            self.report.connections[name] = conn_report
            try:
                connector = self.factory(name, self.loaded, self._recent_writes(name))
                self.connectors[name] = connector
                self.capabilities[name] = connector.capabilities()
            except PmoSyncError as exc:
                self._fail(name, exc)

    def _recent_writes(self, name: str) -> list[str]:
        since = utcnow() - RECENT_WRITES_WINDOW
        with self.store.sessions() as session:
            rows = session.scalars(
                select(models.Outbox.external_id).where(
                    models.Outbox.connection == name,
                    models.Outbox.status == "done",
                    models.Outbox.updated_at >= since,
                    models.Outbox.external_id.is_not(None),
                )
            )
            return sorted({row for row in rows if row})

    def _fail(self, name: str, exc: PmoSyncError) -> None:
        conn_report = self.report.connections[name]
        conn_report.status = "failed"
        conn_report.error = str(exc)
        conn_report.error_kind = _error_kind(exc)
        log.error("%s", exc)

    def _pull_one(self, connector: Connector, state: WorkingState) -> _Pulled:
        out = _Pulled()
        progress = self.options.progress
        total = 0
        for scope in connector.scopes():
            if self.options.window is not None:
                since, until = self.options.window
            else:
                until = None
                since = (
                    None if self.options.full else state.cursors.get((connector.name, scope.name))
                )
            count = 0
            for item in connector.pull(scope, since, until):
                if isinstance(item, Quarantined):
                    out.quarantined.append(item)
                else:
                    out.records.append(item)
                count += 1
                total += 1
                if progress is not None and total % 50 == 0:
                    progress(connector.name, total)
            out.scopes[scope.name] = count
        if progress is not None:
            progress(connector.name, total)
        return out

    def _pull(self, state: WorkingState) -> dict[str, _Pulled]:
        results: dict[str, _Pulled] = {}
        if not self.connectors:
            return results
        with ThreadPoolExecutor(max_workers=min(8, len(self.connectors))) as pool:
            futures = {
                name: pool.submit(self._pull_one, connector, state)
                for name, connector in self.connectors.items()
            }
            for name, future in futures.items():
                try:
                    results[name] = future.result()
                except PmoSyncError as exc:
                    # The failed pull is dropped whole: its cursor stays, nothing it read is
                    # stored, and it is never mistaken for "no changes" or for deletions.
                    self._fail(name, exc)
                except Exception as exc:  # a bug in one connector must not stop the others
                    log.exception("connection %s failed unexpectedly", name)
                    self._fail(
                        name, FatalConnectorError(f"internal error: {exc!r}", connection=name)
                    )
        for name, pulled in results.items():
            conn_report = self.report.connections[name]
            conn_report.pulled = len(pulled.records)
            conn_report.quarantined = len(pulled.quarantined)
            conn_report.scopes = pulled.scopes
            self.report.quarantined.extend(
                {
                    "connection": q.connection,
                    "entity_type": q.entity_type.value,
                    "external_id": q.external_id,
                    "reason": q.reason,
                }
                for q in pulled.quarantined
            )
        return results

    # -- identify ---------------------------------------------------------------------------
    def _ingest(self, state: WorkingState, pulled: dict[str, _Pulled]) -> None:
        identity = self.loaded.config.sync.identity
        index: dict[tuple[EntityType, Any], str] = {}
        linked: set[tuple[str, str]] = {
            (lk.connection, lk.canonical_id) for lk in state.links.values()
        }
        for entity in state.entities.values():
            key_field = identity.get(entity.entity_type)
            if key_field and entity.values.get(key_field) is not None:
                index.setdefault((entity.entity_type, entity.values[key_field]), entity.id)
        pending_pointers: list[tuple[LinkState, PulledRecord]] = []
        for name in sorted(pulled):
            for record in pulled[name].records:
                ref = record.ref
                key = (ref.connection, ref.entity_type.value, ref.external_id)
                link = state.links.get(key)
                if link is None:
                    canonical_id = self._match(state, index, linked, record)
                    link = LinkState(
                        canonical_id, ref.connection, ref.entity_type, ref.external_id, {}
                    )
                    state.links[key] = link
                    linked.add((ref.connection, canonical_id))
                record_hash = record.hash
                if link.id is None:
                    self.report.connections[name].new += 1
                elif any(link.remote_values.get(k, MISSING) != v for k, v in record.values.items()):
                    # compared with what we last knew, which includes our own writes: the echo
                    # of a write is not a change
                    self.report.connections[name].changed += 1
                if link.content_hash != record_hash or link.id is None:
                    link.remote_values = {**link.remote_values, **record.values}
                    link.content_hash = record_hash
                    link.dirty = True
                link.external_key = ref.external_key
                if link.version_token != ref.version_token:
                    link.version_token = ref.version_token
                    link.source_modified_at = ref.source_modified_at
                    link.dirty = True
                link.fetched_at = utcnow()
                pending_pointers.append((link, record))
        for link, record in pending_pointers:
            for name, pointer in record.pointers.items():
                target = state.links.get(
                    (link.connection, pointer.entity_type.value, pointer.external_id)
                )
                resolved = target.canonical_id if target else None
                if target is None:
                    self.report.unresolved_references += 1
                if (
                    link.remote_values.get(name) != resolved
                    or link.pointers.get(name) != pointer.external_id
                ):
                    link.remote_values[name] = resolved
                    link.pointers[name] = pointer.external_id
                    link.dirty = True

    def _match(
        self,
        state: WorkingState,
        index: dict[tuple[EntityType, Any], str],
        linked: set[tuple[str, str]],
        record: PulledRecord,
    ) -> str:
        """Canonical id for a record seen for the first time: a configured key rule, or new."""
        entity_type = record.ref.entity_type
        twin = state.entities.get(record.pmo_id) if record.pmo_id else None
        if (
            twin is not None
            and twin.entity_type is entity_type
            and (record.ref.connection, twin.id) not in linked
        ):
            return twin.id  # a record we created earlier, whose link a dead run never stored
        key_field = self.loaded.config.sync.identity.get(entity_type)
        value = record.values.get(key_field) if key_field else None
        if value is not None:
            candidate = index.get((entity_type, value))
            # Two records of one connection never merge into one entity.
            if candidate and (record.ref.connection, candidate) not in linked:
                return candidate
        entity = state.new_entity(entity_type)
        if value is not None:
            entity.values[key_field] = value  # type: ignore[index]
            index[(entity_type, value)] = entity.id
        return entity.id

    # -- reconcile --------------------------------------------------------------------------
    def _policy(self, entity_type: EntityType, name: str) -> FieldPolicy:
        mode = None
        for mapping in self.loaded.mappings.values():
            entity = mapping.entities.get(entity_type)
            fm = entity.fields.get(name) if entity else None
            if fm is None or fm.conflict is None:
                continue
            if fm.conflict == "authority":
                return FieldPolicy("authority", mapping.connection)
            mode = fm.conflict
        return FieldPolicy(mode or self.loaded.config.sync.default_conflict)

    def _create_types(self, connections: list[str]) -> dict[str, set[EntityType]]:
        out: dict[str, set[EntityType]] = {}
        for mapping in self.loaded.mappings.values():
            if mapping.connection not in connections:
                continue
            for entity_type, entity in mapping.entities.items():
                if entity.create_missing:
                    out.setdefault(mapping.connection, set()).add(entity_type)
        return out

    def _readable(self, connection: str, entity_type: EntityType) -> frozenset[str] | None:
        """Fields a connection reads; from its mapping when it is not part of this run."""
        caps = self.capabilities.get(connection)
        if caps is not None:
            return caps.readable.get(entity_type, frozenset())
        mappings = self.loaded.mappings_for(connection)
        if not mappings:
            return None  # an import connection: everything it recorded was read
        fields: frozenset[str] = frozenset()
        for mapping in mappings:
            entity = mapping.entities.get(entity_type)
            if entity is not None:
                fields |= entity.readable(entity_type)
        return fields

    def _load_overrides(self) -> None:

        with self.store.sessions() as session:
            rows = session.scalars(
                select(models.Conflict).where(models.Conflict.status == "resolved")
            )
            for row in rows:
                value = (row.resolution or {}).get("value")
                self.overrides[(row.canonical_id, row.field)] = (value, row.id)

    def _reconcile(self, state: WorkingState) -> None:
        by_entity: dict[str, list[LinkState]] = defaultdict(list)
        for link in state.links.values():
            by_entity[link.canonical_id].append(link)
        policies: dict[tuple[EntityType, str], FieldPolicy] = {}
        for canonical_id, links in by_entity.items():
            entity = state.entities[canonical_id]
            computed = ENTITY_CLASSES[entity.entity_type].computed
            observed: dict[str, dict[str, Observation]] = defaultdict(dict)
            for link in links:
                readable = self._readable(link.connection, link.entity_type)
                for name, value in link.remote_values.items():
                    if name in computed or (readable is not None and name not in readable):
                        continue
                    observed[name][link.connection] = Observation(value, link.source_modified_at)
            for name, obs in observed.items():
                key = (entity.entity_type, name)
                if key not in policies:
                    policies[key] = self._policy(entity.entity_type, name)
                bases = {
                    conn: state.bases[(canonical_id, name, conn)]
                    for conn in obs
                    if (canonical_id, name, conn) in state.bases
                }
                current = entity.values.get(name, MISSING)
                override = self.overrides.get((canonical_id, name))
                if override is not None:
                    value, conflict_id = override
                    decision = Decision(value, f"resolved by a person (conflict #{conflict_id})")
                else:
                    decision = merge(obs, bases, current, policies[key])
                self.decisions[(canonical_id, name)] = decision
                if entity.values.get(name, MISSING) != decision.value:
                    entity.values = {**entity.values, name: decision.value}
                    entity.dirty = True
                if decision.conflict:
                    self.report.conflicts.append(
                        {
                            "canonical_id": canonical_id,
                            "entity_type": entity.entity_type.value,
                            "field": name,
                            "observed": {c: o.value for c, o in obs.items()},
                            "base": None if current is MISSING else current,
                            "policy": policies[key].mode,
                            "held": decision.held,
                            "reason": decision.reason,
                        }
                    )
                    if decision.held:
                        self.held.add((canonical_id, name))

    # -- analyse ----------------------------------------------------------------------------
    def _today(self) -> date:
        if self.options.today:
            return self.options.today
        return datetime.now(ZoneInfo(self.loaded.config.portfolio.timezone)).date()

    def _analyse(self, state: WorkingState) -> None:
        projects = [e.id for e in state.entities.values() if e.entity_type is EntityType.PROJECT]
        views = milestone_views(
            (e.entity_type.value, e.values)
            for e in state.entities.values()
            if e.entity_type in (EntityType.MILESTONE, EntityType.WORK_ITEM)
        )
        for project_id, values in consolidate(projects, views, self._today()).items():
            entity = state.entities[project_id]
            if any(entity.values.get(k, MISSING) != v for k, v in values.items()):
                entity.values = {**entity.values, **values}
                entity.dirty = True

    def _annotate(self, writes: list[PlannedWrite]) -> None:
        for write in writes:
            for change in write.changes:
                decision = self.decisions.get((write.canonical_id, change.field))
                if decision is not None and change.reason == "reconciled":
                    object.__setattr__(change, "reason", decision.reason)
            self.report.plan.append(
                {
                    "connection": write.connection,
                    "entity_type": write.entity_type.value,
                    "canonical_id": write.canonical_id,
                    "external_id": write.external_id,
                    "op": write.op,
                    "changes": [
                        {"field": c.field, "old": c.old, "new": c.new, "reason": c.reason}
                        for c in write.changes
                    ],
                }
            )

    # -- commit and apply -------------------------------------------------------------------
    def _commit_pull(
        self,
        state: WorkingState,
        pulled: dict[str, _Pulled],
        writes: list[PlannedWrite],
        run_id: int,
        started: datetime,
    ) -> None:
        """Commit point: what was read, the new cursors and the journaled writes, atomically."""
        now = utcnow()
        with self.store.session() as session:
            persist(self.store, state, session)
            for name, result in pulled.items():
                for scope in result.scopes:
                    if self.options.window is not None:
                        break  # a backfill reads history; the incremental cursor stays put
                    # Never past the run's start: later edits are re-read next time.
                    save_cursor(session, name, scope, started)
                    state.cursors[(name, scope)] = started
                if result.quarantined:
                    session.add_all(
                        models.QuarantinedRecord(
                            run_id=run_id,
                            connection=q.connection,
                            entity_type=q.entity_type.value,
                            external_id=q.external_id,
                            reason=q.reason,
                            seen_at=now,
                        )
                        for q in result.quarantined
                    )
            self._record_conflicts(session, run_id, now)
            # A write journaled by a run that died is re-planned from the state, so the old
            # row is superseded rather than replayed blindly.
            session.execute(
                update(models.Outbox)
                .where(models.Outbox.status == "pending")
                .values(status="superseded", updated_at=now)
            )
            rows = [
                models.Outbox(
                    run_id=run_id,
                    connection=w.connection,
                    entity_type=w.entity_type.value,
                    canonical_id=w.canonical_id,
                    external_id=w.external_id,
                    op=w.op,
                    payload={
                        "changes": [
                            {"field": c.field, "old": c.old, "new": c.new} for c in w.changes
                        ]
                    },
                    status="pending",
                    attempts=0,
                    created_at=now,
                    updated_at=now,
                )
                for w in writes
            ]
            session.add_all(rows)
            session.flush()
            for write, row in zip(writes, rows, strict=True):
                write.outbox_id = row.id

    def _record_conflicts(self, session: Any, run_id: int, now: datetime) -> None:
        """A held conflict keeps one open row (and id) until it is resolved or goes away."""

        open_rows = {
            (row.canonical_id, row.field): row
            for row in session.scalars(
                select(models.Conflict).where(models.Conflict.status == "open")
            )
        }
        for c in self.report.conflicts:
            key = (c["canonical_id"], c["field"])
            row = open_rows.pop(key, None) if c["held"] else None
            if row is not None:
                row.observed = c["observed"]
                row.run_id = run_id
                continue
            session.add(
                models.Conflict(
                    canonical_id=c["canonical_id"],
                    entity_type=c["entity_type"],
                    field=c["field"],
                    observed=c["observed"],
                    base={"v": c["base"]},
                    policy=c["policy"],
                    status="open" if c["held"] else "settled",
                    resolution={"reason": c["reason"]},
                    detected_at=now,
                    run_id=run_id,
                )
            )
        for row in open_rows.values():
            row.status = "settled"  # the systems agree again
        if self.overrides:
            ids = [conflict_id for _, conflict_id in self.overrides.values()]
            session.execute(
                update(models.Conflict).where(models.Conflict.id.in_(ids)).values(status="applied")
            )

    def _apply(self, state: WorkingState, writes: list[PlannedWrite]) -> None:
        for name, batch in Changeset(writes).by_connection().items():
            connector = self.connectors[name]
            conn_report = self.report.connections[name]
            for start in range(0, len(batch), APPLY_CHUNK):
                chunk = batch[start : start + APPLY_CHUNK]
                try:
                    results = connector.push(chunk)
                except Exception as exc:  # the outbox keeps these writes for the next run
                    if not isinstance(exc, PmoSyncError):
                        log.exception("writing to %s failed unexpectedly", name)
                        exc = FatalConnectorError(f"internal error: {exc!r}", connection=name)
                    self._fail(name, exc)
                    conn_report.writes_failed += len(batch) - start
                    self._mark_outbox(chunk, None, str(exc))
                    break
                self._record_results(state, chunk, results)

    def _record_results(
        self, state: WorkingState, chunk: list[PlannedWrite], results: list[Any]
    ) -> None:
        conn_report = self.report.connections[chunk[0].connection]
        now = utcnow()
        with self.store.session() as session:
            for write, result in zip(chunk, results, strict=True):
                if write.op == "create" and result.ok and result.external_id:
                    key = (write.connection, write.entity_type.value, result.external_id)
                    if key not in state.links:
                        state.links[key] = LinkState(
                            write.canonical_id,
                            write.connection,
                            write.entity_type,
                            result.external_id,
                            {},
                            fetched_at=now,
                        )
                    write.external_id = result.external_id
                link = state.links.get(
                    (write.connection, write.entity_type.value, write.external_id or "")
                )
                if result.ok and link is not None:
                    conn_report.writes_applied += 1
                    values = {c.field: canonical_value(state, write, c) for c in write.changes}
                    link.remote_values = {**link.remote_values, **values}
                    if result.version_token:
                        link.version_token = result.version_token
                    link.dirty = True
                    status, error = "done", None
                else:
                    conn_report.writes_failed += 1
                    status, error = "failed", result.error or "write failed"
                    self.report.write_errors.append(
                        {
                            "connection": write.connection,
                            "external_id": write.external_id,
                            "error": error,
                        }
                    )
                session.execute(
                    update(models.Outbox)
                    .where(models.Outbox.id == write.outbox_id)
                    .values(
                        status=status,
                        external_id=write.external_id,
                        last_error=error,
                        attempts=models.Outbox.attempts + 1,
                        updated_at=now,
                    )
                )
            persist(self.store, state, session)

    def _mark_outbox(self, chunk: list[PlannedWrite], _: Any, error: str) -> None:
        with self.store.session() as session:
            for write in chunk:
                session.execute(
                    update(models.Outbox)
                    .where(models.Outbox.id == write.outbox_id)
                    .values(status="failed", last_error=error[:2000], updated_at=utcnow())
                )

    def _settle_bases(self, state: WorkingState) -> None:
        """Each system's base becomes what it holds now, for every decided field.

        Held conflicts stay unsettled so they are seen again; a connection that failed this
        run keeps its bases, so its next successful pull is compared with what it last had.
        """
        failed = {n for n, c in self.report.connections.items() if c.status != "ok"}
        by_entity: dict[str, list[LinkState]] = defaultdict(list)
        for link in state.links.values():
            by_entity[link.canonical_id].append(link)
        for (canonical_id, name), decision in self.decisions.items():
            if decision.held:
                continue
            for link in by_entity[canonical_id]:
                if link.connection in failed or name not in link.remote_values:
                    continue
                state.set_base(canonical_id, name, link.connection, link.remote_values[name])
