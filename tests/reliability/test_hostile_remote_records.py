"""Hostile remote records beyond Jira (issue #11): Airtable rows and Project Server tasks and
projects holding what people, imports and typecasting really put there.

Each value goes in through the emulator's own edit API, which validates as the service does
(``AirtableEmulator.edit_record`` is a UI edit with typecast on; ``PwaEmulator.human_edit`` is
a planner's edit published in PWA), so nothing here is a value the real service would refuse.
Then `pmo-sync sync --full` reads them through the real clients (pyairtable; msal + requests).
Whatever they hold, the connection stays ok; a record with an expected reason is quarantined
with it, and every other record (hostile ones included) is stored.
"""

from __future__ import annotations

from typing import Any

import pytest

from pmosync.sandbox.harness import Scenario
from pmosync.sandbox.scenarios import pwa
from tests.e2e.conftest import fast_airtable
from tests.e2e.test_tombstones import store_rows

LONG = "x" * 100_000
NASTY_TEXT = [
    "",
    LONG,
    "\u202eevil\u202c",
    "nul\x00byte",
    '=HYPERLINK("http://evil")',
    "🚀" * 500,
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "${jndi:ldap://x} %s {0}",
]

# (table, field, value, what the quarantine reason must say; None: the row syncs)
AIRTABLE: list[tuple[str, str, Any, str | None]] = [
    ("Projects", "Name", LONG, None),
    ("Projects", "Name", "\u202eevil\u202c", None),
    ("Projects", "Name", "nul\x00byte", None),
    ("Projects", "Name", '=HYPERLINK("http://evil")', None),
    # typecast creates the option in Airtable; the mapping has no canonical value for it
    ("Projects", "Status", "Blocked", "option 'Blocked' has no mapping"),
    ("Projects", "RAG", "Purple", "option 'Purple' has no mapping"),
    ("Projects", "Start date", "9999-12-31", "outside the years 1900-2999"),
    ("Projects", "Finish date", "1899-12-31", "outside the years 1900-2999"),
    ("Projects", "Sponsor", LONG, None),  # not mapped
    ("Projects", "pmo-sync id", "not-a-uuid", None),
    ("Milestones", "Due date", "0001-01-01", "outside the years 1900-2999"),
    ("Milestones", "Done", "yes", None),
    ("Milestones", "Name", "🚀" * 500, None),
    ("Milestones", "Name", "<script>alert(1)</script>", None),
    ("Milestones", "Name", "", None),
    ("Milestones", "Project", [], None),
    ("Risks", "Probability", 1e300, "less than or equal to 5"),
    ("Risks", "Probability", -5, "greater than or equal to 1"),
    ("Risks", "Probability", 0, "greater than or equal to 1"),
    ("Risks", "Impact", 0.5, "fractional part"),
    ("Risks", "Impact", 1e28, "less than or equal to 5"),
    ("Risks", "Status", "Escalated", "option 'Escalated' has no mapping"),
    ("Risks", "Status", None, None),
    ("Risks", "Mitigation", LONG, None),
    ("Risks", "Name", "' OR 1=1 --", None),
    ("Risks", "Name", "${jndi:ldap://x} %s {0}", None),
]

# (task property or "custom:<field>", value, reason or None): a planner's edits in PWA, which
# accepts any text in names, notes and text custom fields and dates up to 2149 (Project's
# last date), so each of these must sync.
PWA_TASKS: list[tuple[str, Any, str | None]] = [
    *[("Name", text, None) for text in NASTY_TEXT],
    ("Start", "2149-12-31T08:00:00", None),
    ("Start", "1984-01-02T08:00:00", None),
    ("Notes", LONG, None),
    ("PercentComplete", 100, None),
    ("custom:Workstream", LONG, None),
    ("custom:Workstream", "nul\x00", None),
    ("custom:Workstream", "日本語;#split", None),
]


def _check(report: dict[str, Any], connection: str, hostile: dict[str, str | None]) -> set[str]:
    """The connection is ok; each expected reason is there; the rest is not quarantined.
    Returns the hostile ids expected to be stored."""
    assert report["connections"][connection]["status"] == "ok", report["connections"]
    assert "internal error" not in str(report) and "Traceback" not in str(report)
    quarantined = {q["external_id"]: q["reason"] for q in report["quarantined"]}
    for external_id, reason in hostile.items():
        if reason is None:
            assert external_id not in quarantined, quarantined[external_id]
        else:
            assert reason in quarantined.get(external_id, ""), (external_id, reason, quarantined)
    return {i for i, r in hostile.items() if r is None}


