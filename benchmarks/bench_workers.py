"""Scaling out: one worker syncing every connection against two workers splitting them, on
one PostgreSQL store (issue #13's scale-out path; docs/operations.md, "Several workers").

    python benchmarks/bench_workers.py --store-url postgresql+psycopg://USER@HOST:PORT/DB \
        [--size S|M] [--repeats 2]

Seeds portfolio-S/M in the sandbox (in this process), then, interleaved per round and each on
a freshly reset sandbox and an empty store: a full sync by one `pmo-sync sync` process, and
the same full sync by two processes started together (`--connection` each, the connections
split in two halves by records). Prints the walls side by side with their ratio, and checks
that both ways end with the same number of entities and that no write was made twice. Both
ways run on the same cores as the emulators: the ratio says what overlapping the two halves'
pulls and writes gives on this machine, not on two machines.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from sqlalchemy import create_engine, text

from pmosync.sandbox.harness import Sandbox
from pmosync.sandbox.scenarios import portfolio_l

TODAY = portfolio_l.TODAY.isoformat()
# the two halves: Jira and Airtable (issue tracker and register) against the two schedule tools
HALVES = (("delivery_jira", "pmo_airtable"), ("plans_pwa", "plans_planner"))


def fresh_store(url: str) -> None:
    """An empty schema: every table of an earlier trial dropped."""
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine.dispose()


def entity_count(url: str) -> int:
    engine = create_engine(url)
    with engine.connect() as connection:
        count = int(connection.execute(text("SELECT count(*) FROM entities")).scalar() or 0)
    engine.dispose()
    return count


def command(config: Path, connections: tuple[str, ...] = ()) -> list[str]:
    cmd = [sys.executable, "-m", "pmosync.cli", "sync", "-c", str(config), "--full"]
    cmd += ["--json", "--today", TODAY]
    for name in connections:
        cmd += ["--connection", name]
    return cmd


def run_together(commands: list[list[str]], work: Path) -> float:
    started = time.perf_counter()
    processes = [
        subprocess.Popen(
            cmd,
            cwd=work,
            stdout=(work / f"w{i}.out").open("wb"),
            stderr=(work / f"w{i}.err").open("wb"),
        )
        for i, cmd in enumerate(commands)
    ]
    codes = [p.wait() for p in processes]
    wall = time.perf_counter() - started
    if any(codes):
        tails = [(work / f"w{i}.err").read_text()[-1500:] for i in range(len(commands))]
        raise RuntimeError(f"exit codes {codes}: {tails}")
    return wall


def double_writes(sandbox: Sandbox) -> dict[str, int]:
    """Writes the emulators saw more than once (same method, path and body)."""
    doubled: dict[str, int] = {}
    for service in sandbox.services.values():
        counters: Any = getattr(service.emulator, "counters", None)
        if counters is not None:
            doubled.update(
                (k, n)
                for k, n in counters.snapshot()["writes"].items()
                if n > 1 and "/contextinfo" not in k  # a form digest request reads
            )
    return doubled


def reset(sandbox: Sandbox) -> None:
    for service in sandbox.services.values():
        emulator: Any = service.emulator
        emulator.reset()
        emulator.restore_seed()
        emulator.counters.clear()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--store-url", required=True, help="an empty PostgreSQL database")
    parser.add_argument("--size", default="S", choices=["S", "M"])
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    walls: dict[str, list[float]] = {"one worker": [], "two workers": []}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        with Sandbox(portfolio_l.scenario(args.size), work / "sandbox") as sandbox:
            yaml = YAML()
            config = yaml.load(sandbox.config_path.read_text())
            config["store"]["url"] = args.store_url
            with sandbox.config_path.open("w") as handle:
                yaml.dump(config, handle)
            entities: dict[str, int] = {}
            for round_ in range(args.repeats):
                order = ["one worker", "two workers"]
                for way in order if round_ % 2 == 0 else order[::-1]:
                    reset(sandbox)
                    fresh_store(args.store_url)
                    if way == "one worker":
                        cmds = [command(sandbox.config_path)]
                    else:
                        cmds = [command(sandbox.config_path, half) for half in HALVES]
                    walls[way].append(run_together(cmds, work))
                    entities[way] = entity_count(args.store_url)
                    doubled = double_writes(sandbox)
                    if doubled:
                        raise RuntimeError(f"{way}: {doubled} write(s) made twice")
                    print(f"round {round_ + 1}: {way}: {walls[way][-1]:.1f} s", flush=True)
    one, two = (min(walls[k]) for k in ("one worker", "two workers"))
    print(f"\nportfolio-{args.size}, full sync on one PostgreSQL store, min of {args.repeats}:")
    for way, values in walls.items():
        print(f"  {way:12s} {min(values):7.1f} s (median {statistics.median(values):.1f} s)")
    print(f"  two workers / one worker: {two / one:.2f}x wall")
    print(f"  entities: {entities} (equal: {len(set(entities.values())) == 1}); 0 writes twice")


if __name__ == "__main__":
    main()
