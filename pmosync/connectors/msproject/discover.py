"""``pmo-sync discover CONNECTION`` for PWA: what a team needs to write its mapping."""

from __future__ import annotations

from typing import Any

from pmosync.config.connections.pwa import PwaConnection
from pmosync.connectors.msproject.api import PwaApi
from pmosync.connectors.msproject.auth import credentials_for
from pmosync.connectors.msproject.client import PwaClient
from pmosync.connectors.msproject.customfields import CustomFieldCatalog
from pmosync.connectors.msproject.mapper import DRAFT_PROJECT_WRITABLE, TASK_WRITABLE
from pmosync.connectors.msproject.odata import parse_datetime
from pmosync.connectors.msproject.transport import build_session

# PublishedTask properties worth mapping (api-wire-protocol §5.4); the live list is in the
# sample task, when the site has one.
TASK_FIELDS = (
    "Name",
    "Start",
    "Finish",
    "DurationMilliseconds",
    "PercentComplete",
    "IsMilestone",
    "IsSummary",
    "IsCritical",
    "OutlineLevel",
    "WorkBreakdownStructure",
    "ConstraintType",
    "ConstraintStartEnd",
    "Deadline",
    "BaselineStart",
    "BaselineFinish",
    "Priority",
    "Notes",
)


def discover(name: str, config: PwaConnection) -> dict[str, Any]:
    """Projects, enterprise custom fields with their lookup values, and task fields.

    Returns a JSON-able dict; the CLI renders it. Raises the usual PmoSyncErrors (AuthError
    when sign-in is needed, RetriableError when the site is unreachable).
    """
    session, adapter = build_session(config)
    try:
        client = PwaClient(name, config, session, credentials_for(name, config, session))
        api = PwaApi(client)
        catalog = CustomFieldCatalog.from_payloads(api.custom_fields(), api.lookup_tables())
        projects = [
            {
                "id": str(p.get("Id") or "").lower(),
                "name": p.get("Name"),
                "last_published": _iso(p.get("LastPublishedDate")),
                "checked_out": bool(p.get("IsCheckedOut")),
            }
            for p in api.projects()
        ]
        sample: list[str] = []
        if projects:
            for task in api.tasks(str(projects[0]["id"])):
                sample = sorted(k for k in task if not k.startswith("Custom_"))
                break
        custom_fields = [
            {
                "name": f.name,
                "internal_name": f.internal_name,
                "json_key": f.json_key,
                "entity": f.entity,
                "type": f.type_name,
                "lookup": f.is_lookup,
                "multi": f.multi,
                "values": [e.full_value for e in f.entries],
                # Only project-level custom fields can be written through REST.
                "writable": f.entity in (None, "project"),
            }
            for f in catalog.fields
        ]
        return {
            "connection": name,
            "kind": "pwa",
            "site_url": config.site_url,
            "projects": projects,
            "custom_fields": custom_fields,
            "task_fields": sample or list(TASK_FIELDS),
            "writable": {
                "project": sorted(DRAFT_PROJECT_WRITABLE) + ["<project custom fields>"],
                "task": sorted(TASK_WRITABLE.values()),
            },
            "link_types": {"0": "FF", "1": "FS", "2": "SF", "3": "SS"},
            "api_calls": adapter.stats.requests,
        }
    finally:
        session.close()


def _iso(value: Any) -> str | None:
    moment = parse_datetime(value)
    return moment.isoformat() if moment else None
