"""A corpus of broken configurations and mappings (issue #11): each one through
`pmo-sync config validate` must end in exit 2 with the expected message, never a traceback,
a hang or an echoed secret. Each case is (name, config edit, mapping edit, expected text)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from pmosync.cli import EXIT_CONFIG, main
from tests.config.test_loader import GOOD_CONFIG, GOOD_MAPPING, write

SECRET = "patQ7xZr2LmNw9KbVd.4f1c2a9e8b7d6c5f4e3a2b1c0d9e8f7a"
JIRA = "  jira:\n    kind: jira\n    url: https://j.example\n    token_env: JIRA_TOKEN\n"
PWA = "  pwa:\n    kind: pwa\n    site_url: https://x.example/sites/pwa\n    client_id: abc\n"


def cfg(old: str, new: str) -> Callable[[str], str]:
    return lambda text: text.replace(old, new, 1)


def add_connection(block: str) -> Callable[[str], str]:
    return lambda text: text.replace("teams:", block + "teams:", 1)


def keep(text: str) -> str:
    return text


CASES: list[tuple[str, Callable[[str], str], Callable[[str], str], str]] = [
    ("version 2", cfg("version: 1", "version: 2"), keep, "version"),
    ("no connections", cfg("connections:\n", "connectionz:\n"), keep, "unknown key"),
    ("unknown top key", cfg("version: 1", "version: 1\nextra: 1"), keep, "unknown key 'extra'"),
    ("timezone", cfg("Europe/London", "Mars/Olympus"), keep, "unknown time zone"),
    ("overlap word", cfg("overlap: 5m", "overlap: soon"), keep, "sync.overlap"),
    ("overlap negative", cfg("overlap: 5m", "overlap: -5m"), keep, "sync.overlap"),
    ("overlap nan", cfg("overlap: 5m", "overlap: .nan"), keep, "positive, finite"),
    ("overlap inf", cfg("overlap: 5m", "overlap: .inf"), keep, "positive, finite"),
    ("overlap bool", cfg("overlap: 5m", "overlap: true"), keep, "sync.overlap"),
    ("max run 0", cfg("overlap: 5m", "overlap: 5m\n  max_run_seconds: 0"), keep, "max_run"),
    ("max run inf", cfg("overlap: 5m", "overlap: 5m\n  max_run_seconds: .inf"), keep, "max_run"),
    ("full run days", cfg("overlap: 5m", "overlap: 5m\n  full_run_days: 0"), keep, "full_run"),
    (
        "identity field",
        cfg("overlap: 5m", "overlap: 5m\n  identity: {project: kode}"),
        keep,
        "no canonical field 'kode'",
    ),
    ("bad base id", cfg("appABCDEFGHIJKLMN", "notabase"), keep, "base_id"),
    (
        "http endpoint",
        cfg("    token_env:", "    endpoint_url: http://a.example\n    token_env:"),
        keep,
        "https://",
    ),
    (
        "no scheme",
        cfg("    token_env:", "    endpoint_url: a.example\n    token_env:"),
        keep,
        "https://",
    ),
    (
        "token in yaml",
        cfg("token_env: AIRTABLE_TOKEN", f"token: {SECRET}"),
        keep,
        "secrets are not allowed",
    ),
    ("token as env", cfg("token_env: AIRTABLE_TOKEN", f"token_env: {SECRET}"), keep, "not shown"),
    ("token as file", cfg("token_env: AIRTABLE_TOKEN", f"token_file: {SECRET}"), keep, "not shown"),
    (
        "env with dash",
        cfg("token_env: AIRTABLE_TOKEN", "token_env: AIRTABLE-TOKEN"),
        keep,
        "NAME of an environment variable",
    ),
    (
        "rps too high",
        cfg("    token_env:", "    requests_per_second: 50\n    token_env:"),
        keep,
        "requests_per_second",
    ),
    (
        "timeout inf",
        cfg("    token_env:", "    timeout_seconds: .inf\n    token_env:"),
        keep,
        "timeout_seconds",
    ),
    (
        "garbage ca",
        cfg("    token_env:", "    ca_bundle: pmo-sync.yaml\n    token_env:"),
        keep,
        "no usable PEM",
    ),
    (
        "missing ca",
        cfg("    token_env:", "    ca_bundle: none.pem\n    token_env:"),
        keep,
        "no such file",
    ),
    (
        "store password",
        cfg("sqlite:///state/pmo.db", "postgresql://u:hunter22@db/pmo"),
        keep,
        "url_env",
    ),
    ("store not url", cfg("sqlite:///state/pmo.db", "pmo.db"), keep, "not a database URL"),
    ("jira http", add_connection(JIRA.replace("https://", "http://")), keep, "https://"),
    ("jira both tokens", add_connection(JIRA + "    token_file: t\n"), keep, "exactly one"),
    ("jira cloud email", add_connection(JIRA + "    deployment: cloud\n"), keep, "email"),
    ("pwa http", add_connection(PWA.replace("https://", "http://")), keep, "https://"),
    ("pwa no client", add_connection(PWA.replace("    client_id: abc\n", "")), keep, "client_id"),
    ("unknown kind", add_connection("  x:\n    kind: trello\n"), keep, "kind"),
    (
        "team no connection",
        cfg("    connection: pmo", "    connection: nope"),
        keep,
        "no connection named 'nope'",
    ),
    ("missing mapping", cfg("teams/pmo.yaml", "teams/none.yaml"), keep, "not found"),
    (
        "duplicate key",
        cfg(
            "    token_env: AIRTABLE_TOKEN",
            f"    token_env: {SECRET}\n    token_env: AIRTABLE_TOKEN",
        ),
        keep,
        "duplicate key 'token_env'",
    ),
    ("yaml syntax", cfg("  name: Contoso", "  name: [Contoso"), keep, "invalid YAML"),
    ("mapping unknown entity", keep, cfg("  project:", "  projekt:"), "projekt"),
    (
        "mapping unknown field",
        keep,
        cfg("name: {field: Name}", "nmae: {field: Name}"),
        "no canonical field 'nmae'",
    ),
    (
        "mapping direction",
        keep,
        cfg("code: {field: Code}", "code: {field: Code, direction: up}"),
        "direction",
    ),
    (
        "mapping computed pull",
        keep,
        cfg(
            "next_milestone: {field: Next milestone, direction: push}",
            "next_milestone: {field: Next milestone, direction: pull}",
        ),
        "computed",
    ),
    (
        "mapping id_field clash",
        keep,
        cfg("code: {field: Code}", "code: {field: pmo-sync id}"),
        "id_field",
    ),
    ("mapping bad value", keep, cfg('"Done": done', '"Done": finished'), "is not a valid"),
    ("mapping loader key", keep, lambda m: "team: x\n" + m, "unknown key 'team'"),
    ("mapping unknown top", keep, lambda m: "tables: {}\n" + m, "unknown key 'tables'"),
    ("mapping empty", keep, lambda m: "", "entities"),
    ("mapping a list", keep, lambda m: "- a\n- b\n", "TeamMapping"),
]


@pytest.mark.parametrize(
    ("name", "edit_config", "edit_mapping", "expected"), CASES, ids=[c[0] for c in CASES]
)
def test_broken_configuration_is_a_clear_config_error(
    tmp_path: Path,
    name: str,
    edit_config: Callable[[str], str],
    edit_mapping: Callable[[str], str],
    expected: str,
) -> None:
    config, mapping = edit_config(GOOD_CONFIG), edit_mapping(GOOD_MAPPING)
    assert (config, mapping) != (GOOD_CONFIG, GOOD_MAPPING), "the case changes nothing"
    result = CliRunner().invoke(
        main, ["config", "validate", "--config", str(write(tmp_path, config, mapping))]
    )
    assert result.exit_code == EXIT_CONFIG, result.output
    assert expected in result.output, result.output
    assert "Traceback" not in result.output and SECRET not in result.output


def test_the_corpus_has_at_least_forty_cases() -> None:
    assert len(CASES) >= 40
