"""Airtable writes whose answer is lost after the base applied them (issue #11, item 9): the
upsert on the pmo-sync id is repeated, the run reports no failure and no row is doubled.
Real pyairtable against the emulator."""

from __future__ import annotations

from typing import Any


def test_a_lost_answer_to_an_applied_write_is_not_a_failure(make_slice: Any) -> None:
    slice_ = make_slice()
    emulator: Any = slice_.service().emulator
    code, planned = slice_.sync("--full", "--dry-run")
    assert code == 0 and planned["plan"], planned
    base = slice_.service().spec.credentials["base_id"]
    rows = {t: len(emulator.records(base, t)) for t in ("Projects", "Milestones", "Risks")}
    emulator.faults.set({"lose_response": {"count": 3, "path_prefix": "/v0", "method": "PATCH"}})
    code, report = slice_.sync("--full")
    conn = report["connections"]["pmo_airtable"]
    assert [f.count for f in emulator.faults.lost] == [0]  # three answers were really lost
    assert code == 0, report
    assert conn["writes_failed"] == 0 and conn["writes_applied"] == len(planned["plan"])
    assert {t: len(emulator.records(base, t)) for t in rows} == rows
    code, again = slice_.sync()
    assert code == 0 and again["plan"] == [], again["plan"]
