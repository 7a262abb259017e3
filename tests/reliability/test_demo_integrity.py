"""The demo portfolio (Jira, Project Server, Airtable) synced through the CLI: no blank
records, no duplicate identities (issue #11, items 4, 5, 6)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from pyairtable import Api
from ruamel.yaml import YAML
from sqlalchemy import select

from pmosync.cli import main
from pmosync.sandbox.harness import Sandbox
from pmosync.sync import models
from pmosync.sync.store import Store

TODAY = date(2026, 11, 20)


class Demo:
    def __init__(self, sandbox: Sandbox, store: str) -> None:
        self.sandbox = sandbox
        self.store = store

    def sync(self, *args: str) -> tuple[int, dict[str, Any]]:
        result = CliRunner().invoke(
            main,
            [
                "sync",
                "--config",
                str(self.sandbox.config_path),
                "--json",
                "--today",
                TODAY.isoformat(),
                *args,
            ],
        )
        try:
            return result.exit_code, json.loads(result.stdout)
        except json.JSONDecodeError:
            return result.exit_code, {"output": result.output}

    def entities(self, entity_type: str) -> list[dict[str, Any]]:
        store = Store.open(self.store)
        try:
            with store.sessions() as session:
                rows = session.scalars(
                    select(models.Entity).where(models.Entity.entity_type == entity_type)
                )
                return [dict(r.values) for r in rows]
        finally:
            store.close()

    def airtable_rows(self, table: str) -> list[dict[str, Any]]:
        service = self.sandbox.services["pmo_airtable"]
        credentials: Any = service.spec.credentials
        api = Api(credentials["token"], endpoint_url=service.url, retry_strategy=None)
        api.session.verify = str(self.sandbox.ca.bundle_path)
        return [r["fields"] for r in api.table(credentials["base_id"], table).all()]


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[Demo]:
    with Sandbox("demo", tmp_path / "sb", today=TODAY) as sandbox:
        yaml = YAML()
        config = yaml.load(sandbox.config_path.read_text())
        url = f"sqlite:///{tmp_path / 'store.db'}"
        config["store"]["url"] = url
        with sandbox.config_path.open("w") as handle:
            yaml.dump(config, handle)
        yield Demo(sandbox, url)


def test_jira_fix_versions_never_become_blank_milestones_or_blank_airtable_rows(
    demo: Demo,
) -> None:
    code, report = demo.sync("--full")
    assert code == 0, report
    blank = [m for m in demo.entities("milestone") if not m.get("name")]
    assert blank == []
    rows = demo.airtable_rows("Milestones")
    assert rows and all(r.get("Name") for r in rows), [r for r in rows if not r.get("Name")]
