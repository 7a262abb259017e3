"""Record-level isolation: one bad remote record never fails its connection.

Every connector maps the records it reads through :func:`isolated` (one record) or
:func:`isolated_many` (a record that yields several). Whatever goes wrong while mapping one
record (a value out of range, ``decimal.InvalidOperation``, a shape the mapper did not expect)
becomes a :class:`Quarantined` entry naming the record and the reason, and the pull goes on.
Only what concerns the whole connection passes through: authentication, configuration
(schema drift) and transport errors (every :class:`PmoSyncError` but a skippable one).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

from pmosync.canonical_model import EntityType, PulledRecord, Quarantined
from pmosync.errors import PmoSyncError, SkippableRecordError
from pmosync.redact import redact

log = logging.getLogger(__name__)


def record_problem(exc: BaseException) -> str | None:
    """The quarantine reason for an error raised while mapping one record, or None when the
    error concerns the connection (auth, config, transport) and must fail it."""
    if isinstance(exc, SkippableRecordError):
        return str(exc)
    if isinstance(exc, PmoSyncError) or not isinstance(exc, Exception):
        return None  # connection-level, or KeyboardInterrupt/SystemExit: never swallowed
    text = redact(str(exc))[:300]
    return f"cannot map: {type(exc).__name__}{': ' + text if text else ''}"


def _quarantine(
    exc: Exception, connection: str, entity_type: EntityType, external_id: str
) -> Quarantined:
    reason = record_problem(exc)
    if reason is None:
        raise exc
    log.warning("[%s] %s %s quarantined: %s", connection, entity_type.value, external_id, reason)
    return Quarantined(connection, entity_type, external_id or "?", reason)


def isolated(
    connection: str,
    entity_type: EntityType,
    external_id: str,
    map_one: Callable[..., PulledRecord | Quarantined],
    *args: Any,
) -> PulledRecord | Quarantined:
    """``map_one(*args)``, or the record quarantined with the reason it failed."""
    try:
        return map_one(*args)
    except Exception as exc:
        return _quarantine(exc, connection, entity_type, external_id)


def isolated_many(
    connection: str,
    entity_type: EntityType,
    external_id: str,
    map_many: Callable[..., Iterable[PulledRecord | Quarantined]],
    *args: Any,
) -> list[PulledRecord | Quarantined]:
    """Every item ``map_many(*args)`` gives (read whole first, so a failure half-way never
    leaves half a record), or the one record quarantined."""
    try:
        return list(map_many(*args))
    except Exception as exc:
        return [_quarantine(exc, connection, entity_type, external_id)]
