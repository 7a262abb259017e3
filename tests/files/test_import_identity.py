"""Import identity: distinct plans sharing a GUID never merge, master plans link to their
subprojects, external stubs are never portfolio projects, and an import needs no sync setup.

Plans with colliding GUIDs are modified MSPDI copies of a real fixture written into tmp_path
(another creation date: a plan started from a copy of another one, as a PMO does).
"""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from pmosync.canonical_model import EntityType, PulledRecord, Quarantined
from pmosync.cli import EXIT_CONFIG, EXIT_OK, EXIT_PARTIAL, main
from pmosync.connectors.files import connector as connector_module
from pmosync.connectors.files import java_available
from pmosync.connectors.files.mapper import map_files, map_import, task_external_id
from pmosync.connectors.files.model import ScheduleFile, ScheduleProperties, ScheduleTask
from pmosync.connectors.files.plans import PlanSignature, StoredProject, plan_signature
from pmosync.reports.status import project_rows
from pmosync.sync.store import Store
from tests.files.test_files_import import (
    FIXTURES,
    NS,
    Snapshot,
    run_import,
    snapshot,
    write_config,
)

needs_java = pytest.mark.skipif(
    not java_available(), reason="no Java runtime for MPXJ (apt-get install default-jre-headless)"
)
ORIGINAL = FIXTURES / "task-links-project2019-mspdi.xml"
GUID = "26172537-dbd2-e811-ac3f-4cedde6e5b57"
MASTER = FIXTURES / "hand-made" / "master-plan.xml"
RELATIONS = FIXTURES / "mspdirelations.xml"


