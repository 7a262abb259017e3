"""Explicit cross-tool links: references a mapping reads as text naming an item in any tool.

A Jira field holding ``P001 / Go-live`` or an Airtable cell holding ``APP-12`` arrives as a
pointer ``named:<text>`` (see ``canonical_model.provenance.named_pointer``). It is resolved here
against the whole canonical store after every pull, not only when the record is read, so the
link forms whichever tool was pulled first and follows the item if it is renamed back.

A name matches, in this order: a work item or milestone key (``APP-12``, a WBS code), a
project code with the item's name (``P001 / Go-live``, ``P001: Go-live``), a canonical id or an
item's id in its tool, then an item name that is unique in the portfolio. Work items win over
milestones when one tool gives a record as both (a Project Server milestone task).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from pmosync.canonical_model import EntityType
from pmosync.canonical_model.provenance import NAMED_POINTER
from pmosync.sync.state import WorkingState

ITEM_TYPES = (EntityType.WORK_ITEM, EntityType.MILESTONE)
_SEPARATOR = re.compile(r"\s*(?:/|:|›|>|\s-\s)\s*")


@dataclass
class NamedResolution:
    resolved: int = 0
    unresolved: list[dict[str, Any]] = field(default_factory=list)


class _Index:
    def __init__(self, state: WorkingState) -> None:
        self.by_key: dict[str, list[str]] = {}
        self.by_project_name: dict[tuple[str, str], list[str]] = {}
        self.by_name: dict[str, list[str]] = {}
        self.by_id: dict[str, list[str]] = {}
        # Resolution runs right after identify, before reconcile has merged this run's pulls
        # into the entities: what the tools hold now (links) fills what entities lack yet.
        pulled: dict[str, dict[str, Any]] = {}
        for link in state.links.values():
            merged = pulled.setdefault(link.canonical_id, {})
            merged.update({k: v for k, v in link.remote_values.items() if v is not None})

        def value(entity_id: str, values: dict[str, Any], name: str) -> Any:
            found = values.get(name)
            return found if found is not None else pulled.get(entity_id, {}).get(name)

        codes = {
            e.id: str(value(e.id, e.values, "code") or "").strip().lower()
            for e in state.entities.values()
            if e.entity_type is EntityType.PROJECT
        }
        # work items first: the first candidate of a list wins a tie between twins
        items = sorted(
            (e for e in state.entities.values() if e.entity_type in ITEM_TYPES),
            key=lambda e: (e.entity_type is not EntityType.WORK_ITEM, e.id),
        )
        for entity in items:
            values = entity.values
            key = str(value(entity.id, values, "key") or "").strip().lower()
            name = str(value(entity.id, values, "name") or "").strip().lower()
            code = codes.get(str(value(entity.id, values, "project") or ""), "")
            if key:
                self.by_key.setdefault(key, []).append(entity.id)
            if name:
                self.by_name.setdefault(name, []).append(entity.id)
                if code:
                    self.by_project_name.setdefault((code, name), []).append(entity.id)
            self.by_id.setdefault(entity.id.lower(), []).append(entity.id)
        kinds = {e.id: e.entity_type for e in items}
        for link in state.links.values():
            if kinds.get(link.canonical_id) is None:
                continue
            for ref in (link.external_id, link.external_key):
                if ref:
                    self.by_id.setdefault(str(ref).lower(), []).append(link.canonical_id)
        self.kinds = kinds

    def _one(self, found: list[str]) -> str | list[str]:
        unique = list(dict.fromkeys(found))
        if len(unique) == 1:
            return unique[0]
        items = [i for i in unique if self.kinds.get(i) is EntityType.WORK_ITEM]
        if len(items) == 1:
            return items[0]  # a record given as work item and milestone: the work item
        return unique

    def find(self, text: str) -> tuple[str | None, str | None]:
        """The canonical id ``text`` names, or None and why not."""
        wanted = text.strip().lower()
        if not wanted:
            return None, "the name is empty"
        lookups: list[list[str]] = [self.by_key.get(wanted, [])]
        parts = _SEPARATOR.split(wanted, maxsplit=1)
        if len(parts) == 2:
            lookups.append(self.by_project_name.get((parts[0], parts[1]), []))
        lookups += [self.by_id.get(wanted, []), self.by_name.get(wanted, [])]
        for found in lookups:
            if not found:
                continue
            one = self._one(found)
            if isinstance(one, str):
                return one, None
            return None, f"{len(one)} items match; name it as 'PROJECT-CODE / item name' or by key"
        return None, "no work item or milestone has this key, code or name (pulled yet?)"


def resolve_named(state: WorkingState) -> NamedResolution:
    """Point every ``named:`` reference at the item it names; unresolved ones are listed."""
    result = NamedResolution()
    index: _Index | None = None
    for link in sorted(state.links.values(), key=lambda lk: lk.key):
        for name, pointer in sorted(link.pointers.items()):
            if not str(pointer).startswith(NAMED_POINTER):
                continue
            index = index or _Index(state)
            text = str(pointer)[len(NAMED_POINTER) :]
            target, problem = index.find(text)
            if target == link.canonical_id:
                target, problem = None, "it names the record that holds it"
            if link.remote_values.get(name) != target:
                link.remote_values = {**link.remote_values, name: target}
                link.dirty = True
            if target is None:
                result.unresolved.append(
                    {
                        "connection": link.connection,
                        "external_id": link.external_id,
                        "field": name,
                        "name": text,
                        "reason": problem,
                    }
                )
            else:
                result.resolved += 1
    return result


def find_named(state: WorkingState, text: str) -> str | None:
    """The canonical id ``text`` names by the rules above, or None (ambiguous or unknown)."""
    return _Index(state).find(text)[0]
