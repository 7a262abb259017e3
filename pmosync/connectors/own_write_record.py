"""A connection's record of its own writes, kept between runs beside its token cache (issue #13,
echo): the base of Project Server's ``OwnPublishes`` and Planner Premium's ``OwnWrites``.

The file is a hint, never the truth: lost, unreadable or from another host it only costs the
re-reads it would have saved, so a bad file is logged and ignored. It is read on first use and
written owner-only (0600) by ``save``, only when an entry changed.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any, Generic, TypeVar

from pmosync.private_files import write_private

log = logging.getLogger(__name__)

V = TypeVar("V")


class OwnWriteRecord(Generic[V]):
    """Entries by record id; subclasses say what a valid entry is (``_entry``)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._loaded: dict[str, V] | None = None
        self._changed = False

    @property
    def entries(self) -> dict[str, V]:
        if self._loaded is None:
            self._loaded = self._load()
        return self._loaded

    def _entry(self, key: str, value: Any) -> tuple[str, V] | None:
        """The entry as kept, or None to drop what the file holds for ``key``."""
        raise NotImplementedError

    def _load(self) -> dict[str, V]:
        try:
            loaded = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            log.warning("ignoring %s (%s); what we wrote is read again", self.path, exc)
            return {}
        if not isinstance(loaded, dict):
            return {}
        return dict(e for k, v in loaded.items() if (e := self._entry(str(k), v)) is not None)

    def put(self, key: str, value: V) -> None:
        if self.entries.get(key) != value:
            self.entries[key] = value
            self._changed = True

    def drop(self, keys: set[str]) -> None:
        for key in keys & set(self.entries):
            del self.entries[key]
            self._changed = True

    def save(self) -> None:
        if not self._changed:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        write_private(self.path, json.dumps(self.entries, sort_keys=True) + "\n")
        self._changed = False
