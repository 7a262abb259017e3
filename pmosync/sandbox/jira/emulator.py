"""Jira Cloud / Data Center emulator (``/rest/api/{2,3,latest}`` and ``/rest/agile/1.0``).

``JiraEmulator(deployment="cloud"|"server", seed=SeedSpec(...))`` follows
``reference/api-wire-protocol.md`` §2: token-paged ``/search/jql`` with search lag and
``reconcileIssues`` on Cloud (``/search`` answers 410), offset-paged ``/search`` with ``total``
on DC, v3 rich text as ADF, Jira's error bodies, 401 on bad credentials (Cloud: basic
``email:api_token``; DC: ``Bearer <PAT>`` or basic ``username:password``), per-user rate limiting
with Jira's 429 headers.

Knobs (``configure`` or ``POST /_admin/config``): ``search_lag_seconds``, ``rate_limit_per_second``
(None: off), ``rate_limit_burst``, ``cloud_max_results`` (100), ``cloud_max_results_ids`` (5000),
``dc_max_results`` (1000), ``bulk_create_max`` (50 Cloud, 1000 DC), ``page_token_ttl_seconds``,
``changelog_page_size`` (histories in a Cloud ``expand=changelog``, 100),
``notify_users_requires_admin`` (False: ``notifyUsers=false`` accepted from anyone),
``short_page_every`` (N: every Nth ``search/jql`` page is one short although more follow),
``captcha_after_failures`` (DC: N failed basic logins, then 403 with
``X-Authentication-Denied-Reason``),
``expire_page_tokens`` (true: every outstanding nextPageToken becomes invalid).

Search lag (Cloud): an issue written less than ``search_lag_seconds`` ago shows its previous
version in ``search/jql`` and ``approximate-count`` (a new issue is absent) unless its id is in
``reconcileIssues``; ``GET /issue`` is always current. Timestamps render in the calling user's
profile zone (``2026-03-11T10:30:00.000+1100``), as Jira does.

Python API for tests (not for connectors): :meth:`JiraEmulator.human_edit`,
:meth:`JiraEmulator.issue`, :meth:`JiraEmulator.configure`, :attr:`JiraEmulator.credentials`.
"""

from __future__ import annotations

import base64
import json
import math
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException

from pmosync.sandbox.admin import Burst, EmulatorBase
from pmosync.sandbox.jira import writes
from pmosync.sandbox.jira.jql import CompiledQuery, JqlError, compile_query
from pmosync.sandbox.jira.render import View, available_transitions
from pmosync.sandbox.jira.search import build_catalog, eval_context, issue_doc
from pmosync.sandbox.jira.seed import SeedSpec, build_state
from pmosync.sandbox.jira.state import (
    FieldErrors,
    Issue,
    JiraState,
    NotFound,
    RemoteLink,
    User,
    Version,
    now_ms,
)

UTC = UTC
SEARCH_REMOVED = (
    "The requested API has been removed. Please migrate to the /rest/api/3/search/jql API. "
    "A full migration guideline is available at "
    "https://developer.atlassian.com/changelog/#CHANGE-2046"
)
UNBOUNDED = (
    "Unbounded JQL queries are not allowed here. Please add a search restriction to your query."
)
NOT_AUTHENTICATED = "You are not authenticated. Authentication required to perform this operation."
NOTIFY_ADMIN_ONLY = (
    "To discard the user notification either admin or project admin permissions are required."
)
NO_EDIT = "You do not have permission to edit issues in this project."

DEFAULT_KNOBS: dict[str, Any] = {
    "search_lag_seconds": 0.0,
    "rate_limit_per_second": None,
    "rate_limit_burst": 20,
    "cloud_max_results": 100,
    "cloud_max_results_ids": 5000,
    "dc_max_results": 1000,
    "bulk_create_max": None,  # None: 50 on Cloud, 1000 on DC
    "page_token_ttl_seconds": 7 * 24 * 3600,
    "changelog_page_size": 100,
    # Cloud: notifyUsers=false needs admin rights; on, a non-admin gets Jira's 403
    "notify_users_requires_admin": False,
    # Cloud: every Nth search/jql page holds one issue fewer than asked (0: off)
    "short_page_every": 0,
    # DC: after N failed basic-auth logins of a user, 403 + X-Authentication-Denied-Reason
    "captcha_after_failures": None,
}


