"""The ``notify:`` section: who hears about failed or partial runs and newly held conflicts.

Secrets stay out of YAML here as everywhere: a Teams or Slack incoming-webhook URL carries its
own token, so it comes from ``url_env`` / ``url_file``; an SMTP password from ``password_env`` /
``password_file``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from pmosync.config.secrets import SecretRef, secret_ref

Event = Literal["failed", "partial", "held"]
ALL_EVENTS: tuple[Event, ...] = ("failed", "partial", "held")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class WebhookTarget(_Strict):
    """An incoming webhook: Slack, Microsoft Teams, or any receiver of JSON."""

    format: Literal["slack", "teams", "json"] = Field(
        default="slack",
        description="slack: {text}; teams: a MessageCard (Teams incoming webhook); json: the "
        "summary and the whole run report",
    )
    url_env: str | None = Field(default=None, description="Env var holding the webhook URL")
    url_file: Path | None = Field(default=None, description="File holding the webhook URL")
    ca_bundle: Path | None = Field(default=None, description="Extra CA bundle (TLS stays on)")
    timeout_seconds: float = Field(default=10.0, gt=0)

    @model_validator(mode="after")
    def _one_url(self) -> WebhookTarget:
        if bool(self.url_env) == bool(self.url_file):
            raise ValueError("give exactly one of url_env and url_file (the URL is a secret)")
        return self

    @property
    def url(self) -> SecretRef:
        return SecretRef(env=self.url_env, file=self.url_file)


class EmailTarget(_Strict):
    """E-mail through an SMTP relay."""

    host: str = Field(description="SMTP relay host")
    port: int = Field(default=587, ge=1, le=65535)
    security: Literal["starttls", "ssl", "none"] = Field(
        default="starttls",
        description="starttls (port 587), ssl (port 465) or none (a local relay)",
    )
    username: str | None = None
    password_env: str | None = None
    password_file: Path | None = None
    sender: str = Field(description="From address, e.g. pmo-sync@example.com")
    to: list[str] = Field(min_length=1, description="Recipients")
    ca_bundle: Path | None = None
    timeout_seconds: float = Field(default=20.0, gt=0)

    @model_validator(mode="after")
    def _password(self) -> EmailTarget:
        ref = secret_ref(self.password_env, self.password_file, "password")
        if ref is not None and not self.username:
            raise ValueError("password_env/password_file needs username")
        return self

    @property
    def password(self) -> SecretRef | None:
        return secret_ref(self.password_env, self.password_file, "password")


class NotifyConfig(_Strict):
    on: list[Event] = Field(
        default_factory=lambda: list(ALL_EVENTS),
        description="failed or partial runs; held: conflicts newly held for a person",
    )
    webhooks: list[WebhookTarget] = Field(default_factory=list)
    email: EmailTarget | None = None
