"""`pmo-sync import FILE...` end to end: the real CLI, MPXJ, the sync engine and the store.

Expected values come from the files: the MSPDI fixtures are parsed here with ElementTree, and
what the reader gave the connector is captured (not replaced) to check the store against it too.
Each `pmo-sync import` starts one MPXJ worker; the imports run once per module and the tests
read what they left behind, in order (first import, re-import, modified copy, damaged copy).
"""

from __future__ import annotations

import shutil
import time
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from pmosync.canonical_model import ENTITY_CLASSES, EntityType, PulledRecord, Quarantined
from pmosync.cli import EXIT_CONFIG, EXIT_OK, EXIT_PARTIAL, main
from pmosync.connectors.files import connector as connector_module
from pmosync.connectors.files import java_available
from pmosync.connectors.files.mapper import map_files, map_schedule_file, project_identity
from pmosync.connectors.files.model import (
    ScheduleBaseline,
    ScheduleFile,
    ScheduleLink,
    ScheduleProperties,
    ScheduleResource,
    ScheduleTask,
)
from pmosync.sync import models
from pmosync.sync.store import Store
from tests import fixture_dirs

# Real MS Project files, copied into the repository (source: tests/fixtures/msproject/README.md).
FIXTURES = fixture_dirs.MSPROJECT
IMPORTED = ("task-links-project2019-mspdi.xml", "mspdirelations.xml", "sample.xml")
# Each .mpp and the MSPDI file holding the same schedule, and whether their dates agree too:
# the task-links pair is one plan built in Project 2016 and again in 2019, on other days.
TWINS = {
    "mpp14relations.mpp": ("mspdirelations.xml", True),
    "task-links-project2016-mpp14.mpp": ("task-links-project2019-mspdi.xml", False),
}

NS = {"p": "http://schemas.microsoft.com/project"}
MSPDI_LINK_TYPES = {"0": "FF", "1": "FS", "2": "SF", "3": "SS"}

needs_java = pytest.mark.skipif(
    not java_available(), reason="no Java runtime for MPXJ (apt-get install default-jre-headless)"
)


# -- what the MSPDI files hold, read without MPXJ ------------------------------------------------


@dataclass(frozen=True)
class XmlTask:
    uid: int
    guid: str | None
    name: str | None
    wbs: str | None
    summary: bool
    milestone: bool
    start: datetime | None
    finish: datetime | None


@dataclass(frozen=True)
class XmlProject:
    identity: str
    tasks: dict[int, XmlTask]  # the project summary task (UID 0) and blank rows left out
    links: set[tuple[int, int, str, int]]  # predecessor UID, successor UID, type, lag minutes

    def external_id(self, uid: int) -> str:
        guid = self.tasks[uid].guid
        return guid.lower() if guid else f"{self.identity}:{uid}"


