"""The emulator's JQL subset in isolation: parser, dates in the user's zone, errors."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from pmosync.sandbox.jira.jql import (
    BoolOp,
    Catalog,
    Clause,
    EvalContext,
    FieldDef,
    JqlError,
    Not,
    Value,
    compile_query,
    parse,
)

UTC = UTC


def catalog() -> Catalog:
    cat = Catalog()
    cat.add(["project"], FieldDef("project", "ref", "project", lambda v: v in {"app", "data"}))
    cat.add(["status"], FieldDef("status", "ref", "status"))
    cat.add(["key", "issuekey", "id"], FieldDef("key", "key", "key"))
    cat.add(["updated"], FieldDef("updated", "datetime", "updated"))
    cat.add(["due", "duedate"], FieldDef("duedate", "date", "due"))
    cat.add(["Story Points", "cf[10016]"], FieldDef("customfield_10016", "number", "Story Points"))
    cat.add(["labels"], FieldDef("labels", "ref", "labels"))
    cat.add(["summary"], FieldDef("summary", "text", "summary"))
    return cat


def doc(key: str, **values: object) -> dict[str, object]:
    project, number = key.split("-")
    base: dict[str, object] = {
        "id": 10000 + int(number),
        "key": (project, int(number), 10000 + int(number)),
        "project": frozenset({project.lower()}),
        "project:sort": project,
        "status": frozenset({"to do"}),
        "status:sort": "To Do",
        "labels": frozenset(),
        "created": datetime(2026, 1, int(number), tzinfo=UTC),
        "updated": datetime(2026, 1, int(number), tzinfo=UTC),
        "duedate": None,
        "customfield_10016": None,
        "summary": "",
    }
    base.update(values)
    return base


def ctx(zone: str = "Australia/Sydney") -> EvalContext:
    return EvalContext(tz=ZoneInfo(zone), now=datetime(2026, 3, 12, 0, 0, tzinfo=UTC))


def matches(jql: str, docs: list[dict[str, object]], zone: str = "Australia/Sydney") -> list[str]:
    query = compile_query(jql, catalog(), ctx(zone))
    hits = sorted((d for d in docs if query.predicate(d)), key=query.sort_key)
    return [f"{d['key'][0]}-{d['key'][1]}" for d in hits]  # type: ignore[index]


def test_parser_builds_precedence_and_keeps_quoted_names() -> None:
    query = parse(
        'project = APP AND (status = "In Progress" OR NOT labels IN (a, b)) ORDER BY '
        '"Story Points" DESC, key'
    )
    assert isinstance(query.where, BoolOp) and query.where.op == "and"
    left, right = query.where.children
    assert left == Clause("project", "=", Value("APP"), 0)
    assert isinstance(right, BoolOp) and right.op == "or"
    assert isinstance(right.children[1], Not)
    assert [(s.field, s.descending) for s in query.order_by] == [
        ("Story Points", True),
        ("key", False),
    ]


def test_in_not_in_empty_and_order_by() -> None:
    docs = [
        doc("APP-1", labels=frozenset({"pmo"}), customfield_10016=3.0),
        doc("APP-2", customfield_10016=8.0),
        doc("DATA-3", status=frozenset({"done"}), status_sort="Done"),
    ]
    assert matches("project in (APP) AND labels is EMPTY", docs) == ["APP-2"]
    assert matches("project = APP AND labels not in (pmo)", docs) == []
    assert matches("status not in (Done) ORDER BY cf[10016] DESC", docs) == ["APP-2", "APP-1"]
    assert matches("project in (app, DATA) ORDER BY key DESC", docs) == ["DATA-3", "APP-2", "APP-1"]
    assert matches('"Story Points" >= 3 AND "Story Points" < 8', docs) == ["APP-1"]
    assert matches("key = APP-2 OR issuekey = DATA-3 ORDER BY key", docs) == ["APP-2", "DATA-3"]


def test_dates_are_read_in_the_users_zone() -> None:
    # 23:30 UTC on 10 March is 10:30 on 11 March in Sydney and 16:30 on 10 March in Los Angeles
    edited = doc("APP-1", updated=datetime(2026, 3, 10, 23, 30, tzinfo=UTC))
    assert matches('updated >= "2026/03/11 00:00"', [edited]) == ["APP-1"]
    assert matches('updated >= "2026-03-11"', [edited], zone="UTC") == []
    assert matches('updated >= "2026/03/11"', [edited], zone="America/Los_Angeles") == []
    assert matches('updated < "2026-03-11 10:31"', [edited]) == ["APP-1"]
    assert matches('updated < "2026-03-11 10:30"', [edited]) == []
    # relative periods count back from now (2026-03-12 00:00 UTC)
    assert matches("updated >= -2d", [edited]) == ["APP-1"]
    assert matches('updated >= "-24h"', [edited]) == []
    assert matches('updated >= "-1d 1h"', [edited]) == ["APP-1"]
    assert matches("updated > startOfDay(-1d)", [edited], zone="UTC") == []
    assert matches("updated > startOfDay(-2d)", [edited], zone="UTC") == ["APP-1"]
    due = doc("APP-2", duedate=date(2026, 3, 11))
    assert matches("due <= 2026-03-11 AND due > 2026/03/10", [due]) == ["APP-2"]


@pytest.mark.parametrize(
    ("jql", "message"),
    [
        ("nosuch = 1", "Field 'nosuch' does not exist"),
        ("project = NOPE", "The value 'NOPE' does not exist for the field 'project'"),
        ("project = APP AND", "Expecting a field name but got end of query"),
        ("project = APP status = Done", "Expecting either 'OR' or 'AND' but got 'status'"),
        ("(project = APP", "Expecting ')'"),
        ('updated >= "yesterday"', "Date value 'yesterday' for field 'updated' is invalid"),
        ("summary = x", "The operator '=' is not supported by the 'summary' field"),
        ("status WAS Done", "operator 'WAS' is not supported"),
        ("labels in membersOf(x)", "Unable to find JQL function"),
        ("project = APP ORDER created", "Expecting 'by'"),
    ],
)
def test_unsupported_or_invalid_jql_names_the_problem(jql: str, message: str) -> None:
    with pytest.raises(JqlError) as caught:
        compile_query(jql, catalog(), ctx())
    assert message in str(caught.value)


def test_text_search_and_unbounded_queries() -> None:
    docs = [doc("APP-1", summary="migrate the billing service"), doc("APP-2", summary="other")]
    assert matches('summary ~ "billing migrate"', docs) == ["APP-1"]
    assert matches('summary !~ "billing"', docs) == ["APP-2"]
    assert not compile_query("ORDER BY updated", catalog(), ctx()).bounded
    assert compile_query("project = APP", catalog(), ctx()).bounded
