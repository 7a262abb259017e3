"""The Jira emulator's data: users, projects, fields, workflow, issues and their history.

Everything here is plain data plus the rules Jira applies on writes (validation, changelog,
search lag snapshots). Field write rules live in ``writes.py``, JQL documents in ``search.py``,
JSON shapes in ``render.py``, HTTP in ``emulator.py`` and the ``api_*.py`` route mixins.

Issue links: ``POST /issueLink {"type": T, "inwardIssue": A, "outwardIssue": B}`` is stored as
``Link(source=A, target=B)`` and read as "A <T.outward> B" (A blocks B): A lists the link with
``outwardIssue: B`` and B lists it with ``inwardIssue: A``.
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timezone
from typing import Any
from zoneinfo import ZoneInfo

from pmosync.sandbox.jira import adf

UTC = UTC

STATUS_CATEGORIES = {
    "undefined": (1, "No Category", "medium-gray"),
    "new": (2, "To Do", "blue-gray"),
    "indeterminate": (4, "In Progress", "yellow"),
    "done": (3, "Done", "green"),
}


def now_ms() -> datetime:
    """Wall clock truncated to the millisecond, the precision Jira stores."""
    stamp = datetime.now(UTC)
    return stamp.replace(microsecond=stamp.microsecond // 1000 * 1000)


def jira_datetime(moment: datetime, tz: ZoneInfo | timezone) -> str:
    """``2025-01-01T10:00:00.000+1100``: Jira renders in the caller's zone, no colon."""
    local = moment.astimezone(tz)
    return (
        local.strftime("%Y-%m-%dT%H:%M:%S.")
        + f"{local.microsecond // 1000:03d}"
        + (local.strftime("%z"))
    )


@dataclass
class User:
    account_id: str
    name: str
    key: str
    display_name: str
    email: str
    time_zone: str = "UTC"
    active: bool = True
    api_token: str | None = None  # Cloud basic auth secret
    password: str | None = None  # DC basic auth secret
    pat: str | None = None  # DC personal access token (Bearer)
    admin: bool = False
    can_write: bool = True

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)


@dataclass
class Status:
    id: str
    name: str
    category: str  # new | indeterminate | done


@dataclass
class IssueType:
    id: str
    name: str
    subtask: bool = False
    hierarchy_level: int = 0
    description: str = ""


@dataclass
class Priority:
    id: str
    name: str


@dataclass
class Resolution:
    id: str
    name: str
    description: str = ""


@dataclass
class Transition:
    id: str
    name: str
    to_status: str
    required_fields: tuple[str, ...] = ()
    screen_fields: tuple[str, ...] = ()
    from_statuses: tuple[str, ...] = ()  # empty: a global transition (from any status)

    def available_from(self, status_id: str) -> bool:
        return self.to_status != status_id and (
            not self.from_statuses or status_id in self.from_statuses
        )


@dataclass
class Project:
    id: str
    key: str
    name: str
    lead: str  # account id
    issue_type_ids: list[str]
    description: str = ""
    next_number: int = 1
    # entity properties (PUT /rest/api/3/project/{projectIdOrKey}/properties/{propertyKey})
    properties: dict[str, Any] = field(default_factory=dict)
    # the project's category ({"id", "name", "description"}), shown as projectCategory
    category: dict[str, str] | None = None


@dataclass
class Version:
    id: str
    project_id: str
    name: str
    description: str = ""
    released: bool = False
    archived: bool = False
    start_date: str | None = None
    release_date: str | None = None


@dataclass
class Component:
    id: str
    project_id: str
    name: str
    description: str = ""
    lead: str | None = None


@dataclass
class LinkType:
    id: str
    name: str
    inward: str
    outward: str


@dataclass
class Link:
    id: str
    type_id: str
    source: int  # issue id shown with outwardIssue -> target
    target: int


@dataclass
class Board:
    id: int
    name: str
    type: str
    project_id: str


@dataclass
class Sprint:
    id: int
    board_id: int
    name: str
    state: str  # future | active | closed
    start: datetime | None = None
    end: datetime | None = None
    complete: datetime | None = None
    goal: str = ""
    created: datetime | None = None


@dataclass
class FieldSpec:
    """One entry of ``GET /field`` plus how the emulator validates values for it.

    ``kind``: string, richtext, number, date, datetime, user, option, options, sprint, epiclink,
    labels, versions, components, issuetype, project, priority, status, resolution, parent,
    readonly.
    """

    id: str
    name: str
    kind: str
    schema: dict[str, Any]
    custom: bool = False
    navigable: bool = True
    orderable: bool = True
    searchable: bool = True
    clause_names: list[str] = field(default_factory=list)
    options: list[dict[str, str]] = field(default_factory=list)  # for option kinds
    editable: bool = True


