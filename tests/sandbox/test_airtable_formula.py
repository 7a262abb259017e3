"""The filterByFormula evaluator alone: parsing, precedence, blank and date rules."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from pmosync.sandbox.airtable.formula import (
    FormulaSyntaxError,
    evaluate,
    field_refs,
    format_datetime,
    matches,
    parse,
    parse_datetime,
)

CREATED = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
MODIFIED = {
    "Status": datetime(2026, 1, 5, 10, 0, tzinfo=UTC),
    "Name": datetime(2026, 1, 2, tzinfo=UTC),
}


class FakeRecord:
    def __init__(self, **values: Any) -> None:
        self.values = values

    def field_value(self, name: str) -> Any:
        return self.values.get(name)

    def record_id(self) -> str:
        return "recAAAAAAAAAAAAAA"

    def created_time(self) -> datetime:
        return CREATED

    def last_modified(self, names: list[str] | None) -> datetime | None:
        times = [t for n, t in MODIFIED.items() if names is None or n in names]
        return max(times, default=None)


def value(formula: str, **fields: Any) -> Any:
    return evaluate(parse(formula), FakeRecord(**fields))


@pytest.mark.parametrize(
    ("formula", "expected"),
    [
        ("1 + 2 * 3", 7),
        ("(1 + 2) * 3", 9),
        ("-2 + 5", 3),
        ("10 / 4", 2.5),
        ("'a' & 1 + 2", "a3"),  # & binds looser than +
        ("1 + 1 = 2", True),  # comparison binds loosest
        ("'x' & 'y' = 'xy'", True),
        ("AND(1, 'a', TRUE())", True),
        ("AND(1, '')", False),
        ("OR(0, FALSE(), 'z')", True),
        ("NOT(0)", True),
        ("IF(1 > 2, 'yes', 'no')", "no"),
        ("FIND('lo', 'hello')", 4),
        ("FIND('zz', 'hello')", 0),
        ("FIND('l', 'hello', 4)", 4),
        ("LEN('héllo')", 5),
        ("UPPER('abc') & LOWER('DEF')", "ABCdef"),
        ("RECORD_ID()", "recAAAAAAAAAAAAAA"),
        ('"double \\"quoted\\""', 'double "quoted"'),
        ("true()", True),  # function names are case-insensitive
        ("1 != 2", True),
        ("3 >= 3", True),
        ("2 <= 1", False),
    ],
)
def test_expressions(formula: str, expected: Any) -> None:
    assert value(formula) == expected


def test_field_references_and_blanks() -> None:
    assert value("{Name} = 'Apollo'", Name="Apollo") is True
    assert value("{Name} = ''", Name=None) is True
    assert value("{Name} = BLANK()", Name=None) is True
    assert value("{Count} = 0", Count=None) is True  # a blank number reads as 0
    assert value("{Count} + 1", Count=None) == 1
    assert value("{Done}", Done=False) is False
    assert (
        value("{Field with spaces & symbols} & '!'", **{"Field with spaces & symbols": "ok"})
        == "ok!"
    )
    assert field_refs(parse("AND({A} = 1, {B} & {A})")) == ["A", "B", "A"]


def test_dates_compare_as_instants() -> None:
    due = parse_datetime("2026-03-01")
    assert due == datetime(2026, 3, 1, tzinfo=UTC)
    assert value("IS_AFTER({Due}, '2026-02-28')", Due=due) is True
    assert value("IS_BEFORE({Due}, '2026-02-28T23:59:59.000Z')", Due=due) is False
    assert value("{Due} > '2026-02-28T23:00:00+00:00'", Due=due) is True
    assert value("{Due} = '2026-03-01'", Due=due) is True
    assert value("IS_AFTER({Due}, '2026-01-01')", Due=None) is False  # blank is never after
    assert value("DATETIME_PARSE('2026-03-01 10:30')") == datetime(2026, 3, 1, 10, 30, tzinfo=UTC)
    assert value("DATETIME_PARSE('01/03/2026', 'DD/MM/YYYY')") == datetime(2026, 3, 1, tzinfo=UTC)
    assert format_datetime(datetime(2026, 1, 1, 10, 0, 0, 123456, tzinfo=UTC)) == (
        "2026-01-01T10:00:00.123Z"
    )


def test_modification_and_creation_times() -> None:
    assert value("LAST_MODIFIED_TIME()") == MODIFIED["Status"]
    assert value("LAST_MODIFIED_TIME({Name})") == MODIFIED["Name"]
    assert value("IS_AFTER(LAST_MODIFIED_TIME(), '2026-01-04T00:00:00.000Z')") is True
    assert value("IS_AFTER(LAST_MODIFIED_TIME({Name}), '2026-01-04T00:00:00.000Z')") is False
    assert value("LAST_MODIFIED_TIME({Name}, {Status}) > '2026-01-04'") is True
    assert value("CREATED_TIME() < '2026-01-02'") is True


def test_runtime_errors_filter_the_record_out() -> None:
    record = FakeRecord(Name="Apollo")
    assert matches(parse("{Name} + 1"), record) is False  # #ERROR! is false for filtering
    assert matches(parse("1 / 0"), record) is False
    assert matches(parse("DATETIME_PARSE('not a date')"), record) is False
    assert matches(parse("{Name}"), record) is True


@pytest.mark.parametrize(
    "formula",
    [
        "",
        "   ",
        "AND(",
        "1 +",
        "{Name",
        "'open string",
        "SEARCH('a', 'b')",
        "TODAY()",
        "NOT(1, 2)",
        "LAST_MODIFIED_TIME('Name')",
        "1 2",
        "{Name} <> 'x'",
        "{}",
        "a.b",
    ],
)
def test_invalid_formulas(formula: str) -> None:
    with pytest.raises(FormulaSyntaxError):
        parse(formula)


def test_unknown_fields_are_rejected_when_the_table_is_known() -> None:
    with pytest.raises(FormulaSyntaxError, match="Unknown field names: Nope"):
        parse("{Name} = {Nope}", lambda name: name == "Name")
