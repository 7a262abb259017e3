"""Planner Premium round trip through msal (delegated device-code sign-in, silent refresh) and
requests against the Dataverse emulator: the plan matches the register's project by code; a RAG
change in Airtable reaches the plan through an operation set; a re-run writes nothing; a failed
operation set and a 429 storm are reported and lose nothing."""

from __future__ import annotations

import stat
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML
from sqlalchemy import select

from pmosync.config.loader import LoadedConfig, load_config
from pmosync.sandbox.harness import Sandbox
from pmosync.sandbox.scenarios import airtable_pmo
from pmosync.sync import models
from pmosync.sync.engine import SyncOptions, run_sync
from pmosync.sync.report import RunReport
from pmosync.sync.store import Store

TODAY = date(2026, 11, 20)
PLANNER = "plans_planner"
COMPLETED, FAILED = 192350003, 192350004


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    with Sandbox("planner", tmp_path / "sb", today=TODAY) as running:
        yaml = YAML()
        config = yaml.load(running.config_path.read_text())
        config["store"]["url"] = f"sqlite:///{tmp_path / 'store.db'}"
        with running.config_path.open("w") as handle:
            yaml.dump(config, handle)
        yield running


def _sync(loaded: LoadedConfig, full: bool = False) -> RunReport:
    return run_sync(loaded, SyncOptions(full=full, today=TODAY))


def _plan(sandbox: Sandbox, code: str) -> dict[str, Any]:
    emulator: Any = sandbox.services[PLANNER].emulator
    return next(p for p in emulator.rows("msdyn_projects") if p["pmo_projectcode"] == code)


def _sets(sandbox: Sandbox) -> list[int]:
    emulator: Any = sandbox.services[PLANNER].emulator
    return [s["msdyn_status"] for s in emulator.operation_sets()]


def _set_rag(sandbox: Sandbox, code: str, rag: str) -> None:
    emulator: Any = sandbox.services["pmo_airtable"].emulator
    base = airtable_pmo.BASE_ID
    record = next(r for r in emulator.records(base, "Projects") if r["fields"].get("Code") == code)
    emulator.edit_record(base, "Projects", record["id"], {"RAG": rag})


def _airtable_rag(sandbox: Sandbox, code: str) -> str:
    emulator: Any = sandbox.services["pmo_airtable"].emulator
    records = emulator.records(airtable_pmo.BASE_ID, "Projects")
    return str(next(r for r in records if r["fields"].get("Code") == code)["fields"]["RAG"])


def _live_links(loaded: LoadedConfig) -> int:
    store = Store.open(loaded.store_url())
    try:
        with store.sessions() as session:
            rows = session.scalars(select(models.Link).where(models.Link.connection == PLANNER))
            return sum(1 for row in rows if row.deleted_at is None)
    finally:
        store.close()


def test_plan_matches_register_and_airtable_status_reaches_it(sandbox: Sandbox) -> None:
    loaded = load_config(sandbox.config_path)
    cache = sandbox.directory / "tokens" / f"{PLANNER}.msal.json"
    assert stat.S_IMODE(cache.stat().st_mode) == 0o600  # the one-time sign-in left a cache

    first = _sync(loaded, full=True)
    assert first.status == "ok", first.to_dict()
    planner = first.connections[PLANNER]
    assert planner.status == "ok" and planner.pulled > 30 and planner.quarantined == 0
    # the same project in both tools, matched on the code (a custom column in Dataverse)
    store = Store.open(loaded.store_url())
    try:
        with store.sessions() as session:
            links = session.execute(
                select(models.Link.canonical_id, models.Link.connection).where(
                    models.Link.entity_type == "project"
                )
            ).all()
            projects = {
                row.id: row.values
                for row in session.scalars(
                    select(models.Entity).where(models.Entity.entity_type == "project")
                )
            }
            work = [
                row.values
                for row in session.scalars(
                    select(models.Entity).where(models.Entity.entity_type == "work_item")
                )
            ]
    finally:
        store.close()
    by_project: dict[str, set[str]] = {}
    for canonical_id, connection in links:
        by_project.setdefault(canonical_id, set()).add(connection)
    codes = {projects[pid].get("code"): tools for pid, tools in by_project.items()}
    assert codes["PRJ-007"] == {"pmo_airtable", PLANNER}
    assert codes["PRJ-008"] == {"pmo_airtable", PLANNER}
    # the schedule arrived: durations, modes, levels, buckets as labels
    leaves = [w for w in work if w.get("kind") == "task"]
    assert leaves and all(w["schedule_mode"] == "auto" for w in leaves)
    assert all(w["duration_unit"] == "d" and w["duration_minutes"] for w in leaves)
    assert {tuple(w["labels"]) for w in leaves} == {("Build",), ("Launch",)}
    # the register's RAG reached each plan's status column through a completed operation set
    assert _plan(sandbox, "PRJ-007")["pmo_rag"] == _airtable_rag(sandbox, "PRJ-007")
    assert _plan(sandbox, "PRJ-007")["pmo_statusline"]
    assert _sets(sandbox) == [COMPLETED, COMPLETED]  # one per project

    second = _sync(loaded)
    assert second.status == "ok" and second.to_dict()["writes_applied"] == 0
    assert len(_sets(sandbox)) == 2

    new_rag = "Red" if _airtable_rag(sandbox, "PRJ-007") != "Red" else "Green"
    _set_rag(sandbox, "PRJ-007", new_rag)
    third = _sync(loaded)
    assert third.status == "ok", third.to_dict()
    assert third.connections[PLANNER].writes_applied == 1
    assert _plan(sandbox, "PRJ-007")["pmo_rag"] == new_rag
    assert _sets(sandbox) == [COMPLETED] * 3

    again = _sync(loaded)
    assert again.to_dict()["writes_applied"] == 0 and len(_sets(sandbox)) == 3


