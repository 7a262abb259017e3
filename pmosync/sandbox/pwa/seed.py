"""Deterministic seed data for the PWA emulator.

``build_state(SeedSpec(projects=3, tasks_per_project=12, seed=7))`` returns a
:class:`~pmosync.sandbox.pwa.state.PwaState` whose every GUID, name, date and value depends only
on the spec, so tests can assert exact figures. What one project looks like:

* a hidden project summary task (outline level 0, ``SummaryTaskId``), then phases (summary tasks,
  outline level 1) whose children (level 2) run in sequence; the last child of each phase is a
  milestone "<phase> complete", and the project ends with a "Go-live" milestone;
* one link between each pair of consecutive children and from each phase milestone to the next
  phase's first task: mostly FS (``DependencyType`` 1), with SS (3), FF (0) and SF (2) mixed in;
  lags (``LinkLag``, tenths of a minute: 4800 = 1 working day, -4800 a one-day lead) are chosen
  so the dates satisfy every link;
* baselines: ``BaselineStart/Finish`` hold the plan before slips; about a third of the tasks
  slipped 1-4 working days since;
* progress up to ``SeedSpec.status_date``: finished tasks 100 %, the running ones partly done;
* enterprise custom fields (:data:`PROJECT_FIELDS`, :data:`TASK_FIELDS`): project "PMO RAG"
  (lookup Green/Amber/Red), "PMO Forecast" (date), "PMO Status" (text), "PMO Confidence"
  (number), "Programme" (lookup) and "PMO Sync Id" (text); task "Workstream" (text);
* enterprise resources on each project's team, one assignment per working task;
* Issues and Risks for ProjectData.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from pmosync.sandbox.pwa.odata import SENTINEL_DATE, Guid
from pmosync.sandbox.pwa.state import (
    CF_DATE,
    CF_NUMBER,
    CF_TEXT,
    DAY_FINISH,
    DAY_START,
    MINUTES_PER_DAY,
    MS_PER_MINUTE,
    CustomFieldDef,
    LookupEntry,
    LookupTable,
    Plan,
    ProjectRecord,
    PwaState,
    add_workdays,
    at,
    next_workday,
)

DAY_MS = MINUTES_PER_DAY * MS_PER_MINUTE
LAG_PER_DAY = MINUTES_PER_DAY * 10  # tenths of a minute
FF, FS, SF, SS = 0, 1, 2, 3

RAG_VALUES = ("Green", "Amber", "Red")
PROGRAMMES = ("Digital Workplace", "Customer Platform", "Data & Analytics")
PROJECT_FIELDS = (
    "PMO RAG",
    "PMO Forecast",
    "PMO Status",
    "PMO Confidence",
    "Programme",
    "PMO Sync Id",
)
TASK_FIELDS = ("Workstream",)

_PROJECT_NAMES = (
    "Intranet Refresh",
    "CRM Migration",
    "Data Lake Phase 2",
    "Mobile App Relaunch",
    "ERP Upgrade",
    "Customer Portal",
    "Network Modernisation",
    "Identity Consolidation",
    "Analytics Platform",
    "Service Desk Replatform",
)
_PHASES = ("Discovery", "Design", "Build", "Test", "Deploy", "Hypercare")
_TASK_VERBS = ("Plan", "Define", "Prototype", "Implement", "Review", "Validate", "Document")
_TASK_NOUNS = ("requirements", "architecture", "interfaces", "data model", "UI", "runbook")
_WORKSTREAMS = ("Platform", "Integration", "Change", "Data")
_PEOPLE = (
    ("Ava Patel", "Project Manager"),
    ("Ben Okafor", "Developer"),
    ("Chloe Martin", "Business Analyst"),
    ("Dan Novak", "Tester"),
    ("Eva Schmidt", "Architect"),
    ("Finn Walsh", "Developer"),
    ("Grace Liu", "Change Manager"),
    ("Hugo Brown", "Data Engineer"),
)


@dataclass(frozen=True)
class SeedSpec:
    """What to generate. ``page_size`` (if set) becomes the emulator's server page size."""

    projects: int = 3
    tasks_per_project: int = 12
    seed: int = 7
    page_size: int | None = None
    custom_fields: bool = True
    resources: int = 6
    issues_per_project: int = 2
    risks_per_project: int = 2
    start: date = date(2026, 9, 7)
    status_date: date = date(2026, 10, 19)
    tenant_domain: str = "contoso.onmicrosoft.com"


