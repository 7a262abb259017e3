"""The benchmark suite at size S, one round: every figure is there and they make sense.

Not a timed test: the figures are not judged against the goals here (that is the suite's own
table), only checked for the relations that hold whatever the machine: a pull never takes fewer
requests than the API floor, a no-op sync reads no more than a full one, each tool's records
arrive, and the markdown table names every goal. It runs the real command
(``python benchmarks/run.py``) so the suite cannot rot. The Airtable lock-out after a 429 is
shortened to 1 s and the pause between steps dropped: this checks the harness, not pacing.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
RUN = ROOT / "benchmarks" / "run.py"


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], str]:
    out = tmp_path_factory.mktemp("bench")
    command = [
        sys.executable,
        str(RUN),
        "--size",
        "S",
        "--repeats",
        "1",
        "--out",
        str(out / "results"),
        "--work",
        str(out / "work"),
        "--lockout-seconds",
        "1",
        "--settle",
        "0",
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    [json_path] = (out / "results").glob("*-S.json")
    return json.loads(json_path.read_text()), (out / "results" / "latest.md").read_text()


def test_every_figure_is_measured(results: tuple[dict[str, Any], str]) -> None:
    document, _ = results
    summary = document["summary"]
    assert document["size"] == "S" and len(document["rounds"]) == 1
    assert set(document["seeded"]) == {
        "pmo_airtable",
        "delivery_jira",
        "plans_pwa",
        "plans_planner",
    }
    full = summary["full"]
    for phase in ("load", "pull", "identify", "reconcile", "plan", "commit", "apply"):
        assert phase in full["phases"], phase
    assert full["records_per_s"]["min"] > 0
    assert full["max_rss_mb"]["min"] > 20  # a Python process with pmo-sync loaded
    assert full["store_mb"]["min"] > 0
    assert summary["cpm"]["tasks"] == 2_000 and summary["cpm"]["min"] > 0
    push = summary["airtable_push"]
    assert push["written"] == push["updates"] == 50
    assert push["requests"]["min"] >= push["updates"] / 10  # ten records a request at most


def test_every_run_succeeded(results: tuple[dict[str, Any], str]) -> None:
    document, _ = results
    [round_] = document["rounds"]
    for run in ("full", "noop", "steady"):
        assert round_[run]["status"] == "ok", round_[run]
        for name, connection in round_[run]["connections"].items():
            assert connection["status"] == "ok", (run, name, connection)
    for name, pull in round_["pulls"].items():
        assert not any(k.endswith("_error") for k in pull), (name, pull)


def test_figures_are_sane(results: tuple[dict[str, Any], str]) -> None:
    document, _ = results
    summary = document["summary"]
    seeded = document["seeded"]
    pulls = summary["pulls"]
    for name in ("delivery_jira", "pmo_airtable", "plans_pwa"):
        assert pulls[name]["calls"]["min"] >= pulls[name]["floor_calls"], name
        assert pulls[name]["bare_seconds"]["min"] > 0, name
    # the bare clients read exactly what was seeded
    [round_] = document["rounds"]
    jira = seeded["delivery_jira"]  # the bare client reads the projects and their versions too
    assert round_["pulls"]["delivery_jira"]["bare_records"] == (
        jira["issues"] + jira["projects"] + jira["versions"]
    )
    assert round_["pulls"]["pmo_airtable"]["bare_records"] == seeded["pmo_airtable"]["records"]
    # our pull maps every seeded issue and Airtable record (Jira adds projects, versions...)
    assert round_["pulls"]["delivery_jira"]["records"] >= seeded["delivery_jira"]["issues"]
    assert round_["pulls"]["pmo_airtable"]["records"] == seeded["pmo_airtable"]["records"]
    full, noop = summary["full"], summary["noop"]
    assert full["records"] >= sum(pulls[n]["records"] for n in pulls) * 0.9
    assert noop["records_reread"]["min"] <= full["records"]
    assert noop["requests"]["min"] <= full["requests"]["min"]
    assert noop["scopes"] >= len(seeded)
    # once nothing changes, the cron run after is quiet and reads no more than the no-op did
    steady = summary["steady"]
    assert steady["quiet"], round_["steady"]
    assert steady["requests"]["min"] <= noop["requests"]["min"]


def test_markdown_table_names_every_goal(results: tuple[dict[str, Any], str]) -> None:
    _, table = results
    for goal in ("≥ 5,000", "≤ 600", "≤ 1.3×", "≤ 1.05× floor", "≤ 5", "1.1× floor"):
        assert goal in table, goal
    assert "| what | measured" in table
    assert "SMOKE RUN" in table  # a shortened lock-out is said next to the figures
