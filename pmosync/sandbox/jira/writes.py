"""Jira's write rules: field validation, ``update`` operations, changelog items, transitions.

Every function raises :class:`FieldErrors` with the field id Jira would name, so the emulator
answers with Jira's ``{"errorMessages": [], "errors": {field: message}}`` body.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pmosync.sandbox.jira import adf
from pmosync.sandbox.jira.state import (
    FieldErrors,
    FieldSpec,
    Issue,
    JiraState,
    Transition,
    iso_date,
    rich_text_value,
)

NOT_ON_SCREEN = "Field '{0}' cannot be set. It is not on the appropriate screen, or unknown."
# set through transition screens only (not on the default create/edit screens)
SCREEN_ONLY = {"resolution"}
READ_ONLY = {
    "status",
    "created",
    "updated",
    "creator",
    "resolutiondate",
    "subtasks",
    "issuelinks",
    "comment",
    "statuscategorychangedate",
    "issuekey",
}


def _ref_text(ref: Any) -> str:
    return str(ref.get("id") or ref.get("key") or ref.get("name") or ref.get("value") or ref)


class FieldWriter:
    """Turns request JSON into internal values for one issue (or a new one)."""

    def __init__(self, state: JiraState, api: str, project_id: str | None) -> None:
        self.state = state
        self.api = api
        self.project_id = project_id

    # -- single values ------------------------------------------------------------------------
    def convert(self, spec: FieldSpec, value: Any) -> Any:
        state = self.state
        fid = spec.id
        kind = spec.kind
        if kind == "string":
            if value is None:
                if fid == "summary":
                    raise FieldErrors({fid: "You must specify a summary of the issue."})
                return None
            if not isinstance(value, str):
                raise FieldErrors({fid: "Operation value must be a string"})
            if fid == "summary":
                if not value.strip():
                    raise FieldErrors({fid: "You must specify a summary of the issue."})
                if len(value) > 255:
                    raise FieldErrors({fid: "Summary must be less than 255 characters."})
            return value
        if kind == "richtext":
            return rich_text_value(value, self.api, fid)
        if kind == "number":
            if value is None:
                return None
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise FieldErrors({fid: "Operation value must be a number"})
            return float(value)
        if kind == "date":
            return iso_date(value, fid, spec.name)
        if kind == "labels":
            if value is None:
                return []
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise FieldErrors({fid: "Operation value must be an array of strings"})
            for label in value:
                if " " in label:
                    raise FieldErrors(
                        {fid: f"The label '{label}' contains spaces which is invalid."}
                    )
            return list(dict.fromkeys(value))
        if kind in ("versions", "components"):
            if value is None:
                return []
            if not isinstance(value, list):
                raise FieldErrors({fid: "Operation value must be an array"})
            return [self._version_or_component(spec, v) for v in value]
        if kind == "user":
            if value is None:
                return None
            if not isinstance(value, dict):
                raise FieldErrors({fid: "expected Object"})
            if state.cloud and value.get("accountId") in (None, "-1") and "name" not in value:
                return None
            user = state.find_user(value)
            if user is None:
                if state.cloud and "accountId" not in value:
                    raise FieldErrors({fid: "Specify a valid value for " + fid})
                raise FieldErrors({fid: f"User '{_ref_text(value)}' does not exist."})
            return user.account_id
        if kind == "priority":
            return self._lookup(fid, value, state.priorities, "priority")
        if kind == "resolution":
            if value is None:
                return None
            return self._lookup(fid, value, state.resolutions, "resolution")
        if kind == "issuetype":
            return self._issue_type(value)
        if kind == "parent":
            if value is None:
                return None
            if not isinstance(value, dict):
                raise FieldErrors({fid: "Could not find issue by id or key."})
            try:
                parent = state.find_issue(value.get("key") or value.get("id") or "")
            except Exception:
                raise FieldErrors({fid: "Could not find issue by id or key."}) from None
            return parent.id
        if kind == "epiclink":
            if value in (None, ""):
                return None
            try:
                epic = state.find_issue(str(value))
            except Exception:
                raise FieldErrors({fid: f"Epic with key '{value}' does not exist."}) from None
            if state.issue_types[epic.fields["issuetype"]].name != "Epic":
                raise FieldErrors({fid: f"Issue '{value}' is not an Epic."})
            return epic.id
        if kind == "sprint":
            if value is None:
                return []
            if isinstance(value, bool) or not isinstance(value, int | str):
                raise FieldErrors({fid: "Number value expected as the Sprint id."})
            try:
                sprint_id = int(value)
            except ValueError:
                raise FieldErrors({fid: "Number value expected as the Sprint id."}) from None
            if sprint_id not in state.sprints:
                raise FieldErrors({fid: f"Sprint with id {sprint_id} does not exist."})
            return [sprint_id]
        if kind == "option":
            if value is None:
                return None
            if not isinstance(value, dict):
                raise FieldErrors({fid: "Specify a valid 'id' or 'value' for " + spec.name})
            for option in spec.options:
                if value.get("id") == option["id"] or value.get("value") == option["value"]:
                    return option["id"]
            raise FieldErrors(
                {fid: f"Option value '{_ref_text(value)}' is not valid for field {spec.name}."}
            )
        raise FieldErrors({fid: NOT_ON_SCREEN.format(fid)})

    def _lookup(self, fid: str, value: Any, table: dict[str, Any], label: str) -> str | None:
        if value is None:
            return None
        if isinstance(value, dict):
            if "id" in value and str(value["id"]) in table:
                return str(value["id"])
            for item in table.values():
                if value.get("name") is not None and item.name == value.get("name"):
                    return str(item.id)
        raise FieldErrors({fid: f"Specify a valid {label} id or name"})

    def _issue_type(self, value: Any) -> str:
        state = self.state
        if isinstance(value, dict):
            allowed = (
                state.projects[self.project_id].issue_type_ids
                if self.project_id in state.projects
                else list(state.issue_types)
            )
            for type_id in allowed:
                itype = state.issue_types[type_id]
                if str(value.get("id")) == itype.id or value.get("name") == itype.name:
                    return itype.id
        raise FieldErrors({"issuetype": "Specify an issue type"})

    def _version_or_component(self, spec: FieldSpec, value: Any) -> str:
        table: dict[str, Any] = (
            self.state.versions if spec.kind == "versions" else self.state.components
        )
        if isinstance(value, dict):
            for item in table.values():
                if item.project_id != self.project_id:
                    continue
                if str(value.get("id")) == item.id or value.get("name") == item.name:
                    return str(item.id)
        label = "Version" if spec.kind == "versions" else "Component"
        what = _ref_text(value) if isinstance(value, dict) else str(value)
        if spec.kind == "versions":
            return self._fail(spec.id, f"Version name '{what}' is not valid")
        return self._fail(spec.id, f"{label} name '{what}' is not valid")

    @staticmethod
    def _fail(fid: str, message: str) -> Any:
        raise FieldErrors({fid: message})

    # -- update operations --------------------------------------------------------------------
    def apply_update(self, spec: FieldSpec, current: Any, operations: Any) -> tuple[Any, list[Any]]:
        """``update: {field: [{"set"|"add"|"remove"|"edit": value}]}``; returns new value and
        comment bodies added (for ``comment``)."""
        if not isinstance(operations, list):
            raise FieldErrors({spec.id: "Operation must be an array of operations"})
        value = copy.deepcopy(current)
        for operation in operations:
            if not isinstance(operation, dict) or len(operation) != 1:
                raise FieldErrors({spec.id: "Operation must have exactly one verb"})
            verb, argument = next(iter(operation.items()))
            list_kind = spec.kind in ("labels", "versions", "components")
            if verb == "set":
                value = self.convert(spec, argument)
            elif verb == "add" and list_kind:
                new = self.convert(spec, [argument])
                value = list(value or []) + [v for v in new if v not in (value or [])]
            elif verb == "remove" and list_kind:
                gone = self.convert(spec, [argument])
                value = [v for v in value or [] if v not in gone]
            elif verb == "add" and spec.kind == "sprint":
                value = self.convert(spec, argument)
            else:
                raise FieldErrors(
                    {spec.id: f"Field '{spec.id}' does not support operation '{verb}'"}
                )
        return value, []


def display(state: JiraState, spec: FieldSpec, value: Any) -> tuple[str | None, str | None]:
    """(from/to, fromString/toString) of an internal value, as changelog items show them."""
    if value in (None, [], ""):
        return None, None
    kind = spec.kind
    if kind == "richtext":
        return None, adf.to_text(value)
    if kind == "user":
        user = state.users.get(value)
        return (value if state.cloud else (user.name if user else value)), (
            user.display_name if user else value
        )
    if kind == "status":
        return value, state.statuses[value].name
    if kind == "priority":
        return value, state.priorities[value].name
    if kind == "resolution":
        return value, state.resolutions[value].name
    if kind == "issuetype":
        return value, state.issue_types[value].name
    if kind == "versions":
        return None, None  # per-item entries, see _list_items
    if kind == "labels":
        return None, " ".join(value)
    if kind in ("parent", "epiclink"):
        issue = state.issues.get(value)
        return str(value), issue.key if issue else None
    if kind == "sprint":
        return ", ".join(str(s) for s in value), ", ".join(
            state.sprints[s].name for s in value if s in state.sprints
        )
    if kind == "option":
        option = next((o for o in spec.options if o["id"] == value), None)
        return value, option["value"] if option else None
    if kind == "number":
        text = f"{value:g}"
        return text, text
    return str(value), str(value)


def changelog_items(state: JiraState, spec: FieldSpec, old: Any, new: Any) -> list[dict[str, Any]]:
    """Jira writes one item per field change (one per added/removed version or component)."""
    if old == new:
        return []
    field_name = {
        "fixVersions": "Fix Version",
        "versions": "Version",
        "components": "Component",
        "parent": "IssueParentAssociation",
    }.get(spec.id, spec.name if spec.custom else spec.id)
    base = {
        "field": field_name,
        "fieldtype": "custom" if spec.custom else "jira",
        "fieldId": spec.id,
    }
    if spec.kind in ("versions", "components"):
        table: dict[str, Any] = state.versions if spec.kind == "versions" else state.components
        items = []
        for gone in [v for v in old or [] if v not in (new or [])]:
            items.append(
                {**base, "from": gone, "fromString": table[gone].name, "to": None, "toString": None}
            )
        for added in [v for v in new or [] if v not in (old or [])]:
            items.append(
                {
                    **base,
                    "from": None,
                    "fromString": None,
                    "to": added,
                    "toString": table[added].name,
                }
            )
        return items
    old_raw, old_text = display(state, spec, old)
    new_raw, new_text = display(state, spec, new)
    # Cloud also sends tmpFromAccountId/tmpToAccountId on user fields; the published schema
    # (ChangeDetails, additionalProperties: false) does not, so neither do we.
    return [{**base, "from": old_raw, "fromString": old_text, "to": new_raw, "toString": new_text}]


@dataclass
class EditPlan:
    """Validated new values (and comments to add) for one issue, not yet written."""

    values: dict[str, Any] = field(default_factory=dict)
    comments: list[dict[str, Any] | None] = field(default_factory=list)

    def changes(self, issue: Issue) -> bool:
        return bool(self.comments) or any(
            issue.fields.get(fid) != value for fid, value in self.values.items()
        )


def plan_edit(
    state: JiraState,
    issue: Issue,
    fields: dict[str, Any] | None,
    update: dict[str, Any] | None,
    *,
    api: str,
    allowed: set[str] | None = None,
) -> EditPlan:
    """Validate a whole edit (Jira is all-or-nothing) without touching the issue.

    ``allowed`` restricts the settable fields (transition screens)."""
    writer = FieldWriter(state, api, issue.project_id)
    errors: dict[str, str] = {}
    plan = EditPlan()

    def settable(fid: str) -> bool:
        spec = state.fields.get(fid)
        return not (
            spec is None
            or fid in READ_ONLY
            or not spec.editable
            or (allowed is not None and fid not in allowed)
            or (allowed is None and fid in SCREEN_ONLY)
        )

    for fid, value in (fields or {}).items():
        if not settable(fid):
            errors[fid] = NOT_ON_SCREEN.format(fid)
            continue
        try:
            plan.values[fid] = writer.convert(state.fields[fid], value)
        except FieldErrors as exc:
            errors.update(exc.errors)
    for fid, operations in (update or {}).items():
        if fid == "comment":
            for operation in operations or []:
                body = (operation or {}).get("add", {}).get("body")
                try:
                    plan.comments.append(rich_text_value(body, api, "comment"))
                except FieldErrors as exc:
                    errors.update(exc.errors)
            continue
        if not settable(fid):
            errors[fid] = NOT_ON_SCREEN.format(fid)
            continue
        if fid in plan.values:
            errors[fid] = f"Field '{fid}' is specified in both the fields and the update section."
            continue
        try:
            plan.values[fid], _ = writer.apply_update(
                state.fields[fid], issue.fields.get(fid), operations
            )
        except FieldErrors as exc:
            errors.update(exc.errors)
    if "issuetype" in plan.values:
        new_type = state.issue_types[plan.values["issuetype"]]
        old_type = state.issue_types[issue.fields["issuetype"]]
        if new_type.subtask != old_type.subtask:
            errors["issuetype"] = "Issue type can not be changed between sub-task and standard."
    if "parent" in plan.values and plan.values["parent"] == issue.id:
        errors["parent"] = "An issue cannot be its own parent."
    if errors:
        raise FieldErrors(errors)
    return plan


def commit_edit(
    state: JiraState, issue: Issue, plan: EditPlan, *, actor: str, at: datetime
) -> list[dict[str, Any]]:
    """Write a validated plan; returns the changelog items (one per changed field)."""
    items: list[dict[str, Any]] = []
    for fid, value in plan.values.items():
        old = issue.fields.get(fid)
        items.extend(changelog_items(state, state.fields[fid], old, value))
        issue.fields[fid] = value
    for body in plan.comments:
        add_comment(state, issue, actor, body, at)
    return items


def add_comment(state: JiraState, issue: Issue, actor: str, body: Any, at: datetime) -> Any:
    from pmosync.sandbox.jira.state import Comment

    comment = Comment(str(state.next_comment_id), actor, body, at, at)
    state.next_comment_id += 1
    issue.comments.append(comment)
    return comment


def validate_create(
    state: JiraState, fields: dict[str, Any], update: dict[str, Any] | None, api: str
) -> tuple[str, dict[str, Any]]:
    """The project id and internal field values of an issue to create (or FieldErrors)."""
    errors: dict[str, str] = {}
    project_ref = fields.get("project")
    project = None
    if isinstance(project_ref, dict):
        project = state.find_project(project_ref.get("id") or project_ref.get("key") or "")
    if project is None:
        errors["project"] = (
            "Specify a valid project ID or key" if project_ref else "project is required"
        )
        raise FieldErrors(errors)
    writer = FieldWriter(state, api, project.id)
    values: dict[str, Any] = {}
    if "issuetype" not in fields:
        errors["issuetype"] = "Specify an issue type"
    if not fields.get("summary"):
        errors["summary"] = "You must specify a summary of the issue."
    for fid, value in fields.items():
        if fid == "project" or fid in errors:
            continue
        spec = state.fields.get(fid)
        if spec is None or fid in READ_ONLY or fid in SCREEN_ONLY or not spec.editable:
            errors[fid] = NOT_ON_SCREEN.format(fid)
            continue
        try:
            values[fid] = writer.convert(spec, value)
        except FieldErrors as exc:
            errors.update(exc.errors)
    for fid, operations in (update or {}).items():
        spec = state.fields.get(fid)
        if spec is None or fid in READ_ONLY:
            errors[fid] = NOT_ON_SCREEN.format(fid)
            continue
        try:
            values[fid], _ = writer.apply_update(spec, values.get(fid), operations)
        except FieldErrors as exc:
            errors.update(exc.errors)
    issue_type = state.issue_types.get(values.get("issuetype", ""))
    if issue_type is not None and issue_type.subtask and not values.get("parent"):
        errors["parent"] = "Given parent issue does not belong to appropriate hierarchy."
    if (
        issue_type is not None
        and values.get("parent")
        and not state.cloud
        and not issue_type.subtask
    ):
        errors["parent"] = "Only sub-tasks can have a parent; use the Epic Link field."
    if errors:
        raise FieldErrors(errors)
    return project.id, values


def find_transition(state: JiraState, issue: Issue, ident: Any) -> Transition:
    for transition in state.transitions:
        if str(transition.id) == str(ident) and transition.available_from(issue.fields["status"]):
            return transition
    raise FieldErrors({}, [f"Transition id '{ident}' is not valid for this issue."])
