"""The portfolio dependency graph (§B.2), find_item and the hand-over to CPM."""

from __future__ import annotations

from datetime import datetime

import pytest
from portfolio_builder import CAL, Portfolio, toy

from pmosync.analysis.calendar import standard_calendar
from pmosync.analysis.cpm import CpmLink, CpmTask, compute_schedule
from pmosync.analysis.dependencies import build_graph, find_item, to_cpm
from pmosync.errors import ConfigError


def dt(text: str) -> datetime:
    return datetime.fromisoformat(text)


# -- nodes -------------------------------------------------------------------------------------


def test_date_only_values_become_working_day_start_and_finish() -> None:
    g = toy().graph()
    build = g.nodes["build"]
    assert (build.start, build.finish) == (dt("2027-03-01 08:00"), dt("2027-03-12 17:00"))
    # ten working days between Monday 08:00 and the next Friday 17:00
    assert build.duration_minutes == 10 * 480
    ga = g.nodes["ga"]
    assert ga.milestone and ga.key_milestone and ga.start == ga.finish == dt("2027-03-12 17:00")


def test_a_date_on_a_weekend_moves_to_the_working_day_it_stands_for() -> None:
    p = Portfolio()
    p.project("P", "P")
    p.item("x", "P-1", "P", "2027-03-06", "2027-03-14")  # Saturday .. Sunday
    n = p.graph().nodes["x"]
    assert n.start == dt("2027-03-08 08:00")  # the next working start (Monday)
    assert n.finish == dt("2027-03-12 17:00")  # the previous working finish (Friday)


def test_times_from_ms_project_win_over_dates_and_actuals_win_over_both() -> None:
    p = Portfolio()
    p.project("P", "P")
    p.item(
        "t",
        "P-1",
        "P",
        "2027-03-01",
        "2027-03-05",
        start_at="2027-03-01T10:00:00",
        finish_at="2027-03-03T15:00:00",
        duration_minutes="960.0",
        schedule_mode="auto",
    )
    p.item(
        "u",
        "P-2",
        "P",
        "2027-03-01",
        "2027-03-05",
        start_at="2027-03-01T10:00:00",
        actual_start="2027-03-02T09:00:00Z",
        schedule_mode="auto",
    )
    g = p.graph()
    t, u = g.nodes["t"], g.nodes["u"]
    assert (t.start, t.finish, t.duration_minutes) == (
        dt("2027-03-01 10:00"),
        dt("2027-03-03 15:00"),
        960.0,
    )
    assert u.start == dt("2027-03-02 09:00") and u.actual_start == u.start and u.started


def test_milestone_entities_use_due_at_else_due_and_are_key_milestones() -> None:
    p = Portfolio()
    p.project("P", "P")
    p.milestone("m1", "P", "2027-03-05", due_at="2027-03-05T12:00:00")
    p.milestone("m2", "P", "2027-03-05", done=True)
    g = p.graph()
    m1, m2 = g.nodes["m1"], g.nodes["m2"]
    assert m1.entity_type == "milestone" and m1.key_milestone and m1.milestone
    assert m1.start == m1.finish == dt("2027-03-05 12:00")
    assert m2.finish == dt("2027-03-05 17:00") and m2.done and not m1.done


@pytest.mark.parametrize(
    ("values", "done"),
    [
        ({"status": "done"}, True),
        ({"status": "cancelled"}, True),
        ({"actual_finish": "2027-03-02T17:00:00"}, True),
        ({"status": "active"}, False),
        ({}, False),
    ],
)
def test_done_means_closed_or_finished(values: dict[str, str], done: bool) -> None:
    p = Portfolio()
    p.project("P", "P")
    p.item("x", "P-1", "P", "2027-03-01", "2027-03-05", **values)
    assert p.graph().nodes["x"].done is done


def test_bad_values_are_tolerated_not_fatal() -> None:
    p = Portfolio()
    p.project("P", "P")
    p.item("x", "P-1", "P", "not a date", "2027-13-45", percent_complete="n/a")
    n = p.graph().nodes["x"]
    assert (n.start, n.finish, n.percent_complete) == (None, None, None)


# -- links and summaries -----------------------------------------------------------------------


def summary_portfolio() -> Portfolio:
    p = Portfolio()
    p.project("P", "P")
    p.project("Q", "Q")
    p.item("phase", "P-1", "P", kind="summary", schedule_mode="auto")
    p.item("a", "P-2", "P", "2027-03-01", "2027-03-05", parent="phase")
    p.item("sub", "P-3", "P", parent="phase")  # a summary by having a child
    p.item("b", "P-4", "P", "2027-03-01", "2027-03-05", parent="sub")
    p.item("c", "Q-1", "Q", "2027-03-08", "2027-03-12")
    p.link("phase", "c")
    p.link("c", "phase", dependency_class="info")
    return p


