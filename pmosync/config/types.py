"""Reusable annotated types for configuration models."""

from __future__ import annotations

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
