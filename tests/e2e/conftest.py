"""An Airtable sandbox with the slice's config, wired to the test's store."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from ruamel.yaml import YAML

from pmosync.cli import main
from pmosync.sandbox.harness import RunningService, Sandbox, Scenario
from pmosync.sandbox.scenarios import airtable_pmo

TODAY = date(2026, 11, 20)


@dataclass
class Slice:
    sandbox: Sandbox
    config: Path

    def service(self, name: str = "pmo_airtable") -> RunningService:
        return self.sandbox.services[name]

    def sync(self, *args: str) -> tuple[int, dict[str, Any]]:
        result = CliRunner().invoke(
            main,
            ["sync", "--config", str(self.config), "--json", "--today", TODAY.isoformat(), *args],
        )
        try:
            report = json.loads(result.stdout)
        except json.JSONDecodeError:
            report = {"output": result.output}
        return result.exit_code, report

    def counters(self, name: str = "pmo_airtable") -> dict[str, int]:
        return dict(self.service(name).emulator.counters.snapshot()["by_endpoint"])


def fast_airtable(names: tuple[str, ...] = ("pmo_airtable",), **opts: Any) -> Scenario:
    services = []
    for name in names:
        [spec] = airtable_pmo.services(name=name, today=TODAY, **opts)
        assert spec.connection is not None
        spec.connection["lockout_seconds"] = 1  # the emulator's penalty is shortened to match
        spec.emulator.configure({"lockout_seconds": 1})
        services.append(spec)
    return Scenario(services=services, portfolio={"name": "Test", "timezone": "UTC"})


@pytest.fixture
def make_slice(tmp_path: Path, store_url: str) -> Iterator[Callable[..., Slice]]:
    started: list[Sandbox] = []

    def make(scenario: Scenario | None = None, *, mapping_edit: Any = None) -> Slice:
        sandbox = Sandbox(scenario or fast_airtable(), tmp_path / "sandbox").start()
        started.append(sandbox)
        yaml = YAML()
        config = yaml.load(sandbox.config_path.read_text())
        config["store"]["url"] = store_url
        with sandbox.config_path.open("w") as handle:
            yaml.dump(config, handle)
        if mapping_edit is not None:
            for team in config["teams"].values():
                path = sandbox.directory / team["mapping"]
                mapping = yaml.load(path.read_text())
                mapping_edit(mapping)
                with path.open("w") as handle:
                    yaml.dump(mapping, handle)
        return Slice(sandbox, sandbox.config_path)

    yield make
    for sandbox in started:
        sandbox.stop()


def pull_next_milestone_forward(slice_: Slice, name: str = "Go/no-go") -> str:
    """A person's edit: a project's next milestone moves to tomorrow under a new name.
    Returns that project's Airtable record id."""
    from datetime import timedelta

    emulator: Any = slice_.service().emulator
    base = airtable_pmo.BASE_ID
    milestones = {r["id"]: r["fields"] for r in emulator.records(base, "Milestones")}
    project_id, target = next(
        (f["Project"][0], mid)
        for mid, f in milestones.items()
        if f.get("Project") and not f.get("Done") and f.get("Due date", "") >= TODAY.isoformat()
    )
    tomorrow = (TODAY + timedelta(days=1)).isoformat()
    emulator.edit_record(base, "Milestones", target, {"Due date": tomorrow, "Name": name})
    return str(project_id)
