"""pydantic models of ``pmo-sync.yaml``: strict, every unknown key is an error."""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from pmosync.canonical_model import EntityType, entity_fields
from pmosync.config.connections import ConnectionConfig
from pmosync.config.notify import NotifyConfig
from pmosync.config.types import TimeZoneName

__all__ = ["ConnectionConfig", "PmoSyncConfig"]

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d)?\s*$")
_UNITS = {None: 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(value: object) -> float:
    """Seconds from ``90``, ``"90s"``, ``"5m"``, ``"2h"`` or ``"1d"``."""
    if isinstance(value, bool):
        raise ValueError("expected a duration such as 300, '5m', '2h' or '1d'")
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        match = _DURATION.match(str(value))
        if not match:
            raise ValueError("expected a duration such as 300, '5m', '2h' or '1d'")
        seconds = float(match.group(1)) * _UNITS[match.group(2)]
    # .nan/.inf are YAML floats; a negative window silently skips edits made during a run
    if not math.isfinite(seconds) or seconds <= 0:
        raise ValueError("expected a positive, finite duration such as 300, '5m' or '2h'")
    return seconds


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class StoreConfig(Strict):
    url: str = Field(
        default="sqlite:///pmo-sync.db",
        description="SQLAlchemy URL; a relative SQLite path is relative to the config file",
    )
    url_env: str | None = Field(
        default=None, description="Env var holding the URL (when it carries a password)"
    )


class RollupConfig(Strict):
    """Programme and portfolio RAG thresholds (pmosync/analysis/rollup.py)."""

    red_share: float = Field(
        default=1 / 3, gt=0, le=1, description="Red when this share of open members is red"
    )
    red_violation_days: float = Field(
        default=10.0, ge=0, description="Red when a dependency is violated by this many days"
    )
    amber_slip_days: float = Field(
        default=5.0, ge=0, description="Amber from this slip against baseline (working days)"
    )
    key_priority: int = Field(
        default=1, description="Projects of this priority or better are key projects"
    )


Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_RANGE = re.compile(r"^\s*(\d{1,2}):(\d\d)\s*-\s*(\d{1,2}):(\d\d)\s*$")


def working_interval(text: str) -> tuple[int, int]:
    """``"09:00-17:00"`` as minutes from midnight, ``(540, 1020)``; the end may be 24:00."""
    match = _RANGE.match(text)
    if not match:
        raise ValueError(f"{text!r} is not a range like 09:00-17:00")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    start, end = h1 * 60 + m1, h2 * 60 + m2
    if m1 > 59 or m2 > 59 or start >= 1440 or end > 1440 or end <= start:
        raise ValueError(f"{text!r} is not a range within one day (start before end)")
    return start, end


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


class PortfolioConfig(Strict):
    name: str = "Portfolio"
    timezone: TimeZoneName = Field(
        default="UTC", description="IANA zone for 'today' and date-only values"
    )
    rollup: RollupConfig = RollupConfig()
    holiday_region: str | None = Field(
        default=None,
        description="Public holidays for date-only tools (Jira, Airtable) in the portfolio "
        "calendar: a country or country-subdivision code of the holidays package, e.g. GB-ENG",
    )

    working_days: tuple[Weekday, ...] = Field(
        default=("mon", "tue", "wed", "thu", "fri"),
        description="Working days of the portfolio calendar (date-only tools: Jira, Airtable)",
    )
    working_hours: tuple[str, ...] = Field(
        default=("08:00-12:00", "13:00-17:00"),
        description="Working hours of each working day as HH:MM-HH:MM ranges (one string or a "
        "list); their total is the portfolio's working day (480 minutes by default)",
    )

    @field_validator("holiday_region")
    @classmethod
    def _known_region(cls, value: str | None) -> str | None:
        if value is not None:
            import holidays  # the library the portfolio calendar reads them from

            country, _, subdiv = value.strip().partition("-")
            try:
                holidays.country_holidays(country.upper(), subdiv=subdiv.upper() or None)
            except NotImplementedError:
                raise ValueError(
                    f"unknown holiday region {value!r}: use a code of the holidays package, "
                    'e.g. GB-ENG, US-NY, DE-BY, FR; list them with `python -c "import '
                    'holidays; print(holidays.list_supported_countries())"`'
                ) from None
        return value

    @field_validator("working_days", mode="before")
    @classmethod
    def _days(cls, value: object) -> object:
        if isinstance(value, str):
            value = [value]
        if isinstance(value, list | tuple):
            days = [str(d).strip().lower()[:3] for d in value]
            if len(set(days)) != len(days):
                raise ValueError("a working day is listed twice")
            return tuple(days)
        return value

    @field_validator("working_hours", mode="before")
    @classmethod
    def _hours(cls, value: object) -> tuple[str, ...]:
        ranges = [value] if isinstance(value, str) else value
        if not isinstance(ranges, list | tuple) or not ranges:
            raise ValueError("give working hours as 'HH:MM-HH:MM' or a list of them")
        intervals = [working_interval(str(r)) for r in ranges]
        for (_, end), (start, _) in zip(intervals, intervals[1:], strict=False):
            if start < end:
                raise ValueError("working hours must be in order and must not overlap")
        return tuple(f"{_clock(a)}-{_clock(b)}" for a, b in intervals)


class SyncConfig(Strict):
    overlap: float = Field(default=300.0, description="Re-read window before the cursor")
    default_conflict: Literal["latest", "hold"] = "latest"
    # canonical entity -> canonical field used to match records across tools (e.g. project code)
    identity: dict[EntityType, str] = Field(default_factory=lambda: {EntityType.PROJECT: "code"})
    full_run_days: int = Field(
        default=7,
        ge=1,
        description="Suggest a --full run (which finds deletions in Jira and Airtable) when the "
        "last one is older than this many days",
    )

    max_run_seconds: float = Field(
        default=3600.0,
        gt=0,
        description="A run stops writing after this long (the rest waits for the next run); a "
        "run still holding the lock a grace period later is hung, and the next run takes over",
    )

    @field_validator("overlap", mode="before")
    @classmethod
    def _overlap(cls, value: object) -> float:
        return parse_duration(value)

    @field_validator("identity")
    @classmethod
    def _identity_fields(cls, value: dict[EntityType, str]) -> dict[EntityType, str]:
        for entity, name in value.items():
            if name not in entity_fields(entity):
                raise ValueError(f"{entity.value} has no canonical field {name!r}")
        return value


class TeamConfig(Strict):
    connection: str = Field(description="Name of a connection under 'connections'")
    mapping: Path = Field(description="Team mapping file, relative to this config file")


class PmoSyncConfig(Strict):
    version: Literal[1] = 1
    store: StoreConfig = StoreConfig()
    portfolio: PortfolioConfig = PortfolioConfig()
    sync: SyncConfig = SyncConfig()
    connections: dict[str, ConnectionConfig] = Field(min_length=1)
    teams: dict[str, TeamConfig] = Field(default_factory=dict)
    notify: NotifyConfig = Field(
        default_factory=NotifyConfig, description="Webhook/e-mail on failed runs, held conflicts"
    )

    @field_validator("connections")
    @classmethod
    def _names(cls, value: dict[str, object]) -> dict[str, object]:
        for name in value:
            if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_-]*", name):
                raise ValueError(f"connection name {name!r}: use letters, digits, - and _")
        return value
