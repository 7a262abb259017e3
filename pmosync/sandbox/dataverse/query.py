"""The slice of OData v4 query options the Dataverse emulator understands.

``$filter`` with ``eq ne gt ge lt le``, ``and``/``or`` and parentheses over GUIDs, strings,
numbers, booleans, ``null`` and ISO instants (the operators Dataverse documents in "Filter
rows", https://learn.microsoft.com/power-apps/developer/data-platform/webapi/query/filter-rows);
``$select``; ``$top``. Anything else in a filter is a 400, as Dataverse answers a query it cannot
parse, so a client relying on an unsupported operator finds out here rather than in production.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

Row = dict[str, Any]
Predicate = Callable[[Row], bool]

_TOKEN = re.compile(
    r"\s*(?:(?P<lp>\()|(?P<rp>\))|(?P<str>'(?:[^']|'')*')|(?P<word>[A-Za-z0-9_.:+\-]+))"
)
_OPS = {"eq", "ne", "gt", "ge", "lt", "le"}


class FilterError(ValueError):
    pass


def _tokens(text: str) -> list[str]:
    out: list[str] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = _TOKEN.match(text, pos)
        if not match or match.end() == pos:
            raise FilterError(f"Syntax error at position {pos} in '{text}'.")
        out.append(match.group(0).strip())
        pos = match.end()
    return out


def _literal(token: str) -> Any:
    if token.startswith("'"):
        return token[1:-1].replace("''", "'")
    if token == "null":
        return None
    if token in ("true", "false"):
        return token == "true"
    if re.fullmatch(r"-?\d+", token):
        return int(token)
    if re.fullmatch(r"-?\d+\.\d+", token):
        return float(token)
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}T[\d:.]+Z?", token):
        return datetime.fromisoformat(token.replace("Z", "+00:00"))
    return token.lower()  # a GUID


def _compare(value: Any, op: str, literal: Any) -> bool:
    if isinstance(literal, datetime) and isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if isinstance(value, str) and isinstance(literal, str):
        value, literal = value.lower(), literal.lower()
    if op == "eq":
        return bool(value == literal)
    if op == "ne":
        return bool(value != literal)
    if value is None or literal is None:
        return False
    return {
        "gt": value > literal,
        "ge": value >= literal,
        "lt": value < literal,
        "le": value <= literal,
    }[op]


class _Parser:
    def __init__(self, tokens: list[str], properties: set[str]) -> None:
        self.tokens = tokens
        self.pos = 0
        self.properties = properties

    def peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> str:
        token = self.peek()
        if token is None:
            raise FilterError("Unexpected end of $filter.")
        self.pos += 1
        return token

    def expr(self) -> Predicate:
        left = self.term()
        while self.peek() == "or":
            self.take()
            right = self.term()
            left = (lambda a, b: lambda row: a(row) or b(row))(left, right)
        return left

    def term(self) -> Predicate:
        left = self.factor()
        while self.peek() == "and":
            self.take()
            right = self.factor()
            left = (lambda a, b: lambda row: a(row) and b(row))(left, right)
        return left

    def factor(self) -> Predicate:
        token = self.take()
        if token == "(":
            inner = self.expr()
            if self.take() != ")":
                raise FilterError("Missing ')' in $filter.")
            return inner
        name = token
        if name not in self.properties:
            raise FilterError(f"Could not find a property named '{name}'.")
        op = self.take()
        if op not in _OPS:
            raise FilterError(f"The operator '{op}' is not supported.")
        literal = _literal(self.take())
        return lambda row: _compare(row.get(name), op, literal)


def parse_filter(text: str | None, properties: set[str]) -> Predicate:
    if not text:
        return lambda _row: True
    parser = _Parser(_tokens(text), properties)
    predicate = parser.expr()
    if parser.peek() is not None:
        raise FilterError(f"Unexpected '{parser.peek()}' in $filter.")
    return predicate


def parse_select(text: str | None, properties: set[str]) -> list[str] | None:
    if not text:
        return None
    names = [n.strip() for n in text.split(",") if n.strip()]
    for name in names:
        if name not in properties:
            raise FilterError(f"Could not find a property named '{name}'.")
    return names


def parse_prefer(header: str | None) -> dict[str, str]:
    """``Prefer: odata.maxpagesize=50,odata.track-changes`` as a dict."""
    out: dict[str, str] = {}
    for part in (header or "").split(","):
        key, _, value = part.strip().partition("=")
        if key:
            out[key.lower()] = value.strip('"')
    return out
