"""Seeded Planner Premium plans: a programme, its projects, buckets, a summary task with
subtasks, a milestone, links with lags, team members and assignments. Deterministic ids."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from pmosync.sandbox.dataverse.state import Tables, instant

NAMESPACE = uuid.UUID("1d9f8a52-3c4b-4e6f-9a01-7b2c3d4e5f60")
MANAGER_ID = "0c9a4e2b-7d13-4f6a-b58e-3e1f0a2c7d44"  # the sandbox Entra user's oid
# Link types as MPXJ reads them (reference "Planner Premium"): 0=FF, 1=FS, 2=SF, 3=SS
FS, SS = 1, 3
SAVED_BEFORE_START = timedelta(days=1)  # when the seeded plans were last saved


def gid(*parts: object) -> str:
    return str(uuid.uuid5(NAMESPACE, "/".join(str(p) for p in parts)))


@dataclass(frozen=True)
class PlanSpec:
    code: str
    name: str
    start: date


@dataclass
class SeedSpec:
    programme: str = "Digital Workplace"
    plans: list[PlanSpec] = field(
        default_factory=lambda: [
            PlanSpec("PRJ-007", "Intranet Refresh", date(2026, 9, 7)),
            PlanSpec("PRJ-008", "Teams Telephony", date(2026, 10, 5)),
        ]
    )
    tasks_per_plan: int = 6  # leaf tasks under the summary task
    people: tuple[str, ...] = ("Avery Shah", "Noor Haddad", "Tom Becker")


def _workday(start: date, days: int) -> date:
    current = start
    step = 1 if days >= 0 else -1
    remaining = abs(days)
    while remaining:
        current += timedelta(days=step)
        if current.weekday() < 5:
            remaining -= 1
    return current


def _at(day: date, hour: int) -> str:
    return instant(datetime.combine(day, time(hour), tzinfo=UTC))


def seeder(spec: SeedSpec) -> Callable[[Tables], None]:
    def seed(tables: Tables) -> None:
        programme_id = gid("programme", spec.programme)
        tables.put(
            "msdyn_programs",
            {"msdyn_programid": programme_id, "msdyn_name": spec.programme, "statecode": 0},
        )
        for plan in spec.plans:
            _seed_plan(tables, plan, programme_id, spec)
        # A plan set exists before pmo-sync first reads it, as the Project Server and Jira seeds
        # date their rows in the past: rows stamped at seed time would sit inside every
        # incremental pull's overlap window for the sandbox's first minutes and look changed.
        saved = instant(datetime.now(UTC) - SAVED_BEFORE_START)
        for rows in tables.rows.values():
            for row in rows.values():
                row["modifiedon"] = saved

    return seed


def _seed_plan(tables: Tables, plan: PlanSpec, programme_id: str, spec: SeedSpec) -> None:
    project_id = gid("project", plan.code)
    buckets = [gid(plan.code, "bucket", name) for name in ("Build", "Launch")]
    for bucket_id, name in zip(buckets, ("Build", "Launch"), strict=True):
        tables.put(
            "msdyn_projectbuckets",
            {
                "msdyn_projectbucketid": bucket_id,
                "msdyn_name": name,
                "_msdyn_project_value": project_id,
            },
        )
    team = []
    for person in spec.people:
        member_id = gid(plan.code, "team", person)
        team.append(member_id)
        tables.put(
            "msdyn_projectteams",
            {
                "msdyn_projectteamid": member_id,
                "msdyn_name": person,
                "_msdyn_project_value": project_id,
                "_msdyn_bookableresourceid_value": gid("resource", person),
            },
        )
    summary_id = gid(plan.code, "task", "summary")
    leaves: list[tuple[str, date, date, int]] = []
    day = plan.start
    for index in range(spec.tasks_per_plan):
        days = 3 + (index % 3) * 2
        finish = _workday(day, days - 1)
        leaves.append((gid(plan.code, "task", index), day, finish, days))
        day = _workday(finish, 1)
    milestone_id = gid(plan.code, "task", "go-live")
    end = leaves[-1][2]
    finish_all = _workday(end, 1)
    tables.put(
        "msdyn_projecttasks",
        {
            "msdyn_projecttaskid": summary_id,
            "msdyn_subject": f"{plan.name} delivery",
            "_msdyn_project_value": project_id,
            "_msdyn_projectbucket_value": buckets[0],
            "msdyn_scheduledstart": _at(plan.start, 8),
            "msdyn_scheduledend": _at(finish_all, 17),
            "msdyn_duration": float(sum(d for *_, d in leaves) + 1),
            "msdyn_effort": float(8 * sum(d for *_, d in leaves)),
            "msdyn_progress": 20.0,
            "msdyn_outlinelevel": 1,
            "msdyn_displaysequence": 1.0,
            "msdyn_ismilestone": False,
            "msdyn_summary": True,
            "msdyn_ismanual": False,
        },
    )
    for index, (task_id, start, finish, days) in enumerate(leaves):
        progress = 100.0 if index == 0 else (50.0 if index == 1 else 0.0)
        tables.put(
            "msdyn_projecttasks",
            {
                "msdyn_projecttaskid": task_id,
                "msdyn_subject": f"{plan.name}: step {index + 1}",
                "_msdyn_project_value": project_id,
                "_msdyn_parenttask_value": summary_id,
                "_msdyn_projectbucket_value": buckets[0 if index < 4 else 1],
                "msdyn_scheduledstart": _at(start, 8),
                "msdyn_scheduledend": _at(finish, 17),
                "msdyn_duration": float(days),
                "msdyn_effort": float(8 * days),
                "msdyn_effortcompleted": float(8 * days) * progress / 100,
                "msdyn_effortremaining": float(8 * days) * (100 - progress) / 100,
                "msdyn_progress": progress,
                "msdyn_outlinelevel": 2,
                "msdyn_displaysequence": float(index + 2),
                "msdyn_ismilestone": False,
                "msdyn_summary": False,
                "msdyn_ismanual": False,
                "msdyn_priority": 5,
            },
        )
        member = team[index % len(team)]
        tables.put(
            "msdyn_resourceassignments",
            {
                "msdyn_resourceassignmentid": gid(plan.code, "assignment", index),
                "msdyn_name": f"assignment {index + 1}",
                "_msdyn_projectid_value": project_id,
                "_msdyn_taskid_value": task_id,
                "_msdyn_projectteamid_value": member,
                "msdyn_effort": float(8 * days),
                "msdyn_scheduledstart": _at(start, 8),
                "msdyn_scheduledend": _at(finish, 17),
            },
        )
        if index:
            previous = leaves[index - 1][0]
            # every third link starts with its predecessor, one link waits a day (in seconds)
            link_type = SS if index % 3 == 0 else FS
            lag = 8 * 3600 if index == 2 else 0
            tables.put(
                "msdyn_projecttaskdependencies",
                {
                    "msdyn_projecttaskdependencyid": gid(plan.code, "link", index),
                    "_msdyn_project_value": project_id,
                    "_msdyn_predecessortask_value": previous,
                    "_msdyn_successortask_value": task_id,
                    "msdyn_projecttaskdependencylinktype": link_type,
                    "msdyn_projecttaskdependencylinklag": lag,
                },
            )
    tables.put(
        "msdyn_projecttasks",
        {
            "msdyn_projecttaskid": milestone_id,
            "msdyn_subject": f"{plan.name} go-live",
            "_msdyn_project_value": project_id,
            "_msdyn_parenttask_value": summary_id,
            "_msdyn_projectbucket_value": buckets[1],
            "msdyn_scheduledstart": _at(finish_all, 17),
            "msdyn_scheduledend": _at(finish_all, 17),
            "msdyn_duration": 0.0,
            "msdyn_progress": 0.0,
            "msdyn_outlinelevel": 2,
            "msdyn_displaysequence": float(len(leaves) + 2),
            "msdyn_ismilestone": True,
            "msdyn_summary": False,
            "msdyn_ismanual": False,
        },
    )
    tables.put(
        "msdyn_projecttaskdependencies",
        {
            "msdyn_projecttaskdependencyid": gid(plan.code, "link", "go-live"),
            "_msdyn_project_value": project_id,
            "_msdyn_predecessortask_value": leaves[-1][0],
            "_msdyn_successortask_value": milestone_id,
            "msdyn_projecttaskdependencylinktype": FS,
            "msdyn_projecttaskdependencylinklag": 0,
        },
    )
    tables.put(
        "msdyn_projects",
        {
            "msdyn_projectid": project_id,
            "msdyn_subject": plan.name,
            "msdyn_description": f"{plan.name} (planned in Planner Premium)",
            "_msdyn_program_value": programme_id,
            "_msdyn_projectmanager_value": MANAGER_ID,
            "msdyn_scheduledstart": _at(plan.start, 8),
            "msdyn_finish": _at(finish_all, 17),
            "msdyn_duration": float(sum(d for *_, d in leaves) + 1),
            "msdyn_progress": 20.0,
            "msdyn_hoursperday": 8.0,
            "msdyn_hoursperweek": 40.0,
            "msdyn_dayspermonth": 20,
            "statecode": 0,
            "pmo_projectcode": plan.code,
        },
    )
