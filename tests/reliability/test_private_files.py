"""Files holding secrets are owner-only from their first byte (issue #11, item 14)."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

from pmosync.private_files import write_private
from pmosync.sandbox.harness import Sandbox


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_sandbox_json_and_secret_files_are_0600_even_over_an_old_0644_file(
    tmp_path: Path,
) -> None:
    directory = tmp_path / "sb"
    directory.mkdir()
    (directory / "sandbox.json").write_text("{}")
    os.chmod(directory / "sandbox.json", 0o644)  # what an earlier release left behind
    with Sandbox("airtable", directory):
        info = json.loads((directory / "sandbox.json").read_text())
        assert info["services"]["pmo_airtable"]["credentials"]["token"]
        assert _mode(directory / "sandbox.json") == 0o600
        assert _mode(directory / "secrets") == 0o700
        for secret in (directory / "secrets").iterdir():
            assert _mode(secret) == 0o600, secret


def test_write_private_never_widens_under_a_permissive_umask(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        write_private(tmp_path / "x.json", "secret")
    finally:
        os.umask(old)
    assert _mode(tmp_path / "x.json") == 0o600
    assert (tmp_path / "x.json").read_text() == "secret"


def test_the_sqlite_store_holding_the_portfolio_is_owner_only(make_slice: object) -> None:
    import pytest

    from pmosync.config.loader import load_config

    slice_ = make_slice()  # type: ignore[operator]
    url = load_config(slice_.config).store_url()
    if not url.startswith("sqlite:///"):
        pytest.skip("a SQLite store file")
    code, report = slice_.sync("--full")
    assert code == 0, report
    database = Path(url.removeprefix("sqlite:///"))
    assert _mode(database) == 0o600
    os.chmod(database, 0o644)  # a store an older release left world-readable
    code, report = slice_.sync()
    assert code == 0 and _mode(database) == 0o640
