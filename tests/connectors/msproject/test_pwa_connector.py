"""PwaConnector with real msal + requests against the Entra and PWA emulators over https."""

from __future__ import annotations

import math
import re
import stat
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import certifi
import pytest
import requests

from pmosync.canonical_model import (
    EntityType,
    FieldChange,
    PlannedWrite,
    PulledRecord,
    Quarantined,
)
from pmosync.config.connections.pwa import PwaConnection
from pmosync.config.loader import LoadedConfig, load_config
from pmosync.config.mapping import TeamMapping
from pmosync.connectors import get_connector
from pmosync.connectors.msproject.auth import sign_in
from pmosync.connectors.msproject.connector import PwaConnector
from pmosync.connectors.msproject.discover import discover
from pmosync.connectors.msproject.own_publishes import OwnPublishes
from pmosync.errors import RetriableError
from pmosync.sandbox.entra import DEFAULT_USER_UPN, EntraEmulator
from pmosync.sandbox.harness import Sandbox
from pmosync.sandbox.pwa import PwaEmulator
from pmosync.sandbox.scenarios.pwa import PUBLIC_CLIENT_ID

NAME = "plans_pwa"
PAGE_SIZE = 4


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    directory = tmp_path_factory.mktemp("pwa-sandbox")
    with Sandbox("pwa", directory, page_size=PAGE_SIZE, projects=3, tasks_per_project=12) as sb:
        yield sb


@pytest.fixture(scope="module")
def loaded(sandbox: Sandbox) -> LoadedConfig:
    return load_config(sandbox.config_path)


