"""The Jira connector on the real ``jira`` client against the emulator over https, in Cloud
(REST v3) and Data Center (v2) mode: every test runs once per deployment."""

from __future__ import annotations

import math
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest
from jira import JIRA

from pmosync.canonical_model import (
    EntityType,
    FieldChange,
    PlannedWrite,
    PulledRecord,
    Quarantined,
)
from pmosync.connectors.jira.connector import JiraConnector
from pmosync.connectors.jira.discover import discover, render_text
from pmosync.errors import AuthError, ConfigError, RetriableError

if TYPE_CHECKING:
    from tests.connectors.jira.conftest import Site

WORK = EntityType.WORK_ITEM


def pull(
    conn: JiraConnector, suffix: str = "work_item", since: datetime | None = None
) -> list[Any]:
    (scope,) = [s for s in conn.scopes() if s.name.endswith(f":{suffix}")]
    return list(conn.pull(scope, since, None))


def records(items: list[Any], entity_type: EntityType) -> dict[str, PulledRecord]:
    out: dict[str, PulledRecord] = {}
    for item in items:
        if isinstance(item, PulledRecord) and item.ref.entity_type is entity_type:
            assert item.ref.external_id not in out, f"{item.ref.external_id} yielded twice"
            out[item.ref.external_id] = item
    return out


def issues_of(site: Site, type_name: str, *, done: bool | None = None) -> list[Any]:
    state = site.emulator.state
    with site.emulator.lock:
        out = []
        for issue in state.issues.values():
            if state.issue_types[issue.fields["issuetype"]].name != type_name:
                continue
            category = state.statuses[issue.fields["status"]].category
            if done is not None and (category == "done") != done:
                continue
            out.append(issue)
        return sorted(out, key=lambda i: i.id)


def update(site: Site, issue_id: str, *changes: tuple[str, Any]) -> PlannedWrite:
    return PlannedWrite(
        connection=site.name,
        entity_type=WORK,
        canonical_id=str(uuid.uuid4()),
        op="update",
        changes=[FieldChange(name, None, value, "test") for name, value in changes],
        external_id=issue_id,
    )


def count(site: Site, endpoint: str) -> int:
    return site.counters().get(endpoint, 0)


SEARCH = {"cloud": "GET /rest/api/<ver>/search/jql", "server": "GET /rest/api/<ver>/search"}
PWA_TASK = "https://pwa.example/sites/pwa/tasks/1"
PUT_ISSUE = "PUT /rest/api/<ver>/issue/<ref>"
POST_TRANSITION = "POST /rest/api/<ver>/issue/<ref>/transitions"


def test_full_pull_pages_through_every_issue(fresh: Site) -> None:
    conn = fresh.connector(page_size=25)
    items = pull(conn)
    work = records(items, WORK)
    expected = {
        str(i.id) for t in ("Epic", "Story", "Task", "Bug", "Sub-task") for i in issues_of(fresh, t)
    }
    assert set(work) == expected
    assert not [q for q in items if isinstance(q, Quarantined)]
    pages = count(fresh, SEARCH[fresh.deployment])
    assert pages >= math.ceil(len(expected) / 25) > 1
    # Hierarchy: parent (Cloud) or Epic Link (DC) pointers carry the parent's issue id.
    state = fresh.emulator.state
    epic_link = state.custom_field_id("Epic Link")
    with_parent = 0
    for issue_id, record in work.items():
        fields = state.issues[int(issue_id)].fields
        parent = fields.get("parent") or (fields.get(epic_link) if epic_link else None)
        pointer = record.pointers.get("parent")
        assert (pointer.external_id if pointer else None) == (str(parent) if parent else None)
        with_parent += parent is not None
        assert record.values["status"] in ("not_started", "active", "done", "cancelled")
    assert with_parent > 10
    people = records(items, EntityType.PERSON)
    assigned = {
        r.pointers["assignee"].external_id for r in work.values() if "assignee" in r.pointers
    }
    assert assigned <= set(people)
    # Projects, fix versions as milestones, sprints as iterations.
    catalog = list(conn.pull(conn.scopes()[0], None, None))
    projects = records(catalog, EntityType.PROJECT)
    assert {r.values["code"] for r in projects.values()} == {"APP", "DATA", "OPS"}
    assert len(records(catalog, EntityType.MILESTONE)) == 12
    assert records(items, EntityType.ITERATION)


