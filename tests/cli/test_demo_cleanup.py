"""`pmo-sync demo` without --dir leaves no store, secrets or token cache behind: only its
reports, and it ends by saying what to open and what to run next. The status page it writes
reads as words."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from pmosync.cli import main


def test_demo_removes_its_working_folder_and_keeps_the_reports(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    result = CliRunner().invoke(main, ["demo", "--scenario", "airtable"])
    assert result.exit_code == 0, result.output
    left = sorted(p.name for p in tmp_path.iterdir())
    [reports] = left  # the working folder (store, secrets, CA, config) is gone
    assert reports.startswith("pmo-sync-demo-reports-")
    kept = {p.name for p in (tmp_path / reports).iterdir()}
    assert "status.html" in kept and not any(n.endswith((".db", ".token", ".pem")) for n in kept)
    lines = result.output.strip().splitlines()
    assert f"open first: {tmp_path / reports / 'status.html'}" in lines
    tail = "\n".join(lines[-4:])
    assert "pmo-sync demo --dir" in tail and "pmo-sync init" in tail and "pmo-sync doctor" in tail
    page = (tmp_path / reports / "status.html").read_text()
    assert "on_hold" not in page and "not_started" not in page
    assert 'class="nowrap"' in page or ' nowrap"' in page


def test_demo_with_dir_keeps_everything_and_says_how_to_look_inside(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["demo", "--scenario", "airtable", "--dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "pmo-sync.db").exists() and (tmp_path / "reports" / "status.html").exists()
    config = tmp_path / "pmo-sync.yaml"
    assert f"pmo-sync runs show latest -c {config}" in result.output
    shown = CliRunner().invoke(main, ["runs", "show", "latest", "-c", str(config)])
    assert shown.exit_code == 0 and "run 2: ok" in shown.output
