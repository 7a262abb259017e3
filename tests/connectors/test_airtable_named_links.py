"""An Airtable dependency row naming items in other tools in text cells (an explicit
cross-tool link), beside the usual linked-record cells."""

from __future__ import annotations

from pmosync.canonical_model import EntityType
from pmosync.canonical_model.provenance import NAMED_POINTER
from pmosync.connectors.airtable.mapper import ResolvedField, TableMap, to_canonical

TABLE = TableMap(
    entity_type=EntityType.DEPENDENCY,
    table_id="tblDEPS",
    fields=(
        ResolvedField("predecessor", "fldPRED", "singleLineText", None),
        ResolvedField("successor", "fldSUCC", "multipleRecordLinks", None),
        ResolvedField("link_type", "fldTYPE", "singleSelect", None),
    ),
    id_field=None,
    constants={},
    modified_field=None,
)


def test_a_text_cell_names_an_item_in_any_tool_and_a_linked_record_points_in_the_base() -> None:
    record = {
        "id": "recD1",
        "fields": {"fldPRED": "P001 / Go-live", "fldSUCC": ["recEPIC"], "fldTYPE": "FS"},
    }
    values, pointers = to_canonical(record, TABLE)
    assert values == {"link_type": "FS"}
    assert pointers["predecessor"].external_id == NAMED_POINTER + "P001 / Go-live"
    assert pointers["predecessor"].entity_type is EntityType.WORK_ITEM
    assert pointers["successor"].external_id == "recEPIC"


def test_an_empty_text_cell_names_nothing() -> None:
    record = {"id": "recD2", "fields": {"fldPRED": "  ", "fldSUCC": ["recEPIC"], "fldTYPE": "SS"}}
    _, pointers = to_canonical(record, TABLE)
    assert "predecessor" not in pointers
