"""`pmo-sync import` keeps the whole schedule: every fixture imported once through the real CLI,
MPXJ and the store, then each loss the issue listed checked against the files themselves.

Expected values come from the MSPDI XML (parsed here with ElementTree) or, for what the XML
cannot say without re-implementing MPXJ (custom field keys, calendars), from what the real
reader handed the connector (captured, not replaced).
"""

from __future__ import annotations

import shutil
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from pmosync.canonical_model import EntityType
from pmosync.cli import EXIT_OK
from pmosync.connectors.files import connector as connector_module
from pmosync.connectors.files import java_available
from pmosync.connectors.files.mapper import (
    CONSTRAINT_TYPES,
    calendar_external_id,
    project_identity,
    task_external_id,
)
from pmosync.connectors.files.model import ScheduleFile
from tests.files.test_files_import import (
    FIXTURES,
    NS,
    Imported,
    Snapshot,
    run_import,
    snapshot,
    write_config,
)

needs_java = pytest.mark.skipif(
    not java_available(), reason="no Java runtime for MPXJ (apt-get install default-jre-headless)"
)
MSPDI = sorted(p.name for p in FIXTURES.iterdir() if p.suffix == ".xml")
MPP = sorted(p.name for p in FIXTURES.iterdir() if p.suffix == ".mpp")
MASTER = FIXTURES / "hand-made" / "master-plan.xml"
# MSPDI ConstraintType codes (Microsoft's schema) -> canonical abbreviations
MSPDI_CONSTRAINTS = {
    "0": "ASAP",
    "1": "ALAP",
    "2": "MSO",
    "3": "MFO",
    "4": "SNET",
    "5": "SNLT",
    "6": "FNET",
    "7": "FNLT",
}


def _minutes(duration: str | None) -> Decimal | None:
    """MSPDI's PT8H30M0S as minutes."""
    if not duration:
        return None
    body = duration.removeprefix("-").removeprefix("PT")
    hours, rest = body.split("H")
    minutes, seconds = rest.split("M")
    total = Decimal(hours) * 60 + Decimal(minutes) + Decimal(seconds.rstrip("S")) / 60
    return -total if duration.startswith("-") else total


