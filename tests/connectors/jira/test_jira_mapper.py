"""Pure mapper and field-catalog tests on payloads shaped like Jira's (wire reference §2.5,
the Cloud v3 OpenAPI examples): no HTTP here."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from pmosync.canonical_model import EntityType, PulledRecord, Quarantined
from pmosync.connectors.jira.adf import adf_to_text, text_to_adf
from pmosync.connectors.jira.fields import FieldCatalog
from pmosync.connectors.jira.mapper import (
    FieldSpec,
    IssueProfile,
    LinkProfile,
    MapContext,
    build_jql,
    jql_moment,
    map_issue,
    map_links,
    map_sprints,
    map_version,
    parse_jira_datetime,
    read_status,
    same_value,
    target_status,
    write_value,
)
from pmosync.errors import ConfigError

CF = "com.atlassian.jira.plugin.system.customfieldtypes:"
GH = "com.pyxis.greenhopper.jira:"

SITE = "https://acme.atlassian.net"

FIELDS = [
    {"id": "summary", "key": "summary", "name": "Summary", "custom": False,
     "clauseNames": ["summary"], "schema": {"type": "string", "system": "summary"}},
    {"id": "description", "name": "Description", "custom": False,
     "clauseNames": ["description"], "schema": {"type": "string", "system": "description"}},
    {"id": "status", "name": "Status", "custom": False, "clauseNames": ["status"],
     "schema": {"type": "status", "system": "status"}},
    {"id": "issuetype", "name": "Issue Type", "custom": False,
     "clauseNames": ["issuetype", "type"], "schema": {"type": "issuetype", "system": "issuetype"}},
    {"id": "project", "name": "Project", "custom": False, "clauseNames": ["project"],
     "schema": {"type": "project", "system": "project"}},
    {"id": "parent", "name": "Parent", "custom": False, "clauseNames": ["parent"],
     "schema": {"type": "issuelink", "system": "parent"}},
    {"id": "assignee", "name": "Assignee", "custom": False, "clauseNames": ["assignee"],
     "schema": {"type": "user", "system": "assignee"}},
    {"id": "duedate", "name": "Due date", "custom": False, "clauseNames": ["due", "duedate"],
     "schema": {"type": "date", "system": "duedate"}},
    {"id": "labels", "name": "Labels", "custom": False, "clauseNames": ["labels"],
     "schema": {"type": "array", "items": "string", "system": "labels"}},
    {"id": "customfield_10015", "name": "Start date", "custom": True,
     "clauseNames": ["cf[10015]", "Start date"],
     "schema": {"type": "date", "custom": CF + "datepicker", "customId": 10015}},
    {"id": "customfield_10016", "name": "Story Points", "custom": True,
     "clauseNames": ["cf[10016]", "Story Points"],
     "schema": {"type": "number", "custom": CF + "float", "customId": 10016}},
    {"id": "customfield_10020", "name": "Sprint", "custom": True,
     "clauseNames": ["cf[10020]", "Sprint"],
     "schema": {"type": "array", "items": "json", "custom": GH + "gh-sprint",
                "customId": 10020}},
    {"id": "customfield_10030", "name": "Risk Impact", "custom": True,
     "clauseNames": ["cf[10030]", "Risk Impact"],
     "schema": {"type": "option", "custom": CF + "select", "customId": 10030}},
    {"id": "customfield_10032", "name": "Mitigation", "custom": True,
     "clauseNames": ["cf[10032]", "Mitigation"],
     "schema": {"type": "string", "custom": CF + "textarea", "customId": 10032}},
]  # fmt: skip


def status(name: str, category: str) -> dict:
    cat_id = {"new": 2, "indeterminate": 4, "done": 3}[category]
    return {
        "self": f"{SITE}/rest/api/3/status/1", "id": "1", "name": name,
        "statusCategory": {"self": f"{SITE}/rest/api/3/statuscategory/{cat_id}", "id": cat_id,
                           "key": category, "colorName": "green", "name": category},
    }  # fmt: skip


def issue(**overrides: object) -> dict:
    fields = {
        "summary": "Checkout flow",
        "status": status("In Review", "indeterminate"),
        "issuetype": {"self": f"{SITE}/rest/api/3/issuetype/10001", "id": "10001",
                      "name": "Story", "subtask": False, "hierarchyLevel": 0},
        "project": {"self": f"{SITE}/rest/api/3/project/10000", "id": "10000", "key": "APP",
                    "name": "Customer App"},
        "parent": {"id": "10001", "key": "APP-1", "self": f"{SITE}/rest/api/3/issue/10001",
                   "fields": {"summary": "Epic"}},
        "assignee": {"self": f"{SITE}/rest/api/3/user?accountId=5b10a2844c20165700ede21g",
                     "accountId": "5b10a2844c20165700ede21g", "displayName": "Alice Martin",
                     "accountType": "atlassian", "active": True},
        "duedate": "2026-12-01",
        "labels": ["pmo", "q4"],
        "customfield_10015": "2026-11-02",
        "customfield_10016": 5.0,
        "resolution": None,
        "updated": "2026-11-20T10:15:30.123+1100",
        "issuelinks": [],
    }  # fmt: skip
    fields.update(overrides)
    return {"id": "10042", "key": "APP-42", "self": f"{SITE}/rest/api/3/issue/10042",
            "fields": fields}  # fmt: skip


@pytest.fixture
def catalog() -> FieldCatalog:
    return FieldCatalog(FIELDS, connection="jira", instance=SITE)


def profile(catalog: FieldCatalog, **extra: str) -> IssueProfile:
    names = {
        "name": "summary", "key": "key", "kind": "issuetype", "project": "project",
        "parent": "parent", "status": "status", "assignee": "assignee", "due": "duedate",
        "labels": "labels", "start": "Start date", "story_points": "customfield_10016", **extra,
    }  # fmt: skip
    specs = {c: FieldSpec(c, catalog.resolve(r, where=c)) for c, r in names.items()}
    return IssueProfile(team="t", entity_type=EntityType.WORK_ITEM, specs=specs, projects=("APP",))


CTX = MapContext(connection="jira", cloud=True, sprint_field="customfield_10020")


def test_issue_maps_to_work_item_with_pointers_and_person(catalog: FieldCatalog) -> None:
    records = map_issue(issue(), profile(catalog), CTX)
    work, person = records
    assert isinstance(work, PulledRecord) and isinstance(person, PulledRecord)
    assert work.ref.external_id == "10042" and work.ref.external_key == "APP-42"
    assert work.ref.version_token == "2026-11-20T10:15:30.123+1100"
    assert work.ref.source_modified_at == datetime(2026, 11, 19, 23, 15, 30, 123000, UTC)
    assert work.values == {
        "name": "Checkout flow", "key": "APP-42", "kind": "story", "status": "active",
        "due": "2026-12-01", "labels": ["pmo", "q4"], "start": "2026-11-02",
        "story_points": "5", "schedule_mode": "entered",  # typed-in dates; no duration
    }  # fmt: skip
    assert {k: (p.entity_type, p.external_id) for k, p in work.pointers.items()} == {
        "project": (EntityType.PROJECT, "10000"),
        "parent": (EntityType.WORK_ITEM, "10001"),
        "assignee": (EntityType.PERSON, "5b10a2844c20165700ede21g"),
    }
    assert person.ref.entity_type is EntityType.PERSON
    assert person.values["name"] == "Alice Martin" and person.values["email"] is None


def test_dc_user_and_epic_link_key_resolved_to_id(catalog: FieldCatalog) -> None:
    dc_fields = [*FIELDS, {"id": "customfield_10104", "name": "Epic Link", "custom": True,
                 "schema": {"type": "any", "custom": GH + "gh-epic-link"}}]  # fmt: skip
    dc_catalog = FieldCatalog(dc_fields, connection="jira", instance=SITE)
    ctx = MapContext(
        connection="jira",
        cloud=False,
        epic_link_field=dc_catalog.epic_link_field().id,  # type: ignore[union-attr]
        resolve_key={"APP-1": "10001"}.get,
    )
    payload = issue(
        parent=None,
        customfield_10104="APP-1",
        assignee={"self": f"{SITE}/rest/api/2/user?username=alice", "name": "alice",
                  "key": "JIRAUSER10001", "displayName": "Alice Martin"},
    )  # fmt: skip
    work, person = map_issue(payload, profile(dc_catalog), ctx)
    assert isinstance(work, PulledRecord) and isinstance(person, PulledRecord)
    assert work.pointers["parent"].external_id == "10001"
    assert work.pointers["assignee"].external_id == "alice"
    assert person.ref.external_key == "JIRAUSER10001"


@pytest.mark.parametrize(
    ("status_name", "category", "resolution", "values", "expected"),
    [
        ("To Do", "new", None, None, "not_started"),
        ("In Progress", "indeterminate", None, None, "active"),
        ("Done", "done", {"name": "Done"}, None, "done"),
        ("Done", "done", {"name": "Won't Do"}, None, "cancelled"),
        ("Blocked", "indeterminate", None, {"Blocked": "on_hold"}, "on_hold"),
        ("In Review", "indeterminate", None, {"indeterminate": "active"}, "active"),
    ],
)
def test_status_by_category_then_name(
    status_name: str, category: str, resolution: object, values: dict | None, expected: str
) -> None:
    got = read_status(status(status_name, category), resolution, values, frozenset({"won't do"}))
    assert got == expected


def test_bad_values_quarantine_naming_issue_and_field(catalog: FieldCatalog) -> None:
    (bad_date,) = map_issue(issue(duedate="2026-13-45"), profile(catalog), CTX)
    assert isinstance(bad_date, Quarantined)
    assert bad_date.external_id == "10042"
    assert "APP-42" in bad_date.reason and "duedate" in bad_date.reason
    spec_values = {"Story": "story", "Epic": "epic"}
    prof = profile(catalog)
    specs = dict(prof.specs)
    specs["kind"] = FieldSpec("kind", catalog.resolve("issuetype", where="k"), spec_values)
    prof = IssueProfile(team="t", entity_type=EntityType.WORK_ITEM, specs=specs)
    payload = issue(issuetype={"id": "9", "name": "Spike", "subtask": False})
    (unknown,) = map_issue(payload, prof, CTX)
    assert isinstance(unknown, Quarantined)
    assert "APP-42" in unknown.reason and "Spike" in unknown.reason


def test_links_both_directions_give_one_dependency_each() -> None:
    blocks = {"id": "10000", "name": "Blocks", "inward": "is blocked by", "outward": "blocks"}
    depends = {"id": "10005", "name": "Depends", "inward": "is depended on by",
               "outward": "depends on"}  # fmt: skip
    a = issue(issuelinks=[
        {"id": "20001", "type": blocks, "outwardIssue": {"id": "10050", "key": "APP-50"}},
        {"id": "20002", "type": blocks, "inwardIssue": {"id": "10060", "key": "APP-60"}},
        {"id": "20003", "type": depends, "outwardIssue": {"id": "10070", "key": "APP-70"}},
        {"id": "20004", "type": {"id": "10003", "name": "Relates", "inward": "relates to",
                                 "outward": "relates to"},
         "outwardIssue": {"id": "10080", "key": "APP-80"}},
    ])  # fmt: skip
    links = LinkProfile({"blocks": "FS", "depends": "FS"}, frozenset({"depends"}))
    records = map_links(a, links, CTX)
    pairs = {
        r.ref.external_id: (
            r.pointers["predecessor"].external_id,
            r.pointers["successor"].external_id,
        )
        for r in records
        if isinstance(r, PulledRecord)
    }
    # APP-42 blocks APP-50; APP-60 blocks APP-42; APP-42 depends on APP-70 (APP-70 first).
    assert pairs == {"20001": ("10042", "10050"), "20002": ("10060", "10042"),
                     "20003": ("10070", "10042")}  # fmt: skip
    # The same link read from the other issue maps to the same record.
    b = issue(issuelinks=[{"id": "20001", "type": blocks, "inwardIssue": {"id": "10042"}}])
    b["id"] = "10050"
    (again,) = map_links(b, links, CTX)
    assert isinstance(again, PulledRecord)
    assert again.ref.external_id == "20001"
    assert again.pointers["predecessor"].external_id == "10042"
    assert again.values == {
        "link_type": "FS",
        "lag_minutes": 0,
        "dependency_class": "logic",
        "origin": "jira_issue_link",
        "source_link_type": "Blocks",
    }


def test_sprints_cloud_objects_and_legacy_dc_strings() -> None:
    cloud = issue(customfield_10020=[{"id": 3, "name": "APP Sprint 3", "state": "active",
                  "boardId": 1, "startDate": "2026-11-09T00:00:00.000Z",
                  "endDate": "2026-11-23T00:00:00.000Z"}])  # fmt: skip
    (sprint,) = map_sprints(cloud, CTX)
    assert isinstance(sprint, PulledRecord)
    assert sprint.values == {"name": "APP Sprint 3", "state": "active", "start": "2026-11-09",
                             "end": "2026-11-23"}  # fmt: skip
    legacy = issue(customfield_10020=[
        "com.atlassian.greenhopper.service.sprint.Sprint@1b2c[id=7,rapidViewId=2,state=CLOSED,"
        "name=DC Sprint 7,startDate=2026-10-01T09:00:00.000+02:00,endDate=<null>,sequence=7]"
    ])  # fmt: skip
    (old,) = map_sprints(legacy, CTX)
    assert isinstance(old, PulledRecord)
    assert old.ref.external_id == "7" and old.values["state"] == "closed"
    assert old.values["end"] is None


def test_versions_as_milestones_and_releases() -> None:
    version = {"self": f"{SITE}/rest/api/3/version/10010", "id": "10010", "name": "APP 2.0",
               "archived": False, "released": False, "releaseDate": "2027-01-15",
               "projectId": 10000}  # fmt: skip
    milestone = map_version(version, "10000", EntityType.MILESTONE, CTX)
    assert isinstance(milestone, PulledRecord)
    assert milestone.values == {"name": "APP 2.0", "due": "2027-01-15", "done": False,
                                "status": "not_started"}  # fmt: skip
    assert milestone.pointers["project"].external_id == "10000"
    release = map_version({**version, "released": True}, "10000", EntityType.RELEASE, CTX)
    assert isinstance(release, PulledRecord)
    assert release.values["released"] is True
    bad = map_version({**version, "releaseDate": "soon"}, "10000", EntityType.RELEASE, CTX)
    assert isinstance(bad, Quarantined) and "APP 2.0" in bad.reason


def test_catalog_resolves_by_id_name_clause_and_fails_closed(catalog: FieldCatalog) -> None:
    assert catalog.resolve("Story Points", where="w").id == "customfield_10016"
    assert catalog.resolve("cf[10016]", where="w").id == "customfield_10016"
    assert catalog.resolve("customfield_10016", where="w").id == "customfield_10016"
    assert catalog.sprint_field().id == "customfield_10020"  # type: ignore[union-attr]
    with pytest.raises(ConfigError) as vanished:
        catalog.resolve("Story point estimate", where="teams/app.yaml › story_points")
    assert "teams/app.yaml" in str(vanished.value) and SITE in str(vanished.value)
    with pytest.raises(ConfigError, match="type 'string'"):
        catalog.resolve("Summary", where="w", expect=frozenset({"number"}))


def test_jql_dates_are_written_in_the_users_zone() -> None:
    moment = datetime(2026, 11, 22, 1, 30, 45, tzinfo=UTC)
    assert jql_moment(moment, ZoneInfo("Australia/Sydney")) == "2026/11/22 12:30"
    assert jql_moment(moment, ZoneInfo("America/Los_Angeles")) == "2026/11/21 17:30"
    assert jql_moment(moment, ZoneInfo("America/Los_Angeles"), round_up=True) == "2026/11/21 17:31"
    # In the repeated hour of a DST fall-back the bound moves an hour earlier to stay safe.
    repeated = datetime(2026, 11, 1, 8, 30, tzinfo=UTC)  # 01:30 PDT, the first of two
    assert jql_moment(repeated, ZoneInfo("America/Los_Angeles")) == "2026/11/01 00:30"


def test_build_jql(catalog: FieldCatalog) -> None:
    prof = IssueProfile(team="t", entity_type=EntityType.RAID_ITEM, specs={},
                        projects=("APP", "OPS"), issue_types=frozenset({"risk"}),
                        jql='labels = "pmo"',
                        options={"issue_type_names": ["Risk"]})  # fmt: skip
    assert build_jql(prof, since="2026/11/21 17:25") == (
        'project in ("APP", "OPS") AND issuetype in ("Risk") AND (labels = "pmo") '
        'AND updated >= "2026/11/21 17:25" ORDER BY updated ASC'
    )


def test_write_values_and_adf(catalog: FieldCatalog) -> None:
    desc = FieldSpec("mitigation", catalog.resolve("Mitigation", where="w"))
    adf = write_value(desc, "str", "Line one\nline two\n\nSecond", adf=True)
    assert adf["type"] == "doc" and len(adf["content"]) == 2
    assert adf_to_text(adf) == "Line one\nline two\n\nSecond"
    assert write_value(desc, "str", "plain", adf=False) == "plain"
    points = FieldSpec("story_points", catalog.resolve("Story Points", where="w"))
    assert write_value(points, "decimal", "8", adf=True) == 8
    assert write_value(points, "decimal", "2.5", adf=True) == 2.5
    due = FieldSpec("due", catalog.resolve("duedate", where="w"))
    assert write_value(due, "date", date(2026, 12, 1), adf=True) == "2026-12-01"
    impact = FieldSpec("impact", catalog.resolve("Risk Impact", where="w"),
                       {"Low": 1, "Medium": 3, "High": 5})  # fmt: skip
    assert write_value(impact, "int", 3, adf=True) == {"value": "Medium"}
    assert text_to_adf("") == {"type": "doc", "version": 1, "content": []}
    assert same_value("decimal", "5.0", Decimal("5"))
    assert not same_value("decimal", "5.0", "8")


def test_target_status() -> None:
    assert target_status(None, "done") == ("category", "done")
    assert target_status({"Blocked": "on_hold"}, "on_hold") == ("status", "Blocked")
    assert target_status(None, "on_hold") is None


def test_parse_jira_datetime_variants() -> None:
    want = datetime(2025, 1, 1, 10, 0, tzinfo=UTC)
    assert parse_jira_datetime("2025-01-01T10:00:00.000+0000") == want
    assert parse_jira_datetime("2025-01-01T21:00:00.000+1100") == want
    assert parse_jira_datetime("2025-01-01T10:00:00Z") == want


def test_an_undated_issue_has_no_schedule_mode(catalog: FieldCatalog) -> None:
    (work, _person) = map_issue(issue(duedate=None, customfield_10015=None), profile(catalog), CTX)
    assert isinstance(work, PulledRecord)
    assert "schedule_mode" not in work.values and "duration_minutes" not in work.values
