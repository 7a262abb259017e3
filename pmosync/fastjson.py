"""JSON encoding on the hot paths: content hashes of every pulled record and the store's JSON
columns. orjson encodes several times faster than the standard library; the standard library
stays the fallback for what orjson refuses (integers past 64 bits), so nothing is lost.

Decoding stays with the standard library: orjson reads integers past 64 bits as floats, which
would change a stored value.
"""

from __future__ import annotations

import json
from typing import Any

import orjson

_OPTIONS = orjson.OPT_NON_STR_KEYS
_SORTED = _OPTIONS | orjson.OPT_SORT_KEYS


def _default(value: Any) -> Any:
    if isinstance(value, set | frozenset):
        return sorted(value, key=str)  # a set's order is arbitrary: hashes must not be
    return str(value)  # Decimal and the rest, as json.dumps(default=str) gives them


def dumps(value: Any, *, sort_keys: bool = False) -> str:
    """Compact JSON text; keys sorted when asked (stable hashes)."""
    try:
        return orjson.dumps(
            value, default=_default, option=_SORTED if sort_keys else _OPTIONS
        ).decode()
    except TypeError:  # an integer past 64 bits: the standard library keeps it exact
        return json.dumps(value, default=_default, sort_keys=sort_keys, separators=(",", ":"))
