"""A small Airtable formula language: tokenizer, precedence-climbing parser and evaluator.

Used for ``filterByFormula`` and for the values of ``formula`` fields. Only the subset that
api-wire-protocol §3.5 names is supported; anything else is rejected when the formula is
parsed (the caller turns :class:`FormulaSyntaxError` into 422 INVALID_FILTER_BY_FORMULA), so
a connector that relies on an unsupported function fails loudly instead of silently
matching the wrong records. Runtime problems (``"a" + 1``, a bad date) make the value an
error, which Airtable treats as false for filtering.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Protocol


class FormulaSyntaxError(Exception):
    """The formula cannot be parsed or names something that does not exist."""


class FormulaValueError(Exception):
    """Evaluation produced Airtable's ``#ERROR!`` for this record."""


# -- AST ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Literal:
    value: Any


@dataclass(frozen=True)
class FieldRef:
    name: str


@dataclass(frozen=True)
class Call:
    name: str
    args: tuple[Node, ...]


@dataclass(frozen=True)
class Binary:
    op: str
    left: Node
    right: Node


@dataclass(frozen=True)
class Negate:
    operand: Node


Node = Literal | FieldRef | Call | Binary | Negate


# -- tokenizer ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Token:
    kind: str  # number, string, field, ident, op, end
    text: str
    value: Any
    pos: int


