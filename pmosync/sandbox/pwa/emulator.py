"""Loopback emulator of a Project Web App site: ``{site}/_api/ProjectServer`` (CSOM-REST, read and
write), ``{site}/_api/ProjectData`` (reporting OData v3, read-only) and ``{site}/_api/contextinfo``.

Wire behaviour (api-wire-protocol §5):

* **Auth**: ``Authorization: Bearer <token>`` checked with ``token_validator`` (the Entra
  emulator's ``validate``). The audience must be the site's origin (``https://127.0.0.1:PORT``)
  or one of ``audiences``; delegated tokens need a Project/SharePoint scope in ``scp`` (writes
  need ``Project.Write``, ``ProjectWebApp.FullControl`` or ``AllSites.Write``/``Manage``/
  ``FullControl``). App-only tokens are refused (``Unsupported app only token.``), because
  Project Online does not support them (§4.4); with the ``allow_app_only`` knob on, a
  certificate-based one (``appidacr`` 2) passes and a secret-based one is still refused, as
  SharePoint Online does. A
  missing or bad token is a 401 with ``WWW-Authenticate: Bearer realm="<tenant id>",…``.
* **Form digest**: ``POST {site}/_api/contextinfo`` returns ``FormDigestValue``; with the default
  ``digest_policy="always"`` every POST/MERGE/PATCH/DELETE needs it in ``X-RequestDigest``
  (missing or older than ``digest_ttl`` seconds: 403 ``-2130575251,
  Microsoft.SharePoint.SPException``). ``digest_policy="never"`` follows §5.2's note that
  bearer-authenticated calls may skip it.
* **Dialects**: ``Accept: application/json;odata=verbose`` gives ``{"d": …}``;
  ``application/json`` / ``odata=minimalmetadata`` / ``odata=nometadata`` give JSON light. No
  JSON in ``Accept`` is a 406 (the real service would answer Atom XML). ProjectServer dates are
  ISO wall-clock strings in both dialects; ProjectData verbose dates are ``/Date(ms)/``.
* **Paging**: ``page_size`` rows per page (``expand_page_size`` for ``Projects`` with
  ``$expand`` or ``IncludeCustomFields``), next link in ``d.__next`` (absolute) or
  ``odata.nextLink`` (relative to the request URL when ``relative_next_links`` is on) with a
  key-based ``$skiptoken``; ``$top`` beyond a page is served over several pages.
* **Writes** (§5.5): ``Projects('id')/checkOut()``, ``Draft`` MERGE (``X-HTTP-Method: MERGE``
  over POST, or MERGE/PATCH), ``Draft/Tasks/Add``, ``Draft/Tasks('id')`` MERGE/DELETE,
  ``Draft/TaskLinks/Add``, ``Draft/Assignments/Add``,
  ``Draft/ProjectResources/AddEnterpriseResourceById('id')``, ``Draft/UpdateCustomFields()``,
  ``Draft/update()``, ``Draft/publish(bool)``, ``Draft/checkIn(bool)``; the last five return a
  QueueJob that moves 1 → 3 → 4 (or 5 when a failure is injected) after ``job_polls`` GETs of
  ``QueueJobs('id')`` or ``job_seconds`` seconds, whichever comes first. Lock errors are 403
  ``PJClientCallableException``: 1030 ``ProjectWriteLock`` (a job is still running), 10102
  ``CICONotCheckedOut``, 10103 ``CICOCheckedOutInOtherSession`` (someone else holds it).
* **Throttling**: ``throttle={"status": 429|503, "count": n, "retry_after": s}`` answers the
  next n API calls with that status and an integer ``Retry-After``; ``rate_limit_per_minute``
  enforces a sliding window with ``RateLimit-*`` headers, in which throttled requests count
  too (a retry before ``Retry-After`` lengthens the wait).

Knobs (``configure({...})``, ``POST /_admin/config``; defaults in :data:`DEFAULT_KNOBS`):
``page_size``, ``expand_page_size``, ``job_polls``, ``job_seconds``, ``fail_next_publish``,
``digest_policy``, ``digest_ttl``, ``allow_app_only``, ``relative_next_links``,
``projectserver_ms_dates``, ``reporting_lag_seconds``, ``numbers_as_strings``,
``finished_jobs_404``, ``expire_skiptokens``, ``rate_limit_per_minute``, ``throttle``,
``ps_version``.

Python API for tests and scenarios: :meth:`PwaEmulator.projects`,
:meth:`PwaEmulator.published`, :meth:`PwaEmulator.draft`, :meth:`PwaEmulator.checked_out_by`,
:meth:`PwaEmulator.check_out_as`, :meth:`PwaEmulator.human_edit`,
:meth:`PwaEmulator.custom_field_value`, :meth:`PwaEmulator.jobs`,
:meth:`PwaEmulator.cancel_job` (also ``POST /_admin/pwa/jobs/<id>/cancel``: the administrator's
Cancel Job; a Failed job blocks the project's later jobs with JobState 8 until then),
:meth:`PwaEmulator.configure`, :meth:`PwaEmulator.api_calls`.
"""

