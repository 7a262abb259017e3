"""The rows this connection's own operation sets wrote, remembered between runs so the next
incremental pull does not re-read a whole plan only because we wrote its status (issue #13,
echo). The Dataverse counterpart of ``connectors/msproject/own_publishes.py``.

Each entry is a row id and the row version (``versionnumber``, the number inside
``@odata.etag`` W/"…") the row had right after our write landed. Dataverse returns a weak ETag
with every row it answers and bases conditional reads and optimistic concurrency on it: an
unchanged ETag is an unchanged row ("Perform conditional operations using the Web API",
https://learn.microsoft.com/power-apps/developer/data-platform/webapi/perform-conditional-operations-using-web-api;
the page warns to compare ETags for equality only, which is all we do). So a listed row whose
version is the recorded one has not changed since our write; any later edit, a person's or the
scheduling engine's, gives it another version and the plan is read as before. What may be
recorded, and when, is the connector's call (``PlannerConnector._remember_writes``).

The file is a hint, never the truth: lost, unreadable or from another host it only costs the
re-read it would have saved. It sits next to the token cache, owner-only (0600), and holds row
ids and version numbers, no secret.
"""

from __future__ import annotations

from pmosync.connectors.own_write_record import OwnWriteRecord


def etag_version(row: dict[str, object]) -> str | None:
    """The row version inside a Web API row's ``@odata.etag`` (W/"12345" -> "12345")."""
    etag = row.get("@odata.etag")
    if not isinstance(etag, str) or not etag:
        return None
    return etag.removeprefix("W/").strip('"') or None


class OwnWrites(OwnWriteRecord[str]):
    """Row id -> version: read on first use, pruned by each incremental pull, extended by each
    push, and written by ``save``."""

    def _entry(self, key: str, value: object) -> tuple[str, str] | None:
        return (key.lower(), str(value)) if isinstance(value, str | int) else None

    @property
    def versions(self) -> dict[str, str]:
        return self.entries

    def ours(self, row_id: str, version: str | None) -> bool:
        """True when the row still has the version our own write left."""
        return version is not None and self.versions.get(row_id.lower()) == version

    def record(self, row_id: str, version: str) -> None:
        self.put(row_id.lower(), version)

    def keep_only(self, row_ids: set[str]) -> None:
        """Drop every entry but these (a row our pull did not list again is out of the
        incremental window for good: only a later change, with another version, brings it
        back)."""
        self.drop(set(self.versions) - row_ids)
