"""One bad remote record quarantines that record, never its connection (issue #11, item 1).

A person types a value the canonical model cannot hold; the run goes on: the record is
quarantined with its key and the reason, every other record (and every other edit) syncs, and
the connection's status stays ok. Through the CLI, the real ``jira`` client and the emulator.
"""

from __future__ import annotations

from typing import Any

from jira import JIRA

from pmosync.canonical_model import EntityType, Quarantined
from pmosync.connectors.isolation import isolated, isolated_many, record_problem
from pmosync.errors import AuthError, FatalConnectorError, RetriableError, SkippableRecordError
from pmosync.sandbox.harness import Scenario
from pmosync.sandbox.scenarios import jira


def _client(slice_: Any) -> JIRA:
    service = slice_.service("delivery_jira")
    credentials = service.emulator.credentials
    return JIRA(
        server=service.url,
        basic_auth=(credentials["email"], credentials["token"]),
        options={"verify": str(slice_.sandbox.ca.bundle_path)},
        get_server_info=False,
    )


def test_story_points_of_1e28_quarantine_one_issue_not_the_jira_connection(
    make_slice: Any,
) -> None:
    scenario = Scenario(
        services=jira.services(projects=1, issues_per_project=8),
        portfolio={"name": "Test", "timezone": "UTC"},
    )
    slice_ = make_slice(scenario)
    emulator: Any = slice_.service("delivery_jira").emulator
    # about quarantine, not search lag: the edits below are read by the very next run
    emulator.configure({"search_lag_seconds": 0})
    code, first = slice_.sync("--full")
    assert code == 0, first
    with emulator.lock:
        keys = sorted(
            i.key
            for i in emulator.state.issues.values()
            if emulator.state.issue_types[i.fields["issuetype"]].name == "Story"
        )
    client = _client(slice_)
    try:
        points = next(f["id"] for f in client.fields() if f["name"] == "Story Points")
        bad, good = client.issue(keys[0]), client.issue(keys[1])
        bad.update(fields={points: 1e28})  # a person's typo: Jira accepts any double
        good.update(fields={"summary": "Renamed while another issue is broken"})
    finally:
        client.close()

    for _ in range(2):  # and on every run after, until a person fixes the value
        code, report = slice_.sync()
        conn = report["connections"]["delivery_jira"]
        assert conn["status"] == "ok", report
        assert "internal error" not in str(report)
        [quarantined] = [q for q in report["quarantined"] if q["external_id"] == bad.id]
        assert quarantined["entity_type"] == "work_item"
        assert bad.key in quarantined["reason"] and "out of range" in quarantined["reason"]
    code, full = slice_.sync("--full")
    assert full["connections"]["delivery_jira"]["status"] == "ok", full
    from tests.e2e.test_tombstones import store_rows

    entities, _links = store_rows(slice_)
    names = {v.get("name") for v in entities.values()}
    assert "Renamed while another issue is broken" in names  # the other edit landed


def _boom() -> Any:
    from decimal import Decimal

    return Decimal("1e28").quantize(Decimal(1))


def test_any_mapping_exception_is_a_quarantine_but_connection_errors_pass() -> None:
    item = isolated("c", EntityType.WORK_ITEM, "42", _boom)
    assert isinstance(item, Quarantined) and "InvalidOperation" in item.reason
    [many] = isolated_many("c", EntityType.RAID_ITEM, "7", lambda: [_boom()])
    assert isinstance(many, Quarantined) and many.external_id == "7"
    assert record_problem(KeyError("Fields")) == "cannot map: KeyError: 'Fields'"
    assert record_problem(SkippableRecordError("bad option")) == "bad option"
    for exc in (AuthError("401"), FatalConnectorError("schema"), RetriableError("503")):
        assert record_problem(exc) is None
        try:
            isolated("c", EntityType.WORK_ITEM, "1", _raise, exc)
        except type(exc):
            pass
        else:
            raise AssertionError(f"{exc!r} was swallowed")


def _raise(exc: Exception) -> Any:
    raise exc
