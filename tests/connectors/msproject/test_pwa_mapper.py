"""Pure mapper tests on payloads shaped like the wire reference (api-wire-protocol §5)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest

from pmosync.canonical_model import EntityType, RemotePointer
from pmosync.config.mapping import FieldMapping
from pmosync.connectors.msproject import mapper, odata
from pmosync.connectors.msproject.customfields import (
    CustomFieldCatalog,
    decode,
    encode,
    json_key,
)

PID = "263fc8d7-427c-e111-92fc-00155d3ba208"
SUMMARY = "273fc8d7-427c-e111-92fc-00155d3ba208"
T1 = "3a1b5c9e-427c-e111-92fc-00155d3ba208"
T2 = "3b1b5c9e-427c-e111-92fc-00155d3ba208"
RES = "8f3e2b1a-3c4d-e111-92fc-00155d3ba208"
RAG_HEX = "ce23fbf43fa0e411941000155d3c8201"
DEPT_HEX = "c7f1a2b3c4d5e6f708192a3b4c5d6e7f"
FORECAST_HEX = "c6fb0a1b2c3d4e5f60718293a4b5c6d7"
CODE_HEX = "d1e2f3a4b5c6d7e8f90a1b2c3d4e5f60"
GREEN = "Entry_b9a2aaaa3fa0e411941000155d3c8201"
AMBER = "Entry_b9a2bbbb3fa0e411941000155d3c8201"
RED = "Entry_b9a2cccc3fa0e411941000155d3c8201"
FIN = "Entry_baa2aaaa3fa0e411941000155d3c8201"
OPS = "Entry_baa2bbbb3fa0e411941000155d3c8201"


def verbose(results: list[dict], next_url: str | None = None) -> dict:
    body: dict = {"results": results}
    if next_url:
        body["__next"] = next_url
    return {"d": body}


CUSTOM_FIELDS: list[dict[str, Any]] = [
    {
        "__metadata": {"type": "PS.CustomField"},
        "Id": "ce23fbf4-3fa0-e411-9410-00155d3c8201",
        "Name": "Project RAG",
        "InternalName": f"Custom_{RAG_HEX}",
        "FieldType": 21,
        "LookupAllowMultiSelect": False,
        "EntityType": {"ID": "x", "Name": "ProjectEntity"},
        "LookupTable": {"Id": "11111111-2222-3333-4444-555555555555"},
    },
    {
        "Id": "c7f1a2b3-c4d5-e6f7-0819-2a3b4c5d6e7f",
        "Name": "Departments",
        "InternalName": f"Custom_{DEPT_HEX}",
        "FieldType": 21,
        "LookupAllowMultiSelect": True,
        "EntityType": {"Name": "ProjectEntity"},
        "LookupTable": {"Id": "66666666-2222-3333-4444-555555555555"},
    },
    {
        "Id": "c6fb0a1b-2c3d-4e5f-6071-8293a4b5c6d7",
        "Name": "Forecast Finish",
        "InternalName": f"Custom_{FORECAST_HEX}",
        "FieldType": 4,
        "EntityType": {"Name": "ProjectEntity"},
        "LookupTable": {"__deferred": {"uri": "x"}},
    },
    {
        "Id": "d1e2f3a4-b5c6-d7e8-f90a-1b2c3d4e5f60",
        "Name": "Project Code",
        "InternalName": f"Custom_{CODE_HEX}",
        "FieldType": 21,
        "EntityType": {"Name": "ProjectEntity"},
    },
    {
        "Id": "aaaaaaaa-b5c6-d7e8-f90a-1b2c3d4e5f60",
        "Name": "Budget Hours",
        "InternalName": "Custom_aaaaaaaab5c6d7e8f90a1b2c3d4e5f60",
        "FieldType": 15,
        "EntityType": {"Name": "TaskEntity"},
    },
]
LOOKUP_TABLES: list[dict[str, Any]] = [
    {
        "Id": "11111111-2222-3333-4444-555555555555",
        "Name": "RAG",
        "Entries": {
            "results": [
                {"InternalName": GREEN, "FullValue": "Green", "Id": "e1"},
                {"InternalName": AMBER, "FullValue": "Amber", "Id": "e2"},
                {"InternalName": RED, "FullValue": "Red", "Id": "e3"},
            ]
        },
    },
    {
        "Id": "66666666-2222-3333-4444-555555555555",
        "Name": "Departments",
        "Entries": [
            {"InternalName": FIN, "FullValue": "Finance"},
            {"InternalName": OPS, "FullValue": "Operations"},
        ],
    },
]


@pytest.fixture(scope="module")
def catalog() -> CustomFieldCatalog:
    fields = odata.page(verbose(CUSTOM_FIELDS), "https://x/_api/ProjectServer/CustomFields")
    tables = odata.page(verbose(LOOKUP_TABLES), "https://x/_api/ProjectServer/LookupTables")
    return CustomFieldCatalog.from_payloads(fields.items, tables.items)


RAG_VALUES = {"Green": "G", "Amber": "A", "Red": "R"}
PROJECT_FIELDS = {
    "code": FieldMapping(field="Project Code", direction="pull"),
    "rag": FieldMapping(field="Project RAG", values=RAG_VALUES),
    "rag_computed": FieldMapping(field="Project RAG", direction="push", values=RAG_VALUES),
    "next_milestone_date": FieldMapping(field="Forecast Finish", direction="push"),
    "pmo_status": FieldMapping(field=f"Custom_{CODE_HEX}", direction="push"),
}


def test_odata_pages_verbose_and_light_with_relative_next_link() -> None:
    page = odata.page(
        verbose(
            [{"__metadata": {"uri": "u"}, "Id": "1", "Parent": {"__deferred": {}}}], "https://h/n"
        ),
        "https://h/_api/ProjectData/Tasks",
    )
    assert page.items == [{"Id": "1"}]
    assert page.next_url == "https://h/n"
    light = odata.page(
        {
            "odata.metadata": "m",
            "value": [{"Id": "2"}],
            "odata.nextLink": "Tasks?$skiptoken=guid'a'",
        },
        "https://h/sites/pwa/_api/ProjectData/Tasks?$filter=x",
    )
    assert light.items == [{"Id": "2"}]
    assert light.next_url == "https://h/sites/pwa/_api/ProjectData/Tasks?$skiptoken=guid'a'"
    last = odata.page({"value": []}, "https://h/x")
    assert last.next_url is None


def test_odata_dates() -> None:
    assert odata.parse_datetime("/Date(1356998400000)/") == datetime(2013, 1, 1)
    assert odata.parse_datetime("/Date(1356998400000+0100)/") == datetime(2013, 1, 1, 1)
    assert odata.parse_datetime("2018-08-06T08:00:00") == datetime(2018, 8, 6, 8)
    assert odata.parse_datetime("2019-03-14T01:58:43.31") == datetime(
        2019, 3, 14, 1, 58, 43, 310000
    )
    assert odata.parse_datetime("2019-03-14T01:58:43.1234567") is not None
    assert odata.parse_datetime("0001-01-01T00:00:00") is None
    assert odata.parse_datetime("/Date(-62135596800000)/") is None
    assert odata.parse_datetime(None) is None


def test_odata_errors_carry_pj_codes() -> None:
    verbose_error = {
        "error": {
            "code": "10103, Microsoft.ProjectServer.PJClientCallableException",
            "message": {"lang": "en-US", "value": "CICOCheckedOutInOtherSession"},
        }
    }
    error = odata.parse_error(verbose_error)
    assert error is not None and error.number == 10103
    assert error.message == "CICOCheckedOutInOtherSession"
    light = odata.parse_error(
        {"odata.error": {"code": "1030, x", "message": {"value": "ProjectWriteLock"}}}
    )
    assert light is not None and light.number == 1030


def test_catalog_resolves_names_keys_and_entities(catalog: CustomFieldCatalog) -> None:
    rag = catalog.find("Project RAG", "project")
    assert rag is not None and rag.is_lookup and not rag.multi
    assert rag.json_key == f"Custom_x005f_{RAG_HEX}"
    assert catalog.find(f"Custom_x005f_{RAG_HEX}") is rag
    assert catalog.find(f"custom_{RAG_HEX}") is rag
    assert catalog.find("ce23fbf4-3fa0-e411-9410-00155d3c8201") is rag
    assert catalog.find("project rag", "task") is None  # project field, asked for tasks
    assert catalog.find("Budget Hours", "task") is not None
    forecast = catalog.find("Forecast Finish")
    assert forecast is not None and not forecast.is_lookup  # deferred LookupTable = none


def test_decode_lookup_multi_numbers_dates(catalog: CustomFieldCatalog) -> None:
    rag = catalog.find("Project RAG")
    dept = catalog.find("Departments")
    forecast = catalog.find("Forecast Finish")
    hours = catalog.find("Budget Hours")
    assert rag and dept and forecast and hours
    assert decode(rag, [AMBER]) == "Amber"
    assert decode(dept, [FIN, OPS]) == ["Finance", "Operations"]
    assert decode(dept, None) == []
    assert decode(hours, "14346") == Decimal("14346")
    assert decode(forecast, "/Date(1356998400000)/") == datetime(2013, 1, 1)
    with pytest.raises(ValueError, match="Entry_dead"):
        decode(rag, ["Entry_dead"])


def test_encode_for_update_custom_fields(catalog: CustomFieldCatalog) -> None:
    rag = catalog.find("Project RAG")
    dept = catalog.find("Departments")
    forecast = catalog.find("Forecast Finish")
    hours = catalog.find("Budget Hours")
    assert rag and dept and forecast and hours
    assert encode(rag, "Red") == (RED, "Edm.String")
    assert encode(rag, "red") == (RED, "Edm.String")
    assert encode(dept, ["Finance", "Operations"]) == (f"{FIN};#{OPS}", "Edm.String")
    assert encode(forecast, date(2015, 4, 1)) == ("2015-04-01T00:00:00", "Edm.DateTime")
    assert encode(hours, Decimal("90.50")) == ("90.5", "Edm.Double")
    with pytest.raises(ValueError, match="no lookup entry 'Purple'"):
        encode(rag, "Purple")
    with pytest.raises(ValueError, match="takes one value"):
        encode(rag, ["Red", "Green"])


def published_project(**extra: object) -> dict:
    raw: dict[str, Any] = {
        "__metadata": {"type": "PS.PublishedProject"},
        "Id": PID,
        "Name": "Warehouse Automation",
        "Description": "",
        "StartDate": "/Date(1735725600000)/",  # 2025-01-01T10:00
        "FinishDate": "2025-06-28T00:00:00",
        "LastPublishedDate": "2025-03-02T09:15:00.53",
        "SummaryTaskId": SUMMARY,
        json_key(f"Custom_{RAG_HEX}"): {
            "__metadata": {"type": "Collection(Edm.String)"},
            "results": [AMBER],
        },
        json_key(f"Custom_{CODE_HEX}"): "WH-01",
        json_key(f"Custom_{DEPT_HEX}"): {"results": [OPS]},
        "Tasks": {"__deferred": {"uri": "t"}},
    }
    raw.update(extra)
    return odata.entity({"d": raw})


def test_project_with_custom_fields(catalog: CustomFieldCatalog) -> None:
    mapped = mapper.map_project(
        published_project(), catalog=catalog, fields=PROJECT_FIELDS, percent_complete=40
    )
    assert mapped.values == {
        "name": "Warehouse Automation",
        "description": None,
        "planned_start": "2025-01-01",
        "planned_finish": "2025-06-27",  # midnight finish ends the previous day
        "percent_complete": "40",
        "status": "active",
        "code": "WH-01",
        "rag": "A",
        # every enterprise custom field by its display name, lookups as their text
        "custom": {"Departments": ["Operations"], "Project Code": "WH-01", "Project RAG": "Amber"},
    }
    assert mapped.version_token == "2025-03-02T09:15:00.530000"


def test_project_unknown_lookup_value_names_the_field(catalog: CustomFieldCatalog) -> None:
    raw = published_project(**{json_key(f"Custom_{RAG_HEX}"): ["Entry_00ff"]})
    with pytest.raises(mapper.MappingError) as info:
        mapper.map_project(raw, catalog=catalog, fields=PROJECT_FIELDS)
    assert "Project RAG" in str(info.value) and "Entry_00ff" in str(info.value)


def task(task_id: str, **extra: object) -> dict:
    raw = {
        "__metadata": {"type": "PS.PublishedTask"},
        "Id": task_id,
        "Name": "Install conveyors",
        "Start": "2025-02-03T08:00:00",
        "Finish": "2025-02-14T17:00:00",
        "DurationMilliseconds": 288000000,
        "PercentComplete": 0,
        "IsMilestone": False,
        "IsSummary": False,
        "OutlineLevel": 2,
        "WorkBreakdownStructure": "1.2",
        "Modified": "/Date(1740000000000)/",
        "BaselineFinish": "0001-01-01T00:00:00",
        "Parent": {"Id": T1},
    }
    raw.update(extra)
    return odata.entity({"d": raw})


def test_tasks_summary_and_milestone(catalog: CustomFieldCatalog) -> None:
    leaf = mapper.map_task(
        task(T2, PercentComplete=55),
        project_id=PID,
        summary_task_id=SUMMARY,
        catalog=catalog,
        fields={},
        assignee_id=RES,
    )
    assert leaf.values["kind"] == "task"
    assert leaf.values["start"] == "2025-02-03" and leaf.values["due"] == "2025-02-14"
    assert leaf.values["status"] == "active" and leaf.values["key"] == "1.2"
    assert leaf.pointers == {
        "project": RemotePointer(EntityType.PROJECT, PID),
        "parent": RemotePointer(EntityType.WORK_ITEM, T1),
        "assignee": RemotePointer(EntityType.PERSON, RES),
    }
    top = mapper.map_task(
        task(T1, IsSummary=True, Parent={"Id": SUMMARY}, OutlineLevel=1),
        project_id=PID,
        summary_task_id=SUMMARY,
        catalog=catalog,
        fields={},
    )
    assert top.values["kind"] == "summary"
    assert "parent" not in top.pointers  # the project summary task is the project itself
    raw_milestone = task(
        T2,
        IsMilestone=True,
        Start="2025-03-31T17:00:00",
        Finish="2025-03-31T17:00:00",
        BaselineFinish="2025-03-28T17:00:00",
        PercentComplete=100,
    )
    assert mapper.is_milestone(raw_milestone)
    as_item = mapper.map_task(
        raw_milestone, project_id=PID, summary_task_id=SUMMARY, catalog=catalog, fields={}
    )
    assert as_item.values["kind"] == "milestone"
    milestone = mapper.map_milestone(raw_milestone, project_id=PID)
    assert milestone.values == {
        "name": "Install conveyors",
        "due": "2025-03-31",
        "due_at": "2025-03-31T17:00:00",
        "baseline_due": "2025-03-28",
        "status": "done",
        "done": True,
    }
    rebaselined = mapper.map_milestone(
        raw_milestone,
        project_id=PID,
        baseline_finish="/Date(1743084000000)/",
        task_baseline=False,
    )
    assert rebaselined.values["baseline_due"] == "2025-03-27"
    never = mapper.map_milestone(raw_milestone, project_id=PID, task_baseline=False)
    assert never.values["baseline_due"] is None  # no row for baseline N: no fallback to 0


def test_task_custom_field_through_mapping(catalog: CustomFieldCatalog) -> None:
    raw = task(T2, **{"Custom_x005f_aaaaaaaab5c6d7e8f90a1b2c3d4e5f60": "12.5"})
    mapped = mapper.map_task(
        raw,
        project_id=PID,
        summary_task_id=SUMMARY,
        catalog=catalog,
        fields={"story_points": FieldMapping(field="Budget Hours", direction="pull")},
    )
    assert mapped.values["story_points"] == "12.5"


@pytest.mark.parametrize(
    ("code", "lag", "expected_type", "expected_lag"),
    [
        (0, 0, "FF", 0),
        (1, 4800, "FS", 480),  # one 8-hour day
        (2, -2400, "SF", -240),  # half-day lead
        (3, 144000, "SS", 14400),  # 30 days at 480 min/day
        (1, 15, "FS", 2),  # 1.5 minutes rounds half to even
    ],
)
def test_links_types_and_lags(code: int, lag: int, expected_type: str, expected_lag: int) -> None:
    raw = {
        "Id": "L1",
        "DependencyType": code,
        "LinkLag": lag,
        "Start": {"Id": T1},
        "End": {"Id": T2},
    }
    mapped = mapper.map_link(raw)
    assert mapped.values == {
        "link_type": expected_type,
        "lag_minutes": expected_lag,
        "lag_percent": None,
        "lag_elapsed": False,
        "dependency_class": "logic",
        "origin": "pwa_link",
    }
    assert mapped.pointers["predecessor"] == RemotePointer(EntityType.WORK_ITEM, T1)
    assert mapped.pointers["successor"] == RemotePointer(EntityType.WORK_ITEM, T2)


def test_link_flat_ids_and_bad_type() -> None:
    flat = {"PredecessorTaskId": T1, "SuccessorTaskId": T2, "DependencyType": "3", "LinkLag": "0"}
    assert mapper.map_link(flat).values["link_type"] == "SS"
    assert mapper.link_id(flat) == f"{T1}->{T2}"
    with pytest.raises(mapper.MappingError, match="DependencyType 7"):
        mapper.map_link({**flat, "DependencyType": 7})


def test_primary_assignee_is_the_one_with_most_work() -> None:
    other = "00000000-0000-0000-0000-0000000000bb"
    assignments: list[dict[str, Any]] = [
        {"Id": "a1", "Task": {"Id": T1}, "Resource": {"Id": RES}, "Work": "16h"},
        {"Id": "a2", "TaskId": T1, "ResourceId": other, "Work": "40h"},
        {"Id": "a3", "TaskId": T2, "ResourceId": other, "WorkMilliseconds": 100},
        {"Id": "a4", "TaskId": T2, "ResourceId": RES, "WorkMilliseconds": 100},
    ]
    assert mapper.primary_assignees(assignments) == {T1: other, T2: other}


def test_resource_as_person() -> None:
    mapped = mapper.map_resource(
        {"Id": RES, "Name": "Dana Scully", "Email": "dana@contoso.com", "IsActive": True}
    )
    assert mapped.values == {"name": "Dana Scully", "email": "dana@contoso.com"}


def test_issues_and_risks_from_projectdata(catalog: CustomFieldCatalog) -> None:
    issue = {
        "ProjectId": PID,
        "IssueId": 7,
        "Title": "Vendor late",
        "Status": "(1) Active",
        "Priority": "(1) High",
        "AssignedToResource": "Dana Scully",
        "DueDate": "/Date(1740787200000)/",
        "ModifiedDate": "2025-02-20T10:00:00",
    }
    mapped = mapper.map_raid(
        "issue", issue, fields={}, catalog=catalog, resources_by_name={"dana scully": RES}
    )
    assert mapper.raid_id("issue", issue) == f"issue/{PID}/7"
    assert mapped.values == {
        "name": "Vendor late",
        "kind": "issue",
        "status": "active",
        "due": "2025-03-01",
    }
    assert mapped.pointers["owner"] == RemotePointer(EntityType.PERSON, RES)
    risk = {
        "ProjectId": PID,
        "RiskId": 3,
        "Title": "Power outage",
        "Status": "(3) Closed",
        "Probability": 35,
        "Impact": 9,
        "MitigationPlan": "Generator",
        "AssignedToResource": "Nobody Known",
    }
    mapped_risk = mapper.map_raid("risk", risk, fields={}, catalog=catalog)
    assert mapped_risk.values == {
        "name": "Power outage",
        "kind": "risk",
        "status": "done",
        "due": None,
        "probability": 2,
        "impact": 5,
        "mitigation": "Generator",
    }
    assert "owner" not in mapped_risk.pointers
    with pytest.raises(mapper.MappingError, match="status"):
        mapper.map_raid("risk", {**risk, "Status": "Weird"}, fields={}, catalog=catalog)


def test_project_write_custom_fields_and_draft(catalog: CustomFieldCatalog) -> None:
    write = mapper.project_write(
        {
            "rag_computed": "R",
            "next_milestone_date": "2025-05-30",
            "pmo_status": "On track",
            "name": "Warehouse Automation II",
        },
        fields=PROJECT_FIELDS,
        catalog=catalog,
    )
    assert write.custom_field_dictionary() == [
        {"Key": f"Custom_{RAG_HEX}", "Value": RED, "ValueType": "Edm.String"},
        {
            "Key": f"Custom_{FORECAST_HEX}",
            "Value": "2025-05-30T00:00:00",
            "ValueType": "Edm.DateTime",
        },
        {"Key": f"Custom_{CODE_HEX}", "Value": "On track", "ValueType": "Edm.String"},
    ]
    assert write.draft == {"Name": "Warehouse Automation II"}
    with pytest.raises(mapper.MappingError, match="pull-only"):
        mapper.project_write({"code": "X"}, fields=PROJECT_FIELDS, catalog=catalog)
    with pytest.raises(mapper.MappingError, match="not mapped"):
        mapper.project_write({"budget": 5}, fields=PROJECT_FIELDS, catalog=catalog)
    with pytest.raises(mapper.MappingError, match="no remote option"):
        mapper.project_write({"rag_computed": "grey"}, fields=PROJECT_FIELDS, catalog=catalog)


def test_task_write_body() -> None:
    body = mapper.task_write(
        {"name": "Go live", "start": "2025-04-01", "due": date(2025, 4, 3), "percent_complete": 50},
        fields={},
    )
    assert body == {
        "Name": "Go live",
        "Start": "2025-04-01T08:00:00",
        "Finish": "2025-04-03T17:00:00",
        "PercentComplete": 50,
    }
    with pytest.raises(mapper.MappingError, match="cannot be written"):
        mapper.task_write({"labels": ["x"]}, fields={})


# -- the schedule ----------------------------------------------------------------------------


def scheduled_task(**extra: object) -> dict:
    """A PublishedTask with the schedule properties Microsoft's $metadata declares."""
    props: dict[str, Any] = dict(
        Duration="10d",
        DurationMilliseconds=288000000,
        DurationTimeSpan="P3DT8H",  # 80 working hours written as 24-hour days
        RemainingDuration="5d",
        RemainingDurationMilliseconds=144000000,
        RemainingDurationTimeSpan="P1DT16H",
        Work="120h",
        WorkMilliseconds=432000000,
        WorkTimeSpan="P5D",
        IsManual=False,
        IsCritical=True,
        ConstraintType=4,  # SNET
        ConstraintStartEnd="2025-02-03T08:00:00",
        Deadline="2025-02-21T17:00:00",
        ActualStart="2025-02-03T08:00:00",
        ActualFinish="0001-01-01T00:00:00",
        TotalSlack="-2d",
        TotalSlackMilliseconds=-57600000,
        TotalSlackTimeSpan="-PT16H",
        FreeSlack="0d",
        FreeSlackMilliseconds=0,
        FreeSlackTimeSpan="PT0S",
        BaselineStart="2025-01-27T08:00:00",
        BaselineFinish="2025-02-07T17:00:00",
        BaselineDurationMilliseconds=288000000,
        BaselineWorkMilliseconds=288000000,
        BaselineCost=1200.5,
    )
    props.update(extra)
    return task(T2, **props)


