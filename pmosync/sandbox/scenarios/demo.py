"""The demo: a realistic three-tool PMO.

The PMO keeps its register in Airtable, delivery teams work in Jira, planners in Project
Server. The same projects appear in several tools under one project code (Jira project key,
Project Server "Project Code"), which is how pmo-sync matches them (``sync.identity``).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from pmosync.sandbox.harness import Scenario, ServiceSpec
from pmosync.sandbox.scenarios import airtable_pmo, cross_tool, jira, planner, pwa

JIRA_PROJECTS = 3
PWA_PROJECTS = 3
PLANNER_CODES = ("PRJ-007", "PRJ-010")  # register projects of programme Digital Workplace


def _align_codes(airtable: ServiceSpec, codes: list[str], names: dict[str, str]) -> None:
    """Give the first Airtable projects the codes (and, where the schedule names them, the
    names) the other tools use for the same projects, and their milestones the same prefix."""
    emulator: Any = airtable.emulator
    base = airtable_pmo.BASE_ID
    projects = emulator.records(base, "Projects")
    milestones = emulator.records(base, "Milestones")
    for record, code in zip(projects, codes, strict=False):
        old = record["fields"]["Code"]
        fields = {"Code": code, **({"Name": names[code]} if code in names else {})}
        emulator.edit_record(base, "Projects", record["id"], fields)
        for milestone in milestones:
            name = milestone["fields"].get("Name", "")
            if milestone["fields"].get("Project") == [record["id"]] and name.startswith(old):
                renamed = code + name[len(old) :]
                emulator.edit_record(base, "Milestones", milestone["id"], {"Name": renamed})


def _set_authorities(airtable: ServiceSpec, pwa_plans: ServiceSpec) -> None:
    """Who owns what, as a PMO would configure it: the register owns project names, the
    schedule owns planned dates (so the first run has nothing to argue about)."""
    assert airtable.mapping is not None and pwa_plans.mapping is not None
    airtable.mapping["entities"]["project"]["fields"]["name"]["conflict"] = "authority"
    schedule = pwa_plans.mapping["entities"]["project"]["fields"]
    for name, remote in (("planned_start", "StartDate"), ("planned_finish", "FinishDate")):
        schedule[name] = {"field": remote, "direction": "pull", "conflict": "authority"}


# Custom fields a Jira admin adds for the PMO's status issue (one epic per project).
JIRA_PMO_FIELDS = {"PMO RAG": 40, "PMO Status": 41}
STATUS_PROPERTY = "property:pmo-sync.status"


def _jira_status(delivery: ServiceSpec) -> None:
    """Where Jira keeps the consolidated status, as a PMO would set it up: a project entity
    property (``pmo-sync.status``) for apps and dashboards, and the RAG and status line on
    each project's first epic, in two custom fields a Jira admin added."""
    from pmosync.sandbox.jira.state import FieldSpec

    emulator: Any = delivery.emulator
    state = emulator.state
    base = emulator.seed.field_base
    prefix = "com.atlassian.jira.plugin.system.customfieldtypes:"
    rag = [{"id": str(base + 120 + i), "value": v} for i, v in enumerate(("Green", "Amber", "Red"))]
    for name, offset in JIRA_PMO_FIELDS.items():
        number = base + offset
        select = name == "PMO RAG"
        state.fields[f"customfield_{number}"] = FieldSpec(
            id=f"customfield_{number}",
            name=name,
            kind="option" if select else "string",
            schema={
                "type": "option" if select else "string",
                "custom": prefix + ("select" if select else "textfield"),
                "customId": number,
            },
            custom=True,
            clause_names=[f"cf[{number}]", name],
            options=rag if select else [],
        )
    for issue in state.issues.values():
        for name in JIRA_PMO_FIELDS:
            issue.fields.setdefault(state.custom_field_id(name), None)
    state.catalog_cache = None
    keys = list(delivery.extra["projects"])
    epics = {
        key: min(
            (
                i
                for i in state.issues.values()
                if i.key.startswith(key + "-")
                and state.issue_types[i.fields["issuetype"]].name == "Epic"
            ),
            key=lambda i: i.id,
        ).key
        for key in keys
    }
    # each Jira project sits in a category named after its programme (the register's turn);
    # projects of one programme share its category, as in Jira, which refuses a second
    # category of the same name (POST /rest/api/3/projectCategory: 409, "name is in use")
    from pmosync.sandbox.scenarios.programmes import PROGRAMMES

    for index, key in enumerate(keys):
        programme = index % len(PROGRAMMES)
        code, name = PROGRAMMES[programme]
        state.find_project(key).category = {
            "id": str(10000 + programme),
            "name": name,
            "description": code,
        }
    assert delivery.mapping is not None
    delivery.mapping["entities"]["programme"] = {}  # project categories
    delivery.mapping["entities"]["project"] = {
        "projects": keys,
        "options": {"status_issues": epics},
        "fields": {
            "rag_computed": {
                "field": "PMO RAG",
                "values": {"Green": "G", "Amber": "A", "Red": "R"},
            },
            "pmo_status": {"field": "PMO Status"},
            **{
                name: {"field": STATUS_PROPERTY}
                for name in (
                    "next_milestone",
                    "next_milestone_date",
                    "overdue_milestones",
                    "forecast_finish",
                    "slip_days",
                    "blocking_items",
                    "critical",
                )
            },
        },
    }


def scenario(today: date | None = None, **_: Any) -> Scenario:
    [airtable] = airtable_pmo.services(today=today, register=True)
    delivery = jira.services(projects=JIRA_PROJECTS)
    _jira_status(delivery[0])
    plans = pwa.services(projects=PWA_PROJECTS)
    # Jira project keys, then Project Server's ProjectIdentifier values (P001, P002, ...)
    pwa_codes = [f"P{i + 1:03d}" for i in range(PWA_PROJECTS)]
    schedule: Any = plans[-1].emulator
    names = dict(zip(pwa_codes, (p["Name"] for p in schedule.projects()), strict=False))
    codes = list(delivery[0].extra["projects"]) + pwa_codes
    services: list[ServiceSpec] = [airtable, *delivery, *plans]
    _align_codes(airtable, codes, names)
    _set_authorities(airtable, plans[-1])
    assert plans[-1].mapping is not None  # the schedules name their programme in a lookup
    plans[-1].mapping["entities"]["project"]["fields"]["programme"] = {"field": "Programme"}
    # a delivery epic waits for the first plan's go-live (a cross-tool dependency)
    cross_tool.link_epic_to_milestone(delivery[0], plans[-1])
    # the Digital Workplace programme moved its plans to Planner Premium (Project Online's
    # successor): the register's PRJ-007 and PRJ-010, under the same codes and names
    services += planner.services(plans=planner.plans_matching(airtable, PLANNER_CODES))
    schedule_fields = services[-1].mapping["entities"]["project"]["fields"]  # type: ignore[index]
    for name in ("planned_start", "planned_finish"):  # Project Server holds that authority
        schedule_fields[name].pop("conflict")
    return Scenario(
        services=services,
        portfolio={"name": "Contoso PMO (sandbox)", "timezone": "Europe/London"},
        sync={"overlap": "5m", "identity": {"project": "code", "programme": "name"}},
    )
