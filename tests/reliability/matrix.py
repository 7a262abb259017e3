"""The fault matrix's cases (tests/reliability/test_fault_matrix.py runs them; the report
script too): one fault at one emulator, on its reads or its writes, then convergence and a
field-by-field comparison with a fault-free run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pmosync.cli import EXIT_OK, EXIT_PARTIAL, EXIT_UNAVAILABLE
from tests.reliability.tools import (
    TARGETS,
    Target,
    converge,
    differences,
    leaks,
    open_slice,
    reference,
    snapshot,
)

# a stalled request hangs longer than the clients wait for it
STALL_SECONDS, CLIENT_TIMEOUT = 4.0, 2.0
FAULTS = ("429", "503", "drop", "lost", "timeout")
SIDES = ("read", "write")


def fault_spec(target: Target, fault: str, side: str) -> dict[str, Any]:
    """The admin API's fault body for one case."""
    where = {"path_prefix": target.prefix, "method": "GET" if side == "read" else target.write}
    if fault == "429":  # throttled, with the Retry-After the services send
        return {"burst": {"status": 429, "count": 2, "retry_after": 1, **where}}
    if fault == "503":  # an outage blip without Retry-After
        return {"burst": {"status": 503, "count": 2, **where}}
    if fault == "drop":
        return {"drop": {"count": 1, **where}}
    if fault == "lost":
        return {"lose_response": {"count": 1, **where}}
    return {"stall": {"count": 1, "seconds": STALL_SECONDS, **where}}


def fired(emulator: Any) -> bool:
    """Every injected fault was met by a request (a case whose fault never fired proves nothing)."""
    faults = emulator.faults
    pending = [f for f in (*faults.bursts, *faults.lost, *faults.stalls) if f.count > 0]
    return not pending and faults.drops == 0


_REFERENCES: dict[str, dict[str, Any]] = {}


def reference_of(target: Target, directory: Path) -> dict[str, Any]:
    """The fault-free run's final state, built once per target and process."""
    if target.name not in _REFERENCES:
        _REFERENCES[target.name] = reference(target, directory)
    return _REFERENCES[target.name]


def run_case(target: Target, fault: str, side: str, directory: Path) -> dict[str, Any]:
    """One case; returns what the report script records (the assertions are made here)."""
    expected = reference_of(target, directory / "reference")
    timeout = CLIENT_TIMEOUT if fault == "timeout" else None
    with open_slice(target, directory / "case", timeout_seconds=timeout) as slice_:
        emulator: Any = slice_.service(target.service).emulator
        emulator.faults.set(fault_spec(target, fault, side))
        code, report = slice_.sync("--full")
        assert code in (EXIT_OK, EXIT_PARTIAL, EXIT_UNAVAILABLE), report
        assert "internal error" not in str(report) and "Traceback" not in str(report), report
        assert fired(emulator), f"the {fault} fault on {side}s never fired"
        emulator.faults.clear()
        converge(slice_)
        diffs = differences(expected, snapshot(slice_))
        assert not diffs, diffs[:20]
        leaked = leaks(slice_, [], (json.dumps(report),))
        assert not leaked, leaked
    return {
        "target": target.name,
        "fault": fault,
        "side": side,
        "exit_code": code,
        "duplicates": sum("only in right" in d for d in diffs),
        "lost": sum("only in right" not in d for d in diffs),
        "leaked": len(leaked),
    }


def all_cases() -> list[tuple[str, str, str]]:
    return [(name, fault, side) for name in TARGETS for fault in FAULTS for side in SIDES]
