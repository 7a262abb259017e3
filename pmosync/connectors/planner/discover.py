"""``pmo-sync discover CONNECTION`` for Planner Premium: plans, programmes and the columns of
msdyn_project a mapping can name (custom columns carry a publisher prefix, e.g. pmo_rag)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

from pmosync.config.connections.planner import PlannerConnection
from pmosync.connectors.msproject.auth import MsalCredentials
from pmosync.connectors.msproject.transport import build_session
from pmosync.connectors.planner.client import DataverseClient
from pmosync.connectors.planner.mapper import LINK_TYPES, TASK_WRITABLE
from pmosync.errors import FatalConnectorError

EDM = "{http://docs.oasis-open.org/odata/ns/edm}"


def _columns(metadata: str, entity: str) -> list[dict[str, str]]:
    try:
        root = ET.fromstring(metadata)  # noqa: S314 - the environment's own $metadata
    except ET.ParseError as exc:
        raise FatalConnectorError(f"$metadata is not XML: {exc}") from None
    for node in root.iter(f"{EDM}EntityType"):
        if node.attrib.get("Name") == entity:
            return [
                {"name": p.attrib["Name"], "type": p.attrib.get("Type", "")}
                for p in node.iter(f"{EDM}Property")
            ]
    return []


def discover(name: str, config: PlannerConnection) -> dict[str, Any]:
    settings = config.msal_settings()
    session, adapter = build_session(settings)
    try:
        client = DataverseClient(name, config, session, MsalCredentials(name, settings, session))
        projects = [
            {
                "id": p.get("msdyn_projectid"),
                "name": p.get("msdyn_subject"),
                "programme": p.get("_msdyn_program_value"),
                "modified": p.get("modifiedon"),
            }
            for p in client.rows(
                "msdyn_projects",
                what="projects",
                params={"$select": "msdyn_projectid,msdyn_subject,_msdyn_program_value,modifiedon"},
            )
        ]
        programmes = [
            {"id": p.get("msdyn_programid"), "name": p.get("msdyn_name")}
            for p in client.rows(
                "msdyn_programs",
                what="programmes",
                params={"$select": "msdyn_programid,msdyn_name"},
            )
        ]
        columns = _columns(client.metadata(), "msdyn_project")
        custom = [c for c in columns if not c["name"].startswith(("msdyn_", "_", "modifiedon"))]
        return {
            "connection": name,
            "kind": "planner",
            "org_url": config.org_url,
            "projects": projects,
            "programmes": programmes,
            "project_columns": columns,
            "custom_project_columns": custom,
            "writable": {
                "project": ["<custom columns above>", "msdyn_subject", "msdyn_description"],
                "task": sorted(set(TASK_WRITABLE.values())),
                "through": "Project schedule APIs (one operation set per project per run)",
            },
            "link_types": {str(k): v for k, v in LINK_TYPES.items()},
            "api_calls": adapter.stats.requests,
        }
    finally:
        session.close()


def render_text(found: dict[str, Any]) -> str:
    lines = [f"{found['connection']} (Planner Premium at {found['org_url']})", "", "plans:"]
    lines += [f"  {p['id']}  {p['name']}" for p in found["projects"]] or ["  (none)"]
    lines += ["", "programmes:"]
    lines += [f"  {p['id']}  {p['name']}" for p in found["programmes"]] or ["  (none)"]
    lines += ["", "custom msdyn_project columns (name them in the project mapping):"]
    lines += [f"  {c['name']:<28} {c['type']}" for c in found["custom_project_columns"]] or [
        "  (none)"
    ]
    lines += ["", f"task columns pmo-sync writes: {', '.join(found['writable']['task'])}"]
    return "\n".join(lines)
