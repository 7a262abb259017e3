"""Recompute a Microsoft Project plan read through MPXJ and compare it with what MS Project stored.

Two pure steps: ``plan_inputs`` turns a ``ScheduleFile`` into CPM input (tasks, links, working
calendars) and ``check_schedule`` runs ``compute_schedule`` and compares every task's early and
late dates and total/free slack with the stored values. Dates are compared as working-time
offsets on the task's calendar, because MS Project sometimes stores the same working instant on
the far side of a non-working gap (Friday 17:00 vs Monday 08:00).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from pmosync.analysis.calendar import (
    Intervals,
    WorkCalendar,
    combine_calendars,
    derive_calendar,
    standard_calendar,
)
from pmosync.analysis.cpm import CpmLink, CpmResult, CpmTask, TaskSchedule, compute_schedule
from pmosync.connectors.files.model import (
    CONSTRAINT_TYPES,
    ScheduleCalendar,
    ScheduleFile,
    ScheduleTask,
)

__all__ = [
    "DATE_FIELDS",
    "SLACK_FIELDS",
    "PlanInputs",
    "TaskCheck",
    "check_schedule",
    "plan_inputs",
    "work_calendars",
]

DATE_FIELDS = ("early_start", "early_finish", "late_start", "late_finish")
SLACK_FIELDS = ("total_slack_minutes", "free_slack_minutes")
# MSPDI stores slack in tenths of a minute and MPP in days/hours: "to the minute" means this.
_TOLERANCE_MINUTES = 0.5


def work_calendars(schedule: ScheduleFile) -> dict[int, WorkCalendar]:
    """Every calendar of the file as a ``WorkCalendar``, derived ones resolved over their base."""
    props = schedule.properties
    per_day = props.minutes_per_day if props else 480
    per_week = props.minutes_per_week if props else 2400
    per_month = props.days_per_month if props else 20
    by_uid = {c.unique_id: c for c in schedule.calendars}
    resolved: dict[int, WorkCalendar] = {}

    def exceptions_of(cal: ScheduleCalendar) -> dict[date, Intervals]:
        out: dict[date, Intervals] = {}
        for exc in cal.exceptions:
            day = exc.from_date
            while day <= exc.to_date:
                out[day] = exc.ranges
                day += timedelta(days=1)
        return out

    def resolve(uid: int, seen: frozenset[int] = frozenset()) -> WorkCalendar:
        if uid in resolved:
            return resolved[uid]
        cal = by_uid[uid]
        base_uid = cal.base_calendar_unique_id
        name = cal.name or f"calendar {uid}"
        if base_uid is not None and base_uid in by_uid and base_uid not in seen:
            base = resolve(base_uid, seen | {uid})
            week = list(cal.week) if len(cal.week) == 7 else [None] * 7
            result = derive_calendar(
                base,
                name=name,
                week=week,
                exceptions=exceptions_of(cal),
                minutes_per_day=cal.minutes_per_day,
                minutes_per_week=cal.minutes_per_week,
                days_per_month=cal.days_per_month,
            )
        else:
            std = standard_calendar().week
            week_days = tuple(
                day if day is not None else std[i]
                for i, day in enumerate(cal.week if len(cal.week) == 7 else [None] * 7)
            )
            result = WorkCalendar(
                name=name,
                week=week_days,
                exceptions=exceptions_of(cal),
                minutes_per_day=cal.minutes_per_day or per_day,
                minutes_per_week=cal.minutes_per_week or per_week,
                days_per_month=cal.days_per_month or per_month,
            )
        resolved[uid] = result
        return result

    for uid in by_uid:
        resolve(uid)
    return resolved


@dataclass(frozen=True)
class PlanInputs:
    """``compute_schedule`` input for one plan; task ids are the MS Project unique ids as text."""

    tasks: list[CpmTask]
    links: list[CpmLink]
    calendars: dict[str, WorkCalendar]
    default_calendar: WorkCalendar
    project_start: datetime
    # The calendar each task is scheduled on (its own, its resources', or the project's).
    task_calendar: dict[str, WorkCalendar] = field(default_factory=dict)


def _is_row(task: ScheduleTask) -> bool:
    """A real task row: not MS Project's project summary (UID 0 / outline level 0)."""
    return bool(task.outline_level) and task.active


