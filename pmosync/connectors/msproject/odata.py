"""Pure helpers for SharePoint's OData JSON: verbose (``d``/``results``/``__next``) and light
(``value``/``odata.nextLink``), ``/Date(ms)/`` dates, error bodies and query literals.

Parsing is tolerant: both flavours are accepted whatever was asked for, because hosts differ in
which one they answer with (Project Server 2013 ignores ``odata=minimalmetadata``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urljoin

ACCEPT = {
    "verbose": "application/json;odata=verbose",
    "minimalmetadata": "application/json;odata=minimalmetadata",
    "nometadata": "application/json;odata=nometadata",
}

# "\/Date(1356998400000)\/" or "/Date(1356998400000+0100)/" (json.loads already unescaped "\/")
_MS_DATE = re.compile(r"^/Date\((-?\d+)([+-]\d{4})?\)/$")
_SENTINEL_YEAR = 1  # "0001-01-01T00:00:00" is how Project says "no date"


@dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]
    next_url: str | None


def unwrap(payload: Any) -> Any:
    """The body without the verbose ``d`` envelope."""
    if isinstance(payload, dict) and set(payload) == {"d"}:
        return payload["d"]
    return payload


def page(payload: Any, request_url: str) -> Page:
    """One page of a collection; the next link is made absolute against the request URL."""
    body = unwrap(payload)
    if isinstance(body, list):  # verbose v1 style: "d": [ ... ]
        return Page([clean(i) for i in body], None)
    if not isinstance(body, dict):
        raise ValueError("collection response is neither an object nor a list")
    if "results" in body:
        items, link = body["results"], body.get("__next")
    elif "value" in body:
        items, link = body["value"], body.get("odata.nextLink") or body.get("@odata.nextLink")
    else:
        raise ValueError("collection response has neither 'results' nor 'value'")
    if not isinstance(items, list):
        raise ValueError("collection 'results'/'value' is not a list")
    next_url = urljoin(request_url, link) if link else None
    return Page([clean(i) for i in items if isinstance(i, dict)], next_url)


def entity(payload: Any) -> dict[str, Any]:
    body = unwrap(payload)
    if not isinstance(body, dict):
        raise ValueError("entity response is not an object")
    return clean(body)


# property name -> kept by clean(); the same few hundred names repeat on every row of every
# page, so each is judged once (bounded: a hostile payload cannot grow it without end)
_KEPT: dict[str, bool] = {}
_KEPT_MAX = 10_000


def _kept(key: str) -> bool:
    kept = not (key.startswith("__") or key.startswith("odata.") or "@odata." in key)
    if len(_KEPT) < _KEPT_MAX:
        _KEPT[key] = kept
    return kept


def clean(item: dict[str, Any]) -> dict[str, Any]:
    """Drop OData bookkeeping and flatten collection values; keep expanded navigation.

    Called on every row of every page (tens of thousands of tasks with ~100 properties
    each), so it looks each name up once and tests exact types."""
    out: dict[str, Any] = {}
    for key, value in item.items():
        kept = _KEPT.get(key)
        if not (_kept(key) if kept is None else kept):
            continue
        kind = type(value)
        if kind is dict or (kind is not list and isinstance(value, dict)):
            if "__deferred" in value:
                continue  # a navigation property that was not expanded
            results = value.get("results")
            if isinstance(results, list):
                value = [clean(v) if isinstance(v, dict) else v for v in results]
            else:
                value = clean(value)
        elif kind is list:
            value = [clean(v) if isinstance(v, dict) else v for v in value]
        out[key] = value
    return out


def parse_datetime(value: Any) -> datetime | None:
    """A naive wall-clock datetime from ISO or ``/Date(ms)/``; None for empty or the sentinel.

    Project stores local times without an offset; WCF's ``/Date(ms)/`` encodes that wall-clock
    time as if it were UTC, so both forms give the same naive value. With an offset suffix
    (``/Date(ms+hhmm)/``, a DateTime of kind Local) the milliseconds are UTC and the wall clock
    is UTC plus the offset.
    """
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        result = value.replace(tzinfo=None) if value.tzinfo else value
    elif isinstance(value, str):
        match = _MS_DATE.match(value.strip())
        if match:
            millis = int(match.group(1))
            result = datetime(1970, 1, 1) + timedelta(milliseconds=millis)
            if match.group(2):
                sign = -1 if match.group(2)[0] == "-" else 1
                hours, minutes = int(match.group(2)[1:3]), int(match.group(2)[3:5])
                result += sign * timedelta(hours=hours, minutes=minutes)
        else:
            text = value.strip()
            if text.endswith("Z"):
                text = text[:-1] + "+00:00"
            parsed = datetime.fromisoformat(_trim_fraction(text))
            if parsed.tzinfo is not None:
                parsed = parsed.astimezone(UTC).replace(tzinfo=None)
            result = parsed
    else:
        raise ValueError(f"not a date: {value!r}")
    if result.year == _SENTINEL_YEAR:
        return None
    return result


def _trim_fraction(text: str) -> str:
    # fromisoformat wants 0, 3 or 6 fractional digits before 3.11's relaxed parser; Project
    # sends any number ("2019-03-14T01:58:43.31", seven from .NET ticks).
    match = re.match(r"^(.*T\d\d:\d\d:\d\d)\.(\d+)(.*)$", text)
    if not match:
        return text
    head, fraction, tail = match.groups()
    return f"{head}.{(fraction + '000000')[:6]}{tail}"


def datetime_literal(value: datetime) -> str:
    """An OData v3 ``datetime'…'`` literal (naive wall-clock)."""
    return "datetime'" + value.replace(tzinfo=None, microsecond=0).isoformat() + "'"


def guid_literal(value: str) -> str:
    if not re.fullmatch(r"[0-9A-Fa-f-]{32,36}", value):
        raise ValueError(f"not a GUID: {value!r}")
    return f"guid'{value}'"


def key_segment(value: str) -> str:
    """``('…')`` path key with single quotes doubled, as OData requires."""
    return "('" + value.replace("'", "''") + "')"


@dataclass(frozen=True)
class ODataError:
    code: str
    message: str

    @property
    def number(self) -> int | None:
        """The leading number of codes like ``"10103, Microsoft.ProjectServer.PJ…"``."""
        head = self.code.split(",", 1)[0].strip()
        try:
            return int(head)
        except ValueError:
            return None

    @property
    def exception_type(self) -> str:
        return self.code.split(",", 1)[1].strip() if "," in self.code else self.code


def parse_error(payload: Any) -> ODataError | None:
    """``{"error":{...}}`` (verbose) or ``{"odata.error":{...}}`` (light)."""
    if not isinstance(payload, dict):
        return None
    body = payload.get("error") or payload.get("odata.error")
    if not isinstance(body, dict):
        return None
    message = body.get("message")
    if isinstance(message, dict):
        message = message.get("value")
    return ODataError(code=str(body.get("code") or ""), message=str(message or ""))
