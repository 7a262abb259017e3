"""Three-way merge of one canonical field across the systems that carry it (pure).

The base is the value every system held after the last successful apply. A system whose
value differs from the base changed it. One changed system, or several that agree: that value
wins. Several that disagree: a conflict, settled by the field's policy.
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


def merge(observed: dict[str, Observation], base: Any, policy: FieldPolicy) -> Decision:
    """Decide one field. ``base`` is :data:`MISSING` when the field was never settled."""
    if not observed:
        return Decision(base if base is not MISSING else None, "no system carries the field")
    values = {conn: obs.value for conn, obs in observed.items()}
    if base is MISSING:
        distinct = _distinct(values.values())
        if len(distinct) == 1:
            return Decision(distinct[0], "first sight: all systems agree")
        changed = values
    else:
        changed = {conn: v for conn, v in values.items() if v != base}
        if not changed:
            return Decision(base, "unchanged")
    distinct = _distinct(changed.values())
    if len(distinct) == 1:
        who = ", ".join(sorted(changed))
        return Decision(distinct[0], f"changed in {who}")
    return _settle(observed, changed, base, policy)


def _settle(
    observed: dict[str, Observation], changed: dict[str, Any], base: Any, policy: FieldPolicy
) -> Decision:
    who = ", ".join(f"{conn}={value!r}" for conn, value in sorted(changed.items()))
    if policy.mode == "authority" and policy.authority in observed:
        value = observed[policy.authority].value
        return Decision(value, f"conflict ({who}); {policy.authority} is the authority", True)
    if policy.mode == "hold":
        keep = base if base is not MISSING else None
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
