"""ProjectServer entities (``PS.*``) built from the emulator state, as OData :class:`Entity`
objects whose navigation properties resolve lazily.

Property lists follow api-wire-protocol §5.4; durations and work come three ways (display
string, ``…Milliseconds``, ``…TimeSpan``); unset dates are the sentinel ``0001-01-01T00:00:00``.
Enterprise custom fields appear as ``Custom_x005f_<32 hex>`` keys: inline on tasks, and on
projects only through ``IncludeCustomFields``. Lookup values are collections of
``Entry_<32 hex>`` internal names.

Every entity is served with exactly the property names and EDM types of Microsoft's
``$metadata`` for Project Online (the ``PS`` schema, tests/fixtures/specs/
project-server-ps-spo.edmx.xml; tests/sandbox/test_pwa_contract.py holds the emulator to it):

* ``PS.PublishedTaskLink``: ``Id``, ``DependencyType`` (FF=0, FS=1, SF=2, SS=3),
  ``PredecessorTaskId``, ``SuccessorTaskId``, ``LinkLag`` (tenths of a minute, as MSPDI's
  PredecessorLink; tenths of a percent for a percentage lag), ``LinkLagFmt`` (MSPDI's LagFormat
  codes: 7 = d, 8 = ed, 19 = %, ...), ``LinkLagDuration`` (display string) and ``ProjUid``.
  ``StartId``/``EndId`` belong to ``PS.DraftTaskLink`` only (with the same ids repeated as
  ``PredecessorTaskId``/``SuccessorTaskId`` and ``LinkLagDuration``, no ``LinkLag``).
* ``PS.ProjectSummaryTask`` has only the Task base plus its own few properties (no outline,
  constraint or milestone flags, no Parent/Predecessors/Successors/Assignments).
* ``PS.QueueJob``: ``Id``, ``JobState``, ``MessageType``, ``PercentComplete``,
  ``WaitMilliseconds``, ``WaitTime``.
* ``PS.Calendar`` (``ProjectServer/Calendars``, a project's ``Calendar``) with
  ``BaseCalendarExceptions`` (``PS.BaseCalendarException``: ``Start``/``Finish``, five shifts
  in minutes from midnight, recurrence fields as learn.microsoft.com's CalendarException and
  CalendarRecurrenceType pages describe them).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pmosync.sandbox.pwa.odata import Entity, Guid
from pmosync.sandbox.pwa.state import (
    ENTITY_TYPES,
    LAG_FMT_DAYS,
    CustomFieldDef,
    LookupTable,
    Plan,
    ProjectRecord,
    PwaState,
    QueueJob,
    duration_text,
    duration_timespan,
    lag_text,
)

if TYPE_CHECKING:
    from collections.abc import Callable

ROOT = "ProjectServer"
EMPTY_GUID = Guid("00000000-0000-0000-0000-000000000000")


def _key(name: str, value: str) -> str:
    return f"{name}('{value}')"


def _duration_props(prefix: str, ms: int, unit: str) -> dict[str, Any]:
    return {
        prefix: duration_text(ms, unit),
        f"{prefix}Milliseconds": ms,
        f"{prefix}TimeSpan": duration_timespan(ms),
    }


def custom_value(field: CustomFieldDef, value: Any) -> Any:
    if field.lookup_table_id is not None:
        return list(value or [])
    return value


class Views:
    """Builds entity views over one :class:`PwaState` (held by reference)."""

    def __init__(
        self,
        state: PwaState,
        users: Callable[[str], dict[str, Any] | None],
        knobs: dict[str, Any] | None = None,
    ) -> None:
        self.state = state
        self.users = users
        self.knobs = knobs if knobs is not None else {}

    # -- projects -------------------------------------------------------------------------
    def root(self) -> Entity:
        return Entity(
            "PS.ProjectServer",
            ROOT,
            (),
            {},
            {
                "Projects": lambda: [self.project(r) for r in self.state.projects.values()],
                "CustomFields": lambda: [self.custom_field(f) for f in self.state.custom_fields],
                "LookupTables": lambda: [self.lookup_table(t) for t in self.state.lookup_tables],
                "EnterpriseResources": lambda: [self.resource(r) for r in self.state.resources],
                "EntityTypes": self.entity_types,
                "Calendars": lambda: [self.calendar(c) for c in self.state.calendars],
                "QueueJobs": lambda: [self.job(j, ROOT) for j in self.state.jobs.values()],
            },
        )

    def _project_props(self, record: ProjectRecord, plan: Plan) -> dict[str, Any]:
        from pmosync.sandbox.pwa.odata import SENTINEL_DATE

        props = dict(plan.props)
        checkout = record.checkout
        props.update(
            {
                "IsCheckedOut": checkout is not None,
                "CheckedOutDate": checkout.since if checkout else SENTINEL_DATE,
                "CheckOutDescription": checkout.description if checkout else "",
                "CheckOutId": checkout.checkout_id
                if checkout
                else Guid("00000000-0000-0000-0000-000000000000"),
                "CreatedDate": record.created,
                "LastPublishedDate": record.last_published,
                "LastSavedDate": record.last_saved,
            }
        )
        return props

    def project(self, record: ProjectRecord) -> Entity:
        uri = f"{ROOT}/{_key('Projects', record.id)}"
        plan = record.published
        return Entity(
            "PS.PublishedProject",
            uri,
            (record.id,),
            self._project_props(record, plan),
            self._project_nav(record, plan, uri, draft=False),
        )

    def draft(self, record: ProjectRecord) -> Entity:
        uri = f"{ROOT}/{_key('Projects', record.id)}/Draft"
        plan = record.draft
        props = self._project_props(record, plan)
        for name in _PUBLISHED_PROJECT_ONLY:  # PS.DraftProject lacks these (EDMX)
            props.pop(name, None)
        return Entity(
            "PS.DraftProject",
            uri,
            (record.id,),
            props,
            self._project_nav(record, plan, uri, draft=True),
        )

    def with_custom_fields(self, record: ProjectRecord, draft: bool) -> Entity:
        base = self.draft(record) if draft else self.project(record)
        plan = record.draft if draft else record.published
        props = dict(base.props)
        as_strings = bool(self.knobs.get("numbers_as_strings"))
        for field in self.state.custom_fields:
            if field.entity == "project":
                value = custom_value(field, plan.custom.get(field.internal_name))
                if as_strings and isinstance(value, float):
                    value = f"{value:g}"
                props[field.json_key] = value
        base.uri += "/IncludeCustomFields"
        base.props = props
        base.nav.pop("IncludeCustomFields", None)
        return base

    def _project_nav(
        self, record: ProjectRecord, plan: Plan, uri: str, *, draft: bool
    ) -> dict[str, Callable[[], Any]]:
        kind = "Draft" if draft else "Published"
        nav: dict[str, Callable[[], Any]] = {
            "Tasks": lambda: [
                self.task(record, plan, t, uri, kind)
                for t in plan.tasks
                if int(t["OutlineLevel"]) > 0
            ],
            "TaskLinks": lambda: [self.link(record, plan, lk, uri, kind) for lk in plan.links],
            "Assignments": lambda: [
                self.assignment(record, plan, a, uri, kind) for a in plan.assignments
            ],
            "ProjectResources": lambda: [
                self.project_resource(r, uri, kind) for r in plan.resources
            ],
            "ProjectSummaryTask": lambda: self.summary_task(record, plan, uri, kind),
            "IncludeCustomFields": lambda: self.with_custom_fields(record, draft),
            "Calendar": lambda: self.project_calendar(record),
            "CheckedOutBy": lambda: (
                self.user(record.checkout.owner_id) if record.checkout else None
            ),
            "QueueJobs": lambda: [
                self.job(j, uri) for j in self.state.jobs.values() if j.project_id == record.id
            ],
        }
        if not draft:
            nav["Draft"] = lambda: self.draft(record)
        return nav

    def user(self, owner_id: str) -> Entity | None:
        info = self.users(owner_id)
        if info is None:
            return None
        return Entity("SP.User", f"Web/GetUserById('{owner_id}')", (owner_id,), info)

    # -- tasks ----------------------------------------------------------------------------
    def summary_task(self, record: ProjectRecord, plan: Plan, uri: str, kind: str) -> Entity | None:
        top = next((t for t in plan.tasks if int(t["OutlineLevel"]) == 0), None)
        if top is None:
            return None
        entity = self.task(record, plan, top, uri, kind)
        entity.type = "PS.ProjectSummaryTask"
        entity.uri = f"{uri}/ProjectSummaryTask"
        # PS.ProjectSummaryTask derives from PS.Task, not PS.PublishedTask (EDMX).
        entity.props = {k: v for k, v in entity.props.items() if k not in _NOT_ON_SUMMARY}
        entity.nav = {k: v for k, v in entity.nav.items() if k in ("CustomFields", "SubProject")}
        return entity

    def task(
        self, record: ProjectRecord, plan: Plan, task: dict[str, Any], uri: str, kind: str
    ) -> Entity:
        props: dict[str, Any] = {
            k: v for k, v in task.items() if not k.startswith("_") and k not in _TASK_INTERNAL
        }
        props.update(_duration_props("Duration", int(task["DurationMilliseconds"]), "d"))
        props.update(_duration_props("Work", int(task.get("Work", 0)), "h"))
        props.update(_duration_props("ActualWork", int(task.get("ActualWork", 0)), "h"))
        remaining = max(0, int(task.get("Work", 0)) - int(task.get("ActualWork", 0)))
        props.update(_duration_props("RemainingWork", remaining, "h"))
        props.update(
            _duration_props(
                "BaselineDuration", int(task.get("BaselineDurationMilliseconds", 0)), "d"
            )
        )
        props.update(_duration_props("BaselineWork", int(task.get("BaselineWork", 0)), "h"))
        props.update(_duration_props("TotalSlack", int(task.get("TotalSlackMilliseconds", 0)), "d"))
        props.update(_duration_props("FreeSlack", int(task.get("FreeSlackMilliseconds", 0)), "d"))
        props["PercentWorkComplete"] = task["PercentComplete"]
        props["OutlinePosition"] = str(task.get("OutlinePosition", ""))  # Edm.String (EDMX)
        props.update(
            _duration_props(
                "RemainingDuration",
                int(task["DurationMilliseconds"]) * (100 - int(task["PercentComplete"])) // 100,
                "d",
            )
        )
        if kind == "Draft":
            props["ParentId"] = task.get("ParentId") or Guid("00000000-0000-0000-0000-000000000000")
        for field in self.state.custom_fields:
            if field.entity == "task":
                props[field.json_key] = custom_value(
                    field, task["_custom"].get(field.internal_name)
                )
        task_uri = f"{uri}/{_key('Tasks', task['Id'])}"
        parent_id = task.get("ParentId")

        def parent() -> Entity | None:
            found = plan.task(parent_id) if parent_id else None
            return self.task(record, plan, found, uri, kind) if found else None

        return Entity(
            f"PS.{kind}Task",
            task_uri,
            (task["Id"],),
            props,
            {
                "Parent": parent,
                "Predecessors": lambda: [
                    self.link(record, plan, lk, uri, kind)
                    for lk in plan.links
                    if lk["EndId"] == task["Id"]
                ],
                "Calendar": lambda: None,  # no task calendar: the project's applies
                "Successors": lambda: [
                    self.link(record, plan, lk, uri, kind)
                    for lk in plan.links
                    if lk["StartId"] == task["Id"]
                ],
                "Assignments": lambda: [
                    self.assignment(record, plan, a, uri, kind)
                    for a in plan.assignments
                    if a["TaskId"] == task["Id"]
                ],
            },
        )

    def link(
        self, record: ProjectRecord, plan: Plan, link: dict[str, Any], uri: str, kind: str
    ) -> Entity:
        lag = int(link.get("LinkLag", 0))
        fmt = int(link.get("LinkLagFmt", LAG_FMT_DAYS))
        props: dict[str, Any] = {
            "Id": link["Id"],
            "DependencyType": link["DependencyType"],
            "PredecessorTaskId": link["StartId"],
            "SuccessorTaskId": link["EndId"],
            "LinkLagDuration": lag_text(lag, fmt),
        }
        if self.knobs.get("ps_version") == "2019":
            # SharePoint 2019's PS.PublishedTaskLink / PS.DraftTaskLink (EDMX): no ids, no lag
            props = {"Id": link["Id"], "DependencyType": link["DependencyType"]}
            if kind == "Draft":
                props["StartId"] = link["StartId"]
                props["EndId"] = link["EndId"]
        elif kind == "Draft":
            # PS.DraftTaskLink: StartId/EndId (and no LinkLag/LinkLagFmt/ProjUid)
            props["StartId"] = link["StartId"]
            props["EndId"] = link["EndId"]
        else:
            props["LinkLag"] = lag
            props["LinkLagFmt"] = fmt
            props["ProjUid"] = record.id

        def end(task_id: str) -> Callable[[], Entity | None]:
            def resolve() -> Entity | None:
                found = plan.task(task_id)
                return self.task(record, plan, found, uri, kind) if found else None

            return resolve

        return Entity(
            f"PS.{kind}TaskLink",
            f"{uri}/{_key('TaskLinks', link['Id'])}",
            (link["Id"],),
            props,
            {"Start": end(link["StartId"]), "End": end(link["EndId"])},
        )

    def assignment(
        self, record: ProjectRecord, plan: Plan, assignment: dict[str, Any], uri: str, kind: str
    ) -> Entity:
        props = {
            k: v
            for k, v in assignment.items()
            if k not in ("Work", "ActualWork", "TaskId", "ResourceId")
        }
        props.update(_duration_props("Work", int(assignment["Work"]), "h"))
        props.update(_duration_props("ActualWork", int(assignment["ActualWork"]), "h"))
        remaining = max(0, int(assignment["Work"]) - int(assignment["ActualWork"]))
        props.update(_duration_props("RemainingWork", remaining, "h"))
        if kind == "Draft":
            props["TaskId"] = assignment["TaskId"]
            props["ResourceId"] = assignment["ResourceId"]

        def task() -> Entity | None:
            found = plan.task(assignment["TaskId"])
            return self.task(record, plan, found, uri, kind) if found else None

        def resource() -> Entity | None:
            found = next((r for r in plan.resources if r["Id"] == assignment["ResourceId"]), None)
            return self.project_resource(found, uri, kind) if found else None

        return Entity(
            f"PS.{kind}Assignment",
            f"{uri}/{_key('Assignments', assignment['Id'])}",
            (assignment["Id"],),
            props,
            {"Task": task, "Resource": resource},
        )

    def project_resource(self, resource: dict[str, Any], uri: str, kind: str) -> Entity:
        rid = resource["Id"]
        return Entity(
            f"PS.{kind}ProjectResource",
            f"{uri}/{_key('ProjectResources', rid)}",
            (rid,),
            dict(resource),
            {
                "EnterpriseResource": lambda: (
                    self.resource(found) if (found := self.state.resource(rid)) else None
                )
            },
        )

    # -- enterprise -----------------------------------------------------------------------
    def resource(self, resource: dict[str, Any]) -> Entity:
        return Entity(
            "PS.EnterpriseResource",
            f"{ROOT}/{_key('EnterpriseResources', resource['Id'])}",
            (resource["Id"],),
            dict(resource),
        )

    def project_calendar(self, record: ProjectRecord) -> Entity | None:
        """A project's calendar; a project made without one uses the standard calendar."""
        found = self.state.calendar(record.calendar_id) or next(
            (c for c in self.state.calendars if c["IsStandardCalendar"]), None
        )
        return self.calendar(found) if found else None

    def calendar(self, calendar: dict[str, Any]) -> Entity:
        """PS.Calendar. Its properties are only these (EDMX): the working week itself is not
        exposed by REST; exceptions come through ``BaseCalendarExceptions``."""
        uri = f"{ROOT}/{_key('Calendars', calendar['Id'])}"
        props = {k: v for k, v in calendar.items() if k != "exceptions"}
        return Entity(
            "PS.Calendar",
            uri,
            (calendar["Id"],),
            props,
            {
                "BaseCalendarExceptions": lambda: [
                    self.calendar_exception(calendar, e, uri) for e in calendar["exceptions"]
                ]
            },
        )

    def calendar_exception(
        self, calendar: dict[str, Any], exception: dict[str, Any], uri: str
    ) -> Entity:
        return Entity(
            "PS.BaseCalendarException",
            f"{uri}/BaseCalendarExceptions({exception['Id']})",
            (exception["Id"],),
            dict(exception),
            {"Calendar": lambda: self.calendar(calendar)},
        )

    def custom_field(self, field: CustomFieldDef) -> Entity:
        entity_type = ENTITY_TYPES["ProjectEntity" if field.entity == "project" else "TaskEntity"]
        props = {
            "Id": field.id,
            "Name": field.name,
            "InternalName": field.internal_name,
            "FieldType": field.field_type,
            "Description": field.description,
            # Edm.Guid, not nullable: Guid.Empty when the field has no lookup table
            "LookupTableId": field.lookup_table_id or EMPTY_GUID,
            "LookupAllowMultiSelect": field.multi,
            "IsRequired": False,
            "IsMultilineText": False,
            "IsWorkflowControlled": False,
            "IsEditableInVisibility": False,
            "RollsDownToAssignments": False,
            "Formula": "",
            "AppAlternateId": Guid("00000000-0000-0000-0000-000000000000"),
        }
        table = self.state.lookup_table(field.lookup_table_id)
        return Entity(
            "PS.CustomField",
            f"{ROOT}/{_key('CustomFields', field.id)}",
            (field.id,),
            props,
            {
                "EntityType": lambda: self.entity_type(entity_type),
                "LookupTable": lambda: self.lookup_table(table) if table else None,
                "LookupEntries": lambda: (
                    [self.entry(table, e) for e in table.entries] if table else []
                ),
            },
        )

    def lookup_table(self, table: LookupTable) -> Entity:
        return Entity(
            "PS.LookupTable",
            f"{ROOT}/{_key('LookupTables', table.id)}",
            (table.id,),
            {"Id": table.id, "Name": table.name, "SortOrder": 0, "FieldType": 21},
            {"Entries": lambda: [self.entry(table, e) for e in table.entries]},
        )

    def entry(self, table: LookupTable, entry: Any) -> Entity:
        return Entity(
            "PS.LookupText",
            f"{ROOT}/{_key('LookupTables', table.id)}/{_key('Entries', entry.id)}",
            (entry.id,),
            {
                "Id": entry.id,
                "InternalName": entry.internal_name,
                "FullValue": entry.full_value,
                "Description": entry.description,
                "SortIndex": f"{entry.sort_index:.2f}",  # Edm.Decimal: a string in JSON
                "Value": entry.full_value,
            },
        )

    def entity_types(self) -> Entity:
        return Entity(
            "PS.EntityTypes",
            f"{ROOT}/EntityTypes",
            (),
            {},
            {name: self._entity_type_of(guid) for name, guid in ENTITY_TYPES.items()},
        )

    def _entity_type_of(self, guid: Guid) -> Callable[[], Entity]:
        return lambda: self.entity_type(guid)

    def entity_type(self, guid: Guid) -> Entity:
        name = next(n for n, g in ENTITY_TYPES.items() if g == guid)
        return Entity(
            "PS.EntityType", f"{ROOT}/EntityTypes/{name}", (guid,), {"ID": guid, "Name": name}
        )

    def job(self, job: QueueJob, base: str) -> Entity:
        return Entity(
            "PS.QueueJob",
            f"{base}/{_key('QueueJobs', job.id)}",
            (job.id,),
            {
                "Id": job.id,
                "JobState": job.state,
                "MessageType": job.msg_type,
                "PercentComplete": job.percent(),
                # the queue's estimate of the wait (Edm.Int32 ms and Edm.Time)
                "WaitMilliseconds": 0 if job.done else 1000,
                "WaitTime": "PT0S" if job.done else "PT1S",
            },
        )


_TASK_INTERNAL = frozenset(
    {
        "ParentId",
        "Work",
        "ActualWork",
        "BaselineWork",
        "BaselineDurationMilliseconds",
        "TotalSlackMilliseconds",
        "FreeSlackMilliseconds",
    }
)

# PublishedTask's own properties that PS.ProjectSummaryTask (a PS.Task) does not have (EDMX).
_NOT_ON_SUMMARY = frozenset(
    {
        "ActualFinish",
        "ActualStart",
        "Completion",
        "ConstraintStartEnd",
        "ConstraintType",
        "Deadline",
        "FixedCost",
        "IsActive",
        "IsEffortDriven",
        "IsLockedByManager",
        "IsManual",
        "IsMarked",
        "IsMilestone",
        "LevelingAdjustsAssignments",
        "LevelingCanSplit",
        "OutlineLevel",
        "PercentPhysicalWorkComplete",
        "RemainingDuration",
        "RemainingDurationMilliseconds",
        "RemainingDurationTimeSpan",
        "TaskType",
        "UsePercentPhysicalWorkComplete",
        "Calendar",
    }
)

_PUBLISHED_PROJECT_ONLY = frozenset({"EnterpriseProjectTypeId", "IsEnterpriseProject"})
