"""The Airtable slice end to end: CLI → engine → real pyairtable → emulator over https."""

from __future__ import annotations

import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import select

from pmosync.cli import EXIT_HELD, EXIT_UNAVAILABLE
from pmosync.sandbox.scenarios.airtable_pmo import BASE_ID
from pmosync.sync import models
from pmosync.sync.store import Store

from .conftest import TODAY, Slice, fast_airtable, pull_next_milestone_forward


def by_name(slice_: Slice, table: str) -> dict[str, dict[str, Any]]:
    emulator = slice_.service().emulator
    return {r["id"]: r["fields"] for r in emulator.records(BASE_ID, table)}  # type: ignore[attr-defined]


def expected_consolidation(slice_: Slice) -> dict[str, dict[str, Any]]:
    """What the Projects table should say, computed here from the raw Milestones table."""
    projects = by_name(slice_, "Projects")
    out: dict[str, dict[str, Any]] = {}
    for project_id in projects:
        open_ms = [
            (date.fromisoformat(f["Due date"]), f["Name"])
            for f in by_name(slice_, "Milestones").values()
            if f.get("Project") == [project_id] and not f.get("Done") and f.get("Due date")
        ]
        upcoming = sorted(m for m in open_ms if m[0] >= TODAY)
        out[project_id] = {
            "Next milestone": upcoming[0][1] if upcoming else None,
            "Next milestone date": upcoming[0][0].isoformat() if upcoming else None,
            "Overdue milestones": sum(1 for m in open_ms if m[0] < TODAY),
        }
    return out


def writes(counters: dict[str, int]) -> int:
    return sum(
        v
        for k, v in counters.items()
        if k.split()[0] in ("PATCH", "PUT", "POST") and "listRecords" not in k
    )


def delta(after: dict[str, int], before: dict[str, int]) -> Counter[str]:
    return Counter(after) - Counter(before)


def test_round_trip_then_a_noop_run(make_slice: Any) -> None:
    slice_ = make_slice()
    code, first = slice_.sync("--full")
    assert code == 0, first
    projects = by_name(slice_, "Projects")
    assert first["connections"]["pmo_airtable"]["pulled"] > len(projects)
    assert first["writes_applied"] == len(projects)  # one upsert row per project
    expected = expected_consolidation(slice_)
    assert any(e["Overdue milestones"] for e in expected.values())  # the seed has overdue ones
    for project_id, fields in projects.items():
        for name, value in expected[project_id].items():
            assert fields.get(name, None if name != "Overdue milestones" else 0) == value, (
                project_id,
                name,
            )
    # 12 projects, 10 per upsert request: 2 write requests, nothing else written
    counters_after_first = slice_.counters()
    assert writes(counters_after_first) == 2

    code, second = slice_.sync()
    assert code == 0, second
    assert second["writes_applied"] == 0
    calls = delta(slice_.counters(), counters_after_first)
    # one schema read and one (empty-ish) incremental list per table, nothing else
    assert sum(calls.values()) == 4, calls
    assert writes(calls) == 0
    assert second["api_calls"] == 4
    # incremental: only the 12 projects we just wrote (inside the overlap) come back, not the
    # 98 records of the base
    assert second["connections"]["pmo_airtable"]["pulled"] == len(projects)
    assert first["connections"]["pmo_airtable"]["pulled"] > 2 * len(projects)


def test_a_human_edit_flows_into_the_consolidated_field(make_slice: Any) -> None:
    slice_ = make_slice()
    assert slice_.sync("--full")[0] == 0
    # pick a project's next milestone and pull it forward to tomorrow under a new name
    project_id = pull_next_milestone_forward(slice_)
    tomorrow = (TODAY + timedelta(days=1)).isoformat()
    before = slice_.counters()
    code, report = slice_.sync()
    assert code == 0, report
    assert report["writes_applied"] == 1
    fields = by_name(slice_, "Projects")[project_id]
    assert fields["Next milestone"] == "Go/no-go"
    assert fields["Next milestone date"] == tomorrow
    assert writes(delta(slice_.counters(), before)) == 1


