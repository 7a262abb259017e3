"""Reusable annotated types for configuration models."""

from __future__ import annotations

import re
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator


def _check_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {value!r} (use an IANA name)") from None
    return value


# An IANA zone name ("Europe/London"), checked when the config loads.
TimeZoneName = Annotated[str, AfterValidator(_check_zone)]


def _https(value: str) -> str:
    if not value.lower().startswith("https://"):
        scheme = value.split("://", 1)[0] + "://" if "://" in value else "no scheme"
        raise ValueError(
            f"must be an https:// URL (got {scheme}): credentials would otherwise cross the "
            "network in clear text; pmo-sync talks TLS only (for a private CA set ca_bundle)"
        )
    return value


# A service URL: TLS only, since every request carries a token or a password.
HttpsUrl = Annotated[str, AfterValidator(_https)]

_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}")


def _env_name(value: str) -> str:
    from pmosync.config.secrets import looks_like_secret, misplaced_secret

    # The value is never echoed: a person who pasted the token here must not see it printed
    # (or stored in a run report) again.
    if not _ENV_NAME.fullmatch(value) or looks_like_secret(value):
        misplaced_secret(value)
        raise ValueError(
            "must be the NAME of an environment variable (letters, digits, _); the value given "
            "is not one (not shown, in case it is a pasted secret: if so, remove it from the "
            "file and rotate it)"
        )
    return value


# The name of an environment variable holding a secret, never the secret itself.
EnvVarName = Annotated[str, AfterValidator(_env_name)]
