"""Three-way merge of one canonical field across the systems that carry it (pure).

Each system's base is the value it held when the field was last settled. A system whose value
differs from its base changed it. One changed system, or several that agree: that value wins.
Several that disagree: a conflict, settled by the field's policy. A system that only feeds a
field and is never written keeps its own value as its base, so it is not "changed" forever.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

MISSING: Any = object()

Mode = Literal["authority", "latest", "hold"]


@dataclass(frozen=True)
class Observation:
    value: Any
    modified_at: datetime | None


@dataclass(frozen=True)
class FieldPolicy:
    mode: Mode
    authority: str | None = None


@dataclass(frozen=True)
class Decision:
    value: Any
    reason: str
    conflict: bool = False
    held: bool = False


def merge(
    observed: dict[str, Observation],
    bases: dict[str, Any],
    current: Any,
    policy: FieldPolicy,
) -> Decision:
    """Decide one field.

    ``bases`` holds, per connection, what that system held when the field was last settled
    (absent: never); ``current`` is the value pmo-sync holds now (:data:`MISSING`: never
    decided). A system that differs from its own base changed the field; a system seen for the
    first time brings news only where it disagrees with ``current``.
    """
    if not observed:
        return Decision(None if current is MISSING else current, "no system carries the field")
    changed: dict[str, Any] = {}
    first_sight = True
    for conn, obs in observed.items():
        base = bases.get(conn, MISSING)
        if base is MISSING:
            if current is MISSING or obs.value != current:
                changed[conn] = obs.value
        else:
            first_sight = False
            if obs.value != base:
                changed[conn] = obs.value
    if not changed:
        if current is MISSING:  # settled bases but no decision kept: take what they agree on
            return _settle(observed, {c: o.value for c, o in observed.items()}, MISSING, policy)
        return Decision(current, "unchanged")
    distinct = _distinct(changed.values())
    if len(distinct) == 1:
        who = ", ".join(sorted(changed))
        reason = "first sight" if first_sight and current is MISSING else f"changed in {who}"
        return Decision(distinct[0], reason)
    return _settle(observed, changed, current, policy)


def _settle(
    observed: dict[str, Observation], changed: dict[str, Any], current: Any, policy: FieldPolicy
) -> Decision:
    who = ", ".join(f"{conn}={value!r}" for conn, value in sorted(changed.items()))
    if policy.mode == "authority" and policy.authority in observed:
        value = observed[policy.authority].value
        return Decision(value, f"conflict ({who}); {policy.authority} is the authority", True)
    if policy.mode == "hold":
        keep = current if current is not MISSING else None
        return Decision(keep, f"conflict ({who}); held for a person to resolve", True, True)

    # latest: the newest source modification wins; ties go to the connection name, so the
    # outcome never depends on the order connections were pulled in.
    def newest(conn: str) -> tuple[float, str]:
        when = observed[conn].modified_at
        return (when.timestamp() if when else float("-inf"), conn)

    winner = max(changed, key=newest)
    return Decision(changed[winner], f"conflict ({who}); {winner} changed it last", True)


def _distinct(values: Any) -> list[Any]:
    out: list[Any] = []
    for value in values:
        if value not in out:
            out.append(value)
    return out
