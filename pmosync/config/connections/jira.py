"""Jira Cloud / Data Center connection settings."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from pmosync.config.secrets import SecretRef


class JiraConnection(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    kind: Literal["jira"]
    url: str = Field(pattern=r"^https?://", description="Site URL, e.g. https://acme.atlassian.net")
    deployment: Literal["auto", "cloud", "datacenter"] = "auto"
    email: str | None = Field(default=None, description="Cloud: the API user's e-mail")
    token_env: str | None = Field(default=None, description="Env var with API token (Cloud) or PAT")
    token_file: Path | None = None
    ca_bundle: Path | None = None
    requests_per_second: float = Field(default=10.0, gt=0)
    timeout_seconds: float = Field(default=60.0, gt=0)
    page_size: int = Field(default=100, ge=1, le=5000)

    @property
    def token(self) -> SecretRef:
        return SecretRef(env=self.token_env, file=self.token_file)
