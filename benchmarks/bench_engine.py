"""The sync engine's own cost at scale, beside the time spent talking to the APIs.

    python benchmarks/bench_engine.py [--issues-per-project 1000] [--projects 200]

Seeds a Jira site (5 projects) and an Airtable PMO base, runs a full sync and a no-op sync,
and prints each run's phases. The ratio that matters is the engine's work (identify,
reconcile, analyse, plan, commit, settle) against the pull: the engine should stay a small
fraction of the time the APIs force on us. Jira pacing is lifted so the pull measures work;
Airtable keeps its mandatory 4.5 requests/s.
"""

from __future__ import annotations

import argparse
import tempfile
import tracemalloc
from datetime import date
from pathlib import Path

from ruamel.yaml import YAML

from pmosync.config.loader import load_config
from pmosync.sandbox.harness import Sandbox, Scenario
from pmosync.sandbox.scenarios import airtable_pmo, jira
from pmosync.sync.engine import SyncOptions, run_sync
from pmosync.sync.report import RunReport

ENGINE = ("identify", "reconcile", "analyse", "plan", "commit", "settle")
TODAY = date(2026, 11, 20)


def describe(label: str, report: RunReport) -> None:
    engine = sum(report.phases.get(p, 0.0) for p in ENGINE)
    pull = report.phases.get("pull", 0.0)
    apply = report.phases.get("apply", 0.0)
    records = sum(c.pulled for c in report.connections.values())
    print(
        f"{label}: {records} records, {report.api_calls} API calls, "
        f"{report.writes_applied} writes, {report.duration_seconds:.2f}s total"
    )
    print("  phases: " + ", ".join(f"{k} {v:.2f}s" for k, v in report.phases.items()))
    print(
        f"  engine work {engine:.2f}s vs pull {pull:.2f}s (ratio {engine / max(pull, 1e-9):.2f}), "
        f"apply {apply:.2f}s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--issues-per-project", type=int, default=1000)
    parser.add_argument("--projects", type=int, default=200, help="Airtable projects")
    args = parser.parse_args()
    services = airtable_pmo.services(projects=args.projects, today=TODAY)
    services += jira.services(projects=5, issues_per_project=args.issues_per_project)
    scenario = Scenario(services=services, portfolio={"name": "bench", "timezone": "UTC"})
    with tempfile.TemporaryDirectory() as tmp, Sandbox(scenario, Path(tmp)) as sandbox:
        yaml = YAML()
        config = yaml.load(sandbox.config_path.read_text())
        config["connections"]["delivery_jira"]["requests_per_second"] = 1000
        with sandbox.config_path.open("w") as handle:
            yaml.dump(config, handle)
        loaded = load_config(sandbox.config_path)
        first = run_sync(loaded, SyncOptions(full=True, today=TODAY))
        second = run_sync(loaded, SyncOptions(today=TODAY))
        # memory on a separate run: tracing allocations slows everything several-fold
        tracemalloc.start()
        run_sync(loaded, SyncOptions(full=True, today=TODAY))
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    describe("full sync", first)
    describe("no-op sync", second)
    print(f"peak Python memory of a full re-sync: {peak / 2**20:.0f} MiB")


if __name__ == "__main__":
    main()