def _edit(source: Path, target: Path, **changes: str) -> Path:
    """A copy of an MSPDI file with project elements (CreationDate, LastSaved) replaced and
    task names changed (``task_<UID>="new name"``)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(source, target)
    tree = ET.parse(target)
    root = tree.getroot()
    for tag, value in changes.items():
        if tag.startswith("task_"):
            uid = tag.removeprefix("task_")
            for task in root.findall("p:Tasks/p:Task", NS):
                if task.findtext("p:UID", None, NS) == uid:
                    name = task.find("p:Name", NS)
                    assert name is not None
                    name.text = value
            continue
        element = root.find(f"p:{tag}", NS)
        assert element is not None, tag
        element.text = value
    ET.register_namespace("", NS["p"])
    tree.write(target, xml_declaration=True, encoding="UTF-8")
    return target


def _projects(snap: Snapshot) -> dict[str, str]:
    return snap.ids("files", EntityType.PROJECT)


def _items_of(snap: Snapshot, project_external_id: str) -> dict[str, dict[str, Any]]:
    canonical = _projects(snap)[project_external_id]
    return {
        ext: snap.entities[row["canonical_id"]][1]
        for (conn, etype, ext), row in snap.links.items()
        if conn == "files"
        and etype == "work_item"
        and snap.entities[row["canonical_id"]][1].get("project") == canonical
    }


# -- two plans, one GUID ---------------------------------------------------------------------


@needs_java
def test_two_plans_with_one_guid_imported_in_separate_runs_stay_apart(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    store_url = f"sqlite:///{tmp_path / 'store.db'}"
    other = _edit(
        ORIGINAL,
        tmp_path / "plans" / "other-plan.xml",
        CreationDate="2025-03-03T08:00:00",
        LastSaved="2025-03-04T10:00:00",
        task_1="Other plan, first task",
    )

    first = run_import(config, ORIGINAL)
    assert first.exit_code == EXIT_OK, first.output
    after_first = snapshot(store_url)
    assert list(_projects(after_first)) == [GUID]

    second = run_import(config, other)
    assert second.exit_code == EXIT_OK, second.output
    after_second = snapshot(store_url)
    projects = _projects(after_second)
    assert len(projects) == 2 and GUID in projects
    [own] = [p for p in projects if p != GUID]
    assert own.startswith(GUID + "~")
    # each plan holds its own 16 tasks; the original's are exactly as before
    assert len(_items_of(after_second, GUID)) == len(_items_of(after_first, GUID)) == 16
    assert _items_of(after_second, GUID) == _items_of(after_first, GUID)
    copies = _items_of(after_second, own)
    assert len(copies) == 16 and all(ext.startswith(own + ":") for ext in copies)
    assert copies[f"{own}:1"]["name"] == "Other plan, first task"
    [notice] = [n for n in second.report["notices"] if "different plans" in n]
    assert str(other) in notice and str(ORIGINAL) in notice and own in notice

    again = run_import(config, other)
    assert again.exit_code == EXIT_OK, again.output
    conn = again.report["connections"]["files"]
    assert (conn["new"], conn["changed"]) == (0, 0)
    assert not [n for n in again.report["notices"] if "different plans" in n]
    assert snapshot(store_url).entities == after_second.entities

    # a later save of the other plan, under another name: it updates that plan alone
    later = _edit(
        other,
        tmp_path / "plans" / "other-plan-v2.xml",
        LastSaved="2025-04-01T09:00:00",
        task_2="Renamed in the later save",
    )
    saved = run_import(config, later)
    assert saved.exit_code == EXIT_OK, saved.output
    after_later = snapshot(store_url)
    assert _projects(after_later) == projects
    assert _items_of(after_later, GUID) == _items_of(after_first, GUID)
    changed = {
        ext
        for ext, values in _items_of(after_later, own).items()
        if values["name"] != copies[ext]["name"]
    }
    assert changed == {f"{own}:2"}


@needs_java
def test_two_plans_with_one_guid_in_one_run_both_import(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    other = _edit(ORIGINAL, tmp_path / "other-plan.xml", CreationDate="2025-03-03T08:00:00")
    imported = run_import(config, ORIGINAL, other)
    assert imported.exit_code == EXIT_OK, imported.output
    assert imported.report["quarantined"] == []  # no longer "two saves of one plan"
    snap = snapshot(f"sqlite:///{tmp_path / 'store.db'}")
    projects = _projects(snap)
    assert len(projects) == 2
    for external_id in projects:
        assert len(_items_of(snap, external_id)) == 16
    [notice] = imported.report["notices"][-1:]
    assert str(ORIGINAL) in notice and str(other) in notice


def _sf(path: str, *, created: datetime | None, title: str | None, saved: datetime) -> ScheduleFile:
    return ScheduleFile(
        path=Path(path),
        sha256="cd" * 32,
        properties=ScheduleProperties(
            guid="{AAAA-1}",
            title=title,
            creation_date=created,
            last_saved=saved,
            minutes_per_day=480,
            minutes_per_week=2400,
            days_per_month=20,
        ),
        tasks=(
            ScheduleTask(unique_id=0, outline_level=0, summary=True),
            ScheduleTask(unique_id=1, outline_level=1, name="T1", guid="{BBBB-1}"),
        ),
    )


def test_the_same_plan_rule() -> None:
    created = datetime(2026, 1, 5, 8)
    plan = _sf("/p/plan.mpp", created=created, title="Plan", saved=datetime(2026, 2, 1))
    # a later save elsewhere: same creation date and title -> the same plan, later wins
    later = _sf("/q/plan-v2.mpp", created=created, title="Plan", saved=datetime(2026, 3, 1))
    mapped = map_files([plan, later], connection="f")
    assert [type(r) for r in mapped[Path("/p/plan.mpp")]] == [Quarantined]
    # a copy made into another plan: other title -> its own project, tasks keyed under it
    copy = _sf("/q/other.mpp", created=created, title="Other", saved=datetime(2026, 3, 1))
    result = map_import([plan, copy], connection="f")
    ids = {
        r.ref.external_id
        for records in result.records.values()
        for r in records
        if isinstance(r, PulledRecord) and r.ref.entity_type is EntityType.WORK_ITEM
    }
    [own] = [
        r.ref.external_id
        for r in result.records[Path("/q/other.mpp")]
        if isinstance(r, PulledRecord) and r.ref.entity_type is EntityType.PROJECT
    ]
    assert own.startswith("aaaa-1~")
    assert ids == {"bbbb-1", f"{own}:1"}
    assert len(result.warnings) == 1 and "/p/plan.mpp" in result.warnings[0]
    # the same path is always the same plan, whatever its title became
    retitled = _sf("/p/plan.mpp", created=created, title="Renamed", saved=datetime(2026, 4, 1))
    stored = {"aaaa-1": StoredProject("aaaa-1", plan_signature(plan))}
    again = map_import([retitled], connection="f", stored=stored)
    assert again.warnings == []
    assert any(
        isinstance(r, PulledRecord) and r.ref.external_id == "aaaa-1"
        for r in again.records[Path("/p/plan.mpp")]
    )
    # a project stored before signatures existed keeps the old rule: same id, same plan
    legacy = map_import([copy], connection="f", stored={"aaaa-1": StoredProject("aaaa-1", None)})
    assert legacy.warnings == []


def test_a_plan_signature_fits_the_key_column_and_reads_back() -> None:
    long_path = "/archive/" + "deep/" * 80 + "Plan ünïcode.mpp"
    sf = _sf(long_path, created=datetime(2026, 1, 5), title="P", saved=datetime(2026, 1, 6))
    signature = plan_signature(sf)
    key = signature.key()
    assert len(key) <= 255
    parsed = PlanSignature.parse(key)
    assert parsed is not None
    assert parsed.path_hash == signature.path_hash and parsed.path.endswith("Plan ünïcode.mpp")
    assert PlanSignature.parse(None) is None and PlanSignature.parse("PRJ-7") is None


# -- master plans ----------------------------------------------------------------------------


@needs_java
def test_a_master_plan_imported_with_its_subproject_links_to_it(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    imported = run_import(config, MASTER, RELATIONS)
    assert imported.exit_code == EXIT_OK, imported.output
    snap = snapshot(f"sqlite:///{tmp_path / 'store.db'}")
    projects = _projects(snap)
    master = _items_of(snap, "6a1d3f0e-2b4c-4e8a-9c11-7f00c0ffee01")
    row = master["6a1d3f0e-2b4c-4e8a-9c11-7f00c0ffee01:1"]
    assert row["name"] == "Relations programme" and row["kind"] == "summary"
    assert row["subproject"] == projects["mspdirelations.xml"]
    # the row for a file that is not imported says so in the report, naming the file
    assert master["6a1d3f0e-2b4c-4e8a-9c11-7f00c0ffee01:2"].get("subproject") is None
    [note] = [n for n in imported.report["notices"] if "vendor-plan.mpp" in n]
    assert "Vendor plan" in note and "master-plan.xml" in note
    # the cross-project link to task ID 5 of the subproject joins the two plans
    deps = snap.ids("files", EntityType.DEPENDENCY)
    link = "mspdirelations.xml:5->6a1d3f0e-2b4c-4e8a-9c11-7f00c0ffee01:3"
    values = snap.values("files", EntityType.DEPENDENCY, link)
    assert link in deps and values["link_type"] == "FS"
    items = snap.ids("files", EntityType.WORK_ITEM)
    assert values["predecessor"] == items["mspdirelations.xml:5"]


@needs_java
def test_a_master_plan_finds_a_subproject_imported_before(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    assert run_import(config, RELATIONS).exit_code == EXIT_OK
    imported = run_import(config, MASTER)
    snap = snapshot(f"sqlite:///{tmp_path / 'store.db'}")
    row = snap.values("files", EntityType.WORK_ITEM, "6a1d3f0e-2b4c-4e8a-9c11-7f00c0ffee01:1")
    assert row["subproject"] == _projects(snap)["mspdirelations.xml"]
    # the link to one task of it needs the file itself in the import: quarantined, named
    assert imported.exit_code == EXIT_PARTIAL, imported.output
    [reason] = [q["reason"] for q in imported.report["quarantined"]]
    assert "task ID 5 of C:\\Plans\\mspdirelations.xml" in reason
    assert "import both files together" in reason


# -- external stubs -----------------------------------------------------------------------------


def _plan(path: str, title: str, *tasks: ScheduleTask, code: str | None = None) -> ScheduleFile:
    summary = ScheduleTask(
        unique_id=0,
        outline_level=0,
        summary=True,
        custom_fields={"Project Code": code} if code else {},
    )
    return ScheduleFile(
        path=Path(path),
        sha256="ef" * 32,
        properties=ScheduleProperties(
            title=title,
            last_saved=datetime(2026, 1, 1),
            minutes_per_day=480,
            minutes_per_week=2400,
            days_per_month=20,
        ),
        tasks=(summary, *tasks),
    )


def _stub() -> ScheduleFile:
    placeholder = ScheduleTask(
        unique_id=7,
        outline_level=1,
        name="Vendor delivery",
        external=True,
        subproject_file="C:\\Plans\\vendor.xml",
        subproject_task_id=3,
    )
    return _plan("/imports/vendor-stub.xml", "Vendor programme", placeholder)


def test_a_stub_resolves_to_the_real_project_and_is_never_one_itself() -> None:
    real = _plan(
        "/imports/vendor.xml",
        "Vendor programme",
        ScheduleTask(unique_id=3, id=3, outline_level=1, name="Delivery"),
        code="VEN",
    )
    result = map_import([_stub(), real], connection="f")
    stub_records = result.records[Path("/imports/vendor-stub.xml")]
    assert not [
        r
        for r in stub_records
        if isinstance(r, PulledRecord) and r.ref.entity_type is EntityType.PROJECT
    ]
    assert any("Vendor programme" in w and "nothing stored" in w for w in result.warnings)
    # by code, from the store: a stub whose title is the real project's code
    stub = _stub().model_copy(
        update={"properties": _stub().properties.model_copy(update={"title": "VEN"})}  # type: ignore[union-attr]
    )
    stored = {"Vendor programme": StoredProject("Vendor programme", None, "Vendor", "VEN")}
    from_store = map_import([stub], connection="f", stored=stored)
    assert from_store.records[stub.path] == []


def test_an_unresolved_stub_is_an_external_project_without_a_code() -> None:
    records = map_import([_stub()], connection="f").records[Path("/imports/vendor-stub.xml")]
    [project] = [
        r
        for r in records
        if isinstance(r, PulledRecord) and r.ref.entity_type is EntityType.PROJECT
    ]
    assert project.values["external"] is True and project.values["code"] is None
    assert not [
        r
        for r in records
        if isinstance(r, PulledRecord) and r.ref.entity_type is EntityType.WORK_ITEM
    ]
    assert task_external_id("x", ScheduleTask(unique_id=7, guid="{AB}"), namespaced=True) == "x:7"


def test_an_external_stub_gets_no_rag_and_stays_out_of_the_status_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The reader is swapped for a stub and a real plan (no stub MSPDI exists to read); the
    CLI, engine, store and status report are the real ones."""
    real = _plan(
        str(tmp_path / "real.xml"),
        "Real programme",
        ScheduleTask(unique_id=1, outline_level=1, name="Work", percent_complete=10.0),
    )
    stub = _stub().model_copy(update={"path": tmp_path / "vendor-stub.xml"})

    def reader(paths: Any, on_progress: Any = None) -> list[ScheduleFile]:
        return [stub, real]

    monkeypatch.setattr(connector_module, "read_schedule_files", reader)
    config = write_config(tmp_path)
    imported = run_import(config, tmp_path / "vendor-stub.xml", tmp_path / "real.xml")
    assert imported.exit_code == EXIT_OK, imported.output
    snap = snapshot(f"sqlite:///{tmp_path / 'store.db'}")
    projects = {
        snap.entities[cid][1]["name"]: snap.entities[cid][1] for cid in _projects(snap).values()
    }
    assert projects["Vendor programme"]["external"] is True
    assert projects["Vendor programme"].get("rag_computed") is None
    assert projects["Real programme"]["external"] is False
    assert projects["Real programme"]["rag_computed"] is not None
    store = Store.open(f"sqlite:///{tmp_path / 'store.db'}", migrate=False)
    try:
        names = [row["name"] for row in project_rows(store)]
    finally:
        store.close()
    assert names == ["Real programme"]


