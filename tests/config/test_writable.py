"""A mapping that pushes a field its tool cannot take fails `config validate` with the line
and the reason, instead of validating and then planning nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from pmosync.cli import EXIT_CONFIG, main
from pmosync.config.loader import load_config
from pmosync.errors import ConfigError

CONFIG = """\
version: 1
store:
  url: sqlite:///pmo.db
connections:
  delivery:
    kind: jira
    url: https://contoso.atlassian.net
    email: bot@contoso.com
    token_env: JIRA_TOKEN
  plans:
    kind: pwa
    site_url: https://project.contoso.com/sites/pwa
    tenant: contoso.onmicrosoft.com
    client_id: 4f1c2b9e-8d3a-4e5f-9b7c-1a2d3e4f5a6b
    auth: device_code
teams:
  delivery:
    connection: delivery
    mapping: jira.yaml
  plans:
    connection: plans
    mapping: pwa.yaml
"""

JIRA_SILENT = """\
entities:
  project:
    projects: [APP]
    fields:
      name: {field: name, direction: pull}
      rag_computed: {field: PMO RAG}
  milestone:
    projects: [APP]
    fields:
      forecast_finish: {field: releaseDate}
"""

JIRA_GOOD = """\
entities:
  project:
    projects: [APP]
    options:
      status_issues: {APP: APP-1}
    fields:
      rag_computed: {field: "property:pmo-sync.status"}
      pmo_status: {field: "property:pmo-sync.status"}
      forecast_finish: {field: Target end}
"""

PWA_SILENT = """\
entities:
  project:
    fields:
      rag_computed: {field: PMO RAG}
  work_item:
    fields:
      critical: {field: Flag1}
      labels: {field: Workstream, direction: pull}
  raid_item:
    fields:
      mitigation: {field: Mitigation, direction: push}
"""

PWA_GOOD = """\
entities:
  project:
    fields:
      rag_computed: {field: PMO RAG}
  work_item:
    fields:
      percent_complete: {field: PercentComplete}
      labels: {field: Workstream, direction: pull}
"""


def write(tmp_path: Path, jira: str, pwa: str) -> Path:
    (tmp_path / "jira.yaml").write_text(jira)
    (tmp_path / "pwa.yaml").write_text(pwa)
    path = tmp_path / "pmo-sync.yaml"
    path.write_text(CONFIG)
    return path


def test_fields_a_tool_cannot_write_are_named_with_line_and_reason(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, JIRA_SILENT, PWA_SILENT))
    problems = caught.value.problems or []
    jira = tmp_path / "jira.yaml"
    pwa = tmp_path / "pwa.yaml"
    assert (
        f"{jira}:6 › entities.project.fields.rag_computed: jira cannot write rag_computed"
        in (problems[0])
    )
    assert "property:KEY" in problems[0] and "status_issues" in problems[0]
    assert any(
        p.startswith(f"{jira}:10 › entities.milestone.fields.forecast_finish: jira cannot")
        for p in problems
    ), problems
    assert any(
        p.startswith(f"{pwa}:7 › entities.work_item.fields.critical: pwa cannot write critical")
        and "'Flag1' cannot carry critical" in p
        for p in problems
    ), problems
    assert any(
        p.startswith(f"{pwa}:11 › entities.raid_item.fields.mitigation: pwa cannot")
        for p in problems
    ), problems
    assert len(problems) == 4, problems  # the pulled and writable fields are fine


def test_properties_status_issues_and_task_fields_validate(tmp_path: Path) -> None:
    loaded = load_config(write(tmp_path, JIRA_GOOD, PWA_GOOD))
    assert set(loaded.mappings) == {"delivery", "plans"}


def test_config_validate_exits_with_the_problem(tmp_path: Path) -> None:
    path = write(tmp_path, JIRA_SILENT, PWA_GOOD)
    result = CliRunner().invoke(main, ["config", "validate", "--config", str(path)])
    assert result.exit_code == EXIT_CONFIG
    assert "jira cannot write rag_computed" in result.output