def test_dry_run_plans_but_writes_nothing(make_slice: Any) -> None:
    slice_ = make_slice()
    assert slice_.sync("--full")[0] == 0
    emulator = slice_.service().emulator
    done_one = next(mid for mid, f in by_name(slice_, "Milestones").items() if not f.get("Done"))
    emulator.edit_record(BASE_ID, "Milestones", done_one, {"Done": True})
    store = Store.open(slice_.sandbox.directory.joinpath("x").as_posix() and _store_url(slice_))
    cursors_before = _cursors(store)
    before = slice_.counters()
    code, report = slice_.sync("--dry-run")
    assert code == 0
    assert report["dry_run"] and report["plan"], report
    assert writes(delta(slice_.counters(), before)) == 0
    assert _cursors(store) == cursors_before
    store.close()
    # the real run then applies exactly the planned writes
    code, applied = slice_.sync()
    assert applied["writes_applied"] == len(report["plan"])


def _store_url(slice_: Slice) -> str:
    from pmosync.config.loader import load_config

    return load_config(slice_.config).store_url()


def _cursors(store: Store) -> dict[tuple[str, str], Any]:
    with store.sessions() as session:
        return {(c.connection, c.scope): c.value for c in session.scalars(select(models.Cursor))}


def _snapshot(store: Store) -> tuple[Any, ...]:
    with store.sessions() as session:
        entities = {e.id: e.values for e in session.scalars(select(models.Entity))}
        links = {
            (lk.connection, lk.external_id): (lk.remote_values, lk.version_token)
            for lk in session.scalars(select(models.Link))
        }
        bases = {
            (b.canonical_id, b.field): b.value for b in session.scalars(select(models.FieldBase))
        }
    return entities, links, bases, _cursors(store)


def test_a_pull_that_dies_midway_leaves_cursor_and_store_untouched(make_slice: Any) -> None:
    scenario = fast_airtable()
    scenario.services[0].connection["max_attempts"] = 2  # type: ignore[index]
    slice_ = make_slice(scenario)
    assert slice_.sync("--full")[0] == 0
    emulator = slice_.service().emulator
    milestone = next(iter(by_name(slice_, "Milestones")))
    emulator.edit_record(BASE_ID, "Milestones", milestone, {"Name": "Renamed"})
    store = Store.open(_store_url(slice_))
    before = _snapshot(store)
    # Projects list fine; every request for the Milestones table has its connection cut.
    milestones_table = slice_.sandbox.services["pmo_airtable"].spec.mapping["entities"][  # type: ignore[index]
        "milestone"
    ]["table"]
    emulator.faults.set(
        {"drop": {"count": 1000, "path_prefix": f"/v0/{BASE_ID}/{milestones_table}"}}
    )
    code, report = slice_.sync()
    assert code == EXIT_UNAVAILABLE, report
    conn = report["connections"]["pmo_airtable"]
    assert conn["status"] == "failed" and conn["error_kind"] == "retriable"
    assert slice_.service().spec.credentials["token"] not in conn["error"]
    assert _snapshot(store) == before
    # the emulator itself goes away: same outcome, nothing changes
    emulator.faults.clear()
    slice_.service().served.stop()
    code, report = slice_.sync()
    assert code == EXIT_UNAVAILABLE, report
    assert _snapshot(store) == before
    store.close()


def test_unmappable_record_is_quarantined_and_the_rest_goes_on(make_slice: Any) -> None:
    slice_ = make_slice()
    emulator = slice_.service().emulator
    project = next(iter(by_name(slice_, "Projects")))
    emulator.edit_record(BASE_ID, "Projects", project, {"Status": "Parked"})  # typecast adds it
    code, report = slice_.sync("--full")
    assert code == 0, report
    [quarantined] = report["quarantined"]
    assert quarantined["external_id"] == project
    assert "'Parked'" in quarantined["reason"] and "values" in quarantined["reason"]
    assert report["writes_applied"] == len(by_name(slice_, "Projects")) - 1


