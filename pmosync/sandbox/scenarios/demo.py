"""The demo: a realistic three-tool PMO (Airtable PMO base, Jira delivery, Project Server plans)."""

from __future__ import annotations

from datetime import date
from typing import Any

from pmosync.sandbox.harness import Scenario


def scenario(today: date | None = None, **_: Any) -> Scenario:
    from pmosync.sandbox.scenarios import airtable_pmo

    services = airtable_pmo.services(today=today)
    return Scenario(
        services=services,
        portfolio={"name": "Contoso PMO (sandbox)", "timezone": "Europe/London"},
        sync={"overlap": "5m", "identity": {"project": "code"}},
    )
