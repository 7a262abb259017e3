"""One object per distinct string across a run's working state.

A portfolio repeats the same few strings in every record: field names, statuses, dates,
decimals kept as text, and the canonical ids that references point at. Decoded row by row (the
JSON decoder shares keys only within one document) or mapped record by record, each copy is
its own object, and at portfolio scale those copies were most of a run's memory: at
portfolio-M, 2.7 million strings (157 MB) of which 53,000 are distinct (3 MB). Strings are
immutable, so sharing them changes nothing a caller can see; dicts and lists are never shared
(stages update them in place).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any


class SharedStrings:
    """``shared(value)``: the same value with every string replaced by its first-seen equal.

    Kept for one load or one run and then dropped: the strings stay alive only as long as the
    state holding them.
    """

    def __init__(self) -> None:
        self._seen: dict[str, str] = {}
        # decoding through the hook shares keys and values as the C scanner builds each object,
        # at about the speed of plain json.loads
        self._decoder = json.JSONDecoder(object_pairs_hook=self._object_hook())

    def __call__(self, text: str) -> str:
        return self._seen.setdefault(text, text)

    def __len__(self) -> int:
        return len(self._seen)

    def forget(self) -> None:
        """Drop the lookup table (the strings stay, shared, as long as values hold them)."""
        self._seen.clear()

    def decode(self, document: str | None) -> Any:
        """A JSON document (a store column read as text) with shared strings; None for SQL NULL."""
        if document is None:
            return None
        value = self._decoder.decode(document)
        return self._seen.setdefault(value, value) if type(value) is str else value

    def share(self, value: Any) -> Any:
        """``value`` with its strings shared; dicts and lists are updated in place."""
        kind = type(value)
        if kind is str:
            return self._seen.setdefault(value, value)
        if kind is dict:
            seen = self._seen
            for key, item in value.items():
                if type(item) is str:
                    value[key] = seen.setdefault(item, item)
                elif type(item) is dict or type(item) is list:
                    self.share(item)
        elif kind is list:
            for index, item in enumerate(value):
                value[index] = self.share(item)
        return value

    def _object_hook(self) -> Callable[[list[tuple[str, Any]]], dict[str, Any]]:
        keep = self._seen.setdefault  # bound once: the hook runs for every object decoded

        def build(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
            # strings inside lists (labels) stay as decoded: few, and a loop per list here
            # costs more load time than they take
            return {keep(k, k): (keep(v, v) if type(v) is str else v) for k, v in pairs}

        return build
