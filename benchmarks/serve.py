"""The benchmark's emulator process: seed portfolio-S/M/L and serve it until SIGTERM.

    python benchmarks/serve.py --size M --dir /tmp/bench/sandbox-M

The emulators run in this process, apart from the pmo-sync runs being measured, so their CPU
and memory are never charged to pmo-sync (a sync measured in-process beside its emulators would
count the emulators' JSON rendering as its own). Once every emulator listens, ``ready.json`` in
DIR says how long seeding took and what was seeded; the runner waits for that file.
"""

from __future__ import annotations

import argparse
import json
import signal
import threading
import time
from pathlib import Path
from typing import Any

from pmosync.sandbox.harness import Sandbox
from pmosync.sandbox.scenarios import airtable_pmo, portfolio_l


def seeded_counts(sandbox: Sandbox) -> dict[str, Any]:
    """What the emulators hold, counted from their state (the figures the floors use)."""
    counts: dict[str, Any] = {}
    for name, service in sandbox.services.items():
        emulator: Any = service.emulator
        kind = service.spec.kind
        if kind == "jira":
            counts[name] = {
                "issues": len(emulator.state.issues),
                "links": len(emulator.state.links),
                "projects": len(emulator.state.projects),
                "versions": len(emulator.state.versions),  # read per project, as our pull does
            }
        elif kind == "airtable":
            mapping = service.spec.mapping or {}
            tables = {e["table"] for e in mapping["entities"].values()}
            schema = emulator.schema(airtable_pmo.BASE_ID)["tables"]
            counts[name] = {
                "tables": {
                    t["name"]: len(emulator.records(airtable_pmo.BASE_ID, t["id"]))
                    for t in schema
                    if t["id"] in tables
                }
            }
            counts[name]["records"] = sum(counts[name]["tables"].values())
        elif kind == "pwa":
            plans = list(emulator.state.projects.values())
            counts[name] = {
                "plans": len(plans),
                "tasks": sum(len(p.published.tasks) for p in plans),
                "links": sum(len(p.published.links) for p in plans),
                "assignments": sum(len(p.published.assignments) for p in plans),
                # the reporting feed's Issues, Risks and Resources, which the pull also reads
                "issues": sum(len(p.issues) for p in plans),
                "risks": sum(len(p.risks) for p in plans),
                "resources": len(emulator.state.resources),
            }
        elif kind == "dataverse":
            tables = emulator.tables
            counts[name] = {
                "plans": len(tables.all("msdyn_projects")),
                "tasks": len(tables.all("msdyn_projecttasks")),
                "links": len(tables.all("msdyn_projecttaskdependencies")),
            }
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="S", choices=sorted(portfolio_l.SIZES))
    parser.add_argument("--dir", type=Path, required=True)
    args = parser.parse_args()
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    started = time.perf_counter()
    scenario = portfolio_l.scenario(args.size)
    built = time.perf_counter() - started
    with Sandbox(scenario, args.dir) as sandbox:
        ready = {
            "size": args.size,
            "seed_seconds": round(built, 2),
            "start_seconds": round(time.perf_counter() - started - built, 2),
            "counts": seeded_counts(sandbox),
            "services": {
                n: {"kind": s.spec.kind, "url": s.url} for n, s in sandbox.services.items()
            },
        }
        (args.dir / "ready.json").write_text(json.dumps(ready, indent=2))
        stop.wait()


if __name__ == "__main__":
    main()
