"""`pmo-sync init` then `pmo-sync doctor` against the sandbox emulators, as a new user runs
them: success first, then each way a setup breaks (a missing secret, a wrong token, a field
someone deleted, a missing write permission), each reported with its fix and a non-zero exit."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from ruamel.yaml import YAML

from pmosync.cli import EXIT_AUTH, EXIT_CONFIG, main
from pmosync.sandbox.harness import Sandbox, Scenario
from pmosync.sandbox.scenarios import airtable_pmo, jira

AIRTABLE = "pmo_airtable"
JIRA = "delivery_jira"


@dataclass
class Setup:
    sandbox: Sandbox
    config: Path
    env: dict[str, str]

    def doctor(self, *args: str, env: dict[str, str] | None = None) -> Result:
        return CliRunner().invoke(
            main, ["doctor", "-c", str(self.config), *args], env=env or self.env
        )

    def edit(self, relative: str, change: Any) -> None:
        path = self.config.parent / relative
        yaml = YAML()
        data = yaml.load(path.read_text())
        change(data)
        with path.open("w") as handle:
            yaml.dump(data, handle)


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    [airtable] = airtable_pmo.services(projects=4)
    [delivery] = jira.services(projects=2)
    scenario = Scenario(services=[airtable, delivery], portfolio={"name": "Init test"})
    running = Sandbox(scenario, tmp_path_factory.mktemp("sandbox")).start()
    yield running
    running.stop()


@pytest.fixture
def setup(sandbox: Sandbox, tmp_path: Path) -> Setup:
    info = json.loads((sandbox.directory / "sandbox.json").read_text())
    at, jr = info["services"][AIRTABLE], info["services"][JIRA]
    env = {"AIRTABLE_TOKEN": at["credentials"]["token"], "JIRA_TOKEN": jr["credentials"]["token"]}
    result = CliRunner().invoke(
        main,
        [
            "init",
            "--dir",
            str(tmp_path / "pmo"),
            "--tool",
            "airtable",
            "--tool",
            "jira",
            "--airtable-base",
            at["credentials"]["base_id"],
            "--airtable-url",
            at["url"],
            "--jira-url",
            jr["url"],
            "--jira-email",
            jr["credentials"]["email"],
            "--ca-bundle",
            info["ca_bundle"],
        ],
        env=env,
    )
    assert result.exit_code == 0, result.output
    assert "mapping filled from what airtable holds" in result.output
    return Setup(sandbox, tmp_path / "pmo" / "pmo-sync.yaml", env)


def _lines(result: Result, connection: str) -> str:
    """The doctor's block for one connection."""
    block = result.output.split(f"{connection}:\n", 1)[1]
    return block.split("\n\n", 1)[0]


def test_init_writes_a_commented_config_that_doctor_passes(setup: Setup) -> None:
    text = setup.config.read_text()
    assert text.startswith("# pmo-sync configuration") and "token_env: AIRTABLE_TOKEN" in text
    assert setup.env["AIRTABLE_TOKEN"] not in text  # secrets are never written
    airtable = (setup.config.parent / "teams" / "airtable.yaml").read_text()
    # discover filled in real field ids, named for people in a comment, and the select options
    assert "# Status" in airtable and "On hold: on_hold" in airtable
    jira_mapping = (setup.config.parent / "teams" / "jira.yaml").read_text()
    assert "- APP" in jira_mapping and "In Progress: active" in jira_mapping
    result = setup.doctor()
    assert result.exit_code == 0, result.output
    for check in ("secrets", "reachable", "tls", "credentials", "permissions", "fields"):
        assert f"[ok  ] {check}" in _lines(result, AIRTABLE)
        assert f"[ok  ] {check}" in _lines(result, JIRA)
    assert "everything checked is ready to sync" in result.output
    # the config it wrote is one `sync` accepts and runs (the init → doctor → sync path)
    synced = CliRunner().invoke(
        main, ["sync", "-c", str(setup.config), "--dry-run", "--json"], env=setup.env
    )
    assert synced.exit_code == 0, synced.output
    report = json.loads(synced.stdout)
    assert {c["status"] for c in report["connections"].values()} == {"ok"}


def test_a_missing_secret_names_the_variable_and_skips_what_depends_on_it(setup: Setup) -> None:
    env = {**setup.env, "AIRTABLE_TOKEN": ""}
    result = setup.doctor(env=env)
    assert result.exit_code == EXIT_AUTH, result.output
    block = _lines(result, AIRTABLE)
    assert "[FAIL] secrets" in block and "AIRTABLE_TOKEN is not set" in block
    assert "fix: export AIRTABLE_TOKEN=" in block
    assert "[skip] credentials" in block
    assert "[ok  ] credentials" in _lines(result, JIRA)  # the other connection still checked
    as_json = setup.doctor("--json", env=env)
    findings = json.loads(as_json.stdout)
    [failed] = [f for f in findings if f["status"] == "fail"]
    assert failed["connection"] == AIRTABLE and failed["check"] == "secrets" and failed["fix"]


def test_a_wrong_token_is_refused_with_where_it_came_from(setup: Setup) -> None:
    result = setup.doctor(env={**setup.env, "JIRA_TOKEN": "not-the-token"})
    assert result.exit_code == EXIT_AUTH, result.output
    block = _lines(result, JIRA)
    assert "[FAIL] credentials" in block
    assert "id.atlassian.com" in block and "environment variable JIRA_TOKEN" in block
    assert "not-the-token" not in result.output  # the secret is redacted
    assert "[ok  ] credentials" in _lines(result, AIRTABLE)