# -- no sync set up ----------------------------------------------------------------------------


def _invoke(*args: str) -> Any:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@needs_java
def test_import_without_any_config_uses_a_store_in_the_current_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PMOSYNC_CONFIG", raising=False)
    result = _invoke("import", "--json", str(RELATIONS))
    assert result.exit_code == EXIT_OK, result.output
    assert f"importing into sqlite:///{tmp_path / 'pmo-sync.db'}" in result.stderr
    assert json.loads(result.stdout)["entities"]["work_item"] == 5
    assert (tmp_path / "pmo-sync.db").exists()


@needs_java
def test_import_with_a_config_that_has_no_connections(tmp_path: Path) -> None:
    config = tmp_path / "pmo-sync.yaml"
    config.write_text(f"version: 1\nstore:\n  url: sqlite:///{tmp_path / 'archive.db'}\n")
    result = _invoke("import", "--config", str(config), "--json", str(RELATIONS))
    assert result.exit_code == EXIT_OK, result.output
    assert result.stderr == ""
    assert (tmp_path / "archive.db").exists()


def test_a_config_named_but_missing_is_still_an_error(tmp_path: Path) -> None:
    result = _invoke("import", "--config", str(tmp_path / "nope.yaml"), str(RELATIONS))
    assert result.exit_code == EXIT_CONFIG
    assert "nope.yaml" in result.output


