"""JQL over the emulator's state: the field catalog per instance and cached search documents.

A document is computed once per issue version (``Issue.doc_cache``), so paging through 1,000
issues evaluates compiled predicates over cached dicts instead of re-rendering issues.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from pmosync.sandbox.jira import adf
from pmosync.sandbox.jira.jql import Catalog, EvalContext, FieldDef, property_doc_key
from pmosync.sandbox.jira.state import STATUS_CATEGORIES, Issue, JiraState, User


def _fs(*values: Any) -> frozenset[str]:
    return frozenset(str(v).lower() for v in values if v not in (None, ""))


def build_catalog(state: JiraState) -> Catalog:
    catalog = Catalog()

    def known_project(value: str) -> bool:
        return any(value in (p.key.lower(), p.id, p.name.lower()) for p in state.projects.values())

    def known_status(value: str) -> bool:
        return any(value in (s.id, s.name.lower()) for s in state.statuses.values())

    def known_type(value: str) -> bool:
        return any(
            value in (t.id, t.name.lower()) for t in state.issue_types.values()
        ) or value in ("standardissuetypes()",)

    def known_category(value: str) -> bool:
        return any(
            value in (str(ident), key, name.lower())
            for key, (ident, name, _c) in STATUS_CATEGORIES.items()
        )

    catalog.add(["project"], FieldDef("project", "ref", "project", known_project))
    catalog.add(["key", "issuekey", "issue", "id"], FieldDef("key", "key", "key"))
    catalog.add(["issuetype", "type"], FieldDef("issuetype", "ref", "issuetype", known_type))
    catalog.add(["status"], FieldDef("status", "ref", "status", known_status))
    catalog.add(
        ["statusCategory", "category"],
        FieldDef("statuscategory", "ref", "statusCategory", known_category),
    )
    catalog.add(
        ["resolution"],
        FieldDef("resolution", "ref", "resolution", empty_words=frozenset({"unresolved"})),
    )
    catalog.add(["priority"], FieldDef("priority", "ref", "priority"))
    for name in ("assignee", "reporter", "creator"):
        catalog.add([name], FieldDef(name, "ref", name))
    catalog.add(["parent"], FieldDef("parent", "ref", "parent"))
    catalog.add(["labels", "label"], FieldDef("labels", "ref", "labels"))
    catalog.add(["fixVersion"], FieldDef("fixversions", "ref", "fixVersion"))
    catalog.add(["affectedVersion"], FieldDef("versions", "ref", "affectedVersion"))
    catalog.add(["component"], FieldDef("components", "ref", "component"))
    catalog.add(["created", "createdDate"], FieldDef("created", "datetime", "created"))
    catalog.add(["updated", "updatedDate"], FieldDef("updated", "datetime", "updated"))
    catalog.add(["resolved", "resolutiondate"], FieldDef("resolved", "datetime", "resolved"))
    catalog.add(["due", "duedate"], FieldDef("duedate", "date", "due"))
    catalog.add(["summary"], FieldDef("summary", "text", "summary"))
    catalog.add(["description"], FieldDef("description", "text", "description"))
    catalog.add(["text"], FieldDef("text", "text", "text"))
    catalog.add(["issueLinkType"], FieldDef("linktypes", "ref", "issueLinkType"))
    for spec in state.fields.values():
        if not spec.custom:
            continue
        kind = {
            "date": "date",
            "number": "number",
            "richtext": "text",
            "string": "text",
            "sprint": "ref",
            "epiclink": "ref",
            "option": "ref",
            "readonly": "text",
        }.get(spec.kind)
        if kind is None:
            continue
        definition = FieldDef(spec.id, kind, spec.name)
        # cf[N] never changes; the name clause follows the field's current name
        catalog.add([*spec.clause_names, spec.name], definition)
        if spec.kind == "sprint":
            catalog.add(["sprint"], definition)
    return catalog


def catalog_for(state: JiraState) -> Catalog:
    """The JQL catalog, rebuilt when an admin adds, renames or removes a field."""
    signature = tuple((f.id, f.name, f.kind) for f in state.fields.values())
    if state.catalog_cache is None or state.catalog_cache[0] != signature:
        state.catalog_cache = (signature, build_catalog(state))
    return state.catalog_cache[1]  # type: ignore[no-any-return]


def _user_ids(user: User | None, cloud: bool) -> frozenset[str]:
    if user is None:
        return frozenset()
    if cloud:
        return _fs(user.account_id, user.email, user.display_name)
    return _fs(user.name, user.key, user.email, user.display_name)


def issue_doc(state: JiraState, issue: Issue) -> dict[str, Any]:
    """Normalised values of one issue version for JQL (cached on the issue)."""
    if issue.doc_cache is not None:
        return issue.doc_cache
    f = issue.fields
    project = state.projects[issue.project_id]
    status = state.statuses[f["status"]]
    issue_type = state.issue_types[f["issuetype"]]
    category_id, category_name, _ = STATUS_CATEGORIES[status.category]
    users = {
        name: state.users.get(f[name]) if f.get(name) else None
        for name in ("assignee", "reporter", "creator")
    }
    parent = state.issues.get(f["parent"]) if f.get("parent") is not None else None
    doc: dict[str, Any] = {
        "id": issue.id,
        "key": (project.key, issue.number, issue.id),
        "project": _fs(project.key, project.id, project.name),
        "project:sort": project.key,
        "issuetype": _fs(issue_type.id, issue_type.name),
        "issuetype:sort": issue_type.name,
        "status": _fs(status.id, status.name),
        "status:sort": status.name,
        "statuscategory": _fs(category_id, status.category, category_name),
        "statuscategory:sort": category_name,
        "resolution": _fs(
            *(
                (f["resolution"], state.resolutions[f["resolution"]].name)
                if f.get("resolution")
                else ()
            )
        ),
        "priority": _fs(
            *((f["priority"], state.priorities[f["priority"]].name) if f.get("priority") else ())
        ),
        "parent": _fs(parent.key, parent.id) if parent is not None else frozenset(),
        "labels": _fs(*(f.get("labels") or [])),
        "fixversions": _fs(
            *[x for v in f.get("fixVersions") or [] for x in (v, state.versions[v].name)]
        ),
        "versions": _fs(*[x for v in f.get("versions") or [] for x in (v, state.versions[v].name)]),
        "components": _fs(
            *[x for c in f.get("components") or [] for x in (c, state.components[c].name)]
        ),
        "created": issue.created,
        "updated": issue.updated,
        "resolved": f.get("resolutiondate"),
        "duedate": _date(f.get("duedate")),
        "summary": (f.get("summary") or "").lower(),
        "description": (adf.to_text(f.get("description")) or "").lower(),
        "linktypes": _fs(
            *[state.link_types[link.type_id].name for link in state.issue_links(issue.id)]
        ),
    }
    doc["text"] = doc["summary"] + "\n" + doc["description"]
    for key, path in state.property_indexes:
        doc[property_doc_key(key, path)] = _fs(*_property_values(issue.properties.get(key), path))
    for name, user in users.items():
        doc[name] = _user_ids(user, state.cloud)
        doc[f"{name}:sort"] = user.display_name if user else None
    for spec in state.fields.values():
        if not spec.custom:
            continue
        value = f.get(spec.id)
        if spec.kind == "date":
            doc[spec.id] = _date(value)
        elif spec.kind == "number":
            doc[spec.id] = value
        elif spec.kind in ("richtext",):
            doc[spec.id] = (adf.to_text(value) or "").lower() or None
        elif spec.kind in ("string", "readonly"):
            doc[spec.id] = str(value).lower() if value else None
            doc[f"{spec.id}:sort"] = value
        elif spec.kind == "sprint":
            doc[spec.id] = _fs(
                *[x for s in value or [] if s in state.sprints for x in (s, state.sprints[s].name)]
            )
        elif spec.kind == "epiclink":
            epic = state.issues.get(value) if value is not None else None
            doc[spec.id] = _fs(epic.key, epic.id) if epic else frozenset()
            # DC: "parent" in JQL does not see epics, only sub-task parents
        elif spec.kind == "option":
            option = next((o for o in spec.options if o["id"] == value), None)
            doc[spec.id] = _fs(option["id"], option["value"]) if option else frozenset()
    issue.doc_cache = doc
    return doc


def _property_values(value: Any, path: str) -> list[Any]:
    """The values at a dotted path of a property's JSON (an array indexes each element)."""
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value if isinstance(value, list) else [value]


