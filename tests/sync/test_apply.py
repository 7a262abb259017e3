"""The apply stage: connections are pushed at once, each one's chunks in order and recorded.

The connectors here are in-process stand-ins for the Connector protocol (the seam apply
talks to), not HTTP mocks: what is tested is how apply drives them and records their answers.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path

import pytest
from sqlalchemy import select

from pmosync.canonical_model import EntityType, FieldChange, PlannedWrite, WriteResult
from pmosync.errors import RetriableError
from pmosync.sync import models
from pmosync.sync.apply import APPLY_CHUNK, apply_writes, journal
from pmosync.sync.report import ConnectionReport, RunReport
from pmosync.sync.state import LinkState, WorkingState, load_state, persist
from pmosync.sync.store import Store, utcnow

Push = Callable[[Sequence[PlannedWrite]], list[WriteResult]]


class StandIn:
    """A connection whose push is the test's function (apply calls only ``name`` and
    ``push``)."""

    def __init__(self, name: str, push: Push) -> None:
        self.name = name
        self._push = push

    def push(self, writes: Sequence[PlannedWrite]) -> list[WriteResult]:
        return self._push(writes)


def _ok(writes: Sequence[PlannedWrite]) -> list[WriteResult]:
    return [WriteResult(w.outbox_id, True, w.external_id) for w in writes]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store.open(f"sqlite:///{tmp_path / 'store.db'}")
    yield opened
    opened.close()


def _planned(store: Store, counts: Mapping[str, int]) -> tuple[WorkingState, list[PlannedWrite]]:
    """``counts[connection]`` status updates to known records, journaled as a run would."""
    state = load_state(store)
    writes: list[PlannedWrite] = []
    for connection, n in counts.items():
        for i in range(n):
            entity = state.new_entity(EntityType.PROJECT)
            entity.values = {"name": f"{connection} {i}", "rag": "A"}
            link = LinkState(
                entity.id, connection, EntityType.PROJECT, f"{connection}-{i}", {"rag": "G"}
            )
            state.links[link.key] = link
            change = FieldChange("rag", "G", "A", "test")
            writes.append(
                PlannedWrite(
                    connection, EntityType.PROJECT, entity.id, "update", [change], link.external_id
                )
            )
    persist(store, state)
    with store.session() as session:
        run = models.Run(started_at=utcnow(), finished_at=None, status="running")
        session.add(run)
        session.flush()
        journal(session, writes, run.id, utcnow())
    return state, writes


def _report(*names: str) -> RunReport:
    return RunReport(connections={n: ConnectionReport(n, "test") for n in names})


def _statuses(store: Store) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    with store.sessions() as session:
        for row in session.execute(
            select(models.Outbox.connection, models.Outbox.status).order_by(models.Outbox.id)
        ):
            out.setdefault(row.connection, []).append(row.status)
    return out


def test_connections_are_pushed_at_once(store: Store) -> None:
    """Each push waits until the other connection's push has started: pushed one after the
    other, the first would give up waiting and fail."""
    started = {"a": threading.Event(), "b": threading.Event()}

    def meeting(me: str, other: str) -> Push:
        def push(writes: Sequence[PlannedWrite]) -> list[WriteResult]:
            started[me].set()
            if not started[other].wait(30):
                raise RetriableError(f"{other} never started while {me} was pushing")
            return _ok(writes)

        return push

    state, writes = _planned(store, {"a": 3, "b": 3})
    report = _report("a", "b")
    connectors = {"a": StandIn("a", meeting("a", "b")), "b": StandIn("b", meeting("b", "a"))}
    failures = apply_writes(store, state, writes, connectors, report)
    assert failures == {}
    assert _statuses(store) == {"a": ["done"] * 3, "b": ["done"] * 3}
    assert report.connections["a"].writes_applied == report.connections["b"].writes_applied == 3


def test_a_connections_chunks_go_in_order_each_after_the_last_is_recorded(store: Store) -> None:
    n = 2 * APPLY_CHUNK + 7
    seen: list[tuple[int, list[str]]] = []

    def push(writes: Sequence[PlannedWrite]) -> list[WriteResult]:
        seen.append((len(writes), _statuses(store)["a"]))
        return _ok(writes)

    state, writes = _planned(store, {"a": n, "b": 1})
    apply_writes(
        store, state, writes, {"a": StandIn("a", push), "b": StandIn("b", _ok)}, _report("a", "b")
    )
    assert [size for size, _ in seen] == [APPLY_CHUNK, APPLY_CHUNK, 7]
    for index, (_, statuses) in enumerate(seen):
        recorded = index * APPLY_CHUNK
        assert statuses[:recorded] == ["done"] * recorded  # every earlier chunk recorded
        assert set(statuses[recorded:]) == {"pending"}
    assert _statuses(store)["a"] == ["done"] * n


def test_a_failing_connection_stops_alone(store: Store) -> None:
    calls: list[int] = []

    def broken(writes: Sequence[PlannedWrite]) -> list[WriteResult]:
        calls.append(len(writes))
        raise RuntimeError("boom")

    state, writes = _planned(store, {"a": APPLY_CHUNK + 5, "b": APPLY_CHUNK + 5})
    report = _report("a", "b")
    failures = apply_writes(
        store, state, writes, {"a": StandIn("a", broken), "b": StandIn("b", _ok)}, report
    )
    assert set(failures) == {"a"} and "internal error" in str(failures["a"])
    assert calls == [APPLY_CHUNK]  # no chunk after the failed one
    statuses = _statuses(store)
    assert statuses["a"] == ["failed"] * APPLY_CHUNK + ["pending"] * 5
    assert statuses["b"] == ["done"] * (APPLY_CHUNK + 5)
    assert report.connections["a"].writes_failed == APPLY_CHUNK + 5


def test_past_the_deadline_nothing_is_sent_and_the_rows_stay_pending(store: Store) -> None:
    def never(writes: Sequence[PlannedWrite]) -> list[WriteResult]:
        raise AssertionError("sent past the deadline")

    state, writes = _planned(store, {"a": 2})
    failures = apply_writes(
        store,
        state,
        writes,
        {"a": StandIn("a", never)},
        _report("a"),
        deadline=time.monotonic() - 1,
    )
    assert isinstance(failures["a"], RetriableError) and "deadline" in str(failures["a"])
    assert _statuses(store) == {"a": ["pending", "pending"]}