def test_task_keeps_the_schedule(catalog: CustomFieldCatalog) -> None:
    mapped = mapper.map_task(
        scheduled_task(),
        project_id=PID,
        summary_task_id=SUMMARY,
        catalog=catalog,
        fields={},
    )
    values = mapped.values
    assert values["start_at"] == "2025-02-03T08:00:00"
    assert values["finish_at"] == "2025-02-14T17:00:00"
    assert values["outline_level"] == 2
    assert Decimal(values["duration_minutes"]) == 4800  # from the TimeSpan: 80 h
    assert values["duration_unit"] == "d" and values["duration_elapsed"] is False
    assert Decimal(values["remaining_minutes"]) == 2400
    assert Decimal(values["work_minutes"]) == 7200
    assert values["schedule_mode"] == "auto"
    assert values["constraint_type"] == "SNET"
    assert values["constraint_date"] == "2025-02-03T08:00:00"
    assert values["deadline"] == "2025-02-21T17:00:00"
    assert values["actual_start"] == "2025-02-03T08:00:00"
    assert values["actual_finish"] is None  # the 0001-01-01 sentinel
    assert values["source_critical"] is True
    assert Decimal(values["source_total_slack_minutes"]) == -960
    assert Decimal(values["source_free_slack_minutes"]) == 0
    assert values["baselines"] == [
        {
            "number": 0,
            "start": "2025-01-27T08:00:00",
            "finish": "2025-02-07T17:00:00",
            "duration_minutes": "4800",
            "work_minutes": "4800",
            "cost": "1200.5",
        }
    ]
    manual = mapper.map_task(
        scheduled_task(IsManual=True, ConstraintType=-1, Duration="3ed"),
        project_id=PID,
        summary_task_id=SUMMARY,
        catalog=catalog,
        fields={},
    ).values
    assert manual["schedule_mode"] == "manual"
    assert manual.get("constraint_type") is None  # -1: NotSpecified
    assert manual["duration_unit"] == "ed" and manual["duration_elapsed"] is True


