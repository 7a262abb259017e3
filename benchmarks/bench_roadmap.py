"""The HTML roadmap of a large portfolio: its size and how long headless Chromium takes to
open and draw it (target: under 2 s for 200 projects).

    python benchmarks/bench_roadmap.py [--projects 200] [--programmes 12]

Builds the report snapshot in memory (projects with baselines and forecasts, five milestones
each, work items, cross-project links, dependency findings), renders roadmap.html, then opens
it in Debian's `chromium` three times and prints: file size, the page's own time from
navigation start to a drawn roadmap (``data-ready-ms``), and the wall-clock time of a whole
headless Chromium run against the same for a blank page (so the browser's start-up cost is
visible, not hidden in the figure).
"""

from __future__ import annotations

import argparse
import random
import re
import shutil
import statistics
import subprocess
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from pmosync.analysis.roadmap import FindingInput
from pmosync.reports.data import ReportData
from pmosync.reports.roadmap_build import roadmap_from_data
from pmosync.reports.roadmap_html import render_roadmap_html

STATUS_DATE = date(2026, 12, 1)
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def portfolio(projects: int, programmes: int, seed: int = 7) -> ReportData:
    rnd = random.Random(seed)
    entities: dict[str, dict[str, dict[str, Any]]] = {
        k: {} for k in ("programme", "project", "milestone", "work_item", "dependency", "raid_item")
    }
    sources: dict[str, tuple[str, ...]] = {}
    tools = ("delivery_jira", "plans_pwa", "pmo_airtable")
    for g in range(programmes):
        entities["programme"][f"g{g}"] = {"name": f"Programme {g + 1:02d}", "rag_computed": "A"}
    items: list[str] = []
    for p in range(projects):
        pid = f"p{p}"
        start = STATUS_DATE + timedelta(days=rnd.randint(-300, 200))
        length = rnd.randint(60, 500)
        entities["project"][pid] = {
            "code": f"PRJ-{p:03d}",
            "name": f"Project {p:03d} {rnd.choice(['ERP', 'CRM', 'Portal', 'Data', 'HR'])} rollout",
            "programme": f"g{p % programmes}",
            "planned_start": start.isoformat(),
            "planned_finish": (start + timedelta(days=length)).isoformat(),
            "rag_computed": rnd.choice("RAGGG"),
            "pmo_status": "2 milestones overdue; next: Go-live",
            "status": "active",
        }
        sources[pid] = (rnd.choice(tools),)
        for w in range(10):
            wid = f"{pid}w{w}"
            ws = start + timedelta(days=w * length // 10)
            wf = ws + timedelta(days=length // 10)
            entities["work_item"][wid] = {
                "project": pid,
                "key": f"PRJ{p}-{w}",
                "name": f"Work {w}",
                "forecast_start": ws.isoformat(),
                "forecast_finish": (wf + timedelta(days=rnd.randint(0, 15))).isoformat(),
                "baselines": [{"number": 0, "start": ws.isoformat(), "finish": wf.isoformat()}],
            }
            items.append(wid)
        for m in range(5):
            due = start + timedelta(days=(m + 1) * length // 5)
            entities["milestone"][f"{pid}m{m}"] = {
                "project": pid,
                "name": f"PRJ-{p:03d} Milestone {m + 1}",
                "due": (due + timedelta(days=rnd.randint(0, 20))).isoformat(),
                "baseline_due": due.isoformat(),
                "done": due < STATUS_DATE,
            }
    findings = []
    for d in range(projects * 3 // 4):
        did = f"d{d}"
        a, b = rnd.sample(items, 2)
        entities["dependency"][did] = {"predecessor": a, "successor": b, "link_type": "FS"}
        if rnd.random() < 0.2:
            findings.append(FindingInput("violation", "high", did, f"link {d} violated", 4.0))
    return ReportData(
        portfolio="Benchmark PMO",
        run_id=1,
        run_finished=datetime(2026, 12, 1, 9, tzinfo=UTC),
        run_status="ok",
        entities=entities,
        sources=sources,
        findings=findings,
    )


def chromium(target: str, profile: Path) -> tuple[float, str]:
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    if not binary:
        raise SystemExit("needs Debian's chromium: apt-get install chromium")
    started = time.perf_counter()
    result = subprocess.run(
        [binary, *FLAGS, f"--user-data-dir={profile}", "--dump-dom", target],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return time.perf_counter() - started, result.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--projects", type=int, default=200)
    parser.add_argument("--programmes", type=int, default=12)
    args = parser.parse_args()
    data = portfolio(args.projects, args.programmes)
    started = time.perf_counter()
    roadmap = roadmap_from_data(data, STATUS_DATE)
    html = render_roadmap_html(roadmap, data)
    build = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "roadmap.html"
        path.write_text(html, encoding="utf-8")
        blank = Path(scratch) / "blank.html"
        blank.write_text("<!doctype html><title>blank</title><body></body>")
        print(
            f"{args.projects} projects in {len(roadmap.lanes)} programme lanes, "
            f"{sum(len(lane.diamonds) for lane in roadmap.lanes)} milestones, "
            f"{len(roadmap.arrows)} arrows"
        )
        print(f"build + render in Python: {build:.2f}s")
        print(f"roadmap.html: {path.stat().st_size:,} bytes ({path.stat().st_size / 1024:.0f} KiB)")
        page_ms, wall, blank_wall = [], [], []
        for run in range(3):
            seconds, _ = chromium(blank.as_uri(), Path(scratch) / f"b{run}")
            blank_wall.append(seconds)
            seconds, dom = chromium(path.as_uri(), Path(scratch) / f"p{run}")
            wall.append(seconds)
            found = re.search(r'data-ready-ms="(\d+)"', dom)
            if not found:
                raise SystemExit("the roadmap did not finish drawing")
            page_ms.append(int(found.group(1)))
            drawn = len(re.findall(r'class="proj"', dom))
            assert drawn == args.projects, drawn
        print(
            f"headless Chromium, navigation start to drawn roadmap: "
            f"median {statistics.median(page_ms) / 1000:.2f}s (runs: {page_ms} ms)"
        )
        print(
            f"whole headless Chromium run (start, load, draw, dump, exit): median "
            f"{statistics.median(wall):.2f}s; "
            f"same for a blank page {statistics.median(blank_wall):.2f}s"
        )


if __name__ == "__main__":
    main()