@dataclass
class History:
    id: str
    author: str  # account id
    created: datetime
    items: list[dict[str, Any]]


@dataclass
class Comment:
    id: str
    author: str
    body: dict[str, Any]
    created: datetime
    updated: datetime


@dataclass
class RemoteLink:
    id: int
    global_id: str | None
    application: dict[str, Any]
    relationship: str | None
    object: dict[str, Any]


@dataclass
class Issue:
    id: int
    key: str
    project_id: str
    fields: dict[str, Any]
    created: datetime
    updated: datetime
    histories: list[History] = field(default_factory=list)
    comments: list[Comment] = field(default_factory=list)
    properties: dict[str, Any] = field(default_factory=dict)
    remote_links: list[RemoteLink] = field(default_factory=list)
    # search lag: the version search shows until ``last_write + lag`` (None = not yet visible)
    last_write: float = 0.0
    search_view: Issue | None = None
    has_search_view: bool = False
    doc_cache: dict[str, Any] | None = None

    @property
    def number(self) -> int:
        return int(self.key.rsplit("-", 1)[1])

    def snapshot(self) -> Issue:
        twin = copy.copy(self)
        twin.fields = copy.deepcopy(self.fields)
        twin.histories = list(self.histories)
        twin.comments = list(self.comments)
        twin.search_view = None
        twin.has_search_view = False
        twin.doc_cache = None
        return twin


class FieldErrors(Exception):
    """400 with ``{"errorMessages": messages, "errors": errors}``."""

    def __init__(self, errors: dict[str, str], messages: list[str] | None = None) -> None:
        super().__init__(errors or messages)
        self.errors = errors
        self.messages = messages or []


