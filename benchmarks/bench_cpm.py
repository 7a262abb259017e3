"""CPM at portfolio scale: forward and backward pass, slack and driving links.

    python benchmarks/bench_cpm.py [--tasks 100000] [--links 150000] [--projects 50] [--seed 7]

Builds a seeded random acyclic network (links only go from an earlier task to a later one, in
a window so that chains are long), on MS Project's Standard calendar, with FS/SS/FF/SF links,
leads and lags, a few constraints and deadlines, and times ``compute_schedule``. The target is
100,000 tasks and 150,000 links in at most 5 s on 2 cores (it runs on one). CPU time is printed
beside wall time because a loaded machine (other test runs) stretches the latter.
"""

from __future__ import annotations

import argparse
import random
import time
from datetime import datetime, timedelta

from pmosync.analysis.calendar import standard_calendar
from pmosync.analysis.cpm import CpmLink, CpmTask, compute_schedule

START = datetime(2027, 1, 4, 8)


def network(
    n_tasks: int, n_links: int, n_projects: int, seed: int
) -> tuple[list[CpmTask], list[CpmLink]]:
    rng = random.Random(seed)
    tasks = []
    for i in range(n_tasks):
        project = f"P{i * n_projects // n_tasks}"
        roll = rng.random()
        constraint, cdate, deadline = "ASAP", None, None
        if roll < 0.01:
            constraint, cdate = "SNET", START + timedelta(days=rng.randrange(0, 200))
        elif roll < 0.015:
            constraint, cdate = "FNLT", START + timedelta(days=rng.randrange(100, 400), hours=9)
        elif roll < 0.02:
            deadline = START + timedelta(days=rng.randrange(100, 400), hours=9)
        tasks.append(
            CpmTask(
                id=f"T{i}",
                project=project,
                duration_minutes=rng.choice((0, 240, 480, 960, 2400, 4800)),
                constraint_type=constraint,
                constraint_date=cdate,
                deadline=deadline,
            )
        )
    links = []
    seen = set()
    while len(links) < n_links:
        s = rng.randrange(1, n_tasks)
        p = rng.randrange(max(0, s - 50), s)
        if (p, s) in seen:
            continue
        seen.add((p, s))
        kind = rng.choices(("FS", "SS", "FF", "SF"), weights=(85, 7, 6, 2))[0]
        lag = rng.choice((0, 0, 0, 0, 480, -240, 960))
        links.append(CpmLink(f"T{p}", f"T{s}", kind, float(lag)))
    return tasks, links


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--links", type=int, default=150_000)
    parser.add_argument("--projects", type=int, default=50)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    tasks, links = network(args.tasks, args.links, args.projects, args.seed)
    calendar = standard_calendar()
    times = []
    cpu = []
    for _ in range(args.repeat):
        started, started_cpu = time.perf_counter(), time.process_time()
        result = compute_schedule(tasks, links, default_calendar=calendar, project_start=START)
        times.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
    critical = sum(1 for s in result.tasks.values() if s.critical)
    finish = max(result.project_finish.values())
    print(
        f"compute_schedule: {len(tasks):,} tasks, {len(links):,} links, "
        f"{args.projects} projects: best {min(times):.2f}s of {args.repeat} "
        f"(all: {', '.join(f'{t:.2f}' for t in times)}; CPU best {min(cpu):.2f}s); "
        f"{critical:,} critical, latest finish {finish:%Y-%m-%d %H:%M}"
    )


if __name__ == "__main__":
    main()