def test_incremental_pull_sees_own_write_hidden_by_search_lag(fresh: Site) -> None:
    fresh.admin("POST", "config", {"search_lag_seconds": 120})
    story = issues_of(fresh, "Story", done=False)[0]
    cursor = datetime.now(UTC)
    conn = fresh.connector()
    (result,) = conn.push([update(fresh, str(story.id), ("story_points", "13"))])
    assert result.ok, result.error
    seen = records(pull(conn, since=cursor), WORK)
    assert seen[str(story.id)].values["story_points"] == "13"
    assert seen[str(story.id)].ref.version_token == result.version_token
    blind = fresh.connector()
    hidden = str(story.id) not in records(pull(blind, since=cursor), WORK)
    # Cloud search is eventually consistent; DC search is not.
    assert hidden is fresh.cloud
    told = JiraConnector(
        fresh.name, fresh.config(), [fresh.mapping()], recent_writes=[str(story.id)]
    )
    assert str(story.id) in records(pull(told, since=cursor), WORK)


def test_incremental_pull_skips_what_it_already_yielded(fresh: Site) -> None:
    fresh.search_lag_off("de-duplication of the overlap window, not the lag")
    conn = fresh.connector()
    cursor = datetime.now(UTC)
    story = issues_of(fresh, "Task", done=False)[0]
    fresh.emulator.human_edit(story.key, {"summary": "edited by a person"})
    first = records(pull(conn, since=cursor), WORK)
    assert first[str(story.id)].values["name"] == "edited by a person"
    # The same window again (overlap): nothing changed, nothing yielded.
    assert records(pull(conn, since=cursor), WORK) == {}


@pytest.mark.parametrize("zone", ["America/Los_Angeles", "Asia/Tokyo"])
def test_cursor_is_written_in_the_api_users_time_zone(fresh: Site, zone: str) -> None:
    fresh.search_lag_off("the cursor's time zone, not the lag")
    emulator = fresh.emulator
    with emulator.lock:
        emulator.state.users[emulator.state.api_user].time_zone = zone
    cursor = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(hours=3)
    inside, outside = issues_of(fresh, "Story")[:2]
    emulator.human_edit(inside.key, {"summary": "just after"}, at=cursor + timedelta(minutes=2))
    emulator.human_edit(outside.key, {"summary": "long before"}, at=cursor - timedelta(hours=2))
    ours = set(records(pull(fresh.connector(overlap_seconds=0), since=cursor), WORK))
    assert str(inside.id) in ours
    assert str(outside.id) not in ours
    # What a naive cursor (UTC wall time, read by Jira in the user's zone) would see.
    naive = f'project in (APP, DATA, OPS) AND updated >= "{cursor:%Y/%m/%d %H:%M}"'
    token = (fresh.sandbox.directory / "secrets" / f"{fresh.name}.token").read_text().strip()
    auth: dict[str, Any] = (
        {"basic_auth": (fresh.config().email, token)} if fresh.cloud else {"token_auth": token}
    )
    bare = JIRA(
        fresh.url,
        options={"verify": fresh.ca, "rest_api_version": fresh.api},
        max_retries=0,
        **auth,
    )
    if fresh.cloud:
        found = bare.enhanced_search_issues(naive, maxResults=0, fields=["updated"])
    else:
        found = bare.search_issues(naive, maxResults=0, fields=["updated"])
    naive_ids = {i.id for i in found}
    bare.close()
    if zone == "America/Los_Angeles":  # behind UTC: the naive bound is 8 h late, the edit is lost
        assert str(inside.id) not in naive_ids
    else:  # ahead of UTC: the naive bound is 9 h early, old edits are read again
        assert str(outside.id) in naive_ids


@pytest.mark.parametrize("drift", ["renamed", "removed", "retyped"])
def test_custom_field_drift_fails_closed(fresh: Site, drift: str) -> None:
    fresh.connector().prepare()  # the previous run was fine
    emulator = fresh.emulator
    with emulator.lock:
        spec = emulator.state.field_by_name("Story Points")
        assert spec is not None
        if drift == "renamed":
            spec.name = "Story point estimate"
        elif drift == "removed":
            del emulator.state.fields[spec.id]
        else:
            spec.schema = {**spec.schema, "type": "string"}
    before = fresh.counters()
    conn = fresh.connector()
    with pytest.raises(ConfigError) as failure:
        pull(conn)
    message = str(failure.value)
    assert "story_points" in message and "Story Points" in message
    assert fresh.url in message and fresh.mapping().source in message
    story = issues_of(fresh, "Story")[0]
    with pytest.raises(ConfigError):
        conn.push([update(fresh, str(story.id), ("name", "must not be written"))])
    after = fresh.counters()
    # Nothing was searched or written: only the calls that found the drift.
    assert {k for k, v in after.items() if v != before.get(k, 0)} == {
        "GET /rest/api/<ver>/serverInfo",
        "GET /rest/api/<ver>/myself",
        "GET /rest/api/<ver>/field",
    }


