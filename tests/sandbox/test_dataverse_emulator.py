"""The Dataverse emulator holds to the documented contract: plain CRUD on scheduling tables is
refused, paging and change tracking work as OData says, responses fit its $metadata, operation
sets complete asynchronously within their limits, and 429s carry Retry-After."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from pmosync.config.connections import PlannerConnection
from pmosync.config.loader import load_config
from pmosync.connectors.msproject.auth import MsalCredentials
from pmosync.sandbox.dataverse.csdl import load_schema
from pmosync.sandbox.entra import msal_http_client
from pmosync.sandbox.harness import Sandbox, Scenario
from pmosync.sandbox.scenarios import planner

NAME = "plans_planner"
COMPLETED, PENDING, PROCESSING = 192350003, 192350001, 192350002


@dataclass
class Env:
    api: str
    session: requests.Session
    emulator: Any

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.session.get(f"{self.api}/{path}", **kwargs)

    def post(self, path: str, body: dict[str, Any]) -> requests.Response:
        return self.session.post(f"{self.api}/{path}", json=body)


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    scenario = Scenario(services=planner.services(NAME))
    with Sandbox(scenario, tmp_path / "sb") as running:
        conn = load_config(running.config_path).connection(NAME)
        assert isinstance(conn, PlannerConnection)
        assert running.ca is not None
        session = msal_http_client(running.ca.bundle_path)
        credentials = MsalCredentials(NAME, conn.msal_settings(), session)
        session.headers.update(credentials.headers())
        session.headers["Accept"] = "application/json"
        yield Env(conn.api_url, session, running.services[NAME].emulator)
        session.close()


def _a_task(env: Env) -> dict[str, Any]:
    tasks = env.get("msdyn_projecttasks", params={"$filter": "msdyn_summary eq false"}).json()
    return dict(tasks["value"][0])


def test_plain_patch_of_a_task_is_refused_as_dataverse_does(env: Env) -> None:
    task = _a_task(env)
    reply = env.session.patch(
        f"{env.api}/msdyn_projecttasks({task['msdyn_projecttaskid']})",
        json={"msdyn_subject": "renamed behind the scheduler's back"},
    )
    assert reply.status_code == 400
    error = reply.json()["error"]
    assert error["code"] == "0x80040265" and "msdyn_PssUpdateV1" in error["message"]
    again = env.get(f"msdyn_projecttasks({task['msdyn_projecttaskid']})").json()
    assert again["msdyn_subject"] == task["msdyn_subject"]
    # scheduling fields of the project are refused too; a custom column is plain Dataverse
    project = env.get("msdyn_projects").json()["value"][0]
    url = f"{env.api}/msdyn_projects({project['msdyn_projectid']})"
    assert env.session.patch(url, json={"msdyn_finish": "2027-01-01T17:00:00Z"}).status_code == 400
    assert env.session.patch(url, json={"pmo_statusline": "fine"}).status_code == 204
    assert env.session.delete(f"{env.api}/msdyn_projecttaskdependencies(x)").status_code == 400


def test_paging_follows_next_links_and_every_row_fits_metadata(env: Env) -> None:
    schema = load_schema()
    rows: list[dict[str, Any]] = []
    url: str | None = f"{env.api}/msdyn_projecttasks"
    pages = 0
    while url:
        reply = env.session.get(url, headers={"Prefer": "odata.maxpagesize=5"})
        assert reply.headers["Preference-Applied"] == "odata.maxpagesize=5"
        page = reply.json()
        assert len(page["value"]) <= 5
        rows += page["value"]
        url = page.get("@odata.nextLink")
        pages += 1
    assert pages == 4 and len(rows) == 16 == len({r["msdyn_projecttaskid"] for r in rows})
    for row in rows:
        schema.check("msdyn_projecttask", row)
    metadata = env.get("$metadata")
    assert metadata.status_code == 200 and b"msdyn_projecttaskdependencylinklag" in metadata.content
    bad = env.get("msdyn_projecttasks", params={"$select": "msdyn_nosuchcolumn"})
    assert bad.status_code == 400 and "msdyn_nosuchcolumn" in bad.json()["error"]["message"]


def test_change_tracking_returns_changes_and_deletions_since_the_delta_link(env: Env) -> None:
    first = env.get("msdyn_projectbuckets", headers={"Prefer": "odata.track-changes"}).json()
    delta = first["@odata.deltaLink"]
    assert len(first["value"]) == 4
    bucket = first["value"][0]["msdyn_projectbucketid"]
    other = first["value"][1]["msdyn_projectbucketid"]
    env.emulator.edit("msdyn_projectbuckets", bucket, {"msdyn_name": "Renamed"})
    env.emulator.tables.delete("msdyn_projectbuckets", other)
    changes = env.session.get(delta).json()["value"]
    assert [c.get("msdyn_name") for c in changes if "msdyn_name" in c] == ["Renamed"]
    assert [c["id"] for c in changes if c.get("reason") == "deleted"] == [other]


def test_operation_set_completes_asynchronously_within_its_limits(env: Env) -> None:
    task = _a_task(env)
    project = task["_msdyn_project_value"]
    set_id = env.post("msdyn_CreateOperationSetV1", {"ProjectId": project})
    set_id = set_id.json()["OperationSetId"]
    entity = {
        "@odata.type": "Microsoft.Dynamics.CRM.msdyn_projecttask",
        "msdyn_projecttaskid": task["msdyn_projecttaskid"],
        "msdyn_progress": 75.0,
    }
    queued = env.post("msdyn_PssUpdateV1", {"Entity": entity, "OperationSetId": set_id})
    assert queued.status_code == 200
    unknown = {**entity, "msdyn_nosuchcolumn": 1}
    refused = env.post("msdyn_PssUpdateV1", {"Entity": unknown, "OperationSetId": set_id})
    assert refused.status_code == 400 and "msdyn_nosuchcolumn" in refused.text
    assert env.post("msdyn_ExecuteOperationSetV1", {"OperationSetId": set_id}).status_code == 200
    statuses = [env.get(f"msdyn_operationsets({set_id})").json()["msdyn_status"] for _ in range(3)]
    assert statuses == [PROCESSING, PROCESSING, COMPLETED]
    done = env.get(f"msdyn_projecttasks({task['msdyn_projecttaskid']})").json()
    assert done["msdyn_progress"] == 75.0

    # at most 10 open sets per user
    for _ in range(10):
        assert env.post("msdyn_CreateOperationSetV1", {"ProjectId": project}).status_code == 200
    eleventh = env.post("msdyn_CreateOperationSetV1", {"ProjectId": project})
    assert eleventh.status_code == 400 and "10" in eleventh.json()["error"]["message"]


def test_a_rows_etag_changes_with_every_change_and_only_then(env: Env) -> None:
    """What the connector's own-write record relies on ("Perform conditional operations using
    the Web API": a weak @odata.etag on every row, equal while the row is unchanged)."""
    task = _a_task(env)
    url = f"msdyn_projecttasks({task['msdyn_projecttaskid']})"
    assert env.get(url).json()["@odata.etag"] == task["@odata.etag"]
    set_id = env.post("msdyn_CreateOperationSetV1", {"ProjectId": task["_msdyn_project_value"]})
    set_id = set_id.json()["OperationSetId"]
    entity = {
        "@odata.type": "Microsoft.Dynamics.CRM.msdyn_projecttask",
        "msdyn_projecttaskid": task["msdyn_projecttaskid"],
        "msdyn_subject": "Written by the PMO",
    }
    env.post("msdyn_PssUpdateV1", {"Entity": entity, "OperationSetId": set_id})
    env.post("msdyn_ExecuteOperationSetV1", {"OperationSetId": set_id})
    polls = [env.get(f"msdyn_operationsets({set_id})").json() for _ in range(3)]
    done = polls[-1]
    assert done["msdyn_status"] == COMPLETED
    ours = env.get(url).json()
    assert ours["@odata.etag"] != task["@odata.etag"]
    assert ours["modifiedon"] <= done["msdyn_completedon"]  # ISO instants, both UTC
    env.emulator.edit("msdyn_projecttasks", task["msdyn_projecttaskid"], {"msdyn_subject": "A"})
    assert env.get(url).json()["@odata.etag"] not in (task["@odata.etag"], ours["@odata.etag"])


