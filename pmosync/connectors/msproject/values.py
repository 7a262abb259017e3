"""What the Microsoft schedule mappers share (PWA REST, Planner Premium, MSPDI/MPP files).

The result of mapping one record, the error that names the field a record cannot be mapped
on, and the converters whose rules are the same whichever Microsoft source a value comes from.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from pmosync.canonical_model import RemotePointer


class MappingError(ValueError):
    """One record cannot be mapped; ``field`` names the canonical (or remote) field."""

    def __init__(self, field_name: str, message: str) -> None:
        self.field = field_name
        super().__init__(f"field {field_name}: {message}")


@dataclass
class Mapped:
    values: dict[str, Any]
    pointers: dict[str, RemotePointer] = field(default_factory=dict)
    version_token: str | None = None
    # when the source last changed the record, on the source's own clock: PWA gives its
    # server's naive wall clock, Dataverse an aware UTC instant
    modified: datetime | None = None


def number(value: Any, name: str) -> Decimal | None:
    """A number field (blank = None); anything else is a MappingError naming ``name``."""
    if value in (None, ""):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise MappingError(name, f"{value!r} is not a number") from None


def status_from_percent(value: Decimal | None) -> str | None:
    if value is None:
        return None
    if value >= 100:
        return "done"
    return "active" if value > 0 else "not_started"
