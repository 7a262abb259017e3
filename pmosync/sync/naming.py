"""Run-report entries named the way people name records (see pmosync/humanize.py)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pmosync.humanize import record_label
from pmosync.sync.state import WorkingState


def entity_label(state: WorkingState, canonical_id: str, link_key: tuple[str, str, str]) -> str:
    entity = state.entities.get(canonical_id)
    link = state.links.get(link_key)
    values: Mapping[str, Any] = entity.values if entity is not None else {}

    def lookup(other: str) -> Mapping[str, Any] | None:
        found = state.entities.get(other)
        return found.values if found is not None else None

    return record_label(
        values,
        external_key=link.external_key if link else None,
        external_id=link_key[2] or None,
        lookup=lookup,
    )


def label_plan(
    state: WorkingState,
    plan: list[dict[str, Any]],
    conflicts: Sequence[dict[str, Any]] = (),
) -> None:
    """Add ``label`` to each planned write and conflict: ``P001 Payments``, ``PAY-12 Card
    vault``, ``P001 / Go-live``."""
    for entry in plan:
        key = (entry["connection"], entry["entity_type"], entry.get("external_id") or "")
        entry["label"] = entity_label(state, entry["canonical_id"], key)
    for conflict in conflicts:
        conflict["label"] = entity_label(state, conflict["canonical_id"], ("", "", ""))