# -- Primavera external-project stubs -----------------------------------------------------------


def _xer(
    path: Path, *projects: tuple[str, str, str], tasks: list[list[str]], preds: list[list[str]]
) -> Path:
    """A minimal P6 XER (tables and columns as P6 exports them): ``projects`` as (proj_id,
    short name, export_flag); an exported project's relationship to another project's task
    makes P6 write that project too, with export_flag N: the external-project stub."""
    rows = [
        ["ERMHDR", "20.12", "2026-11-22", "Project", "admin", "admin", "db", "PM", "USD"],
        ["%T", "PROJECT"],
        ["%F", "proj_id", "proj_short_name", "plan_start_date", "clndr_id", "export_flag"],
        *[["%R", pid, name, "2026-01-05 08:00", "1", flag] for pid, name, flag in projects],
        ["%T", "CALENDAR"],
        ["%F", "clndr_id", "default_flag", "clndr_name", "clndr_type", "day_hr_cnt", "week_hr_cnt"],
        ["%R", "1", "Y", "Standard", "CA_Base", "8", "40"],
        ["%T", "TASK"],
        ["%F", "task_id", "proj_id", "clndr_id", "task_code", "task_name", "task_type"]
        + ["target_drtn_hr_cnt", "remain_drtn_hr_cnt", "target_start_date", "target_end_date"],
        *tasks,
        ["%T", "TASKPRED"],
        ["%F", "task_pred_id", "task_id", "pred_task_id", "proj_id", "pred_proj_id", "pred_type"]
        + ["lag_hr_cnt"],
        *preds,
        ["%E"],
    ]
    path.write_text("\n".join("\t".join(row) for row in rows) + "\n")
    return path


