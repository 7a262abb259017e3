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
        "dependency_class": "logic",
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