def test_durations_past_the_int32_milliseconds_come_from_the_timespan() -> None:
    # 100 working days of 480 min = 2 880 000 000 ms: more than an Edm.Int32 holds
    raw = {"Duration": "100d", "DurationMilliseconds": -1414967296, "DurationTimeSpan": "P33DT8H"}
    assert mapper.amount_minutes(raw, "Duration", mapper.ProjectTime()) == 48000
    # neither form: the display string with the project's own day length
    assert mapper.amount_minutes(
        {"Duration": "2.5d"}, "Duration", mapper.ProjectTime(minutes_per_day=420)
    ) == Decimal("1050.0")
    assert mapper.amount_minutes({"Duration": "50%"}, "Duration", mapper.ProjectTime()) is None


def test_unknown_constraint_code_names_the_field(catalog: CustomFieldCatalog) -> None:
    with pytest.raises(mapper.MappingError, match="constraint_type"):
        mapper.map_task(
            scheduled_task(ConstraintType=12),
            project_id=PID,
            summary_task_id=SUMMARY,
            catalog=catalog,
            fields={},
        )


def test_every_assignment_and_the_task_custom_values(catalog: CustomFieldCatalog) -> None:
    other = "00000000-0000-0000-0000-0000000000bb"
    rows: list[dict[str, Any]] = [
        {
            "Id": "a1",
            "Task": {"Id": T2},
            "Resource": {"Id": RES, "Name": "Ava Patel"},
            "WorkTimeSpan": "PT16H",
            "ActualWorkTimeSpan": "PT4H",
            "RemainingWorkTimeSpan": "PT12H",
            "Start": "2025-02-03T08:00:00",
            "Finish": "2025-02-04T17:00:00",
            "Cost": 800,
        },
        {"Id": "a2", "Task": {"Id": T2}, "Resource": {"Id": other, "Name": "Ben"}, "Work": "8h"},
        {
            "Id": "a3",
            "Task": {"Id": T1},
            "Resource": {"Id": "00000000-0000-0000-0000-000000000000"},
        },
    ]
    by_task = mapper.assignments_by_task(rows, mapper.ProjectTime())
    assert [a["resource"] for a in by_task[T2.lower()]] == [other, RES]
    assert T1.lower() not in by_task  # an unassigned placeholder row is no assignment
    raw = scheduled_task(**{"Custom_x005f_aaaaaaaab5c6d7e8f90a1b2c3d4e5f60": "12.5"})
    mapped = mapper.map_task(
        raw,
        project_id=PID,
        summary_task_id=SUMMARY,
        catalog=catalog,
        fields={},
        assignments=by_task[T2.lower()],
    )
    first, second = mapped.values["assignments"]
    assert first["resource_name"] == "Ben" and first["work_minutes"] == "480"
    assert second == {
        "resource": RES,
        "resource_name": "Ava Patel",
        "person": None,
        "units_percent": None,
        "work_minutes": "960",
        "actual_work_minutes": "240",
        "remaining_work_minutes": "720",
        "start": "2025-02-03T08:00:00",
        "finish": "2025-02-04T17:00:00",
        "cost": "800",
    }
    assert mapped.values["custom"] == {"Budget Hours": "12.5"}