def test_two_bases_reconcile_with_three_way_merge(make_slice: Any) -> None:
    slice_ = make_slice(fast_airtable(("pmo_a", "pmo_b")))
    code, first = slice_.sync("--full")
    assert code == 0, first
    a = slice_.service("pmo_a").emulator
    b = slice_.service("pmo_b").emulator
    # identical seeds: each project code matched across the two bases, nothing conflicts
    assert first["entities"]["project"] == len(a.records(BASE_ID, "Projects"))  # type: ignore[attr-defined]
    rec_a = a.records(BASE_ID, "Projects")[0]  # type: ignore[attr-defined]
    code_value = rec_a["fields"]["Code"]
    rec_b = next(r for r in b.records(BASE_ID, "Projects") if r["fields"]["Code"] == code_value)  # type: ignore[attr-defined]
    a.edit_record(BASE_ID, "Projects", rec_a["id"], {"Status": "On hold"})  # type: ignore[attr-defined]
    code, second = slice_.sync()
    assert code == 0, second
    b_now = next(r for r in b.records(BASE_ID, "Projects") if r["id"] == rec_b["id"])  # type: ignore[attr-defined]
    assert b_now["fields"]["Status"] == "On hold"
    # the echo of our own write changes nothing on the next run
    code, third = slice_.sync()
    assert third["writes_applied"] == 0 and not third["conflicts"]
    # both change it differently: a conflict, latest edit wins everywhere
    a.edit_record(BASE_ID, "Projects", rec_a["id"], {"Status": "Done"})  # type: ignore[attr-defined]
    b.edit_record(BASE_ID, "Projects", rec_b["id"], {"Status": "Cancelled"})  # type: ignore[attr-defined]
    code, fourth = slice_.sync()
    assert code == 0, fourth
    [conflict] = [c for c in fourth["conflicts"] if c["field"] == "status"]
    assert conflict["policy"] == "latest" and "pmo_b" in conflict["reason"]
    a_now = next(r for r in a.records(BASE_ID, "Projects") if r["id"] == rec_a["id"])  # type: ignore[attr-defined]
    assert a_now["fields"]["Status"] == "Cancelled"


def test_discover_lists_tables_and_field_ids(make_slice: Any) -> None:
    from click.testing import CliRunner

    from pmosync.cli import main

    slice_ = make_slice()
    result = CliRunner().invoke(main, ["discover", "pmo_airtable", "--config", str(slice_.config)])
    assert result.exit_code == 0, result.output
    mapping = slice_.sandbox.services["pmo_airtable"].spec.mapping
    status_field = mapping["entities"]["project"]["fields"]["status"]["field"]  # type: ignore[index]
    line = next(ln for ln in result.output.splitlines() if status_field in ln)
    assert "singleSelect" in line and "In progress" in line
    bad = CliRunner().invoke(main, ["discover", "nope", "--config", str(slice_.config)])
    assert bad.exit_code == 2 and "pmo_airtable" in bad.output


