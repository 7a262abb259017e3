"""PlannerConnector over loopback against the Dataverse emulator (msal sign-in, requests through
the policy layer): what a pull yields and costs, incremental reads, operation-set pushes."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from pmosync.canonical_model import EntityType, FieldChange, PlannedWrite, PulledRecord
from pmosync.config.loader import load_config
from pmosync.connectors import get_connector
from pmosync.connectors.planner.connector import PLANS_SCOPE, PlannerConnector
from pmosync.connectors.planner.opsets import Update
from pmosync.errors import ConfigError, PmoSyncError
from pmosync.sandbox.harness import Sandbox, Scenario
from pmosync.sandbox.scenarios import planner

NAME = "plans_planner"
COMPLETED, FAILED = 192350003, 192350004


def _connector(sandbox: Sandbox, **overlap: float) -> PlannerConnector:
    loaded = load_config(sandbox.config_path)
    connector = get_connector(
        NAME,
        loaded.connection(NAME),
        loaded.mappings_for(NAME),
        overlap_seconds=overlap.get("overlap", 300.0),
    )
    assert isinstance(connector, PlannerConnector)
    return connector


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    specs = planner.services(NAME)
    assert specs[1].connection is not None
    specs[1].connection["max_operations_per_set"] = 3  # exercise the batching on a small plan
    with Sandbox(Scenario(services=specs), tmp_path / "sb") as running:
        yield running


def _emulator(sandbox: Sandbox) -> Any:
    return sandbox.services[NAME].emulator


def _pull(connector: PlannerConnector, since: datetime | None = None) -> list[PulledRecord]:
    records = list(connector.pull(PLANS_SCOPE, since, None))
    assert all(isinstance(r, PulledRecord) for r in records), records
    return [r for r in records if isinstance(r, PulledRecord)]


def _write(entity_type: EntityType, external_id: str, **values: Any) -> PlannedWrite:
    changes = [FieldChange(name, None, value, "test") for name, value in values.items()]
    return PlannedWrite(NAME, entity_type, "c-" + external_id, "update", changes, external_id)


def test_full_pull_reads_every_plan_in_ten_requests(sandbox: Sandbox) -> None:
    connector = _connector(sandbox)
    records = _pull(connector)
    kinds = Counter(r.ref.entity_type for r in records)
    assert kinds == {
        EntityType.PROGRAMME: 1,
        EntityType.PROJECT: 2,
        EntityType.PERSON: 3,  # the same three people staff both plans
        EntityType.WORK_ITEM: 16,
        EntityType.MILESTONE: 2,
        EntityType.DEPENDENCY: 12,
    }
    project = next(r for r in records if r.ref.entity_type is EntityType.PROJECT)
    assert project.values["code"] == project.ref.external_key == "PRJ-007"
    assert project.pointers["programme"].entity_type is EntityType.PROGRAMME
    links = [r for r in records if r.ref.entity_type is EntityType.DEPENDENCY]
    assert {r.values["link_type"] for r in links} == {"FS", "SS"}
    assert {r.values["lag_minutes"] for r in links} == {0, 480}
    assigned = [r for r in records if r.values.get("assignments")]
    assert assigned and all(
        r.pointers["assignee"].entity_type is EntityType.PERSON for r in assigned
    )
    # programmes, projects, buckets, team: one page each; tasks, links, assignments: two pages
    # of 10 (the scenario's page size), following @odata.nextLink
    assert _emulator(sandbox).counters.total() == 10
    # ...plus msal's one token call to Entra (the cached access token was minted for the
    # sign-in's app instance; a fresh process refreshes once), through the same policy layer
    assert connector.api_calls() == 11
    connector.close()


SINCE = datetime(2026, 6, 1, tzinfo=UTC)  # the cursor of an incremental pull


def _seeded_long_ago(sandbox: Sandbox) -> Any:
    """The emulator, its rows dated before SINCE: an incremental pull finds only later edits."""
    emulator = _emulator(sandbox)
    for rows in emulator.tables.rows.values():
        for row in rows.values():
            row["modifiedon"] = "2026-01-01T00:00:00Z"
    return emulator


def test_incremental_pull_rereads_only_the_changed_plan(sandbox: Sandbox) -> None:
    emulator = _seeded_long_ago(sandbox)
    connector = _connector(sandbox, overlap=0)
    since = SINCE
    assert _pull(connector, since) == []
    # programmes, projects and one probe per child table, in one $batch request
    assert emulator.counters.total() == 1

    task = next(t for t in emulator.rows("msdyn_projecttasks") if t["msdyn_ismilestone"])
    emulator.edit("msdyn_projecttasks", task["msdyn_projecttaskid"], {"msdyn_subject": "Go"})
    records = _pull(connector, since)
    projects = {r.ref.external_id for r in records if r.ref.entity_type is EntityType.PROJECT}
    assert projects == {task["_msdyn_project_value"]}
    tasks = [r for r in records if r.ref.entity_type is EntityType.WORK_ITEM]
    assert len(tasks) == 8  # the changed plan is re-read whole (deletions show as absence)
    connector.close()


def test_push_runs_one_operation_set_per_project_and_polls_it(sandbox: Sandbox) -> None:
    emulator = _emulator(sandbox)
    connector = _connector(sandbox)
    records = _pull(connector)
    project = next(r for r in records if r.ref.entity_type is EntityType.PROJECT)
    leaf = next(
        r
        for r in records
        if r.ref.entity_type is EntityType.WORK_ITEM
        and r.values["kind"] == "task"
        and r.pointers["project"].external_id == project.ref.external_id
    )
    writes = [
        _write(EntityType.PROJECT, project.ref.external_id, rag="A", pmo_status="on track"),
        _write(EntityType.WORK_ITEM, leaf.ref.external_id, percent_complete=Decimal("60")),
    ]
    results = connector.push(writes)
    assert [r.ok for r in results] == [True, True], results
    assert [s["msdyn_status"] for s in emulator.operation_sets()] == [COMPLETED]
    row = next(
        p
        for p in emulator.rows("msdyn_projects")
        if p["msdyn_projectid"] == project.ref.external_id
    )
    assert (row["pmo_rag"], row["pmo_statusline"]) == ("Amber", "on track")
    task = emulator.tables.get("msdyn_projecttasks", leaf.ref.external_id)
    assert task["msdyn_progress"] == 60.0
    assert connector.runner.polls == 3  # Processing, Processing, Completed
    connector.close()


def test_a_bad_task_fails_its_whole_set_with_the_reason_per_task(sandbox: Sandbox) -> None:
    emulator = _emulator(sandbox)
    connector = _connector(sandbox)
    records = _pull(connector)
    leaves = [
        r
        for r in records
        if r.ref.entity_type is EntityType.WORK_ITEM and r.values["kind"] == "task"
    ]
    by_project: dict[str, list[PulledRecord]] = {}
    for leaf in leaves:
        by_project.setdefault(leaf.pointers["project"].external_id, []).append(leaf)
    first, second = list(by_project.values())
    before = emulator.tables.get("msdyn_projecttasks", first[0].ref.external_id)["msdyn_progress"]
    writes = [
        _write(EntityType.WORK_ITEM, first[0].ref.external_id, percent_complete=Decimal("90")),
        _write(EntityType.WORK_ITEM, first[1].ref.external_id, percent_complete=Decimal("150")),
        _write(EntityType.WORK_ITEM, second[0].ref.external_id, percent_complete=Decimal("10")),
    ]
    results = connector.push(writes)
    assert [r.ok for r in results] == [False, False, True]
    assert "nothing of it was applied" in str(results[0].error)
    assert first[1].ref.external_id in str(results[1].error)
    assert "outside 0-100" in str(results[1].error)
    # the good task of the failed set was not applied either: no half-applied plan
    after = emulator.tables.get("msdyn_projecttasks", first[0].ref.external_id)["msdyn_progress"]
    assert after == before
    assert sorted(s["msdyn_status"] for s in emulator.operation_sets()) == [COMPLETED, FAILED]
    connector.close()


def test_writes_beyond_the_operation_limit_go_in_further_sets(sandbox: Sandbox) -> None:
    emulator = _emulator(sandbox)
    connector = _connector(sandbox)
    records = _pull(connector)
    project = next(r for r in records if r.ref.entity_type is EntityType.PROJECT)
    leaves = [
        r
        for r in records
        if r.ref.entity_type is EntityType.WORK_ITEM
        and r.values["kind"] == "task"
        and r.pointers["project"].external_id == project.ref.external_id
    ][:5]
    writes = [
        _write(EntityType.WORK_ITEM, leaf.ref.external_id, name=f"Step {i}", percent_complete=i)
        for i, leaf in enumerate(leaves)
    ]
    results = connector.push(writes)
    assert all(r.ok for r in results), results
    # five rows, at most three operations a set (the scenario's limit): two sets, in order
    assert [s["msdyn_status"] for s in emulator.operation_sets()] == [COMPLETED, COMPLETED]
    names = {
        emulator.tables.get("msdyn_projecttasks", leaf.ref.external_id)["msdyn_subject"]
        for leaf in leaves
    }
    assert names == {f"Step {i}" for i in range(5)}
    connector.close()


def test_a_run_without_a_signed_in_user_says_to_sign_in(sandbox: Sandbox) -> None:
    (sandbox.directory / "tokens" / f"{NAME}.msal.json").unlink()
    connector = _connector(sandbox)
    with pytest.raises(ConfigError, match=f"pmo-sync auth login {NAME}"):
        _pull(connector)
    connector.close()


# -- own writes (#13 echo): a pull after our own writes does not re-read them -------------------


def _plans(records: list[PulledRecord]) -> list[tuple[PulledRecord, PulledRecord]]:
    """Each plan's project record with one of its leaf tasks."""
    projects = [r for r in records if r.ref.entity_type is EntityType.PROJECT]
    return [
        (
            project,
            next(
                r
                for r in records
                if r.ref.entity_type is EntityType.WORK_ITEM
                and r.values["kind"] == "task"
                and r.pointers["project"].external_id == project.ref.external_id
            ),
        )
        for project in projects
    ]


