"""Measuring one pmo-sync run in a child process: wall, peak RSS, the run report, the store."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# the date every run evaluates "today" as, so repeats and sizes compare like for like
TODAY = "2026-11-20"


@dataclass
class ChildRun:
    wall: float
    max_rss_mb: float
    exit_code: int
    report: dict[str, Any]
    requests: dict[str, Any] = field(default_factory=dict)  # server-side, per emulator

    @property
    def records(self) -> int:
        return sum(int(c.get("pulled", 0)) for c in self.report.get("connections", {}).values())

    @property
    def phases(self) -> dict[str, float]:
        return dict(self.report.get("phases", {}))


def run_child(command: list[str], directory: Path, label: str) -> tuple[float, float, int, str]:
    """Run ``command``; return wall seconds, its own peak RSS (MB), exit code, stdout.

    ``os.wait4`` reports the rusage of that one child, so the peak is the pmo-sync process's
    own (``RUSAGE_CHILDREN`` would be the largest of every child reaped so far).
    """
    out_path = directory / f"{label}.stdout"
    err_path = directory / f"{label}.stderr"
    with out_path.open("wb") as out, err_path.open("wb") as err:
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=out, stderr=err, cwd=directory)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
    return wall, usage.ru_maxrss / 1024, process.returncode, out_path.read_text()


def sync(config: Path, *, full: bool, label: str, work: Path) -> ChildRun:
    """``pmo-sync sync --json`` as a cron job would run it, in its own process."""
    command = [sys.executable, "-m", "pmosync.cli", "sync", "-c", str(config), "--json"]
    command += ["--today", TODAY] + (["--full"] if full else [])
    wall, rss, code, stdout = run_child(command, work, label)
    try:
        report = json.loads(stdout)
    except json.JSONDecodeError:
        tail = (work / f"{label}.stderr").read_text()[-3000:]
        raise RuntimeError(
            f"{label}: pmo-sync exited {code} without a JSON report:\n{tail}"
        ) from None
    return ChildRun(wall=wall, max_rss_mb=rss, exit_code=code, report=report)


def store_bytes(config: Path) -> int:
    """The SQLite store with its WAL and shared-memory files."""
    base = config.parent / "pmo-sync.db"
    return sum(p.stat().st_size for p in base.parent.glob(base.name + "*") if p.is_file())


def drop_store(config: Path) -> None:
    for path in config.parent.glob("pmo-sync.db*"):
        path.unlink()


def connector_pull(config: Path, name: str) -> dict[str, Any]:
    """One connection's full pull through our connector alone (no engine, no store)."""
    from pmosync.canonical_model import Quarantined
    from pmosync.config.loader import load_config
    from pmosync.connectors import get_connector

    loaded = load_config(config)
    connector = get_connector(name, loaded.config.connections[name], loaded.mappings_for(name))
    started = time.perf_counter()
    records = quarantined = 0
    try:
        for scope in connector.scopes():
            for item in connector.pull(scope, None, None):
                if isinstance(item, Quarantined):
                    quarantined += 1
                else:
                    records += 1
        seconds = time.perf_counter() - started
        calls = connector.api_calls()
    finally:
        connector.close()
    return {"seconds": seconds, "records": records, "quarantined": quarantined, "calls": calls}
