"""Issue key <-> id for one connection: learned from every issue seen, looked up when missing.

Pointers and external ids use the stable numeric id; DC's Epic Link and a human-facing write
use the key (which changes when an issue moves project), so both directions are needed.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from pmosync.errors import PmoSyncError, SkippableRecordError

if TYPE_CHECKING:
    from pmosync.connectors.jira.client import JiraClient

# JQL ``key in (...)`` lists are kept well under Jira's query length limits.
KEYS_PER_SEARCH = 100


class IssueKeys:
    def __init__(self, client: JiraClient) -> None:
        self.client = client
        self._ids: dict[str, str] = {}
        self._keys: dict[str, str] = {}

    def learn(self, key: object, issue_id: object) -> None:
        if key and issue_id:
            self._ids[str(key)] = str(issue_id)
            self._keys[str(issue_id)] = str(key)

    def known(self, key: str) -> bool:
        return key in self._ids

    def id_of(self, key: str) -> str | None:
        """The id of ``key`` (one GET when unknown); None when Jira does not show it."""
        if key in self._ids:
            return self._ids[key]
        try:
            raw = self.client.get_json(
                f"issue/{key}", {"fields": "summary"}, what=f"GET issue {key}"
            )
        except PmoSyncError as exc:
            if isinstance(exc, SkippableRecordError):
                return None  # 404: deleted or hidden from the API user
            raise
        self.learn(raw.get("key") or key, raw.get("id"))
        return self._ids.get(key)

    def key_of(self, issue_id: object) -> str:
        """The current key of an issue id (one GET when unknown)."""
        if str(issue_id) in self._keys:
            return self._keys[str(issue_id)]
        raw = self.client.get_json(
            f"issue/{issue_id}", {"fields": "summary"}, what=f"GET issue {issue_id}"
        )
        self.learn(raw.get("key"), issue_id)
        return self._keys.get(str(issue_id), str(issue_id))

    def prefetch(self, keys: Iterable[str]) -> None:
        """Learn many keys with one search per :data:`KEYS_PER_SEARCH` (missing ones stay
        unknown: a record pointing at them quarantines on that pointer)."""
        from pmosync.connectors.jira.client import JqlRefused
        from pmosync.connectors.jira.mapper import jql_quote

        wanted = sorted({k for k in keys if k not in self._ids})
        for start in range(0, len(wanted), KEYS_PER_SEARCH):
            chunk = wanted[start : start + KEYS_PER_SEARCH]
            jql = f"key in ({', '.join(jql_quote(k) for k in chunk)})"
            try:
                for found in self.client.search(jql, fields=["summary"]):
                    self.learn(found.get("key"), found.get("id"))
            except JqlRefused:
                # Jira refuses the whole list when one key does not exist: one by one then.
                for key in chunk:
                    self.id_of(key)
