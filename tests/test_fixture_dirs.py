"""The suite reads its data from the repository, or from PMOSYNC_FIXTURES_DIR when set."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests import fixture_dirs

ROOT = Path(__file__).resolve().parents[1]


def test_fixtures_live_in_the_repository_with_their_sources() -> None:
    assert fixture_dirs.FIXTURES_DIR.is_relative_to(ROOT) or "PMOSYNC_FIXTURES_DIR" in os.environ
    for folder in (fixture_dirs.MSPROJECT, fixture_dirs.SPECS):
        assert (folder / "README.md").is_file(), folder
    assert any(fixture_dirs.MSPROJECT.glob("*.mpp")) and any(fixture_dirs.SPECS.glob("*.json"))


def test_one_variable_moves_the_whole_suite(tmp_path: Path) -> None:
    env = {**os.environ, "PMOSYNC_FIXTURES_DIR": str(tmp_path)}
    out = subprocess.run(
        [sys.executable, "-c", "from tests import fixture_dirs; print(fixture_dirs.MSPROJECT)"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert out == str(tmp_path / "msproject")