def test_summaries_are_not_logic_nodes_and_their_links_expand_to_leaves() -> None:
    g = summary_portfolio().graph()
    assert g.nodes["phase"].summary and g.nodes["sub"].summary and not g.nodes["a"].summary
    lg = g.logic_graph()
    assert set(lg.nodes) == {"a", "b", "c"}
    assert lg.nodes["c"]["item"] is g.nodes["c"]
    assert sorted((u, v) for u, v, _k in lg.edges(keys=True)) == [("a", "c"), ("b", "c")]
    # the informational link is kept as an edge of the portfolio but carries no logic
    assert len(g.edges) == 2 and lg.number_of_edges() == 2
    (cross,) = [e for e in g.edges if e.dependency_class == "logic"]
    assert cross.cross_project


def test_two_relations_between_the_same_pair_are_both_kept() -> None:
    p = Portfolio()
    p.project("P", "P")
    p.item("a", "P-1", "P", "2027-03-01", "2027-03-05")
    p.item("b", "P-2", "P", "2027-03-01", "2027-03-05")
    p.link("a", "b", link_type="SS", lag_minutes=960)
    p.link("a", "b", link_type="FF")
    lg = p.graph().logic_graph()
    types = sorted(d["link"].type for _u, _v, d in lg.edges(data=True))
    assert types == ["FF", "SS"]
    assert not any(d["link"].cross_project for _u, _v, d in lg.edges(data=True))


def test_a_link_to_an_own_ancestor_stays_out_of_the_logic() -> None:
    p = summary_portfolio()
    p.link("phase", "b")  # phase contains sub contains b
    g = p.graph()
    (e,) = [e for e in g.edges if e.successor == "b"]
    assert g.is_ancestor_link(e)
    assert not g.logic_graph().has_edge("a", "b")


def test_unknown_and_tombstoned_ends_are_dangling_not_edges() -> None:
    p = Portfolio()
    p.project("P", "P")
    p.item("a", "P-1", "P", "2027-03-01", "2027-03-05")
    p.item("gone", "P-2", "P", "2027-03-01", "2027-03-05")
    p.link("a", "gone")
    p.link("a", "never-synced")
    g = p.graph(tombstoned=["gone"])
    assert "gone" not in g.nodes and g.edges == ()
    assert {e.successor for e in g.dangling} == {"gone", "never-synced"}
    assert g.logic_graph().number_of_edges() == 0


def test_items_of_an_external_project_are_pinned_ghosts() -> None:
    p = Portfolio()
    p.project("X", "X", external=True)
    p.item("ghost", "X-1", "X", "2027-03-01", "2027-03-05", schedule_mode="auto")
    assert p.graph().nodes["ghost"].external


def test_labels_name_items_never_by_bare_id() -> None:
    p = Portfolio(uuids=True)
    p.project("P", "P")
    p.item("named", "P-1", "P")
    p.item("", None, "P")
    g = p.graph()
    assert g.label(p.ids["named"]) == "P-1 named"
    unnamed = g.label(p.ids[""])
    assert p.ids[""] not in unnamed and "in P" in unnamed
    p2 = Portfolio()
    p2.project("Q", "QQ")
    p2.item("thing", None, "Q")
    assert p2.graph().describe("thing") == "thing [QQ]"


# -- find_item ---------------------------------------------------------------------------------


def test_find_item_by_key_name_or_id_case_insensitively() -> None:
    g = toy().graph()
    assert find_item(g, "a-2").id == "ga"
    assert find_item(g, " INTEGRATION ").id == "integration"
    assert find_item(g, "launch").id == "launch"
    assert find_item(g, "ga").id == "ga"


def test_find_item_names_a_project_as_a_project() -> None:
    g = toy().graph()
    with pytest.raises(ConfigError, match="is a project") as exc:
        find_item(g, "b")
    assert "B-2 launch" in str(exc.value)  # its milestones are offered instead


def test_find_item_lists_candidates_with_keys_and_projects_when_ambiguous() -> None:
    p = Portfolio()
    p.project("A", "ALPHA")
    p.project("B", "BETA")
    p.item("x", "ALPHA-1", "A", name="Design review")
    p.item("y", "BETA-7", "B", name="Design review")
    with pytest.raises(ConfigError) as exc:
        find_item(p.graph(), "design review")
    text = str(exc.value)
    assert "ALPHA-1 Design review" in text and "BETA-7 Design review" in text
    assert "2 items" in text