_TOKEN_RE = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<number>\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op>!=|<=|>=|=|<|>|&|\+|-|\*|/|\(|\)|,)
    """,
    re.VERBOSE,
)


def _read_quoted(text: str, start: int, quote: str) -> tuple[str, int]:
    out: list[str] = []
    i = start + 1
    while i < len(text):
        char = text[i]
        if char == "\\" and i + 1 < len(text):
            nxt = text[i + 1]
            out.append({"n": "\n", "t": "\t"}.get(nxt, nxt))
            i += 2
            continue
        if char == quote:
            return "".join(out), i + 1
        out.append(char)
        i += 1
    raise FormulaSyntaxError(f"unterminated string starting at position {start}")


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char in "'\"":
            value, end = _read_quoted(text, i, char)
            tokens.append(Token("string", text[i:end], value, i))
            i = end
            continue
        if char == "{":
            end = text.find("}", i + 1)
            if end < 0:
                raise FormulaSyntaxError(f"unterminated field reference at position {i}")
            name = text[i + 1 : end]
            if not name.strip():
                raise FormulaSyntaxError(f"empty field reference at position {i}")
            tokens.append(Token("field", text[i : end + 1], name, i))
            i = end + 1
            continue
        match = _TOKEN_RE.match(text, i)
        if match is None:
            raise FormulaSyntaxError(f"unexpected character {char!r} at position {i}")
        kind = match.lastgroup
        assert kind is not None
        if kind == "number":
            raw = match.group()
            number: float | int = float(raw) if any(c in raw for c in ".eE") else int(raw)
            tokens.append(Token("number", raw, number, i))
        elif kind != "ws":
            tokens.append(Token(kind, match.group(), match.group(), i))
        i = match.end()
    tokens.append(Token("end", "", None, len(text)))
    return tokens


# -- functions: name -> (min args, max args or None) -------------------------------------------
FUNCTIONS: dict[str, tuple[int, int | None]] = {
    "AND": (1, None),
    "OR": (1, None),
    "NOT": (1, 1),
    "IF": (2, 3),
    "IS_AFTER": (2, 2),
    "IS_BEFORE": (2, 2),
    "LAST_MODIFIED_TIME": (0, None),
    "CREATED_TIME": (0, 0),
    "RECORD_ID": (0, 0),
    "DATETIME_PARSE": (1, 2),
    "BLANK": (0, 0),
    "FIND": (2, 3),
    "LEN": (1, 1),
    "LOWER": (1, 1),
    "UPPER": (1, 1),
    "TRUE": (0, 0),
    "FALSE": (0, 0),
}

_COMPARISONS = ("=", "!=", "<", ">", "<=", ">=")


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = tokenize(text)
        self.i = 0

    def peek(self) -> Token:
        return self.tokens[self.i]

    def take(self) -> Token:
        token = self.tokens[self.i]
        self.i += 1
        return token

    def expect(self, text: str) -> None:
        token = self.take()
        if token.kind != "op" or token.text != text:
            shown = token.text or "end of formula"
            raise FormulaSyntaxError(f"expected {text!r} at position {token.pos}, got {shown!r}")

    def parse(self) -> Node:
        if self.peek().kind == "end":
            raise FormulaSyntaxError("empty formula")
        node = self.comparison()
        token = self.peek()
        if token.kind != "end":
            raise FormulaSyntaxError(f"unexpected {token.text!r} at position {token.pos}")
        return node

    def _binary(self, ops: Sequence[str], operand: Callable[[], Node]) -> Node:
        node = operand()
        while self.peek().kind == "op" and self.peek().text in ops:
            op = self.take().text
            node = Binary(op, node, operand())
        return node

    # Excel/Airtable precedence: comparison < & < + - < * / < unary minus.
    def comparison(self) -> Node:
        return self._binary(_COMPARISONS, self.concat)

    def concat(self) -> Node:
        return self._binary(("&",), self.additive)

    def additive(self) -> Node:
        return self._binary(("+", "-"), self.term)

    def term(self) -> Node:
        return self._binary(("*", "/"), self.unary)

    def unary(self) -> Node:
        if self.peek().kind == "op" and self.peek().text == "-":
            self.take()
            return Negate(self.unary())
        return self.primary()

    def primary(self) -> Node:
        token = self.take()
        if token.kind in ("number", "string"):
            return Literal(token.value)
        if token.kind == "field":
            return FieldRef(token.value)
        if token.kind == "op" and token.text == "(":
            node = self.comparison()
            self.expect(")")
            return node
        if token.kind == "ident":
            return self.call(token)
        shown = token.text or "end of formula"
        raise FormulaSyntaxError(f"unexpected {shown!r} at position {token.pos}")

    def call(self, token: Token) -> Node:
        name = token.text.upper()
        if name not in FUNCTIONS:
            raise FormulaSyntaxError(f"unknown function {token.text!r}")
        self.expect("(")
        args: list[Node] = []
        if not (self.peek().kind == "op" and self.peek().text == ")"):
            args.append(self.comparison())
            while self.peek().kind == "op" and self.peek().text == ",":
                self.take()
                args.append(self.comparison())
        self.expect(")")
        low, high = FUNCTIONS[name]
        if len(args) < low or (high is not None and len(args) > high):
            raise FormulaSyntaxError(f"wrong number of arguments to {name}()")
        if name == "LAST_MODIFIED_TIME" and not all(isinstance(a, FieldRef) for a in args):
            raise FormulaSyntaxError("LAST_MODIFIED_TIME() only accepts field references")
        return Call(name, tuple(args))


def field_refs(node: Node) -> list[str]:
    """Every field name the formula mentions, in order of appearance."""
    if isinstance(node, FieldRef):
        return [node.name]
    if isinstance(node, Call):
        return [name for arg in node.args for name in field_refs(arg)]
    if isinstance(node, Binary):
        return field_refs(node.left) + field_refs(node.right)
    if isinstance(node, Negate):
        return field_refs(node.operand)
    return []


def parse(text: str, known_fields: Callable[[str], bool] | None = None) -> Node:
    """Parse ``text``; with ``known_fields``, unknown ``{Field}`` names are syntax errors."""
    node = _Parser(text).parse()
    if known_fields is not None:
        unknown = [name for name in field_refs(node) if not known_fields(name)]
        if unknown:
            raise FormulaSyntaxError("Unknown field names: " + ", ".join(unknown))
    return node


# -- evaluation ---------------------------------------------------------------------------------
class Context(Protocol):
    """What the evaluator needs to know about the record being evaluated."""

    def field_value(self, name: str) -> Any: ...

    def record_id(self) -> str: ...

    def created_time(self) -> datetime: ...

    def last_modified(self, names: list[str] | None) -> datetime | None: ...


def parse_datetime(value: str) -> datetime | None:
    """ISO dates and date-times as Airtable reads them; naive values are UTC."""
    text = value.strip()
    if not text:
        return None
    try:
        if len(text) == 10:
            parsed_date = date.fromisoformat(text)
            return datetime(parsed_date.year, parsed_date.month, parsed_date.day, tzinfo=UTC)
        parsed = datetime.fromisoformat(text.replace(" ", "T", 1))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


_MOMENT_TOKENS = (
    ("YYYY", "%Y"),
    ("MM", "%m"),
    ("DD", "%d"),
    ("HH", "%H"),
    ("mm", "%M"),
    ("ss", "%S"),
)


def _parse_with_format(value: str, fmt: str) -> datetime | None:
    pattern = fmt
    for moment, strf in _MOMENT_TOKENS:
        pattern = pattern.replace(moment, strf)
    try:
        return datetime.strptime(value, pattern).replace(tzinfo=UTC)
    except ValueError:
        return None


def format_datetime(value: datetime) -> str:
    """``2026-01-01T10:00:00.000Z``: UTC with milliseconds, Airtable's wire format."""
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def to_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return format_datetime(value)
    if isinstance(value, list):
        return ", ".join(to_text(v) for v in value)
    return str(value)


def to_datetime(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    if isinstance(value, str):
        parsed = parse_datetime(value)
        if parsed is None and value.strip():
            raise FormulaValueError(f"not a date: {value!r}")
        return parsed
    raise FormulaValueError(f"not a date: {value!r}")


def to_number(value: Any) -> float | int:
    if value is None:
        return 0
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int | float):
        return value
    if isinstance(value, str):
        try:
            return float(value) if value.strip() else 0
        except ValueError as exc:
            raise FormulaValueError(f"not a number: {value!r}") from exc
    raise FormulaValueError(f"not a number: {value!r}")


