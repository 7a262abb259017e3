"""Field types, cell formats, schema writes, token-wide rate limits, reset and concurrency,
through pyairtable against a purpose-built base (not the PMO scenario)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import requests
from pyairtable import Api
from pyairtable.models.schema import (
    AutoNumberFieldSchema,
    CreatedTimeFieldSchema,
    CurrencyFieldSchema,
    DateTimeFieldSchema,
    MultipleRecordLinksFieldSchema,
    MultipleSelectsFieldSchema,
    PercentFieldSchema,
    SingleCollaboratorFieldSchema,
)

from pmosync.sandbox.airtable import AirtableEmulator
from pmosync.sandbox.ca import SandboxCA
from pmosync.sandbox.server import ServedApp

BASE = "appFIELDTYPES0001"
OTHER_BASE = "appOTHERBASE00001"
TOKEN = "patFIELDTESTTOKEN." + "ab" * 32
PEOPLE = [
    {"id": "usrALEXMORGAN0001", "email": "alex@example.com", "name": "Alex Morgan"},
    {"id": "usrSAMTAYLOR00001", "email": "sam@example.com", "name": "Sam Taylor"},
]


def _tables() -> list[dict[str, Any]]:
    return [
        {
            "name": "Work",
            "fields": [
                {"name": "Title", "type": "singleLineText"},
                {"name": "Notes", "type": "multilineText"},
                {"name": "Progress", "type": "percent", "options": {"precision": 1}},
                {"name": "Cost", "type": "currency", "options": {"precision": 2, "symbol": "€"}},
                {"name": "Starts", "type": "dateTime"},
                {
                    "name": "Tags",
                    "type": "multipleSelects",
                    "options": {"choices": [{"name": "backend"}, {"name": "frontend"}]},
                },
                {"name": "Owner", "type": "singleCollaborator"},
                {"name": "Flag", "type": "checkbox"},
                {"name": "Ref", "type": "autoNumber"},
                {"name": "Created", "type": "createdTime"},
                {
                    "name": "Label",
                    "type": "formula",
                    "options": {
                        "formula": "IF({Flag}, UPPER({Title}), {Title} & ' (' & {Ref} & ')')",
                        "result": {"type": "singleLineText"},
                    },
                },
                {
                    "name": "Title changed",
                    "type": "lastModifiedTime",
                    "options": {"referencedFieldIds": ["Title"]},
                },
            ],
            "records": [
                {"createdTime": "2026-01-01T09:00:00.000Z", "fields": {"Title": "Seeded"}},
            ],
        }
    ]


# Every test starts from the emulator's defaults, with the rate limit off unless it is the point.
DEFAULT_KNOBS = {
    "rate_limit_enabled": False,
    "requests_per_second": 5,
    "token_requests_per_second": 50,
    "lockout_seconds": 30,
    "offset_ttl_seconds": 300,
}


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[AirtableEmulator, str, str]]:
    emulator = AirtableEmulator(seed="field-tests")
    emulator.add_token(TOKEN, email="bot@example.com")
    emulator.add_base(BASE, "Field types", _tables(), collaborators=PEOPLE)
    emulator.add_base(
        OTHER_BASE, "Other", [{"name": "T", "fields": [{"name": "N", "type": "singleLineText"}]}]
    )
    ca = SandboxCA(tmp_path_factory.mktemp("airtable-fields"))
    with ServedApp(emulator.build_app(), ssl_context=ca.server_context()) as app:
        yield emulator, app.url, str(ca.bundle_path)


@pytest.fixture()
def api(served: tuple[AirtableEmulator, str, str], monkeypatch: pytest.MonkeyPatch) -> Api:
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    emulator, url, bundle = served
    emulator.reset()
    emulator.configure(DEFAULT_KNOBS)
    client = Api(TOKEN, endpoint_url=url, retry_strategy=None)
    client.session.verify = bundle
    return client


def _status(exc: pytest.ExceptionInfo[requests.HTTPError]) -> tuple[int, dict[str, Any]]:
    response = exc.value.response
    assert response is not None
    return response.status_code, response.json()


def test_schema_options_satisfy_pyairtable_models(api: Api) -> None:
    work = api.base(BASE).schema().table("Work")
    expected = {
        "Progress": PercentFieldSchema,
        "Cost": CurrencyFieldSchema,
        "Starts": DateTimeFieldSchema,
        "Tags": MultipleSelectsFieldSchema,
        "Owner": SingleCollaboratorFieldSchema,
        "Ref": AutoNumberFieldSchema,
        "Created": CreatedTimeFieldSchema,
    }
    for name, model in expected.items():
        assert isinstance(work.field(name), model), name
    assert not [f.name for f in work.fields if type(f).__name__ == "UnknownFieldSchema"]
    tags = work.field("Tags")
    assert isinstance(tags, MultipleSelectsFieldSchema)
    assert all(c.id.startswith("sel") and len(c.id) == 17 for c in tags.options.choices)


def test_values_of_every_type_round_trip(api: Api) -> None:
    table = api.table(BASE, "Work")
    created = table.create(
        {
            "Title": "Build API",
            "Notes": "line 1\nline 2",
            "Progress": 0.5,
            "Cost": 1234.5,
            "Starts": "2026-01-01T10:00:00+02:00",
            "Tags": ["backend"],
            "Owner": {"email": "SAM@example.com"},
            "Flag": False,
        }
    )
    fields = created["fields"]
    assert fields["Starts"] == "2026-01-01T08:00:00.000Z"  # stored and returned in UTC
    assert fields["Owner"] == PEOPLE[1]
    assert fields["Progress"] == 0.5 and fields["Cost"] == 1234.5
    assert "Flag" not in fields  # false checkbox omitted
    assert fields["Ref"] == 2  # the seeded row is 1
    assert fields["Created"] == created["createdTime"]
    assert fields["Label"] == "Build API (2)"
    assert fields["Title changed"] == created["createdTime"]
    flagged = table.update(created["id"], {"Flag": True})
    assert flagged["fields"]["Label"] == "BUILD API"
    assert flagged["fields"]["Title changed"] == created["createdTime"]  # Title did not change
    with pytest.raises(requests.HTTPError) as exc:
        table.create({"Tags": ["backend", "ops"]})
    assert _status(exc)[1]["error"]["type"] == "INVALID_MULTIPLE_CHOICE_OPTIONS"
    typecast = table.create(
        {"Tags": "ops, backend", "Progress": "0.25", "Flag": "yes"}, typecast=True
    )
    assert typecast["fields"]["Tags"] == ["ops", "backend"]
    assert typecast["fields"]["Progress"] == 0.25 and typecast["fields"]["Flag"] is True
    bad_rows: list[dict[str, Any]] = [
        {"Owner": {"email": "nobody@example.com"}},
        {"Starts": "soon"},
        {"Cost": "12"},
        {"Flag": "yes"},
    ]
    for bad in bad_rows:
        with pytest.raises(requests.HTTPError) as exc:
            table.create(bad)
        assert _status(exc)[1]["error"]["type"] == "INVALID_VALUE_FOR_COLUMN", bad
    for computed in ("Ref", "Created", "Label", "Title changed"):
        with pytest.raises(requests.HTTPError) as exc:
            table.create({computed: 1})
        assert "computed" in _status(exc)[1]["error"]["message"]


def test_cell_format_string_needs_time_zone_and_locale(api: Api) -> None:
    table = api.table(BASE, "Work")
    table.create(
        {
            "Title": "Fmt",
            "Cost": 99,
            "Progress": 0.125,
            "Starts": "2026-06-01T12:00:00.000Z",
            "Flag": True,
        }
    )
    with pytest.raises(requests.HTTPError) as exc:
        table.all(cell_format="string")
    assert _status(exc)[0] == 422
    rows = table.all(
        cell_format="string",
        time_zone="Europe/Berlin",
        user_locale="en-gb",
        formula="{Title}='Fmt'",
    )
    (row,) = rows
    with pytest.raises(requests.HTTPError) as exc:
        api.get(table.urls.record(row["id"]), params={"cellFormat": "string"})
    assert _status(exc)[0] == 422
    one = api.get(
        table.urls.record(row["id"]),
        params={"cellFormat": "string", "timeZone": "utc", "userLocale": "en-us"},
    )
    assert one["fields"]["Starts"] == "2026-06-01 12:00"
    assert row["fields"]["Cost"] == "€99.00"
    assert row["fields"]["Progress"] == "12.5%"
    assert row["fields"]["Starts"] == "2026-06-01 14:00"
    assert row["fields"]["Flag"] == "checked"


def test_comment_count_metadata(api: Api) -> None:
    rows = api.table(BASE, "Work").all(count_comments=True)
    assert rows and all(r["commentCount"] == 0 for r in rows)


def test_create_table_with_link_and_field(
    api: Api, served: tuple[AirtableEmulator, str, str]
) -> None:
    base = api.base(BASE)
    work_id = base.schema().table("Work").id
    created = base.create_table(
        "Reviews",
        [
            {"name": "Summary", "type": "singleLineText"},
            {
                "name": "Work item",
                "type": "multipleRecordLinks",
                "options": {"linkedTableId": work_id},
            },
        ],
    )
    assert created.id.startswith("tbl") and created.name == "Reviews"
    schema = base.schema(force=True)
    inverse = schema.table("Work").field("Reviews")  # Airtable adds the inverse link field
    assert isinstance(inverse, MultipleRecordLinksFieldSchema)
    link = schema.table("Reviews").field("Work item")
    assert isinstance(link, MultipleRecordLinksFieldSchema)
    assert link.options.inverse_link_field_id == inverse.id
    seeded = api.table(BASE, "Work").first(formula="{Title}='Seeded'")
    assert seeded is not None
    review = api.table(BASE, "Reviews").create({"Summary": "ok", "Work item": [seeded["id"]]})
    assert api.table(BASE, "Work").get(seeded["id"])["fields"]["Reviews"] == [review["id"]]
    api.table(BASE, "Reviews").delete(review["id"])
    assert "Reviews" not in api.table(BASE, "Work").get(seeded["id"])["fields"]
    with pytest.raises(requests.HTTPError) as exc:
        base.create_table("Reviews", [{"name": "x", "type": "singleLineText"}])
    assert _status(exc)[0] == 422
    emulator = served[0]
    emulator.reset()
    assert [t.name for t in api.base(BASE).schema(force=True).tables] == ["Work"]


def test_token_limit_spans_bases(api: Api, served: tuple[AirtableEmulator, str, str]) -> None:
    emulator = served[0]
    emulator.configure(
        {
            "rate_limit_enabled": True,
            "requests_per_second": 100,
            "token_requests_per_second": 4,
            "lockout_seconds": 0.3,
        }
    )
    work, other = api.table(BASE, "Work"), api.table(OTHER_BASE, "T")
    for table in (work, other, work, other):
        table.first()
    with pytest.raises(requests.HTTPError) as exc:
        other.first()
    assert _status(exc) == (
        429,
        {
            "error": {
                "type": "RATE_LIMIT_REACHED",
                "message": "Rate limit exceeded. Please try again later",
            }
        },
    )
    with pytest.raises(requests.HTTPError):
        api.whoami()  # the token is locked out everywhere, not just on one base
    time.sleep(1.1)
    assert api.whoami()["id"].startswith("usr")


def test_concurrent_writes_are_serialised(
    api: Api, served: tuple[AirtableEmulator, str, str]
) -> None:
    emulator = served[0]
    table = api.table(BASE, "Work")
    failures: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            table.batch_create([{"Title": f"T{n}-{i}"} for i in range(10)])
        except BaseException as exc:  # noqa: BLE001 - reported below
            failures.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    rows = emulator.records(BASE, "Work")
    assert len(rows) == 81
    refs = [r["fields"]["Ref"] for r in rows]
    assert sorted(refs) == list(range(1, 82))


def test_human_edit_moves_only_that_records_times(
    api: Api, served: tuple[AirtableEmulator, str, str]
) -> None:
    emulator = served[0]
    table = api.table(BASE, "Work")
    seeded = table.first(formula="{Title}='Seeded'")
    assert seeded is not None
    assert seeded["fields"]["Title changed"] == "2026-01-01T09:00:00.000Z"
    start = datetime.now(UTC).replace(microsecond=0)
    emulator.edit_record(BASE, "Work", seeded["id"], {"Title": "Seeded v2", "Tags": "frontend"})
    after = table.get(seeded["id"])
    changed_at = datetime.fromisoformat(after["fields"]["Title changed"])
    assert changed_at >= start
    assert after["fields"]["Tags"] == ["frontend"]
    with pytest.raises(Exception, match="UNKNOWN_FIELD_NAME"):
        emulator.edit_record(BASE, "Work", seeded["id"], {"Nope": 1})


def test_reset_returns_every_base_to_its_seed(
    api: Api, served: tuple[AirtableEmulator, str, str]
) -> None:
    emulator = served[0]
    api.table(BASE, "Work").create({"Title": "runtime row"})
    emulator.add_base(
        "appLATEBASE000001", "Late", [{"name": "L", "fields": [{"name": "N", "type": "number"}]}]
    )
    emulator.reset()
    assert [r["fields"]["Title"] for r in emulator.records(BASE, "Work")] == ["Seeded"]
    assert emulator.records("appLATEBASE000001", "L") == []


def test_scopes_and_per_base_lockout(api: Api, served: tuple[AirtableEmulator, str, str]) -> None:
    emulator, url, bundle = served
    emulator.add_token("patREADONLYTOKEN1.ff", scopes=("data.records:read",))
    reader = Api("patREADONLYTOKEN1.ff", endpoint_url=url, retry_strategy=None)
    reader.session.verify = bundle
    assert reader.table(BASE, "Work").all()
    for call in (
        lambda: reader.table(BASE, "Work").create({"Title": "no"}),
        lambda: reader.base(BASE).schema(),
    ):
        with pytest.raises(requests.HTTPError) as exc:
            call()
        assert _status(exc)[1]["error"]["type"] == "INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND"
    assert "email" not in reader.whoami()  # no user.email:read scope
    # a lock-out on one base leaves the other base alone
    emulator.configure({"rate_limit_enabled": True, "requests_per_second": 2, "lockout_seconds": 5})
    work = api.table(BASE, "Work")
    work.first()
    work.first()
    with pytest.raises(requests.HTTPError):
        work.first()
    assert api.table(OTHER_BASE, "T").all() == []
    with pytest.raises(requests.HTTPError):
        work.first()  # still locked out


def test_record_comments(api: Api, served: tuple[AirtableEmulator, str, str]) -> None:
    emulator, url, bundle = served
    table = api.table(BASE, "Work")
    seeded = table.first(formula="{Title}='Seeded'")
    assert seeded is not None
    first = table.add_comment(seeded["id"], "Kick-off moved, see @[usrSAMTAYLOR00001]")
    assert first.id.startswith("com") and first.author.email == "bot@example.com"
    assert list(first.mentioned) == ["usrSAMTAYLOR00001"]
    for n in range(104):
        table.add_comment(seeded["id"], f"note {n}")
    comments = table.comments(seeded["id"])  # two pages, newest first
    assert len(comments) == 105 and comments[0].text == "note 103" and comments[-1].id == first.id
    first.text = "Kick-off moved again"
    first.save()
    assert table.comments(seeded["id"])[-1].last_updated_time is not None
    counted = table.all(count_comments=True, formula="{Title}='Seeded'")
    assert counted[0]["commentCount"] == 105
    emulator.add_token("patSOMEONEELSE001.ee", email="other@example.com")
    other = Api("patSOMEONEELSE001.ee", endpoint_url=url, retry_strategy=None)
    other.session.verify = bundle
    theirs = other.table(BASE, "Work").comments(seeded["id"])[-1]
    with pytest.raises(requests.HTTPError) as exc:
        theirs.delete()  # only the author may delete
    assert _status(exc)[0] == 403
    first.delete()
    assert len(table.comments(seeded["id"])) == 104
