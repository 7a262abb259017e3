"""Computed RAG with its reasons (pure). Thresholds are written down here, not a matter of
opinion: a project is

* **Red** when two or more open milestones are overdue, one is overdue by more than
  ``tolerance_days``, or the planned finish has passed while the project is still open;
* **Amber** when one open milestone is overdue (within the tolerance), or the next milestone
  falls after the planned finish;
* **Green** otherwise.

The computed RAG never overwrites the RAG a person entered; both are kept side by side.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

CLOSED = {"done", "cancelled"}


@dataclass(frozen=True)
class RagResult:
    rag: str  # G, A or R
    reasons: tuple[str, ...]

    @property
    def text(self) -> str:
        return "; ".join(self.reasons)


def _day(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    return date.fromisoformat(value) if value else None


def project_rag(
    project: dict[str, Any],
    overdue: list[tuple[str | None, date]],
    today: date,
    tolerance_days: int = 10,
) -> RagResult:
    """RAG of one project from its canonical values and its overdue open milestones."""
    if project.get("status") in CLOSED:
        return RagResult("G", (f"project {project.get('status')}",))
    red: list[str] = []
    amber: list[str] = []
    late = [(name, (today - due).days) for name, due in overdue]
    if len(late) >= 2:
        red.append(f"{len(late)} milestones overdue")
    for name, days in late:
        if days > tolerance_days:
            red.append(f"{name or 'a milestone'} {days} days overdue")
        elif len(late) == 1:
            amber.append(f"{name or 'a milestone'} {days} days overdue")
    finish = _day(project.get("planned_finish"))
    if finish and finish < today:
        red.append(f"planned finish {finish.isoformat()} has passed")
    next_due = _day(project.get("next_milestone_date"))
    if finish and next_due and next_due > finish:
        amber.append(f"next milestone {next_due.isoformat()} is after the planned finish")
    if red:
        return RagResult("R", tuple(red))
    if amber:
        return RagResult("A", tuple(amber))
    return RagResult("G", ("no milestone overdue",))


def status_line(project: dict[str, Any], result: RagResult) -> str:
    """One line for a status field: RAG reasons, then the next milestone."""
    parts = [result.text]
    if project.get("next_milestone"):
        parts.append(f"next: {project['next_milestone']} on {project.get('next_milestone_date')}")
    return " · ".join(parts)
