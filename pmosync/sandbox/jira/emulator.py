"""Jira Cloud / Data Center emulator (``/rest/api/{2,3,latest}`` and ``/rest/agile/1.0``).

``JiraEmulator(deployment="cloud"|"server", seed=SeedSpec(...))`` follows
``reference/api-wire-protocol.md`` §2: token-paged ``/search/jql`` with search lag and
``reconcileIssues`` on Cloud (``/search`` answers 410), offset-paged ``/search`` with ``total``
on DC, v3 rich text as ADF, Jira's error bodies, 401 on bad credentials (Cloud: basic
``email:api_token``; DC: ``Bearer <PAT>`` or basic ``username:password``), per-user rate limiting
with Jira's 429 headers.

Knobs (``configure`` or ``POST /_admin/config``): ``search_lag_seconds`` (3 s by default:
Cloud search is eventually consistent), ``entity_property_indexes`` (property paths an app
declared for JQL), ``omit_retry_after_every`` (N: every Nth 429 without Retry-After),
``rate_limit_per_second``
(None: off), ``rate_limit_burst``, ``cloud_max_results`` (100), ``cloud_max_results_ids`` (5000),
``dc_max_results`` (1000), ``bulk_create_max`` (50 Cloud, 1000 DC), ``page_token_ttl_seconds``,
``changelog_page_size`` (histories in a Cloud ``expand=changelog``, 100),
``notify_users_requires_admin`` (False: ``notifyUsers=false`` accepted from anyone),
``short_page_every`` (N: every Nth ``search/jql`` page is one short although more follow),
``captcha_after_failures`` (DC: N failed basic logins, then 403 with
``X-Authentication-Denied-Reason``), ``per_issue_writes_per_second``/``per_issue_write_burst``
(429 with ``RateLimit-Reason: jira-per-issue-on-write``),
``expire_page_tokens`` (true: every outstanding nextPageToken becomes invalid).

Search lag (Cloud): an issue written less than ``search_lag_seconds`` ago shows its previous
version in ``search/jql`` and ``approximate-count`` (a new issue is absent) unless its id is in
``reconcileIssues``; ``GET /issue`` is always current. Timestamps render in the calling user's
profile zone (``2026-03-11T10:30:00.000+1100``), as Jira does.

Python API for tests (not for connectors): :meth:`JiraEmulator.human_edit`,
:meth:`JiraEmulator.issue`, :meth:`JiraEmulator.configure`, :attr:`JiraEmulator.credentials`,
:meth:`JiraEmulator.set_time_zone`, :meth:`JiraEmulator.drift_field`.
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
from pmosync.sandbox.jira.api_agile import AgileRoutes
from pmosync.sandbox.jira.api_base import Call, JiraHttpError, jira_body
from pmosync.sandbox.jira.api_catalog import CatalogRoutes
from pmosync.sandbox.jira.api_issues import IssueRoutes
from pmosync.sandbox.jira.api_links import LinkRoutes
from pmosync.sandbox.jira.api_search import SearchCursor, SearchRoutes
from pmosync.sandbox.jira.bodies import body_problem
from pmosync.sandbox.jira.jql import JqlError
from pmosync.sandbox.jira.render import View
from pmosync.sandbox.jira.seed import SeedSpec, build_state
from pmosync.sandbox.jira.state import (
    FieldErrors,
    JiraState,
    NotFound,
    User,
    now_ms,
)

TRANSITION = "POST issue/{issueIdOrKey}/transitions"
REMOTE_LINK = "POST issue/{issueIdOrKey}/remotelink"
NOT_AUTHENTICATED = "You are not authenticated. Authentication required to perform this operation."

DEFAULT_KNOBS: dict[str, Any] = {
    # Cloud's search/jql is eventually consistent: "the majority of modifications are shown
    # within seconds", bulk ones take longer (developer.atlassian.com/cloud/jira/platform/
    # search-and-reconcile). On by default, as on the real service; a test that needs search
    # to see a write at once says so by setting it to 0. DC's /search is not affected.
    "search_lag_seconds": 3.0,
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
    # Cloud's per-issue write limit (None: off), a token bucket per issue
    "per_issue_writes_per_second": None,
    "per_issue_write_burst": 5,
    # entity property paths an app declared as indexed ("pmo-sync.id"); JQL on any other
    # issue.property[...] path finds nothing (see jql.Catalog.lookup)
    "entity_property_indexes": [],
    # Atlassian: "429 responses may be accompanied by Retry-After and X-RateLimit-Reset"
    # (developer.atlassian.com/cloud/jira/platform/rate-limiting/): every Nth 429 of the
    # rate limiter comes without them (0: always sent, 1: never)
    "omit_retry_after_every": 0,
}


def _refuse_unbindable(operation: str) -> None:
    """A JSON body Atlassian's schema refuses is a 400 (bodies.py); not JSON: the handler's."""
    try:
        payload = json.loads(request.data) if request.data else None
    except ValueError:
        return
    problem = body_problem(operation, payload)
    if problem is not None:
        raise JiraHttpError(400, [f"Can not deserialize the request body: {problem}."])


@dataclass
class _Bucket:
    tokens: float
    stamp: float


class JiraEmulator(SearchRoutes, IssueRoutes, LinkRoutes, CatalogRoutes, AgileRoutes, EmulatorBase):
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
        self._throttled = 0  # 429s the rate limiter answered (omit_retry_after_every)
        self._cursors: OrderedDict[str, SearchCursor] = OrderedDict()
        self._dc_cache: OrderedDict[tuple[str, str, int], list[int]] = OrderedDict()
        self.state: JiraState = build_state(self.seed)
        self._apply_knobs()

    # -- public Python API ------------------------------------------------------------------------
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
            self._apply_knobs()
            self._buckets.clear()
            self._cursors.clear()
            self._dc_cache.clear()
            self._failed_logins.clear()

    def mark_seed(self) -> None:
        """The scenario's seed is history: what it wrote while seeding (human_edit on the
        cross-tool epic, status issues) is searchable, not lagging behind."""
        with self.lock:
            for issue in self.state.issues.values():
                issue.last_write, issue.search_view, issue.has_search_view = 0.0, None, False
        super().mark_seed()

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
            self._apply_knobs()
            self._buckets.clear()
            return dict(self.knobs)

    def _apply_knobs(self) -> None:
        """Knobs the state itself reads (search lag, declared property indexes)."""
        self.state.search_lag = float(self.knobs["search_lag_seconds"] or 0)
        self.state.property_indexes = tuple(
            tuple(str(entry).split(".", 1))  # type: ignore[misc]
            for entry in self.knobs["entity_property_indexes"] or []
            if "." in str(entry)
        )
        for issue in self.state.issues.values():
            issue.doc_cache = None
        self.state.revision += 1  # DC's cached listings are stale

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
            moment = moment.replace(microsecond=moment.microsecond // 1000 * 1000)
            fields = dict(fields)
            items: list[dict[str, Any]] = []
            status_ref = fields.pop("status", None)
            status = None
            if status_ref is not None:
                status = next(
                    (s for s in state.statuses.values() if str(status_ref) in (s.id, s.name)),
                    None,
                )
                if status is None:
                    raise ValueError(f"no status {status_ref!r} on this instance")
            plan = writes.plan_edit(state, issue, fields, None, api="2")
            state.touch(issue)
            if status is not None:
                items.extend(self._set_status(issue, status.id, moment, resolution="10000"))
            items.extend(writes.commit_edit(state, issue, plan, actor=actor, at=moment))
            state.add_history(issue, actor, items, moment)
            issue.updated = moment
            issue.doc_cache = None
            return self.issue(issue.key)

    def set_time_zone(self, zone: str, *, user: str | None = None) -> None:
        """Change a user's profile zone (default: the connector's user); JQL dates follow it."""
        from zoneinfo import ZoneInfo

        ZoneInfo(zone)  # fail early on a typo
        with self.lock:
            self.state.users[user or self.state.api_user].time_zone = zone

    def drift_field(
        self,
        name: str,
        *,
        rename: str | None = None,
        remove: bool = False,
        schema_type: str | None = None,
    ) -> str:
        """An admin changes a custom field under the connector's feet (rename, delete or change
        its type); returns the field id. ``/field``, issues and JQL all see the change."""
        with self.lock:
            spec = self.state.field_by_name(name)
            if spec is None:
                raise KeyError(f"no field named {name!r}")
            if remove:
                del self.state.fields[spec.id]
            if rename is not None:
                spec.clause_names = [c for c in spec.clause_names if c != spec.name] + [rename]
                spec.name = rename
            if schema_type is not None:
                spec.schema = {**spec.schema, "type": schema_type}
            for issue in self.state.issues.values():
                issue.doc_cache = None
            self.state.revision += 1
            return spec.id

    # -- infrastructure ---------------------------------------------------------------------------
    def _view(self, base: str, api: str, user: User | None) -> View:
        tz = user.tz if user else self.state.users[self.state.api_user].tz
        return View(self.state, base.rstrip("/") + self.context_path, api, tz)

    def fault_response(self, burst: Burst) -> Response:
        if burst.status == 429:
            # an injected 429 without retry_after has no Retry-After (the header is optional)
            headers = self._rate_headers(
                limit=int(self.knobs["rate_limit_burst"] or 20), retry_after=burst.retry_after
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

    def _rate_headers(self, *, limit: int, retry_after: int | None) -> dict[str, str]:
        headers = {
            "X-RateLimit-Limit": str(limit),
            "X-RateLimit-Remaining": "0",
            "RateLimit-Reason": "jira-burst-based",
        }
        if retry_after is not None:
            reset = datetime.now(UTC) + timedelta(seconds=retry_after)
            headers["Retry-After"] = str(int(retry_after))
            headers["X-RateLimit-Reset"] = reset.strftime("%Y-%m-%dT%H:%MZ")
        if not self.cloud:
            rate = self.knobs["rate_limit_per_second"] or 1
            headers["X-RateLimit-FillRate"] = str(max(1, int(rate)))
            headers["X-RateLimit-Interval-Seconds"] = "1"
        return headers

    def _take(self, key: str, rate: float, burst: float, reason: str) -> float:
        """One token from bucket ``key``; returns what is left, or raises Jira's 429."""
        wall = time.monotonic()
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket(burst, wall)
        bucket.tokens = min(burst, bucket.tokens + (wall - bucket.stamp) * rate)
        bucket.stamp = wall
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return bucket.tokens
        retry_after: int | None = max(1, math.ceil((1 - bucket.tokens) / rate))
        self._throttled += 1
        omit = int(self.knobs["omit_retry_after_every"] or 0)
        if omit and self._throttled % omit == 0:
            retry_after = None
        headers = self._rate_headers(limit=int(burst), retry_after=retry_after)
        headers["RateLimit-Reason"] = reason
        raise JiraHttpError(429, ["Rate limit exceeded."], headers=headers)

    def _rate_limit(self, user: User) -> dict[str, str]:
        """The per-user budget; the headers a successful answer carries while it is on."""
        rate = self.knobs["rate_limit_per_second"]
        if not rate:
            return {}
        burst = float(self.knobs["rate_limit_burst"] or 1)
        left = self._take(f"user:{user.account_id}", float(rate), burst, "jira-burst-based")
        headers = {"X-RateLimit-Limit": str(int(burst)), "X-RateLimit-Remaining": str(int(left))}
        if left < burst * 0.2:
            headers["X-RateLimit-NearLimit"] = "true"
        return headers

    def _issue_write_limit(self, ref: str | None) -> None:
        """Cloud's per-issue write limit (``RateLimit-Reason: jira-per-issue-on-write``)."""
        rate = self.knobs["per_issue_writes_per_second"]
        if not rate or ref is None or request.method not in ("POST", "PUT", "DELETE"):
            return
        try:
            issue = self.state.find_issue(ref)
        except NotFound:
            return
        burst = float(self.knobs["per_issue_write_burst"] or 1)
        self._take(f"issue:{issue.id}", float(rate), burst, "jira-per-issue-on-write")

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
            # Jira's empty answers (204 on edits, 201 on issueLink) carry no body and no
            # Content-Type; Flask would label them text/html, which no Jira reply is.
            response = Response(status=status)
            del response.headers["Content-Type"]
            return response
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
            body: str | None = None,
        ) -> None:
            """``body`` names the request schema a POST/PUT body must meet (bodies.py)."""

            def view(**kwargs: Any) -> Response:
                api = kwargs.pop("ver", "agile")
                try:
                    if not agile and (
                        api not in ("2", "3", "latest") or (api == "3" and not emulator.cloud)
                    ):
                        raise JiraHttpError(404, [f"null for uri: {request.url}"])
                    with emulator.lock:
                        user = emulator._authenticate(anonymous)
                        limit_headers = emulator._rate_limit(user) if user is not None else {}
                        emulator._issue_write_limit(kwargs.get("ref"))
                        if cloud_only and not emulator.cloud:
                            raise JiraHttpError(404, [f"null for uri: {request.url}"])
                        call = Call(
                            user,
                            "2" if agile else api,
                            emulator._view(request.host_url, "2" if agile else api, user),
                        )
                        if body is not None and request.method in ("POST", "PUT"):
                            _refuse_unbindable(body)
                        result = handler(call, **kwargs)
                    if isinstance(result, Response):
                        response = result
                    elif isinstance(result, tuple):
                        response = emulator._respond(result[0], result[1])
                    else:
                        response = emulator._respond(result)
                    response.headers.update(limit_headers)
                    return response
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
        add("search/jql", e.h_search_jql, ("GET", "POST"), cloud_only=True, body="POST search/jql")
        add("search/approximate-count", e.h_approximate_count, ("POST",), cloud_only=True)
        add("search", e.h_search, ("GET", "POST"))
        add("issue", e.h_issue_create, ("POST",), body="POST issue")
        add("issue/bulk", e.h_issue_bulk, ("POST",))
        add("issue/createmeta", e.h_createmeta)
        add("issue/createmeta/<project_ref>/issuetypes", e.h_createmeta_types)
        add("issue/createmeta/<project_ref>/issuetypes/<type_id>", e.h_createmeta_fields)
        add("issue/bulkfetch", e.h_issue_bulkfetch, ("POST",), cloud_only=True)
        add("mypermissions", e.h_my_permissions)
        add("issue/<ref>", e.h_issue_get)
        add("issue/<ref>", e.h_issue_edit, ("PUT",), body="PUT issue/{issueIdOrKey}")
        add("issue/<ref>", e.h_issue_delete, ("DELETE",))
        add("issue/<ref>/editmeta", e.h_editmeta)
        add("issue/<ref>/transitions", e.h_transitions)
        add("issue/<ref>/transitions", e.h_transition, ("POST",), body=TRANSITION)
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
        add("issue/<ref>/remotelink", e.h_remote_link_post, ("POST",), body=REMOTE_LINK)
        add("issue/<ref>/remotelink", e.h_remote_link_delete_global, ("DELETE",))
        add("issue/<ref>/remotelink/<int:link_id>", e.h_remote_link_get)
        add("issue/<ref>/remotelink/<int:link_id>", e.h_remote_link_put, ("PUT",))
        add("issue/<ref>/remotelink/<int:link_id>", e.h_remote_link_delete, ("DELETE",))
        add("issueLink", e.h_link_create, ("POST",), body="POST issueLink")
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
        add("project/<ref>/properties", e.h_project_property_keys)
        add("project/<ref>/properties/<key>", e.h_project_property_get)
        add("project/<ref>/properties/<key>", e.h_project_property_put, ("PUT",))
        add("project/<ref>/properties/<key>", e.h_project_property_delete, ("DELETE",))
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