from __future__ import annotations

import math
import secrets
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from flask import Flask, Response, request

from pmosync.sandbox.admin import Burst, EmulatorBase
from pmosync.sandbox.entra.directory import DEFAULT_TENANT_ID
from pmosync.sandbox.pwa import writes
from pmosync.sandbox.pwa.entities import Views
from pmosync.sandbox.pwa.odata import (
    Dialect,
    Entity,
    Guid,
    ODataError,
    Query,
    Renderer,
    apply_query,
    error_body,
    negotiate,
    parse_literal_list,
    parse_query,
)
from pmosync.sandbox.pwa.reporting import ENTITY_SETS, Reporting, edmx
from pmosync.sandbox.pwa.seed import SeedSpec, build_state
from pmosync.sandbox.pwa.state import Plan, PwaState

TokenValidator = Callable[[str], "dict[str, Any] | None"]

READ_SCOPES = frozenset(
    {
        "Project.Read",
        "Project.Write",
        "ProjectWebApp.FullControl",
        "ProjectWebAppReporting.Read",
        "AllSites.Read",
        "AllSites.Write",
        "AllSites.Manage",
        "AllSites.FullControl",
    }
)
WRITE_SCOPES = frozenset(
    {
        "Project.Write",
        "ProjectWebApp.FullControl",
        "AllSites.Write",
        "AllSites.Manage",
        "AllSites.FullControl",
    }
)
SHAREPOINT_APP_ID = "00000003-0000-0ff1-ce00-000000000000"
ACCESS_DENIED = "-2147024891, System.UnauthorizedAccessException"
DIGEST_ERROR = "-2130575251, Microsoft.SharePoint.SPException"
NOT_FOUND = "-1, Microsoft.SharePoint.Client.ResourceNotFoundException"

DEFAULT_KNOBS: dict[str, Any] = {
    "page_size": 100,
    "expand_page_size": 20,
    "job_polls": 2,
    "job_seconds": 30.0,
    "fail_next_publish": 0,  # how many upcoming publish jobs end Failed (JobState 5)
    "digest_policy": "always",  # "always" | "never"
    "digest_ttl": 1800,
    "allow_app_only": False,
    "relative_next_links": True,
    # ProjectServer (CSOM-REST) sends ISO wall-clock dates even in verbose (§5.4); set this to
    # serve WCF-style /Date(ms)/ there too, as ProjectData verbose always does.
    "projectserver_ms_dates": False,
    # ProjectData shows a publish only this many seconds later: the reporting database is
    # refreshed by a "Reporting (Project Publish)" queue job that runs after the publish job
    # (learn.microsoft.com/previous-versions/office/project-odata/dn776317; support.microsoft.com
    # "Configure rollup of timephased reporting data in Project Online"). Seconds on a quiet
    # farm, longer under load: on by default, as on the real service.
    "reporting_lag_seconds": 3.0,
    # Serve project NUMBER custom field values as strings ("42.5"), as some sites do (§5.6).
    "numbers_as_strings": False,
    # GET QueueJobs('id') of a finished job answers 404 (it was purged): clients must cope.
    "finished_jobs_404": False,
    # The next N requests that carry a $skiptoken fail (400): a pull must raise, not end early.
    "expire_skiptokens": 0,
    "rate_limit_per_minute": None,
    "throttle": None,
    # "online": entity shapes of Project Online's $metadata; "2019": SharePoint/Project Server
    # 2019's, where a published task link has only Id, DependencyType and Start/End
    # (tests/fixtures/specs/project-server-ps-2019.edmx.xml).
    "ps_version": "online",
}


