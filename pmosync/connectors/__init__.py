"""Connectors: one sub-package per remote system, behind the Connector protocol in ``base``."""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

from pmosync.errors import ConfigError

if TYPE_CHECKING:
    from pmosync.config.mapping import TeamMapping
    from pmosync.config.models import ConnectionConfig
    from pmosync.connectors.base import Connector

# kind -> "module:factory". Imported lazily so a team that only uses Airtable never imports jira.
REGISTRY: dict[str, str] = {
    "airtable": "pmosync.connectors.airtable.connector:AirtableConnector",
    "jira": "pmosync.connectors.jira.connector:JiraConnector",
    "pwa": "pmosync.connectors.msproject.connector:PwaConnector",
    "planner": "pmosync.connectors.planner.connector:PlannerConnector",
}


def get_connector(
    name: str, config: ConnectionConfig, mappings: list[TeamMapping], **kwargs: object
) -> Connector:
    """Build the connector for one configured connection.

    Raises:
        ConfigError: the connection's kind has no connector in this installation.
    """
    target = REGISTRY.get(config.kind)
    if target is None:
        raise ConfigError(f"no connector for kind {config.kind!r}", connection=name)
    module_name, _, attr = target.partition(":")
    try:
        module = import_module(module_name)
    except ImportError as exc:  # an optional extra that is not installed
        raise ConfigError(
            f"the {config.kind} connector cannot be imported ({exc}); "
            "reinstall pmo-sync with its dependencies",
            connection=name,
        ) from exc
    factory = getattr(module, attr)
    return factory(name, config, mappings, **kwargs)  # type: ignore[no-any-return]
