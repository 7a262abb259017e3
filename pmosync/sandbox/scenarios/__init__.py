"""Named scenarios: which emulators run, how they are seeded, and the config written for them.

Each builder returns a :class:`~pmosync.sandbox.harness.Scenario`. ``demo`` is the realistic
three-tool PMO that ``pmo-sync demo`` runs; the others are single-tool scenarios for tests.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from typing import Any

from pmosync.errors import ConfigError
from pmosync.sandbox.harness import Scenario

# name -> "module:function"; each module owns its own scenario so emulators stay independent.
SCENARIOS: dict[str, str] = {
    "airtable": "pmosync.sandbox.scenarios.airtable_pmo:scenario",
    "cross-tool": "pmosync.sandbox.scenarios.cross_tool:scenario",
    "demo": "pmosync.sandbox.scenarios.demo:scenario",
    "jira-cloud": "pmosync.sandbox.scenarios.jira:cloud_scenario",
    "jira-dc": "pmosync.sandbox.scenarios.jira:dc_scenario",
    "planner": "pmosync.sandbox.scenarios.planner:scenario",
    "pwa": "pmosync.sandbox.scenarios.pwa:scenario",
}


def register(name: str, target: str) -> None:
    SCENARIOS[name] = target


def build_scenario(name: str, **options: Any) -> Scenario:
    target = SCENARIOS.get(name)
    if target is None:
        raise ConfigError(
            f"unknown sandbox scenario {name!r} (known: {', '.join(sorted(SCENARIOS))})"
        )
    module_name, _, attr = target.partition(":")
    builder: Callable[..., Scenario] = getattr(import_module(module_name), attr)
    return builder(**options)
