"""`pmo-sync report status`: the page reads as words (statuses, RAG, dates that do not wrap,
"—" for nothing), finished and cancelled projects list no next milestone, and --json gives the
rows to scripts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from pmosync.canonical_model import EntityType
from pmosync.cli import main
from pmosync.sync.state import EntityState, WorkingState, persist
from pmosync.sync.store import Store


def _config(tmp_path: Path) -> Path:
    db = tmp_path / "store.db"
    store = Store.open(f"sqlite:///{db}")
    state = WorkingState()

    def project(pid: str, **values: Any) -> None:
        state.entities[pid] = EntityState(pid, EntityType.PROJECT, values, new=True)

    common = {"next_milestone": "Go-live", "next_milestone_date": "2027-01-04"}
    project("a", code="A1", name="Held", status="on_hold", rag_computed="A", **common)
    project("b", code="B1", name="Finished", status="done", rag_computed="G", **common)
    project("c", code="C1", name="Stopped", status="cancelled", **common)
    project("d", code="D1", name="Running", status="active", rag_computed="R", **common)
    persist(store, state)
    store.close()
    config = tmp_path / "pmo-sync.yaml"
    config.write_text(
        f"version: 1\nstore: {{url: 'sqlite:///{db}'}}\n"
        "connections: {j: {kind: jira, url: 'https://x.example', token_env: T}}\n"
    )
    return config


def test_the_status_page_reads_as_words(tmp_path: Path) -> None:
    config = _config(tmp_path)
    out = tmp_path / "reports"
    result = CliRunner().invoke(main, ["report", "status", "-c", str(config), "--out", str(out)])
    assert result.exit_code == 0, result.output
    page = (out / "status.html").read_text()
    rows = {r.split("<td", 3)[2]: r for r in page.split("<tr>")[2:]}
    held = next(r for r in rows.values() if "Held" in r)
    assert ">on hold<" in held and "on_hold" not in page
    assert ">amber<" in held and ">red<" in page
    assert '"A nowrap"' not in held  # the RAG cell keeps its colour class only
    assert '<td class=" nowrap">4 Jan 2027</td>' in held  # one line, not "2027-01-04"
    for name in ("Finished", "Stopped"):
        row = next(r for r in rows.values() if name in r)
        assert "Go-live" not in row and "4 Jan 2027" not in row and ">—<" in row
    running = next(r for r in rows.values() if "Running" in r)
    assert "Go-live" in running
    # the CSV keeps the store's values for spreadsheets and scripts
    csv_text = (out / "status.csv").read_text()
    assert "on_hold" in csv_text and csv_text.count("Go-live") == 4
    as_json = CliRunner().invoke(
        main, ["report", "status", "-c", str(config), "--out", str(out), "--json"]
    )
    document = json.loads(as_json.stdout)
    assert document["files"] == [str(out / "status.csv"), str(out / "status.html")]
    assert [p["code"] for p in document["projects"]] == ["A1", "B1", "C1", "D1"]