class _Ids:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def __call__(self) -> Guid:
        return Guid(uuid.UUID(int=self.rng.getrandbits(128), version=4))


def _custom_fields(ids: _Ids) -> tuple[list[CustomFieldDef], list[LookupTable]]:
    rag = LookupTable(
        ids(),
        "PMO RAG",
        [LookupEntry(ids(), v, f"{v} status", i) for i, v in enumerate(RAG_VALUES)],
    )
    programmes = LookupTable(
        ids(), "Programmes", [LookupEntry(ids(), v, "", i) for i, v in enumerate(PROGRAMMES)]
    )
    fields = [
        CustomFieldDef(ids(), "PMO RAG", CF_TEXT, "project", rag.id, False, "Computed RAG"),
        CustomFieldDef(ids(), "PMO Forecast", CF_DATE, "project", None, False, "Forecast finish"),
        CustomFieldDef(ids(), "PMO Status", CF_TEXT, "project", None, False, "Status summary"),
        CustomFieldDef(ids(), "PMO Confidence", CF_NUMBER, "project", None, False, "0-100"),
        CustomFieldDef(ids(), "Programme", CF_TEXT, "project", programmes.id, False, ""),
        CustomFieldDef(ids(), "PMO Sync Id", CF_TEXT, "project", None, False, "pmo-sync id"),
        CustomFieldDef(ids(), "Workstream", CF_TEXT, "task", None, False, "Workstream"),
    ]
    return fields, [rag, programmes]


def _exception(
    index: int,
    name: str,
    start: date,
    finish: date,
    shifts: tuple[tuple[int, int], ...] = (),
    **recurrence: int,
) -> dict[str, Any]:
    """A PS.BaseCalendarException's properties. Shifts are minutes from midnight (none: a
    non-working day); recurrence as learn.microsoft.com's CalendarException page: type 0 daily
    (every RecurrenceFrequency days), 2 weekly (RecurrenceDays mask, Sunday = 1), 3 monthly,
    4 yearly (RecurrenceMonth / RecurrenceMonthDay)."""
    props: dict[str, Any] = {
        "Id": index,
        "Name": name,
        "Start": datetime(start.year, start.month, start.day),
        "Finish": datetime(finish.year, finish.month, finish.day),
        "RecurrenceType": recurrence.get("RecurrenceType", 0),
        "RecurrenceFrequency": recurrence.get("RecurrenceFrequency", 1),
        "RecurrenceDays": recurrence.get("RecurrenceDays", 0),
        "RecurrenceMonth": recurrence.get("RecurrenceMonth", 0),
        "RecurrenceMonthDay": recurrence.get("RecurrenceMonthDay", 0),
        "RecurrenceWeek": recurrence.get("RecurrenceWeek", 0),
    }
    for number in range(1, 6):
        begin, end = shifts[number - 1] if number <= len(shifts) else (0, 0)
        props[f"Shift{number}Start"] = begin
        props[f"Shift{number}Finish"] = end
    return props


def _calendars(ids: _Ids, created: datetime, year: int) -> list[dict[str, Any]]:
    """Two enterprise base calendars: the Standard one with the UK Christmas holidays and a
    half day on Christmas Eve, and an operations calendar with a recurring yearly holiday and a
    weekly early finish on Fridays."""
    standard = ids()
    operations = ids()
    return [
        {
            "Id": standard,
            "Name": "Standard",
            "IsStandardCalendar": True,
            "OriginalId": standard,
            "Created": created,
            "Modified": created,
            "exceptions": [
                _exception(
                    0, "Christmas Eve", date(year, 12, 24), date(year, 12, 24), ((480, 720),)
                ),
                _exception(1, "Christmas", date(year, 12, 25), date(year, 12, 28)),
                _exception(2, "New Year", date(year + 1, 1, 1), date(year + 1, 1, 1)),
            ],
        },
        {
            "Id": operations,
            "Name": "Operations",
            "IsStandardCalendar": False,
            "OriginalId": operations,
            "Created": created,
            "Modified": created,
            "exceptions": [
                _exception(
                    0,
                    "Founders' day",
                    date(year, 11, 6),
                    date(year + 2, 11, 6),
                    RecurrenceType=4,
                    RecurrenceMonth=11,
                    RecurrenceMonthDay=6,
                ),
                _exception(
                    1,
                    "Short Fridays",
                    date(year, 10, 2),
                    date(year, 10, 30),
                    ((480, 720), (780, 900)),
                    RecurrenceType=2,
                    RecurrenceDays=32,
                ),
            ],
        },
    ]


