"""A small builder of canonical store values for the dependency analysis tests.

Values are written as the store keeps them (ISO strings, decimals as strings), so the tests also
cover the tolerant parsing in ``build_graph``.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from typing import Any

from pmosync.analysis.calendar import WorkCalendar, standard_calendar
from pmosync.analysis.dependencies import PortfolioGraph, build_graph

CAL = standard_calendar()


class Portfolio:
    def __init__(self, *, uuids: bool = False) -> None:
        self.entities: list[tuple[str, str, dict[str, Any]]] = []
        self.ids: dict[str, str] = {}
        self._uuids = uuids

    def _id(self, name: str) -> str:
        # with uuids=True ids look like the store's, so a test can check none leaks into text
        if name not in self.ids:
            self.ids[name] = str(uuid.uuid4()) if self._uuids else name
        return self.ids[name]

    def project(self, name: str, code: str, **values: Any) -> str:
        cid = self._id(name)
        self.entities.append((cid, "project", {"code": code, "name": f"Project {code}", **values}))
        return cid

    def item(
        self,
        ref: str,
        key: str | None,
        project: str | None,
        start: str | None = None,
        due: str | None = None,
        **values: Any,
    ) -> str:
        cid = self._id(ref)
        v: dict[str, Any] = {"name": ref, "key": key, "project": self.ids.get(project or "")}
        if start:
            v["start"] = start
        if due:
            v["due"] = due
        if "parent" in values:
            values["parent"] = self._id(values["parent"])
        v.setdefault("schedule_mode", "entered")
        v.update(values)
        self.entities.append((cid, "work_item", v))
        return cid

    def milestone(self, ref: str, project: str, due: str, **values: Any) -> str:
        cid = self._id(ref)
        v = {"name": ref, "project": self.ids[project], "due": due, **values}
        self.entities.append((cid, "milestone", v))
        return cid

    def link(self, pred: str, succ: str, **values: Any) -> str:
        cid = self._id(f"{pred}->{succ}#{len(self.entities)}")
        v = {"predecessor": self._id(pred), "successor": self._id(succ), **values}
        self.entities.append((cid, "dependency", v))
        return cid

    def graph(self, cal: WorkCalendar = CAL, tombstoned: Collection[str] = ()) -> PortfolioGraph:
        return build_graph(
            self.entities, calendar=cal, tombstoned=[self._id(t) for t in tombstoned]
        )


def toy() -> Portfolio:
    """§B.6's verified case: A's build → A GA (FS) → B integration (FS, 2 working days' gap)
    → B launch. Dates are entered (Jira-like), 2027-03 (1 March is a Monday)."""
    p = Portfolio()
    p.project("A", "A")
    p.project("B", "B")
    p.item("build", "A-1", "A", "2027-03-01", "2027-03-12")
    p.item("ga", "A-2", "A", None, "2027-03-12", kind="milestone")
    # GA is Fri 12th 17:00; integration starts Wed 17th: Mon and Tue are the 2 days' gap
    p.item("integration", "B-1", "B", "2027-03-17", "2027-03-26")
    p.item("launch", "B-2", "B", None, "2027-03-26", kind="milestone")
    p.link("build", "ga")
    p.link("ga", "integration")
    p.link("integration", "launch")
    return p
