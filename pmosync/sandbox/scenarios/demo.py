"""The demo: a realistic three-tool PMO.

The PMO keeps its register in Airtable, delivery teams work in Jira, planners in Project
Server. The same projects appear in several tools under one project code (Jira project key,
Project Server "Project Code"), which is how pmo-sync matches them (``sync.identity``).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from pmosync.sandbox.harness import Scenario, ServiceSpec
from pmosync.sandbox.scenarios import airtable_pmo, jira, pwa

JIRA_PROJECTS = 3
PWA_PROJECTS = 3


def _align_codes(airtable: ServiceSpec, codes: list[str]) -> None:
    """Give the first Airtable projects the codes the other tools use for the same projects."""
    emulator: Any = airtable.emulator
    projects = emulator.records(airtable_pmo.BASE_ID, "Projects")
    for record, code in zip(projects, codes, strict=False):
        emulator.edit_record(airtable_pmo.BASE_ID, "Projects", record["id"], {"Code": code})


def _set_authorities(airtable: ServiceSpec, pwa_plans: ServiceSpec) -> None:
    """Who owns what, as a PMO would configure it: the register owns project names, the
    schedule owns planned dates (so the first run has nothing to argue about)."""
    assert airtable.mapping is not None and pwa_plans.mapping is not None
    airtable.mapping["entities"]["project"]["fields"]["name"]["conflict"] = "authority"
    schedule = pwa_plans.mapping["entities"]["project"]["fields"]
    for name, remote in (("planned_start", "StartDate"), ("planned_finish", "FinishDate")):
        schedule[name] = {"field": remote, "direction": "pull", "conflict": "authority"}


def scenario(today: date | None = None, **_: Any) -> Scenario:
    [airtable] = airtable_pmo.services(today=today)
    delivery = jira.services(projects=JIRA_PROJECTS)
    plans = pwa.services(projects=PWA_PROJECTS)
    # Jira project keys, then Project Server's ProjectIdentifier values (P001, P002, ...)
    codes = list(delivery[0].extra["projects"]) + [f"P{i + 1:03d}" for i in range(PWA_PROJECTS)]
    services: list[ServiceSpec] = [airtable, *delivery, *plans]
    _align_codes(airtable, codes)
    _set_authorities(airtable, plans[-1])
    return Scenario(
        services=services,
        portfolio={"name": "Contoso PMO (sandbox)", "timezone": "Europe/London"},
        sync={"overlap": "5m", "identity": {"project": "code"}},
    )