class PwaEmulator(EmulatorBase):
    """A PWA site seeded from :class:`SeedSpec`; ``token_validator`` checks bearer tokens."""

    kind = "pwa"

    def __init__(
        self,
        seed: SeedSpec | None = None,
        token_validator: TokenValidator | None = None,
        *,
        site_path: str = "/sites/pwa",
        tenant_id: str = DEFAULT_TENANT_ID,
        audiences: Iterable[str] = (),
        authorization_uri: str = "https://login.microsoftonline.com/common/oauth2/authorize",
        **knobs: Any,
    ) -> None:
        super().__init__()
        self.seed_spec = seed or SeedSpec()
        self.token_validator = token_validator
        self.site_path = "/" + site_path.strip("/") if site_path.strip("/") else ""
        self.tenant_id = tenant_id
        self.audiences = set(audiences) | {SHAREPOINT_APP_ID}
        self.authorization_uri = authorization_uri
        self.knobs = dict(DEFAULT_KNOBS)
        if self.seed_spec.page_size is not None:
            self.knobs["page_size"] = self.seed_spec.page_size
        self.configure(knobs)
        self._initial_knobs = dict(self.knobs)
        self.state: PwaState = build_state(self.seed_spec)
        self.views = Views(self.state, self._user_info, self.knobs)
        self.reporting = Reporting(self.state)
        self.digests: dict[str, float] = {}
        self.known_users: dict[str, dict[str, Any]] = {}
        self.calls: Counter[str] = Counter()
        # "GET ProjectServer/Projects $filter": which query options each endpoint was sent
        self.options_used: Counter[str] = Counter()
        self._window: deque[float] = deque()
        self._guard = threading.RLock()

    # -- knobs and reset ------------------------------------------------------------------
    def configure(self, knobs: dict[str, Any]) -> dict[str, Any]:
        unknown = set(knobs) - set(DEFAULT_KNOBS)
        if unknown:
            raise ValueError(f"unknown PWA emulator knobs: {sorted(unknown)}")
        throttle = knobs.get("throttle")
        if throttle:
            self.faults.set(
                {
                    "burst": {
                        "status": int(throttle.get("status", 429)),
                        "count": int(throttle.get("count", 1)),
                        "retry_after": throttle.get("retry_after", 1),
                        "path_prefix": throttle.get("path_prefix", self.site_path + "/_api"),
                    }
                }
            )
        self.knobs.update({k: v for k, v in knobs.items() if k != "throttle"})
        return {k: v for k, v in self.knobs.items() if k != "throttle"}

    def reset(self) -> None:
        with self._guard:
            self.state = build_state(self.seed_spec)
            self.knobs.clear()
            self.knobs.update(self._initial_knobs)
            self.views = Views(self.state, self._user_info, self.knobs)
            self.reporting = Reporting(self.state)
            self.digests.clear()
            self.calls.clear()
            self.options_used.clear()
            self._window.clear()

    # -- python API -----------------------------------------------------------------------
    def projects(self) -> list[dict[str, Any]]:
        with self._guard:
            return [
                {
                    "Id": r.id,
                    "Name": r.name,
                    "LastPublishedDate": r.last_published,
                    "IsCheckedOut": r.checkout is not None,
                    "CheckedOutBy": r.checkout.owner_name if r.checkout else None,
                    "Tasks": sum(1 for t in r.published.tasks if int(t["OutlineLevel"]) > 0),
                    "TaskLinks": len(r.published.links),
                }
                for r in self.state.projects.values()
            ]

    def published(self, project_id: str) -> Plan:
        return self._record(project_id).published

    def draft(self, project_id: str) -> Plan:
        return self._record(project_id).draft

    def checked_out_by(self, project_id: str) -> str | None:
        """The upn (or name) of whoever holds the check-out, None when checked in."""
        checkout = self._record(project_id).checkout
        return checkout.owner_name if checkout else None

    def check_out_as(self, project_id: str, user: str = "planner@contoso.onmicrosoft.com") -> None:
        """A human opens the project in Project Professional: it is checked out to them."""
        with self._guard:
            writes.check_out(self, self._record(project_id), f"human:{user}", user)
            self.state.version += 1

    def force_check_in(self, project_id: str) -> None:
        with self._guard:
            self._record(project_id).checkout = None
            self.state.version += 1

    def human_edit(
        self,
        project_id: str,
        task_id: str | None = None,
        *,
        publish: bool = True,
        custom: dict[str, Any] | None = None,
        **changes: Any,
    ) -> None:
        """A planner edits in PWA and (by default) publishes at once: ``changes`` are DraftTask
        properties of ``task_id`` (or DraftProject properties), ``custom`` maps custom field
        display names to values (lookups by entry text; task fields apply to ``task_id``).
        Raises RuntimeError while pmo-sync (not a human) holds the check-out."""
        with self._guard:
            writes.human_edit(self, self._record(project_id), task_id, publish, custom, changes)
            self.state.version += 1

    def human_add_task(self, project_id: str, name: str) -> str:
        """A planner adds a task to the plan in PWA and publishes at once; its id."""
        with self._guard:
            task_id = writes.human_add_task(self, self._record(project_id), name)
            self.state.version += 1
            return task_id

    def custom_field_value(self, project_id: str, name: str, *, draft: bool = False) -> Any:
        """A project custom field's value by display name; lookups as their entry texts."""
        record = self._record(project_id)
        field = self.state.field_by_name(name)
        if field is None:
            raise KeyError(name)
        value = (record.draft if draft else record.published).custom.get(field.internal_name)
        table = self.state.lookup_table(field.lookup_table_id)
        if table is not None:
            return [e.full_value for n in (value or []) if (e := table.entry(n))]
        return value

    def jobs(self) -> list[dict[str, Any]]:
        with self._guard:
            return [
                {
                    "Id": j.id,
                    "ProjectId": j.project_id,
                    "MessageType": j.msg_type,
                    "JobState": j.state,
                    "Polls": j.polls,
                }
                for j in self.state.jobs.values()
            ]

    def cancel_job(self, job_id: str) -> bool:
        """Cancel a queue job as an administrator would (unblocks the project's queue)."""
        with self._guard:
            return writes.cancel_job(self, Guid(job_id))

    def query_options(self) -> dict[str, int]:
        """Requests per endpoint and query option sent, e.g.
        ``GET ProjectServer/Projects $select``."""
        with self._guard:
            return dict(self.options_used)

    def api_calls(self) -> dict[str, int]:
        """Requests per normalised endpoint (GUIDs replaced by ``{id}``), e.g.
        ``GET ProjectServer/Projects('{id}')/Tasks``."""
        with self._guard:
            return dict(self.calls)

    # -- helpers --------------------------------------------------------------------------
    def _record(self, project_id: str) -> Any:
        record = self.state.projects.get(Guid(project_id))
        if record is None:
            raise ODataError(404, NOT_FOUND, f"Project '{project_id}' was not found.")
        return record

    def _user_info(self, owner_id: str) -> dict[str, Any] | None:
        info = self.known_users.get(owner_id)
        if info is None and owner_id.startswith("human:"):
            upn = owner_id.split(":", 1)[1]
            info = {"Id": 0, "Title": upn, "Email": upn, "LoginName": f"i:0#.f|membership|{upn}"}
        return info

    def now(self) -> datetime:
        return datetime.now(UTC).replace(tzinfo=None, microsecond=0)

    # -- flask ----------------------------------------------------------------------------
    def fault_response(self, burst: Burst) -> Response:
        if burst.body is not None:
            return super().fault_response(burst)
        message = (
            "The request has been throttled. Retry after the interval in Retry-After."
            if burst.status == 429
            else "The server is too busy. Please try again later."
        )
        error = ODataError(burst.status, "-2147024860, Microsoft.SharePoint.SPException", message)
        dialect = negotiate(request.headers.get("Accept", "")) or Dialect.MINIMAL
        return _json(error_body(error, dialect), burst.status)

    def register_routes(self, app: Flask) -> None:
        emulator = self
        methods = ["GET", "POST", "MERGE", "PATCH", "PUT", "DELETE"]

        @app.route(f"{self.site_path}/_api/<path:rest>", methods=methods)
        def _api(rest: str) -> Response:
            return emulator._handle(rest)

        @app.get("/_admin/pwa/projects")
        def _admin_projects() -> Response:
            return _json(
                [
                    {k: (str(v) if v is not None else None) for k, v in p.items()}
                    for p in emulator.projects()
                ],
                200,
            )

        @app.get("/_admin/pwa/jobs")
        def _admin_jobs() -> Response:
            return _json(emulator.jobs(), 200)

        @app.post("/_admin/pwa/jobs/<job_id>/cancel")
        def _admin_cancel_job(job_id: str) -> Response:
            # the administrator's "Cancel Job" in Manage Queue Jobs
            if not emulator.cancel_job(job_id):
                return _json({"error": f"no cancellable queue job {job_id}"}, 404)
            return _json({"cancelled": job_id}, 200)

        @app.get("/_admin/pwa/calls")
        def _admin_calls() -> Response:
            return _json(emulator.api_calls(), 200)

    # -- request pipeline -----------------------------------------------------------------
    def _handle(self, rest: str) -> Response:
        method = request.method
        tunnelled = request.headers.get("X-HTTP-Method")
        if method == "POST" and tunnelled:
            method = tunnelled.upper()
        if method == "PATCH":
            method = "MERGE"
        dialect = negotiate(request.headers.get("Accept", ""), request.args.get("$format"))
        try:
            with self._guard:
                endpoint = f"{method} {_normalise(rest)}"
                self.calls[endpoint] += 1
                for option in request.args:
                    self.options_used[f"{endpoint} {option}"] += 1
                limited = self._rate_limited()
                if limited is not None:
                    return limited
                is_contextinfo = rest.rstrip("/").lower() == "contextinfo"
                # Reading the digest is allowed to anyone who can read the site.
                claims = self._authenticate("GET" if is_contextinfo else method)
                if isinstance(claims, Response):
                    return claims
                if is_contextinfo:
                    return self._contextinfo(dialect, method)
                if method != "GET":
                    self._check_digest()
                writes.tick(self)
                if dialect is None:
                    raise ODataError(
                        406,
                        "-1, Microsoft.SharePoint.Client.ClientServiceException",
                        "This emulator speaks JSON only: send Accept: application/json "
                        "(optionally with ;odata=verbose|minimalmetadata|nometadata).",
                    )
                try:
                    return self._dispatch(rest, method, dialect, claims)
                finally:
                    if method != "GET":
                        self.state.version += 1
        except ODataError as error:
            return _json(error_body(error, dialect or Dialect.MINIMAL), error.status)

    def _rate_limited(self) -> Response | None:
        limit = self.knobs.get("rate_limit_per_minute")
        if not limit:
            return None
        now = time.monotonic()
        while self._window and now - self._window[0] > 60:
            self._window.popleft()
        if len(self._window) >= int(limit):
            # "Throttled requests count towards usage limits, so failure to honor Retry-After
            # may result in more throttling" (learn.microsoft.com/sharepoint/dev/
            # general-development/how-to-avoid-getting-throttled-or-blocked-in-sharepoint-
            # online): this request counts too, and Retry-After is when one more fits, so a
            # client that retries early only pushes its wait further out.
            self._window.append(now)
            expire = len(self._window) - int(limit) + 1  # entries that must leave the window
            wait = max(1, math.ceil(60 - (now - self._window[expire - 1])))
            error = ODataError(
                429,
                "-2147024860, Microsoft.SharePoint.SPException",
                "The request has been throttled. Retry after the interval in Retry-After.",
            )
            dialect = negotiate(request.headers.get("Accept", "")) or Dialect.MINIMAL
            response = _json(error_body(error, dialect), 429)
            response.headers["Retry-After"] = str(wait)
            response.headers["RateLimit-Limit"] = str(limit)
            response.headers["RateLimit-Remaining"] = "0"
            response.headers["RateLimit-Reset"] = str(wait)
            return response
        self._window.append(now)
        return None

    def _unauthorized(self, description: str) -> Response:
        response = _json({"error_description": description}, 401)
        response.headers["WWW-Authenticate"] = (
            f'Bearer realm="{self.tenant_id}",client_id="{SHAREPOINT_APP_ID}",'
            f'trusted_issuers="00000001-0000-0000-c000-000000000000@*,'
            f'https://sts.windows.net/*/,https://login.microsoftonline.com/*/v2.0",'
            f'authorization_uri="{self.authorization_uri}"'
        )
        response.headers["x-ms-diagnostics"] = (
            f'3000006;reason="{description}";category="invalid_client"'
        )
        return response

    def _authenticate(self, method: str) -> dict[str, Any] | Response:
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return self._unauthorized("Invalid JWT token. No token was provided.")
        claims = self.token_validator(token.strip()) if self.token_validator else None
        if claims is None:
            return self._unauthorized("Invalid JWT token. The token is invalid or expired.")
        origin = request.host_url.rstrip("/")
        audience = str(claims.get("aud", "")).rstrip("/")
        if audience != origin and audience not in self.audiences:
            return self._unauthorized(f"Invalid audience Uri '{claims.get('aud')}'.")
        if claims.get("idtyp") == "app" or "scp" not in claims:
            # Project Online has no app-only access at all (api-wire-protocol §4.4); SharePoint
            # Online takes an Entra app-only token only when the app proved itself with a
            # certificate (appidacr "2"), and answers a secret-based one (appidacr "1") with
            # 401 "Unsupported app only token." (learn.microsoft.com/sharepoint/dev/
            # solution-guidance/security-apponly-azuread; techcommunity.microsoft.com "Avoiding
            # access errors with SharePoint app-only access"). allow_app_only models a site that
            # takes app-only, which still refuses a secret.
            if not self.knobs["allow_app_only"] or str(claims.get("appidacr")) != "2":
                return self._unauthorized("Unsupported app only token.")
            granted = {"ProjectWebApp.FullControl"}
        else:
            granted = set(str(claims.get("scp", "")).split())
        needed = READ_SCOPES if method == "GET" else WRITE_SCOPES
        if not granted & needed:
            raise ODataError(
                403,
                ACCESS_DENIED,
                "Access denied. You do not have permission to perform this action or access "
                "this resource.",
            )
        owner = str(claims.get("oid", ""))
        name = str(claims.get("upn") or claims.get("appid") or owner)
        self.known_users.setdefault(
            owner,
            {
                "Id": len(self.known_users) + 1,
                "Title": claims.get("name", name),
                "Email": name,
                "LoginName": f"i:0#.f|membership|{name}",
            },
        )
        return claims

    def _contextinfo(self, dialect: Dialect | None, method: str) -> Response:
        if method != "POST":
            raise ODataError(
                405,
                "-1, Microsoft.SharePoint.Client.ClientServiceException",
                "The HTTP method 'GET' cannot be used to access 'contextinfo'.",
            )
        stamp = datetime.now(UTC).strftime("%d %b %Y %H:%M:%S -0000")
        digest = f"0x{secrets.token_hex(64).upper()},{stamp}"
        self.digests[digest] = time.monotonic()
        site = request.host_url.rstrip("/") + self.site_path
        info = {
            "FormDigestTimeoutSeconds": int(self.knobs["digest_ttl"]),
            "FormDigestValue": digest,
            "LibraryVersion": "16.0.25000.12005",
            "SiteFullUrl": site,
            "SupportedSchemaVersions": ["14.0.0.0", "15.0.0.0"],
            "WebFullUrl": site,
        }
        if dialect is Dialect.VERBOSE:
            info["SupportedSchemaVersions"] = {
                "__metadata": {"type": "Collection(Edm.String)"},
                "results": ["14.0.0.0", "15.0.0.0"],
            }
            body = {
                "d": {
                    "GetContextWebInformation": {
                        "__metadata": {"type": "SP.ContextWebInformation"},
                        **info,
                    }
                }
            }
            return _json(body, 200)
        return _json(info, 200)

    def _check_digest(self) -> None:
        if self.knobs["digest_policy"] == "never":
            return
        digest = request.headers.get("X-RequestDigest", "")
        issued = self.digests.get(digest)
        if issued is None or time.monotonic() - issued > float(self.knobs["digest_ttl"]):
            raise ODataError(
                403,
                DIGEST_ERROR,
                "The security validation for this page is invalid and might be corrupted. "
                "Please use your web browser's Back button to try your operation again.",
            )

    # -- dispatch -------------------------------------------------------------------------
    def _dispatch(
        self, rest: str, method: str, dialect: Dialect, claims: dict[str, Any]
    ) -> Response:
        segments = split_path(rest)
        if not segments:
            raise ODataError(404, NOT_FOUND, "Cannot find resource for the request.")
        service = segments[0][0]
        query = parse_query(request.args)
        if query.skiptoken is not None and int(self.knobs["expire_skiptokens"]) > 0:
            self.knobs["expire_skiptokens"] = int(self.knobs["expire_skiptokens"]) - 1
            raise ODataError(
                400,
                "-1, Microsoft.SharePoint.Client.InvalidClientQueryException",
                f"The skip token '{query.raw.get('$skiptoken')}' is not valid or has expired.",
            )
        api_base = request.host_url.rstrip("/") + self.site_path + "/_api/"
        if service == "ProjectData":
            if method != "GET":
                raise ODataError(
                    405,
                    "-1, Microsoft.Data.OData.ODataException",
                    "The ProjectData service is read-only.",
                )
            return self._reporting(segments[1:], query, dialect, api_base)
        if service != "ProjectServer":
            raise ODataError(404, NOT_FOUND, f"Cannot find resource for the request {service}.")
        if method != "GET":
            result = writes.dispatch(self, segments[1:], method, claims, _body())
            if result is None:
                return Response(status=204)
            renderer = Renderer(dialect, api_base, ms_dates=self._ps_ms_dates())
            return _json(renderer.single(result, Query()), 200)
        return self._read(segments, query, dialect, api_base)

    def _read(
        self, segments: list[tuple[str, str | None]], query: Query, dialect: Dialect, api_base: str
    ) -> Response:
        current: Entity | list[Entity] | None = self.views.root()
        entity_set = "ProjectServer"
        for name, args in segments[1:]:
            if isinstance(current, Entity):
                if name not in current.nav:
                    raise ODataError(
                        404, NOT_FOUND, f"Cannot find resource for the request {name}."
                    )
                current = current.nav[name]()
                entity_set = name
            else:
                raise ODataError(404, NOT_FOUND, f"Cannot find resource for the request {name}.")
            if args is not None:
                if not isinstance(current, list):
                    raise ODataError(
                        400,
                        "-1, Microsoft.SharePoint.Client.InvalidClientQueryException",
                        f"'{name}' is not a collection.",
                    )
                key = _key_value(args)
                found = next((e for e in current if e.key and str(e.key[0]) == key), None)
                if found is None:
                    raise ODataError(404, NOT_FOUND, f"{name}('{key}') was not found.")
                if found.type == "PS.QueueJob":
                    job = self.state.jobs[Guid(key)]
                    if job.done and self.knobs["finished_jobs_404"]:
                        raise ODataError(404, NOT_FOUND, f"QueueJobs('{key}') was not found.")
                    writes.poll(self, Guid(key))
                    found = self._refresh_job(found)
                current = found
            if current is None:
                break
        renderer = Renderer(dialect, api_base, ms_dates=self._ps_ms_dates())
        if isinstance(current, list):
            page_size = int(self.knobs["page_size"])
            if entity_set == "Projects" and (query.expand or "IncludeCustomFields" in request.path):
                page_size = min(page_size, int(self.knobs["expand_page_size"]))
            page = apply_query(current, query, page_size)
            return _json(
                renderer.collection(page, query, self._next_base(dialect), entity_set), 200
            )
        if current is None:
            return _json({"d": None} if dialect is Dialect.VERBOSE else {"odata.null": True}, 200)
        return _json(renderer.single(current, query), 200)

    def _ps_ms_dates(self) -> bool:
        return bool(self.knobs["projectserver_ms_dates"])

    def _refresh_job(self, entity: Entity) -> Entity:
        job = self.state.jobs[Guid(entity.key[0])]
        base = entity.uri.rsplit("/QueueJobs(", 1)[0]
        return self.views.job(job, base)

    def _next_base(self, dialect: Dialect) -> str:
        absolute = request.base_url
        if dialect.light and self.knobs["relative_next_links"]:
            return quote(absolute.rsplit("/", 1)[-1], safe="'(),=$")
        return absolute

    def _reporting(
        self, segments: list[tuple[str, str | None]], query: Query, dialect: Dialect, api_base: str
    ) -> Response:
        if segments and segments[0][0].startswith("["):  # localized form: ProjectData/[en-US]/…
            segments = segments[1:]
        renderer = Renderer(dialect, api_base, ms_dates=True, service="ProjectData")
        if not segments:
            sets = [{"name": n, "url": n} for n in ENTITY_SETS]
            body = (
                {"d": {"EntitySets": list(ENTITY_SETS)}}
                if dialect is Dialect.VERBOSE
                else {"odata.metadata": f"{api_base}ProjectData/$metadata", "value": sets}
            )
            return _json(body, 200)
        name, args = segments[0]
        if name == "$metadata":
            return Response(edmx(self.reporting), mimetype="application/xml")
        if name not in ENTITY_SETS:
            raise ODataError(404, NOT_FOUND, f"Resource not found for the segment '{name}'.")
        rows = self.reporting.entity_set(name)
        current: Entity | list[Entity] | None = rows
        entity_set = name
        if args is not None:
            wanted = _compound_key(args)
            current = next((e for e in rows if _key_matches(e, wanted)), None)
            if current is None:
                raise ODataError(404, NOT_FOUND, f"Resource not found for the segment '{name}'.")
        for nav_name, nav_args in segments[1:]:
            if not isinstance(current, Entity) or nav_name not in current.nav or nav_args:
                raise ODataError(
                    404, NOT_FOUND, f"Resource not found for the segment '{nav_name}'."
                )
            current = current.nav[nav_name]()
            entity_set = nav_name
        if isinstance(current, list):
            page = apply_query(current, query, int(self.knobs["page_size"]))
            return _json(
                renderer.collection(page, query, self._next_base(dialect), entity_set), 200
            )
        assert current is not None
        return _json(renderer.single(current, query), 200)


