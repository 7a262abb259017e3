"""Names and values the way people read them: plans, conflicts, run output and reports.

A person recognises a project by its code and name (``P001 Payments platform``), an issue by
its key (``PAY-12 Card vault``), a task by its name inside its project; never by a canonical
UUID, a PWA GUID or an Airtable ``rec…`` id. Values: dates as ``1 Jan 2027``, RAG as words,
enum values with spaces (``on hold``), nothing as an em dash.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any

NONE = "—"
RAG_WORDS = {"G": "green", "A": "amber", "R": "red", "grey": "grey"}
RAG_FIELDS = frozenset({"rag", "rag_computed", "rag_override"})
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")
_ENUM = re.compile(r"^[a-z]+(_[a-z]+)+$")


def day(value: date) -> str:
    """``1 Jan 2027``: no zero padding, no locale surprises, never wraps in a table cell."""
    return f"{value.day} {value:%b %Y}"


def value_text(value: Any, field: str | None = None) -> str:
    """One value for a person: dates formatted, RAG as a word, None as an em dash."""
    if value is None or value == "" or value == []:
        return NONE
    if field in RAG_FIELDS and isinstance(value, str):
        return RAG_WORDS.get(value, value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return day(value) if (value.hour, value.minute) == (0, 0) else f"{day(value)} {value:%H:%M}"
    if isinstance(value, date):
        return day(value)
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, str):
        if _DATE.match(value):
            try:
                return day(date.fromisoformat(value))
            except ValueError:
                return value
        if _DATETIME.match(value):
            try:
                return value_text(datetime.fromisoformat(value))
            except ValueError:
                return value
        if _ENUM.match(value):
            return value.replace("_", " ")
        return value
    if isinstance(value, list | tuple):
        return ", ".join(value_text(v, field) for v in value)
    return str(value)


def enum_words(value: Any) -> str:
    """``on_hold`` -> ``on hold`` (status, kinds); None as an em dash."""
    if value is None or value == "":
        return NONE
    return str(getattr(value, "value", value)).replace("_", " ")


def record_label(
    values: Mapping[str, Any],
    *,
    external_key: str | None = None,
    external_id: str | None = None,
    lookup: Callable[[str], Mapping[str, Any] | None] | None = None,
) -> str:
    """``P001 Payments platform``, ``PAY-12 Card vault``, ``P001 / Go-live`` (a task in a plan).

    ``lookup`` maps a canonical id to its values, so a task or milestone is named within its
    project (tasks of different plans share names such as "Go-live").
    """
    own = values.get("key") or values.get("code") or external_key
    parts = [str(v) for v in (own, values.get("name")) if v]
    label = " ".join(dict.fromkeys(parts))
    project_id = values.get("project")
    if lookup is not None and isinstance(project_id, str) and not values.get("key"):
        project = lookup(project_id) or {}
        code = project.get("code") or project.get("name")
        if code and label:
            label = f"{code} / {label}"
    if label:
        return label
    return external_id or "(unnamed)"
