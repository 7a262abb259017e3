"""Deletions: a record a complete listing no longer has is tombstoned (never deleted anywhere),
stops counting in the consolidated status, and comes back if it reappears. One test per tool,
each through the real client against its emulator (files through the real MPXJ import)."""

from __future__ import annotations

import copy
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from jira import JIRA
from sqlalchemy import select

from pmosync.cli import main
from pmosync.connectors.files import java_available
from pmosync.sandbox.harness import Scenario
from pmosync.sandbox.pwa import writes as pwa_writes
from pmosync.sandbox.scenarios import jira, pwa
from pmosync.sandbox.scenarios.airtable_pmo import BASE_ID
from pmosync.sync import models
from pmosync.sync.store import Store
from tests import fixture_dirs

from .conftest import TODAY, Slice

FIXTURES = fixture_dirs.MSPROJECT


def store_rows(slice_: Slice) -> tuple[dict[str, Any], list[models.Link]]:
    store = Store.open(_store_url(slice_))
    try:
        with store.sessions() as session:
            entities = {e.id: e.values for e in session.scalars(select(models.Entity))}
            links = list(session.scalars(select(models.Link)))
        return entities, links
    finally:
        store.close()


def _store_url(slice_: Slice) -> str:
    from pmosync.config.loader import load_config

    return load_config(slice_.config).store_url()


def labels(report: dict[str, Any], key: str = "tombstoned") -> list[str]:
    return [t["label"] for t in report[key]]


# -- Airtable ----------------------------------------------------------------------------------


def test_airtable_deleted_milestone_is_tombstoned_on_full_and_comes_back(make_slice: Any) -> None:
    slice_ = make_slice()
    emulator: Any = slice_.service().emulator
    code, first = slice_.sync("--full")
    assert code == 0, first
    assert first["tombstoned"] == []
    projects = emulator.records(BASE_ID, "Projects")
    project = next(p for p in projects if p["fields"].get("Next milestone"))
    doomed_name = project["fields"]["Next milestone"]
    doomed = next(
        m
        for m in emulator.records(BASE_ID, "Milestones")
        if m["fields"].get("Name") == doomed_name and m["fields"].get("Project") == [project["id"]]
    )
    _base, table = emulator._base_table(BASE_ID, "Milestones")
    kept = copy.deepcopy(table.records[doomed["id"]])
    emulator.delete_record(BASE_ID, "Milestones", doomed["id"])

    # Airtable's change listing cannot show a deletion: an incremental run keeps it live ...
    code, incremental = slice_.sync()
    assert code == 0, incremental
    assert incremental["tombstoned"] == []
    # ... and a full listing tombstones it, naming it, and the status stops counting it
    code, full = slice_.sync("--full")
    assert code == 0, full
    assert labels(full) == [doomed_name]
    assert full["tombstoned"][0]["entity_tombstoned"] is True
    register = {r["id"]: r["fields"] for r in emulator.records(BASE_ID, "Projects")}
    assert register[project["id"]].get("Next milestone") != doomed_name
    entities, links = store_rows(slice_)
    [link] = [lk for lk in links if lk.external_id == doomed["id"]]
    assert link.deleted_at is not None  # kept, marked: never deleted from the store
    assert entities[link.canonical_id]["name"] == doomed_name  # values kept for a comeback

    # a full run with nothing deleted tombstones nothing more and writes nothing
    code, again = slice_.sync("--full")
    assert code == 0 and again["tombstoned"] == [] and again["writes_applied"] == 0, again

    # restored from the trash (same record id): it comes back and counts again
    with emulator.lock:
        table.records[doomed["id"]] = kept
    code, back = slice_.sync("--full")
    assert code == 0, back
    assert labels(back, "revived") == [doomed_name]
    register = {r["id"]: r["fields"] for r in emulator.records(BASE_ID, "Projects")}
    assert register[project["id"]].get("Next milestone") == doomed_name
    _entities, links = store_rows(slice_)
    assert [lk.deleted_at for lk in links if lk.external_id == doomed["id"]] == [None]


