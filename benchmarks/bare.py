"""The bare clients: what a script with the vendor library alone takes to read the same records.

Each returns ``(seconds, records)``. They read what the pmo-sync connector reads for the mapped
entities (Jira: the projects, their versions and the same issues with the same fields; Airtable:
the same tables at the maximum page size; Project Server: the catalogs, each plan's project with
its summary task, tasks, links, assignments and team, and the reporting feed's issues, risks and
resources), without mapping, identity or a store: the yardstick for "pull ≤ 1.3× the bare
client".
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import requests
from jira import JIRA
from pyairtable import Api

from pmosync.config.loader import LoadedConfig

AIRTABLE_PAGE = 100  # Airtable's maximum pageSize (list records)
AIRTABLE_RATE = (
    5.0  # requests per second per base: https://airtable.com/developers/web/api/rate-limits
)


def _sandbox(config: Path) -> dict[str, Any]:
    return dict(json.loads((config.parent / "sandbox.json").read_text()))


def jira_fields(loaded: LoadedConfig, name: str) -> list[str]:
    """The fields our connector asks the search for (so both read the same payload)."""
    from pmosync.connectors.jira.connector import JiraConnector

    conn: Any = loaded.config.connections[name]
    probe = JiraConnector(name, conn, loaded.mappings_for(name))
    try:
        prepared = probe.prepare()
        return list(probe._search_fields(prepared, next(iter(prepared.profiles.values()))))
    finally:
        probe.close()


def bare_jira(loaded: LoadedConfig, name: str, fields: list[str]) -> tuple[float, int]:
    info = _sandbox(loaded.path)
    service = info["services"][name]
    conn: Any = loaded.config.connections[name]
    token = (loaded.path.parent / "secrets" / f"{name}.token").read_text().strip()
    keys = ", ".join(service["projects"])
    started = time.perf_counter()
    client = JIRA(
        service["url"],
        options={"verify": info["ca_bundle"], "rest_api_version": "3"},
        basic_auth=(conn.email, token),
        max_retries=0,
    )
    records = 0
    for project in client.projects():  # canonical Projects, and their versions (milestones)
        records += 1 + len(client.project_versions(project.key))
    found = client.enhanced_search_issues(
        f"project in ({keys}) ORDER BY updated ASC", maxResults=0, fields=fields
    )
    seconds = time.perf_counter() - started
    client.close()
    return seconds, records + len(found)


def bare_airtable(loaded: LoadedConfig, name: str, tables: list[str]) -> tuple[float, int]:
    """pyairtable paging the mapped tables with the usual script pacing: a 0.2 s pause after
    each page (5 requests/s at most, however the responses bunch), since pyairtable does not
    pace itself and Airtable locks a base out for 30 s after a sixth request in a second."""
    info = _sandbox(loaded.path)
    service = info["services"][name]
    api = Api(service["credentials"]["token"], endpoint_url=service["url"], retry_strategy=None)
    api.session.verify = info["ca_bundle"]
    api.session.trust_env = False
    base = service["credentials"]["base_id"]
    records = 0
    started = time.perf_counter()
    for table in tables:
        for page in api.table(base, table).iterate(page_size=AIRTABLE_PAGE, use_field_ids=True):
            records += len(page)
            time.sleep(1.0 / AIRTABLE_RATE)
    return time.perf_counter() - started, records


def _pwa_headers(loaded: LoadedConfig, name: str, session: requests.Session) -> dict[str, str]:
    """A bearer token from the connection's signed-in msal cache (the sandbox signs in once
    after start, as ``pmo-sync auth login`` would): token acquisition is not what is timed."""
    from pmosync.connectors.msproject.auth import credentials_for

    conn: Any = loaded.config.connections[name]
    return dict(credentials_for(name, conn, session).headers())


def bare_pwa(loaded: LoadedConfig, name: str) -> tuple[float, int]:
    """requests paging ``/_api/ProjectServer``: the catalogs, the project list, then each
    plan's project, tasks, links, assignments and team; then ``/_api/ProjectData``'s issues,
    risks and resources; following ``odata.nextLink``."""
    info = _sandbox(loaded.path)
    session = requests.Session()
    session.trust_env = False
    session.verify = info["ca_bundle"]
    started = time.perf_counter()
    session.headers.update(_pwa_headers(loaded, name, session))
    session.headers["Accept"] = "application/json;odata=nometadata"
    api = info["services"][name]["credentials"]["site_url"] + "/_api/ProjectServer"

    def listing(url: str, params: dict[str, str] | None = None) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        next_url: str | None = url
        while next_url:
            response = session.get(next_url, params=params, timeout=120)
            response.raise_for_status()
            body = response.json()
            items += body.get("value", [])
            link = body.get("odata.nextLink") or body.get("@odata.nextLink")
            # nometadata next links are relative to the request (OData v3 JSON light)
            next_url, params = (urljoin(response.url, link) if link else None), None
        return items

    records = 0
    for catalog, expand in (
        ("CustomFields", "EntityType,LookupTable"),
        ("LookupTables", "Entries"),
        ("Calendars", "BaseCalendarExceptions"),
    ):
        records += len(listing(f"{api}/{catalog}", {"$expand": expand}))
    for project in listing(f"{api}/Projects"):
        plan = f"{api}/Projects('{project['Id']}')"
        response = session.get(
            f"{plan}/IncludeCustomFields", params={"$expand": "Calendar,ProjectSummaryTask"}
        )
        response.raise_for_status()
        records += 1
        records += len(listing(f"{plan}/Tasks", {"$expand": "Parent"}))
        records += len(listing(f"{plan}/TaskLinks"))
        records += len(listing(f"{plan}/Assignments", {"$expand": "Resource,Task"}))
        records += len(listing(f"{plan}/ProjectResources"))
    reporting = info["services"][name]["credentials"]["site_url"] + "/_api/ProjectData"
    for entity_set in ("Issues", "Risks", "Resources"):
        records += len(listing(f"{reporting}/{entity_set}"))
    return time.perf_counter() - started, records