def test_a_deleted_field_is_named_with_its_mapping_line(setup: Setup) -> None:
    emulator: Any = setup.sandbox.services[AIRTABLE].emulator
    base = emulator.bases[airtable_pmo.BASE_ID]
    table = base.table("Projects")
    field = table.field("RAG")
    table.fields.remove(field)  # someone deleted the column in the Airtable UI
    try:
        result = setup.doctor()
    finally:
        table.fields.append(field)
    assert result.exit_code == EXIT_CONFIG, result.output
    block = _lines(result, AIRTABLE)
    assert "[FAIL] fields" in block and "entities.project.fields.rag" in block
    assert f"field {field.id!r} is no longer in table Projects" in block
    assert "fix: restore the field in Airtable" in block


def test_a_missing_write_permission_is_reported_per_tool(setup: Setup) -> None:
    # Jira: the mapping writes, but the user only has read access
    setup.edit("pmo-sync.yaml", lambda c: c["connections"][JIRA].update(email="viewer@example.com"))
    # Airtable: a token without data.records:write
    emulator: Any = setup.sandbox.services[AIRTABLE].emulator
    emulator.add_token("read-only-token", scopes=("data.records:read", "schema.bases:read"))
    env = {"AIRTABLE_TOKEN": "read-only-token", "JIRA_TOKEN": "viewer-token"}
    result = setup.doctor(env=env)
    assert result.exit_code == EXIT_CONFIG, result.output
    jira_block = _lines(result, JIRA)
    assert "[ok  ] credentials" in jira_block and "[FAIL] permissions" in jira_block
    assert "EDIT_ISSUES on APP" in jira_block and "permission scheme" in jira_block
    airtable_block = _lines(result, AIRTABLE)
    assert "[FAIL] permissions" in airtable_block
    assert "lacks scope(s) data.records:write" in airtable_block
    assert "add data.records:write" in airtable_block


def test_init_refuses_to_overwrite_and_asks_when_no_tool_is_given(tmp_path: Path) -> None:
    (tmp_path / "pmo-sync.yaml").write_text("version: 1\n")
    args = ["init", "--dir", str(tmp_path), "--tool", "jira", "--jira-url", "https://x.example"]
    refused = CliRunner().invoke(main, args)
    assert refused.exit_code == EXIT_CONFIG and "--force" in refused.output
    asked = CliRunner().invoke(
        main,
        ["init", "--dir", str(tmp_path / "new"), "--no-discover"],
        input="jira\nhttps://acme.atlassian.net\ny\nbot@acme.com\nPAY\n",
        env={"JIRA_TOKEN": ""},
    )
    assert asked.exit_code == 0, asked.output
    written = (tmp_path / "new" / "pmo-sync.yaml").read_text()
    assert "url: https://acme.atlassian.net" in written and "email: bot@acme.com" in written
    assert "- PAY" in (tmp_path / "new" / "teams" / "jira.yaml").read_text()
    # what init writes is a config the loader accepts
    valid = CliRunner().invoke(
        main, ["config", "validate", "--json", "-c", str(tmp_path / "new" / "pmo-sync.yaml")]
    )
    assert valid.exit_code == 0, valid.output
    assert json.loads(valid.stdout)["connections"] == {"delivery_jira": "jira"}


def test_project_server_custom_fields_and_lookup_values_are_checked(tmp_path: Path) -> None:
    from pmosync.sandbox.scenarios import pwa

    with Sandbox(pwa.scenario(projects=1), tmp_path / "pwa") as running:
        config = str(running.config_path)
        ok = CliRunner().invoke(main, ["doctor", "-c", config])
        assert ok.exit_code == 0, ok.output
        assert "[ok  ] fields      every mapped custom field and lookup value exists" in ok.output
        # the mapping writes a RAG word the site's lookup table does not have
        mapping = running.directory / "teams" / "plans_pwa.yaml"
        yaml = YAML()
        data = yaml.load(mapping.read_text())
        data["entities"]["project"]["fields"]["rag_computed"]["values"]["Blue"] = "grey"
        with mapping.open("w") as handle:
            yaml.dump(data, handle)
        # and an administrator deleted the PMO Status custom field
        emulator: Any = running.services["plans_pwa"].emulator
        state = emulator.state
        gone = next(f for f in state.custom_fields if f.name == "PMO Status")
        state.custom_fields.remove(gone)
        result = CliRunner().invoke(main, ["doctor", "-c", config])
    assert result.exit_code == EXIT_CONFIG, result.output
    block = _lines(result, "plans_pwa")
    assert "'PMO Status' is neither a task/project field nor an enterprise custom field" in block
    assert "fix: restore the custom field in PWA settings" in block
    assert "value(s) 'Blue' are not in the lookup table of PMO RAG" in block


def test_jira_select_options_are_checked_against_createmeta(tmp_path: Path) -> None:
    with Sandbox(jira.cloud_scenario(projects=2), tmp_path / "jira") as running:
        config = str(running.config_path)
        ok = CliRunner().invoke(main, ["doctor", "-c", config])
        assert ok.exit_code == 0, ok.output  # Low/Medium/High exist on Risk Impact
        mapping = running.directory / "teams" / f"{JIRA}.yaml"
        yaml = YAML()
        data = yaml.load(mapping.read_text())
        data["entities"]["raid_item"]["fields"]["impact"]["values"]["Severe"] = 5
        with mapping.open("w") as handle:
            yaml.dump(data, handle)
        result = CliRunner().invoke(main, ["doctor", "-c", config])
    assert result.exit_code == EXIT_CONFIG, result.output
    block = _lines(result, JIRA)
    assert "entities.raid_item.fields.impact: option(s) 'Severe' are not offered by" in block
    assert "(has High, Low, Medium)" in block
