"""Every response the Jira connector's calls get from the emulator, validated against Atlassian's
published OpenAPI documents with openapi-core.

The real ``jira`` client drives the emulator; a response hook on its session records every
exchange. v2 and ``latest`` paths are validated against the v3 operation of the same path (the
rich-text difference is invisible to the spec: ``fields`` and comment ``body`` are schema-less
there). DC's ``/search`` is validated against v3 ``/search`` (SearchResults). Where the spec
has no entry for a status (410 on ``/search``, 401, …) or gets an array wrong (GET remotelink is
documented as a single RemoteIssueLink), the body is checked against the named schema directly.
Issue fields, which the spec leaves open, are checked one by one against their component schemas.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import requests
from jira import JIRA, JIRAError
from openapi_core import OpenAPI
from openapi_core.configurations import Config
from openapi_core.contrib.requests import RequestsOpenAPIRequest, RequestsOpenAPIResponse
from openapi_core.templating.responses.exceptions import ResponseNotFound
from openapi_core.validation.response.exceptions import MissingData
from openapi_schema_validator import OAS30Validator

from pmosync.sandbox.jira import SeedSpec
from pmosync.sandbox.jira.testing import ServedJira, served_jira
from tests import fixture_dirs

REPO = Path(__file__).resolve().parents[2]
SPEC_DIR = fixture_dirs.SPECS  # copied from the vendors; see README there
PLATFORM_HOST = "https://your-domain.atlassian.net"
AGILE_HOST = "https://your-domain.atlassian.com"
ADF = {
    "type": "doc",
    "version": 1,
    "content": [{"type": "paragraph", "content": [{"type": "text", "text": "conformance"}]}],
}


def _jira_datetime(value: object) -> bool:
    # Jira writes offsets without a colon (2025-01-01T10:00:00.000+0000)
    if not isinstance(value, str):
        return True
    try:
        datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%f%z")
        return True
    except ValueError:
        try:
            datetime.fromisoformat(value.replace("Z", "+00:00"))
            return True
        except ValueError:
            return False


def _null_only(error: Any) -> bool:
    """Atlassian's document leaves out ``nullable`` on fields its own examples (and Jira) send
    as null (changelog ``from``/``toString``, ``description``, ...): a null is not a shape error."""
    return error.instance is None


def _real_problems(exc: BaseException) -> list[str]:
    """The schema errors inside an openapi-core exception, minus null-for-not-nullable."""
    seen: list[str] = []
    stack: list[Any] = [exc]
    while stack:
        current = stack.pop()
        errors = getattr(current, "schema_errors", None)
        if errors:
            for error in errors:
                if not _null_only(error):
                    seen.append(f"{list(error.absolute_path)}: {error.message[:160]}")
            continue
        cause = getattr(current, "__cause__", None)
        if cause is not None:
            stack.append(cause)
        elif current is exc:
            seen.append(repr(exc)[:300])
    return seen


class Specs:
    """Both documents, loaded once per session."""

    def __init__(self) -> None:
        config = Config(
            spec_validator_cls=None,  # type: ignore[arg-type]  # trust Atlassian's doc; saves seconds
            extra_format_validators={"date-time": _jira_datetime},
        )
        platform_path = SPEC_DIR / "jira-cloud-platform-v3.openapi.json"
        agile_path = SPEC_DIR / "jira-software-agile-v1.openapi.json"
        self.platform_doc = json.loads(platform_path.read_text())
        self.platform = OpenAPI.from_dict(self.platform_doc, config=config)
        self.agile = OpenAPI.from_dict(json.loads(agile_path.read_text()), config=config)
        self._validators: dict[str, OAS30Validator] = {}

    def schema(self, name: str) -> OAS30Validator:
        if name not in self._validators:
            root = {
                "$ref": f"#/components/schemas/{name}",
                "components": self.platform_doc["components"],
            }
            self._validators[name] = OAS30Validator(root, format_checker=None)
        return self._validators[name]

    def check_schema(self, name: str, value: Any, where: str) -> None:
        errors = sorted(
            (e for e in self.schema(name).iter_errors(value) if not _null_only(e)),
            key=lambda e: list(e.path),
        )
        assert not errors, f"{where}: {name}: " + "; ".join(
            f"{list(e.path)}: {e.message[:200]}" for e in errors[:5]
        )


@pytest.fixture(scope="session")
def specs() -> Specs:
    return Specs()


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedJira]:
    with served_jira(
        "cloud", tmp_path_factory.mktemp("conf-cloud"), SeedSpec(issues_per_project=15)
    ) as served:
        yield served


@pytest.fixture(scope="module")
def dc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedJira]:
    with served_jira(
        "server", tmp_path_factory.mktemp("conf-dc"), SeedSpec(issues_per_project=15)
    ) as served:
        yield served


Recorder = list[requests.Response]


def recording(client: JIRA) -> Recorder:
    seen: Recorder = []

    def hook(response: requests.Response, *args: Any, **kwargs: Any) -> None:
        seen.append(response)

    client._session.hooks["response"].append(hook)
    return seen


def _as_spec_request(prepared: requests.PreparedRequest, deployment: str) -> tuple[Any, str]:
    url = prepared.url or ""
    path = re.sub(r"^https?://[^/]+", "", url)
    agile = path.startswith("/rest/agile/")
    path = re.sub(r"^/rest/api/(2|3|latest)/", "/rest/api/3/", path)
    clone = prepared.copy()
    clone.url = (AGILE_HOST if agile else PLATFORM_HOST) + path
    return RequestsOpenAPIRequest(clone), path


# operations whose documented response is not what Jira sends or that the spec lacks
_BODY_OVERRIDES: dict[tuple[str, str], str] = {
    ("GET", r"/rest/api/3/issue/[^/]+/remotelink$"): "RemoteIssueLink[]",
}


def _issue_fields(specs: Specs, bean: dict[str, Any], where: str) -> None:
    """``IssueBean.fields`` is open in the spec; check the nested objects Jira always types."""
    fields = bean.get("fields") or {}
    typed = {
        "status": "StatusDetails",
        "issuetype": "IssueTypeDetails",
        "priority": "Priority",
        "resolution": "Resolution",
        "assignee": "User",
        "reporter": "User",
        "creator": "User",
        "parent": "LinkedIssue",
        "comment": "PageOfComments",
    }
    for key, schema in typed.items():
        if fields.get(key) is not None:
            specs.check_schema(schema, fields[key], f"{where} fields.{key}")
    for key, schema in (
        ("issuelinks", "IssueLink"),
        ("subtasks", "LinkedIssue"),
        ("fixVersions", "Version"),
        ("versions", "Version"),
        ("components", "ProjectComponent"),
    ):
        for item in fields.get(key) or []:
            if key == "issuelinks":
                # one side only on an issue; the schema requires both, so check each side
                for side in ("inwardIssue", "outwardIssue"):
                    if side in item:
                        specs.check_schema("LinkedIssue", item[side], f"{where} {key}.{side}")
                specs.check_schema("IssueLinkType", item["type"], f"{where} {key}.type")
            else:
                specs.check_schema(schema, item, f"{where} fields.{key}")
    if "project" in fields:
        specs.check_schema("Project", fields["project"], f"{where} fields.project")


_ID = re.compile(r"/(?:[A-Z][A-Z0-9]*-\d+|\d{3,})(?=/|$)")


def validate_all(specs: Specs, responses: Recorder, deployment: str) -> set[str]:
    """Validate every recorded response; returns the operations covered."""
    covered: set[str] = set()
    for response in responses:
        request, path = _as_spec_request(response.request, deployment)
        method = (response.request.method or "GET").upper()
        if path.startswith("/rest/applinks/"):
            continue  # not in Atlassian's platform document (jira's add_remote_link asks for it)
        where = f"{method} {path} -> {response.status_code}"
        api = specs.agile if path.startswith("/rest/agile/") else specs.platform
        override = next(
            (
                schema
                for (m, pattern), schema in _BODY_OVERRIDES.items()
                if m == method and re.search(pattern, path.split("?")[0])
            ),
            None,
        )
        body = response.json() if response.content else None
        if override and response.status_code == 200:
            for item in body:
                specs.check_schema(override.rstrip("[]"), item, where)
        else:
            try:
                api.validate_response(request, RequestsOpenAPIResponse(response))
            except MissingData:
                # Atlassian documents a JSON body on some 201/204s (issueLink POST, issue PUT);
                # Jira sends none (wire reference §2.10 item 6)
                # an entity property PUT answers 200 (updated) or 201 (created), both empty
                empty_ok = (201, 204) + ((200,) if "/properties/" in path else ())
                assert response.status_code in empty_ok and not response.content, where
            except ResponseNotFound:
                # statuses the spec does not list (410 Gone, some 401/404): Jira's error body
                assert response.status_code >= 400, where
                specs.check_schema("ErrorCollection", body, where)
            except Exception as exc:  # noqa: BLE001 - report which exchange failed
                problems = _real_problems(exc)
                if problems:
                    pytest.fail(f"{where}: {type(exc).__name__}: " + "; ".join(problems[:5]))
        if response.status_code >= 400 and body is not None:
            specs.check_schema("ErrorCollection", body, where)
        if isinstance(body, dict):
            for bean in body.get("issues", []) if "issues" in body else [body]:
                if isinstance(bean, dict) and "fields" in bean and "key" in bean:
                    _issue_fields(specs, bean, where)
        covered.add(f"{method} {_ID.sub('/{id}', path.split('?')[0])}")
    return covered


def _expect_error(call: Callable[[], Any], status: int) -> None:
    with pytest.raises(JIRAError) as caught:
        call()
    assert caught.value.status_code == status


def exercise(served: ServedJira, client: JIRA) -> None:
    """The calls the connector makes (plus the error paths it must understand)."""
    cloud = served.emulator.cloud
    v3 = client._options["rest_api_version"] == "3"
    session = client._session
    base = f"{served.url}/rest/api/{client._options['rest_api_version']}"
    client.server_info()
    client.myself()
    client.fields()
    jql = "project in (APP, DATA) AND updated >= -3650d ORDER BY updated DESC"
    if cloud:
        issues = client.enhanced_search_issues(
            jql, maxResults=10, fields=["*all"], expand="changelog,names"
        )
        client.enhanced_search_issues("project = OPS", maxResults=0, fields=["summary"])
        client.approximate_issue_count("project = APP")
        session.get(f"{base}/issue/{issues[0].key}/changelog", params={"maxResults": 2})
        session.post(
            f"{base}/changelog/bulkfetch",
            data=json.dumps({"issueIdsOrKeys": [issues[0].key], "maxResults": 5}),
        )
        session.post(
            f"{base}/issue/bulkfetch",
            data=json.dumps(
                {"issueIdsOrKeys": [issues[0].key, "APP-99999"], "fields": ["summary", "status"]}
            ),
        )
        session.get(f"{base}/mypermissions", params={"permissions": "EDIT_ISSUES,ADMINISTER"})
        session.get(f"{base}/issue/createmeta/APP/issuetypes")
        session.get(f"{base}/issue/createmeta/APP/issuetypes/10002")
        _expect_error(lambda: session.get(f"{base}/search", params={"jql": "project = APP"}), 410)
    else:
        issues = client.search_issues(jql, maxResults=10, expand="changelog,names")
        client.search_issues("project = OPS", maxResults=False, fields=["summary"])
    client.issue(issues[0].key, expand="changelog,names,renderedFields,transitions,editmeta")
    client.editmeta(issues[0].key)
    session.get(
        f"{base}/issue/createmeta",
        params={"projectKeys": "APP", "expand": "projects.issuetypes.fields"},
    )
    description: Any = ADF if v3 else "conformance"
    created = client.create_issue(
        project="APP", summary="conformance", issuetype={"name": "Story"}, description=description
    )
    client.create_issues(
        [
            {"project": {"key": "APP"}, "summary": "bulk", "issuetype": {"name": "Task"}},
            {"project": {"key": "APP"}, "issuetype": {"name": "Task"}},
        ]
    )
    created.update(fields={"summary": "conformance edited", "labels": ["pmo"]}, notify=False)
    transitions = client.transitions(created, expand="transitions.fields")
    done = next(t for t in transitions if t["to"]["statusCategory"]["key"] == "done")
    _expect_error(lambda: client.transition_issue(created, done["id"]), 400)
    client.transition_issue(created, done["id"], fields={"resolution": {"name": "Done"}})
    client.issue_link_types()
    client.create_issue_link("Blocks", created.key, issues[0].key)
    link_id = client.issue(created.key, fields="issuelinks").fields.issuelinks[0].id
    session.get(f"{base}/issueLink/{link_id}")
    client.projects()
    client.project("APP")
    client.project_versions("APP")
    client.project_components("APP")
    client.statuses()
    client.issue_types()
    client.priorities()
    client.resolutions()
    client.statuscategories()
    session.get(f"{base}/project/APP/statuses")
    client.add_remote_link(
        created.key, {"url": "https://pwa.example/t/1", "title": "PWA task"}, globalId="pwa:1"
    )
    client.remote_links(created.key)
    client.add_issue_property(created.key, "pmo-sync", {"id": "wi-1"})
    client.issue_property(created.key, "pmo-sync")
    client.issue_properties(created.key)
    client.add_comment(created.key, ADF if v3 else "a comment")
    client.comments(created.key)
    if cloud:
        someone = client.search_users(query="alice")[0]
        client.assign_issue(created.key, someone.accountId)
    else:
        client.search_users(user="alice")
        client.assign_issue(created.key, "alice")
    board = client.boards()[0]
    sprints = client.sprints(board.id)
    active = next(s for s in sprints if s.state == "active")
    client.sprint(active.id)
    client.add_issues_to_sprint(active.id, [created.key])
    # error paths the connector must parse
    _expect_error(lambda: client.issue("APP-99999"), 404)
    _expect_error(lambda: client.create_issue(project="APP", issuetype={"name": "Task"}), 400)
    if cloud:
        _expect_error(lambda: client.enhanced_search_issues("status = Nonsense"), 400)
    else:
        _expect_error(lambda: client.search_issues("nonsense = 1"), 400)
    if v3:
        _expect_error(
            lambda: client.create_issue(
                project="APP", summary="x", issuetype={"name": "Task"}, description="plain"
            ),
            400,
        )


@pytest.mark.parametrize("api", ["3", "2"])
def test_cloud_responses_match_the_v3_spec(specs: Specs, cloud: ServedJira, api: str) -> None:
    client = cloud.client(api=api)
    seen = recording(client)
    exercise(cloud, client)
    covered = validate_all(specs, seen, "cloud")
    for operation in (
        "GET /rest/api/3/serverInfo",
        "GET /rest/api/3/search/jql",
        "POST /rest/api/3/search/approximate-count",
        "POST /rest/api/3/issue/bulk",
        "GET /rest/api/3/issue/{id}/transitions",
        "GET /rest/api/3/issue/{id}/remotelink",
        "GET /rest/api/3/issue/{id}/changelog",
        "GET /rest/api/3/search",
        "POST /rest/api/3/issue/bulkfetch",
        "GET /rest/api/3/mypermissions",
    ):
        assert operation in covered


def test_dc_responses_match_the_v3_spec_mapped_from_v2(specs: Specs, dc: ServedJira) -> None:
    client = dc.client()
    seen = recording(client)
    exercise(dc, client)
    covered = validate_all(specs, seen, "server")
    assert "GET /rest/api/3/search" in covered  # DC /search against v3 SearchResults
    assert "GET /rest/api/3/issue/{id}" in covered


def test_error_bodies_for_auth_and_rate_limits(
    specs: Specs, cloud: ServedJira, dc: ServedJira
) -> None:
    for served in (cloud, dc):
        session = requests.Session()
        session.verify = served.ca_bundle
        session.auth = ("nobody", "wrong")
        unauthorised = session.get(f"{served.url}/rest/api/2/myself")
        assert unauthorised.status_code == 401
        specs.check_schema("ErrorCollection", unauthorised.json(), "401")
    served = cloud
    served.emulator.faults.set({"burst": {"status": 429, "count": 1, "retry_after": 1}})
    limited = served.session().get(f"{served.url}/rest/api/2/myself")
    assert limited.status_code == 429
    specs.check_schema("ErrorCollection", limited.json(), "429")


@pytest.mark.parametrize("deployment", ["cloud", "server"])
def test_the_connectors_own_traffic_matches_the_spec(
    specs: Specs, cloud: ServedJira, dc: ServedJira, deployment: str
) -> None:
    """Not a hand-written exercise: the responses the Jira connector itself gets during a full
    pull and a push (edit, transition, create, link) are what gets validated."""
    import uuid

    from pmosync.canonical_model import EntityType, FieldChange, PlannedWrite
    from pmosync.config.connections.jira import JiraConnection
    from pmosync.config.mapping import TeamMapping
    from pmosync.connectors.jira.connector import JiraConnector
    from pmosync.sandbox.scenarios.jira import team_mapping

    served = cloud if deployment == "cloud" else dc
    creds = served.emulator.credentials
    auth = (
        {"email": creds["email"], "token_env": "PMOSYNC_CONFORMANCE_TOKEN"}
        if deployment == "cloud"
        else {"token_env": "PMOSYNC_CONFORMANCE_TOKEN"}
    )
    os.environ["PMOSYNC_CONFORMANCE_TOKEN"] = creds["token" if deployment == "cloud" else "pat"]
    try:
        config = JiraConnection(
            kind="jira",
            url=served.url,
            deployment="cloud" if deployment == "cloud" else "datacenter",
            ca_bundle=Path(served.ca_bundle),
            **auth,
        )
        mapping = TeamMapping.model_validate(team_mapping(["APP", "DATA", "OPS"])).model_copy(
            update={"team": "conformance", "connection": "jira", "source": "conformance.yaml"}
        )
        connector = JiraConnector("jira", config, [mapping])
    finally:
        del os.environ["PMOSYNC_CONFORMANCE_TOKEN"]
    seen = recording(connector.client.jira)
    records = [item for scope in connector.scopes() for item in connector.pull(scope, None, None)]
    work = [
        r
        for r in records
        if getattr(r, "ref", None) is not None
        and r.ref.entity_type is EntityType.WORK_ITEM
        and r.values.get("status") == "not_started"
    ]
    assert len(work) >= 2
    first, second = work[0], work[1]
    writes = [
        PlannedWrite(
            "jira", EntityType.WORK_ITEM, str(uuid.uuid4()), "update",
            [FieldChange("name", None, "Conformance edit", "test"),
             FieldChange("status", None, "active", "test")],
            external_id=first.ref.external_id,
        ),
        PlannedWrite(
            "jira", EntityType.WORK_ITEM, str(uuid.uuid4()), "create",
            [FieldChange("name", None, "Conformance create", "test")],
        ),
        PlannedWrite(
            "jira", EntityType.DEPENDENCY, str(uuid.uuid4()), "create",
            [FieldChange("predecessor", None, first.ref.external_id, "test"),
             FieldChange("successor", None, second.ref.external_id, "test"),
             FieldChange("link_type", None, "FS", "test")],
        ),
    ]  # fmt: skip
    results = connector.push(writes)
    assert all(r.ok for r in results), [r.error for r in results]
    connector.close()
    covered = validate_all(specs, seen, deployment)
    search = "/rest/api/3/search/jql" if deployment == "cloud" else "/rest/api/3/search"
    assert f"GET {search}" in covered or f"POST {search}" in covered, covered
    assert any(op.startswith("PUT /rest/api/3/issue/") for op in covered), covered
    assert any(op.endswith("/transitions") for op in covered), covered
    assert "POST /rest/api/3/issue" in covered, covered