def _projects_read(records: list[PulledRecord]) -> set[str]:
    return {r.ref.external_id for r in records if r.ref.entity_type is EntityType.PROJECT}


def test_a_pull_after_our_own_writes_rereads_none_of_them(sandbox: Sandbox) -> None:
    emulator = _seeded_long_ago(sandbox)
    writer = _connector(sandbox, overlap=0)
    (status, leaf), (scheduled, scheduled_leaf) = _plans(_pull(writer))
    emulator.counters.clear()
    results = writer.push(
        [
            _write(EntityType.PROJECT, status.ref.external_id, rag="R", pmo_status="late"),
            _write(EntityType.WORK_ITEM, leaf.ref.external_id, name="Renamed by the PMO"),
            # progress makes the scheduling engine recompute other columns: never an echo
            _write(EntityType.WORK_ITEM, scheduled_leaf.ref.external_id, percent_complete=40),
        ]
    )
    assert all(r.ok for r in results), results
    # what recording costs: one batch before the sets (untouched since our pull?) and one after
    # (the versions our writes left)
    batches = emulator.counters.snapshot()["by_endpoint"]
    assert sum(n for k, n in batches.items() if "$batch" in k) == 2, batches
    writer.close()
    stamps = sandbox.directory / "tokens" / f"{NAME}.msal.own-writes.json"
    assert stamps.stat().st_mode & 0o777 == 0o600

    # the next run (another process): the probes list our three rows, two of them as we left them
    reader = _connector(sandbox, overlap=0)
    before = emulator.counters.total()
    records = _pull(reader, SINCE)
    assert _projects_read(records) == {scheduled.ref.external_id}
    assert not [
        r for r in records if r.ref.external_id in (status.ref.external_id, leaf.ref.external_id)
    ]
    assert reader.echoes_skipped == 1
    # the probes in one $batch, then the one plan re-read: projects + five children
    assert emulator.counters.total() - before == 1 + 6
    reader.close()


