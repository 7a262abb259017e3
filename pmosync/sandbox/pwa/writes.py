"""The PWA write path: check-out locks, draft edits, queue jobs, publish and check-in.

Every operation that PWA queues (``update``, ``publish``, ``checkIn``, ``UpdateCustomFields``,
``AddEnterpriseResourceById``, ``deleteObject``) returns a QueueJob whose effect is applied only
when the job completes: after ``job_polls`` GETs of ``QueueJobs('id')`` or ``job_seconds``
seconds. While a job of a project is running, other writes to it fail with 403
``1030 ProjectWriteLock`` as on the real server.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from pmosync.sandbox.pwa.odata import SENTINEL_DATE, Entity, Guid, ODataError, parse_datetime
from pmosync.sandbox.pwa.state import (
    CF_DATE,
    CF_FINISHDATE,
    CF_NUMBER,
    JOB_BLOCKED,
    JOB_CANCELED,
    JOB_FAILED,
    JOB_PROCESSING,
    JOB_READY,
    JOB_SUCCESS,
    MSG_CHECKIN,
    MSG_DELETE,
    MSG_PUBLISH,
    MSG_UPDATE,
    MSG_UPDATE_TEAM,
    Checkout,
    CustomFieldDef,
    Plan,
    ProjectRecord,
    QueueJob,
    duration_between,
    finish_for,
    new_guid,
    parse_duration,
)

if TYPE_CHECKING:
    from pmosync.sandbox.pwa.emulator import PwaEmulator

PJ = "Microsoft.ProjectServer.PJClientCallableException"
INVALID = "-1, Microsoft.SharePoint.Client.InvalidClientQueryException"

TASK_WRITABLE = frozenset(
    {
        "Name",
        "Notes",
        "Start",
        "Finish",
        "Duration",
        "PercentComplete",
        "PercentPhysicalWorkComplete",
        "IsMilestone",
        "IsManual",
        "IsActive",
        "ConstraintType",
        "ConstraintStartEnd",
        "Deadline",
        "Priority",
        "TaskType",
        "Work",
        "ActualWork",
        "ActualStart",
        "ActualFinish",
        "RemainingDuration",
        "Cost",
        "FixedCost",
        "StatusManager",
        "BudgetWork",
        "LevelingCanSplit",
        "LevelingAdjustsAssignments",
        "IsLockedByManager",
        "UsePercentPhysicalWorkComplete",
        "Completion",
    }
)
PROJECT_WRITABLE = frozenset(
    {
        "Name",
        "Description",
        "StartDate",
        "FinishDate",
        "StatusDate",
        "ProjectIdentifier",
        "CurrencyCode",
        "CheckOutDescription",
    }
)
DATE_PROPS = frozenset(
    {
        "Start",
        "Finish",
        "ActualStart",
        "ActualFinish",
        "ConstraintStartEnd",
        "Deadline",
        "StartDate",
        "FinishDate",
        "StatusDate",
        "Completion",
        "Resume",
        "Stop",
    }
)
INT_PROPS = frozenset(
    {"PercentComplete", "PercentPhysicalWorkComplete", "ConstraintType", "Priority", "TaskType"}
)


def pj_error(code: int, name: str, status: int = 403) -> ODataError:
    return ODataError(status, f"{code}, {PJ}", name)


def bad_request(message: str) -> ODataError:
    return ODataError(400, INVALID, message)


def _params(body: dict[str, Any]) -> dict[str, Any]:
    params = body.get("parameters", body)
    if not isinstance(params, dict):
        raise bad_request("The 'parameters' value must be an object.")
    return {k: v for k, v in params.items() if k != "__metadata"}


# -- queue ---------------------------------------------------------------------------------
def tick(emulator: PwaEmulator) -> None:
    """Complete the jobs whose time has come (the queue runs even if nobody polls)."""
    now = time.monotonic()
    for job in list(emulator.state.jobs.values()):
        if job.state == JOB_BLOCKED:
            continue
        if not job.done and now - job.created_at >= job.seconds_needed:
            _complete(emulator, job)


def poll(emulator: PwaEmulator, job_id: Guid) -> None:
    job = emulator.state.jobs.get(job_id)
    if job is None or job.done or job.state == JOB_BLOCKED:
        return
    job.polls += 1
    if job.polls >= job.polls_needed:
        _complete(emulator, job)
    else:
        job.state = JOB_PROCESSING


def _complete(emulator: PwaEmulator, job: QueueJob) -> None:
    emulator.state.version += 1
    if job.fail:
        job.state = JOB_FAILED
        job.error = "GeneralQueueJobFailed: the emulator was told to fail this job"
        # On Project Server a Failed job blocks every later job of the same project (its
        # correlation) with JobState 8 until an administrator cancels it (Manage Queue Jobs).
        for other in emulator.state.jobs.values():
            if other.project_id == job.project_id and not other.done and other is not job:
                other.state = JOB_BLOCKED
        return
    if job.effect is not None:
        job.effect()
    job.state = JOB_SUCCESS


def _queue(
    emulator: PwaEmulator,
    record: ProjectRecord,
    msg_type: int,
    effect: Callable[[], None] | None,
    *,
    fail: bool = False,
) -> Entity:
    job = QueueJob(
        id=new_guid(),
        project_id=record.id,
        msg_type=msg_type,
        submitted=emulator.now(),
        polls_needed=int(emulator.knobs["job_polls"]),
        seconds_needed=float(emulator.knobs["job_seconds"]),
        effect=effect,
        fail=fail,
    )
    emulator.state.jobs[job.id] = job
    if emulator.state.failed_job(record.id) is not None:
        job.state = JOB_BLOCKED  # queued behind the project's failed job
    elif job.polls_needed <= 0:
        _complete(emulator, job)
    return emulator.views.job(job, f"ProjectServer/Projects('{record.id}')")


def cancel_job(emulator: PwaEmulator, job_id: Guid) -> bool:
    """What an administrator does in PWA → Server Settings → Manage Queue Jobs → Cancel Job.

    Cancelling the project's failed job (or a blocked one) unblocks the project's remaining
    jobs, which then run normally. False when the job is unknown or already finished well.
    """
    job = emulator.state.jobs.get(job_id)
    if job is None or job.state in (JOB_SUCCESS, JOB_CANCELED):
        return False
    emulator.state.version += 1
    job.state = JOB_CANCELED
    if emulator.state.failed_job(job.project_id) is None:
        for other in emulator.state.jobs.values():
            if other.project_id == job.project_id and other.state == JOB_BLOCKED:
                # back in the queue as if submitted now, with today's queue speed
                other.state = JOB_READY
                other.polls = 0
                other.created_at = time.monotonic()
                other.polls_needed = int(emulator.knobs["job_polls"])
                other.seconds_needed = float(emulator.knobs["job_seconds"])
                if other.polls_needed <= 0:
                    _complete(emulator, other)
    return True


# -- locks ---------------------------------------------------------------------------------
def _write_lock(emulator: PwaEmulator, record: ProjectRecord) -> None:
    if emulator.state.running_job(record.id) is not None:
        raise pj_error(1030, "ProjectWriteLock")


def check_out(emulator: PwaEmulator, record: ProjectRecord, owner_id: str, owner: str) -> None:
    _write_lock(emulator, record)
    if record.checkout is not None:
        if record.checkout.owner_id != owner_id:
            raise pj_error(10103, "CICOCheckedOutInOtherSession")
        return  # checking out again in the same session is a no-op
    record.checkout = Checkout(owner_id, owner, new_guid(), emulator.now())


def _require_checkout(emulator: PwaEmulator, record: ProjectRecord, owner_id: str) -> None:
    _write_lock(emulator, record)
    if record.checkout is None:
        raise pj_error(10102, "CICONotCheckedOut")
    if record.checkout.owner_id != owner_id:
        raise pj_error(10103, "CICOCheckedOutInOtherSession")


# -- value conversion ----------------------------------------------------------------------
def _convert(name: str, value: Any) -> Any:
    try:
        if name in DATE_PROPS:
            return SENTINEL_DATE if value in (None, "") else parse_datetime(str(value))
        if name in INT_PROPS:
            return int(value)
        if name in ("Cost", "FixedCost"):
            return float(value)
        if name in (
            "IsMilestone",
            "IsManual",
            "IsActive",
            "IsLockedByManager",
            "LevelingCanSplit",
            "LevelingAdjustsAssignments",
            "UsePercentPhysicalWorkComplete",
        ):
            if not isinstance(value, bool):
                raise ValueError("a Boolean is expected")
            return value
        if name in ("Duration", "Work", "ActualWork", "RemainingDuration", "BudgetWork"):
            return parse_duration(value)
    except (TypeError, ValueError) as exc:
        raise bad_request(
            f"Cannot convert the literal '{value}' to the expected type of '{name}'."
        ) from exc
    return value


def merge_task(plan: Plan, task: dict[str, Any], changes: dict[str, Any], now: Any) -> None:
    unknown = [k for k in changes if k not in TASK_WRITABLE]
    if unknown:
        raise bad_request(
            f"The property '{unknown[0]}' does not exist on type 'PS.DraftTask' or cannot be "
            "written. Make sure to only use property names that are defined by the type."
        )
    values = {k: _convert(k, v) for k, v in changes.items()}
    if task.get("IsSummary") and {"Start", "Finish", "Duration"} & set(values):
        raise pj_error(1, "TaskCannotEditSummaryTaskDates", status=400)
    for name in (
        "Name",
        "Notes",
        "ConstraintType",
        "ConstraintStartEnd",
        "Deadline",
        "Priority",
        "TaskType",
        "Cost",
        "FixedCost",
        "IsManual",
        "IsActive",
        "PercentPhysicalWorkComplete",
    ):
        if name in values:
            task[name] = values[name]
    duration = int(task["DurationMilliseconds"])
    if values.get("IsMilestone") is True:
        task["IsMilestone"] = True
        duration = 0
    elif values.get("IsMilestone") is False:
        task["IsMilestone"] = False
    if "Duration" in values:
        duration = int(values["Duration"])
    start = values.get("Start", task["Start"])
    if "Finish" in values and "Duration" not in values and not task["IsMilestone"]:
        finish = values["Finish"]
        if finish < start:
            raise pj_error(1, "TaskFinishBeforeStart", status=400)
        duration = duration_between(start, finish)
    else:
        finish = finish_for(start, duration)
    task["Start"], task["Finish"] = start, finish
    task["DurationMilliseconds"] = duration
    if "Work" in values:
        task["Work"] = values["Work"]
    elif "Duration" in values:
        task["Work"] = duration
    if "PercentComplete" in values:
        pct = int(values["PercentComplete"])
        if not 0 <= pct <= 100:
            raise bad_request("PercentComplete must be between 0 and 100.")
        task["PercentComplete"] = pct
        task["ActualWork"] = int(task.get("Work", 0)) * pct // 100
        task["ActualStart"] = task["Start"] if pct > 0 else SENTINEL_DATE
        task["ActualFinish"] = task["Finish"] if pct == 100 else SENTINEL_DATE
    for name in ("ActualStart", "ActualFinish", "ActualWork"):
        if name in values:
            task[name] = values[name]
    task["Modified"] = now
    plan.rollup()


def merge_project(plan: Plan, changes: dict[str, Any]) -> None:
    unknown = [k for k in changes if k not in PROJECT_WRITABLE]
    if unknown:
        raise bad_request(
            f"The property '{unknown[0]}' does not exist on type 'PS.DraftProject' or cannot be "
            "written."
        )
    for name, value in changes.items():
        plan.props[name] = _convert(name, value)
    if "Name" in changes:
        summary = next((t for t in plan.tasks if int(t["OutlineLevel"]) == 0), None)
        if summary is not None:
            summary["Name"] = plan.props["Name"]


def _custom_value(emulator: PwaEmulator, field: CustomFieldDef, raw: Any, value_type: str) -> Any:
    if raw is None or raw == "":
        return [] if field.lookup_table_id else None
    text = str(raw)
    if field.lookup_table_id is not None:
        table = emulator.state.lookup_table(field.lookup_table_id)
        names = [n for n in text.split(";#") if n]
        if len(names) > 1 and not field.multi:
            raise pj_error(11706, "CustomFieldCodeValueDoesNotMatchLookupTable", status=400)
        for name in names:
            if table is None or table.entry(name) is None:
                raise pj_error(11706, "CustomFieldCodeValueDoesNotMatchLookupTable", status=400)
        if value_type != "Edm.String":
            raise pj_error(11703, "CustomFieldInvalidType", status=400)
        return names
    if field.field_type in (CF_DATE, CF_FINISHDATE):
        if value_type != "Edm.DateTime":
            raise pj_error(11703, "CustomFieldInvalidType", status=400)
        return parse_datetime(text)
    if field.field_type == CF_NUMBER:
        if value_type not in ("Edm.Int32", "Edm.Double", "Edm.Decimal"):
            raise pj_error(11703, "CustomFieldInvalidType", status=400)
        try:
            return float(text)
        except ValueError as exc:
            raise pj_error(11703, "CustomFieldInvalidType", status=400) from exc
    if value_type != "Edm.String":
        raise pj_error(11703, "CustomFieldInvalidType", status=400)
    return text


def update_custom_fields(
    emulator: PwaEmulator, record: ProjectRecord, body: dict[str, Any]
) -> dict[str, Any]:
    items = body.get("customFieldDictionary")
    if isinstance(items, dict):
        items = items.get("results")
    if not isinstance(items, list):
        raise bad_request("The parameter 'customFieldDictionary' is missing or not a collection.")
    values: dict[str, Any] = {}
    for item in items:
        if not isinstance(item, dict) or "Key" not in item:
            raise bad_request("Each customFieldDictionary entry needs Key, Value and ValueType.")
        key = str(item["Key"])
        field = next((f for f in emulator.state.custom_fields if f.internal_name == key), None)
        if field is None or field.entity != "project":
            raise pj_error(11702, "CustomFieldInvalidUID", status=400)
        values[field.internal_name] = _custom_value(
            emulator, field, item.get("Value"), str(item.get("ValueType", "Edm.String"))
        )
    return values


# -- dispatch ------------------------------------------------------------------------------
def dispatch(
    emulator: PwaEmulator,
    segments: list[tuple[str, str | None]],
    method: str,
    claims: dict[str, Any],
    body: dict[str, Any],
) -> Entity | None:
    """Run one ProjectServer write; returns the entity to answer with, or None for 204."""
    from pmosync.sandbox.pwa.emulator import _key_value

    owner_id = str(claims.get("oid", ""))
    owner = str(claims.get("upn") or claims.get("appid") or owner_id)
    names = [n for n, _ in segments]
    if names == ["Projects", "Add"] and method == "POST":
        return _add_project(emulator, _params(body))
    if names == ["EnterpriseResources", "Add"] and method == "POST":
        return _add_resource(emulator, _params(body))
    if len(segments) < 2 or names[0] != "Projects" or segments[0][1] is None:
        raise bad_request(f"The operation {method} is not supported on this resource.")
    record = emulator._record(_key_value(segments[0][1]))
    rest = segments[1:]
    head = rest[0][0]
    if head == "checkOut" and len(rest) == 1 and method == "POST":
        check_out(emulator, record, owner_id, owner)
        return emulator.views.draft(record)
    if head == "deleteObject" and len(rest) == 1 and method == "POST":
        _write_lock(emulator, record)

        def delete_project() -> None:
            emulator.state.projects.pop(record.id, None)

        return _queue(emulator, record, MSG_DELETE, delete_project)
    if head != "Draft":
        raise bad_request(f"The operation {method} is not supported on '{head}'.")
    draft_ops = rest[1:]
    if not draft_ops:
        if method != "MERGE":
            raise bad_request(f"The operation {method} is not supported on 'Draft'.")
        _require_checkout(emulator, record, owner_id)
        merge_project(record.draft, _params(body))
        return None
    op, args = draft_ops[0]
    now = emulator.now()
    if op in ("publish", "checkIn", "update", "UpdateCustomFields") and len(draft_ops) == 1:
        if method != "POST":
            raise bad_request(f"{op} needs POST.")
        flag = (args or "").strip().lower() == "true"
        if op == "checkIn" and flag:
            # A forced check-in releases whoever holds the lock (an administrator's tool), but
            # like every write it waits for the project's running queue job (1030).
            _write_lock(emulator, record)
            return _queue(emulator, record, MSG_CHECKIN, lambda: _release(record))
        _require_checkout(emulator, record, owner_id)
        if op == "checkIn":
            return _queue(emulator, record, MSG_CHECKIN, lambda: _release(record))
        if op == "update":
            return _queue(emulator, record, MSG_UPDATE, lambda: _saved(emulator, record))
        if op == "UpdateCustomFields":
            values = update_custom_fields(emulator, record, body)

            def apply_values() -> None:
                record.draft.custom.update(values)
                record.last_saved = emulator.now()

            return _queue(emulator, record, MSG_UPDATE, apply_values)
        failing = int(emulator.knobs["fail_next_publish"] or 0)
        if failing:
            emulator.knobs["fail_next_publish"] = failing - 1
        return _queue(
            emulator,
            record,
            MSG_PUBLISH,
            lambda: _publish(emulator, record, check_in=flag),
            fail=bool(failing),
        )
    _require_checkout(emulator, record, owner_id)
    plan = record.draft
    if op == "ProjectResources":
        if len(draft_ops) == 2 and draft_ops[1][0] == "AddEnterpriseResourceById":
            rid = _key_value(draft_ops[1][1] or "")
            resource = emulator.state.resource(rid)
            if resource is None:
                raise pj_error(2000, "ResourceNotFound", status=404)

            def add_member() -> None:
                if not any(r["Id"] == rid for r in plan.resources):
                    plan.resources.append(_team_member(resource, now))

            return _queue(emulator, record, MSG_UPDATE_TEAM, add_member)
        raise bad_request("Unsupported ProjectResources operation.")
    if op not in ("Tasks", "TaskLinks", "Assignments"):
        raise bad_request(f"The operation {method} is not supported on 'Draft/{op}'.")
    collection = {"Tasks": plan.tasks, "TaskLinks": plan.links, "Assignments": plan.assignments}[op]
    if len(draft_ops) == 2 and draft_ops[1][0] == "Add" and method == "POST":
        adder = {"Tasks": _add_task, "TaskLinks": _add_link, "Assignments": _add_assignment}[op]
        return adder(emulator, record, _params(body), now)
    if args is None:
        raise bad_request(f"The operation {method} is not supported on 'Draft/{op}'.")
    item_id = _key_value(args)
    item = next((i for i in collection if i["Id"] == item_id), None)
    if item is None or (op == "Tasks" and int(item["OutlineLevel"]) == 0):
        raise ODataError(
            404,
            "-1, Microsoft.SharePoint.Client.ResourceNotFoundException",
            f"{op}('{item_id}') was not found.",
        )
    deleting = method == "DELETE" or (
        len(draft_ops) == 2 and draft_ops[1][0] == "deleteObject" and method == "POST"
    )
    if deleting:
        _delete(plan, op, item)
        return None
    if method == "MERGE" and len(draft_ops) == 1:
        if op == "Tasks":
            merge_task(plan, item, _params(body), now)
        elif op == "TaskLinks":
            _merge_link(item, _params(body))
        else:
            _merge_assignment(item, _params(body), now)
        return None
    raise bad_request(f"The operation {method} is not supported on 'Draft/{op}'.")


def _release(record: ProjectRecord) -> None:
    record.checkout = None


def _saved(emulator: PwaEmulator, record: ProjectRecord) -> None:
    record.last_saved = emulator.now()


def _publish(emulator: PwaEmulator, record: ProjectRecord, *, check_in: bool) -> None:
    lag = float(emulator.knobs["reporting_lag_seconds"] or 0)
    if lag > 0:
        if not record.reporting_pending():
            # ProjectData keeps showing the last synchronised publish for ``lag`` seconds.
            record.reporting_plan = record.published
            record.reporting_published = record.last_published
        record.reporting_until = time.monotonic() + lag
    record.draft.rollup()
    record.published = record.draft.clone()
    # The queue runs one project's jobs one at a time and a publish job takes seconds, so two
    # publishes of a project never share a LastPublishedDate; at the emulator's one-second
    # resolution an in-process "person" could publish within our second, so keep them apart.
    stamp = max(emulator.now(), record.last_published + timedelta(seconds=1))
    record.last_published = stamp
    record.last_saved = stamp
    record.modified = stamp
    if check_in:
        record.checkout = None


def _team_member(resource: dict[str, Any], now: Any) -> dict[str, Any]:
    return {
        "Id": resource["Id"],
        "Name": resource["Name"],
        "Email": resource["Email"],
        "Code": resource.get("Code", ""),
        "Group": resource.get("Group", ""),
        "IsBudgeted": False,  # PS.ProjectResource has IsBudgeted (IsBudget: enterprise only)
        "IsGenericResource": bool(resource.get("IsGeneric", False)),
        "Created": now,
        "Modified": now,
    }


def _new_id(params: dict[str, Any], existing: list[dict[str, Any]], what: str) -> Guid:
    if params.get("Id"):
        new = Guid(params["Id"])
        if any(i["Id"] == new for i in existing):
            raise pj_error(1, f"{what}AlreadyExists", status=400)
        return new
    return new_guid()


def _add_task(
    emulator: PwaEmulator, record: ProjectRecord, params: dict[str, Any], now: Any
) -> Entity:
    from pmosync.sandbox.pwa.seed import _task

    plan = record.draft
    if not params.get("Name"):
        raise bad_request("The parameter 'Name' is required to add a task.")
    task_id = _new_id(params, plan.tasks, "Task")
    summary = next(t for t in plan.tasks if int(t["OutlineLevel"]) == 0)
    parent_id = Guid(params["ParentId"]) if params.get("ParentId") else summary["Id"]
    parent = plan.task(parent_id)
    if parent is None:
        raise pj_error(1, "TaskInvalidParent", status=400)
    start = _convert("Start", params["Start"]) if params.get("Start") else parent["Start"]
    if params.get("Duration") is not None:
        duration = int(_convert("Duration", params["Duration"]))
        finish = finish_for(start, duration)
    elif params.get("Finish"):
        finish = _convert("Finish", params["Finish"])
        duration = duration_between(start, finish)
    else:
        duration = parse_duration("1d")
        finish = finish_for(start, duration)
    task = _task(
        lambda: task_id,
        str(params["Name"]),
        int(parent["OutlineLevel"]) + 1,
        parent_id,
        start,
        finish,
        duration,
        now,
    )
    task["BaselineStart"] = task["BaselineFinish"] = SENTINEL_DATE
    task["BaselineDurationMilliseconds"] = task["BaselineWork"] = 0
    task["IsManual"] = bool(params.get("IsManual", False))
    task["Notes"] = str(params.get("Notes") or "")
    task["_custom"] = {
        f.internal_name: None for f in emulator.state.custom_fields if f.entity == "task"
    }
    position = _insert_position(plan, parent_id, params.get("AddAfterId"))
    plan.tasks.insert(position, task)
    plan.rollup()
    return emulator.views.task(
        record, plan, task, f"ProjectServer/Projects('{record.id}')/Draft", "Draft"
    )


def _descendants(plan: Plan, task_id: str) -> set[str]:
    found: set[str] = set()
    frontier = [task_id]
    while frontier:
        current = frontier.pop()
        for child in plan.children(current):
            found.add(child["Id"])
            frontier.append(child["Id"])
    return found


def _insert_position(plan: Plan, parent_id: str, after_id: Any) -> int:
    anchor = Guid(after_id) if after_id else None
    if anchor is None:
        # After the parent's last descendant.
        block = _descendants(plan, parent_id) | {parent_id}
    else:
        if plan.task(anchor) is None:
            raise pj_error(1, "TaskInvalidAddAfterId", status=400)
        block = _descendants(plan, anchor) | {anchor}
    last = max(i for i, t in enumerate(plan.tasks) if t["Id"] in block)
    return last + 1


def _add_link(
    emulator: PwaEmulator, record: ProjectRecord, params: dict[str, Any], now: Any
) -> Entity:
    plan = record.draft
    try:
        start_id, end_id = Guid(params["StartId"]), Guid(params["EndId"])
    except KeyError as exc:
        raise bad_request("StartId and EndId are required to add a task link.") from exc
    if plan.task(start_id) is None or plan.task(end_id) is None or start_id == end_id:
        raise pj_error(1, "TaskLinkInvalidTask", status=400)
    if any(lk["StartId"] == start_id and lk["EndId"] == end_id for lk in plan.links):
        raise pj_error(1, "TaskLinkAlreadyExists", status=400)
    dependency = int(params.get("DependencyType", 1))
    if dependency not in (0, 1, 2, 3):
        raise bad_request(f"'{dependency}' is not a valid DependencyType (FF=0 FS=1 SF=2 SS=3).")
    lag = params.get("LinkLag", 0)
    if params.get("LinkLagDuration"):
        lag = parse_duration(str(params["LinkLagDuration"])) // 6000  # ms -> tenths of a minute
    link = {
        "Id": _new_id(params, plan.links, "TaskLink"),
        "StartId": start_id,
        "EndId": end_id,
        "DependencyType": dependency,
        "LinkLag": int(lag),
    }
    plan.links.append(link)
    return emulator.views.link(
        record, plan, link, f"ProjectServer/Projects('{record.id}')/Draft", "Draft"
    )


def _merge_link(link: dict[str, Any], params: dict[str, Any]) -> None:
    for name, value in params.items():
        if name == "DependencyType":
            if int(value) not in (0, 1, 2, 3):
                raise bad_request(f"'{value}' is not a valid DependencyType.")
            link[name] = int(value)
        elif name == "LinkLag":
            link[name] = int(value)
        else:
            raise bad_request(f"The property '{name}' of 'PS.DraftTaskLink' cannot be written.")


def _add_assignment(
    emulator: PwaEmulator, record: ProjectRecord, params: dict[str, Any], now: Any
) -> Entity:
    plan = record.draft
    task = plan.task(Guid(params.get("TaskId", "")) if params.get("TaskId") else "")
    if task is None:
        raise pj_error(1, "AssignmentInvalidTask", status=400)
    resource_id = Guid(params.get("ResourceId") or "00000000-0000-0000-0000-000000000000")
    if not any(r["Id"] == resource_id for r in plan.resources):
        raise pj_error(1, "AssignmentResourceNotOnTeam", status=400)
    assignment = {
        "Id": _new_id(params, plan.assignments, "Assignment"),
        "TaskId": task["Id"],
        "ResourceId": resource_id,
        "Start": _convert("Start", params["Start"]) if params.get("Start") else task["Start"],
        "Finish": _convert("Finish", params["Finish"]) if params.get("Finish") else task["Finish"],
        "Work": int(task.get("Work", 0)),
        "ActualWork": 0,
        "PercentWorkComplete": 0,
        "Notes": str(params.get("Notes") or ""),
        "Created": now,
        "Modified": now,
    }
    plan.assignments.append(assignment)
    return emulator.views.assignment(
        record, plan, assignment, f"ProjectServer/Projects('{record.id}')/Draft", "Draft"
    )


def _merge_assignment(assignment: dict[str, Any], params: dict[str, Any], now: Any) -> None:
    for name, value in params.items():
        if name in ("Start", "Finish") or name in ("Work", "ActualWork"):
            assignment[name] = _convert(name, value)
        elif name == "Notes":
            assignment[name] = str(value)
        elif name == "PercentWorkComplete":
            assignment[name] = int(value)
        else:
            raise bad_request(f"The property '{name}' of 'PS.DraftAssignment' cannot be written.")
    assignment["Modified"] = now


def _delete(plan: Plan, op: str, item: dict[str, Any]) -> None:
    if op == "Tasks":
        gone = _descendants(plan, item["Id"]) | {item["Id"]}
        plan.tasks[:] = [t for t in plan.tasks if t["Id"] not in gone]
        plan.links[:] = [
            lk for lk in plan.links if lk["StartId"] not in gone and lk["EndId"] not in gone
        ]
        plan.assignments[:] = [a for a in plan.assignments if a["TaskId"] not in gone]
        for task in plan.tasks:
            if task.get("IsSummary") and not plan.children(task["Id"]) and task["OutlineLevel"]:
                task["IsSummary"] = False
        plan.rollup()
    elif op == "TaskLinks":
        plan.links.remove(item)
    else:
        plan.assignments.remove(item)


def _add_project(emulator: PwaEmulator, params: dict[str, Any]) -> Entity:
    from pmosync.sandbox.pwa.seed import _task
    from pmosync.sandbox.pwa.state import at, next_workday

    name = str(params.get("Name") or "").strip()
    if not name:
        raise bad_request("The parameter 'Name' is required to add a project.")
    if any(r.name.lower() == name.lower() for r in emulator.state.projects.values()):
        raise pj_error(1004, "ProjectNameAlreadyExists", status=400)
    now = emulator.now()
    project_id = Guid(params["Id"]) if params.get("Id") else new_guid()
    if project_id in emulator.state.projects:
        raise pj_error(1, "ProjectAlreadyExists", status=400)
    start = (
        _convert("Start", params["Start"])
        if params.get("Start")
        else at(next_workday(now.date()), 8)
    )
    summary = _task(new_guid, name, 0, None, start, start, 0, now)
    props = {
        "Id": project_id,
        "Name": name,
        "Description": str(params.get("Description") or ""),
        "StartDate": start,
        "FinishDate": start,
        "CreatedDate": now,
        "ProjectIdentifier": "",
        "ProjectSiteUrl": "",
        "ProjectType": 0,
        "EnterpriseProjectTypeId": Guid(
            params.get("EnterpriseProjectTypeId") or "09fa52b4-059b-4527-926e-99f9be96437a"
        ),
        "CurrencyCode": "GBP",
        "CurrencySymbol": "£",
        "MinutesPerDay": 480,
        "MinutesPerWeek": 2400,
        "DaysPerMonth": 20,
        "StatusDate": SENTINEL_DATE,
        "CurrentDate": now,
        "SummaryTaskId": summary["Id"],
        "WinprojVersion": "16.0000000000",
        "OptimizerDecision": 0,
        "PlannerDecision": 0,
        "IsEnterpriseProject": True,
        "PercentComplete": 0,
    }
    plan = Plan(props=props, tasks=[summary])
    plan.custom = {
        f.internal_name: ([] if f.lookup_table_id else None)
        for f in emulator.state.custom_fields
        if f.entity == "project"
    }
    record = ProjectRecord(
        id=project_id,
        published=plan,
        draft=plan.clone(),
        created=now,
        last_published=now,
        last_saved=now,
        modified=now,
    )
    emulator.state.projects[project_id] = record
    return emulator.views.project(record)


def _add_resource(emulator: PwaEmulator, params: dict[str, Any]) -> Entity:
    name = str(params.get("Name") or "").strip()
    if not name:
        raise bad_request("The parameter 'Name' is required to add a resource.")
    now = emulator.now()
    resource = {
        "Id": Guid(params["Id"]) if params.get("Id") else new_guid(),
        "Name": name,
        "Email": str(params.get("Email") or ""),
        "Code": str(params.get("Code") or ""),
        "Group": str(params.get("Group") or ""),
        "Initials": "".join(p[0] for p in name.split()),
        "IsActive": not bool(params.get("IsInactive", False)),
        "IsGeneric": bool(params.get("IsGeneric", False)),
        "IsBudget": bool(params.get("IsBudget", False)),
        "ResourceType": 2,
        "CanLevel": True,
        "Created": now,
        "Modified": now,
    }
    emulator.state.resources.append(resource)
    return emulator.views.resource(resource)


# -- the human side ------------------------------------------------------------------------
def human_add_task(emulator: PwaEmulator, record: ProjectRecord, name: str) -> str:
    """A planner adds a task in PWA and publishes: the new task's id."""
    if record.checkout is not None and not record.checkout.owner_id.startswith("human:"):
        raise RuntimeError(f"{record.name} is checked out to {record.checkout.owner_name}")
    now = emulator.now()
    task = _add_task(emulator, record, {"Name": name}, now)
    record.last_saved = now
    _publish(emulator, record, check_in=False)
    return str(task.props["Id"])


