"""File import as a one-off connector: `pmo-sync import FILE...` hands one to the sync engine.

The engine pulls it like any connection (identify, reconcile, store) and never writes to it.
All files are read on the first pull, in one MPXJ worker process (one JVM start for the whole
batch), then mapped once; every scope (one per file) then serves its part of that result.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pmosync.canonical_model import (
    EntityType,
    PlannedWrite,
    PulledRecord,
    Quarantined,
    WriteResult,
)
from pmosync.connectors.base import Capabilities, Scope
from pmosync.connectors.files import mapper
from pmosync.connectors.files.model import ScheduleFile
from pmosync.connectors.files.plans import PlanSignature, StoredProject
from pmosync.connectors.files.reader import read_schedule_files
from pmosync.errors import ConfigError

if TYPE_CHECKING:
    from pmosync.sync.state import LinkState

__all__ = ["FilesConnector", "scope_name"]

log = logging.getLogger(__name__)

# Cursor rows keep scope names in a 200-character column; a long path is hashed instead.
_NAME_CHARS = 80


def scope_name(path: Path) -> str:
    """``file:<name>:<hash of the absolute path>``: the same for every import of that path."""
    digest = hashlib.sha256(str(path).encode()).hexdigest()[:16]
    return f"file:{path.name[:_NAME_CHARS]}:{digest}"


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _absolute(path: Path) -> Path:
    # Not resolve(): a missing file must still be named as the user gave it, and a symlink
    # farm (dated exports linked as "current.mpp") keeps one scope per name.
    return Path(path).expanduser().absolute()


class FilesConnector:
    """Implements the Connector protocol over a list of schedule files (read-only)."""

    def __init__(
        self,
        name: str,
        paths: Sequence[Path],
        *,
        on_progress: Callable[[Path], None] | None = None,
    ) -> None:
        self.name = name
        self._given = [Path(p) for p in paths]
        # The same file named twice is read once (and is still one project, not a duplicate).
        self._paths: list[Path] = list(dict.fromkeys(_absolute(p) for p in self._given))
        self._repeats = len(self._given) - len(self._paths)
        self._scopes = {scope_name(p): p for p in self._paths}
        self._on_progress = on_progress
        self._lock = threading.Lock()
        self._records: dict[Path, list[PulledRecord | Quarantined]] | None = None
        self._stored: dict[str, StoredProject] = {}
        self.files: list[ScheduleFile] = []  # what MPXJ gave, for reports and tests
        # run-report lines: distinct plans sharing an id, subprojects not imported, stubs
        self.notices: list[str] = []

    # -- protocol: description -------------------------------------------------------------
    def capabilities(self) -> Capabilities:
        return Capabilities(
            readable=dict(mapper.READABLE),
            writable={},
            incremental=False,
            # a re-imported file is read whole: a task it no longer has was deleted
            whole_children={
                EntityType.PROJECT: frozenset(
                    {EntityType.WORK_ITEM, EntityType.MILESTONE, EntityType.DEPENDENCY}
                )
            },
        )

    def scopes(self) -> list[Scope]:
        return [Scope(name, EntityType.PROJECT) for name in self._scopes]

    def api_calls(self) -> int:
        return 0  # files: no API

    def waits(self) -> dict[str, float]:
        return {}  # files: nothing to wait for

    def close(self) -> None:
        pass  # the worker process is gone once read_schedule_files returns

    def stored_links(self, links: Iterable[LinkState]) -> None:
        """What earlier imports under this name stored (the engine hands it over before the
        pull): which plan holds which project id, so that another plan with the same GUID
        gets its own project, and a master plan finds a subproject imported before."""
        self._stored = {
            link.external_id: StoredProject(
                external_id=link.external_id,
                signature=PlanSignature.parse(link.external_key),
                name=_str(link.remote_values.get("name")),
                code=_str(link.remote_values.get("code")),
                external=bool(link.remote_values.get("external")),
            )
            for link in links
            if link.connection == self.name and link.entity_type is EntityType.PROJECT
        }

    # -- protocol: pull --------------------------------------------------------------------
    def pull(
        self, scope: Scope, since: datetime | None, until: datetime | None
    ) -> Iterator[PulledRecord | Quarantined]:
        """Every record of the scope's file. ``since``/``until`` do not apply: a file is read
        whole, and records it did not change change nothing (same content hash)."""
        path = self._scopes.get(scope.name)
        if path is None:
            raise ConfigError(f"unknown scope {scope.name!r}", connection=self.name)
        yield from self._load().get(path, [])

    def _load(self) -> dict[Path, list[PulledRecord | Quarantined]]:
        """Read and map every file once, on the first pull (raises ConfigError without Java)."""
        with self._lock:
            if self._records is None:
                self.files = read_schedule_files(self._paths, on_progress=self._on_progress)
                # Duplicates on the command line were read once; the progress bar counts them.
                if self._on_progress is not None:
                    for _ in range(self._repeats):
                        self._on_progress(self._paths[-1])
                mapped = mapper.map_import(self.files, connection=self.name, stored=self._stored)
                self._records = mapped.records
                self.notices.extend(mapped.warnings)
                for path, records in self._records.items():
                    log.info("[%s] %s: %s", self.name, path, mapper.count(records))
            return self._records

    def push(self, writes: Sequence[PlannedWrite]) -> list[WriteResult]:
        # Nothing is writable, so the engine plans nothing here; say so if it ever does.
        return [
            WriteResult(w.outbox_id, False, w.external_id, error="files are imported, not written")
            for w in writes
        ]
