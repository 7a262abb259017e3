"""Jira emulator behaviour the connector depends on, through the real ``jira`` client."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from jira import JIRA, JIRAError

from pmosync.sandbox.jira import SeedSpec, adf
from pmosync.sandbox.jira.testing import ServedJira, served_jira

UTC = UTC
ADF_HELLO = {
    "type": "doc",
    "version": 1,
    "content": [{"type": "paragraph", "content": [{"type": "text", "text": "Hello ADF"}]}],
}


# These tests are about JQL, rendering and writes, not about Cloud's search lag (on by default,
# tested in test_search_lag_hides_recent_writes_unless_reconciled): search sees writes at once.
NO_SEARCH_LAG = {"search_lag_seconds": 0}


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedJira]:
    seed = SeedSpec(issues_per_project=30)
    with served_jira(
        "cloud", tmp_path_factory.mktemp("jira-cloud-b"), seed, knobs=NO_SEARCH_LAG
    ) as served:
        yield served


@pytest.fixture(scope="module")
def dc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedJira]:
    seed = SeedSpec(issues_per_project=30, time_zone="America/Los_Angeles")
    with served_jira("server", tmp_path_factory.mktemp("jira-dc-b"), seed) as served:
        yield served


@pytest.fixture(scope="module")
def jc(cloud: ServedJira) -> JIRA:
    return cloud.client()


@pytest.fixture(scope="module")
def jc3(cloud: ServedJira) -> JIRA:
    return cloud.client(api="3")


@pytest.fixture(scope="module")
def jd(dc: ServedJira) -> JIRA:
    return dc.client()


def _keys(client: JIRA, jql: str, **kwargs: object) -> list[str]:
    if client._is_cloud:
        return [i.key for i in client.enhanced_search_issues(jql, maxResults=0, **kwargs)]
    return [i.key for i in client.search_issues(jql, maxResults=False)]


def test_jql_dates_follow_the_api_users_zone(
    cloud: ServedJira, jc: JIRA, dc: ServedJira, jd: JIRA
) -> None:
    at = datetime(2026, 3, 10, 23, 30, tzinfo=UTC)  # Sydney: 11 Mar 10:30; LA: 10 Mar 16:30
    cloud.emulator.human_edit("APP-3", {"summary": "edited late in UTC"}, at=at)
    dc.emulator.human_edit("APP-3", {"summary": "edited late in UTC"}, at=at)
    jql = 'key = APP-3 AND updated >= "2026/03/11 00:00" AND updated < "2026/03/12 00:00"'
    assert _keys(jc, jql) == ["APP-3"]  # Sydney reads the date as 11 March local
    assert _keys(jd, jql) == []  # Los Angeles: still 10 March
    assert _keys(jd, 'key = APP-3 AND updated >= "2026-03-10 16:30"') == ["APP-3"]
    assert _keys(jd, 'key = APP-3 AND updated > "2026-03-10 16:30"') == []  # 16:30:00.000
    assert _keys(jd, 'key = APP-3 AND updated >= "2026-03-10 16:31"') == []
    # rendered timestamps carry the user's offset and millisecond precision
    assert jc.issue("APP-3").fields.updated == "2026-03-11T10:30:00.000+1100"
    assert jd.issue("APP-3").fields.updated == "2026-03-10T16:30:00.000-0700"


def test_search_lag_hides_recent_writes_unless_reconciled(cloud: ServedJira, jc: JIRA) -> None:
    cloud.emulator.configure({"search_lag_seconds": 30})
    try:
        created = jc.create_issue(project="DATA", summary="lagging", issuetype={"name": "Task"})
        edited = jc.issue("DATA-2")
        edited.update(fields={"summary": "renamed zebra"})
        jql = "project = DATA ORDER BY key"
        keys = _keys(jc, jql, fields=["summary"])
        assert created.key not in keys and "DATA-2" in keys
        old = jc.enhanced_search_issues("key = DATA-2", fields=["summary"])[0]
        assert old.fields.summary != "renamed zebra"  # search still shows the old version
        assert _keys(jc, 'project = DATA AND summary ~ "zebra"') == []
        reconciled = jc.enhanced_search_issues(
            jql, maxResults=0, fields=["summary"], reconcileIssues=[int(created.id), int(edited.id)]
        )
        by_key = {i.key: i for i in reconciled}
        assert created.key in by_key and by_key["DATA-2"].fields.summary == "renamed zebra"
        # reads by key are strongly consistent
        assert jc.issue(created.key).fields.summary == "lagging"
        assert jc.approximate_issue_count(f"key = {created.key}") == 0
    finally:
        cloud.emulator.configure({"search_lag_seconds": 0})
    assert _keys(jc, f"key = {created.key}") == [created.key]


def test_v3_requires_adf_and_v2_reads_plain_text(jc: JIRA, jc3: JIRA) -> None:
    with pytest.raises(JIRAError) as caught:
        jc3.create_issue(
            project="OPS", summary="plain", issuetype={"name": "Task"}, description="plain"
        )
    assert caught.value.status_code == 400
    assert "Atlassian Document" in caught.value.response.json()["errors"]["description"]
    issue = jc3.create_issue(
        project="OPS", summary="adf", issuetype={"name": "Task"}, description=ADF_HELLO
    )
    assert jc3.issue(issue.key).raw["fields"]["description"]["type"] == "doc"
    assert jc.issue(issue.key).fields.description == "Hello ADF"
    comment = jc3.add_comment(issue.key, ADF_HELLO)
    assert comment.raw["body"]["type"] == "doc"
    with pytest.raises(JIRAError):
        jc3.add_comment(issue.key, "plain")
    assert jc.comments(issue.key)[0].body == "Hello ADF"


def test_bulk_create_reports_partial_failure(cloud: ServedJira, jc: JIRA) -> None:
    good = {"project": {"key": "APP"}, "summary": "bulk ok", "issuetype": {"name": "Task"}}
    bad = {"project": {"key": "APP"}, "issuetype": {"name": "Task"}}
    results = jc.create_issues([good, bad, dict(good, summary="bulk ok 2")])
    assert [r["status"] for r in results] == ["Success", "Error", "Success"]
    assert "summary" in str(results[1]["error"])
    raw = cloud.session().post(
        f"{cloud.url}/rest/api/2/issue/bulk", json={"issueUpdates": [{"fields": bad}]}
    )
    assert raw.status_code == 400
    body = raw.json()
    assert body["issues"] == [] and body["errors"][0]["failedElementNumber"] == 0
    assert "summary" in body["errors"][0]["elementErrors"]["errors"]
    too_many = cloud.session().post(
        f"{cloud.url}/rest/api/2/issue/bulk", json={"issueUpdates": [{"fields": good}] * 51}
    )
    assert too_many.status_code == 400


def test_transition_with_a_required_screen_field(jc: JIRA, jd: JIRA) -> None:
    for client in (jc, jd):
        issue = client.create_issue(project="APP", summary="to close", issuetype={"name": "Task"})
        transitions = client.transitions(issue, expand="transitions.fields")
        done = next(t for t in transitions if t["to"]["statusCategory"]["key"] == "done")
        assert done["fields"]["resolution"]["required"] is True
        with pytest.raises(JIRAError) as caught:
            client.transition_issue(issue, done["id"])
        assert caught.value.status_code == 400
        assert "resolution" in caught.value.response.json()["errors"]
        client.transition_issue(issue, done["id"], fields={"resolution": {"name": "Done"}})
        closed = client.issue(issue.key, expand="changelog")
        assert closed.fields.status.statusCategory.key == "done"
        assert closed.fields.resolution.name == "Done" and closed.fields.resolutiondate
        last = closed.changelog.histories[-1]
        assert {i.field for i in last.items} == {"status", "resolution"}
        with pytest.raises(JIRAError):
            client.transition_issue(issue, "999")


def test_links_are_visible_on_both_issues(cloud: ServedJira, jc: JIRA) -> None:
    jc.create_issue_link("Blocks", "APP-5", "DATA-5")
    outward = [
        link for link in jc.issue("APP-5").fields.issuelinks if hasattr(link, "outwardIssue")
    ]
    link = next(item for item in outward if item.outwardIssue.key == "DATA-5")
    assert link.type.outward == "blocks"
    inward = next(
        item
        for item in jc.issue("DATA-5").fields.issuelinks
        if hasattr(item, "inwardIssue") and item.inwardIssue.key == "APP-5"
    )
    assert inward.id == link.id and inward.type.inward == "is blocked by"
    raw = cloud.session().get(f"{cloud.url}/rest/api/2/issueLink/{link.id}").json()
    assert raw["inwardIssue"]["key"] == "APP-5" and raw["outwardIssue"]["key"] == "DATA-5"
    jc.delete_issue_link(link.id)
    assert all(item.id != link.id for item in jc.issue("DATA-5").fields.issuelinks)
    names = {t.name for t in jc.issue_link_types()}
    assert {"Blocks", "Relates", "Duplicate", "Cloners", "Finish-to-Start"} <= names


def test_entity_properties_and_remote_links(cloud: ServedJira, jc: JIRA) -> None:
    jc.add_issue_property("OPS-4", "pmo-sync", {"id": "wi-42"})
    assert jc.issue_property("OPS-4", "pmo-sync").value.id == "wi-42"
    assert [p.key for p in jc.issue_properties("OPS-4")] == ["pmo-sync"]
    session = cloud.session()
    url = f"{cloud.url}/rest/api/2/issue/OPS-4/properties/pmo-sync"
    assert session.delete(url).status_code == 204
    assert session.get(url).status_code == 404
    first = jc.add_remote_link(
        "OPS-4", {"url": "https://pwa.example/t/1", "title": "Task 1"}, globalId="pwa:task:1"
    )
    again = jc.add_remote_link(
        "OPS-4",
        {"url": "https://pwa.example/t/1", "title": "Task 1 renamed"},
        globalId="pwa:task:1",
    )
    assert first.id == again.id
    links = jc.remote_links("OPS-4")
    assert len(links) == 1 and links[0].object.title == "Task 1 renamed"


def test_parent_on_cloud_and_epic_link_on_dc(jc: JIRA, jd: JIRA, dc: ServedJira) -> None:
    story = jc.create_issue(
        project="APP", summary="child", issuetype={"name": "Story"}, parent={"key": "APP-1"}
    )
    assert story.fields.parent.key == "APP-1"
    assert story.key in _keys(jc, "parent = APP-1")
    epic_link = dc.emulator.state.custom_field_id("Epic Link")
    assert epic_link is not None
    dc_story = jd.create_issue(
        project="APP", summary="child", issuetype={"name": "Story"}, **{epic_link: "APP-1"}
    )
    assert getattr(dc_story.fields, epic_link) == "APP-1"
    assert dc_story.key in _keys(jd, '"Epic Link" = APP-1')
    field_no = epic_link.split("_")[1]
    assert dc_story.key in _keys(jd, f"cf[{field_no}] = APP-1")
    with pytest.raises(JIRAError):
        jd.create_issue(
            project="APP", summary="bad", issuetype={"name": "Story"}, parent={"key": "APP-1"}
        )


def test_sprints_boards_and_sprint_field(cloud: ServedJira, jc: JIRA, jd: JIRA) -> None:
    board = next(b for b in jc.boards() if b.name.startswith("OPS"))
    active = next(s for s in jc.sprints(board.id) if s.state == "active")
    jc.add_issues_to_sprint(active.id, ["OPS-6"])
    sprint_field = cloud.emulator.state.custom_field_id("Sprint")
    values = jc.issue("OPS-6").raw["fields"][sprint_field]
    assert values[-1]["id"] == active.id and values[-1]["state"] == "active"
    assert "OPS-6" in _keys(jc, "sprint in openSprints() AND project = OPS")
    dc_field = jd.fields()
    dc_sprint = next(f["id"] for f in dc_field if f["name"] == "Sprint")
    raw = next(
        i.raw["fields"][dc_sprint] for i in jd.search_issues("sprint is not EMPTY", maxResults=1)
    )
    assert raw[0].startswith("com.atlassian.greenhopper.service.sprint.Sprint@")


def test_users_and_assignment(jc: JIRA, jd: JIRA) -> None:
    alice = jc.search_users(query="alice")[0]
    assert alice.accountId and "/user?accountId=" in alice.self
    jc.assign_issue("APP-7", alice.accountId)
    assert jc.issue("APP-7").fields.assignee.accountId == alice.accountId
    dc_alice = jd.search_users(user="alice")[0]
    assert dc_alice.name == "alice" and "/user?username=alice" in dc_alice.self
    jd.assign_issue("APP-7", "alice")
    assert jd.issue("APP-7").fields.assignee.name == "alice"


def test_changelog_endpoint_pages_on_cloud_only(cloud: ServedJira, dc: ServedJira) -> None:
    url = f"{cloud.url}/rest/api/2/issue/APP-3/changelog"
    page = cloud.session().get(url, params={"maxResults": 1}).json()
    assert page["maxResults"] == 1 and page["total"] >= 1 and len(page["values"]) == 1
    assert page["isLast"] is (page["total"] == 1)
    assert dc.session().get(f"{dc.url}/rest/api/2/issue/APP-3/changelog").status_code == 404


def test_bad_credentials_are_401_in_both_modes(cloud: ServedJira, dc: ServedJira) -> None:
    with pytest.raises(JIRAError) as caught:
        cloud.client(auth={"basic_auth": ("pmo-sync@example.com", "wrong")})
    assert caught.value.status_code == 401
    with pytest.raises(JIRAError) as caught:
        dc.client(auth={"token_auth": "wrong-pat"})
    assert caught.value.status_code == 401
    # a PAT is not a Cloud credential, and DC checks the basic password too
    with pytest.raises(JIRAError):
        cloud.client(auth={"token_auth": "dc-personal-access-token"})
    assert dc.client(auth={"basic_auth": ("pmosync", "dc-password")}).myself()["name"] == "pmosync"
    anonymous = cloud.session()
    anonymous.auth = None
    assert anonymous.get(f"{cloud.url}/rest/api/2/myself").status_code == 401


def test_read_only_user_gets_403_and_unknown_issue_404(cloud: ServedJira, jc: JIRA) -> None:
    viewer = cloud.client(auth={"basic_auth": ("viewer@example.com", "viewer-token")})
    with pytest.raises(JIRAError) as caught:
        viewer.issue("APP-2").update(fields={"summary": "nope"})
    assert caught.value.status_code == 403
    with pytest.raises(JIRAError) as caught:
        jc.issue("APP-99999")
    assert caught.value.status_code == 404
    assert "Issue does not exist" in caught.value.text


def test_rate_limit_answers_429_with_jira_headers(cloud: ServedJira) -> None:
    session = cloud.session()
    cloud.emulator.configure({"rate_limit_per_second": 0.5, "rate_limit_burst": 2})
    try:
        statuses = [session.get(f"{cloud.url}/rest/api/2/myself") for _ in range(3)]
    finally:
        cloud.emulator.configure({"rate_limit_per_second": None})
    limited = statuses[-1]
    assert [r.status_code for r in statuses] == [200, 200, 429]
    assert statuses[0].headers["X-RateLimit-Remaining"] == "1"
    assert statuses[1].headers["X-RateLimit-NearLimit"] == "true"
    assert int(limited.headers["Retry-After"]) >= 1
    assert limited.headers["X-RateLimit-Remaining"] == "0"
    assert limited.headers["X-RateLimit-Limit"] == "2"
    assert limited.headers["RateLimit-Reason"] == "jira-burst-based"
    datetime.strptime(limited.headers["X-RateLimit-Reset"], "%Y-%m-%dT%H:%MZ")
    # an injected burst carries the same headers
    cloud.emulator.faults.set({"burst": {"status": 429, "count": 1, "retry_after": 3}})
    injected = session.get(f"{cloud.url}/rest/api/2/myself")
    assert injected.status_code == 429 and injected.headers["Retry-After"] == "3"
    assert "X-RateLimit-Reset" in injected.headers and "errorMessages" in injected.json()
    assert session.get(f"{cloud.url}/rest/api/2/myself").status_code == 200


def test_expired_page_token_is_a_400(cloud: ServedJira, jc: JIRA) -> None:
    first = jc.enhanced_search_issues("project = APP", maxResults=5)
    token = first.nextPageToken
    assert token
    cloud.emulator.configure({"expire_page_tokens": True})
    with pytest.raises(JIRAError) as caught:
        jc.enhanced_search_issues("project = APP", maxResults=5, nextPageToken=token)
    assert caught.value.status_code == 400


def test_edit_bumps_updated_with_millisecond_precision(jc: JIRA) -> None:
    issue = jc.issue("OPS-8")
    before = issue.fields.updated
    time.sleep(0.01)
    issue.update(fields={"labels": ["ms"]})
    after = jc.issue("OPS-8").fields.updated
    assert after != before and len(after.split(".")[1]) == 8  # "mmm+hhmm"


def test_post_search_properties_on_create_and_screen_only_resolution(
    cloud: ServedJira, jc: JIRA
) -> None:
    session = cloud.session()
    response = session.post(
        f"{cloud.url}/rest/api/2/issue",
        json={
            "fields": {"project": {"key": "OPS"}, "summary": "twin", "issuetype": {"id": "10002"}},
            "properties": [{"key": "pmo-sync", "value": {"id": "wi-7"}}],
        },
    )
    assert response.status_code == 201
    key = response.json()["key"]
    assert jc.issue_property(key, "pmo-sync").value.id == "wi-7"
    # use_post=True sends nulls for unset parameters; properties come back on each issue
    found = jc.enhanced_search_issues(
        f"key = {key}", use_post=True, properties="pmo-sync", json_result=True
    )
    assert found["issues"][0]["properties"] == {"pmo-sync": {"id": "wi-7"}}
    with pytest.raises(JIRAError) as caught:
        jc.issue(key).update(fields={"resolution": {"name": "Done"}})
    assert "resolution" in caught.value.response.json()["errors"]
    # JQL on an entity property path no app declared for indexing is valid and finds nothing
    assert jc.enhanced_search_issues('project = OPS AND issue.property[pmo-sync].id = "wi-7"') == []


def test_notify_users_false_can_require_admin(cloud: ServedJira, jc: JIRA) -> None:
    cloud.emulator.configure({"notify_users_requires_admin": True})
    try:
        with pytest.raises(JIRAError) as caught:
            jc.issue("OPS-9").update(fields={"summary": "quiet"}, notify=False)
        assert caught.value.status_code == 403 and "notification" in caught.value.text
        jc.issue("OPS-9").update(fields={"summary": "loud"})
    finally:
        cloud.emulator.configure({"notify_users_requires_admin": False})


def test_human_edit_moves_status_and_writes_changelog(cloud: ServedJira, jc: JIRA) -> None:
    done = next(s for s in cloud.emulator.state.statuses.values() if s.category == "done")
    cloud.emulator.human_edit("OPS-10", {"status": done.name, "labels": ["ui"]})
    issue = jc.issue("OPS-10", expand="changelog")
    assert issue.fields.status.statusCategory.key == "done" and issue.fields.resolution
    last = issue.changelog.histories[0]  # Cloud: "starting from the most recent"
    assert last.author.accountId == cloud.emulator.state.human_user
    assert {i.field for i in last.items} >= {"status", "labels"}


def test_jql_list_functions_and_backlog(cloud: ServedJira, jc: JIRA) -> None:
    state = cloud.emulator.state
    released = {v.id for v in state.versions.values() if v.released}
    expected = sorted(
        i.key
        for i in state.issues.values()
        if i.key.startswith("APP-") and set(i.fields.get("fixVersions") or []) & released
    )
    found = _keys(jc, "project = APP AND fixVersion in releasedVersions(APP) ORDER BY key")
    assert sorted(found) == expected and expected
    subtasks = _keys(jc, "project = APP AND issuetype in subTaskIssueTypes()")
    assert subtasks and all(
        state.issue_types[state.find_issue(k).fields["issuetype"]].subtask for k in subtasks
    )
    in_sprint = _keys(jc, "project = OPS AND sprint in openSprints()")
    assert in_sprint
    cloud.session().post(
        f"{cloud.url}/rest/agile/1.0/backlog/issue", json={"issues": in_sprint[:1]}
    ).raise_for_status()
    assert in_sprint[0] not in _keys(jc, "project = OPS AND sprint in openSprints()")


def test_dc_context_path_and_captcha_after_failed_logins(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    seed = SeedSpec(projects=1, issues_per_project=5)
    directory = tmp_path_factory.mktemp("jira-dc-ctx")
    with served_jira("server", directory, seed, context_path="/jira") as served:
        assert served.url.endswith("/jira")
        client = served.client()
        assert client.server_info()["baseUrl"] == served.url
        assert client.issue("APP-1").self.startswith(served.url + "/rest/api/2/issue/")
        served.emulator.configure({"captcha_after_failures": 2})
        for _ in range(2):
            with pytest.raises(JIRAError) as caught:
                served.client(auth={"basic_auth": ("pmosync", "wrong")})
            assert caught.value.status_code == 401
        with pytest.raises(JIRAError) as caught:
            served.client(auth={"basic_auth": ("pmosync", "dc-password")})
        assert caught.value.status_code == 403
        reason = caught.value.response.headers["X-Authentication-Denied-Reason"]
        assert reason.startswith("CAPTCHA_CHALLENGE")
        assert served.client().myself()["name"] == "pmosync"  # the PAT is not affected


def test_an_edit_that_changes_nothing_leaves_updated_alone(jc: JIRA) -> None:
    issue = jc.issue("DATA-7")
    before = (issue.fields.updated, len(jc.issue("DATA-7", expand="changelog").changelog.histories))
    issue.update(fields={"summary": issue.fields.summary})
    after = jc.issue("DATA-7", expand="changelog")
    assert (after.fields.updated, len(after.changelog.histories)) == before


def test_transitions_depend_on_the_current_status(jc: JIRA) -> None:
    issue = jc.create_issue(project="DATA", summary="workflow", issuetype={"name": "Task"})
    names = {t["name"]: t["id"] for t in jc.transitions(issue)}
    assert "Review" not in names and "Start Progress" in names and "Done" in names
    with pytest.raises(JIRAError) as caught:
        jc.transition_issue(issue, "31")  # Review: only from In Progress
    assert "is not valid for this issue" in caught.value.text
    jc.transition_issue(issue, names["Start Progress"])
    names = {t["name"]: t for t in jc.transitions(issue)}
    assert "Review" in names and names["Review"]["isGlobal"] is False
    assert names["Done"]["isGlobal"] is True
    jc.transition_issue(issue, names["Done"]["id"], fields={"resolution": {"name": "Done"}})
    reopen = {t["name"] for t in jc.transitions(issue)}
    assert "Reopen" in reopen and "Stop Progress" not in reopen


def test_per_issue_write_limit(cloud: ServedJira, jc: JIRA) -> None:
    cloud.emulator.configure({"per_issue_writes_per_second": 0.2, "per_issue_write_burst": 1})
    try:
        session = cloud.session()
        url = f"{cloud.url}/rest/api/2/issue/DATA-9"
        first = session.put(url, json={"fields": {"labels": ["one"]}})
        second = session.put(url, json={"fields": {"labels": ["two"]}})
        other = session.put(f"{cloud.url}/rest/api/2/issue/DATA-10", json={"fields": {}})
        read = session.get(url)
    finally:
        cloud.emulator.configure({"per_issue_writes_per_second": None})
    assert (first.status_code, second.status_code, other.status_code) == (204, 429, 204)
    assert second.headers["RateLimit-Reason"] == "jira-per-issue-on-write"
    assert int(second.headers["Retry-After"]) >= 1
    assert read.status_code == 200


def test_bulkfetch_is_consistent_and_mypermissions_tells_roles(cloud: ServedJira) -> None:
    session = cloud.session()
    cloud.emulator.configure({"search_lag_seconds": 30})
    try:
        created = session.post(
            f"{cloud.url}/rest/api/2/issue",
            json={
                "fields": {
                    "project": {"key": "APP"},
                    "summary": "fresh",
                    "issuetype": {"id": "10002"},
                }
            },
        ).json()
        fetched = session.post(
            f"{cloud.url}/rest/api/2/issue/bulkfetch",
            json={"issueIdsOrKeys": [created["key"], "APP-99999"], "fields": ["summary"]},
        ).json()
    finally:
        cloud.emulator.configure({"search_lag_seconds": 0})
    assert [i["key"] for i in fetched["issues"]] == [created["key"]]
    assert fetched["issues"][0]["fields"] == {"summary": "fresh"}
    url = f"{cloud.url}/rest/api/2/mypermissions"
    mine = session.get(url, params={"permissions": "EDIT_ISSUES,ADMINISTER"}).json()
    assert mine["permissions"]["EDIT_ISSUES"]["havePermission"] is True
    assert mine["permissions"]["ADMINISTER"]["havePermission"] is False
    viewer = cloud.session()
    viewer.auth = ("viewer@example.com", "viewer-token")
    assert (
        viewer.get(url, params={"permissions": "EDIT_ISSUES"}).json()["permissions"]["EDIT_ISSUES"][
            "havePermission"
        ]
        is False
    )
    assert session.get(url).status_code == 400  # Cloud insists on the list


@pytest.mark.parametrize("text", ["", "one line", "a\nb", "para one\n\npara two\nline"])
def test_plain_text_survives_the_adf_round_trip(text: str) -> None:
    doc = adf.from_text(text)
    assert adf.is_adf(doc) and adf.to_text(doc) == text
