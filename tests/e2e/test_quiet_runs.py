"""Quiet runs (sync/quiet.py): once a run converged, a run that pulls nothing new skips
reconcile, analysis and planning, and any change (a person's edit, a new day, a new mapping)
brings the whole run back. Real pyairtable against the Airtable emulator, through the CLI."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from click.testing import CliRunner
from ruamel.yaml import YAML
from sqlalchemy import select

from pmosync.cli import EXIT_HELD, main
from pmosync.config.loader import load_config
from pmosync.reports.data import load_report_data
from pmosync.sandbox.scenarios.airtable_pmo import BASE_ID
from pmosync.sync import models
from pmosync.sync.store import Store
from tests.e2e.conftest import TODAY, Slice, fast_airtable, pull_next_milestone_forward


def converge(slice_: Slice) -> tuple[dict[str, Any], dict[str, Any]]:
    """Sync until a run is quiet: (the run it stands on, the quiet run)."""
    code, report = slice_.sync("--full")
    assert code == 0, report
    for _ in range(3):
        code, after = slice_.sync()
        assert code == 0, after
        if after["quiet_since"] is not None:
            return report, after
        report = after
    raise AssertionError(f"never quiet: {report['plan']}")


def is_quiet(report: dict[str, Any]) -> bool:
    return report["quiet_since"] is not None


def test_a_run_after_a_converged_one_is_quiet_and_keeps_its_analysis(make_slice: Any) -> None:
    slice_ = make_slice()
    settled, quiet = converge(slice_)
    assert not is_quiet(settled) and "reconcile" in settled["phases"]
    assert quiet["quiet_since"] == settled["run_id"]
    assert {"reconcile", "analyse", "plan", "apply"}.isdisjoint(quiet["phases"])
    assert quiet["plan"] == [] and quiet["writes_applied"] == 0
    standing = settled["analysis_run"] or settled["run_id"]
    assert quiet["analysis_run"] == standing
    # the schedule section and roll-ups a person reads in the report are the standing ones
    assert quiet["schedule"] == settled["schedule"]
    assert quiet["rollups"] == settled["rollups"]
    assert quiet["entities"] == settled["entities"]

    # a second quiet run names the same analysis, not the quiet run before it
    code, again = slice_.sync()
    assert is_quiet(again) and again["analysis_run"] == standing

    # and a person reading the text report is told why the run was short
    result = CliRunner().invoke(
        main, ["sync", "--config", str(slice_.config), "--today", TODAY.isoformat()]
    )
    assert result.exit_code == 0, result.output
    assert f"nothing changed since run #{again['run_id']}" in result.output
    assert f"the analysis of run #{standing} stands" in result.output

    # the reports read the standing analysis through the quiet runs
    loaded = load_config(slice_.config)
    store = Store.open(loaded.store_url())
    try:
        data = load_report_data(store, "Test")
        with store.sessions() as session:
            stored = set(session.scalars(select(models.ScheduleResult.run_id).distinct()))
    finally:
        store.close()
    assert data.run_id == again["run_id"] + 1  # the text run just above
    assert data.findings is not None and data.schedule is not None
    # a run whose schedule equals the standing one stores no rows of its own
    assert standing in stored and again["run_id"] not in stored and quiet["run_id"] not in stored


def test_a_persons_edit_brings_the_whole_run_back(make_slice: Any) -> None:
    slice_ = make_slice()
    converge(slice_)
    emulator = slice_.service().emulator
    project_id = pull_next_milestone_forward(slice_)

    code, report = slice_.sync()
    assert code == 0, report
    assert not is_quiet(report)
    assert "reconcile" in report["phases"] and report["writes_applied"] == 1
    projects = {r["id"]: r["fields"] for r in emulator.records(BASE_ID, "Projects")}
    assert projects[project_id]["Next milestone"] == "Go/no-go"

    # that run's one write landed: the next run reads its echo (inside the overlap), knows it
    # by value, and is quiet
    code, echo = slice_.sync()
    assert code == 0 and echo["quiet_since"] == report["run_id"], echo
    assert echo["connections"]["pmo_airtable"]["pulled"] >= 2  # the edit and our write

    # a person overwriting what we wrote is a change again
    emulator.edit_record(BASE_ID, "Projects", project_id, {"Next milestone": "typed over"})
    code, again = slice_.sync()
    assert code == 0 and not is_quiet(again) and again["writes_applied"] == 1, again
    projects = {r["id"]: r["fields"] for r in emulator.records(BASE_ID, "Projects")}
    assert projects[project_id]["Next milestone"] == "Go/no-go"  # push-only: computed wins


def test_a_new_day_or_a_full_run_is_never_quiet(make_slice: Any) -> None:
    slice_ = make_slice()
    converge(slice_)
    # RAG and overdue counts depend on the day: the next day's run analyses again
    tomorrow = (TODAY + timedelta(days=1)).isoformat()
    code, report = slice_.sync("--today", tomorrow)
    assert code == 0, report
    assert not is_quiet(report) and "analyse" in report["phases"]
    # --full lists everything to find deletions: always the whole run
    code, report = slice_.sync("--full", "--today", tomorrow)
    assert code == 0, report
    assert not is_quiet(report) and "reconcile" in report["phases"]


def test_a_changed_mapping_is_never_quiet(make_slice: Any) -> None:
    slice_ = make_slice()
    converge(slice_)
    yaml = YAML()
    config = yaml.load(slice_.config.read_text())
    [team] = config["teams"].values()
    path = slice_.sandbox.directory / team["mapping"]
    path.write_text(path.read_text() + "\n# a comment is no change of the mapping\n")
    code, report = slice_.sync()
    assert code == 0 and is_quiet(report), report["notices"]

    mapping = yaml.load(path.read_text())
    del mapping["entities"]["project"]["fields"]["overdue_milestones"]
    with path.open("w") as handle:
        yaml.dump(mapping, handle)
    code, report = slice_.sync()
    assert code == 0, report
    assert not is_quiet(report) and "plan" in report["phases"]
    code, report = slice_.sync()
    assert code == 0 and is_quiet(report), "converged again under the new mapping"


def test_a_conflict_held_for_a_person_stays_reported_through_quiet_runs(make_slice: Any) -> None:
    def hold_status(mapping: dict[str, Any]) -> None:
        mapping["entities"]["project"]["fields"]["status"]["conflict"] = "hold"

    slice_ = make_slice(fast_airtable(("pmo_a", "pmo_b")), mapping_edit=hold_status)
    converge(slice_)
    a, b = slice_.service("pmo_a").emulator, slice_.service("pmo_b").emulator
    rec_a = a.records(BASE_ID, "Projects")[0]
    code_ = rec_a["fields"]["Code"]
    rec_b = next(r for r in b.records(BASE_ID, "Projects") if r["fields"]["Code"] == code_)
    a.edit_record(BASE_ID, "Projects", rec_a["id"], {"Status": "Done"})
    b.edit_record(BASE_ID, "Projects", rec_b["id"], {"Status": "On hold"})
    code, held = slice_.sync()
    assert code == EXIT_HELD and [c["held"] for c in held["conflicts"]] == [True], held
    quiet = held
    for _ in range(3):  # the run that held it may have written other fields
        code, quiet = slice_.sync()
        if is_quiet(quiet):
            break
    assert is_quiet(quiet), quiet["plan"]
    # quiet, and the person is still told: same conflict, same exit code for cron
    assert code == EXIT_HELD
    assert [(c["canonical_id"], c["field"]) for c in quiet["conflicts"]] == [
        (c["canonical_id"], c["field"]) for c in held["conflicts"]
    ]
    listed = CliRunner().invoke(main, ["conflicts", "list", "--config", str(slice_.config)])
    conflict_id = listed.output.split()[0].lstrip("#")
    resolved = CliRunner().invoke(
        main,
        ["conflicts", "resolve", conflict_id, "--take", "pmo_a", "--config", str(slice_.config)],
    )
    assert resolved.exit_code == 0, resolved.output
    code, applied = slice_.sync()  # a person's decision is never skipped by a quiet run
    assert code == 0 and not is_quiet(applied) and applied["writes_applied"] == 1, applied


def test_records_ingest_quarantines_as_ambiguous_leave_the_run_quiet(make_slice: Any) -> None:
    """Two records of one tool with one identity key are quarantined by ingest, unread, every
    run until a person fixes the tool: no change, so no reason to analyse again (at
    portfolio-M twenty Jira project categories named after three programmes kept every run
    from being quiet). The quiet run reports them just as a whole run does."""
    slice_ = make_slice()
    converge(slice_)
    emulator = slice_.service().emulator
    original = emulator.records(BASE_ID, "Projects")[0]
    fields = original["fields"]
    # a person copies a register row, code and all (Airtable does not keep a column unique),
    # and saves the original again: both are inside the next runs' overlap
    copy = emulator.create_record(
        BASE_ID, "Projects", {"Code": fields["Code"], "Name": f"{fields['Name']} (copy)"}
    )
    emulator.edit_record(BASE_ID, "Projects", original["id"], {"Name": fields["Name"]})

    for _ in range(2):  # the first run after the copy, and the steady one after it
        code, report = slice_.sync()
        assert code == 0 and is_quiet(report), report["connections"]
        ambiguous = {
            q["external_id"]: q["reason"]
            for q in report["quarantined"]
            if q["reason"].startswith("ambiguous identity")
        }
        assert set(ambiguous) == {original["id"], copy["id"]}, report["quarantined"]
        assert fields["Code"] in ambiguous[copy["id"]]
        assert report["connections"]["pmo_airtable"]["quarantined"] >= 2

    # the person gives the copy its own code: a new project, the whole run
    emulator.edit_record(BASE_ID, "Projects", copy["id"], {"Code": "PRJ-900"})
    code, report = slice_.sync()
    assert code == 0 and not is_quiet(report) and "reconcile" in report["phases"], report
    assert report["connections"]["pmo_airtable"]["new"] >= 1
    assert not any(q["reason"].startswith("ambiguous") for q in report["quarantined"])


def jira_into_the_pmo_base(make_slice: Any, *created: str) -> Slice:
    """The Airtable base and a Jira site of two projects; the base receives the ``created``
    types it lacks (create_missing)."""
    from pmosync.sandbox.scenarios import jira

    def receive(mapping: dict[str, Any]) -> None:
        for entity_type in created:
            mapping["entities"][entity_type]["create_missing"] = True

    scenario = fast_airtable()
    scenario.services += jira.services(projects=2)
    return make_slice(scenario, mapping_edit=receive)


def test_the_run_right_after_a_full_sync_that_created_records_is_quiet(make_slice: Any) -> None:
    """The full sync creates Jira's projects in the base (with every field it maps: no
    reference left out) and settles first-sight conflicts by policy; once every write landed
    nothing is left, so the very next run re-reads only echoes and is quiet."""
    slice_ = jira_into_the_pmo_base(make_slice, "project")
    code, full = slice_.sync("--full")
    assert code == 0, full
    assert [w for w in full["plan"] if w["op"] == "create"], "the full sync creates projects"
    assert full["deferred"] == [] and full["writes_applied"] == len(full["plan"])
    code, after = slice_.sync()
    assert code == 0 and after["quiet_since"] == full["run_id"], after["plan"]
    # what the quiet run skipped is nothing: a whole run (a new mapping comment changes no
    # decision, but --full always works) plans no write
    code, whole = slice_.sync("--full")
    assert code == 0 and not is_quiet(whole) and whole["plan"] == [], whole["plan"]


def test_a_create_that_left_out_a_reference_is_followed_by_a_whole_run(make_slice: Any) -> None:
    """Jira's projects and their fix versions are both created in the base in one run: a
    milestone's create cannot name a project row that does not exist yet, so the run says it
    left that for later, and the next run is a whole one that fills the reference in."""
    slice_ = jira_into_the_pmo_base(make_slice, "project", "milestone")
    code, full = slice_.sync("--full")
    assert code == 0, full
    left = {d["canonical_id"] for d in full["deferred"]}
    assert left and all(d["entity_type"] == "milestone" for d in full["deferred"]), full
    assert any("left for the next run" in n for n in full["notices"])
    code, filling = slice_.sync()
    assert code == 0 and not is_quiet(filling), filling
    filled = {w["canonical_id"] for w in filling["plan"] if w["op"] == "update"}
    assert left <= filled and filling["deferred"] == []
    emulator = slice_.service().emulator
    rows = [r for r in emulator.records(BASE_ID, "Milestones") if r["fields"].get("pmo-sync id")]
    assert all(r["fields"].get("Project") for r in rows if r["fields"]["pmo-sync id"] in left)
    code, after = slice_.sync()
    assert code == 0 and after["quiet_since"] == filling["run_id"], after["plan"]
