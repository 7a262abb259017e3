"""The demo: a realistic three-tool PMO.

The PMO keeps its register in Airtable, delivery teams work in Jira, planners in Project
Server. The same projects appear in several tools under one project code (Jira project key,
Project Server "Project Code"), which is how pmo-sync matches them (``sync.identity``).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from pmosync.sandbox.harness import Scenario, ServiceSpec
from pmosync.sandbox.scenarios import airtable_pmo, jira

JIRA_PROJECTS = 3


def _align_codes(airtable: ServiceSpec, codes: list[str]) -> None:
    """Give the first Airtable projects the codes the other tools use for the same projects."""
    emulator: Any = airtable.emulator
    projects = emulator.records(airtable_pmo.BASE_ID, "Projects")
    for record, code in zip(projects, codes, strict=False):
        emulator.edit_record(airtable_pmo.BASE_ID, "Projects", record["id"], {"Code": code})


def scenario(today: date | None = None, **_: Any) -> Scenario:
    [airtable] = airtable_pmo.services(today=today)
    delivery = jira.services(projects=JIRA_PROJECTS)
    codes = list(delivery[0].extra["projects"])
    services: list[ServiceSpec] = [airtable, *delivery]
    _align_codes(airtable, codes)
    return Scenario(
        services=services,
        portfolio={"name": "Contoso PMO (sandbox)", "timezone": "Europe/London"},
        sync={"overlap": "5m", "identity": {"project": "code"}},
    )
