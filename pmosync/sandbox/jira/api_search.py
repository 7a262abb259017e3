"""Search: Cloud ``search/jql`` (token pages, lag, reconcileIssues), ``approximate-count``,
DC ``/search`` (offset pages with ``total``), Cloud ``/search`` answering 410.
"""

from __future__ import annotations

import base64
import json
import secrets
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from flask import request

from pmosync.sandbox.jira.api_base import (
    SEARCH_REMOVED,
    UNBOUNDED,
    Call,
    HandlerBase,
    JiraHttpError,
)
from pmosync.sandbox.jira.jql import CompiledQuery, compile_query
from pmosync.sandbox.jira.search import catalog_for, eval_context, issue_doc
from pmosync.sandbox.jira.state import (
    now_ms,
)


@dataclass
class SearchCursor:
    ids: list[int]
    created: float
    fields: list[str] | None
    expand: set[str]


class SearchRoutes(HandlerBase):
    @staticmethod
    def _jql(body: dict[str, Any] | None) -> str:
        raw = body.get("jql") if body is not None else request.args.get("jql")
        if raw is not None and not isinstance(raw, str):
            raise JiraHttpError(400, ["The 'jql' parameter must be a string."])
        return raw or ""

    _cursors: OrderedDict[str, SearchCursor]  # nextPageToken -> frozen result list
    _dc_cache: OrderedDict[tuple[str, str, int], list[int]]  # (jql, user, revision) -> ids

    # -- search -----------------------------------------------------------------------------------
    def _compile(self, call: Call, jql: str) -> CompiledQuery:
        assert call.user is not None
        ctx = eval_context(self.state, call.user, now_ms())
        return compile_query(
            jql, catalog_for(self.state), ctx, max_order_fields=7 if self.cloud else None
        )

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

    def _untoken(self, token: str) -> tuple[SearchCursor, int]:
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
        jql = self._jql(body)
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
            cursor = SearchCursor(ids, time.monotonic(), fields, expand)
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
        query = self._compile(call, self._jql(body))
        if not query.bounded:
            raise JiraHttpError(400, [UNBOUNDED])
        return {"count": len(self._run(query, set(), lag=True))}

    def h_search(self, call: Call) -> Any:
        if self.cloud:
            raise JiraHttpError(410, [SEARCH_REMOVED])
        body = self._body() if request.method == "POST" else None
        jql = self._jql(body)
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
