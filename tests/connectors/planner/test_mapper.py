"""Pure Planner Premium mapping: link numbering and lag units from the reference, durations in
days of the project's hours per day, UTC instants to local wall-clock times and back."""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from pmosync.config.mapping import FieldMapping
from pmosync.connectors.planner import mapper

LONDON = ZoneInfo("Europe/London")
TASK = {
    "msdyn_projecttaskid": "A1B2C3D4-0000-0000-0000-000000000001",
    "msdyn_subject": "Build",
    "_msdyn_parenttask_value": "a1b2c3d4-0000-0000-0000-000000000000",
    "msdyn_scheduledstart": "2026-07-06T07:00:00Z",
    "msdyn_scheduledend": "2026-07-08T16:00:00Z",
    "msdyn_duration": 3.0,
    "msdyn_effort": 24.0,
    "msdyn_progress": 50.0,
    "msdyn_outlinelevel": 2,
    "msdyn_ismanual": True,
    "modifiedon": "2026-07-01T10:00:00Z",
    "@odata.etag": 'W/"1234"',
}


@pytest.mark.parametrize(("code", "link"), [(0, "FF"), (1, "FS"), (2, "SF"), (3, "SS")])
def test_link_types_follow_the_mspdi_numbering(code: int, link: str) -> None:
    row = {
        "_msdyn_predecessortask_value": "p",
        "_msdyn_successortask_value": "s",
        "msdyn_projecttaskdependencylinktype": code,
        "msdyn_projecttaskdependencylinklag": 7200,
    }
    mapped = mapper.map_dependency(row)
    assert mapped.values["link_type"] == link
    assert mapped.values["lag_minutes"] == 120  # seconds, as MPXJ reads them
    assert mapped.pointers["predecessor"].external_id == "p"


def test_unknown_link_type_is_an_error_naming_the_column() -> None:
    row = {
        "_msdyn_predecessortask_value": "p",
        "_msdyn_successortask_value": "s",
        "msdyn_projecttaskdependencylinktype": 9,
    }
    with pytest.raises(mapper.MappingError, match="msdyn_projecttaskdependencylinktype"):
        mapper.map_dependency(row)


def test_task_schedule_in_local_time_with_durations_in_project_days() -> None:
    mapped = mapper.map_task(
        TASK,
        project_id="proj",
        zone=LONDON,
        time_factors=mapper.ProjectTime(Decimal("7.5")),
        bucket="Build lane",
        assignments=[],
        fields={},
    )
    values = mapped.values
    # canonical values are in their JSON form
    assert values["start_at"] == datetime(2026, 7, 6, 8, 0).isoformat()  # BST
    assert values["finish_at"] == datetime(2026, 7, 8, 17, 0).isoformat()
    assert values["start"] == "2026-07-06" and values["due"] == "2026-07-08"
    assert values["duration_minutes"] == "1350"  # 3 days x 7.5 h
    assert values["remaining_minutes"] == "675"
    assert values["work_minutes"] == "1440"
    assert values["schedule_mode"] == "manual" and values["status"] == "active"
    assert values["labels"] == ["Build lane"] and values["outline_level"] == 2
    assert mapped.pointers["parent"].external_id == "a1b2c3d4-0000-0000-0000-000000000000"
    assert mapped.version_token == 'W/"1234"'


def test_task_writes_name_the_columns_the_mapping_gives_authority_over() -> None:
    fields = {
        "due": FieldMapping(field="msdyn_scheduledend"),
        "percent_complete": FieldMapping(field="msdyn_progress"),
        "name": FieldMapping(field="msdyn_subject", direction="pull"),
    }
    columns = mapper.task_columns(
        {"due": date(2026, 7, 10), "percent_complete": Decimal("80")},
        fields=fields,
        zone=LONDON,
        day_start=time(8),
        day_finish=time(17),
    )
    assert columns == {"msdyn_scheduledend": "2026-07-10T16:00:00Z", "msdyn_progress": 80.0}
    with pytest.raises(mapper.MappingError, match="name"):
        mapper.task_columns(
            {"name": "x"}, fields=fields, zone=LONDON, day_start=time(8), day_finish=time(17)
        )


def test_project_columns_translate_options_and_refuse_unmapped_fields() -> None:
    fields = {
        "rag": FieldMapping(field="pmo_rag", values={"Green": "G", "Red": "R"}),
        "forecast_finish": FieldMapping(field="pmo_forecastfinish"),
    }
    columns = mapper.project_columns({"rag": "R", "forecast_finish": date(2027, 1, 4)}, fields)
    assert columns == {"pmo_rag": "Red", "pmo_forecastfinish": "2027-01-04"}
    with pytest.raises(mapper.MappingError, match="slip_days"):
        mapper.project_columns({"slip_days": 3}, fields)
    with pytest.raises(mapper.MappingError, match="no remote option"):
        mapper.project_columns({"rag": "A"}, fields)