def _when(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def read_xml(path: Path) -> XmlProject:
    root = ET.parse(path).getroot()
    guid = root.findtext("p:GUID", None, NS)
    identity = (guid.lower() if guid else None) or root.findtext("p:Title", None, NS)
    identity = identity or root.findtext("p:Name", None, NS) or path.name
    tasks: dict[int, XmlTask] = {}
    links: set[tuple[int, int, str, int]] = set()
    for task in root.findall("p:Tasks/p:Task", NS):

        def text(name: str, task: ET.Element = task) -> str | None:
            return task.findtext(f"p:{name}", None, NS)

        uid = int(text("UID") or -1)
        if uid == 0 or text("IsNull") == "1" or text("OutlineLevel") == "0":
            continue
        tasks[uid] = XmlTask(
            uid=uid,
            guid=text("GUID"),
            name=text("Name"),
            wbs=text("WBS"),
            summary=text("Summary") == "1",
            milestone=text("Milestone") == "1",
            start=_when(text("Start")),
            finish=_when(text("Finish")),
        )
        for link in task.findall("p:PredecessorLink", NS):
            lag_tenths = int(link.findtext("p:LinkLag", "0", NS))
            links.add(
                (
                    int(link.findtext("p:PredecessorUID", "", NS)),
                    uid,
                    MSPDI_LINK_TYPES[link.findtext("p:Type", "1", NS)],
                    lag_tenths // 10,
                )
            )
    return XmlProject(identity, tasks, links)


def due_day(moment: datetime | None) -> str | None:
    """The inclusive last day of a finish instant: midnight belongs to the day before."""
    if moment is None:
        return None
    if moment.time() == datetime.min.time():
        moment -= timedelta(days=1)
    return moment.date().isoformat()


# -- running the CLI and reading the store -------------------------------------------------------


@dataclass
class Workspace:
    config: Path
    store_url: str
    read: list[list[ScheduleFile]]  # what read_schedule_files returned, one list per import


@dataclass
class Imported:
    exit_code: int
    report: dict[str, Any]
    output: str
    seconds: float


def write_config(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    config = directory / "pmo-sync.yaml"
    # One Airtable connection because a config needs one; an import never contacts it.
    config.write_text(
        "version: 1\n"
        f"store:\n  url: sqlite:///{directory / 'store.db'}\n"
        "connections:\n"
        "  pmo:\n    kind: airtable\n    base_id: appAAAAAAAAAAAAAA\n    token_env: PMO_TOKEN\n"
    )
    return config


def run_import(config: Path, *files: Path, as_name: str | None = None) -> Imported:
    args = ["import", "--config", str(config), "--json", *map(str, files)]
    if as_name:
        args[1:1] = ["--as", as_name]
    started = time.perf_counter()
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    seconds = time.perf_counter() - started
    stdout = result.stdout
    report: dict[str, Any] = {}
    if stdout.lstrip().startswith("{"):
        import json

        report = json.loads(stdout)
    return Imported(result.exit_code, report, result.output, seconds)


@dataclass(frozen=True)
class Snapshot:
    entities: dict[str, tuple[str, dict[str, Any], Any]]  # id -> type, values, updated_at
    links: dict[tuple[str, str, str], dict[str, Any]]  # (connection, type, external id) -> row

    def ids(self, connection: str, entity_type: EntityType) -> dict[str, str]:
        """external id -> canonical id."""
        return {
            ext: row["canonical_id"]
            for (conn, etype, ext), row in self.links.items()
            if conn == connection and etype == entity_type.value
        }

    def of_project(self, connection: str, identity: str, entity_type: EntityType) -> list[str]:
        """External ids of one project's records (work items and milestones by pointer)."""
        return [
            ext
            for (conn, etype, ext), row in self.links.items()
            if conn == connection
            and etype == entity_type.value
            and row["pointers"].get("project") == identity
        ]

    def values(self, connection: str, entity_type: EntityType, external_id: str) -> dict[str, Any]:
        row = self.links[(connection, entity_type.value, external_id)]
        return self.entities[row["canonical_id"]][1]


def _source_values(row: tuple[str, dict[str, Any], Any]) -> dict[str, Any]:
    computed = ENTITY_CLASSES[EntityType(row[0])].computed
    return {k: v for k, v in row[1].items() if k not in computed}


def snapshot(store_url: str) -> Snapshot:
    store = Store.open(store_url, migrate=False)
    try:
        with store.sessions() as session:
            entities = {
                e.id: (e.entity_type, e.values, e.updated_at)
                for e in session.scalars(select(models.Entity))
            }
            links = {
                (lk.connection, lk.entity_type, lk.external_id): {
                    column.name: getattr(lk, column.name) for column in models.Link.__table__.c
                }
                for lk in session.scalars(select(models.Link))
            }
            return Snapshot(entities, links)
    finally:
        store.close()


def quarantine_rows(store_url: str) -> list[models.QuarantinedRecord]:
    store = Store.open(store_url, migrate=False)
    try:
        with store.sessions() as session:
            return list(session.scalars(select(models.QuarantinedRecord)))
    finally:
        store.close()


@pytest.fixture(scope="module")
def spy() -> Iterator[list[list[ScheduleFile]]]:
    """Records what the real reader hands the connector (one entry per import)."""
    calls: list[list[ScheduleFile]] = []
    real = connector_module.read_schedule_files

    def recording(paths: Any, on_progress: Any = None) -> list[ScheduleFile]:
        files = real(paths, on_progress=on_progress)
        calls.append(files)
        return files

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(connector_module, "read_schedule_files", recording)
        yield calls


@dataclass
class History:
    """The store after each step of one workspace's imports."""

    workspace: Workspace
    first: Imported
    after_first: Snapshot
    again: Imported
    after_again: Snapshot
    copy: Path
    modified: Imported
    after_modified: Snapshot
    damaged: Imported
    after_damaged: Snapshot
    missing: Path


def _modify(copy: Path) -> None:
    """A later save of mspdirelations.xml: one task renamed, one lag doubled, LastSaved moved."""
    tree = ET.parse(copy)
    root = tree.getroot()
    for task in root.findall("p:Tasks/p:Task", NS):
        if task.findtext("p:UID", None, NS) == "3":
            name = task.find("p:Name", NS)
            assert name is not None
            name.text = "Task 3 (renamed)"
            for link in task.findall("p:PredecessorLink", NS):
                lag = link.find("p:LinkLag", NS)
                assert lag is not None and lag.text == "4800"  # the SS+1d link into UID 3
                lag.text = "9600"
    saved = root.find("p:LastSaved", NS)
    assert saved is not None
    saved.text = "2009-02-01T09:30:00"
    ET.register_namespace("", NS["p"])
    tree.write(copy, xml_declaration=True, encoding="UTF-8")


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory, spy: list[list[ScheduleFile]]) -> History:
    if not java_available():
        pytest.skip("no Java runtime for MPXJ")
    directory = tmp_path_factory.mktemp("import")
    config = write_config(directory)
    workspace = Workspace(config, f"sqlite:///{directory / 'store.db'}", spy)
    files = [FIXTURES / name for name in IMPORTED]

    first = run_import(config, *files)
    after_first = snapshot(workspace.store_url)
    again = run_import(config, *files)
    after_again = snapshot(workspace.store_url)

    copy = directory / "exports" / "relations-v2.xml"
    copy.parent.mkdir()
    shutil.copy(FIXTURES / "mspdirelations.xml", copy)
    _modify(copy)
    modified = run_import(config, copy)
    after_modified = snapshot(workspace.store_url)

    # The same path, now damaged (a half-written export), with a file that is not there.
    copy.write_bytes(copy.read_bytes()[:4000])
    missing = directory / "exports" / "gone.xml"
    damaged = run_import(config, copy, missing)
    after_damaged = snapshot(workspace.store_url)
    return History(
        workspace,
        first,
        after_first,
        again,
        after_again,
        copy,
        modified,
        after_modified,
        damaged,
        after_damaged,
        missing,
    )


# -- first import ------------------------------------------------------------------------------


@needs_java
def test_first_import_stores_every_task_milestone_and_link(history: History) -> None:
    first = history.first
    assert first.exit_code == EXIT_OK, first.output
    report = first.report
    conn = report["connections"]["files"]
    assert (report["status"], conn["status"], conn["kind"]) == ("ok", "ok", "files")
    assert conn["quarantined"] == 0 and report["quarantined"] == []
    assert report["plan"] == [] and conn["writes_planned"] == 0 and conn["api_calls"] == 0
    assert report["unresolved_references"] == 0
    assert len(conn["scopes"]) == 3
    assert all(s.startswith("file:") for s in conn["scopes"])

    snap = history.after_first
    read = history.workspace.read[0]
    assert [f.path.name for f in read] == list(IMPORTED)
    assert all(f.ok for f in read)
    # One worker process read the three files.
    assert len({f.worker_pid for f in read}) == 1

    totals: Counter[str] = Counter()
    for sf in read:
        xml = read_xml(FIXTURES / sf.path.name)
        identity = project_identity(sf)
        assert identity == xml.identity
        items = set(snap.of_project("files", identity, EntityType.WORK_ITEM))
        milestones = set(snap.of_project("files", identity, EntityType.MILESTONE))
        expected_items = {xml.external_id(uid) for uid in xml.tasks}
        assert items == expected_items, sf.path.name
        # ... which is what the reader gave, less the project summary task
        assert len(items) == len([t for t in sf.tasks if t.outline_level != 0])

        kinds = Counter(snap.values("files", EntityType.WORK_ITEM, ext)["kind"] for ext in items)
        assert kinds["summary"] == sum(t.summary for t in xml.tasks.values())
        xml_milestones = {
            xml.external_id(t.uid) for t in xml.tasks.values() if t.milestone and not t.summary
        }
        assert kinds["milestone"] == len(xml_milestones)
        assert milestones == xml_milestones  # the same external ids as the work items
        assert len(milestones) == sum(t.milestone and not t.summary for t in sf.tasks)

        for uid, task in xml.tasks.items():
            values = snap.values("files", EntityType.WORK_ITEM, xml.external_id(uid))
            assert values["name"] == task.name
            assert values["key"] == task.wbs
            assert values["start"] == (task.start.date().isoformat() if task.start else None)
            assert values["due"] == due_day(task.finish), (sf.path.name, uid)
        totals["work_item"] += len(items)
        totals["milestone"] += len(milestones)
        totals["dependency"] += len(xml.links)
        totals["project"] += 1

    counts = report["entities"]
    for entity_type in ("work_item", "milestone", "dependency", "project"):
        assert counts[entity_type] == totals[entity_type], entity_type
    assert (totals["work_item"], totals["milestone"], totals["dependency"]) == (40, 1, 18)


@needs_java
def test_every_link_keeps_its_type_and_lag(history: History) -> None:
    snap = history.after_first
    items = snap.ids("files", EntityType.WORK_ITEM)
    for name, sf in zip(IMPORTED, history.workspace.read[0], strict=True):
        xml = read_xml(FIXTURES / name)
        stored: set[tuple[int, int, str, int]] = set()
        uid_of = {xml.external_id(uid): uid for uid in xml.tasks}
        for (conn, etype, _), row in snap.links.items():
            if conn != "files" or etype != "dependency":
                continue
            pred, succ = row["pointers"]["predecessor"], row["pointers"]["successor"]
            if pred not in uid_of:
                continue
            entity = snap.entities[row["canonical_id"]][1]
            # the canonical record points at the canonical work items
            assert entity["predecessor"] == items[pred] and entity["successor"] == items[succ]
            assert entity["dependency_class"] == "logic"
            stored.add((uid_of[pred], uid_of[succ], entity["link_type"], entity["lag_minutes"]))
        assert stored == xml.links, name
        from_reader = {
            (lk.predecessor_unique_id, lk.successor_unique_id, lk.type, int(lk.lag_minutes or 0))
            for lk in sf.links
        }
        assert stored == from_reader, name
    # The 2019 file's eight links, as MS Project shows them: FS+0d ... FF+2d.
    links = read_xml(FIXTURES / "task-links-project2019-mspdi.xml").links
    assert sorted((t, lag) for _, _, t, lag in links) == [
        ("FF", 960),
        ("FS", 0),
        ("FS", 480),
        ("FS", 960),
        ("FS", 2400),
        ("FS", 4800),
        ("SF", 960),
        ("SS", 960),
    ]


@needs_java
def test_people_assignees_parents_and_the_project(history: History) -> None:
    snap = history.after_first
    sample = read_xml(FIXTURES / "sample.xml")
    project = snap.values("files", EntityType.PROJECT, "sample")
    assert project["name"] == project["code"] == "sample"  # no code field: the title
    assert (project["planned_start"], project["planned_finish"]) == ("2003-01-07", "2003-03-18")
    people = snap.ids("files", EntityType.PERSON)
    assert {snap.entities[c][1]["name"] for c in people.values()} == {
        "First Resource",
        "Second Resource",
    }
    # Task 2 has both resources; Second Resource carries more work (300 h against 200 h).
    second = snap.values("files", EntityType.WORK_ITEM, sample.external_id(2))
    assert second["assignee"] == people["sample:resource:2"]
    assert second["parent"] == snap.ids("files", EntityType.WORK_ITEM)[sample.external_id(1)]
    assert second["project"] == snap.ids("files", EntityType.PROJECT)["sample"]
    milestone = snap.values("files", EntityType.MILESTONE, sample.external_id(3))
    assert milestone["name"] == "Third task" and milestone["due"] == "2003-01-07"
    # A file without title or GUID is known by its <Name>; one with a GUID by the GUID.
    assert "mspdirelations.xml" in snap.ids("files", EntityType.PROJECT)
    assert "26172537-dbd2-e811-ac3f-4cedde6e5b57" in snap.ids("files", EntityType.PROJECT)


# -- idempotency and updates ---------------------------------------------------------------------


@needs_java
def test_reimporting_the_same_files_changes_nothing(history: History) -> None:
    again = history.again
    assert again.exit_code == EXIT_OK, again.output
    # Every row as it was, down to updated_at: nothing was rewritten.
    assert history.after_again == history.after_first
    conn = again.report["connections"]["files"]
    assert conn["pulled"] == history.first.report["connections"]["files"]["pulled"]
    assert conn["scopes"] == history.first.report["connections"]["files"]["scopes"]
    assert again.report["entities"] == history.first.report["entities"]
    assert again.report["conflicts"] == [] and again.report["plan"] == []
    assert again.report["quarantined"] == []


@needs_java
def test_a_later_save_of_a_file_updates_exactly_what_changed(history: History) -> None:
    modified = history.modified
    assert modified.exit_code == EXIT_OK, modified.output
    before, after = history.after_again, history.after_modified
    assert after.entities.keys() == before.entities.keys()  # nothing new, nothing lost
    assert after.links.keys() == before.links.keys()

    relations = read_xml(FIXTURES / "mspdirelations.xml")
    task3 = relations.external_id(3)
    link23 = f"{relations.external_id(2)}->{task3}"
    # what the file says; computed fields (the CPM's forecasts) follow the new lag too
    changed = {
        cid
        for cid, row in after.entities.items()
        if _source_values(row) != _source_values(before.entities[cid])
    }
    items = after.ids("files", EntityType.WORK_ITEM)
    deps = after.ids("files", EntityType.DEPENDENCY)
    assert changed == {items[task3], deps[link23]}
    assert after.values("files", EntityType.WORK_ITEM, task3)["name"] == "Task 3 (renamed)"
    assert after.values("files", EntityType.DEPENDENCY, link23)["lag_minutes"] == 960
    assert after.values("files", EntityType.DEPENDENCY, link23)["link_type"] == "SS"

    # external_key of the project: its plan signature, which names the path it was read from
    project_key = ("files", "project", "mspdirelations.xml")
    assert str(history.copy) in after.links[project_key]["external_key"]
    provenance = {
        "version_token",
        "source_modified_at",
        "fetched_at",
        "content_hash",
        "external_key",
    }
    content_changed = {
        key
        for key, row in after.links.items()
        if {k: v for k, v in row.items() if k not in provenance}
        != {k: v for k, v in before.links[key].items() if k not in provenance}
    }
    assert content_changed == {
        ("files", "work_item", task3),
        ("files", "dependency", link23),
    }
    # Every record of that project now carries the new save's token; the others keep theirs.
    [sf] = history.workspace.read[2]
    token_changed = {
        key
        for key, row in after.links.items()
        if row["version_token"] != before.links[key]["version_token"]
    }
    assert len(token_changed) == 1 + len(relations.tasks) + len(relations.links) + len(sf.calendars)
    assert sf.calendars, "the file's calendar was not read"
    for key in token_changed:
        assert after.links[key]["version_token"].startswith(f"{sf.sha256}:2009-02-01T09:30:00")
    # LastSaved, read as UTC (MSPDI carries no zone)
    assert after.links[("files", "project", "mspdirelations.xml")]["source_modified_at"].replace(
        tzinfo=None
    ) == datetime(2009, 2, 1, 9, 30)


@needs_java
def test_a_damaged_or_missing_file_is_reported_and_blanks_nothing(history: History) -> None:
    damaged = history.damaged
    report = damaged.report
    assert damaged.exit_code == EXIT_PARTIAL, damaged.output  # nothing of them imported
    conn = report["connections"]["files"]
    assert conn["status"] == "ok" and conn["pulled"] == 0 and conn["quarantined"] == 2
    reasons = {q["external_id"]: q["reason"] for q in report["quarantined"]}
    assert set(reasons) == {str(history.copy), str(history.missing)}
    assert str(history.copy) in reasons[str(history.copy)]
    assert "no such file" in reasons[str(history.missing)]
    assert all(q["entity_type"] == "project" for q in report["quarantined"])
    # What the earlier save of that path imported is all still there, unchanged.
    assert history.after_damaged == history.after_modified
    stored = {(q.external_id, q.reason) for q in quarantine_rows(history.workspace.store_url)}
    assert (str(history.missing), reasons[str(history.missing)]) in stored


# -- .mpp files, and bad files among good ones ---------------------------------------------------


def _shape(snap: Snapshot, connection: str, identity: str, *, dates: bool) -> tuple[Any, ...]:
    """A project's structure without ids: tasks by WBS code, with dates; links between codes."""
    wbs: dict[str, str] = {}  # canonical id -> WBS code
    rows: list[dict[str, Any]] = []
    for ext in snap.of_project(connection, identity, EntityType.WORK_ITEM):
        values = snap.values(connection, EntityType.WORK_ITEM, ext)
        wbs[snap.links[(connection, "work_item", ext)]["canonical_id"]] = values["key"]
        rows.append(values)
    tasks = {
        v["key"]: (v["name"], v["kind"], wbs.get(v.get("parent") or ""))
        + ((v["start"], v["due"]) if dates else ())
        for v in rows
    }
    links = set()
    for (conn, etype, _), row in snap.links.items():
        values = snap.entities[row["canonical_id"]][1]
        if conn == connection and etype == "dependency" and values["predecessor"] in wbs:
            ends = (wbs[values["predecessor"]], wbs[values["successor"]])
            links.add((*ends, values["link_type"], values["lag_minutes"]))
    milestones = len(snap.of_project(connection, identity, EntityType.MILESTONE))
    return tasks, links, milestones


# A two-project Primavera XER whose projects share a link, in the layout P6 exports.
_XER_ROWS = [
    ["ERMHDR", "20.12", "2026-11-22", "Project", "admin", "admin", "db", "PM", "USD"],
    ["%T", "PROJECT"],
    ["%F", "proj_id", "proj_short_name", "plan_start_date", "clndr_id"],
    ["%R", "1", "ALPHA", "2026-01-05 08:00", "1"],
    ["%R", "2", "BETA", "2026-01-05 08:00", "1"],
    ["%T", "CALENDAR"],
    ["%F", "clndr_id", "default_flag", "clndr_name", "clndr_type", "day_hr_cnt", "week_hr_cnt"],
    ["%R", "1", "Y", "Standard", "CA_Base", "8", "40"],
    ["%T", "TASK"],
    ["%F", "task_id", "proj_id", "clndr_id", "task_code", "task_name", "task_type"]
    + ["target_drtn_hr_cnt", "remain_drtn_hr_cnt", "target_start_date", "target_end_date"],
    ["%R", "11", "1", "1", "A1000", "Design", "TT_Task", "16", "16"]
    + ["2026-01-05 08:00", "2026-01-06 17:00"],
    ["%R", "12", "1", "1", "A1010", "Build", "TT_Task", "40", "40"]
    + ["2026-01-07 08:00", "2026-01-13 17:00"],
    ["%R", "21", "2", "1", "B1000", "Test", "TT_Task", "24", "24"]
    + ["2026-01-14 08:00", "2026-01-16 17:00"],
    ["%R", "22", "2", "1", "B1010", "Launch", "TT_FinMile", "0", "0"]
    + ["2026-01-16 17:00", "2026-01-16 17:00"],
    ["%T", "TASKPRED"],
    ["%F", "task_pred_id", "task_id", "pred_task_id", "proj_id", "pred_proj_id", "pred_type"]
    + ["lag_hr_cnt"],
    ["%R", "1", "12", "11", "1", "1", "PR_SS", "8"],
    ["%R", "2", "22", "21", "2", "2", "PR_FF", "-4"],
    ["%R", "3", "21", "12", "2", "1", "PR_FS", "0"],  # ALPHA's Build drives BETA's Test
    ["%E"],
]


@dataclass
class Archive:
    imported: Imported
    snap: Snapshot
    read: list[ScheduleFile]
    junk: Path
    missing: Path


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory, spy: list[list[ScheduleFile]]) -> Archive:
    """One import of the .mpp files, a P6 XER, a file that is no schedule and a missing one."""
    if not java_available():
        pytest.skip("no Java runtime for MPXJ")
    directory = tmp_path_factory.mktemp("archive")
    config = write_config(directory)
    junk = directory / "minutes.mpp"
    junk.write_bytes(b"Steering committee minutes, not a schedule.\n" * 40)
    missing = directory / "never-exported.mpp"
    xer = directory / "alpha-beta.xer"
    xer.write_text("\n".join("\t".join(row) for row in _XER_ROWS) + "\n")
    mpp = [FIXTURES / name for name in TWINS]
    imported = run_import(config, mpp[0], junk, missing, xer, mpp[1], as_name="archive")
    snap = snapshot(f"sqlite:///{directory / 'store.db'}")
    return Archive(imported, snap, spy[-1], junk, missing)