def test_a_persons_edit_after_our_write_is_pulled(sandbox: Sandbox) -> None:
    emulator = _seeded_long_ago(sandbox)
    writer = _connector(sandbox, overlap=0)
    (project, leaf), _ = _plans(_pull(writer))
    results = writer.push([_write(EntityType.WORK_ITEM, leaf.ref.external_id, name="PMO name")])
    assert all(r.ok for r in results), results
    writer.close()
    # a person renames the same task in Planner after our write
    emulator.edit("msdyn_projecttasks", leaf.ref.external_id, {"msdyn_subject": "Person's name"})
    reader = _connector(sandbox, overlap=0)
    records = _pull(reader, SINCE)
    assert _projects_read(records) == {project.ref.external_id}
    task = next(r for r in records if r.ref.external_id == leaf.ref.external_id)
    assert task.values["name"] == "Person's name"
    assert reader.echoes_skipped == 0
    reader.close()


def test_a_persons_edit_between_our_pull_and_our_write_is_not_taken_for_ours(
    sandbox: Sandbox,
) -> None:
    emulator = _seeded_long_ago(sandbox)
    writer = _connector(sandbox, overlap=0)
    (project, _), _ = _plans(_pull(writer))
    # while the run reconciles, a person edits the plan's description
    emulator.edit("msdyn_projects", project.ref.external_id, {"msdyn_description": "New scope"})
    results = writer.push([_write(EntityType.PROJECT, project.ref.external_id, rag="G")])
    assert all(r.ok for r in results), results
    writer.close()
    reader = _connector(sandbox, overlap=0)
    records = _pull(reader, SINCE)
    read = next(r for r in records if r.ref.external_id == project.ref.external_id)
    assert read.values["description"] == "New scope"
    reader.close()


