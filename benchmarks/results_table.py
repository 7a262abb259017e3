"""From the rounds to the figures: min/median, API floors, goals with ✓/✗, JSON and markdown."""

from __future__ import annotations

import json
import math
import statistics
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

JIRA_PAGE = (
    100  # /rest/api/3/search/jql returns at most 100 issues a page when fields are asked for
)
JIRA_FIXED = 3  # serverInfo, myself, field: what any client reads before searching
AIRTABLE_PAGE = 100  # list records: pageSize at most 100
PWA_PAGE = 100  # the emulator's server page size for /_api/ProjectServer collections
PWA_FIXED = 3  # custom fields, lookup tables, calendars
NOTES = (
    "full sync: `pmo-sync sync --full --json` on an empty store and a freshly reset sandbox, "
    "in a child process; wall includes process start; records = every record pulled; peak "
    "RSS is that process's own ru_maxrss (spawned by a small launcher and read with os.wait4, "
    "never the runner's own peak), the emulators run in another process",
    "no-op: `pmo-sync sync` right after the full sync, nothing changed remotely except the "
    "full sync's own writes; its floor is one listing per scope, 0 records re-read",
    "pull vs bare: each connector's full pull alone (no engine, no store) against the vendor "
    "client reading the same records: jira `projects`, each project's versions and "
    "`enhanced_search_issues` with our fields; pyairtable pages paced at 5/s; requests on "
    "/_api/ProjectServer (each plan's project with its summary task and calendar, tasks, "
    "links, assignments and team, plus custom fields, lookup tables, calendars) and "
    "/_api/ProjectData (Issues, Risks, Resources); the order alternates per round",
    "API floor: the fewest requests that read those records at the maximum page size: Jira "
    "ceil(issues/100) searches + serverInfo, myself, field + the project list + one versions "
    "listing per project (Jira has no cross-project versions endpoint); Airtable "
    "ceil(records/100) per table + the schema; Project Server the project list, per plan the "
    "project (summary task and calendar expanded) and its team, tasks, links and assignments "
    "at 100 a page, + custom fields, lookup tables, calendars, + ProjectData Issues, Risks "
    "and Resources at 100 a page",
    "Airtable push: N name edits to milestones and risks through the connector's push, at "
    "the emulator's 5 requests/s per base with its lock-out; floor = N / 10 per request / 5 "
    "per second",
    "the machine's 2 cores are shared with other work: compare the min of the rounds",
)
PHASES = ("pull", "identify", "reconcile", "analyse", "plan", "commit", "apply", "settle", "load")


def stat(values: Iterable[float]) -> dict[str, Any]:
    runs = [float(v) for v in values]
    return {"min": min(runs), "median": statistics.median(runs), "runs": runs}


def pull_floors(seeded: dict[str, Any]) -> dict[str, int]:
    """The fewest requests a full read of each tool needs at its maximum page size."""
    jira = seeded["delivery_jira"]
    airtable = seeded["pmo_airtable"]
    pwa = seeded["plans_pwa"]
    plans = max(1, pwa["plans"])

    def per_plan(total: int) -> int:  # plans are seeded alike: each holds total / plans
        return plans * max(1, math.ceil(total / plans / PWA_PAGE))

    return {
        "delivery_jira": math.ceil(jira["issues"] / JIRA_PAGE)
        + JIRA_FIXED
        + 1  # the project list (each project is a canonical Project)
        + jira["projects"],  # its versions (releases): no cross-project versions endpoint
        "pmo_airtable": sum(
            max(1, math.ceil(n / AIRTABLE_PAGE)) for n in airtable["tables"].values()
        )
        + 1,  # the base schema
        "plans_pwa": math.ceil(plans / PWA_PAGE)
        + PWA_FIXED
        + plans * 2  # the project with its custom fields, its team
        + per_plan(pwa["tasks"])
        + per_plan(pwa["links"])
        + per_plan(pwa["assignments"])
        # ProjectData Issues, Risks and Resources (RAID items and their owners)
        + sum(
            max(1, math.ceil(pwa.get(k, 0) / PWA_PAGE)) for k in ("issues", "risks", "resources")
        ),
    }


