"""What every group of Jira routes shares: the request view, error types, request helpers.

The route groups (``api_search``, ``api_issues``, ``api_links``, ``api_catalog``,
``api_agile``) are mixins of :class:`HandlerBase`; ``emulator.JiraEmulator`` combines them and
owns the state, auth, rate limiting and route registration.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from flask import request

from pmosync.sandbox.jira.jql import CompiledQuery
from pmosync.sandbox.jira.render import View
from pmosync.sandbox.jira.state import (
    Issue,
    JiraState,
    User,
)

SEARCH_REMOVED = (
    "The requested API has been removed. Please migrate to the /rest/api/3/search/jql API. "
    "A full migration guideline is available at "
    "https://developer.atlassian.com/changelog/#CHANGE-2046"
)
UNBOUNDED = (
    "Unbounded JQL queries are not allowed here. Please add a search restriction to your query."
)
NOTIFY_ADMIN_ONLY = (
    "To discard the user notification either admin or project admin permissions are required."
)
NO_EDIT = "You do not have permission to edit issues in this project."


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


class HandlerBase:
    """State and request helpers the route mixins use (the emulator provides the attributes)."""

    state: JiraState
    knobs: dict[str, Any]
    deployment: str

    @property
    def cloud(self) -> bool:
        return self.deployment == "cloud"

    if TYPE_CHECKING:  # defined by sibling mixins; declared here for the type checker

        def _compile(self, call: Call, jql: str) -> CompiledQuery: ...

        def _run(self, query: CompiledQuery, reconcile: set[int], *, lag: bool) -> list[int]: ...

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
        ) -> list[dict[str, Any]]: ...

        def _set_status(
            self, issue: Issue, status_id: str, moment: datetime, *, resolution: str | None
        ) -> list[dict[str, Any]]: ...

        def _create_fields(self, call: Call, project_id: str, type_id: str) -> dict[str, Any]: ...

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
    def _property_value(key: str) -> Any:
        """The JSON body of an entity property PUT (issue or project).

        The spec requires a body: "a valid, non-empty JSON value" of at most 32768 bytes
        (tests/fixtures/specs/jira-cloud-platform-v3.openapi.json, PUT
        /rest/api/3/issue/{issueIdOrKey}/properties/{propertyKey}); no body is a 400.
        """
        if len(key) > 255:
            raise JiraHttpError(400, ["The property key can not be longer than 255 characters."])
        data = request.data or b""
        if not data.strip():
            raise JiraHttpError(400, ["The property value has to be a valid, non-empty JSON."])
        try:
            value = json.loads(data)
        except ValueError:
            raise JiraHttpError(400, ["The property value has to be a valid json."]) from None
        if len(data) > 32768:
            raise JiraHttpError(400, ["The property value is too long (max 32768 bytes)."])
        return value

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

    def _issue(self, ref: str) -> Issue:
        return self.state.find_issue(ref)

    def _project(self, ref: str) -> Any:
        project = self.state.find_project(ref)
        if project is None:
            raise JiraHttpError(404, [f"No project could be found with key '{ref}'."])
        return project
