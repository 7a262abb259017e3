"""The run report says how long each connection waited and why (#9): the documented pacing,
a server's Retry-After, and nothing for a connection that never waited. Real pyairtable
against the Airtable emulator, through the CLI."""

from __future__ import annotations

from typing import Any

from click.testing import CliRunner

from pmosync.cli import main
from tests.e2e.conftest import TODAY


def test_pacing_and_retry_after_are_reported_with_their_reason(make_slice: Any) -> None:
    slice_ = make_slice()
    code, first = slice_.sync("--full")
    assert code == 0, first
    waited = first["connections"]["pmo_airtable"]["waited"]
    # 5 requests/s per base (Airtable's documented limit): a full sync is held back
    assert waited.get("pacing", 0) > 0, waited
    assert "Retry-After" not in waited

    emulator = slice_.service().emulator
    emulator.faults.set({"burst": {"status": 429, "count": 1, "retry_after": 1}})
    code, second = slice_.sync()
    assert code == 0, second
    waited = second["connections"]["pmo_airtable"]["waited"]
    assert waited.get("Retry-After", 0) >= 1, waited  # in full, never early

    result = CliRunner().invoke(
        main, ["sync", "--config", str(slice_.config), "--today", TODAY.isoformat()]
    )
    assert result.exit_code == 0, result.output
    assert "waited " in result.output and "pacing " in result.output
