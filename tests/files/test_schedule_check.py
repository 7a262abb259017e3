"""The oracle: pmo-sync's CPM against the values MS Project itself stored in real files.

Every fixture in tests/fixtures/msproject/ is read through the real MPXJ reader; every
auto-scheduled, non-summary task must get MS Project's early start/finish, late start/finish
and total/free slack to the minute (dates compared as working-time offsets on the task's
calendar, because MS Project sometimes stores one working instant on the far side of a
weekend), and every manually scheduled task must be held at its stored start and finish.
No task of any MS Project-written fixture is excluded (``HAND_MADE`` lists the fixtures that
MS Project did not write, with the reason).
"""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from pmosync.analysis.schedule_check import check_schedule, plan_inputs
from pmosync.cli import EXIT_PARTIAL, main
from pmosync.connectors.files import ScheduleFile, java_available, read_schedule_files
from tests import fixture_dirs

FIXTURES = fixture_dirs.MSPROJECT
# Fixtures whose dates MS Project did not compute have no oracle values; each says why.
HAND_MADE = {
    "master-plan.xml": "hand-made master plan (see the fixtures README): its dates are typed in, "
    "not computed by MS Project",
}
ALL_FIXTURES = sorted(
    p.name for p in FIXTURES.iterdir() if p.suffix in (".mpp", ".xml") and p.name not in HAND_MADE
)
NO_JAVA = "no Java runtime for MPXJ (apt-get install default-jre-headless, or set JAVA_HOME)"
needs_java = pytest.mark.skipif(not java_available(), reason=NO_JAVA)

# How many tasks of each kind each fixture holds, so a reader that lost tasks (or a check
# that compares nothing) cannot pass silently.
EXPECTED_KINDS = {
    "alias.xml": {},
    "baselines.xml": {"auto": 1},
    "enterprise.xml": {"auto": 1},
    "mpp14relations.mpp": {"auto": 5},
    "mspdirelations.xml": {"auto": 5},
    "mspdiresource.xml": {"auto": 2, "completed": 1},
    "sample.mpp": {"auto": 18, "summary": 4},
    "sample.xml": {"auto": 16, "summary": 3},
    "slack9.mpp": {"auto": 15},
    "task-links-project2010-mspdi.xml": {"auto": 16},
    "task-links-project2016-mpp14.mpp": {"manual": 16},
    "task-links-project2019-mspdi.xml": {"manual": 16},
}


@pytest.fixture(scope="module")
def plans() -> dict[str, ScheduleFile]:
    if not java_available():
        pytest.skip(NO_JAVA)
    files = read_schedule_files([FIXTURES / name for name in ALL_FIXTURES])
    out = {}
    for plan in files:
        assert plan.error is None, plan.error
        out[plan.path.name] = plan
    return out


def test_every_fixture_is_listed() -> None:
    assert sorted(EXPECTED_KINDS) == ALL_FIXTURES


@needs_java
@pytest.mark.parametrize("name", ALL_FIXTURES)
def test_cpm_matches_ms_project_on_every_task(plans: dict[str, ScheduleFile], name: str) -> None:
    _, checks = check_schedule(plans[name])
    kinds: dict[str, int] = {}
    for c in checks:
        kinds[c.kind] = kinds.get(c.kind, 0) + 1
    assert kinds == EXPECTED_KINDS[name]
    mismatches = [(c.uid, c.name, c.differences) for c in checks if c.differences]
    assert mismatches == []


@needs_java
@pytest.mark.parametrize(
    "name", ["task-links-project2016-mpp14.mpp", "task-links-project2019-mspdi.xml"]
)
def test_manually_scheduled_tasks_are_held_at_their_dates(
    plans: dict[str, ScheduleFile], name: str
) -> None:
    plan = plans[name]
    result, _ = check_schedule(plan)
    manual = [t for t in plan.tasks if t.manually_scheduled]
    assert len(manual) == 16
    for task in manual:
        computed = result.tasks[str(task.unique_id)]
        assert (computed.early_start, computed.early_finish) == (task.start, task.finish)


@needs_java
def test_slack9_negative_slack_and_critical_flags(plans: dict[str, ScheduleFile]) -> None:
    plan = plans["slack9.mpp"]
    result, checks = check_schedule(plan)
    by_name = {c.name: c for c in checks}
    assert by_name["Milestone 2"].computed.total_slack_minutes == -480
    assert by_name["Task 5"].computed.critical
    assert not by_name["Task 8"].computed.critical
    stored_critical = {c.uid for c in checks if c.stored["critical"]}
    assert {c.uid for c in checks if c.computed.critical} == stored_critical
    # The chain that drives the must-finish-on milestone 3.
    assert [by_uid(plan, u) for u in result.critical_path_to("16")] == [
        "Task 9",
        "Task 10",
        "Task 11",
        "Milestone 3",
    ]