def test_held_conflict_waits_for_a_person_and_runs_are_listed(make_slice: Any) -> None:
    from click.testing import CliRunner

    from pmosync.cli import main

    def hold_status(mapping: dict[str, Any]) -> None:
        mapping["entities"]["project"]["fields"]["status"]["conflict"] = "hold"

    slice_ = make_slice(fast_airtable(("pmo_a", "pmo_b")), mapping_edit=hold_status)
    assert slice_.sync("--full")[0] == 0
    a = slice_.service("pmo_a").emulator
    b = slice_.service("pmo_b").emulator
    rec_a = a.records(BASE_ID, "Projects")[0]  # type: ignore[attr-defined]
    rec_b = next(
        r
        for r in b.records(BASE_ID, "Projects")  # type: ignore[attr-defined]
        if r["fields"]["Code"] == rec_a["fields"]["Code"]
    )
    a.edit_record(BASE_ID, "Projects", rec_a["id"], {"Status": "Done"})  # type: ignore[attr-defined]
    b.edit_record(BASE_ID, "Projects", rec_b["id"], {"Status": "On hold"})  # type: ignore[attr-defined]
    code, report = slice_.sync()
    assert code == EXIT_HELD, report  # cron can tell that a person is needed
    [conflict] = report["conflicts"]
    assert conflict["held"] and conflict["policy"] == "hold"
    assert not any(
        c["field"] == "status" for w in report["plan"] for c in w["changes"]
    )  # nothing written for the held field
    listed = CliRunner().invoke(main, ["conflicts", "list", "--config", str(slice_.config)])
    assert listed.exit_code == 0 and "status" in listed.output and "pmo_a done" in listed.output
    runs = CliRunner().invoke(main, ["runs", "--config", str(slice_.config)])
    assert runs.exit_code == 0 and len(runs.output.strip().splitlines()) == 2
    # still held on the next run, under the same id
    code, again = slice_.sync()
    assert code == EXIT_HELD and again["conflicts"][0]["held"]
    assert CliRunner().invoke(
        main, ["conflicts", "list", "--config", str(slice_.config)]
    ).output == (listed.output)
    conflict_id = listed.output.split()[0].lstrip("#")
    bad = CliRunner().invoke(
        main,
        ["conflicts", "resolve", conflict_id, "--take", "nope", "--config", str(slice_.config)],
    )
    assert bad.exit_code == 2 and "pmo_a" in bad.output
    ok = CliRunner().invoke(
        main,
        ["conflicts", "resolve", conflict_id, "--take", "pmo_a", "--config", str(slice_.config)],
    )
    assert ok.exit_code == 0, ok.output
    code, applied = slice_.sync()
    assert code == 0 and applied["writes_applied"] == 1, applied
    b_now = next(r for r in b.records(BASE_ID, "Projects") if r["id"] == rec_b["id"])  # type: ignore[attr-defined]
    assert b_now["fields"]["Status"] == "Done"
    listed = CliRunner().invoke(main, ["conflicts", "list", "--config", str(slice_.config)])
    assert listed.output.strip() == "no open conflicts"
    code, quiet = slice_.sync()
    assert quiet["writes_applied"] == 0 and not quiet["conflicts"]


def test_a_second_run_while_one_holds_the_lock_exits_locked(make_slice: Any) -> None:
    from pmosync.cli import EXIT_LOCKED
    from pmosync.sync.lock import run_lock

    slice_ = make_slice()
    store = Store.open(_store_url(slice_))
    try:
        with run_lock(store):
            code, report = slice_.sync()
        assert code == EXIT_LOCKED, report
        assert "another pmo-sync run" in report["output"]
    finally:
        store.close()


def test_the_token_never_reaches_logs_reports_or_the_store(make_slice: Any, tmp_path: Any) -> None:
    import logging

    from click.testing import CliRunner

    from pmosync.cli import main

    slice_ = make_slice()
    token = slice_.service().spec.credentials["token"]
    emulator = slice_.service().emulator
    emulator.faults.set({"burst": {"status": 401, "count": 1}})  # an auth failure is reported too
    runner = CliRunner()
    outputs = []
    for args in (["sync", "--full", "--json"], ["sync", "--full"], ["runs"]):
        result = runner.invoke(main, ["-vv", *args, "--config", str(slice_.config)])
        outputs.append(result.output)
    logging.getLogger().handlers.clear()  # basicConfig from -vv must not leak into other tests
    assert "401" in outputs[0] or "auth" in outputs[0].lower()
    everything = "\n".join(outputs)
    assert token not in everything and token[:17] not in everything
    url = _store_url(slice_)
    if url.startswith("sqlite"):
        raw = b"".join(p.read_bytes() for p in slice_.sandbox.directory.glob("**/*.db*"))
        raw += b"".join(p.read_bytes() for p in tmp_path.glob("**/*.db*"))
        assert raw and token.encode() not in raw
    store = Store.open(url)
    with store.sessions() as session:
        dump = repr([r.report for r in session.scalars(select(models.Run))])
        dump += repr([r.remote_values for r in session.scalars(select(models.Link))])
    store.close()
    assert token not in dump


