"""Jira Cloud / Data Center connection settings."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from pmosync.config.secrets import SecretRef, check_secret_file
from pmosync.config.types import EnvVarName, HttpsUrl, TimeZoneName


class JiraConnection(BaseModel):
    """One Jira site.

    Auth follows what Atlassian supports per deployment: with ``email`` the token is sent as
    basic auth (Cloud API token, or a DC password); without it the token is a DC Personal
    Access Token sent as ``Authorization: Bearer``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)
    kind: Literal["jira"]
    url: HttpsUrl = Field(description="Site URL, e.g. https://acme.atlassian.net")
    deployment: Literal["auto", "cloud", "datacenter"] = Field(
        default="auto", description="auto reads deploymentType from /serverInfo"
    )
    api_version: Literal["auto", "2", "3"] = Field(
        default="auto",
        description="REST version: auto is 3 on Cloud (rich text as ADF) and 2 on Data Center",
    )
    email: str | None = Field(default=None, description="Cloud: the API user's e-mail")
    token_env: EnvVarName | None = Field(
        default=None, description="Env var with API token (Cloud) or PAT"
    )
    token_file: Annotated[Path | None, AfterValidator(check_secret_file)] = None
    ca_bundle: Path | None = None
    requests_per_second: float = Field(default=10.0, gt=0)
    timeout_seconds: float = Field(default=60.0, gt=0)
    connect_timeout_seconds: float = Field(default=10.0, gt=0)
    max_attempts: int = Field(
        default=6, ge=1, le=20, description="Tries per request on 429/5xx/dropped connections"
    )
    max_retry_wait_seconds: float = Field(
        default=180.0, ge=0, description="Give up retrying one request after this long"
    )
    max_retry_after_seconds: float = Field(
        default=300.0,
        gt=0,
        description="Longest Retry-After honoured; a longer one fails the request cleanly",
    )
    page_size: int = Field(default=100, ge=1, le=5000)
    time_zone: TimeZoneName | None = Field(
        default=None,
        description=(
            "Override of the API user's profile time zone (IANA name) used to write JQL dates;"
            " normally read from /myself"
        ),
    )

    @model_validator(mode="after")
    def _auth(self) -> JiraConnection:
        if bool(self.token_env) == bool(self.token_file):
            raise ValueError("give exactly one of token_env and token_file")
        if self.deployment == "cloud" and not self.email:
            raise ValueError("Jira Cloud authenticates with email + API token: set email")
        if self.deployment == "datacenter" and self.api_version == "3":
            raise ValueError("Jira Data Center has no REST API v3; use api_version 2 or auto")
        return self

    @property
    def token(self) -> SecretRef:
        return SecretRef(env=self.token_env, file=self.token_file)
