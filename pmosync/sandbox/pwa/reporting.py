"""ProjectData (reporting OData v3, ``ReportingData`` namespace) views: read-only, built from the
*published* plans only, so they change when a publish completes (api-wire-protocol §5.7).

Keys: ``Projects(ProjectId)``, ``Tasks(ProjectId, TaskId)``, ``Assignments(ProjectId,
AssignmentId)``, ``Resources(ResourceId)``, ``TaskBaselines(ProjectId, TaskId,
BaselineNumber)``, ``Issues(ProjectId, IssueId)``, ``Risks(ProjectId, RiskId)``. Collections are
served in key order, and ``$skiptoken`` carries the key values of the last row of a page
(``guid'…',guid'…'``). Enterprise custom fields are columns named after their display name with
spaces and punctuation stripped (``PMORAG``); lookup values are the entries' text.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pmosync.sandbox.pwa.odata import SENTINEL_DATE, Entity, edm_type, literal
from pmosync.sandbox.pwa.state import (
    MINUTES_PER_DAY,
    MS_PER_MINUTE,
    ProjectRecord,
    PwaState,
)

ROOT = "ProjectData"
ENTITY_SETS = ("Projects", "Tasks", "Assignments", "Resources", "TaskBaselines", "Issues", "Risks")
KEYS: dict[str, tuple[str, ...]] = {
    "Projects": ("ProjectId",),
    "Tasks": ("ProjectId", "TaskId"),
    "Assignments": ("ProjectId", "AssignmentId"),
    "Resources": ("ResourceId",),
    "TaskBaselines": ("ProjectId", "TaskId", "BaselineNumber"),
    "Issues": ("ProjectId", "IssueId"),
    "Risks": ("ProjectId", "RiskId"),
}


def _date(value: Any) -> Any:
    # The reporting database stores NULL where ProjectServer shows the 0001-01-01 sentinel.
    return None if value == SENTINEL_DATE else value


def _hours(ms: int) -> float:
    return round(ms / MS_PER_MINUTE / 60, 2)


def _days(ms: int) -> float:
    return round(ms / MS_PER_MINUTE / MINUTES_PER_DAY, 2)


def _uri(entity_set: str, keys: dict[str, Any]) -> str:
    if len(keys) == 1:
        return f"{ROOT}/{entity_set}({literal(next(iter(keys.values())))})"
    inner = ",".join(f"{k}={literal(v)}" for k, v in keys.items())
    return f"{ROOT}/{entity_set}({inner})"


class Reporting:
    def __init__(self, state: PwaState) -> None:
        self.state = state
        self._cache: dict[str, list[Entity]] = {}
        self._cached_version = -1

    def entity_set(self, name: str) -> list[Entity]:
        """Rows in key order; rebuilt only after the state changed (big seeds stay fast)."""
        lagging = any(r.reporting_pending() for r in self.state.projects.values())
        if lagging or self._cached_version != self.state.version:
            self._cache.clear()
            self._cached_version = -1 if lagging else self.state.version
        if name not in self._cache:
            builder: Callable[[], list[Entity]] = getattr(self, f"_{name.lower()}")
            rows = builder()
            rows.sort(key=lambda e: tuple(str(k) for k in e.key))
            if lagging:
                return rows  # the view flips when the lag ends: nothing to cache
            self._cache[name] = rows
        return list(self._cache[name])

    def _custom_columns(self, record: ProjectRecord, entity: str, values: dict[str, Any]) -> dict:
        out: dict[str, Any] = {}
        for field in self.state.custom_fields:
            if field.entity != entity:
                continue
            value = values.get(field.internal_name)
            table = self.state.lookup_table(field.lookup_table_id)
            if table is not None:
                names = [e.full_value for n in (value or []) if (e := table.entry(n))]
                value = ";".join(names) if names else None
            out[field.reporting_name] = value
        return out

    def project_entity(self, record: ProjectRecord) -> Entity:
        plan, published_at = record.reporting_view()
        summary = next((t for t in plan.tasks if int(t["OutlineLevel"]) == 0), None)
        props: dict[str, Any] = {
            "ProjectId": record.id,
            "ProjectName": plan.props["Name"],
            "ProjectStartDate": plan.props["StartDate"],
            "ProjectFinishDate": plan.props["FinishDate"],
            "ProjectBaseline0StartDate": summary.get("BaselineStart") if summary else None,
            "ProjectBaseline0FinishDate": summary.get("BaselineFinish") if summary else None,
            "ProjectPercentCompleted": int(summary["PercentComplete"]) if summary else 0,
            "ProjectStatusDate": plan.props.get("StatusDate"),
            "ProjectModifiedDate": published_at,
            "ProjectLastPublishedDate": published_at,
            "ProjectCreatedDate": record.created,
            "ProjectOwnerName": record.owner_name,
            "ProjectType": plan.props.get("ProjectType", 0),
            "ProjectCost": 0.0,
            "ProjectWork": _hours(int(summary.get("Work", 0))) if summary else 0.0,
            "ProjectIdentifier": plan.props.get("ProjectIdentifier"),
            "EnterpriseProjectTypeName": "Enterprise Project",
        }
        props.update(self._custom_columns(record, "project", plan.custom))
        project_id = record.id
        return Entity(
            "ReportingData.Project",
            _uri("Projects", {"ProjectId": record.id}),
            (record.id,),
            props,
            {
                name: self._rows_of(name, project_id)
                for name in ("Tasks", "Assignments", "Issues", "Risks", "TaskBaselines")
            },
        )

    def _rows_of(self, name: str, project_id: str) -> Callable[[], list[Entity]]:
        def rows() -> list[Entity]:
            return [e for e in self.entity_set(name) if e.props["ProjectId"] == project_id]

        return rows

    def _projects(self) -> list[Entity]:
        return [self.project_entity(r) for r in self.state.projects.values()]

    def _tasks(self) -> list[Entity]:
        rows = []
        for record in self.state.projects.values():
            plan = record.reporting_view()[0]
            for index, task in enumerate(plan.tasks):
                if int(task["OutlineLevel"]) == 0:
                    continue
                work = int(task.get("Work", 0))
                actual = int(task.get("ActualWork", 0))
                props: dict[str, Any] = {
                    "ProjectId": record.id,
                    "TaskId": task["Id"],
                    "ProjectName": plan.props["Name"],
                    "TaskName": task["Name"],
                    "TaskStartDate": task["Start"],
                    "TaskFinishDate": task["Finish"],
                    "TaskActualStartDate": _date(task.get("ActualStart")),
                    "TaskActualFinishDate": _date(task.get("ActualFinish")),
                    "TaskBaseline0StartDate": _date(task.get("BaselineStart")),
                    "TaskBaseline0FinishDate": _date(task.get("BaselineFinish")),
                    "TaskPercentCompleted": int(task["PercentComplete"]),
                    "TaskIsMilestone": bool(task["IsMilestone"]),
                    "TaskIsSummary": bool(task["IsSummary"]),
                    "TaskIsCritical": bool(task.get("IsCritical", False)),
                    "TaskIsManuallyScheduled": bool(task.get("IsManual", False)),
                    "TaskOutlineLevel": int(task["OutlineLevel"]),
                    "TaskOutlineNumber": task.get("WorkBreakdownStructure", ""),
                    "TaskParentTaskId": task.get("ParentId"),
                    "TaskIndex": index,
                    "TaskDuration": _days(int(task["DurationMilliseconds"])),
                    "TaskWork": _hours(work),
                    "TaskActualWork": _hours(actual),
                    "TaskRemainingWork": _hours(max(0, work - actual)),
                    "TaskCost": float(task.get("Cost", 0.0)),
                    "TaskActualCost": float(task.get("ActualCost", 0.0)),
                    "TaskCostVariance": 0.0,
                    "TaskWorkVariance": 0.0,
                    "TaskDeadline": _date(task.get("Deadline")),
                    "TaskModifiedDate": task["Modified"],
                    "TaskCreatedDate": task["Created"],
                }
                props.update(self._custom_columns(record, "task", task["_custom"]))
                rows.append(
                    Entity(
                        "ReportingData.Task",
                        _uri("Tasks", {"ProjectId": record.id, "TaskId": task["Id"]}),
                        (record.id, task["Id"]),
                        props,
                    )
                )
        return rows

    def _taskbaselines(self) -> list[Entity]:
        rows = []
        for record in self.state.projects.values():
            for task in record.reporting_view()[0].tasks:
                if int(task["OutlineLevel"]) == 0 or _date(task.get("BaselineStart")) is None:
                    continue
                props = {
                    "ProjectId": record.id,
                    "TaskId": task["Id"],
                    "BaselineNumber": 0,
                    "TaskName": task["Name"],
                    "TaskBaselineStartDate": task["BaselineStart"],
                    "TaskBaselineFinishDate": task["BaselineFinish"],
                    "TaskBaselineDuration": _days(int(task.get("BaselineDurationMilliseconds", 0))),
                    "TaskBaselineWork": _hours(int(task.get("BaselineWork", 0))),
                    "TaskBaselineCost": float(task.get("BaselineCost", 0.0)),
                }
                keys = {"ProjectId": record.id, "TaskId": task["Id"], "BaselineNumber": 0}
                rows.append(
                    Entity(
                        "ReportingData.TaskBaseline",
                        _uri("TaskBaselines", keys),
                        (record.id, task["Id"], 0),
                        props,
                    )
                )
        return rows

    def _assignments(self) -> list[Entity]:
        rows = []
        for record in self.state.projects.values():
            plan = record.reporting_view()[0]
            for assignment in plan.assignments:
                task = plan.task(assignment["TaskId"]) or {}
                resource = self.state.resource(assignment["ResourceId"]) or {}
                work = int(assignment["Work"])
                props = {
                    "ProjectId": record.id,
                    "AssignmentId": assignment["Id"],
                    "TaskId": assignment["TaskId"],
                    "ResourceId": assignment["ResourceId"],
                    "ProjectName": plan.props["Name"],
                    "TaskName": task.get("Name"),
                    "ResourceName": resource.get("Name"),
                    "AssignmentStartDate": assignment["Start"],
                    "AssignmentFinishDate": assignment["Finish"],
                    "AssignmentWork": _hours(work),
                    "AssignmentActualWork": _hours(int(assignment["ActualWork"])),
                    "AssignmentRemainingWork": _hours(max(0, work - int(assignment["ActualWork"]))),
                    "AssignmentPercentWorkCompleted": int(assignment["PercentWorkComplete"]),
                    "AssignmentModifiedDate": assignment["Modified"],
                    "AssignmentCreatedDate": assignment["Created"],
                }
                rows.append(
                    Entity(
                        "ReportingData.Assignment",
                        _uri(
                            "Assignments",
                            {"AssignmentId": assignment["Id"], "ProjectId": record.id},
                        ),
                        (record.id, assignment["Id"]),
                        props,
                    )
                )
        return rows

    def _resources(self) -> list[Entity]:
        return [
            Entity(
                "ReportingData.Resource",
                _uri("Resources", {"ResourceId": r["Id"]}),
                (r["Id"],),
                {
                    "ResourceId": r["Id"],
                    "ResourceName": r["Name"],
                    "ResourceEmailAddress": r["Email"],
                    "ResourceInitials": r.get("Initials", ""),
                    "ResourceGroup": r.get("Group", ""),
                    "ResourceIsActive": bool(r.get("IsActive", True)),
                    "ResourceIsGeneric": bool(r.get("IsGeneric", False)),
                    "ResourceType": int(r.get("ResourceType", 2)),
                    "ResourceCreatedDate": r["Created"],
                    "ResourceModifiedDate": r["Modified"],
                },
            )
            for r in self.state.resources
        ]

    def _raid(self, kind: str) -> list[Entity]:
        rows = []
        key = "IssueId" if kind == "Issues" else "RiskId"
        for record in self.state.projects.values():
            for item in record.issues if kind == "Issues" else record.risks:
                props = {"ProjectId": record.id, **item, "ProjectName": record.name}
                rows.append(
                    Entity(
                        f"ReportingData.{kind[:-1]}",
                        _uri(kind, {"ProjectId": record.id, key: item[key]}),
                        (record.id, item[key]),
                        props,
                    )
                )
        return rows

    def _issues(self) -> list[Entity]:
        return self._raid("Issues")

    def _risks(self) -> list[Entity]:
        return self._raid("Risks")


def edmx(reporting: Reporting) -> str:
    """A small ``$metadata`` document (EDMX, OData v3) for the served entity sets, with property
    types taken from the data, so OData clients can introspect the feed."""
    types = []
    for name in ENTITY_SETS:
        rows = reporting.entity_set(name)
        columns: dict[str, str] = {key: "Edm.Guid" for key in KEYS[name]}
        for row in rows[:50]:
            for prop, value in row.props.items():
                kind = edm_type(value)
                if kind != "null" and columns.get(prop, "null") in ("null", "Edm.String"):
                    columns[prop] = kind if prop not in KEYS[name] else columns[prop]
                columns.setdefault(prop, "null")
        if name == "TaskBaselines":
            columns["BaselineNumber"] = "Edm.Int32"
        keys = "".join(f'<PropertyRef Name="{k}"/>' for k in KEYS[name])
        props = "".join(
            f'<Property Name="{prop}" Type="{"Edm.String" if kind == "null" else kind}" '
            f'Nullable="{"false" if prop in KEYS[name] else "true"}"/>'
            for prop, kind in columns.items()
        )
        types.append(f'<EntityType Name="{name[:-1]}"><Key>{keys}</Key>{props}</EntityType>')
    sets = "".join(
        f'<EntitySet Name="{n}" EntityType="ReportingData.{n[:-1]}"/>' for n in ENTITY_SETS
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<edmx:Edmx Version="1.0" xmlns:edmx="http://schemas.microsoft.com/ado/2007/06/edmx">'
        '<edmx:DataServices m:DataServiceVersion="3.0" m:MaxDataServiceVersion="3.0" '
        'xmlns:m="http://schemas.microsoft.com/ado/2007/08/dataservices/metadata">'
        '<Schema Namespace="ReportingData" xmlns="http://schemas.microsoft.com/ado/2009/11/edm">'
        + "".join(types)
        + f'<EntityContainer Name="ReportingData" m:IsDefaultEntityContainer="true">{sets}'
        "</EntityContainer></Schema></edmx:DataServices></edmx:Edmx>"
    )
