"""Request counts and time of a Jira pull over 1,000 seeded issues, Cloud and Data Center.

Run: ``python benchmarks/bench_jira_pull.py [--page-size 100]``. For each deployment it
seeds an emulator with 1,000 issues (5 projects x 200), then reports side by side:

* requests of our full pull and of a no-op incremental pull (a new connector, as the next
  cron run would be) against the minimum the API allows: ``ceil(1000 / page size)`` searches
  plus the fixed calls (serverInfo, myself, field) for the full pull, one search plus the same
  fixed calls for the no-op;
* the time of our pull (mapping included) against a bare ``jira`` client fetching the same
  issues with the same fields (``enhanced_search_issues`` on Cloud, ``search_issues`` on DC).

Pacing is switched off for both (``requests_per_second`` high) so the figures compare work,
not the rate limiter.
"""

from __future__ import annotations

import argparse
import math
import tempfile
import time
from datetime import UTC, datetime
from typing import Any

from jira import JIRA

from pmosync.canonical_model import PulledRecord, Quarantined
from pmosync.config.connections.jira import JiraConnection
from pmosync.config.loader import load_config
from pmosync.config.mapping import TeamMapping
from pmosync.connectors.jira.connector import JiraConnector
from pmosync.sandbox.harness import Sandbox, Scenario
from pmosync.sandbox.scenarios import jira as jira_scenarios

FIXED = 3  # serverInfo, myself, field


def issues_only(mapping: TeamMapping) -> TeamMapping:
    """One scope holding every issue: the shape the API minimum is counted for."""
    data = mapping.model_dump(mode="json")
    keep = {"work_item", "dependency", "iteration"}
    data["entities"] = {k: v for k, v in data["entities"].items() if k in keep}
    return TeamMapping.model_validate(data).model_copy(
        update={"team": mapping.team, "connection": mapping.connection, "source": mapping.source}
    )


def run(deployment: str, page_size: int) -> dict[str, Any]:
    opts = {"projects": 5, "issues_per_project": 200}
    scenario: Scenario = (
        jira_scenarios.cloud_scenario(**opts)
        if deployment == "cloud"
        else jira_scenarios.dc_scenario(**opts)
    )
    with tempfile.TemporaryDirectory() as tmp, Sandbox(scenario, tmp) as sandbox:
        loaded = load_config(sandbox.config_path)
        (name,) = loaded.config.connections
        base = loaded.config.connections[name]
        assert isinstance(base, JiraConnection)
        config = base.model_copy(update={"page_size": page_size, "requests_per_second": 10_000.0})
        (mapping,) = loaded.mappings_for(name)
        mapping = issues_only(mapping)
        emulator = sandbox.services[name].emulator
        total = len(emulator.state.issues)  # type: ignore[attr-defined]

        started = datetime.now(UTC)
        connector = JiraConnector(name, config, [mapping])
        clock = time.perf_counter()
        pulled = quarantined = 0
        for scope in connector.scopes():
            for item in connector.pull(scope, None, None):
                if isinstance(item, Quarantined):
                    quarantined += 1
                elif isinstance(item, PulledRecord) and item.ref.entity_type.value == "work_item":
                    pulled += 1
        ours = time.perf_counter() - clock
        full_calls = connector.api_calls()
        connector.close()

        noop = JiraConnector(name, config, [mapping], overlap_seconds=0)
        for scope in noop.scopes():
            for _ in noop.pull(scope, started, None):
                pass
        noop_calls = noop.api_calls()
        noop.close()

        token = (sandbox.directory / "secrets" / f"{name}.token").read_text().strip()
        auth: dict[str, Any] = (
            {"basic_auth": (config.email, token)}
            if deployment == "cloud"
            else {"token_auth": token}
        )
        probe = JiraConnector(name, config, [mapping])
        fields = probe._search_fields(
            probe.prepare(), next(iter(probe.prepare().profiles.values()))
        )
        probe.close()
        jql = "project in (APP, DATA, OPS, WEB, SEC) ORDER BY updated ASC"
        clock = time.perf_counter()
        bare = JIRA(
            sandbox.services[name].url,
            options={
                "verify": str(sandbox.ca.bundle_path),  # type: ignore[union-attr]
                "rest_api_version": "3" if deployment == "cloud" else "2",
            },
            max_retries=0,
            **auth,
        )
        if deployment == "cloud":
            found = bare.enhanced_search_issues(jql, maxResults=0, fields=list(fields))
        else:
            found = bare.search_issues(jql, maxResults=0, fields=list(fields))
        bare_time = time.perf_counter() - clock
        bare.close()
        return {
            "deployment": deployment,
            "issues": total,
            "pulled": pulled,
            "quarantined": quarantined,
            "full_calls": full_calls,
            "full_min": math.ceil(total / page_size) + FIXED,
            "noop_calls": noop_calls,
            "noop_min": 1 + FIXED,
            "ours_s": ours,
            "bare_s": bare_time,
            "bare_issues": len(found),
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--page-size", type=int, default=100)
    args = parser.parse_args()
    rows = [run(d, args.page_size) for d in ("cloud", "server")]
    print(f"Jira pull of 1,000 seeded issues, page size {args.page_size}")
    header = (
        f"{'deployment':<10} {'issues':>6} {'full pull req':>14} {'API min':>8} "
        f"{'no-op req':>10} {'API min':>8} {'ours s':>8} {'bare jira s':>12}"
    )
    print(header)
    print("-" * len(header))
    for r in rows:
        print(
            f"{r['deployment']:<10} {r['pulled']:>6} {r['full_calls']:>14} {r['full_min']:>8} "
            f"{r['noop_calls']:>10} {r['noop_min']:>8} {r['ours_s']:>8.2f} {r['bare_s']:>12.2f}"
        )
        assert r["pulled"] == r["bare_issues"] == r["issues"], r
        assert r["quarantined"] == 0, r


if __name__ == "__main__":
    main()
