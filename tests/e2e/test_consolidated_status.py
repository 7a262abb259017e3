"""The demo's three tools: consolidated status computed from all of them lands in each."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from pmosync.config.loader import load_config
from pmosync.sandbox.harness import Sandbox
from pmosync.sandbox.scenarios import airtable_pmo
from pmosync.sync.engine import SyncOptions, run_sync

TODAY = date(2026, 11, 20)


def test_rag_and_status_reach_project_server_and_the_register(tmp_path: Path) -> None:
    with Sandbox("demo", tmp_path / "sb", today=TODAY) as sandbox:
        yaml = YAML()
        config = yaml.load(sandbox.config_path.read_text())
        config["store"]["url"] = f"sqlite:///{tmp_path / 'store.db'}"
        with sandbox.config_path.open("w") as handle:
            yaml.dump(config, handle)
        loaded = load_config(sandbox.config_path)
        first = run_sync(loaded, SyncOptions(full=True, today=TODAY))
        assert first.status == "ok", first.to_dict()
        pwa: Any = sandbox.services["plans_pwa"].emulator
        airtable: Any = sandbox.services["pmo_airtable"].emulator
        register = {
            r["fields"]["Code"]: r["fields"]
            for r in airtable.records(airtable_pmo.BASE_ID, "Projects")
        }
        for project in pwa.projects():
            code = next(c for c, f in register.items() if f.get("Name") == project["Name"])
            rag = pwa.custom_field_value(project["Id"], "PMO RAG")
            status = pwa.custom_field_value(project["Id"], "PMO Status")
            overdue = register[code].get("Overdue milestones", 0)
            # the schedule's planned finish (authority) has passed for every seeded plan
            assert rag == ["Red"], (project["Name"], rag, status)  # a lookup: list of entries
            assert "planned finish" in status and f"{overdue} milestones overdue" in status
            assert register[code]["Next milestone"] in status
        second = run_sync(loaded, SyncOptions(today=TODAY))
        assert second.writes_applied == 0 and second.status == "ok"
