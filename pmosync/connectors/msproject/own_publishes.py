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

from collections.abc import Mapping

from pmosync.connectors.msproject.odata import parse_datetime
from pmosync.connectors.own_write_record import OwnWriteRecord

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


class OwnPublishes(OwnWriteRecord[dict[str, str]]):
    """Project id -> its stamps: read on first use (an incremental pull or a push), written by
    ``save`` after a push."""

    def _entry(self, key: str, value: object) -> tuple[str, dict[str, str]] | None:
        if not isinstance(value, dict):
            return None
        return key, {str(k): str(v) for k, v in value.items()}

    def ours(self, project_id: str, listed: Mapping[str, object]) -> bool:
        """True when the listed stamps are the ones our last publish of the plan left."""
        recorded = self.entries.get(project_id)
        return recorded is not None and recorded == stamps(listed)

    def record(self, project_id: str, project: Mapping[str, object]) -> None:
        found = stamps(project)
        if found is None:
            self.forget(project_id)
            return
        self.put(project_id, found)

    def forget(self, project_id: str) -> None:
        self.drop({project_id})
