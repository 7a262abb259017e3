"""Loopback emulator of the Dataverse Web API as Planner Premium (Project for the web) uses it.

Modelled behaviours, each with its source:

* **OData v4 reads** at ``/api/data/v9.2/<entityset>`` with ``$select``, ``$filter``, ``$top``,
  ``@odata.etag`` (W/"versionnumber") and server-driven paging: ``Prefer: odata.maxpagesize=N``
  caps a page and the answer carries ``@odata.nextLink`` until the last page; the applied size is
  echoed in ``Preference-Applied`` ("Page results",
  https://learn.microsoft.com/power-apps/developer/data-platform/webapi/query/page-results).
  Default page size 5000 (same page).
* **Change tracking**: ``Prefer: odata.track-changes`` adds ``@odata.deltaLink`` to the last
  page; following it returns rows changed since, and deleted rows as ``$deletedEntity`` entries
  ("Use change tracking to synchronize data with external systems",
  https://learn.microsoft.com/power-apps/developer/data-platform/use-change-tracking-synchronize-data-external-systems).
* **$batch** of GET requests (batch.py): one POST answering each query in order, in one
  multipart/mixed answer ("Execute batch operations using the Web API",
  https://learn.microsoft.com/power-apps/developer/data-platform/webapi/execute-batch-operations-using-web-api).
* **$metadata**: a CSDL document (metadata.xml, hand-written, see its header); every entity
  the emulator answers with is checked against it (a mismatch is a 500: an emulator bug).
* **Refusal of plain CRUD on scheduling tables**: POST/PATCH/DELETE on msdyn_projecttasks,
  msdyn_projecttaskdependencies, msdyn_resourceassignments, msdyn_projectbuckets and
  msdyn_projectteams, and PATCH of scheduling fields of msdyn_projects, answer 400: "Create,
  update, and delete operations with Scheduling entities" go through the Project schedule APIs
  (schedule-api-preview, see schedule.py). The error code is the generic plug-in refusal
  0x80040265 (ISV aborted); the real message text differs by release.
* **Project schedule APIs** (schedule.py) with asynchronous completion and limits.
* **Service protection limits**: the admin fault API's 429 bursts answer with Retry-After and
  the Dataverse error body (code 0x80072322 "Number of requests exceeded the limit of 6000 over
  time window of 300 seconds.") ("Service protection API limits",
  https://learn.microsoft.com/power-apps/developer/data-platform/api-limits).
* **Auth**: a bearer token from the Entra emulator whose audience is this environment's origin;
  delegated tokens need ``user_impersonation``; app-only tokens are refused by the schedule APIs
  (users with a Project licence only, schedule-api-preview "Limitations").

Admin: ``POST /_admin/config`` knobs ``page_size``, ``polls_to_complete``,
``fail_next_operation_sets``, ``fail_reason``, ``allow_app_only``, ``change_tracking``.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode, urlsplit

from flask import Flask, Response, request

from pmosync.sandbox.admin import Burst, EmulatorBase
from pmosync.sandbox.dataverse import batch
from pmosync.sandbox.dataverse.csdl import CsdlViolation, load_schema, metadata_document
from pmosync.sandbox.dataverse.query import FilterError, parse_filter, parse_prefer, parse_select
from pmosync.sandbox.dataverse.schedule import (
    CREATE,
    DELETE,
    SCHEDULING_SETS,
    UPDATE,
    ScheduleApiError,
    Scheduler,
)
from pmosync.sandbox.dataverse.state import Tables

API = "/api/data/v9.2"
SCOPE = "user_impersonation"
REFUSED_SETS = frozenset(SCHEDULING_SETS.values()) - {"msdyn_projects"}
PROJECT_SCHEDULING_FIELDS = frozenset(
    {"msdyn_scheduledstart", "msdyn_finish", "msdyn_duration", "msdyn_progress", "msdyn_effort"}
)
TokenValidator = Callable[[str], dict[str, Any] | None]
SERVICE_PROTECTION = {
    "error": {
        "code": "0x80072322",
        "message": "Number of requests exceeded the limit of 6000 over time window of 300 seconds.",
    }
}
DEFAULT_KNOBS: dict[str, Any] = {
    "page_size": 5000,
    "allow_app_only": False,
    "change_tracking": True,
}


def _error(status: int, code: str, message: str) -> Response:
    body = json.dumps({"error": {"code": code, "message": message}})
    return Response(body, status=status, content_type="application/json; odata.metadata=minimal")


def _json(
    document: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    response = Response(
        json.dumps(document), status=status, content_type="application/json; odata.metadata=minimal"
    )
    response.headers["OData-Version"] = "4.0"
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


class DataverseEmulator(EmulatorBase):
    kind = "dataverse"

    def __init__(
        self,
        seed: Callable[[Tables], None] | None = None,
        *,
        token_validator: TokenValidator | None = None,
        **knobs: Any,
    ) -> None:
        super().__init__()
        self.schema = load_schema()
        self.seed = seed
        self.token_validator = token_validator
        self.knobs = {**DEFAULT_KNOBS}
        self._scheduler_knobs: dict[str, Any] = {}
        self.configure(knobs)
        self.reset()

    # -- state ----------------------------------------------------------------------------
    def reset(self) -> None:
        with self.lock:
            self.tables = Tables(self.schema)
            self.scheduler = Scheduler(self.tables)
            if self.seed:
                self.seed(self.tables)
            self._apply_scheduler_knobs()

    def _apply_scheduler_knobs(self) -> None:
        s = self._scheduler_knobs
        if "polls_to_complete" in s:
            self.scheduler.polls_to_complete = max(1, int(s["polls_to_complete"]))
        if "fail_next_operation_sets" in s:
            self.scheduler.fail_next = int(s.pop("fail_next_operation_sets"))
        if "fail_reason" in s:
            self.scheduler.fail_reason = str(s["fail_reason"])

    def configure(self, knobs: dict[str, Any]) -> dict[str, Any]:
        for key in ("polls_to_complete", "fail_next_operation_sets", "fail_reason"):
            if key in knobs:
                self._scheduler_knobs[key] = knobs[key]
        self.knobs.update({k: v for k, v in knobs.items() if k in DEFAULT_KNOBS})
        if hasattr(self, "scheduler"):
            self._apply_scheduler_knobs()
        scheduler: Scheduler | None = getattr(self, "scheduler", None)
        polls = scheduler.polls_to_complete if scheduler else None
        return {**self.knobs, "polls_to_complete": polls}

    def rows(self, entity_set: str) -> list[dict[str, Any]]:
        return self.tables.all(entity_set)

    def edit(self, entity_set: str, record_id: str, changes: dict[str, Any]) -> dict[str, Any]:
        """A change made in the Planner UI (bumps modifiedon and the row version)."""
        return self.tables.update(entity_set, record_id, changes)

    def operation_sets(self) -> list[dict[str, Any]]:
        return self.tables.all("msdyn_operationsets")

    def fault_response(self, burst: Burst) -> Response:
        if burst.status == 429:
            return _json(burst.body or SERVICE_PROTECTION, status=429)
        return _json(
            burst.body or {"error": {"code": "0x80040216", "message": "injected"}}, burst.status
        )

    # -- auth -----------------------------------------------------------------------------
    def _authenticate(self) -> tuple[str, bool] | Response:
        """(user or app id, is_app_only) for a good token, else Dataverse's 401."""
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        claims = (
            self.token_validator(token.strip())
            if self.token_validator and scheme.lower() == "bearer" and token.strip()
            else None
        )
        if claims is None:
            response = _error(401, "0x80072560", "The user is not authenticated.")
            response.headers["WWW-Authenticate"] = (
                f'Bearer authorization_uri="{request.host_url}", resource_id="{request.host_url}"'
            )
            return response
        audience = str(claims.get("aud", "")).rstrip("/")
        if audience != request.host_url.rstrip("/"):
            return _error(401, "0x80072560", f"Invalid audience '{claims.get('aud')}'.")
        app_only = claims.get("idtyp") == "app" or "scp" not in claims
        if app_only:
            if not self.knobs["allow_app_only"]:
                return _error(
                    403,
                    "0x80040220",
                    "The application user has no security role in this environment.",
                )
        elif SCOPE not in str(claims.get("scp", "")).split():
            return _error(403, "0x80040220", "The token lacks the user_impersonation permission.")
        return str(claims.get("oid") or claims.get("appid") or "anonymous"), app_only

    # -- reads ----------------------------------------------------------------------------
    def _checked(
        self, entity_type: str, row: dict[str, Any], select: list[str] | None
    ) -> dict[str, Any]:
        key = self.schema.keys[entity_type]
        names = select if select is not None else list(self.schema.types[entity_type])
        out: dict[str, Any] = {"@odata.etag": f'W/"{row["versionnumber"]}"'}
        for name in dict.fromkeys([*names, key]):
            out[name] = row.get(name)
        self.schema.check(entity_type, out)  # CsdlViolation -> 500 (an emulator bug)
        return out

    def _collection(self, entity_set: str) -> Response:
        entity_type = self.schema.type_of_set(entity_set)
        if entity_type is None:
            return _error(404, "0x8006088a", f"Resource not found for the segment '{entity_set}'.")
        properties = set(self.schema.types[entity_type])
        args = request.args
        try:
            select = parse_select(args.get("$select"), properties)
            predicate = parse_filter(args.get("$filter"), properties)
        except FilterError as exc:
            return _error(400, "0x80060888", str(exc))
        prefer = parse_prefer(request.headers.get("Prefer"))
        delta = args.get("$deltatoken")
        with self.tables.lock:
            rows = sorted(self.tables.all(entity_set), key=lambda r: r["versionnumber"])
            watermark = self.tables.version
            deleted = list(self.tables.deleted.get(entity_set, []))
        if delta is not None:
            try:
                since = int(delta)
            except ValueError:
                return _error(400, "0x80044352", "The delta token is not valid.")
            rows = [r for r in rows if r["versionnumber"] > since]
        rows = [r for r in rows if predicate(r)]
        if "$top" in args:
            rows = rows[: int(args["$top"])]
        size = int(self.knobs["page_size"])
        headers: dict[str, str] = {}
        if "odata.maxpagesize" in prefer:
            size = min(size, max(1, int(prefer["odata.maxpagesize"])))
            headers["Preference-Applied"] = f"odata.maxpagesize={size}"
        offset = _decode_skip(args.get("$skiptoken"))
        page = rows[offset : offset + size]
        context = f"{request.host_url}{API.lstrip('/')}/$metadata#{entity_set}"
        document: dict[str, Any] = {"@odata.context": context}
        try:
            document["value"] = [self._checked(entity_type, r, select) for r in page]
        except CsdlViolation as exc:
            return _error(500, "0x80040216", f"emulator response breaks $metadata: {exc}")
        if delta is not None and offset + size >= len(rows):
            since = int(delta)
            document["value"] += [
                {
                    "@odata.context": f"{context}/$deletedEntity",
                    "id": record_id,
                    "reason": "deleted",
                }
                for version, record_id in deleted
                if version > since
            ]
        base = {k: v for k, v in args.items() if k != "$skiptoken"}
        if offset + size < len(rows):
            query = urlencode({**base, "$skiptoken": _encode_skip(offset + size)})
            document["@odata.nextLink"] = f"{request.base_url}?{query}"
        elif ("odata.track-changes" in prefer or delta is not None) and self.knobs[
            "change_tracking"
        ]:
            query = urlencode(
                {**{k: v for k, v in base.items() if k != "$deltatoken"}, "$deltatoken": watermark}
            )
            document["@odata.deltaLink"] = f"{request.base_url}?{query}"
            headers["Preference-Applied"] = ",".join(
                p for p in (headers.get("Preference-Applied"), "odata.track-changes") if p
            )
        return _json(document, headers=headers)

    def _get(self, segment: str) -> Response:
        name, _, rest = segment.partition("(")
        if rest:
            return self._single(name, rest.rstrip(")"))
        return self._collection(name)

    def _single(self, entity_set: str, record_id: str) -> Response:
        entity_type = self.schema.type_of_set(entity_set)
        row = self.tables.get(entity_set, record_id) if entity_type else None
        if entity_type is None or row is None:
            return _error(404, "0x80040217", f"{entity_set} With Id = {record_id} Does Not Exist")
        try:
            select = parse_select(request.args.get("$select"), set(self.schema.types[entity_type]))
            if entity_set == "msdyn_operationsets":
                with self.tables.lock:  # a status read is what moves the set along
                    self.scheduler.advance(record_id.lower())
                    row = self.tables.get(entity_set, record_id) or row
            return _json(self._checked(entity_type, row, select))
        except FilterError as exc:
            return _error(400, "0x80060888", str(exc))
        except CsdlViolation as exc:
            return _error(500, "0x80040216", f"emulator response breaks $metadata: {exc}")

    # -- plain writes ---------------------------------------------------------------------
    def _plain_write(self, entity_set: str, record_id: str | None) -> Response:
        entity_type = self.schema.type_of_set(entity_set)
        if entity_type is None:
            return _error(404, "0x8006088a", f"Resource not found for the segment '{entity_set}'.")
        body = request.get_json(silent=True) or {}
        scheduling_fields = PROJECT_SCHEDULING_FIELDS & set(body)
        if entity_set in REFUSED_SETS or (entity_set == "msdyn_projects" and scheduling_fields):
            return _error(
                400,
                "0x80040265",
                f"{entity_type} is a Project scheduling entity: create, update and delete it "
                "through the Project schedule APIs (msdyn_CreateOperationSetV1, "
                "msdyn_PssCreateV1, msdyn_PssUpdateV1, msdyn_PssDeleteV1, "
                "msdyn_ExecuteOperationSetV1).",
            )
        if request.method != "PATCH" or record_id is None:
            return _error(405, "0x80060888", "The emulator only models PATCH of existing rows.")
        if self.tables.get(entity_set, record_id) is None:
            return _error(404, "0x80040217", f"{entity_type} With Id = {record_id} Does Not Exist")
        try:
            self.schema.check(entity_type, body)
        except CsdlViolation as exc:
            return _error(400, "0x80060888", str(exc))
        self.tables.update(
            entity_set, record_id.lower(), {k: v for k, v in body.items() if "@" not in k}
        )
        return Response(status=204)

    # -- actions --------------------------------------------------------------------------
    def _action(self, name: str, user: str, app_only: bool) -> Response:
        if app_only:
            return _error(
                403,
                "0x80040220",
                "Project schedule APIs can't be used by application users; sign in as a user "
                "with a Project licence.",
            )
        body = request.get_json(silent=True) or {}
        scheduler = self.scheduler
        handlers: dict[str, Callable[[], dict[str, Any]]] = {
            "msdyn_CreateOperationSetV1": lambda: scheduler.create_set(user, body),
            "msdyn_PssCreateV1": lambda: scheduler.queue(user, CREATE, body),
            "msdyn_PssUpdateV1": lambda: scheduler.queue(user, UPDATE, body),
            "msdyn_PssDeleteV1": lambda: scheduler.queue(user, DELETE, body),
            "msdyn_ExecuteOperationSetV1": lambda: scheduler.execute(user, body),
            "msdyn_AbandonOperationSetV1": lambda: scheduler.abandon(user, body),
        }
        handler = handlers.get(name)
        if handler is None:
            return _error(404, "0x8006088a", f"Resource not found for the segment '{name}'.")
        try:
            with self.tables.lock:
                return _json(handler())
        except ScheduleApiError as exc:
            return _error(exc.status, exc.code, exc.message)

    # -- routes ---------------------------------------------------------------------------
    def register_routes(self, app: Flask) -> None:
        emulator = self

        @app.get(f"{API}/$metadata")
        def _metadata() -> Response:
            return Response(metadata_document(), content_type="application/xml")

        @app.route(f"{API}/<path:segment>", methods=["GET", "POST", "PATCH", "DELETE"])
        def _dispatch(segment: str) -> Response:
            who = emulator._authenticate()
            if isinstance(who, Response):
                return who
            user, app_only = who
            name, _, rest = segment.partition("(")
            record_id = rest.rstrip(")") if rest else None
            if name.startswith("msdyn_") and name[6:7].isupper():
                if request.method != "POST":
                    return _error(405, "0x80060888", f"{name} is an action: POST it.")
                return emulator._action(name, user, app_only)
            if request.method == "GET":
                return emulator._get(segment)
            return emulator._plain_write(name, record_id)

        @app.post(f"{API}/$batch")
        def _batch() -> Response:
            who = emulator._authenticate()
            if isinstance(who, Response):
                return who
            try:
                parts = batch.parse(request.get_data(), request.content_type or "")
            except batch.BatchError as exc:
                return _error(400, "0x80060888", str(exc))
            answers = []
            for part in parts:
                url = urlsplit(part.url)
                path = url.path if url.path.startswith("/") else f"{API}/{url.path}"
                if not path.startswith(f"{API}/"):
                    answers.append(_error(404, "0x8006088a", f"No API at '{url.path}'."))
                    continue
                # each part runs as the GET it holds, under the batch's sign-in
                headers = {**part.headers, "Authorization": request.headers["Authorization"]}
                with app.test_request_context(
                    path, base_url=request.host_url, query_string=url.query, headers=headers
                ):
                    answers.append(emulator._get(path.removeprefix(f"{API}/")))
            return batch.answer(answers)


def _encode_skip(offset: int) -> str:
    # Dataverse's skip tokens are opaque paging cookies; ours encodes an offset.
    return base64.urlsafe_b64encode(json.dumps({"o": offset}).encode()).decode()


def _decode_skip(token: str | None) -> int:
    if not token:
        return 0
    try:
        return int(json.loads(base64.urlsafe_b64decode(token.encode()))["o"])
    except (ValueError, KeyError, TypeError):
        return 0
