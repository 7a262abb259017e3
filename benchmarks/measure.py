"""Measuring one pmo-sync run in a child process: wall, peak RSS, the run report, the store."""

from __future__ import annotations

import json
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


# A child spawned straight from this process would report this process's peak as its own
# when ours is larger: Linux keeps the high-water RSS of the image a process replaces at exec
# (exec_mmap), and a forked or vforked child's image is ours until then. The runner holds the
# bare clients' results (tens of thousands of issues), so a quiet no-op "peaked" at the
# runner's 743 MB at portfolio-L. A small launcher spawns the real command and reports that
# process's own ru_maxrss (``os.wait4``: that one child, not RUSAGE_CHILDREN's largest).
_LAUNCHER = (
    "import os, sys\n"
    "pid = os.posix_spawn(sys.argv[2], sys.argv[2:], os.environ)\n"
    "_, status, usage = os.wait4(pid, 0)\n"
    "open(sys.argv[1], 'w').write(str(usage.ru_maxrss))\n"
    "sys.exit(os.waitstatus_to_exitcode(status))\n"
)


def run_child(command: list[str], directory: Path, label: str) -> tuple[float, float, int, str]:
    """Run ``command``; return wall seconds, its own peak RSS (MB), exit code, stdout."""
    out_path = directory / f"{label}.stdout"
    err_path = directory / f"{label}.stderr"
    rss_path = directory / f"{label}.maxrss"
    rss_path.unlink(missing_ok=True)
    launcher = [sys.executable, "-S", "-c", _LAUNCHER, str(rss_path)]
    with out_path.open("wb") as out, err_path.open("wb") as err:
        started = time.perf_counter()
        code = subprocess.run(launcher + command, stdout=out, stderr=err, cwd=directory).returncode
        wall = time.perf_counter() - started
    return wall, int(rss_path.read_text()) / 1024, code, out_path.read_text()


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