def test_backfill_reads_a_window_and_leaves_the_cursor(make_slice: Any) -> None:
    from click.testing import CliRunner

    from pmosync.cli import main

    slice_ = make_slice()
    runner = CliRunner()
    args = ["backfill", "pmo_airtable", "--json", "--config", str(slice_.config)]
    early = runner.invoke(main, [*args, "--since", "2000-01-01", "--until", "2000-02-01"])
    assert early.exit_code == 0, early.output
    import json as _json

    assert _json.loads(early.stdout)["connections"]["pmo_airtable"]["pulled"] == 0
    whole = runner.invoke(main, [*args, "--until", "2100-01-01"])
    report = _json.loads(whole.stdout)
    assert report["connections"]["pmo_airtable"]["pulled"] > 0
    store = Store.open(_store_url(slice_))
    assert _cursors(store) == {}  # the cron job's cursor is untouched (none yet)
    store.close()
    bad = runner.invoke(main, [*args, "--since", "2026-02-01", "--until", "2026-01-01"])
    assert bad.exit_code == 2 and "--since" in bad.output
    unknown = runner.invoke(main, ["backfill", "nope", "--config", str(slice_.config)])
    assert unknown.exit_code == 2 and "pmo_airtable" in unknown.output


def test_projects_from_jira_are_created_once_in_the_pmo_base(make_slice: Any) -> None:
    from ruamel.yaml import YAML
    from sqlalchemy import delete

    from pmosync.sandbox.scenarios import jira

    scenario = fast_airtable()
    scenario.services += jira.services(projects=2)
    slice_ = make_slice(scenario)
    yaml = YAML()
    path = slice_.sandbox.directory / "teams" / "pmo_airtable.yaml"
    mapping = yaml.load(path.read_text())
    mapping["entities"]["project"]["create_missing"] = True
    with path.open("w") as handle:
        yaml.dump(mapping, handle)
    before = {r["id"] for r in slice_.service().emulator.records(BASE_ID, "Projects")}  # type: ignore[attr-defined]
    code, first = slice_.sync("--full")
    assert code == 0, first
    rows = slice_.service().emulator.records(BASE_ID, "Projects")  # type: ignore[attr-defined]
    created = [r for r in rows if r["id"] not in before]
    assert sorted(r["fields"].get("Code") for r in created) == ["APP", "DATA"]
    assert all(r["fields"].get("pmo-sync id") for r in created)
    code, second = slice_.sync()
    assert second["writes_applied"] == 0, second["plan"]
    # a run that created the rows but died before storing their links: no duplicates
    store = Store.open(_store_url(slice_))
    with store.session() as session:
        session.execute(
            delete(models.Link).where(models.Link.external_id.in_([r["id"] for r in created]))
        )
    store.close()
    # and no project-code rule to fall back on: only the pmo-sync id in the row can match it
    config = yaml.load(slice_.config.read_text())
    config["sync"]["identity"] = {}
    with slice_.config.open("w") as handle:
        yaml.dump(config, handle)
    code, third = slice_.sync("--full")
    assert code == 0, third
    after = slice_.service().emulator.records(BASE_ID, "Projects")  # type: ignore[attr-defined]
    assert len(after) == len(rows)
    assert not [w for w in third["plan"] if w["op"] == "create"]


def test_a_rate_limit_lockout_is_ridden_out_without_hammering(make_slice: Any) -> None:
    slice_ = make_slice()
    emulator = slice_.service().emulator
    # The base allows fewer requests than we pace at, so the run trips Airtable's lock-out.
    emulator.configure({"requests_per_second": 2, "lockout_seconds": 1})  # type: ignore[attr-defined]
    started = time.monotonic()
    code, report = slice_.sync("--full")
    elapsed = time.monotonic() - started
    assert code == 0, report
    assert report["writes_applied"] == 12
    # every 429 is followed by a wait of the whole lock-out, never a quick retry into it
    calls = report["connections"]["pmo_airtable"]["api_calls"]
    rate_limited = calls - 6  # 6 is what the run needs without a lock-out
    assert 1 <= rate_limited <= 3, report
    assert elapsed >= rate_limited * 1.0


