"""YAML loading that remembers where every key came from, so errors can name file:line."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError

from pmosync.errors import ConfigError


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


def _plain(node: Any) -> Any:
    if isinstance(node, CommentedMap):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, CommentedSeq):
        return [_plain(v) for v in node]
    return node


def load_yaml(path: Path) -> YamlDocument:
    """Read one YAML file. Raises ConfigError naming the file (and line for syntax errors)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror})") from None
    yaml = YAML(typ="rt")
    yaml.allow_duplicate_keys = False
    try:
        tree = yaml.load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        problem = exc.problem or exc.context or "invalid YAML"
        raise ConfigError(
            f"{path}:{line} › invalid YAML: {problem}", problems=[f"{path}:{line} › {problem}"]
        ) from None
    if tree is None:
        tree = CommentedMap()
    return YamlDocument(path=path, data=_plain(tree), tree=tree)
