"""Project Server / Project Online (PWA REST) connection settings."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class PwaConnection(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    kind: Literal["pwa"]
    site_url: str = Field(pattern=r"^https?://", description="PWA site, e.g. https://x/sites/pwa")
    authority: str = Field(
        default="https://login.microsoftonline.com", description="Entra authority host"
    )
    tenant: str = Field(description="Entra tenant id or domain")
    client_id: str
    auth: Literal["device_code", "client_credentials"] = "device_code"
    client_secret_env: str | None = None
    client_secret_file: Path | None = None
    token_cache: Path | None = Field(default=None, description="msal token cache file (0600)")
    ca_bundle: Path | None = None
    requests_per_second: float = Field(default=5.0, gt=0)
    timeout_seconds: float = Field(default=60.0, gt=0)
