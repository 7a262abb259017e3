"""Secrets by reference: an environment variable or a file, never a value in YAML."""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

from pydantic import BaseModel, ConfigDict, model_validator

from pmosync.errors import AuthError
from pmosync.redact import register_secret

log = logging.getLogger(__name__)

# Keys people type when they paste a secret into YAML; we answer with what to do instead.
FORBIDDEN_SECRET_KEYS = frozenset(
    {"token", "password", "api_key", "apikey", "secret", "client_secret", "api_token", "pat"}
)


def looks_like_secret(text: str) -> bool:
    """Whether a value written where a NAME belongs (token_env, token_file) looks like a token.

    Names are short or upper-case words; API tokens (Atlassian ``ATATT…``, Airtable ``pat….…``,
    hex keys) are long runs of mixed case and digits. A false positive only withholds an echo.
    """
    name = text.strip().rsplit("/", 1)[-1]
    if len(name) < 20 or any(c.isspace() for c in name):
        return False
    digit = any(c.isdigit() for c in name)
    lower = any(c.islower() for c in name)
    upper = any(c.isupper() for c in name)
    return digit and ((lower and upper) or (len(name) >= 32 and lower))


def misplaced_secret(value: str) -> None:
    """A value that may be a pasted secret: mask it in every log line and message from now on."""
    register_secret(value.strip())
    register_secret(value.strip().rsplit("/", 1)[-1])


def check_secret_file(value: Path | None) -> Path | None:
    """Validator for ``*_file`` keys: a missing file whose name looks like a token was meant as
    the token itself; refuse it without echoing it."""
    if value is not None and looks_like_secret(str(value)) and not value.exists():
        misplaced_secret(str(value))
        raise ValueError(
            "must be the path of a file holding the secret; no such file, and the value looks "
            "like a secret itself (not shown: if you pasted the token here, remove it from the "
            "file, rotate it, and put it in a file or an environment variable)"
        )
    return value


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
        shown = "(name not shown)" if looks_like_secret(str(self.file)) else str(self.file)
        try:
            mode = self.file.stat().st_mode
            value = self.file.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
            raise AuthError(
                f"{what}: cannot read secret file {shown} ({reason})",
                connection=connection,
            ) from None
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            # Used anyway (refusing would stop a working sync), but said on every run.
            log.warning(
                "%s: secret file %s is readable by other users of this machine; "
                "restrict it with: chmod 600 %s",
                what,
                shown,
                shown,
            )
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