class NotFound(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


ISSUE_NOT_FOUND = "Issue does not exist or you do not have permission to see it."


@dataclass
class JiraState:
    """All of one Jira instance. Callers hold the emulator's lock around every use."""

    deployment: str  # cloud | server
    users: dict[str, User] = field(default_factory=dict)  # by account id
    statuses: dict[str, Status] = field(default_factory=dict)
    issue_types: dict[str, IssueType] = field(default_factory=dict)
    priorities: dict[str, Priority] = field(default_factory=dict)
    resolutions: dict[str, Resolution] = field(default_factory=dict)
    transitions: list[Transition] = field(default_factory=list)
    projects: dict[str, Project] = field(default_factory=dict)
    versions: dict[str, Version] = field(default_factory=dict)
    components: dict[str, Component] = field(default_factory=dict)
    link_types: dict[str, LinkType] = field(default_factory=dict)
    links: dict[str, Link] = field(default_factory=dict)
    boards: dict[int, Board] = field(default_factory=dict)
    sprints: dict[int, Sprint] = field(default_factory=dict)
    fields: dict[str, FieldSpec] = field(default_factory=dict)
    issues: dict[int, Issue] = field(default_factory=dict)
    keys: dict[str, int] = field(default_factory=dict)
    links_by_issue: dict[int, list[str]] = field(default_factory=dict)
    api_user: str = ""  # account id of the connector's user
    human_user: str = ""  # account id used by human_edit
    server_title: str = "pmo-sync sandbox"
    version_numbers: tuple[int, int, int] = (1001, 0, 0)
    next_issue_id: int = 10000
    next_history_id: int = 10000
    next_comment_id: int = 10000
    next_link_id: int = 10000
    next_remote_link_id: int = 10000
    next_version_id: int = 10000
    next_component_id: int = 10000
    revision: int = 0  # bumped on every write; DC search caches key on it
    search_lag: float = 0.0
    # entity property paths an app declared for JQL ((key, path)); others match nothing
    property_indexes: tuple[tuple[str, str], ...] = ()
    catalog_cache: tuple[Any, Any] | None = None  # (field signature, jql.Catalog)

    # -- lookups ------------------------------------------------------------------------------
    @property
    def cloud(self) -> bool:
        return self.deployment == "cloud"

    def field_by_name(self, name: str) -> FieldSpec | None:
        for spec in self.fields.values():
            if spec.name.lower() == name.lower():
                return spec
        return None

    def custom_field_id(self, name: str) -> str | None:
        spec = self.field_by_name(name)
        return spec.id if spec else None

    def find_issue(self, id_or_key: str | int) -> Issue:
        text = str(id_or_key).strip()
        issue_id = int(text) if text.isdigit() else self.keys.get(text.upper())
        issue = self.issues.get(issue_id) if issue_id is not None else None
        if issue is None:
            raise NotFound(ISSUE_NOT_FOUND)
        return issue

    def find_project(self, ref: str | int) -> Project | None:
        text = str(ref)
        if text in self.projects:
            return self.projects[text]
        for project in self.projects.values():
            if project.key.upper() == text.upper():
                return project
        return None

    def find_user(self, ref: dict[str, Any] | str | None) -> User | None:
        if ref is None:
            return None
        if isinstance(ref, str):
            ref = {"accountId": ref} if self.cloud else {"name": ref}
        for user in self.users.values():
            if self.cloud and ref.get("accountId") == user.account_id:
                return user
            if not self.cloud and (
                ref.get("name") == user.name or (ref.get("key") and ref.get("key") == user.key)
            ):
                return user
        return None

    def status_of(self, issue: Issue) -> Status:
        return self.statuses[issue.fields["status"]]

    def project_issue_types(self, project: Project) -> list[IssueType]:
        return [self.issue_types[i] for i in project.issue_type_ids]

    def issue_links(self, issue_id: int) -> list[Link]:
        return [self.links[i] for i in self.links_by_issue.get(issue_id, []) if i in self.links]

    def children(self, issue: Issue) -> list[Issue]:
        return [self.issues[i] for i in self.child_index().get(issue.id, [])]

    def child_index(self) -> dict[int, list[int]]:
        index: dict[int, list[int]] = {}
        for other in self.issues.values():
            parent = other.fields.get("parent")
            if parent is not None:
                index.setdefault(parent, []).append(other.id)
        return index

    # -- writes ---------------------------------------------------------------------------------
    def touch(self, issue: Issue, *, new: bool = False) -> None:
        """Record a write: keep the pre-write version for search lag, bump revision."""
        wall = time.monotonic()
        if self.search_lag > 0:
            if new:
                issue.search_view = None
                issue.has_search_view = True
            elif not issue.has_search_view or wall - issue.last_write >= self.search_lag:
                issue.search_view = issue.snapshot()
                issue.has_search_view = True
        issue.last_write = wall
        issue.doc_cache = None
        self.revision += 1

    def search_version(self, issue: Issue, reconcile: set[int], wall: float) -> Issue | None:
        """What search sees of ``issue`` now: its pre-write version while it lags."""
        if (
            self.search_lag > 0
            and issue.has_search_view
            and wall - issue.last_write < self.search_lag
            and issue.id not in reconcile
        ):
            return issue.search_view
        return issue

    def add_history(
        self, issue: Issue, author: str, items: list[dict[str, Any]], at: datetime
    ) -> None:
        if not items:
            return
        issue.histories.append(History(str(self.next_history_id), author, at, items))
        self.next_history_id += 1

    def add_link(self, type_id: str, source: int, target: int) -> Link:
        link = Link(str(self.next_link_id), type_id, source, target)
        self.next_link_id += 1
        self.links[link.id] = link
        self.links_by_issue.setdefault(source, []).append(link.id)
        self.links_by_issue.setdefault(target, []).append(link.id)
        return link

    def remove_link(self, link_id: str) -> Link:
        link = self.links.pop(link_id)
        for issue_id in (link.source, link.target):
            ids = self.links_by_issue.get(issue_id, [])
            if link_id in ids:
                ids.remove(link_id)
        return link

    def new_issue(self, project: Project, fields: dict[str, Any], at: datetime) -> Issue:
        issue = Issue(
            id=self.next_issue_id,
            key=f"{project.key}-{project.next_number}",
            project_id=project.id,
            fields=fields,
            created=at,
            updated=at,
        )
        self.next_issue_id += 1
        project.next_number += 1
        self.issues[issue.id] = issue
        self.keys[issue.key] = issue.id
        return issue


def rich_text_value(value: Any, api: str, field_id: str) -> dict[str, Any] | None:
    """Accept a rich-text value the way the API version does: ADF on v3, string on v2."""
    if value is None:
        return None
    if api == "3":
        if not adf.is_adf(value):
            raise FieldErrors({field_id: adf.ADF_REQUIRED})
        return copy.deepcopy(value)
    if not isinstance(value, str):
        raise FieldErrors({field_id: f"Field '{field_id}' must be a string."})
    return adf.from_text(value)


def iso_date(value: Any, field_id: str, label: str) -> str | None:
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(str(value)).isoformat()
    except ValueError:
        raise FieldErrors(
            {field_id: f"Error parsing date string: {value}"}
            if field_id
            else {label: f"Error parsing date string: {value}"}
        ) from None