@needs_java
def test_a_bad_or_missing_file_is_named_and_the_others_import(archive: Archive) -> None:
    imported = archive.imported
    assert imported.exit_code == EXIT_PARTIAL, imported.output  # two files did not import
    conn = imported.report["connections"]["archive"]
    assert conn["status"] == "ok" and conn["quarantined"] == 2
    reasons = {q["external_id"]: q["reason"] for q in imported.report["quarantined"]}
    assert set(reasons) == {str(archive.junk), str(archive.missing)}
    assert all(path in reason for path, reason in reasons.items())
    assert "not a schedule" in reasons[str(archive.junk)]
    assert imported.report["entities"]["project"] == 4  # two .mpp, two XER projects
    assert len(conn["scopes"]) == 5  # one per file, the failed ones too


@needs_java
def test_mpp_files_map_like_their_mspdi_twins(archive: Archive, history: History) -> None:
    read = {sf.path.name: sf for sf in archive.read}
    for mpp_name, (xml_name, dates) in TWINS.items():
        identity = project_identity(read[mpp_name])
        xml_identity = read_xml(FIXTURES / xml_name).identity
        mpp_shape = _shape(archive.snap, "archive", identity, dates=dates)
        xml_shape = _shape(history.after_first, "files", xml_identity, dates=dates)
        assert mpp_shape == xml_shape, mpp_name
        assert mpp_shape[1], "no links compared"


