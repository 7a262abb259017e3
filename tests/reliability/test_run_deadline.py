"""A hung run never holds the lock forever; a slow run stops at its deadline (issue #11,
item 11). Through the CLI against the Airtable emulator; the hung holder is a real process
stopped with SIGSTOP while it holds the store's lock."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from pmosync.cli import EXIT_LOCKED
from pmosync.config.loader import load_config

HOLDER = """
import os, signal, sys
from pmosync.sync.lock import run_lock
from pmosync.sync.store import Store
store = Store.open(sys.argv[1])
with run_lock(store, max_seconds=float(sys.argv[2])):
    print("held", flush=True)
    os.kill(os.getpid(), signal.SIGSTOP)  # hung: a stopped process keeps its lock
"""


def _stopped(pid: int) -> bool:
    state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    return state in ("T", "t")


def _hold(url: str, max_seconds: float) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, url, str(max_seconds)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    for _ in range(200):
        if _stopped(proc.pid):
            return proc
        time.sleep(0.01)
    raise AssertionError("the holder did not stop")


@pytest.mark.skipif(not Path("/proc").exists(), reason="reads process states from /proc")
def test_a_stopped_run_past_its_lease_is_ended_and_the_next_run_goes_ahead(
    make_slice: Any,
) -> None:
    slice_ = make_slice()
    url = load_config(slice_.config).store_url()
    if not url.startswith("sqlite"):
        pytest.skip("the SQLite lease; PostgreSQL relies on the server's idle_session_timeout")
    within = _hold(url, 3600)
    try:
        code, report = slice_.sync()
        assert code == EXIT_LOCKED, report  # a live lease is respected
    finally:
        within.kill()
        within.wait()

    hung = _hold(url, 0.001)  # its lease ran out at once: it is hung
    try:
        code, report = slice_.sync("--full")
        assert code == 0, report
        assert hung.wait(timeout=10) == -signal.SIGKILL
    finally:
        if hung.poll() is None:
            os.kill(hung.pid, signal.SIGKILL)
            hung.wait()


def test_past_max_run_seconds_no_more_writes_are_sent_and_the_next_run_sends_them(
    make_slice: Any,
) -> None:
    slice_ = make_slice()
    yaml = YAML()
    config = yaml.load(slice_.config.read_text())
    config["sync"]["max_run_seconds"] = 0.001
    with slice_.config.open("w") as handle:
        yaml.dump(config, handle)
    code, stopped = slice_.sync("--full")
    conn = stopped["connections"]["pmo_airtable"]
    assert code != 0 and conn["writes_applied"] == 0, stopped
    assert "run deadline" in conn["error"] and conn["error_kind"] == "retriable"
    planned = len(stopped["plan"])
    assert planned > 0
    config["sync"]["max_run_seconds"] = 3600
    with slice_.config.open("w") as handle:
        yaml.dump(config, handle)
    code, done = slice_.sync()
    assert code == 0, done
    assert done["connections"]["pmo_airtable"]["writes_applied"] == planned
