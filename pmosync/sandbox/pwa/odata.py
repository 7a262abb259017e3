"""A small, real OData v3 query engine for the PWA emulator.

It parses ``$filter`` into an expression tree (``eq ne gt ge lt le and or not``, parentheses,
``datetime'…'``, ``datetimeoffset'…'``, ``guid'…'``, strings, numbers, ``true/false/null``,
property paths such as ``Parent/Id``, and the functions ``substringof``, ``startswith``,
``endswith``, ``tolower``, ``toupper``, ``length``), applies ``$orderby``, ``$skip``, ``$top`` and
server-driven paging with a key-based ``$skiptoken``, and renders entities in the two JSON
dialects SharePoint speaks: verbose (``{"d": …}``) and JSON light (``value``/``odata.*``).

Type rules follow OData v3: comparing a Guid with a string, or a DateTime with a string, is a
400 ``InvalidClientQueryException``, which catches clients that forget the typed literals.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import Enum
from typing import Any
from urllib.parse import quote

QUERY_OPTIONS = frozenset(
    {
        "$select",
        "$filter",
        "$orderby",
        "$top",
        "$skip",
        "$expand",
        "$skiptoken",
        "$inlinecount",
        "$format",
    }
)
INVALID_QUERY = "-1, Microsoft.SharePoint.Client.InvalidClientQueryException"
EPOCH = datetime(1970, 1, 1)
SENTINEL_DATE = datetime(1, 1, 1)


class Guid(str):
    """A GUID value: kept apart from plain strings so ``Id eq 'x'`` is a type error."""

    __slots__ = ()

    def __new__(cls, value: object) -> Guid:
        return super().__new__(cls, str(value).strip("{}").lower())


class ODataError(Exception):
    """An OData error reply (rendered by the emulator in the negotiated dialect)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def bad_query(message: str) -> ODataError:
    return ODataError(400, INVALID_QUERY, message)


# -- dialects ------------------------------------------------------------------------------
class Dialect(Enum):
    VERBOSE = "verbose"
    MINIMAL = "minimalmetadata"
    NOMETADATA = "nometadata"

    @property
    def light(self) -> bool:
        return self is not Dialect.VERBOSE


def negotiate(accept: str, format_param: str | None = None) -> Dialect | None:
    """The JSON dialect the ``Accept`` header asks for, or None (the real service answers
    Atom XML then, which this emulator does not speak)."""
    if format_param and format_param.lower().startswith("json"):
        return Dialect.MINIMAL
    lowered = accept.lower()
    if "application/json" not in lowered:
        return None
    if "odata=verbose" in lowered:
        return Dialect.VERBOSE
    if "odata=nometadata" in lowered:
        return Dialect.NOMETADATA
    return Dialect.MINIMAL


def error_body(error: ODataError, dialect: Dialect | None) -> dict[str, Any]:
    inner = {"code": error.code, "message": {"lang": "en-US", "value": error.message}}
    if dialect is Dialect.VERBOSE:
        return {"error": inner}
    return {"odata.error": inner}


# -- values --------------------------------------------------------------------------------
def iso(value: datetime) -> str:
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    spec = "seconds" if value.microsecond == 0 else "milliseconds"
    return value.isoformat(timespec=spec)


def ms_date(value: datetime) -> str:
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    millis = int((value - EPOCH).total_seconds() * 1000)
    return f"/Date({millis})/"


def parse_datetime(text: str) -> datetime:
    """ISO (with or without offset, ``Z``) or ``/Date(ms)/``; offsets are turned into naive UTC."""
    raw = text.strip()
    match = re.fullmatch(r"/?\\?/?Date\((-?\d+)([+-]\d{4})?\)\\?/?", raw)
    if match:
        from datetime import timedelta

        return EPOCH + timedelta(milliseconds=int(match.group(1)))
    try:
        parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError as exc:
        raise bad_query(f"'{text}' is not a valid Edm.DateTime value.") from exc
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC).replace(tzinfo=None)
    return parsed


