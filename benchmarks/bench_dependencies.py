"""The dependency analysis at portfolio scale: build the graph, run every check, follow a slip.

    python benchmarks/bench_dependencies.py [--items 100000] [--links 150000] [--projects 200]

A synthetic portfolio of entered-date items (the Jira/Airtable case, which exercises the
date-only → working-time conversion) in projects with summaries, chained within each project
plus random forward links, some across projects, and a few deliberate problems (a cycle, a
dangling end). Prints the wall time of each stage; the target is a few seconds in all.
"""

from __future__ import annotations

import argparse
import bisect
import random
import time
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from pmosync.analysis.calendar import standard_calendar
from pmosync.analysis.dependencies import build_graph, check_dependencies
from pmosync.analysis.whatif import propagate_slip


def portfolio(items: int, links: int, projects: int) -> list[tuple[str, str, dict[str, Any]]]:
    """Projects of sequential items (a summary every 20, a milestone closing each group), each
    entered after the one before with a small gap, chained in order; the remaining links go
    from an item to one starting a little after it finishes, in any project. Dates are mostly
    consistent, as in a plan people keep, so a slip is absorbed by gaps as it spreads."""
    rnd = random.Random(7)
    out: list[tuple[str, str, dict[str, Any]]] = []
    for p in range(projects):
        out.append((f"p{p}", "project", {"code": f"P{p}", "name": f"Project {p}"}))
    per = items // projects
    day0 = date(2027, 1, 4).toordinal()
    starts: list[list[int]] = [[] for _ in range(projects)]  # per project: leaf start ordinals
    leaf_ids: list[list[int]] = [[] for _ in range(projects)]
    finish: dict[int, int] = {}
    for p in range(projects):
        cursor = day0 + rnd.randint(0, 60)
        for k in range(per):
            i = p * per + k
            values: dict[str, Any] = {"key": f"P{p}-{k}", "name": f"item {i}", "project": f"p{p}"}
            if k % 20 == 0:
                values["kind"] = "summary"
            else:
                values["parent"] = f"i{i - k % 20}"
                start = cursor + rnd.choice([0, 0, 1, 1, 2, 3, 5])
                due = start + (0 if k % 20 == 19 else rnd.randint(0, 4))
                cursor = due + 1
                values["start"] = date.fromordinal(start).isoformat()
                values["due"] = date.fromordinal(due).isoformat()
                values["schedule_mode"] = "entered"
                if k % 20 == 19:
                    values["kind"] = "milestone"
                starts[p].append(start)
                leaf_ids[p].append(i)
                finish[i] = due
            out.append((f"i{i}", "work_item", values))
    made = 0
    for p in range(projects):
        for a, b in zip(leaf_ids[p], leaf_ids[p][1:], strict=False):
            if made < links:
                link = {"predecessor": f"i{a}", "successor": f"i{b}"}
                out.append((f"d{made}", "dependency", link))
                made += 1
    while made < links:
        p = rnd.randrange(projects)
        a = rnd.choice(leaf_ids[p])
        q = rnd.randrange(projects)
        pos = bisect.bisect_right(starts[q], finish[a] + rnd.randint(0, 15))
        if pos >= len(starts[q]):
            continue
        b = leaf_ids[q][pos]
        lag = rnd.choice([0, 0, 0, 0, 480, -480])
        link = {"predecessor": f"i{a}", "successor": f"i{b}", "lag_minutes": lag}
        out.append((f"d{made}", "dependency", link))
        made += 1
    # a loop between two extra items, and a link to an item nobody knows
    for name in ("loopA", "loopB"):
        out.append((name, "work_item", {"key": name, "name": name, "project": "p0"}))
    out.append(("loop1", "dependency", {"predecessor": "loopA", "successor": "loopB"}))
    out.append(("loop2", "dependency", {"predecessor": "loopB", "successor": "loopA"}))
    out.append(("dangle", "dependency", {"predecessor": "i1", "successor": "nowhere"}))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--items", type=int, default=100_000)
    ap.add_argument("--links", type=int, default=150_000)
    ap.add_argument("--projects", type=int, default=200)
    args = ap.parse_args()
    cal = standard_calendar()
    entities = portfolio(args.items, args.links, args.projects)
    stages: list[tuple[str, float, float, str]] = []

    def timed(name: str, fn: Callable[[], Any], note: Callable[[Any], str]) -> Any:
        w, c = time.perf_counter(), time.process_time()
        out = fn()
        stages.append((name, time.perf_counter() - w, time.process_time() - c, note(out)))
        return out

    graph = timed("build_graph", lambda: build_graph(entities, calendar=cal), lambda g: "")
    timed("logic_graph", graph.logic_graph, lambda lg: f"{lg.number_of_edges()} leaf edges")

    def kinds(found: list[Any]) -> str:
        counts: dict[str, int] = {}
        for f in found:
            counts[f.kind] = counts.get(f.kind, 0) + 1
        return str(counts)

    status = datetime(2027, 1, 1)
    timed(
        "check_dependencies",
        lambda: check_dependencies(graph, calendar=cal, status_date=status),
        kinds,
    )
    timed(
        "propagate_slip (push)",
        lambda: propagate_slip(graph, "i1", 10, calendar=cal),
        lambda r: f"{len(r.rows)} rows",
    )
    print(f"{len(graph.nodes)} items, {len(graph.edges)} links, {len(graph.dangling)} dangling")
    print(f"{'stage':24} {'wall s':>7} {'cpu s':>7}")
    for name, wall, cpu, note in stages:
        print(f"{name:24} {wall:7.2f} {cpu:7.2f}  {note}")


if __name__ == "__main__":
    main()
