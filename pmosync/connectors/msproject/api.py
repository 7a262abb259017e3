"""The PWA calls the connector makes, named after what they fetch or do.

Thin wrappers over :class:`PwaClient` that know the endpoint paths and query options; no
mapping here (that is ``mapper``) and no policy decisions (that is ``connector``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from pmosync.connectors.msproject import odata
from pmosync.connectors.msproject.client import PwaClient

PROJECT_LIST_SELECT = "Id,Name,LastPublishedDate,LastSavedDate,IsCheckedOut"


def _p(project_id: str) -> str:
    return f"/Projects{odata.key_segment(project_id)}"


class PwaApi:
    def __init__(self, client: PwaClient) -> None:
        self.client = client

    # -- metadata ------------------------------------------------------------------------
    def custom_fields(self) -> list[dict[str, Any]]:
        return list(
            self.client.collection(
                "/CustomFields",
                what="custom fields",
                params={"$expand": "EntityType,LookupTable"},
            )
        )

    def lookup_tables(self) -> list[dict[str, Any]]:
        return list(
            self.client.collection(
                "/LookupTables", what="lookup tables", params={"$expand": "Entries"}
            )
        )

    # -- projects ------------------------------------------------------------------------
    def projects(self) -> Iterator[dict[str, Any]]:
        """Every published project, a few columns each. No ``$filter``: Microsoft documents date
        filters for the reporting feed (ProjectData, learn.microsoft.com/previous-versions/
        office/project-odata/dn776317 "delta syncs") but not for ``ProjectServer/Projects``, so
        the connector lists once and compares the dates itself."""
        params = {"$select": PROJECT_LIST_SELECT}
        return self.client.collection("/Projects", what="projects", params=params)

    def reporting_projects(self) -> Iterator[dict[str, Any]]:
        """ProjectData's view of each project: which publish the reporting feed has caught
        up with (it lags publishing)."""
        return self.client.collection(
            self.client.data_url("Projects"),
            what="reporting Projects",
            params={"$select": "ProjectId,ProjectLastPublishedDate"},
        )

    def reporting_publish_date(self, project_id: str) -> Any:
        """The publish ProjectData shows for a project (``ProjectLastPublishedDate``), or None
        when the reporting feed does not have the project yet."""
        row = self._reporting_row("Projects", "ProjectId", project_id, "ProjectLastPublishedDate")
        return row.get("ProjectLastPublishedDate") if row else None

    def _reporting_row(
        self, entity_set: str, key: str, value: str, column: str
    ) -> dict[str, Any] | None:
        """The ProjectData row whose GUID ``key`` is ``value`` (``key`` and ``column`` only)."""
        for row in self.client.collection(
            self.client.data_url(entity_set),
            what=f"reporting {entity_set} {value}",
            params={
                "$filter": f"{key} eq {odata.guid_literal(value)}",
                "$select": f"{key},{column}",
            },
        ):
            return row
        return None

    def task_ids(self, project_id: str) -> Iterator[dict[str, Any]]:
        return self.client.collection(
            f"{_p(project_id)}/Tasks",
            what=f"project {project_id} task ids",
            params={"$select": "Id"},
        )

    def project(self, project_id: str) -> dict[str, Any]:
        """The published project with its enterprise custom fields (``Custom_x005f_…``), its
        calendar (``PublishedProject.Calendar``) and its summary task (``PS.Project``'s
        ``ProjectSummaryTask`` navigation property in the PS EDMX, which holds the rolled-up
        percent complete), both expanded: one request instead of three."""
        return self.client.entity(
            f"{_p(project_id)}/IncludeCustomFields",
            what=f"project {project_id}",
            params={"$expand": "Calendar,ProjectSummaryTask"},
        )

    def calendars(self) -> list[dict[str, Any]]:
        """Enterprise base calendars with their exceptions (``PS.Calendar``,
        ``BaseCalendarExceptions``)."""
        return list(
            self.client.collection(
                "/Calendars",
                what="calendars",
                params={"$expand": "BaseCalendarExceptions"},
            )
        )

    def project_summary_task(self, project_id: str) -> dict[str, Any]:
        return self.client.entity(
            f"{_p(project_id)}/ProjectSummaryTask", what=f"project {project_id} summary task"
        )

    def tasks(self, project_id: str) -> Iterator[dict[str, Any]]:
        return self.client.collection(
            f"{_p(project_id)}/Tasks",
            what=f"project {project_id} tasks",
            params={"$expand": "Parent"},
        )

    def task_links(self, project_id: str, *, expand_ends: bool = False) -> Iterator[dict[str, Any]]:
        """PS.PublishedTaskLink rows. Project Online's carry ``PredecessorTaskId``/
        ``SuccessorTaskId``; SharePoint 2019's only the ``Start``/``End`` navigation
        properties, which ``expand_ends`` expands."""
        return self.client.collection(
            f"{_p(project_id)}/TaskLinks",
            what=f"project {project_id} task links",
            params={"$expand": "Start,End"} if expand_ends else None,
        )

    def assignments(self, project_id: str) -> Iterator[dict[str, Any]]:
        return self.client.collection(
            f"{_p(project_id)}/Assignments",
            what=f"project {project_id} assignments",
            params={"$expand": "Resource,Task"},
        )

    def project_resources(self, project_id: str) -> Iterator[dict[str, Any]]:
        return self.client.collection(
            f"{_p(project_id)}/ProjectResources", what=f"project {project_id} resources"
        )

    # -- reporting (ProjectData) ---------------------------------------------------------
    def reporting(
        self, entity_set: str, project_id: str, *, extra_filter: str | None = None
    ) -> Iterator[dict[str, Any]]:
        flt = f"ProjectId eq {odata.guid_literal(project_id)}"
        if extra_filter:
            flt += f" and {extra_filter}"
        return self.client.collection(
            self.client.data_url(entity_set),
            what=f"project {project_id} {entity_set}",
            params={"$filter": flt},
        )

    def reporting_changed(
        self, entity_set: str, changed_filter: str | None
    ) -> Iterator[dict[str, Any]]:
        """A whole reporting entity set, or only rows matching ``changed_filter``."""
        params = {"$filter": changed_filter} if changed_filter else None
        return self.client.collection(
            self.client.data_url(entity_set), what=f"reporting {entity_set}", params=params
        )

    def reporting_resources(self) -> Iterator[dict[str, Any]]:
        return self.client.collection(
            self.client.data_url("Resources"),
            what="reporting Resources",
            params={"$select": "ResourceId,ResourceName"},
        )

    def task_project(self, task_id: str) -> str | None:
        """The project of a task, through the reporting feed (no global ProjectServer index)."""
        row = self._reporting_row("Tasks", "TaskId", task_id, "ProjectId")
        return str(row["ProjectId"]).lower() if row and row.get("ProjectId") else None

    # -- write flow ----------------------------------------------------------------------
    def check_out(self, project_id: str) -> dict[str, Any] | None:
        return self.client.post(f"{_p(project_id)}/checkOut()", what=f"check out {project_id}")

    def update_custom_fields(
        self, project_id: str, entries: Sequence[Mapping[str, str]]
    ) -> dict[str, Any] | None:
        items: list[dict[str, Any]] = []
        for entry in entries:
            item: dict[str, Any] = dict(entry)
            if self.client.verbose:
                item = {"__metadata": {"type": "SP.KeyValue"}, **item}
            items.append(item)
        return self.client.post(
            f"{_p(project_id)}/Draft/UpdateCustomFields()",
            what=f"update custom fields of {project_id}",
            body={"customFieldDictionary": items},
        )

    def merge_draft(self, project_id: str, properties: Mapping[str, Any]) -> None:
        self.client.merge(
            f"{_p(project_id)}/Draft",
            properties,
            entity_type="PS.DraftProject",
            what=f"update draft {project_id}",
        )

    def merge_draft_task(
        self, project_id: str, task_id: str, properties: Mapping[str, Any]
    ) -> None:
        self.client.merge(
            f"{_p(project_id)}/Draft/Tasks{odata.key_segment(task_id)}",
            properties,
            entity_type="PS.DraftTask",
            what=f"update draft task {task_id}",
        )

    def update_draft(self, project_id: str) -> dict[str, Any] | None:
        return self.client.post(f"{_p(project_id)}/Draft/update()", what=f"save draft {project_id}")

    def publish(self, project_id: str, *, check_in: bool = True) -> dict[str, Any] | None:
        flag = "true" if check_in else "false"
        return self.client.post(
            f"{_p(project_id)}/Draft/publish({flag})", what=f"publish {project_id}"
        )

    def check_in(self, project_id: str, *, force: bool) -> dict[str, Any] | None:
        flag = "true" if force else "false"
        return self.client.post(
            f"{_p(project_id)}/Draft/checkIn({flag})", what=f"check in {project_id}"
        )

    def wait(
        self,
        project_id: str,
        job: Mapping[str, Any] | None,
        what: str,
        timeout: float | None = None,
    ) -> None:
        self.client.wait_for_job(project_id, job, what=what, timeout=timeout)