@pytest.fixture
def pwa(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> Iterator[PwaEmulator]:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", certifi.where())  # must not override our CA
    emulator = sandbox.services[NAME].emulator
    assert isinstance(emulator, PwaEmulator)
    emulator.reset()
    emulator.faults.clear()
    emulator.configure({"job_polls": 1, "job_seconds": 30.0})
    yield emulator
    emulator.faults.clear()
    emulator.reset()


@pytest.fixture
def entra(sandbox: Sandbox) -> EntraEmulator:
    emulator = sandbox.services[f"{NAME}_entra"].emulator
    assert isinstance(emulator, EntraEmulator)
    return emulator


def _connector(
    loaded: LoadedConfig,
    *,
    mapping_update: dict[str, Any] | None = None,
    overlap_seconds: float = 0.0,
    **config_update: Any,
) -> PwaConnector:
    config = loaded.config.connections[NAME]
    assert isinstance(config, PwaConnection)
    config = config.model_copy(
        update={
            "queue_poll_seconds": 0.05,
            "checkout_backoff_seconds": 0.05,
            "checkout_attempts": 3,
            "requests_per_second": 1000.0,  # loopback: pacing is not what these tests check
            **config_update,
        }
    )
    mappings = loaded.mappings_for(NAME)
    if mapping_update:
        data = mappings[0].model_dump(mode="json")
        for entity, fields in mapping_update.items():
            data["entities"].setdefault(entity, {}).setdefault("fields", {}).update(fields)
        mappings = [TeamMapping.model_validate(data)]
    connector = get_connector(NAME, config, mappings, overlap_seconds=overlap_seconds)
    assert isinstance(connector, PwaConnector)
    return connector


def _pull(connector: PwaConnector, since: datetime | None = None) -> list[Any]:
    return [item for scope in connector.scopes() for item in connector.pull(scope, since, None)]


def _records(items: list[Any], entity_type: EntityType) -> dict[str, PulledRecord]:
    return {
        r.ref.external_id: r
        for r in items
        if isinstance(r, PulledRecord) and r.ref.entity_type is entity_type
    }


def _calls(pwa: PwaEmulator, fragment: str) -> int:
    return sum(n for key, n in pwa.api_calls().items() if fragment in key)


RAG = {"Green": "G", "Amber": "A", "Red": "R"}
PULL_RAG = {
    "project": {
        "rag": {"field": "PMO RAG", "direction": "pull", "values": RAG},
        "stage": {"field": "Programme", "direction": "pull"},
    }
}


def test_full_pull_follows_every_page_and_maps_exactly(
    loaded: LoadedConfig, pwa: PwaEmulator, entra: EntraEmulator
) -> None:
    entra_before = entra.counters.total()
    connector = _connector(loaded, mapping_update=PULL_RAG)
    items = _pull(connector)
    assert not [q for q in items if isinstance(q, Quarantined)]
    projects = _records(items, EntityType.PROJECT)
    work_items = _records(items, EntityType.WORK_ITEM)
    milestones = _records(items, EntityType.MILESTONE)
    dependencies = _records(items, EntityType.DEPENDENCY)
    assert len(projects) == 3
    expected_tasks = expected_links = expected_milestones = 0
    for summary in pwa.projects():
        pid = str(summary["Id"])
        plan = pwa.published(pid)
        project = projects[pid].values
        assert project["name"] == summary["Name"]
        assert project["rag"] == RAG[pwa.custom_field_value(pid, "PMO RAG")[0]]
        assert project["stage"] == pwa.custom_field_value(pid, "Programme")[0]
        assert project["code"] == plan.props["ProjectIdentifier"]
        top = next(t for t in plan.tasks if int(t["OutlineLevel"]) == 0)
        assert float(project["percent_complete"]) == float(top["PercentComplete"])
        tasks = [t for t in plan.tasks if int(t["OutlineLevel"]) > 0]
        expected_tasks += len(tasks)
        for task in tasks:
            item = work_items[str(task["Id"])]
            assert item.values["name"] == task["Name"]
            assert item.values["due"] == task["Finish"].date().isoformat()
            kind = "milestone" if task["IsMilestone"] else "task"
            assert item.values["kind"] == ("summary" if task["IsSummary"] else kind)
            if task["IsMilestone"] and not task["IsSummary"]:
                expected_milestones += 1
                baseline = milestones[str(task["Id"])].values["baseline_due"]
                assert baseline == task["BaselineFinish"].date().isoformat()
        expected_links += len(plan.links)
        for link in plan.links:
            dep = dependencies[str(link["Id"])]
            assert (
                dep.values["link_type"]
                == {0: "FF", 1: "FS", 2: "SF", 3: "SS"}[link["DependencyType"]]
            )
            assert dep.values["lag_minutes"] * 10 == int(link["LinkLag"])
            assert dep.pointers["predecessor"].external_id == str(link["StartId"])
            assert dep.pointers["successor"].external_id == str(link["EndId"])
    assert len(work_items) == expected_tasks > 3 * PAGE_SIZE
    assert len(dependencies) == expected_links
    assert len(milestones) == expected_milestones > 0
    assert {d.values["link_type"] for d in dependencies.values()} >= {"FS", "SS"}
    assert any(d.values["lag_minutes"] for d in dependencies.values())
    # every collection was read past its first page
    assert _calls(pwa, "/Tasks") > 3 and _calls(pwa, "CustomFields") > 1
    # the summary task (its rolled-up percent) comes expanded with the project
    assert _calls(pwa, "ProjectSummaryTask") == 0
    labelled = [w for w in work_items.values() if w.values.get("labels")]
    assert labelled  # the task custom field Workstream
    raid = _records(items, EntityType.RAID_ITEM)
    assert Counter(r.values["kind"] for r in raid.values()) == {"issue": 6, "risk": 6}
    assert all(r.pointers.get("owner") for r in raid.values())
    # every request, msal's included, went through the connection's policy layer
    token_service = entra.counters.total() - entra_before
    assert 1 <= token_service <= 2  # discovery (+ a token POST unless the disk cache had one)
    assert connector.api_calls() == sum(pwa.api_calls().values()) + token_service


def test_light_json_gives_the_same_records(loaded: LoadedConfig, pwa: PwaEmulator) -> None:
    verbose = _pull(_connector(loaded))
    light = _pull(_connector(loaded, odata="nometadata"))
    minimal = _pull(_connector(loaded, odata="minimalmetadata"))
    as_dict = lambda items: {(r.ref.entity_type, r.ref.external_id): r.values for r in items}  # noqa: E731
    assert as_dict(light) == as_dict(verbose) == as_dict(minimal)


def _baseline_connector(loaded: LoadedConfig, **config_update: Any) -> PwaConnector:
    """A connector reading baseline 0 from ProjectData (the ``baseline`` option)."""
    config = loaded.config.connections[NAME]
    assert isinstance(config, PwaConnection)
    data = loaded.mappings_for(NAME)[0].model_dump(mode="json")
    data["entities"]["project"]["options"]["baseline"] = 0
    config = config.model_copy(update={"requests_per_second": 1000.0, **config_update})
    return PwaConnector(NAME, config, [TeamMapping.model_validate(data)])


def test_projectdata_baseline_matches_the_task_baseline(
    loaded: LoadedConfig, pwa: PwaEmulator
) -> None:
    own = _records(_pull(_connector(loaded)), EntityType.MILESTONE)
    connector = _baseline_connector(loaded)
    reported = _records(_pull(connector), EntityType.MILESTONE)
    assert {k: v.values["baseline_due"] for k, v in reported.items()} == {
        k: v.values["baseline_due"] for k, v in own.items()
    }
    assert _calls(pwa, "ProjectData/TaskBaselines") >= 3


def test_incremental_pull_only_rereads_changed_projects(
    loaded: LoadedConfig, pwa: PwaEmulator
) -> None:
    connector = _connector(loaded)
    before = datetime.now(UTC) - timedelta(seconds=2)
    assert _pull(connector, since=before) == []
    changed = str(pwa.projects()[1]["Id"])
    task = next(t for t in pwa.published(changed).tasks if int(t["OutlineLevel"]) == 2)
    pwa.human_edit(changed, str(task["Id"]), Name="Renamed by a planner")
    calls_before = _calls(pwa, "/Tasks")
    items = _pull(connector, since=before)
    assert {r.ref.external_id for r in items if r.ref.entity_type is EntityType.PROJECT} == {
        changed
    }
    assert _records(items, EntityType.WORK_ITEM)[str(task["Id"])].values["name"] == (
        "Renamed by a planner"
    )
    pages_for_one_project = _calls(pwa, "/Tasks") - calls_before
    assert 0 < pages_for_one_project <= 4


def _write(entity_type: EntityType, external_id: str, **values: Any) -> PlannedWrite:
    return PlannedWrite(
        connection=NAME,
        entity_type=entity_type,
        canonical_id=f"canon-{external_id}",
        op="update",
        changes=[FieldChange(k, None, v, "test") for k, v in values.items()],
        external_id=external_id,
        outbox_id=hash(external_id) % 1000,
    )


def _project_write(pid: str, **values: Any) -> PlannedWrite:
    return _write(EntityType.PROJECT, pid, **values)


def _task_write(task_id: str, **values: Any) -> PlannedWrite:
    return _write(EntityType.WORK_ITEM, task_id, **values)


def test_push_custom_fields_in_one_checkout_publish_cycle(
    loaded: LoadedConfig, pwa: PwaEmulator
) -> None:
    # this test reads ProjectData right after publishing: the reporting lag is off
    pwa.configure({"job_polls": 3, "reporting_lag_seconds": 0})
    pid = str(pwa.projects()[0]["Id"])
    task = next(t for t in pwa.published(pid).tasks if int(t["OutlineLevel"]) == 2)
    connector = _connector(
        loaded,
        mapping_update={
            "work_item": {"due": {"field": "Finish"}},
            "project": {"description": {"field": "Description"}},
        },
    )
    new_due = (task["Finish"] + timedelta(days=7)).date()
    writes = [
        _project_write(pid, rag_computed="R", next_milestone_date="2026-12-18"),
        _project_write(pid, pmo_status="Slipping: vendor late", description="Re-planned"),
        _task_write(str(task["Id"]), due=new_due.isoformat()),
    ]
    results = connector.push(writes)
    assert [r.ok for r in results] == [True, True, True], results
    assert results[0].version_token
    assert pwa.checked_out_by(pid) is None
    assert pwa.custom_field_value(pid, "PMO RAG") == ["Red"]
    assert pwa.custom_field_value(pid, "PMO Forecast") == datetime(2026, 12, 18)
    assert pwa.custom_field_value(pid, "PMO Status") == "Slipping: vendor late"
    assert pwa.published(pid).props["Description"] == "Re-planned"  # Draft MERGE + update()
    published_task = pwa.published(pid).task(task["Id"])
    assert published_task is not None and published_task["Finish"].date() == new_due
    # ONE check-out and ONE publish for the three writes; each queue job took several polls
    calls = pwa.api_calls()
    assert sum(n for k, n in calls.items() if "checkOut" in k) == 1
    assert sum(n for k, n in calls.items() if "publish" in k) == 1
    jobs = [j for j in pwa.jobs() if str(j["ProjectId"]) == pid]
    assert jobs and all(j["JobState"] == 4 and j["Polls"] >= 3 for j in jobs)
    # the reporting feed (ProjectData) shows the published values
    rows = list(
        connector.client.collection(
            connector.client.data_url("Projects"),
            what="verify",
            params={"$filter": f"ProjectId eq guid'{pid}'"},
        )
    )
    assert rows[0]["PMORAG"] == "Red" and rows[0]["PMOStatus"] == "Slipping: vendor late"
    # re-applying the same values is harmless
    again = connector.push(writes[:1])
    assert again[0].ok and pwa.custom_field_value(pid, "PMO RAG") == ["Red"]


def _queue_polls(pwa: PwaEmulator) -> int:
    return sum(n for k, n in pwa.api_calls().items() if k.startswith("GET") and "QueueJobs(" in k)


def test_failed_publish_stops_at_once_and_says_how_to_clear_the_queue(
    loaded: LoadedConfig, pwa: PwaEmulator
) -> None:
    # Project Server: a Failed (5) job blocks the project's later jobs (8 CorrelationBlocked)
    # until an administrator cancels it; polling a blocked job would only burn minutes.
    pwa.configure({"fail_next_publish": 1})
    pid = str(pwa.projects()[2]["Id"])
    before = pwa.custom_field_value(pid, "PMO Status")
    results = _connector(loaded).push([_project_write(pid, pmo_status="never published")])
    (failed_job,) = [j for j in pwa.jobs() if j["JobState"] == 5]
    error = results[0].error or ""
    assert not results[0].ok and "publish" in error
    assert str(failed_job["Id"]) in error and "Manage Queue Jobs" in error and "Cancel" in error
    assert pwa.custom_field_value(pid, "PMO Status") == before
    assert any("checkIn" in k for k in pwa.api_calls())  # queued, runs once unblocked
    assert [j["JobState"] for j in pwa.jobs() if j["MessageType"] == 21] == [8]
    polls = _queue_polls(pwa)
    # The next run meets the blocked queue on its first job: it stops without polling.
    again = _connector(loaded).push([_project_write(pid, pmo_status="still blocked")])
    error = again[0].error or ""
    assert not again[0].ok and "JobState 8" in error and str(failed_job["Id"]) in error
    assert _queue_polls(pwa) == polls
    # The administrator cancels the failed job: the queued check-in runs, the next run works.
    pwa.configure({"job_seconds": 0})  # the unblocked queue has run by the next run
    assert pwa.cancel_job(str(failed_job["Id"]))
    done = _connector(loaded).push([_project_write(pid, pmo_status="published")])
    assert done[0].ok and pwa.custom_field_value(pid, "PMO Status") == "published"
    assert pwa.checked_out_by(pid) is None


def test_project_checked_out_elsewhere_is_retried_then_reported(
    loaded: LoadedConfig, pwa: PwaEmulator
) -> None:
    locked, free = (str(p["Id"]) for p in pwa.projects()[:2])
    pwa.check_out_as(locked, "planner@contoso.onmicrosoft.com")
    results = _connector(loaded).push(
        [_project_write(locked, pmo_status="blocked"), _project_write(free, pmo_status="fine")]
    )
    assert not results[0].ok
    assert "still locked after 3 check-out attempts" in (results[0].error or "")
    assert results[1].ok and pwa.custom_field_value(free, "PMO Status") == "fine"
    assert sum(n for k, n in pwa.api_calls().items() if "checkOut" in k) == 3 + 1
    assert pwa.checked_out_by(locked) == "planner@contoso.onmicrosoft.com"  # not forced


def test_throttling_is_waited_out_and_a_dead_collection_fails_the_pull(
    loaded: LoadedConfig, pwa: PwaEmulator
) -> None:
    pwa.configure({"throttle": {"status": 429, "count": 2, "retry_after": 1}})
    connector = _connector(loaded)
    assert len(_records(_pull(connector), EntityType.PROJECT)) == 3
    assert connector.adapter.stats.by_status[429] == 2
    projects = "/sites/pwa/_api/ProjectServer/Projects('"
    pwa.configure(
        {"throttle": {"status": 503, "count": 50, "retry_after": 0, "path_prefix": projects}}
    )
    with pytest.raises(RetriableError, match="503"):
        _pull(_connector(loaded, max_attempts=2))


def test_plans_read_ahead_hand_over_the_same_records_and_never_a_partial_plan(
    loaded: LoadedConfig, pwa: PwaEmulator
) -> None:
    def seen(items: list[Any]) -> list[tuple[str, str, str]]:
        return [
            (type(i).__name__, i.ref.entity_type.value, i.ref.external_id)
            if isinstance(i, PulledRecord)
            else (type(i).__name__, i.entity_type.value, i.external_id)
            for i in items
        ]

    one_by_one = _pull(_connector(loaded, read_concurrency=1))
    ahead = _pull(_connector(loaded, read_concurrency=4))
    assert seen(ahead) == seen(one_by_one)  # same records, same order
    assert [r.values for r in ahead if isinstance(r, PulledRecord)] == [
        r.values for r in one_by_one if isinstance(r, PulledRecord)
    ]
    plans = [
        r.ref.external_id
        for r in ahead
        if isinstance(r, PulledRecord) and r.ref.entity_type is EntityType.PROJECT
    ]
    assert len(plans) == 3
    # the second plan's tasks cannot be read: the first plan is handed over whole, nothing of
    # the second or of the third (read ahead meanwhile) is
    broken = f"/sites/pwa/_api/ProjectServer/Projects('{plans[1]}')/Tasks"
    pwa.configure(
        {"throttle": {"status": 503, "count": 50, "retry_after": 0, "path_prefix": broken}}
    )
    connector = _connector(loaded, max_attempts=2, read_concurrency=4)
    handed: list[Any] = []
    with pytest.raises(RetriableError, match="503"):
        for scope in connector.scopes():
            handed.extend(connector.pull(scope, None, None))
    projects = [
        r.ref.external_id
        for r in handed
        if isinstance(r, PulledRecord) and r.ref.entity_type is EntityType.PROJECT
    ]
    assert projects == plans[:1]
    assert seen(handed) == seen(ahead)[: len(handed)]  # a prefix: plan 1 whole, then the stop


def test_token_cache_is_private_and_reused_by_the_next_instance(
    loaded: LoadedConfig, sandbox: Sandbox, pwa: PwaEmulator, entra: EntraEmulator
) -> None:
    _pull(_connector(loaded))
    posts = sum(entra.grant_counts().values())
    cache = sandbox.directory / "tokens" / f"{NAME}.msal.json"
    assert stat.S_IMODE(cache.stat().st_mode) == 0o600
    second = _connector(loaded)
    _pull(second)
    assert sum(entra.grant_counts().values()) == posts  # no new token POST


def test_discover_lists_projects_and_custom_fields(loaded: LoadedConfig, pwa: PwaEmulator) -> None:
    config = loaded.config.connections[NAME]
    assert isinstance(config, PwaConnection)
    found = discover(NAME, config)
    assert len(found["projects"]) == 3
    fields = {f["name"]: f for f in found["custom_fields"]}
    assert fields["PMO RAG"]["values"] == ["Green", "Amber", "Red"]
    assert fields["PMO RAG"]["entity"] == "project" and fields["PMO RAG"]["writable"]
    assert fields["Workstream"]["entity"] == "task" and not fields["Workstream"]["writable"]
    assert "Finish" in found["task_fields"]


def test_scenario_paths_resolve(sandbox: Sandbox) -> None:
    # delegated sign-in: no client secret anywhere, the user's tokens in a 0600 cache
    info = (sandbox.directory / "sandbox.json").read_text()
    assert "client_secret" not in info and Path(sandbox.directory / "secrets").is_dir()
    cache = sandbox.directory / "tokens" / f"{NAME}.msal.json"
    assert stat.S_IMODE(cache.stat().st_mode) == 0o600


class _StaleFirst:
    """Real msal credentials whose first token is one the server no longer accepts."""

    bearer = True

    def __init__(self, real: Any) -> None:
        self.real = real
        self.stale = True
        self.invalidated = 0

    def headers(self) -> dict[str, str]:
        if self.stale:
            return {"Authorization": "Bearer expired.token.value"}
        return dict(self.real.headers())

    def invalidate(self) -> None:
        self.invalidated += 1
        self.stale = False
        self.real.invalidate()


def test_a_rejected_token_is_replaced_once(loaded: LoadedConfig, pwa: PwaEmulator) -> None:
    connector = _connector(loaded)
    flaky = _StaleFirst(connector.credentials)
    connector.client.credentials = flaky
    assert len(_records(_pull(connector), EntityType.PROJECT)) == 3
    assert flaky.invalidated == 1
    assert connector.adapter.stats.by_status[401] == 1


def test_a_forgotten_form_digest_is_fetched_again(loaded: LoadedConfig, pwa: PwaEmulator) -> None:
    pid = str(pwa.projects()[0]["Id"])
    connector = _connector(loaded)
    assert connector.push([_project_write(pid, pmo_status="one")])[0].ok
    pwa.digests.clear()  # the farm recycled: every digest it issued is now invalid
    assert connector.push([_project_write(pid, pmo_status="two")])[0].ok
    assert pwa.custom_field_value(pid, "PMO Status") == "two"
    assert sum(n for k, n in pwa.api_calls().items() if "contextinfo" in k) == 2
    assert connector.adapter.stats.by_status[403] == 1


def test_a_quiet_run_costs_three_listings(loaded: LoadedConfig, pwa: PwaEmulator) -> None:
    connector = _connector(loaded)
    connector.credentials.headers()  # sign in first: token calls are not what we count
    signed_in = connector.api_calls()
    assert _pull(connector, since=datetime.now(UTC)) == []
    assert connector.api_calls() - signed_in == 3  # Projects, Issues, Risks: one page each


def test_device_code_sign_in_then_delegated_pull_and_push(
    loaded: LoadedConfig, sandbox: Sandbox, pwa: PwaEmulator, entra: EntraEmulator, tmp_path: Path
) -> None:
    pwa.configure({"allow_app_only": False})  # as Project Online: delegated tokens only
    config = loaded.config.connections[NAME]
    assert isinstance(config, PwaConnection)
    config = config.model_copy(
        update={
            "auth": "device_code",
            "client_id": PUBLIC_CLIENT_ID,
            "client_secret_file": None,
            "token_cache": tmp_path / "user.msal.json",
            "requests_per_second": 1000.0,
            "queue_poll_seconds": 0.05,
        }
    )
    approve_url = f"{sandbox.services[f'{NAME}_entra'].url}/_admin/entra/approve"
    app_tokens = entra.grant_counts().get("client_credentials", 0)
    shown: list[str] = []

    def prompt(message: str) -> None:
        shown.append(message)
        code = re.search(r"enter the code (\S+)", message)
        assert code is not None

        def approve() -> None:
            body = {"user_code": code.group(1)}
            reply = requests.post(approve_url, json=body, verify=str(config.ca_bundle), timeout=5)
            reply.raise_for_status()

        threading.Timer(0.2, approve).start()

    assert sign_in(NAME, config, prompt=prompt) == DEFAULT_USER_UPN
    assert len(shown) == 1
    connector = PwaConnector(NAME, config, loaded.mappings_for(NAME))
    assert len(_records(_pull(connector), EntityType.PROJECT)) == 3
    pid = str(pwa.projects()[0]["Id"])
    assert connector.push([_project_write(pid, pmo_status="signed in")])[0].ok
    assert pwa.custom_field_value(pid, "PMO Status") == "signed in"
    assert entra.grant_counts().get("client_credentials", 0) == app_tokens


def test_a_publish_slower_than_the_budget_is_waited_for_before_the_force_check_in(
    loaded: LoadedConfig, pwa: PwaEmulator
) -> None:
    # Jobs need 12 polls or 1 s; we poll every 0.05 s for 0.4 s (the force check-in 1.2 s), so
    # the first job "times out" while still running and holds the write lock (1030) until the
    # emulator's clock completes it; the check-in job then completes by polls.
    pwa.configure({"job_polls": 12, "job_seconds": 1.0})
    pid = str(pwa.projects()[0]["Id"])
    connector = _connector(loaded, queue_timeout_seconds=0.4, checkout_backoff_seconds=0.4)
    result = connector.push([_project_write(pid, pmo_status="slow")])[0]
    assert not result.ok and "still in state" in (result.error or "")
    assert "ALSO failed" not in (result.error or "")
    assert connector.adapter.stats.by_status[403] >= 1  # 1030 ProjectWriteLock, waited out
    assert pwa.checked_out_by(pid) is None  # the retried force check-in got through
    assert any(k.startswith("POST") and "checkIn" in k for k in pwa.api_calls())


def test_projects_option_restricts_the_pull(loaded: LoadedConfig, pwa: PwaEmulator) -> None:
    wanted = pwa.projects()[1]
    data = loaded.mappings_for(NAME)[0].model_dump(mode="json")
    data["entities"]["project"]["options"]["projects"] = [str(wanted["Name"]).upper()]
    config = loaded.config.connections[NAME]
    assert isinstance(config, PwaConnection)
    config = config.model_copy(update={"requests_per_second": 1000.0})
    connector = PwaConnector(NAME, config, [TeamMapping.model_validate(data)])
    items = _pull(connector)
    assert set(_records(items, EntityType.PROJECT)) == {str(wanted["Id"])}
    assert all(
        r.pointers["project"].external_id == str(wanted["Id"])
        for r in _records(items, EntityType.WORK_ITEM).values()
    )


def test_an_edited_risk_is_pulled_without_its_project(
    loaded: LoadedConfig, pwa: PwaEmulator
) -> None:
    connector = _connector(loaded)
    before = datetime.now(UTC) - timedelta(seconds=2)
    record = next(iter(pwa.state.projects.values()))
    risk = record.risks[0]
    # A planner edits the risk on the project site: no publish, only the list item changes.
    risk["Title"] = "Supplier insolvency"
    risk["ModifiedDate"] = pwa.now()
    assert connector.scopes()[1].name == "raid"
    projects = list(connector.pull(connector.scopes()[0], before, None))
    pulled = list(connector.pull(connector.scopes()[1], before, None))
    raid = [r for r in pulled if isinstance(r, PulledRecord)]
    assert len(raid) == len(pulled)
    assert projects == []
    assert [r.values["name"] for r in raid] == ["Supplier insolvency"]
    assert raid[0].ref.external_id == f"risk/{record.id}/{str(risk['RiskId']).lower()}"
    assert raid[0].pointers["owner"].external_id  # owner resolved through ProjectData Resources


def test_full_pull_keeps_the_schedule_calendars_and_every_assignment(
    loaded: LoadedConfig, pwa: PwaEmulator
) -> None:
    items = _pull(_connector(loaded))
    assert not [q for q in items if isinstance(q, Quarantined)]
    calendars = _records(items, EntityType.CALENDAR)
    assert {c.values["name"] for c in calendars.values()} == {"Standard", "Operations"}
    assert _calls(pwa, "GET ProjectServer/Calendars") == 1  # once per pull, not per project
    standard = next(c for c in calendars.values() if c.values["name"] == "Standard")
    assert {"start": "2026-12-24", "finish": "2026-12-24", "name": "Christmas Eve"}.items() <= (
        standard.values["exceptions"][0].items()
    )
    projects = _records(items, EntityType.PROJECT)
    work_items = _records(items, EntityType.WORK_ITEM)
    dependencies = _records(items, EntityType.DEPENDENCY)
    for pid, project in projects.items():
        plan = pwa.published(pid)
        assert project.values["time_zone"] == loaded.config.connections[NAME].server_timezone
        assert project.pointers["calendar"].external_id in calendars
        assert project.values["status_date"] == plan.props["StatusDate"].isoformat()
        for task in plan.tasks:
            if int(task["OutlineLevel"]) == 0:
                continue
            values = work_items[str(task["Id"])].values
            assert values["start_at"] == task["Start"].isoformat()
            assert values["finish_at"] == task["Finish"].isoformat()
            assert Decimal(values["duration_minutes"]) == task["DurationMilliseconds"] // 60000
            assert values["schedule_mode"] == "auto" and values["constraint_type"] == "ASAP"
            assert values["baselines"][0]["finish"] == task["BaselineFinish"].isoformat()
            assigned = {str(a["ResourceId"]) for a in plan.assignments if a["TaskId"] == task["Id"]}
            assert {a["resource"] for a in values["assignments"]} == assigned
            assert all(a["resource_name"] for a in values["assignments"])
        for link in plan.links:
            dep = dependencies[str(link["Id"])].values
            assert dep["origin"] == "pwa_link" and dep["lag_elapsed"] is False
    # published links carry their ends: each page read once (no second pass with $expand)
    pages = sum(max(1, -(-len(pwa.published(pid).links) // PAGE_SIZE)) for pid in projects)
    assert _calls(pwa, "TaskLinks") == pages


def test_all_baselines_come_from_projectdata_when_asked(
    loaded: LoadedConfig, pwa: PwaEmulator
) -> None:
    connector = _connector(loaded, mapping_update=None)
    connector.options = replace(connector.options, baseline=0)
    items = _pull(connector)
    work_items = _records(items, EntityType.WORK_ITEM)
    task = next(
        t
        for s in pwa.projects()
        for t in pwa.published(str(s["Id"])).tasks
        if int(t["OutlineLevel"]) == 2 and t["DurationMilliseconds"]
    )
    baselines = work_items[str(task["Id"])].values["baselines"]
    assert [b["number"] for b in baselines] == [0]
    assert baselines[0]["finish"] == task["BaselineFinish"].isoformat()
    assert (
        Decimal(baselines[0]["duration_minutes"]) == task["BaselineDurationMilliseconds"] // 60000
    )
    assert _calls(pwa, "ProjectData/TaskBaselines") >= 3  # every project's rows


def test_sharepoint_2019_links_are_read_again_with_their_ends(
    loaded: LoadedConfig, pwa: PwaEmulator
) -> None:
    # SharePoint/Project Server 2019's $metadata: a published link has only Id, DependencyType
    # and the Start/End navigation properties (no ids, no lag)
    pwa.configure({"ps_version": "2019"})
    items = _pull(_connector(loaded))
    assert not [q for q in items if isinstance(q, Quarantined)]
    dependencies = _records(items, EntityType.DEPENDENCY)
    links = [(pid, lk) for s in pwa.projects() for pid in [str(s["Id"])]
             for lk in pwa.published(pid).links]  # fmt: skip
    assert len(dependencies) == len(links)
    for _pid, link in links:
        dep = dependencies[str(link["Id"])]
        assert dep.pointers["predecessor"].external_id == str(link["StartId"])
        assert dep.pointers["successor"].external_id == str(link["EndId"])
        assert dep.values["lag_minutes"] == 0  # not exposed by 2019: never guessed
    # each project's links: once plain, once with $expand=Start,End
    pages = sum(max(1, -(-len(pwa.published(s).links) // PAGE_SIZE)) for s in {p for p, _ in links})
    assert _calls(pwa, "TaskLinks") == 2 * pages


# -- incremental pull: documented query options, the reporting lag, our own publishes --------
def _remembering(connector: PwaConnector, memory: Path) -> PwaConnector:
    """This connector with its own-publish memory in ``memory`` (one file per test)."""
    connector.own_publishes = OwnPublishes(memory)
    return connector


def _projects_read(items: list[Any]) -> set[str]:
    return set(_records(items, EntityType.PROJECT))


def test_the_project_listing_sends_no_date_filter(loaded: LoadedConfig, pwa: PwaEmulator) -> None:
    # Microsoft documents date filters for ProjectData only; ProjectServer/Projects is listed
    # once with $select and compared here (issue #9, break 5).
    connector = _connector(loaded)
    since = datetime.now(UTC) - timedelta(seconds=2)
    assert _pull(connector, since=since) == []
    changed = str(pwa.projects()[2]["Id"])
    pwa.human_edit(changed, custom={"PMO Status": "edited"})
    assert _projects_read(_pull(connector, since=since)) == {changed}
    options = pwa.query_options()
    assert options.get("GET ProjectServer/Projects $select", 0) == 2
    assert not [
        k for k in options if k.startswith("GET ProjectServer/Projects ") and "$filter" in k
    ]


def test_a_task_write_finds_its_plan_while_the_reporting_feed_lags(
    loaded: LoadedConfig, pwa: PwaEmulator
) -> None:
    # A task published a moment ago is not in ProjectData yet (the reporting job runs after the
    # publish); a write to it still finds its plan, through ProjectServer.
    pwa.configure({"reporting_lag_seconds": 600.0})
    pid = str(pwa.projects()[1]["Id"])
    task_id = pwa.human_add_task(pid, "Added by a planner")
    connector = _connector(loaded)  # a run that did not pull this plan
    [result] = connector.push([_task_write(task_id, name="Renamed by pmo-sync")])
    assert result.ok, result.error
    task = next(t for t in pwa.published(pid).tasks if str(t["Id"]) == task_id)
    assert task["Name"] == "Renamed by pmo-sync"
    # only the lagging plan's task ids were read (one page per PAGE_SIZE tasks), no other's
    pages = math.ceil(len(pwa.published(pid).tasks) / PAGE_SIZE)
    assert pwa.query_options().get("GET ProjectServer/Projects('{id}')/Tasks $select") == pages


def test_a_quiet_run_after_our_publish_rereads_no_plan_but_reads_a_later_one(
    loaded: LoadedConfig, pwa: PwaEmulator, tmp_path: Path
) -> None:
    memory = tmp_path / "own-publishes.json"
    since = datetime.now(UTC) - timedelta(seconds=2)
    writer = _remembering(_connector(loaded), memory)
    _pull(writer)  # the writing run's pull
    pid = str(pwa.projects()[0]["Id"])
    assert writer.push([_project_write(pid, pmo_status="written by pmo-sync")])[0].ok
    assert stat.S_IMODE(memory.stat().st_mode) == 0o600

    quiet = _remembering(_connector(loaded), memory)  # the next run: nothing changed remotely
    tasks_before = _calls(pwa, "/Tasks")
    assert _pull(quiet, since=since) == []  # our publish is after the cursor, yet not re-read
    assert quiet.echoes_skipped == 1
    assert _calls(pwa, "/Tasks") == tasks_before
    # --full still reads it
    assert pid in _projects_read(_pull(_remembering(_connector(loaded), memory)))

    pwa.human_edit(pid, custom={"PMO Status": "a person's edit"})  # published afterwards
    later = _remembering(_connector(loaded), memory)
    read = _records(_pull(later, since=since), EntityType.PROJECT)
    assert set(read) == {pid} and later.echoes_skipped == 0
    assert read[pid].values["custom"]["PMO Status"] == "a person's edit"


def test_a_publish_between_our_pull_and_our_write_is_still_read(
    loaded: LoadedConfig, pwa: PwaEmulator, tmp_path: Path
) -> None:
    memory = tmp_path / "own-publishes.json"
    since = datetime.now(UTC) - timedelta(seconds=2)
    writer = _remembering(_connector(loaded), memory)
    _pull(writer)
    pid = str(pwa.projects()[0]["Id"])
    task = next(t for t in pwa.published(pid).tasks if int(t["OutlineLevel"]) == 2)
    # a planner publishes after our listing: our own publish then carries their change too
    pwa.human_edit(pid, str(task["Id"]), Name="Renamed after the listing")
    assert writer.push([_project_write(pid, pmo_status="ours")])[0].ok
    read = _records(
        _pull(_remembering(_connector(loaded), memory), since=since), EntityType.WORK_ITEM
    )
    assert read[str(task["Id"])].values["name"] == "Renamed after the listing"


def test_a_task_write_is_read_again_since_project_reschedules(
    loaded: LoadedConfig, pwa: PwaEmulator, tmp_path: Path
) -> None:
    memory = tmp_path / "own-publishes.json"
    since = datetime.now(UTC) - timedelta(seconds=2)
    writer = _remembering(
        _connector(loaded, mapping_update={"work_item": {"due": {"field": "Finish"}}}), memory
    )
    items = _pull(writer)
    pid = str(pwa.projects()[0]["Id"])
    task = next(t for t in pwa.published(pid).tasks if int(t["OutlineLevel"]) == 2)
    due = (task["Finish"] + timedelta(days=3)).date().isoformat()
    assert items and writer.push([_task_write(str(task["Id"]), due=due)])[0].ok
    assert pid in _projects_read(_pull(_remembering(_connector(loaded), memory), since=since))


def test_baselines_are_not_read_before_the_reporting_feed_caught_up(
    loaded: LoadedConfig, pwa: PwaEmulator
) -> None:
    # ProjectData still shows the previous publish: baselines read now would be stale until
    # the plan's next publish, so the pull fails (retriable, cursor kept) instead.
    pwa.configure({"reporting_lag_seconds": 600.0})
    since = datetime.now(UTC) - timedelta(seconds=2)
    pid = str(pwa.projects()[0]["Id"])
    pwa.human_edit(pid, custom={"PMO Status": "republished"})
    connector = _baseline_connector(loaded, queue_timeout_seconds=0.3, queue_poll_seconds=0.05)
    with pytest.raises(RetriableError, match="reporting feed"):
        _pull(connector, since=since)


def test_baselines_wait_for_a_reporting_lag_that_ends(
    loaded: LoadedConfig, pwa: PwaEmulator
) -> None:
    pwa.configure({"reporting_lag_seconds": 1.5})
    since = datetime.now(UTC) - timedelta(seconds=2)
    pid = str(pwa.projects()[0]["Id"])
    pwa.human_edit(pid, custom={"PMO Status": "republished"})
    connector = _baseline_connector(loaded, queue_poll_seconds=0.05)
    assert _projects_read(_pull(connector, since=since)) == {pid}
    assert pwa.query_options().get("GET ProjectData/Projects $filter", 0) > 1  # it waited


def _cycle_order(pwa: PwaEmulator) -> list[tuple[str, str]]:
    """(step, project id) of every check-out and publish, in the order the server saw them."""
    out = []
    for key in pwa.counters.snapshot()["writes"]:
        found = re.search(r"Projects\('([^']+)'\)/(?:Draft/)?(checkOut|publish)", key)
        if found:
            out.append((found.group(2), found.group(1).lower()))
    return out


@pytest.mark.parametrize("concurrency", [1, 3])
def test_plans_are_published_side_by_side(
    loaded: LoadedConfig, pwa: PwaEmulator, concurrency: int
) -> None:
    pwa.configure({"job_polls": 3})  # each queue job takes several polls, as on the server
    pwa.counters.clear()
    pids = [str(p["Id"]).lower() for p in pwa.projects()]
    connector = _connector(loaded, publish_concurrency=concurrency)
    results = connector.push([_project_write(pid, rag_computed="A") for pid in pids])
    assert all(r.ok for r in results) and len(results) == len(pids), results
    for pid in pids:
        assert pwa.checked_out_by(pid) is None
        assert pwa.custom_field_value(pid, "PMO RAG") == ["Amber"]
    order = _cycle_order(pwa)
    assert sorted(order) == sorted([("checkOut", p) for p in pids] + [("publish", p) for p in pids])
    first_publish = next(i for i, (step, _p) in enumerate(order) if step == "publish")
    checked_out_before = sum(1 for step, _p in order[:first_publish] if step == "checkOut")
    # one at a time: each plan's cycle ends before the next begins; side by side: every plan
    # is checked out while the first publish is still waiting on its queue jobs
    assert checked_out_before == (1 if concurrency == 1 else len(pids))