def test_airtable_failed_full_listing_tombstones_nothing(make_slice: Any) -> None:
    slice_ = make_slice()
    code, never = slice_.sync()  # no --full run yet: sync says one is due, and why
    assert code == 0, never
    assert any("last --full run was never" in n for n in never["notices"]), never["notices"]
    code, first = slice_.sync("--full")
    assert code == 0, first
    code, after = slice_.sync()
    assert code == 0 and after["notices"] == [], after["notices"]
    # a bad token makes the pull fail whole: nothing it did not read counts as deleted
    token_file = slice_.sandbox.directory / "secrets" / "pmo_airtable.token"
    good = token_file.read_text()
    token_file.write_text("patWRONGTOKEN.0000")
    try:
        code, failed = slice_.sync("--full")
    finally:
        token_file.write_text(good)
    assert failed["connections"]["pmo_airtable"]["status"] == "failed", failed
    assert failed["tombstoned"] == []
    _entities, links = store_rows(slice_)
    assert all(lk.deleted_at is None for lk in links)


# -- Jira --------------------------------------------------------------------------------------


def _jira_slice(make_slice: Any) -> Slice:
    services = jira.services(projects=1, issues_per_project=12, today=TODAY)
    return make_slice(Scenario(services=services, sync={"overlap": "5m"}))  # type: ignore[no-any-return]


def test_jira_deleted_issue_is_tombstoned_on_the_next_full_run(make_slice: Any) -> None:
    slice_ = _jira_slice(make_slice)
    service = slice_.service("delivery_jira")
    code, first = slice_.sync("--full")
    assert code == 0, first
    emulator: Any = service.emulator
    with emulator.lock:
        issue = next(
            i
            for i in emulator.state.issues.values()
            if emulator.state.issue_types[i.fields["issuetype"]].name in ("Story", "Task")
            and emulator.state.issue_links(i.id)
        )
        key, summary = issue.key, issue.fields["summary"]
    # a person deletes it in Jira (through the REST API, as the UI does)
    credentials = emulator.credentials
    client = JIRA(
        server=service.url,
        basic_auth=(credentials["email"], credentials["token"]),
        options={"verify": str(slice_.sandbox.ca.bundle_path)},
        get_server_info=False,
    )
    client.issue(key).delete(deleteSubtasks=True)  # its sub-tasks go with it
    client.close()

    code, incremental = slice_.sync()
    assert code == 0 and incremental["tombstoned"] == [], incremental  # a search cannot tell
    code, full = slice_.sync("--full")
    assert code == 0, full
    gone = {(t["entity_type"], t["label"]) for t in full["tombstoned"]}
    assert ("work_item", f"{key} {summary}") in gone
    # its issue links went with it: the dependencies are tombstoned too
    assert any(t["entity_type"] == "dependency" for t in full["tombstoned"])
    _entities, links = store_rows(slice_)
    assert all(lk.deleted_at is None for lk in links if lk.entity_type == "person")


# -- Project Server ----------------------------------------------------------------------------


def test_pwa_task_deleted_from_a_republished_project_is_tombstoned_incrementally(
    make_slice: Any,
) -> None:
    slice_ = make_slice(pwa.scenario(projects=1))
    code, first = slice_.sync("--full")
    assert code == 0, first
    emulator: Any = slice_.service("plans_pwa").emulator
    [summary] = emulator.projects()
    plan = emulator.draft(summary["Id"])
    milestone = next(t for t in plan.tasks if t.get("IsMilestone") and int(t["OutlineLevel"]) > 0)
    name = milestone["Name"]
    # a planner deletes the milestone in Project Professional and publishes
    with emulator._guard:
        record = emulator._record(summary["Id"])
        task_id = milestone["Id"]
        record.draft.tasks = [t for t in record.draft.tasks if t["Id"] != task_id]
        record.draft.links = [
            lk
            for lk in record.draft.links
            if task_id not in (lk.get("PredecessorTaskId"), lk.get("SuccessorTaskId"))
        ]
        pwa_writes._publish(emulator, record, check_in=True)
        emulator.state.version += 1

    # PWA re-reads a republished project whole: an incremental run already tells the deletion
    code, second = slice_.sync()
    assert code == 0, second
    gone = {(t["entity_type"], t["label"]) for t in second["tombstoned"]}
    assert ("milestone", name) in gone, second["tombstoned"]
    entities, _links = store_rows(slice_)
    project = next(v for v in entities.values() if v.get("name") == summary["Name"])
    assert project.get("next_milestone") != name