def test_status_report_after_a_sync(make_slice: Any, tmp_path: Any) -> None:
    import csv

    from click.testing import CliRunner

    from pmosync.cli import main

    slice_ = make_slice()
    assert slice_.sync("--full")[0] == 0
    out = tmp_path / "reports"
    result = CliRunner().invoke(
        main, ["report", "status", "--out", str(out), "--config", str(slice_.config)]
    )
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader((out / "status.csv").open()))
    projects = by_name(slice_, "Projects")
    assert len(rows) == len(projects)
    expected = expected_consolidation(slice_)
    by_code = {f["Code"]: expected[rid] for rid, f in projects.items()}
    for row in rows:
        want = by_code[row["Code"]]
        assert row["Next milestone"] == (want["Next milestone"] or "")
        assert int(row["Overdue milestones"]) == want["Overdue milestones"]
    html = (out / "status.html").read_text()
    assert html.count("<tr>") == len(projects) + 1 and "<script" not in html


def test_connectors_are_told_what_the_last_runs_wrote(make_slice: Any) -> None:
    from pmosync.config.loader import load_config
    from pmosync.sync.engine import SyncOptions, default_factory, run_sync

    slice_ = make_slice()
    loaded = load_config(slice_.config)
    seen: list[list[str]] = []

    def factory(name: str, loaded_: Any, recent: Any) -> Any:
        seen.append(list(recent))
        return default_factory(name, loaded_, recent)

    first = run_sync(loaded, SyncOptions(full=True, today=TODAY), factory=factory)
    second = run_sync(loaded, SyncOptions(today=TODAY), factory=factory)
    assert first.writes_applied == 12 and second.writes_applied == 0
    assert seen[0] == []
    assert sorted(seen[1]) == sorted(by_name(slice_, "Projects"))


def test_a_connector_bug_fails_only_its_connection(make_slice: Any) -> None:
    from pmosync.config.loader import load_config
    from pmosync.sync.engine import SyncOptions, default_factory, run_sync

    slice_ = make_slice(fast_airtable(("pmo_a", "pmo_b")))
    loaded = load_config(slice_.config)

    def factory(name: str, loaded_: Any, recent: Any) -> Any:
        connector = default_factory(name, loaded_, recent)
        if name == "pmo_b":

            def broken(*_: Any) -> Any:
                raise KeyError("fields")  # a mapping bug, not a PmoSyncError

            connector.pull = broken
        return connector

    store = Store.open(_store_url(slice_))
    with store.session() as session:  # a run that was killed mid-way, long ago (past any
        # run's lease: on PostgreSQL a younger one may be another worker's live run)
        session.add(models.Run(started_at=datetime.now(UTC) - timedelta(days=2), status="running"))
    report = run_sync(loaded, SyncOptions(full=True, today=TODAY), factory=factory)
    assert report.status == "partial"
    assert report.connections["pmo_b"].status == "failed"
    assert "internal error" in (report.connections["pmo_b"].error or "")
    assert report.connections["pmo_a"].writes_applied == 12
    assert {scope for conn, scope in _cursors(store)} and all(
        conn == "pmo_a" for conn, _ in _cursors(store)
    )
    statuses = [r.status for r in store.runs()]
    store.close()
    assert statuses == ["partial", "interrupted"]


