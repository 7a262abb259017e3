"""The PMO register's programme side, added to the Airtable base for the demo: a Programmes
table (projects link to it), consolidated-status fields on Projects, and a Status history
table pmo-sync appends to (one row per project per run whose status changed).

Ids are drawn after the base's own, so adding the register never changes the other ids.
"""

from __future__ import annotations

from typing import Any

# The same programmes Project Server's "Programme" lookup holds (sandbox/pwa/seed.py), in the
# same turn, so the register, Jira's project categories and the schedules agree.
PROGRAMMES = (
    ("PRG-DWP", "Digital Workplace"),
    ("PRG-CPL", "Customer Platform"),
    ("PRG-DNA", "Data & Analytics"),
)
RAGS = ("Green", "Amber", "Red")
RAG_VALUES = {"Green": "G", "Amber": "A", "Red": "R"}
PROJECT_EXTRA = (
    "Programme",
    "PMO RAG",
    "PMO status",
    "Forecast finish",
    "Slip (working days)",
    "Blocked by",
    "Critical",
)
PROGRAMME_FIELDS = (
    "Name",
    "Code",
    "PMO RAG",
    "PMO status",
    "Next milestone",
    "Next milestone date",
    "Overdue milestones",
    "Slip (working days)",
    "Dependencies",
    "RAID",
    "Percent complete",
    "Critical chain",
    "pmo-sync id",
    "Projects",
)
HISTORY_FIELDS = ("Summary", "Project", "Date", "RAG", "pmo-sync id")


def extend_layout(layout: dict[str, Any]) -> None:
    ids = layout["ids"]
    layout["tables"]["Programmes"] = ids.new("tbl")
    layout["tables"]["Status history"] = ids.new("tbl")
    layout["fields"]["Projects"].update({name: ids.new("fld") for name in PROJECT_EXTRA})
    layout["fields"]["Programmes"] = {name: ids.new("fld") for name in PROGRAMME_FIELDS}
    layout["fields"]["Status history"] = {name: ids.new("fld") for name in HISTORY_FIELDS}
    layout["views"]["Programmes"] = {"Grid view": ids.new("viw")}
    layout["views"]["Status history"] = {"Grid view": ids.new("viw")}


def _choices(ids: Any) -> dict[str, Any]:
    colors = {"Green": "greenLight2", "Amber": "yellowLight2", "Red": "redLight2"}
    return {"choices": [{"id": ids.new("sel"), "name": n, "color": colors[n]} for n in RAGS]}


def extend_specs(specs: list[dict[str, Any]], layout: dict[str, Any]) -> None:
    t, f, v, ids = layout["tables"], layout["fields"], layout["views"], layout["ids"]
    p, g, h = f["Projects"], f["Programmes"], f["Status history"]
    date_opts = {"dateFormat": {"name": "iso", "format": "YYYY-MM-DD"}}
    written = "Written by pmo-sync"
    specs[0]["fields"] += [
        {
            "id": p["Programme"],
            "name": "Programme",
            "type": "multipleRecordLinks",
            "options": {
                "linkedTableId": t["Programmes"],
                "inverseLinkFieldId": g["Projects"],
                "isReversed": False,
                "prefersSingleRecordLink": True,
            },
        },
        {
            "id": p["PMO RAG"],
            "name": "PMO RAG",
            "type": "singleSelect",
            "options": _choices(ids),
            "description": written,
        },
        {"id": p["PMO status"], "name": "PMO status", "type": "multilineText"},
        {
            "id": p["Forecast finish"],
            "name": "Forecast finish",
            "type": "date",
            "options": date_opts,
        },
        {
            "id": p["Slip (working days)"],
            "name": "Slip (working days)",
            "type": "number",
            "options": {"precision": 1},
        },
        {"id": p["Blocked by"], "name": "Blocked by", "type": "multilineText"},
        {
            "id": p["Critical"],
            "name": "Critical",
            "type": "checkbox",
            "options": {"icon": "check", "color": "redBright"},
        },
    ]
    programme_fields: list[dict[str, Any]] = [
        {"id": g["Name"], "name": "Name", "type": "singleLineText"},
        {"id": g["Code"], "name": "Code", "type": "singleLineText"},
        {"id": g["PMO RAG"], "name": "PMO RAG", "type": "singleSelect", "options": _choices(ids)},
        {"id": g["PMO status"], "name": "PMO status", "type": "multilineText"},
        {"id": g["Next milestone"], "name": "Next milestone", "type": "singleLineText"},
        {
            "id": g["Next milestone date"],
            "name": "Next milestone date",
            "type": "date",
            "options": date_opts,
        },
        {
            "id": g["Overdue milestones"],
            "name": "Overdue milestones",
            "type": "number",
            "options": {"precision": 0},
        },
        {
            "id": g["Slip (working days)"],
            "name": "Slip (working days)",
            "type": "number",
            "options": {"precision": 1},
        },
        {"id": g["Dependencies"], "name": "Dependencies", "type": "singleLineText"},
        {"id": g["RAID"], "name": "RAID", "type": "singleLineText"},
        {
            "id": g["Percent complete"],
            "name": "Percent complete",
            "type": "number",
            "options": {"precision": 1},
        },
        {"id": g["Critical chain"], "name": "Critical chain", "type": "multilineText"},
        {"id": g["pmo-sync id"], "name": "pmo-sync id", "type": "singleLineText"},
        {
            "id": g["Projects"],
            "name": "Projects",
            "type": "multipleRecordLinks",
            "options": {
                "linkedTableId": t["Projects"],
                "inverseLinkFieldId": p["Programme"],
                "isReversed": False,
                "prefersSingleRecordLink": False,
            },
        },
    ]
    specs.append(
        {
            "id": t["Programmes"],
            "name": "Programmes",
            "description": "The portfolio's programmes; projects link to theirs",
            "fields": programme_fields,
            "views": [{"id": v["Programmes"]["Grid view"], "name": "Grid view"}],
        }
    )
    specs.append(
        {
            "id": t["Status history"],
            "name": "Status history",
            "description": "One row per project per sync whose status changed (pmo-sync)",
            "fields": [
                {"id": h["Summary"], "name": "Summary", "type": "multilineText"},
                {
                    "id": h["Project"],
                    "name": "Project",
                    "type": "multipleRecordLinks",
                    "options": {
                        "linkedTableId": t["Projects"],
                        "isReversed": False,
                        "prefersSingleRecordLink": True,
                    },
                },
                {"id": h["Date"], "name": "Date", "type": "date", "options": date_opts},
                {"id": h["RAG"], "name": "RAG", "type": "singleSelect", "options": _choices(ids)},
                {"id": h["pmo-sync id"], "name": "pmo-sync id", "type": "singleLineText"},
            ],
            "views": [{"id": v["Status history"]["Grid view"], "name": "Grid view"}],
        }
    )


