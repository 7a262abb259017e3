"""One run at a time per store: a file lock for SQLite, an advisory lock for PostgreSQL.

A run holds the lock for at most ``max_seconds`` (``sync.max_run_seconds``) plus a grace
period. A run that outlives that is hung (a stopped or wedged process) and must not hold the
lock forever:

* SQLite: the lock file says which process holds it and until when. A later run that finds
  the lease expired ends the holder (SIGKILL: it is stopped or wedged, and every write is
  journaled in the outbox, so a kill loses nothing; the next run re-plans) and takes over.
* PostgreSQL: the lock's session has ``idle_session_timeout`` set to the lease, so the server
  itself ends a session (and its advisory lock) whose process stopped talking to it.
"""

from __future__ import annotations

import fcntl
import logging
import math
import os
import signal
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from sqlalchemy import text
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


@contextmanager
def run_lock(
    store: Store, name: str = "pmo-sync", *, max_seconds: float | None = None
) -> Iterator[None]:
    """Hold the store's run lock for the duration of the block.

    Raises:
        LockedError: another run holds it (the cron wrapper should just try next time).
    """
    lease = lease_seconds(max_seconds)
    dialect = store.engine.dialect.name
    if dialect == "postgresql":
        with _pg_lock(store, name, lease):
            yield
        return
    database = store.engine.url.database
    if dialect != "sqlite" or not database or database == ":memory:":
        yield
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
        yield
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


@contextmanager
def _pg_lock(store: Store, name: str, lease: float | None) -> Iterator[None]:
    key = zlib.crc32(name.encode())
    with store.engine.connect() as connection:
        if lease is not None:
            try:  # PostgreSQL 14+: the server ends the session of a process that went silent
                connection.execute(
                    text(f"SET idle_session_timeout = {int(lease * 1000)}")  # noqa: S608
                )
                connection.commit()
            except DBAPIError:
                connection.rollback()  # older servers: the lock is held as before
        got = connection.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar()
        connection.commit()
        if not got:
            raise LockedError("another pmo-sync run holds the lock on this store")
        try:
            yield
        finally:
            try:
                connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                connection.commit()
            except DBAPIError:
                pass  # the server ended the session: the lock went with it
