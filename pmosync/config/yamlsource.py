"""YAML loading that remembers where every key came from, so errors can name file:line."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.constructor import DuplicateKeyError
from ruamel.yaml.error import MarkedYAMLError

from pmosync.errors import ConfigError

# A configuration or mapping is a few kilobytes; these bounds keep a wrong file (a 60 MB log,
# a "billion laughs" alias bomb) from hanging validation or eating memory.
MAX_BYTES = 2 * 1024 * 1024
# Values the plain copy of the tree may hold once aliases are expanded: a real config has
# hundreds; an alias bomb reaches billions.
MAX_NODES = 200_000
_DUPLICATE = re.compile(r'found duplicate key "(?P<key>[^"]{0,60})')


@dataclass
class YamlDocument:
    path: Path
    data: Any  # plain dicts/lists/scalars
    tree: Any  # ruamel's commented tree, for line numbers

    def locate(self, loc: Sequence[str | int]) -> tuple[int, str]:
        """1-based line and dotted key path for a validation error location.

        pydantic puts the discriminator value of a union into ``loc`` (``connections.x.jira.url``)
        although no such key exists in the file; parts that match nothing are skipped unless
        they are the last (a missing key), so the path shown is the one the user wrote.
        """
        node = self.tree
        line = 1
        shown: list[str] = []
        for index, part in enumerate(loc):
            if isinstance(node, CommentedMap) and part in node:
                line = node.lc.key(part)[0] + 1
                node = node[part]
            elif isinstance(node, CommentedSeq) and isinstance(part, int) and part < len(node):
                line = node.lc.item(part)[0] + 1
                node = node[part]
            elif index != len(loc) - 1:
                continue
            shown.append(str(part))
        return line, ".".join(shown)

    def line_of(self, loc: Sequence[str | int]) -> int:
        return self.locate(loc)[0]

    def where(self, loc: Sequence[str | int]) -> str:
        return f"{self.path}:{self.line_of(loc)}"


class _Budget:
    """Counts values copied out of the tree; aliases make one node count each time it is used."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.left = MAX_NODES

    def spend(self) -> None:
        self.left -= 1
        if self.left < 0:
            raise ConfigError(
                f"{self.path}: the YAML expands to more than {MAX_NODES} values (anchors and "
                "*aliases reused over and over); write the values out instead of nesting aliases"
            )


def _plain(node: Any, budget: _Budget) -> Any:
    budget.spend()
    if isinstance(node, CommentedMap):
        return {str(k): _plain(v, budget) for k, v in node.items()}
    if isinstance(node, CommentedSeq):
        return [_plain(v, budget) for v in node]
    return node


def _read_text(path: Path) -> str:
    """The file as UTF-8 text, refusing files too big or not text, with what to do."""
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise ConfigError(
                f"{path}: the file is {size / 1_048_576:.1f} MB; a configuration or mapping is at "
                f"most {MAX_BYTES // 1_048_576} MB: check that this is the file you meant"
            )
        with path.open("rb") as handle:
            raw = handle.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a directory, not a YAML file") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror})") from None
    if len(raw) > MAX_BYTES:  # grew while we read it, or a device
        raise ConfigError(f"{path}: the file is larger than {MAX_BYTES // 1_048_576} MB")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ConfigError(
            f"{path}:{line} › not a UTF-8 text file (byte {exc.start}): a configuration is "
            "YAML text; save it as UTF-8 or check that this is the file you meant",
            problems=[f"{path}:{line} › not a UTF-8 text file: save it as UTF-8 YAML"],
        ) from None
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise ConfigError(
            f"{path}:{line} › binary data (a NUL byte): a configuration is YAML text",
            problems=[f"{path}:{line} › binary data (a NUL byte): a configuration is YAML text"],
        )
    return text.removeprefix("\ufeff")


def load_yaml(path: Path) -> YamlDocument:
    """Read one YAML file. Raises ConfigError naming the file (and line for syntax errors)."""
    text = _read_text(path)
    yaml = YAML(typ="rt")
    yaml.allow_duplicate_keys = False
    try:
        tree = yaml.load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        problem = exc.problem or exc.context or "invalid YAML"
        if isinstance(exc, DuplicateKeyError):
            # ruamel's text quotes both values, and a value may be a pasted secret: name the key
            found = _DUPLICATE.search(str(exc.problem))
            key = found.group("key") if found else "?"
            problem = f"duplicate key {key!r} (each key may appear once; remove one of them)"
        raise ConfigError(
            f"{path}:{line} › invalid YAML: {problem}", problems=[f"{path}:{line} › {problem}"]
        ) from None
    if tree is None:
        tree = CommentedMap()
    return YamlDocument(path=path, data=_plain(tree, _Budget(path)), tree=tree)
