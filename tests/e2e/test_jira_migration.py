"""Jira Data Center and Jira Cloud kept in step through the engine (a migration period): the
engine's writes to Jira go through the real `jira` client, edits and workflow transitions."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from ruamel.yaml import YAML

from pmosync.cli import main
from pmosync.sandbox.harness import Sandbox, Scenario
from pmosync.sandbox.scenarios import jira


def sync(config: Path, *args: str) -> dict[str, Any]:
    result = CliRunner().invoke(main, ["sync", "--json", "--config", str(config), *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def test_edits_and_transitions_flow_from_cloud_to_data_center(tmp_path: Path) -> None:
    opts = {"projects": 2, "issues_per_project": 15}
    services = jira.services(name="cloud_site", deployment="cloud", **opts)
    services += jira.services(name="dc_site", deployment="server", **opts)
    identity = {"project": "code", "work_item": "key", "person": "name"}
    scenario = Scenario(services=services, sync={"identity": identity})
    with Sandbox(scenario, tmp_path / "sb") as sandbox:
        config = sandbox.config_path
        yaml = YAML()
        store = yaml.load(config.read_text())
        store["store"]["url"] = f"sqlite:///{tmp_path / 'store.db'}"
        with config.open("w") as handle:
            yaml.dump(store, handle)
        cloud = sandbox.services["cloud_site"].emulator
        # search lag off: this test is about edits flowing Cloud -> DC right after a person
        # makes them, not about how soon Cloud's search shows an edit (tests/connectors/jira)
        cloud.configure({"search_lag_seconds": 0})
        dc = sandbox.services["dc_site"].emulator
        first = sync(config, "--full")
        assert first["writes_applied"] == 0 and not first["conflicts"], first["conflicts"][:3]
        # a person renames a story and finishes another in Cloud
        key_a, key_b = "APP-3", "APP-4"
        assert dc.issue(key_b)["fields"]["status"]["statusCategory"]["key"] != "done"
        cloud.human_edit(key_a, {"summary": "Payments: retry declined cards"})
        cloud.human_edit(key_b, {"status": "Done"})
        second = sync(config)
        assert second["writes_applied"] == 2, second["plan"]
        assert dc.issue(key_a)["fields"]["summary"] == "Payments: retry declined cards"
        finished = dc.issue(key_b)["fields"]
        assert finished["status"]["statusCategory"]["key"] == "done"
        assert finished["resolution"] is not None  # the transition screen's required field
        # the echo of our own writes changes nothing, in either site
        third = sync(config)
        assert third["writes_applied"] == 0 and not third["conflicts"], third
