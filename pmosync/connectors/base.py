"""The Connector protocol: the only seam between ``connectors/`` and ``sync/``.

A connector pulls remote records as canonical values with provenance and pushes planned
writes back. It knows its remote system, its client library and the team's mapping; it knows
nothing about the store, other connectors or the merge.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, TypeVar, runtime_checkable

from pmosync.canonical_model import EntityType, PlannedWrite, PulledRecord, Quarantined, WriteResult
from pmosync.errors import FatalConnectorError

T = TypeVar("T")
Token = TypeVar("Token")


@dataclass(frozen=True)
class Scope:
    """One independently-cursored slice of a connection (an Airtable table, a Jira project)."""

    name: str
    entity_type: EntityType


@dataclass(frozen=True)
class Capabilities:
    """What a connector can read and write, per entity type (canonical field names)."""

    readable: dict[EntityType, frozenset[str]] = field(default_factory=dict)
    writable: dict[EntityType, frozenset[str]] = field(default_factory=dict)
    can_create: frozenset[EntityType] = frozenset()
    incremental: bool = True
    # parent type -> child types read again, all of them, with every parent record yielded
    # (a republished PWA project, a re-imported file): a child missing then was deleted
    whole_children: dict[EntityType, frozenset[EntityType]] = field(default_factory=dict)


@runtime_checkable
class Connector(Protocol):
    """What the sync engine needs from a remote system."""

    name: str

    def capabilities(self) -> Capabilities:
        """Fields this connection reads and writes, as its mapping configures them."""
        ...

    def scopes(self) -> list[Scope]:
        """The slices pulled separately, each with its own cursor."""
        ...

    def pull(
        self, scope: Scope, since: datetime | None, until: datetime | None
    ) -> Iterator[PulledRecord | Quarantined]:
        """Yield records changed in ``[since - overlap, until]`` (all when ``since`` is None).

        Raises a :class:`~pmosync.errors.PmoSyncError` on failure: a failed pull never ends
        early as if it had finished.
        """
        ...

    def push(self, writes: Sequence[PlannedWrite]) -> list[WriteResult]:
        """Apply writes; one result per write, in order. Must be safe to repeat."""
        ...

    def api_calls(self) -> int:
        """HTTP requests made so far (for the run report)."""
        ...

    def waits(self) -> Mapping[str, float]:
        """Seconds spent waiting so far, by reason (pacing, Retry-After, backoff, queue
        jobs, search lag), for the run report."""
        ...

    def close(self) -> None: ...


def paginate(
    fetch: Callable[[Token | None], tuple[Iterable[T], Token | None]],
    *,
    what: str,
    max_pages: int = 100_000,
) -> Iterator[T]:
    """Follow a token/offset/next-link paginator to its end, with loop guards.

    ``fetch(token)`` returns one page's items and the next token (None on the last page). A
    token that repeats, or a page count past ``max_pages``, is a server bug: we stop with an
    error instead of looping forever or ending early as if the listing were complete.
    """
    seen: set[object] = set()
    token: Token | None = None
    for _ in range(max_pages):
        items, next_token = fetch(token)
        yield from items
        if next_token is None:
            return
        if next_token in seen:
            raise FatalConnectorError(f"{what}: page token {next_token!r} repeated; stopping")
        seen.add(next_token)
        token = next_token
    raise FatalConnectorError(f"{what}: more than {max_pages} pages; stopping")


def chunked(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    """Split writes into the API's batch size."""
    for start in range(0, len(items), size):
        yield items[start : start + size]
