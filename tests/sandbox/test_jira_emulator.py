"""The Jira emulator through the real ``jira`` client: Cloud and Data Center basics."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from jira import JIRA, JIRAError

from pmosync.sandbox.jira import SeedSpec, custom_field_id
from pmosync.sandbox.jira.testing import ServedJira, served_jira

# These tests are about JQL, rendering and writes, not about Cloud's search lag (on by default,
# tested in test_search_lag_hides_recent_writes_unless_reconciled): search sees writes at once.
NO_SEARCH_LAG = {"search_lag_seconds": 0}


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedJira]:
    with served_jira("cloud", tmp_path_factory.mktemp("jira-cloud"), knobs=NO_SEARCH_LAG) as served:
        yield served


@pytest.fixture(scope="module")
def dc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedJira]:
    with served_jira("server", tmp_path_factory.mktemp("jira-dc")) as served:
        yield served


@pytest.fixture(scope="module")
def cloud_client(cloud: ServedJira) -> JIRA:
    return cloud.client()


@pytest.fixture(scope="module")
def dc_client(dc: ServedJira) -> JIRA:
    return dc.client()


def test_server_info_switches_the_library_into_the_right_mode(
    cloud_client: JIRA, dc_client: JIRA
) -> None:
    assert cloud_client._is_cloud
    assert not dc_client._is_cloud
    info = cloud_client.server_info()
    assert info["deploymentType"] == "Cloud"
    assert len(info["versionNumbers"]) == 3
    assert info["baseUrl"].startswith("https://127.0.0.1:")
    assert dc_client.server_info()["deploymentType"] == "Server"


def test_myself_carries_identity_and_a_non_utc_zone(cloud_client: JIRA, dc_client: JIRA) -> None:
    me = cloud_client.myself()
    assert me["accountId"] and me["timeZone"] == "Australia/Sydney"
    assert "/user?accountId=" in me["self"]
    me_dc = dc_client.myself()
    assert me_dc["name"] == "pmosync" and me_dc["key"].startswith("JIRAUSER")
    assert "accountId" not in me_dc


def test_custom_field_ids_differ_between_instances(cloud_client: JIRA, dc_client: JIRA) -> None:
    def story_points(client: JIRA) -> dict:
        return next(f for f in client.fields() if f["name"] == "Story Points")

    cloud_sp, dc_sp = story_points(cloud_client), story_points(dc_client)
    assert cloud_sp["id"] == "customfield_10016"
    assert dc_sp["id"] == "customfield_10106"
    assert cloud_sp["schema"]["customId"] == 10016
    assert cloud_sp["schema"]["custom"].endswith(":float")
    assert custom_field_id(SeedSpec(deployment="server"), "Story Points") == dc_sp["id"]
    names = {f["name"] for f in dc_client.fields()}
    assert "Epic Link" in names and "Epic Link" not in {f["name"] for f in cloud_client.fields()}


def test_cloud_enhanced_search_pages_with_next_page_token(
    cloud: ServedJira, cloud_client: JIRA
) -> None:
    total = len(cloud.emulator.state.issues)
    before = cloud.emulator.counters.snapshot()["by_endpoint"].get(
        "GET /rest/api/<ver>/search/jql", 0
    )
    issues = cloud_client.enhanced_search_issues(
        "project in (APP, DATA, OPS) ORDER BY key ASC", maxResults=0, fields=["summary", "status"]
    )
    after = cloud.emulator.counters.snapshot()["by_endpoint"]["GET /rest/api/<ver>/search/jql"]
    assert len(issues) == total
    assert len({i.key for i in issues}) == total
    assert after - before == -(-total // 100)  # one request per 100, then it stops
    # manual paging: the last page has no token and isLast
    session = cloud.session()
    url = f"{cloud.url}/rest/api/3/search/jql"
    page = session.get(url, params={"jql": "project = APP", "maxResults": 15}).json()
    assert "total" not in page and page["isLast"] is False and page["nextPageToken"]
    seen = len(page["issues"])
    while "nextPageToken" in page:
        page = session.get(
            url,
            params={
                "jql": "project = APP",
                "maxResults": 15,
                "nextPageToken": page["nextPageToken"],
            },
        ).json()
        seen += len(page["issues"])
    assert page["isLast"] is True
    assert seen == sum(1 for i in cloud.emulator.state.issues.values() if i.key.startswith("APP-"))


def test_cloud_search_is_gone(cloud: ServedJira) -> None:
    response = cloud.session().get(f"{cloud.url}/rest/api/2/search", params={"jql": "project=APP"})
    assert response.status_code == 410
    assert "CHANGE-2046" in response.json()["errorMessages"][0]


def test_dc_search_uses_start_at_and_total(dc: ServedJira, dc_client: JIRA) -> None:
    result = dc_client.search_issues("project = DATA ORDER BY key", maxResults=False)
    expected = sum(1 for i in dc.emulator.state.issues.values() if i.key.startswith("DATA-"))
    assert len(result) == expected == result.total
    raw = (
        dc.session()
        .get(
            f"{dc.url}/rest/api/2/search",
            params={"jql": "project = DATA", "startAt": 10, "maxResults": 5000},
        )
        .json()
    )
    assert raw["startAt"] == 10 and raw["maxResults"] == 1000 and raw["total"] == expected
    assert len(raw["issues"]) == expected - 10
    assert dc_client.enhanced_search_issues("project = DATA") is None  # @cloud_api on DC
    v3 = dc.session().get(f"{dc.url}/rest/api/3/serverInfo")
    assert v3.status_code == 404


def test_unsupported_jql_is_a_400_naming_the_problem(cloud_client: JIRA) -> None:
    with pytest.raises(JIRAError) as caught:
        cloud_client.enhanced_search_issues("project = APP AND nosuchfield = 1")
    assert caught.value.status_code == 400
    assert "nosuchfield" in caught.value.text
    with pytest.raises(JIRAError) as caught:
        cloud_client.enhanced_search_issues("project = APP AND (status = Done")
    assert "Expecting" in caught.value.text
    with pytest.raises(JIRAError) as caught:
        cloud_client.enhanced_search_issues("ORDER BY created")
    assert "Unbounded" in caught.value.text


def test_create_edit_and_read_back(cloud_client: JIRA, cloud: ServedJira) -> None:
    issue = cloud_client.create_issue(
        project="OPS", summary="Emulator create", issuetype={"name": "Task"}, description="Hi"
    )
    assert issue.key.startswith("OPS-")
    before = issue.fields.updated
    issue.update(fields={"summary": "Emulator edit", "labels": ["pmo"]}, notify=False)
    assert issue.fields.summary == "Emulator edit"
    assert issue.fields.updated > before or issue.fields.updated != before
    full = cloud_client.issue(issue.key, expand="changelog")
    fields = {item.field for h in full.changelog.histories for item in h.items}
    assert {"summary", "labels"} <= fields
    assert cloud.emulator.issue(issue.key)["fields"]["labels"] == ["pmo"]


def test_status_category_jql_and_short_pages(cloud: ServedJira, cloud_client: JIRA) -> None:
    state = cloud.emulator.state
    done = sum(1 for i in state.issues.values() if state.status_of(i).category == "done")
    keys = cloud_client.enhanced_search_issues(
        "project in (APP, DATA, OPS) AND statusCategory = Done", maxResults=0, fields=["status"]
    )
    assert len(keys) == done
    assert all(i.fields.status.statusCategory.key == "done" for i in keys)
    not_done = cloud_client.approximate_issue_count(
        'project in (APP, DATA, OPS) AND statusCategory in ("To Do", "In Progress")'
    )
    assert not_done == len(state.issues) - done
    cloud.emulator.configure({"short_page_every": 2})
    try:
        pages = []
        token = None
        while True:
            page = cloud_client.enhanced_search_issues(
                "project = APP", maxResults=10, nextPageToken=token, fields=["summary"]
            )
            pages.append(len(page))
            token = page.nextPageToken
            if not token:
                break
    finally:
        cloud.emulator.configure({"short_page_every": 0})
    assert pages[1] == 9 and sum(pages) == sum(
        1 for i in state.issues.values() if i.key[:4] == "APP-"
    )


def test_reset_restores_the_seed_and_admin_config_sets_knobs(tmp_path: Path) -> None:
    with served_jira(
        "cloud", tmp_path, SeedSpec(projects=1, issues_per_project=5), knobs=NO_SEARCH_LAG
    ) as served:
        session = served.session()
        before = sorted(served.emulator.state.keys)
        served.client().create_issue(project="APP", summary="temp", issuetype={"name": "Task"})
        knobs = session.post(f"{served.url}/_admin/config", json={"search_lag_seconds": 1})
        assert knobs.json()["search_lag_seconds"] == 1
        assert session.post(f"{served.url}/_admin/reset").status_code == 200
        assert sorted(served.emulator.state.keys) == before
        assert served.emulator.state.search_lag == 1


def test_resolution_unresolved_means_empty(cloud: ServedJira, cloud_client: JIRA) -> None:
    state = cloud.emulator.state
    open_app = sum(
        1 for i in state.issues.values() if i.key.startswith("APP-") and not i.fields["resolution"]
    )
    assert cloud_client.approximate_issue_count("project = APP AND resolution = Unresolved") == (
        open_app
    )
    resolved = cloud_client.approximate_issue_count("project = APP AND resolution != Unresolved")
    assert resolved == sum(1 for i in state.issues.values() if i.key.startswith("APP-")) - open_app


def test_field_drift_and_zone_changes_show_everywhere(tmp_path: Path) -> None:
    with served_jira("server", tmp_path, SeedSpec(projects=1, issues_per_project=8)) as served:
        client = served.client()
        field_id = served.emulator.drift_field("Story Points", rename="Story point estimate")
        names = {f["id"]: f["name"] for f in client.fields()}
        assert names[field_id] == "Story point estimate"
        assert client.search_issues('"Story point estimate" is not EMPTY', maxResults=False)
        with pytest.raises(JIRAError) as caught:
            client.search_issues('"Story Points" > 1')
        assert "Story Points" in caught.value.text
        number = field_id.split("_")[1]
        assert client.search_issues(f"cf[{number}] > 0", maxResults=False)
        served.emulator.drift_field("Story point estimate", remove=True)
        assert field_id not in {f["id"] for f in client.fields()}
        assert field_id not in client.issue("APP-2").raw["fields"]
        served.emulator.set_time_zone("Asia/Tokyo")
        assert client.myself()["timeZone"] == "Asia/Tokyo"
        assert client.issue("APP-2").fields.updated.endswith("+0900")


def test_latest_is_an_alias_and_v3_is_cloud_only(cloud: ServedJira, dc: ServedJira) -> None:
    for served, v3_status in ((cloud, 200), (dc, 404)):
        session = served.session()
        latest = session.get(f"{served.url}/rest/api/latest/issue/APP-1")
        assert latest.status_code == 200 and "/rest/api/latest/issue/" in latest.json()["self"]
        assert session.get(f"{served.url}/rest/api/3/issue/APP-1").status_code == v3_status
        assert session.get(f"{served.url}/rest/api/4/issue/APP-1").status_code == 404
    rich = cloud.session().get(f"{cloud.url}/rest/api/3/issue/APP-1").json()
    assert rich["fields"]["description"]["type"] == "doc"
    plain = cloud.session().get(f"{cloud.url}/rest/api/2/issue/APP-1").json()
    assert isinstance(plain["fields"]["description"], str)