def _date(value: Any) -> Any:
    if value in (None, ""):
        return None
    from datetime import date

    return date.fromisoformat(value) if isinstance(value, str) else value


def eval_context(state: JiraState, user: User, now: datetime) -> EvalContext:
    def sprint_ids(wanted: str) -> frozenset[str]:
        return _fs(*[s.id for s in state.sprints.values() if s.state == wanted])

    def versions(released: bool) -> Callable[[tuple[str, ...]], frozenset[str]]:
        def pick(args: tuple[str, ...]) -> frozenset[str]:
            projects = {a.lower() for a in args}
            return _fs(
                *[
                    v.id
                    for v in state.versions.values()
                    if v.released == released
                    and not v.archived
                    and (
                        not projects
                        or projects & _fs(v.project_id, state.projects[v.project_id].key)
                    )
                ]
            )

        return pick

    def issue_types(subtask: bool) -> Callable[[tuple[str, ...]], frozenset[str]]:
        return lambda _args: _fs(
            *[t.id for t in state.issue_types.values() if t.subtask == subtask]
        )

    return EvalContext(
        tz=user.tz,
        now=now,
        current_user=_user_ids(user, state.cloud),
        open_sprints=sprint_ids("active"),
        closed_sprints=sprint_ids("closed"),
        future_sprints=sprint_ids("future"),
        functions={
            "releasedversions": versions(True),
            "unreleasedversions": versions(False),
            "standardissuetypes": issue_types(False),
            "subtaskissuetypes": issue_types(True),
        },
    )
