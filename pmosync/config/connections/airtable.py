"""Airtable connection settings."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from pmosync.config.secrets import SecretRef, check_secret_file
from pmosync.config.types import EnvVarName, HttpsUrl


class AirtableConnection(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)
    kind: Literal["airtable"]
    base_id: str = Field(pattern=r"^app[A-Za-z0-9]{14}$", description="The base id, app…")
    endpoint_url: HttpsUrl = Field(default="https://api.airtable.com")
    token_env: EnvVarName | None = Field(
        default=None, description="Env var holding the token (PAT)"
    )
    token_file: Annotated[Path | None, AfterValidator(check_secret_file)] = Field(
        default=None, description="File holding the token"
    )
    ca_bundle: Path | None = Field(default=None, description="Extra CA bundle (TLS stays on)")
    # Airtable allows 5 requests/s per base in any one-second window, counted where they
    # arrive (support.airtable.com "Managing API call limits"); one 429 costs a 30 s lock-out.
    # The pacing sends a request only once the 5th before it was answered over a second ago
    # (connectors/http.py TokenBucket), so no jitter puts 6 into one window: the documented
    # rate is the default.
    requests_per_second: float = Field(default=5.0, gt=0, le=5)
    lockout_seconds: float = Field(default=30.0, ge=0, description="Wait after a 429")
    timeout_seconds: float = Field(default=60.0, gt=0)
    max_attempts: int = Field(default=6, ge=1, le=20, description="Tries per request (retries+1)")

    @property
    def token(self) -> SecretRef:
        return SecretRef(env=self.token_env, file=self.token_file)
