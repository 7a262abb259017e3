"""Config hardening (issue #11: items 7, 8, 12, 14, 15), each through `pmo-sync config validate`.

Every case is a file a person could really write; each must end in exit 2 (config error) with
the file:line and what to do, never a traceback, a hang or a secret echoed back.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from pmosync.cli import EXIT_CONFIG, main
from tests.config.test_loader import GOOD_CONFIG, GOOD_MAPPING, write

PASTED = "patQ7xZr2LmNw9KbVd.4f1c2a9e8b7d6c5f4e3a2b1c0d9e8f7a"  # an Airtable-shaped PAT


def validate(path: Path) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["config", "validate", "--config", str(path)])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, result.output


def test_the_good_config_still_validates(tmp_path: Path) -> None:
    code, output = validate(write(tmp_path, GOOD_CONFIG))
    assert code == 0, output


@pytest.mark.parametrize(
    ("key", "value", "line"),
    [
        ("endpoint_url", "http://api.airtable.com", 13),
        ("endpoint_url", "HTTP://api.airtable.com", 13),
    ],
)
def test_plain_http_is_refused_naming_the_line(
    tmp_path: Path, key: str, value: str, line: int
) -> None:
    config = GOOD_CONFIG.replace("    token_env:", f"    {key}: {value}\n    token_env:")
    code, output = validate(write(tmp_path, config))
    assert code == EXIT_CONFIG
    assert f"pmo-sync.yaml:{line} › connections.pmo.{key}: must be an https:// URL" in output


def test_jira_and_pwa_urls_must_be_https(tmp_path: Path) -> None:
    config = GOOD_CONFIG.replace(
        "teams:",
        "  jira:\n    kind: jira\n    url: http://jira.example.com\n    token_env: JIRA_TOKEN\n"
        "  pwa:\n    kind: pwa\n    site_url: http://pwa.example.com/sites/pwa\n"
        "    client_id: abc\nteams:",
    )
    code, output = validate(write(tmp_path, config))
    assert code == EXIT_CONFIG
    assert "connections.jira.url: must be an https:// URL" in output
    assert "connections.pwa.site_url: must be an https:// URL" in output


@pytest.mark.parametrize("key", ["token_env", "token_file"])
def test_a_token_pasted_as_token_env_or_file_is_never_echoed(tmp_path: Path, key: str) -> None:
    config = GOOD_CONFIG.replace("token_env: AIRTABLE_TOKEN", f"{key}: {PASTED}")
    code, output = validate(write(tmp_path, config))
    assert code == EXIT_CONFIG
    assert f"pmo-sync.yaml:13 › connections.pmo.{key}" in output
    assert "not shown" in output
    assert PASTED not in output and PASTED.split(".")[0] not in output


def test_a_duplicate_key_names_the_key_never_the_values(tmp_path: Path) -> None:
    config = GOOD_CONFIG.replace(
        "token_env: AIRTABLE_TOKEN", f"token_env: {PASTED}\n    token_env: AIRTABLE_TOKEN"
    )
    code, output = validate(write(tmp_path, config))
    assert code == EXIT_CONFIG
    assert "pmo-sync.yaml:14" in output and "duplicate key 'token_env'" in output
    assert PASTED not in output


def test_a_world_readable_token_file_is_warned_about(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from pmosync.config.loader import load_config

    secret = tmp_path / "airtable.token"
    secret.write_text("x" * 30)
    os.chmod(secret, 0o644)
    config = GOOD_CONFIG.replace("token_env: AIRTABLE_TOKEN", "token_file: airtable.token")
    loaded = load_config(write(tmp_path, config))
    ref = loaded.config.connections["pmo"].token  # type: ignore[union-attr]
    with caplog.at_level("WARNING"):
        assert ref.resolve("token", "pmo") == "x" * 30
    assert "readable by other users" in caplog.text and "chmod 600" in caplog.text
    caplog.clear()
    os.chmod(secret, 0o600)
    with caplog.at_level("WARNING"):
        ref.resolve("token", "pmo")
    assert "readable by other users" not in caplog.text


def test_a_binary_file_is_a_clear_error(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD_CONFIG)
    path.write_bytes(b"version: 1\n\x89PNG\r\n\x1a\n\x00\x00\xff\xfe")
    code, output = validate(path)
    assert code == EXIT_CONFIG
    assert f"{path}:2 › not a UTF-8 text file" in output


def test_a_binary_mapping_names_the_mapping(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD_CONFIG)
    (tmp_path / "teams" / "pmo.yaml").write_bytes(b"\x00\x01\x02entities")
    code, output = validate(path)
    assert code == EXIT_CONFIG
    assert "pmo.yaml:1 › binary data" in output


def test_an_alias_bomb_stops_at_the_value_limit(tmp_path: Path) -> None:
    bomb = 'l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]\n'
    for level in range(1, 10):
        bomb += f"l{level}: &l{level} [" + ", ".join([f"*l{level - 1}"] * 9) + "]\n"
    path = write(tmp_path, GOOD_CONFIG + bomb)
    code, output = validate(path)
    assert code == EXIT_CONFIG
    assert "expands to more than" in output and "aliases" in output


def test_a_huge_file_is_refused_before_it_is_parsed(tmp_path: Path) -> None:
    from pmosync.config.yamlsource import MAX_BYTES

    path = write(tmp_path, GOOD_CONFIG)
    with path.open("a") as handle:
        handle.write("# padding\n" * (MAX_BYTES // 10 + 1))
    code, output = validate(path)
    assert code == EXIT_CONFIG
    assert "a configuration or mapping is at most" in output


@pytest.mark.parametrize("value", ["-5m", "-300", ".nan", ".inf", "0", "-.inf"])
def test_overlap_must_be_positive_and_finite(tmp_path: Path, value: str) -> None:
    code, output = validate(
        write(tmp_path, GOOD_CONFIG.replace("overlap: 5m", f"overlap: {value}"))
    )
    assert code == EXIT_CONFIG, output
    assert "pmo-sync.yaml:8 › sync.overlap" in output and "Traceback" not in output


def test_infinite_timeouts_are_refused(tmp_path: Path) -> None:
    config = GOOD_CONFIG.replace("    token_env:", "    timeout_seconds: .inf\n    token_env:")
    code, output = validate(write(tmp_path, config))
    assert code == EXIT_CONFIG
    assert "connections.pmo.timeout_seconds" in output


def test_a_field_on_the_id_field_column_is_an_error(tmp_path: Path) -> None:
    mapping = GOOD_MAPPING.replace("code: {field: Code}", "code: {field: pmo-sync id}")
    code, output = validate(write(tmp_path, GOOD_CONFIG, mapping))
    assert code == EXIT_CONFIG
    assert "pmo.yaml:7 › entities.project.fields.code.field" in output
    assert "id_field" in output


def test_loader_only_keys_at_the_top_of_a_mapping_are_unknown(tmp_path: Path) -> None:
    code, output = validate(write(tmp_path, GOOD_CONFIG, "connection: other\n" + GOOD_MAPPING))
    assert code == EXIT_CONFIG
    assert "pmo.yaml:1 › connection: unknown key 'connection'" in output
    code, output = validate(write(tmp_path, GOOD_CONFIG, "tables: {}\n" + GOOD_MAPPING))
    assert code == EXIT_CONFIG and "unknown key 'tables'" in output


def test_values_mapping_to_an_invalid_canonical_value_fail_validation(tmp_path: Path) -> None:
    mapping = GOOD_MAPPING.replace('"Done": done', '"Done": finished')
    code, output = validate(write(tmp_path, GOOD_CONFIG, mapping))
    assert code == EXIT_CONFIG
    assert "entities.project.fields.status.values.Done: 'finished' is not a valid" in output


@pytest.mark.parametrize(
    ("jql", "problem"),
    [
        ("labels = pmo) OR (project = SECRET", "unbalanced ')'"),
        ("(labels = pmo", "unbalanced '('"),
        ('summary ~ "open', "unterminated"),
    ],
)
def test_jql_fragments_must_stay_inside_their_parentheses(
    tmp_path: Path, jql: str, problem: str
) -> None:
    config = GOOD_CONFIG.replace(
        "teams:", "  jira:\n    kind: jira\n    url: https://j.example\n    token_env: J\nteams:"
    ).replace("    connection: pmo\n", "    connection: jira\n")
    mapping = (
        f"entities:\n  work_item:\n    jql: '{jql}'\n    fields:\n      name: {{field: summary}}\n"
    )
    code, output = validate(write(tmp_path, config, mapping))
    assert code == EXIT_CONFIG, output
    assert "pmo.yaml:3 › entities.work_item.jql" in output and problem in output
    ok = (
        "entities:\n  work_item:\n    jql: 'labels in (\"a)\", b)'\n"
        "    fields:\n      name: {field: summary}\n"
    )
    code, output = validate(write(tmp_path, config, ok))
    assert code == 0, output


@pytest.mark.parametrize("content", [b"garbage\n", b"", None])
def test_a_bad_ca_bundle_is_a_config_error(tmp_path: Path, content: bytes | None) -> None:
    if content is not None:
        (tmp_path / "ca.pem").write_bytes(content)
    config = GOOD_CONFIG.replace("    token_env:", "    ca_bundle: ca.pem\n    token_env:")
    code, output = validate(write(tmp_path, config))
    assert code == EXIT_CONFIG
    assert "pmo-sync.yaml:13 › connections.pmo.ca_bundle" in output


def test_a_store_url_that_is_no_url_fails_validation(tmp_path: Path) -> None:
    config = GOOD_CONFIG.replace("url: sqlite:///state/pmo.db", "url: pmo.db")
    code, output = validate(write(tmp_path, config))
    assert code == EXIT_CONFIG and "pmo-sync.yaml:3 › store.url: not a database URL" in output
