"""Reading a connection's team mappings: what the Microsoft schedule connectors share.

Several teams can map the same connection; a connector sees one mapping per entity type, the
teams' fields and options merged in order (a later team's field or option wins).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import time

from pmosync.canonical_model import EntityType
from pmosync.config.mapping import EntityMapping, TeamMapping
from pmosync.errors import ConfigError


def merge_team_mappings(mappings: Sequence[TeamMapping]) -> dict[EntityType, EntityMapping]:
    """One entity mapping per entity type, the teams' fields and options merged in order."""
    merged: dict[EntityType, EntityMapping] = {}
    for team in mappings:
        for entity_type, entity in team.entities.items():
            current = merged.get(entity_type)
            merged[entity_type] = (
                entity
                if current is None
                else current.model_copy(
                    update={
                        "fields": {**current.fields, **entity.fields},
                        "options": {**current.options, **entity.options},
                    }
                )
            )
    return merged


def day_clock(day_start: str, day_finish: str, which: str) -> time:
    """The ``day_start`` (which="start") or ``day_finish`` option as a time of day.

    Date-only values are pinned to these clocks; a typo is a config error naming the option.
    """
    text = day_start if which == "start" else day_finish
    try:
        return time.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"option day_{which}: {text!r} is not a time like 08:00") from None
