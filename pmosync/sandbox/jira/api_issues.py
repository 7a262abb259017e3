"""Issues: get, create, bulk create, edit, delete, createmeta/editmeta, transitions,
comments, changelog and assignee.
"""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any

from flask import request

from pmosync.sandbox.jira import writes
from pmosync.sandbox.jira.api_base import (
    NOTIFY_ADMIN_ONLY,
    Call,
    HandlerBase,
    JiraHttpError,
)
from pmosync.sandbox.jira.render import available_transitions
from pmosync.sandbox.jira.state import (
    FieldErrors,
    Issue,
    NotFound,
    now_ms,
)


class IssueRoutes(HandlerBase):
    # -- issues -----------------------------------------------------------------------------------
    def h_issue_bulkfetch(self, call: Call) -> Any:
        """Cloud ``POST /issue/bulkfetch``: up to 100 issues by id or key, read-after-write
        consistent; unknown or invisible issues are silently left out."""
        body = self._body()
        refs = body.get("issueIdsOrKeys")
        if not isinstance(refs, list) or not refs or len(refs) > 100:
            raise JiraHttpError(400, ["issueIdsOrKeys must list between 1 and 100 issues."])
        fields = self._list_arg("fields", body)
        expand = self._expand(body)
        properties = self._list_arg("properties", body)
        field_ids = call.view.field_ids(fields, "*navigable")
        issues = []
        for ref in refs:
            try:
                issue = self._issue(str(ref))
            except NotFound:
                continue
            issues.append(
                call.view.issue(
                    issue,
                    field_ids,
                    expand,
                    properties=properties,
                    cloud_changelog_page=40,  # bulkfetch's changelog expand stops at 40
                )
            )
        return {"issues": issues, "issueErrors": []}

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
        plan = writes.plan_edit(state, issue, fields, update, api=call.rich_api)
        if plan.changes(issue):  # an edit that changes nothing leaves updated alone
            state.touch(issue)
            items = writes.commit_edit(state, issue, plan, actor=user.account_id, at=moment)
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
        plan = writes.plan_edit(
            self.state, issue, fields, update, api=call.rich_api, allowed=allowed
        )
        self.state.touch(issue)
        items = self._set_status(issue, transition.to_status, moment, resolution=None)
        items += writes.commit_edit(self.state, issue, plan, actor=user.account_id, at=moment)
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
        # "sorted by changelog date and issue IDs, starting from the oldest changelog and
        # smallest issue ID" (POST /rest/api/3/changelog/bulkfetch in the v3 spec)
        rows.sort(key=lambda row: (row[1].created, row[0].id))
        page = rows[offset : offset + size]
        # consecutive histories of one issue share an entry; the page keeps the date order
        entries: list[dict[str, Any]] = []
        for issue, history in page:
            if not entries or entries[-1]["issueId"] != str(issue.id):
                entries.append({"issueId": str(issue.id), "changeHistories": []})
            entries[-1]["changeHistories"].append(call.view.history(history))
        out: dict[str, Any] = {"issueChangeLogs": entries}
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
        plan = writes.plan_edit(self.state, issue, {"assignee": target}, None, api="2")
        if plan.changes(issue):
            self.state.touch(issue)
            items = writes.commit_edit(self.state, issue, plan, actor=user.account_id, at=moment)
            self.state.add_history(issue, user.account_id, items, moment)
            issue.updated = moment
            issue.doc_cache = None
        return None, 204
