"""The analyse stage's integration: named cross-tool links, the portfolio schedule around
cycles, computed fields, remote links planned once, and the store upgrading in place."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import inspect, select

from pmosync.canonical_model import EntityType
from pmosync.canonical_model.provenance import named_pointer
from pmosync.config.models import PortfolioConfig
from pmosync.sync import models
from pmosync.sync.analyse import analyse_schedule, computed_fields, report_section
from pmosync.sync.named_refs import resolve_named
from pmosync.sync.plan import plan_cross_links
from pmosync.sync.state import EntityState, LinkState, WorkingState, persist
from pmosync.sync.store import Store

TODAY = date(2026, 11, 2)


def _entity(state: WorkingState, entity_id: str, entity_type: EntityType, **values: Any) -> None:
    state.entities[entity_id] = EntityState(entity_id, entity_type, values)


def _link(
    state: WorkingState,
    connection: str,
    entity_type: EntityType,
    external_id: str,
    canonical_id: str,
    **remote: Any,
) -> LinkState:
    link = LinkState(canonical_id, connection, entity_type, external_id, dict(remote))
    state.links[link.key] = link
    return link


def _portfolio() -> WorkingState:
    """A plan (P1, in Project Server) with a milestone held as work item and milestone, and a
    Jira epic that names the milestone in a field."""
    state = WorkingState()
    _entity(state, "p1", EntityType.PROJECT, code="P1", name="Portal")
    _entity(state, "jp", EntityType.PROJECT, code="APP", name="App")
    _entity(
        state,
        "gl",
        EntityType.WORK_ITEM,
        name="Go-live",
        project="p1",
        kind="milestone",
        schedule_mode="entered",
        start="2026-11-20",
        due="2026-11-20",
    )
    _entity(state, "gl-m", EntityType.MILESTONE, name="Go-live", project="p1", due="2026-11-20")
    _entity(
        state,
        "epic",
        EntityType.WORK_ITEM,
        key="APP-1",
        name="Checkout",
        project="jp",
        kind="epic",
        schedule_mode="entered",
        start="2026-11-16",
        due="2026-11-27",
    )
    _link(state, "pwa", EntityType.WORK_ITEM, "task-gl", "gl")
    _link(state, "pwa", EntityType.MILESTONE, "task-gl", "gl-m")
    _link(state, "jira", EntityType.WORK_ITEM, "10001", "epic")
    _entity(state, "dep", EntityType.DEPENDENCY, link_type="FS", dependency_class="logic")
    dep = _link(state, "jira", EntityType.DEPENDENCY, "x:10001:cf:0", "dep")
    dep.pointers = {
        "predecessor": named_pointer(EntityType.WORK_ITEM, "P1 / Go-live").external_id,
        "successor": "10001",
    }
    dep.remote_values = {"successor": "epic"}
    return state


def test_a_named_link_resolves_to_the_work_item_twin_by_project_code_and_name() -> None:
    state = _portfolio()
    result = resolve_named(state)
    assert result.resolved == 1 and result.unresolved == []
    link = state.links[("jira", "dependency", "x:10001:cf:0")]
    assert link.remote_values["predecessor"] == "gl" and link.dirty


def test_an_unknown_or_ambiguous_name_is_listed_with_what_to_do() -> None:
    state = _portfolio()
    _entity(state, "gl2", EntityType.WORK_ITEM, name="Go-live", project="jp", kind="milestone")
    link = state.links[("jira", "dependency", "x:10001:cf:0")]
    link.pointers["predecessor"] = named_pointer(EntityType.WORK_ITEM, "Go-live").external_id
    [problem] = resolve_named(state).unresolved
    assert problem["name"] == "Go-live" and "PROJECT-CODE / item name" in problem["reason"]
    link.pointers["predecessor"] = named_pointer(EntityType.WORK_ITEM, "P9 / Nope").external_id
    [problem] = resolve_named(state).unresolved
    assert "no work item or milestone" in problem["reason"]
    assert link.remote_values.get("predecessor") is None


def _resolved() -> WorkingState:
    state = _portfolio()
    resolve_named(state)
    state.entities["dep"].values.update(predecessor="gl", successor="epic")
    return state


def test_the_violation_is_found_and_computed_fields_given_to_both_ends() -> None:
    state = _resolved()
    portfolio = PortfolioConfig(name="Contoso", holiday_region="GB-ENG")
    analysis = analyse_schedule(state, today=TODAY, portfolio=portfolio)
    assert analysis.error is None and analysis.calendar.name.startswith("Contoso calendar")
    [violation] = [f for f in analysis.findings if f.kind == "violation"]
    assert violation.link == "dep" and violation.items == ("gl", "epic")
    assert violation.shortfall_days and violation.shortfall_days > 0
    values = computed_fields(analysis, state)
    # the epic cannot start before the milestone: its forecast finish moves out
    assert values["epic"]["forecast_finish"] > "2026-11-27"
    assert values["epic"]["driving_predecessor"] == "Go-live"
    # the Project Server milestone takes its work item twin's figures
    assert values["gl-m"]["forecast_finish"] == values["gl"]["forecast_finish"]
    section = report_section(analysis)
    assert section["cross_tool_links"] == 1
    [cross] = section["cross_tool"]
    assert cross["from"] == ["pwa"] and cross["to"] == ["jira"]


def test_a_cycle_is_reported_and_the_rest_still_scheduled() -> None:
    state = _resolved()
    for name, pred, succ in (("c1", "x", "y"), ("c2", "y", "x")):
        _entity(state, name, EntityType.DEPENDENCY, predecessor=pred, successor=succ)
    for item in ("x", "y"):
        _entity(
            state,
            item,
            EntityType.WORK_ITEM,
            name=item.upper(),
            project="jp",
            schedule_mode="entered",
            start="2026-11-09",
            due="2026-11-10",
        )
    analysis = analyse_schedule(state, today=TODAY, portfolio=None)
    assert analysis.error is None
    assert any(f.kind == "cycle" for f in analysis.findings)
    assert analysis.cycle_items == {"x", "y"}
    assert analysis.result is not None and {"epic", "x", "y"} <= set(analysis.result.tasks)


def _locate(connection: str, canonical_id: str) -> dict[str, str] | None:
    if connection == "pwa":
        return {"url": f"https://pwa/{canonical_id}", "title": f"Project Server: {canonical_id}"}
    return None


def test_a_cross_tool_dependency_is_planned_once_as_a_remote_link() -> None:
    state = _resolved()
    [write] = plan_cross_links(state, ["jira"], _locate).writes
    assert (write.connection, write.op, write.canonical_id) == ("jira", "create", "dep")
    assert write.values == {
        "predecessor": {"url": "https://pwa/gl", "title": "Project Server: gl"},
        "successor": "10001",
    }
    # once Jira holds the remote link, nothing more is planned
    _link(state, "jira", EntityType.DEPENDENCY, "remote:5", "dep")
    assert plan_cross_links(state, ["jira"], _locate).writes == []


def test_no_remote_link_within_one_tool_or_where_the_other_end_has_no_address() -> None:
    state = _resolved()
    assert plan_cross_links(state, ["jira"], lambda c, i: None).writes == []
    assert plan_cross_links(state, [], _locate).writes == []
    _link(state, "jira", EntityType.WORK_ITEM, "10002", "gl")  # both ends now in Jira
    assert plan_cross_links(state, ["jira"], _locate).writes == []


def test_an_existing_store_upgrades_in_place(store_url: str) -> None:
    store = Store.open(store_url, migrate=False)
    try:
        store.migrate("0002")
        state = WorkingState()
        state.entities["e1"] = EntityState("e1", EntityType.PROJECT, {"code": "P1"}, new=True)
        persist(store, state)
        assert "schedule_results" not in inspect(store.engine).get_table_names()
        store.migrate()
        tables = set(inspect(store.engine).get_table_names())
        assert {"schedule_results", "dependency_findings"} <= tables
        with store.sessions() as session:
            assert session.scalars(select(models.Entity.id)).all() == ["e1"]
    finally:
        store.close()


def test_the_report_lists_the_worst_findings_and_counts_them_all(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every finding is stored per run (dependency_findings); the run report, copied into
    each quiet run's, keeps the worst ``REPORT_FINDINGS`` and the counts."""
    from pmosync.reports.run_report import _schedule_lines
    from pmosync.sync import analyse
    from pmosync.sync.report import RunReport

    state = _resolved()
    for name, pred, succ in (("c1", "x", "y"), ("c2", "y", "x")):
        _entity(state, name, EntityType.DEPENDENCY, predecessor=pred, successor=succ)
    for item in ("x", "y"):
        _entity(state, item, EntityType.WORK_ITEM, name=item.upper(), project="jp")
    analysis = analyse_schedule(state, today=TODAY, portfolio=None)
    severities = [f.severity for f in analysis.findings]
    assert len(severities) >= 2 and len(set(severities)) >= 2
    monkeypatch.setattr(analyse, "REPORT_FINDINGS", 1)
    section = report_section(analysis)
    assert section["findings_total"] == len(analysis.findings)
    assert sum(section["findings_by_kind"].values()) == len(analysis.findings)
    [listed] = section["findings"]
    rank = {"high": 0, "medium": 1, "low": 2}
    assert rank[listed["severity"]] == min(rank[s] for s in severities)
    # the text says how many more there are and where they all are
    section["findings_by_kind"] = {"violation": 25}
    lines = _schedule_lines(RunReport(schedule=section))
    assert any("24 more (`pmo-sync report dependencies` lists them all)" in x for x in lines)
