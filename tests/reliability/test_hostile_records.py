"""A corpus of hostile remote records (issue #11): Jira issues whose fields hold what people,
plugins and imports really put there. Whatever they hold, the Jira connection stays ok; each
hostile issue is either synced or quarantined with a reason naming it, and every other issue
syncs. Values are put in the emulator's state (what the server would answer), read back
through the real `jira` client by `pmo-sync sync --full`."""

from __future__ import annotations

from typing import Any

from pmosync.sandbox.harness import Scenario
from pmosync.sandbox.scenarios import jira
from tests.e2e.test_tombstones import store_rows

SP, START = "customfield_10016", "customfield_10015"

# (field id, value, what the reason must say when it is quarantined; None: may sync). Jira
# validates dates on write and keeps references (users, priorities) whole, so date fields hold
# valid dates only, however far out, and references name what exists.
HOSTILE: list[tuple[str, Any, str | None]] = [
    (SP, 1e28, "out of range"),
    (SP, 1e300, "out of range"),
    (SP, -1e300, "out of range"),
    (SP, "twelve", "not a number"),
    (SP, "", None),
    (SP, "  7 ", None),
    (SP, True, None),
    (SP, {"value": "5"}, None),
    (SP, [3], None),
    (SP, 1e-30, None),
    (SP, -3, None),
    (SP, 0.1, None),
    (SP, 123456789012345678901234567, None),
    ("summary", "", None),
    ("summary", "x" * 100_000, None),
    ("summary", "\u202eevil\u202c", None),
    ("summary", "nul\x00byte", None),
    ("summary", '=HYPERLINK("http://evil")', None),
    ("summary", "🚀" * 500, None),
    ("summary", "line\nbreak\r\ntab\t", None),
    ("summary", "<script>alert(1)</script>", None),
    ("summary", "' OR 1=1 --", None),
    ("summary", "\ud800".encode("utf-8", "surrogatepass").decode("utf-8", "replace"), None),
    ("duedate", "9999-12-31", "outside the years"),
    ("duedate", "0001-01-01", "outside the years"),
    ("duedate", "20261120", None),
    (START, "1900-01-01", None),
    (SP, 1e27, None),
    (SP, -0.0, None),
    (SP, 5e-324, None),
    ("summary", "   ", None),
    ("summary", "null", None),
    ("summary", "\u0000" * 10, None),
    ("summary", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢", None),
    ("labels", ["a" * 10_000], None),
    ("labels", [f"l{i}" for i in range(2_000)], None),
    ("labels", ["", " ", "\t"], None),
    ("labels", ["ünïcödé", "日本語", "emoji🙂"], None),
    ("labels", [], None),
    ("environment", "x" * 50_000, None),
    ("summary", "a" * 255, None),
    ("summary", "\\u0041 \\n %s %d {0} ${jndi:ldap://x}", None),
]


def test_hostile_jira_issues_never_fail_the_connection(make_slice: Any) -> None:
    assert len(HOSTILE) >= 40
    scenario = Scenario(
        services=jira.services(projects=1, issues_per_project=60),
        portfolio={"name": "Test", "timezone": "UTC"},
    )
    slice_ = make_slice(scenario)
    emulator: Any = slice_.service("delivery_jira").emulator
    with emulator.lock:
        state = emulator.state
        work = sorted(
            (
                i
                for i in state.issues.values()
                if state.issue_types[i.fields["issuetype"]].name in ("Story", "Task", "Bug")
            ),
            key=lambda i: i.id,
        )
        assert len(work) > len(HOSTILE)
        hostile: dict[str, tuple[str, Any, str | None]] = {}
        for issue, (field_id, value, _reason) in zip(work, HOSTILE, strict=False):
            issue.fields[field_id] = value
            state.touch(issue)
            hostile[str(issue.id)] = (issue.key, field_id, _reason)
        others = {str(i.id) for i in work[len(HOSTILE) :]}

    code, report = slice_.sync("--full")
    assert "connections" in report, report
    conn = report["connections"]["delivery_jira"]
    assert conn["status"] == "ok", conn
    assert "internal error" not in str(report)
    quarantined = {q["external_id"]: q["reason"] for q in report["quarantined"]}
    for issue_id, (key, field_id, reason) in hostile.items():
        if reason is not None:
            assert issue_id in quarantined, (key, field_id, reason)
            assert reason in quarantined[issue_id] and key in quarantined[issue_id]
        elif issue_id in quarantined:
            assert key in quarantined[issue_id], quarantined[issue_id]
    assert not others & set(quarantined)
    _entities, links = store_rows(slice_)
    stored = {lk.external_id for lk in links if lk.connection == "delivery_jira"}
    assert others <= stored
    assert {i for i in hostile if i not in quarantined} <= stored