def test_find_item_prefers_the_linked_twin_of_a_milestone() -> None:
    p = Portfolio()
    p.project("P", "P")
    p.item("gate-task", "P-9", "P", None, "2027-03-05", kind="milestone", name="Gate")
    p.milestone("gate-ms", "P", "2027-03-05", name="Gate")
    assert find_item(p.graph(), "gate").id == "gate-task"


def test_find_item_unknown_says_what_to_give() -> None:
    with pytest.raises(ConfigError, match="key"):
        find_item(toy().graph(), "nothing like this")


# -- to_cpm ------------------------------------------------------------------------------------


def test_entered_items_become_snet_tasks_with_their_entered_span() -> None:
    tasks, links = to_cpm(toy().graph(), calendar=CAL)
    by_id = {t.id: t for t in tasks}
    build = by_id["build"]
    assert isinstance(build, CpmTask)
    assert (build.constraint_type, build.constraint_date) == ("SNET", dt("2027-03-01 08:00"))
    assert build.duration_minutes == 4800 and not build.manual
    assert by_id["ga"].milestone and by_id["ga"].duration_minutes == 0
    assert by_id["ga"].constraint_date == dt("2027-03-12 17:00")
    assert sorted((link.predecessor, link.successor) for link in links) == [
        ("build", "ga"),
        ("ga", "integration"),
        ("integration", "launch"),
    ]
    assert all(isinstance(link, CpmLink) for link in links)


def test_scheduled_items_keep_their_fields_and_ghosts_are_pinned() -> None:
    p = Portfolio()
    p.project("P", "P")
    p.project("X", "X", external=True)
    p.item(
        "auto",
        "P-1",
        "P",
        start_at="2027-03-01T08:00:00",
        finish_at="2027-03-02T17:00:00",
        duration_minutes="960",
        constraint_type="FNLT",
        constraint_date="2027-03-05T17:00:00",
        schedule_mode="auto",
    )
    p.item(
        "manual",
        "P-2",
        "P",
        start_at="2027-03-03T08:00:00",
        finish_at="2027-03-03T17:00:00",
        schedule_mode="manual",
    )
    p.item("ghost", "X-1", "X", "2027-03-01", "2027-03-05", schedule_mode="auto")
    p.item("done", "P-3", "P", "2027-02-01", "2027-02-05", status="done")
    by_id = {t.id: t for t in to_cpm(p.graph(), calendar=CAL)[0]}
    auto = by_id["auto"]
    assert (auto.constraint_type, auto.constraint_date, auto.duration_minutes) == (
        "FNLT",
        dt("2027-03-05 17:00"),
        960.0,
    )
    assert not auto.manual and by_id["manual"].manual and by_id["ghost"].manual
    assert by_id["ghost"].start == dt("2027-03-01 08:00")
    # closed in a tool without actuals: done at the dates it carried
    assert by_id["done"].actual_finish == dt("2027-02-05 17:00")


def test_summaries_go_to_cpm_as_summaries_with_links_on_leaves() -> None:
    g = summary_portfolio().graph()
    tasks, links = to_cpm(g, calendar=CAL)
    by_id = {t.id: t for t in tasks}
    assert by_id["phase"].summary and by_id["a"].parent == "phase" and by_id["b"].parent == "sub"
    assert sorted((link.predecessor, link.successor) for link in links) == [
        ("a", "c"),
        ("b", "c"),
    ]


def test_cpm_on_entered_dates_pushes_a_successor_only_later() -> None:
    # integration was entered to start before GA: CPM (SNET at its entered start) moves it
    # after GA; launch, entered well after, stays put
    p = Portfolio()
    p.project("A", "A")
    p.item("ga", "A-2", "A", None, "2027-03-12", kind="milestone")
    p.item("integration", "A-3", "A", "2027-03-10", "2027-03-11")
    p.item("late", "A-4", "A", "2027-04-01", "2027-04-02")
    p.link("ga", "integration")
    p.link("integration", "late")
    tasks, links = to_cpm(p.graph(), calendar=CAL)
    result = compute_schedule(tasks, links, default_calendar=standard_calendar())
    integ = result.tasks["integration"]
    assert integ.early_start == dt("2027-03-15 08:00")
    assert integ.early_finish == dt("2027-03-16 17:00")
    assert result.tasks["late"].early_start == dt("2027-04-01 08:00")


def test_build_graph_ignores_entity_types_it_does_not_use() -> None:
    g = build_graph(
        [("r", "raid_item", {"name": "risk"}), ("c", "calendar", {"name": "Std"})],
        calendar=CAL,
    )
    assert dict(g.nodes) == {} and g.edges == ()