def human_edit(
    emulator: PwaEmulator,
    record: ProjectRecord,
    task_id: str | None,
    publish: bool,
    custom: dict[str, Any] | None,
    changes: dict[str, Any],
) -> None:
    if record.checkout is not None and not record.checkout.owner_id.startswith("human:"):
        raise RuntimeError(f"{record.name} is checked out to {record.checkout.owner_name}")
    now = emulator.now()
    plan = record.draft
    if task_id is not None:
        task = plan.task(Guid(task_id))
        if task is None:
            raise KeyError(task_id)
        merge_task(plan, task, changes, now)
    elif changes:
        merge_project(plan, changes)
    for name, value in (custom or {}).items():
        field = emulator.state.field_by_name(name)
        if field is None:
            raise KeyError(name)
        if field.entity == "task":
            target = plan.task(Guid(task_id)) if task_id else None
            if target is None:
                raise KeyError(f"{name} is a task field: name the task")
            values = target["_custom"]
            target["Modified"] = now
        else:
            values = plan.custom
        table = emulator.state.lookup_table(field.lookup_table_id)
        if table is not None:
            texts = value if isinstance(value, list) else [value]
            entries = [table.by_value(str(t)) for t in texts if t is not None]
            if any(e is None for e in entries):
                raise KeyError(f"{name}: {value}")
            values[field.internal_name] = [e.internal_name for e in entries if e]
        else:
            values[field.internal_name] = value
    record.last_saved = now
    if publish:
        _publish(emulator, record, check_in=False)
