"""A JQL subset: tokenizer, recursive-descent parser and a compiler to Python predicates.

Grammar (what the connectors need; anything else is a 400 naming the problem, as Jira does)::

    query    := [or_expr] [ORDER BY sort (, sort)*]
    or_expr  := and_expr (OR and_expr)*
    and_expr := not_expr (AND not_expr)*
    not_expr := NOT not_expr | '(' or_expr ')' | clause
    clause   := field op operand | field IS [NOT] (EMPTY|NULL) | field [NOT] IN list
    operand  := value | function '(' args ')' | EMPTY | NULL | list

Fields are resolved through a :class:`Catalog` the emulator builds per instance, so the
parser knows nothing about issues: a compiled query is a predicate over *documents*
(``dict`` of catalog key -> normalised value) that the state keeps cached per issue version.
Date values are read in the calling user's time zone, as Jira does.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any

KEYWORDS = {"and", "or", "not", "in", "is", "empty", "null", "order", "by", "asc", "desc"}
DATE_FORMATS_HELP = (
    "Valid formats include: 'yyyy/MM/dd HH:mm', 'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', "
    "'yyyy-MM-dd', or a period format e.g. '-5d', '4w 2d'."
)


class JqlError(Exception):
    """A query Jira would reject with 400; ``str()`` is Jira's errorMessages entry."""


# -- tokens -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Token:
    kind: str  # WORD, STRING, OP, LPAREN, RPAREN, COMMA, EOF
    text: str
    pos: int

    @property
    def keyword(self) -> str | None:
        if self.kind == "WORD" and self.text.lower() in KEYWORDS:
            return self.text.lower()
        return None


