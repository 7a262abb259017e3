"""The ``airtable`` scenario: one Airtable base holding a PMO's Projects, Milestones and Risks.

Everything is derived from ``seed`` (ids, token, names, dates) and ``today``, so two runs with
the same options produce the same base. Dates spread around ``today``: some milestones are done,
some are overdue (past due, not done), some lie ahead, so the computed fields pmo-sync pushes
back (next milestone, overdue count) have something to say.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from typing import Any

from pmosync.sandbox.airtable import AirtableEmulator
from pmosync.sandbox.airtable.store import IdFactory
from pmosync.sandbox.harness import Scenario, ServiceSpec

BASE_ID = "appPMOSANDBOX0001"
BASE_NAME = "PMO Portfolio"

PROJECT_NAMES = (
    "Customer Portal Relaunch",
    "ERP Finance Migration",
    "Data Warehouse Consolidation",
    "Mobile App 3.0",
    "Warehouse Automation Pilot",
    "Identity & Access Overhaul",
    "Payments Platform Upgrade",
    "HR Self-Service Rollout",
    "Network Refresh Phase 2",
    "Regulatory Reporting (IFRS 17)",
    "Field Service Scheduling",
    "Supplier Onboarding Portal",
    "Contact Centre Cloud Move",
    "Analytics Self-Service",
    "Document Management Replacement",
    "Sustainability Dashboard",
)
SPONSORS = (
    "Maria Keller (CFO)",
    "Tom Okafor (COO)",
    "Priya Raman (CIO)",
    "Jonas Berg (CMO)",
    "Elena Rossi (CHRO)",
    "David Chen (CTO)",
)
MILESTONE_STEPS = (
    "Kick-off",
    "Requirements signed off",
    "Design approved",
    "Build complete",
    "UAT complete",
    "Go-live",
    "Hypercare exit",
)
RISKS = (
    ("Key supplier delivery slips", "Weekly supplier checkpoint; penalty clause in contract"),
    ("Test environment not ready", "Book shared environment early; fallback to cloud sandbox"),
    ("Budget overrun on licences", "Re-negotiate tiering before renewal"),
    ("Scarce data migration skills", "Contract two specialists; pair with internal team"),
    ("Regulatory change mid-project", "Monthly compliance review with legal"),
    ("Low user adoption", "Change champions per department; early training"),
    ("Integration API rate limits", "Batch writes and pace calls below the vendor limit"),
    ("Key person dependency", "Document runbooks; cross-train a deputy"),
)
PROJECT_STATUSES = ("Not started", "In progress", "On hold", "Done", "Cancelled")
RISK_STATUSES = ("Open", "Mitigating", "Closed")
RAGS = ("Green", "Amber", "Red")
SELECT_COLORS = ("grayLight2", "blueLight2", "yellowLight2", "greenLight2", "redLight2")
RAG_COLORS = {"Green": "greenBright", "Amber": "orangeBright", "Red": "redBright"}


def _choices(names: tuple[str, ...], ids: IdFactory, colors: dict[str, str] | None = None) -> dict:
    return {
        "choices": [
            {
                "id": ids.new("sel"),
                "name": name,
                "color": (colors or {}).get(name, SELECT_COLORS[i % len(SELECT_COLORS)]),
            }
            for i, name in enumerate(names)
        ]
    }


def _token(rng: random.Random) -> str:
    alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    token_id = "pat" + "".join(rng.choice(alnum) for _ in range(14))
    return token_id + "." + "".join(rng.choice("0123456789abcdef") for _ in range(64))


def build_layout(seed: int) -> dict[str, Any]:
    """Table and field ids for the base, deterministic for ``seed``."""
    ids = IdFactory(f"airtable-pmo-ids-{seed}")
    table_ids = {name: ids.new("tbl") for name in ("Projects", "Milestones", "Risks")}
    project_fields = (
        "Name",
        "Code",
        "Status",
        "Start date",
        "Finish date",
        "RAG",
        "Sponsor",
        "Next milestone",
        "Next milestone date",
        "Overdue milestones",
        "pmo-sync id",
        "Milestones",
        "Risks",
        "Milestone count",
        "Last modified",
    )
    milestone_fields = ("Name", "Project", "Due date", "Done", "pmo-sync id")
    risk_fields = (
        "Name",
        "Project",
        "Probability",
        "Impact",
        "Score",
        "Status",
        "Mitigation",
        "pmo-sync id",
    )
    fields = {
        "Projects": {name: ids.new("fld") for name in project_fields},
        "Milestones": {name: ids.new("fld") for name in milestone_fields},
        "Risks": {name: ids.new("fld") for name in risk_fields},
    }
    views = {
        "Projects": {"Grid view": ids.new("viw"), "Active projects": ids.new("viw")},
        "Milestones": {"Grid view": ids.new("viw"), "Open milestones": ids.new("viw")},
        "Risks": {"Grid view": ids.new("viw"), "Open risks": ids.new("viw")},
    }
    return {"tables": table_ids, "fields": fields, "views": views, "ids": ids}


def _table_specs(layout: dict[str, Any]) -> list[dict[str, Any]]:
    t, f, v, ids = layout["tables"], layout["fields"], layout["views"], layout["ids"]
    p, m, r = f["Projects"], f["Milestones"], f["Risks"]
    date_opts = {"dateFormat": {"name": "iso", "format": "YYYY-MM-DD"}}
    return [
        {
            "id": t["Projects"],
            "name": "Projects",
            "description": "Every project in the portfolio, one row each",
            "fields": [
                {"id": p["Name"], "name": "Name", "type": "singleLineText"},
                {"id": p["Code"], "name": "Code", "type": "singleLineText"},
                {
                    "id": p["Status"],
                    "name": "Status",
                    "type": "singleSelect",
                    "options": _choices(PROJECT_STATUSES, ids),
                },
                {"id": p["Start date"], "name": "Start date", "type": "date", "options": date_opts},
                {
                    "id": p["Finish date"],
                    "name": "Finish date",
                    "type": "date",
                    "options": date_opts,
                },
                {
                    "id": p["RAG"],
                    "name": "RAG",
                    "type": "singleSelect",
                    "options": _choices(RAGS, ids, RAG_COLORS),
                },
                {"id": p["Sponsor"], "name": "Sponsor", "type": "singleLineText"},
                {
                    "id": p["Next milestone"],
                    "name": "Next milestone",
                    "type": "singleLineText",
                    "description": "Written by pmo-sync",
                },
                {
                    "id": p["Next milestone date"],
                    "name": "Next milestone date",
                    "type": "date",
                    "options": date_opts,
                    "description": "Written by pmo-sync",
                },
                {
                    "id": p["Overdue milestones"],
                    "name": "Overdue milestones",
                    "type": "number",
                    "options": {"precision": 0},
                    "description": "Written by pmo-sync",
                },
                {"id": p["pmo-sync id"], "name": "pmo-sync id", "type": "singleLineText"},
                {
                    "id": p["Milestones"],
                    "name": "Milestones",
                    "type": "multipleRecordLinks",
                    "options": {
                        "linkedTableId": t["Milestones"],
                        "inverseLinkFieldId": m["Project"],
                        "isReversed": False,
                        "prefersSingleRecordLink": False,
                    },
                },
                {
                    "id": p["Risks"],
                    "name": "Risks",
                    "type": "multipleRecordLinks",
                    "options": {
                        "linkedTableId": t["Risks"],
                        "inverseLinkFieldId": r["Project"],
                        "isReversed": False,
                        "prefersSingleRecordLink": False,
                    },
                },
                {
                    "id": p["Milestone count"],
                    "name": "Milestone count",
                    "type": "count",
                    "options": {"isValid": True, "recordLinkFieldId": p["Milestones"]},
                },
                {"id": p["Last modified"], "name": "Last modified", "type": "lastModifiedTime"},
            ],
            "views": [
                {"id": v["Projects"]["Grid view"], "name": "Grid view"},
                {
                    "id": v["Projects"]["Active projects"],
                    "name": "Active projects",
                    "formula": "{Status} = 'In progress'",
                    "sort": [{"field": p["Code"], "direction": "asc"}],
                },
            ],
        },
        {
            "id": t["Milestones"],
            "name": "Milestones",
            "fields": [
                {"id": m["Name"], "name": "Name", "type": "singleLineText"},
                {
                    "id": m["Project"],
                    "name": "Project",
                    "type": "multipleRecordLinks",
                    "options": {
                        "linkedTableId": t["Projects"],
                        "inverseLinkFieldId": p["Milestones"],
                        "isReversed": False,
                        "prefersSingleRecordLink": True,
                    },
                },
                {"id": m["Due date"], "name": "Due date", "type": "date", "options": date_opts},
                {"id": m["Done"], "name": "Done", "type": "checkbox"},
                {"id": m["pmo-sync id"], "name": "pmo-sync id", "type": "singleLineText"},
            ],
            "views": [
                {"id": v["Milestones"]["Grid view"], "name": "Grid view"},
                {
                    "id": v["Milestones"]["Open milestones"],
                    "name": "Open milestones",
                    "formula": "NOT({Done})",
                    "sort": [{"field": m["Due date"], "direction": "asc"}],
                },
            ],
        },
        {
            "id": t["Risks"],
            "name": "Risks",
            "fields": [
                {"id": r["Name"], "name": "Name", "type": "singleLineText"},
                {
                    "id": r["Project"],
                    "name": "Project",
                    "type": "multipleRecordLinks",
                    "options": {
                        "linkedTableId": t["Projects"],
                        "inverseLinkFieldId": p["Risks"],
                        "isReversed": False,
                        "prefersSingleRecordLink": True,
                    },
                },
                {
                    "id": r["Probability"],
                    "name": "Probability",
                    "type": "number",
                    "options": {"precision": 0},
                    "description": "1 (rare) to 5 (almost certain)",
                },
                {
                    "id": r["Impact"],
                    "name": "Impact",
                    "type": "number",
                    "options": {"precision": 0},
                    "description": "1 (minor) to 5 (severe)",
                },
                {
                    "id": r["Score"],
                    "name": "Score",
                    "type": "formula",
                    "options": {
                        "formula": "{Probability} * {Impact}",
                        "isValid": True,
                        "referencedFieldIds": [r["Probability"], r["Impact"]],
                        "result": {"type": "number", "options": {"precision": 0}},
                    },
                },
                {
                    "id": r["Status"],
                    "name": "Status",
                    "type": "singleSelect",
                    "options": _choices(RISK_STATUSES, ids),
                },
                {"id": r["Mitigation"], "name": "Mitigation", "type": "multilineText"},
                {"id": r["pmo-sync id"], "name": "pmo-sync id", "type": "singleLineText"},
            ],
            "views": [
                {"id": v["Risks"]["Grid view"], "name": "Grid view"},
                {
                    "id": v["Risks"]["Open risks"],
                    "name": "Open risks",
                    "formula": "{Status} != 'Closed'",
                    "sort": [{"field": r["Score"], "direction": "desc"}],
                },
            ],
        },
    ]


def _seed_records(
    specs: list[dict[str, Any]], layout: dict[str, Any], projects: int, seed: int, today: date
) -> None:
    rng = random.Random(seed)
    ids = layout["ids"]
    created = datetime(today.year, today.month, today.day, 8, 0, tzinfo=UTC) - timedelta(days=90)
    tick = iter(range(1_000_000))

    def stamp() -> str:
        moment = created + timedelta(minutes=7 * next(tick))
        return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")

    names = list(PROJECT_NAMES)
    rng.shuffle(names)
    project_records: list[dict[str, Any]] = []
    milestone_records: list[dict[str, Any]] = []
    risk_records: list[dict[str, Any]] = []
    for index in range(projects):
        name = names[index % len(names)]
        if index >= len(names):
            name = f"{name} ({index // len(names) + 1})"
        start = today - timedelta(days=rng.randint(20, 240))
        finish = today + timedelta(days=rng.randint(-30, 300))
        if finish <= start:
            finish = start + timedelta(days=60)
        status = rng.choices(PROJECT_STATUSES, weights=(2, 10, 1, 2, 1))[0]
        if finish < today and status == "In progress":
            status = "Done"
        project_id = ids.new("rec")
        fields: dict[str, Any] = {
            "Name": name,
            "Code": f"PRJ-{index + 1:03d}",
            "Status": status,
            "Start date": start.isoformat(),
            "Finish date": finish.isoformat(),
            "RAG": rng.choices(RAGS, weights=(6, 3, 2))[0],
            "Sponsor": rng.choice(SPONSORS),
        }
        project_records.append({"id": project_id, "createdTime": stamp(), "fields": fields})

        count = rng.randint(3, 6)
        span = max((finish - start).days, count)
        for step in range(count):
            due = start + timedelta(days=span * (step + 1) // count)
            # Past milestones are usually done; about a quarter are overdue (late, not done).
            done = due < today and (status == "Done" or rng.random() > 0.25)
            label = MILESTONE_STEPS[min(step, len(MILESTONE_STEPS) - 1)]
            if step == count - 1:
                label = "Go-live"
            milestone: dict[str, Any] = {
                "Name": f"{fields['Code']} {label}",
                "Project": [project_id],
                "Due date": due.isoformat(),
            }
            if done:
                milestone["Done"] = True
            milestone_records.append(
                {"id": ids.new("rec"), "createdTime": stamp(), "fields": milestone}
            )
        for title, mitigation in rng.sample(RISKS, rng.randint(1, 4)):
            risk_records.append(
                {
                    "id": ids.new("rec"),
                    "createdTime": stamp(),
                    "fields": {
                        "Name": title,
                        "Project": [project_id],
                        "Probability": rng.randint(1, 5),
                        "Impact": rng.randint(1, 5),
                        "Status": rng.choices(RISK_STATUSES, weights=(5, 3, 2))[0],
                        "Mitigation": mitigation,
                    },
                }
            )
    specs[0]["records"] = project_records
    specs[1]["records"] = milestone_records
    specs[2]["records"] = risk_records


def build_mapping(layout: dict[str, Any]) -> dict[str, Any]:
    """The team mapping file (pmosync.config.mapping.TeamMapping) in field and table ids."""
    t, f = layout["tables"], layout["fields"]
    p, m, r = f["Projects"], f["Milestones"], f["Risks"]
    return {
        "entities": {
            "project": {
                "table": t["Projects"],
                "id_field": p["pmo-sync id"],
                "fields": {
                    "name": {"field": p["Name"]},
                    "code": {"field": p["Code"]},
                    "status": {
                        "field": p["Status"],
                        "values": {
                            "Not started": "not_started",
                            "In progress": "active",
                            "On hold": "on_hold",
                            "Done": "done",
                            "Cancelled": "cancelled",
                        },
                    },
                    "planned_start": {"field": p["Start date"]},
                    "planned_finish": {"field": p["Finish date"]},
                    "rag": {"field": p["RAG"], "values": {"Green": "G", "Amber": "A", "Red": "R"}},
                    "next_milestone": {"field": p["Next milestone"], "direction": "push"},
                    "next_milestone_date": {"field": p["Next milestone date"], "direction": "push"},
                    "overdue_milestones": {"field": p["Overdue milestones"], "direction": "push"},
                },
            },
            "milestone": {
                "table": t["Milestones"],
                "id_field": m["pmo-sync id"],
                "fields": {
                    "name": {"field": m["Name"]},
                    "project": {"field": m["Project"]},
                    "due": {"field": m["Due date"]},
                    "done": {"field": m["Done"]},
                },
            },
            "raid_item": {
                "table": t["Risks"],
                "id_field": r["pmo-sync id"],
                "options": {"kind": "risk"},
                "fields": {
                    "name": {"field": r["Name"]},
                    "project": {"field": r["Project"]},
                    "probability": {"field": r["Probability"]},
                    "impact": {"field": r["Impact"]},
                    "status": {
                        "field": r["Status"],
                        "values": {"Open": "active", "Mitigating": "active", "Closed": "done"},
                    },
                    "mitigation": {"field": r["Mitigation"]},
                },
            },
        }
    }


def build_emulator(
    projects: int = 12, seed: int = 7, today: date | None = None, register: bool = False
) -> tuple[AirtableEmulator, str, dict[str, Any]]:
    """The seeded emulator, its token and the id layout (tables, fields, views by name).

    ``register``: also the programme side of the register (scenarios/register.py).
    """
    today = today or date.today()
    layout = build_layout(seed)
    if register:
        from pmosync.sandbox.scenarios import programmes as programme_register

        programme_register.extend_layout(layout)
    specs = _table_specs(layout)
    if register:
        programme_register.extend_specs(specs, layout)
    _seed_records(specs, layout, projects, seed, today)
    if register:
        stamp = f"{today - timedelta(days=120)}T08:00:00.000Z"
        programme_register.seed(specs, layout, stamp)
    emulator = AirtableEmulator(seed=f"airtable-pmo-runtime-{seed}")
    token = _token(random.Random(f"airtable-pmo-token-{seed}"))
    emulator.add_token(
        token,
        user_id="usrPMOSYNCBOT0001",
        email="pmo-sync.bot@example.com",
        name="pmo-sync bot",
    )
    emulator.add_base(
        BASE_ID,
        BASE_NAME,
        specs,
        collaborators=[
            {"id": "usrPMOSANDBOXPM01", "email": "alex.morgan@example.com", "name": "Alex Morgan"},
            {"id": "usrPMOSANDBOXPM02", "email": "sam.taylor@example.com", "name": "Sam Taylor"},
        ],
    )
    public_layout = {k: v for k, v in layout.items() if k != "ids"}
    return emulator, token, public_layout


def simulate_edits(
    emulator: AirtableEmulator, count: int = 5, seed: int = 0, today: date | None = None
) -> list[dict[str, Any]]:
    """Edits a PMO would make in the Airtable UI between two syncs (for the demo and tests):
    a milestone ticked off, a due date slipped, a RAG changed. Returns what was edited as
    ``[{"table", "record", "fields"}]``; deterministic for ``seed`` and the base's state."""
    today = today or date.today()
    rng = random.Random(f"airtable-pmo-edits-{seed}")
    edits: list[dict[str, Any]] = []
    for _ in range(count):
        kind = rng.choice(("tick", "slip", "rag"))
        if kind == "rag":
            projects = emulator.records(BASE_ID, "Projects")
            project = rng.choice(projects)
            current = project["fields"].get("RAG")
            fields: dict[str, Any] = {"RAG": rng.choice([r for r in RAGS if r != current])}
            edits.append({"table": "Projects", "record": project["id"], "fields": fields})
        else:
            open_ones = [
                m for m in emulator.records(BASE_ID, "Milestones") if not m["fields"].get("Done")
            ]
            if not open_ones:
                continue
            milestone = rng.choice(open_ones)
            if kind == "tick":
                fields = {"Done": True}
            else:
                due = date.fromisoformat(milestone["fields"].get("Due date", today.isoformat()))
                fields = {"Due date": (due + timedelta(days=rng.choice((7, 14, 21)))).isoformat()}
            edits.append({"table": "Milestones", "record": milestone["id"], "fields": fields})
        last = edits[-1]
        emulator.edit_record(BASE_ID, last["table"], last["record"], last["fields"])
    return edits


def services(
    name: str = "pmo_airtable",
    projects: int = 12,
    seed: int = 7,
    today: date | None = None,
    register: bool = False,
) -> list[ServiceSpec]:
    emulator, token, layout = build_emulator(
        projects=projects, seed=seed, today=today, register=register
    )
    mapping = build_mapping({**layout, "ids": None})
    if register:
        from pmosync.sandbox.scenarios import programmes as programme_register

        programme_register.extend_mapping(mapping, layout)
    return [
        ServiceSpec(
            name=name,
            kind="airtable",
            emulator=emulator,
            credentials={"token": token, "base_id": BASE_ID},
            connection={
                "kind": "airtable",
                "base_id": BASE_ID,
                "endpoint_url": "{url}",
                "token_file": f"secrets/{name}.token",
                "lockout_seconds": 30,
            },
            secrets={"token": token},
            mapping=mapping,
            extra={"base_id": BASE_ID, "layout": layout},
        )
    ]


def scenario(**opts: Any) -> Scenario:
    return Scenario(
        services=services(**opts),
        portfolio={"name": "Airtable sandbox portfolio"},
    )
