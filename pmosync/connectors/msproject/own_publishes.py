"""The publishes this connection made itself, remembered between runs so the next incremental
pull does not re-read a whole plan only because we published it (issue #13, echo).

A plan is skipped only when its listed stamps (``LastPublishedDate`` and ``LastSavedDate``) are
exactly the ones our own publish left, and we record them only when that publish can have
changed nothing we did not write (see ``PwaConnector._remember_publish``). Any later publish, by
anyone, changes the stamps, so it is read as before. The file is a hint, never the truth: lost,
unreadable or from another host, it only costs the re-read it would have saved. It sits next to
the token cache, owner-only (0600), and holds project ids and dates, no secret.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from pathlib import Path

from pmosync.connectors.msproject.odata import parse_datetime
from pmosync.private_files import write_private

log = logging.getLogger(__name__)

STAMP_FIELDS = ("LastPublishedDate", "LastSavedDate")


def stamps(project: Mapping[str, object]) -> dict[str, str] | None:
    """The project's publish and save stamps (wall clock, to the server's precision); None
    when either is missing, so a project without them is never taken for our own publish."""
    out: dict[str, str] = {}
    for name in STAMP_FIELDS:
        moment = parse_datetime(project.get(name))
        if moment is None:
            return None
        out[name] = moment.isoformat()
    return out


class OwnPublishes:
    """Read on first use (an incremental pull or a push), written by ``save`` after a push."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._loaded: dict[str, dict[str, str]] | None = None
        self._changed = False

    @property
    def _stamps(self) -> dict[str, dict[str, str]]:
        if self._loaded is None:
            self._loaded = self._load()
        return self._loaded

    def _load(self) -> dict[str, dict[str, str]]:
        try:
            loaded = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            # a hint only: without it every plan we published is read again, nothing is lost
            log.warning("ignoring %s (%s); our own publishes are read again", self.path, exc)
            return {}
        if not isinstance(loaded, dict):
            return {}
        return {
            str(pid): {k: str(v) for k, v in entry.items()}
            for pid, entry in loaded.items()
            if isinstance(entry, dict)
        }

    def ours(self, project_id: str, listed: Mapping[str, object]) -> bool:
        """True when the listed stamps are the ones our last publish of the plan left."""
        recorded = self._stamps.get(project_id)
        return recorded is not None and recorded == stamps(listed)

    def record(self, project_id: str, project: Mapping[str, object]) -> None:
        found = stamps(project)
        if found is None:
            self.forget(project_id)
            return
        if self._stamps.get(project_id) != found:
            self._stamps[project_id] = found
            self._changed = True

    def forget(self, project_id: str) -> None:
        if self._stamps.pop(project_id, None) is not None:
            self._changed = True

    def save(self) -> None:
        if not self._changed:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        write_private(self.path, json.dumps(self._stamps, sort_keys=True) + "\n")
        self._changed = False