def test_reporting_baselines_zero_to_ten() -> None:
    rows = [
        {
            "TaskId": T2.upper(),
            "BaselineNumber": number,
            "TaskBaselineStartDate": "/Date(1738569600000)/",  # 2025-02-03T08:00
            "TaskBaselineFinishDate": "2025-02-14T17:00:00",
            "TaskBaselineDuration": 10,  # days in the reporting feed
            "TaskBaselineWork": 80.0,  # hours
            "TaskBaselineCost": 0,
        }
        for number in (10, 0, 3)
    ]
    found = mapper.reporting_baselines(rows, mapper.ProjectTime(minutes_per_day=450))
    assert [b["number"] for b in found[T2.lower()]] == [0, 3, 10]
    first = found[T2.lower()][0]
    assert first["start"] == datetime(2025, 2, 3, 8, 0)
    assert first["duration_minutes"] == 4500 and first["work_minutes"] == 4800
    mapped = mapper.map_task(
        scheduled_task(),
        project_id=PID,
        summary_task_id=SUMMARY,
        catalog=CustomFieldCatalog(()),
        fields={},
        baselines=found[T2.lower()],
    )
    assert [b["number"] for b in mapped.values["baselines"]] == [0, 3, 10]


@pytest.mark.parametrize(
    ("fmt", "lag", "expected"),
    [
        (7, 4800, {"lag_minutes": 480, "lag_percent": None, "lag_elapsed": False}),
        (39, 4800, {"lag_minutes": 480, "lag_percent": None, "lag_elapsed": False}),  # 1d?
        (8, 14400, {"lag_minutes": 1440, "lag_percent": None, "lag_elapsed": True}),  # 1ed
        (19, 500, {"lag_minutes": 0, "lag_percent": "50", "lag_elapsed": False}),  # 50 %
        (20, -250, {"lag_minutes": 0, "lag_percent": "-25", "lag_elapsed": True}),
    ],
)
def test_link_lag_formats(fmt: int, lag: int, expected: dict[str, Any]) -> None:
    raw = {
        "Id": "L1",
        "PredecessorTaskId": T1,
        "SuccessorTaskId": T2,
        "DependencyType": 1,
        "LinkLag": lag,
        "LinkLagFmt": fmt,
        "ProjUid": PID,
    }
    values = mapper.map_link(raw).values
    assert {k: values[k] for k in expected} == expected
    assert values["origin"] == "pwa_link"