@needs_java
def test_a_link_between_two_projects_of_an_xer_joins_them(archive: Archive) -> None:
    snap = archive.snap
    assert archive.imported.report["unresolved_references"] == 0
    items = snap.ids("archive", EntityType.WORK_ITEM)
    assert {"ALPHA:11", "ALPHA:12", "BETA:21", "BETA:22"} <= items.keys()
    assert set(snap.of_project("archive", "BETA", EntityType.WORK_ITEM)) == {"BETA:21", "BETA:22"}
    assert snap.of_project("archive", "BETA", EntityType.MILESTONE) == ["BETA:22"]
    links = {}
    for ext in ("ALPHA:11->ALPHA:12", "BETA:21->BETA:22", "ALPHA:12->BETA:21"):
        values = snap.values("archive", EntityType.DEPENDENCY, ext)
        pred, succ = ext.split("->")
        assert (values["predecessor"], values["successor"]) == (items[pred], items[succ])
        links[ext] = (values["link_type"], values["lag_minutes"])
    assert links == {
        "ALPHA:11->ALPHA:12": ("SS", 480),
        "BETA:21->BETA:22": ("FF", -240),
        "ALPHA:12->BETA:21": ("FS", 0),
    }
    xer_deps = [
        k for k in snap.links if k[1] == "dependency" and k[2].startswith(("ALPHA", "BETA"))
    ]
    assert len(xer_deps) == 3  # the link both projects list is stored once


