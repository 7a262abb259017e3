"""What the emulator knows about each Airtable field type: schema options, write coercion,
formula values and ``cellFormat=string`` rendering. Pure functions, no emulator state."""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pmosync.sandbox.airtable.formula import format_datetime, parse_datetime

ISO_DATE_FORMAT = {"name": "iso", "format": "YYYY-MM-DD"}
TIME_FORMAT_24 = {"name": "24hour", "format": "HH:mm"}
DATETIME_RESULT = {
    "type": "dateTime",
    "options": {"timeZone": "utc", "dateFormat": ISO_DATE_FORMAT, "timeFormat": TIME_FORMAT_24},
}

TEXT_TYPES = frozenset(
    {"singleLineText", "multilineText", "email", "url", "phoneNumber", "richText"}
)
NUMBER_TYPES = frozenset({"number", "percent", "currency", "rating", "duration"})
COMPUTED_TYPES = frozenset(
    {
        "formula",
        "count",
        "lastModifiedTime",
        "createdTime",
        "autoNumber",
        "rollup",
        "multipleLookupValues",
        "createdBy",
        "lastModifiedBy",
        "button",
    }
)
SUPPORTED_TYPES = (
    TEXT_TYPES
    | NUMBER_TYPES
    | frozenset(
        {
            "date",
            "dateTime",
            "checkbox",
            "singleSelect",
            "multipleSelects",
            "multipleRecordLinks",
            "singleCollaborator",
            "formula",
            "count",
            "lastModifiedTime",
            "createdTime",
            "autoNumber",
        }
    )
)
# Types whose values can key an upsert (Airtable's documented list).
MERGEABLE_TYPES = TEXT_TYPES | frozenset(
    {"number", "percent", "currency", "singleSelect", "multipleSelects", "date", "dateTime"}
)


class CoercionError(Exception):
    """The value does not fit the field (422 INVALID_VALUE_FOR_COLUMN)."""


def default_options(field_type: str, options: dict[str, Any] | None) -> dict[str, Any] | None:
    """The options pyairtable's pydantic models require (§3.5), filled in where missing."""
    opts = copy.deepcopy(options) if options else {}
    if field_type in ("singleSelect", "multipleSelects"):
        opts.setdefault("choices", [])
    elif field_type == "date":
        opts.setdefault("dateFormat", dict(ISO_DATE_FORMAT))
    elif field_type == "dateTime":
        opts.setdefault("timeZone", "utc")
        opts.setdefault("dateFormat", dict(ISO_DATE_FORMAT))
        opts.setdefault("timeFormat", dict(TIME_FORMAT_24))
    elif field_type in ("number", "percent"):
        opts.setdefault("precision", 0)
    elif field_type == "currency":
        opts.setdefault("precision", 2)
        opts.setdefault("symbol", "$")
    elif field_type == "checkbox":
        opts.setdefault("color", "greenBright")
        opts.setdefault("icon", "check")
    elif field_type == "multipleRecordLinks":
        opts.setdefault("isReversed", False)
        opts.setdefault("prefersSingleRecordLink", False)
    elif field_type == "count":
        opts.setdefault("isValid", True)
    elif field_type == "lastModifiedTime":
        opts.setdefault("isValid", True)
        opts.setdefault("referencedFieldIds", [])
        opts.setdefault("result", copy.deepcopy(DATETIME_RESULT))
    elif field_type == "createdTime":
        opts.setdefault("result", copy.deepcopy(DATETIME_RESULT))
    elif field_type == "formula":
        opts.setdefault("isValid", True)
        opts.setdefault("result", {"type": "singleLineText"})
    elif field_type == "rating":
        opts.setdefault("color", "yellowBright")
        opts.setdefault("icon", "star")
        opts.setdefault("max", 5)
    elif field_type == "duration":
        opts.setdefault("durationFormat", "h:mm")
    return opts or None


# -- write coercion (the parts that need no emulator state) ------------------------------------
def coerce_text(value: Any, typecast: bool) -> str | None:
    if isinstance(value, str):
        return value or None
    if typecast and isinstance(value, int | float | bool):
        return str(value)
    raise CoercionError


def coerce_number(value: Any, typecast: bool) -> int | float | None:
    if isinstance(value, bool):
        raise CoercionError
    if isinstance(value, int | float):
        return value
    if typecast and isinstance(value, str):
        text = value.strip().replace(",", "")
        if not text:
            return None
        try:
            number = float(text)
        except ValueError as exc:
            raise CoercionError from exc
        return int(number) if number.is_integer() and "." not in text else number
    raise CoercionError


def coerce_date(value: Any, typecast: bool) -> str | None:
    if not isinstance(value, str):
        raise CoercionError
    text = value.strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError:
        pass
    # Airtable also takes an ISO date-time for a date field and keeps the (UTC) date part.
    parsed = parse_datetime(text)
    if parsed is None:
        raise CoercionError
    return parsed.date().isoformat()


def coerce_datetime(value: Any, typecast: bool) -> str | None:
    if not isinstance(value, str):
        raise CoercionError
    if not value.strip():
        return None
    parsed = parse_datetime(value)
    if parsed is None:
        raise CoercionError
    return format_datetime(parsed)


def coerce_checkbox(value: Any, typecast: bool) -> bool | None:
    if isinstance(value, bool):
        return value or None
    if typecast:
        if isinstance(value, str):
            return value.strip().lower() in ("true", "1", "yes", "checked", "on", "x") or None
        if isinstance(value, int | float):
            return bool(value) or None
    raise CoercionError


def split_multi(value: Any, typecast: bool) -> list[str]:
    """Names for a multipleSelects write: a list, or with typecast a comma-separated string."""
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    if typecast and isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    raise CoercionError


# -- reading -----------------------------------------------------------------------------------
def formula_value(field_type: str, value: Any) -> Any:
    """A stored cell as formulas see it: dates as datetimes, arrays as text, unchecked false."""
    if field_type == "checkbox":
        return bool(value)
    if value is None:
        return None
    if field_type in ("date", "dateTime", "createdTime", "lastModifiedTime") and isinstance(
        value, str
    ):
        return parse_datetime(value)
    if field_type == "singleCollaborator" and isinstance(value, dict):
        return value.get("name") or value.get("email")
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) if value else None
    return value


def _zone(name: str | None) -> ZoneInfo | Any:
    if not name or name == "utc":
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def string_value(
    field_type: str, options: dict[str, Any] | None, value: Any, time_zone: str | None
) -> str:
    """``cellFormat=string`` rendering (as the Airtable UI shows the cell, iso date formats)."""
    opts = options or {}
    if field_type in ("dateTime", "createdTime", "lastModifiedTime") and isinstance(value, str):
        parsed = parse_datetime(value)
        if parsed is not None:
            return parsed.astimezone(_zone(time_zone)).strftime("%Y-%m-%d %H:%M")
    if field_type == "checkbox":
        return "checked" if value else ""
    if field_type == "currency" and isinstance(value, int | float):
        return f"{opts.get('symbol', '$')}{value:,.{int(opts.get('precision', 2))}f}"
    if field_type == "percent" and isinstance(value, int | float):
        return f"{value * 100:.{int(opts.get('precision', 0))}f}%"
    if field_type == "number" and isinstance(value, int | float):
        return f"{value:.{int(opts.get('precision', 0))}f}"
    if isinstance(value, dict):
        return str(value.get("name") or value.get("email") or "")
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def now_ms() -> datetime:
    """Wall-clock UTC now, truncated to milliseconds so it round-trips through the wire format."""
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)
