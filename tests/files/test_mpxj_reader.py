"""The MPXJ reading layer against real Microsoft Project files.

Expected values come from the files themselves: the MSPDI fixtures are parsed here independently
with ElementTree, and each .mpp is compared with the MSPDI file that holds the same project. All
files are read in one ``read_schedule_files`` call per module, so one JVM start serves the lot;
only the tests of a hung and a dead worker start their own, since that is what they test.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import pickle
import re
import signal
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import pytest

from pmosync.connectors.files import (
    CustomFieldDefinition,
    ScheduleFile,
    ScheduleTask,
    java_available,
    read_schedule_files,
)
from pmosync.connectors.files import reader as reader_module
from pmosync.connectors.files._worker import duration_minutes
from pmosync.connectors.files.model import CustomValue
from pmosync.errors import ConfigError, SkippableRecordError
from tests import fixture_dirs

# Real MS Project files, copied into the repository (source: tests/fixtures/msproject/README.md).
FIXTURES = fixture_dirs.MSPROJECT
MSPDI_FILES = (
    "alias.xml",
    "baselines.xml",
    "enterprise.xml",
    "mspdirelations.xml",
    "mspdiresource.xml",
    "sample.xml",
    "task-links-project2010-mspdi.xml",
    "task-links-project2019-mspdi.xml",
)
MPP_FILES = (
    "mpp14relations.mpp",
    "sample.mpp",
    "slack9.mpp",
    "task-links-project2016-mpp14.mpp",
)

NS = {"p": "http://schemas.microsoft.com/project"}
MSPDI_LINK_TYPES = {"0": "FF", "1": "FS", "2": "SF", "3": "SS"}
MSPDI_RESOURCE_TYPES = {"0": "MATERIAL", "1": "WORK", "2": "COST"}

# Only what really starts MPXJ is skipped without Java; the error a user then gets is tested.
NO_JAVA = "no Java runtime for MPXJ (apt-get install default-jre-headless, or set JAVA_HOME)"
needs_java = pytest.mark.skipif(not java_available(), reason=NO_JAVA)

# The P6 formats have no fixture of their own, so two small files are written here in the
# layouts Primavera exports: a two-project XER whose projects share a link (the reason a PMO
# imports XER at all) and a one-project PMXML.
_TWO_PROJECT_XER = [
    [
        "ERMHDR",
        "20.12",
        "2026-11-22",
        "Project",
        "admin",
        "admin",
        "dbxDatabaseNoName",
        "Project Management",
        "USD",
    ],
    ["%T", "PROJECT"],
    ["%F", "proj_id", "proj_short_name", "plan_start_date", "clndr_id"],
    ["%R", "1", "ALPHA", "2026-01-05 08:00", "1"],
    ["%R", "2", "BETA", "2026-01-05 08:00", "1"],
    ["%T", "CALENDAR"],
    [
        "%F",
        "clndr_id",
        "default_flag",
        "clndr_name",
        "clndr_type",
        "day_hr_cnt",
        "week_hr_cnt",
        "month_hr_cnt",
    ],
    ["%R", "1", "Y", "Standard", "CA_Base", "8", "40", "160"],
    ["%T", "TASK"],
    [
        "%F",
        "task_id",
        "proj_id",
        "clndr_id",
        "task_code",
        "task_name",
        "task_type",
        "target_drtn_hr_cnt",
        "remain_drtn_hr_cnt",
        "target_start_date",
        "target_end_date",
    ],
    [
        "%R",
        "11",
        "1",
        "1",
        "A1000",
        "Design",
        "TT_Task",
        "16",
        "16",
        "2026-01-05 08:00",
        "2026-01-06 17:00",
    ],
    [
        "%R",
        "12",
        "1",
        "1",
        "A1010",
        "Build",
        "TT_Task",
        "40",
        "40",
        "2026-01-07 08:00",
        "2026-01-13 17:00",
    ],
    [
        "%R",
        "21",
        "2",
        "1",
        "B1000",
        "Test",
        "TT_Task",
        "24",
        "24",
        "2026-01-14 08:00",
        "2026-01-16 17:00",
    ],
    [
        "%R",
        "22",
        "2",
        "1",
        "B1010",
        "Launch",
        "TT_FinMile",
        "0",
        "0",
        "2026-01-16 17:00",
        "2026-01-16 17:00",
    ],
    ["%T", "TASKPRED"],
    [
        "%F",
        "task_pred_id",
        "task_id",
        "pred_task_id",
        "proj_id",
        "pred_proj_id",
        "pred_type",
        "lag_hr_cnt",
    ],
    ["%R", "1", "12", "11", "1", "1", "PR_SS", "8"],
    ["%R", "2", "22", "21", "2", "2", "PR_FF", "-4"],
    ["%R", "3", "21", "12", "2", "1", "PR_FS", "0"],  # ALPHA's Build drives BETA's Test
    ["%E"],
]
_PMXML = """<?xml version="1.0" encoding="UTF-8"?>
<APIBusinessObjects xmlns="http://xmlns.oracle.com/Primavera/P6/V8.3/API/BusinessObjects">
  <Project>
    <ObjectId>1</ObjectId><Id>GAMMA</Id><Name>Gamma rollout</Name>
    <PlannedStartDate>2026-02-02T08:00:00</PlannedStartDate>
    <Activity>
      <ObjectId>101</ObjectId><Id>G1000</Id><Name>Plan</Name><ProjectObjectId>1</ProjectObjectId>
      <Type>Task Dependent</Type><PlannedDuration>16</PlannedDuration>
      <RemainingDuration>16</RemainingDuration><AtCompletionDuration>16</AtCompletionDuration>
      <PlannedStartDate>2026-02-02T08:00:00</PlannedStartDate>
      <PlannedFinishDate>2026-02-03T17:00:00</PlannedFinishDate>
    </Activity>
    <Activity>
      <ObjectId>102</ObjectId><Id>G1010</Id><Name>Go live</Name><ProjectObjectId>1</ProjectObjectId>
      <Type>Finish Milestone</Type><PlannedDuration>0</PlannedDuration>
      <RemainingDuration>0</RemainingDuration><AtCompletionDuration>0</AtCompletionDuration>
      <PlannedStartDate>2026-02-05T17:00:00</PlannedStartDate>
      <PlannedFinishDate>2026-02-05T17:00:00</PlannedFinishDate>
    </Activity>
    <Relationship>
      <ObjectId>7</ObjectId><PredecessorActivityObjectId>101</PredecessorActivityObjectId>
      <SuccessorActivityObjectId>102</SuccessorActivityObjectId>
      <Type>Finish to Start</Type><Lag>8</Lag>
    </Relationship>
  </Project>
