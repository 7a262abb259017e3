"""Run writes through the Project schedule APIs: operation sets, polled to completion.

"Use Project schedule APIs to perform operations with Scheduling entities",
https://learn.microsoft.com/dynamics365/project-operations/project-management/schedule-api-preview:
create a set for the project (msdyn_CreateOperationSetV1), queue msdyn_PssUpdateV1 calls into it,
execute it (msdyn_ExecuteOperationSetV1), then poll msdyn_operationsets until msdyn_status is
Completed or Failed. A set is applied whole or not at all; a failed set's per-operation errors
are read from msdyn_operationsetdetails. A set we cannot execute (a queueing call failed) is
abandoned (msdyn_AbandonOperationSetV1) so it does not count against the user's limit of 10
open sets. At most 200 operations go in one set.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pmosync.connectors.http import note_wait
from pmosync.connectors.planner.client import DataverseClient
from pmosync.errors import PmoSyncError, RetriableError

log = logging.getLogger(__name__)

# msdyn_operationset.msdyn_status (see pmosync/sandbox/dataverse/schedule.py for the source)
OPEN, PENDING, PROCESSING, COMPLETED, FAILED, ABANDONED = (
    192350000,
    192350001,
    192350002,
    192350003,
    192350004,
    192350005,
)
STATUS_NAMES = {
    OPEN: "Open",
    PENDING: "Pending",
    PROCESSING: "Processing",
    COMPLETED: "Completed",
    FAILED: "Failed",
    ABANDONED: "Abandoned",
}


@dataclass(frozen=True)
class Update:
    """One msdyn_PssUpdateV1: ``columns`` of one row of ``entity``."""

    entity: str  # logical name: msdyn_project, msdyn_projecttask
    record_id: str
    columns: dict[str, Any]

    def payload(self, key: str) -> dict[str, Any]:
        return {
            "@odata.type": f"Microsoft.Dynamics.CRM.{self.entity}",
            key: self.record_id,
            **self.columns,
        }


@dataclass
class SetOutcome:
    """What became of one operation set: applied, or failed with a reason per record."""

    set_id: str | None
    applied: bool
    error: str | None = None
    per_record: dict[str, str] = field(default_factory=dict)
    polls: int = 0
    completed_on: str | None = None  # msdyn_completedon of an applied set


KEYS = {
    "msdyn_project": "msdyn_projectid",
    "msdyn_projecttask": "msdyn_projecttaskid",
}


class OperationSetRunner:
    def __init__(
        self,
        client: DataverseClient,
        *,
        poll_seconds: float,
        timeout_seconds: float,
        max_operations: int,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.client = client
        self.poll_seconds = poll_seconds
        self.timeout_seconds = timeout_seconds
        self.max_operations = max_operations
        self._sleep = sleep
        self.sets_run = 0
        self.polls = 0

    def apply(
        self, project_id: str, updates: Sequence[Update], description: str
    ) -> list[SetOutcome]:
        """Every update of one project in as few sets as the 200-operation limit allows, one
        after the other (a later batch runs only when the earlier one completed, so a failure
        leaves a clear boundary: what ran, what did not)."""
        outcomes: list[SetOutcome] = []
        for start in range(0, len(updates), self.max_operations):
            batch = updates[start : start + self.max_operations]
            if outcomes and not outcomes[-1].applied:
                outcomes.append(
                    SetOutcome(
                        None, False, "not sent: an earlier operation set of this project failed"
                    )
                )
                continue
            outcomes.append(self._run(project_id, batch, description))
        return outcomes

    def _run(self, project_id: str, batch: Sequence[Update], description: str) -> SetOutcome:
        client = self.client
        created = client.action(
            "msdyn_CreateOperationSetV1",
            {"ProjectId": project_id, "Description": description},
            what=f"create operation set for project {project_id}",
        )
        set_id = str(created.get("OperationSetId") or "")
        if not set_id:
            return SetOutcome(None, False, "msdyn_CreateOperationSetV1 returned no OperationSetId")
        self.sets_run += 1
        try:
            for update in batch:
                client.action(
                    "msdyn_PssUpdateV1",
                    {"Entity": update.payload(KEYS[update.entity]), "OperationSetId": set_id},
                    what=f"queue update of {update.entity} {update.record_id}",
                )
            client.action(
                "msdyn_ExecuteOperationSetV1",
                {"OperationSetId": set_id},
                what=f"execute operation set {set_id}",
            )
        except PmoSyncError as exc:
            self._abandon(set_id)
            raise type(exc)(
                f"{exc.args[0] if exc.args else exc}; operation set {set_id} was not executed "
                "(abandoned): nothing of it was applied",
                connection=client.name,
            ) from None
        return self._wait(set_id)

    def _abandon(self, set_id: str) -> None:
        try:
            self.client.action(
                "msdyn_AbandonOperationSetV1",
                {"OperationSetId": set_id},
                what=f"abandon operation set {set_id}",
            )
        except PmoSyncError as exc:  # it stays open until Dataverse expires it
            log.warning(
                "[%s] could not abandon operation set %s: %s", self.client.name, set_id, exc
            )

    def _wait(self, set_id: str) -> SetOutcome:
        deadline = time.monotonic() + self.timeout_seconds
        polls = 0
        while True:
            row = self.client.row(
                f"msdyn_operationsets({set_id})",
                what=f"operation set {set_id} status",
                params={"$select": "msdyn_status,msdyn_completedon"},
            )
            polls += 1
            self.polls += 1
            status = row.get("msdyn_status")
            if status == COMPLETED:
                completed = row.get("msdyn_completedon")
                return SetOutcome(
                    set_id, True, polls=polls, completed_on=str(completed) if completed else None
                )
            if status in (FAILED, ABANDONED):
                return self._failed(set_id, int(status), polls)
            if time.monotonic() >= deadline:
                # Still running: it may yet complete. The writes are reported failed (retried
                # next run; updates are idempotent), never as done.
                state = STATUS_NAMES.get(int(status or 0), status)
                raise RetriableError(
                    f"operation set {set_id} still {state} after "
                    f"{self.timeout_seconds:g} s; its writes are retried next run",
                    connection=self.client.name,
                )
            self._sleep(self.poll_seconds)
            note_wait(self.client.session, "operation sets", self.poll_seconds)

    def _failed(self, set_id: str, status: int, polls: int) -> SetOutcome:
        details = self.client.rows(
            "msdyn_operationsetdetails",
            what=f"operation set {set_id} details",
            params={
                "$select": "msdyn_recordid,msdyn_entity,msdyn_errormessage",
                "$filter": f"_msdyn_operationset_value eq {set_id}",
            },
        )
        per_record = {
            str(d.get("msdyn_recordid") or "").lower(): str(d["msdyn_errormessage"])
            for d in details
            if d.get("msdyn_errormessage")
        }
        return SetOutcome(
            set_id,
            False,
            f"operation set {set_id} {STATUS_NAMES.get(status, status)}: nothing of it was applied",
            per_record,
            polls,
        )
