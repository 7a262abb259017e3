"""One run at a time per store: a file lock for SQLite, an advisory lock for PostgreSQL.

A run holds the lock for at most ``max_seconds`` (``sync.max_run_seconds``) plus a grace
period. A run that outlives that is hung (a stopped or wedged process) and must not hold the
lock forever:

* SQLite: the lock file says which process holds it and until when. A later run that finds
  the lease expired ends the holder (SIGKILL: it is stopped or wedged, and every write is
  journaled in the outbox, so a kill loses nothing; the next run re-plans) and takes over.
* PostgreSQL: the lock's session has ``idle_session_timeout`` set to the lease, so the server
  itself ends a session (and its advisory lock) whose process stopped talking to it.

Several workers on one PostgreSQL store (Kubernetes CronJobs, cron on several hosts): each run
takes an advisory lock **per connection** it syncs, so two workers never pull or write the same
connection (a connection another worker holds: exit 4, naming it). The stages that read and
write the store's shared rows (identify, reconcile, analyse and roll-ups, plan, commit, apply,
settle) run under one more, store-wide advisory lock that a worker waits for
(``RunLock.store_stages``), and the worker reloads the store once it has it: pulls (the slow,
rate-limited part) run side by side, and every worker's analysis sees every other worker's
committed records. SQLite keeps one store-wide lock for the whole run.
"""

from __future__ import annotations

import fcntl
import logging
import math
import os
import signal
import time
import zlib
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import IO

from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError

from pmosync.errors import LockedError
from pmosync.sync.store import Store

log = logging.getLogger("pmosync.sync")

# Beyond its own deadline a run gets this long to wind down before it counts as hung.
GRACE_SECONDS = 60.0
_TAKEOVER_WAIT_SECONDS = 10.0


def lease_seconds(max_seconds: float | None) -> float | None:
    """How long a holder may keep the lock; None: no lease."""
    if max_seconds is None or not math.isfinite(max_seconds):
        return None
    return max_seconds + min(GRACE_SECONDS, max_seconds)


class RunLock:
    """What a run holds; ``store_stages`` serialises the stages that write shared rows."""

    # the run holds the whole store (no other run is live)
    exclusive = True

    def store_stages(self) -> AbstractContextManager[bool]:
        """Held around the stages after the pull; True: workers share the store (reload it)."""
        return nullcontext(False)  # the whole run already holds the store's only lock


@contextmanager
def run_lock(
    store: Store,
    name: str = "pmo-sync",
    *,
    max_seconds: float | None = None,
    connections: Iterable[str] | None = None,
) -> Iterator[RunLock]:
    """Hold the store's run lock for the duration of the block.

    ``connections``: on PostgreSQL, lock only these (one advisory lock each) and serialise the
    shared stages through the returned RunLock; None locks the whole store as before.

    Raises:
        LockedError: another run holds it (the cron wrapper should just try next time).
    """
    lease = lease_seconds(max_seconds)
    dialect = store.engine.dialect.name
    if dialect == "postgresql":
        if connections is None:
            with _pg_lock(store, [(name, False)], lease):
                yield RunLock()
            return
        # the store lock shared (a whole-store run excludes every worker), then each connection
        keys = [(name, True)] + [
            (f"{name}:connection:{c}", False) for c in sorted(set(connections))
        ]
        with _pg_lock(store, keys, lease):
            yield _PgWorkerLock(store, f"{name}:store-stages", max_seconds)
        return
    database = store.engine.url.database
    if dialect != "sqlite" or not database or database == ":memory:":
        yield RunLock()
        return
    path = Path(database + ".lock")
    handle = path.open("a+")
    try:
        _flock(handle, path)
        handle.seek(0)
        handle.truncate()
        until = time.time() + lease if lease is not None else math.inf
        handle.write(f"{os.getpid()} {until}")
        handle.flush()
        yield RunLock()
    finally:
        handle.close()


def _flock(handle: IO[str], path: Path) -> None:
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        return
    except BlockingIOError:
        pass
    holder, until = _lease_of(path)
    if holder is None or time.time() <= until:
        when = "" if not math.isfinite(until) else f" (its lease runs {until - time.time():.0f}s)"
        raise LockedError(f"another pmo-sync run holds {path}{when}")
    log.warning(
        "the run holding %s (process %s) is %.0fs past its deadline: ending it and taking over",
        path,
        holder,
        time.time() - until,
    )
    _end(holder)
    deadline = time.monotonic() + _TAKEOVER_WAIT_SECONDS
    while True:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() > deadline:
                raise LockedError(
                    f"the hung run holding {path} (process {holder}) did not let go"
                ) from None
            time.sleep(0.05)