def test_a_run_killed_between_write_and_stamp_rereads_and_converges(sandbox: Sandbox) -> None:
    emulator = _seeded_long_ago(sandbox)
    killed = _connector(sandbox, overlap=0)
    (project, _), _ = _plans(_pull(killed))
    pid = project.ref.external_id
    write = _write(EntityType.PROJECT, pid, rag="R", pmo_status="late")
    # the operation set lands, then the process dies before it records the version
    _, _, _, columns = killed._plan(write)
    [outcome] = killed.runner.apply(pid, [Update("msdyn_project", pid, columns)], "killed run")
    assert outcome.applied
    killed.close()

    # the next run cannot tell the row from a person's edit: it re-reads the plan (safe side)
    # and finds our value, which the engine takes for the echo it is
    rerun = _connector(sandbox, overlap=0)
    records = _pull(rerun, SINCE)
    assert _projects_read(records) == {pid}
    assert next(r for r in records if r.ref.external_id == pid).values["pmo_status"] == "late"
    assert rerun.echoes_skipped == 0
    # the write was never reported done, so the outbox sends it again: the same absolute value,
    # now recorded, and the run after re-reads nothing
    assert all(r.ok for r in rerun.push([write]))
    assert emulator.tables.get("msdyn_projects", pid)["pmo_rag"] == "Red"
    rerun.close()
    after = _connector(sandbox, overlap=0)
    assert _pull(after, SINCE) == []
    assert after.echoes_skipped == 1
    after.close()


