"""What a plan leaves for the next run (sync/deferred.py) is exactly what the next plan holds.

Each case is decided both ways: the run's plan is made as the engine makes it, landed through
apply's own recording (``_record_results``: the links then hold what the tools hold, a
reference left out of a create as empty), and planned again on the same state, as the next
run would with nothing changed. ``left_for_later`` must say "something left" exactly when that
second plan is not empty: a run that leaves something is never followed by a quiet run (that
would lose the write), and one that leaves nothing is (the whole run would be wasted).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from pmosync.canonical_model import EntityType, PlannedWrite, WriteResult
from pmosync.connectors.base import Capabilities
from pmosync.sync.apply import _record_results
from pmosync.sync.deferred import left_for_later
from pmosync.sync.plan import plan_creates, plan_cross_links, plan_writes
from pmosync.sync.report import ConnectionReport, RunReport
from pmosync.sync.rollups import plan_history
from pmosync.sync.state import EntityState, LinkState, WorkingState
from pmosync.sync.store import Store

P, W, M = EntityType.PROJECT, EntityType.WORK_ITEM, EntityType.MILESTONE
S, D = EntityType.STATUS_REPORT, EntityType.DEPENDENCY


def caps(*creates: EntityType) -> Capabilities:
    """A tool that writes names and references of projects, items and status reports."""
    return Capabilities(
        writable={
            P: frozenset({"name"}),
            W: frozenset({"name", "project"}),
            M: frozenset({"name", "project"}),
            S: frozenset({"project", "rag", "summary"}),
        },
        can_create=frozenset(creates),
    )


class Portfolio:
    """A hand-made working state and the tools' rules: what a run plans, lands and leaves."""

    def __init__(self, store: Store, tools: dict[str, Capabilities]) -> None:
        self.store, self.tools, self.state = store, tools, WorkingState()
        self.create_types = {name: set(c.can_create) for name, c in tools.items()}
        self.cross_links: list[str] = []
        self._ids = 0

    def entity(self, entity_type: EntityType, held_by: tuple[str, ...] = (), **values: Any) -> str:
        self._ids += 1
        canonical_id = f"{entity_type.value}-{self._ids}"
        self.state.entities[canonical_id] = EntityState(canonical_id, entity_type, values)
        for tool in held_by:
            link = LinkState(
                canonical_id, tool, entity_type, f"{tool}:{canonical_id}", dict(values)
            )
            self.state.links[link.key] = link
        return canonical_id

    def plan(self) -> list[PlannedWrite]:
        """The engine's plan (Engine._plan) without the tombstone and dropped-write filters."""
        tools, state = list(self.tools), self.state
        writes = plan_writes(state, self.tools, tools, set()).writes
        writes += plan_creates(state, self.tools, self.create_types).writes
        writes += plan_history(state, self.tools, self.create_types)
        locate = lambda tool, cid: {"url": f"https://{tool}/{cid}", "title": cid}  # noqa: E731
        return writes + plan_cross_links(state, self.cross_links, locate).writes

    def land(self, writes: list[PlannedWrite]) -> None:
        """Every write succeeds; apply records them as it does after a tool's answer."""
        report = RunReport(connections={n: ConnectionReport(n, "test") for n in self.tools})
        for write in writes:
            external_id = write.external_id or f"{write.connection}:new:{write.canonical_id}"
            result = WriteResult(None, True, external_id=external_id)
            _record_results(self.store, self.state, [write], [result], report)

    def decide(self) -> bool:
        """Whether this run leaves something, checked against the next run's plan."""
        writes = self.plan()
        deferred = left_for_later(
            self.state, writes, self.tools, self.create_types, set(), self.cross_links
        )
        self.land(writes)
        following = self.plan()
        assert bool(deferred) == bool(following), (deferred, following)
        return bool(deferred)


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    opened = Store.open(store_url)
    yield opened
    opened.close()


def test_creates_whose_references_are_all_written_leave_nothing(store: Store) -> None:
    portfolio = Portfolio(store, {"a": caps(), "b": caps(W)})
    project = portfolio.entity(P, ("a", "b"), name="Apollo")
    portfolio.entity(W, ("a",), name="Design", project=project)
    assert not portfolio.decide()


