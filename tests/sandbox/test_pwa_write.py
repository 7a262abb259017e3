"""Write side of the PWA emulator: digest, check-out, draft edits, queue jobs, publish, locks,
throttling; real requests + msal tokens over https with the sandbox CA."""

from __future__ import annotations

import time
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
import requests

from pmosync.sandbox.pwa import SeedSpec
from pmosync.sandbox.pwa import emulator as pwa_emulator
from pmosync.sandbox.pwa.stack import PwaStack, pwa_stack

PJ = "Microsoft.ProjectServer.PJClientCallableException"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PwaStack]:
    seed = SeedSpec(projects=2, tasks_per_project=9, seed=5, page_size=50)
    with pwa_stack(tmp_path_factory.mktemp("pwa-write"), seed, job_polls=3) as running:
        yield running


@pytest.fixture(autouse=True)
def _fresh(stack: PwaStack, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    stack.pwa.reset()
    stack.pwa.faults.clear()


class Client:
    """What a connector does by hand: verbose JSON, a form digest on every write."""

    def __init__(self, stack: PwaStack, token: str | None = None) -> None:
        self.stack = stack
        self.session = stack.session("verbose", token=token)
        self.session.headers["X-RequestDigest"] = stack.digest(self.session)
        self.base = f"{stack.api}/ProjectServer"

    def get(self, path: str, **params: str) -> Any:
        reply = self.session.get(f"{self.base}/{path}", params=params or None)
        assert reply.status_code == 200, reply.text
        return reply.json()["d"]

    def post(
        self, path: str, body: dict[str, Any] | None = None, **headers: str
    ) -> requests.Response:
        return self.session.post(f"{self.base}/{path}", json=body, headers=headers or None)

    def merge(self, path: str, body: dict[str, Any]) -> requests.Response:
        return self.post(path, body, **{"X-HTTP-Method": "MERGE", "IF-MATCH": "*"})

    def wait(self, pid: str, job: dict[str, Any]) -> tuple[int, list[int]]:
        states = [job["JobState"]]
        for _ in range(10):
            state = self.get(f"Projects('{pid}')/QueueJobs('{job['Id']}')")["JobState"]
            states.append(state)
            if state in (4, 5, 8):
                return state, states
        raise AssertionError(f"job never finished: {states}")


def _error(reply: requests.Response) -> tuple[str, str]:
    body = reply.json()
    inner = body.get("error") or body["odata.error"]
    return inner["code"], inner["message"]["value"]


def _pid(stack: PwaStack, index: int = 0) -> str:
    return str(stack.pwa.projects()[index]["Id"])


def _leaf(stack: PwaStack, pid: str) -> dict[str, Any]:
    leaves = [
        t
        for t in stack.pwa.published(pid).tasks
        if t["OutlineLevel"] == 2 and t["DurationMilliseconds"] > 0
    ]
    return leaves[-1]


def test_check_out_edit_custom_fields_publish(stack: PwaStack) -> None:
    # reads ProjectData right after a publish: the reporting lag (on by default) is off
    stack.pwa.configure({"reporting_lag_seconds": 0})
    client = Client(stack)
    pid = _pid(stack)
    task = _leaf(stack, pid)
    published_before = stack.pwa.projects()[0]["LastPublishedDate"]

    draft = client.post(f"Projects('{pid}')/checkOut()")
    assert draft.status_code == 200 and draft.json()["d"]["__metadata"]["type"] == "PS.DraftProject"
    assert stack.pwa.checked_out_by(pid) == stack.entra.users[0].upn
    assert client.get(f"Projects('{pid}')", **{"$select": "IsCheckedOut"})["IsCheckedOut"]

    reply = client.merge(
        f"Projects('{pid}')/Draft/Tasks('{task['Id']}')",
        {
            "__metadata": {"type": "PS.DraftTask"},
            "Name": "Renamed by pmo-sync",
            "PercentComplete": 40,
            "Duration": "6d",
        },
    )
    assert reply.status_code == 204, reply.text
    # Published readers still see the old task; the draft has the change.
    path = f"Projects('{pid}')/Tasks('{task['Id']}')"
    assert client.get(path)["Name"] == task["Name"]
    draft_task = client.get(f"Projects('{pid}')/Draft/Tasks('{task['Id']}')")
    assert (
        draft_task["Name"] == "Renamed by pmo-sync"
        and draft_task["DurationMilliseconds"] == 6 * 28_800_000
    )

    fields = {f["Name"]: f for f in client.get("CustomFields")["results"]}
    table = fields["PMO RAG"]["LookupTableId"]
    red = next(
        e
        for e in client.get(f"LookupTables('{table}')/Entries")["results"]
        if e["FullValue"] == "Red"
    )
    body = {
        "customFieldDictionary": [
            {
                "__metadata": {"type": "SP.KeyValue"},
                "Key": fields["PMO RAG"]["InternalName"],
                "Value": red["InternalName"],
                "ValueType": "Edm.String",
            },
            {
                "__metadata": {"type": "SP.KeyValue"},
                "Key": fields["PMO Forecast"]["InternalName"],
                "Value": "2027-01-15T00:00:00",
                "ValueType": "Edm.DateTime",
            },
            {
                "__metadata": {"type": "SP.KeyValue"},
                "Key": fields["PMO Status"]["InternalName"],
                "Value": "Slipping: vendor late",
                "ValueType": "Edm.String",
            },
            {
                "__metadata": {"type": "SP.KeyValue"},
                "Key": fields["PMO Confidence"]["InternalName"],
                "Value": "42.5",
                "ValueType": "Edm.Double",
            },
        ]
    }
    job = client.post(f"Projects('{pid}')/Draft/UpdateCustomFields()", body)
    assert job.status_code == 200 and job.json()["d"]["__metadata"]["type"] == "PS.QueueJob"
    state, states = client.wait(pid, job.json()["d"])
    assert state == 4 and states == [1, 3, 3, 4]
    assert stack.pwa.custom_field_value(pid, "PMO RAG", draft=True) == ["Red"]
    assert stack.pwa.custom_field_value(pid, "PMO Status", draft=True) == "Slipping: vendor late"
    assert stack.pwa.custom_field_value(pid, "PMO Status") != "Slipping: vendor late"

    publish = client.post(f"Projects('{pid}')/Draft/publish(true)")
    assert publish.status_code == 200
    job = publish.json()["d"]
    assert job["MessageType"] == 24 and job["JobState"] == 1
    # Not yet: publishing takes several polls.
    assert client.get(path)["Name"] == task["Name"]
    state, states = client.wait(pid, job)
    assert state == 4 and len(states) == 4
    assert client.get(path)["Name"] == "Renamed by pmo-sync"
    project = client.get(f"Projects('{pid}')")
    assert project["IsCheckedOut"] is False and stack.pwa.checked_out_by(pid) is None
    assert project["LastPublishedDate"] > published_before.isoformat()
    assert stack.pwa.custom_field_value(pid, "PMO RAG") == ["Red"]
    assert stack.pwa.custom_field_value(pid, "PMO Status") == "Slipping: vendor late"
    reporting = (
        stack.session()
        .get(
            f"{stack.api}/ProjectData/Projects(guid'{pid}')", params={"$select": "PMORAG,PMOStatus"}
        )
        .json()["d"]
    )
    assert reporting["PMORAG"] == "Red" and reporting["PMOStatus"] == "Slipping: vendor late"


def test_add_tasks_links_and_assignments(stack: PwaStack) -> None:
    client = Client(stack)
    pid = _pid(stack)
    plan = stack.pwa.published(pid)
    phase = next(t for t in plan.tasks if t["OutlineLevel"] == 1 and t["IsSummary"])
    before = len([t for t in plan.tasks if t["OutlineLevel"] > 0])
    assert client.post(f"Projects('{pid}')/checkOut()").status_code == 200
    new_id = "0f0e0d0c-0b0a-4909-8807-060504030201"
    added = client.post(
        f"Projects('{pid}')/Draft/Tasks/Add",
        {
            "parameters": {
                "Id": new_id,
                "Name": "Security review",
                "ParentId": phase["Id"],
                "Start": "2026-10-05T08:00:00",
                "Duration": "3d",
            }
        },
    )
    assert added.status_code == 200, added.text
    assert (
        added.json()["d"]["OutlineLevel"] == 2
        and added.json()["d"]["Finish"] == "2026-10-07T17:00:00"
    )
    again = client.post(
        f"Projects('{pid}')/Draft/Tasks/Add", {"parameters": {"Id": new_id, "Name": "dup"}}
    )
    assert again.status_code == 400  # a retried create finds its own earlier success
    link = client.post(
        f"Projects('{pid}')/Draft/TaskLinks/Add",
        {"parameters": {"StartId": phase["Id"], "EndId": new_id, "DependencyType": 3}},
    )
    assert link.status_code == 200 and link.json()["d"]["DependencyType"] == 3
    resource = plan.resources[0]["Id"]
    assignment = client.post(
        f"Projects('{pid}')/Draft/Assignments/Add",
        {"parameters": {"ResourceId": resource, "TaskId": new_id}},
    )
    assert assignment.status_code == 200, assignment.text
    outsider = next(
        r["Id"]
        for r in stack.pwa.state.resources
        if r["Id"] not in {m["Id"] for m in plan.resources}
    )
    refused = client.post(
        f"Projects('{pid}')/Draft/Assignments/Add",
        {"parameters": {"ResourceId": outsider, "TaskId": new_id}},
    )
    assert refused.status_code == 400
    team = client.post(
        f"Projects('{pid}')/Draft/ProjectResources/AddEnterpriseResourceById('{outsider}')"
    )
    assert client.wait(pid, team.json()["d"])[0] == 4
    assert (
        client.post(
            f"Projects('{pid}')/Draft/Assignments/Add",
            {"parameters": {"ResourceId": outsider, "TaskId": new_id}},
        ).status_code
        == 200
    )
    task_custom = next(
        f for f in client.get("CustomFields")["results"] if f["Name"] == "Workstream"
    )
    bad = client.merge(
        f"Projects('{pid}')/Draft/Tasks('{new_id}')",
        {task_custom["InternalName"].replace("Custom_", "Custom_x005f_"): "Data"},
    )
    assert bad.status_code == 400  # task custom fields are not writable through REST
    assert (
        client.wait(pid, client.post(f"Projects('{pid}')/Draft/publish(true)").json()["d"])[0] == 4
    )
    tasks = client.get(f"Projects('{pid}')/Tasks")["results"]
    assert len(tasks) == before + 1
    assert new_id in [t["Id"] for t in tasks]
    links = client.get(f"Projects('{pid}')/Tasks('{new_id}')/Predecessors")["results"]
    assert [lk["DependencyType"] for lk in links] == [3]


def test_conflicting_check_out_and_force_check_in(stack: PwaStack) -> None:
    client = Client(stack)
    pid = _pid(stack)
    stack.pwa.check_out_as(pid, "planner@contoso.onmicrosoft.com")
    reply = client.post(f"Projects('{pid}')/checkOut()")
    assert reply.status_code == 403
    assert _error(reply) == (f"10103, {PJ}", "CICOCheckedOutInOtherSession")
    task = _leaf(stack, pid)
    edit = client.merge(f"Projects('{pid}')/Draft/Tasks('{task['Id']}')", {"Name": "x"})
    assert edit.status_code == 403 and _error(edit)[1] == "CICOCheckedOutInOtherSession"
    checked_in = client.post(f"Projects('{pid}')/Draft/checkIn(false)")
    assert checked_in.status_code == 403
    forced = client.post(f"Projects('{pid}')/Draft/checkIn(true)")
    assert forced.status_code == 200
    assert client.wait(pid, forced.json()["d"])[0] == 4
    assert stack.pwa.checked_out_by(pid) is None
    not_out = client.merge(f"Projects('{pid}')/Draft/Tasks('{task['Id']}')", {"Name": "x"})
    assert not_out.status_code == 403 and _error(not_out) == (f"10102, {PJ}", "CICONotCheckedOut")
    assert client.post(f"Projects('{pid}')/checkOut()").status_code == 200
    assert client.post(f"Projects('{pid}')/checkOut()").status_code == 200  # same session: no-op


def test_running_job_holds_the_write_lock(stack: PwaStack) -> None:
    client = Client(stack)
    pid = _pid(stack)
    assert client.post(f"Projects('{pid}')/checkOut()").status_code == 200
    job = client.post(f"Projects('{pid}')/Draft/update()").json()["d"]
    blocked = client.post(f"Projects('{pid}')/Draft/publish(true)")
    assert blocked.status_code == 403 and _error(blocked) == (f"1030, {PJ}", "ProjectWriteLock")
    assert client.wait(pid, job)[0] == 4
    job = client.post(f"Projects('{pid}')/Draft/publish(true)").json()["d"]
    again = client.post(f"Projects('{pid}')/checkOut()")
    assert again.status_code == 403 and _error(again)[1] == "ProjectWriteLock"
    assert client.wait(pid, job)[0] == 4
    assert client.post(f"Projects('{pid}')/checkOut()").status_code == 200


def test_jobs_also_finish_with_time(stack: PwaStack) -> None:
    stack.pwa.configure({"job_polls": 100, "job_seconds": 0.2})
    client = Client(stack)
    pid = _pid(stack)
    client.post(f"Projects('{pid}')/checkOut()")
    job = client.post(f"Projects('{pid}')/Draft/checkIn(false)").json()["d"]
    time.sleep(0.3)
    assert client.get(f"Projects('{pid}')/QueueJobs('{job['Id']}')")["JobState"] == 4
    assert stack.pwa.checked_out_by(pid) is None


def test_failed_publish_blocks_the_project_queue_until_an_admin_cancels_it(
    stack: PwaStack,
) -> None:
    # Project Server: a Failed (5) job blocks the project's later jobs, which show JobState 8
    # CorrelationBlocked until an administrator cancels the failed job (Manage Queue Jobs).
    client = Client(stack)
    pid = _pid(stack)
    task = _leaf(stack, pid)
    stack.pwa.configure({"fail_next_publish": 1})
    client.post(f"Projects('{pid}')/checkOut()")
    client.merge(f"Projects('{pid}')/Draft/Tasks('{task['Id']}')", {"Name": "Never published"})
    job = client.post(f"Projects('{pid}')/Draft/publish(true)").json()["d"]
    assert client.wait(pid, job)[0] == 5
    assert stack.pwa.checked_out_by(pid) is not None
    assert client.get(f"Projects('{pid}')/Tasks('{task['Id']}')")["Name"] == task["Name"]
    forced = client.post(f"Projects('{pid}')/Draft/checkIn(true)").json()["d"]
    assert forced["JobState"] == 8
    state, states = client.wait(pid, forced)
    assert state == 8 and set(states) == {8}  # polling does not move a blocked job
    assert stack.pwa.checked_out_by(pid) is not None
    listed = client.session.get(f"{stack.pwa_url}/_admin/pwa/jobs")
    failed = [j for j in listed.json() if j["JobState"] == 5]
    assert [j["Id"] for j in failed] == [job["Id"]]
    cancel = client.session.post(f"{stack.pwa_url}/_admin/pwa/jobs/{job['Id']}/cancel")
    assert cancel.status_code == 200
    assert client.wait(pid, forced)[0] == 4 and stack.pwa.checked_out_by(pid) is None
    # The next publish works again.
    client.post(f"Projects('{pid}')/checkOut()")
    assert (
        client.wait(pid, client.post(f"Projects('{pid}')/Draft/publish(true)").json()["d"])[0] == 4
    )
    assert client.get(f"Projects('{pid}')/Tasks('{task['Id']}')")["Name"] == "Never published"


def test_form_digest_is_required_on_writes(stack: PwaStack) -> None:
    pid = _pid(stack)
    session = stack.session("json")
    url = f"{stack.api}/ProjectServer/Projects('{pid}')/checkOut()"
    missing = session.post(url)
    assert missing.status_code == 403
    code, message = _error(missing)
    assert code == "-2130575251, Microsoft.SharePoint.SPException"
    assert "security validation" in message
    digest = session.post(f"{stack.api}/contextinfo").json()
    assert digest["FormDigestTimeoutSeconds"] == 1800 and digest["FormDigestValue"].startswith("0x")
    assert session.post(url, headers={"X-RequestDigest": "0xBAD,01 Jan 2026"}).status_code == 403
    stack.pwa.configure({"digest_ttl": 0})
    time.sleep(0.01)
    stale = session.post(url, headers={"X-RequestDigest": digest["FormDigestValue"]})
    assert stale.status_code == 403
    stack.pwa.configure({"digest_ttl": 1800})
    fresh = stack.digest(session)
    assert session.post(url, headers={"X-RequestDigest": fresh}).status_code == 200
    stack.pwa.configure({"digest_policy": "never"})
    assert (
        session.post(
            f"{stack.api}/ProjectServer/Projects('{_pid(stack, 1)}')/checkOut()"
        ).status_code
        == 200
    )


def test_write_needs_a_write_scope(stack: PwaStack) -> None:
    read_only = stack.entra.mint_access_token(stack.pwa_url, scopes=["Project.Read"])
    client = Client(stack, token=read_only)
    reply = client.post(f"Projects('{_pid(stack)}')/checkOut()")
    assert reply.status_code == 403
    assert _error(reply)[0] == "-2147024891, System.UnauthorizedAccessException"
    assert client.get("Projects", **{"$top": "1"})["results"]


def test_throttling_answers_with_integer_retry_after(stack: PwaStack) -> None:
    session = stack.session("json")
    url = f"{stack.api}/ProjectServer/Projects"
    stack.pwa.configure({"throttle": {"status": 429, "count": 1, "retry_after": 1}})
    first = session.get(url)
    assert first.status_code == 429 and first.headers["Retry-After"] == "1"
    assert "throttled" in first.json()["odata.error"]["message"]["value"]
    assert session.get(url).status_code == 200
    stack.pwa.configure({"throttle": {"status": 503, "count": 2, "retry_after": 2}})
    assert [session.get(url).status_code for _ in range(3)] == [503, 503, 200]
    stack.pwa.configure({"rate_limit_per_minute": 2})
    codes = [session.get(url) for _ in range(3)]
    assert [r.status_code for r in codes] == [200, 200, 429]
    assert int(codes[2].headers["Retry-After"]) >= 1
    assert codes[2].headers["RateLimit-Limit"] == "2"


def test_a_retry_before_retry_after_lengthens_the_throttling(
    stack: PwaStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # SharePoint: "Throttled requests count towards usage limits, so failure to honor
    # Retry-After may result in more throttling" (how-to-avoid-getting-throttled-or-blocked-in-
    # sharepoint-online). The emulator's window runs on this clock.
    clock = [1000.0]
    monkeypatch.setattr(pwa_emulator, "time", SimpleNamespace(monotonic=lambda: clock[0]))
    session = stack.session("json")
    url = f"{stack.api}/ProjectServer/Projects"
    stack.pwa.configure({"rate_limit_per_minute": 2})

    def status_at(moment: float) -> tuple[int, str | None]:
        clock[0] = moment
        reply = session.get(url)
        return reply.status_code, reply.headers.get("Retry-After")

    # a client that waits as told gets through
    assert [status_at(1000)[0], status_at(1000)[0]] == [200, 200]
    assert status_at(1000) == (429, "60")
    assert status_at(1061)[0] == 200
    # one that retries early twice is still throttled when the first wait is over
    assert [status_at(2000)[0], status_at(2000)[0]] == [200, 200]
    assert status_at(2000) == (429, "60")
    assert status_at(2030)[0] == 429
    assert status_at(2045)[0] == 429
    assert status_at(2061) == (429, "44")  # its own early retries now fill the window


def test_human_edit_publishes_and_draft_edits_stay_invisible(stack: PwaStack) -> None:
    # reads ProjectData right after a publish: the reporting lag (on by default) is off
    stack.pwa.configure({"reporting_lag_seconds": 0})
    pid = _pid(stack)
    task = _leaf(stack, pid)
    before = stack.pwa.projects()[0]["LastPublishedDate"]
    stack.pwa.human_edit(pid, task["Id"], Name="Edited in PWA", custom={"PMO RAG": "Amber"})
    assert (stack.pwa.published(pid).task(task["Id"]) or {}).get("Name") == "Edited in PWA"
    assert stack.pwa.custom_field_value(pid, "PMO RAG") == ["Amber"]
    assert stack.pwa.projects()[0]["LastPublishedDate"] > before
    session = stack.session()
    row = session.get(
        f"{stack.api}/ProjectData/Tasks(ProjectId=guid'{pid}',TaskId=guid'{task['Id']}')"
    ).json()["d"]
    assert row["TaskName"] == "Edited in PWA"
    stack.pwa.human_edit(pid, task["Id"], publish=False, Name="Draft only")
    row = session.get(
        f"{stack.api}/ProjectData/Tasks(ProjectId=guid'{pid}',TaskId=guid'{task['Id']}')"
    ).json()["d"]
    assert row["TaskName"] == "Edited in PWA"
    client = Client(stack)
    assert client.get(f"Projects('{pid}')/Draft/Tasks('{task['Id']}')")["Name"] == "Draft only"


def test_update_custom_fields_validation(stack: PwaStack) -> None:
    client = Client(stack)
    pid = _pid(stack)
    client.post(f"Projects('{pid}')/checkOut()")
    fields = {f["Name"]: f for f in client.get("CustomFields")["results"]}

    def update(key: str, value: str, value_type: str) -> requests.Response:
        item = {"Key": key, "Value": value, "ValueType": value_type}
        return client.post(
            f"Projects('{pid}')/Draft/UpdateCustomFields()", {"customFieldDictionary": [item]}
        )

    unknown = update("Custom_" + "0" * 32, "x", "Edm.String")
    assert unknown.status_code == 400 and _error(unknown) == (
        f"11702, {PJ}",
        "CustomFieldInvalidUID",
    )
    escaped = update(
        fields["PMO Status"]["InternalName"].replace("Custom_", "Custom_x005f_"), "x", "Edm.String"
    )
    assert escaped.status_code == 400  # the JSON key is not the internal name
    wrong_entry = update(fields["PMO RAG"]["InternalName"], "Entry_" + "f" * 32, "Edm.String")
    assert _error(wrong_entry)[1] == "CustomFieldCodeValueDoesNotMatchLookupTable"
    wrong_type = update(fields["PMO Forecast"]["InternalName"], "2027-01-01", "Edm.String")
    assert _error(wrong_type)[1] == "CustomFieldInvalidType"
    task_field = update(fields["Workstream"]["InternalName"], "Data", "Edm.String")
    assert task_field.status_code == 400


def test_delete_tunnelled_and_new_projects(stack: PwaStack) -> None:
    client = Client(stack)
    pid = _pid(stack)
    task = _leaf(stack, pid)
    client.post(f"Projects('{pid}')/checkOut()")
    gone = client.post(
        f"Projects('{pid}')/Draft/Tasks('{task['Id']}')", None, **{"X-HTTP-Method": "DELETE"}
    )
    assert gone.status_code == 204
    assert task["Id"] not in [
        t["Id"] for t in client.get(f"Projects('{pid}')/Draft/Tasks")["results"]
    ]
    assert task["Id"] in [t["Id"] for t in client.get(f"Projects('{pid}')/Tasks")["results"]]
    missing = client.session.delete(f"{client.base}/Projects('{pid}')/Draft/Tasks('{task['Id']}')")
    assert missing.status_code == 404
    created = client.post("Projects/Add", {"parameters": {"Name": "New initiative"}})
    assert created.status_code == 200 and created.json()["d"]["Name"] == "New initiative"
    assert (
        client.post("Projects/Add", {"parameters": {"Name": "new initiative"}}).status_code == 400
    )
    new_pid = created.json()["d"]["Id"]
    assert client.post(f"Projects('{new_pid}')/checkOut()").status_code == 200
    added = client.post(
        f"Projects('{new_pid}')/Draft/Tasks/Add", {"parameters": {"Name": "Kick-off"}}
    )
    assert added.status_code == 200
    assert (
        client.wait(new_pid, client.post(f"Projects('{new_pid}')/Draft/publish(true)").json()["d"])[
            0
        ]
        == 4
    )
    assert [t["Name"] for t in client.get(f"Projects('{new_pid}')/Tasks")["results"]] == [
        "Kick-off"
    ]
    person = client.post("EnterpriseResources/Add", {"parameters": {"Name": "Ivy Chen"}})
    assert person.status_code == 200 and person.json()["d"]["Name"] == "Ivy Chen"


def test_reporting_lags_publish_when_configured(stack: PwaStack) -> None:
    stack.pwa.configure({"reporting_lag_seconds": 0.4})
    pid = _pid(stack)
    task = _leaf(stack, pid)
    url = f"{stack.api}/ProjectData/Tasks(ProjectId=guid'{pid}',TaskId=guid'{task['Id']}')"
    session = stack.session()
    stack.pwa.human_edit(pid, task["Id"], Name="Lagging name")
    assert (stack.pwa.published(pid).task(task["Id"]) or {}).get("Name") == "Lagging name"
    assert session.get(url).json()["d"]["TaskName"] == task["Name"]
    project = session.get(f"{stack.api}/ProjectData/Projects(guid'{pid}')").json()["d"]
    time.sleep(0.5)
    assert session.get(url).json()["d"]["TaskName"] == "Lagging name"
    later = session.get(f"{stack.api}/ProjectData/Projects(guid'{pid}')").json()["d"]
    assert later["ProjectModifiedDate"] > project["ProjectModifiedDate"]


def test_finished_jobs_can_vanish(stack: PwaStack) -> None:
    stack.pwa.configure({"finished_jobs_404": True, "job_polls": 1})
    client = Client(stack)
    pid = _pid(stack)
    client.post(f"Projects('{pid}')/checkOut()")
    job = client.post(f"Projects('{pid}')/Draft/checkIn(false)").json()["d"]
    path = f"{client.base}/Projects('{pid}')/QueueJobs('{job['Id']}')"
    assert client.session.get(path).json()["d"]["JobState"] == 4
    gone = client.session.get(path)
    assert gone.status_code == 404
    assert _error(gone)[0].endswith("ResourceNotFoundException")


def test_force_check_in_waits_for_the_running_job(stack: PwaStack) -> None:
    client = Client(stack)
    pid = _pid(stack)
    client.post(f"Projects('{pid}')/checkOut()")
    job = client.post(f"Projects('{pid}')/Draft/publish(false)").json()["d"]
    blocked = client.post(f"Projects('{pid}')/Draft/checkIn(true)")
    assert blocked.status_code == 403 and _error(blocked)[1] == "ProjectWriteLock"
    assert client.wait(pid, job)[0] == 4
    assert stack.pwa.checked_out_by(pid) is not None  # publish(false) keeps it checked out
    forced = client.post(f"Projects('{pid}')/Draft/checkIn(true)").json()["d"]
    assert client.wait(pid, forced)[0] == 4 and stack.pwa.checked_out_by(pid) is None


def test_real_merge_and_patch_verbs(stack: PwaStack) -> None:
    client = Client(stack)
    pid = _pid(stack)
    task = _leaf(stack, pid)
    client.post(f"Projects('{pid}')/checkOut()")
    url = f"{client.base}/Projects('{pid}')/Draft/Tasks('{task['Id']}')"
    merged = client.session.request("MERGE", url, json={"Notes": "via MERGE"})
    assert merged.status_code == 204
    patched = client.session.patch(url, json={"Priority": 800})
    assert patched.status_code == 204
    draft = client.get(f"Projects('{pid}')/Draft/Tasks('{task['Id']}')")
    assert draft["Notes"] == "via MERGE" and draft["Priority"] == 800
    project = client.session.patch(
        f"{client.base}/Projects('{pid}')/Draft", json={"Description": "Re-planned"}
    )
    assert project.status_code == 204
    assert client.get(f"Projects('{pid}')/Draft")["Description"] == "Re-planned"
    readonly = client.session.patch(url, json={"IsSummary": True})
    assert readonly.status_code == 400
