"""The label that ties an issue pmo-sync created to its pmo-sync id.

A create whose answer was lost (dropped connection, read timeout) may still have made the
issue. Before creating again, pmo-sync searches for ``labels = "pmo-sync-<id>"``: labels are a
system field every JQL search can use (support.atlassian.com/jira-software-cloud/docs/
jql-fields/, "Labels"), whereas JQL on an entity property only sees paths an app declared
for indexing, which pmo-sync, a REST client, cannot declare. docs/jira.md gives the reasoning.

The marker is pmo-sync's own: it never reaches the canonical model (reading drops it) and an
edit of the labels field keeps it (writing puts it back).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

MARKER_PREFIX = "pmo-sync-"
LABELS_FIELD = "labels"
# Jira refuses labels with spaces; a label is at most 255 characters.
_UNSAFE = re.compile(r"[^0-9A-Za-z_.-]")


def marker_label(canonical_id: str) -> str:
    """``pmo-sync-<id>``: the id whole (a uuid, 36 characters), so two ids never share one."""
    return MARKER_PREFIX + _UNSAFE.sub("_", canonical_id)[:200]


def is_marker(label: object) -> bool:
    return isinstance(label, str) and label.startswith(MARKER_PREFIX)


def without_markers(labels: Iterable[object]) -> list[object]:
    """The labels a person sees and edits: pmo-sync's marker left out."""
    return [label for label in labels if not is_marker(label)]


def markers_in(raw: object) -> list[str]:
    """The marker labels an issue's ``labels`` value carries (to keep them on an edit)."""
    if not isinstance(raw, list):
        return []
    return [label for label in raw if is_marker(label)]
