"""Malformed requests get Jira's 4xx bodies from the emulator, never a 500 (in-process, fast)."""

from __future__ import annotations

import base64
import itertools

import pytest

from pmosync.sandbox.jira import SeedSpec
from pmosync.sandbox.jira.emulator import JiraEmulator

BODIES = [
    "",
    "null",
    "[]",
    "{}",
    '{"fields": null}',
    '{"fields": []}',
    '{"fields": {"summary": 5}}',
    '{"fields": {"project": "APP"}}',
    '{"fields": {"project": {"key": "APP"}, "issuetype": {"name": "Nope"}, "summary": "x"}}',
    '{"fields": {"project": {"key": "APP"}, "issuetype": {"name": "Sub-task"}, "summary": "x"}}',
    '{"update": {"labels": "x"}}',
    '{"update": {"labels": [{"add": 5}]}}',
    '{"update": {"comment": [{"add": {}}]}}',
    '{"transition": {"id": null}}',
    '{"transition": "x"}',
    '{"transition": {"id": "41"}, "fields": {"resolution": "x"}}',
    '{"type": {"name": "Blocks"}, "inwardIssue": {"key": "APP-1"}}',
    '{"issues": "APP-1"}',
    '{"issues": [null]}',
    '{"issueUpdates": [null, 5, {"fields": {}}]}',
    '{"jql": 5}',
    '{"jql": "project = APP", "maxResults": "x"}',
    '{"object": {"url": "u"}}',
    '{"accountId": 5}',
    '{"body": 5}',
    '{"issueIdsOrKeys": "APP-1"}',
    '{"rankBeforeIssue": "APP-999", "issues": ["APP-1"]}',
    '{"fields": {"duedate": "2026-13-45", "parent": "APP-1"}}',
    '{"name": "v9", "project": "APP", "releaseDate": "bad"}',
    '{"originBoardId": 1, "name": "s", "startDate": "bad"}',
]
PATHS = [
    "/rest/api/2/issue",
    "/rest/api/2/issue/bulk",
    "/rest/api/2/issue/APP-1",
    "/rest/api/2/issue/APP-1/transitions",
    "/rest/api/2/issueLink",
    "/rest/api/2/issue/APP-1/comment",
    "/rest/api/2/issue/APP-1/remotelink",
    "/rest/api/2/issue/APP-1/assignee",
    "/rest/api/2/issue/APP-1/properties/k",
    "/rest/api/2/search/jql",
    "/rest/api/2/search",
    "/rest/api/2/search/approximate-count",
    "/rest/api/2/changelog/bulkfetch",
    "/rest/api/2/version",
    "/rest/api/2/component",
    "/rest/agile/1.0/sprint",
    "/rest/agile/1.0/sprint/1",
    "/rest/agile/1.0/sprint/1/issue",
    "/rest/agile/1.0/backlog/issue",
    "/rest/agile/1.0/issue/rank",
    "/rest/agile/1.0/epic/APP-1/issue",
]
QUERIES = [
    "jql=project%3DAPP&maxResults=-5",
    "jql=project%3DAPP&startAt=-1",
    "jql=project%20in%20()",
    "jql=(((",
    "jql=key%20%3E%20abc",
    "jql=updated%20%3E%20now(x)",
    "fields=*none&expand=bogus",
    "nextPageToken=zzz",
    "reconcileIssues=abc",
]


@pytest.mark.parametrize("deployment", ["cloud", "server"])
def test_no_malformed_request_is_a_500(deployment: str) -> None:
    emulator = JiraEmulator(deployment, SeedSpec(projects=1, issues_per_project=6))
    client = emulator.build_app().test_client()
    token = (
        "Basic " + base64.b64encode(b"pmo-sync@example.com:cloud-api-token").decode()
        if deployment == "cloud"
        else "Bearer dc-personal-access-token"
    )
    headers = {"Authorization": token, "Content-Type": "application/json"}
    failures = []
    for method, path, body in itertools.product(("POST", "PUT"), PATHS, BODIES):
        response = client.open(path, method=method, data=body, headers=headers)
        if response.status_code >= 500:
            failures.append(f"{method} {path} {body} -> {response.status_code}")
        elif response.status_code >= 400 and response.status_code != 405:
            payload = response.get_json(silent=True)
            # Jira's ErrorCollection; bulk create answers its CreatedIssues shape even on 400
            assert isinstance(payload, dict), (method, path, body)
            assert {"errorMessages", "errors"} <= payload.keys() or (
                path.endswith("/bulk") and {"issues", "errors"} <= payload.keys()
            ), (method, path, body)
    for query, path in itertools.product(
        QUERIES, ("search/jql", "search", "issue/APP-1", "issue/APP-1/comment", "user/search")
    ):
        response = client.get(f"/rest/api/2/{path}?{query}", headers=headers)
        if response.status_code >= 500:
            failures.append(f"GET {path}?{query} -> {response.status_code}")
    assert not failures, failures[:10]