# SQLite only: the store sees the same mapped values on PostgreSQL (the Jira corpus, NUL bytes
# included, runs on both), and CI time is better spent elsewhere
ON_SQLITE = pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)


@ON_SQLITE
def test_hostile_airtable_rows_never_fail_the_connection(make_slice: Any) -> None:
    slice_ = make_slice(fast_airtable())
    service = slice_.service()
    emulator: Any = service.emulator
    base = service.spec.credentials["base_id"]
    rows = {t: emulator.records(base, t) for t in ("Projects", "Milestones", "Risks")}
    hostile: dict[str, str | None] = {}
    for table, field, value, reason in AIRTABLE:
        row = rows[table].pop(0)
        emulator.edit_record(base, table, row["id"], {field: value})
        hostile[row["id"]] = reason
    # one code on two projects: ambiguous identity, both quarantined (#11 item 5)
    first, second = rows["Projects"][:2]
    emulator.edit_record(base, "Projects", second["id"], {"Code": first["fields"]["Code"]})
    hostile[first["id"]] = hostile[second["id"]] = "ambiguous identity"

    code, report = slice_.sync("--full")
    synced = _check(report, "pmo_airtable", hostile)
    _entities, links = store_rows(slice_)
    stored = {lk.external_id for lk in links if lk.connection == "pmo_airtable"}
    others = {r["id"] for table_rows in rows.values() for r in table_rows} - set(hostile)
    assert synced | others <= stored
    assert code == 0, report


@pytest.fixture
def pwa_slice(make_slice: Any) -> Any:
    scenario = Scenario(
        services=pwa.services(projects=3, tasks_per_project=24),
        portfolio={"name": "Test", "timezone": "UTC"},
    )
    return make_slice(scenario)


@ON_SQLITE
def test_hostile_project_server_tasks_and_projects_never_fail_the_connection(
    pwa_slice: Any,
) -> None:
    emulator: Any = pwa_slice.service("plans_pwa").emulator
    projects = [str(p["Id"]) for p in emulator.projects()]
    project = projects[0]
    tasks = [str(t["Id"]) for t in emulator.draft(project).tasks if not t.get("IsSummary")]
    assert len(tasks) >= len(PWA_TASKS)
    hostile: dict[str, str | None] = {}
    for task, (prop, value, reason) in zip(tasks, PWA_TASKS, strict=False):
        if prop.startswith("custom:"):
            emulator.human_edit(project, task, custom={prop.removeprefix("custom:"): value})
        else:
            emulator.human_edit(project, task, **{prop: value})
        hostile[task] = reason
    # project-level: hostile names, a huge number in an unmapped custom field, and one
    # ProjectIdentifier on two projects (ambiguous identity: both quarantined)
    emulator.human_edit(projects[2], Name="\u202e" + LONG, custom={"PMO Confidence": 1e300})
    emulator.human_edit(projects[0], ProjectIdentifier="DUP-1")
    emulator.human_edit(projects[1], ProjectIdentifier="DUP-1")
    hostile[projects[2]] = None
    hostile[projects[0]] = hostile[projects[1]] = "ambiguous identity"

    code, report = pwa_slice.sync("--full")
    synced = _check(report, "plans_pwa", hostile)
    _entities, links = store_rows(pwa_slice)
    stored = {lk.external_id for lk in links if lk.connection == "plans_pwa"}
    assert synced <= stored, synced - stored
    assert code == 0, report


@ON_SQLITE
def test_a_milestone_due_on_the_last_canonical_day_does_not_fail_the_run(make_slice: Any) -> None:
    slice_ = make_slice(fast_airtable())
    service = slice_.service()
    base = service.spec.credentials["base_id"]
    row = service.emulator.records(base, "Milestones")[1]  # not done, in the schedule
    service.emulator.edit_record(base, "Milestones", row["id"], {"Due date": "2999-12-31"})
    code, report = slice_.sync("--full")
    assert code == 0 and report["connections"]["pmo_airtable"]["status"] == "ok", report


def test_the_corpora_hold_at_least_40_hostile_records_beyond_jira() -> None:
    assert len(AIRTABLE) + 2 + len(PWA_TASKS) + 3 >= 40
