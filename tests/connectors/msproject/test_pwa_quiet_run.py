"""A quiet run right after a run that published: one listing, no plan read back (issue #13)."""

from __future__ import annotations

from pathlib import Path

from pmosync.config.loader import load_config
from pmosync.sandbox.harness import Sandbox, Scenario
from pmosync.sandbox.pwa import PwaEmulator
from pmosync.sandbox.scenarios import pwa
from pmosync.sync.engine import SyncOptions, run_sync

NAME = "plans_pwa"


def test_a_quiet_run_after_a_writing_run_reads_back_none_of_our_publishes(tmp_path: Path) -> None:
    scenario = Scenario(
        services=pwa.services(projects=3, tasks_per_project=8), sync={"overlap": "5m"}
    )
    with Sandbox(scenario, tmp_path / "sb") as sandbox:
        site = sandbox.services[NAME].emulator
        assert isinstance(site, PwaEmulator)
        loaded = load_config(sandbox.config_path)
        first = run_sync(loaded, SyncOptions(full=True))
        assert first.status == "ok" and first.connections[NAME].writes_applied == 3
        reads_before = sum(n for k, n in site.api_calls().items() if k.startswith("GET"))

        quiet = run_sync(loaded, SyncOptions())
        report = quiet.connections[NAME]
        assert quiet.status == "ok" and quiet.writes_applied == 0
        assert report.pulled == 0  # the three plans we published are not read again
        # one listing of the projects, one of Issues, one of Risks: nothing per plan
        reads = {k: n for k, n in site.api_calls().items() if k.startswith("GET")}
        assert sum(reads.values()) - reads_before == 3, reads

        # a planner publishes one of them: the next run reads that plan, and only that one
        pid = str(site.projects()[1]["Id"])
        site.human_edit(pid, custom={"PMO Status": "edited in PWA"})
        plans_read = site.api_calls().get(
            "GET ProjectServer/Projects('{id}')/IncludeCustomFields", 0
        )
        after = run_sync(loaded, SyncOptions())
        assert after.connections[NAME].pulled > 0
        read_now = site.api_calls()["GET ProjectServer/Projects('{id}')/IncludeCustomFields"]
        assert read_now - plans_read == 1