def seed(specs: list[dict[str, Any]], layout: dict[str, Any], stamp: str) -> None:
    """Three programmes; the projects are spread over them in turn."""
    ids = layout["ids"]
    records = [
        {"id": ids.new("rec"), "createdTime": stamp, "fields": {"Code": code, "Name": name}}
        for code, name in PROGRAMMES
    ]
    programmes = next(s for s in specs if s["id"] == layout["tables"]["Programmes"])
    programmes["records"] = records
    for index, project in enumerate(specs[0].get("records", [])):
        project["fields"]["Programme"] = [records[index % len(records)]["id"]]
    history = next(s for s in specs if s["id"] == layout["tables"]["Status history"])
    history["records"] = []


def extend_mapping(mapping: dict[str, Any], layout: dict[str, Any]) -> None:
    t, f = layout["tables"], layout["fields"]
    p, g, h = f["Projects"], f["Programmes"], f["Status history"]
    push = "push"
    mapping["entities"]["project"]["fields"].update(
        {
            "programme": {"field": p["Programme"]},
            "rag_computed": {"field": p["PMO RAG"], "values": dict(RAG_VALUES)},
            "pmo_status": {"field": p["PMO status"]},
            "forecast_finish": {"field": p["Forecast finish"]},
            "slip_days": {"field": p["Slip (working days)"]},
            "blocking_items": {"field": p["Blocked by"]},
            "critical": {"field": p["Critical"]},
        }
    )
    mapping["entities"]["programme"] = {
        "table": t["Programmes"],
        "id_field": g["pmo-sync id"],
        "fields": {
            "name": {"field": g["Name"]},
            "code": {"field": g["Code"]},
            "rag_computed": {"field": g["PMO RAG"], "values": dict(RAG_VALUES)},
            "pmo_status": {"field": g["PMO status"]},
            "next_milestone": {"field": g["Next milestone"]},
            "next_milestone_date": {"field": g["Next milestone date"]},
            "overdue_milestones": {"field": g["Overdue milestones"]},
            "slip_days": {"field": g["Slip (working days)"]},
            "dependency_health": {"field": g["Dependencies"]},
            "raid_summary": {"field": g["RAID"]},
            "percent_complete_computed": {"field": g["Percent complete"]},
            "critical_chain": {"field": g["Critical chain"]},
        },
    }
    mapping["entities"]["status_report"] = {
        "table": t["Status history"],
        "id_field": h["pmo-sync id"],
        "create_missing": True,
        "fields": {
            "summary": {"field": h["Summary"], "direction": push},
            "project": {"field": h["Project"], "direction": push},
            "period_end": {"field": h["Date"], "direction": push},
            "rag": {"field": h["RAG"], "values": dict(RAG_VALUES), "direction": push},
        },
    }