def test_transition_with_a_required_screen_field(fresh: Site) -> None:
    story = issues_of(fresh, "Story", done=False)[0]
    write = update(fresh, str(story.id), ("status", "done"))
    unconfigured = fresh.mapping(work_item={"options": {}})
    before = fresh.counters()
    (failed,) = fresh.connector(mapping=unconfigured).push([write])
    assert not failed.ok
    assert "Resolution" in (failed.error or "") and "transition_fields" in (failed.error or "")
    assert fresh.counters().get(POST_TRANSITION, 0) == before.get(POST_TRANSITION, 0)
    (done,) = fresh.connector().push([write])  # the scenario maps done -> resolution Done
    assert done.ok, done.error
    raw = fresh.emulator.issue(story.key)
    assert raw["fields"]["status"]["statusCategory"]["key"] == "done"
    assert raw["fields"]["resolution"]["name"] == "Done"
    assert done.version_token == raw["fields"]["updated"]
    (cancel,) = fresh.connector().push([update(fresh, str(story.id), ("status", "cancelled"))])
    # Done -> cancelled means another resolution in the same category: the workflow has no
    # such transition, so the item is reported, not forced.
    assert not cancel.ok and "no transition" in (cancel.error or "")
    assert fresh.emulator.issue(story.key)["fields"]["resolution"]["name"] == "Done"


def test_links_both_ways_are_one_dependency_each_and_pushes_are_idempotent(fresh: Site) -> None:
    state = fresh.emulator.state
    with fresh.emulator.lock:
        blocks = next(t.id for t in state.link_types.values() if t.name == "Blocks")
        link = next(
            lk
            for lk in state.links.values()
            if lk.type_id == blocks
            and state.issue_types[state.issues[lk.source].fields["issuetype"]].name != "Risk"
            and state.issue_types[state.issues[lk.target].fields["issuetype"]].name != "Risk"
        )
    conn = fresh.connector()
    items = pull(conn)
    work = records(items, WORK)
    assert {str(link.source), str(link.target)} <= set(work)  # seen from both issues
    deps = records(items, EntityType.DEPENDENCY)
    dep = deps[link.id]
    assert dep.pointers["predecessor"].external_id == str(link.source)  # source blocks target
    assert dep.pointers["successor"].external_id == str(link.target)
    assert dep.values["link_type"] == "FS"
    # Push a new dependency between two Jira issues, then again: one link, one POST.
    first, second = issues_of(fresh, "Task")[:2]
    write = PlannedWrite(
        fresh.name, EntityType.DEPENDENCY, str(uuid.uuid4()), "create",
        [FieldChange("predecessor", None, str(first.id), "t"),
         FieldChange("successor", None, second.key, "t")],
    )  # fmt: skip
    (made,) = conn.push([write])
    assert made.ok, made.error
    posts = count(fresh, "POST /rest/api/<ver>/issueLink")
    (again,) = conn.push([write])
    assert again.ok and again.external_id == made.external_id
    assert count(fresh, "POST /rest/api/<ver>/issueLink") == posts == 1
    new = records(pull(fresh.connector()), EntityType.DEPENDENCY)[str(made.external_id)]
    assert new.pointers["predecessor"].external_id == str(first.id)
    assert new.pointers["successor"].external_id == str(second.id)
    # A dependency on an item in another tool becomes a remote link, also only once.
    remote = PlannedWrite(
        fresh.name, EntityType.DEPENDENCY, str(uuid.uuid4()), "create",
        [FieldChange("predecessor", None, {"url": PWA_TASK, "title": "Cutover"}, "t"),
         FieldChange("successor", None, str(first.id), "t")],
    )  # fmt: skip
    assert conn.push([remote])[0].ok and conn.push([remote])[0].ok
    assert count(fresh, "POST /rest/api/<ver>/issue/<ref>/remotelink") == 1
    (rlink,) = fresh.emulator.state.issues[first.id].remote_links
    assert rlink.relationship == "is blocked by"
    assert str(rlink.global_id).startswith("pmo-sync:")


