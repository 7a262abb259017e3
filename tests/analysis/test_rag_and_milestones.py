from __future__ import annotations

from datetime import date

from pmosync.analysis.milestones import (
    MilestoneView,
    consolidate,
    milestone_views,
    overdue_by_project,
)
from pmosync.analysis.rag import project_rag, status_line

TODAY = date(2026, 11, 20)


def test_next_milestone_and_overdue_count() -> None:
    views = milestone_views(
        [
            ("milestone", {"project": "p", "name": "Kick-off", "due": "2026-10-01", "done": True}),
            ("milestone", {"project": "p", "name": "Design", "due": "2026-11-10"}),
            ("milestone", {"project": "p", "name": "Build", "due": "2026-11-20"}),
            ("milestone", {"project": "p", "name": "Alpha", "due": "2026-11-20"}),
            (
                "work_item",
                {"project": "p", "name": "Go-live", "due": "2027-01-05", "kind": "milestone"},
            ),
            ("work_item", {"project": "p", "name": "a task", "due": "2026-01-01", "kind": "task"}),
        ]
    )
    out = consolidate(["p", "empty"], views, TODAY)
    # due today is not overdue; equal dates tie-break on the name (stable across pulls)
    assert out["p"] == {
        "next_milestone": "Alpha",
        "next_milestone_date": "2026-11-20",
        "overdue_milestones": 1,
    }
    assert out["empty"] == {
        "next_milestone": None,
        "next_milestone_date": None,
        "overdue_milestones": 0,
    }
    assert overdue_by_project(views, TODAY) == {"p": [("Design", date(2026, 11, 10))]}


def test_rag_thresholds_are_written_down() -> None:
    open_project = {"status": "active", "planned_finish": "2027-06-01"}
    green = project_rag(open_project, [], TODAY)
    assert green.rag == "G"
    amber = project_rag(open_project, [("Design", date(2026, 11, 15))], TODAY)
    assert amber.rag == "A" and "Design 5 days overdue" in amber.text
    red_two = project_rag(
        open_project, [("A", date(2026, 11, 18)), ("B", date(2026, 11, 19))], TODAY
    )
    assert red_two.rag == "R" and "2 milestones overdue" in red_two.text
    red_late = project_rag(open_project, [("Design", date(2026, 10, 1))], TODAY)
    assert red_late.rag == "R" and "50 days overdue" in red_late.text
    finished_late = project_rag({"status": "active", "planned_finish": "2026-11-01"}, [], TODAY)
    assert finished_late.rag == "R" and "has passed" in finished_late.text
    after_finish = project_rag(
        {"status": "active", "planned_finish": "2026-12-01", "next_milestone_date": "2026-12-15"},
        [],
        TODAY,
    )
    assert after_finish.rag == "A"
    closed = project_rag(
        {"status": "done", "planned_finish": "2026-01-01"}, [("x", date(2026, 1, 1))], TODAY
    )
    assert closed.rag == "G"


def test_status_line_names_the_next_milestone() -> None:
    project = {"status": "active", "next_milestone": "Go-live", "next_milestone_date": "2027-01-05"}
    line = status_line(project, project_rag(project, [], TODAY))
    assert line == "no milestone overdue · next: Go-live on 2027-01-05"


def test_views_skip_milestones_without_a_project() -> None:
    views = milestone_views([("milestone", {"name": "orphan", "due": "2026-01-01"})])
    assert views == []
    assert MilestoneView("p", None, None, False) not in views


def test_a_milestone_task_given_both_ways_counts_once() -> None:
    same = {"project": "p", "name": "Go-live", "due": "2026-11-01"}
    views = milestone_views([("milestone", same), ("work_item", {**same, "kind": "milestone"})])
    assert consolidate(["p"], views, TODAY)["p"]["overdue_milestones"] == 1
