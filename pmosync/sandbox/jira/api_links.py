"""Entity properties, remote links (globalId upserts) and issue links with their types."""

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
    Issue,
    NotFound,
    RemoteLink,
    now_ms,
)


class LinkRoutes(HandlerBase):
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
        value = self._property_value(key)
        existed = key in issue.properties
        issue.properties[key] = value
        issue.doc_cache = None  # an indexed property path is searchable (search.issue_doc)
        self.state.revision += 1
        return None, (200 if existed else 201)

    def h_property_delete(self, call: Call, ref: str, key: str) -> Any:
        issue = self._issue(ref)
        self._writer(call)
        if key not in issue.properties:
            raise JiraHttpError(404, [f"The property with key '{key}' does not exist."])
        del issue.properties[key]
        issue.doc_cache = None
        self.state.revision += 1
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
        # RemoteIssueLinkRequest: globalId and relationship are strings, application and
        # object objects (tests/fixtures/specs/jira-cloud-platform-v3.openapi.json); Jira's
        # JSON binding refuses anything else with a 400 before looking at the values.
        for name, kind in (
            ("globalId", str),
            ("relationship", str),
            ("application", dict),
            ("object", dict),
        ):
            if body.get(name) is not None and not isinstance(body[name], kind):
                raise JiraHttpError(400, [f"Can not deserialize the value of '{name}'."])
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