_GAMMA_TASK = ["%R", "31", "3", "1", "G1000", "Gamma delivery", "TT_Task", "40", "40"] + [
    "2026-01-05 08:00",
    "2026-01-09 17:00",
]


def _alpha_with_stub(directory: Path) -> Path:
    return _xer(
        directory / "alpha.xer",
        ("1", "ALPHA", "Y"),
        ("3", "GAMMA", "N"),
        tasks=[
            ["%R", "12", "1", "1", "A1010", "Build", "TT_Task", "40", "40"]
            + ["2026-01-12 08:00", "2026-01-16 17:00"],
            _GAMMA_TASK,
        ],
        preds=[["%R", "3", "12", "31", "1", "3", "PR_FS", "0"]],
    )


def _gamma(directory: Path) -> Path:
    return _xer(directory / "gamma.xer", ("3", "GAMMA", "Y"), tasks=[_GAMMA_TASK], preds=[])


@needs_java
def test_a_p6_external_project_stub_is_no_portfolio_project(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    store_url = f"sqlite:///{tmp_path / 'store.db'}"
    imported = run_import(config, _alpha_with_stub(tmp_path))
    assert imported.exit_code == EXIT_OK, imported.output
    snap = snapshot(store_url)
    gamma = snap.values("files", EntityType.PROJECT, "GAMMA")
    assert gamma["external"] is True and gamma["code"] is None
    assert gamma.get("rag_computed") is None
    assert "GAMMA:31" not in snap.ids("files", EntityType.WORK_ITEM)  # the stub's task
    store = Store.open(store_url, migrate=False)
    try:
        assert [row["name"] for row in project_rows(store)] == ["ALPHA"]
    finally:
        store.close()

    # GAMMA's own export, imported later: the same project, now a real one
    later = run_import(config, _gamma(tmp_path))
    assert later.exit_code == EXIT_OK, later.output
    after = snapshot(store_url)
    assert _projects(after) == _projects(snap)  # no second GAMMA
    gamma = after.values("files", EntityType.PROJECT, "GAMMA")
    assert gamma["external"] is False and gamma["code"] == "GAMMA"
    assert "GAMMA:31" in after.ids("files", EntityType.WORK_ITEM)


@needs_java
def test_a_p6_stub_imported_with_the_real_project_links_to_its_task(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    imported = run_import(config, _alpha_with_stub(tmp_path), _gamma(tmp_path))
    assert imported.exit_code == EXIT_OK, imported.output
    assert imported.report["unresolved_references"] == 0
    snap = snapshot(f"sqlite:///{tmp_path / 'store.db'}")
    assert sorted(_projects(snap)) == ["ALPHA", "GAMMA"]
    assert snap.values("files", EntityType.PROJECT, "GAMMA")["external"] is False
    items = snap.ids("files", EntityType.WORK_ITEM)
    link = snap.values("files", EntityType.DEPENDENCY, "GAMMA:31->ALPHA:12")
    assert (link["predecessor"], link["successor"]) == (items["GAMMA:31"], items["ALPHA:12"])
    assert any("GAMMA" in n and "nothing stored" in n for n in imported.report["notices"])