def truthy(value: Any) -> bool:
    """Airtable keeps a record unless the result is 0, false, "", NaN, [], blank or an error."""
    if value is None or value is False or value == "" or value == []:
        return False
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value != 0 and not math.isnan(value)
    return True


def _equal(left: Any, right: Any) -> bool:
    if left is None and right is None:
        return True
    if isinstance(left, datetime) or isinstance(right, datetime):
        try:
            a, b = to_datetime(left), to_datetime(right)
        except FormulaValueError:
            return False
        return a == b
    if left is None or right is None:
        other = right if left is None else left
        if isinstance(other, str):
            return other == ""
        return to_number(other) == 0
    if isinstance(left, bool | int | float) and isinstance(right, bool | int | float):
        return to_number(left) == to_number(right)
    if isinstance(left, int | float) or isinstance(right, int | float):
        try:
            return to_number(left) == to_number(right)
        except FormulaValueError:
            return False
    return to_text(left) == to_text(right)


def _order(left: Any, right: Any) -> tuple[Any, Any] | None:
    """Comparable pair, or None when one side is blank in a date comparison."""
    if isinstance(left, datetime) or isinstance(right, datetime):
        a, b = to_datetime(left), to_datetime(right)
        if a is None or b is None:
            return None
        return a, b
    if isinstance(left, str) and isinstance(right, str):
        return left, right
    return to_number(left), to_number(right)


def _compare(op: str, left: Any, right: Any) -> bool:
    if op == "=":
        return _equal(left, right)
    if op == "!=":
        return not _equal(left, right)
    pair = _order(left, right)
    if pair is None:
        return False
    a, b = pair
    if op == "<":
        return bool(a < b)
    if op == ">":
        return bool(a > b)
    if op == "<=":
        return bool(a <= b)
    return bool(a >= b)


def _arith(op: str, left: Any, right: Any) -> float | int:
    a, b = to_number(left), to_number(right)
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    if b == 0:
        raise FormulaValueError("division by zero")
    return a / b


def evaluate(node: Node, ctx: Context) -> Any:
    """The value of ``node`` for one record; raises FormulaValueError for ``#ERROR!``."""
    if isinstance(node, Literal):
        return node.value
    if isinstance(node, FieldRef):
        return ctx.field_value(node.name)
    if isinstance(node, Negate):
        return -to_number(evaluate(node.operand, ctx))
    if isinstance(node, Binary):
        left, right = evaluate(node.left, ctx), evaluate(node.right, ctx)
        if node.op in _COMPARISONS:
            return _compare(node.op, left, right)
        if node.op == "&":
            return to_text(left) + to_text(right)
        return _arith(node.op, left, right)
    return _call(node, ctx)


def _call(node: Call, ctx: Context) -> Any:
    name, args = node.name, node.args
    if name == "AND":
        return all(truthy(evaluate(a, ctx)) for a in args)
    if name == "OR":
        return any(truthy(evaluate(a, ctx)) for a in args)
    if name == "IF":
        if truthy(evaluate(args[0], ctx)):
            return evaluate(args[1], ctx)
        return evaluate(args[2], ctx) if len(args) > 2 else None
    if name == "LAST_MODIFIED_TIME":
        names = [a.name for a in args if isinstance(a, FieldRef)]
        return ctx.last_modified(names or None)
    if name == "CREATED_TIME":
        return ctx.created_time()
    if name == "RECORD_ID":
        return ctx.record_id()
    if name == "BLANK":
        return None
    if name == "TRUE":
        return True
    if name == "FALSE":
        return False
    values = [evaluate(a, ctx) for a in args]
    if name == "NOT":
        return not truthy(values[0])
    if name in ("IS_AFTER", "IS_BEFORE"):
        a, b = to_datetime(values[0]), to_datetime(values[1])
        if a is None or b is None:
            return False
        return a > b if name == "IS_AFTER" else a < b
    if name == "DATETIME_PARSE":
        text = to_text(values[0])
        if len(values) > 1 and values[1] is not None:
            parsed = _parse_with_format(text, to_text(values[1]))
        else:
            parsed = parse_datetime(text)
        if parsed is None:
            raise FormulaValueError(f"cannot parse date {text!r}")
        return parsed
    if name == "FIND":
        needle, haystack = to_text(values[0]), to_text(values[1])
        start = int(to_number(values[2])) - 1 if len(values) > 2 else 0
        return haystack.find(needle, max(start, 0)) + 1
    if name == "LEN":
        return len(to_text(values[0]))
    if name == "LOWER":
        return to_text(values[0]).lower()
    if name == "UPPER":
        return to_text(values[0]).upper()
    raise FormulaValueError(f"unsupported function {name}")  # unreachable: parse() checks


def matches(node: Node, ctx: Context) -> bool:
    """Whether a record passes ``filterByFormula``: errors count as false."""
    try:
        return truthy(evaluate(node, ctx))
    except FormulaValueError:
        return False