def test_push_applied_twice_is_not_repeated(fresh: Site) -> None:
    story = issues_of(fresh, "Story", done=False)[0]
    current_due = fresh.emulator.issue(story.key)["fields"]["duedate"]
    write = update(
        fresh, str(story.id),
        ("name", "Checkout: retry payments"), ("story_points", "21"),
        ("start", "2027-01-04"), ("due", current_due), ("status", "active"),
    )  # fmt: skip
    conn = fresh.connector()
    (first,) = conn.push([write])
    assert first.ok, first.error
    history = fresh.emulator.issue(story.key)["changelog"]["histories"]
    latest = history[:2] if fresh.cloud else history[-2:]  # Cloud: newest first; DC: oldest
    changed = {item["field"] for h in latest for item in h["items"]}
    assert "duedate" not in changed and {"summary", "Story Points"} <= changed
    writes = fresh.writes()
    (second,) = conn.push([write])
    assert second.ok and second.version_token == first.version_token
    assert fresh.writes() == writes
    # Re-planned after a re-pull by a new process: the values match, nothing is sent.
    rerun = fresh.connector(recent_writes=[str(story.id)])  # the engine's handover
    pulled = records(pull(rerun), WORK)[str(story.id)]
    assert pulled.values["story_points"] == "21" and pulled.values["start"] == "2027-01-04"
    assert pulled.values["status"] == "active"
    (third,) = rerun.push([write])
    assert third.ok and fresh.writes() == writes
    assert count(fresh, PUT_ISSUE) == 1


def test_rich_text_goes_as_adf_on_v3(fresh: Site) -> None:
    risk = issues_of(fresh, "Risk")[0]
    text = "Weekly supplier checkpoint\n\nPenalty clause in contract"
    conn = fresh.connector()
    (result,) = conn.push(
        [PlannedWrite(fresh.name, EntityType.RAID_ITEM, "r", "update",
                      [FieldChange("mitigation", None, text, "t")], external_id=str(risk.id))]
    )  # fmt: skip
    assert result.ok, result.error
    stored = fresh.emulator.issue(risk.key, api=fresh.api)["fields"]
    mitigation = stored[fresh.emulator.state.custom_field_id("Mitigation")]
    assert (mitigation["type"] == "doc") if fresh.cloud else isinstance(mitigation, str)
    rerun = fresh.connector(recent_writes=[str(risk.id)])  # the engine's handover
    raid = records(pull(rerun, "raid_item"), EntityType.RAID_ITEM)
    assert raid[str(risk.id)].values["mitigation"] == text
    if fresh.cloud:  # Cloud through REST v2: plain strings both ways, same canonical text
        v2 = fresh.connector(api_version="2")
        again = PlannedWrite(
            fresh.name, EntityType.RAID_ITEM, "r", "update",
            [FieldChange("mitigation", None, text + "\n\nReviewed", "t")],
            external_id=str(risk.id),
        )  # fmt: skip
        assert v2.push([again])[0].ok
        assert v2.client.jira._options["rest_api_version"] == "2"
        raid = records(pull(v2, "raid_item"), EntityType.RAID_ITEM)
        assert raid[str(risk.id)].values["mitigation"] == text + "\n\nReviewed"


def test_discover_lists_what_a_mapping_can_name(fresh: Site) -> None:
    # deployment auto: read from serverInfo (DC here authenticates with a PAT, no email).
    found = discover(fresh.name, fresh.config(deployment="auto"))
    assert found["deployment"] == ("cloud" if fresh.cloud else "datacenter")
    assert found["api_version"] == fresh.api
    points = next(f for f in found["fields"] if f["name"] == "Story Points")
    assert points["id"] == fresh.emulator.state.custom_field_id("Story Points")
    assert points["type"] == "number" and points["custom"]
    assert {"new", "indeterminate", "done"} <= {s["category"] for s in found["statuses"]}
    blocks = next(t for t in found["link_types"] if t["name"] == "Blocks")
    assert (blocks["outward"], blocks["inward"]) == ("blocks", "is blocked by")
    assert "Risk" in {t["name"] for t in found["issue_types"]}
    assert {"APP", "DATA", "OPS"} <= {p["key"] for p in found["projects"]}
    assert "Story Points" in render_text(found)


