"""Pull every connection concurrently; a failed pull is dropped whole, never half-used."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime

from pmosync.canonical_model import PulledRecord, Quarantined
from pmosync.connectors.base import Connector
from pmosync.errors import FatalConnectorError, PmoSyncError
from pmosync.redact import redact

log = logging.getLogger("pmosync.sync")

Window = tuple[datetime | None, datetime | None]
Progress = Callable[[str, int], None]


@dataclass
class Pulled:
    """What one connection gave in this run."""

    records: list[PulledRecord] = field(default_factory=list)
    quarantined: list[Quarantined] = field(default_factory=list)
    scopes: dict[str, int] = field(default_factory=dict)  # scope -> records read


def pull_connection(
    connector: Connector,
    cursors: Mapping[tuple[str, str], datetime],
    *,
    full: bool = False,
    window: Window | None = None,
    progress: Progress | None = None,
) -> Pulled:
    """Every scope of one connection, from its cursor (or the backfill window)."""
    out = Pulled()
    total = 0
    for scope in connector.scopes():
        if window is not None:
            since, until = window
        else:
            until = None
            since = None if full else cursors.get((connector.name, scope.name))
        count = 0
        for item in connector.pull(scope, since, until):
            if isinstance(item, Quarantined):
                out.quarantined.append(item)
            else:
                out.records.append(item)
            count += 1
            total += 1
            if progress is not None and total % 50 == 0:
                progress(connector.name, total)
        out.scopes[scope.name] = count
    if progress is not None:
        progress(connector.name, total)
    return out


def pull_all(
    connectors: Mapping[str, Connector],
    cursors: Mapping[tuple[str, str], datetime],
    *,
    full: bool = False,
    window: Window | None = None,
    progress: Progress | None = None,
) -> tuple[dict[str, Pulled], dict[str, PmoSyncError]]:
    """Pull concurrently. Returns what each healthy connection gave and why the others failed.

    A failed pull is dropped whole: its cursor stays, nothing it read is stored, and it is
    never mistaken for "no changes" or for deletions. A bug in one connector (any exception)
    fails that connection only.
    """
    results: dict[str, Pulled] = {}
    failures: dict[str, PmoSyncError] = {}
    if not connectors:
        return results, failures
    with ThreadPoolExecutor(max_workers=min(8, len(connectors))) as pool:
        futures = {
            name: pool.submit(
                pull_connection, connector, cursors, full=full, window=window, progress=progress
            )
            for name, connector in connectors.items()
        }
        for name, future in futures.items():
            try:
                results[name] = future.result()
            except PmoSyncError as exc:
                failures[name] = exc
            except Exception as exc:
                log.exception("connection %s failed unexpectedly", name)
                failures[name] = FatalConnectorError(
                    f"internal error: {redact(repr(exc))[:500]}", connection=name
                )
    return results, failures
