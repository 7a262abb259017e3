"""The Airtable emulator driven through the real pyairtable client over loopback https."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from pyairtable import Api
from pyairtable.models.schema import (
    CountFieldSchema,
    FormulaFieldSchema,
    LastModifiedTimeFieldSchema,
    MultipleRecordLinksFieldSchema,
    SingleSelectFieldSchema,
)

from pmosync.config.mapping import TeamMapping
from pmosync.sandbox.airtable import AirtableEmulator
from pmosync.sandbox.ca import SandboxCA
from pmosync.sandbox.harness import RunningService, Sandbox
from pmosync.sandbox.scenarios.airtable_pmo import (
    BASE_ID,
    build_emulator,
    scenario,
    simulate_edits,
)
from pmosync.sandbox.server import ServedApp

TODAY = date(2026, 3, 2)
TEST_BASE = "appTESTBASE000001"

# Every test starts from the emulator's defaults, with the rate limit off unless it is the point.
DEFAULT_KNOBS = {
    "rate_limit_enabled": False,
    "requests_per_second": 5,
    "token_requests_per_second": 50,
    "lockout_seconds": 30,
    "offset_ttl_seconds": 300,
}


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    # requests lets REQUESTS_CA_BUNDLE override Session.verify (§0.3), so clear it here.
    patch = pytest.MonkeyPatch()
    patch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    patch.delenv("CURL_CA_BUNDLE", raising=False)
    with Sandbox(scenario(today=TODAY), tmp_path_factory.mktemp("airtable")) as sb:
        yield sb
    patch.undo()


@pytest.fixture(scope="module")
def service(sandbox: Sandbox) -> RunningService:
    return sandbox.services["pmo_airtable"]


@pytest.fixture(scope="module")
def emulator(service: RunningService) -> AirtableEmulator:
    assert isinstance(service.emulator, AirtableEmulator)
    return service.emulator


@pytest.fixture()
def api(sandbox: Sandbox, service: RunningService, emulator: AirtableEmulator) -> Api:
    """A fresh client against the freshly reset, unthrottled emulator."""
    emulator.reset()
    emulator.configure(DEFAULT_KNOBS)
    client = Api(service.spec.credentials["token"], endpoint_url=service.url, retry_strategy=None)
    assert sandbox.ca is not None
    client.session.verify = str(sandbox.ca.bundle_path)
    return client


def admin(service: RunningService, sandbox: Sandbox, path: str, **kwargs: Any) -> Any:
    assert sandbox.ca is not None
    method = "GET" if "json" not in kwargs else "POST"
    response = requests.request(
        method, service.url + path, verify=str(sandbox.ca.bundle_path), timeout=10, **kwargs
    )
    response.raise_for_status()
    return response.json()


def error_of(exc: pytest.ExceptionInfo[requests.HTTPError]) -> dict[str, Any]:
    response = exc.value.response
    assert response is not None
    body: dict[str, Any] = response.json()
    return body


# -- listing -----------------------------------------------------------------------------------
def test_scenario_base_lists_projects_milestones_and_risks(api: Api) -> None:
    projects = api.table(BASE_ID, "Projects").all()
    milestones = api.table(BASE_ID, "Milestones").all()
    risks = api.table(BASE_ID, "Risks").all()
    assert len(projects) == 12
    assert 3 * 12 <= len(milestones) <= 6 * 12
    assert 12 <= len(risks) <= 4 * 12
    codes = sorted(p["fields"]["Code"] for p in projects)
    assert codes[0] == "PRJ-001" and codes[-1] == "PRJ-012"
    for record in projects + milestones + risks:
        assert set(record) == {"id", "createdTime", "fields"}
        assert len(record["id"]) == 17 and record["id"].startswith("rec")
        assert record["createdTime"].endswith("Z") and len(record["createdTime"]) == 24
    # inverse links agree with the forward links
    by_id = {p["id"]: p for p in projects}
    for milestone in milestones:
        (project_id,) = milestone["fields"]["Project"]
        assert milestone["id"] in by_id[project_id]["fields"]["Milestones"]
    for project in projects:
        assert project["fields"]["Milestone count"] == len(project["fields"]["Milestones"])
    # dates spread around today: some done, some overdue, some ahead
    today = TODAY.isoformat()
    done = [m for m in milestones if m["fields"].get("Done")]
    overdue = [
        m for m in milestones if not m["fields"].get("Done") and m["fields"]["Due date"] < today
    ]
    ahead = [m for m in milestones if m["fields"]["Due date"] >= today]
    assert done and overdue and ahead
    # unchecked checkboxes and empty cells are omitted, not sent as false/null
    assert all("Done" not in m["fields"] for m in milestones if m not in done)
    assert all("pmo-sync id" not in p["fields"] for p in projects)


def test_paging_more_than_100_records_with_offsets(api: Api, emulator: AirtableEmulator) -> None:
    table = api.table(BASE_ID, "Milestones")
    table.batch_create([{"Name": f"Extra {i}"} for i in range(150)])  # 15 requests of 10
    total = len(emulator.records(BASE_ID, "Milestones"))
    assert total > 200
    pages = list(table.iterate(page_size=100))
    assert [len(p) for p in pages[:-1]] == [100] * (len(pages) - 1)
    ids = [r["id"] for page in pages for r in page]
    assert len(ids) == len(set(ids)) == total
    counters = emulator.counters.snapshot()["by_endpoint"]
    assert counters["GET /v0/<base_id>/<table>"] >= len(pages)
    # maxRecords caps the whole listing, across pages
    assert len(table.all(page_size=7, max_records=15)) == 15


def test_offset_format_and_expiry(
    api: Api, emulator: AirtableEmulator, service: RunningService
) -> None:
    table = api.table(BASE_ID, "Milestones")
    first = api.get(table.urls.records, params={"pageSize": 5})
    offset = first["offset"]
    itr, _, rec = offset.partition("/")
    assert itr.startswith("itr") and len(itr) == 17 and rec.startswith("rec") and len(rec) == 17
    emulator.configure({"offset_ttl_seconds": 0.2})
    time.sleep(0.3)
    with pytest.raises(requests.HTTPError) as exc:
        api.get(table.urls.records, params={"pageSize": 5, "offset": offset})
    assert exc.value.response is not None and exc.value.response.status_code == 422
    assert error_of(exc)["error"]["type"] == "LIST_RECORDS_ITERATOR_NOT_AVAILABLE"
    with pytest.raises(requests.HTTPError) as exc:
        api.get(table.urls.records, params={"offset": "not-an-offset"})
    assert exc.value.response is not None and exc.value.response.status_code == 422


def test_page_size_above_100_is_rejected(api: Api) -> None:
    with pytest.raises(requests.HTTPError) as exc:
        api.table(BASE_ID, "Projects").all(page_size=101)
    assert exc.value.response is not None and exc.value.response.status_code == 422
    assert error_of(exc)["error"]["type"] == "INVALID_REQUEST_UNKNOWN"


def test_fields_and_return_fields_by_field_id(api: Api, service: RunningService) -> None:
    layout = service.spec.extra["layout"]
    pf = layout["fields"]["Projects"]
    table = api.table(BASE_ID, layout["tables"]["Projects"])  # addressed by tbl id
    records = table.all(fields=["Code", pf["Status"]])
    assert all(set(r["fields"]) <= {"Code", "Status"} for r in records)
    assert all("Code" in r["fields"] for r in records)
    by_id = table.all(fields=["Code"], use_field_ids=True)
    assert all(set(r["fields"]) == {pf["Code"]} for r in by_id)
    with pytest.raises(requests.HTTPError) as exc:
        table.all(fields=["No such field"])
    assert error_of(exc)["error"] == {
        "type": "UNKNOWN_FIELD_NAME",
        "message": 'Unknown field name: "No such field"',
    }


def test_sort_view_and_filter_formula(api: Api) -> None:
    risks = api.table(BASE_ID, "Risks")
    by_score = risks.all(sort=["-Score", "Name"])
    scores = [r["fields"]["Score"] for r in by_score]
    assert scores == sorted(scores, reverse=True)
    assert all(
        r["fields"]["Score"] == r["fields"]["Probability"] * r["fields"]["Impact"] for r in by_score
    )
    open_view = risks.all(view="Open risks")
    assert {r["fields"]["Status"] for r in open_view} <= {"Open", "Mitigating"}
    assert len(open_view) == len(risks.all(formula="{Status} != 'Closed'"))
    high = risks.all(formula="AND({Probability} >= 4, OR({Impact} > 3, {Status} = 'Open'))")
    assert all(
        r["fields"]["Probability"] >= 4
        and (r["fields"]["Impact"] > 3 or r["fields"]["Status"] == "Open")
        for r in high
    )
    projects = api.table(BASE_ID, "Projects")
    found = projects.all(formula="FIND('PRJ-00', {Code}) = 1")
    assert sorted(p["fields"]["Code"] for p in found) == [f"PRJ-00{i}" for i in range(1, 10)]
    first = projects.first(formula="LOWER({Code}) = 'prj-003'")
    assert first is not None and first["fields"]["Code"] == "PRJ-003"
    assert projects.first(formula=f"RECORD_ID() = '{first['id']}'") == first
    concat = projects.all(formula="{Code} & '-' & LEN({Code}) = 'PRJ-003-7'")
    assert [p["id"] for p in concat] == [first["id"]]
    milestones = api.table(BASE_ID, "Milestones")
    due = milestones.all(formula=f"IS_BEFORE({{Due date}}, DATETIME_PARSE('{TODAY.isoformat()}'))")
    assert due and all(m["fields"]["Due date"] < TODAY.isoformat() for m in due)
    assert len(milestones.all(formula="{Done}")) + len(
        milestones.all(formula="NOT({Done})")
    ) == len(milestones.all())


@pytest.mark.parametrize(
    "formula",
    ["SEARCH('a', {Name})", "{Name} = ", "AND(", "{Nope} = 1", "IS_AFTER({Name})", "{Name} ~ 1"],
)
def test_invalid_formulas_get_422(api: Api, formula: str) -> None:
    with pytest.raises(requests.HTTPError) as exc:
        api.table(BASE_ID, "Projects").all(formula=formula)
    error = error_of(exc)["error"]
    assert error["type"] == "INVALID_FILTER_BY_FORMULA"
    assert error["message"].startswith("The formula for filtering records is invalid: ")


def test_last_modified_time_after_a_human_edit(
    api: Api, emulator: AirtableEmulator, service: RunningService, sandbox: Sandbox
) -> None:
    projects = api.table(BASE_ID, "Projects")
    before = datetime.now(UTC) - timedelta(seconds=1)
    cursor = before.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    assert projects.all(formula=f"IS_AFTER(LAST_MODIFIED_TIME(), '{cursor}')") == []
    target = projects.first(formula="{Code} = 'PRJ-004'")
    assert target is not None
    new_rag = "Amber" if target["fields"]["RAG"] == "Red" else "Red"  # a no-op is no edit
    edited = emulator.edit_record(BASE_ID, "Projects", target["id"], {"RAG": new_rag})
    changed = projects.all(formula=f"IS_AFTER(LAST_MODIFIED_TIME(), '{cursor}')")
    assert [r["id"] for r in changed] == [target["id"]]
    assert changed[0]["fields"]["Last modified"] >= cursor
    assert edited["fields"]["RAG"] == new_rag
    # per-field modification times: RAG moved, Sponsor did not
    assert projects.all(formula=f"LAST_MODIFIED_TIME({{RAG}}) > '{cursor}'") == changed
    assert projects.all(formula=f"IS_AFTER(LAST_MODIFIED_TIME({{Sponsor}}), '{cursor}')") == []
    # the admin route does the same for scripts
    admin(
        service,
        sandbox,
        "/_admin/airtable/edit",
        json={
            "base": BASE_ID,
            "table": "Projects",
            "record": target["id"],
            "fields": {"Sponsor": "New"},
        },
    )
    assert projects.all(formula=f"IS_AFTER(LAST_MODIFIED_TIME({{Sponsor}}), '{cursor}')") != []
    assert projects.all(formula=f"IS_BEFORE(CREATED_TIME(), '{cursor}')") == projects.all()


def test_list_records_post_fallback_for_long_formulas(api: Api, emulator: AirtableEmulator) -> None:
    projects = api.table(BASE_ID, "Projects")
    codes = [f"PRJ-{i:03d}" for i in range(1, 1100)]
    formula = "OR(" + ",".join(f"{{Code}}='{c}'" for c in codes) + ")"
    assert len(formula) > 16000
    before = emulator.counters.snapshot()["by_endpoint"].get(
        "POST /v0/<base_id>/<table>/listRecords", 0
    )
    found = projects.all(formula=formula, fields=["Code"], sort=["Code"], page_size=5)
    assert [r["fields"]["Code"] for r in found] == [f"PRJ-{i:03d}" for i in range(1, 13)]
    after = emulator.counters.snapshot()["by_endpoint"]["POST /v0/<base_id>/<table>/listRecords"]
    assert after - before == 3  # three pages of five, offsets travelled in the body


# -- writes ------------------------------------------------------------------------------------
def test_get_create_update_replace_and_delete(api: Api) -> None:
    table = api.table(BASE_ID, "Risks")
    project = api.table(BASE_ID, "Projects").first(formula="{Code}='PRJ-001'")
    assert project is not None
    created = table.create(
        {"Name": "Vendor insolvency", "Project": [project["id"]], "Probability": 2, "Impact": 5}
    )
    assert created["fields"]["Score"] == 10
    assert table.get(created["id"]) == created
    refreshed = api.table(BASE_ID, "Projects").get(project["id"])
    assert created["id"] in refreshed["fields"]["Risks"]
    updated = table.update(created["id"], {"Status": "Open"})
    assert updated["fields"]["Status"] == "Open" and updated["fields"]["Probability"] == 2
    replaced = table.update(created["id"], {"Name": "Vendor insolvency"}, replace=True)
    # PUT cleared the rest; the formula over two blanks is 0, as in Airtable
    assert replaced["fields"] == {"Name": "Vendor insolvency", "Score": 0}
    refreshed = api.table(BASE_ID, "Projects").get(project["id"])
    assert created["id"] not in refreshed["fields"].get("Risks", [])
    assert table.delete(created["id"]) == {"id": created["id"], "deleted": True}
    with pytest.raises(requests.HTTPError) as exc:
        table.get(created["id"])
    assert exc.value.response is not None and exc.value.response.status_code == 404


def test_batch_update_and_batch_delete(api: Api) -> None:
    table = api.table(BASE_ID, "Milestones")
    created = table.batch_create(
        [{"Name": f"Batch {i}", "Due date": "2026-05-01"} for i in range(25)]
    )
    assert len(created) == 25
    updated = table.batch_update([{"id": r["id"], "fields": {"Done": True}} for r in created])
    assert all(r["fields"]["Done"] is True for r in updated)
    deleted = table.batch_delete([r["id"] for r in created])
    assert deleted == [{"id": r["id"], "deleted": True} for r in created]
    assert table.all(formula="FIND('Batch ', {Name}) = 1") == []


def test_a_batch_write_to_a_deleted_record_is_422_row_does_not_exist(api: Api) -> None:
    # Airtable's batch update answers 422 ROW_DOES_NOT_EXIST (github.com/domdomegg/
    # airtable-mcp-server/issues/28), not the 404 its single-record routes give.
    table = api.table(BASE_ID, "Milestones")
    gone = table.create({"Name": "Deleted meanwhile", "Due date": "2026-05-01"})
    table.delete(gone["id"])
    for write in (
        lambda: table.batch_update([{"id": gone["id"], "fields": {"Done": True}}]),
        lambda: table.batch_upsert(
            [{"id": gone["id"], "fields": {"Name": "Deleted meanwhile"}}], key_fields=["Name"]
        ),
    ):
        with pytest.raises(requests.HTTPError) as exc:
            write()
        assert exc.value.response is not None and exc.value.response.status_code == 422
        assert exc.value.response.json() == {
            "error": {
                "type": "ROW_DOES_NOT_EXIST",
                "message": f"Record ID {gone['id']} does not exist in this table",
            }
        }


def test_more_than_ten_records_per_write_is_422(api: Api) -> None:
    table = api.table(BASE_ID, "Milestones")
    with pytest.raises(requests.HTTPError) as exc:
        api.post(
            table.urls.records, json={"records": [{"fields": {"Name": str(i)}} for i in range(11)]}
        )
    assert exc.value.response is not None and exc.value.response.status_code == 422


def test_batch_upsert_creates_updates_and_is_idempotent(
    api: Api, emulator: AirtableEmulator, service: RunningService
) -> None:
    table = api.table(BASE_ID, "Projects")
    existing = table.first(formula="{Code}='PRJ-002'")
    assert existing is not None
    rows = [
        {"fields": {"Code": "PRJ-002", "pmo-sync id": "P-2", "RAG": "Amber"}},
        {"fields": {"Code": "PRJ-100", "Name": "New from pmo-sync", "pmo-sync id": "P-100"}},
        {"fields": {"Code": "PRJ-101", "Name": "Another one", "pmo-sync id": "P-101"}},
    ]
    result = table.batch_upsert(rows, key_fields=["Code"])
    assert result["updatedRecords"] == [existing["id"]]
    assert len(result["createdRecords"]) == 2
    assert [r["fields"]["Code"] for r in result["records"]] == ["PRJ-002", "PRJ-100", "PRJ-101"]
    count = len(emulator.records(BASE_ID, "Projects"))
    again = table.batch_upsert(rows, key_fields=["Code"])
    assert again["createdRecords"] == []
    assert sorted(again["updatedRecords"]) == sorted(r["id"] for r in result["records"])
    assert len(emulator.records(BASE_ID, "Projects")) == count
    # merge on a field id, and an id-carrying record is updated by id
    pf = service.spec.extra["layout"]["fields"]["Projects"]
    by_field_id = table.batch_upsert(
        [
            {"fields": {pf["pmo-sync id"]: "P-100", pf["Sponsor"]: "CFO"}},
            {"id": existing["id"], "fields": {"Sponsor": "COO"}},
        ],
        key_fields=[pf["pmo-sync id"]],
    )
    assert by_field_id["createdRecords"] == []
    assert by_field_id["updatedRecords"] == [result["createdRecords"][0], existing["id"]]
    # two records share a merge value -> ambiguous -> 422, nothing written
    table.create({"Code": "DUP"})
    table.create({"Code": "DUP"})
    with pytest.raises(requests.HTTPError) as exc:
        table.batch_upsert([{"fields": {"Code": "DUP", "Sponsor": "x"}}], key_fields=["Code"])
    assert exc.value.response is not None and exc.value.response.status_code == 422
    assert table.all(formula="{Sponsor} = 'x'") == []


def test_typecast_and_write_validation_errors(api: Api, service: RunningService) -> None:
    table = api.table(BASE_ID, "Projects")
    with pytest.raises(requests.HTTPError) as exc:
        table.create({"Name": "Typo", "Status": "Paused"})
    assert error_of(exc)["error"] == {
        "type": "INVALID_MULTIPLE_CHOICE_OPTIONS",
        "message": 'Insufficient permissions to create new select option ""Paused""',
    }
    assert table.all(formula="{Name} = 'Typo'") == []  # nothing half-written
    created = table.create(
        {
            "Name": "Typecast",
            "Status": "Paused",
            "Overdue milestones": "3",
            "Start date": "2026-04-01T10:00:00.000Z",
        },
        typecast=True,
    )
    assert created["fields"]["Status"] == "Paused"
    assert created["fields"]["Overdue milestones"] == 3
    assert created["fields"]["Start date"] == "2026-04-01"
    status = next(f for f in table.schema().fields if f.name == "Status")
    assert isinstance(status, SingleSelectFieldSchema)
    assert "Paused" in [c.name for c in status.options.choices]
    with pytest.raises(requests.HTTPError) as exc:
        table.create({"Name": "x", "Overdue milestones": "three"})
    assert error_of(exc)["error"]["type"] == "INVALID_VALUE_FOR_COLUMN"
    with pytest.raises(requests.HTTPError) as exc:
        table.create({"Name": "x", "Milestone count": 4})
    assert error_of(exc)["error"] == {
        "type": "INVALID_VALUE_FOR_COLUMN",
        "message": 'Field "Milestone count" cannot accept a value because the field is computed',
    }
    with pytest.raises(requests.HTTPError) as exc:
        table.update(created["id"], {"Last modified": "2026-01-01T00:00:00.000Z"})
    assert error_of(exc)["error"]["type"] == "INVALID_VALUE_FOR_COLUMN"
    with pytest.raises(requests.HTTPError) as exc:
        table.create({"Nmae": "x"})
    assert error_of(exc)["error"] == {
        "type": "UNKNOWN_FIELD_NAME",
        "message": 'Unknown field name: "Nmae"',
    }
    with pytest.raises(requests.HTTPError) as exc:
        api.post(table.urls.records, json={"typecast": False})
    assert error_of(exc)["error"]["type"] == "INVALID_REQUEST_MISSING_FIELDS"
    with pytest.raises(requests.HTTPError) as exc:
        api.patch(table.urls.record(created["id"]), json={"typecast": False})
    assert error_of(exc)["error"]["type"] == "INVALID_REQUEST_MISSING_FIELDS"
    # write keys may be field ids; returnFieldsByFieldId is a JSON bool on writes
    pf = service.spec.extra["layout"]["fields"]["Projects"]
    by_id = table.update(created["id"], {pf["Sponsor"]: "Board"}, use_field_ids=True)
    assert by_id["fields"][pf["Sponsor"]] == "Board" and "Sponsor" not in by_id["fields"]


# -- schema, auth --------------------------------------------------------------------------------
def test_schema_parses_with_pyairtable_models(api: Api, service: RunningService) -> None:
    layout = service.spec.extra["layout"]
    schema = api.base(BASE_ID).schema()
    assert [t.name for t in schema.tables] == ["Projects", "Milestones", "Risks"]
    projects = schema.table("Projects")
    assert projects.id == layout["tables"]["Projects"]
    assert projects.primary_field_id == layout["fields"]["Projects"]["Name"]
    milestones_link = projects.field("Milestones")
    assert isinstance(milestones_link, MultipleRecordLinksFieldSchema)
    assert milestones_link.options.linked_table_id == layout["tables"]["Milestones"]
    assert (
        milestones_link.options.inverse_link_field_id == layout["fields"]["Milestones"]["Project"]
    )
    assert isinstance(projects.field("Milestone count"), CountFieldSchema)
    assert isinstance(projects.field("Last modified"), LastModifiedTimeFieldSchema)
    score = schema.table("Risks").field("Score")
    assert isinstance(score, FormulaFieldSchema)
    assert layout["fields"]["Risks"]["Probability"] in score.options.formula
    grid = projects.view("Grid view")
    assert grid.type == "grid" and grid.visible_field_ids == [f.id for f in projects.fields]
    for table_schema in schema.tables:
        assert not [f for f in table_schema.fields if type(f).__name__ == "UnknownFieldSchema"]
    # Table.schema() and Table.id on a name-addressed table
    assert api.table(BASE_ID, "Risks").id == layout["tables"]["Risks"]


def test_create_field_by_table_name(api: Api) -> None:
    table = api.table(BASE_ID, "Projects")
    table.all(max_records=1)  # a request before the schema keeps the name in every URL (§3.1)
    created = table.create_field("Budget", "currency", options={"precision": 0, "symbol": "€"})
    assert created.id.startswith("fld") and created.name == "Budget"
    row = table.create({"Name": "Funded", "Budget": 125000})
    assert row["fields"]["Budget"] == 125000
    with pytest.raises(requests.HTTPError) as exc:
        table.create_field("Budget", "number", options={"precision": 0})
    assert exc.value.response is not None and exc.value.response.status_code == 422


def test_whoami_and_bases(api: Api) -> None:
    me = api.whoami()
    assert me["id"].startswith("usr") and "data.records:write" in me["scopes"]
    assert [b.id for b in api.bases()] == [BASE_ID]


def test_auth_errors(
    api: Api, service: RunningService, sandbox: Sandbox, emulator: AirtableEmulator
) -> None:
    assert sandbox.ca is not None
    url = f"{service.url}/v0/{BASE_ID}/Projects"
    token = service.spec.credentials["token"]
    verify = str(sandbox.ca.bundle_path)
    for headers in ({}, {"Authorization": "Bearer patWRONG"}, {"Authorization": f"Basic {token}"}):
        response = requests.get(url, headers=headers, verify=verify, timeout=10)
        assert response.status_code == 401
        assert response.json() == {
            "error": {"type": "AUTHENTICATION_REQUIRED", "message": "Authentication required"}
        }
    response = requests.get(url, params={"api_key": token}, verify=verify, timeout=10)
    assert response.status_code == 401
    for path in ("/v0/appNOSUCHBASE0001/Projects", f"/v0/{BASE_ID}/No%20such%20table"):
        response = requests.get(
            service.url + path,
            headers={"Authorization": f"Bearer {token}"},
            verify=verify,
            timeout=10,
        )
        assert response.status_code == 403
        assert response.json()["error"]["type"] == "INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND"
    emulator.add_token("patOTHERBASEONLY1.00", bases=["appSOMETHINGELSE1"])
    other = Api("patOTHERBASEONLY1.00", endpoint_url=service.url, retry_strategy=None)
    other.session.verify = verify
    with pytest.raises(requests.HTTPError) as exc:
        other.table(BASE_ID, "Projects").all()
    assert exc.value.response is not None and exc.value.response.status_code == 403
    assert other.bases() == []
    response = requests.get(
        service.url + "/v0/nope/at/all/here",
        headers={"Authorization": f"Bearer {token}"},
        verify=verify,
        timeout=10,
    )
    assert response.status_code == 404 and response.json() == {"error": "NOT_FOUND"}


# -- rate limit, faults ----------------------------------------------------------------------------
def test_rate_limit_429_then_lockout_then_recovery(api: Api, emulator: AirtableEmulator) -> None:
    emulator.configure({"rate_limit_enabled": True, "lockout_seconds": 0.6})
    table = api.table(BASE_ID, "Projects")
    statuses = []
    for _ in range(7):
        response = api.session.get(table.urls.records, params={"maxRecords": 1})
        statuses.append(response.status_code)
    assert statuses[:5] == [200] * 5 and statuses[5] == 429
    response = api.session.get(table.urls.records, params={"maxRecords": 1})
    assert response.status_code == 429 and "Retry-After" not in response.headers
    assert response.json() == {
        "error": {
            "type": "RATE_LIMIT_REACHED",
            "message": "Rate limit exceeded. Please try again later",
        }
    }
    time.sleep(1.2)  # past the window and the lock-out: requests succeed again
    assert len(table.all(max_records=2)) == 2
    # pyairtable without retries surfaces the 429 as HTTPError
    emulator.configure({"requests_per_second": 1, "lockout_seconds": 0.3})
    table.first()
    with pytest.raises(requests.HTTPError) as exc:
        table.first()
    assert exc.value.response is not None and exc.value.response.status_code == 429
    time.sleep(1.1)
    assert table.first() is not None


def test_injected_faults_and_counters(api: Api, service: RunningService, sandbox: Sandbox) -> None:
    admin(service, sandbox, "/_admin/reset", json={})
    admin(
        service,
        sandbox,
        "/_admin/faults",
        json={"burst": {"status": 429, "count": 1, "path_prefix": "/v0"}},
    )
    table = api.table(BASE_ID, "Risks")
    with pytest.raises(requests.HTTPError) as exc:
        table.all()
    assert error_of(exc)["error"]["type"] == "RATE_LIMIT_REACHED"
    assert len(table.all()) > 0
    admin(
        service,
        sandbox,
        "/_admin/faults",
        json={"burst": {"status": 503, "count": 1, "retry_after": 1}},
    )
    with pytest.raises(requests.HTTPError) as exc:
        table.all()
    assert exc.value.response is not None and exc.value.response.headers["Retry-After"] == "1"
    counters = admin(service, sandbox, "/_admin/counters")
    assert counters["by_endpoint"]["GET /v0/<base_id>/<table>"] == 3
    assert (
        admin(service, sandbox, "/_admin/config", json={"lockout_seconds": 30})["lockout_seconds"]
        == 30
    )


# -- scenario ----------------------------------------------------------------------------------
def test_mapping_validates_and_uses_ids(service: RunningService) -> None:
    mapping = TeamMapping.model_validate(service.spec.mapping)
    layout = service.spec.extra["layout"]
    project = mapping.entities["project"]  # type: ignore[index]
    assert project.table == layout["tables"]["Projects"]
    assert project.id_field == layout["fields"]["Projects"]["pmo-sync id"]
    assert all(
        f.field.startswith("fld") for e in mapping.entities.values() for f in e.fields.values()
    )
    assert project.fields["status"].values == {
        "Not started": "not_started",
        "In progress": "active",
        "On hold": "on_hold",
        "Done": "done",
        "Cancelled": "cancelled",
    }
    assert mapping.entities["raid_item"].options == {"kind": "risk"}  # type: ignore[index]


def test_scenario_is_deterministic_for_a_seed() -> None:
    first, token_a, layout_a = build_emulator(projects=4, seed=3, today=TODAY)
    second, token_b, layout_b = build_emulator(projects=4, seed=3, today=TODAY)
    assert token_a == token_b and layout_a == layout_b
    assert first.records(BASE_ID, "Milestones") == second.records(BASE_ID, "Milestones")
    assert token_a.startswith("pat") and token_a[17] == "." and len(token_a) == 17 + 1 + 64
    other, token_c, layout_c = build_emulator(projects=4, seed=4, today=TODAY)
    assert token_c != token_a and layout_c != layout_a


def test_served_directly_with_the_sandbox_ca(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    emulator, token, _ = build_emulator(projects=2, seed=1, today=TODAY)
    ca = SandboxCA(tmp_path)
    with ServedApp(emulator.build_app(), ssl_context=ca.server_context()) as served:
        client = Api(token, endpoint_url=served.url, retry_strategy=None)
        client.session.verify = str(ca.bundle_path)
        assert len(client.table(BASE_ID, "Projects").all()) == 2


def test_simulated_ui_edits_show_up_in_an_incremental_pull(
    api: Api, emulator: AirtableEmulator
) -> None:
    cursor = (datetime.now(UTC) - timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    edits = simulate_edits(emulator, count=6, seed=1, today=TODAY)
    assert len(edits) == 6
    changed: set[str] = set()
    for table in ("Projects", "Milestones"):
        rows = api.table(BASE_ID, table).all(formula=f"IS_AFTER(LAST_MODIFIED_TIME(), '{cursor}')")
        changed |= {r["id"] for r in rows}
    assert {e["record"] for e in edits} <= changed
    last_write: dict[tuple[str, str, str], Any] = {}
    for edit in edits:  # later edits of the same cell win
        for name, value in edit["fields"].items():
            last_write[(edit["table"], edit["record"], name)] = value
    for (table, record_id, name), value in last_write.items():
        assert api.table(BASE_ID, table).get(record_id)["fields"].get(name) == value
