"""Project Server writes through faults (issue #11, items 9 and 10): a 503 or a dropped
connection on a write is retried (every PWA write sets a state: repeating it is safe), a write
whose answer was lost after the server applied it is not reported failed, no project is left
checked out, and an Entra outage is a retriable outage (exit 5), never an internal error.
Through the CLI, msal + requests against the PWA and Entra emulators."""

from __future__ import annotations

from typing import Any

import pytest

from pmosync.cli import EXIT_UNAVAILABLE
from pmosync.sandbox.scenarios import pwa

WRITES = "/sites/pwa/_api/ProjectServer/Projects"


def _emulators(slice_: Any) -> tuple[Any, Any]:
    return slice_.service("plans_pwa").emulator, slice_.service("plans_pwa_entra").emulator


def _checked_out(emulator: Any) -> list[str]:
    with emulator.lock:
        return [p.id for p in emulator.state.projects.values() if p.checkout is not None]


@pytest.mark.parametrize(
    "fault",
    [
        {"burst": {"status": 503, "count": 3, "path_prefix": WRITES, "method": "POST"}},
        {"drop": {"count": 2, "path_prefix": WRITES}},
        {"lose_response": {"count": 2, "path_prefix": WRITES, "method": "POST"}},
    ],
    ids=["503", "dropped", "response-lost"],
)
def test_project_server_writes_survive_the_fault(make_slice: Any, fault: dict[str, Any]) -> None:
    slice_ = make_slice(pwa.scenario(projects=2))
    emulator, _entra = _emulators(slice_)
    code, first = slice_.sync("--full", "--dry-run")
    assert code == 0, first
    emulator.faults.set(fault)
    code, report = slice_.sync("--full")
    conn = report["connections"]["plans_pwa"]
    assert code == 0, report
    assert conn["writes_failed"] == 0 and report["write_errors"] == [], report
    assert conn["writes_applied"] == conn["writes_planned"] > 0
    assert _checked_out(emulator) == []
    code, again = slice_.sync()
    assert code == 0 and again["connections"]["plans_pwa"]["writes_planned"] == 0, again


def test_an_entra_outage_is_a_retriable_outage_not_an_internal_error(make_slice: Any) -> None:
    slice_ = make_slice(pwa.scenario(projects=1))
    _pwa, entra = _emulators(slice_)
    entra.faults.set({"burst": {"status": 503, "count": 1000, "retry_after": 0}})
    code, report = slice_.sync()
    conn = report["connections"]["plans_pwa"]
    assert code == EXIT_UNAVAILABLE, report
    assert conn["error_kind"] == "retriable", conn
    assert "internal error" not in (conn["error"] or "")
    entra.faults.clear()
    entra.faults.set({"burst": {"status": 503, "count": 2, "retry_after": 0}})  # a blip
    code, report = slice_.sync()
    assert code == 0, report