class JiraHttpError(Exception):
    def __init__(
        self,
        status: int,
        messages: list[str] | None = None,
        errors: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(status, messages, errors)
        self.status = status
        self.messages = messages or []
        self.errors = errors or {}
        self.headers = headers or {}


def jira_body(messages: list[str] | None = None, errors: dict[str, str] | None = None) -> str:
    return json.dumps({"errorMessages": messages or [], "errors": errors or {}})


@dataclass
class Call:
    """One request as the handlers see it."""

    user: User | None
    api: str  # "2" | "3" | "latest"
    view: View

    @property
    def rich_api(self) -> str:
        return "3" if self.api == "3" else "2"


@dataclass
class _Bucket:
    tokens: float
    stamp: float


@dataclass
class _SearchCursor:
    ids: list[int]
    created: float
    fields: list[str] | None
    expand: set[str]


class JiraEmulator(EmulatorBase):
    kind = "jira"

    def __init__(
        self,
        deployment: str = "cloud",
        seed: SeedSpec | None = None,
        *,
        context_path: str = "",
    ) -> None:
        """``context_path`` (e.g. ``"/jira"``) serves the REST API below it, as DC installs
        often do: the site URL is then ``<served url>/jira``; ``/_admin`` stays at the root."""
        super().__init__()
        if deployment not in ("cloud", "server"):
            raise ValueError("deployment must be 'cloud' or 'server'")
        self.deployment = deployment
        self.context_path = ("/" + context_path.strip("/")) if context_path.strip("/") else ""
        self._failed_logins: dict[str, int] = {}
        self.seed = (
            replace(seed, deployment=deployment) if seed else SeedSpec(deployment=deployment)
        )
        self.knobs: dict[str, Any] = dict(DEFAULT_KNOBS)
        self._buckets: dict[str, _Bucket] = {}
        self._cursors: OrderedDict[str, _SearchCursor] = OrderedDict()
        self._dc_cache: OrderedDict[tuple[str, str, int], list[int]] = OrderedDict()
        self.state: JiraState = build_state(self.seed)
        self._catalog = build_catalog(self.state)

    # -- public Python API ------------------------------------------------------------------------
    @property
    def cloud(self) -> bool:
        return self.deployment == "cloud"

    @property
    def credentials(self) -> dict[str, str]:
        """How the connector's user logs in: Cloud ``email``/``token``; DC ``pat`` (and
        ``username``/``password`` for basic auth)."""
        if self.cloud:
            return {"email": self.seed.api_email, "token": self.seed.api_token}
        return {
            "pat": self.seed.pat,
            "username": self.seed.api_username,
            "password": self.seed.api_password,
        }

    def reset(self) -> None:
        with self.lock:
            self.state = build_state(self.seed)
            self.state.search_lag = float(self.knobs["search_lag_seconds"] or 0)
            self._catalog = build_catalog(self.state)
            self._buckets.clear()
            self._cursors.clear()
            self._dc_cache.clear()
            self._failed_logins.clear()

    def configure(self, knobs: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            for key, value in knobs.items():
                if key == "expire_page_tokens":
                    if value:
                        self._cursors.clear()
                    continue
                if key not in DEFAULT_KNOBS:
                    raise ValueError(f"unknown Jira emulator knob {key!r}")
                self.knobs[key] = value
            self.state.search_lag = float(self.knobs["search_lag_seconds"] or 0)
            self._buckets.clear()
            return dict(self.knobs)

    def issue(self, key: str, *, api: str = "2") -> dict[str, Any]:
        """The issue as ``GET /rest/api/{api}/issue/{key}?expand=changelog`` would show it to the
        connector's user (base URL ``https://jira.sandbox.invalid``)."""
        with self.lock:
            issue = self.state.find_issue(key)
            view = self._view(
                "https://jira.sandbox.invalid", api, self.state.users[self.state.api_user]
            )
            return view.issue(issue, view.field_ids(["*all"], "*all"), {"changelog"})

    def human_edit(
        self,
        issue_key: str,
        fields: dict[str, Any],
        *,
        at: datetime | None = None,
        author: str | None = None,
    ) -> dict[str, Any]:
        """A UI edit by a person: v2-style ``fields`` (``"status"`` may name a status),
        bumps ``updated`` (to ``at`` if given) and writes a changelog entry."""
        with self.lock:
            state = self.state
            issue = state.find_issue(issue_key)
            actor = author or state.human_user
            moment = at.astimezone(UTC) if at else now_ms()
            fields = dict(fields)
            items: list[dict[str, Any]] = []
            status_ref = fields.pop("status", None)
            state.touch(issue)
            if status_ref is not None:
                status = next(
                    s for s in state.statuses.values() if str(status_ref) in (s.id, s.name)
                )
                items.extend(self._set_status(issue, status.id, moment, resolution="10000"))
            items.extend(
                writes.apply_edit(state, issue, fields, None, api="2", actor=actor, at=moment)
            )
            state.add_history(issue, actor, items, moment)
            issue.updated = moment
            issue.doc_cache = None
            return self.issue(issue.key)

    # -- infrastructure ---------------------------------------------------------------------------
    def _view(self, base: str, api: str, user: User | None) -> View:
        tz = user.tz if user else self.state.users[self.state.api_user].tz
        return View(self.state, base.rstrip("/") + self.context_path, api, tz)

    def fault_response(self, burst: Burst) -> Response:
        if burst.status == 429:
            headers = self._rate_headers(
                limit=int(self.knobs["rate_limit_burst"] or 20),
                retry_after=burst.retry_after if burst.retry_after is not None else 1,
            )
            return Response(
                jira_body(["Rate limit exceeded."]),
                status=429,
                headers=headers,
                mimetype="application/json",
            )
        body = (
            burst.body
            if burst.body is not None
            else json.loads(jira_body([f"Injected failure ({burst.status})."]))
        )
        return Response(json.dumps(body), status=burst.status, mimetype="application/json")

    def _rate_headers(self, *, limit: int, retry_after: int) -> dict[str, str]:
        reset = datetime.now(UTC) + timedelta(seconds=retry_after)
        headers = {
            "Retry-After": str(int(retry_after)),
            "X-RateLimit-Limit": str(limit),
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": reset.strftime("%Y-%m-%dT%H:%MZ"),
            "RateLimit-Reason": "jira-burst-based",
        }
        if not self.cloud:
            rate = self.knobs["rate_limit_per_second"] or 1
            headers["X-RateLimit-FillRate"] = str(max(1, int(rate)))
            headers["X-RateLimit-Interval-Seconds"] = "1"
        return headers

    def _rate_limit(self, user: User) -> None:
        rate = self.knobs["rate_limit_per_second"]
        if not rate:
            return
        burst = float(self.knobs["rate_limit_burst"] or 1)
        wall = time.monotonic()
        bucket = self._buckets.get(user.account_id)
        if bucket is None:
            bucket = self._buckets[user.account_id] = _Bucket(burst, wall)
        bucket.tokens = min(burst, bucket.tokens + (wall - bucket.stamp) * float(rate))
        bucket.stamp = wall
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return
        retry_after = max(1, math.ceil((1 - bucket.tokens) / float(rate)))
        raise JiraHttpError(
            429,
            ["Rate limit exceeded."],
            headers=self._rate_headers(limit=int(burst), retry_after=retry_after),
        )

    def _authenticate(self, anonymous_ok: bool) -> User | None:
        header = request.headers.get("Authorization", "")
        scheme, _, credential = header.partition(" ")
        scheme = scheme.lower()
        denied = JiraHttpError(
            401,
            [NOT_AUTHENTICATED],
            headers={
                "X-Seraph-LoginReason": "AUTHENTICATED_FAILED",
                "WWW-Authenticate": 'Basic realm="protected-area"',
            },
        )
        if not header:
            if anonymous_ok:
                return None
            raise JiraHttpError(
                401, [NOT_AUTHENTICATED], headers={"X-Seraph-LoginReason": "AUTHENTICATION_DENIED"}
            )
        users = list(self.state.users.values())
        if scheme == "basic":
            try:
                login, _, secret = base64.b64decode(credential).decode("utf-8").partition(":")
            except (ValueError, UnicodeDecodeError):
                raise denied from None
            threshold = self.knobs["captcha_after_failures"]
            if not self.cloud and threshold and self._failed_logins.get(login, 0) >= threshold:
                # DC locks basic auth behind a CAPTCHA after repeated failures
                raise JiraHttpError(
                    403,
                    ["CAPTCHA required: log in through the browser first."],
                    headers={
                        "X-Authentication-Denied-Reason": (
                            f"CAPTCHA_CHALLENGE; login-url={request.host_url.rstrip('/')}"
                            f"{self.context_path}/login.jsp"
                        )
                    },
                )
            for user in users:
                if (
                    self.cloud
                    and user.email == login
                    and user.api_token
                    and secrets.compare_digest(user.api_token, secret)
                ):
                    return user
                if (
                    not self.cloud
                    and user.name == login
                    and user.password
                    and secrets.compare_digest(user.password, secret)
                ):
                    self._failed_logins.pop(login, None)
                    return user
            self._failed_logins[login] = self._failed_logins.get(login, 0) + 1
            raise denied
        if scheme == "bearer" and not self.cloud:
            for user in users:
                if user.pat and secrets.compare_digest(user.pat, credential.strip()):
                    return user
        raise denied

    def _respond(self, data: Any, status: int = 200) -> Response:
        if data is None:
            return Response(status=status)
        return Response(json.dumps(data), status=status, mimetype="application/json")

    def register_routes(self, app: Flask) -> None:
        emulator = self

        def add(
            rule: str,
            handler: Callable[..., Any],
            methods: tuple[str, ...] = ("GET",),
            *,
            anonymous: bool = False,
            cloud_only: bool = False,
            agile: bool = False,
        ) -> None:
            def view(**kwargs: Any) -> Response:
                api = kwargs.pop("ver", "agile")
                try:
                    if not agile and (
                        api not in ("2", "3", "latest") or (api == "3" and not emulator.cloud)
                    ):
                        raise JiraHttpError(404, [f"null for uri: {request.url}"])
                    with emulator.lock:
                        user = emulator._authenticate(anonymous)
                        if user is not None:
                            emulator._rate_limit(user)
                        if cloud_only and not emulator.cloud:
                            raise JiraHttpError(404, [f"null for uri: {request.url}"])
                        call = Call(
                            user,
                            "2" if agile else api,
                            emulator._view(request.host_url, "2" if agile else api, user),
                        )
                        result = handler(call, **kwargs)
                    if isinstance(result, Response):
                        return result
                    if isinstance(result, tuple):
                        return emulator._respond(result[0], result[1])
                    return emulator._respond(result)
                except JiraHttpError as exc:
                    return Response(
                        jira_body(exc.messages, exc.errors),
                        status=exc.status,
                        headers=exc.headers,
                        mimetype="application/json",
                    )
                except FieldErrors as exc:
                    return Response(
                        jira_body(exc.messages, exc.errors), 400, mimetype="application/json"
                    )
                except NotFound as exc:
                    return Response(jira_body([exc.message]), 404, mimetype="application/json")
                except JqlError as exc:
                    return Response(jira_body([str(exc)]), 400, mimetype="application/json")

            prefix = emulator.context_path + ("/rest/agile/1.0/" if agile else "/rest/api/<ver>/")
            endpoint = ("agile:" if agile else "api:") + rule + ":" + ",".join(methods)
            app.add_url_rule(prefix + rule, endpoint, view, methods=list(methods))

        e = self
        add("serverInfo", e.h_server_info, anonymous=True)
        add("myself", e.h_myself)
        add("field", e.h_fields)
        add("search/jql", e.h_search_jql, ("GET", "POST"), cloud_only=True)
        add("search/approximate-count", e.h_approximate_count, ("POST",), cloud_only=True)
        add("search", e.h_search, ("GET", "POST"))
        add("issue", e.h_issue_create, ("POST",))
        add("issue/bulk", e.h_issue_bulk, ("POST",))
        add("issue/createmeta", e.h_createmeta)
        add("issue/createmeta/<project_ref>/issuetypes", e.h_createmeta_types)
        add("issue/createmeta/<project_ref>/issuetypes/<type_id>", e.h_createmeta_fields)
        add("issue/<ref>", e.h_issue_get)
        add("issue/<ref>", e.h_issue_edit, ("PUT",))
        add("issue/<ref>", e.h_issue_delete, ("DELETE",))
        add("issue/<ref>/editmeta", e.h_editmeta)
        add("issue/<ref>/transitions", e.h_transitions)
        add("issue/<ref>/transitions", e.h_transition, ("POST",))
        add("issue/<ref>/comment", e.h_comments)
        add("issue/<ref>/comment", e.h_comment_add, ("POST",))
        add("issue/<ref>/comment/<comment_id>", e.h_comment_get)
        add("issue/<ref>/comment/<comment_id>", e.h_comment_edit, ("PUT",))
        add("issue/<ref>/comment/<comment_id>", e.h_comment_delete, ("DELETE",))
        add("issue/<ref>/changelog", e.h_changelog, cloud_only=True)
        add("changelog/bulkfetch", e.h_changelog_bulk, ("POST",), cloud_only=True)
        add("issue/<ref>/assignee", e.h_assign, ("PUT",))
        add("issue/<ref>/properties", e.h_properties)
        add("issue/<ref>/properties/<key>", e.h_property_get)
        add("issue/<ref>/properties/<key>", e.h_property_put, ("PUT",))
        add("issue/<ref>/properties/<key>", e.h_property_delete, ("DELETE",))
        add("issue/<ref>/remotelink", e.h_remote_links)
        add("issue/<ref>/remotelink", e.h_remote_link_post, ("POST",))
        add("issue/<ref>/remotelink", e.h_remote_link_delete_global, ("DELETE",))
        add("issue/<ref>/remotelink/<int:link_id>", e.h_remote_link_get)
        add("issue/<ref>/remotelink/<int:link_id>", e.h_remote_link_put, ("PUT",))
        add("issue/<ref>/remotelink/<int:link_id>", e.h_remote_link_delete, ("DELETE",))
        add("issueLink", e.h_link_create, ("POST",))
        add("issueLink/<link_id>", e.h_link_get)
        add("issueLink/<link_id>", e.h_link_delete, ("DELETE",))
        add("issueLinkType", e.h_link_types)
        add("issueLinkType/<type_id>", e.h_link_type)
        add("project", e.h_projects)
        add("project/search", e.h_project_search)
        add("project/<ref>", e.h_project)
        add("project/<ref>/versions", e.h_project_versions)
        add("project/<ref>/version", e.h_project_versions_paged)
        add("project/<ref>/components", e.h_project_components)
        add("project/<ref>/statuses", e.h_project_statuses)
        add("version", e.h_version_create, ("POST",))
        add("version/<version_id>", e.h_version_get)
        add("version/<version_id>", e.h_version_put, ("PUT",))
        add("component", e.h_component_create, ("POST",))
        add("component/<component_id>", e.h_component_get)
        add("issuetype", e.h_issue_types)
        add("issuetype/<type_id>", e.h_issue_type)
        add("priority", e.h_priorities)
        add("priority/<pid>", e.h_priority)
        add("resolution", e.h_resolutions)
        add("resolution/<rid>", e.h_resolution)
        add("status", e.h_statuses)
        add("status/<sid>", e.h_status)
        add("statuscategory", e.h_status_categories)
        add("statuscategory/<cid>", e.h_status_category)
        add("user", e.h_user)
        add("user/search", e.h_user_search)
        add("user/assignable/search", e.h_user_search)
        add("board", e.h_boards, agile=True)
        add("board/<int:board_id>", e.h_board, agile=True)
        add("board/<int:board_id>/sprint", e.h_board_sprints, agile=True)
        add("sprint", e.h_sprint_create, ("POST",), agile=True)
        add("sprint/<int:sprint_id>", e.h_sprint, agile=True)
        add("sprint/<int:sprint_id>", e.h_sprint_update, ("POST", "PUT"), agile=True)
        add("sprint/<int:sprint_id>/issue", e.h_sprint_issues, agile=True)
        add("sprint/<int:sprint_id>/issue", e.h_sprint_add, ("POST",), agile=True)
        add("epic/<ref>/issue", e.h_epic_add, ("POST",), agile=True)
        add("backlog/issue", e.h_backlog, ("POST",), agile=True)
        add("issue/rank", e.h_rank, ("PUT",), agile=True)

        @app.get(emulator.context_path + "/rest/applinks/latest/listApplicationlinks")
        def _applinks() -> Response:
            # jira.add_remote_link() asks for application links first; a site with none
            return emulator._respond({"list": []})

        @app.errorhandler(404)
        @app.errorhandler(405)
        def _not_found(exc: HTTPException) -> Response:
            return Response(
                jira_body([f"null for uri: {request.url}"]),
                status=exc.code or 404,
                mimetype="application/json",
            )

    # -- request helpers --------------------------------------------------------------------------
    @staticmethod
    def _list_arg(name: str, body: dict[str, Any] | None = None) -> list[str] | None:
        if body is not None:
            value = body.get(name)
            if value is None:
                return None
            items = value if isinstance(value, list) else [value]
            out = [p.strip() for item in items for p in str(item).split(",") if p.strip()]
            return out
        if name not in request.args:
            return None
        return [p.strip() for v in request.args.getlist(name) for p in v.split(",") if p.strip()]

    @staticmethod
    def _body() -> dict[str, Any]:
        if not request.data:
            return {}
        try:
            data = json.loads(request.data)
        except ValueError:
            raise JiraHttpError(400, ["Unexpected character in the request body."]) from None
        if not isinstance(data, dict):
            raise JiraHttpError(400, ["Can not deserialize the request body."])
        return data

    @staticmethod
    def _int_arg(name: str, default: int, body: dict[str, Any] | None = None) -> int:
        raw = body.get(name) if body is not None else request.args.get(name)
        if raw in (None, ""):
            return default
        try:
            return int(raw)
        except (TypeError, ValueError):
            raise JiraHttpError(400, [f"The '{name}' parameter must be a number."]) from None

    @staticmethod
    def _bool_arg(name: str, default: bool = False) -> bool:
        raw = request.args.get(name)
        if raw is None:
            return default
        return raw.strip().lower() in ("true", "1", "yes")

    def _expand(self, body: dict[str, Any] | None = None) -> set[str]:
        items = self._list_arg("expand", body) or []
        return {i.lower() for i in items} | (
            {"transitions.fields"} if "transitions.fields" in items else set()
        )

    def _writer(self, call: Call) -> User:
        if call.user is None or not call.user.can_write:
            raise JiraHttpError(403, [NO_EDIT])
        return call.user

    # -- platform: instance -----------------------------------------------------------------------
    def h_server_info(self, call: Call) -> Any:
        major, minor, patch = self.state.version_numbers
        now = datetime.now(UTC)
        out: dict[str, Any] = {
            "baseUrl": call.view.base,
            "displayUrl": call.view.base,
            "version": f"{major}.{minor}.{patch}" if self.cloud else f"{major}.{minor}.{patch}",
            "versionNumbers": [major, minor, patch],
            "deploymentType": "Cloud" if self.cloud else "Server",
            "buildNumber": 100280 if self.cloud else 9120015,
            "buildDate": "2026-01-01T00:00:00.000+0000",
            "serverTime": call.view.dt(now),
            "scmInfo": "a5f87b3c9e1a4a6cbd3d6c4d5f9e8a7b6c5d4e3f",
            "serverTitle": self.state.server_title,
        }
        if not self.cloud:
            out["serverTimeZone"] = "UTC"
        return out

    def h_myself(self, call: Call) -> Any:
        out = call.view.user(call.user)
        assert out is not None
        out["locale"] = "en_AU" if "Australia" in call.user.time_zone else "en_US"  # type: ignore[union-attr]
        out["groups"] = {"size": 1, "items": []}
        out["applicationRoles"] = {"size": 1, "items": []}
        out["expand"] = "groups,applicationRoles"
        return out

    def h_fields(self, call: Call) -> Any:
        return [call.view.field(spec) for spec in self.state.fields.values()]

    # -- search -----------------------------------------------------------------------------------
    def _compile(self, call: Call, jql: str) -> CompiledQuery:
        assert call.user is not None
        ctx = eval_context(self.state, call.user, now_ms())
        return compile_query(jql, self._catalog, ctx, max_order_fields=7 if self.cloud else None)

    def _run(self, query: CompiledQuery, reconcile: set[int], *, lag: bool) -> list[int]:
        wall = time.monotonic()
        state = self.state
        matches: list[tuple[Any, int]] = []
        for issue in state.issues.values():
            seen = state.search_version(issue, reconcile, wall) if lag else issue
            if seen is None:
                continue
            doc = issue_doc(state, seen)
            if query.predicate(doc):
                matches.append((query.sort_key(doc), issue.id))
        matches.sort(key=lambda pair: pair[0])
        return [issue_id for _, issue_id in matches]

    def _render_page(
        self,
        call: Call,
        ids: list[int],
        field_ids: list[str],
        expand: set[str],
        reconcile: set[int],
        properties: list[str] | None,
        *,
        lag: bool,
    ) -> list[dict[str, Any]]:
        wall = time.monotonic()
        out = []
        page_size = int(self.knobs["changelog_page_size"])
        for issue_id in ids:
            issue = self.state.issues.get(issue_id)
            if issue is None:
                continue
            seen = self.state.search_version(issue, reconcile, wall) if lag else issue
            if seen is None:
                continue
            bean = call.view.issue(
                seen,
                field_ids,
                expand - {"names", "schema"},
                properties=properties,
                cloud_changelog_page=page_size,
            )
            out.append(bean)
        return out

    def _token(self, cursor_id: str, offset: int) -> str:
        raw = json.dumps({"c": cursor_id, "o": offset}).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    def _untoken(self, token: str) -> tuple[_SearchCursor, int]:
        invalid = JiraHttpError(400, ["The provided next page token is invalid or expired."])
        try:
            padded = token + "=" * (-len(token) % 4)
            data = json.loads(base64.urlsafe_b64decode(padded.encode()))
            cursor_id, offset = str(data["c"]), int(data["o"])
        except (ValueError, KeyError, TypeError):
            raise invalid from None
        cursor = self._cursors.get(cursor_id)
        ttl = float(self.knobs["page_token_ttl_seconds"] or 0)
        if cursor is None or (ttl and time.monotonic() - cursor.created > ttl):
            raise invalid
        return cursor, offset

    def h_search_jql(self, call: Call) -> Any:
        body = self._body() if request.method == "POST" else None
        jql = (body.get("jql") if body is not None else request.args.get("jql")) or ""
        fields = self._list_arg("fields", body)
        expand = self._expand(body)
        properties = self._list_arg("properties", body)
        reconcile_raw = (
            (body.get("reconcileIssues") or [])
            if body is not None
            else [p for v in request.args.getlist("reconcileIssues") for p in v.split(",") if p]
        )
        try:
            reconcile = {int(x) for x in reconcile_raw}
        except (TypeError, ValueError):
            raise JiraHttpError(400, ["reconcileIssues must be a list of issue ids."]) from None
        if len(reconcile) > 50:
            raise JiraHttpError(400, ["The number of reconcileIssues can't exceed 50."])
        token = body.get("nextPageToken") if body is not None else request.args.get("nextPageToken")
        requested = self._int_arg("maxResults", 50, body)
        field_ids = call.view.field_ids(fields, "id")
        only_ids = all(f in ("id", "key") for f in (fields or ["id"]))
        cap = int(self.knobs["cloud_max_results_ids" if only_ids else "cloud_max_results"])
        page_size = max(1, min(requested, cap))
        if token:
            cursor, offset = self._untoken(str(token))
            ids = cursor.ids
        else:
            query = self._compile(call, jql)
            if not query.bounded:
                raise JiraHttpError(400, [UNBOUNDED])
            ids = self._run(query, reconcile, lag=True)
            cursor_id = secrets.token_hex(8)
            cursor = _SearchCursor(ids, time.monotonic(), fields, expand)
            self._cursors[cursor_id] = cursor
            while len(self._cursors) > 256:
                self._cursors.popitem(last=False)
            offset = 0
        cursor_id = next(k for k, v in self._cursors.items() if v is cursor)
        take = page_size
        every = int(self.knobs["short_page_every"] or 0)
        if every and page_size > 1 and (offset // page_size) % every == every - 1:
            # Cloud may return fewer issues than asked on a page that is not the last
            take = page_size - 1
        page_ids = ids[offset : offset + take]
        out: dict[str, Any] = {
            "issues": self._render_page(
                call, page_ids, field_ids, expand, reconcile, properties, lag=True
            ),
        }
        if "names" in expand:
            out["names"] = {f: self.state.fields[f].name for f in field_ids}
        if "schema" in expand:
            out["schema"] = {
                f: self.state.fields[f].schema for f in field_ids if self.state.fields[f].schema
            }
        if offset + take < len(ids):
            out["nextPageToken"] = self._token(cursor_id, offset + take)
            out["isLast"] = False
        else:
            out["isLast"] = True
        return out

    def h_approximate_count(self, call: Call) -> Any:
        body = self._body()
        query = self._compile(call, str(body.get("jql") or ""))
        if not query.bounded:
            raise JiraHttpError(400, [UNBOUNDED])
        return {"count": len(self._run(query, set(), lag=True))}

    def h_search(self, call: Call) -> Any:
        if self.cloud:
            raise JiraHttpError(410, [SEARCH_REMOVED])
        body = self._body() if request.method == "POST" else None
        jql = (body.get("jql") if body is not None else request.args.get("jql")) or ""
        start_at = max(0, self._int_arg("startAt", 0, body))
        requested = self._int_arg("maxResults", 50, body)
        cap = int(self.knobs["dc_max_results"])
        max_results = max(0, min(requested, cap))
        fields = self._list_arg("fields", body)
        expand = self._expand(body)
        properties = self._list_arg("properties", body)
        assert call.user is not None
        cache_key = (jql, call.user.account_id, self.state.revision)
        ids = self._dc_cache.get(cache_key)
        if ids is None:
            ids = self._run(self._compile(call, jql), set(), lag=False)
            self._dc_cache[cache_key] = ids
            while len(self._dc_cache) > 64:
                self._dc_cache.popitem(last=False)
        field_ids = call.view.field_ids(fields, "*navigable")
        page = ids[start_at : start_at + max_results]
        out: dict[str, Any] = {
            "expand": "schema,names",
            "startAt": start_at,
            "maxResults": max_results,
            "total": len(ids),
            "issues": self._render_page(
                call, page, field_ids, expand, set(), properties, lag=False
            ),
        }
        if "names" in expand:
            out["names"] = {f: self.state.fields[f].name for f in field_ids}
        if "schema" in expand:
            out["schema"] = {
                f: self.state.fields[f].schema for f in field_ids if self.state.fields[f].schema
            }
        return out

    # -- issues -----------------------------------------------------------------------------------
    def _issue(self, ref: str) -> Issue:
        return self.state.find_issue(ref)

    def h_issue_get(self, call: Call, ref: str) -> Any:
        issue = self._issue(ref)
        fields = self._list_arg("fields")
        expand = self._expand()
        properties = self._list_arg("properties")
        bean = call.view.issue(
            issue,
            call.view.field_ids(fields, "*all"),
            expand,
            properties=properties,
            cloud_changelog_page=int(self.knobs["changelog_page_size"]),
        )
        if "editmeta" in expand:
            bean["editmeta"] = self._edit_meta(call, issue)
        return bean

    def _create_one(self, call: Call, payload: Any) -> Issue:
        if not isinstance(payload, dict) or not isinstance(payload.get("fields"), dict):
            raise FieldErrors({}, ["Issue must have fields set."])
        user = self._writer(call)
        project_id, values = writes.validate_create(
            self.state, payload["fields"], payload.get("update"), call.rich_api
        )
        properties = self._properties_on_create(payload.get("properties"))
        state = self.state
        moment = now_ms()
        defaults: dict[str, Any] = {
            "status": next(iter(state.statuses)),
            "priority": "3",
            "resolution": None,
            "resolutiondate": None,
            "labels": [],
            "fixVersions": [],
            "versions": [],
            "components": [],
            "reporter": user.account_id,
            "creator": user.account_id,
            "assignee": None,
            "parent": None,
            "statuscategorychangedate": moment,
        }
        rank = state.custom_field_id("Rank")
        sprint = state.custom_field_id("Sprint")
        if rank:
            defaults[rank] = f"0|i{len(state.issues):05x}:"
        if sprint:
            defaults[sprint] = []
        issue = state.new_issue(state.projects[project_id], {**defaults, **values}, moment)
        issue.properties.update(properties)
        state.touch(issue, new=True)
        return issue

    @staticmethod
    def _properties_on_create(raw: Any) -> dict[str, Any]:
        """``"properties": [{"key", "value"}]`` on create (IssueUpdateDetails), set atomically."""
        if raw is None:
            return {}
        if not isinstance(raw, list) or not all(
            isinstance(p, dict) and isinstance(p.get("key"), str) and "value" in p for p in raw
        ):
            raise FieldErrors({}, ["Issue properties must be a list of {key, value} objects."])
        return {p["key"]: p["value"] for p in raw}

    def h_issue_create(self, call: Call) -> Any:
        issue = self._create_one(call, self._body())
        return {
            "id": str(issue.id),
            "key": issue.key,
            "self": call.view.url(f"issue/{issue.id}"),
        }, 201

    def h_issue_bulk(self, call: Call) -> Any:
        body = self._body()
        updates = body.get("issueUpdates")
        if not isinstance(updates, list) or not updates:
            raise JiraHttpError(400, ["issueUpdates must be a non-empty list."])
        limit = self.knobs["bulk_create_max"] or (50 if self.cloud else 1000)
        if len(updates) > int(limit):
            raise JiraHttpError(
                400, [f"The number of issues to create can't exceed {limit} in a single request."]
            )
        created: list[dict[str, Any]] = []
        errors: list[dict[str, Any]] = []
        for index, payload in enumerate(updates):
            try:
                issue = self._create_one(call, payload)
            except FieldErrors as exc:
                errors.append(
                    {
                        "status": 400,
                        "elementErrors": {"errorMessages": exc.messages, "errors": exc.errors},
                        "failedElementNumber": index,
                    }
                )
                continue
            except JiraHttpError as exc:
                errors.append(
                    {
                        "status": exc.status,
                        "elementErrors": {"errorMessages": exc.messages, "errors": exc.errors},
                        "failedElementNumber": index,
                    }
                )
                continue
            created.append(
                {"id": str(issue.id), "key": issue.key, "self": call.view.url(f"issue/{issue.id}")}
            )
        return {"issues": created, "errors": errors}, (201 if created else 400)

    def h_issue_edit(self, call: Call, ref: str) -> Any:
        issue = self._issue(ref)
        user = self._writer(call)
        body = self._body()
        fields = body.get("fields") or {}
        update = body.get("update") or {}
        if not isinstance(fields, dict) or not isinstance(update, dict):
            raise JiraHttpError(400, ["Can not deserialize the request body."])
        if (
            self.cloud
            and self.knobs["notify_users_requires_admin"]
            and not self._bool_arg("notifyUsers", True)
            and not user.admin
        ):
            raise JiraHttpError(403, [NOTIFY_ADMIN_ONLY])
        moment = now_ms()
        state = self.state
        # validate against a copy first: Jira applies all or nothing
        trial = issue.snapshot()
        writes.apply_edit(
            state, trial, fields, update, api=call.rich_api, actor=user.account_id, at=moment
        )
        if not fields and not update:
            return None, 204
        state.touch(issue)
        items = writes.apply_edit(
            state, issue, fields, update, api=call.rich_api, actor=user.account_id, at=moment
        )
        state.add_history(issue, user.account_id, items, moment)
        issue.updated = moment
        issue.doc_cache = None
        if self._bool_arg("returnIssue") and self.cloud:
            return call.view.issue(issue, call.view.field_ids(None, "*all"), self._expand()), 200
        return None, 204

    def h_issue_delete(self, call: Call, ref: str) -> Any:
        issue = self._issue(ref)
        self._writer(call)
        children = [
            c
            for c in self.state.children(issue)
            if self.state.issue_types[c.fields["issuetype"]].subtask
        ]
        if children and not self._bool_arg("deleteSubtasks"):
            raise JiraHttpError(
                400, ["The issue has subtasks; set deleteSubtasks=true to delete them too."]
            )
        for victim in [*children, issue]:
            for link in self.state.issue_links(victim.id):
                self.state.remove_link(link.id)
            self.state.issues.pop(victim.id, None)
            self.state.keys.pop(victim.key, None)
        self.state.revision += 1
        return None, 204

    def _create_fields(self, call: Call, project_id: str, type_id: str) -> dict[str, Any]:
        state = self.state
        out: dict[str, Any] = {}
        itype = state.issue_types[type_id]
        for spec in state.fields.values():
            if not spec.editable or spec.id in writes.READ_ONLY or spec.kind == "resolution":
                continue
            if spec.id == "parent" and not (state.cloud or itype.subtask):
                continue
            entry: dict[str, Any] = {
                "required": spec.id in ("summary", "issuetype", "project")
                or (spec.id == "parent" and itype.subtask),
                "schema": spec.schema,
                "name": spec.name,
                "key": spec.id,
                "fieldId": spec.id,
                "hasDefaultValue": spec.id in ("priority", "reporter"),
                "operations": ["set", "add", "remove"]
                if spec.kind in ("labels", "versions", "components")
                else ["set"],
            }
            if spec.kind == "option":
                entry["allowedValues"] = [
                    {"self": call.view.url(f"customFieldOption/{o['id']}"), **o}
                    for o in spec.options
                ]
            if spec.kind == "versions":
                entry["allowedValues"] = [
                    call.view.version_ref(v)
                    for v in state.versions.values()
                    if v.project_id == project_id
                ]
            if spec.kind == "components":
                entry["allowedValues"] = [
                    call.view.component(c)
                    for c in state.components.values()
                    if c.project_id == project_id
                ]
            if spec.kind == "priority":
                entry["allowedValues"] = [call.view.priority(p) for p in state.priorities]
            if spec.id == "issuetype":
                entry["allowedValues"] = [call.view.issue_type(itype)]
            if spec.id == "project":
                entry["allowedValues"] = [call.view.project(state.projects[project_id])]
            out[spec.id] = entry
        return out

    def _project(self, ref: str) -> Any:
        project = self.state.find_project(ref)
        if project is None:
            raise JiraHttpError(404, [f"No project could be found with key '{ref}'."])
        return project

    def h_createmeta(self, call: Call) -> Any:
        keys = self._list_arg("projectKeys") or []
        ids = self._list_arg("projectIds") or []
        type_names = set(self._list_arg("issuetypeNames") or [])
        type_ids = set(self._list_arg("issuetypeIds") or [])
        with_fields = "projects.issuetypes.fields" in (self._list_arg("expand") or [])
        projects = [
            p
            for p in self.state.projects.values()
            if (not keys and not ids) or p.key in keys or p.id in ids
        ]
        out = []
        for project in projects:
            full = call.view.project(project)
            entry = {k: full[k] for k in ("self", "id", "key", "name", "avatarUrls")}
            types = []
            for itype in self.state.project_issue_types(project):
                if type_names and itype.name not in type_names:
                    continue
                if type_ids and itype.id not in type_ids:
                    continue
                t = call.view.issue_type(itype)
                if with_fields:
                    # the legacy endpoint's FieldMetadata has no fieldId
                    t["fields"] = {
                        fid: {k: v for k, v in meta.items() if k != "fieldId"}
                        for fid, meta in self._create_fields(call, project.id, itype.id).items()
                    }
                types.append(t)
            entry["issuetypes"] = types
            out.append(entry)
        return {"expand": "projects", "projects": out}

    def h_createmeta_types(self, call: Call, project_ref: str) -> Any:
        project = self._project(project_ref)
        types = [call.view.issue_type(t) for t in self.state.project_issue_types(project)]
        start = self._int_arg("startAt", 0)
        size = self._int_arg("maxResults", 50)
        page = types[start : start + size]
        return {
            "maxResults": size,
            "startAt": start,
            "total": len(types),
            "isLast": start + size >= len(types),
            "issueTypes" if self.cloud else "values": page,
        }

    def h_createmeta_fields(self, call: Call, project_ref: str, type_id: str) -> Any:
        project = self._project(project_ref)
        if type_id not in project.issue_type_ids:
            raise JiraHttpError(404, [f"Issue type with id '{type_id}' does not exist."])
        fields = list(self._create_fields(call, project.id, type_id).values())
        start = self._int_arg("startAt", 0)
        size = self._int_arg("maxResults", 50)
        page = fields[start : start + size]
        return {
            "maxResults": size,
            "startAt": start,
            "total": len(fields),
            "isLast": start + size >= len(fields),
            "fields" if self.cloud else "values": page,
        }

    def _edit_meta(self, call: Call, issue: Issue) -> dict[str, Any]:
        """IssueUpdateMetadata: the edit screen (no project, no fieldId in FieldMetadata)."""
        fields = self._create_fields(call, issue.project_id, issue.fields["issuetype"])
        fields.pop("project", None)
        return {
            "fields": {
                fid: {k: v for k, v in meta.items() if k != "fieldId"}
                for fid, meta in fields.items()
            }
        }

    def h_editmeta(self, call: Call, ref: str) -> Any:
        return self._edit_meta(call, self._issue(ref))

    # -- transitions ------------------------------------------------------------------------------
    def _set_status(
        self, issue: Issue, status_id: str, moment: datetime, *, resolution: str | None
    ) -> list[dict[str, Any]]:
        state = self.state
        old = issue.fields["status"]
        if old == status_id:
            return []
        items = [
            {
                "field": "status",
                "fieldtype": "jira",
                "fieldId": "status",
                "from": old,
                "fromString": state.statuses[old].name,
                "to": status_id,
                "toString": state.statuses[status_id].name,
            }
        ]
        issue.fields["status"] = status_id
        if state.statuses[old].category != state.statuses[status_id].category:
            issue.fields["statuscategorychangedate"] = moment
        done = state.statuses[status_id].category == "done"
        if done and not issue.fields.get("resolution") and resolution:
            issue.fields["resolution"] = resolution
            items.append(
                {
                    "field": "resolution",
                    "fieldtype": "jira",
                    "fieldId": "resolution",
                    "from": None,
                    "fromString": None,
                    "to": resolution,
                    "toString": state.resolutions[resolution].name,
                }
            )
        if done and issue.fields.get("resolution"):
            issue.fields["resolutiondate"] = issue.fields.get("resolutiondate") or moment
        if not done and issue.fields.get("resolution"):
            items.append(
                {
                    "field": "resolution",
                    "fieldtype": "jira",
                    "fieldId": "resolution",
                    "from": issue.fields["resolution"],
                    "fromString": state.resolutions[issue.fields["resolution"]].name,
                    "to": None,
                    "toString": None,
                }
            )
            issue.fields["resolution"] = None
            issue.fields["resolutiondate"] = None
        return items

    def h_transitions(self, call: Call, ref: str) -> Any:
        issue = self._issue(ref)
        expand = self._expand()
        wanted = request.args.get("transitionId")
        items = [
            call.view.transition(t, with_fields="transitions.fields" in expand)
            for t in available_transitions(self.state, issue)
            if wanted is None or t.id == wanted
        ]
        return {"expand": "transitions", "transitions": items}

    def h_transition(self, call: Call, ref: str) -> Any:
        issue = self._issue(ref)
        user = self._writer(call)
        body = self._body()
        ident = (
            (body.get("transition") or {}).get("id")
            if isinstance(body.get("transition"), dict)
            else None
        )
        if ident is None:
            raise JiraHttpError(400, ["Missing 'transition' identifier"])
        transition = writes.find_transition(self.state, issue, ident)
        fields = body.get("fields") or {}
        update = body.get("update") or {}
        missing = {
            f: f"{self.state.fields[f].name} is required."
            for f in transition.required_fields
            if not fields.get(f) and not update.get(f)
        }
        if missing:
            raise FieldErrors(missing)
        allowed = set(transition.screen_fields)
        moment = now_ms()
        trial = issue.snapshot()
        writes.apply_edit(
            self.state,
            trial,
            fields,
            update,
            api=call.rich_api,
            actor=user.account_id,
            at=moment,
            allowed=allowed,
        )
        self.state.touch(issue)
        items = self._set_status(issue, transition.to_status, moment, resolution=None)
        items += writes.apply_edit(
            self.state,
            issue,
            fields,
            update,
            api=call.rich_api,
            actor=user.account_id,
            at=moment,
            allowed=allowed,
        )
        if self.state.statuses[transition.to_status].category == "done":
            issue.fields["resolutiondate"] = issue.fields.get("resolutiondate") or moment
        self.state.add_history(issue, user.account_id, items, moment)
        issue.updated = moment
        issue.doc_cache = None
        return None, 204

    # -- comments, changelog, assignee -----------------------------------------------------------
    def h_comments(self, call: Call, ref: str) -> Any:
        issue = self._issue(ref)
        start = self._int_arg("startAt", 0)
        size = max(0, min(self._int_arg("maxResults", 100), 5000))
        comments = issue.comments
        if (request.args.get("orderBy") or "").startswith("-"):
            comments = list(reversed(comments))
        page = comments[start : start + size]
        return {
            "startAt": start,
            "maxResults": size,
            "total": len(issue.comments),
            "comments": [call.view.comment(issue, c) for c in page],
        }

    def _comment(self, issue: Issue, comment_id: str) -> Any:
        for comment in issue.comments:
            if comment.id == comment_id:
                return comment
        raise JiraHttpError(404, [f"Can not find a comment for the id: {comment_id}."])

    def h_comment_add(self, call: Call, ref: str) -> Any:
        issue = self._issue(ref)
        user = self._writer(call)
        body = self._body()
        if "body" not in body:
            raise FieldErrors({"comment": "Comment body can not be empty!"})
        value = writes.rich_text_value(body.get("body"), call.rich_api, "comment")
        if not value or not value.get("content"):
            raise FieldErrors({"comment": "Comment body can not be empty!"})
        moment = now_ms()
        self.state.touch(issue)
        comment = writes.add_comment(self.state, issue, user.account_id, value, moment)
        issue.updated = moment
        issue.doc_cache = None
        return call.view.comment(issue, comment), 201

    def h_comment_get(self, call: Call, ref: str, comment_id: str) -> Any:
        issue = self._issue(ref)
        return call.view.comment(issue, self._comment(issue, comment_id))

    def h_comment_edit(self, call: Call, ref: str, comment_id: str) -> Any:
        issue = self._issue(ref)
        self._writer(call)
        comment = self._comment(issue, comment_id)
        body = self._body()
        comment.body = writes.rich_text_value(body.get("body"), call.rich_api, "comment")
        comment.updated = now_ms()
        return call.view.comment(issue, comment)

    def h_comment_delete(self, call: Call, ref: str, comment_id: str) -> Any:
        issue = self._issue(ref)
        self._writer(call)
        issue.comments.remove(self._comment(issue, comment_id))
        return None, 204

    def h_changelog(self, call: Call, ref: str) -> Any:
        issue = self._issue(ref)
        start = max(0, self._int_arg("startAt", 0))
        size = max(1, min(self._int_arg("maxResults", 100), 100))
        page = issue.histories[start : start + size]
        last = start + size >= len(issue.histories)
        out: dict[str, Any] = {
            "self": call.view.url(f"issue/{issue.key}/changelog?maxResults={size}&startAt={start}"),
            "maxResults": size,
            "startAt": start,
            "total": len(issue.histories),
            "isLast": last,
            "values": [call.view.history(h) for h in page],
        }
        if not last:
            out["nextPage"] = call.view.url(
                f"issue/{issue.key}/changelog?maxResults={size}&startAt={start + size}"
            )
        return out

    def h_changelog_bulk(self, call: Call) -> Any:
        body = self._body()
        refs = body.get("issueIdsOrKeys") or []
        if not refs or len(refs) > 1000:
            raise JiraHttpError(400, ["issueIdsOrKeys must hold between 1 and 1000 issues."])
        field_ids = set(body.get("fieldIds") or [])
        size = max(1, min(int(body.get("maxResults") or 1000), 10000))
        offset = 0
        token = body.get("nextPageToken")
        if token:
            try:
                offset = int(base64.urlsafe_b64decode(str(token) + "==").decode())
            except ValueError:
                raise JiraHttpError(400, ["The provided next page token is invalid."]) from None
        rows: list[tuple[Issue, Any]] = []
        for ref in refs:
            try:
                issue = self._issue(str(ref))
            except NotFound:
                continue
            for history in issue.histories:
                if field_ids and not any(i.get("fieldId") in field_ids for i in history.items):
                    continue
                rows.append((issue, history))
        page = rows[offset : offset + size]
        grouped: OrderedDict[int, list[Any]] = OrderedDict()
        for issue, history in page:
            grouped.setdefault(issue.id, []).append(call.view.history(history))
        out: dict[str, Any] = {
            "issueChangeLogs": [
                {"issueId": str(i), "changeHistories": h} for i, h in grouped.items()
            ]
        }
        if offset + size < len(rows):
            out["nextPageToken"] = base64.urlsafe_b64encode(str(offset + size).encode()).decode()
        return out

    def h_assign(self, call: Call, ref: str) -> Any:
        issue = self._issue(ref)
        user = self._writer(call)
        body = self._body() if request.data and request.data.strip() != b"null" else {}
        target: dict[str, Any] | None = body or None
        if target is not None and (target.get("accountId") == "-1" or target.get("name") == "-1"):
            target = None
        moment = now_ms()
        self.state.touch(issue)
        items = writes.apply_edit(
            self.state,
            issue,
            {"assignee": target},
            None,
            api="2",
            actor=user.account_id,
            at=moment,
        )
        if items:
            self.state.add_history(issue, user.account_id, items, moment)
            issue.updated = moment
        issue.doc_cache = None
        return None, 204

    # -- properties and remote links --------------------------------------------------------------
    def h_properties(self, call: Call, ref: str) -> Any:
        issue = self._issue(ref)
        return {
            "keys": [
                {"self": call.view.url(f"issue/{issue.id}/properties/{k}"), "key": k}
                for k in issue.properties
            ]
        }

    def h_property_get(self, call: Call, ref: str, key: str) -> Any:
        issue = self._issue(ref)
        if key not in issue.properties:
            raise JiraHttpError(404, [f"The property with key '{key}' does not exist."])
        return {"key": key, "value": issue.properties[key]}

    def h_property_put(self, call: Call, ref: str, key: str) -> Any:
        issue = self._issue(ref)
        self._writer(call)
        if len(key) > 255:
            raise JiraHttpError(400, ["The property key can not be longer than 255 characters."])
        try:
            value = json.loads(request.data or b"null")
        except ValueError:
            raise JiraHttpError(400, ["The property value has to be a valid json."]) from None
        if len(request.data or b"") > 32768:
            raise JiraHttpError(400, ["The property value is too long (max 32768 bytes)."])
        existed = key in issue.properties
        issue.properties[key] = value
        return None, (200 if existed else 201)

    def h_property_delete(self, call: Call, ref: str, key: str) -> Any:
        issue = self._issue(ref)
        self._writer(call)
        if key not in issue.properties:
            raise JiraHttpError(404, [f"The property with key '{key}' does not exist."])
        del issue.properties[key]
        return None, 204

    def h_remote_links(self, call: Call, ref: str) -> Any:
        issue = self._issue(ref)
        global_id = request.args.get("globalId")
        links = [
            call.view.remote_link(issue, link)
            for link in issue.remote_links
            if global_id is None or link.global_id == global_id
        ]
        if global_id is not None:
            if not links:
                raise JiraHttpError(404, [f"No remote link with globalId '{global_id}'."])
            return links[0]
        return links

    def _remote_link_from(self, body: dict[str, Any]) -> tuple[Any, Any, Any, Any]:
        obj = body.get("object")
        if not isinstance(obj, dict) or not obj.get("url") or not obj.get("title"):
            errors = {}
            if not isinstance(obj, dict) or not obj.get("url"):
                errors["url"] = "'url' is required."
            if not isinstance(obj, dict) or not obj.get("title"):
                errors["title"] = "'title' is required."
            raise FieldErrors(errors)
        return body.get("globalId"), body.get("application") or {}, body.get("relationship"), obj

    def h_remote_link_post(self, call: Call, ref: str) -> Any:
        issue = self._issue(ref)
        self._writer(call)
        global_id, application, relationship, obj = self._remote_link_from(self._body())
        for link in issue.remote_links:
            if global_id is not None and link.global_id == global_id:
                link.application, link.relationship, link.object = application, relationship, obj
                return {
                    "id": link.id,
                    "self": call.view.url(f"issue/{issue.key}/remotelink/{link.id}"),
                }, 200
        link = RemoteLink(self.state.next_remote_link_id, global_id, application, relationship, obj)
        self.state.next_remote_link_id += 1
        issue.remote_links.append(link)
        return {
            "id": link.id,
            "self": call.view.url(f"issue/{issue.key}/remotelink/{link.id}"),
        }, 201

    def _remote_link(self, issue: Issue, link_id: int) -> RemoteLink:
        for link in issue.remote_links:
            if link.id == link_id:
                return link
        raise JiraHttpError(404, [f"No remote link with id '{link_id}' exists on this issue."])

    def h_remote_link_get(self, call: Call, ref: str, link_id: int) -> Any:
        issue = self._issue(ref)
        return call.view.remote_link(issue, self._remote_link(issue, link_id))

    def h_remote_link_put(self, call: Call, ref: str, link_id: int) -> Any:
        issue = self._issue(ref)
        self._writer(call)
        link = self._remote_link(issue, link_id)
        link.global_id, link.application, link.relationship, link.object = self._remote_link_from(
            self._body()
        )
        return None, 204

    def h_remote_link_delete(self, call: Call, ref: str, link_id: int) -> Any:
        issue = self._issue(ref)
        self._writer(call)
        issue.remote_links.remove(self._remote_link(issue, link_id))
        return None, 204

    def h_remote_link_delete_global(self, call: Call, ref: str) -> Any:
        issue = self._issue(ref)
        self._writer(call)
        global_id = request.args.get("globalId")
        before = len(issue.remote_links)
        issue.remote_links = [link for link in issue.remote_links if link.global_id != global_id]
        if len(issue.remote_links) == before:
            raise JiraHttpError(404, [f"No remote link with globalId '{global_id}'."])
        return None, 204

    # -- issue links ------------------------------------------------------------------------------
    def _link_type(self, ref: Any) -> Any:
        if isinstance(ref, dict):
            for link_type in self.state.link_types.values():
                if str(ref.get("id")) == link_type.id or ref.get("name") == link_type.name:
                    return link_type
        raise JiraHttpError(
            404, [f"No issue link type with name '{(ref or {}).get('name')}' found."]
        )

    def h_link_create(self, call: Call) -> Any:
        user = self._writer(call)
        body = self._body()
        link_type = self._link_type(body.get("type"))
        refs = []
        for side in ("inwardIssue", "outwardIssue"):
            ref = body.get(side) or {}
            try:
                refs.append(self.state.find_issue(ref.get("key") or ref.get("id") or ""))
            except NotFound:
                raise JiraHttpError(
                    404, [f"Issue Does Not Exist: {ref.get('key') or ref.get('id')}"]
                ) from None
        source, target = refs
        for existing in self.state.issue_links(source.id):
            if (existing.type_id, existing.source, existing.target) == (
                link_type.id,
                source.id,
                target.id,
            ):
                return None, 201
        link = self.state.add_link(link_type.id, source.id, target.id)
        moment = now_ms()
        for issue, other, phrase in (
            (source, target, link_type.outward),
            (target, source, link_type.inward),
        ):
            self.state.touch(issue)
            self.state.add_history(
                issue,
                user.account_id,
                [
                    {
                        "field": "Link",
                        "fieldtype": "jira",
                        "from": None,
                        "fromString": None,
                        "to": other.key,
                        "toString": f"This issue {phrase} {other.key}",
                    }
                ],
                moment,
            )
            issue.updated = moment
            issue.doc_cache = None
        comment = body.get("comment")
        if isinstance(comment, dict) and comment.get("body"):
            writes.add_comment(
                self.state,
                source,
                user.account_id,
                writes.rich_text_value(comment["body"], call.rich_api, "comment"),
                moment,
            )
        del link
        return None, 201

    def h_link_get(self, call: Call, link_id: str) -> Any:
        link = self.state.links.get(link_id)
        if link is None:
            raise JiraHttpError(404, [f"No issue link with id '{link_id}' exists."])
        return call.view.issue_link_full(link)

    def h_link_delete(self, call: Call, link_id: str) -> Any:
        self._writer(call)
        if link_id not in self.state.links:
            raise JiraHttpError(404, [f"No issue link with id '{link_id}' exists."])
        link = self.state.remove_link(link_id)
        for issue_id in (link.source, link.target):
            issue = self.state.issues.get(issue_id)
            if issue is not None:
                self.state.touch(issue)
                issue.updated = now_ms()
                issue.doc_cache = None
        return None, 204

    def h_link_types(self, call: Call) -> Any:
        return {"issueLinkTypes": [call.view.link_type(t) for t in self.state.link_types.values()]}

    def h_link_type(self, call: Call, type_id: str) -> Any:
        link_type = self.state.link_types.get(type_id)
        if link_type is None:
            raise JiraHttpError(404, [f"No issue link type with id '{type_id}' found."])
        return call.view.link_type(link_type)

    # -- projects, versions, components -----------------------------------------------------------
    def h_projects(self, call: Call) -> Any:
        expand = set(self._list_arg("expand") or [])
        return [call.view.project(p, expand=expand) for p in self.state.projects.values()]

    def h_project_search(self, call: Call) -> Any:
        if not self.cloud:
            raise JiraHttpError(404, [f"null for uri: {request.url}"])
        expand = set(self._list_arg("expand") or [])
        keys = set(self._list_arg("keys") or [])
        projects = [
            call.view.project(p, expand=expand)
            for p in self.state.projects.values()
            if not keys or p.key in keys
        ]
        start = self._int_arg("startAt", 0)
        size = self._int_arg("maxResults", 50)
        page = projects[start : start + size]
        out: dict[str, Any] = {
            "self": call.view.url(f"project/search?startAt={start}&maxResults={size}"),
            "maxResults": size,
            "startAt": start,
            "total": len(projects),
            "isLast": start + size >= len(projects),
            "values": page,
        }
        if not out["isLast"]:
            out["nextPage"] = call.view.url(
                f"project/search?startAt={start + size}&maxResults={size}"
            )
        return out

    def h_project(self, call: Call, ref: str) -> Any:
        project = self._project(ref)
        expand = set(self._list_arg("expand") or []) | {"full"}
        return call.view.project(project, expand=expand)

    def _project_versions(self, ref: str) -> list[Version]:
        project = self._project(ref)
        return [v for v in self.state.versions.values() if v.project_id == project.id]

    def h_project_versions(self, call: Call, ref: str) -> Any:
        return [call.view.version(v) for v in self._project_versions(ref)]

    def h_project_versions_paged(self, call: Call, ref: str) -> Any:
        versions = [call.view.version(v) for v in self._project_versions(ref)]
        start = self._int_arg("startAt", 0)
        size = self._int_arg("maxResults", 50)
        page = versions[start : start + size]
        out: dict[str, Any] = {
            "self": call.view.url(f"project/{ref}/version?maxResults={size}&startAt={start}"),
            "maxResults": size,
            "startAt": start,
            "total": len(versions),
            "isLast": start + size >= len(versions),
            "values": page,
        }
        if not out["isLast"]:
            out["nextPage"] = call.view.url(
                f"project/{ref}/version?maxResults={size}&startAt={start + size}"
            )
        return out

    def h_project_components(self, call: Call, ref: str) -> Any:
        project = self._project(ref)
        return [
            call.view.component_full(c)
            for c in self.state.components.values()
            if c.project_id == project.id
        ]

    def h_project_statuses(self, call: Call, ref: str) -> Any:
        project = self._project(ref)
        statuses = [call.view.status(s) for s in self.state.statuses.values()]
        return [
            {
                "self": call.view.url(f"issuetype/{t.id}"),
                "id": t.id,
                "name": t.name,
                "subtask": t.subtask,
                "statuses": statuses,
            }
            for t in self.state.project_issue_types(project)
        ]

    def _version_body(self, version: Version, body: dict[str, Any]) -> None:
        for attr, key in (
            ("name", "name"),
            ("description", "description"),
            ("released", "released"),
            ("archived", "archived"),
            ("start_date", "startDate"),
            ("release_date", "releaseDate"),
        ):
            if key in body:
                value = body[key]
                if attr in ("start_date", "release_date") and value is not None:
                    value = writes.iso_date(value, key, key)
                setattr(version, attr, value)

    def h_version_create(self, call: Call) -> Any:
        self._writer(call)
        body = self._body()
        project_ref = body.get("projectId") or body.get("project")
        project = self.state.find_project(str(project_ref)) if project_ref else None
        if project is None:
            raise FieldErrors({"project": "Project must be specified to create a version."})
        if not body.get("name"):
            raise FieldErrors({"name": "You must specify a valid version name"})
        if any(
            v.name == body["name"] and v.project_id == project.id
            for v in self.state.versions.values()
        ):
            raise FieldErrors({"name": "A version with this name already exists in this project."})
        version = Version(str(self.state.next_version_id), project.id, str(body["name"]))
        self.state.next_version_id += 1
        self._version_body(version, body)
        self.state.versions[version.id] = version
        return call.view.version(version), 201

    def h_version_get(self, call: Call, version_id: str) -> Any:
        version = self.state.versions.get(version_id)
        if version is None:
            raise JiraHttpError(404, [f"Could not find version for id '{version_id}'"])
        return call.view.version(version)

    def h_version_put(self, call: Call, version_id: str) -> Any:
        self._writer(call)
        version = self.state.versions.get(version_id)
        if version is None:
            raise JiraHttpError(404, [f"Could not find version for id '{version_id}'"])
        self._version_body(version, self._body())
        for issue in self.state.issues.values():
            if version_id in (issue.fields.get("fixVersions") or []):
                issue.doc_cache = None
        self.state.revision += 1  # names in JQL docs changed: DC search caches key on this
        return call.view.version(version)

    def h_component_create(self, call: Call) -> Any:
        from pmosync.sandbox.jira.state import Component

        self._writer(call)
        body = self._body()
        project = self.state.find_project(str(body.get("project") or body.get("projectId") or ""))
        if project is None:
            raise FieldErrors({"project": "The project is required."})
        if not body.get("name"):
            raise FieldErrors({"name": "The component name specified is invalid."})
        lead = self.state.find_user(
            {"accountId": body.get("leadAccountId"), "name": body.get("leadUserName")}
        )
        component = Component(
            str(self.state.next_component_id),
            project.id,
            str(body["name"]),
            str(body.get("description") or ""),
            lead.account_id if lead else None,
        )
        self.state.next_component_id += 1
        self.state.components[component.id] = component
        return call.view.component_full(component), 201

    def h_component_get(self, call: Call, component_id: str) -> Any:
        component = self.state.components.get(component_id)
        if component is None:
            raise JiraHttpError(404, [f"The component with id {component_id} does not exist."])
        return call.view.component_full(component)

    # -- catalogues -------------------------------------------------------------------------------
    def h_issue_types(self, call: Call) -> Any:
        return [call.view.issue_type(t) for t in self.state.issue_types.values()]

    def h_issue_type(self, call: Call, type_id: str) -> Any:
        itype = self.state.issue_types.get(type_id)
        if itype is None:
            raise JiraHttpError(404, [f"The issue type with id '{type_id}' does not exist."])
        return call.view.issue_type(itype)

    def h_priorities(self, call: Call) -> Any:
        return [call.view.priority(p) for p in self.state.priorities]

    def h_priority(self, call: Call, pid: str) -> Any:
        if pid not in self.state.priorities:
            raise JiraHttpError(404, [f"The priority with id '{pid}' does not exist."])
        return call.view.priority(pid)

    def h_resolutions(self, call: Call) -> Any:
        return [call.view.resolution(r) for r in self.state.resolutions]

    def h_resolution(self, call: Call, rid: str) -> Any:
        if rid not in self.state.resolutions:
            raise JiraHttpError(404, [f"The resolution with id '{rid}' does not exist."])
        return call.view.resolution(rid)

    def h_statuses(self, call: Call) -> Any:
        return [call.view.status(s) for s in self.state.statuses.values()]

    def h_status(self, call: Call, sid: str) -> Any:
        for status in self.state.statuses.values():
            if sid in (status.id, status.name):
                return call.view.status(status)
        raise JiraHttpError(404, [f"The status with id '{sid}' does not exist."])

    def h_status_categories(self, call: Call) -> Any:
        from pmosync.sandbox.jira.state import STATUS_CATEGORIES

        return [call.view.status_category(k) for k in STATUS_CATEGORIES]

    def h_status_category(self, call: Call, cid: str) -> Any:
        from pmosync.sandbox.jira.state import STATUS_CATEGORIES

        for key, (ident, _name, _color) in STATUS_CATEGORIES.items():
            if cid in (str(ident), key):
                return call.view.status_category(key)
        raise JiraHttpError(404, [f"The status category with id '{cid}' does not exist."])

    # -- users ------------------------------------------------------------------------------------
    def h_user(self, call: Call) -> Any:
        ref = (
            {"accountId": request.args.get("accountId")}
            if self.cloud
            else {"name": request.args.get("username"), "key": request.args.get("key")}
        )
        user = self.state.find_user(ref)
        if user is None:
            raise JiraHttpError(
                404,
                [
                    "The user named '{}' does not exist".format(
                        request.args.get("accountId") or request.args.get("username") or ""
                    )
                ],
            )
        return call.view.user(user)

    def h_user_search(self, call: Call) -> Any:
        if self.cloud:
            text = request.args.get("query") or request.args.get("accountId")
            if text is None:
                raise JiraHttpError(400, ["The query parameter 'query' is required."])
        else:
            text = request.args.get("username")
            if text is None:
                raise JiraHttpError(400, ["The username query parameter was not provided"])
        needle = text.lower().strip()
        include_active = self._bool_arg("includeActive", True)
        include_inactive = self._bool_arg("includeInactive", False)
        matches = []
        for user in self.state.users.values():
            if (user.active and not include_active) or (not user.active and not include_inactive):
                continue
            haystack = [user.display_name.lower(), user.email.lower()] + (
                [user.account_id] if self.cloud else [user.name.lower(), user.key.lower()]
            )
            if needle in ("", ".", "*") or any(
                h.startswith(needle) or needle in h for h in haystack
            ):
                matches.append(call.view.user(user))
        start = self._int_arg("startAt", 0)
        size = self._int_arg("maxResults", 50)
        return matches[start : start + size]

    # -- agile ------------------------------------------------------------------------------------
    def _page(self, items: list[Any], default_size: int = 50) -> dict[str, Any]:
        start = max(0, self._int_arg("startAt", 0))
        size = max(1, min(self._int_arg("maxResults", default_size), default_size))
        page = items[start : start + size]
        return {
            "maxResults": size,
            "startAt": start,
            "total": len(items),
            "isLast": start + size >= len(items),
            "values": page,
        }

    def _board_json(self, call: Call, board_id: int) -> dict[str, Any]:
        board = self.state.boards[board_id]
        project = self.state.projects[board.project_id]
        return {
            "id": board.id,
            "self": call.view.agile(f"board/{board.id}"),
            "name": board.name,
            "type": board.type,
            "location": {
                "projectId": int(project.id),
                "displayName": f"{project.name} ({project.key})",
                "projectName": project.name,
                "projectKey": project.key,
                "projectTypeKey": "software",
                "name": f"{project.name} ({project.key})",
            },
        }

    def h_boards(self, call: Call) -> Any:
        ref = request.args.get("projectKeyOrId")
        kind = request.args.get("type")
        name = request.args.get("name")
        project = self.state.find_project(ref) if ref else None
        if ref and project is None:
            raise JiraHttpError(400, [f"No project could be found with key '{ref}'."])
        boards = [
            self._board_json(call, b.id)
            for b in self.state.boards.values()
            if (project is None or b.project_id == project.id)
            and (not kind or b.type in kind.split(","))
            and (not name or name.lower() in b.name.lower())
        ]
        return self._page(boards)

    def h_board(self, call: Call, board_id: int) -> Any:
        if board_id not in self.state.boards:
            raise JiraHttpError(
                404, [f"Board {board_id} does not exist or you do not have permission to see it."]
            )
        return self._board_json(call, board_id)

    def h_board_sprints(self, call: Call, board_id: int) -> Any:
        if board_id not in self.state.boards:
            raise JiraHttpError(
                404, [f"Board {board_id} does not exist or you do not have permission to see it."]
            )
        states = set((request.args.get("state") or "future,active,closed").split(","))
        sprints = [
            call.view.sprint(s)
            for s in self.state.sprints.values()
            if s.board_id == board_id and s.state in states
        ]
        return self._page(sprints)

    def _sprint(self, sprint_id: int) -> Any:
        sprint = self.state.sprints.get(sprint_id)
        if sprint is None:
            raise JiraHttpError(404, [f"Sprint with id {sprint_id} does not exist."])
        return sprint

    def h_sprint(self, call: Call, sprint_id: int) -> Any:
        return call.view.sprint(self._sprint(sprint_id))

    def h_sprint_create(self, call: Call) -> Any:
        from pmosync.sandbox.jira.state import Sprint

        self._writer(call)
        body = self._body()
        board_id = body.get("originBoardId")
        if board_id not in self.state.boards or not body.get("name"):
            raise FieldErrors({"originBoardId": "A valid board and name are required."})
        sprint = Sprint(
            max(self.state.sprints, default=0) + 1,
            board_id,
            body["name"],
            "future",
            goal=body.get("goal") or "",
            created=now_ms(),
        )
        self.state.sprints[sprint.id] = sprint
        self._sprint_body(sprint, body)
        return call.view.sprint(sprint), 201

    def _sprint_body(self, sprint: Any, body: dict[str, Any]) -> None:
        for key, attr in (("startDate", "start"), ("endDate", "end"), ("completeDate", "complete")):
            if body.get(key):
                text = str(body[key]).replace("Z", "+00:00")
                setattr(sprint, attr, datetime.fromisoformat(text).astimezone(UTC))
        for key in ("name", "goal", "state"):
            if body.get(key):
                setattr(sprint, key, body[key])

    def h_sprint_update(self, call: Call, sprint_id: int) -> Any:
        self._writer(call)
        sprint = self._sprint(sprint_id)
        self._sprint_body(sprint, self._body())
        for issue in self.state.issues.values():
            issue.doc_cache = None
        self.state.revision += 1
        return call.view.sprint(sprint)

    def h_sprint_issues(self, call: Call, sprint_id: int) -> Any:
        self._sprint(sprint_id)
        field_id = self.state.custom_field_id("Sprint") or ""
        jql = request.args.get("jql")
        ids = [
            i.id for i in self.state.issues.values() if sprint_id in (i.fields.get(field_id) or [])
        ]
        if jql:
            allowed = set(self._run(self._compile(call, jql), set(), lag=False))
            ids = [i for i in ids if i in allowed]
        start = max(0, self._int_arg("startAt", 0))
        size = max(1, min(self._int_arg("maxResults", 50), 100))
        fields = self._list_arg("fields")
        page = ids[start : start + size]
        return {
            "expand": "schema,names",
            "startAt": start,
            "maxResults": size,
            "total": len(ids),
            "issues": self._render_page(
                call,
                page,
                call.view.field_ids(fields, "*navigable"),
                self._expand(),
                set(),
                None,
                lag=False,
            ),
        }

    def _move_to_sprint(self, call: Call, issues: list[Any], sprint_ids: list[int]) -> None:
        user = self._writer(call)
        field_id = self.state.custom_field_id("Sprint")
        if field_id is None:
            raise JiraHttpError(400, ["The Sprint field is not configured."])
        if len(issues) > 50:
            raise JiraHttpError(400, ["Only 50 issues can be moved in one request."])
        spec = self.state.fields[field_id]
        moment = now_ms()
        targets = [self._issue(str(ref)) for ref in issues]
        for issue in targets:
            old = issue.fields.get(field_id) or []
            closed = [s for s in old if self.state.sprints[s].state == "closed"]
            new = closed + [s for s in sprint_ids if s not in closed]
            if new == old:
                continue
            self.state.touch(issue)
            issue.fields[field_id] = new
            self.state.add_history(
                issue, user.account_id, writes.changelog_items(self.state, spec, old, new), moment
            )
            issue.updated = moment
            issue.doc_cache = None

    def h_sprint_add(self, call: Call, sprint_id: int) -> Any:
        sprint = self._sprint(sprint_id)
        if sprint.state == "closed":
            raise JiraHttpError(400, ["Cannot move issues to a closed sprint."])
        self._move_to_sprint(call, list(self._body().get("issues") or []), [sprint_id])
        return None, 204

    def h_epic_add(self, call: Call, ref: str) -> Any:
        user = self._writer(call)
        epic = self._issue(ref)
        if self.state.issue_types[epic.fields["issuetype"]].name != "Epic":
            raise JiraHttpError(400, [f"Issue {epic.key} is not an epic."])
        link_field = "parent" if self.cloud else self.state.custom_field_id("Epic Link")
        assert link_field is not None
        moment = now_ms()
        for key in self._body().get("issues") or []:
            issue = self._issue(str(key))
            old = issue.fields.get(link_field)
            if old == epic.id:
                continue
            self.state.touch(issue)
            issue.fields[link_field] = epic.id
            spec = self.state.fields[link_field]
            self.state.add_history(
                issue,
                user.account_id,
                writes.changelog_items(self.state, spec, old, epic.id),
                moment,
            )
            issue.updated = moment
            issue.doc_cache = None
        return None, 204

    def h_backlog(self, call: Call) -> Any:
        """Move issues out of open sprints (closed sprints stay in their history)."""
        issues = list(self._body().get("issues") or [])
        self._move_to_sprint(call, issues, [])
        return None, 204

    def h_rank(self, call: Call) -> Any:
        """Rank issues before/after another one: rewrites their Rank values around it."""
        self._writer(call)
        body = self._body()
        rank_field = self.state.custom_field_id("Rank")
        anchor_ref = body.get("rankBeforeIssue") or body.get("rankAfterIssue")
        if not anchor_ref or rank_field is None:
            raise JiraHttpError(400, ["rankBeforeIssue or rankAfterIssue is required."])
        anchor = self._issue(str(anchor_ref))
        base = str(anchor.fields.get(rank_field) or "0|i00000:")
        before = bool(body.get("rankBeforeIssue"))
        for index, ref in enumerate(body.get("issues") or []):
            issue = self._issue(str(ref))
            # lexical ranks: "<anchor>" minus/plus a suffix keeps the order stable
            suffix = f"{index:03d}"
            issue.fields[rank_field] = (base[:-1] + "0" + suffix) if before else (base + suffix)
            issue.doc_cache = None
        self.state.revision += 1
        return None, 204
