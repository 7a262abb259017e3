"""`pmo-sync whatif ITEM --slip 10d`: what moves, through which chain, which RAG changes;
read from the store a sync left, and nothing written."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from pmosync.canonical_model import EntityType
from pmosync.cli import main
from pmosync.sync.state import EntityState, WorkingState, persist
from pmosync.sync.store import Store

TODAY = "2026-11-02"


def _seed(directory: Path) -> Path:
    """A store with one plan (P1) whose milestone waits for an issue in another project."""
    db = directory / "store.db"
    store = Store.open(f"sqlite:///{db}")
    state = WorkingState()

    def add(entity_id: str, entity_type: EntityType, **values: Any) -> None:
        state.entities[entity_id] = EntityState(entity_id, entity_type, values, new=True)

    add("p1", EntityType.PROJECT, name="Portal", code="P1", planned_finish="2026-11-25")
    add("p2", EntityType.PROJECT, name="Data", code="DAT")
    add(
        "a",
        EntityType.WORK_ITEM,
        key="DAT-7",
        name="Extract API",
        project="p2",
        kind="epic",
        schedule_mode="entered",
        start="2026-11-09",
        due="2026-11-13",
    )
    add(
        "m",
        EntityType.WORK_ITEM,
        name="Go-live",
        project="p1",
        kind="milestone",
        schedule_mode="entered",
        start="2026-11-20",
        due="2026-11-20",
    )
    add("d", EntityType.DEPENDENCY, predecessor="a", successor="m", link_type="FS")
    persist(store, state)
    store.close()
    config = directory / "pmo-sync.yaml"
    config.write_text(
        "version: 1\n"
        f"store: {{url: 'sqlite:///{db}'}}\n"
        "portfolio: {name: Test, timezone: UTC}\n"
        "connections:\n"
        "  tracker: {kind: jira, url: 'https://example.atlassian.net', email: a@b.c,"
        " token_env: JT}\n"
    )
    return config


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _run(config: Path, *args: str) -> Any:
    return CliRunner().invoke(
        main, ["whatif", *args, "--config", str(config), "--today", TODAY], catch_exceptions=False
    )


def test_a_slip_moves_the_milestone_in_another_project_and_turns_its_project_amber(
    tmp_path: Path,
) -> None:
    config = _seed(tmp_path)
    db = tmp_path / "store.db"
    before = _digest(db)
    result = _run(config, "DAT-7", "--slip", "2w", "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["slip_days"] == 10 and doc["written"] == 0
    moves = {m["item"]: m for m in doc["moves"]}
    go_live = moves["Go-live [P1]"]
    # the epic now finishes 13 Nov + 10 working days = 27 Nov; the milestone (20 Nov, at the
    # end of the day) had 5 working days of gap, so it moves 5, to the 27th
    assert moves["DAT-7 Extract API"]["new_finish"] == "2026-11-27"
    assert go_live["old_finish"] == "2026-11-20"
    assert go_live["new_finish"] == "2026-11-27"
    assert go_live["chain"] == ["DAT-7 Extract API", "Go-live [P1]"]
    assert go_live["delta_days"] == 5
    assert "Go-live [P1]" in doc["milestones"]
    assert set(doc["projects"]) == {"P1", "DAT"}
    [change] = doc["rag_changes"]
    assert change["project"] == "P1" and change["before"] == "G" and change["after"] != "G"
    assert any("after the planned finish" in r for r in change["reasons"])
    # nothing written: the store file is byte for byte what it was
    assert _digest(db) == before


def test_text_output_names_the_chain_and_says_nothing_was_written(tmp_path: Path) -> None:
    config = _seed(tmp_path)
    result = _run(config, "P1 / Go-live", "--slip", "1d")
    assert result.exit_code == 0, result.output
    assert "What if Go-live [P1] slips 1 working day(s)" in result.output
    assert "nothing else moves" in result.output
    assert result.output.rstrip().endswith("Nothing was written.")


def test_a_slip_absorbed_by_the_gap_moves_nothing_else(tmp_path: Path) -> None:
    config = _seed(tmp_path)
    result = _run(config, "Extract API", "--slip", "5d", "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert [m["item"] for m in doc["moves"]] == ["DAT-7 Extract API"]
    assert doc["rag_changes"] == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["NOPE-1", "--slip", "1d"], "NOPE-1"),
        (["DAT-7", "--slip", "soon"], "10d"),
    ],
)
def test_bad_input_says_what_to_give(tmp_path: Path, args: list[str], message: str) -> None:
    config = _seed(tmp_path)
    result = _run(config, *args)
    assert result.exit_code == 2
    assert message in result.output


def test_no_store_yet_is_refused_without_creating_one(tmp_path: Path) -> None:
    config = _seed(tmp_path)
    text = config.read_text().replace("store.db", "missing.db")
    config.write_text(text)
    result = _run(config, "DAT-7", "--slip", "1d")
    assert result.exit_code == 2 and "pmo-sync sync" in result.output
    assert not (tmp_path / "missing.db").exists()


def test_help_answers_units_and_examples() -> None:
    result = CliRunner().invoke(main, ["whatif", "--help"])
    assert result.exit_code == 0
    for text in ("--slip 10d", "2w", "working days", "P001 / Go-live", "Nothing is written"):
        assert text.lower() in result.output.lower()
