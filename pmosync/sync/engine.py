"""One sync run: lock → pull → identify → reconcile → analyse → plan → apply → report."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy import false, func, select, update
from sqlalchemy.orm import Session

from pmosync.canonical_model import EntityType, PlannedWrite, Quarantined
from pmosync.config.loader import LoadedConfig
from pmosync.connectors import get_connector
from pmosync.connectors.base import Capabilities, Connector
from pmosync.errors import AuthError, ConfigError, PmoSyncError, RetriableError
from pmosync.redact import redact
from pmosync.sync import models
from pmosync.sync.apply import apply_writes, journal
from pmosync.sync.conflicts import Overrides, load_overrides, record_conflicts
from pmosync.sync.deferred import left_for_later
from pmosync.sync.identify import ingest
from pmosync.sync.lock import RunLock, lease_seconds, run_lock
from pmosync.sync.named_refs import resolve_named
from pmosync.sync.naming import label_plan
from pmosync.sync.outbox import skip_dropped
from pmosync.sync.plan import plan_creates, plan_cross_links, plan_writes
from pmosync.sync.pull import Pulled, pull_all
from pmosync.sync.quiet import (
    Echoes,
    Previous,
    inputs_fingerprint,
    open_conflict_entities,
    people_waiting,
    previous_run,
    record_echoes,
    unchanged,
)
from pmosync.sync.reconcile import (
    MISSING,
    FieldPolicy,
    Reconciliation,
    reconcile_state,
    settle_bases,
)
from pmosync.sync.record_urls import locator
from pmosync.sync.report import ConnectionReport, RunReport
from pmosync.sync.state import (
    LinkState,
    WorkingState,
    load_cursors,
    load_state,
    persist,
    save_cursor,
)
from pmosync.sync.store import Store, utcnow
from pmosync.sync.tombstones import (
    Listing,
    create_rule,
    found_on_write,
    mark_entities,
    recreated_notice,
    revived,
    tombstone,
)

if TYPE_CHECKING:
    from pmosync.sync.analyse import ScheduleAnalysis

log = logging.getLogger("pmosync.sync")

# What each stage does, said at -v (pmo-sync's own loggers; libraries stay quiet until -vv).
STAGES = {
    "load": "reading the store and building the connectors",
    "pull": "reading changed records from each tool",
    "identify": "matching records to canonical entities",
    "reconcile": "merging fields and detecting conflicts",
    "analyse": "computing schedule, milestones, RAG and roll-ups",
    "plan": "planning writes",
    "commit": "saving pulled records, cursors and the outbox",
    "apply": "writing to the tools",
    "settle": "recording what each tool now holds",
}
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
    options = options or SyncOptions()
    try:
        with run_lock(
            store,
            max_seconds=loaded.config.sync.max_run_seconds,
            connections=_synced(loaded, options),  # PostgreSQL: one advisory lock each
        ) as held:
            return Engine(loaded, store, options, factory, held).run()
    finally:
        store.close()


def _synced(loaded: LoadedConfig, options: SyncOptions) -> list[str]:
    """The connections a run pulls and writes (as _build_connectors picks them)."""
    names = {m.connection for m in loaded.mappings.values()}
    if options.only:
        names &= set(options.only)
    elif options.extra:
        names = set()
    return sorted(names | {c.name for c in options.extra})


def _error_kind(exc: PmoSyncError) -> str:
    if isinstance(exc, AuthError):
        return "auth"
    if isinstance(exc, ConfigError):
        return "config"
    if isinstance(exc, RetriableError):
        return "retriable"
    return "fatal"


def last_full_run(store: Store) -> datetime | None:
    """When the newest finished ``--full`` run started (None: never)."""
    with store.sessions() as session:
        # the store reads the flag out of each report (a JSON path): reports are large, and
        # decoding the newest runs' reports one by one was a tenth of a quiet run
        last = session.scalar(
            select(models.Run.started_at)
            .where(
                models.Run.status.in_(("ok", "partial")),
                models.Run.dry_run.is_(False),
                models.Run.report["full"].as_boolean().is_(True),
            )
            .order_by(models.Run.id.desc())
            .limit(1)
        )
    return last.replace(tzinfo=UTC) if last is not None and last.tzinfo is None else last


class Engine:
    """One run's orchestration; each stage lives in its own module of ``pmosync.sync``."""

    def __init__(
        self,
        loaded: LoadedConfig,
        store: Store,
        options: SyncOptions,
        factory: ConnectorFactory,
        lock: RunLock | None = None,
    ) -> None:
        self.loaded = loaded
        self.lock = lock or RunLock()
        self.store = store
        self.options = options
        self.factory = factory
        self.report = RunReport(dry_run=options.dry_run, full=options.full)
        self.connectors: dict[str, Connector] = {}
        self.capabilities: dict[str, Capabilities] = {}
        self.overrides: Overrides = {}
        self.schedule: ScheduleAnalysis | None = None
        self.previous: Previous | None = None  # the last finished run (sync/quiet.py)

    def run(self) -> RunReport:
        started = utcnow()
        clock = time.monotonic()
        self.report.started_at = started.isoformat()
        run_id = None if self.options.dry_run else self._start_run(started)
        self.report.run_id = run_id
        phase = self._phase
        shared = ExitStack()
        try:
            with phase("load"):
                self.overrides = load_overrides(self.store)
                self._build_connectors()
                self._suggest_full()
                converged = self._converged()
                if converged is None:
                    state = self._load_state()
                else:  # the store is read only if the pull shows a change
                    state = WorkingState(cursors=load_cursors(self.store))
            with phase("pull"):
                pulled = self._pull(state)
            if converged is not None:
                with phase("identify"):
                    echoes = self._unchanged(pulled)
                if echoes is not None:
                    self._quiet(converged, pulled, echoes, run_id, started)
                    return self.report
                with phase("load"):
                    state = self._load_state()
            if shared.enter_context(self.lock.store_stages()):
                # workers share this store (sync/lock.py): another may have committed while
                # we pulled, so the shared stages start from the store as it is now
                state = self._load_state()
            with phase("identify"):
                self._identify(state, pulled)
                for result in pulled.values():
                    # the links hold what was read now: free the records before the analysis
                    # (the run's peak memory); scopes and quarantined stay for the commit
                    result.records = []
            with phase("reconcile"):
                merged = reconcile_state(
                    state,
                    self._readable,
                    self._policy,
                    self.overrides,
                    only=self._reconcile_scope(state),
                )
                self.report.conflicts = merged.conflicts
            with phase("analyse"):
                self._analyse(state)
            with phase("plan"):
                writes = self._plan(state, merged)
            if self.options.dry_run:
                return self.report
            with phase("commit"):
                self._commit_pull(state, pulled, writes, run_id or 0, started)
            with phase("apply"):
                failures = apply_writes(
                    self.store,
                    state,
                    writes,
                    self.connectors,
                    self.report,
                    deadline=clock + self.loaded.config.sync.max_run_seconds,
                    capabilities=self.capabilities,
                )
                for name, exc in failures.items():
                    self._fail(name, exc)
            with phase("settle"):
                failed = {n for n, c in self.report.connections.items() if c.status != "ok"}
                settle_bases(state, merged, failed)
                persist(self.store, state)
        finally:
            shared.close()
            for connector in self.connectors.values():
                conn_report = self.report.connections[connector.name]
                conn_report.api_calls = connector.api_calls()
                conn_report.waited = {k: round(v, 2) for k, v in connector.waits().items() if v}
                connector.close()
            self.report.entities = self._entity_counts()
            self.report.finished_at = utcnow().isoformat()
            self.report.duration_seconds = round(time.monotonic() - clock, 3)
            self.report.status = self._overall_status()
            if run_id is not None:
                self._finish_run(run_id)
        return self.report

    # -- run bookkeeping --------------------------------------------------------------------
    @contextmanager
    def _phase(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        log.info("%s: %s", name, STAGES.get(name, "started"))
        try:
            yield
        finally:  # a stage entered twice (load, after a quiet check failed) adds up
            spent = time.perf_counter() - started + self.report.phases.get(name, 0.0)
            self.report.phases[name] = round(spent, 4)
            log.info("%s: done in %.2fs", name, self.report.phases[name])

    def _load_state(self) -> WorkingState:
        state = load_state(self.store)
        mark_entities(state)
        self._share_stored_links(state)
        return state

    # -- quiet runs and incremental reconcile (sync/quiet.py) -------------------------------
    def _converged(self) -> Previous | None:
        """The converged run this one may stand on, or None when it must do the whole work."""
        self.report.inputs = inputs_fingerprint(self.loaded, list(self.connectors))
        self.report.today = self._today().isoformat()
        self.previous = previous_run(self.store)
        opts = self.options
        if opts.full or opts.window is not None or opts.extra or self.previous is None:
            return None
        if any(c.status != "ok" for c in self.report.connections.values()):
            return None
        if not self.previous.converged_with(self.report.inputs, self._today()):
            return None
        return None if people_waiting(self.store) else self.previous

    def _reconcile_scope(self, state: WorkingState) -> set[str] | None:
        """The entities whose fields may decide differently this run; None: all of them.

        After a run that settled under the same inputs, an entity none of whose links changed
        has every base equal to what its tools hold, so its merge can only say "unchanged".
        Held conflicts are decided again every run, and a person's resolution is applied.
        """
        opts = self.options
        if opts.full or opts.window is not None or opts.extra or self.previous is None:
            return None
        if not self.previous.settled_with(self.report.inputs):
            return None
        scope = {
            link.canonical_id
            for link in (*state.links.values(), *state.tombstoned.values())
            if link.dirty or link.id is None
        }
        scope.update(e.id for e in state.entities.values() if e.new or e.dirty)
        scope.update(canonical_id for canonical_id, _field in self.overrides)
        scope.update(open_conflict_entities(self.store))
        return scope

    def _unchanged(self, pulled: dict[str, Pulled]) -> Echoes | None:
        if any(c.status != "ok" for c in self.report.connections.values()):
            return None  # a failed pull: the whole run reports and plans around it
        return unchanged(
            self.store,
            {name: p.records for name, p in pulled.items()},
            self.loaded.config.sync.identity,
            unique_in=self._unique_in(),
        )

    def _quiet(
        self,
        converged: Previous,
        pulled: dict[str, Pulled],
        echoes: Echoes,
        run_id: int | None,
        started: datetime,
    ) -> None:
        """Nothing changed since a converged run: record the listing, keep its analysis."""
        self.report.analysis_run = converged.analysis_run
        self.report.schedule = converged.report.get("schedule") or {}
        self.report.rollups = converged.report.get("rollups") or {}
        self.report.quiet_since = converged.run_id
        # still open and unchanged: reported again (and `sync` still exits 7 for them)
        self.report.conflicts = converged.held_conflicts
        self._report_ambiguous(echoes.ambiguous)
        if self.options.dry_run or run_id is None:
            return
        with self._phase("commit"), self.store.session() as session:
            record_echoes(session, echoes)
            self._commit_listing(session, pulled, run_id, started, utcnow())

    def _start_run(self, started: datetime) -> int:
        with self.store.session() as session:
            # We hold the run lock, so a run still marked running was killed mid-way; with
            # workers sharing the store, only one past any run's lease (another may be live)
            stale = update(models.Run).where(models.Run.status == "running")
            lease = lease_seconds(self.loaded.config.sync.max_run_seconds)
            if not self.lock.exclusive and lease is not None:
                stale = stale.where(models.Run.started_at < started - timedelta(seconds=lease))
            elif not self.lock.exclusive:
                stale = stale.where(false())
            session.execute(stale.values(status="interrupted"))
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
        with self.store.sessions() as session:
            rows = session.execute(
                select(models.Entity.entity_type, func.count()).group_by(models.Entity.entity_type)
            )
            return {entity_type: count for entity_type, count in rows}

    # -- connectors and pull ----------------------------------------------------------------
    def _build_connectors(self) -> None:
        config = self.loaded.config
        names = sorted({m.connection for m in self.loaded.mappings.values()})
        if self.options.only:
            unknown = set(self.options.only) - set(config.connections)
            if unknown:
                raise ConfigError(f"unknown connection(s): {', '.join(sorted(unknown))}")
            unmapped = sorted(set(self.options.only) - set(names))
            if unmapped:
                raise ConfigError(
                    f"connection(s) {', '.join(unmapped)} have no team mapping in "
                    f"{self.loaded.path}: add a team (teams: NAME: connection, mapping)"
                )
            names = [n for n in names if n in self.options.only]
        if not names and not self.options.extra:
            raise ConfigError(
                f"{self.loaded.path} has no teams, so there is nothing to sync: add one under "
                "'teams:' naming a connection and its mapping file"
            )
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

    def _suggest_full(self) -> None:
        """Jira and Airtable listings only tell deletions on a --full run: say when one is due."""
        if self.options.full or self.options.window is not None or self.options.extra:
            return  # a file import reads its files whole; deletions there need no --full
        days = self.loaded.config.sync.full_run_days
        last = last_full_run(self.store)
        if last is None or utcnow() - last > timedelta(days=days):
            when = f"on {last.date().isoformat()}" if last else "never"
            self.report.notices.append(
                f"the last --full run was {when}: run `pmo-sync sync --full` (at least every "
                f"{days} days, sync.full_run_days) so records deleted in Jira or Airtable are "
                "tombstoned"
            )

    def _fail(self, name: str, exc: PmoSyncError) -> None:
        conn_report = self.report.connections[name]
        conn_report.status = "failed"
        conn_report.error = redact(str(exc))
        conn_report.error_kind = _error_kind(exc)
        # the report carries the error (the CLI prints it); the log keeps a trace for -v
        log.info("%s", exc)

    def _pull(self, state: WorkingState) -> dict[str, Pulled]:
        results, failures = pull_all(
            self.connectors,
            state.cursors,
            full=self.options.full,
            window=self.options.window,
            progress=self.options.progress,
        )
        for name, exc in failures.items():
            self._fail(name, exc)
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
        for connector in self.options.extra:  # e.g. two plans sharing a GUID, kept apart
            self.report.notices.extend(getattr(connector, "notices", ()))
        return results

    def _share_stored_links(self, state: WorkingState) -> None:
        """A one-off import sees what its earlier imports stored (which plan holds which id)."""
        for connector in self.options.extra:
            receive = getattr(connector, "stored_links", None)
            if callable(receive):
                receive([lk for lk in state.links.values() if lk.connection == connector.name])

    def _identify(self, state: WorkingState, pulled: dict[str, Pulled]) -> None:
        records = {name: result.records for name, result in pulled.items()}
        stats = ingest(
            state,
            records,
            self.loaded.config.sync.identity,
            unique_in=self._unique_in(),
        )
        for name in pulled:
            self.report.connections[name].new = stats.new[name]
            self.report.connections[name].changed = stats.changed[name]
        self._report_ambiguous(stats.ambiguous)
        if stats.recovered:
            self.report.notices.append(
                f"{stats.recovered} record(s) re-joined by the pmo-sync ids the tools carry "
                "(the store did not know them)"
            )
        self.report.unresolved_references = stats.unresolved_references
        self._tombstone(state, pulled, stats.revived)

    def _unique_in(self) -> set[str]:
        """The connections in which an identity key must be unique (not one-off file imports):
        for ingest and for the quiet test alike."""
        return set(self.loaded.config.connections)

    def _report_ambiguous(self, ambiguous: Sequence[Quarantined]) -> None:
        for q in ambiguous:  # two records, one identity key, one tool (#11 item 5)
            self.report.connections[q.connection].quarantined += 1
            self.report.quarantined.append(
                {
                    "connection": q.connection,
                    "entity_type": q.entity_type.value,
                    "external_id": q.external_id,
                    "reason": q.reason,
                }
            )

    def _tombstone(
        self, state: WorkingState, pulled: dict[str, Pulled], back: list[LinkState]
    ) -> None:
        """Deletions the complete listings of this run show (see sync/tombstones.py)."""
        extra = {c.name for c in self.options.extra}
        listings = []
        for name, result in pulled.items():
            caps = self.capabilities[name]
            listing = Listing(
                name,
                # a file import lists its files only, never the connection's every record
                whole=self.options.full and self.options.window is None and name not in extra,
                covers=frozenset(caps.readable),
                whole_children=caps.whole_children,
            )
            listing.add(result.records)
            listing.add(result.quarantined)
            listings.append(listing)
        marked = tombstone(state, listings, utcnow())
        self.report.tombstoned = [t.to_dict() for t in marked]
        self.report.revived = [t.to_dict() for t in revived(state, back)]
        self.report.unresolved_names = resolve_named(state).unresolved

    # -- reconcile ----------------------------------------------------------------------------
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

    # -- analyse ----------------------------------------------------------------------------
    def _today(self) -> date:
        if self.options.today:
            return self.options.today
        return datetime.now(ZoneInfo(self.loaded.config.portfolio.timezone)).date()

    def _analyse(self, state: WorkingState) -> None:
        """Computed project fields: next milestone, overdue count, RAG and a status line;
        the portfolio schedule and dependency checks (sync/analyse.py)."""
        # The analysis stack (networkx, CPM, checks, roll-ups) is imported here, not with the
        # engine: a quiet run never analyses, and the imports were a third of its start.
        from pmosync.analysis.milestones import consolidate, milestone_views, overdue_by_project
        from pmosync.analysis.rag import project_rag, status_line
        from pmosync.sync.analyse import report_section, run_analysis
        from pmosync.sync.rollups import record_history, rules_from, run_rollups

        today = self._today()
        self.schedule = run_analysis(state, today=today, portfolio=self.loaded.config.portfolio)
        self.report.schedule = report_section(self.schedule)
        live = [e for e in state.entities.values() if not e.tombstoned]  # deleted: not counted
        # an external stub (a plan standing for another one) has no RAG of its own
        projects = [
            e.id
            for e in live
            if e.entity_type is EntityType.PROJECT and not e.values.get("external")
        ]
        views = milestone_views(
            (e.entity_type.value, e.values)
            for e in live
            if e.entity_type in (EntityType.MILESTONE, EntityType.WORK_ITEM)
        )
        overdue = overdue_by_project(views, today)
        for project_id, values in consolidate(projects, views, today).items():
            entity = state.entities[project_id]
            merged = {**entity.values, **values}
            result = project_rag(merged, overdue.get(project_id, []), today)
            values = {
                **values,
                "rag_computed": result.rag,
                "pmo_status": status_line(merged, result),
            }
            if any(entity.values.get(k, MISSING) != v for k, v in values.items()):
                entity.values = {**entity.values, **values}
                entity.dirty = True
        # programme and portfolio roll-ups from the projects' fresh status (sync/rollups.py)
        rules = rules_from(self.loaded.config.portfolio)
        rolled = run_rollups(state, getattr(self, "schedule", None), today, rules)
        self.report.rollups = {"programmes": rolled.programmes, "portfolio": rolled.portfolio}
        keeps = self._create_types(list(self.connectors))
        if any(EntityType.STATUS_REPORT in types for types in keeps.values()):
            record_history(state, today)  # one row per project whose status changed

    # -- plan and commit ---------------------------------------------------------------------
    def _plan(self, state: WorkingState, merged: Reconciliation) -> list[PlannedWrite]:
        from pmosync.sync.analyse import remote_link_connections  # with the analysis (above)
        from pmosync.sync.rollups import plan_history

        healthy = [n for n, c in self.report.connections.items() if c.status == "ok"]
        writes = plan_writes(state, self.capabilities, healthy, merged.held).writes
        # a record someone deleted in a tool is not created there again, except once when a
        # write of ours found it deleted (sync/tombstones.py CreateRule)
        rule = create_rule(state, found_on_write(self.store))
        creates = plan_creates(state, self.capabilities, self._create_types(healthy)).writes
        creates = [rule.mark(w) for w in creates if rule.allows(w)]
        if notice := recreated_notice(creates, rule, state):
            self.report.notices.append(notice)
        writes += creates
        writes += plan_history(state, self.capabilities, self._create_types(healthy))
        if self.schedule is not None:
            locate = locator(self.loaded, state, self.schedule.graph.describe)
            targets = [n for n in remote_link_connections(self.loaded) if n in healthy]
            writes += plan_cross_links(state, targets, locate).writes
        writes, skipped = skip_dropped(self.store, writes)  # `pmo-sync outbox drop`
        if skipped:
            self.report.notices.append(f"{skipped} dropped write(s) left out (outbox list)")
        self._annotate(writes, merged)
        label_plan(state, self.report.plan, self.report.conflicts)  # names, not remote ids
        # what the next plan will hold because of this one: the next run is quiet only when
        # nothing is (sync/deferred.py, sync/quiet.py)
        cross = [n for n in remote_link_connections(self.loaded) if n in healthy]
        types = self._create_types(healthy)
        deferred = left_for_later(state, writes, self.capabilities, types, merged.held, cross)
        self.report.deferred = deferred
        if deferred:
            self.report.notices.append(
                f"{len(deferred)} write(s) left for the next run: {deferred[0]['reason']}"
                + (" (--json lists them all)" if len(deferred) > 1 else "")
            )
        for write in writes:
            self.report.connections[write.connection].writes_planned += 1
        return writes

    def _annotate(self, writes: list[PlannedWrite], merged: Reconciliation) -> None:
        for write in writes:
            for change in write.changes:
                decision = merged.decisions.get((write.canonical_id, change.field))
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

    def _commit_pull(
        self,
        state: WorkingState,
        pulled: dict[str, Pulled],
        writes: list[PlannedWrite],
        run_id: int,
        started: datetime,
    ) -> None:
        """Commit point: what was read, the new cursors and the journaled writes, atomically."""
        now = utcnow()
        with self.store.session() as session:
            persist(self.store, state, session)
            self._commit_listing(session, pulled, run_id, started, now)
            record_conflicts(session, self.report.conflicts, self.overrides, run_id, now)
            journal(session, writes, run_id, now)
            if self.schedule is not None:
                self._record_analysis(session, self.schedule, run_id)

    def _record_analysis(self, session: Session, analysis: ScheduleAnalysis, run_id: int) -> None:
        """Store the schedule and findings, unless they equal the standing analysis: then
        this run names that run's rows (tens of thousands a run otherwise)."""
        from pmosync.sync.analyse import analysis_digest, record_analysis

        digest = analysis_digest(analysis)
        self.report.analysis_digest = digest
        previous = self.previous
        if previous is not None and previous.report.get("analysis_digest") == digest:
            self.report.analysis_run = previous.analysis_run
            return
        record_analysis(session, analysis, run_id)

    def _commit_listing(
        self,
        session: Session,
        pulled: dict[str, Pulled],
        run_id: int,
        started: datetime,
        now: datetime,
    ) -> None:
        """The new cursors and this run's quarantined records (in the caller's transaction)."""
        for name, result in pulled.items():
            for scope in result.scopes:
                if self.options.window is not None:
                    break  # a backfill reads history; the incremental cursor stays put
                # Never past the run's start: later edits are re-read next time.
                save_cursor(session, name, scope, started)
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
