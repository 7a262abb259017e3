"""A seeded Jira emulator per deployment (Cloud, Data Center) over https, shared per module.

Tests build their own connectors through :meth:`Site.connector` (the real ``jira`` client,
the connection and mapping the sandbox wrote) and reset the emulator between tests.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from pmosync.config.connections.jira import JiraConnection
from pmosync.config.loader import LoadedConfig, load_config
from pmosync.config.mapping import TeamMapping
from pmosync.connectors.jira.connector import JiraConnector
from pmosync.sandbox.harness import Sandbox
from pmosync.sandbox.jira.emulator import DEFAULT_KNOBS, JiraEmulator
from pmosync.sandbox.scenarios import jira as jira_scenarios


@dataclass
class Site:
    deployment: str  # cloud | server
    sandbox: Sandbox
    loaded: LoadedConfig
    name: str

    @property
    def cloud(self) -> bool:
        return self.deployment == "cloud"

    @property
    def url(self) -> str:
        return self.sandbox.services[self.name].url

    @property
    def emulator(self) -> JiraEmulator:
        emulator = self.sandbox.services[self.name].emulator
        assert isinstance(emulator, JiraEmulator)
        return emulator

    @property
    def ca(self) -> str:
        assert self.sandbox.ca is not None
        return str(self.sandbox.ca.bundle_path)

    @property
    def api(self) -> str:
        return "3" if self.cloud else "2"

    def config(self, **overrides: Any) -> JiraConnection:
        base = self.loaded.config.connections[self.name]
        assert isinstance(base, JiraConnection)
        # Tests are about behaviour, not about waiting: one attempt and no pacing unless a
        # test asks for them.
        return base.model_copy(
            update={"max_attempts": 1, "requests_per_second": 1000.0, **overrides}
        )

    def mapping(self, **entity_updates: dict[str, Any]) -> TeamMapping:
        (mapping,) = self.loaded.mappings_for(self.name)
        if not entity_updates:
            return mapping
        data = mapping.model_dump(mode="json")
        for entity, update in entity_updates.items():
            data["entities"][entity] = {**data["entities"].get(entity, {}), **update}
        return TeamMapping.model_validate(data).model_copy(
            update={
                "team": mapping.team,
                "connection": mapping.connection,
                "source": mapping.source,
            }
        )

    def connector(
        self,
        *,
        mapping: TeamMapping | None = None,
        overlap_seconds: float = 300.0,
        recent_writes: Sequence[str] = (),
        **config: Any,
    ) -> JiraConnector:
        """A connector as a new run builds it; ``recent_writes`` are the issue ids the engine
        hands over (written in the last hour), read through Cloud's search lag."""
        return JiraConnector(
            self.name,
            self.config(**config),
            [mapping or self.mapping()],
            overlap_seconds=overlap_seconds,
            recent_writes=recent_writes,
        )

    def search_lag_off(self, why: str) -> None:
        """Cloud's search shows every write at once; ``why`` says what the test is about."""
        assert why
        self.admin("POST", "config", {"search_lag_seconds": 0})

    def admin(self, method: str, path: str, body: Any = None) -> Any:
        response = requests.request(
            method, f"{self.url}/_admin/{path}", json=body, verify=self.ca, timeout=10
        )
        response.raise_for_status()
        return response.json()

    def counters(self) -> dict[str, int]:
        return dict(self.admin("GET", "counters")["by_endpoint"])

    def writes(self) -> int:
        """Requests to edit endpoints (anything not a GET) so far."""
        return sum(n for k, n in self.counters().items() if not k.startswith("GET "))

    def reset(self) -> None:
        """The seed back and every knob at its default (Cloud's search lag on: tests see
        writes in search through reconcileIssues, as the connector does on the real site)."""
        self.admin("POST", "reset")
        self.admin("POST", "config", dict(DEFAULT_KNOBS))


def _site(deployment: str, directory: Path) -> Iterator[Site]:
    scenario = (
        jira_scenarios.cloud_scenario() if deployment == "cloud" else jira_scenarios.dc_scenario()
    )
    with Sandbox(scenario, directory) as sandbox:
        loaded = load_config(sandbox.config_path)
        (name,) = loaded.config.connections
        yield Site(deployment, sandbox, loaded, name)


@pytest.fixture(scope="module", params=["cloud", "server"])
def site(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Site]:
    yield from _site(request.param, tmp_path_factory.mktemp(f"jira-{request.param}"))


@pytest.fixture
def fresh(site: Site) -> Site:
    """The site back in its seeded state, counters at zero."""
    site.reset()
    return site
