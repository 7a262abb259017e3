"""The ``portfolio-l`` scenario: a PMO at portfolio scale, for the benchmark suite (issue #13).

One Airtable register, a Jira site of 20 projects, a Project Server site with many plans and a
Planner Premium plan set, composed like the demo (project codes shared across the tools, the
register owning names, the schedules owning dates) but sized by ``size``:

====  =====================  ==================  ========================  ================
size  Jira issues (links)    Airtable records    Project Server tasks      Planner Premium
====  =====================  ==================  ========================  ================
S     3 x 40 (15)            ~120 in 4 tables    2 plans x 20 (30)         1 plan x 6
M     20 x 500 (1,000)       ~2,000              40 plans x 250 (8,000)    5 plans x 50
L     20 x 2,500 (5,000)     ~10,000             200 plans x 250 (40,000)  20 plans x 100
====  =====================  ==================  ========================  ================

Every emulator seeds in process, straight into its state objects (no API round trips), so even
L seeds in well under a minute. The link counts are trimmed to the issue's targets: the
seeders make links in proportion to the items (a seeded Jira makes about one per five issues,
a seeded plan one per task), and the benchmark wants the sizes issue #13 names.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from pmosync.errors import ConfigError
from pmosync.sandbox.dataverse import DataverseEmulator, SeedSpec, seeder
from pmosync.sandbox.harness import Scenario, ServiceSpec
from pmosync.sandbox.scenarios import airtable_pmo, jira, planner, pwa
from pmosync.sandbox.scenarios.demo import _align_codes, _jira_status, _set_authorities

TODAY = date(2026, 11, 20)


@dataclass(frozen=True)
class Size:
    jira_projects: int
    issues_per_project: int
    jira_links: int
    airtable_projects: int  # the register holds ~7.8 records per project over 4 tables
    pwa_plans: int
    tasks_per_plan: int
    pwa_links: int
    planner_plans: int
    planner_tasks: int


SIZES: dict[str, Size] = {
    "S": Size(3, 40, 15, 15, 2, 20, 30, 1, 6),
    "M": Size(20, 500, 1_000, 255, 40, 250, 8_000, 5, 50),
    "L": Size(20, 2_500, 5_000, 1_275, 200, 250, 40_000, 20, 100),
}


def size_of(name: str) -> Size:
    try:
        return SIZES[name.upper()]
    except KeyError:
        raise ConfigError(f"unknown portfolio size {name!r} (known: S, M, L)") from None


def jira_keys(count: int) -> tuple[str, ...]:
    """Project keys J00, J01, ...: 20 keys where the seeder's default list has five."""
    return tuple(f"J{i:02d}" for i in range(count))


def trim_jira_links(emulator: Any, keep: int) -> None:
    """Drop the seeded links beyond ``keep`` (the newest first), index included."""
    state = emulator.state
    for link_id in list(state.links)[keep:]:
        link = state.links.pop(link_id)
        for issue in (link.source, link.target):
            state.links_by_issue[issue].remove(link_id)


def trim_pwa_links(emulator: Any, keep: int) -> None:
    """Keep ``keep`` task links in all, spread evenly over the plans (draft and published)."""
    projects = list(emulator.state.projects.values())
    per_plan, extra = divmod(keep, max(1, len(projects)))
    for index, record in enumerate(projects):
        limit = per_plan + (1 if index < extra else 0)
        for plan in (record.published, record.draft):
            del plan.links[limit:]


def planner_plan_set(airtable: ServiceSpec, count: int) -> list[Any]:
    """Plans for the first ``count`` register projects not claimed by Jira or Project Server
    (the programme that moved its plans to Planner Premium), under the register's codes."""
    emulator: Any = airtable.emulator
    codes = [r["fields"]["Code"] for r in emulator.records(airtable_pmo.BASE_ID, "Projects")]
    free = tuple(c for c in codes if c.startswith("PRJ-"))[:count]
    return planner.plans_matching(airtable, free)


def scenario(size: str = "S", today: date | None = None, **_: Any) -> Scenario:
    spec = size_of(size)
    today = today or TODAY
    [airtable] = airtable_pmo.services(projects=spec.airtable_projects, today=today, register=True)
    keys = jira_keys(spec.jira_projects)
    delivery = jira.services(
        projects=spec.jira_projects,
        issues_per_project=spec.issues_per_project,
        project_keys=keys,
        today=today,
    )
    trim_jira_links(delivery[0].emulator, spec.jira_links)
    _jira_status(delivery[0])
    plans = pwa.services(projects=spec.pwa_plans, tasks_per_project=spec.tasks_per_plan)
    schedule: Any = plans[-1].emulator
    trim_pwa_links(schedule, spec.pwa_links)
    pwa_codes = [f"P{i + 1:03d}" for i in range(spec.pwa_plans)]
    names = dict(zip(pwa_codes, (p["Name"] for p in schedule.projects()), strict=False))
    _align_codes(airtable, list(keys) + pwa_codes, names)
    _set_authorities(airtable, plans[-1])
    plan_set = planner_plan_set(airtable, spec.planner_plans)
    planned = planner.services(plans=plan_set)
    # the plan set's size: the planner scenario seeds its default six tasks per plan
    entra: Any = planned[0].emulator
    planned[-1].emulator = DataverseEmulator(
        seeder(SeedSpec(plans=plan_set, tasks_per_plan=spec.planner_tasks)),
        token_validator=entra.validate,
    )
    schedule_fields = planned[-1].mapping["entities"]["project"]["fields"]  # type: ignore[index]
    for name in ("planned_start", "planned_finish"):  # Project Server holds that authority
        schedule_fields[name].pop("conflict")
    return Scenario(
        services=[airtable, *delivery, *plans, *planned],
        portfolio={"name": f"Portfolio {size.upper()} (benchmark)", "timezone": "UTC"},
        sync={"overlap": "5m", "identity": {"project": "code", "programme": "name"}},
    )
