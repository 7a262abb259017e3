from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from pmosync.canonical_model import EntityType
from pmosync.errors import ConfigError, LockedError
from pmosync.sync.lock import run_lock
from pmosync.sync.models import Base
from pmosync.sync.state import LinkState, load_state, persist
from pmosync.sync.store import Store


def test_migrations_build_exactly_the_models_schema(store_url: str) -> None:
    store = Store.open(store_url)
    try:
        with store.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        assert diff == []
        Store.open(store_url).close()  # a second open is a no-op upgrade
    finally:
        store.close()


def test_state_round_trips_in_bulk(store_url: str) -> None:
    store = Store.open(store_url)
    try:
        state = load_state(store)
        entity = state.new_entity(EntityType.PROJECT)
        entity.values = {"name": "Apollo", "code": "PRJ-1"}
        for i in range(25):
            link = LinkState(entity.id, "pmo", EntityType.PROJECT, f"rec{i}", {"name": "Apollo"})
            state.links[link.key] = link
        state.set_base(entity.id, "name", "pmo", "Apollo")
        state.set_base(entity.id, "rag", "pmo", None)
        persist(store, state)
        # the inserted links learn their row ids in the same run (apply and settle update them)
        ids = {link.key: link.id for link in state.links.values()}
        assert None not in ids.values() and len(set(ids.values())) == 25
        assert not any(lk.dirty for lk in state.links.values())
        assert not (entity.new or entity.dirty)
        persist(store, state)  # nothing left to write: no second insert
        again = load_state(store)
        assert {link.key: link.id for link in again.links.values()} == ids
        assert len(again.links) == 25
        assert again.entities[entity.id].values == {"name": "Apollo", "code": "PRJ-1"}
        assert again.bases == {
            (entity.id, "name", "pmo"): "Apollo",
            (entity.id, "rag", "pmo"): None,
        }
        # an update goes through the same bulk path
        again.set_base(entity.id, "name", "pmo", "Apollo 2")
        next(iter(again.links.values())).remote_values = {"name": "x"}
        next(iter(again.links.values())).dirty = True
        persist(store, again)
        third = load_state(store)
        assert third.bases[(entity.id, "name", "pmo")] == "Apollo 2"
        assert sorted(lk.remote_values["name"] for lk in third.links.values())[-1] == "x"
    finally:
        store.close()


def test_loaded_state_keeps_every_value_and_shares_equal_strings(store_url: str) -> None:
    # the JSON columns are read as text and decoded with shared strings (sync/sharing.py)
    nested = {
        "name": 'Zürich \u2013 "launch"',
        "status": "in_progress",
        "labels": ["in_progress", "Data"],
        "baselines": [{"number": 0, "start": "2027-03-08T08:00:00", "cost": "0.0"}],
        "custom": {"Workstream": "Data", "Empty": None},
        "percent": 12.5,
        "done": False,
        "count": 3,
    }
    store = Store.open(store_url)
    try:
        state = load_state(store)
        ids = []
        for i in range(3):
            entity = state.new_entity(EntityType.WORK_ITEM)
            entity.values = {**nested, "key": f"T-{i}"}
            link = LinkState(entity.id, "pwa", EntityType.WORK_ITEM, f"t{i}", {**nested})
            link.pointers = {"project": "P-1"}
            state.links[link.key] = link
            state.set_base(entity.id, "custom", "pwa", nested["custom"])
            state.set_base(entity.id, "status", "pwa", "in_progress")
            ids.append(entity.id)
        persist(store, state)
        again = load_state(store)
        for i, entity_id in enumerate(ids):
            assert again.entities[entity_id].values == {**nested, "key": f"T-{i}"}
            link = again.links[("pwa", "work_item", f"t{i}")]
            assert link.remote_values == nested
            assert link.pointers == {"project": "P-1"}
            assert link.canonical_id == entity_id
            assert again.bases[(entity_id, "custom", "pwa")] == nested["custom"]
        first, second = (again.links[("pwa", "work_item", f"t{i}")] for i in (0, 1))
        # one object for equal strings across rows and tables, never a shared dict or list
        assert first.remote_values["status"] is second.remote_values["status"]
        assert first.remote_values["status"] is again.entities[ids[2]].values["status"]
        assert first.remote_values["status"] is again.bases[(ids[1], "status", "pwa")]
        assert first.remote_values["custom"] is not second.remote_values["custom"]
        assert first.remote_values["labels"] is not second.remote_values["labels"]
        first.remote_values["custom"]["Workstream"] = "changed in place"
        assert second.remote_values["custom"]["Workstream"] == "Data"
    finally:
        store.close()


def _try_lock(url: str, queue: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    store = Store.open(url, migrate=False)
    try:
        with run_lock(store):
            queue.put("got it")
    except LockedError:
        queue.put("locked")
    finally:
        store.close()


def test_a_second_run_is_locked_out(store_url: str) -> None:
    store = Store.open(store_url)
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    try:
        with run_lock(store):
            proc = ctx.Process(target=_try_lock, args=(store_url, queue))
            proc.start()
            proc.join(60)
            assert queue.get(timeout=5) == "locked"
        proc = ctx.Process(target=_try_lock, args=(store_url, queue))
        proc.start()
        proc.join(60)
        assert queue.get(timeout=5) == "got it"
    finally:
        store.close()


def test_unreachable_store_is_a_config_error_without_password(tmp_path: Path) -> None:
    url = "postgresql+psycopg://pmo:hunter2@127.0.0.1:1/nowhere"
    with pytest.raises(ConfigError) as err:
        Store.open(url)
    assert "hunter2" not in str(err.value)


def test_per_run_analysis_rows_are_pruned_to_the_newest_runs(store_url: str) -> None:
    from sqlalchemy import func, insert, select

    from pmosync.sync import models
    from pmosync.sync.analyse import prune_analysis

    store = Store.open(store_url)
    try:
        with store.session() as session:
            for run_id in range(1, 8):
                session.execute(
                    insert(models.ScheduleResult),
                    [{"run_id": run_id, "canonical_id": f"item-{i}"} for i in range(3)],
                )
                session.execute(
                    insert(models.DependencyFinding),
                    [
                        {
                            "run_id": run_id,
                            "kind": "violation",
                            "severity": "high",
                            "items": {"ids": []},
                            "message": "m",
                        }
                    ],
                )
                prune_analysis(session, run_id, keep=3)
            runs = session.scalars(
                select(models.ScheduleResult.run_id)
                .distinct()
                .order_by(models.ScheduleResult.run_id)
            ).all()
            assert runs == [5, 6, 7]
            assert session.scalar(select(func.count()).select_from(models.ScheduleResult)) == 9
            found = session.scalars(select(models.DependencyFinding.run_id)).all()
            assert sorted(found) == [5, 6, 7]
    finally:
        store.close()
