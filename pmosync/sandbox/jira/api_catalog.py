"""Projects, versions, components, issue types, priorities, resolutions, statuses and users."""

from __future__ import annotations

from typing import Any

from flask import request

from pmosync.sandbox.jira import writes
from pmosync.sandbox.jira.api_base import (
    Call,
    HandlerBase,
    JiraHttpError,
)
from pmosync.sandbox.jira.state import (
    FieldErrors,
    Version,
)


class CatalogRoutes(HandlerBase):
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
        return self._page_bean(call, projects, "project/search")

    def _page_bean(self, call: Call, items: list[Any], path: str) -> dict[str, Any]:
        """Jira's PageBean: ``startAt``/``maxResults`` slicing with ``isLast`` and ``nextPage``."""
        start = self._int_arg("startAt", 0)
        size = self._int_arg("maxResults", 50)
        out: dict[str, Any] = {
            "self": call.view.url(f"{path}?startAt={start}&maxResults={size}"),
            "maxResults": size,
            "startAt": start,
            "total": len(items),
            "isLast": start + size >= len(items),
            "values": items[start : start + size],
        }
        if not out["isLast"]:
            out["nextPage"] = call.view.url(f"{path}?startAt={start + size}&maxResults={size}")
        return out

    def h_project(self, call: Call, ref: str) -> Any:
        project = self._project(ref)
        expand = set(self._list_arg("expand") or []) | {"full"}
        return call.view.project(project, expand=expand)

    # -- project entity properties ------------------------------------------------------------
    # Per Atlassian's OpenAPI (tests/fixtures/specs/jira-cloud-platform-v3.openapi.json,
    # operations getProjectPropertyKeys, getProjectProperty, setProjectProperty,
    # deleteProjectProperty; the same paths exist in REST v2 and on Data Center): the value is a
    # non-empty JSON blob of at most 32768 characters, a key at most 255; PUT answers 201 when
    # it created the property and 200 when it replaced it; an unknown key is 404.
    def h_project_property_keys(self, call: Call, ref: str) -> Any:
        project = self._project(ref)
        base = request.url_root.rstrip("/") + request.path
        return {"keys": [{"key": k, "self": f"{base}/{k}"} for k in sorted(project.properties)]}

    def h_project_property_get(self, call: Call, ref: str, key: str) -> Any:
        project = self._project(ref)
        if key not in project.properties:
            raise JiraHttpError(404, [f"The property with key '{key}' does not exist."])
        return {"key": key, "value": project.properties[key]}

    def h_project_property_put(self, call: Call, ref: str, key: str) -> Any:
        project = self._project(ref)
        self._writer(call)
        value = self._property_value(key)
        existed = key in project.properties
        project.properties[key] = value
        return None, (200 if existed else 201)

    def h_project_property_delete(self, call: Call, ref: str, key: str) -> Any:
        project = self._project(ref)
        self._writer(call)
        if key not in project.properties:
            raise JiraHttpError(404, [f"The property with key '{key}' does not exist."])
        del project.properties[key]
        return None, 204

    def _project_versions(self, ref: str) -> list[Version]:
        project = self._project(ref)
        return [v for v in self.state.versions.values() if v.project_id == project.id]

    def h_project_versions(self, call: Call, ref: str) -> Any:
        return [call.view.version(v) for v in self._project_versions(ref)]

    def h_project_versions_paged(self, call: Call, ref: str) -> Any:
        versions = [call.view.version(v) for v in self._project_versions(ref)]
        return self._page_bean(call, versions, f"project/{ref}/version")

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
    def h_my_permissions(self, call: Call) -> Any:
        """``GET /mypermissions?permissions=A,B``: what the caller may do (Cloud requires the
        list; DC answers every permission without it)."""
        wanted = self._list_arg("permissions")
        if wanted is None and self.cloud:
            raise JiraHttpError(400, ["The 'permissions' query parameter is required."])
        user = call.user
        assert user is not None
        catalog = {
            "BROWSE_PROJECTS": ("10", "Browse Projects", True),
            "CREATE_ISSUES": ("11", "Create Issues", user.can_write),
            "EDIT_ISSUES": ("12", "Edit Issues", user.can_write),
            "TRANSITION_ISSUES": ("46", "Transition Issues", user.can_write),
            "ASSIGN_ISSUES": ("13", "Assign Issues", user.can_write),
            "LINK_ISSUES": ("21", "Link Issues", user.can_write),
            "ADD_COMMENTS": ("15", "Add Comments", user.can_write),
            "ADMINISTER_PROJECTS": ("23", "Administer Projects", user.admin),
            "ADMINISTER": ("0", "Administer Jira", user.admin),
        }
        keys = wanted if wanted is not None else list(catalog)
        unknown = [k for k in keys if k not in catalog]
        if unknown:
            raise JiraHttpError(400, [f"Unrecognized permission key '{unknown[0]}'."])
        return {
            "permissions": {
                key: {
                    "id": catalog[key][0],
                    "key": key,
                    "name": catalog[key][1],
                    "type": "GLOBAL" if key == "ADMINISTER" else "PROJECT",
                    "description": catalog[key][1],
                    "havePermission": bool(catalog[key][2]),
                }
                for key in keys
            }
        }

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
