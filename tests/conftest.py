"""Shared fixtures: a store URL on SQLite and (when available) on PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import fixture_dirs

PG_URL = os.environ.get("PMOSYNC_TEST_PG_URL")
REQUIRE_PG = os.environ.get("PMOSYNC_REQUIRE_PG") == "1"
# Everything the tests read lives in the repository (tests/fixture_dirs.py says where, and how
# PMOSYNC_FIXTURES_DIR points the suite at another copy).
FIXTURES_DIR = fixture_dirs.FIXTURES_DIR


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    return FIXTURES_DIR


def _pg_database() -> Iterator[str]:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    assert PG_URL
    name = f"pmosync_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty store: a SQLite file, then a new PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
        return
    if not PG_URL:
        if REQUIRE_PG:
            pytest.fail("PMOSYNC_REQUIRE_PG=1 but PMOSYNC_TEST_PG_URL is not set")
        pytest.skip("set PMOSYNC_TEST_PG_URL to run the store tests on PostgreSQL")
    yield from _pg_database()


@pytest.fixture(autouse=True)
def _no_ambient_ca_bundle(monkeypatch: pytest.MonkeyPatch) -> None:
    # Some machines export REQUESTS_CA_BUNDLE; tests must prove our own CA handling works.
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