def by_uid(plan: ScheduleFile, uid: str) -> str | None:
    return next(t.name for t in plan.tasks if str(t.unique_id) == uid)


@needs_java
def test_resource_calendars_drive_tasks_with_resources(plans: dict[str, ScheduleFile]) -> None:
    """Second Task (100 days) runs on Standard and Night Shift resources: 16 h a day, 50 days."""
    plan = plans["sample.xml"]
    inputs = plan_inputs(plan)
    cal = inputs.task_calendar["2"]
    tuesday = date(2003, 1, 7)
    assert cal.intervals_on(tuesday) == (
        (0, 180),
        (240, 720),
        (780, 1020),
        (1380, 1440),
    )


@needs_java
def test_the_comparison_sees_a_changed_plan(plans: dict[str, ScheduleFile]) -> None:
    """Doubling one duration must show up as differences, not pass quietly."""
    plan = plans["mspdirelations.xml"]
    tasks = tuple(
        t.model_copy(update={"duration_minutes": 960.0}) if t.unique_id == 1 else t
        for t in plan.tasks
    )
    _, checks = check_schedule(plan.model_copy(update={"tasks": tasks}))
    changed = {c.uid: c.differences for c in checks if c.differences}
    assert "early_finish" in changed[1]
    assert "early_start" in changed[2]


# -- the command ------------------------------------------------------------------------------


@needs_java
def test_schedule_check_all_match_exit_0() -> None:
    result = CliRunner().invoke(
        main,
        ["schedule", "check", str(FIXTURES / "slack9.mpp"), str(FIXTURES / "sample.xml")],
    )
    assert result.exit_code == 0, result.output
    assert "slack9.mpp: 15 tasks, 0 differ" in result.output
    assert "sample.xml: 16 tasks, 0 differ" in result.output


@needs_java
def test_schedule_check_reports_differences_and_unreadable_files(tmp_path: Path) -> None:
    changed = tmp_path / "changed.xml"
    text = (FIXTURES / "mspdirelations.xml").read_text(encoding="utf-8")
    # Task 1's duration in the file goes from 1 day to 2: MS Project's stored dates are stale.
    task1 = re.search(r"<Task>\s*<UID>1</UID>.*?</Task>", text, re.S)
    assert task1 is not None
    block = task1.group(0).replace(
        "<Duration>PT8H0M0S</Duration>", "<Duration>PT16H0M0S</Duration>", 1
    )
    assert block != task1.group(0)
    changed.write_text(text.replace(task1.group(0), block), encoding="utf-8")
    missing = tmp_path / "gone.mpp"

    result = CliRunner().invoke(
        main, ["schedule", "check", str(missing), str(changed), str(FIXTURES / "slack9.mpp")]
    )
    assert result.exit_code == EXIT_PARTIAL, result.output
    assert f"{missing}: no such file" in result.output
    assert "changed.xml: 5 tasks, 5 differ" in result.output
    assert re.search(
        r"\b1\s+Task 1\s+early_finish\s+2006-09-22 17:00\s+2006-09-21 17:00", result.output
    )
    assert "slack9.mpp: 15 tasks, 0 differ" in result.output


@needs_java
def test_schedule_check_json_is_one_document_with_every_task() -> None:
    result = CliRunner().invoke(
        main, ["schedule", "check", "--json", str(FIXTURES / "mspdirelations.xml")]
    )
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    (entry,) = document["files"]
    assert entry["file"] == str(FIXTURES / "mspdirelations.xml")
    assert [t["uid"] for t in entry["tasks"]] == [1, 2, 3, 4, 5]
    task5 = entry["tasks"][4]
    keys = {
        "early_start",
        "early_finish",
        "late_start",
        "late_finish",
        "total_slack_minutes",
        "free_slack_minutes",
        "critical",
    }
    assert keys <= set(task5) and set(task5["stored"]) == keys
    assert task5["early_start"] == "2006-09-22T08:00:00"
    assert task5["total_slack_minutes"] == 480.0 == task5["stored"]["total_slack_minutes"]
    assert task5["critical"] is False


def test_schedule_check_help_explains_exit_codes() -> None:
    result = CliRunner().invoke(main, ["schedule", "check", "--help"])
    assert result.exit_code == 0
    assert "Recompute each plan" in result.output
    assert "6  some task differs" in result.output