_TOKEN_RE = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
  | (?P<op>!=|!~|>=|<=|=|~|>|<)
  | (?P<lparen>\()
  | (?P<rparen>\))
  | (?P<comma>,)
  | (?P<word>cf\[\d+\]|[^\s"'=!~<>(),]+)
    """,
    re.VERBOSE | re.IGNORECASE,
)


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN_RE.match(text, pos)
        if match is None:
            raise JqlError(
                f"Error in the JQL Query: The character '{text[pos]}' is a reserved JQL "
                f"character. You must enclose it in a string or use the escape '\\u"
                f"{ord(text[pos]):04x}' instead. (line 1, character {pos + 1})"
            )
        kind = match.lastgroup or ""
        value = match.group()
        if kind == "string":
            body = value[1:-1]
            tokens.append(Token("STRING", re.sub(r"\\(.)", r"\1", body), pos))
        elif kind != "ws":
            tokens.append(Token(kind.upper() if kind != "op" else "OP", value, pos))
        pos = match.end()
    tokens.append(Token("EOF", "", len(text)))
    return tokens


# -- AST ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Value:
    text: str
    quoted: bool = False


@dataclass(frozen=True)
class Function:
    name: str
    args: tuple[str, ...] = ()


@dataclass(frozen=True)
class Empty:
    pass


Operand = Value | Function | Empty | tuple


@dataclass(frozen=True)
class Clause:
    field: str
    op: str  # =, !=, >, >=, <, <=, ~, !~, in, not in, is, is not
    operand: Any
    pos: int = 0


@dataclass(frozen=True)
class BoolOp:
    op: str  # and, or
    children: tuple[Any, ...]


@dataclass(frozen=True)
class Not:
    child: Any


@dataclass(frozen=True)
class SortKey:
    field: str
    descending: bool


@dataclass(frozen=True)
class Query:
    where: Any | None
    order_by: tuple[SortKey, ...] = ()


# -- parser -------------------------------------------------------------------------------


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.i = 0

    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def advance(self) -> Token:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def error(self, expecting: str) -> JqlError:
        tok = self.tok
        got = "end of query" if tok.kind == "EOF" else f"'{tok.text}'"
        return JqlError(
            f"Error in the JQL Query: Expecting {expecting} but got {got}. "
            f"(line 1, character {tok.pos + 1})"
        )

    def parse(self) -> Query:
        where = None
        if self.tok.kind != "EOF" and self.tok.keyword != "order":
            where = self.or_expr()
        order: list[SortKey] = []
        if self.tok.keyword == "order":
            self.advance()
            if self.tok.keyword != "by":
                raise self.error("'by'")
            self.advance()
            while True:
                name = self.field_name()
                descending = False
                if self.tok.keyword in ("asc", "desc"):
                    descending = self.advance().text.lower() == "desc"
                order.append(SortKey(name, descending))
                if self.tok.kind != "COMMA":
                    break
                self.advance()
        if self.tok.kind != "EOF":
            raise self.error("either 'OR' or 'AND'" if where is not None else "a field name")
        return Query(where, tuple(order))

    def or_expr(self) -> Any:
        children = [self.and_expr()]
        while self.tok.keyword == "or":
            self.advance()
            children.append(self.and_expr())
        return children[0] if len(children) == 1 else BoolOp("or", tuple(children))

    def and_expr(self) -> Any:
        children = [self.not_expr()]
        while self.tok.keyword == "and":
            self.advance()
            children.append(self.not_expr())
        return children[0] if len(children) == 1 else BoolOp("and", tuple(children))

    def not_expr(self) -> Any:
        if self.tok.keyword == "not" or (self.tok.kind == "OP" and self.tok.text == "!"):
            self.advance()
            return Not(self.not_expr())
        if self.tok.kind == "LPAREN":
            self.advance()
            inner = self.or_expr()
            if self.tok.kind != "RPAREN":
                raise self.error("')'")
            self.advance()
            return inner
        return self.clause()

    def field_name(self) -> str:
        tok = self.tok
        if tok.kind == "STRING" or (tok.kind == "WORD" and tok.keyword is None):
            self.advance()
            return tok.text
        raise self.error("a field name")

    def clause(self) -> Clause:
        pos = self.tok.pos
        name = self.field_name()
        tok = self.tok
        if tok.kind == "OP":
            self.advance()
            op = tok.text
            operand = self.list_operand() if self.tok.kind == "LPAREN" else self.operand()
            return Clause(name, op, operand, pos)
        if tok.keyword == "is":
            self.advance()
            op = "is"
            if self.tok.keyword == "not":
                self.advance()
                op = "is not"
            if self.tok.keyword not in ("empty", "null"):
                raise self.error("'EMPTY' or 'NULL'")
            self.advance()
            return Clause(name, op, Empty(), pos)
        if tok.keyword == "in":
            self.advance()
            return Clause(name, "in", self.list_operand(), pos)
        if tok.keyword == "not":
            self.advance()
            if self.tok.keyword != "in":
                raise self.error("'IN'")
            self.advance()
            return Clause(name, "not in", self.list_operand(), pos)
        if tok.kind == "WORD" and tok.text.lower() in ("was", "changed"):
            raise JqlError(
                f"Error in the JQL Query: the operator '{tok.text.upper()}' is not supported "
                f"by this Jira emulator. (line 1, character {tok.pos + 1})"
            )
        raise self.error(
            "one of the operators '=', '!=', '~', '<', '>', "
            "'<=', '>=', 'IN', 'NOT IN', 'IS' or 'IS NOT'"
        )

    def list_operand(self) -> Any:
        if self.tok.kind != "LPAREN":
            if self.tok.kind == "WORD" and self.peek_is_function():
                return self.operand()
            raise self.error("'('")
        self.advance()
        values: list[Any] = []
        while True:
            values.append(self.operand())
            if self.tok.kind == "COMMA":
                self.advance()
                continue
            if self.tok.kind == "RPAREN":
                self.advance()
                return tuple(values)
            raise self.error("')' or ','")

    def peek_is_function(self) -> bool:
        return self.tokens[self.i + 1].kind == "LPAREN"

    def operand(self) -> Any:
        tok = self.tok
        if tok.kind == "STRING":
            self.advance()
            return Value(tok.text, quoted=True)
        if tok.kind == "WORD":
            if tok.keyword in ("empty", "null"):
                self.advance()
                return Empty()
            if tok.keyword is not None:
                raise self.error("a value")
            self.advance()
            if self.tok.kind == "LPAREN":
                self.advance()
                args: list[str] = []
                while self.tok.kind != "RPAREN":
                    if self.tok.kind in ("WORD", "STRING"):
                        args.append(self.advance().text)
                    elif self.tok.kind == "COMMA":
                        self.advance()
                    else:
                        raise self.error("')'")
                self.advance()
                return Function(tok.text, tuple(args))
            return Value(tok.text)
        raise self.error("a value")


def parse(text: str) -> Query:
    return _Parser(text or "").parse()


# -- catalog and compilation ----------------------------------------------------------------

# field kinds and the operators Jira allows on them
_OPS: dict[str, set[str]] = {
    "ref": {"=", "!=", "in", "not in", "is", "is not"},
    "key": {"=", "!=", "in", "not in", "is", "is not", ">", ">=", "<", "<="},
    "datetime": {"=", "!=", ">", ">=", "<", "<=", "is", "is not", "in", "not in"},
    "date": {"=", "!=", ">", ">=", "<", "<=", "is", "is not", "in", "not in"},
    "number": {"=", "!=", ">", ">=", "<", "<=", "is", "is not", "in", "not in"},
    "text": {"~", "!~", "is", "is not"},
}


@dataclass
class FieldDef:
    """How one JQL field name is evaluated.

    ``key`` is the document key; ``kind`` one of ``ref`` (doc value: frozenset of lower-case
    identifiers), ``key`` (doc value: (project, number) plus ids in ``key+ids``), ``datetime``
    (aware datetime), ``date`` (date), ``number`` (float) or ``text`` (lower-case string).
    ``known`` (optional) checks a literal for ref fields so unknown values are a 400;
    ``empty_words`` are literals that mean EMPTY (``resolution = Unresolved``).
    """

    key: str
    kind: str
    display: str
    known: Callable[[str], bool] | None = None
    empty_words: frozenset[str] = frozenset()


PROPERTY_CLAUSE = re.compile(r"^issue\.property\[([^\]]+)\]\.(.+)$", re.IGNORECASE)


def property_doc_key(key: str, path: str) -> str:
    """The search document key of an indexed entity property path (``pmo-sync`` + ``id``)."""
    return f"property:{key}.{path}".lower()


@dataclass
class Catalog:
    fields: dict[str, FieldDef] = field(default_factory=dict)

    def add(self, names: Iterable[str], definition: FieldDef) -> None:
        for name in names:
            self.fields[name.lower()] = definition

    def lookup(self, name: str) -> FieldDef:
        definition = self.fields.get(name.lower())
        if definition is None and (match := PROPERTY_CLAUSE.match(name)):
            # ``issue.property[KEY].PATH`` is valid JQL on every site, but Jira only indexes
            # the paths an app declared (Forge jira:entityProperty, Connect jiraEntityProperties:
            # developer.atlassian.com/platform/forge/manifest-reference/modules/
            # jira-entity-property/). Without an index the clause has no values to match:
            # the search answers 200 with nothing found, which is what a twin search by an
            # unindexed property would silently get (undocumented; we model the harsh case).
            return FieldDef(property_doc_key(match.group(1), match.group(2)), "ref", name)
        if definition is None:
            raise JqlError(
                f"Field '{name}' does not exist or you do not have permission to view it."
            )
        return definition


@dataclass
class EvalContext:
    """What a query needs from its caller: the user's zone and identity, the clock, sprints."""

    tz: tzinfo
    now: datetime
    current_user: frozenset[str] = frozenset()
    open_sprints: frozenset[str] = frozenset()
    closed_sprints: frozenset[str] = frozenset()
    future_sprints: frozenset[str] = frozenset()
    # more list functions by lower-case name, e.g. "releasedversions": lambda args: {...}
    functions: dict[str, Callable[[tuple[str, ...]], frozenset[str]]] = field(default_factory=dict)


Doc = dict[str, Any]
Predicate = Callable[[Doc], bool]

_DATE_RES = [
    (re.compile(r"^(\d{4})[/-](\d{1,2})[/-](\d{1,2})\s+(\d{1,2}):(\d{2})$"), True),
    (re.compile(r"^(\d{4})[/-](\d{1,2})[/-](\d{1,2})$"), False),
]
_PERIOD_RE = re.compile(r"^\s*([+-])?\s*((?:\d+\s*[yMwdhm]\s*)+)$")
_PERIOD_PART = re.compile(r"(\d+)\s*([yMwdhm])")


def _period(text: str) -> timedelta | None:
    match = _PERIOD_RE.match(text)
    if not match:
        return None
    total = timedelta()
    for amount, unit in _PERIOD_PART.findall(match.group(2)):
        n = int(amount)
        total += {
            "y": timedelta(days=365 * n),
            "M": timedelta(days=30 * n),
            "w": timedelta(weeks=n),
            "d": timedelta(days=n),
            "h": timedelta(hours=n),
            "m": timedelta(minutes=n),
        }[unit]
    return -total if match.group(1) == "-" else total


def parse_moment(text: str, ctx: EvalContext, field_name: str) -> datetime:
    """A JQL date literal as an aware datetime, read in the user's zone (Jira's rule)."""
    text = text.strip()
    for regex, has_time in _DATE_RES:
        match = regex.match(text)
        if match:
            parts = [int(p) for p in match.groups()]
            hour, minute = (parts[3], parts[4]) if has_time else (0, 0)
            try:
                local = datetime(parts[0], parts[1], parts[2], hour, minute)
            except ValueError:
                break
            return local.replace(tzinfo=ctx.tz)
    delta = _period(text)
    if delta is not None:
        return ctx.now + delta
    raise JqlError(f"Date value '{text}' for field '{field_name}' is invalid. {DATE_FORMATS_HELP}")


def _start_of(name: str, ctx: EvalContext, args: tuple[str, ...]) -> datetime:
    local = ctx.now.astimezone(ctx.tz)
    if name.startswith("startofday") or name.startswith("endofday"):
        base = local.replace(hour=0, minute=0, second=0, microsecond=0)
        if name.startswith("endofday"):
            base += timedelta(days=1) - timedelta(milliseconds=1)
    elif name.startswith("startofweek") or name.startswith("endofweek"):
        base = local.replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(
            days=(local.weekday() + 1) % 7
        )
        if name.startswith("endofweek"):
            base += timedelta(days=7) - timedelta(milliseconds=1)
    else:  # month
        base = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        if name.startswith("endofmonth"):
            nxt = (base + timedelta(days=32)).replace(day=1)
            base = nxt - timedelta(milliseconds=1)
    if args:
        delta = _period(args[0])
        if delta is None:
            raise JqlError(f"Invalid period '{args[0]}' in function '{name}'.")
        base += delta
    return base


_MOMENT_FUNCS = {
    "now",
    "startofday",
    "endofday",
    "startofweek",
    "endofweek",
    "startofmonth",
    "endofmonth",
}


def _moment_operand(operand: Any, ctx: EvalContext, display: str) -> datetime:
    if isinstance(operand, Value):
        return parse_moment(operand.text, ctx, display)
    if isinstance(operand, Function):
        name = operand.name.lower()
        if name == "now":
            return ctx.now
        if name in _MOMENT_FUNCS:
            return _start_of(name, ctx, operand.args)
    raise JqlError(f"Unable to find JQL function '{_fn_text(operand)}'.")


def _fn_text(operand: Any) -> str:
    if isinstance(operand, Function):
        return f"{operand.name}({', '.join(operand.args)})"
    return str(operand)


def _ref_values(operand: Any, ctx: EvalContext, fdef: FieldDef, name: str) -> set[str]:
    if isinstance(operand, Value):
        value = operand.text.lower()
        if fdef.known is not None and not fdef.known(value):
            raise JqlError(f"The value '{operand.text}' does not exist for the field '{name}'.")
        return {value}
    if isinstance(operand, Function):
        fname = operand.name.lower()
        table = {
            "currentuser": ctx.current_user,
            "opensprints": ctx.open_sprints,
            "closedsprints": ctx.closed_sprints,
            "futuresprints": ctx.future_sprints,
        }
        if fname in table:
            return set(table[fname])
        if fname in ctx.functions:
            return set(ctx.functions[fname](operand.args))
        raise JqlError(f"Unable to find JQL function '{_fn_text(operand)}'.")
    raise JqlError(f"The operand '{operand}' is not valid for the field '{name}'.")


_CMP: dict[str, Callable[[Any, Any], bool]] = {
    "=": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
}


def _scalar(operand: Any, fdef: FieldDef, ctx: EvalContext, name: str) -> Any:
    if fdef.kind == "datetime":
        return _moment_operand(operand, ctx, name)
    if fdef.kind == "date":
        return _moment_operand(operand, ctx, name).astimezone(ctx.tz).date()
    if fdef.kind == "number":
        if isinstance(operand, Value):
            try:
                return float(operand.text)
            except ValueError:
                pass
        raise JqlError(f"The value '{_fn_text(operand)}' is not a number for field '{name}'.")
    if fdef.kind == "key" and isinstance(operand, Value):
        return _parse_key(operand.text, name)
    raise JqlError(f"The operand '{_fn_text(operand)}' is not valid for the field '{name}'.")


def _parse_key(text: str, name: str) -> tuple[str, int]:
    match = re.fullmatch(r"([A-Za-z][A-Za-z0-9_]*)-(\d+)", text.strip())
    if match:
        return (match.group(1).upper(), int(match.group(2)))
    if text.strip().isdigit():
        return ("#id", int(text.strip()))
    raise JqlError(f"The issue key '{text}' for field '{name}' is invalid.")


def _compile_clause(clause: Clause, catalog: Catalog, ctx: EvalContext) -> Predicate:
    fdef = catalog.lookup(clause.field)
    op = clause.op.lower()
    name = clause.field
    if op not in _OPS[fdef.kind]:
        raise JqlError(
            f"The operator '{clause.op.upper()}' is not supported by the '{name}' field."
        )
    key = fdef.key
    operand = clause.operand

    if op in ("is", "is not") or isinstance(operand, Empty):
        if op not in ("is", "is not", "=", "!="):
            raise JqlError(
                f"The operator '{clause.op.upper()}' is not supported with EMPTY for '{name}'."
            )
        want_empty = op in ("is", "=")
        return lambda doc: (doc.get(key) in (None, frozenset(), "")) == want_empty

    if fdef.kind == "text":
        if not isinstance(operand, Value):
            raise JqlError(f"The operand '{_fn_text(operand)}' is not valid for '{name}'.")
        words = [w for w in re.split(r"\W+", operand.text.lower()) if w]
        negate = op == "!~"

        def text_match(doc: Doc) -> bool:
            haystack = doc.get(key) or ""
            found = all(w in haystack for w in words)
            return found != negate

        return text_match

    if fdef.kind == "ref":
        values: set[str] = set()
        items = operand if isinstance(operand, tuple) else (operand,)
        if op in ("in", "not in") and not isinstance(operand, tuple | Function):
            raise JqlError(f"The operator '{op.upper()}' needs a list of values for '{name}'.")
        include_empty = any(
            isinstance(v, Empty) or (isinstance(v, Value) and v.text.lower() in fdef.empty_words)
            for v in items
        )
        for item in items:
            if isinstance(item, Empty) or (
                isinstance(item, Value) and item.text.lower() in fdef.empty_words
            ):
                continue
            values |= _ref_values(item, ctx, fdef, name)
        frozen = frozenset(values)
        positive = op in ("=", "in")

        def ref_match(doc: Doc) -> bool:
            have = doc.get(key) or frozenset()
            hit = bool(have & frozen) or (include_empty and not have)
            return hit if positive else (not hit and bool(have))

        return ref_match

    # ordered kinds: key, datetime, date, number
    if op in ("in", "not in"):
        items = operand if isinstance(operand, tuple) else (operand,)
        scalars = [_scalar(i, fdef, ctx, name) for i in items if not isinstance(i, Empty)]
        include_empty = any(isinstance(v, Empty) for v in items)
        positive = op == "in"

        def in_match(doc: Doc) -> bool:
            have = _doc_scalar(doc, key, fdef.kind)
            if have is None:
                return include_empty == positive and include_empty
            hit = any(_eq(have, s, fdef.kind) for s in scalars)
            return hit == positive

        return in_match

    target = _scalar(operand, fdef, ctx, name)
    compare = _CMP[op]
    kind = fdef.kind

    def ordered_match(doc: Doc) -> bool:
        have = _doc_scalar(doc, key, kind)
        if have is None:
            return False
        if kind == "key":
            return _key_compare(have, target, op)
        return compare(have, target)

    return ordered_match


def _doc_scalar(doc: Doc, key: str, kind: str) -> Any:
    return doc.get(key)


def _eq(have: Any, want: Any, kind: str) -> bool:
    if kind == "key":
        return _key_compare(have, want, "=")
    return bool(have == want)


def _key_compare(have: Any, want: tuple[str, int], op: str) -> bool:
    # doc value for key fields: (PROJECT, number, issue id)
    project, number, issue_id = have
    if want[0] == "#id":
        return _CMP[op](issue_id, want[1])
    if op in ("=", "!="):
        return _CMP[op]((project, number), want)
    return project == want[0] and _CMP[op](number, want[1])


def _compile(node: Any, catalog: Catalog, ctx: EvalContext) -> Predicate:
    if isinstance(node, Clause):
        return _compile_clause(node, catalog, ctx)
    if isinstance(node, Not):
        inner = _compile(node.child, catalog, ctx)
        return lambda doc: not inner(doc)
    if isinstance(node, BoolOp):
        parts = [_compile(c, catalog, ctx) for c in node.children]
        if node.op == "and":
            return lambda doc: all(p(doc) for p in parts)
        return lambda doc: any(p(doc) for p in parts)
    raise JqlError("Error in the JQL Query: unsupported expression.")


@dataclass
class CompiledQuery:
    query: Query
    predicate: Predicate
    sort_key: Callable[[Doc], Any]

    @property
    def bounded(self) -> bool:
        return self.query.where is not None


class _Desc:
    """Wraps a sort value so a single ``sorted`` call can mix ASC and DESC keys."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __lt__(self, other: _Desc) -> bool:
        return bool(other.value < self.value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Desc) and self.value == other.value


def _sort_value(value: Any) -> tuple[int, Any]:
    # EMPTY sorts after everything in ASC order (Jira puts unset values last)
    if value is None or value == frozenset():
        return (1, 0)
    if isinstance(value, frozenset):
        return (0, min(value))
    if isinstance(value, datetime):
        return (0, value.timestamp())
    if isinstance(value, date):
        return (0, value.toordinal())
    return (0, value)


def compile_query(
    text: str, catalog: Catalog, ctx: EvalContext, *, max_order_fields: int | None = None
) -> CompiledQuery:
    query = parse(text)
    predicate = _compile(query.where, catalog, ctx) if query.where is not None else (lambda d: True)
    if max_order_fields is not None and len(query.order_by) > max_order_fields:
        raise JqlError(f"The ORDER BY clause can contain at most {max_order_fields} fields.")
    sorts: list[tuple[str, str, bool]] = []
    for sort in query.order_by:
        fdef = catalog.lookup(sort.field)
        sort_key = f"{fdef.key}:sort" if fdef.kind in ("ref", "text") else fdef.key
        sorts.append((sort_key, fdef.kind, sort.descending))
    if not sorts:
        sorts = [("created", "datetime", True)]
    sorts.append(("id", "number", True))

    def key_fn(doc: Doc) -> Any:
        parts = []
        for sort_key, _kind, descending in sorts:
            value = _sort_value(doc.get(sort_key))
            parts.append(_Desc(value) if descending else value)
        return tuple(parts)

    return CompiledQuery(query, predicate, key_fn)


UTC = UTC
