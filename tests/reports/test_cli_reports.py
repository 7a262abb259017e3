"""`pmo-sync report roadmap | dependencies | raid | pack` against a seeded store: each writes
the files its --help names, --format and --programme narrow it, and a store with no
successful run is an error that says what to do."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from pmosync.cli import main
from pmosync.sync.store import Store

from .conftest import seed_store


def _config(directory: Path, db: Path) -> Path:
    config = directory / "pmo-sync.yaml"
    config.write_text(
        "version: 1\n"
        f"store: {{url: 'sqlite:///{db}'}}\n"
        "portfolio: {name: Test PMO, timezone: UTC}\n"
        "connections:\n"
        "  tracker: {kind: jira, url: 'https://example.atlassian.net', email: a@b.c,"
        " token_env: JT}\n"
    )
    return config


@pytest.fixture
def config(tmp_path: Path) -> Path:
    db = tmp_path / "store.db"
    seed_store(f"sqlite:///{db}").store.close()
    return _config(tmp_path, db)


@pytest.mark.parametrize(
    ("command", "files"),
    [
        ("roadmap", ["roadmap.html", "roadmap.png", "roadmap.mmd", "roadmap.csv"]),
        ("dependencies", ["dependencies.html", "dependencies.svg", "dependencies.png"]),
        ("raid", ["raid.csv", "raid.html"]),
        ("pack", ["steering-pack.xlsx", "steering-pack.pptx"]),
    ],
)
def test_each_report_writes_what_its_help_says(
    config: Path, tmp_path: Path, command: str, files: list[str]
) -> None:
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["report", command, "-c", str(config), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert result.output.split() == [str(out / name) for name in files]
    assert all((out / name).stat().st_size > 200 for name in files)
    # they hold the portfolio: owner-only from the first byte, whatever the library (#11)
    assert {name: (out / name).stat().st_mode & 0o777 for name in files} == dict.fromkeys(
        files, 0o600
    )
    assert out.stat().st_mode & 0o777 == 0o700
    help_text = CliRunner().invoke(main, ["report", command, "--help"]).output
    for name in files:
        assert name in help_text


def test_format_and_programme_narrow_the_output(config: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = CliRunner().invoke(
        main,
        [
            "report",
            "roadmap",
            "-c",
            str(config),
            "--out",
            str(out),
            "--format",
            "mermaid",
            "--programme",
            "Operations",
            "--status-date",
            "2026-12-01",
        ],
    )
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["roadmap.mmd"]
    text = (out / "roadmap.mmd").read_text()
    assert "GAM · Gamma Migration" in text and "Alpha" not in text
    assert "Status date :milestone, s0, 2026-12-01, 0d" in text


def test_unknown_programme_lists_the_known_ones(config: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["report", "pack", "-c", str(config), "--out", str(tmp_path), "--programme", "X"]
    )
    assert result.exit_code == 2
    assert "--programme 'X': no such programme" in result.output
    assert "DIG" in result.output and "OPSP" in result.output


def test_a_store_that_never_synced_says_to_sync_first(tmp_path: Path) -> None:
    db = tmp_path / "empty.db"
    Store.open(f"sqlite:///{db}").close()
    result = CliRunner().invoke(
        main, ["report", "roadmap", "-c", str(_config(tmp_path, db)), "--out", str(tmp_path)]
    )
    assert result.exit_code == 2
    assert "run `pmo-sync sync` first" in result.output


def test_status_report_has_the_programme_and_neutralises_formulas(
    config: Path, tmp_path: Path
) -> None:
    import csv

    result = CliRunner().invoke(
        main, ["report", "status", "-c", str(config), "--out", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    rows = {r["Code"]: r for r in csv.DictReader((tmp_path / "status.csv").open())}
    assert rows["ALP"]["Programme"] == "Digital" and rows["GAM"]["Programme"] == "Operations"
    assert rows["HOS"]["Programme"] == ""
    assert rows["HOS"]["Why"] == "'" + '=HYPERLINK("http://evil","click")'
    for name in ("status.csv", "status.html"):  # the portfolio: owner-only
        assert (tmp_path / name).stat().st_mode & 0o777 == 0o600
