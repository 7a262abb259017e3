"""Run the whole fault matrix and a SIGKILL campaign, and write the figures into
docs/reliability.md (the section between the markers below; the rest of the page is kept).

    python -m tests.reliability.report --kills 50

Every number in the section comes from this run: nothing is typed by hand. A case that fails
is written down as failed with its reason, and the script exits 1.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
import traceback
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.reliability.campaign import Trial, campaign
from tests.reliability.matrix import FAULTS, SIDES, all_cases, run_case
from tests.reliability.tools import TARGETS

DOC = Path(__file__).resolve().parents[2] / "docs" / "reliability.md"
START, END = "<!-- reliability-figures:start -->", "<!-- reliability-figures:end -->"
STAGE_ORDER = ("start-up", "load", "pull", "identify", "reconcile", "analyse", "plan")
STAGE_ORDER += ("commit", "apply", "settle")


def run_matrix(directory: Path) -> list[dict[str, Any]]:
    results = []
    for name, fault, side in all_cases():
        began = time.monotonic()
        try:
            result = run_case(TARGETS[name], fault, side, directory / f"{name}-{fault}-{side}")
            result["survived"] = True
        except AssertionError as exc:  # the case's own check failed: written down as such
            result = {"target": name, "fault": fault, "side": side, "survived": False}
            result["why"] = str(exc).splitlines()[0][:200] if str(exc) else repr(exc)
            traceback.print_exc()
        result["seconds"] = round(time.monotonic() - began, 1)
        print(f"{name} {fault} {side}: {'ok' if result['survived'] else 'FAILED'}", flush=True)
        results.append(result)
    return results


def _matrix_section(results: list[dict[str, Any]]) -> list[str]:
    cell = {(r["target"], r["fault"], r["side"]): r for r in results}
    head = [f"{fault} {side}" for fault in FAULTS for side in SIDES]
    lines = ["| emulator | " + " | ".join(head) + " |", "|---" * (len(head) + 1) + "|"]
    for name in TARGETS:
        row = []
        for fault in FAULTS:
            for side in SIDES:
                r = cell[(name, fault, side)]
                row.append(f"ok (exit {r['exit_code']})" if r["survived"] else "**FAILED**")
        lines.append(f"| {name} | " + " | ".join(row) + " |")
    survived = sum(r["survived"] for r in results)
    leaked = sum(r.get("leaked", 0) for r in results)
    lines += [
        "",
        f"* faults survived: **{survived} of {len(results)}** (the run that met the fault ended "
        "ok, partial or unavailable, never in an internal error; the re-runs converged; the "
        "final state of every tool equals the fault-free run's, field by field)",
        f"* duplicated records: **{sum(r.get('duplicates', 0) for r in results)}**; lost or "
        f"differing fields: **{sum(r.get('lost', 0) for r in results)}**",
        f"* secrets found in a run report or the store: **{leaked}**",
    ]
    lines += [
        f"* FAILED {r['target']} {r['fault']} {r['side']}: {r['why']}"
        for r in results
        if not r["survived"]
    ]
    return lines


def _campaign_section(trials: list[Trial]) -> list[str]:
    kills = sum(t.kills for t in trials)
    stages = Counter(stage for t in trials for stage in t.killed_in)
    where = ", ".join(f"{s} {stages[s]}" for s in STAGE_ORDER if stages[s])
    per_target = Counter(t.target for t in trials)
    equal = sum(not t.differences for t in trials)
    return [
        f"* **{kills} SIGKILLs** over {len(trials)} trials ("
        + ", ".join(f"{n} {name}" for name, n in sorted(per_target.items()))
        + f"); {sum(t.finished_before_kill for t in trials)} runs finished before their kill",
        f"* where the kills landed (the stage the run had started): {where}",
        f"* final state of every tool equal to the uninterrupted run's, field by field: "
        f"**{equal} of {len(trials)} trials**",
        f"* duplicated records: **{sum(t.duplicates for t in trials)}**; lost edits (fields "
        f"differing or missing): **{sum(t.lost for t in trials)}**",
        f"* secrets found in the logs (-v), the JSON reports or the store: "
        f"**{sum(len(t.leaked) for t in trials)}**",
    ]


def _commit() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True
        )
        return out.stdout.strip() or "unknown"
    except OSError:
        return "unknown"


def section(matrix: list[dict[str, Any]], trials: list[Trial], kills: int, seconds: float) -> str:
    lines = [
        START,
        "## Measured figures",
        "",
        f"Written by `python -m tests.reliability.report --kills {kills}` on "
        f"{datetime.now(UTC).date().isoformat()} at commit {_commit()} ({seconds / 60:.0f} min); "
        "do not edit by hand.",
        "",
        "### Fault matrix",
        "",
        "One fault at the emulator under test (`POST /_admin/faults`): two 429s with "
        "`Retry-After: 1`, two 503s without, one dropped connection, one answer lost after the "
        "request was applied, one request hanging past the client's timeout; on the reads "
        "(GET) or on the writes; then `sync` until a run plans nothing "
        "(`tests/reliability/matrix.py`).",
        "",
        *_matrix_section(matrix),
        "",
        "### SIGKILL campaign",
        "",
        "`pmo-sync -v sync --full` in a subprocess; once the run has begun its first stage, "
        "SIGKILLed after a seeded random share (up to 80 %) of the time an uninterrupted run "
        "takes from there to its end; three times in a row per trial (a run that finishes "
        "first is not counted), then `sync` until a run plans nothing "
        "(`tests/reliability/campaign.py`).",
        "",
        *_campaign_section(trials),
        END,
    ]
    return "\n".join(lines) + "\n"


def write_doc(text: str, doc: Path = DOC) -> None:
    page = doc.read_text()
    if START in page and END in page:
        before, rest = page.split(START, 1)
        _, after = rest.split(END, 1)
        page = before + text.rstrip("\n") + after
    else:
        page = page.rstrip("\n") + "\n\n" + text
    doc.write_text(page)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=50)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args(argv)
    began = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="pmosync-reliability-") as tmp:
        directory = Path(tmp)
        matrix = run_matrix(directory / "matrix")
        trials = campaign(directory / "campaign", kills=args.kills, seed=args.seed)
    write_doc(section(matrix, trials, args.kills, time.monotonic() - began))
    ok = all(r["survived"] for r in matrix) and all(
        not t.differences and not t.leaked for t in trials
    )
    print(f"{DOC}: figures written ({'all held' if ok else 'FAILURES, see the page'})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