# -- path helpers -------------------------------------------------------------------------
def split_path(rest: str) -> list[tuple[str, str | None]]:
    """``Projects('a')/Draft/publish(true)`` -> [("Projects", "'a'"), ("Draft", None), …]."""
    segments: list[tuple[str, str | None]] = []
    depth = 0
    quoted = False
    current = ""
    for char in rest:
        if char == "'":
            quoted = not quoted
        elif not quoted and char == "(":
            depth += 1
        elif not quoted and char == ")":
            depth -= 1
        if char == "/" and depth == 0 and not quoted:
            if current:
                segments.append(_segment(current))
            current = ""
            continue
        current += char
    if current:
        segments.append(_segment(current))
    return segments


def _segment(text: str) -> tuple[str, str | None]:
    if "(" in text and text.endswith(")"):
        name, _, args = text.partition("(")
        return name, args[:-1]
    return text, None


def _key_value(args: str) -> str:
    text = args.strip()
    if text.startswith("guid'"):
        text = text[4:]
    if len(text) >= 2 and text[0] == text[-1] == "'":
        text = text[1:-1]
    return text.strip("{}").lower()


def _compound_key(args: str) -> dict[str, Any] | list[Any]:
    if "=" not in args:
        return parse_literal_list(args)
    out: dict[str, Any] = {}
    for part in _split_top(args):
        name, _, value = part.partition("=")
        out[name.strip()] = parse_literal_list(value)[0]
    return out


