"""Planner Premium (Project for the web) connection settings: a Dataverse environment.

Project schedule APIs accept only users holding a Project licence, never application users
(learn.microsoft.com/dynamics365/project-operations/project-management/schedule-api-preview),
so sign-in is delegated: ``pmo-sync auth login NAME`` once (device code), then silent refresh
from the msal token cache (written 0600). No secret is ever a value here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator

from pmosync.config.connections.pwa import PwaConnection
from pmosync.config.types import TimeZoneName


class PlannerConnection(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    kind: Literal["planner"]
    org_url: str = Field(
        pattern=r"^https://",
        description="Dataverse environment, e.g. https://contoso.crm.dynamics.com",
    )
    api_path: str = Field(default="/api/data/v9.2", description="Web API root under org_url")
    authority: str = Field(default="https://login.microsoftonline.com", pattern=r"^https://")
    tenant: str = Field(default="organizations", description="Entra tenant id or domain")
    client_id: str = Field(description="Entra app registration (public client) id")
    scopes: list[str] | None = Field(
        default=None, description="OAuth scopes; default <org_url>/user_impersonation"
    )
    account: str | None = Field(
        default=None, description="UPN to pick from the token cache when it holds several users"
    )
    token_cache: Path | None = Field(
        default=None,
        description="msal token cache file (written 0600); default ~/.cache/pmo-sync/<name>.json",
    )
    ca_bundle: Path | None = None
    time_zone: TimeZoneName = Field(
        default="UTC",
        description="IANA zone the plans are scheduled in (Dataverse answers dates in UTC)",
    )
    page_size: int = Field(default=500, ge=1, le=5000, description="Prefer: odata.maxpagesize")
    requests_per_second: float = Field(default=10.0, gt=0)
    timeout_seconds: float = Field(default=60.0, gt=0)
    max_attempts: int = Field(default=6, ge=1, description="Tries per request (429/5xx)")
    poll_seconds: float = Field(default=2.0, gt=0, description="Operation set poll interval")
    poll_timeout_seconds: float = Field(default=300.0, gt=0, description="Operation set budget")
    max_operations_per_set: int = Field(
        default=200, ge=1, le=200, description="Schedule API limit: 200 operations per set"
    )

    @field_validator("org_url", "authority")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @property
    def api_url(self) -> str:
        return self.org_url + "/" + self.api_path.strip("/")

    @property
    def resource(self) -> str:
        parts = urlsplit(self.org_url)
        return f"{parts.scheme}://{parts.netloc}"

    @property
    def oauth_scopes(self) -> list[str]:
        # Dataverse's delegated permission is user_impersonation on the environment's origin.
        return list(self.scopes) if self.scopes else [f"{self.resource}/user_impersonation"]

    def msal_settings(self) -> PwaConnection:
        """These settings in the shape the shared msal sign-in module reads
        (pmosync.connectors.msproject.auth): one device-code/silent-refresh implementation for
        every Entra-backed connection."""
        return PwaConnection(
            kind="pwa",
            site_url=self.org_url,
            authority=self.authority,
            tenant=self.tenant,
            client_id=self.client_id,
            auth="device_code",
            scopes=self.oauth_scopes,
            account=self.account,
            token_cache=self.token_cache,
            ca_bundle=self.ca_bundle,
            requests_per_second=self.requests_per_second,
            timeout_seconds=self.timeout_seconds,
            max_attempts=self.max_attempts,
        )
