"""The ``pwa`` scenario: a seeded Project Web App site and the Entra token service it trusts.

``services()`` is what the demo and the tests compose: the Entra emulator (not a connection) and
the PWA emulator with its connection entry. Project Online has no app-only access and SharePoint
Online refuses app-only tokens got with a client secret, so the PWA emulator runs with its
real-service default (app-only refused) and the connection signs in as a real one must: a
delegated user with the device code flow (``auth: device_code``, a public client, no secret).
The sandbox does the one-time ``pmo-sync auth login`` after start, approving the code through
the Entra emulator's admin endpoint as a person would in a browser; the token cache lands in
``tokens/<name>.msal.json`` (0600) and every later run refreshes silently, as cron would.
"""

from __future__ import annotations

from typing import Any

from pmosync.sandbox.entra import DEFAULT_TENANT_ID, EntraClient, EntraEmulator
from pmosync.sandbox.harness import Scenario, ServiceSpec
from pmosync.sandbox.pwa import PwaEmulator, SeedSpec
from pmosync.sandbox.scenarios.entra import device_code_sign_in, entra_service

# A public client (no secret) for device-code sign-in against the sandbox.
PUBLIC_CLIENT_ID = "3f6e2a9d-1b4c-4d7e-8a5f-0c2b9e7d4a18"
SITE_PATH = "/sites/pwa"
RAG_VALUES = {"Green": "G", "Amber": "A", "Red": "R"}


def team_mapping() -> dict[str, Any]:
    """A planning team's mapping: PMO fields pushed to project custom fields (by display name,
    since their GUIDs differ per site), the task custom field Workstream read as a label."""
    return {
        "entities": {
            "project": {
                "options": {"risk_impact_scale": 5},
                "fields": {
                    "code": {"field": "ProjectIdentifier", "direction": "pull"},
                    "rag_computed": {"field": "PMO RAG", "values": dict(RAG_VALUES)},
                    "next_milestone_date": {"field": "PMO Forecast"},
                    "pmo_status": {"field": "PMO Status"},
                },
            },
            "work_item": {
                "fields": {"labels": {"field": "Workstream", "direction": "pull"}},
            },
            "milestone": {},
            "dependency": {},
            "raid_item": {},
            "person": {},
        }
    }


def services(
    name: str = "plans_pwa",
    *,
    entra_name: str | None = None,
    pwa_knobs: dict[str, Any] | None = None,
    entra_knobs: dict[str, Any] | None = None,
    sign_in: bool = True,
    **seed_opts: Any,
) -> list[ServiceSpec]:
    """The Entra and PWA emulators, seeded from ``SeedSpec(**seed_opts)``.

    ``sign_in=False`` leaves the token cache empty (a site nobody has signed in to yet).
    """
    entra_name = entra_name or f"{name}_entra"
    entra = EntraEmulator(
        clients=[
            EntraClient(),
            EntraClient(client_id=PUBLIC_CLIENT_ID, secret=None, name="pmo-sync cli"),
        ],
        **{"device_interval": 1, **(entra_knobs or {})},
    )
    knobs = dict(pwa_knobs or {})
    pwa = PwaEmulator(
        seed=SeedSpec(**seed_opts),
        token_validator=entra.validate,
        site_path=SITE_PATH,
        tenant_id=DEFAULT_TENANT_ID,
        **knobs,
    )
    connection: dict[str, Any] = {
        "kind": "pwa",
        "site_url": "{url}" + SITE_PATH,
        "authority": "{url:" + entra_name + "}",
        "tenant": DEFAULT_TENANT_ID,
        "client_id": PUBLIC_CLIENT_ID,
        "auth": "device_code",
        "token_cache": f"tokens/{name}.msal.json",
        "server_timezone": "UTC",
        # The sandbox has no throttling to respect; real sites keep the default pace.
        "requests_per_second": 50,
        # Sandbox queue jobs finish after a couple of polls; real farms take seconds per job.
        "queue_poll_seconds": 0.2,
    }
    return [
        entra_service(entra_name, entra, PUBLIC_CLIENT_ID),
        ServiceSpec(
            name=name,
            kind="pwa",
            emulator=pwa,
            credentials={
                "site_url": "{url}" + SITE_PATH,
                "tenant": DEFAULT_TENANT_ID,
                "client_id": PUBLIC_CLIENT_ID,
                "scope": "{url}/.default",
            },
            connection=connection,
            mapping=team_mapping(),
            extra={"entra": entra_name, "site_path": SITE_PATH},
            after_start=device_code_sign_in(name, entra_name) if sign_in else None,
        ),
    ]


def scenario(**opts: Any) -> Scenario:
    return Scenario(services=services(**opts), sync={"overlap": "5m"})
