"""The Jira seed: deterministic, realistic, fast at 1,000+ issues."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from pmosync.sandbox.jira import SeedSpec, build_state, custom_field_id
from pmosync.sandbox.jira.state import JiraState

ANCHOR = datetime(2026, 6, 1, tzinfo=UTC)


def _fingerprint(state: JiraState) -> list[tuple[object, ...]]:
    return [
        (i.key, i.fields["summary"], i.fields["status"], i.updated, len(i.histories))
        for i in state.issues.values()
    ]


def test_same_spec_same_data_and_different_rng_seed_differs() -> None:
    spec = SeedSpec(anchor=ANCHOR)
    assert _fingerprint(build_state(spec)) == _fingerprint(build_state(spec))
    other = build_state(SeedSpec(anchor=ANCHOR, rng_seed=99))
    assert _fingerprint(other) != _fingerprint(build_state(spec))


def test_seed_has_what_a_pmo_sync_needs() -> None:
    spec = SeedSpec(anchor=ANCHOR, projects=3, issues_per_project=60)
    state = build_state(spec)
    assert [p.key for p in state.projects.values()] == ["APP", "DATA", "OPS"]
    types = {state.issue_types[i.fields["issuetype"]].name for i in state.issues.values()}
    assert {"Epic", "Story", "Task", "Bug", "Sub-task", "Risk"} <= types
    categories = {state.status_of(i).category for i in state.issues.values()}
    assert categories == {"new", "indeterminate", "done"}
    sp = custom_field_id(spec, "Story Points")
    start = custom_field_id(spec, "Start date")
    sprint = custom_field_id(spec, "Sprint")
    assert any(i.fields.get(sp) for i in state.issues.values())
    assert any(i.fields.get(start) and i.fields.get("duedate") for i in state.issues.values())
    assert any(i.fields.get(sprint) for i in state.issues.values())
    assert all(v.release_date for v in state.versions.values())
    subtasks = [
        i for i in state.issues.values() if state.issue_types[i.fields["issuetype"]].subtask
    ]
    assert subtasks and all(state.issues[i.fields["parent"]] for i in subtasks)
    assert any(i.fields.get("parent") for i in state.issues.values() if i not in subtasks)
    cross = [
        link
        for link in state.links.values()
        if state.issues[link.source].project_id != state.issues[link.target].project_id
    ]
    names = {state.link_types[link.type_id].name for link in state.links.values()}
    assert cross and {"Blocks", "Relates"} <= names
    assert all(i.updated >= i.created for i in state.issues.values())
    assert all(i.updated <= ANCHOR for i in state.issues.values())
    assert all(h.created <= i.updated for i in state.issues.values() for h in i.histories)
    assert {s.state for s in state.sprints.values()} == {"closed", "active", "future"}
    api = state.users[state.api_user]
    assert api.time_zone == "Australia/Sydney" and api.email == spec.api_email


def test_dc_seed_uses_epic_link_and_other_custom_ids() -> None:
    spec = SeedSpec(deployment="server", anchor=ANCHOR)
    state = build_state(spec)
    epic_link = custom_field_id(spec, "Epic Link")
    assert epic_link == "customfield_10104" and epic_link in state.fields
    linked = [i for i in state.issues.values() if i.fields.get(epic_link)]
    assert linked
    assert all(
        state.issue_types[i.fields["issuetype"]].subtask
        for i in state.issues.values()
        if i.fields.get("parent")
    )
    assert "Done" not in {s.name for s in state.statuses.values()}  # DC names differ


def test_thousand_issues_seed_quickly() -> None:
    started = time.perf_counter()
    state = build_state(SeedSpec(projects=5, issues_per_project=200, anchor=ANCHOR))
    assert len(state.issues) == 1000
    assert time.perf_counter() - started < 2.0
