"""Read side of the PWA emulator with real requests + msal tokens over https (sandbox CA)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import msal
import pytest
import requests

from pmosync.sandbox.entra import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, msal_http_client
from pmosync.sandbox.pwa import RAG_VALUES, SeedSpec
from pmosync.sandbox.pwa.stack import PwaStack, pwa_stack

SEED = SeedSpec(projects=3, tasks_per_project=12, seed=11, page_size=5)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PwaStack]:
    with pwa_stack(tmp_path_factory.mktemp("pwa-read"), SEED) as running:
        yield running


@pytest.fixture(autouse=True)
def _fresh(stack: PwaStack, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    stack.pwa.reset()
    stack.pwa.faults.clear()


def _follow_verbose(session: requests.Session, url: str, **params: str) -> tuple[list, int]:
    rows: list[dict[str, Any]] = []
    pages = 0
    reply = session.get(url, params=params or None)
    while True:
        reply.raise_for_status()
        pages += 1
        body = reply.json()["d"]
        rows.extend(body["results"])
        if "__next" not in body:
            return rows, pages
        assert pages < 50
        reply = session.get(body["__next"])


def _follow_light(session: requests.Session, url: str, **params: str) -> tuple[list, int]:
    rows: list[dict[str, Any]] = []
    pages = 0
    reply = session.get(url, params=params or None)
    while True:
        reply.raise_for_status()
        pages += 1
        body = reply.json()
        rows.extend(body["value"])
        if "odata.nextLink" not in body:
            return rows, pages
        assert pages < 50
        reply = session.get(urljoin(reply.url, body["odata.nextLink"]))


def _first_project(stack: PwaStack) -> str:
    return str(stack.pwa.projects()[0]["Id"])


def test_requests_without_a_valid_token_are_401(stack: PwaStack) -> None:
    url = f"{stack.api}/ProjectServer/Projects"
    bare = msal_http_client(stack.ca_bundle)
    bare.headers["Accept"] = "application/json;odata=verbose"
    reply = bare.get(url)
    assert reply.status_code == 401
    challenge = reply.headers["WWW-Authenticate"]
    assert challenge.startswith(f'Bearer realm="{stack.tenant_id}"')
    assert "authorization_uri=" in challenge
    assert stack.session(token="not.a.jwt").get(url).status_code == 401
    other = stack.entra.mint_access_token("https://elsewhere.example")
    assert stack.session(token=other).get(url).status_code == 401
    expired = stack.entra.mint_access_token(stack.pwa_url, ttl=-5)
    assert stack.session(token=expired).get(url).status_code == 401
    assert stack.session().get(url).status_code == 200


def test_app_only_tokens_are_refused_and_a_secret_based_one_always(stack: PwaStack) -> None:
    app = msal.ConfidentialClientApplication(
        DEFAULT_CLIENT_ID,
        client_credential=DEFAULT_CLIENT_SECRET,
        authority=f"{stack.entra_url}/{stack.tenant_id}",
        instance_discovery=False,
        http_client=msal_http_client(stack.ca_bundle),
    )
    token = app.acquire_token_for_client([f"{stack.pwa_url}/.default"])["access_token"]
    url = f"{stack.api}/ProjectServer/Projects"
    reply = stack.session(token=token).get(url)
    assert reply.status_code == 401
    assert reply.json()["error_description"] == "Unsupported app only token."
    # A site that takes app-only (allow_app_only) still refuses a token the app got with a
    # client secret, as SharePoint Online does; one got with a certificate (appidacr 2) passes.
    stack.pwa.configure({"allow_app_only": True})
    refused = stack.session(token=token).get(url)
    assert refused.status_code == 401
    assert refused.json()["error_description"] == "Unsupported app only token."
    claims = stack.entra.validate(token)
    assert claims is not None and claims["appidacr"] == "1"
    by_certificate = stack.entra.signer.sign({**claims, "appidacr": "2"})
    assert stack.session(token=by_certificate).get(url).status_code == 200


def test_accept_header_decides_the_dialect(stack: PwaStack) -> None:
    url = f"{stack.api}/ProjectServer/Projects"
    verbose = stack.session("verbose").get(url, params={"$top": "1"}).json()
    assert verbose["d"]["results"][0]["__metadata"]["type"] == "PS.PublishedProject"
    assert "__deferred" in verbose["d"]["results"][0]["Tasks"]
    minimal = stack.session("json").get(url, params={"$top": "1"}).json()
    assert minimal["odata.metadata"].endswith("/_api/ProjectServer/$metadata#Projects")
    assert minimal["value"][0]["odata.type"] == "PS.PublishedProject"
    bare = stack.session("nometadata").get(url, params={"$top": "1"}).json()
    assert "odata.metadata" not in bare and "odata.type" not in bare["value"][0]
    session = stack.session()
    session.headers["Accept"] = "*/*"
    assert session.get(url).status_code == 406


def test_verbose_paging_returns_every_task_once(stack: PwaStack) -> None:
    pid = _first_project(stack)
    before = stack.pwa.api_calls()
    rows, pages = _follow_verbose(
        stack.session(), f"{stack.api}/ProjectServer/Projects('{pid}')/Tasks"
    )
    assert len(rows) == 12 and pages == 3
    assert len({r["Id"] for r in rows}) == 12
    expected = [t["Id"] for t in stack.pwa.published(pid).tasks if t["OutlineLevel"] > 0]
    assert [r["Id"] for r in rows] == expected
    key = "GET ProjectServer/Projects('{id}')/Tasks"
    assert stack.pwa.api_calls()[key] - before.get(key, 0) == 3
    # $top beyond a page is served over several pages; $top within a page has no next link.
    rows, pages = _follow_verbose(
        stack.session(), f"{stack.api}/ProjectServer/Projects('{pid}')/Tasks", **{"$top": "7"}
    )
    assert len(rows) == 7 and pages == 2
    rows, pages = _follow_verbose(
        stack.session(), f"{stack.api}/ProjectServer/Projects('{pid}')/Tasks", **{"$top": "4"}
    )
    assert len(rows) == 4 and pages == 1


def test_light_paging_follows_relative_next_links(stack: PwaStack) -> None:
    rows, pages = _follow_light(
        stack.session("nometadata"),
        f"{stack.api}/ProjectData/Tasks",
        **{"$select": "ProjectId,TaskId,TaskName,TaskModifiedDate"},
    )
    assert len(rows) == 36 and pages == 8
    assert len({(r["ProjectId"], r["TaskId"]) for r in rows}) == 36
    assert set(rows[0]) == {"ProjectId", "TaskId", "TaskName", "TaskModifiedDate"}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", rows[0]["TaskModifiedDate"])
    reply = stack.session("nometadata").get(f"{stack.api}/ProjectData/Tasks")
    assert "$skiptoken=guid'" in reply.json()["odata.nextLink"]
    assert not reply.json()["odata.nextLink"].startswith("https://")


def test_filter_select_expand(stack: PwaStack) -> None:
    pid = _first_project(stack)
    url = f"{stack.api}/ProjectServer/Projects('{pid}')/Tasks"
    session = stack.session()
    body = session.get(
        url, params={"$filter": "IsMilestone eq true", "$select": "Id,Name,IsMilestone"}
    ).json()["d"]
    names = [r["Name"] for r in body["results"]]
    assert names and all(r["IsMilestone"] for r in body["results"])
    assert "Go-live" in names
    assert set(body["results"][0]) == {"__metadata", "Id", "Name", "IsMilestone"}
    body = session.get(
        url,
        params={
            "$filter": "OutlineLevel eq 2",
            "$select": "Name,Parent/Name",
            "$expand": "Parent",
            "$top": "1",
        },
    ).json()["d"]
    assert body["results"][0]["Parent"]["Name"] in ("Discovery", "Design")
    start = stack.pwa.published(pid).props["StartDate"].isoformat()
    body = session.get(
        url,
        params={
            "$filter": f"Start gt datetime'{start}' and not IsSummary",
            "$orderby": "Start desc",
        },
    ).json()["d"]
    starts = [r["Start"] for r in body["results"]]
    assert starts == sorted(starts, reverse=True)
    projects = session.get(
        f"{stack.api}/ProjectServer/Projects", params={"$filter": f"Id eq guid'{pid}'"}
    ).json()["d"]["results"]
    assert [p["Id"] for p in projects] == [pid]


def test_bad_queries_are_400_in_either_dialect(stack: PwaStack) -> None:
    pid = _first_project(stack)
    url = f"{stack.api}/ProjectServer/Projects"
    verbose = stack.session().get(url, params={"$filter": f"Id eq '{pid}'"})
    assert verbose.status_code == 400
    error = verbose.json()["error"]
    assert error["code"].endswith("Microsoft.SharePoint.Client.InvalidClientQueryException")
    assert error["message"]["lang"] == "en-US" and "Edm.Guid" in error["message"]["value"]
    light = stack.session("json").get(url, params={"$wat": "1"})
    assert light.status_code == 400 and "$wat" in light.json()["odata.error"]["message"]["value"]
    assert stack.session().get(url, params={"$select": "Nope"}).status_code == 400
    assert stack.session().get(f"{url}('{'0' * 8}-0000-4000-8000-{'0' * 12}')").status_code == 404


def test_custom_fields_and_lookup_entries(stack: PwaStack) -> None:
    session = stack.session()
    fields, pages = _follow_verbose(session, f"{stack.api}/ProjectServer/CustomFields")
    assert len(fields) == 7 and pages == 2
    by_name = {f["Name"]: f for f in fields}
    rag = by_name["PMO RAG"]
    assert re.fullmatch(r"Custom_[0-9a-f]{32}", rag["InternalName"])
    assert rag["LookupTableId"] and rag["FieldType"] == 21
    key = rag["InternalName"].replace("Custom_", "Custom_x005f_")
    pid = _first_project(stack)
    plain = session.get(f"{stack.api}/ProjectServer/Projects('{pid}')").json()["d"]
    assert key not in plain
    project = session.get(
        f"{stack.api}/ProjectServer/Projects('{pid}')/IncludeCustomFields",
        params={"$select": f"Name,{key}"},
    ).json()["d"]
    value = project[key]
    assert value["__metadata"]["type"] == "Collection(Edm.String)"
    (entry_name,) = value["results"]
    assert re.fullmatch(r"Entry_[0-9a-f]{32}", entry_name)
    entries = session.get(
        f"{stack.api}/ProjectServer/LookupTables('{rag['LookupTableId']}')/Entries"
    ).json()["d"]["results"]
    text = next(e["FullValue"] for e in entries if e["InternalName"] == entry_name)
    assert text in RAG_VALUES
    assert [text] == stack.pwa.custom_field_value(pid, "PMO RAG")
    light = (
        stack.session("nometadata")
        .get(
            f"{stack.api}/ProjectServer/Projects",
            params={"$expand": "IncludeCustomFields", "$select": f"Id,IncludeCustomFields/{key}"},
        )
        .json()
    )
    assert light["value"][0]["IncludeCustomFields"][key] == [entry_name]
    workstream = by_name["Workstream"]["InternalName"].replace("Custom_", "Custom_x005f_")
    tasks = session.get(
        f"{stack.api}/ProjectServer/Projects('{pid}')/Tasks",
        params={"$filter": "OutlineLevel eq 2", "$select": f"Name,{workstream}"},
    ).json()["d"]["results"]
    assert {t[workstream] for t in tasks} <= {"Platform", "Integration", "Change", "Data"}


def test_expanded_project_pages_are_capped(stack: PwaStack) -> None:
    stack.pwa.configure({"expand_page_size": 2})
    rows, pages = _follow_verbose(
        stack.session(), f"{stack.api}/ProjectServer/Projects", **{"$expand": "Draft"}
    )
    assert len(rows) == 3 and pages == 2
    assert rows[0]["Draft"]["__metadata"]["type"] == "PS.DraftProject"


def test_task_links_use_project_codes(stack: PwaStack) -> None:
    session = stack.session()
    codes: set[int] = set()
    for project in stack.pwa.projects():
        pid = project["Id"]
        links, _ = _follow_verbose(
            session, f"{stack.api}/ProjectServer/Projects('{pid}')/TaskLinks"
        )
        tasks = {t["Id"] for t in stack.pwa.published(pid).tasks}
        assert len(links) == project["TaskLinks"]
        for link in links:
            # PS.PublishedTaskLink as Microsoft's $metadata has it (StartId/EndId are draft-only)
            assert "StartId" not in link and "EndId" not in link
            assert link["PredecessorTaskId"] in tasks and link["SuccessorTaskId"] in tasks
            assert link["ProjUid"] == pid
            assert link["LinkLag"] % 4800 == 0
            assert link["LinkLagFmt"] == 7  # days
            assert link["LinkLagDuration"] == f"{link['LinkLag'] // 4800}d"
            codes.add(link["DependencyType"])
    assert 1 in codes and codes <= {0, 1, 2, 3} and len(codes) >= 2
    pid = _first_project(stack)
    link = session.get(
        f"{stack.api}/ProjectServer/Projects('{pid}')/TaskLinks",
        params={"$expand": "Start,End", "$top": "1"},
    ).json()["d"]["results"][0]
    assert link["Start"]["Id"] == link["PredecessorTaskId"]
    assert link["End"]["Id"] == link["SuccessorTaskId"]
    predecessors = session.get(
        f"{stack.api}/ProjectServer/Projects('{pid}')/Tasks('{link['SuccessorTaskId']}')/"
        "Predecessors"
    ).json()["d"]["results"]
    assert link["Id"] in [p["Id"] for p in predecessors]


def test_project_data_reporting_feed(stack: PwaStack) -> None:
    session = stack.session()
    pid = _first_project(stack)
    projects = session.get(f"{stack.api}/ProjectData/Projects").json()["d"]["results"]
    assert len(projects) == 3
    one = next(p for p in projects if p["ProjectId"] == pid)
    assert re.fullmatch(r"/Date\(\d+\)/", one["ProjectModifiedDate"])
    assert one["PMORAG"] in RAG_VALUES and one["Programme"]
    single = session.get(f"{stack.api}/ProjectData/Projects(guid'{pid}')").json()["d"]
    assert single["ProjectName"] == one["ProjectName"]
    tasks, _ = _follow_verbose(
        session, f"{stack.api}/ProjectData/Tasks", **{"$filter": f"ProjectId eq guid'{pid}'"}
    )
    assert len(tasks) == 12
    nav = session.get(f"{stack.api}/ProjectData/Projects(guid'{pid}')/Tasks").json()["d"]
    assert len(nav["results"]) == 5 and "__next" in nav
    issues = session.get(f"{stack.api}/ProjectData/Issues").json()["d"]["results"]
    risks = session.get(f"{stack.api}/ProjectData/Risks").json()["d"]["results"]
    assert (
        len(issues) == 5 and "__next" in session.get(f"{stack.api}/ProjectData/Issues").json()["d"]
    )
    assert {"Title", "Status", "AssignedToResource", "DueDate"} <= set(risks[0])
    assert {"Probability", "Impact", "Exposure", "MitigationPlan"} <= set(risks[0])
    baselines = session.get(
        f"{stack.api}/ProjectData/TaskBaselines",
        params={"$filter": "BaselineNumber eq 0", "$top": "2"},
    ).json()["d"]["results"]
    assert len(baselines) == 2 and baselines[0]["TaskBaselineStartDate"].startswith("/Date(")
    assignments = session.get(f"{stack.api}/ProjectData/Assignments", params={"$top": "1"}).json()[
        "d"
    ]["results"]
    assert assignments[0]["ResourceName"]
    counted = (
        stack.session("json")
        .get(f"{stack.api}/ProjectData/Risks", params={"$inlinecount": "allpages", "$top": "1"})
        .json()
    )
    assert counted["odata.count"] == "6"
    localized = session.get(f"{stack.api}/ProjectData/[en-US]/Projects", params={"$top": "1"})
    assert localized.status_code == 200
    assert session.post(f"{stack.api}/ProjectData/Projects", json={}).status_code in (403, 405)


def test_seed_is_deterministic(tmp_path: Path) -> None:
    from pmosync.sandbox.pwa.seed import build_state

    first = build_state(SEED)
    second = build_state(SEED)
    assert list(first.projects) == list(second.projects)
    a = next(iter(first.projects.values())).published
    b = next(iter(second.projects.values())).published
    assert [(t["Id"], t["Start"], t["Finish"]) for t in a.tasks] == [
        (t["Id"], t["Start"], t["Finish"]) for t in b.tasks
    ]
    assert build_state(SeedSpec(seed=12)).projects.keys() != first.projects.keys()


def test_metadata_document_describes_the_feed(stack: PwaStack) -> None:
    import xml.etree.ElementTree as ET

    reply = stack.session().get(f"{stack.api}/ProjectData/$metadata")
    assert reply.status_code == 200 and reply.headers["Content-Type"].startswith("application/xml")
    root = ET.fromstring(reply.text)
    edm = "{http://schemas.microsoft.com/ado/2009/11/edm}"
    types = {t.get("Name"): t for t in root.iter(f"{edm}EntityType")}
    assert set(types) >= {"Project", "Task", "Issue", "Risk", "TaskBaseline", "Assignment"}
    task_props = {p.get("Name"): p.get("Type") for p in types["Task"].iter(f"{edm}Property")}
    assert task_props["TaskId"] == "Edm.Guid" and task_props["TaskStartDate"] == "Edm.DateTime"
    assert task_props["TaskIsMilestone"] == "Edm.Boolean"
    keys = [k.get("Name") for k in types["Task"].iter(f"{edm}PropertyRef")]
    assert keys == ["ProjectId", "TaskId"]


def test_expand_draft_custom_fields_and_human_task_edit(stack: PwaStack) -> None:
    # reads ProjectData right after a publish: the reporting lag (on by default) is off
    stack.pwa.configure({"reporting_lag_seconds": 0})
    pid = _first_project(stack)
    fields = {f.name: f for f in stack.pwa.state.custom_fields}
    status = fields["PMO Status"].json_key
    body = (
        stack.session()
        .get(
            f"{stack.api}/ProjectServer/Projects",
            params={
                "$filter": f"Id eq guid'{pid}'",
                "$expand": "Draft/IncludeCustomFields",
                "$select": f"Name,Draft/IncludeCustomFields/{status}",
            },
        )
        .json()["d"]["results"][0]
    )
    assert body["Draft"]["IncludeCustomFields"][status].startswith(body["Name"])
    task = next(t for t in stack.pwa.published(pid).tasks if t["OutlineLevel"] == 2)
    stack.pwa.human_edit(pid, task["Id"], custom={"Workstream": "Security"})
    row = (
        stack.session()
        .get(
            f"{stack.api}/ProjectServer/Projects('{pid}')/Tasks('{task['Id']}')",
            params={"$select": fields["Workstream"].json_key},
        )
        .json()["d"]
    )
    assert row[fields["Workstream"].json_key] == "Security"
    reporting = (
        stack.session()
        .get(f"{stack.api}/ProjectData/Tasks(ProjectId=guid'{pid}',TaskId=guid'{task['Id']}')")
        .json()["d"]
    )
    assert reporting["Workstream"] == "Security"


def test_projectserver_dates_iso_by_default_ms_on_request(stack: PwaStack) -> None:
    pid = _first_project(stack)
    url = f"{stack.api}/ProjectServer/Projects('{pid}')"
    iso = stack.session().get(url, params={"$select": "StartDate"}).json()["d"]["StartDate"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", iso)
    stack.pwa.configure({"projectserver_ms_dates": True})
    wcf = stack.session().get(url, params={"$select": "StartDate"}).json()["d"]["StartDate"]
    assert re.fullmatch(r"/Date\(\d+\)/", wcf)
    light = stack.session("json").get(url, params={"$select": "StartDate"}).json()["StartDate"]
    assert light == iso


def test_number_custom_fields_as_strings(stack: PwaStack) -> None:
    pid = _first_project(stack)
    key = next(f.json_key for f in stack.pwa.state.custom_fields if f.name == "PMO Confidence")
    url = f"{stack.api}/ProjectServer/Projects('{pid}')/IncludeCustomFields"
    number = stack.session().get(url, params={"$select": key}).json()["d"][key]
    assert isinstance(number, float)
    stack.pwa.configure({"numbers_as_strings": True})
    text = stack.session().get(url, params={"$select": key}).json()["d"][key]
    assert text == f"{number:g}"


def test_expired_skiptoken_fails_the_page(stack: PwaStack) -> None:
    stack.pwa.configure({"expire_skiptokens": 1})
    session = stack.session()
    first = session.get(f"{stack.api}/ProjectData/Tasks").json()["d"]
    expired = session.get(first["__next"])
    assert (
        expired.status_code == 400 and "skip token" in expired.json()["error"]["message"]["value"]
    )
    assert session.get(first["__next"]).status_code == 200


def test_summary_task_team_and_enterprise_resources(stack: PwaStack) -> None:
    pid = _first_project(stack)
    session = stack.session()
    summary = session.get(f"{stack.api}/ProjectServer/Projects('{pid}')/ProjectSummaryTask").json()
    summary = summary["d"]
    plan = stack.pwa.published(pid)
    assert summary["__metadata"]["type"] == "PS.ProjectSummaryTask"
    assert summary["Id"] == plan.props["SummaryTaskId"]
    assert "OutlineLevel" not in summary  # PS.ProjectSummaryTask is a PS.Task (EDMX)
    assert summary["Finish"] == plan.props["FinishDate"].isoformat()
    team = session.get(f"{stack.api}/ProjectServer/Projects('{pid}')/ProjectResources").json()
    members = team["d"]["results"]
    assert {m["Id"] for m in members} == {r["Id"] for r in plan.resources}
    assignments = session.get(
        f"{stack.api}/ProjectServer/Projects('{pid}')/Assignments",
        params={
            "$expand": "Resource,Task",
            "$select": "Id,WorkMilliseconds,Resource/Name,Task/Name",
        },
    ).json()["d"]["results"]
    assert assignments and all(a["Resource"]["Name"] and a["Task"]["Name"] for a in assignments)
    people = session.get(f"{stack.api}/ProjectServer/EnterpriseResources").json()["d"]["results"]
    assert len(people) == 5 and people[0]["Email"].endswith("@contoso.onmicrosoft.com")
    kinds = session.get(f"{stack.api}/ProjectServer/EntityTypes/ProjectEntity").json()["d"]
    assert kinds["Name"] == "ProjectEntity" and kinds["ID"]
