"""Opening a store that is already at the newest schema: no migration machinery."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from alembic.config import Config
from alembic.script import ScriptDirectory

from pmosync.sync.store import MIGRATIONS, SCHEMA_HEAD, Store


def test_schema_head_is_alembics_head() -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    assert ScriptDirectory.from_config(config).get_current_head() == SCHEMA_HEAD


def test_a_store_at_the_head_opens_without_alembic(store_url: str, tmp_path: Path) -> None:
    store = Store.open(store_url)  # a new store: migrated to the head
    try:
        assert store.revision() == SCHEMA_HEAD
    finally:
        store.close()
    probe = (
        "import sys\n"
        "from pmosync.sync.store import Store\n"
        f"Store.open({store_url!r}).close()\n"
        "print('alembic' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True
    )
    assert done.stdout.strip() == "False", done.stderr


def test_a_store_behind_the_head_is_migrated(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    old = Store.open(url, migrate=False)
    try:
        old.migrate("0002")
        assert old.revision() == "0002"
    finally:
        old.close()
    store = Store.open(url)
    try:
        assert store.revision() == SCHEMA_HEAD
    finally:
        store.close()
