"""Where each phase of a sync spends its time: a sampling profile split by phase.

    python benchmarks/profile_phases.py -c DIR/pmo-sync.yaml [--full] --out /tmp/bench/phases-full

Runs one sync in this process with a sampler thread that reads every thread's stack every
``--interval`` seconds (``sys._current_frames``) and files the sample under the phase the engine
is in (its "<phase>: ..." INFO log lines mark the boundaries). Threads parked in a queue, a
lock or a selector are left out, so the pull's worker pool counts only while it works or reads
a socket; each sample weighs the time since the previous one (thread-seconds).
Writes ``<out>.txt``: per phase the hottest functions by own time (the frame on top) and by
cumulative time (anywhere in the stack), and ``<out>.json`` with the raw counts. For flame
graphs use py-spy (``py-spy record --format speedscope -- python -m pmosync.cli sync ...``):
it sees C frames too but cannot split by phase.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import threading
import time
from collections import Counter
from datetime import date
from pathlib import Path
from types import FrameType
from typing import Any

PHASES = ("load", "pull", "identify", "reconcile", "analyse", "plan", "commit", "apply", "settle")
SHARED = "connectors (shared)"
IDLE_FILES = ("threading.py", "queue.py", "selectors.py", "concurrent/futures/thread.py")


class PhaseTracker(logging.Handler):
    """Follows the engine's phase log lines: "<phase>: <what>" starts, "<phase>: done" ends."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.current = "startup"

    def emit(self, record: logging.LogRecord) -> None:
        if not (record.args and str(record.msg).startswith("%s: ")):
            return
        name = str(record.args[0])  # type: ignore[index]
        if name in PHASES:
            self.current = "between" if str(record.msg).startswith("%s: done") else name


def _label(frame: FrameType) -> str:
    code = frame.f_code
    path = code.co_filename
    short = path.split("site-packages/")[-1].split("/work/main/")[-1]
    return f"{code.co_name} ({short}:{code.co_firstlineno})"


def _tool(label: str) -> str:
    """``pull (pmosync/connectors/jira/connector.py:12)`` -> ``jira``."""
    rest = label.split("pmosync/connectors/", 1)[1]
    return rest.split("/", 1)[0] if "/" in rest.split(":", 1)[0] else SHARED


def _stack(frame: FrameType | None) -> list[str]:
    out = []
    while frame is not None:
        out.append(_label(frame))
        frame = frame.f_back
    return out  # leaf first


class Sampler(threading.Thread):
    def __init__(self, tracker: PhaseTracker, interval: float) -> None:
        super().__init__(daemon=True, name="phase-sampler")
        self.tracker = tracker
        self.interval = interval
        self.stop_event = threading.Event()
        self.own: dict[str, Counter[str]] = {}
        self.cumulative: dict[str, Counter[str]] = {}
        self.samples: Counter[str] = Counter()  # thread-seconds per phase
        self.tools: dict[str, Counter[str]] = {}  # phase -> connector package -> thread-s

    def run(self) -> None:
        me = threading.get_ident()
        last = time.perf_counter()
        while not self.stop_event.wait(self.interval):
            # weigh each sample by the time since the last one: a busy main thread holds the
            # GIL for up to the switch interval, so samples come slower than asked
            now = time.perf_counter()
            weight, last = now - last, now
            phase = self.tracker.current
            for ident, frame in sys._current_frames().items():
                if ident == me:
                    continue
                if frame.f_code.co_filename.endswith(IDLE_FILES):
                    continue
                stack = _stack(frame)
                self.samples[phase] += weight
                self.own.setdefault(phase, Counter())[stack[0]] += weight
                tools = [_tool(f) for f in stack if "pmosync/connectors/" in f]
                tool = next((t for t in tools if t != SHARED), tools[0] if tools else "engine")
                self.tools.setdefault(phase, Counter())[tool] += weight
                cumulative = self.cumulative.setdefault(phase, Counter())
                for label in set(stack):
                    cumulative[label] += weight


def render(sampler: Sampler, interval: float, phases: dict[str, float], top: int) -> str:
    lines = [
        f"sampling every {interval * 1000:.0f} ms; a sample is one busy thread's stack "
        "(threads parked in a queue/lock/selector left out), so seconds below are "
        "thread-seconds: the pull's concurrent workers can add up to more than the wall",
        "phases (s, from the run report): " + ", ".join(f"{k} {v:.2f}" for k, v in phases.items()),
    ]
    for phase in list(phases) + [p for p in sampler.samples if p not in phases]:
        total = sampler.samples.get(phase, 0)
        if not total:
            continue
        lines += ["", f"== {phase}: {total:.1f} busy thread-s =="]
        tools = sampler.tools.get(phase, Counter())
        lines.append("by connector: " + ", ".join(f"{k} {v:.1f}s" for k, v in tools.most_common()))
        # the frames every sample of the phase shares (run_sync, the stage function's
        # callers, a thread's bootstrap) say nothing: cumulative lists the rest
        spine = {k for k, v in sampler.cumulative[phase].items() if v >= 0.995 * total}
        cumulative = Counter({k: v for k, v in sampler.cumulative[phase].items() if k not in spine})
        for title, counts in (("own time", sampler.own[phase]), ("cumulative", cumulative)):
            lines.append(f"-- top {top} by {title} --")
            for label, n in counts.most_common(top):
                lines.append(f"{n:8.2f}s {100 * n / total:5.1f}%  {label}")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-c", "--config", type=Path, required=True)
    parser.add_argument("--full", action="store_true")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--interval", type=float, default=0.005)
    parser.add_argument("--top", type=int, default=15)
    parser.add_argument("--today", default="2026-11-20")
    args = parser.parse_args()

    from pmosync.config.loader import load_config
    from pmosync.sync.engine import SyncOptions, run_sync

    tracker = PhaseTracker()
    engine_log = logging.getLogger("pmosync")  # the engine logs on pmosync.sync
    engine_log.setLevel(logging.INFO)
    engine_log.addHandler(tracker)
    loaded = load_config(args.config)
    sampler = Sampler(tracker, args.interval)
    sampler.start()
    started = time.perf_counter()
    report = run_sync(loaded, SyncOptions(full=args.full, today=date.fromisoformat(args.today)))
    wall = time.perf_counter() - started
    sampler.stop_event.set()
    sampler.join()
    text = f"wall {wall:.1f}s, {report.api_calls} API calls, status {report.status}\n"
    text += render(sampler, args.interval, report.phases, args.top)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".txt").write_text(text)
    raw: dict[str, Any] = {
        "interval": args.interval,
        "wall": wall,
        "phases": report.phases,
        "own": {p: dict(c.most_common(200)) for p, c in sampler.own.items()},
        "cumulative": {p: dict(c.most_common(200)) for p, c in sampler.cumulative.items()},
        "by_connector": {p: dict(c) for p, c in sampler.tools.items()},
    }
    args.out.with_suffix(".json").write_text(json.dumps(raw, indent=1))
    print(text)


if __name__ == "__main__":
    main()