def plan_inputs(schedule: ScheduleFile) -> PlanInputs:
    """Tasks, links and calendars of one plan, as ``compute_schedule`` takes them."""
    props = schedule.properties
    calendars = work_calendars(schedule)
    default_uid = props.default_calendar_unique_id if props else None
    default = calendars.get(default_uid) if default_uid is not None else None
    if default is None:
        default = standard_calendar()
        if props is not None:
            default = WorkCalendar(
                name=default.name,
                week=default.week,
                minutes_per_day=props.minutes_per_day,
                minutes_per_week=props.minutes_per_week,
                days_per_month=props.days_per_month,
            )
    keyed: dict[str, WorkCalendar] = {f"cal:{uid}": cal for uid, cal in calendars.items()}

    resource_cal = {r.unique_id: r.calendar_unique_id for r in schedule.resources}
    resource_type = {r.unique_id: r.type for r in schedule.resources}
    assigned: dict[int, set[int]] = {}
    for a in schedule.assignments:
        if a.resource_unique_id is None or resource_type.get(a.resource_unique_id) not in (
            None,
            "WORK",
        ):
            continue
        cal_uid = resource_cal.get(a.resource_unique_id)
        if cal_uid is not None and cal_uid in calendars:
            assigned.setdefault(a.task_unique_id, set()).add(cal_uid)

    rows = [t for t in schedule.tasks if _is_row(t)]
    row_ids = {t.unique_id for t in rows}
    tasks: list[CpmTask] = []
    task_calendar: dict[str, WorkCalendar] = {}
    for t in rows:
        key: str | None = None
        own = t.calendar_unique_id if t.calendar_unique_id in calendars else None
        if own is not None:
            key = f"cal:{own}"
        res = assigned.get(t.unique_id)
        if res and not t.ignore_resource_calendar and not t.summary:
            # MS Project works a task when any of its resources works (within the task's own
            # calendar, if it has one).
            res_key = "res:" + ",".join(str(u) for u in sorted(res)) + (f"@{own}" if own else "")
            if res_key not in keyed:
                union = combine_calendars([calendars[u] for u in sorted(res)], name=res_key)
                if own is not None:
                    union = combine_calendars([union, calendars[own]], name=res_key, union=False)
                keyed[res_key] = union
            key = res_key
        task_calendar[str(t.unique_id)] = keyed[key] if key else default
        unit = t.duration_unit or ""
        parent = t.parent_unique_id if t.parent_unique_id in row_ids else None
        tasks.append(
            CpmTask(
                id=str(t.unique_id),
                duration_minutes=t.duration_minutes or 0.0,
                parent=None if parent is None else str(parent),
                summary=t.summary,
                milestone=t.milestone,
                manual=t.manually_scheduled or t.external,
                start=t.start,
                finish=t.finish,
                elapsed=unit.startswith("ELAPSED_"),
                calendar=key,
                constraint_type=CONSTRAINT_TYPES.get(t.constraint_type or "", "ASAP"),
                constraint_date=t.constraint_date,
                deadline=t.deadline,
                actual_start=t.actual_start,
                actual_finish=t.actual_finish,
                remaining_minutes=t.remaining_duration_minutes,
                percent_complete=t.percent_complete,
            )
        )
    links = [
        CpmLink(
            predecessor=str(link.predecessor_unique_id),
            successor=str(link.successor_unique_id),
            type=link.type,
            lag_minutes=0.0
            if link.lag_unit in ("PERCENT", "ELAPSED_PERCENT")
            else (link.lag_minutes or 0.0),
            lag_percent=link.lag_value if link.lag_unit in ("PERCENT", "ELAPSED_PERCENT") else None,
            lag_elapsed=link.lag_elapsed,
        )
        for link in schedule.links
        if link.predecessor_unique_id in row_ids
        and link.successor_unique_id in row_ids
        and link.other_project_index is None
    ]
    start = props.start if props and props.start else None
    if start is None:
        starts = [t.start for t in rows if t.start is not None]
        start = min(starts) if starts else datetime(2000, 1, 3, 8)
    return PlanInputs(
        tasks=tasks,
        links=links,
        calendars=keyed,
        default_calendar=default,
        project_start=start,
        task_calendar=task_calendar,
    )


