"""Apply through the outbox: each write is journaled before it is sent and marked after.

A run that dies between the two leaves ``pending`` rows; the next run re-plans from the
store and supersedes them, and because every write is an upsert on a key (or an edit of a
known record), sending it again cannot duplicate anything.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.orm import Session

from pmosync.canonical_model import ENTITY_CLASSES, Changeset, PlannedWrite, WriteResult
from pmosync.connectors.base import Capabilities, Connector
from pmosync.errors import FatalConnectorError, PmoSyncError, RetriableError
from pmosync.redact import redact
from pmosync.sync import models
from pmosync.sync.plan import canonical_value
from pmosync.sync.report import RunReport
from pmosync.sync.state import LinkState, WorkingState, persist
from pmosync.sync.store import Store, utcnow

log = logging.getLogger("pmosync.sync")

APPLY_CHUNK = 100


def journal(session: Session, writes: Sequence[PlannedWrite], run_id: int, now: datetime) -> None:
    """Record the planned writes as pending (in the caller's transaction)."""
    # Rows a dead run left pending are re-planned from the state, not replayed blindly.
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
                "changes": [{"field": c.field, "old": c.old, "new": c.new} for c in w.changes]
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


@dataclass
class _Pushed:
    """One chunk's answer from a connection's pushing thread (or why it stopped)."""

    name: str
    chunk: Sequence[PlannedWrite]
    left: int  # writes not yet recorded, this chunk's included
    results: Sequence[WriteResult] | None = None
    error: PmoSyncError | None = None
    sent: bool = True  # False: stopped at the deadline before sending it
    recorded: threading.Event = field(default_factory=threading.Event)


def apply_writes(
    store: Store,
    state: WorkingState,
    writes: Sequence[PlannedWrite],
    connectors: Mapping[str, Connector],
    report: RunReport,
    *,
    deadline: float | None = None,
    capabilities: Mapping[str, Capabilities] | None = None,
) -> dict[str, PmoSyncError]:
    """Push each connection's writes in chunks; returns the connections that failed.

    The connections are pushed at once, one thread each: their tools are independent, and a
    run's apply otherwise waits for the sum of every tool's pacing and queue jobs instead of
    the slowest. Within a connection nothing changes: a chunk is sent only once the previous
    one is recorded, and only this thread touches the store and the state.

    Past ``deadline`` (``time.monotonic()``; sync.max_run_seconds) no further chunk is sent:
    the rest stays pending in the outbox and the next run re-plans it, so a slow tool never
    keeps a run (and its lock) going without end.

    ``capabilities`` name the fields each tool reads: what a create left empty is recorded
    as empty there (see ``_record_results``).
    """
    failures: dict[str, PmoSyncError] = {}
    batches = Changeset(list(writes)).by_connection()
    if not batches:
        return failures
    answers: queue.Queue[_Pushed | str] = queue.Queue()
    stop = threading.Event()
    with ThreadPoolExecutor(max_workers=len(batches), thread_name_prefix="apply") as pool:
        for name, batch in batches.items():
            pool.submit(_push_connection, connectors[name], batch, deadline, answers, stop)
        try:
            running = len(batches)
            while running:
                answer = answers.get()
                if isinstance(answer, str):  # that connection's thread is done
                    running -= 1
                    continue
                _take(store, state, answer, report, failures, capabilities or {})
                answer.recorded.set()
        finally:
            stop.set()  # a failure here must not leave threads waiting to be recorded
    return failures


def _push_connection(
    connector: Connector,
    batch: Sequence[PlannedWrite],
    deadline: float | None,
    answers: queue.Queue[_Pushed | str],
    stop: threading.Event,
) -> None:
    """A connection's chunks in order, each sent once the previous one is recorded."""
    name = connector.name
    try:
        for start in range(0, len(batch), APPLY_CHUNK):
            chunk = batch[start : start + APPLY_CHUNK]
            answer = _Pushed(name, chunk, len(batch) - start)
            if deadline is not None and time.monotonic() > deadline:
                answer.sent = False
                answer.error = RetriableError(
                    f"run deadline (sync.max_run_seconds) reached: {answer.left} "
                    "write(s) left for the next run",
                    connection=name,
                )
                answers.put(answer)
                return
            try:
                answer.results = connector.push(chunk)
            except Exception as exc:  # the rest stays pending for the next run
                error = exc if isinstance(exc, PmoSyncError) else None
                if error is None:
                    log.exception("writing to %s failed unexpectedly", name)
                    error = FatalConnectorError(
                        f"internal error: {redact(repr(exc))[:500]}", connection=name
                    )
                answer.error = error
                answers.put(answer)
                return
            answers.put(answer)
            while not answer.recorded.wait(0.5):
                if stop.is_set():
                    return
    finally:
        answers.put(name)


def _take(
    store: Store,
    state: WorkingState,
    answer: _Pushed,
    report: RunReport,
    failures: dict[str, PmoSyncError],
    capabilities: Mapping[str, Capabilities],
) -> None:
    """Record one chunk's answer, or why its connection stopped."""
    if answer.error is None and answer.results is not None:
        _record_results(store, state, answer.chunk, answer.results, report, capabilities)
        return
    assert answer.error is not None
    failures[answer.name] = answer.error
    if not answer.sent:
        return  # the rows stay pending for the next run
    report.connections[answer.name].writes_failed += answer.left
    _mark_failed(store, answer.chunk, str(answer.error))


def _record_results(
    store: Store,
    state: WorkingState,
    chunk: Sequence[PlannedWrite],
    results: Sequence[WriteResult],
    report: RunReport,
    capabilities: Mapping[str, Capabilities] | None = None,
) -> None:
    """One transaction per chunk: outbox rows marked, links hold what the tool now holds."""
    conn_report = report.connections[chunk[0].connection]
    caps = (capabilities or {}).get(chunk[0].connection)
    now = utcnow()
    with store.session() as session:
        for write, result in zip(chunk, results, strict=True):
            if write.op == "create" and result.ok and result.external_id:
                key = (write.connection, write.entity_type.value, result.external_id)
                if key not in state.links and key in state.tombstoned:
                    # an upsert answered with a record we had tombstoned (a Jira remote link
                    # on its globalId): the same link comes back, never a second row for it
                    revived = state.tombstoned.pop(key)
                    revived.deleted_at = None
                    revived.canonical_id = write.canonical_id
                    revived.dirty = True
                    state.links[key] = revived
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
            if not result.ok and result.gone:
                # deleted in the tool while we held a change for it: tombstone the link once
                # (the next plan re-creates it where the mapping has create_missing), never a
                # write that fails on every run
                _found_deleted(state, write, result.gone, now, report)
                session.execute(
                    update(models.Outbox)
                    .where(models.Outbox.id == write.outbox_id)
                    .values(
                        status="superseded",
                        last_error=f"deleted in {write.connection}: {result.error or ''}"[:2000],
                        attempts=models.Outbox.attempts + 1,
                        updated_at=now,
                    )
                )
                continue
            if result.ok and link is not None:
                conn_report.writes_applied += 1
                values = {c.field: canonical_value(state, write, c) for c in write.changes}
                if write.op == "create":
                    # A reference left out of a create (its target was not in this tool yet) is
                    # empty there: known so, the empty read-back is no edit that could overwrite
                    # another tool's value, and the next plan fills the reference in.
                    for name in ENTITY_CLASSES[write.entity_type].references:
                        values.setdefault(name, None)
                    # So is every other field the tool reads that the create did not set (we
                    # made the record): its echo is no change, and the run right after a
                    # writing one can be quiet (sync/quiet.py). A tool that fills a default
                    # in shows it on that echo, which is then a change, as before.
                    readable = caps.readable.get(write.entity_type, ()) if caps else ()
                    for name in readable:
                        values.setdefault(name, None)
                    # and what we created is this tool's base for the merge: its first read
                    # is compared with what we wrote, not taken as the newest edit
                    for name, value in values.items():
                        state.set_base(write.canonical_id, name, write.connection, value)
                # what we wrote is what the tool holds: the echo on the next pull is no change
                link.remote_values = {**link.remote_values, **values}
                if result.version_token:
                    link.version_token = result.version_token
                link.dirty = True
                status, error = "done", None
            else:
                conn_report.writes_failed += 1
                status, error = "failed", result.error or "write failed"
                report.write_errors.append(
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
        persist(store, state, session)


def _found_deleted(
    state: WorkingState, write: PlannedWrite, external_id: str, now: datetime, report: RunReport
) -> None:
    """Tombstone the link of a record a write found deleted, and say so in the report."""
    from pmosync.sync.tombstones import Tombstone, label_of, mark_entities

    link = next(
        (
            lk
            for lk in state.links.values()
            if lk.connection == write.connection and lk.external_id == external_id
        ),
        None,
    )
    if link is None:
        return  # already tombstoned (reported then)
    state.links.pop(link.key, None)
    link.deleted_at = now
    link.dirty = True
    state.tombstoned[link.key] = link
    mark_entities(state)
    entity = state.entities.get(link.canonical_id)
    report.tombstoned.append(
        {
            **Tombstone(
                link.connection,
                link.entity_type.value,
                link.external_id,
                link.canonical_id,
                label_of(entity.values if entity else {}, link),
                bool(entity and entity.tombstoned),
            ).to_dict(),
            "found": "on write",
        }
    )


def _mark_failed(store: Store, chunk: Sequence[PlannedWrite], error: str) -> None:
    with store.session() as session:
        for write in chunk:
            session.execute(
                update(models.Outbox)
                .where(models.Outbox.id == write.outbox_id)
                .values(status="failed", last_error=error[:2000], updated_at=utcnow())
            )
