"""Loopback emulator of the Airtable Web API and metadata API, as pyairtable 3.5 uses them.

Follows api-wire-protocol §3: table by URL-quoted name or ``tbl`` id, 100-record pages with
expiring ``itr…/rec…`` offsets, ``listRecords`` POST twin, writes of at most 10 records,
``performUpsert``, ``typecast``, the meta schema with the options pyairtable's models need,
Bearer-only auth and the 5 req/s per base (50 per token) limit with a 30 s lock-out, and
record comments. Not emulated: webhooks, attachments, rollups and lookups.

Python API for tests and the demo (connectors never use it): :meth:`add_base`,
:meth:`add_token`, :meth:`edit_record` (a human editing in the UI), :meth:`create_record`,
:meth:`records`. Admin routes: ``POST /_admin/airtable/edit`` and ``GET /_admin/airtable/records``.
"""

from __future__ import annotations

import copy
import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException

from pmosync.sandbox.admin import Burst, EmulatorBase
from pmosync.sandbox.airtable import errors, fieldtypes
from pmosync.sandbox.airtable.building import BaseBuilder
from pmosync.sandbox.airtable.comments import (
    add_comment,
    delete_comment,
    list_comments,
    update_comment,
)
from pmosync.sandbox.airtable.errors import AirtableError
from pmosync.sandbox.airtable.fieldtypes import now_ms
from pmosync.sandbox.airtable.listing import (
    Iterators,
    check_cell_format,
    list_page,
    query_from_args,
    query_from_body,
)
from pmosync.sandbox.airtable.ratelimit import SlidingWindowLimiter
from pmosync.sandbox.airtable.store import (
    Base,
    Field,
    IdFactory,
    Record,
    Table,
    field_schema,
    is_id,
    render_record,
    table_schema,
)
from pmosync.sandbox.airtable.writes import (
    Prepared,
    Writer,
    delete_record,
    fields_of,
    upsert_records,
)

ALL_SCOPES = (
    "data.records:read",
    "data.records:write",
    "data.recordComments:read",
    "data.recordComments:write",
    "schema.bases:read",
    "schema.bases:write",
    "webhook:manage",
    "user.email:read",
)
MAX_RECORDS_PER_WRITE = 10
_META_BASE = re.compile(r"^/v0/meta/bases/([^/]+)")
_DATA_BASE = re.compile(r"^/v0/([^/]+)/")


@dataclass
class TokenGrant:
    """What a personal access token may do."""

    user_id: str
    email: str
    name: str
    scopes: tuple[str, ...] = ALL_SCOPES
    bases: frozenset[str] | None = None  # None: every base


@dataclass
class Knobs:
    requests_per_second: int = 5
    token_requests_per_second: int = 50
    lockout_seconds: float = 30.0
    offset_ttl_seconds: float = 300.0
    rate_limit_enabled: bool = True
    # Network, not Airtable: each request reaches the rate limiter up to this many seconds
    # late (uniformly at random), as requests sent evenly arrive bunched over the internet.
    arrival_jitter_seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "requests_per_second": self.requests_per_second,
            "token_requests_per_second": self.token_requests_per_second,
            "lockout_seconds": self.lockout_seconds,
            "offset_ttl_seconds": self.offset_ttl_seconds,
            "rate_limit_enabled": self.rate_limit_enabled,
            "arrival_jitter_seconds": self.arrival_jitter_seconds,
        }