@dataclass(frozen=True)
class TaskCheck:
    """One task: what we computed, what MS Project stored, and which fields differ."""

    uid: int
    name: str | None
    kind: str  # "auto", "manual", "summary", "completed"
    computed: TaskSchedule
    stored: dict[str, datetime | float | bool | None]
    differences: tuple[str, ...]  # field names; empty = matches


def _stored(task: ScheduleTask) -> dict[str, datetime | float | bool | None]:
    return {
        "early_start": task.early_start,
        "early_finish": task.early_finish,
        "late_start": task.late_start,
        "late_finish": task.late_finish,
        "total_slack_minutes": task.total_slack_minutes,
        "free_slack_minutes": task.free_slack_minutes,
        "critical": task.critical,
    }


def _kind(task: ScheduleTask) -> str:
    if task.summary:
        return "summary"
    if task.manually_scheduled or task.external:
        return "manual"
    if task.actual_finish is not None:
        return "completed"
    return "auto"


def _differences(
    task: ScheduleTask, kind: str, computed: TaskSchedule, cal: WorkCalendar
) -> tuple[str, ...]:
    stored = _stored(task)
    out: list[str] = []
    if kind == "manual":
        # Held at its dates: the stored start and finish are the truth.
        if task.start is not None and computed.early_start != task.start:
            out.append("early_start")
        if task.finish is not None and computed.early_finish != task.finish:
            out.append("early_finish")
        return tuple(out)
    for name in DATE_FIELDS:
        value = stored[name]
        if not isinstance(value, datetime):
            continue
        ours: datetime = getattr(computed, name)
        if abs(cal.to_work(ours) - cal.to_work(value)) >= _TOLERANCE_MINUTES:
            out.append(name)
    for name in SLACK_FIELDS:
        value = stored[name]
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            continue
        if abs(getattr(computed, name) - value) >= _TOLERANCE_MINUTES:
            out.append(name)
    return tuple(out)


def check_schedule(
    schedule: ScheduleFile, *, inputs: PlanInputs | None = None
) -> tuple[CpmResult, list[TaskCheck]]:
    """Recompute one plan and compare every task row with the values MS Project stored.

    Auto-scheduled tasks are compared on early/late start/finish (as working-time offsets on
    the task's calendar) and total/free slack; manually scheduled tasks on being held at their
    start and finish; summary tasks are reported but not compared (their roll-up is display).
    """
    inputs = inputs or plan_inputs(schedule)
    result = compute_schedule(
        inputs.tasks,
        inputs.links,
        calendars=inputs.calendars,
        default_calendar=inputs.default_calendar,
        project_start=inputs.project_start,
        status_date=schedule.properties.status_date if schedule.properties else None,
    )
    checks: list[TaskCheck] = []
    for task in schedule.tasks:
        key = str(task.unique_id)
        computed = result.tasks.get(key)
        if computed is None or not _is_row(task):
            continue
        kind = _kind(task)
        cal = inputs.task_calendar.get(key, inputs.default_calendar)
        diffs = () if kind == "summary" else _differences(task, kind, computed, cal)
        checks.append(TaskCheck(task.unique_id, task.name, kind, computed, _stored(task), diffs))
    return result, checks


def mismatches(checks: Iterable[TaskCheck]) -> list[TaskCheck]:
    return [c for c in checks if c.differences]