def test_sharepoint_2019_links_without_lag_fields() -> None:
    # PS.PublishedTaskLink in SharePoint 2019's $metadata: Id, DependencyType, Start, End
    raw = {"Id": "L1", "DependencyType": 1, "Start": {"Id": T1}, "End": {"Id": T2}}
    mapped = mapper.map_link(raw)
    assert mapped.values["lag_minutes"] == 0
    assert mapped.pointers["predecessor"] == RemotePointer(EntityType.WORK_ITEM, T1)
    with pytest.raises(mapper.MappingError, match="LinkLagFmt"):
        mapper.map_link({**raw, "LinkLag": 0, "LinkLagFmt": 13})
    text_only = mapper.map_link({**raw, "LinkLagDuration": "2d"}, mapper.ProjectTime())
    assert text_only.values["lag_minutes"] == 960


def _exception(**extra: object) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "Id": 0,
        "Name": "Holiday",
        "Start": "2026-12-25T00:00:00",
        "Finish": "2026-12-28T00:00:00",
        "RecurrenceType": 0,
        "RecurrenceFrequency": 1,
        "RecurrenceDays": 0,
        "RecurrenceMonth": 0,
        "RecurrenceMonthDay": 0,
        "RecurrenceWeek": 0,
    }
    for number in range(1, 6):
        raw[f"Shift{number}Start"] = raw[f"Shift{number}Finish"] = 0
    raw.update(extra)
    return raw