# -- no Java -------------------------------------------------------------------------------------


def test_without_java_the_import_fails_saying_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No JVM to be found: the reader's own check fails (JPype's finder is what is patched,
    since it also looks in /usr/lib/jvm, which PATH and JAVA_HOME cannot hide)."""
    jpype = pytest.importorskip("jpype")

    def no_jvm() -> str:
        raise jpype.JVMNotFoundException("No JVM shared library file (libjvm.so) found.")

    monkeypatch.setattr(jpype, "getDefaultJVMPath", no_jvm)
    monkeypatch.setenv("JAVA_HOME", str(tmp_path / "no-jdk"))
    config = write_config(tmp_path)
    imported = run_import(config, FIXTURES / "sample.xml")
    assert imported.exit_code == EXIT_CONFIG, imported.output
    conn = imported.report["connections"]["files"]
    assert (conn["status"], conn["error_kind"]) == ("failed", "config")
    assert "needs Java" in conn["error"] and "default-jre-headless" in conn["error"]
    assert "JAVA_HOME" in conn["error"]
    assert imported.report["entities"] == {}


# -- the mapper on its own (no Java) -------------------------------------------------------------

PROPS: dict[str, Any] = {"minutes_per_day": 480, "minutes_per_week": 2400, "days_per_month": 20}


def _file(
    path: str,
    *,
    tasks: tuple[ScheduleTask, ...] = (),
    links: tuple[ScheduleLink, ...] = (),
    saved: datetime | None = datetime(2026, 1, 1, 9, 0),
    index: int = 0,
    **props: Any,
) -> ScheduleFile:
    return ScheduleFile(
        path=Path(path),
        sha256="ab" * 32,
        project_index=index,
        properties=ScheduleProperties(last_saved=saved, **PROPS, **props),
        tasks=(ScheduleTask(unique_id=0, outline_level=0, summary=True, name="Plan"), *tasks),
        links=links,
    )


def _task(uid: int, **kw: Any) -> ScheduleTask:
    return ScheduleTask(unique_id=uid, outline_level=1, name=f"T{uid}", **kw)


def _link(pred: int, succ: int, **kw: Any) -> ScheduleLink:
    values: dict[str, Any] = {
        "type": "FS",
        "lag_minutes": 0.0,
        "lag_value": 0.0,
        "lag_unit": "DAYS",
    }
    values.update(kw)
    return ScheduleLink(predecessor_unique_id=pred, successor_unique_id=succ, **values)


def _pulled(records: Iterable[PulledRecord | Quarantined]) -> list[PulledRecord]:
    return [r for r in records if isinstance(r, PulledRecord)]


def _by_type(records: list[Any]) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    for record in records:
        key = "quarantined" if isinstance(record, Quarantined) else record.ref.entity_type.value
        out.setdefault(key, []).append(record)
    return out


def test_identity_falls_back_from_guid_to_title_name_and_file_name() -> None:
    assert project_identity(_file("a.xml", guid="{ABC-1}", title="T", name="n.xml")) == "abc-1"
    assert project_identity(_file("a.xer", project_id="ALPHA", title="T")) == "ALPHA"
    assert project_identity(_file("a.xml", title="Roadmap", name="n.xml")) == "Roadmap"
    assert project_identity(_file("a.xml", name="n.xml")) == "n.xml"
    assert project_identity(_file("dir/a.mpp")) == "a.mpp"
    zero = "00000000-0000-0000-0000-000000000000"
    assert project_identity(_file("a.mpp", guid=zero, title="T")) == "T"


def test_code_field_dates_milestone_and_inactive_task() -> None:
    summary = ScheduleTask(
        unique_id=0, outline_level=0, summary=True, custom_fields={"Project Code": " PRJ-7 "}
    )
    milestone = _task(
        2,
        milestone=True,
        guid="5E3D-AA",
        start=datetime(2026, 3, 2, 8),
        finish=datetime(2026, 3, 3, 0, 0),
        percent_complete=100.0,
        baselines=(ScheduleBaseline(number=0, finish=datetime(2026, 2, 27, 17)),),
    )
    sf = _file("p.xml", title="Roadmap", tasks=(milestone, _task(3, active=False)))
    sf = sf.model_copy(update={"tasks": (summary, *sf.tasks[1:])})
    records = _by_type(map_schedule_file(sf, connection="f"))
    [project] = records["project"]
    assert project.values["code"] == "PRJ-7" and project.values["name"] == "Roadmap"
    # LastSaved has no zone in the file; it is read as UTC
    assert project.ref.source_modified_at == datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
    assert project.ref.version_token == f"{'ab' * 32}:2026-01-01T09:00:00+00:00"
    items = {r.ref.external_id: r for r in records["work_item"]}
    assert set(items) == {"5e3d-aa", "Roadmap:3"}
    assert items["5e3d-aa"].values["kind"] == "milestone"
    assert items["5e3d-aa"].values["start"] == "2026-03-02"
    assert items["5e3d-aa"].values["due"] == "2026-03-02"  # midnight ends the previous day
    assert items["Roadmap:3"].values["status"] == "cancelled"
    [ms] = records["milestone"]
    assert ms.ref.external_id == "5e3d-aa"
    assert ms.values["done"] is True and ms.values["baseline_due"] == "2026-02-27"
    assert ms.pointers["project"].external_id == "Roadmap"


def test_links_to_placeholders_are_quarantined_and_percentage_lags_kept() -> None:
    sf = _file(
        "p.xml",
        title="P",
        tasks=(_task(1), _task(2), _task(9, external=True)),
        links=(
            _link(1, 2, type="SS", lag_minutes=240.4, lag_value=0.5, lag_unit="DAYS"),
            _link(9, 2),
            _link(2, 1, type="FF", lag_minutes=None, lag_value=50.0, lag_unit="PERCENT"),
            _link(2, 9, lag_minutes=None, lag_value=1.0, lag_unit="FORTNIGHTS"),
            _link(1, 3),
        ),
    )
    records = _by_type(map_schedule_file(sf, connection="f"))
    deps = {d.ref.external_id: d.values for d in records["dependency"]}
    assert deps["P:1->P:2"] == {
        "link_type": "SS",
        "lag_minutes": 240,
        "lag_percent": None,
        "lag_elapsed": False,
        "dependency_class": "logic",
        "origin": "schedule_link",
    }
    # a percentage of a predecessor without a duration: the percentage is what counts
    assert deps["P:2->P:1"]["lag_percent"] == "50"
    assert deps["P:2->P:1"]["lag_minutes"] == 0
    assert {w.ref.external_id for w in records["work_item"]} == {"P:1", "P:2"}  # not UID 9
    reasons = sorted(q.reason for q in records["quarantined"])
    assert "p.xml: link UID 1 -> UID 3: UID 3 is a task that is not in the file" in reasons[0]
    assert "UID 9 is a placeholder of another project's task" in reasons[1]
    assert "UID 9 is a placeholder of another project's task" in reasons[2]


def test_one_project_in_two_files_keeps_the_later_save() -> None:
    old = _file("/x/plan-v1.xml", title="Plan", tasks=(_task(1),), saved=datetime(2026, 1, 1))
    new = _file("/x/plan-v2.xml", title="Plan", tasks=(_task(1),), saved=datetime(2026, 2, 1))
    mapped = map_files([new, old], connection="f")
    assert [type(r) for r in mapped[Path("/x/plan-v1.xml")]] == [Quarantined]
    [reason] = [q.reason for q in mapped[Path("/x/plan-v1.xml")] if isinstance(q, Quarantined)]
    assert "/x/plan-v1.xml" in reason and "/x/plan-v2.xml" in reason and "saved later" in reason
    kept = mapped[Path("/x/plan-v2.xml")]
    assert all(isinstance(r, PulledRecord) for r in kept) and len(kept) == 2


def test_a_link_between_two_projects_of_one_xer_is_stored_once() -> None:
    alpha = _file(
        "two.xer",
        project_id="ALPHA",
        tasks=(_task(11),),
        links=(_link(11, 21, other_project_index=1),),
        index=0,
    )
    beta = _file(
        "two.xer",
        project_id="BETA",
        tasks=(_task(21),),
        links=(_link(11, 21, other_project_index=0),),
        index=1,
    )
    mapped = map_files([alpha, beta], connection="f")[Path("two.xer")]
    deps = [r for r in _pulled(mapped) if r.ref.entity_type is EntityType.DEPENDENCY]
    assert [d.ref.external_id for d in deps] == ["ALPHA:11->BETA:21"]
    assert deps[0].pointers["predecessor"].external_id == "ALPHA:11"
    assert not [r for r in mapped if isinstance(r, Quarantined)]


def test_a_resource_shared_by_two_files_is_one_person() -> None:
    shared = ScheduleResource(unique_id=4, guid="AB-CD", name="Ana", email="ana@example.org")
    a = _file("a.xml", title="A").model_copy(update={"resources": (shared,)})
    b = _file("b.xml", title="B").model_copy(update={"resources": (shared,)})
    mapped = map_files([a, b], connection="f")
    every = _pulled(r for records in mapped.values() for r in records)
    people = [r for r in every if r.ref.entity_type is EntityType.PERSON]
    assert [p.ref.external_id for p in people] == ["ab-cd"]
    assert people[0].values == {"name": "Ana", "email": "ana@example.org"}


def test_dates_only_start_from_the_day_they_fall_on() -> None:
    sf = _file(
        "p.xml",
        title="P",
        tasks=(_task(1, start=datetime(2026, 5, 4, 23, 59), finish=datetime(2026, 5, 5, 0, 1)),),
    )
    [item] = [
        r
        for r in _pulled(map_schedule_file(sf, connection="f"))
        if r.ref.entity_type is EntityType.WORK_ITEM
    ]
    assert (item.values["start"], item.values["due"]) == ("2026-05-04", "2026-05-05")
    assert date.fromisoformat(item.values["due"]) - date.fromisoformat(item.values["start"]) == (
        timedelta(days=1)
    )
