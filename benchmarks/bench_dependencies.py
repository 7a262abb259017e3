"""The dependency analysis at portfolio scale: build the graph, run every check, follow a slip.

    python benchmarks/bench_dependencies.py [--items 100000] [--links 150000] [--projects 200]

A synthetic portfolio of entered-date items (the Jira/Airtable case, which exercises the
date-only → working-time conversion) in projects with summaries, chained within each project
plus random forward links, some across projects, and a few deliberate problems (a cycle, a
dangling end). Prints the wall time of each stage; the target is a few seconds in all.
"""

from __future__ import annotations

import argparse
import random
import time
from datetime import date, datetime, timedelta
from typing import Any

from pmosync.analysis.calendar import standard_calendar
from pmosync.analysis.dependencies import build_graph, check_dependencies
from pmosync.analysis.whatif import propagate_slip


def portfolio(items: int, links: int, projects: int) -> list[tuple[str, str, dict[str, Any]]]:
    rnd = random.Random(7)
    out: list[tuple[str, str, dict[str, Any]]] = []
    for p in range(projects):
        out.append((f"p{p}", "project", {"code": f"P{p}", "name": f"Project {p}"}))
    per = items // projects
    day0 = date(2027, 1, 4)
    for i in range(items):
        p = min(i // per, projects - 1)
        k = i - p * per
        values: dict[str, Any] = {"key": f"P{p}-{k}", "name": f"item {i}", "project": f"p{p}"}
        if k % 20 == 0:
            values["kind"] = "summary"
        else:
            values["parent"] = f"i{i - k % 20}"
            start = day0 + timedelta(days=k // 2)
            values["start"] = start.isoformat()
            values["due"] = (start + timedelta(days=rnd.randint(0, 6))).isoformat()
            values["schedule_mode"] = "entered"
            if k % 20 == 19:
                values["kind"] = "milestone"
        out.append((f"i{i}", "work_item", values))
    made = 0
    for i in range(items - 1):
        if made >= links:
            break
        if (i + 1) % per and i % 20:
            nxt = i + 2 if (i + 1) % 20 == 0 else i + 1  # summaries carry no links of their own
            link = {"predecessor": f"i{i}", "successor": f"i{nxt}"}
            out.append((f"d{made}", "dependency", link))
            made += 1
    while made < links:
        a = rnd.randrange(items - 1)
        b = min(items - 1, a + rnd.randint(1, per * 3))
        # mostly leaves, as in real plans (a link on a summary expands to all its leaves)
        a, b = (a + 1 if a % 20 == 0 else a), (b - 1 if b % 20 == 0 else b)
        if a >= b:
            continue
        lag = rnd.choice([0, 0, 0, 480, -480])
        out.append(
            (
                f"d{made}",
                "dependency",
                {"predecessor": f"i{a}", "successor": f"i{b}", "lag_minutes": lag},
            )
        )
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
    t0 = time.perf_counter()
    graph = build_graph(entities, calendar=cal)
    t1 = time.perf_counter()
    lg = graph.logic_graph()
    t2 = time.perf_counter()
    findings = check_dependencies(graph, calendar=cal, status_date=datetime(2027, 1, 1))
    t3 = time.perf_counter()
    slip = propagate_slip(graph, "i1", 10, calendar=cal)
    t4 = time.perf_counter()
    kinds: dict[str, int] = {}
    for f in findings:
        kinds[f.kind] = kinds.get(f.kind, 0) + 1
    print(f"{len(graph.nodes)} items, {len(graph.edges)} links, {len(graph.dangling)} dangling")
    print(f"build_graph            {t1 - t0:6.2f} s")
    print(f"logic_graph            {t2 - t1:6.2f} s  ({lg.number_of_edges()} leaf edges)")
    print(f"check_dependencies     {t3 - t2:6.2f} s  {kinds}")
    print(f"propagate_slip (push)  {t4 - t3:6.2f} s  ({len(slip.rows)} rows)")


if __name__ == "__main__":
    main()
