"""The SIGKILL campaign (issue #11): `pmo-sync sync` killed at random points, re-run until it
converges, and every tool's final state compared with an uninterrupted run, field by field.

A trial builds a fresh sandbox, starts `pmo-sync sync --full` in a subprocess and, once the
run has begun its first stage, SIGKILLs it after a seeded random share (up to 80 %) of the
time an uninterrupted run takes from there to its end, ``kills`` times in a row
(each re-run resumes what the killed one journaled), then syncs until a run plans nothing.
Every emulator answers with a little latency so the kills land inside pulls and between write
chunks. Trials rotate over the emulators' sandboxes.

The same trial greps everything pmo-sync wrote (its log at -v, its JSON reports, the store)
for the sandbox's secrets.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pmosync.sync.engine import STAGES
from tests.e2e.conftest import TODAY, Slice
from tests.reliability.tools import (
    TARGETS,
    Target,
    converge,
    differences,
    leaks,
    open_slice,
    snapshot,
)

LATENCY_MS = 20


@dataclass
class Trial:
    target: str
    seed: int
    kills: int = 0
    finished_before_kill: int = 0
    # the stage each killed run had reached (its -v log names each stage as it starts)
    killed_in: list[str] = field(default_factory=list)
    differences: list[str] = field(default_factory=list)
    leaked: list[str] = field(default_factory=list)

    @property
    def duplicates(self) -> int:
        return sum("only in right" in d for d in self.differences)

    @property
    def lost(self) -> int:
        return len(self.differences) - self.duplicates


def _env() -> dict[str, str]:
    drop = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")
    return {k: v for k, v in os.environ.items() if k not in drop}


def start(slice_: Slice, log: Path) -> subprocess.Popen[bytes]:
    """`pmo-sync -v sync --full --json` in its own process, stdout and stderr to ``log``."""
    handle = log.open("ab")
    try:
        return subprocess.Popen(
            [sys.executable, "-m", "pmosync.cli", "-v", "sync", "--full", "--json"]
            + ["--config", str(slice_.config), "--today", TODAY.isoformat()],
            env=_env(),
            stdout=handle,
            stderr=handle,
        )
    finally:
        handle.close()


def _slow(slice_: Slice) -> None:
    for service in slice_.sandbox.services.values():
        service.emulator.faults.set({"latency_ms": LATENCY_MS})


def started(proc: subprocess.Popen[bytes], log: Path) -> bool:
    """Wait until the run has started its first stage (the interpreter's start-up is over);
    False if the process ended first."""
    while proc.poll() is None:
        if f"load: {STAGES['load']}" in log.read_text(errors="replace"):
            return True
        time.sleep(0.01)
    return False


def uninterrupted(target: Target, directory: Path) -> tuple[dict[str, Any], float]:
    """The reference: every tool's state after an uninterrupted run (and its convergence), and
    how long that run took in a subprocess from its first stage to its end."""
    with open_slice(target, directory) as slice_:
        _slow(slice_)
        log = directory / "reference.log"
        proc = start(slice_, log)
        assert started(proc, log), log.read_text()[-2000:]
        began = time.monotonic()
        code = proc.wait(300)
        span = time.monotonic() - began
        assert code == 0, log.read_text()[-2000:]
        converge(slice_)
        return snapshot(slice_), span


def stage_reached(log: Path) -> str:
    """The last stage a run's -v log started ('start-up' before the first)."""
    reached = "start-up"
    for line in log.read_text(errors="replace").splitlines():
        for stage, says in STAGES.items():
            if f"{stage}: {says}" in line:
                reached = stage
    return reached


def trial(
    target: Target, reference: tuple[dict[str, Any], float], directory: Path, seed: int, kills: int
) -> Trial:
    expected, span = reference
    rng = random.Random(seed)
    result = Trial(target.name, seed)
    with open_slice(target, directory) as slice_:
        _slow(slice_)
        logs = []
        attempts = 0
        while result.kills < kills and attempts < kills * 10:
            attempts += 1
            log = directory / f"run-{attempts}.log"
            logs.append(log)
            proc = start(slice_, log)
            try:
                if started(proc, log):  # then a random point of the run's own span (a
                    # re-run has less to write than the first run: most of it, not all)
                    proc.wait(rng.uniform(0.0, 0.8) * span)
                result.finished_before_kill += 1
            except subprocess.TimeoutExpired:
                proc.send_signal(signal.SIGKILL)
                proc.wait(30)
                result.kills += 1
                result.killed_in.append(stage_reached(log))
        for service in slice_.sandbox.services.values():
            service.emulator.faults.clear()
        converge(slice_)
        result.differences = differences(expected, snapshot(slice_))
        result.leaked = leaks(slice_, logs)
    return result


def campaign(directory: Path, *, kills: int, per_trial: int = 3, seed: int = 11) -> list[Trial]:
    """At least ``kills`` SIGKILLs over trials of ``per_trial``, rotating over the emulators."""
    references: dict[str, tuple[dict[str, Any], float]] = {}
    names = sorted(TARGETS)
    trials: list[Trial] = []
    index = 0
    while sum(t.kills for t in trials) < kills:
        target = TARGETS[names[index % len(names)]]
        if target.name not in references:
            references[target.name] = uninterrupted(target, directory / f"ref-{target.name}")
        want = min(per_trial, kills - sum(t.kills for t in trials))
        trials.append(
            trial(target, references[target.name], directory / f"trial-{index}", seed + index, want)
        )
        index += 1
    return trials