def summarise(document: dict[str, Any]) -> dict[str, Any]:
    rounds = document["rounds"]
    floors = pull_floors(document["seeded"])

    def over(get: Callable[[dict[str, Any]], float]) -> dict[str, Any]:
        """min/median over the rounds that measured it (a step that failed in one round,
        e.g. a bare client locked out, is left out of that figure, not of the run)."""
        values = []
        for r in rounds:
            try:
                values.append(get(r))
            except (KeyError, TypeError, ZeroDivisionError):
                continue
        return stat(values) if values else {"min": math.nan, "median": math.nan, "runs": []}

    full_records = rounds[0]["full"]["records"]
    summary: dict[str, Any] = {
        "full": {
            "records": full_records,
            "wall": over(lambda r: r["full"]["wall"]),
            "records_per_s": over(lambda r: r["full"]["records"] / r["full"]["wall"]),
            # the issue reads "≈ 35 s plus the API floor": the wall less the phases that wait
            # on the tools (pull and apply, measured against the bare clients and floors)
            "own_records_per_s": over(
                lambda r: (
                    r["full"]["records"]
                    / (
                        r["full"]["wall"]
                        - r["full"]["phases"].get("pull", 0.0)
                        - r["full"]["phases"].get("apply", 0.0)
                    )
                )
            ),
            "phases": {
                p: over(lambda r, p=p: r["full"]["phases"].get(p, 0.0))
                for p in PHASES
                if any(p in r["full"]["phases"] for r in rounds)
            },
            "requests": over(lambda r: _total(r["full"]["requests"])),
            "max_rss_mb": over(lambda r: r["full"]["max_rss_mb"]),
            "store_mb": over(lambda r: r["store_bytes"] / 2**20),
            "writes": over(lambda r: r["full"]["writes_applied"] or 0),
        },
        "noop": {
            "wall": over(lambda r: r["noop"]["wall"]),
            "requests": over(lambda r: _total(r["noop"]["requests"])),
            "records_reread": over(lambda r: r["noop"]["records"]),
            "scopes": sum(
                len(c["scopes"] or {}) for c in rounds[0]["noop"]["connections"].values()
            ),
            "phases": {
                p: over(lambda r, p=p: r["noop"]["phases"].get(p, 0.0))
                for p in PHASES
                if any(p in r["noop"]["phases"] for r in rounds)
            },
            "max_rss_mb": over(lambda r: r["noop"]["max_rss_mb"]),
            "per_connection": {
                name: {
                    "requests": over(lambda r, n=name: r["noop"]["requests"][n]["total"]),
                    "reread": over(lambda r, n=name: r["noop"]["connections"][n]["pulled"] or 0),
                    "scopes": len(c["scopes"] or {}),
                }
                for name, c in rounds[0]["noop"]["connections"].items()
            },
        },
        # the next no-op: the run a cron job makes every 15 minutes once nothing changes
        "steady": (
            {
                "wall": over(lambda r: r["steady"]["wall"]),
                "requests": over(lambda r: _total(r["steady"]["requests"])),
                "records_reread": over(lambda r: r["steady"]["records"]),
                "max_rss_mb": over(lambda r: r["steady"]["max_rss_mb"]),
                "quiet": all(r["steady"].get("quiet_since") is not None for r in rounds),
            }
            if all("steady" in r for r in rounds)
            else None
        ),
        "pulls": {},
        "cpm": over(lambda r: r["cpm"]["seconds"])
        | {
            "tasks": rounds[0]["cpm"]["tasks"],
            "links": rounds[0]["cpm"]["links"],
        },
    }
    for name in rounds[0]["pulls"]:
        row: dict[str, Any] = {
            "records": max(r["pulls"][name].get("records", 0) for r in rounds),
            "seconds": over(lambda r, n=name: r["pulls"][n]["seconds"]),
            "calls": over(lambda r, n=name: r["pulls"][n]["server_requests"]),
        }
        if any("bare_seconds" in r["pulls"][name] for r in rounds):
            row["bare_seconds"] = over(lambda r, n=name: r["pulls"][n]["bare_seconds"])
            row["bare_calls"] = max(r["pulls"][name].get("bare_requests", 0) for r in rounds)
            row["ratio"] = over(
                lambda r, n=name: r["pulls"][n]["seconds"] / r["pulls"][n]["bare_seconds"]
            )
        if name in floors:
            row["floor_calls"] = floors[name]
            row["calls_ratio"] = row["calls"]["min"] / floors[name]
        summary["pulls"][name] = row
    pushes = [r["airtable_push"] for r in rounds if r.get("airtable_push")]
    if pushes:
        summary["airtable_push"] = {
            "updates": pushes[0]["updates"],
            "floor_seconds": pushes[0]["floor_seconds"],
            "seconds": stat(p["seconds"] for p in pushes),
            "http_429": stat(p["http_429"] for p in pushes),
            "requests": stat(p["requests"] for p in pushes),
            "written": min(p["written"] for p in pushes),
        }
    return summary


def _total(requests: dict[str, Any]) -> int:
    return sum(int(v["total"]) for v in requests.values())