def edm_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "Edm.Boolean"
    if isinstance(value, int):
        return "Edm.Int32"
    if isinstance(value, float):
        return "Edm.Double"
    if isinstance(value, Guid):
        return "Edm.Guid"
    if isinstance(value, str):
        return "Edm.String"
    if isinstance(value, datetime):
        return "Edm.DateTime"
    if isinstance(value, list):
        return "Collection(Edm.String)"
    return type(value).__name__


def literal(value: Any) -> str:
    """The OData URI literal for a key value (used in ``$skiptoken`` and entity ids)."""
    if isinstance(value, Guid):
        return f"guid'{value}'"
    if isinstance(value, datetime):
        return f"datetime'{iso(value)}'"
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# -- tokenizer and parser ------------------------------------------------------------------
_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<typed>(?:datetimeoffset|datetime|guid|time|X|binary)'(?:[^']|'')*')
  | (?P<string>'(?:[^']|'')*')
  | (?P<number>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?[mMdDfFlL]?)
  | (?P<lparen>\()
  | (?P<rparen>\))
  | (?P<comma>,)
  | (?P<name>[A-Za-z_][A-Za-z0-9_.]*(?:/[A-Za-z_][A-Za-z0-9_.]*)*)
    """,
    re.VERBOSE,
)

COMPARISONS = frozenset({"eq", "ne", "gt", "ge", "lt", "le"})
FUNCTIONS: dict[str, int] = {
    "substringof": 2,
    "startswith": 2,
    "endswith": 2,
    "tolower": 1,
    "toupper": 1,
    "length": 1,
    "trim": 1,
}


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    pos: int


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            raise bad_query(f"Syntax error at position {pos} in '{text}'.")
        kind = match.lastgroup or ""
        if kind != "ws":
            tokens.append(Token(kind, match.group(), pos))
        pos = match.end()
    return tokens


@dataclass(frozen=True)
class Literal:
    value: Any


@dataclass(frozen=True)
class Prop:
    path: tuple[str, ...]


@dataclass(frozen=True)
class Call:
    name: str
    args: tuple[Node, ...]


@dataclass(frozen=True)
class Binary:
    op: str
    left: Node
    right: Node
    pos: int


@dataclass(frozen=True)
class Not:
    operand: Node


Node = Literal | Prop | Call | Binary | Not


def _literal_value(token: Token) -> Any:
    text = token.text
    if token.kind == "string":
        return text[1:-1].replace("''", "'")
    if token.kind == "number":
        body = text.rstrip("mMdDfFlL")
        if text[-1:] in "lL" or re.fullmatch(r"-?\d+", body):
            return int(body)
        return float(body)
    prefix, _, rest = text.partition("'")
    inner = rest[:-1].replace("''", "'")
    if prefix == "guid":
        if not re.fullmatch(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}", inner):
            raise bad_query(f"Unrecognized 'Edm.Guid' literal '{text}' at position {token.pos}.")
        return Guid(inner)
    if prefix in ("datetime", "datetimeoffset"):
        return parse_datetime(inner)
    raise bad_query(f"Unsupported literal '{text}' at position {token.pos}.")


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.i = 0

    def peek(self) -> Token | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def next(self) -> Token:
        token = self.peek()
        if token is None:
            raise bad_query(f"Expression expected at position {len(self.text)} in '{self.text}'.")
        self.i += 1
        return token

    def keyword(self, *words: str) -> Token | None:
        token = self.peek()
        if token is not None and token.kind == "name" and token.text in words:
            self.i += 1
            return token
        return None

    def expect(self, kind: str) -> Token:
        token = self.next()
        if token.kind != kind:
            raise bad_query(f"'{kind}' expected at position {token.pos} in '{self.text}'.")
        return token

    def parse(self) -> Node:
        node = self.or_expr()
        if self.peek() is not None:
            token = self.peek()
            assert token is not None
            raise bad_query(f"Syntax error at position {token.pos} in '{self.text}'.")
        return node

    def or_expr(self) -> Node:
        node = self.and_expr()
        while (token := self.keyword("or")) is not None:
            node = Binary("or", node, self.and_expr(), token.pos)
        return node

    def and_expr(self) -> Node:
        node = self.not_expr()
        while (token := self.keyword("and")) is not None:
            node = Binary("and", node, self.not_expr(), token.pos)
        return node

    def not_expr(self) -> Node:
        if self.keyword("not") is not None:
            return Not(self.not_expr())
        return self.comparison()

    def comparison(self) -> Node:
        left = self.primary()
        token = self.keyword(*COMPARISONS)
        if token is None:
            return left
        return Binary(token.text, left, self.primary(), token.pos)

    def primary(self) -> Node:
        token = self.next()
        if token.kind == "lparen":
            node = self.or_expr()
            self.expect("rparen")
            return node
        if token.kind in ("string", "number", "typed"):
            return Literal(_literal_value(token))
        if token.kind == "name":
            if token.text in ("true", "false"):
                return Literal(token.text == "true")
            if token.text == "null":
                return Literal(None)
            following = self.peek()
            if following is not None and following.kind == "lparen":
                return self.call(token)
            return Prop(tuple(token.text.split("/")))
        raise bad_query(f"Syntax error at position {token.pos} in '{self.text}'.")

    def call(self, name: Token) -> Node:
        arity = FUNCTIONS.get(name.text)
        if arity is None:
            raise bad_query(f"Unknown function '{name.text}' at position {name.pos}.")
        self.expect("lparen")
        args: list[Node] = [self.or_expr()]
        while self.peek() is not None and self.peek().kind == "comma":  # type: ignore[union-attr]
            self.i += 1
            args.append(self.or_expr())
        self.expect("rparen")
        if len(args) != arity:
            raise bad_query(
                f"No function signature for the function with name '{name.text}' matches "
                f"the specified arguments."
            )
        return Call(name.text, tuple(args))


def parse_filter(text: str) -> Node:
    return _Parser(text).parse()


def parse_literal_list(text: str) -> list[Any]:
    """``guid'a',guid'b'`` (a ``$skiptoken`` or a compound key) into Python values."""
    values: list[Any] = []
    for token in tokenize(text):
        if token.kind == "comma":
            continue
        if token.kind in ("string", "number", "typed"):
            values.append(_literal_value(token))
        elif token.kind == "name" and token.text in ("true", "false"):
            values.append(token.text == "true")
        else:
            raise bad_query(f"Invalid literal '{token.text}'.")
    return values


# -- evaluation ----------------------------------------------------------------------------
Getter = Callable[[tuple[str, ...]], Any]


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, Guid):
        return "guid"
    if isinstance(value, str):
        return "string"
    if isinstance(value, datetime):
        return "datetime"
    return "other"


def _compare(op: str, left: Any, right: Any, pos: int) -> bool:
    lk, rk = _kind(left), _kind(right)
    if "null" in (lk, rk):
        if op == "eq":
            return left is None and right is None
        if op == "ne":
            return not (left is None and right is None)
        return False
    if lk != rk:
        raise bad_query(
            f"Operator '{op}' incompatible with operand types '{edm_type(left)}' and "
            f"'{edm_type(right)}' at position {pos}."
        )
    if op == "eq":
        return bool(left == right)
    if op == "ne":
        return bool(left != right)
    if lk in ("bool", "other"):
        raise bad_query(f"Operator '{op}' is not defined for '{edm_type(left)}'.")
    if op == "gt":
        return bool(left > right)
    if op == "ge":
        return bool(left >= right)
    if op == "lt":
        return bool(left < right)
    return bool(left <= right)


def evaluate(node: Node, get: Getter) -> Any:
    if isinstance(node, Literal):
        return node.value
    if isinstance(node, Prop):
        return get(node.path)
    if isinstance(node, Not):
        value = evaluate(node.operand, get)
        if not isinstance(value, bool):
            raise bad_query("Operator 'not' needs a Boolean operand.")
        return not value
    if isinstance(node, Binary):
        if node.op in ("and", "or"):
            left = evaluate(node.left, get)
            right = evaluate(node.right, get)
            if not isinstance(left, bool) or not isinstance(right, bool):
                raise bad_query(f"Operator '{node.op}' needs Boolean operands.")
            return (left and right) if node.op == "and" else (left or right)
        return _compare(node.op, evaluate(node.left, get), evaluate(node.right, get), node.pos)
    args = [evaluate(a, get) for a in node.args]
    if any(a is not None and not isinstance(a, str) for a in args):
        raise bad_query(f"Function '{node.name}' needs Edm.String arguments.")
    if any(a is None for a in args):
        return None if node.name in ("tolower", "toupper", "trim", "length") else False
    if node.name == "substringof":
        return args[0] in args[1]
    if node.name == "startswith":
        return args[0].startswith(args[1])
    if node.name == "endswith":
        return args[0].endswith(args[1])
    if node.name == "tolower":
        return args[0].lower()
    if node.name == "toupper":
        return args[0].upper()
    if node.name == "trim":
        return args[0].strip()
    return len(args[0])


# -- entities ------------------------------------------------------------------------------
NavTarget = Callable[[], "Entity | list[Entity] | None"]


@dataclass
class Entity:
    """One entity as served: scalar ``props`` plus lazily resolved navigation properties.

    ``uri`` is relative to ``{site}/_api/`` (e.g. ``ProjectServer/Projects('…')``); ``key`` is
    the tuple ``$skiptoken`` is built from.
    """

    type: str
    uri: str
    key: tuple[Any, ...]
    props: dict[str, Any]
    nav: dict[str, NavTarget] = field(default_factory=dict)

    def get(self, path: tuple[str, ...]) -> Any:
        head, rest = path[0], path[1:]
        if head in self.props:
            if rest:
                raise bad_query(f"'{head}' is not a navigation property of '{self.type}'.")
            return self.props[head]
        if head in self.nav:
            target = self.nav[head]()
            if not rest:
                raise bad_query(f"Navigation property '{head}' cannot be compared.")
            if target is None:
                return None
            if isinstance(target, list):
                raise bad_query(f"'{head}' is a collection and cannot be used in a path.")
            return target.get(rest)
        raise bad_query(
            f"The property '{head}' does not exist on type '{self.type}'. Make sure to only use "
            "property names that are defined by the type."
        )


@dataclass
class Query:
    select: list[tuple[str, ...]] | None = None
    filter: Node | None = None
    orderby: list[tuple[tuple[str, ...], bool]] = field(default_factory=list)
    top: int | None = None
    skip: int = 0
    expand: list[tuple[str, ...]] = field(default_factory=list)
    skiptoken: list[Any] | None = None
    inlinecount: bool = False
    raw: dict[str, str] = field(default_factory=dict)


def _paths(text: str) -> list[tuple[str, ...]]:
    return [tuple(p.strip().split("/")) for p in text.split(",") if p.strip()]


def _non_negative(name: str, text: str) -> int:
    if not re.fullmatch(r"\d+", text.strip()):
        raise bad_query(f"Invalid {name} value '{text}': a non-negative integer is expected.")
    return int(text)


def parse_query(args: Mapping[str, str]) -> Query:
    query = Query()
    for name, value in args.items():
        if not name.startswith("$"):
            continue  # custom query parameters are ignored by OData services
        if name not in QUERY_OPTIONS:
            raise bad_query(f"The query parameter '{name}' is not supported.")
        query.raw[name] = value
    if "$select" in query.raw and query.raw["$select"].strip() not in ("", "*"):
        query.select = _paths(query.raw["$select"])
    if query.raw.get("$filter", "").strip():
        query.filter = parse_filter(query.raw["$filter"])
    for part in query.raw.get("$orderby", "").split(","):
        words = part.split()
        if not words:
            continue
        if len(words) > 2 or (len(words) == 2 and words[1] not in ("asc", "desc")):
            raise bad_query(f"Invalid $orderby clause '{part.strip()}'.")
        query.orderby.append((tuple(words[0].split("/")), len(words) == 2 and words[1] == "desc"))
    if "$top" in query.raw:
        query.top = _non_negative("$top", query.raw["$top"])
    if "$skip" in query.raw:
        query.skip = _non_negative("$skip", query.raw["$skip"])
    if query.raw.get("$expand", "").strip():
        query.expand = _paths(query.raw["$expand"])
    if query.raw.get("$skiptoken", "").strip():
        query.skiptoken = parse_literal_list(query.raw["$skiptoken"])
    inline = query.raw.get("$inlinecount")
    if inline not in (None, "allpages", "none"):
        raise bad_query(f"Invalid $inlinecount value '{inline}'.")
    query.inlinecount = inline == "allpages"
    return query


def _sort_key(value: Any) -> tuple[int, Any]:
    # None sorts first, like SQL Server does for ascending order.
    if value is None:
        return (0, 0)
    if isinstance(value, bool):
        return (1, int(value))
    return (1, value)


def _order_key(path: tuple[str, ...]) -> Callable[[Entity], tuple[int, Any]]:
    def key(entity: Entity) -> tuple[int, Any]:
        return _sort_key(entity.get(path))

    return key


@dataclass
class Page:
    items: list[Entity]
    next_query: dict[str, str] | None
    count: int | None


def apply_query(entities: Iterable[Entity], query: Query, page_size: int) -> Page:
    """Filter, order, skip/top and cut one server-driven page."""
    items = list(entities)
    if query.filter is not None:
        kept: list[Entity] = []
        for entity in items:
            result = evaluate(query.filter, entity.get)
            if result is not None and not isinstance(result, bool):
                raise bad_query("The $filter expression must evaluate to a single Boolean value.")
            if result:
                kept.append(entity)
        items = kept
    for path, descending in reversed(query.orderby):
        try:
            items.sort(key=_order_key(path), reverse=descending)
        except TypeError as exc:
            raise bad_query(f"Cannot order by '{'/'.join(path)}'.") from exc
    count = len(items) if query.inlinecount else None
    if query.skiptoken is not None:
        token = tuple(query.skiptoken)
        position = next((i for i, e in enumerate(items) if e.key == token), None)
        if position is None:
            raise bad_query(f"The skip token '{query.raw.get('$skiptoken')}' is not valid.")
        items = items[position + 1 :]
    elif query.skip:
        items = items[query.skip :]
    limit = query.top if query.top is not None else None
    take = page_size if limit is None else min(limit, page_size)
    page = items[:take]
    more = len(items) > take and (limit is None or limit > take)
    next_query: dict[str, str] | None = None
    if more and page:
        next_query = {k: v for k, v in query.raw.items() if k not in ("$skip", "$skiptoken")}
        if limit is not None:
            next_query["$top"] = str(limit - take)
        next_query["$skiptoken"] = ",".join(literal(v) for v in page[-1].key)
    return Page(page, next_query, count)


def encode_query(params: Mapping[str, str]) -> str:
    # OData clients expect readable $-options; quote everything else like a browser would.
    return "&".join(f"{k}={quote(v, safe=chr(39) + ',()/:$')}" for k, v in params.items())


# -- rendering -----------------------------------------------------------------------------
@dataclass
class Renderer:
    dialect: Dialect
    api_base: str  # absolute ``https://host/sites/pwa/_api/``
    ms_dates: bool  # WCF (ProjectData) verbose uses /Date(ms)/; ProjectServer uses ISO
    service: str = "ProjectServer"

    def value(self, value: Any) -> Any:
        if isinstance(value, datetime):
            return ms_date(value) if self.ms_dates and not self.dialect.light else iso(value)
        if isinstance(value, list):
            if self.dialect.light:
                return list(value)
            return {"__metadata": {"type": "Collection(Edm.String)"}, "results": list(value)}
        return value

    def entity(
        self,
        entity: Entity,
        select: list[tuple[str, ...]] | None,
        expand: list[tuple[str, ...]],
    ) -> dict[str, Any]:
        expanded: dict[str, list[tuple[str, ...]]] = {}
        for path in expand:
            if path[0] not in entity.nav:
                raise bad_query(
                    f"The property '{path[0]}' does not exist on type '{entity.type}' or is "
                    "not a navigation property."
                )
            expanded.setdefault(path[0], [])
            if len(path) > 1:
                expanded[path[0]].append(path[1:])
        wanted: dict[str, list[tuple[str, ...]] | None] | None = None
        if select is not None:
            wanted = {}
            for path in select:
                head = path[0]
                if head not in entity.props and head not in entity.nav:
                    raise bad_query(
                        f"The property '{head}' does not exist on type '{entity.type}'. Make "
                        "sure to only use property names that are defined by the type."
                    )
                if len(path) > 1:
                    if head not in expanded:
                        raise bad_query(
                            f"Only properties specified in $expand can be traversed in $select "
                            f"query options. Selected item: '{'/'.join(path)}'."
                        )
                    sub = wanted.get(head) or []
                    sub.append(path[1:])
                    wanted[head] = sub
                else:
                    wanted[head] = None
        out: dict[str, Any] = {}
        absolute = self.api_base + entity.uri
        if self.dialect is Dialect.VERBOSE:
            out["__metadata"] = {"id": absolute, "uri": absolute, "type": entity.type}
        elif self.dialect is Dialect.MINIMAL:
            out["odata.type"] = entity.type
            out["odata.id"] = absolute
            out["odata.editLink"] = entity.uri
        for name, value in entity.props.items():
            if wanted is None or name in wanted:
                out[name] = self.value(value)
        for name, target in entity.nav.items():
            if name in expanded:
                sub_select = None if wanted is None else wanted.get(name)
                resolved = target()
                if isinstance(resolved, list):
                    rows = [self.entity(e, sub_select, expanded[name]) for e in resolved]
                    out[name] = rows if self.dialect.light else {"results": rows}
                elif resolved is None:
                    out[name] = None
                else:
                    out[name] = self.entity(resolved, sub_select, expanded[name])
            elif self.dialect is Dialect.VERBOSE and (wanted is None or name in wanted):
                out[name] = {"__deferred": {"uri": f"{absolute}/{name}"}}
        return out

    def collection(
        self, page: Page, query: Query, request_url: str, entity_set: str
    ) -> dict[str, Any]:
        rows = [self.entity(e, query.select, query.expand) for e in page.items]
        next_link = None
        if page.next_query is not None:
            next_link = request_url + "?" + encode_query(page.next_query)
        if self.dialect is Dialect.VERBOSE:
            body: dict[str, Any] = {"results": rows}
            if page.count is not None:
                body["__count"] = str(page.count)
            if next_link:
                body["__next"] = next_link
            return {"d": body}
        out: dict[str, Any] = {}
        if self.dialect is Dialect.MINIMAL:
            out["odata.metadata"] = f"{self.api_base}{self.service}/$metadata#{entity_set}"
        if page.count is not None:
            out["odata.count"] = str(page.count)
        out["value"] = rows
        if next_link:
            out["odata.nextLink"] = next_link
        return out

    def single(self, entity: Entity, query: Query) -> dict[str, Any]:
        body = self.entity(entity, query.select, query.expand)
        if self.dialect is Dialect.VERBOSE:
            return {"d": body}
        return body
