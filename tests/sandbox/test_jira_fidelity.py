"""Where the Jira emulator used to be kinder than Jira (issue #9), held to the vendor's word.

Each test names its source; docs/fidelity.md lists them all.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import requests

from pmosync.sandbox.jira import SeedSpec
from pmosync.sandbox.jira.testing import ServedJira, served_jira


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedJira]:
    seed = SeedSpec(projects=1, issues_per_project=8)
    with served_jira("cloud", tmp_path_factory.mktemp("jira-fid-c"), seed) as served:
        yield served


@pytest.fixture(scope="module")
def dc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedJira]:
    seed = SeedSpec(projects=1, issues_per_project=8)
    with served_jira("server", tmp_path_factory.mktemp("jira-fid-d"), seed) as served:
        yield served


@pytest.fixture(params=["cloud", "server"])
def site(request: pytest.FixtureRequest) -> ServedJira:
    served: ServedJira = request.getfixturevalue("cloud" if request.param == "cloud" else "dc")
    return served


def api(site: ServedJira) -> str:
    return f"{site.url}/rest/api/{'3' if site.emulator.cloud else '2'}"


def new_issue(site: ServedJira, session: requests.Session, summary: str) -> dict[str, str]:
    body = {"fields": {"project": {"key": "APP"}, "summary": summary, "issuetype": {"id": "10002"}}}
    response = session.post(f"{api(site)}/issue", json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_cloud_search_lags_behind_writes_by_default(cloud: ServedJira) -> None:
    """search-and-reconcile: without reconcileIssues a search may not show a recent write."""
    session = cloud.session()
    made = new_issue(cloud, session, "Lag probe")
    jql = {"jql": f"key = {made['key']}", "fields": ["summary"]}
    hidden = session.post(f"{api(cloud)}/search/jql", json=jql).json()
    assert hidden["issues"] == []
    told = session.post(
        f"{api(cloud)}/search/jql", json={**jql, "reconcileIssues": [int(made["id"])]}
    ).json()
    assert [i["key"] for i in told["issues"]] == [made["key"]]


def test_empty_answers_carry_no_content_type(site: ServedJira) -> None:
    session = site.session()
    made = new_issue(site, session, "Empty answers")
    edited = session.put(f"{api(site)}/issue/{made['id']}", json={"fields": {"summary": "x"}})
    assert edited.status_code == 204 and edited.content == b""
    assert "Content-Type" not in edited.headers
    link = {
        "type": {"name": "Blocks"},
        "inwardIssue": {"key": made["key"]},
        "outwardIssue": {"key": "APP-1"},
    }
    linked = session.post(f"{api(site)}/issueLink", json=link)
    assert linked.status_code == 201 and linked.content == b""
    assert "Content-Type" not in linked.headers


def test_bodies_the_schema_rejects_are_a_400(site: ServedJira) -> None:
    session = site.session()
    url = f"{api(site)}/issue/APP-2"
    # RemoteIssueLinkRequest.relationship is a string
    bad_link = {"relationship": {"name": "blocks"}, "object": {"url": "https://x", "title": "x"}}
    assert session.post(f"{url}/remotelink", json=bad_link).status_code == 400
    good_link = {**bad_link, "relationship": "blocks"}
    assert session.post(f"{url}/remotelink", json=good_link).status_code == 201
    # a property PUT needs "a valid, non-empty JSON value"
    empty = session.put(f"{url}/properties/probe", headers={"Content-Type": "application/json"})
    assert empty.status_code == 400
    assert session.put(f"{url}/properties/probe", json={"ok": True}).status_code == 201


def test_changelog_orders_follow_the_docs(site: ServedJira) -> None:
    emulator = site.emulator
    start = datetime(2026, 5, 1, tzinfo=UTC)
    for hour, summary in enumerate(["first", "second", "third"]):
        emulator.human_edit("APP-5", {"summary": summary}, at=start + timedelta(hours=hour))
    emulator.human_edit("APP-6", {"summary": "between"}, at=start + timedelta(minutes=30))
    session = site.session()

    def summaries(histories: list[dict[str, object]]) -> list[str]:
        return [
            str(item["toString"])
            for h in histories
            for item in h["items"]  # type: ignore[attr-defined]
            if item["field"] == "summary"
        ]

    expanded = session.get(f"{api(site)}/issue/APP-5", params={"expand": "changelog"}).json()
    order = summaries(expanded["changelog"]["histories"])[-3:]
    if emulator.cloud:  # "sorted by date, starting from the most recent"
        order = summaries(expanded["changelog"]["histories"])[:3]
        assert order == ["third", "second", "first"]
        paged = session.get(f"{api(site)}/issue/APP-5/changelog").json()["values"]
        assert summaries(paged)[-3:] == ["first", "second", "third"]  # "starting from the oldest"
        bulk = session.post(
            f"{api(site)}/changelog/bulkfetch", json={"issueIdsOrKeys": ["APP-5", "APP-6"]}
        ).json()
        flat = [
            (entry["issueId"], h["created"])
            for entry in bulk["issueChangeLogs"]
            for h in entry["changeHistories"]
        ]
        moments = [datetime.strptime(c, "%Y-%m-%dT%H:%M:%S.%f%z") for _, c in flat]
        assert moments == sorted(moments)  # oldest changelog first, across issues
    else:
        assert order == ["first", "second", "third"]


def test_a_429_may_come_without_retry_after(cloud: ServedJira) -> None:
    """rate-limiting: "429 responses may be accompanied by Retry-After"; the knob drops it."""
    cloud.emulator.configure(
        {"rate_limit_per_second": 0.5, "rate_limit_burst": 1, "omit_retry_after_every": 1}
    )
    try:
        session = cloud.session()
        answers = [session.get(f"{api(cloud)}/myself") for _ in range(3)]
        throttled = [r for r in answers if r.status_code == 429]
        assert throttled and all("Retry-After" not in r.headers for r in throttled)
        assert all(r.headers["RateLimit-Reason"] == "jira-burst-based" for r in throttled)
        assert json.loads(throttled[0].text)["errorMessages"]
    finally:
        cloud.emulator.configure(
            {"rate_limit_per_second": None, "rate_limit_burst": 20, "omit_retry_after_every": 0}
        )