def _num(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def _when(text: str | None) -> str | None:
    return datetime.fromisoformat(text).isoformat() if text else None


def xml_tasks(path: Path) -> dict[int, ET.Element]:
    root = ET.parse(path).getroot()
    return {
        int(t.findtext("p:UID", "-1", NS)): t
        for t in root.findall("p:Tasks/p:Task", NS)
        if t.findtext("p:OutlineLevel", None, NS) != "0"
        and t.findtext("p:UID", None, NS) != "0"
        and t.findtext("p:IsNull", None, NS) != "1"
    }


def _cost_only_baselines(directory: Path) -> Path:
    """baselines.xml with baseline 3 of task 1 holding only its cost, and baseline 7 only
    its work: the reader used to drop both (it kept a baseline only when it had dates)."""
    copy = directory / "baselines-partial.xml"
    shutil.copy(FIXTURES / "baselines.xml", copy)
    tree = ET.parse(copy)
    root = tree.getroot()
    title = root.find("p:Title", NS)
    assert title is not None
    title.text = "Partial baselines"  # another plan, not a later save of baselines.xml
    for task in root.findall("p:Tasks/p:Task", NS):
        if task.findtext("p:UID", None, NS) != "1":
            continue
        for baseline in task.findall("p:Baseline", NS):
            keep = {"3": {"Number", "Cost"}, "7": {"Number", "Work"}}.get(
                baseline.findtext("p:Number", "", NS)
            )
            if keep is None:
                continue
            for child in list(baseline):
                if child.tag.split("}")[1] not in keep:
                    baseline.remove(child)
    ET.register_namespace("", NS["p"])
    tree.write(copy, xml_declaration=True, encoding="UTF-8")
    return copy


@dataclass
class Everything:
    imported: Imported
    snap: Snapshot
    again: Imported
    snap_again: Snapshot
    read: dict[str, ScheduleFile]  # file name -> what the reader gave
    partial: Path

    def values(self, entity_type: EntityType, external_id: str) -> dict[str, Any]:
        return self.snap.values("files", entity_type, external_id)

    def item(self, name: str, uid: int) -> dict[str, Any]:
        sf = self.read[name]
        task = next(t for t in sf.tasks if t.unique_id == uid)
        return self.values(EntityType.WORK_ITEM, task_external_id(project_identity(sf), task))


@pytest.fixture(scope="module")
def everything(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Everything]:
    if not java_available():
        pytest.skip("no Java runtime for MPXJ")
    directory = tmp_path_factory.mktemp("everything")
    config = write_config(directory)
    partial = _cost_only_baselines(directory)
    calls: list[list[ScheduleFile]] = []
    real = connector_module.read_schedule_files

    def recording(paths: Any, on_progress: Any = None) -> list[ScheduleFile]:
        files = real(paths, on_progress=on_progress)
        calls.append(files)
        return files

    files = [FIXTURES / name for name in (*MSPDI, *MPP)] + [MASTER, partial]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(connector_module, "read_schedule_files", recording)
        imported = run_import(config, *files)
        snap = snapshot(f"sqlite:///{directory / 'store.db'}")
        again = run_import(config, *files)
        snap_again = snapshot(f"sqlite:///{directory / 'store.db'}")
    read = {sf.path.name: sf for sf in calls[0]}
    yield Everything(imported, snap, again, snap_again, read, partial)


@needs_java
def test_every_fixture_imports_and_a_reimport_changes_nothing(everything: Everything) -> None:
    first, again = everything.imported, everything.again
    assert first.exit_code == EXIT_OK, first.output
    assert first.report["quarantined"] == []
    counts = first.report["entities"]
    print(f"\nimport of {len(everything.read)} files: {first.seconds:.1f} s; store: {counts}")
    assert counts["calendar"] == sum(len(sf.calendars) for sf in everything.read.values())
    assert again.exit_code == EXIT_OK, again.output
    conn = again.report["connections"]["files"]
    assert (conn["new"], conn["changed"]) == (0, 0)
    assert everything.snap_again.entities == everything.snap.entities  # updated_at included
    hashes = {k: v["content_hash"] for k, v in everything.snap.links.items()}
    assert hashes == {k: v["content_hash"] for k, v in everything.snap_again.links.items()}


@needs_java
@pytest.mark.parametrize("name", MSPDI)
def test_times_durations_mode_constraints_and_stored_slack(
    everything: Everything, name: str
) -> None:
    """Against the XML: a 1-minute, a 1-hour and a 1-day task are no longer alike."""
    compared = 0
    for uid, xml in xml_tasks(FIXTURES / name).items():

        def text(tag: str, xml: ET.Element = xml) -> str | None:
            return xml.findtext(f"p:{tag}", None, NS)

        values = everything.item(name, uid)
        assert values["start_at"] == _when(text("Start")), (name, uid)
        assert values["finish_at"] == _when(text("Finish")), (name, uid)
        assert values["outline_level"] == int(text("OutlineLevel") or 0)
        if text("Duration") is not None:
            assert _num(values["duration_minutes"]) == _minutes(text("Duration")), (name, uid)
            elapsed = text("DurationFormat") in {"4", "6", "8", "10", "12"}  # em eh ed ew emo
            assert values["duration_elapsed"] is elapsed
            assert values["duration_unit"]
        if text("RemainingDuration") is not None:
            assert _num(values["remaining_minutes"]) == _minutes(text("RemainingDuration"))
        assert values["schedule_mode"] == ("manual" if text("Manual") == "1" else "auto")
        if text("ConstraintType") is not None:
            assert values["constraint_type"] == MSPDI_CONSTRAINTS[text("ConstraintType") or ""]
        assert values["constraint_date"] == _when(text("ConstraintDate"))
        assert values["deadline"] == _when(text("Deadline"))
        assert values["actual_start"] == _when(text("ActualStart"))
        assert values["actual_finish"] == _when(text("ActualFinish"))
        if text("Critical") is not None:
            assert values["source_critical"] is (text("Critical") == "1")
        for tag, key in (("TotalSlack", "total"), ("FreeSlack", "free")):
            if text(tag) is not None:  # tenths of a minute
                stored = _num(values[f"source_{key}_slack_minutes"])
                assert stored == Decimal(text(tag) or 0) / 10, (name, uid, tag)
        for tag, key in (
            ("EarlyStart", "early_start"),
            ("EarlyFinish", "early_finish"),
            ("LateStart", "late_start"),
            ("LateFinish", "late_finish"),
        ):
            if text(tag) is not None:
                assert values[f"source_{key}"] == _when(text(tag)), (name, uid, tag)
        compared += 1
    assert compared == len(xml_tasks(FIXTURES / name))


@needs_java
def test_units_and_manual_mode_across_the_fixtures(everything: Everything) -> None:
    items = [
        everything.snap.entities[cid][1]
        for cid in everything.snap.ids("files", EntityType.WORK_ITEM).values()
    ]
    assert {"d", "h", "w"} <= {v["duration_unit"] for v in items}  # slack9: hours, resource: weeks
    modes = [
        everything.item("task-links-project2019-mspdi.xml", uid)["schedule_mode"]
        for uid in range(1, 17)
    ]
    assert modes == ["manual"] * 16
    auto = everything.item("task-links-project2010-mspdi.xml", 1)["schedule_mode"]
    assert auto == "auto"
    assert set(CONSTRAINT_TYPES.values()) == {
        "ASAP",
        "ALAP",
        "SNET",
        "SNLT",
        "FNET",
        "FNLT",
        "MSO",
        "MFO",
    }
    assert (CONSTRAINT_TYPES["START_ON"], CONSTRAINT_TYPES["FINISH_ON"]) == ("MSO", "MFO")  # P6
    slack9 = everything.read["slack9.mpp"]
    mfo = [t for t in slack9.tasks if t.constraint_type == "MUST_FINISH_ON"]
    assert len(mfo) == 3
    for task in mfo:
        values = everything.item("slack9.mpp", task.unique_id)
        assert values["constraint_type"] == "MFO"
        assert values["constraint_date"] == task.constraint_date.isoformat()  # type: ignore[union-attr]


@needs_java
def test_baselines_0_to_10_on_every_task(everything: Everything) -> None:
    for uid, xml in xml_tasks(FIXTURES / "baselines.xml").items():
        expected = []
        for baseline in xml.findall("p:Baseline", NS):

            def text(tag: str, b: ET.Element = baseline) -> str | None:
                return b.findtext(f"p:{tag}", None, NS)

            expected.append(
                {
                    "number": int(text("Number") or -1),
                    "start": _when(text("Start")),
                    "finish": _when(text("Finish")),
                    "duration_minutes": _minutes(text("Duration")),
                    "work_minutes": _minutes(text("Work")),
                    "cost": _num(text("Cost")) / 100 if text("Cost") else None,  # in cents
                }
            )
        stored = [
            {**b, **{k: _num(b[k]) for k in ("duration_minutes", "work_minutes", "cost")}}
            for b in everything.item("baselines.xml", uid)["baselines"]
        ]
        assert stored == sorted(expected, key=lambda b: b["number"]), uid
    assert len(everything.item("baselines.xml", 1)["baselines"]) == 10


@needs_java
def test_a_baseline_with_only_a_cost_or_only_work_is_kept(everything: Everything) -> None:
    baselines = {b["number"]: b for b in everything.item(everything.partial.name, 1)["baselines"]}
    assert sorted(baselines) == list(range(1, 11))
    assert baselines[3]["start"] is None and baselines[3]["finish"] is None
    assert _num(baselines[3]["cost"]) == Decimal(3)
    assert baselines[7]["start"] is None and _num(baselines[7]["work_minutes"]) == 420


@needs_java
@pytest.mark.parametrize("name", ["enterprise.xml", "alias.xml", "sample.xml", "baselines.xml"])
def test_custom_field_values_by_name_on_tasks_and_the_project(
    everything: Everything, name: str
) -> None:
    sf = everything.read[name]
    for task in sf.tasks:
        plain = {
            k: v.isoformat() if isinstance(v, datetime) else v
            for k, v in task.custom_fields.items()
        }
        if task.outline_level == 0:
            project = everything.values(EntityType.PROJECT, project_identity(sf))
            assert project["custom"] == plain
        else:
            assert everything.item(name, task.unique_id)["custom"] == plain


@needs_java
def test_enterprise_custom_values_arrive_by_their_field_names(everything: Everything) -> None:
    values = everything.item("enterprise.xml", 1)["custom"]
    assert values["Enterprise Text1"] == "ET1" and values["Enterprise Text40"] == "ET40"
    assert values["Enterprise Cost1"] == 1.0  # MSPDI stores 100 (cents)
    assert values["Enterprise Date1"] == "1991-01-01T08:00:00"
    assert values["Enterprise Duration1"] == 480.0  # minutes
    assert values["Enterprise Flag1"] is True
    project = everything.values(
        EntityType.PROJECT, project_identity(everything.read["enterprise.xml"])
    )
    assert "EPT1" in project["custom"].values() and "EPT40" in project["custom"].values()


@needs_java
@pytest.mark.parametrize("name", ["sample.xml", "mspdiresource.xml", "mspdirelations.xml"])
def test_every_assignment_with_units_and_work(everything: Everything, name: str) -> None:
    root = ET.parse(FIXTURES / name).getroot()
    expected: dict[int, list[tuple[int, Decimal | None, Decimal | None]]] = {}
    for assignment in root.findall("p:Assignments/p:Assignment", NS):
        resource = int(assignment.findtext("p:ResourceUID", "-65535", NS))
        if resource == -65535:
            continue  # MS Project's "unassigned" row
        task = int(assignment.findtext("p:TaskUID", "-1", NS))
        units = _num(assignment.findtext("p:Units", None, NS))
        expected.setdefault(task, []).append(
            (
                resource,
                None if units is None else units * 100,
                _minutes(assignment.findtext("p:Work", None, NS)),
            )
        )
    sf = everything.read[name]
    people = {r.unique_id for r in sf.resources if r.name and (r.type or "WORK") == "WORK"}
    several = 0
    for uid in xml_tasks(FIXTURES / name):
        stored = everything.item(name, uid)["assignments"]
        got = sorted(
            (
                int(a["resource"].rsplit(":", 1)[-1]),
                _num(a["units_percent"]),
                _num(a["work_minutes"]),
            )
            for a in stored
        )
        assert got == sorted(expected.get(uid, [])), (name, uid)
        for a in stored:
            resource_uid = int(a["resource"].rsplit(":", 1)[-1])
            assert a["resource_name"]
            assert (a["person"] == a["resource"]) is (resource_uid in people)
        several += len(stored) > 1
    if name == "mspdiresource.xml":
        assert several >= 1  # a task with two resources keeps both, not only the primary one


@needs_java
@pytest.mark.parametrize("name", [*MSPDI, *MPP])
def test_calendars_and_the_pointers_to_them(everything: Everything, name: str) -> None:
    sf = everything.read[name]
    identity = project_identity(sf)
    snap = everything.snap
    calendars = snap.ids("files", EntityType.CALENDAR)
    for cal in sf.calendars:
        external_id = calendar_external_id(identity, cal.unique_id)
        values = everything.values(EntityType.CALENDAR, external_id)
        assert values["name"] == cal.name
        assert len(values["week"]) == len(cal.week)
        assert [None if d is None else [tuple(r) for r in d] for d in values["week"]] == [
            None if d is None else list(d) for d in cal.week
        ]
        assert len(values["exceptions"]) == len(cal.exceptions)
        if cal.base_calendar_unique_id is not None:
            base = calendars[calendar_external_id(identity, cal.base_calendar_unique_id)]
            assert values["base_calendar"] == base
    project = everything.values(EntityType.PROJECT, identity)
    default = sf.properties.default_calendar_unique_id  # type: ignore[union-attr]
    if default is not None and any(c.unique_id == default for c in sf.calendars):
        assert project["calendar"] == calendars[calendar_external_id(identity, default)]
    for task in sf.tasks:
        if task.outline_level == 0 or task.external or task.calendar_unique_id is None:
            continue
        own = calendars[calendar_external_id(identity, task.calendar_unique_id)]
        assert everything.item(name, task.unique_id)["calendar"] == own


@needs_java
def test_milestones_keep_their_time_and_links_their_lag_kind(everything: Everything) -> None:
    sf = everything.read["mspdirelations.xml"]
    for task in sf.tasks:
        if task.milestone and not task.summary:
            identity = project_identity(sf)
            ms = everything.values(EntityType.MILESTONE, task_external_id(identity, task))
            assert ms["due_at"] == task.finish.isoformat()  # type: ignore[union-attr]
    deps = [
        everything.snap.entities[cid][1]
        for cid in everything.snap.ids("files", EntityType.DEPENDENCY).values()
    ]
    assert deps and {d["origin"] for d in deps} == {"schedule_link"}
    assert all(d["lag_elapsed"] is False for d in deps)  # no elapsed lag in the fixtures
