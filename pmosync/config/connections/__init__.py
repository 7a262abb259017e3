"""Connection settings, one module per kind, joined in a union discriminated by ``kind``."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from pmosync.config.connections.airtable import AirtableConnection
from pmosync.config.connections.jira import JiraConnection
from pmosync.config.connections.planner import PlannerConnection
from pmosync.config.connections.pwa import PwaConnection

ConnectionConfig = Annotated[
    AirtableConnection | JiraConnection | PwaConnection | PlannerConnection,
    Field(discriminator="kind"),
]

__all__ = [
    "AirtableConnection",
    "ConnectionConfig",
    "JiraConnection",
    "PlannerConnection",
    "PwaConnection",
]