def _mm(s: dict[str, Any], fmt: str = "{:,.1f}") -> str:
    return f"{fmt.format(s['min'])} / {fmt.format(s['median'])}"


def goal_rows(summary: dict[str, Any]) -> list[tuple[str, str, str, bool | None]]:
    """(what, measured min / median, goal, met): the issue #13 targets."""
    full, noop = summary["full"], summary["noop"]
    rows: list[tuple[str, str, str, bool | None]] = [
        (
            f"full sync, {full['records']:,} records (records/s, end to end)",
            _mm(full["records_per_s"], "{:,.0f}"),
            "≥ 5,000",
            full["records_per_s"]["median"] >= 5000,
        ),
        (
            "full sync, pmo-sync's own work: records/s over the wall less pull and apply "
            "(the phases that wait on the tools)",
            _mm(full["own_records_per_s"], "{:,.0f}"),
            "≥ 5,000 (≈ 35 s at L plus the API floor)",
            full["own_records_per_s"]["median"] >= 5000,
        ),
        ("full sync wall (s)", _mm(full["wall"]), "—", None),
    ]
    for phase, s in full["phases"].items():
        rate = f" ≈ {full['records'] / s['min']:,.0f} records/s" if s["min"] > 0.05 else ""
        rows.append((f"  full: {phase} (s)", _mm(s, "{:,.2f}") + rate, "—", None))
    rows += [
        (
            "full sync requests (all tools, server-side)",
            _mm(full["requests"], "{:,.0f}"),
            "—",
            None,
        ),
        (
            "peak RSS of the pmo-sync process, full sync (MB)",
            _mm(full["max_rss_mb"], "{:,.0f}"),
            "≤ 600",
            full["max_rss_mb"]["median"] <= 600,
        ),
        ("store size after the full sync (MB)", _mm(full["store_mb"]), "—", None),
        (
            f"no-op sync right after: requests (scopes: {noop['scopes']})",
            _mm(noop["requests"], "{:,.0f}"),
            f"≤ {noop['scopes']} (1 listing per scope)",
            noop["requests"]["median"] <= noop["scopes"],
        ),
        (
            "no-op sync: records re-read",
            _mm(noop["records_reread"], "{:,.0f}"),
            "0",
            noop["records_reread"]["median"] == 0,
        ),
        ("no-op sync wall (s)", _mm(noop["wall"]), "seconds", noop["wall"]["median"] < 10),
        (
            "peak RSS, no-op sync (MB)",
            _mm(noop["max_rss_mb"], "{:,.0f}"),
            "≤ 600",
            noop["max_rss_mb"]["median"] <= 600,
        ),
    ]
    for phase, s in noop["phases"].items():
        rows.append((f"  no-op: {phase} (s)", _mm(s, "{:,.2f}"), "—", None))
    steady = summary.get("steady")
    if steady:
        quiet = "quiet" if steady["quiet"] else "not quiet"
        rows += [
            (
                f"steady no-op (the next run, {quiet}): wall (s)",
                _mm(steady["wall"]),
                "seconds",
                steady["wall"]["median"] < 10,
            ),
            (
                "  steady no-op: requests / records re-read",
                f"{steady['requests']['median']:,.0f} / {steady['records_reread']['median']:,.0f}",
                f"≤ {noop['scopes']} / 0",
                steady["requests"]["median"] <= noop["scopes"]
                and steady["records_reread"]["median"] == 0,
            ),
            (
                "  steady no-op: peak RSS (MB)",
                _mm(steady["max_rss_mb"], "{:,.0f}"),
                "≤ 600",
                steady["max_rss_mb"]["median"] <= 600,
            ),
        ]
    for name, n in noop["per_connection"].items():
        rows.append(
            (
                f"  no-op {name}: requests / re-read (scopes {n['scopes']})",
                f"{n['requests']['median']:,.0f} / {n['reread']['median']:,.0f}",
                f"≤ {n['scopes']} / 0",
                n["requests"]["median"] <= n["scopes"] and n["reread"]["median"] == 0,
            )
        )
    for name, p in summary["pulls"].items():
        if "ratio" in p:
            rows.append(
                (
                    f"{name} pull vs bare client ({p['records']:,} records; "
                    f"ours {p['seconds']['min']:.1f}s, bare {p['bare_seconds']['min']:.1f}s)",
                    _mm(p["ratio"], "{:.2f}×"),
                    "≤ 1.3×",
                    p["ratio"]["median"] <= 1.3,
                )
            )
        if "floor_calls" in p:
            rows.append(
                (
                    f"{name} full pull API calls vs floor {p['floor_calls']:,} "
                    f"(bare client {p.get('bare_calls', '—')})",
                    f"{p['calls']['min']:,.0f} ({p['calls_ratio']:.2f}×)",
                    "≤ 1.05× floor",
                    p["calls_ratio"] <= 1.05,
                )
            )
    cpm = summary["cpm"]
    rows.append(
        (
            f"CPM {cpm['tasks']:,} tasks / {cpm['links']:,} links (s)",
            _mm(cpm, "{:.2f}"),
            "≤ 5",
            cpm["median"] <= 5,
        )
    )
    push = summary.get("airtable_push")
    if push:
        rows.append(
            (
                f"Airtable push of {push['updates']:,} updates at 5 req/s: 429s",
                _mm(push["http_429"], "{:,.0f}"),
                "0",
                push["http_429"]["median"] == 0,
            )
        )
        rows.append(
            (
                f"  wall vs floor {push['floor_seconds']:.0f} s (s)",
                _mm(push["seconds"]),
                f"≤ {push['floor_seconds'] * 1.1:,.1f} (1.1× floor)",
                push["seconds"]["median"] <= push["floor_seconds"] * 1.1,
            )
        )
    return rows