class AirtableEmulator(EmulatorBase):
    kind = "airtable"

    def __init__(self, seed: int | str = 0, clock: Callable[[], datetime] = now_ms) -> None:
        super().__init__()
        self.ids = IdFactory(seed)
        self.clock = clock
        self.bases: dict[str, Base] = {}
        self.tokens: dict[str, TokenGrant] = {}
        self.knobs = Knobs()
        self.limiter = SlidingWindowLimiter()
        self.iterators = Iterators(self.ids)
        self.builder = BaseBuilder(self.ids, self.clock)
        self._seed_state: dict[str, Base] = {}

    # -- Python API ---------------------------------------------------------------------------
    def add_token(
        self,
        token: str,
        *,
        user_id: str | None = None,
        email: str = "pmo.bot@example.com",
        name: str = "PMO Bot",
        scopes: tuple[str, ...] = ALL_SCOPES,
        bases: list[str] | None = None,
    ) -> TokenGrant:
        grant = TokenGrant(
            user_id=user_id or self.ids.new("usr"),
            email=email,
            name=name,
            scopes=tuple(scopes),
            bases=frozenset(bases) if bases is not None else None,
        )
        with self.lock:
            self.tokens[token] = grant
        return grant

    def add_base(
        self,
        base_id: str,
        name: str,
        tables: list[dict[str, Any]],
        *,
        collaborators: list[dict[str, str]] | None = None,
        permission_level: str = "create",
    ) -> Base:
        """Add a base from table specs shaped like the meta API's create-table body, plus
        ``id``s (optional), ``views`` and ``records``: ``[{"id"?, "createdTime"?,
        "fields": {name or id: value}}]``. Link fields name the other table by id or name
        in ``options.linkedTableId``; a missing inverse link field is created, as Airtable
        does. The base becomes part of the state :meth:`reset` returns to."""
        with self.lock:
            base = Base(
                id=self.ids.reserve(base_id),
                name=name,
                tables=[],
                permission_level=permission_level,
                collaborators=[dict(c) for c in collaborators or []],
            )
            for spec in tables:
                base.tables.append(self.builder.table(spec))
            self.builder.wire_links(base)
            self.builder.seed_records(base, tables)
            self.bases[base.id] = base
            # Snapshot this base alone: other bases may already hold runtime changes.
            self._seed_state[base.id] = copy.deepcopy(base)
            return base

    def edit_record(
        self, base_id: str, table: str, record_id: str, fields: dict[str, Any]
    ) -> dict[str, Any]:
        """A human edit in the Airtable UI: typecast on, modification times move to now."""
        with self.lock:
            base, tbl = self._base_table(base_id, table)
            record = tbl.records.get(record_id)
            if record is None:
                raise errors.record_not_found(record_id)
            writer = Writer(base, tbl, self.ids, typecast=True)
            prepared = writer.prepare(fields)
            writer.commit_choices()
            writer.apply(record, prepared.values, self.clock())
            return render_record(base, tbl, record)

    def create_record(self, base_id: str, table: str, fields: dict[str, Any]) -> dict[str, Any]:
        """A human adding a row in the UI."""
        with self.lock:
            base, tbl = self._base_table(base_id, table)
            writer = Writer(base, tbl, self.ids, typecast=True)
            prepared = writer.prepare(fields)
            writer.commit_choices()
            return render_record(base, tbl, writer.create(prepared, self.clock()))

    def delete_record(self, base_id: str, table: str, record_id: str) -> None:
        with self.lock:
            base, tbl = self._base_table(base_id, table)
            if record_id not in tbl.records:
                raise errors.record_not_found(record_id)
            delete_record(base, tbl, record_id, self.clock())

    def records(self, base_id: str, table: str, *, by_id: bool = False) -> list[dict[str, Any]]:
        """Current records as the API would return them (creation order)."""
        with self.lock:
            base, tbl = self._base_table(base_id, table)
            return [render_record(base, tbl, r, by_id=by_id) for r in tbl.records.values()]

    def schema(self, base_id: str) -> dict[str, Any]:
        with self.lock:
            base = self.bases[base_id]
            return {"tables": [table_schema(t, True) for t in base.tables]}

    # -- EmulatorBase hooks -------------------------------------------------------------------
    def reset(self) -> None:
        with self.lock:
            self.bases = copy.deepcopy(self._seed_state)
            self.iterators.clear()
            self.limiter.clear()

    def configure(self, knobs: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            for key, value in knobs.items():
                if key in ("requests_per_second", "token_requests_per_second"):
                    setattr(self.knobs, key, int(value))
                elif key in ("lockout_seconds", "offset_ttl_seconds", "arrival_jitter_seconds"):
                    setattr(self.knobs, key, float(value))
                elif key == "rate_limit_enabled":
                    self.knobs.rate_limit_enabled = bool(value)
                else:
                    raise ValueError(f"unknown Airtable emulator setting {key!r}")
            self.iterators.ttl = self.knobs.offset_ttl_seconds
            if knobs:
                self.limiter.clear()
            return self.knobs.as_dict()

    def fault_response(self, burst: Burst) -> Response:
        if burst.body is not None:
            body = burst.body
        elif burst.status == 429:
            body = errors.rate_limited().body()
        elif burst.status == 404:
            body = {"error": "NOT_FOUND"}
        else:
            body = {"error": {"type": "SERVER_ERROR", "message": "Injected server error"}}
        response = jsonify(body)
        response.status_code = burst.status
        return response

    def _base_table(self, base_id: str, table: str) -> tuple[Base, Table]:
        base = self.bases.get(base_id)
        tbl = base.table(table) if base else None
        if base is None or tbl is None:
            raise errors.model_not_found()
        return base, tbl

    # -- HTTP ---------------------------------------------------------------------------------
    def register_routes(self, app: Flask) -> None:
        emulator = self

        @app.before_request
        def _auth_and_rate_limit() -> Response | None:
            if not request.path.startswith("/v0/"):
                return None
            jitter = emulator.knobs.arrival_jitter_seconds
            if jitter > 0:
                time.sleep(random.uniform(0.0, jitter))  # noqa: S311 - simulated latency
            try:
                emulator._authenticate()
                emulator._rate_limit()
            except AirtableError as exc:
                return _error_response(exc)
            return None

        @app.errorhandler(AirtableError)
        def _airtable_error(exc: AirtableError) -> Response:
            return _error_response(exc)

        @app.errorhandler(404)
        @app.errorhandler(405)
        def _not_found(_: HTTPException) -> Response:
            return _error_response(errors.not_found_route())

        app.add_url_rule("/v0/meta/whoami", "whoami", self._whoami, methods=["GET"])
        app.add_url_rule("/v0/meta/bases", "bases", self._list_bases, methods=["GET"])
        app.add_url_rule(
            "/v0/meta/bases/<base_id>/tables", "schema", self._get_schema, methods=["GET"]
        )
        app.add_url_rule(
            "/v0/meta/bases/<base_id>/tables",
            "create_table",
            self._create_table,
            methods=["POST"],
        )
        app.add_url_rule(
            "/v0/meta/bases/<base_id>/tables/<table>/fields",
            "create_field",
            self._create_field,
            methods=["POST"],
        )
        app.add_url_rule(
            "/v0/meta/bases/<base_id>/tables/<table>/fields/<field_id>",
            "update_field",
            self._update_field,
            methods=["PATCH"],
        )
        app.add_url_rule(
            "/v0/<base_id>/<table>",
            "table",
            self._table_route,
            methods=["GET", "POST", "PATCH", "PUT", "DELETE"],
        )
        app.add_url_rule(
            "/v0/<base_id>/<table>/listRecords",
            "list_records_post",
            self._list_records_post,
            methods=["POST"],
        )
        app.add_url_rule(
            "/v0/<base_id>/<table>/<record_id>",
            "record",
            self._record_route,
            methods=["GET", "PATCH", "PUT", "DELETE"],
        )
        app.add_url_rule(
            "/v0/<base_id>/<table>/<record_id>/comments",
            "comments",
            self._comments_route,
            methods=["GET", "POST"],
        )
        app.add_url_rule(
            "/v0/<base_id>/<table>/<record_id>/comments/<comment_id>",
            "comment",
            self._comment_route,
            methods=["PATCH", "DELETE"],
        )
        app.add_url_rule("/_admin/airtable/edit", "admin_edit", self._admin_edit, methods=["POST"])
        app.add_url_rule(
            "/_admin/airtable/records", "admin_records", self._admin_records, methods=["GET"]
        )

    # -- request plumbing ---------------------------------------------------------------------
    def _authenticate(self) -> None:
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        with self.lock:
            grant = self.tokens.get(token.strip()) if scheme == "Bearer" else None
        if grant is None:
            raise errors.authentication_required()
        request.environ["pmosync.airtable.token"] = token.strip()
        request.environ["pmosync.airtable.grant"] = grant

    def _rate_limit(self) -> None:
        if not self.knobs.rate_limit_enabled:
            return
        token: str = request.environ["pmosync.airtable.token"]
        limits = [(f"token:{token}", self.knobs.token_requests_per_second)]
        match = _META_BASE.match(request.path) or _DATA_BASE.match(request.path)
        if match and match.group(1) != "meta":
            limits.append((f"base:{match.group(1)}", self.knobs.requests_per_second))
        if not self.limiter.allow(limits, self.knobs.lockout_seconds):
            raise errors.rate_limited()

    def _grant(self) -> TokenGrant:
        grant: TokenGrant = request.environ["pmosync.airtable.grant"]
        return grant

    def _access(self, base_id: str, scope: str) -> Base:
        grant = self._grant()
        base = self.bases.get(base_id)
        if (
            base is None
            or scope not in grant.scopes
            or (grant.bases is not None and base_id not in grant.bases)
        ):
            raise errors.model_not_found()
        return base

    def _table(self, base_id: str, table: str, scope: str) -> tuple[Base, Table]:
        base = self._access(base_id, scope)
        tbl = base.table(table)
        if tbl is None:
            raise errors.model_not_found()
        return base, tbl

    @staticmethod
    def _body() -> dict[str, Any]:
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            raise AirtableError(400, "INVALID_REQUEST_BODY", "Could not parse request body")
        return body

    # -- meta ---------------------------------------------------------------------------------
    def _whoami(self) -> Response:
        grant = self._grant()
        out: dict[str, Any] = {"id": grant.user_id, "scopes": list(grant.scopes)}
        if "user.email:read" in grant.scopes:
            out["email"] = grant.email
        return jsonify(out)

    def _list_bases(self) -> Response:
        grant = self._grant()
        with self.lock:
            bases = [
                {"id": b.id, "name": b.name, "permissionLevel": b.permission_level}
                for b in self.bases.values()
                if grant.bases is None or b.id in grant.bases
            ]
        return jsonify({"bases": bases})

    def _get_schema(self, base_id: str) -> Response:
        include = request.args.getlist("include") + request.args.getlist("include[]")
        with self.lock:
            base = self._access(base_id, "schema.bases:read")
            tables = [table_schema(t, "visibleFieldIds" in include) for t in base.tables]
        return jsonify({"tables": tables})

    def _create_table(self, base_id: str) -> Response:
        body = self._body()
        with self.lock:
            base = self._access(base_id, "schema.bases:write")
            name, fields = body.get("name"), body.get("fields")
            if not isinstance(name, str) or not name.strip() or base.table(name) is not None:
                raise AirtableError(
                    422, "DUPLICATE_TABLE_NAME", "Table names must be unique and non-empty"
                )
            if not isinstance(fields, list) or not fields:
                raise errors.invalid_request("A table needs at least one field")
            specs = []
            for fspec in fields:
                if not isinstance(fspec, dict) or not isinstance(fspec.get("name"), str):
                    raise errors.invalid_request()
                if fspec.get("type") not in fieldtypes.SUPPORTED_TYPES - fieldtypes.COMPUTED_TYPES:
                    raise AirtableError(
                        422,
                        "INVALID_FIELD_TYPE",
                        f"Cannot create a field of type {fspec.get('type')!r}",
                    )
                specs.append(
                    {k: fspec[k] for k in ("name", "type", "description", "options") if k in fspec}
                )
            names = [s["name"] for s in specs]
            if len(set(names)) != len(names):
                raise AirtableError(
                    422,
                    "DUPLICATE_OR_EMPTY_FIELD_NAME",
                    "Field names must be unique and non-empty",
                )
            try:
                table = self.builder.table(
                    {"name": name, "description": body.get("description"), "fields": specs}
                )
                base.tables.append(table)
                self.builder.wire_links(base)
            except (KeyError, ValueError) as exc:
                if base.tables and base.tables[-1].name == name:
                    base.tables.pop()
                raise errors.invalid_request(f"Invalid table definition: {exc}") from None
            return jsonify(table_schema(table, False))

    def _create_field(self, base_id: str, table: str) -> Response:
        body = self._body()
        with self.lock:
            _, tbl = self._table(base_id, table, "schema.bases:write")
            name, kind = body.get("name"), body.get("type")
            if not isinstance(name, str) or not name.strip() or tbl.field_by_name(name):
                raise AirtableError(
                    422,
                    "DUPLICATE_OR_EMPTY_FIELD_NAME",
                    "Field names must be unique and non-empty",
                )
            creatable = fieldtypes.SUPPORTED_TYPES - fieldtypes.COMPUTED_TYPES
            if kind not in creatable or kind == "multipleRecordLinks":
                raise AirtableError(
                    422, "INVALID_FIELD_TYPE", f"Cannot create a field of type {kind!r}"
                )
            options = body.get("options")
            if options is not None and not isinstance(options, dict):
                raise errors.invalid_request()
            fld = Field(
                id=self.ids.new("fld"),
                name=name,
                type=kind,
                options=fieldtypes.default_options(kind, options),
                description=body.get("description"),
            )
            for choice in (fld.options or {}).get("choices", []):
                choice.setdefault("id", self.ids.new("sel"))
            tbl.fields.append(fld)
            for view in tbl.views:
                if view.visible_field_ids is not None:
                    view.visible_field_ids.append(fld.id)
            return jsonify(field_schema(tbl, fld))

    def _update_field(self, base_id: str, table: str, field_id: str) -> Response:
        body = self._body()
        with self.lock:
            _, tbl = self._table(base_id, table, "schema.bases:write")
            fld = tbl.field(field_id)
            if fld is None:
                raise AirtableError(404, "MODEL_ID_NOT_FOUND", f"Could not find field {field_id}")
            if "name" in body:
                name = body["name"]
                other = tbl.field_by_name(name) if isinstance(name, str) else None
                if not isinstance(name, str) or not name.strip() or other not in (None, fld):
                    raise AirtableError(
                        422,
                        "DUPLICATE_OR_EMPTY_FIELD_NAME",
                        "Field names must be unique and non-empty",
                    )
                old_name, fld.name = fld.name, name
                _rename_in_formulas(tbl, old_name, name)
            if "description" in body:
                fld.description = body["description"] or None
            return jsonify(field_schema(tbl, fld))

    # -- records ------------------------------------------------------------------------------
    def _table_route(self, base_id: str, table: str) -> Response:
        method = request.method
        if method == "GET":
            with self.lock:
                base, tbl = self._table(base_id, table, "data.records:read")
                return jsonify(list_page(base, tbl, query_from_args(request.args), self.iterators))
        if method == "DELETE":
            return self._delete_many(base_id, table)
        body = self._body()
        if method == "POST":
            return self._create(base_id, table, body)
        return self._update_many(base_id, table, body, replace=method == "PUT")

    def _list_records_post(self, base_id: str, table: str) -> Response:
        body = self._body()
        with self.lock:
            base, tbl = self._table(base_id, table, "data.records:read")
            query = query_from_body(body, request.args)
            return jsonify(list_page(base, tbl, query, self.iterators))

    def _record_route(self, base_id: str, table: str, record_id: str) -> Response:
        method = request.method
        scope = "data.records:read" if method == "GET" else "data.records:write"
        with self.lock:
            base, tbl = self._table(base_id, table, scope)
            record = _record(tbl, record_id)
            if method == "GET":
                by_id = request.args.get("returnFieldsByFieldId", "0").lower() in ("1", "true")
                cell_format = request.args.get("cellFormat", "json")
                time_zone = request.args.get("timeZone")
                check_cell_format(cell_format, time_zone, request.args.get("userLocale"))
                return jsonify(
                    render_record(
                        base,
                        tbl,
                        record,
                        by_id=by_id,
                        cell_format=cell_format,
                        time_zone=time_zone,
                    )
                )
            if method == "DELETE":
                delete_record(base, tbl, record_id, self.clock())
                return jsonify({"id": record_id, "deleted": True})
            body = self._body()
            if "fields" not in body:
                raise errors.missing_fields()
            writer = Writer(base, tbl, self.ids, typecast=body.get("typecast") is True)
            prepared = writer.prepare(body["fields"])
            writer.commit_choices()
            writer.apply(record, prepared.values, self.clock(), replace=method == "PUT")
            return jsonify(render_record(base, tbl, record, by_id=_by_id(body)))

    def _comments_route(self, base_id: str, table: str, record_id: str) -> Response:
        reading = request.method == "GET"
        scope = "data.recordComments:read" if reading else "data.recordComments:write"
        with self.lock:
            base, tbl = self._table(base_id, table, scope)
            record = _record(tbl, record_id)
            if reading:
                page_size = request.args.get("pageSize", "100")
                return jsonify(list_comments(record, page_size, request.args.get("offset")))
            grant = self._grant()
            author = {"id": grant.user_id, "email": grant.email, "name": grant.name}
            body = self._body()
            return jsonify(add_comment(base, record, body, author, self.ids, self.clock()))

    def _comment_route(self, base_id: str, table: str, record_id: str, comment_id: str) -> Response:
        with self.lock:
            base, tbl = self._table(base_id, table, "data.recordComments:write")
            record = _record(tbl, record_id)
            user_id = self._grant().user_id
            if request.method == "DELETE":
                return jsonify(delete_comment(record, comment_id, user_id))
            body = self._body()
            return jsonify(update_comment(base, record, comment_id, body, user_id, self.clock()))

    def _create(self, base_id: str, table: str, body: dict[str, Any]) -> Response:
        with self.lock:
            base, tbl = self._table(base_id, table, "data.records:write")
            writer = Writer(base, tbl, self.ids, typecast=body.get("typecast") is True)
            if "records" in body:
                items = _record_list(body["records"])
                prepared = [writer.prepare(fields_of(item)) for item in items]
            elif "fields" in body:
                prepared = [writer.prepare(body["fields"])]
            else:
                raise errors.missing_fields()
            writer.commit_choices()
            now = self.clock()
            created = [writer.create(p, now) for p in prepared]
            rendered = [render_record(base, tbl, r, by_id=_by_id(body)) for r in created]
            return jsonify({"records": rendered} if "records" in body else rendered[0])

    def _update_many(
        self, base_id: str, table: str, body: dict[str, Any], *, replace: bool
    ) -> Response:
        with self.lock:
            base, tbl = self._table(base_id, table, "data.records:write")
            if "records" not in body:
                raise errors.invalid_request('Could not find field "records" in the request body')
            items = _record_list(body["records"])
            writer = Writer(base, tbl, self.ids, typecast=body.get("typecast") is True)
            upsert = body.get("performUpsert")
            if upsert is not None:
                return self._upsert(base, tbl, writer, items, upsert, body, replace)
            prepared: list[Prepared] = []
            for item in items:
                record_id = item.get("id")
                if not isinstance(record_id, str):
                    raise errors.invalid_request('Each record must have an "id"')
                if record_id not in tbl.records:
                    raise errors.row_does_not_exist(record_id)
                prepared.append(writer.prepare(fields_of(item), record_id))
            writer.commit_choices()
            now = self.clock()
            out = []
            for p in prepared:
                assert p.record_id is not None
                record = tbl.records[p.record_id]
                writer.apply(record, p.values, now, replace=replace)
                out.append(render_record(base, tbl, record, by_id=_by_id(body)))
            return jsonify({"records": out})

    def _upsert(
        self,
        base: Base,
        tbl: Table,
        writer: Writer,
        items: list[dict[str, Any]],
        upsert: Any,
        body: dict[str, Any],
        replace: bool,
    ) -> Response:
        result = upsert_records(writer, items, upsert, self.clock, replace=replace)
        by_id = _by_id(body)
        return jsonify(
            {
                "records": [render_record(base, tbl, r, by_id=by_id) for r in result.records],
                "createdRecords": result.created,
                "updatedRecords": result.updated,
            }
        )

    def _delete_many(self, base_id: str, table: str) -> Response:
        ids = request.args.getlist("records[]") + request.args.getlist("records")
        with self.lock:
            base, tbl = self._table(base_id, table, "data.records:write")
            if not ids:
                raise errors.invalid_request('Could not find "records[]" in the query string')
            if len(ids) > MAX_RECORDS_PER_WRITE:
                raise errors.invalid_records(
                    f"You can delete at most {MAX_RECORDS_PER_WRITE} records per request"
                )
            for record_id in ids:
                if record_id not in tbl.records:
                    raise errors.record_not_found(record_id)
            now = self.clock()
            for record_id in dict.fromkeys(ids):
                delete_record(base, tbl, record_id, now)
            return jsonify({"records": [{"id": rid, "deleted": True} for rid in ids]})

    # -- admin --------------------------------------------------------------------------------
    def _admin_edit(self) -> Response:
        body = request.get_json(force=True) or {}
        try:
            if body.get("record"):
                record = self.edit_record(
                    body["base"], body["table"], body["record"], body.get("fields") or {}
                )
            else:
                record = self.create_record(body["base"], body["table"], body.get("fields") or {})
        except AirtableError as exc:
            return _error_response(exc)
        return jsonify(record)

    def _admin_records(self) -> Response:
        try:
            records = self.records(
                request.args["base"],
                request.args["table"],
                by_id=request.args.get("returnFieldsByFieldId") == "1",
            )
        except AirtableError as exc:
            return _error_response(exc)
        return jsonify({"records": records})


# -- helpers ----------------------------------------------------------------------------------
def _error_response(exc: AirtableError) -> Response:
    response = jsonify(exc.body())
    response.status_code = exc.status
    return response


def _by_id(body: dict[str, Any]) -> bool:
    # On writes Airtable takes a JSON bool; the query-string form is honoured too.
    return body.get("returnFieldsByFieldId") is True or request.args.get(
        "returnFieldsByFieldId", ""
    ).lower() in ("1", "true")


def _record(table: Table, record_id: str) -> Record:
    if not is_id(record_id, "rec"):
        raise errors.not_found_route()
    record = table.records.get(record_id)
    if record is None:
        raise errors.record_not_found(record_id)
    return record


def _record_list(value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, list) or not value or not all(isinstance(v, dict) for v in value):
        raise errors.invalid_request('"records" must be a non-empty array of objects')
    if len(value) > MAX_RECORDS_PER_WRITE:
        raise errors.invalid_records(
            f"You can write at most {MAX_RECORDS_PER_WRITE} records per request"
        )
    return value


def _rename_in_formulas(table: Table, old: str, new: str) -> None:
    for fld in table.fields:
        if fld.type == "formula" and fld.options and "formula" in fld.options:
            fld.options["formula"] = fld.options["formula"].replace(
                "{" + old + "}", "{" + new + "}"
            )
            fld._parsed = None