def _lease_of(path: Path) -> tuple[int | None, float]:
    """(pid, lease end) from the lock file; a file from an older release has no lease."""
    try:
        pid_text, _, until_text = path.read_text().strip().partition(" ")
        return int(pid_text), float(until_text) if until_text else math.inf
    except (OSError, ValueError):
        return None, math.inf


def _end(pid: int) -> None:
    """SIGKILL a hung pmo-sync run (a stopped process cannot handle SIGTERM)."""
    if pid == os.getpid():
        return
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
    except OSError:
        cmdline = b""  # no /proc (macOS) or already gone: the kill below says which
    if cmdline and b"pmo" not in cmdline and b"pytest" not in cmdline:
        return  # the pid was reused by another program: never touch it
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    except PermissionError:
        log.warning("cannot end process %s (another user's): it keeps the lock", pid)


def _key(name: str) -> int:
    return zlib.crc32(name.encode())


@contextmanager
def _pg_session(store: Store, lease: float | None) -> Iterator[Connection]:
    with store.engine.connect() as connection:
        if lease is not None:
            try:  # PostgreSQL 14+: the server ends the session of a process that went silent
                connection.execute(
                    text(f"SET idle_session_timeout = {int(lease * 1000)}")  # noqa: S608
                )
                connection.commit()
            except DBAPIError:
                connection.rollback()  # older servers: the lock is held as before
        yield connection


def _pg_unlock(connection: Connection, keys: Iterable[tuple[str, bool]]) -> None:
    for name, shared in reversed(list(keys)):
        unlock = "pg_advisory_unlock_shared" if shared else "pg_advisory_unlock"
        try:
            connection.execute(text(f"SELECT {unlock}(:k)"), {"k": _key(name)})  # noqa: S608
            connection.commit()
        except DBAPIError:
            return  # the server ended the session: the locks went with it


@contextmanager
def _pg_lock(store: Store, names: list[tuple[str, bool]], lease: float | None) -> Iterator[None]:
    """Every named advisory lock (name, shared), or none: LockedError names the one held."""
    with _pg_session(store, lease) as connection:
        held: list[tuple[str, bool]] = []
        try:
            for name, shared in names:
                take = "pg_try_advisory_lock_shared" if shared else "pg_try_advisory_lock"
                got = connection.execute(
                    text(f"SELECT {take}(:k)"),  # noqa: S608
                    {"k": _key(name)},
                ).scalar()
                connection.commit()
                if not got:
                    raise LockedError(_held_message(name))
                held.append((name, shared))
            yield
        finally:
            _pg_unlock(connection, held)


def _held_message(name: str) -> str:
    _, _, connection = name.partition(":connection:")
    if connection:
        return f"another pmo-sync run (a worker on this store) is syncing connection {connection}"
    return "another pmo-sync run holds the lock on this store"


# A worker waiting for the shared stages polls this often (pg_try_advisory_lock: a waiting
# worker never blocks inside the server, and stops at its own deadline).
_STAGES_POLL_SECONDS = 0.2


class _PgWorkerLock(RunLock):
    exclusive = False  # other workers' runs may be live

    def __init__(self, store: Store, name: str, max_seconds: float | None) -> None:
        self.store = store
        self.name = name
        self.max_seconds = max_seconds

    @contextmanager
    def _held(self) -> Iterator[bool]:
        wait = self.max_seconds if self.max_seconds is not None else math.inf
        deadline = time.monotonic() + wait
        with _pg_session(self.store, lease_seconds(self.max_seconds)) as connection:
            while not connection.execute(
                text("SELECT pg_try_advisory_lock(:k)"), {"k": _key(self.name)}
            ).scalar():
                connection.commit()
                if time.monotonic() > deadline:
                    raise LockedError(
                        "another pmo-sync worker kept this store's shared stages longer than "
                        "sync.max_run_seconds"
                    )
                time.sleep(_STAGES_POLL_SECONDS)
            connection.commit()
            try:
                yield True
            finally:
                _pg_unlock(connection, [(self.name, False)])

    def store_stages(self) -> AbstractContextManager[bool]:
        return self._held()