def test_failed_operation_set_is_reported_and_applied_next_run(sandbox: Sandbox) -> None:
    loaded = load_config(sandbox.config_path)
    assert _sync(loaded, full=True).status == "ok"
    before = _plan(sandbox, "PRJ-007")["pmo_rag"]
    new_rag = "Amber" if before != "Amber" else "Green"
    _set_rag(sandbox, "PRJ-007", new_rag)
    emulator: Any = sandbox.services[PLANNER].emulator
    emulator.configure({"fail_next_operation_sets": 1, "fail_reason": "concurrent edit in Planner"})

    failed = _sync(loaded)
    planner = failed.connections[PLANNER]
    assert planner.writes_failed == 1 and planner.writes_applied == 0
    errors = " ".join(str(e) for e in failed.to_dict()["write_errors"])
    assert "concurrent edit in Planner" in errors and "nothing of it was applied" in errors
    assert _plan(sandbox, "PRJ-007")["pmo_rag"] == before  # nothing half-applied
    assert _sets(sandbox)[-1] == FAILED

    retried = _sync(loaded)
    assert retried.connections[PLANNER].writes_applied == 1
    assert _plan(sandbox, "PRJ-007")["pmo_rag"] == new_rag
    assert _sets(sandbox)[-1] == COMPLETED


def test_429_storm_is_reported_and_nothing_is_lost(sandbox: Sandbox) -> None:
    loaded = load_config(sandbox.config_path)
    assert _sync(loaded, full=True).status == "ok"
    emulator: Any = sandbox.services[PLANNER].emulator
    sets_before = len(_sets(sandbox))

    # a storm on the schedule API: every try is refused with Retry-After, past max_attempts
    new_rag = "Red" if _plan(sandbox, "PRJ-008")["pmo_rag"] != "Red" else "Amber"
    _set_rag(sandbox, "PRJ-008", new_rag)
    emulator.faults.set(
        {
            "burst": {
                "status": 429,
                "count": 50,
                "retry_after": 0,
                "path_prefix": "/api/data/v9.2/msdyn_CreateOperationSetV1",
            }
        }
    )
    stormy = _sync(loaded)
    planner = stormy.connections[PLANNER]
    assert planner.writes_failed == 1 and planner.writes_applied == 0
    errors = " ".join(str(e) for e in stormy.to_dict()["write_errors"])
    assert "429" in errors and "service protection" in errors
    assert len(_sets(sandbox)) == sets_before  # no operation set was even opened

    # a storm while reading: the pull fails loudly, it never looks like an empty plan
    emulator.faults.clear()
    emulator.faults.set({"burst": {"status": 429, "count": 50, "retry_after": 0}})
    held = _live_links(loaded)
    unreadable = _sync(loaded)
    assert unreadable.connections[PLANNER].status != "ok"
    assert _live_links(loaded) == held  # nothing tombstoned by a pull that did not finish
    assert "429" in str(unreadable.connections[PLANNER].error)
    assert unreadable.connections["pmo_airtable"].status == "ok"

    emulator.faults.clear()
    calm = _sync(loaded)
    assert calm.connections[PLANNER].status == "ok"
    assert calm.connections[PLANNER].writes_applied == 1
    assert _plan(sandbox, "PRJ-008")["pmo_rag"] == new_rag
