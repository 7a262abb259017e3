from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from pmosync.cli import EXIT_CONFIG, main
from pmosync.config.loader import load_config
from pmosync.errors import ConfigError

GOOD_MAPPING = """\
entities:
  project:
    table: Projects
    id_field: pmo-sync id
    fields:
      name: {field: Name}
      code: {field: Code}
      status:
        field: Status
        values: {"In progress": active, "Done": done}
      next_milestone: {field: Next milestone, direction: push}
"""

GOOD_CONFIG = """\
version: 1
store:
  url: sqlite:///state/pmo.db
portfolio:
  name: Contoso
  timezone: Europe/London
sync:
  overlap: 5m
connections:
  pmo:
    kind: airtable
    base_id: appABCDEFGHIJKLMN
    token_env: AIRTABLE_TOKEN
teams:
  pmo:
    connection: pmo
    mapping: teams/pmo.yaml
"""


def write(tmp_path: Path, config: str, mapping: str = GOOD_MAPPING) -> Path:
    (tmp_path / "teams").mkdir(exist_ok=True)
    (tmp_path / "teams" / "pmo.yaml").write_text(mapping)
    path = tmp_path / "pmo-sync.yaml"
    path.write_text(config)
    return path


def test_good_config_loads_with_paths_relative_to_the_file(tmp_path: Path) -> None:
    loaded = load_config(write(tmp_path, GOOD_CONFIG))
    assert loaded.config.sync.overlap == 300
    assert loaded.store_url() == f"sqlite:///{(tmp_path / 'state/pmo.db').resolve()}"
    [mapping] = loaded.mappings_for("pmo")
    assert mapping.team == "pmo" and mapping.source.endswith("teams/pmo.yaml")


def test_five_mistakes_are_all_reported_with_file_and_line(tmp_path: Path) -> None:
    config = """\
version: 1
portfolio:
  timezone: Mars/Olympus
sync:
  overlap: soon
connections:
  pmo:
    kind: airtable
    base_id: notabase
    token: patSECRETVALUE.123
    token_env: AIRTABLE_TOKEN
teams:
  pmo:
    connection: pmo
    mapping: teams/pmo.yaml
    colour: blue
"""
    path = write(tmp_path, config)
    with pytest.raises(ConfigError) as err:
        load_config(path)
    problems = err.value.problems
    assert len(problems) == 5, problems
    expected = {
        3: "portfolio.timezone",
        5: "sync.overlap",
        9: "connections.pmo.base_id",
        10: "connections.pmo.token",
        16: "teams.pmo.colour",
    }
    for line, key in expected.items():
        assert any(p.startswith(f"{path}:{line} › {key}:") for p in problems), (line, problems)
    secret = next(p for p in problems if "connections.pmo.token:" in p)
    assert "token_env" in secret and "patSECRETVALUE" not in secret
    assert all("patSECRETVALUE" not in p for p in problems)


def test_mapping_file_errors_name_the_mapping_file_and_line(tmp_path: Path) -> None:
    mapping = GOOD_MAPPING.replace("name: {field: Name}", "nmae: {field: Name}").replace(
        "next_milestone: {field: Next milestone, direction: push}",
        "next_milestone: {field: Next milestone, direction: both}",
    )
    path = write(tmp_path, GOOD_CONFIG, mapping)
    with pytest.raises(ConfigError) as err:
        load_config(path)
    mapping_path = tmp_path / "teams" / "pmo.yaml"
    problems = err.value.problems
    assert any(
        p.startswith(f"{mapping_path}:6 › entities.project.fields.nmae:") and "no canonical" in p
        for p in problems
    ), problems
    assert any(
        p.startswith(f"{mapping_path}:11 › entities.project.fields.next_milestone")
        for p in problems
    ), problems


def test_unknown_connection_kind_and_team_connection(tmp_path: Path) -> None:
    config = GOOD_CONFIG.replace("kind: airtable", "kind: airtabel").replace(
        "    connection: pmo", "    connection: nope"
    )
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, config))
    assert any(
        "airtabel" in p and ":11 › connections.pmo.kind:" in p for p in err.value.problems
    ), err.value.problems


def test_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD_CONFIG.replace("  name: Contoso", "  name: [Contoso"))
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert str(path) in str(err.value)


