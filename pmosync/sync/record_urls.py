"""Where a record lives in its tool, as a URL a person can open (for Jira remote links)."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import quote

from pmosync.canonical_model import EntityType
from pmosync.config.loader import LoadedConfig
from pmosync.sync.state import LinkState, WorkingState

KIND_NAMES = {"jira": "Jira", "pwa": "Project Server", "airtable": "Airtable"}
ITEM_TYPES = (EntityType.WORK_ITEM, EntityType.MILESTONE)


def record_url(loaded: LoadedConfig, link: LinkState) -> str | None:
    """The page of one item in its tool; None where the tool has none (a file)."""
    config = loaded.config.connections.get(link.connection)
    kind = getattr(config, "kind", None)
    if kind == "jira":
        key = link.external_key or link.external_id
        return f"{str(getattr(config, 'url', '')).rstrip('/')}/browse/{quote(key)}"
    if kind == "pwa":
        # Project Server has no page per task: the project's schedule page is where it is
        project = link.pointers.get("project")
        if not project:
            return None
        site = str(getattr(config, "site_url", "")).rstrip("/")
        return f"{site}/project%20detail%20pages/schedule.aspx?projuid={quote(project)}"
    if kind == "airtable":
        base = getattr(config, "base_id", "")
        table = None
        for mapping in loaded.mappings_for(link.connection):
            entity = mapping.entities.get(link.entity_type)
            if entity is not None and entity.table and entity.table.startswith("tbl"):
                table = entity.table
        path = "/".join(p for p in (base, table, link.external_id) if p)
        return f"https://airtable.com/{path}"
    return None


def locator(
    loaded: LoadedConfig, state: WorkingState, label: Callable[[str], str]
) -> Callable[[str, str], dict[str, str] | None]:
    """``locate(connection, canonical_id)`` -> ``{"url", "title"}`` for plan_cross_links."""
    by_item: dict[tuple[str, str], LinkState] = {}
    for link in state.links.values():
        if link.entity_type in ITEM_TYPES:
            # a Project Server milestone is held as work item and milestone: either will do
            by_item.setdefault((link.connection, link.canonical_id), link)

    def locate(connection: str, canonical_id: str) -> dict[str, str] | None:
        link = by_item.get((connection, canonical_id))
        url = record_url(loaded, link) if link is not None else None
        if link is None or url is None:
            return None
        kind = getattr(loaded.config.connections.get(connection), "kind", "")
        tool = KIND_NAMES.get(kind, connection)
        return {"url": url, "title": f"{tool}: {label(canonical_id)}"}

    return locate
