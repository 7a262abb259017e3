"""Several workers on one PostgreSQL store (issue #11): connections split between workers.

Each worker (`pmo-sync sync --connection …`) holds an advisory lock per connection it syncs,
and the stages that write the store's shared rows run under one store-wide advisory lock
(sync/lock.py). Two real processes sync three Airtable bases side by side; the emulators log
every write by method, path and body, so a write made twice shows as a count of 2. PostgreSQL
only (PMOSYNC_TEST_PG_URL): SQLite keeps one lock for the whole store.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest

from pmosync.sync import models
from pmosync.sync.lock import run_lock
from pmosync.sync.store import Store, utcnow
from tests.e2e.conftest import TODAY, fast_airtable

BASES = ("pmo_a", "pmo_b", "pmo_c")
WORKERS = (("pmo_a", "pmo_b"), ("pmo_c",))


def _worker(config: str, connections: tuple[str, ...], *extra: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")}
    args = [f"--connection={name}" for name in connections]
    return subprocess.Popen(
        [sys.executable, "-m", "pmosync.cli", "sync", "--config", config, "--json"]
        + ["--today", TODAY.isoformat(), *args, *extra],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _finish(proc: subprocess.Popen[str]) -> tuple[int, dict[str, Any], str]:
    out, err = proc.communicate(timeout=300)
    try:
        return proc.returncode, json.loads(out), err
    except json.JSONDecodeError:
        return proc.returncode, {}, out + err


def _round(config: str, *extra: str) -> list[dict[str, Any]]:
    """Every worker started at once; each must finish ok, syncing exactly its connections."""
    procs = [_worker(config, names, *extra) for names in WORKERS]
    reports = []
    for names, proc in zip(WORKERS, procs, strict=True):
        code, report, err = _finish(proc)
        assert code == 0, (names, report or err)
        assert sorted(report["connections"]) == sorted(names), report["connections"]
        reports.append(report)
        print(names, report["duration_seconds"], report["phases"])
    return reports


def _running(store: Store, age: timedelta) -> int:
    """A run row marked running, started ``age`` ago (as another worker's would be)."""
    with store.session() as session:
        run = models.Run(started_at=utcnow() - age, status="running", dry_run=False)
        session.add(run)
        session.flush()
        return run.id


def _status(store: Store, run_id: int) -> str:
    with store.sessions() as session:
        return str(session.get(models.Run, run_id).status)  # type: ignore[union-attr]


@pytest.mark.parametrize("store_url", ["postgresql"], indirect=True)
def test_two_workers_split_the_connections_and_make_no_write_twice(
    make_slice: Any, store_url: str
) -> None:
    slice_ = make_slice(fast_airtable(BASES))
    config = str(slice_.config)

    first = _round(config, "--full")
    assert sum(c["writes_applied"] for r in first for c in r["connections"].values()) > 0
    # the three bases hold the same projects, so each worker's own writes complete the
    # portfolio: a run over every connection at once has nothing left to do
    code, final = slice_.sync("--dry-run")
    assert code == 0 and final["plan"] == [], final["plan"]

    for name in BASES:
        writes = slice_.service(name).emulator.counters.snapshot()["writes"]
        assert writes, f"{name} received no write"
        twice = {key: n for key, n in writes.items() if n > 1}
        assert not twice, f"{name}: the same write made more than once: {twice}"
        service = slice_.service(name)
        rows = service.emulator.records(service.spec.credentials["base_id"], "Projects")
        codes = Counter(row["fields"].get("Code") for row in rows)
        assert codes and max(codes.values()) == 1, codes  # no project doubled

    # a worker wanting a connection another worker holds stops with "locked" (exit 4),
    # naming the connection; one on the other connections goes ahead meanwhile
    store = Store.open(store_url)
    try:
        with run_lock(store, connections=["pmo_c"]):
            code, report = slice_.sync("--connection", "pmo_c", "--dry-run")
            assert code == 4 and "connection pmo_c" in report["output"], (code, report)
            code, report = slice_.sync("--connection", "pmo_a", "--dry-run")
            assert code == 0 and report["plan"] == [], (code, report)
            # another worker's live run is not marked interrupted by this one; a run
            # "running" past any lease (its process was killed) is
            live, dead = _running(store, timedelta(0)), _running(store, timedelta(days=2))
            code, report = slice_.sync("--connection", "pmo_a")
            assert code == 0, report
            assert _status(store, live) == "running" and _status(store, dead) == "interrupted"
        # and a whole-store lock (no connections named) excludes every worker
        with run_lock(store):
            code, report = slice_.sync("--connection", "pmo_a", "--dry-run")
            assert code == 4 and "holds the lock on this store" in report["output"], report
    finally:
        store.close()