def _batch(env: Env, *urls: str, prefer: str = "") -> requests.Response:
    boundary = "batch_test"
    body = "".join(
        f"--{boundary}\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary"
        f"\r\n\r\nGET {url} HTTP/1.1\r\nAccept: application/json\r\n{prefer}\r\n"
        for url in urls
    )
    return env.session.post(
        f"{env.api}/$batch",
        data=f"{body}--{boundary}--\r\n",
        headers={"Content-Type": f"multipart/mixed; boundary={boundary}"},
    )


def test_batch_answers_each_get_in_order_in_one_request(env: Env) -> None:
    before = env.emulator.counters.total()
    reply = _batch(
        env,
        f"{env.api}/msdyn_projects?$select=msdyn_subject",
        "msdyn_projecttasks?$select=msdyn_subject",  # relative to the API, as the doc allows
        "msdyn_projecttasks?$select=msdyn_nosuchcolumn",
        prefer="Prefer: odata.maxpagesize=5\r\n",
    )
    assert env.emulator.counters.total() - before == 1
    assert reply.status_code == 200
    boundary = reply.headers["Content-Type"].split("boundary=")[1]
    assert boundary.startswith("batchresponse_")
    parts = [p for p in reply.text.split(f"--{boundary}")[1:] if not p.startswith("--")]
    statuses = [p.split("\r\n\r\n", 1)[1].split("\r\n", 1)[0] for p in parts]
    assert statuses == ["HTTP/1.1 200 OK", "HTTP/1.1 200 OK", "HTTP/1.1 400 Bad Request"]
    tasks = json.loads(parts[1].rsplit("\r\n\r\n", 1)[1])
    assert len(tasks["value"]) == 5 and "skiptoken" in tasks["@odata.nextLink"]
    # a change set (writes in one transaction) is not modelled: refused whole, never half-run
    refused = env.session.post(
        f"{env.api}/$batch",
        data="--b\r\nContent-Type: multipart/mixed; boundary=changeset_1\r\n\r\n--b--\r\n",
        headers={"Content-Type": "multipart/mixed; boundary=b"},
    )
    assert refused.status_code == 400 and "Change sets" in refused.json()["error"]["message"]


