"""The PWA emulator's OData engine: $filter parsing and typing, ordering, paging."""

from __future__ import annotations

from datetime import datetime

import pytest

from pmosync.sandbox.pwa.odata import (
    Entity,
    Guid,
    ODataError,
    apply_query,
    evaluate,
    parse_filter,
    parse_literal_list,
    parse_query,
)

ID_A = Guid("11111111-1111-4111-8111-111111111111")
ID_B = Guid("22222222-2222-4222-8222-222222222222")


def _entity(key: Guid, **props: object) -> Entity:
    return Entity("PS.T", f"T('{key}')", (key,), {"Id": key, **props})


ROWS = [
    _entity(ID_A, Name="Alpha", Start=datetime(2026, 1, 5, 8), Pct=10, Done=False, Note=None),
    _entity(ID_B, Name="Beta's", Start=datetime(2026, 2, 2, 8), Pct=100, Done=True, Note="x"),
    _entity(
        Guid("33333333-3333-4333-8333-333333333333"),
        Name="Gamma",
        Start=datetime(2026, 3, 2, 8),
        Pct=50,
        Done=False,
        Note="y",
    ),
]


def _match(expression: str) -> list[str]:
    node = parse_filter(expression)
    return [str(e.props["Name"]) for e in ROWS if evaluate(node, e.get)]


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("Pct eq 100", ["Beta's"]),
        ("Pct ne 100", ["Alpha", "Gamma"]),
        ("Pct gt 10 and Pct le 100", ["Beta's", "Gamma"]),
        ("Pct lt 50 or Done eq true", ["Alpha", "Beta's"]),
        ("not (Pct ge 50)", ["Alpha"]),
        ("(Pct eq 10 or Pct eq 50) and not Done", ["Alpha", "Gamma"]),
        ("Start ge datetime'2026-02-01T00:00:00'", ["Beta's", "Gamma"]),
        ("Start lt datetime'2026-02-02T08:00:00Z'", ["Alpha"]),
        (f"Id eq guid'{ID_B.upper()}'", ["Beta's"]),
        ("Name eq 'Beta''s'", ["Beta's"]),
        ("substringof('amm', Name)", ["Gamma"]),
        ("startswith(Name, 'Al') or endswith(Name, 'ma')", ["Alpha", "Gamma"]),
        ("tolower(Name) eq 'alpha'", ["Alpha"]),
        ("Note eq null", ["Alpha"]),
        ("Note ne null", ["Beta's", "Gamma"]),
        ("Pct eq 50.0", ["Gamma"]),
    ],
)
def test_filter_expressions(expression: str, expected: list[str]) -> None:
    assert _match(expression) == expected


@pytest.mark.parametrize(
    "expression",
    [
        f"Id eq '{ID_A}'",  # a GUID needs guid'…'
        "Start gt '2026-01-01'",  # a date needs datetime'…'
        "Name eq 5",
        "Pct eq",
        "Pct eq 1 and",
        "(Pct eq 1",
        "Missing eq 1",
        "frobnicate(Name)",
        "Id eq guid'not-a-guid'",
        "Pct",  # not a Boolean
    ],
)
def test_bad_filters_are_400(expression: str) -> None:
    with pytest.raises(ODataError) as info:
        node = parse_filter(expression)
        for row in ROWS:
            result = evaluate(node, row.get)
            if not isinstance(result, bool):
                raise ODataError(400, "x", "not boolean")
    assert info.value.status == 400


def test_unknown_query_option_is_rejected() -> None:
    with pytest.raises(ODataError, match=r"\$frob"):
        parse_query({"$frob": "1"})
    assert parse_query({"custom": "ignored"}).filter is None


def test_orderby_and_paging_with_skiptoken() -> None:
    query = parse_query({"$orderby": "Pct desc", "$select": "Name"})
    page = apply_query(ROWS, query, page_size=2)
    assert [e.props["Name"] for e in page.items] == ["Beta's", "Gamma"]
    assert page.next_query is not None
    assert page.next_query["$skiptoken"] == "guid'33333333-3333-4333-8333-333333333333'"
    follow = apply_query(ROWS, parse_query(page.next_query), page_size=2)
    assert [e.props["Name"] for e in follow.items] == ["Alpha"]
    assert follow.next_query is None


def test_top_beyond_page_spans_pages_and_top_within_page_stops() -> None:
    page = apply_query(ROWS, parse_query({"$top": "3"}), page_size=2)
    assert len(page.items) == 2 and page.next_query is not None
    assert page.next_query["$top"] == "1"
    rest = apply_query(ROWS, parse_query(page.next_query), page_size=2)
    assert len(rest.items) == 1 and rest.next_query is None
    small = apply_query(ROWS, parse_query({"$top": "2"}), page_size=2)
    assert small.next_query is None
    skipped = apply_query(ROWS, parse_query({"$skip": "2", "$inlinecount": "allpages"}), 2)
    assert [e.props["Name"] for e in skipped.items] == ["Gamma"] and skipped.count == 3


def test_literal_list() -> None:
    assert parse_literal_list(f"guid'{ID_A}',3,'x'") == [ID_A, 3, "x"]
    with pytest.raises(ODataError):
        apply_query(
            ROWS, parse_query({"$skiptoken": "guid'99999999-9999-4999-8999-999999999999'"}), 2
        )


def _working_minutes(moment: datetime) -> int:
    """Working minutes since Monday 2026-01-05 08:00 on the seed's 8-hour, Mon-Fri calendar."""
    from datetime import date as _date

    from pmosync.sandbox.pwa.state import workdays_between

    origin = _date(2026, 1, 5)
    days = workdays_between(origin, moment.date()) - 1
    assert moment.weekday() < 5, moment
    minutes = {8: 0, 17: 480}[moment.hour]
    return days * 480 + minutes


@pytest.mark.parametrize("baseline", [False, True])
def test_seed_dates_satisfy_every_link(baseline: bool) -> None:
    from pmosync.sandbox.pwa.seed import SeedSpec, build_state

    state = build_state(SeedSpec(projects=10, tasks_per_project=30, seed=3))
    start_key, finish_key = ("BaselineStart", "BaselineFinish") if baseline else ("Start", "Finish")
    seen_types: set[int] = set()
    for record in state.projects.values():
        plan = record.published
        for link in plan.links:
            pred, succ = plan.task(link["StartId"]), plan.task(link["EndId"])
            assert pred is not None and succ is not None
            lag = link["LinkLag"] // 10  # tenths of a minute -> minutes
            p_start, p_finish = (_working_minutes(pred[k]) for k in (start_key, finish_key))
            s_start, s_finish = (_working_minutes(succ[k]) for k in (start_key, finish_key))
            kind = link["DependencyType"]
            seen_types.add(kind)
            if kind == 1:  # FS
                assert s_start >= p_finish + lag, (pred["Name"], succ["Name"], link)
            elif kind == 3:  # SS
                assert s_start >= p_start + lag
            elif kind == 0:  # FF
                assert s_finish >= p_finish + lag
            else:  # SF
                assert s_finish >= p_start + lag
        for task in plan.tasks:
            assert task["Finish"] >= task["Start"]
            if task["IsMilestone"]:
                assert task["Start"] == task["Finish"] and task["DurationMilliseconds"] == 0
    assert seen_types == {0, 1, 2, 3}
