"""JSON shapes Jira answers with, for one request's point of view (API version, base URL, zone).

Every object carries a ``self`` that points at the emulator's real REST path, because the
``jira`` library types nested resources by matching ``self`` and reloads issues through it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from pmosync.sandbox.jira import adf
from pmosync.sandbox.jira.state import (
    STATUS_CATEGORIES,
    Comment,
    Component,
    FieldSpec,
    History,
    Issue,
    IssueType,
    JiraState,
    Link,
    LinkType,
    Project,
    RemoteLink,
    Sprint,
    Status,
    Transition,
    User,
    Version,
    jira_datetime,
)

ISSUE_EXPAND = "renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations"
CLOUD_CHANGELOG_PAGE = 100


@dataclass
class View:
    state: JiraState
    base: str  # e.g. https://127.0.0.1:5000 (no trailing slash)
    api: str  # "2" | "3" | "latest" (rendered as asked)
    tz: ZoneInfo
    _children: dict[int, list[int]] | None = None  # per request: parent id -> child ids

    def children(self, issue: Issue) -> list[Issue]:
        if self._children is None:
            self._children = self.state.child_index()
        return [self.state.issues[i] for i in self._children.get(issue.id, [])]

    @property
    def rich(self) -> bool:
        return self.api == "3"

    def url(self, path: str) -> str:
        return f"{self.base}/rest/api/{self.api}/{path}"

    def agile(self, path: str) -> str:
        return f"{self.base}/rest/agile/1.0/{path}"

    def dt(self, moment: datetime | None) -> str | None:
        return jira_datetime(moment, self.tz) if moment is not None else None

    def text(self, doc: dict[str, Any] | None) -> Any:
        if doc is None:
            return None
        return doc if self.rich else adf.to_text(doc)

    # -- small objects ----------------------------------------------------------------------
    def avatars(self, kind: str, ident: str) -> dict[str, str]:
        return {
            size: f"{self.base}/secure/{kind}avatar?size={label}&id={ident}"
            for size, label in (
                ("48x48", "large"),
                ("24x24", "small"),
                ("16x16", "xsmall"),
                ("32x32", "medium"),
            )
        }

    def user(self, user: User | None) -> dict[str, Any] | None:
        if user is None:
            return None
        if self.state.cloud:
            return {
                "self": self.url(f"user?accountId={user.account_id}"),
                "accountId": user.account_id,
                "emailAddress": user.email,
                "avatarUrls": self.avatars("user", user.account_id),
                "displayName": user.display_name,
                "active": user.active,
                "timeZone": user.time_zone,
                "accountType": "atlassian",
            }
        return {
            "self": self.url(f"user?username={user.name}"),
            "name": user.name,
            "key": user.key,
            "emailAddress": user.email,
            "avatarUrls": self.avatars("user", user.key),
            "displayName": user.display_name,
            "active": user.active,
            "timeZone": user.time_zone,
        }

    def user_by_id(self, account_id: str | None) -> dict[str, Any] | None:
        return self.user(self.state.users.get(account_id)) if account_id else None

    def status_category(self, key: str) -> dict[str, Any]:
        ident, name, color = STATUS_CATEGORIES[key]
        return {
            "self": self.url(f"statuscategory/{ident}"),
            "id": ident,
            "key": key,
            "colorName": color,
            "name": name,
        }

    def status(self, status: Status) -> dict[str, Any]:
        return {
            "self": self.url(f"status/{status.id}"),
            "description": "",
            "iconUrl": f"{self.base}/images/icons/status_generic.gif",
            "name": status.name,
            "id": status.id,
            "statusCategory": self.status_category(status.category),
        }

    def issue_type(self, issue_type: IssueType) -> dict[str, Any]:
        out: dict[str, Any] = {
            "self": self.url(f"issuetype/{issue_type.id}"),
            "id": issue_type.id,
            "description": issue_type.description,
            "iconUrl": f"{self.base}/images/icons/issuetypes/{issue_type.name.lower()}.svg",
            "name": issue_type.name,
            "subtask": issue_type.subtask,
        }
        if self.state.cloud:
            out["hierarchyLevel"] = issue_type.hierarchy_level
        return out

    def priority(self, priority_id: str | None) -> dict[str, Any] | None:
        if priority_id is None:
            return None
        priority = self.state.priorities[priority_id]
        return {
            "self": self.url(f"priority/{priority.id}"),
            "iconUrl": f"{self.base}/images/icons/priorities/{priority.name.lower()}.svg",
            "name": priority.name,
            "id": priority.id,
        }

    def resolution(self, resolution_id: str | None) -> dict[str, Any] | None:
        if resolution_id is None:
            return None
        resolution = self.state.resolutions[resolution_id]
        return {
            "self": self.url(f"resolution/{resolution.id}"),
            "id": resolution.id,
            "description": resolution.description,
            "name": resolution.name,
        }

    def project(self, project: Project, *, expand: Iterable[str] = ()) -> dict[str, Any]:
        out: dict[str, Any] = {
            "expand": "description,lead,issueTypes,url,projectKeys,permissions,insight",
            "self": self.url(f"project/{project.id}"),
            "id": project.id,
            "key": project.key,
            "name": project.name,
            "avatarUrls": self.avatars("project", project.id),
            "projectTypeKey": "software",
        }
        if project.category:
            # Project.projectCategory (ProjectCategory: self, id, name, description) per
            # tests/fixtures/specs/jira-cloud-platform-v3.openapi.json
            out["projectCategory"] = {
                "self": self.url(f"projectCategory/{project.category['id']}"),
                **project.category,
            }
        if self.state.cloud:
            out["simplified"] = False
            out["style"] = "classic"
            out["isPrivate"] = False
        if "issueTypes" in expand or "full" in expand:
            out["issueTypes"] = [
                self.issue_type(t) for t in self.state.project_issue_types(project)
            ]
        if "full" in expand:
            out["description"] = project.description
            out["lead"] = self.user_by_id(project.lead)
            out["components"] = [
                self.component(c)
                for c in self.state.components.values()
                if c.project_id == project.id
            ]
            out["versions"] = [
                self.version(v) for v in self.state.versions.values() if v.project_id == project.id
            ]
            out["issueTypes"] = [
                self.issue_type(t) for t in self.state.project_issue_types(project)
            ]
            out["assigneeType"] = "UNASSIGNED"
        return out

    def version(self, version: Version) -> dict[str, Any]:
        out: dict[str, Any] = {
            "self": self.url(f"version/{version.id}"),
            "id": version.id,
            "description": version.description,
            "name": version.name,
            "archived": version.archived,
            "released": version.released,
            "projectId": int(version.project_id),
        }
        if version.start_date:
            out["startDate"] = version.start_date
        if version.release_date:
            out["releaseDate"] = version.release_date
        return out

    def version_ref(self, version: Version) -> dict[str, Any]:
        out = self.version(version)
        out.pop("projectId", None)
        return out

    def component(self, component: Component) -> dict[str, Any]:
        out: dict[str, Any] = {
            "self": self.url(f"component/{component.id}"),
            "id": component.id,
            "name": component.name,
            "description": component.description,
        }
        return out

    def component_full(self, component: Component) -> dict[str, Any]:
        out = self.component(component)
        project = self.state.projects[component.project_id]
        out.update(
            {
                "lead": self.user_by_id(component.lead),
                "assigneeType": "PROJECT_DEFAULT",
                "isAssigneeTypeValid": False,
                "project": project.key,
                "projectId": int(project.id),
            }
        )
        if out["lead"] is None:
            del out["lead"]
        return out

    def link_type(self, link_type: LinkType) -> dict[str, Any]:
        return {
            "id": link_type.id,
            "name": link_type.name,
            "inward": link_type.inward,
            "outward": link_type.outward,
            "self": self.url(f"issueLinkType/{link_type.id}"),
        }

    def issue_ref(self, issue: Issue) -> dict[str, Any]:
        """The compact form used for parent, subtasks and linked issues."""
        return {
            "id": str(issue.id),
            "key": issue.key,
            "self": self.url(f"issue/{issue.id}"),
            "fields": {
                "summary": issue.fields.get("summary"),
                "status": self.status(self.state.status_of(issue)),
                "priority": self.priority(issue.fields.get("priority")),
                "issuetype": self.issue_type(self.state.issue_types[issue.fields["issuetype"]]),
            },
        }

    def issue_link(self, link: Link, from_issue: int) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": link.id,
            "self": self.url(f"issueLink/{link.id}"),
            "type": self.link_type(self.state.link_types[link.type_id]),
        }
        if link.source == from_issue:
            out["outwardIssue"] = self.issue_ref(self.state.issues[link.target])
        else:
            out["inwardIssue"] = self.issue_ref(self.state.issues[link.source])
        return out

    def issue_link_full(self, link: Link) -> dict[str, Any]:
        """``GET /issueLink/{id}``: both ends."""
        return {
            "id": link.id,
            "self": self.url(f"issueLink/{link.id}"),
            "type": self.link_type(self.state.link_types[link.type_id]),
            "inwardIssue": self.issue_ref(self.state.issues[link.source]),
            "outwardIssue": self.issue_ref(self.state.issues[link.target]),
        }

    def sprint(self, sprint: Sprint) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": sprint.id,
            "self": self.agile(f"sprint/{sprint.id}"),
            "state": sprint.state,
            "name": sprint.name,
            "originBoardId": sprint.board_id,
            "goal": sprint.goal,
        }
        for key, value in (
            ("startDate", sprint.start),
            ("endDate", sprint.end),
            ("completeDate", sprint.complete),
            ("createdDate", sprint.created),
        ):
            if value is not None:
                out[key] = (
                    value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"
                )
        return out

    def sprint_field_value(self, sprint: Sprint) -> Any:
        """Cloud: an object per sprint; DC's REST v2 still renders the legacy toString form."""
        if self.state.cloud:
            return {
                "id": sprint.id,
                "name": sprint.name,
                "state": sprint.state,
                "boardId": sprint.board_id,
                "goal": sprint.goal,
                **(
                    {"startDate": self.sprint(sprint)["startDate"]}
                    if sprint.start is not None
                    else {}
                ),
                **({"endDate": self.sprint(sprint)["endDate"]} if sprint.end is not None else {}),
                **(
                    {"completeDate": self.sprint(sprint)["completeDate"]}
                    if sprint.complete is not None
                    else {}
                ),
            }

        def stamp(moment: datetime | None) -> str:
            return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z") if moment else "<null>"

        return (
            f"com.atlassian.greenhopper.service.sprint.Sprint@{sprint.id:x}"
            f"[id={sprint.id},rapidViewId={sprint.board_id},state={sprint.state.upper()},"
            f"name={sprint.name},startDate={stamp(sprint.start)},endDate={stamp(sprint.end)},"
            f"completeDate={stamp(sprint.complete)},activatedDate={stamp(sprint.start)},"
            f"sequence={sprint.id},goal={sprint.goal},autoStartStop=false,"
            f"synced=false,incompleteIssuesDestinationId=<null>]"
        )

    def field(self, spec: FieldSpec) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": spec.id,
            "key": spec.id,
            "name": spec.name,
            "custom": spec.custom,
            "orderable": spec.orderable,
            "navigable": spec.navigable,
            "searchable": spec.searchable,
            "clauseNames": spec.clause_names,
        }
        if spec.schema:
            out["schema"] = spec.schema
        if not self.state.cloud:
            out.pop("key")
        return out

    def transition(self, transition: Transition, *, with_fields: bool) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": transition.id,
            "name": transition.name,
            "to": self.status(self.state.statuses[transition.to_status]),
            "hasScreen": bool(transition.screen_fields),
            "isGlobal": not transition.from_statuses,
            "isInitial": False,
            "isAvailable": True,
            "isConditional": False,
            "isLooped": False,
        }
        if with_fields:
            fields: dict[str, Any] = {}
            for field_id in transition.screen_fields:
                spec = self.state.fields[field_id]
                entry: dict[str, Any] = {
                    "required": field_id in transition.required_fields,
                    "schema": spec.schema,
                    "name": spec.name,
                    "key": spec.id,
                    "hasDefaultValue": False,
                    "operations": ["set"],
                }
                if field_id == "resolution":
                    entry["allowedValues"] = [self.resolution(r) for r in self.state.resolutions]
                fields[field_id] = entry
            out["fields"] = fields
        return out

    def comment(self, issue: Issue, comment: Comment) -> dict[str, Any]:
        author = self.user_by_id(comment.author)
        return (
            {
                "self": self.url(f"issue/{issue.id}/comment/{comment.id}"),
                "id": comment.id,
                "author": author,
                "body": self.text(comment.body),
                "updateAuthor": author,
                "created": self.dt(comment.created),
                "updated": self.dt(comment.updated),
                "jsdPublic": True,
            }
            if self.state.cloud
            else {
                "self": self.url(f"issue/{issue.id}/comment/{comment.id}"),
                "id": comment.id,
                "author": author,
                "body": self.text(comment.body),
                "updateAuthor": author,
                "created": self.dt(comment.created),
                "updated": self.dt(comment.updated),
            }
        )

    def history(self, history: History) -> dict[str, Any]:
        return {
            "id": history.id,
            "author": self.user_by_id(history.author),
            "created": self.dt(history.created),
            "items": [dict(item) for item in history.items],
        }

    def remote_link(self, issue: Issue, link: RemoteLink) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": link.id,
            "self": self.url(f"issue/{issue.key}/remotelink/{link.id}"),
        }
        if link.global_id is not None:
            out["globalId"] = link.global_id
        if link.application:
            out["application"] = link.application
        if link.relationship is not None:
            out["relationship"] = link.relationship
        out["object"] = link.object
        return out

    # -- issues ---------------------------------------------------------------------------------
    def field_value(self, issue: Issue, spec: FieldSpec) -> Any:
        state = self.state
        value = issue.fields.get(spec.id)
        kind = spec.kind
        fid = spec.id
        if fid == "issuekey":
            return None
        if fid == "summary":
            return value
        if fid == "status":
            return self.status(state.status_of(issue))
        if fid == "statuscategorychangedate":
            return self.dt(issue.fields.get("statuscategorychangedate") or issue.created)
        if fid == "issuetype":
            return self.issue_type(state.issue_types[str(value)])
        if fid == "project":
            return self.project(state.projects[issue.project_id])
        if fid in ("created", "updated"):
            return self.dt(getattr(issue, fid))
        if fid in ("assignee", "reporter", "creator"):
            return self.user_by_id(value)
        if fid == "priority":
            return self.priority(value)
        if fid == "resolution":
            return self.resolution(value)
        if fid == "resolutiondate":
            return self.dt(value)
        if fid == "parent":
            parent = state.issues.get(value) if value is not None else None
            return self.issue_ref(parent) if parent is not None else None
        if fid == "subtasks":
            return [
                self.issue_ref(child)
                for child in self.children(issue)
                if state.issue_types[child.fields["issuetype"]].subtask
            ]
        if fid == "issuelinks":
            return [self.issue_link(link, issue.id) for link in state.issue_links(issue.id)]
        if fid == "comment":
            comments = [self.comment(issue, c) for c in issue.comments]
            return {
                "comments": comments,
                "self": self.url(f"issue/{issue.id}/comment"),
                "maxResults": len(comments),
                "total": len(comments),
                "startAt": 0,
            }
        if fid in ("fixVersions", "versions"):
            return [self.version_ref(state.versions[v]) for v in value or []]
        if fid == "components":
            return [self.component(state.components[c]) for c in value or []]
        if fid == "labels":
            return list(value or [])
        if kind == "richtext":
            return self.text(value)
        if kind == "sprint":
            sprints = [state.sprints[s] for s in value or [] if s in state.sprints]
            return [self.sprint_field_value(s) for s in sprints] or None
        if kind == "epiclink":
            epic = state.issues.get(value) if value is not None else None
            return epic.key if epic is not None else None
        if kind == "option":
            if value is None:
                return None
            option = next((o for o in spec.options if o["id"] == value), None)
            return (
                {
                    "self": f"{self.base}/rest/api/{self.api}/customFieldOption/{value}",
                    "value": option["value"],
                    "id": value,
                }
                if option
                else None
            )
        if kind == "user":
            return self.user_by_id(value)
        if kind == "datetime":
            return self.dt(value)
        return value

    def field_ids(self, requested: list[str] | None, default: str) -> list[str]:
        """Jira's ``fields`` rules: ``*all``, ``*navigable``, ids, ``-id`` exclusions."""
        state = self.state
        items = [f.strip() for f in (requested or []) if f and f.strip()]
        if not items:
            items = [default]
        chosen: list[str] = []
        excluded: set[str] = set()
        for item in items:
            if item.startswith("-"):
                excluded.add(item[1:])
            elif item == "*all":
                chosen.extend(state.fields)
            elif item == "*navigable":
                chosen.extend(f.id for f in state.fields.values() if f.navigable)
            elif item in state.fields:
                chosen.append(item)
            elif item in ("id", "key", "self", "*none"):
                continue
            else:
                spec = state.field_by_name(item)
                if spec is not None:
                    chosen.append(spec.id)
        seen: set[str] = set()
        out = []
        for fid in chosen:
            if fid not in seen and fid not in excluded and fid != "issuekey":
                seen.add(fid)
                out.append(fid)
        return out

    def issue(
        self,
        issue: Issue,
        field_ids: list[str],
        expand: set[str],
        *,
        properties: list[str] | None = None,
        cloud_changelog_page: int = CLOUD_CHANGELOG_PAGE,
    ) -> dict[str, Any]:
        state = self.state
        specs = [state.fields[f] for f in field_ids]
        out: dict[str, Any] = {
            "expand": ISSUE_EXPAND,
            "id": str(issue.id),
            "self": self.url(f"issue/{issue.id}"),
            "key": issue.key,
        }
        if "renderedfields" in expand:
            rendered: dict[str, Any] = {}
            for spec in specs:
                if spec.kind == "richtext":
                    rendered[spec.id] = adf.to_html(issue.fields.get(spec.id))
                elif spec.id in ("created", "updated"):
                    rendered[spec.id] = self.dt(getattr(issue, spec.id))
                else:
                    rendered[spec.id] = None
            out["renderedFields"] = rendered
        if "names" in expand:
            out["names"] = {spec.id: spec.name for spec in specs}
        if "schema" in expand:
            out["schema"] = {spec.id: spec.schema for spec in specs if spec.schema}
        if "transitions" in expand:
            out["transitions"] = [
                self.transition(t, with_fields="transitions.fields" in expand)
                for t in available_transitions(state, issue)
            ]
        if "changelog" in expand:
            histories = issue.histories
            if state.cloud:
                # Cloud: "a list of recent updates to an issue, sorted by date, starting from
                # the most recent" (GET /rest/api/3/issue/{issueIdOrKey}, expand, in
                # tests/fixtures/specs/jira-cloud-platform-v3.openapi.json), one page of them.
                histories = histories[::-1][:cloud_changelog_page]
            # DC lists every history, oldest first (seen on Jira Server 8:
            # github.com/solidify/jira-azuredevops-migrator/issues/559)
            out["changelog"] = {
                "startAt": 0,
                "maxResults": len(histories),
                "total": len(issue.histories),
                "histories": [self.history(h) for h in histories],
            }
        if properties:
            wanted = (
                issue.properties.keys() if "*all" in properties else properties  # type: ignore[assignment]
            )
            out["properties"] = {k: issue.properties[k] for k in wanted if k in issue.properties}
        out["fields"] = {spec.id: self.field_value(issue, spec) for spec in specs}
        return out


def available_transitions(state: JiraState, issue: Issue) -> list[Transition]:
    current = issue.fields["status"]
    return [t for t in state.transitions if t.available_from(current)]