def test_a_run_killed_while_writing_converges_on_the_next_run(make_slice: Any) -> None:
    import os
    import signal
    import subprocess
    import sys

    from sqlalchemy import select as sa_select

    slice_ = make_slice()
    emulator = slice_.service().emulator
    emulator.faults.set({"latency_ms": 400})  # slow enough to kill the run between writes
    env = {k: v for k, v in os.environ.items() if k not in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pmosync.cli",
            "sync",
            "--full",
            "--today",
            TODAY.isoformat(),
            "--config",
            str(slice_.config),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    store = Store.open(_store_url(slice_))
    try:
        deadline = time.monotonic() + 60
        pending: list[Any] = []
        while time.monotonic() < deadline and proc.poll() is None:
            with store.sessions() as session:
                pending = list(session.scalars(sa_select(models.Outbox)))
            if pending:
                break
            time.sleep(0.05)
        assert pending, "the run never journaled its writes"
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        emulator.faults.clear()
        code, report = slice_.sync("--full")
        assert code == 0, report
        with store.sessions() as session:
            rows = list(session.scalars(sa_select(models.Outbox)))
        store.close()
    finally:
        if proc.poll() is None:
            proc.kill()
    # nothing lost: every project now says what it should; nothing duplicated: no new rows
    projects = by_name(slice_, "Projects")
    assert len(projects) == 12
    expected = expected_consolidation(slice_)
    for project_id, fields in projects.items():
        assert fields.get("Next milestone") == expected[project_id]["Next milestone"]
    first_run = {r.status for r in rows if r.run_id == pending[0].run_id}
    assert first_run <= {"superseded", "done"} and "pending" not in {r.status for r in rows}


def test_a_renamed_airtable_field_changes_nothing(make_slice: Any) -> None:
    import requests

    slice_ = make_slice()
    assert slice_.sync("--full")[0] == 0
    service = slice_.service()
    mapping = service.spec.mapping
    table = mapping["entities"]["project"]["table"]  # type: ignore[index]
    field = mapping["entities"]["project"]["fields"]["next_milestone"]["field"]  # type: ignore[index]
    # the sync just used the base's 5 requests/s; a person's edit comes a second later
    time.sleep(1.0)
    renamed = requests.patch(
        f"{service.url}/v0/meta/bases/{BASE_ID}/tables/{table}/fields/{field}",
        json={"name": "Upcoming milestone (PMO)"},
        headers={"Authorization": f"Bearer {service.spec.credentials['token']}"},
        verify=str(slice_.sandbox.directory / "sandbox-ca.pem"),
        timeout=10,
    )
    assert renamed.status_code == 200, renamed.text
    code, report = slice_.sync()
    assert code == 0 and report["writes_applied"] == 0, report
    # and a change still lands in the renamed field
    project_id, expected = next(
        (pid, e) for pid, e in expected_consolidation(slice_).items() if e["Next milestone"]
    )
    milestone = next(
        mid
        for mid, f in by_name(slice_, "Milestones").items()
        if f.get("Project") == [project_id] and f.get("Name") == expected["Next milestone"]
    )
    service.emulator.edit_record(BASE_ID, "Milestones", milestone, {"Name": "Renamed gate"})  # type: ignore[attr-defined]
    code, report = slice_.sync()
    assert code == 0 and report["writes_applied"] == 1, report
    fields = by_name(slice_, "Projects")[project_id]
    assert fields["Upcoming milestone (PMO)"] == "Renamed gate"
    assert "Next milestone" not in fields


def test_a_full_sync_commits_a_fixed_number_of_times(make_slice: Any, store_url: str) -> None:
    """Bulk writes: the number of transactions does not grow with the number of records."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    from pmosync.sync.store import Store

    # both slices share the store: create it first, so neither sync counts the migration
    Store.open(store_url).close()
    commits: list[int] = []

    def count(_conn: Any) -> None:
        commits.append(1)

    event.listen(Engine, "commit", count)
    try:
        small = make_slice(fast_airtable(projects=4))
        assert small.sync("--full")[0] == 0
        few = len(commits)
        small.sandbox.stop()
        commits.clear()
        big = make_slice(fast_airtable(projects=30))
        assert big.sync("--full")[0] == 0
        many = len(commits)
    finally:
        event.remove(Engine, "commit", count)
    assert few == many, (few, many)
