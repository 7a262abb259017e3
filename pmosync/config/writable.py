"""Which mapped fields a connector can really write, checked at `config validate` time.

A mapping that pushes a field the tool cannot take would otherwise validate and then plan
nothing, silently. Only fields meant to be written are checked: computed fields (always
pushed) and fields given ``direction: push`` or ``both`` explicitly.
"""

from __future__ import annotations

from typing import Any

from pmosync.canonical_model import ENTITY_CLASSES, EntityType

# Jira records pmo-sync never edits (versions, sprints, people, categories).
_JIRA_READ_ONLY = frozenset(
    {
        EntityType.MILESTONE,
        EntityType.RELEASE,
        EntityType.ITERATION,
        EntityType.PERSON,
        EntityType.PROGRAMME,
        EntityType.PORTFOLIO,
        EntityType.STATUS_REPORT,
        EntityType.CALENDAR,
    }
)
# Project Server: project custom fields, task fields and milestone name/date are written.
_PWA_WRITTEN = frozenset({EntityType.PROJECT, EntityType.WORK_ITEM, EntityType.MILESTONE})


def meant_to_write(entity_type: EntityType, name: str, raw: Any) -> bool:
    direction = raw.get("direction") if isinstance(raw, dict) else None
    if direction in ("push", "both"):
        return True
    return direction is None and name in ENTITY_CLASSES[entity_type].computed


def write_problem(
    kind: str, entity_type: EntityType, name: str, raw: Any, entity: dict[str, Any]
) -> str | None:
    """Why ``kind`` cannot write this field, or None when it can."""
    remote = str(raw.get("field") or "") if isinstance(raw, dict) else ""
    if kind == "jira":
        return _jira(entity_type, name, remote, entity)
    if kind == "pwa":
        return _pwa(entity_type, name, remote)
    return None


def _jira(entity_type: EntityType, name: str, remote: str, entity: dict[str, Any]) -> str | None:
    from pmosync.connectors.jira.push import NOT_WRITABLE, PROPERTY_PREFIX

    if entity_type in _JIRA_READ_ONLY:
        return (
            f"Jira cannot write {entity_type.value} records (pmo-sync reads them only); "
            "send the value with the project instead, or set direction: pull"
        )
    if entity_type is EntityType.PROJECT:
        options = entity.get("options") if isinstance(entity.get("options"), dict) else {}
        if remote.startswith(PROPERTY_PREFIX) or (options or {}).get("status_issues"):
            return None
        return (
            f"a Jira project has no field {remote!r} to write {name} into: use field: "
            "property:KEY (a project entity property, e.g. property:pmo-sync.status) or name "
            "each project's status issue in options.status_issues (e.g. {APP: APP-1})"
        )
    if entity_type in (EntityType.WORK_ITEM, EntityType.RAID_ITEM) and name in NOT_WRITABLE:
        return f"Jira cannot change an issue's {name} by an edit; set direction: pull"
    return None


def _pwa(entity_type: EntityType, name: str, remote: str) -> str | None:
    from pmosync.connectors.msproject.mapper import TASK_WRITABLE

    if entity_type not in _PWA_WRITTEN:
        return (
            f"Project Server {entity_type.value} records are read-only in pmo-sync; "
            "set direction: pull"
        )
    if entity_type is EntityType.PROJECT:
        return None  # project custom fields (and draft project fields) are written
    allowed = set(TASK_WRITABLE.values())
    if entity_type is EntityType.MILESTONE and name not in ("name", "due"):
        return "Project Server milestones take only name and due (the task's Name and Finish)"
    if remote not in allowed:
        return (
            f"Project Server tasks are written through {', '.join(sorted(allowed))} only; "
            f"{remote!r} cannot carry {name}"
        )
    return None