def test_a_reference_left_out_because_its_target_is_created_too_is_left(store: Store) -> None:
    # the project and its work item are both created in b: the item's create cannot name the
    # project (no record id yet); the next run fills it in
    portfolio = Portfolio(store, {"a": caps(), "b": caps(P, W)})
    project = portfolio.entity(P, ("a",), name="Apollo")
    item = portfolio.entity(W, ("a",), name="Design", project=project)
    assert portfolio.decide()
    filled = portfolio.plan()
    assert [(w.op, w.canonical_id, [c.field for c in w.changes]) for w in filled] == [
        ("update", item, ["project"])
    ]
    assert not portfolio.decide()  # and that run leaves nothing


def test_a_reference_to_a_target_the_tool_never_gets_is_not_left(store: Store) -> None:
    # b receives work items but not projects: the reference stays out on every run alike
    portfolio = Portfolio(store, {"a": caps(), "b": caps(W)})
    project = portfolio.entity(P, ("a",), name="Apollo")
    portfolio.entity(W, ("a",), name="Design", project=project)
    assert not portfolio.decide()


def test_an_update_whose_reference_target_is_created_this_run_is_left(store: Store) -> None:
    # the item is already in b, moved (in a) to a project b does not hold yet but receives now
    portfolio = Portfolio(store, {"a": caps(), "b": caps(P)})
    old = portfolio.entity(P, ("a", "b"), name="Old")
    new = portfolio.entity(P, ("a",), name="New")
    item = portfolio.entity(W, ("a", "b"), name="Design", project=old)
    portfolio.state.entities[item].values["project"] = new
    assert portfolio.decide()
    assert not portfolio.decide()


def test_status_history_in_every_tool_holding_the_project_leaves_nothing(store: Store) -> None:
    portfolio = Portfolio(store, {"a": caps(S), "b": caps(S)})
    project = portfolio.entity(P, ("a", "b"), name="Apollo")
    portfolio.entity(S, rag="G", summary="on track", project=project)  # record_history's
    assert not portfolio.decide()


def test_a_status_row_left_out_of_a_tool_lacking_the_project_is_left(store: Store) -> None:
    # a keeps the history and holds the project; b keeps a history but lacks the project:
    # plan_history leaves b out, and once a holds the row plan_creates gives it to b
    portfolio = Portfolio(store, {"a": caps(S), "b": caps(S)})
    project = portfolio.entity(P, ("a",), name="Apollo")
    portfolio.entity(S, rag="G", summary="on track", project=project)
    assert portfolio.decide()
    assert not portfolio.decide()


def test_a_status_row_for_a_tool_that_keeps_no_history_is_not_left(store: Store) -> None:
    portfolio = Portfolio(store, {"a": caps(S), "b": caps()})
    project = portfolio.entity(P, ("a",), name="Apollo")
    portfolio.entity(S, rag="G", summary="on track", project=project)
    assert not portfolio.decide()


def test_an_item_created_at_a_cross_tool_dependencys_end_is_left(store: Store) -> None:
    # b keeps cross-tool links and receives milestones: once the milestone created there
    # lands, b holds one end of a dependency whose other end only c holds, and the next run
    # links it to c's item
    portfolio = Portfolio(store, {"a": caps(), "b": caps(M), "c": caps()})
    portfolio.cross_links = ["b"]
    project = portfolio.entity(P, ("a", "b", "c"), name="Apollo")
    build = portfolio.entity(W, ("c",), name="Build", project=project)
    ship = portfolio.entity(M, ("a",), name="Ship", project=project)
    portfolio.entity(D, ("c",), predecessor=build, successor=ship)
    assert portfolio.decide()
    assert [w.entity_type for w in portfolio.plan()] == [D]


def test_a_status_row_waiting_for_its_project_created_this_run_is_left(store: Store) -> None:
    # b alone keeps a history and receives projects: the row cannot name the project b does
    # not hold yet, so plan_history leaves it out; once the project landed, it is written
    portfolio = Portfolio(store, {"a": caps(), "b": caps(P, S)})
    project = portfolio.entity(P, ("a",), name="Apollo")
    portfolio.entity(S, rag="G", summary="on track", project=project)
    assert portfolio.decide()
    assert [w.entity_type for w in portfolio.plan()] == [S]
    assert not portfolio.decide()
