"""Airtable rows with dates are entered schedules: no scheduler, no invented durations."""

from __future__ import annotations

from pmosync.canonical_model import EntityType
from pmosync.connectors.airtable.mapper import ResolvedField, TableMap, to_canonical

TABLE = TableMap(
    entity_type=EntityType.WORK_ITEM,
    table_id="tblWork",
    fields=(
        ResolvedField("name", "fldName", "singleLineText", None),
        ResolvedField("start", "fldStart", "date", None),
        ResolvedField("due", "fldDue", "date", None),
    ),
    id_field=None,
    constants={},
    modified_field=None,
)


def test_a_dated_row_is_entered_and_gets_no_duration() -> None:
    values, _ = to_canonical(
        {"id": "rec1", "fields": {"fldName": "Cut over", "fldDue": "2026-11-30"}}, TABLE
    )
    assert values["schedule_mode"] == "entered" and values["due"] == "2026-11-30"
    assert "duration_minutes" not in values


def test_an_undated_row_has_no_schedule_mode() -> None:
    values, _ = to_canonical({"id": "rec2", "fields": {"fldName": "Someday"}}, TABLE)
    assert "schedule_mode" not in values