def markdown(document: dict[str, Any]) -> str:
    summary = document["summary"]
    mark = {True: "✓", False: "✗", None: ""}
    lines = [
        f"# Portfolio benchmark, size {document['size']} ({document['date']})",
        "",
        f"Seeded: {json.dumps(document['seeded'])}  ",
        f"Seeding took {document['seed_seconds']} s in the emulator process "
        f"(+{document['sandbox_start_seconds']} s to start the servers). "
        f"{document['repeats']} rounds, interleaved"
        + (f" (from {len(document['runs'])} runs of the suite)" if document.get("runs") else "")
        + "; figures are min / median. "
        f"Machine: {document['machine']['cpus']} CPUs; {document['machine']['note']}. "
        f"Code: {document.get('code', 'not recorded')}.",
        "",
        "| what | measured (min / median) | goal | |",
        "|---|---|---|---|",
    ]
    lines += [f"| {w} | {m} | {g} | {mark[ok]} |" for w, m, g, ok in goal_rows(summary)]
    lines += ["", "Pacing:", ""]
    lines += [f"- {name}: {why}" for name, why in document["pacing"].items()]
    lines += ["", "How to read it:", ""] + [f"- {note}" for note in NOTES]
    lines += ["", "Run: `python benchmarks/run.py --size " + document["size"] + "`", ""]
    return "\n".join(lines)


def merge(first: dict[str, Any], *more: dict[str, Any]) -> dict[str, Any]:
    """One document holding the rounds of several runs of the same size (each run interleaved
    in itself), e.g. L, where one round takes half an hour; the table says how many runs."""
    for other in more:
        if other["size"] != first["size"]:
            raise ValueError(f"cannot merge size {other['size']} into {first['size']}")
        first["rounds"] += other["rounds"]
        first["repeats"] += other["repeats"]
        first.setdefault("runs", [first["started_at"]]).append(other["started_at"])
    return first


def main() -> None:
    """``python benchmarks/results_table.py RESULT.json [MORE.json ...]``: rewrite the tables of
    RESULT (after a change to the goals or the layout, without re-running the benchmark),
    with the rounds of MORE (runs of the same size) added to it."""
    import sys

    path = Path(sys.argv[1])
    document = merge(*(json.loads(Path(p).read_text()) for p in sys.argv[1:]))
    document.pop("summary", None)
    for written in write_outputs(document, path.parent, path.stem):
        print(written)


def free_stem(out: Path, document: dict[str, Any]) -> str:
    """``DATE-SIZE``, or ``DATE-SIZE-2``, ... when a run of that size already wrote that day."""
    base = f"{document['date']}-{document['size']}"
    stem, n = base, 1
    while (out / f"{stem}.json").exists():
        n += 1
        stem = f"{base}-{n}"
    return stem


def write_outputs(document: dict[str, Any], out: Path, stem: str | None = None) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    stem = stem or free_stem(out, document)
    json_path = out / f"{stem}.json"
    # the raw rounds first: a bug in the summary must never lose a long run's measurements
    json_path.write_text(json.dumps(document, indent=2) + "\n")
    document["summary"] = summarise(document)
    md_path = out / f"{stem}.md"
    json_path.write_text(json.dumps(document, indent=2, sort_keys=False) + "\n")
    table = markdown(document)
    md_path.write_text(table)
    latest = out / "latest.md"
    latest.write_text(table)
    return [json_path, md_path, latest]


if __name__ == "__main__":
    main()
