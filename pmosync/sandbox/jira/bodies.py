"""Request bodies Jira's JSON binding refuses: a 400 before the handler looks at the values.

The schemas are Atlassian's own (``request_schemas.json``, extracted from the v3 OpenAPI
document in tests/fixtures/specs/): a wrong JSON type, a missing required member, a member an
object closes out (``additionalProperties: false``), a value outside an enum or a string too
long is refused with a 400, as Jira's Jackson binding does. A ``null`` is read as absent
(Jackson binds null to any object, string or list member) and a number or boolean sent for a
string member is taken as its text (Jackson's default scalar coercion), and one string where
a list is expected as a list of one; none of these is refused.
Only the keywords those schemas use are implemented.
"""

from __future__ import annotations

import json
from datetime import datetime
from functools import cache
from importlib import resources
from typing import Any
from urllib.parse import urlsplit

_TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,),
    "array": (list,),
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
}
_INT_RANGE = {"int32": 2**31, "int64": 2**63}


@cache
def _document() -> dict[str, Any]:
    text = resources.files("pmosync.sandbox.jira").joinpath("request_schemas.json").read_text()
    return dict(json.loads(text))


def body_problem(operation: str, body: Any) -> str | None:
    """Why Jira would refuse ``body`` for ``operation`` (``"POST issue"``), or None."""
    schema = _document()["operations"].get(operation)
    if schema is None:
        return None
    return _check(schema, body, "")


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = _document()["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _check(schema: dict[str, Any], value: Any, where: str) -> str | None:
    schema = _resolve(schema)
    if value is None:
        return None
    for part in schema.get("allOf") or []:
        problem = _check(part, value, where)
        if problem:
            return problem
    kind = schema.get("type")
    if kind == "string" and isinstance(value, int | float | bool):
        return None  # Jackson coerces a scalar into a string member (the jira client sends
        # a transition id as a number): ALLOW_COERCION_OF_SCALARS, on by default
    if kind == "array" and isinstance(value, str):
        value = [value]  # one value for a list: the jira client's POST search sends
        # properties="key" so, and Jira answers it (tests/sandbox/test_jira_emulator_behaviour)
    if kind is not None:
        allowed = _TYPES[kind]
        if not isinstance(value, allowed) or (kind != "boolean" and isinstance(value, bool)):
            return f"{where or 'the body'}: expected {kind}"
    if "enum" in schema and value not in schema["enum"]:
        return f"{where}: {value!r} is not one of {schema['enum']}"
    if isinstance(value, str):
        return _string(schema, value, where)
    if isinstance(value, int) and not isinstance(value, bool):
        bound = _INT_RANGE.get(str(schema.get("format")))
        if bound and not -bound <= value < bound:
            return f"{where}: {value} is out of range"
    if isinstance(value, list):
        items = schema.get("items")
        for index, item in enumerate(value if isinstance(items, dict) else []):
            problem = _check(items, item, f"{where}[{index}]")  # type: ignore[arg-type]
            if problem:
                return problem
    if isinstance(value, dict):
        return _object(schema, value, where)
    return None


def _string(schema: dict[str, Any], value: str, where: str) -> str | None:
    if "maxLength" in schema and len(value) > int(schema["maxLength"]):
        return f"{where}: longer than {schema['maxLength']} characters"
    fmt = schema.get("format")
    if fmt == "uri" and not urlsplit(value).scheme:
        return f"{where}: {value!r} is not a URI"
    if fmt == "date-time":
        try:
            datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return f"{where}: {value!r} is not a date-time"
    return None


def _object(schema: dict[str, Any], value: dict[str, Any], where: str) -> str | None:
    properties: dict[str, Any] = schema.get("properties") or {}
    for name in schema.get("required") or []:
        if value.get(name) is None:
            return f"{where}.{name}: is required".lstrip(".")
    extra = schema.get("additionalProperties", True)
    for name, member in value.items():
        path = f"{where}.{name}".lstrip(".")
        if name in properties:
            problem = _check(properties[name], member, path)
        elif extra is False:
            problem = f"{path}: unrecognized field"
        elif isinstance(extra, dict):
            problem = _check(extra, member, path)
        else:
            problem = None
        if problem:
            return problem
    return None
