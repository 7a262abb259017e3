"""A create whose answer never came back, through the CLI and the engine (#11 item 9).

Two Jira sites kept in step (a migration period): a person adds an issue in Data Center, the
Cloud mapping has ``create_missing``, and the Cloud create is applied while its answer is lost
on the way back. Cloud's search lag is on (the emulator's default), so the new issue is not
searchable for a few seconds. The run must not report the write failed, and no run may
create the issue twice.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import requests
from click.testing import CliRunner

from pmosync.cli import main
from pmosync.connectors.jira.marker import MARKER_PREFIX
from pmosync.sandbox.harness import Sandbox, Scenario
from pmosync.sandbox.scenarios import jira


def sync(config: Path) -> tuple[int, dict[str, Any]]:
    result = CliRunner().invoke(main, ["sync", "--json", "--config", str(config)])
    return result.exit_code, json.loads(result.stdout)


def named(emulator: Any, summary: str) -> list[Any]:
    with emulator.lock:
        return [i for i in emulator.state.issues.values() if i.fields["summary"] == summary]


def test_a_lost_create_answer_is_neither_failed_nor_duplicated(tmp_path: Path) -> None:
    opts = {"projects": 1, "issues_per_project": 6}
    services = jira.services(name="cloud_site", deployment="cloud", **opts)
    services += jira.services(name="dc_site", deployment="server", **opts)
    cloud_spec = services[0]
    assert cloud_spec.mapping is not None
    cloud_spec.mapping["entities"]["work_item"]["create_missing"] = True
    identity = {"project": "code", "work_item": "key", "person": "name"}
    with Sandbox(Scenario(services=services, sync={"identity": identity}), tmp_path) as sandbox:
        config = sandbox.config_path  # its store: a SQLite file next to it, in tmp_path
        cloud, dc = (sandbox.services[n] for n in ("cloud_site", "dc_site"))
        code, first = sync(config)
        assert code == 0 and first["writes_applied"] == 0, first
        # a person adds an issue in Data Center
        response = requests.post(
            f"{dc.url}/rest/api/2/issue",
            json={"fields": {"project": {"key": "APP"}, "summary": "Ledger export",
                             "issuetype": {"name": "Task"}}},
            headers={"Authorization": f"Bearer {dc.emulator.credentials['pat']}"},
            verify=str(sandbox.ca.bundle_path if sandbox.ca else True),
            timeout=10,
        )  # fmt: skip
        assert response.status_code == 201, response.text
        # Cloud applies the create; its answer is lost on the way back
        cloud.emulator.faults.set(
            {"lose_response": {"count": 1, "path_prefix": "/rest/api/3/issue", "method": "POST"}}
        )
        code, second = sync(config)
        cloud_report = second["connections"]["cloud_site"]
        assert code == 0, second
        assert cloud_report["writes_failed"] == 0 and cloud_report["writes_applied"] >= 1, second
        (made,) = named(cloud.emulator, "Ledger export")
        assert any(label.startswith(MARKER_PREFIX) for label in made.fields["labels"])
        # the next run: nothing planned for it, nothing created
        code, third = sync(config)
        assert code == 0 and third["writes_applied"] == 0, third
        assert len(named(cloud.emulator, "Ledger export")) == 1
        creates = cloud.emulator.counters.snapshot()["by_endpoint"]
        assert creates.get("POST /rest/api/<ver>/issue") == 1