def _split_top(text: str) -> list[str]:
    parts, current, quoted = [], "", False
    for char in text:
        if char == "'":
            quoted = not quoted
        if char == "," and not quoted:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    return parts


def _key_matches(entity: Entity, wanted: dict[str, Any] | list[Any]) -> bool:
    if isinstance(wanted, list):
        return list(entity.key) == wanted
    return all(entity.props.get(k) == v for k, v in wanted.items())


def _normalise(rest: str) -> str:
    import re

    return re.sub(
        r"(guid)?'?\{?[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}\}?'?", "'{id}'", rest
    )


def _body() -> dict[str, Any]:
    body = request.get_json(force=True, silent=True)
    if body is None:
        if request.get_data():
            raise ODataError(
                400,
                "-1, Microsoft.SharePoint.Client.InvalidClientQueryException",
                "Invalid JSON. A token was not recognized in the JSON content.",
            )
        return {}
    if not isinstance(body, dict):
        raise ODataError(
            400,
            "-1, Microsoft.SharePoint.Client.InvalidClientQueryException",
            "Invalid JSON: an object was expected.",
        )
    return body


def _json(body: Any, status: int) -> Response:
    import json

    return Response(
        json.dumps(body, ensure_ascii=False),
        status=status,
        mimetype="application/json",
        headers={"Content-Type": "application/json;odata=verbose;charset=utf-8"}
        if isinstance(body, dict) and "d" in body
        else {"Content-Type": "application/json;odata=minimalmetadata;charset=utf-8"},
    )
