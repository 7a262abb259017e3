"""Explicit cross-tool links held in Jira fields, and link types classified per team."""

from __future__ import annotations

from pathlib import Path

import pytest

from pmosync.canonical_model import EntityType
from pmosync.canonical_model.provenance import NAMED_POINTER
from pmosync.config.loader import load_config
from pmosync.connectors.jira.mapper import CrossToolSpec, MapContext, map_cross_tool
from pmosync.errors import ConfigError

CTX = MapContext(connection="jira", cloud=True)
SPEC = CrossToolSpec("customfield_10060", "Depends on", "predecessor", "FS", "logic")


def _issue(value: object) -> dict[str, object]:
    return {"id": "10001", "key": "APP-1", "fields": {"customfield_10060": value}}


def test_each_name_in_the_field_is_one_dependency_on_the_named_item() -> None:
    records = map_cross_tool(_issue("P001 / Go-live, DATA-7\n"), [SPEC], CTX)
    assert [r.ref.external_id for r in records] == [
        "x:10001:customfield_10060:0",
        "x:10001:customfield_10060:1",
    ]
    first = records[0]
    assert first.pointers["predecessor"].external_id == NAMED_POINTER + "P001 / Go-live"
    assert first.pointers["successor"].external_id == "10001"
    assert first.values["origin"] == "mapping"
    assert first.values["source_link_type"] == "Depends on"
    assert first.values["dependency_class"] == "logic"


def test_names_successor_makes_the_issue_the_predecessor() -> None:
    spec = CrossToolSpec("customfield_10060", "Blocks plan", "successor", "SS", "gating")
    [record] = map_cross_tool(_issue({"value": "P002 / Build"}), [spec], CTX)
    assert record.pointers["predecessor"].external_id == "10001"
    assert record.pointers["successor"].external_id == NAMED_POINTER + "P002 / Build"
    assert record.values["link_type"] == "SS" and record.values["dependency_class"] == "gating"


def test_an_empty_field_gives_no_dependency() -> None:
    assert map_cross_tool(_issue(None), [SPEC], CTX) == []
    assert map_cross_tool(_issue(" , "), [SPEC], CTX) == []


CONFIG = """\
version: 1
connections:
  jira: {kind: jira, url: "https://x.atlassian.net", email: a@b.c, token_env: JT}
teams:
  delivery: {connection: jira, mapping: delivery.yaml}
"""


def test_link_type_roles_and_cross_tool_fields_are_checked_with_file_and_line(
    tmp_path: Path,
) -> None:
    (tmp_path / "pmo-sync.yaml").write_text(CONFIG)
    (tmp_path / "delivery.yaml").write_text(
        "entities:\n"
        "  dependency:\n"
        "    link_types: {Blocks: logic, Relates: sometimes}\n"
        "    cross_tool:\n"
        "      - {field: Depends on, names: parent}\n"
    )
    with pytest.raises(ConfigError) as err:
        load_config(tmp_path / "pmo-sync.yaml")
    problems = "\n".join(err.value.problems)
    assert f"{tmp_path / 'delivery.yaml'}:3" in problems and "Relates" in problems
    assert f"{tmp_path / 'delivery.yaml'}:5" in problems and "names" in problems


def test_a_valid_mapping_loads(tmp_path: Path) -> None:
    (tmp_path / "pmo-sync.yaml").write_text(CONFIG)
    (tmp_path / "delivery.yaml").write_text(
        "entities:\n"
        "  dependency:\n"
        "    link_types: {Blocks: logic, Relates: info, Finish-to-Start: FS}\n"
        "    remote_links: true\n"
        "    cross_tool: [{field: Depends on}]\n"
    )
    mapping = load_config(tmp_path / "pmo-sync.yaml").mappings["delivery"]
    dep = mapping.entities[EntityType.DEPENDENCY]
    assert dep.remote_links and dep.cross_tool[0].names == "predecessor"
    assert dep.link_types == {"Blocks": "logic", "Relates": "info", "Finish-to-Start": "FS"}
