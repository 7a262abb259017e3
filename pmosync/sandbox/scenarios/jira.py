"""The ``jira-cloud`` and ``jira-dc`` scenarios: one seeded Jira site and a team mapping for it.

``services()`` is also what the demo and the tests compose: it returns the emulator with the
connection entry (token from ``secrets/<name>.token``), the credentials for ``sandbox.json`` and
a delivery team's mapping (work items with story points and start dates, Risk issues as RAID
items, Blocks / Finish-to-Start links as dependencies, fix versions as milestones, sprints).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any, Literal

from pmosync.sandbox.harness import Scenario, ServiceSpec
from pmosync.sandbox.jira.emulator import JiraEmulator
from pmosync.sandbox.jira.seed import SeedSpec

PROJECT_KEYS = ("APP", "DATA", "OPS", "WEB", "SEC")


def team_mapping(projects: list[str]) -> dict[str, Any]:
    """A delivery team's mapping, naming custom fields by name (ids differ per site)."""
    return {
        "entities": {
            "project": {"projects": projects},
            "work_item": {
                "projects": projects,
                "fields": {
                    "name": {"field": "summary"},
                    "status": {"field": "status"},
                    "due": {"field": "duedate"},
                    "start": {"field": "Start date"},
                    "story_points": {"field": "Story Points"},
                    "labels": {"field": "labels", "direction": "pull"},
                },
                "options": {
                    "transition_fields": {
                        "done": {"resolution": "Done"},
                        "cancelled": {"resolution": "Won't Do"},
                    },
                },
            },
            "raid_item": {
                "projects": projects,
                "issue_types": ["Risk"],
                "fields": {
                    "name": {"field": "summary"},
                    "impact": {
                        "field": "Risk Impact",
                        "values": {"Low": 1, "Medium": 3, "High": 5},
                    },
                    "probability": {
                        "field": "Risk Likelihood",
                        "values": {"Unlikely": 1, "Possible": 3, "Likely": 5},
                    },
                    "mitigation": {"field": "Mitigation"},
                },
            },
            "dependency": {"link_types": {"Blocks": "FS", "Finish-to-Start": "FS"}},
            "milestone": {"projects": projects},
            "iteration": {},
        }
    }


def services(
    name: str = "delivery_jira",
    deployment: Literal["cloud", "server"] = "cloud",
    today: date | None = None,
    **seed_opts: Any,
) -> list[ServiceSpec]:
    """One Jira emulator seeded from ``SeedSpec(**seed_opts)`` with its connection and mapping.

    ``today`` anchors the seeded history (sprints, releases, due dates) like the other
    scenarios' ``today``; ``seed_opts`` are :class:`SeedSpec` fields (``projects``,
    ``issues_per_project``, ``time_zone``, ``rng_seed``, ...).
    """
    if today is not None and "anchor" not in seed_opts:
        seed_opts["anchor"] = datetime.combine(today, time(), UTC)
    seed = SeedSpec(deployment=deployment, **seed_opts)
    emulator = JiraEmulator(deployment=deployment, seed=seed)
    credentials = dict(emulator.credentials)
    projects = list(seed.project_keys[: seed.projects])
    connection: dict[str, Any] = {
        "kind": "jira",
        "url": "{url}",
        "deployment": "cloud" if deployment == "cloud" else "datacenter",
        "token_file": f"secrets/{name}.token",
    }
    if deployment == "cloud":
        connection["email"] = credentials["email"]
        token = credentials["token"]
    else:
        token = credentials["pat"]
    return [
        ServiceSpec(
            name=name,
            kind="jira",
            emulator=emulator,
            credentials=credentials,
            connection=connection,
            secrets={"token": token},
            mapping=team_mapping(projects),
            extra={"deployment": deployment, "projects": projects},
        )
    ]


def cloud_scenario(**opts: Any) -> Scenario:
    opts.pop("deployment", None)
    return Scenario(services=services(deployment="cloud", **opts), sync={"overlap": "5m"})


def dc_scenario(**opts: Any) -> Scenario:
    opts.pop("deployment", None)
    opts.setdefault("name", "delivery_jira_dc")
    return Scenario(services=services(deployment="server", **opts), sync={"overlap": "5m"})