def test_calendar_exceptions_spans_shifts_and_recurrences() -> None:
    raw = {
        "__metadata": {"type": "PS.Calendar"},
        "Id": "5f0c7b1e-3a2d-4c8b-9e61-0d4f2a7b9c13",
        "Name": "Operations",
        "IsStandardCalendar": False,
        "Modified": "2026-08-01T00:00:00",
        "BaseCalendarExceptions": {
            "results": [
                _exception(),
                _exception(
                    Id=1,
                    Name="Half day",
                    Start="2026-12-24T00:00:00",
                    Finish="2026-12-24T00:00:00",
                    Shift1Start=480,
                    Shift1Finish=720,
                ),
                _exception(
                    Id=2,
                    Name="Short Fridays",
                    Start="2026-10-01T00:00:00",
                    Finish="2026-10-31T00:00:00",
                    RecurrenceType=2,
                    RecurrenceDays=32,  # Friday (Sunday = 1)
                    Shift1Start=480,
                    Shift1Finish=720,
                    Shift2Start=780,
                    Shift2Finish=900,
                ),
                _exception(
                    Id=3,
                    Name="Founders",
                    Start="2026-01-01T00:00:00",
                    Finish="2028-12-31T00:00:00",
                    RecurrenceType=4,
                    RecurrenceMonth=11,
                    RecurrenceMonthDay=6,
                ),
            ]
        },
    }
    values = mapper.map_calendar(odata.entity({"d": raw})).values
    assert values["name"] == "Operations"
    spans = [(e["name"], e["start"], e["finish"], e["intervals"]) for e in values["exceptions"]]
    assert spans[0] == ("Holiday", "2026-12-25", "2026-12-28", [])
    assert spans[1] == ("Half day", "2026-12-24", "2026-12-24", [[480, 720]])  # JSON form
    fridays = [s for s in spans if s[0] == "Short Fridays"]
    assert [s[1] for s in fridays] == [
        "2026-10-02",
        "2026-10-09",
        "2026-10-16",
        "2026-10-23",
        "2026-10-30",
    ]
    assert fridays[0][3] == [[480, 720], [780, 900]]
    assert [s[1] for s in spans if s[0] == "Founders"] == ["2026-11-06", "2027-11-06", "2028-11-06"]
    with pytest.raises(mapper.MappingError, match="RecurrenceType"):
        mapper.map_calendar({**raw, "BaseCalendarExceptions": [_exception(RecurrenceType=9)]})


def test_project_time_zone_status_date_and_calendar(catalog: CustomFieldCatalog) -> None:
    cal = "5f0c7b1e-3a2d-4c8b-9e61-0d4f2a7b9c13"
    mapped = mapper.map_project(
        published_project(StatusDate="2025-03-07T17:00:00", Calendar={"Id": cal, "Name": "x"}),
        catalog=catalog,
        fields={},
        time_zone="Europe/London",
    )
    assert mapped.values["time_zone"] == "Europe/London"
    assert mapped.values["status_date"] == "2025-03-07T17:00:00"
    assert mapped.pointers == {"calendar": RemotePointer(EntityType.CALENDAR, cal)}