def test_at_most_200_operations_per_set(env: Env) -> None:
    task = _a_task(env)
    set_id = env.post("msdyn_CreateOperationSetV1", {"ProjectId": task["_msdyn_project_value"]})
    set_id = set_id.json()["OperationSetId"]
    entity = {
        "@odata.type": "Microsoft.Dynamics.CRM.msdyn_projecttask",
        "msdyn_projecttaskid": task["msdyn_projecttaskid"],
        "msdyn_subject": "x",
    }
    body = {"Entity": entity, "OperationSetId": set_id}
    codes = [env.post("msdyn_PssUpdateV1", body).status_code for _ in range(201)]
    assert codes[:200] == [200] * 200 and codes[200] == 400


def test_service_protection_429_carries_retry_after_and_the_dataverse_error(env: Env) -> None:
    env.emulator.faults.set({"burst": {"status": 429, "count": 1, "retry_after": 7}})
    reply = env.get("msdyn_projects")
    assert reply.status_code == 429 and reply.headers["Retry-After"] == "7"
    assert reply.json()["error"]["code"] == "0x80072322"
    assert env.get("msdyn_projects").status_code == 200


def test_schedule_apis_refuse_application_users(env: Env) -> None:
    project = env.get("msdyn_projects").json()["value"][0]["msdyn_projectid"]
    origin = env.api.split("/api/")[0]
    # what Entra's client-credentials token carries (no scp, idtyp app): an application user
    env.emulator.token_validator = lambda _token: {"aud": origin, "idtyp": "app", "appid": "a"}
    env.emulator.configure({"allow_app_only": True})
    assert env.get("msdyn_projects").status_code == 200  # reads are plain Dataverse
    reply = env.post("msdyn_CreateOperationSetV1", {"ProjectId": project})
    assert reply.status_code == 403 and "application users" in reply.json()["error"]["message"]
