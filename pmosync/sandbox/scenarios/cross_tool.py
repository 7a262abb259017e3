"""The ``cross-tool`` scenario: a Jira epic that waits for a Project Server milestone.

The delivery team's epic names the plan's milestone in a Jira text field ("Depends on":
``P001 / Go-live``), which the team mapping declares as a cross-tool link. The milestone has
slipped past the day the epic was planned to start, so the first sync reports the violation,
writes a remote link on the epic pointing at the plan, and writes the computed forecast
finish and slack into two Jira custom fields. A second sync writes nothing.

Everything is derived from the seeds, so two runs build the same sandbox.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from pmosync.sandbox.harness import Scenario, ServiceSpec
from pmosync.sandbox.jira.state import FieldSpec
from pmosync.sandbox.scenarios import jira, pwa

DEPENDS_ON = "Depends on"  # Jira text field naming the item the issue waits for
FORECAST = "Forecast finish"  # Jira date field pmo-sync writes (computed)
SLACK = "Total slack (days)"  # Jira number field pmo-sync writes (computed)
MILESTONE = "Go-live"
# The epic was planned to start this many working days before the milestone's current finish:
# the milestone has slipped past it.
SHORTFALL_DAYS = 3
_PREFIX = "com.atlassian.jira.plugin.system.customfieldtypes:"


def _workdays_before(day: date, count: int) -> date:
    while count > 0:
        day -= timedelta(days=1)
        if day.weekday() < 5:
            count -= 1
    return day


def _add_field(emulator: Any, number: int, name: str, kind: str, schema: dict[str, Any]) -> str:
    """A custom field created by a Jira admin (the emulator's catalog, as GET /field lists)."""
    field_id = f"customfield_{number}"
    emulator.state.fields[field_id] = FieldSpec(
        id=field_id,
        name=name,
        kind=kind,
        schema={**schema, "customId": number},
        custom=True,
        clause_names=[f"cf[{number}]", name],
    )
    return field_id


def _milestone(plans: ServiceSpec) -> tuple[str, dict[str, Any]]:
    """The first plan's code and its Go-live task (as Project Server publishes it)."""
    emulator: Any = plans.emulator
    project = emulator.projects()[0]
    plan = emulator.published(project["Id"])
    task = next(t for t in plan.tasks if t["Name"] == MILESTONE)
    return str(project.get("ProjectIdentifier") or "P001"), task


def _mapping(spec: ServiceSpec) -> None:
    assert spec.mapping is not None
    entities = spec.mapping["entities"]
    fields = entities["work_item"]["fields"]
    fields["forecast_finish"] = {"field": FORECAST}
    fields["total_slack_days"] = {"field": SLACK}
    dependency = entities.setdefault("dependency", {})
    link_types = dependency.setdefault("link_types", {})
    link_types.update({"Blocks": "logic", "Relates": "info"})  # Blocks drives dates
    dependency["cross_tool"] = [{"field": DEPENDS_ON, "names": "predecessor"}]
    dependency["remote_links"] = True


def link_epic_to_milestone(delivery: ServiceSpec, plans: ServiceSpec) -> None:
    """Make the first Jira epic wait for the first plan's Go-live, named in its "Depends on"
    field, planned to start before the milestone's current finish; map the link and the
    computed fields in the delivery team's mapping."""
    emulator: Any = delivery.emulator
    base = emulator.seed.field_base
    text = {"type": "string", "custom": _PREFIX + "textfield"}
    depends = _add_field(emulator, base + 60, DEPENDS_ON, "string", text)
    day = {"type": "date", "custom": _PREFIX + "datepicker"}
    _add_field(emulator, base + 61, FORECAST, "date", day)
    number = {"type": "number", "custom": _PREFIX + "float"}
    _add_field(emulator, base + 62, SLACK, "number", number)
    code, task = _milestone(plans)
    finish = task["Finish"].date()
    start_field = emulator.state.custom_field_id("Start date")
    types = emulator.state.issue_types
    epic = next(
        i
        for i in sorted(emulator.state.issues.values(), key=lambda i: i.id)
        if types[str(i.fields["issuetype"])].name == "Epic"
    )
    emulator.human_edit(
        epic.key,
        {
            depends: f"{code} / {MILESTONE}",
            start_field: _workdays_before(finish, SHORTFALL_DAYS).isoformat(),
            "duedate": (finish + timedelta(days=21)).isoformat(),
        },
    )
    delivery.extra["epic"] = epic.key
    delivery.extra["milestone"] = f"{code} / {MILESTONE}"
    _mapping(delivery)


def services(today: date | None = None) -> list[ServiceSpec]:
    delivery = jira.services(projects=1, issues_per_project=12, today=today)
    plans = pwa.services(projects=1)
    link_epic_to_milestone(delivery[0], plans[-1])
    return [*delivery, *plans]


def scenario(today: date | None = None, **_: Any) -> Scenario:
    return Scenario(
        services=services(today),
        portfolio={"name": "Cross-tool (sandbox)", "timezone": "UTC"},
        sync={"overlap": "5m"},
    )
