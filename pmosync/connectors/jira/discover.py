"""``pmo-sync discover CONNECTION`` for Jira: what a mapping can name on this instance."""

from __future__ import annotations

from typing import Any

from pmosync.config.connections.jira import JiraConnection
from pmosync.connectors.http import HttpPolicy
from pmosync.connectors.jira.client import JiraClient


def discover(
    name: str, config: JiraConnection, *, policy: HttpPolicy | None = None
) -> dict[str, Any]:
    """Fields (id, name, type), statuses with categories, link types, issue types, projects.

    Raises:
        AuthError: the credentials were refused.
        RetriableError: the site could not be reached.
    """
    client = JiraClient(name, config, policy=policy)
    try:
        info = client.server_info()
        me = client.myself()
        fields = client.fields()
        statuses = client.get_json("status", what="GET status")
        link_types = client.get_json("issueLinkType", what="GET issueLinkType")
        issue_types = client.get_json("issuetype", what="GET issuetype")
        projects = client.get_json("project", what="GET project")
        return {
            "connection": name,
            "kind": "jira",
            "url": config.url,
            "deployment": info.deployment,
            "api_version": info.api_version,
            "server_version": ".".join(str(v) for v in info.version),
            "user": {
                "name": me.get("displayName"),
                "id": me.get("accountId") if info.is_cloud else me.get("name"),
                "time_zone": me.get("timeZone"),
            },
            "fields": sorted(
                (
                    {
                        "id": f.get("id"),
                        "name": f.get("name"),
                        "type": (f.get("schema") or {}).get("type"),
                        "items": (f.get("schema") or {}).get("items"),
                        "custom": bool(f.get("custom")),
                        "custom_type": (f.get("schema") or {}).get("custom"),
                    }
                    for f in fields
                ),
                key=lambda f: (f["custom"], str(f["name"]).lower()),
            ),
            "statuses": [
                {
                    "id": s.get("id"),
                    "name": s.get("name"),
                    "category": (s.get("statusCategory") or {}).get("key"),
                }
                for s in statuses or []
            ],
            "link_types": [
                {
                    "id": t.get("id"),
                    "name": t.get("name"),
                    "inward": t.get("inward"),
                    "outward": t.get("outward"),
                }
                for t in (link_types or {}).get("issueLinkTypes") or []
            ],
            "issue_types": [
                {
                    "id": t.get("id"),
                    "name": t.get("name"),
                    "subtask": bool(t.get("subtask")),
                    "hierarchy_level": t.get("hierarchyLevel"),
                }
                for t in issue_types or []
            ],
            "projects": [
                {"id": p.get("id"), "key": p.get("key"), "name": p.get("name")}
                for p in projects or []
            ],
            "api_calls": client.api_calls(),
        }
    finally:
        client.close()


def render_text(found: dict[str, Any]) -> str:
    """A human-readable listing (the CLI prints this unless --json)."""
    lines = [
        f"{found['connection']}: Jira {found['deployment']} {found['server_version']} "
        f"(REST v{found['api_version']}), user {found['user']['name']} "
        f"in {found['user']['time_zone']}",
        "",
        "Fields:",
    ]
    for f in found["fields"]:
        extra = f" [{f['custom_type']}]" if f["custom_type"] else ""
        lines.append(f"  {f['id']:<24} {f['name']:<28} {f['type'] or '-'}{extra}")
    lines += ["", "Statuses:"]
    lines += [f"  {s['name']:<28} {s['category']}" for s in found["statuses"]]
    lines += ["", "Link types:"]
    lines += [
        f"  {t['name']:<20} outward {t['outward']!r}, inward {t['inward']!r}"
        for t in found["link_types"]
    ]
    lines += ["", "Issue types:"]
    lines += [
        f"  {t['name']}" + (" (sub-task)" if t["subtask"] else "") for t in found["issue_types"]
    ]
    lines += ["", "Projects:"]
    lines += [f"  {p['key']:<10} {p['name']}" for p in found["projects"]]
    return "\n".join(lines)
