"""What every report shares: colours a director can tell apart, date format, escaping."""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from typing import Any

# RAG colours from the GOV.UK design system palette (checked for contrast with white text and
# for red/green colour blindness together with the R/A/G letter every renderer also prints).
RAG_COLOURS = {"R": "#d4351c", "A": "#f47738", "G": "#00703c", None: "#8a8f94"}
# the same hues darkened for text on white (WCAG AA contrast 4.5:1 or better)
RAG_INK = {"R": "#b3261e", "A": "#8a4500", "G": "#00703c", None: "#505a5f"}
RAG_TEXT = {"R": "Red", "A": "Amber", "G": "Green", None: "No RAG"}
RAG_FILL_LIGHT = {"R": "F6D7D2", "A": "FDE4D3", "G": "CCE2D8"}  # spreadsheet cell fills
ARROW_COLOURS = {
    "violated": "#d4351c",
    "at_risk": "#f47738",
    "ok": "#505a5f",
    "unchecked": "#8a8f94",
}
ARROW_TEXT = {
    "violated": "violated link",
    "at_risk": "link at risk",
    "ok": "link checked, fine",
    "unchecked": "link not checked (no dependency check for this run)",
}
BASELINE_COLOUR = "#b1b4b6"
TODAY_COLOUR = "#1d70b8"
CRITICAL_COLOUR = "#912b88"

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def fmt_date(value: date | datetime | None, empty: str = "") -> str:
    """12 Mar 2027, the way a steering committee reads dates."""
    if value is None:
        return empty
    return f"{value.day} {value:%b %Y}"


def fmt_slip(days: int | None) -> str:
    if days is None:
        return ""
    if days == 0:
        return "on baseline"
    return f"{days:+d} working days"


def rag_key(value: Any) -> str | None:
    text = str(value or "").strip().upper()[:1]
    return text if text in ("R", "A", "G") else None


def cell_safe(value: Any) -> Any:
    """A spreadsheet cell that can never run as a formula (CSV injection): text that starts
    with = + - @ (or a tab/CR) gets a leading apostrophe; numbers and dates pass through."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def json_for_script(data: Any) -> str:
    """JSON safe inside <script type="application/json">: no `</script>`, `<!--` or `]]>`."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), default=str)
    return (
        text.replace("&", "\\u0026")
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


_MERMAID_UNSAFE = re.compile(r"[:;#<>\[\]{}()\"'`\\|&%\n\r\t]")


def mermaid_text(value: Any) -> str:
    """A task or section name Mermaid will not read as syntax (no `:`, `#`, brackets, `-->`,
    quotes, newlines): those characters become spaces, runs of dashes are shortened."""
    text = _MERMAID_UNSAFE.sub(" ", str(value or ""))
    text = re.sub(r"-{2,}", "-", text)
    text = re.sub(r"\s+", " ", text).strip()
    return text or "(unnamed)"
