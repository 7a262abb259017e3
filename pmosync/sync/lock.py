"""One run at a time per store: a file lock for SQLite, an advisory lock for PostgreSQL."""

from __future__ import annotations

import fcntl
import os
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import text

from pmosync.errors import LockedError
from pmosync.sync.store import Store


@contextmanager
def run_lock(store: Store, name: str = "pmo-sync") -> Iterator[None]:
    """Hold the store's run lock for the duration of the block.

    Raises:
        LockedError: another run holds it (the cron wrapper should just try next time).
    """
    dialect = store.engine.dialect.name
    if dialect == "postgresql":
        key = zlib.crc32(name.encode())
        with store.engine.connect() as connection:
            got = connection.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar()
            if not got:
                raise LockedError("another pmo-sync run holds the lock on this store")
            try:
                yield
            finally:
                connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                connection.commit()
        return
    database = store.engine.url.database
    if dialect != "sqlite" or not database or database == ":memory:":
        yield
        return
    path = Path(database + ".lock")
    handle = path.open("a+")
    try:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise LockedError(f"another pmo-sync run holds {path}") from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        yield
    finally:
        handle.close()