def test_a_pull_that_failed_vouches_for_no_row_we_write(sandbox: Sandbox) -> None:
    emulator = _seeded_long_ago(sandbox)
    (project, _), _ = _plans(_pull(_connector(sandbox, overlap=0)))
    writer = _connector(sandbox, overlap=0)
    emulator.faults.set(
        {"burst": {"status": 400, "count": 1, "path_prefix": "/api/data/v9.2/$batch"}}
    )
    with pytest.raises(PmoSyncError):
        _pull(writer, SINCE)
    # the outbox still sends its writes; a pull that did not finish cannot say the row was
    # untouched before them, so nothing is recorded and the next run reads the plan
    assert all(
        r.ok for r in writer.push([_write(EntityType.PROJECT, project.ref.external_id, rag="G")])
    )
    writer.close()
    reader = _connector(sandbox, overlap=0)
    assert _projects_read(_pull(reader, SINCE)) == {project.ref.external_id}
    reader.close()


def test_change_probes_that_page_in_the_batch_are_followed_to_the_end(sandbox: Sandbox) -> None:
    emulator = _emulator(sandbox)
    for rows in emulator.tables.rows.values():
        for row in rows.values():
            row["modifiedon"] = "2026-07-01T00:00:00Z"  # every row changed since the cursor
    connector = _connector(sandbox, overlap=0)
    everything = {(r.ref.entity_type, r.ref.external_id) for r in _pull(connector)}
    before = emulator.counters.total()
    changed = {(r.ref.entity_type, r.ref.external_id) for r in _pull(connector, SINCE)}
    assert changed == everything
    # the tasks, links and assignments probes list more rows than the scenario's page size of
    # 10: their second pages are read one by one after the batch (3), then both plans are
    # re-read as a full pull reads them (projects, buckets, team, 2 pages of each of the rest)
    counted = emulator.counters.snapshot()["by_endpoint"]
    assert sum(n for k, n in counted.items() if "$batch" in k) == 1, counted
    assert emulator.counters.total() - before == 1 + 3 + 9
    connector.close()


def test_a_batch_the_service_failed_is_sent_again_as_reads_are(sandbox: Sandbox) -> None:
    emulator = _seeded_long_ago(sandbox)
    task = next(iter(emulator.rows("msdyn_projecttasks")))
    emulator.edit("msdyn_projecttasks", task["msdyn_projecttaskid"], {"msdyn_subject": "Edited"})
    connector = _connector(sandbox, overlap=0)
    # $batch is a POST: the connection's policy repeats it after a 5xx as it would the GETs it
    # holds (every request this connection sends is safe to repeat), so batching the probes
    # loses no resilience
    emulator.faults.set(
        {"burst": {"status": 500, "count": 1, "path_prefix": "/api/data/v9.2/$batch"}}
    )
    records = _pull(connector, SINCE)
    assert _projects_read(records) == {task["_msdyn_project_value"]}
    batches = emulator.counters.snapshot()["by_endpoint"]
    assert sum(n for k, n in batches.items() if "$batch" in k) == 2, batches
    connector.close()


def test_a_persons_edit_landing_right_after_our_set_is_not_taken_for_ours(
    sandbox: Sandbox,
) -> None:
    emulator = _seeded_long_ago(sandbox)
    writer = _connector(sandbox, overlap=0)
    (_, leaf), _ = _plans(_pull(writer))
    task_id = leaf.ref.external_id
    apply = writer.runner.apply

    def then_a_person_edits(*args: Any) -> Any:
        # the set completes; a second later, before we read the versions back, a person
        # renames the task we wrote: its version is theirs, not ours
        outcomes = apply(*args)
        emulator.edit("msdyn_projecttasks", task_id, {"msdyn_subject": "Person's name"})
        later = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=2)
        emulator.tables.rows["msdyn_projecttasks"][task_id]["modifiedon"] = later.strftime(
            "%Y-%m-%dT%H:%M:%SZ"
        )
        return outcomes

    writer.runner.apply = then_a_person_edits  # type: ignore[method-assign]
    assert all(r.ok for r in writer.push([_write(EntityType.WORK_ITEM, task_id, name="PMO")]))
    writer.close()
    reader = _connector(sandbox, overlap=0)
    task = next(r for r in _pull(reader, SINCE) if r.ref.external_id == task_id)
    assert task.values["name"] == "Person's name"
    reader.close()
