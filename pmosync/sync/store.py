"""The store: SQLite by default, PostgreSQL by URL; schema through alembic migrations."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, select, text
from sqlalchemy.exc import ArgumentError, OperationalError, ProgrammingError
from sqlalchemy.orm import Session, sessionmaker

from pmosync import fastjson
from pmosync.errors import ConfigError
from pmosync.sync import models

MIGRATIONS = Path(__file__).parent / "migrations"
MIGRATE_KEY = 0x706D6F6D  # PostgreSQL advisory lock serialising migrations ("pmom")
# The newest migration (tests/sync/test_store.py holds it to alembic's own head): a store
# already there is opened without importing alembic, a third of a quiet run's start.
SCHEMA_HEAD = "0003"


def utcnow() -> datetime:
    return datetime.now(UTC)


def aware(value: datetime | None) -> datetime | None:
    """SQLite drops tzinfo; everything we store is UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def redact_url(url: str) -> str:
    """The URL without its password, for messages."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable store URL>"


class Store:
    """Owns the engine and sessions; ``Store.open(url)`` migrates to the newest schema."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.sessions = sessionmaker(engine, expire_on_commit=False)

    @classmethod
    def open(cls, url: str, *, migrate: bool = True) -> Store:
        """Open (and by default migrate) the store.

        Raises:
            ConfigError: the URL is invalid or the database cannot be reached.
        """
        try:
            # the JSON columns are written with orjson (pmosync/fastjson.py): the commit of a
            # portfolio spent a third of its time in json.dumps
            engine = create_engine(url, future=True, json_serializer=fastjson.dumps)
        except (ArgumentError, ImportError) as exc:
            raise ConfigError(f"store.url {redact_url(url)!r}: {exc}") from None
        if engine.dialect.name == "sqlite":
            event.listen(engine, "connect", _sqlite_pragmas)
            database = engine.url.database
            if database and database != ":memory:":
                Path(database).parent.mkdir(parents=True, exist_ok=True)
                _private_file(Path(database))
        store = cls(engine)
        if migrate:
            store.migrate()
        return store

    def migrate(self, revision: str = "head") -> None:
        if revision == "head" and self.revision() == SCHEMA_HEAD:
            return
        from alembic import command
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        try:
            with self.engine.begin() as connection:
                if connection.dialect.name == "postgresql":
                    # workers sharing a store may open a new one at once: one migrates, the
                    # others wait for its transaction and find the schema current
                    connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": MIGRATE_KEY})
                config.attributes["connection"] = connection
                command.upgrade(config, revision)
        except OperationalError as exc:
            raise ConfigError(
                f"cannot open the store {redact_url(str(self.engine.url))}: {exc.orig}"
            ) from None

    def revision(self) -> str | None:
        """The store's schema revision (None: a new store, or one alembic never stamped)."""
        try:
            with self.engine.connect() as connection:
                return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
        except OperationalError:
            return None  # no such table (yet), or no database: migrate() says which
        except ProgrammingError:
            return None  # PostgreSQL: no such table

    @contextmanager
    def session(self) -> Iterator[Session]:
        """One transaction: committed on success, rolled back on any error."""
        with self.sessions() as session, session.begin():
            yield session

    def close(self) -> None:
        self.engine.dispose()

    # -- small queries used by the CLI ------------------------------------------------------
    def runs(self, limit: int = 20) -> list[models.Run]:
        with self.sessions() as session:
            rows = session.scalars(select(models.Run).order_by(models.Run.id.desc()).limit(limit))
            return list(rows)

    def open_conflicts(self) -> list[models.Conflict]:
        with self.sessions() as session:
            query = select(models.Conflict).where(models.Conflict.status == "open")
            return list(session.scalars(query.order_by(models.Conflict.id)))

    def resolve_conflict(self, conflict_id: int, value: Any) -> models.Conflict:
        """Record a person's decision; the next run writes it everywhere.

        Raises:
            ConfigError: no open conflict has that id.
        """
        with self.session() as session:
            row = session.get(models.Conflict, conflict_id)
            if row is None or row.status != "open":
                raise ConfigError(
                    f"no open conflict #{conflict_id} (see `pmo-sync conflicts list`)"
                )
            row.status = "resolved"
            row.resolution = {"value": value, "resolved_at": utcnow().isoformat()}
            return row

    def cursor(self, connection: str, scope: str) -> datetime | None:
        with self.sessions() as session:
            row = session.get(models.Cursor, (connection, scope))
            return aware(row.value) if row else None

    def link_count(self) -> int:
        with self.sessions() as session:
            return len(list(session.scalars(select(models.Link.id))))


def _private_file(path: Path) -> None:
    """The store holds the whole portfolio: create it owner-only (SQLite gives its journal and
    WAL files the database file's mode) and take world access away from an older one."""
    import os
    import stat

    try:
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & stat.S_IRWXO:
            os.chmod(path, mode & ~stat.S_IRWXO)
    except OSError:
        pass  # a read-only location: SQLite reports it when it opens the file