# -- files re-import ---------------------------------------------------------------------------


@pytest.mark.skipif(not java_available(), reason="no Java runtime for MPXJ")
def test_reimported_file_without_a_task_tombstones_it(tmp_path: Path) -> None:
    config = tmp_path / "pmo-sync.yaml"
    config.write_text(
        "version: 1\n"
        f"store:\n  url: sqlite:///{tmp_path / 'store.db'}\n"
        "connections:\n"
        "  pmo:\n    kind: airtable\n    base_id: appAAAAAAAAAAAAAA\n    token_env: PMO_TOKEN\n"
    )
    plan = tmp_path / "plan.xml"
    shutil.copy(FIXTURES / "mspdirelations.xml", plan)
    runner = CliRunner()
    first = runner.invoke(main, ["import", "--config", str(config), "--json", str(plan)])
    assert first.exit_code == 0, first.output

    ns = "http://schemas.microsoft.com/project"
    ET.register_namespace("", ns)
    tree = ET.parse(plan)
    tasks = tree.getroot().find(f"{{{ns}}}Tasks")
    assert tasks is not None
    leaves = [
        t
        for t in tasks
        if t.findtext(f"{{{ns}}}Summary") == "0" and t.findtext(f"{{{ns}}}OutlineLevel") != "0"
    ]
    doomed = leaves[-1]
    uid, name = doomed.findtext(f"{{{ns}}}UID"), doomed.findtext(f"{{{ns}}}Name")
    tasks.remove(doomed)
    for task in tasks:
        for link in list(task.findall(f"{{{ns}}}PredecessorLink")):
            if link.findtext(f"{{{ns}}}PredecessorUID") == uid:
                task.remove(link)
    tree.write(plan, xml_declaration=True, encoding="UTF-8")

    import json

    second = runner.invoke(main, ["import", "--config", str(config), "--json", str(plan)])
    assert second.exit_code == 0, second.output
    report = json.loads(second.stdout)
    gone = [t for t in report["tombstoned"] if t["entity_type"] == "work_item"]
    assert [t["label"].split(" ", 1)[-1] for t in gone] == [name] or name in gone[0]["label"]
    store = Store.open(f"sqlite:///{tmp_path / 'store.db'}")
    try:
        with store.sessions() as session:
            deleted = session.scalars(
                select(models.Link).where(models.Link.deleted_at.is_not(None))
            ).all()
    finally:
        store.close()
    assert {lk.external_id for lk in deleted} >= {gone[0]["external_id"]}


def test_airtable_deleted_project_leaves_the_status_report(make_slice: Any) -> None:
    from pmosync.reports.status import project_rows

    slice_ = make_slice()
    emulator: Any = slice_.service().emulator
    code, first = slice_.sync("--full")
    assert code == 0, first
    project = emulator.records(BASE_ID, "Projects")[0]
    emulator.delete_record(BASE_ID, "Projects", project["id"])
    code, full = slice_.sync("--full")
    assert code == 0, full
    assert ("project", f"{project['fields']['Code']} {project['fields']['Name']}") in {
        (t["entity_type"], t["label"]) for t in full["tombstoned"]
    }
    store = Store.open(_store_url(slice_))
    try:
        codes = {row["code"] for row in project_rows(store)}
    finally:
        store.close()
    assert project["fields"]["Code"] not in codes
    assert len(codes) == len(emulator.records(BASE_ID, "Projects"))