def test_cli_validate_lists_every_problem_and_exits_with_config_code(tmp_path: Path) -> None:
    config = GOOD_CONFIG.replace("base_id: appABCDEFGHIJKLMN", "base_id: nope").replace(
        "timezone: Europe/London", "timezone: Nowhere"
    )
    path = write(tmp_path, config)
    result = CliRunner().invoke(main, ["config", "validate", "--config", str(path)])
    assert result.exit_code == EXIT_CONFIG
    assert f"{path}:6 › portfolio.timezone" in result.output
    assert f"{path}:12 › connections.pmo.base_id" in result.output
    ok = CliRunner().invoke(
        main, ["config", "validate", "--config", str(write(tmp_path, GOOD_CONFIG))]
    )
    assert ok.exit_code == 0, ok.output


def test_cli_schema_is_json_schema(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["config", "schema"])
    schema = json.loads(result.output)
    assert "connections" in schema["properties"]
    mapping = json.loads(CliRunner().invoke(main, ["config", "schema", "--kind", "mapping"]).output)
    assert "entities" in mapping["properties"]


def test_missing_secret_names_the_variable_not_a_value(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pmosync.errors import AuthError

    monkeypatch.delenv("AIRTABLE_TOKEN", raising=False)
    loaded = load_config(write(tmp_path, GOOD_CONFIG))
    with pytest.raises(AuthError, match="AIRTABLE_TOKEN"):
        loaded.config.connections["pmo"].token.resolve("token", "pmo")  # type: ignore[union-attr]


def test_missing_mapping_file_names_the_config_line(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD_CONFIG.replace("teams/pmo.yaml", "teams/missing.yaml"))
    with pytest.raises(ConfigError) as err:
        load_config(path)
    [problem] = err.value.problems
    assert (
        problem.startswith(f"{path}:17 ›") and "missing.yaml" in problem and "not found" in problem
    )


def test_mistakes_in_every_file_are_reported_in_one_go(tmp_path: Path) -> None:
    config = GOOD_CONFIG.replace("timezone: Europe/London", "timezone: Nowhere").replace(
        "teams:\n", "teams:\n  delivery:\n    connection: pmo\n    mapping: teams/pmo.yaml\n"
    )
    mapping = GOOD_MAPPING.replace("name: {field: Name}", "nmae: {field: Name}").replace(
        "code: {field: Code}", "code: {field: Code, direction: sideways}"
    )
    path = write(tmp_path, config, mapping)
    with pytest.raises(ConfigError) as err:
        load_config(path)
    problems = err.value.problems
    mapping_path = tmp_path / "teams" / "pmo.yaml"
    assert any(p.startswith(f"{path}:6 › portfolio.timezone") for p in problems), problems
    assert any(p.startswith(f"{mapping_path}:6 › entities.project.fields.nmae") for p in problems)
    assert any(
        p.startswith(f"{mapping_path}:7 › entities.project.fields.code.direction") for p in problems
    ), problems
    # two teams share the mapping file: each of its problems is listed once
    assert len(problems) == len(set(problems)) == 3, problems


def test_a_password_in_the_store_url_is_refused_without_echoing_it(tmp_path: Path) -> None:
    config = GOOD_CONFIG.replace(
        "url: sqlite:///state/pmo.db", "url: postgresql+psycopg://pmo:hunter22@db/pmo"
    )
    path = write(tmp_path, config)
    with pytest.raises(ConfigError) as err:
        load_config(path)
    [problem] = err.value.problems
    assert problem.startswith(f"{path}:3 › store.url:") and "url_env" in problem
    assert "hunter22" not in problem


def test_the_shipped_examples_are_valid() -> None:
    examples = Path(__file__).resolve().parents[2] / "examples" / "pmo-sync.yaml"
    loaded = load_config(examples)
    assert set(loaded.config.connections) == {"pmo_airtable", "delivery_jira", "plans_pwa"}
    assert {m.connection for m in loaded.mappings.values()} == set(loaded.config.connections)


def test_sync_with_no_team_says_what_to_add(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIRTABLE_TOKEN", "x" * 20)
    config = GOOD_CONFIG[: GOOD_CONFIG.index("teams:")]
    path = write(tmp_path, config)
    result = CliRunner().invoke(main, ["sync", "--config", str(path)])
    assert result.exit_code == EXIT_CONFIG and "has no teams" in result.output
    path = write(tmp_path, GOOD_CONFIG)
    result = CliRunner().invoke(main, ["sync", "--connection", "nope", "--config", str(path)])
    assert result.exit_code == EXIT_CONFIG and "nope" in result.output