def _resources(ids: _Ids, count: int, domain: str, created: datetime) -> list[dict[str, Any]]:
    out = []
    for index in range(count):
        name, group = _PEOPLE[index % len(_PEOPLE)]
        if index >= len(_PEOPLE):
            name = f"{name} {index // len(_PEOPLE) + 1}"
        email = name.lower().replace(" ", ".") + "@" + domain
        out.append(
            {
                "Id": ids(),
                "Name": name,
                "Email": email,
                "Code": f"R{index + 1:03d}",
                "Group": group,
                "Initials": "".join(p[0] for p in name.split()),
                "IsActive": True,
                "IsGeneric": False,
                "IsBudget": False,
                "ResourceType": 2,  # Work
                "CanLevel": True,
                "Created": created,
                "Modified": created,
            }
        )
    return out


def _task(
    ids: Callable[[], Guid],
    name: str,
    level: int,
    parent: str | None,
    start: datetime,
    finish: datetime,
    duration_ms: int,
    created: datetime,
) -> dict[str, Any]:
    return {
        "Id": ids(),
        "Name": name,
        "Notes": "",
        "Created": created,
        "Modified": created,
        "Start": start,
        "Finish": finish,
        "DurationMilliseconds": duration_ms,
        "PercentComplete": 0,
        "PercentPhysicalWorkComplete": 0,
        "Work": duration_ms,
        "ActualWork": 0,
        "ActualStart": SENTINEL_DATE,
        "ActualFinish": SENTINEL_DATE,
        "BaselineStart": start,
        "BaselineFinish": finish,
        "BaselineDurationMilliseconds": duration_ms,
        "BaselineWork": duration_ms,
        "BaselineCost": 0.0,
        "Cost": 0.0,
        "ActualCost": 0.0,
        "FixedCost": 0.0,
        "IsMilestone": duration_ms == 0 and level > 0,
        "IsSummary": False,
        "IsCritical": False,
        "IsManual": False,
        "IsActive": True,
        "IsMarked": False,
        "OutlineLevel": level,
        "OutlinePosition": 0,
        "WorkBreakdownStructure": "",
        "ConstraintType": 0,
        "ConstraintStartEnd": SENTINEL_DATE,
        "Deadline": SENTINEL_DATE,
        "Priority": 500,
        "TaskType": 0,
        "TotalSlackMilliseconds": 0,
        "FreeSlackMilliseconds": 0,
        "ParentId": parent,
        "_custom": {},
    }


