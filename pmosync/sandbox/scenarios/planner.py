"""The ``planner`` scenario: a Planner Premium (Dataverse) environment, the Entra token service it
trusts, and the PMO's Airtable register holding the same projects under the same codes.

Project schedule APIs accept only delegated users, so the connection signs in with the device
code flow; the sandbox does the one-time ``pmo-sync auth login`` itself after start (approving
the code through the Entra emulator's admin endpoint, as a person would), leaving the msal
token cache at ``tokens/<name>.msal.json`` (0600). Every later run refreshes silently, as cron
would.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from pmosync.sandbox.dataverse import DataverseEmulator, PlanSpec, SeedSpec, seeder
from pmosync.sandbox.entra import DEFAULT_TENANT_ID, DEFAULT_USER_UPN, EntraClient, EntraEmulator
from pmosync.sandbox.harness import Scenario, ServiceSpec
from pmosync.sandbox.scenarios import airtable_pmo
from pmosync.sandbox.scenarios.entra import device_code_sign_in, entra_service

PUBLIC_CLIENT_ID = "8c1d4e7f-2a3b-4c5d-9e6f-0a1b2c3d4e5f"
RAG_VALUES = {"Green": "G", "Amber": "A", "Red": "R"}
PLAN_CODES = ("PRJ-007", "PRJ-008")


def team_mapping() -> dict[str, Any]:
    """A planning team's mapping: the project code and the PMO's status columns are custom
    columns on msdyn_project; the plan's dates are the schedule's (it has the authority)."""
    return {
        "entities": {
            "project": {
                "fields": {
                    "code": {"field": "pmo_projectcode", "direction": "pull"},
                    # the register owns the RAG: Planner shows it, never argues with it
                    "rag": {"field": "pmo_rag", "values": dict(RAG_VALUES), "direction": "push"},
                    "pmo_status": {"field": "pmo_statusline"},
                    "forecast_finish": {"field": "pmo_forecastfinish"},
                    "planned_start": {
                        "field": "msdyn_scheduledstart",
                        "direction": "pull",
                        "conflict": "authority",
                    },
                    "planned_finish": {
                        "field": "msdyn_finish",
                        "direction": "pull",
                        "conflict": "authority",
                    },
                },
            },
            "work_item": {
                "fields": {
                    "name": {"field": "msdyn_subject"},
                    "percent_complete": {"field": "msdyn_progress"},
                },
            },
            "milestone": {},
            "dependency": {},
            "person": {},
            "programme": {},
        }
    }


def services(
    name: str = "plans_planner",
    *,
    entra_name: str | None = None,
    plans: list[PlanSpec] | None = None,
    dataverse_knobs: dict[str, Any] | None = None,
) -> list[ServiceSpec]:
    entra_name = entra_name or f"{name}_entra"
    entra = EntraEmulator(
        clients=[
            EntraClient(
                client_id=PUBLIC_CLIENT_ID,
                secret=None,
                name="pmo-sync planner",
                delegated_scopes=("user_impersonation",),
            )
        ],
        # a person at `pmo-sync auth login` in the sandbox: the code approves itself on the
        # first poll (the sandbox's own sign-in approves through the admin endpoint)
        device_interval=1,
        auto_approve_after_polls=1,
        auto_approve_user=DEFAULT_USER_UPN,
    )
    seed = SeedSpec(plans=plans) if plans else SeedSpec()
    dataverse = DataverseEmulator(
        seeder(seed), token_validator=entra.validate, **(dataverse_knobs or {})
    )
    connection: dict[str, Any] = {
        "kind": "planner",
        "org_url": "{url}",
        "authority": "{url:" + entra_name + "}",
        "tenant": DEFAULT_TENANT_ID,
        "client_id": PUBLIC_CLIENT_ID,
        "token_cache": f"tokens/{name}.msal.json",
        "time_zone": "UTC",
        "page_size": 10,  # small pages, so the sandbox exercises @odata.nextLink
        "requests_per_second": 100,
        # sandbox operation sets finish after a few polls; real ones take seconds
        "poll_seconds": 0.05,
    }
    return [
        entra_service(entra_name, entra, PUBLIC_CLIENT_ID),
        ServiceSpec(
            name=name,
            kind="dataverse",
            emulator=dataverse,
            credentials={"org_url": "{url}", "scope": "{url}/user_impersonation"},
            connection=connection,
            mapping=team_mapping(),
            extra={"entra": entra_name, "api": "{url}/api/data/v9.2"},
            after_start=device_code_sign_in(name, entra_name),
        ),
    ]


def plans_matching(airtable: ServiceSpec, codes: tuple[str, ...] = PLAN_CODES) -> list[PlanSpec]:
    """Plans for the register's projects with these codes: same code, same name, starting on
    the register's start date (a PMO that moved those projects' schedules into Planner)."""
    emulator: Any = airtable.emulator
    plans = []
    for record in emulator.records(airtable_pmo.BASE_ID, "Projects"):
        fields = record["fields"]
        if fields.get("Code") in codes:
            start = date.fromisoformat(str(fields.get("Start date") or "2026-09-07"))
            plans.append(PlanSpec(str(fields["Code"]), str(fields["Name"]), start))
    return sorted(plans, key=lambda p: p.code)


def scenario(today: date | None = None, **opts: Any) -> Scenario:
    [airtable] = airtable_pmo.services(today=today)
    planner = services(plans=plans_matching(airtable), **opts)
    return Scenario(
        services=[airtable, *planner],
        portfolio={"name": "Planner Premium sandbox", "timezone": "UTC"},
        sync={"overlap": "5m", "identity": {"project": "code"}},
    )
