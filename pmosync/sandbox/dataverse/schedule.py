"""The Project schedule APIs as the emulator models them.

Source: "Use Project schedule APIs to perform operations with Scheduling entities",
https://learn.microsoft.com/dynamics365/project-operations/project-management/schedule-api-preview
(and "Project schedule API performance",
https://learn.microsoft.com/dynamics365/project-operations/project-management/project-schedule-api-performance):

* ``msdyn_CreateOperationSetV1`` {ProjectId, Description} -> {OperationSetId}; an operation set
  is a unit of work: its operations are applied together or not at all.
* ``msdyn_PssCreateV1`` / ``msdyn_PssUpdateV1`` {Entity, OperationSetId} and
  ``msdyn_PssDeleteV1`` {EntityLogicalName, RecordId, OperationSetId} queue operations.
* ``msdyn_ExecuteOperationSetV1`` {OperationSetId} hands the set to the Project Scheduling
  Service, which persists to Dataverse asynchronously: the caller polls ``msdyn_operationsets``
  for ``msdyn_status`` until it is Completed or Failed (here: after ``polls_to_complete`` reads).
* Limits (the doc's "Limitations and known issues"): 10 open operation sets per user, 200
  operations per set; the APIs are for users with a Project licence, not application users.
* ``msdyn_AbandonOperationSetV1`` closes a set that will not be executed.

msdyn_status values follow the msdyn_operationset choice in the entity reference
(Open 192350000, Pending 192350001, Processing 192350002, Completed 192350003, Failed 192350004,
Abandoned 192350005) - verify against a tenant's $metadata before relying on the numbers.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from pmosync.sandbox.dataverse.csdl import CsdlViolation
from pmosync.sandbox.dataverse.state import Tables, instant

OPEN, PENDING, PROCESSING, COMPLETED, FAILED, ABANDONED = (
    192350000,
    192350001,
    192350002,
    192350003,
    192350004,
    192350005,
)
MAX_OPEN_SETS_PER_USER = 10
MAX_OPERATIONS_PER_SET = 200
CREATE, UPDATE, DELETE = 192350000, 192350001, 192350002

# logical name -> entity set of every table the schedule APIs write
SCHEDULING_SETS = {
    "msdyn_project": "msdyn_projects",
    "msdyn_projecttask": "msdyn_projecttasks",
    "msdyn_projecttaskdependency": "msdyn_projecttaskdependencies",
    "msdyn_resourceassignment": "msdyn_resourceassignments",
    "msdyn_projectbucket": "msdyn_projectbuckets",
    "msdyn_projectteam": "msdyn_projectteams",
}
# Fields the scheduling engine computes: writing them on a summary task is refused (the
# engine rolls them up from the children). An emulator ASSUMPTION (not documented), kept so a
# set can fail on one row the way the docs say sets fail: whole, with the reason per operation.
ROLLED_UP = frozenset({"msdyn_scheduledstart", "msdyn_scheduledend", "msdyn_progress"})


class ScheduleApiError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


@dataclass
class Operation:
    kind: int
    entity: str
    record_id: str
    payload: dict[str, Any]


@dataclass
class OperationSet:
    id: str
    project: str
    user: str
    description: str
    status: int = OPEN
    operations: list[Operation] = field(default_factory=list)
    polls_left: int = 0
    errors: dict[int, str] = field(default_factory=dict)


class Scheduler:
    def __init__(self, tables: Tables) -> None:
        self.tables = tables
        self.sets: dict[str, OperationSet] = {}
        self.polls_to_complete = 3
        # admin fault: the next N executed sets fail (as the scheduling service does when it
        # cannot apply a set, e.g. a concurrent edit in the Planner UI)
        self.fail_next = 0
        self.fail_reason = "The scheduling service could not apply the operation set."
        self.executed = 0

    # -- actions --------------------------------------------------------------------------
    def create_set(self, user: str, body: dict[str, Any]) -> dict[str, Any]:
        project = str(body.get("ProjectId") or "").lower()
        if not self.tables.get("msdyn_projects", project):
            raise ScheduleApiError(
                400, "0x80040217", f"msdyn_project With Id = {project} Does Not Exist"
            )
        open_sets = [s for s in self.sets.values() if s.user == user and s.status == OPEN]
        if len(open_sets) >= MAX_OPEN_SETS_PER_USER:
            raise ScheduleApiError(
                400,
                "0x80040265",
                f"The user has {len(open_sets)} open operation sets; at most "
                f"{MAX_OPEN_SETS_PER_USER} are allowed. Execute or abandon one first.",
            )
        set_id = str(uuid.uuid4())
        self.sets[set_id] = OperationSet(set_id, project, user, str(body.get("Description") or ""))
        self._record(self.sets[set_id])
        return {"OperationSetId": set_id}

    def _open_set(self, user: str, body: dict[str, Any]) -> OperationSet:
        set_id = str(body.get("OperationSetId") or "").lower()
        found = self.sets.get(set_id)
        if found is None:
            raise ScheduleApiError(
                400, "0x80040217", f"msdyn_operationset With Id = {set_id} Does Not Exist"
            )
        if found.user != user:
            raise ScheduleApiError(403, "0x80040220", "The operation set belongs to another user.")
        if found.status != OPEN:
            raise ScheduleApiError(400, "0x80040265", "The operation set is not open.")
        if len(found.operations) >= MAX_OPERATIONS_PER_SET:
            raise ScheduleApiError(
                400,
                "0x80040265",
                f"An operation set holds at most {MAX_OPERATIONS_PER_SET} operations.",
            )
        return found

    def queue(self, user: str, kind: int, body: dict[str, Any]) -> dict[str, Any]:
        operation_set = self._open_set(user, body)
        if kind == DELETE:
            entity = str(body.get("EntityLogicalName") or "")
            record_id = str(body.get("RecordId") or "").lower()
            payload: dict[str, Any] = {}
        else:
            payload = dict(body.get("Entity") or {})
            odata_type = str(payload.get("@odata.type") or "")
            entity = odata_type.rpartition(".")[2]
            key = self.tables.schema.keys.get(entity, "")
            record_id = str(payload.get(key) or "").lower()
            try:
                self.tables.schema.check(entity, payload)
            except CsdlViolation as exc:
                raise ScheduleApiError(400, "0x80060888", str(exc)) from None
        if entity not in SCHEDULING_SETS:
            raise ScheduleApiError(400, "0x80040265", f"{entity!r} is not a scheduling entity.")
        if kind != CREATE and not self.tables.get(SCHEDULING_SETS[entity], record_id):
            raise ScheduleApiError(
                400, "0x80040217", f"{entity} With Id = {record_id} Does Not Exist"
            )
        operation_set.operations.append(Operation(kind, entity, record_id, payload))
        return {"OperationSetResponse": json.dumps({"operationSetId": operation_set.id})}

    def execute(self, user: str, body: dict[str, Any]) -> dict[str, Any]:
        operation_set = self._open_set_for_execute(user, body)
        operation_set.status = PENDING
        operation_set.polls_left = self.polls_to_complete
        self.executed += 1
        self._record(operation_set)
        return {"OperationSetResponse": json.dumps({"operationSetId": operation_set.id})}

    def abandon(self, user: str, body: dict[str, Any]) -> dict[str, Any]:
        operation_set = self._open_set_for_execute(user, body)
        operation_set.status = ABANDONED
        self._record(operation_set)
        return {}

    def _open_set_for_execute(self, user: str, body: dict[str, Any]) -> OperationSet:
        set_id = str(body.get("OperationSetId") or "").lower()
        found = self.sets.get(set_id)
        if found is None or found.user != user:
            raise ScheduleApiError(
                400, "0x80040217", f"msdyn_operationset With Id = {set_id} Does Not Exist"
            )
        if found.status != OPEN:
            raise ScheduleApiError(400, "0x80040265", "The operation set is not open.")
        return found

    # -- asynchronous completion -----------------------------------------------------------
    def advance(self, set_id: str) -> None:
        """One status read: a pending set moves to processing, then completes or fails."""
        operation_set = self.sets.get(set_id)
        if operation_set is None or operation_set.status not in (PENDING, PROCESSING):
            return
        operation_set.polls_left -= 1
        if operation_set.polls_left > 0:
            operation_set.status = PROCESSING
            self._record(operation_set)
            return
        self._apply(operation_set)

    def _apply(self, operation_set: OperationSet) -> None:
        tables = self.tables
        errors: dict[int, str] = {}
        if self.fail_next > 0:
            self.fail_next -= 1
            errors = {i: self.fail_reason for i in range(len(operation_set.operations))}
        else:
            for index, op in enumerate(operation_set.operations):
                error = self._validate(op)
                if error:
                    errors[index] = error
        operation_set.errors = errors
        if errors:
            # a set is a transaction: nothing of it is applied
            operation_set.status = FAILED
        else:
            with tables.lock:
                for op in operation_set.operations:
                    entity_set = SCHEDULING_SETS[op.entity]
                    fields = {k: v for k, v in op.payload.items() if "@" not in k}
                    if op.kind == DELETE:
                        tables.delete(entity_set, op.record_id)
                    elif op.kind == CREATE:
                        tables.put(entity_set, fields)
                    else:
                        fields.pop(tables.key(entity_set), None)
                        tables.update(entity_set, op.record_id, fields)
            operation_set.status = COMPLETED
        self._record(operation_set)

    def _validate(self, op: Operation) -> str | None:
        if op.kind != UPDATE:
            return None
        row = self.tables.get(SCHEDULING_SETS[op.entity], op.record_id)
        if row is None:
            return f"{op.entity} {op.record_id} was deleted before the set ran"
        if op.entity == "msdyn_projecttask":
            if row.get("msdyn_summary") and ROLLED_UP & set(op.payload):
                names = ", ".join(sorted(ROLLED_UP & set(op.payload)))
                return f"task {op.record_id} is a summary task: {names} roll up from its subtasks"
            progress = op.payload.get("msdyn_progress")
            if progress is not None and not 0 <= float(progress) <= 100:
                return f"msdyn_progress {progress} is outside 0-100"
            subject = op.payload.get("msdyn_subject")
            if subject is not None and len(str(subject)) > 255:
                return "msdyn_subject is longer than 255 characters"
        return None

    # -- the msdyn_operationsets and msdyn_operationsetdetails tables ------------------------
    def _record(self, operation_set: OperationSet) -> None:
        tables = self.tables
        tables.put(
            "msdyn_operationsets",
            {
                "msdyn_operationsetid": operation_set.id,
                "msdyn_description": operation_set.description,
                "_msdyn_project_value": operation_set.project,
                "_msdyn_executedby_value": operation_set.user,
                "msdyn_status": operation_set.status,
                "msdyn_completedon": instant()
                if operation_set.status in (COMPLETED, FAILED)
                else None,
            },
        )
        if operation_set.status not in (COMPLETED, FAILED):
            return
        for index, op in enumerate(operation_set.operations):
            detail_id = str(uuid.uuid5(uuid.UUID(operation_set.id), str(index)))
            tables.put(
                "msdyn_operationsetdetails",
                {
                    "msdyn_operationsetdetailid": detail_id,
                    "_msdyn_operationset_value": operation_set.id,
                    "msdyn_entity": op.entity,
                    "msdyn_operationtype": op.kind,
                    "msdyn_recordid": op.record_id or None,
                    "msdyn_payload": json.dumps(op.payload, sort_keys=True),
                    "msdyn_errormessage": operation_set.errors.get(index),
                },
            )
