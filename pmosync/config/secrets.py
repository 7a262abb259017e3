"""Secrets by reference: an environment variable or a file, never a value in YAML."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict, model_validator

from pmosync.errors import AuthError
from pmosync.redact import register_secret

# Keys people type when they paste a secret into YAML; we answer with what to do instead.
FORBIDDEN_SECRET_KEYS = frozenset(
    {"token", "password", "api_key", "apikey", "secret", "client_secret", "api_token", "pat"}
)


class SecretRef(BaseModel):
    """Where one secret comes from: ``<name>_env`` or ``<name>_file``."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    env: str | None = None
    file: Path | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> SecretRef:
        if bool(self.env) == bool(self.file):
            raise ValueError("give exactly one of an environment variable or a file")
        return self

    def describe(self) -> str:
        return f"environment variable {self.env}" if self.env else f"file {self.file}"

    def resolve(self, what: str, connection: str | None = None) -> str:
        """Read the secret. Raises AuthError naming where it looked, never the value."""
        if self.env:
            value = os.environ.get(self.env, "")
            if not value:
                raise AuthError(
                    f"{what}: environment variable {self.env} is not set or empty; export it "
                    "in the environment that runs pmo-sync (cron does not read your shell "
                    "profile)",
                    connection=connection,
                )
            register_secret(value.strip())
            return value.strip()
        assert self.file is not None
        try:
            value = self.file.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise AuthError(
                f"{what}: cannot read secret file {self.file} ({exc.strerror})",
                connection=connection,
            ) from None
        if not value:
            raise AuthError(f"{what}: secret file {self.file} is empty", connection=connection)
        register_secret(value)
        return value


def secret_ref(env: str | None, file: Path | None, what: str) -> SecretRef | None:
    if env is None and file is None:
        return None
    try:
        return SecretRef(env=env, file=file)
    except ValueError:
        raise ValueError(f"give only one of {what}_env and {what}_file") from None