def test_auth_and_reachability_errors_name_the_secret_never_its_value(
    fresh: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = "PMOSYNC_TEST_JIRA_TOKEN"
    monkeypatch.delenv(env, raising=False)
    config = fresh.config(token_file=None, token_env=env)
    with pytest.raises(AuthError, match=env):
        JiraConnector(fresh.name, config, [fresh.mapping()])
    monkeypatch.setenv(env, "not-the-right-secret")
    with pytest.raises(AuthError) as refused:
        JiraConnector(fresh.name, config, [fresh.mapping()]).prepare()
    assert "401" in str(refused.value) and "not-the-right-secret" not in str(refused.value)
    dead = fresh.config(url="https://127.0.0.1:9", connect_timeout_seconds=1)
    with pytest.raises(RetriableError) as unreachable:
        JiraConnector(fresh.name, dead, [fresh.mapping()]).prepare()
    token = (fresh.sandbox.directory / "secrets" / f"{fresh.name}.token").read_text().strip()
    assert token not in str(unreachable.value)


def test_rate_limit_retry_after_is_honoured_by_the_policy(fresh: Site) -> None:
    fresh.admin(
        "POST", "faults",
        {"burst": {"status": 429, "count": 2, "retry_after": 1, "path_prefix": "/rest/api/"}},
    )  # fmt: skip
    conn = fresh.connector(max_attempts=4)
    started = time.monotonic()
    conn.prepare()
    assert time.monotonic() - started >= 1.5
    assert conn.client.adapter.stats.retries == 2
    assert conn.client.adapter.stats.by_status[429] == 2


def test_moving_a_story_to_another_epic(fresh: Site) -> None:
    """Cloud writes ``parent``; DC writes the Epic Link field (with the epic's key)."""
    state = fresh.emulator.state
    epic_link = state.custom_field_id("Epic Link")
    epics = {e.id: e for e in issues_of(fresh, "Epic")}

    def epic_of(issue: Any) -> Any:
        return issue.fields.get("parent") or (issue.fields.get(epic_link) if epic_link else None)

    story = next(s for s in issues_of(fresh, "Story") if epic_of(s) in epics)
    other = next(
        e for e in epics.values() if e.project_id == story.project_id and e.id != epic_of(story)
    )
    fields = fresh.mapping().model_dump(mode="json")["entities"]["work_item"]["fields"]
    mapping = fresh.mapping(work_item={"fields": {**fields, "parent": {"field": "parent"}}})
    write = update(fresh, str(story.id), ("parent", str(other.id)))
    conn = fresh.connector(mapping=mapping)
    (moved,) = conn.push([write])
    assert moved.ok, moved.error
    assert epic_of(state.issues[story.id]) == other.id
    rerun = fresh.connector(mapping=mapping, recent_writes=[str(story.id)])  # the handover
    pulled = records(pull(rerun), WORK)[str(story.id)]
    assert pulled.pointers["parent"].external_id == str(other.id)
    writes = fresh.writes()
    assert conn.push([write])[0].ok and fresh.writes() == writes


def test_dc_listing_that_shifts_while_paging_is_read_again(fresh: Site) -> None:
    if fresh.cloud:
        pytest.skip("Cloud pages with tokens over a listing fixed at the first page")
    conn = fresh.connector(page_size=20)
    expected = {
        str(i.id) for t in ("Epic", "Story", "Task", "Bug", "Sub-task") for i in issues_of(fresh, t)
    }
    seen: set[str] = set()
    edited = None
    for item in pull_iter(conn):
        if isinstance(item, PulledRecord) and item.ref.entity_type is WORK:
            seen.add(item.ref.external_id)
            if len(seen) == 30 and edited is None:
                # A person edits an issue we already read: it moves to the end of the
                # updated-ordered listing and every later issue shifts one place back.
                edited = next(iter(seen))
                fresh.emulator.human_edit(
                    fresh.emulator.state.issues[int(edited)].key, {"summary": "moved"}
                )
    assert seen == expected
    pages = math.ceil(len(expected) / 20)
    assert count(fresh, SEARCH["server"]) > pages  # the shift was noticed and the listing re-read


def pull_iter(conn: JiraConnector, suffix: str = "work_item") -> Any:
    (scope,) = [s for s in conn.scopes() if s.name.endswith(f":{suffix}")]
    return conn.pull(scope, None, None)


def test_a_bad_value_quarantines_that_issue_and_the_pull_goes_on(fresh: Site) -> None:
    state = fresh.emulator.state
    points = state.custom_field_id("Story Points")
    assert points is not None
    story = issues_of(fresh, "Story")[0]
    with fresh.emulator.lock:
        state.issues[story.id].fields[points] = "lots"  # what a broken migration leaves behind
        state.issues[story.id].doc_cache = None
    items = pull(fresh.connector())
    (bad,) = [q for q in items if isinstance(q, Quarantined)]
    assert bad.external_id == str(story.id)
    assert story.key in bad.reason and str(points) in bad.reason and "lots" in bad.reason
    expected = {
        str(i.id) for t in ("Epic", "Story", "Task", "Bug", "Sub-task") for i in issues_of(fresh, t)
    }
    assert set(records(items, WORK)) == expected - {str(story.id)}


def test_edit_without_the_right_to_mute_notifications_is_sent_again(fresh: Site) -> None:
    if not fresh.cloud:
        pytest.skip("notifyUsers=false is only sent on Cloud")
    story = issues_of(fresh, "Story")[0]
    conn = fresh.connector()
    prep = conn.prepare()
    refused = {
        "errorMessages": [
            "To discard the user notification either admin or project admin permissions are "
            "required."
        ],
        "errors": {},
    }
    path = f"/rest/api/3/issue/{story.id}"
    fresh.admin(
        "POST",
        "faults",
        {"burst": {"status": 400, "count": 1, "path_prefix": path, "body": refused}},
    )
    conn.writer._edit(prep, str(story.id), {"summary": "edited with notifications"})
    assert fresh.emulator.issue(story.key)["fields"]["summary"] == "edited with notifications"
    assert count(fresh, PUT_ISSUE) == 2
    # Remembered: the next edit goes straight without notifyUsers=false.
    assert conn.writer.notify_off_allowed is False
    conn.writer._edit(prep, str(story.id), {"summary": "second edit"})
    assert count(fresh, PUT_ISSUE) == 3


def test_a_scope_jql_jira_refuses_is_a_configuration_error(fresh: Site) -> None:
    mapping = fresh.mapping(work_item={"jql": "nosuchfield = 1"})
    with pytest.raises(ConfigError) as refused:
        pull(fresh.connector(mapping=mapping))
    assert "nosuchfield" in str(refused.value)


def test_more_recent_writes_than_one_search_reconciles_are_all_read_fresh(fresh: Site) -> None:
    """reconcileIssues takes 50 ids; the rest get small searches of their own, so none of our
    own writes comes back stale (a stale value would read as a person's edit)."""
    cursor = datetime.now(UTC)
    edited = [i for i in issues_of(fresh, "Story") + issues_of(fresh, "Task")][:70]
    assert len(edited) > 50
    for issue in edited:
        fresh.emulator.human_edit(issue.key, {"summary": f"fresh {issue.key}"})
    ids = [str(i.id) for i in edited]
    seen = records(pull(fresh.connector(recent_writes=ids), since=cursor), WORK)
    assert all(seen[i].values["name"].startswith("fresh ") for i in ids)
    blind = records(pull(fresh.connector(), since=cursor), WORK)
    assert (set(ids) & set(blind) == set()) is fresh.cloud  # the lag the handover beats


def test_a_category_several_projects_share_is_one_programme(fresh: Site) -> None:
    """Jira names categories uniquely (POST /rest/api/3/projectCategory answers 409 for a
    name in use), so a programme's projects share one: it is listed once per pull, else the
    engine would set it aside as two records with one identity."""
    state = fresh.emulator.state
    keys = [p.key for p in state.projects.values()][:3]
    shared = {"id": "10100", "name": "Customer Platform", "description": "PRG-CP"}
    with fresh.emulator.lock:
        for key in keys[:2]:
            state.find_project(key).category = shared
        state.find_project(keys[2]).category = {
            "id": "10101",
            "name": "Data",
            "description": "PRG-D",
        }
    conn = fresh.connector(mapping=fresh.mapping(programme={}))
    items = pull(conn, "projects")
    programmes = records(items, EntityType.PROGRAMME)  # asserts each is yielded once
    assert {p.values["name"] for p in programmes.values()} == {"Customer Platform", "Data"}
    projects = records(items, EntityType.PROJECT)
    pointed = {
        projects[str(state.find_project(k).id)].pointers["programme"].external_id for k in keys
    }
    assert len(pointed) == 2 and pointed <= set(programmes)