def _schedule(
    rng: random.Random, ids: _Ids, spec: SeedSpec, index: int, created: datetime
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Tasks in outline order and their links; dates satisfy every link."""
    total = max(spec.tasks_per_project, 3)
    phases = max(1, min(len(_PHASES), (total - 1) // 4))
    # total = 1 project summary... not counted; phases summaries + children + go-live
    children_total = max(phases, total - phases - 1)
    per_phase = [children_total // phases] * phases
    for i in range(children_total % phases):
        per_phase[i] += 1
    start_day = next_workday(spec.start + timedelta(days=7 * index))
    summary = _task(
        ids, "", 0, None, at(start_day, DAY_START), at(start_day, DAY_FINISH), 0, created
    )
    tasks: list[dict[str, Any]] = [summary]
    links: list[dict[str, Any]] = []
    cursor_day = start_day  # the day the next task may start (FS, lag 0)
    previous: dict[str, Any] | None = None
    for phase_index in range(phases):
        phase = _task(
            ids,
            _PHASES[phase_index],
            1,
            summary["Id"],
            at(cursor_day, DAY_START),
            at(cursor_day, DAY_FINISH),
            DAY_MS,
            created,
        )
        tasks.append(phase)
        for child_index in range(per_phase[phase_index]):
            last = child_index == per_phase[phase_index] - 1
            if last:
                name = f"{_PHASES[phase_index]} complete"
                days = 0
            else:
                verb = _TASK_VERBS[(phase_index + child_index) % len(_TASK_VERBS)]
                noun = _TASK_NOUNS[(index + child_index) % len(_TASK_NOUNS)]
                name = f"{verb} {noun}"
                days = rng.randint(2, 8)
            link_type, lag_days = FS, 0
            if previous is not None and not last and previous["DurationMilliseconds"] > 0:
                roll = rng.random()
                if roll < 0.1:
                    link_type, lag_days = SS, 1
                elif roll < 0.2:
                    link_type, lag_days = FF, 1
                elif roll < 0.3:
                    link_type = SF
                elif roll < 0.45:
                    lag_days = rng.choice((1, 2))
                elif roll < 0.5:
                    lag_days = -1  # a lead: start on the predecessor's last day
            if previous is not None and link_type == FS and lag_days:
                cursor_day = add_workdays(cursor_day, lag_days)
            start = at(cursor_day, DAY_START)
            if days == 0:
                # A milestone sits at the end of its predecessor's last working day.
                start = previous["Finish"] if previous is not None else start
                finish = start
            else:
                finish = at(add_workdays(cursor_day, days - 1), DAY_FINISH)
            if link_type == SS and previous is not None:
                # The successor may start one day after the predecessor started.
                start = max(start, at(add_workdays(previous["Start"].date(), 1), DAY_START))
            task = _task(ids, name, 2, phase["Id"], start, finish, days * DAY_MS, created)
            task["_custom"]["Workstream"] = _WORKSTREAMS[(index + child_index) % 4]
            tasks.append(task)
            if previous is not None:
                links.append(
                    {
                        "Id": ids(),
                        "StartId": previous["Id"],
                        "EndId": task["Id"],
                        "DependencyType": link_type,
                        "LinkLag": lag_days * LAG_PER_DAY,
                    }
                )
            previous = task
            cursor_day = add_workdays(finish.date(), 1) if days else add_workdays(start.date(), 1)
    assert previous is not None
    golive = _task(
        ids, "Go-live", 1, summary["Id"], previous["Finish"], previous["Finish"], 0, created
    )
    tasks.append(golive)
    links.append(
        {
            "Id": ids(),
            "StartId": previous["Id"],
            "EndId": golive["Id"],
            "DependencyType": FS,
            "LinkLag": 0,
        }
    )
    return tasks, links


def _slip_and_progress(rng: random.Random, plan: Plan, status: date) -> None:
    """Slip some working tasks (moving everything after them) and set progress."""
    shift = 0
    for task in plan.tasks:
        if int(task["OutlineLevel"]) < 2:
            continue
        if task["DurationMilliseconds"] > 0 and rng.random() < 0.33:
            shift += rng.randint(1, 4)
        if shift:
            task["Start"] = at(add_workdays(task["Start"].date(), shift), task["Start"].hour)
            task["Finish"] = at(add_workdays(task["Finish"].date(), shift), task["Finish"].hour)
    status_at = at(status, DAY_FINISH)
    for task in plan.tasks:
        if int(task["OutlineLevel"]) < 2:
            continue
        if task["Finish"] <= status_at:
            task["PercentComplete"] = 100
            task["ActualStart"] = task["Start"]
            task["ActualFinish"] = task["Finish"]
        elif task["Start"] <= status_at:
            task["PercentComplete"] = rng.choice((10, 25, 50, 75, 90))
            task["ActualStart"] = task["Start"]
        task["PercentPhysicalWorkComplete"] = 0
        task["ActualWork"] = int(task["Work"]) * int(task["PercentComplete"]) // 100
    # Go-live follows the last task.
    for task in plan.tasks:
        if task["Name"] == "Go-live":
            last = max(t["Finish"] for t in plan.tasks if int(t["OutlineLevel"]) == 2)
            task["Start"] = task["Finish"] = last
            task["PercentComplete"] = 100 if last <= status_at else 0


def build_state(spec: SeedSpec | None = None) -> PwaState:
    spec = spec or SeedSpec()
    rng = random.Random(spec.seed)
    ids = _Ids(rng)
    created = datetime(spec.start.year, spec.start.month, spec.start.day) - timedelta(days=30)
    state = PwaState()
    if spec.custom_fields:
        state.custom_fields, state.lookup_tables = _custom_fields(ids)
    state.resources = _resources(ids, spec.resources, spec.tenant_domain, created)
    # drawn after every other seeded id, so the ids above stay as they were before calendars
    calendar_rng = random.Random(spec.seed + 1)
    state.calendars = _calendars(_Ids(calendar_rng), created, spec.start.year)
    by_name = {f.name: f for f in state.custom_fields}
    for index in range(spec.projects):
        name = _PROJECT_NAMES[index % len(_PROJECT_NAMES)]
        if index >= len(_PROJECT_NAMES):
            name = f"{name} {index // len(_PROJECT_NAMES) + 1}"
        tasks, links = _schedule(rng, ids, spec, index, created)
        project_id = ids()
        tasks[0]["Name"] = name
        published_at = at(spec.status_date, 18) - timedelta(days=rng.randint(1, 20))
        props: dict[str, Any] = {
            "Id": project_id,
            "Name": name,
            "Description": f"{name}: seeded by the pmo-sync sandbox",
            "StartDate": tasks[0]["Start"],
            "FinishDate": tasks[0]["Finish"],
            "CreatedDate": created,
            "ProjectIdentifier": f"P{index + 1:03d}",
            "ProjectSiteUrl": "",
            "ProjectType": 0,
            "EnterpriseProjectTypeId": Guid("09fa52b4-059b-4527-926e-99f9be96437a"),
            "CurrencyCode": "GBP",
            "CurrencySymbol": "£",
            "MinutesPerDay": MINUTES_PER_DAY,
            "MinutesPerWeek": MINUTES_PER_DAY * 5,
            "DaysPerMonth": 20,
            "StatusDate": at(spec.status_date, DAY_FINISH),
            "CurrentDate": at(spec.status_date, DAY_START),
            "SummaryTaskId": tasks[0]["Id"],
            "WinprojVersion": "16.0000000000",
            "OptimizerDecision": 0,
            "PlannerDecision": 0,
            "IsEnterpriseProject": True,
            "PercentComplete": 0,
        }
        # the project's calendar (PublishedProject.Calendar): Standard, every third Operations
        calendar_id = state.calendars[1 if index % 3 == 2 else 0]["Id"]
        plan = Plan(props=props, tasks=tasks, links=links)
        _slip_and_progress(rng, plan, spec.status_date)
        plan.rollup()
        plan.props["PercentComplete"] = tasks[0]["PercentComplete"]
        team = rng.sample(state.resources, k=min(len(state.resources), 3 + index % 2))
        plan.resources = [
            {
                "Id": r["Id"],
                "Name": r["Name"],
                "Email": r["Email"],
                "Code": r["Code"],
                "Group": r["Group"],
                "IsBudgeted": False,  # ProjectResource has IsBudgeted; IsBudget is enterprise
                "IsGenericResource": False,
                "Created": created,
                "Modified": created,
            }
            for r in team
        ]
        for task in tasks:
            if int(task["OutlineLevel"]) == 2 and task["DurationMilliseconds"] > 0:
                who = team[len(plan.assignments) % len(team)]
                plan.assignments.append(
                    {
                        "Id": ids(),
                        "TaskId": task["Id"],
                        "ResourceId": who["Id"],
                        "Start": task["Start"],
                        "Finish": task["Finish"],
                        "Work": task["Work"],
                        "ActualWork": task["ActualWork"],
                        "PercentWorkComplete": task["PercentComplete"],
                        "Notes": "",
                        "Created": created,
                        "Modified": created,
                    }
                )
        if spec.custom_fields:
            slip_days = (tasks[0]["Finish"] - tasks[0]["BaselineFinish"]).days
            rag = "Green" if slip_days <= 2 else "Amber" if slip_days <= 7 else "Red"
            rag_table = state.lookup_table(by_name["PMO RAG"].lookup_table_id)
            programme_table = state.lookup_table(by_name["Programme"].lookup_table_id)
            assert rag_table is not None and programme_table is not None
            rag_entry = rag_table.by_value(rag)
            programme = programme_table.entries[index % len(programme_table.entries)]
            assert rag_entry is not None
            plan.custom = {
                by_name["PMO RAG"].internal_name: [rag_entry.internal_name],
                by_name["PMO Forecast"].internal_name: tasks[0]["Finish"],
                by_name["PMO Status"].internal_name: f"{name}: {rag.lower()}, {slip_days}d slip",
                by_name["PMO Confidence"].internal_name: float(80 - 5 * (index % 5)),
                by_name["Programme"].internal_name: [programme.internal_name],
                by_name["PMO Sync Id"].internal_name: None,
            }
            workstream = by_name["Workstream"].internal_name
            for task in tasks:
                value = task["_custom"].pop("Workstream", None)
                task["_custom"] = {workstream: value}
        else:
            for task in tasks:
                task["_custom"] = {}
        owner = state.resources[0]["Name"] if state.resources else "PMO"
        record = ProjectRecord(
            id=project_id,
            published=plan,
            draft=plan.clone(),
            created=created,
            last_published=published_at,
            last_saved=published_at,
            modified=published_at,
            owner_name=owner,
            calendar_id=calendar_id,
        )
        record.issues = [
            _issue(ids, rng, record, n, plan, spec) for n in range(spec.issues_per_project)
        ]
        record.risks = [
            _risk(ids, rng, record, n, plan, spec) for n in range(spec.risks_per_project)
        ]
        state.projects[project_id] = record
    return state


def _issue(
    ids: _Ids, rng: random.Random, record: ProjectRecord, n: int, plan: Plan, spec: SeedSpec
) -> dict[str, Any]:
    who = plan.resources[n % len(plan.resources)]["Name"] if plan.resources else ""
    when = at(spec.status_date, 10) - timedelta(days=rng.randint(1, 30))
    return {
        "IssueId": ids(),
        "Title": f"{record.name}: issue {n + 1}",
        "Status": ("(1) Active", "(2) Postponed", "(3) Closed")[n % 3],
        "Priority": ("(1) High", "(2) Medium", "(3) Low")[rng.randint(0, 2)],
        "Category": ("(1) Category1", "(2) Category2")[n % 2],
        "AssignedToResource": who,
        "Owner": who,
        "DueDate": at(add_workdays(spec.status_date, rng.randint(3, 30)), DAY_FINISH),
        "Discussion": "Raised in the weekly status meeting.",
        "Resolution": "",
        "CreateByResource": record.owner_name,
        "CreatedDate": when,
        "ModifiedByResource": record.owner_name,
        "ModifiedDate": when + timedelta(days=1),
        "IsFolder": False,
        "ItemRelativeUrlPath": f"/sites/pwa/{record.name}/Lists/Issues/{n + 1}_.000",
        "NumberOfAttachments": 0,
    }


def _risk(
    ids: _Ids, rng: random.Random, record: ProjectRecord, n: int, plan: Plan, spec: SeedSpec
) -> dict[str, Any]:
    who = plan.resources[-1 - n % len(plan.resources)]["Name"] if plan.resources else ""
    probability = rng.choice((10, 30, 50, 70))
    impact = rng.randint(1, 5)
    cost = float(rng.choice((5000, 12000, 40000)))
    when = at(spec.status_date, 11) - timedelta(days=rng.randint(1, 30))
    return {
        "RiskId": ids(),
        "Title": f"{record.name}: risk {n + 1}",
        "Status": ("(1) Active", "(2) Postponed", "(3) Closed")[n % 3],
        "Category": ("(1) Category1", "(2) Category2")[n % 2],
        "Probability": probability,
        "Impact": impact,
        "Exposure": probability * impact / 100,
        "Cost": cost,
        "CostExposure": cost * probability / 100,
        "Description": "Identified during planning.",
        "MitigationPlan": "Track weekly.",
        "ContingencyPlan": "Escalate to the steering group.",
        "TriggerDescription": "Slip above five days.",
        "TriggerTask": "",
        "DueDate": at(add_workdays(spec.status_date, rng.randint(5, 40)), DAY_FINISH),
        "AssignedToResource": who,
        "Owner": who,
        "CreateByResource": record.owner_name,
        "CreatedDate": when,
        "ModifiedByResource": record.owner_name,
        "ModifiedDate": when + timedelta(days=2),
    }
