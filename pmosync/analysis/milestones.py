"""Consolidated milestone status per project (pure): next milestone and overdue count."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any


@dataclass(frozen=True)
class MilestoneView:
    project_id: str
    name: str | None
    due: date | None
    done: bool


def milestone_views(
    entities: Iterable[tuple[str, dict[str, Any]]],
) -> list[MilestoneView]:
    """Milestones from canonical values: Milestone entities and milestone work items.

    Project sources give a milestone task both ways (a Milestone and a WorkItem of kind
    milestone); the same (project, name, due) is counted once.
    """
    views = []
    seen: set[tuple[str, str | None, date | None]] = set()
    for entity_type, values in entities:
        if entity_type == "work_item" and values.get("kind") != "milestone":
            continue
        project = values.get("project")
        if not project:
            continue
        due = values.get("due")
        day = date.fromisoformat(due) if due else None
        key = (project, values.get("name"), day)
        if key in seen:
            continue
        seen.add(key)
        done = bool(values.get("done")) or values.get("status") in ("done", "cancelled")
        views.append(MilestoneView(project, values.get("name"), day, done))
    return views


def consolidate(
    project_ids: Iterable[str], milestones: Iterable[MilestoneView], today: date
) -> dict[str, dict[str, Any]]:
    """Per project: the next open milestone (name, date) and how many open ones are overdue.

    A milestone due today is not overdue. Ties on the date go to the name, so the result does
    not depend on pull order (a changing answer would cause a write every run).
    """
    by_project: dict[str, list[MilestoneView]] = defaultdict(list)
    for view in milestones:
        by_project[view.project_id].append(view)
    out: dict[str, dict[str, Any]] = {}
    for project_id in project_ids:
        open_ones = [m for m in by_project.get(project_id, []) if not m.done and m.due]
        upcoming = sorted(
            (m for m in open_ones if m.due and m.due >= today),
            key=lambda m: (m.due, m.name or ""),
        )
        overdue = sum(1 for m in open_ones if m.due and m.due < today)
        nxt = upcoming[0] if upcoming else None
        out[project_id] = {
            "next_milestone": nxt.name if nxt else None,
            "next_milestone_date": nxt.due.isoformat() if nxt and nxt.due else None,
            "overdue_milestones": overdue,
        }
    return out


def overdue_by_project(
    milestones: Iterable[MilestoneView], today: date
) -> dict[str, list[tuple[str | None, date]]]:
    """Per project, its open milestones that are past due (name, due), oldest first."""
    out: dict[str, list[tuple[str | None, date]]] = defaultdict(list)
    for view in milestones:
        if not view.done and view.due and view.due < today:
            out[view.project_id].append((view.name, view.due))
    return {
        pid: sorted(items, key=lambda item: (item[1], item[0] or "")) for pid, items in out.items()
    }
