"""List records: query parsing (GET query string or POST ``listRecords`` body), view, filter,
sort, field selection and the opaque ``itr…/rec…`` offsets that expire after a TTL."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from werkzeug.datastructures import MultiDict

from pmosync.sandbox.airtable import errors
from pmosync.sandbox.airtable.formula import FormulaSyntaxError, matches, parse
from pmosync.sandbox.airtable.store import (
    Base,
    IdFactory,
    Record,
    RecordContext,
    Table,
    json_cell,
    raw_value,
    render_record,
)

_SORT_KEY = re.compile(r"^sort\[(\d+)\]\[(field|direction)\]$")
_OFFSET = re.compile(r"^(itr[A-Za-z0-9]{14})/(rec[A-Za-z0-9]{14})$")


@dataclass
class ListQuery:
    page_size: int = 100
    max_records: int | None = None
    offset: str | None = None
    view: str | None = None
    fields: list[str] | None = None
    by_id: bool = False
    formula: str | None = None
    sort: list[tuple[str, str]] = field(default_factory=list)
    cell_format: str = "json"
    time_zone: str | None = None
    user_locale: str | None = None
    comment_count: bool = False


def _int(value: Any, low: int, high: int | None) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise errors.invalid_request() from None
    if isinstance(value, bool) or number < low or (high is not None and number > high):
        raise errors.invalid_request()
    return number


def _flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).lower() in ("1", "true")


def query_from_args(args: MultiDict[str, str]) -> ListQuery:
    query = ListQuery()
    if "pageSize" in args:
        query.page_size = _int(args["pageSize"], 1, 100)
    if "maxRecords" in args:
        query.max_records = _int(args["maxRecords"], 1, None)
    query.offset = args.get("offset") or None
    query.view = args.get("view") or None
    names = args.getlist("fields[]") + args.getlist("fields")
    query.fields = names or None
    query.by_id = _flag(args.get("returnFieldsByFieldId", "0"))
    query.formula = args.get("filterByFormula") or None
    sorts: dict[int, dict[str, str]] = {}
    for key, value in args.items(multi=True):
        match = _SORT_KEY.match(key)
        if match:
            sorts.setdefault(int(match.group(1)), {})[match.group(2)] = value
    query.sort = [_sort_entry(sorts[i]) for i in sorted(sorts)]
    query.cell_format = args.get("cellFormat", "json")
    query.time_zone = args.get("timeZone")
    query.user_locale = args.get("userLocale")
    query.comment_count = "commentCount" in args.getlist("recordMetadata[]")
    return query


def query_from_body(body: Mapping[str, Any], args: MultiDict[str, str]) -> ListQuery:
    query = ListQuery()
    if "pageSize" in body:
        query.page_size = _int(body["pageSize"], 1, 100)
    if "maxRecords" in body:
        query.max_records = _int(body["maxRecords"], 1, None)
    query.offset = body.get("offset") or None
    query.view = body.get("view") or None
    names = body.get("fields")
    if names is not None and not (
        isinstance(names, list) and all(isinstance(n, str) for n in names)
    ):
        raise errors.invalid_request()
    query.fields = names or None
    query.by_id = bool(body.get("returnFieldsByFieldId", False))
    query.formula = body.get("filterByFormula") or None
    sort = body.get("sort") or []
    if not isinstance(sort, list) or not all(isinstance(s, dict) for s in sort):
        raise errors.invalid_request()
    query.sort = [_sort_entry(s) for s in sort]
    query.cell_format = body.get("cellFormat", "json")
    # timeZone and userLocale cannot travel in the body (pyairtable keeps them in the query).
    query.time_zone = args.get("timeZone")
    query.user_locale = args.get("userLocale")
    metadata = body.get("recordMetadata") or []
    query.comment_count = isinstance(metadata, list) and "commentCount" in metadata
    return query


def _sort_entry(entry: Mapping[str, Any]) -> tuple[str, str]:
    name = entry.get("field")
    direction = entry.get("direction", "asc")
    if not isinstance(name, str) or direction not in ("asc", "desc"):
        raise errors.invalid_request()
    return name, direction


@dataclass
class _Iterator:
    base_id: str
    table_id: str
    record_ids: list[str]
    query: ListQuery


@dataclass
class _Page:
    iterator: _Iterator
    position: int
    issued_at: float


class Iterators:
    """Issued offsets; each expires ``ttl`` seconds after it was handed out."""

    def __init__(self, ids: IdFactory, clock: Callable[[], float] = time.monotonic) -> None:
        self.ids = ids
        self.clock = clock
        self.ttl = 300.0
        self._pages: dict[str, _Page] = {}
        self._lock = threading.Lock()

    def clear(self) -> None:
        with self._lock:
            self._pages.clear()

    def issue(self, iterator: _Iterator, itr_id: str, position: int) -> str:
        token = f"{itr_id}/{iterator.record_ids[position]}"
        with self._lock:
            now = self.clock()
            expired = [k for k, p in self._pages.items() if now - p.issued_at > self.ttl]
            for key in expired:
                del self._pages[key]
            self._pages[token] = _Page(iterator, position, now)
        return token

    def resume(self, token: str, base_id: str, table_id: str) -> _Page:
        if not _OFFSET.match(token):
            raise errors.invalid_offset(token)
        with self._lock:
            page = self._pages.get(token)
            if page is None or self.clock() - page.issued_at > self.ttl:
                self._pages.pop(token, None)
                raise errors.iterator_not_available()
        if (page.iterator.base_id, page.iterator.table_id) != (base_id, table_id):
            raise errors.iterator_not_available()
        return page


def _sort_key(base: Base, table: Table, field_id: str) -> Callable[[Record], tuple[Any, ...]]:
    fld = table.field_by_id(field_id)

    def key(record: Record) -> tuple[Any, ...]:
        value = json_cell(raw_value(base, table, record, fld))
        if value is None or value == [] or value == "":
            return (0, "")  # blanks first when ascending, as in Airtable
        if isinstance(value, list):
            value = ", ".join(str(v) for v in value)
        if isinstance(value, dict):
            value = str(value.get("name") or value.get("error") or "")
        if isinstance(value, str):
            return (2, value.lower())
        if isinstance(value, bool):
            return (1, int(value))
        if isinstance(value, datetime):
            return (1, value.timestamp())
        return (1, value)

    return key


def select_records(base: Base, table: Table, query: ListQuery) -> list[str]:
    """The ordered ids a fresh listing returns (view, filter, sort, maxRecords applied)."""
    records = list(table.records.values())
    sort = list(query.sort)
    if query.view is not None:
        view = table.view(query.view)
        if view is None:
            raise errors.AirtableError(
                422, "VIEW_NAME_NOT_FOUND", f'Could not find view "{query.view}"'
            )
        if view.formula:
            node = parse(view.formula, lambda n: table.field_by_name(n) is not None)
            records = [r for r in records if matches(node, RecordContext(base, table, r))]
        if not sort:
            sort = [(table.field_by_id(fid).name, direction) for fid, direction in view.sort]
    if query.formula:
        try:
            node = parse(query.formula, lambda n: table.field_by_name(n) is not None)
        except FormulaSyntaxError as exc:
            raise errors.invalid_formula(str(exc)) from None
        records = [r for r in records if matches(node, RecordContext(base, table, r))]
    for name, direction in reversed(sort):
        fld = table.field(name)
        if fld is None:
            raise errors.unknown_field(name)
        records.sort(key=_sort_key(base, table, fld.id), reverse=direction == "desc")
    ids = [r.id for r in records]
    if query.max_records is not None:
        ids = ids[: query.max_records]
    return ids


def check_cell_format(cell_format: str, time_zone: str | None, user_locale: str | None) -> None:
    if cell_format not in ("json", "string"):
        raise errors.invalid_request()
    if cell_format == "string" and not (time_zone and user_locale):
        raise errors.invalid_request(
            'The "timeZone" and "userLocale" parameters are required when using "string" '
            "as the cellFormat"
        )


def list_page(base: Base, table: Table, query: ListQuery, iterators: Iterators) -> dict[str, Any]:
    check_cell_format(query.cell_format, query.time_zone, query.user_locale)
    only: set[str] | None = None
    if query.fields is not None:
        only = set()
        for name in query.fields:
            fld = table.field(name)
            if fld is None:
                raise errors.unknown_field(name)
            only.add(fld.id)
    if query.offset:
        page = iterators.resume(query.offset, base.id, table.id)
        iterator, position = page.iterator, page.position
        itr_id = query.offset.split("/", 1)[0]
    else:
        iterator = _Iterator(base.id, table.id, select_records(base, table, query), query)
        position, itr_id = 0, iterators.ids.new("itr")
    chunk = iterator.record_ids[position : position + query.page_size]
    records = [
        render_record(
            base,
            table,
            table.records[rid],
            by_id=query.by_id,
            only=only,
            cell_format=query.cell_format,
            time_zone=query.time_zone,
        )
        for rid in chunk
        if rid in table.records  # deleted since the listing started
    ]
    if query.comment_count:
        for record in records:
            record["commentCount"] = len(table.records[record["id"]].comments)
    out: dict[str, Any] = {"records": records}
    next_position = position + query.page_size
    if next_position < len(iterator.record_ids):
        out["offset"] = iterators.issue(iterator, itr_id, next_position)
    return out