</APIBusinessObjects>
"""


@dataclass(frozen=True)
class Batch:
    paths: list[Path]
    files: list[ScheduleFile]
    progress: list[Path]
    seconds: float
    missing: Path
    not_a_schedule: Path
    truncated: Path

    def one(self, name: str) -> ScheduleFile:
        found = [f for f in self.files if f.path.name == name]
        assert len(found) == 1, f"{name}: expected one project, got {len(found)}"
        assert found[0].error is None, found[0].error
        return found[0]


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> Batch:
    if not java_available():
        pytest.skip(NO_JAVA)
    assert FIXTURES.is_dir(), f"fixtures not found at {FIXTURES}"
    work = tmp_path_factory.mktemp("mpxj")
    not_a_schedule = work / "minutes.mpp"
    not_a_schedule.write_text("Steering committee minutes, not a schedule.\n")
    missing = work / "gone.mpp"
    truncated = work / "truncated.xml"
    truncated.write_bytes((FIXTURES / "mspdirelations.xml").read_bytes()[:3000])
    xer = work / "alpha-beta.xer"
    xer.write_text("\n".join("\t".join(row) for row in _TWO_PROJECT_XER) + "\n")
    pmxml = work / "gamma-p6.xml"
    pmxml.write_text(_PMXML)
    paths = [
        *(FIXTURES / name for name in (*MSPDI_FILES, *MPP_FILES)),
        missing,
        not_a_schedule,
        truncated,
        pmxml,
        xer,
    ]
    progress: list[Path] = []
    started = time.perf_counter()
    files = read_schedule_files(paths, on_progress=progress.append)
    return Batch(
        paths=paths,
        files=files,
        progress=progress,
        seconds=time.perf_counter() - started,
        missing=missing,
        not_a_schedule=not_a_schedule,
        truncated=truncated,
    )


# -- MSPDI, read independently ------------------------------------------------------------------


def _xml(name: str) -> ET.Element:
    return ET.parse(FIXTURES / name).getroot()


def _text(element: ET.Element, tag: str) -> str | None:
    return element.findtext(f"p:{tag}", namespaces=NS)


def _date(element: ET.Element, tag: str) -> datetime | None:
    raw = _text(element, tag)
    return datetime.fromisoformat(raw) if raw else None


def _iso_minutes(raw: str) -> float:
    """MSPDI durations are ISO-8601 with hours, minutes and seconds only (PT7H30M0S)."""
    match = re.fullmatch(r"(-)?PT(\d+(?:\.\d+)?)H(\d+(?:\.\d+)?)M(\d+(?:\.\d+)?)S", raw)
    assert match, f"unexpected MSPDI duration {raw!r}"
    sign = -1 if match[1] else 1
    return sign * (float(match[2]) * 60 + float(match[3]) + float(match[4]) / 60)


def _xml_tasks(root: ET.Element) -> Iterator[ET.Element]:
    for task in root.findall("p:Tasks/p:Task", NS):
        if _text(task, "IsNull") != "1":
            yield task


def _uid(element: ET.Element, tag: str = "UID") -> int:
    raw = _text(element, tag)
    assert raw is not None
    return int(raw)


def _tasks_by_uid(schedule: ScheduleFile) -> dict[int, ScheduleTask]:
    return {t.unique_id: t for t in schedule.tasks}


def _xml_links(root: ET.Element) -> set[tuple[int, int, str, float]]:
    """(predecessor, successor, type, lag minutes); LinkLag is in tenths of a minute."""
    return {
        (
            _uid(link, "PredecessorUID"),
            _uid(task),
            MSPDI_LINK_TYPES[_text(link, "Type") or ""],
            int(_text(link, "LinkLag") or 0) / 10,
        )
        for task in _xml_tasks(root)
        for link in task.findall("p:PredecessorLink", NS)
    }


def _links(schedule: ScheduleFile) -> set[tuple[int, int, str, float | None]]:
    return {
        (link.predecessor_unique_id, link.successor_unique_id, link.type, link.lag_minutes)
        for link in schedule.links
    }


def _links_with_project(
    schedule: ScheduleFile,
) -> set[tuple[int, int, str, float | None, int | None]]:
    return {
        (
            link.predecessor_unique_id,
            link.successor_unique_id,
            link.type,
            link.lag_minutes,
            link.other_project_index,
        )
        for link in schedule.links
    }


def _custom_value(raw: str, data_type: str | None) -> object:
    """An ExtendedAttribute <Value> as typed data; MSPDI stores currency in hundredths."""
    if data_type == "CURRENCY":
        return float(raw) / 100
    if data_type == "NUMERIC":
        return float(raw)
    if data_type == "BOOLEAN":
        return raw == "1"
    if data_type == "DATE":
        return datetime.fromisoformat(raw)
    if data_type == "DURATION":
        return _iso_minutes(raw)
    return raw


# -- the batch as a whole -----------------------------------------------------------------------


def test_one_worker_process_serves_every_file(batch: Batch) -> None:
    pids = {f.worker_pid for f in batch.files}
    assert len(pids) == 1, pids
    assert pids != {os.getpid()}, "MPXJ must run in a worker process, not in the caller"
    assert batch.progress == batch.paths
    # The fixtures are tiny; a budget of a few seconds catches a JVM started per file.
    assert batch.seconds < 30, f"reading {len(batch.paths)} files took {batch.seconds:.1f} s"


def test_bad_files_give_per_file_errors_naming_the_file(batch: Batch) -> None:
    by_path = {f.path: f for f in batch.files}
    for path, kind in [
        (batch.missing, "not_found"),
        (batch.not_a_schedule, "not_a_schedule"),
        (batch.truncated, "unreadable"),
    ]:
        error = by_path[path].error
        assert error is not None, path
        assert error.kind == kind, error
        assert error.message.startswith(f"{path}: "), error.message
        with pytest.raises(SkippableRecordError, match=re.escape(str(path))):
            by_path[path].raise_for_error()
    # MPXJ's "Failed to parse file" alone would not tell a user what to fix; the cause does.
    truncated_error = by_path[batch.truncated].error
    assert truncated_error is not None
    assert "XML document structures must start and end" in truncated_error.message
    junk = by_path[batch.not_a_schedule]
    assert junk.sha256 == hashlib.sha256(batch.not_a_schedule.read_bytes()).hexdigest()
    # The files on either side of the bad ones still imported.
    bad = (batch.missing, batch.not_a_schedule, batch.truncated)
    assert [f.path.name for f in batch.files if f.error is None] == [
        p.name for p in batch.paths if p not in bad
    ] + ["alpha-beta.xer"]  # two projects in one file


@pytest.mark.parametrize("name", MSPDI_FILES + MPP_FILES)
def test_sha256_is_of_the_file_bytes(batch: Batch, name: str) -> None:
    schedule = batch.one(name)
    assert schedule.sha256 == hashlib.sha256((FIXTURES / name).read_bytes()).hexdigest()


def test_results_are_plain_picklable_data(batch: Batch) -> None:
    assert pickle.loads(pickle.dumps(batch.files)) == batch.files


# -- MSPDI files against their own XML ----------------------------------------------------------


@pytest.mark.parametrize("name", MSPDI_FILES)
def test_project_properties_match_mspdi(batch: Batch, name: str) -> None:
    root, props = _xml(name), batch.one(name).properties
    assert props is not None
    assert props.name == _text(root, "Name")
    assert props.title == _text(root, "Title")
    assert props.start == _date(root, "StartDate")
    assert props.finish == _date(root, "FinishDate")
    assert props.last_saved == _date(root, "LastSaved")
    assert props.status_date == _date(root, "StatusDate")
    assert props.minutes_per_day == int(_text(root, "MinutesPerDay") or 0)
    assert props.minutes_per_week == int(_text(root, "MinutesPerWeek") or 0)
    assert props.days_per_month == int(_text(root, "DaysPerMonth") or 0)
    if _text(root, "CurrencySymbol") is not None:
        assert props.currency_symbol == _text(root, "CurrencySymbol")
    assert props.file_type == "MSPDI"


@pytest.mark.parametrize("name", MSPDI_FILES)
def test_tasks_match_mspdi(batch: Batch, name: str) -> None:
    root, schedule = _xml(name), batch.one(name)
    xml_tasks = list(_xml_tasks(root))
    ours = _tasks_by_uid(schedule)
    assert len(schedule.tasks) == len(xml_tasks)
    assert {t.unique_id for t in schedule.tasks if t.summary} == {
        _uid(t) for t in xml_tasks if _text(t, "Summary") == "1"
    }
    assert {t.unique_id for t in schedule.tasks if t.milestone} == {
        _uid(t) for t in xml_tasks if _text(t, "Milestone") == "1"
    }
    for xml_task in xml_tasks:
        task = ours[_uid(xml_task)]
        where = f"{name} task {task.unique_id}"
        assert task.name == _text(xml_task, "Name"), where
        assert task.outline_level == int(_text(xml_task, "OutlineLevel") or 0), where
        assert task.wbs == _text(xml_task, "WBS"), where
        assert task.manually_scheduled == (_text(xml_task, "Manual") == "1"), where
        assert task.start == _date(xml_task, "Start"), where
        assert task.finish == _date(xml_task, "Finish"), where
        assert task.duration_minutes == _iso_minutes(_text(xml_task, "Duration") or ""), where
        assert task.percent_complete == float(_text(xml_task, "PercentComplete") or 0), where


@pytest.mark.parametrize("name", MSPDI_FILES)
def test_links_match_mspdi(batch: Batch, name: str) -> None:
    assert _links(batch.one(name)) == _xml_links(_xml(name))


def test_outline_parents_follow_outline_numbers(batch: Batch) -> None:
    """MSPDI has no parent element; the parent is the task whose outline number is the prefix."""
    tasks = batch.one("sample.xml").tasks
    by_outline = {t.outline_number: t.unique_id for t in tasks if t.outline_level}
    nested = [t for t in tasks if (t.outline_level or 0) > 1]
    assert nested, "sample.xml should hold nested tasks"
    for task in tasks:
        if (task.outline_level or 0) <= 1:
            assert task.parent_unique_id is None, task.unique_id
        else:
            assert task.outline_number is not None
            parent_outline = task.outline_number.rsplit(".", 1)[0]
            assert task.parent_unique_id == by_outline[parent_outline], task.unique_id


def test_stored_slack_and_early_late_dates_match_mspdi(batch: Batch) -> None:
    root, ours = _xml("mspdirelations.xml"), _tasks_by_uid(batch.one("mspdirelations.xml"))
    for xml_task in _xml_tasks(root):
        task = ours[_uid(xml_task)]
        where = f"task {task.unique_id}"
        # TotalSlack and FreeSlack are tenths of a minute in MSPDI.
        assert task.total_slack_minutes == int(_text(xml_task, "TotalSlack") or 0) / 10, where
        assert task.free_slack_minutes == int(_text(xml_task, "FreeSlack") or 0) / 10, where
        assert task.critical == (_text(xml_task, "Critical") == "1"), where
        for field in ("EarlyStart", "EarlyFinish", "LateStart", "LateFinish"):
            attr = re.sub(r"(?<!^)([A-Z])", r"_\1", field).lower()
            assert getattr(task, attr) == _date(xml_task, field), f"{where} {field}"
    # MS Project stores the SF successor's finish at Monday 08:00, the same working instant as
    # Friday 17:00; the reader must hand over the stored value, not a recomputed one.
    assert ours[5].finish == datetime(2006, 9, 25, 8, 0)
    assert ours[5].total_slack_minutes == 480


def test_baselines_match_mspdi(batch: Batch) -> None:
    root, ours = _xml("baselines.xml"), _tasks_by_uid(batch.one("baselines.xml"))
    seen = 0
    for xml_task in _xml_tasks(root):
        expected = {
            int(_text(b, "Number") or -1): (
                _date(b, "Start"),
                _date(b, "Finish"),
                _iso_minutes(_text(b, "Duration") or ""),
                _iso_minutes(_text(b, "Work") or ""),
                float(_text(b, "Cost") or 0) / 100,
            )
            for b in xml_task.findall("p:Baseline", NS)
        }
        got = {
            b.number: (b.start, b.finish, b.duration_minutes, b.work_minutes, b.cost)
            for b in ours[_uid(xml_task)].baselines
        }
        assert got == expected, f"task {_uid(xml_task)}"
        seen += len(expected)
    assert seen == 10


@pytest.mark.parametrize("name", ["enterprise.xml", "mspdiresource.xml"])
def test_custom_field_values_match_mspdi(batch: Batch, name: str) -> None:
    root, schedule = _xml(name), batch.one(name)
    definitions: dict[tuple[str, int | None], CustomFieldDefinition] = {
        (d.entity, d.field_id): d for d in schedule.custom_fields
    }
    rows: dict[str, tuple[str, dict[int, dict[str, CustomValue]]]] = {
        "task": ("p:Tasks/p:Task", {t.unique_id: t.custom_fields for t in schedule.tasks}),
        "resource": (
            "p:Resources/p:Resource",
            {r.unique_id: r.custom_fields for r in schedule.resources},
        ),
    }
    # Outline codes are not ExtendedAttributes: each row points by ValueID into the value lists
    # under <OutlineCodes>, and the reader hands over the value's text.
    outline_values = {
        _uid(value, "ValueID"): _text(value, "Value")
        for value in root.findall("p:OutlineCodes/p:OutlineCode/p:Values/p:Value", NS)
    }
    checked = 0
    for entity, (xpath, ours) in rows.items():
        for element in root.findall(xpath, NS):
            expected: dict[str, object] = {}
            for attribute in element.findall("p:ExtendedAttribute", NS):
                definition = definitions[(entity, int(_text(attribute, "FieldID") or 0))]
                raw = _text(attribute, "Value") or ""
                expected[definition.key] = _custom_value(raw, definition.data_type)
            for code in element.findall("p:OutlineCode", NS):
                definition = definitions[(entity, int(_text(code, "FieldID") or 0))]
                expected[definition.key] = outline_values[_uid(code, "ValueID")]
            got = ours[_uid(element)]
            assert got == expected, f"{name} {entity} {_uid(element)}"
            checked += len(expected)
    assert checked > 100


def test_enterprise_fields_are_keyed_by_name_without_an_alias(batch: Batch) -> None:
    schedule = batch.one("enterprise.xml")
    task = _tasks_by_uid(schedule)[1]
    assert task.custom_fields["Enterprise Cost1"] == 1.0  # <Value>100</Value>: hundredths
    assert task.custom_fields["Enterprise Flag1"] is True
    assert task.custom_fields["Enterprise Duration1"] == 480.0
    # Project-level enterprise fields live on the project summary task in MSPDI.
    assert _tasks_by_uid(schedule)[0].custom_fields == {
        "Enterprise Project Text1": "EPT1",
        "Enterprise Project Text40": "EPT40",
    }


def test_aliases_match_mspdi(batch: Batch) -> None:
    root, schedule = _xml("alias.xml"), batch.one("alias.xml")
    expected = {
        int(_text(a, "FieldID") or 0): (_text(a, "FieldName"), _text(a, "Alias"))
        for a in root.findall("p:ExtendedAttributes/p:ExtendedAttribute", NS)
    }
    # MPXJ spells outline codes "Outline Code1" where MSPDI's FieldName has "OutlineCode1".
    got = {
        d.field_id: (d.field_name.replace("Outline Code", "OutlineCode"), d.alias)
        for d in schedule.custom_fields
    }
    assert len(expected) == 260
    assert got == expected
    assert all(d.key == d.alias for d in schedule.custom_fields)


def test_resources_and_assignments_match_mspdi(batch: Batch) -> None:
    root, schedule = _xml("mspdiresource.xml"), batch.one("mspdiresource.xml")
    expected_resources = {
        _uid(r): (
            _text(r, "Name"),
            _text(r, "EmailAddress"),
            MSPDI_RESOURCE_TYPES[_text(r, "Type") or ""],
        )
        for r in root.findall("p:Resources/p:Resource", NS)
    }
    assert {r.unique_id: (r.name, r.email, r.type) for r in schedule.resources} == (
        expected_resources
    )
    expected_assignments = {
        _uid(a): (
            _uid(a, "TaskUID"),
            None if _uid(a, "ResourceUID") == -65535 else _uid(a, "ResourceUID"),
            _iso_minutes(_text(a, "Work") or ""),
            float(_text(a, "Units") or 0) * 100,
        )
        for a in root.findall("p:Assignments/p:Assignment", NS)
    }
    assert {
        a.unique_id: (a.task_unique_id, a.resource_unique_id, a.work_minutes, a.units_percent)
        for a in schedule.assignments
    } == expected_assignments
    assert len(expected_assignments) == 5


# -- .mpp files against their MSPDI twins and the README ----------------------------------------

_TWIN_FIELDS = (
    "outline_level",
    "summary",
    "milestone",
    "manually_scheduled",
    "duration_minutes",
    "total_slack_minutes",
    "free_slack_minutes",
    "critical",
    "constraint_type",
    "baselines",
)
_TWIN_DATES = ("start", "finish", "early_start", "early_finish", "late_start", "late_finish")
_MONDAY = date(2000, 1, 3)


def _working_minutes(moment: datetime) -> int:
    """Working minutes since a fixed Monday on MS Project's Standard calendar.

    Mon-Fri 08:00-12:00 and 13:00-17:00, no holidays. Friday 17:00 and Monday 08:00 get the same
    number, which is why MS Project may store either for the same instant.
    """
    weeks, weekday = divmod((moment.date() - _MONDAY).days, 7)
    minutes = weeks * 2400 + min(weekday, 5) * 480
    if weekday < 5:
        clock = moment.hour * 60 + moment.minute
        minutes += min(max(clock, 480), 720) - 480 + min(max(clock, 780), 1020) - 780
    return minutes


def _offsets(schedule: ScheduleFile, task: ScheduleTask) -> dict[str, int | None]:
    assert schedule.properties is not None and schedule.properties.start is not None
    origin = _working_minutes(schedule.properties.start)
    return {
        field: None if value is None else _working_minutes(value) - origin
        for field in _TWIN_DATES
        for value in [getattr(task, field)]
    }


@pytest.mark.parametrize(
    ("mpp", "xml"),
    [
        ("mpp14relations.mpp", "mspdirelations.xml"),
        ("task-links-project2016-mpp14.mpp", "task-links-project2019-mspdi.xml"),
    ],
)
def test_mpp_matches_its_mspdi_twin(batch: Batch, mpp: str, xml: str) -> None:
    from_mpp, from_xml = batch.one(mpp), batch.one(xml)
    assert _links(from_mpp) == _links(from_xml)
    mpp_tasks, xml_tasks = _tasks_by_uid(from_mpp), _tasks_by_uid(from_xml)
    assert mpp_tasks.keys() == xml_tasks.keys()
    for uid, xml_task in xml_tasks.items():
        mpp_task = mpp_tasks[uid]
        if xml_task.outline_level:  # MPP names the project summary task after the file
            assert mpp_task.name == xml_task.name
        for field in _TWIN_FIELDS:
            got, want = getattr(mpp_task, field), getattr(xml_task, field)
            assert got == want, f"task {uid} {field}: {mpp} has {got}, {xml} has {want}"
        # The task-links twins were saved in different years, so dates are compared as
        # working time from each file's project start.
        assert _offsets(from_mpp, mpp_task) == _offsets(from_xml, xml_task), f"task {uid}"


@pytest.mark.parametrize(
    "name",
    [
        "task-links-project2016-mpp14.mpp",
        "task-links-project2019-mspdi.xml",
        "task-links-project2010-mspdi.xml",
    ],
)
def test_task_links_fixture_holds_the_eight_documented_links(batch: Batch, name: str) -> None:
    schedule = batch.one(name)
    links = sorted(schedule.links, key=lambda link: link.predecessor_unique_id)
    assert [(link.type, link.lag_value, link.lag_unit) for link in links] == [
        ("FS", 0.0, "DAYS"),
        ("FS", 1.0, "DAYS"),
        ("FS", 2.0, "DAYS"),
        ("FS", 1.0, "WEEKS"),
        ("FS", 2.0, "WEEKS"),
        ("SF", 2.0, "DAYS"),
        ("SS", 2.0, "DAYS"),
        ("FF", 2.0, "DAYS"),
    ]
    assert [link.lag_minutes for link in links] == [0, 480, 960, 2400, 4800, 960, 960, 960]
    real_tasks = [t for t in schedule.tasks if t.outline_level]
    assert len(real_tasks) == 16
    manual = name != "task-links-project2010-mspdi.xml"
    assert all(t.manually_scheduled == manual for t in real_tasks)


@pytest.mark.parametrize("name", MPP_FILES)
def test_mpp_without_saved_baselines_reports_none(batch: Batch, name: str) -> None:
    # MPP files hold zero baseline duration/work/cost for every task even when no baseline was
    # ever saved; that must not turn into a baseline 0.
    assert all(t.baselines == () for t in batch.one(name).tasks)


def test_slack9_mpp_holds_constraints_and_negative_slack(batch: Batch) -> None:
    schedule = batch.one("slack9.mpp")
    real_tasks = [t for t in schedule.tasks if t.outline_level]
    assert len(real_tasks) == 15
    assert len(schedule.links) == 15
    assert {link.type for link in schedule.links} == {"FS"}
    assert sum(t.constraint_type == "MUST_FINISH_ON" for t in real_tasks) == 3
    assert all(
        t.constraint_date is not None
        for t in real_tasks
        if t.constraint_type != "AS_SOON_AS_POSSIBLE"
    )
    assert any((t.total_slack_minutes or 0) < 0 for t in real_tasks)
    # Negative total slack is exactly what MS Project marks critical.
    assert all(t.critical for t in real_tasks if (t.total_slack_minutes or 0) < 0)


# -- P6 formats -----------------------------------------------------------------------------------


def test_pmxml_reads_through_the_same_call(batch: Batch) -> None:
    schedule = batch.one("gamma-p6.xml")
    assert schedule.properties is not None
    assert (schedule.properties.file_type, schedule.properties.file_application) == (
        "PMXML",
        "Primavera",
    )
    assert schedule.properties.name == "Gamma rollout"
    assert [(t.unique_id, t.name, t.duration_minutes, t.milestone) for t in schedule.tasks] == [
        (101, "Plan", 960.0, False),
        (102, "Go live", 0.0, True),
    ]
    assert _links(schedule) == {(101, 102, "FS", 480.0)}  # P6 lag is in hours


def test_multi_project_xer_gives_one_schedule_file_per_project(batch: Batch) -> None:
    alpha, beta = [f for f in batch.files if f.path.name == "alpha-beta.xer"]
    assert (alpha.project_index, beta.project_index) == (0, 1)
    assert alpha.sha256 == beta.sha256
    assert alpha.properties is not None and beta.properties is not None
    assert (alpha.properties.project_id, beta.properties.project_id) == ("ALPHA", "BETA")
    assert alpha.properties.file_application == "Primavera"
    assert [(t.unique_id, t.name, t.duration_minutes) for t in alpha.tasks] == [
        (11, "Design", 960.0),
        (12, "Build", 2400.0),
    ]
    assert [(t.name, t.milestone) for t in beta.tasks] == [("Test", False), ("Launch", True)]
    # The link between the projects shows up in both, pointing at the other one.
    assert _links_with_project(alpha) == {(11, 12, "SS", 480.0, None), (12, 21, "FS", 0.0, 1)}
    assert _links_with_project(beta) == {(21, 22, "FF", -240.0, None), (12, 21, "FS", 0.0, 0)}


# -- a hung or dead worker costs one file at most --------------------------------------------------


@needs_java
def test_a_file_that_outlasts_its_timeout_fails_alone_and_its_worker_is_killed() -> None:
    path = FIXTURES / "sample.xml"
    # No MPXJ read finishes in a microsecond, so this is a hang as far as the reader can tell.
    [result] = read_schedule_files([path], timeout_per_file=1e-6)
    assert result.error is not None
    assert result.error.kind == "timeout"
    assert str(path) in result.error.message
    assert result.worker_pid is not None
    with pytest.raises(ProcessLookupError):
        os.kill(result.worker_pid, 0)


@needs_java
def test_a_worker_that_dies_between_files_is_replaced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    killed: list[int] = []

    def kill_the_worker(path: Path) -> None:
        if not killed:
            [worker] = [p for p in multiprocessing.active_children() if p.name == "pmosync-mpxj"]
            assert worker.pid is not None
            # SIGTERM, as a parent exiting with its worker alive sends it: the JVM took that
            # signal over and used to segfault on it, dropping hs_err_pid*.log into the cwd.
            os.kill(worker.pid, signal.SIGTERM)
            worker.join(30)
            assert worker.exitcode == -signal.SIGTERM, "the worker did not simply terminate"
            killed.append(worker.pid)

    monkeypatch.chdir(tmp_path)  # the worker inherits it; a JVM crash report would land here
    # A non-schedule first file keeps the test quick: MPXJ rejects it without loading a reader.
    junk = tmp_path / "agenda.txt"
    junk.write_text("not a schedule\n")
    first, second = read_schedule_files(
        [junk, FIXTURES / "mspdirelations.xml"], on_progress=kill_the_worker
    )
    assert first.error is not None and first.error.kind == "not_a_schedule"
    assert second.error is None
    assert first.worker_pid == killed[0] != second.worker_pid
    assert _links(second) == _xml_links(_xml("mspdirelations.xml"))
    assert list(tmp_path.glob("hs_err*")) == []


# -- no Java, and the unit arithmetic -----------------------------------------------------------


def test_missing_java_is_a_config_error_saying_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(reader_module, "java_available", lambda: False)
    with pytest.raises(ConfigError, match="default-jre-headless") as caught:
        read_schedule_files([FIXTURES / "sample.xml"])
    assert "JAVA_HOME" in str(caught.value)


def test_no_paths_starts_no_worker() -> None:
    assert read_schedule_files([]) == []


@pytest.mark.parametrize(
    ("value", "unit", "minutes"),
    [
        (1.5, "HOURS", 90.0),
        (2, "DAYS", 900.0),
        (1, "WEEKS", 2250.0),
        (1, "MONTHS", 9450.0),
        (1, "ELAPSED_DAYS", 1440.0),
        (1, "ELAPSED_WEEKS", 10080.0),
        (-0.5, "DAYS", -225.0),
        (50, "PERCENT", None),
    ],
)
def test_duration_minutes_use_the_files_own_units(
    value: float, unit: str, minutes: float | None
) -> None:
    # A 7.5-hour day, 37.5-hour week and 21-day month, as a UK office would set it.
    got = duration_minutes(
        value, unit, minutes_per_day=450, minutes_per_week=2250, days_per_month=21
    )
    assert got == minutes
