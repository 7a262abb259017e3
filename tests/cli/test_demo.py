"""The README's first command: `pmo-sync demo` runs the three-tool sandbox end to end."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import openpyxl
from click.testing import CliRunner
from PIL import Image
from pptx import Presentation

from pmosync.cli import main


def test_demo_syncs_three_tools_and_writes_the_reports(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["demo", "--dir", str(tmp_path), "--json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    first, second = document["runs"]
    assert set(first["connections"]) == {
        "pmo_airtable",
        "delivery_jira",
        "plans_pwa",
        "plans_planner",
    }
    assert all(c["status"] == "ok" for c in first["connections"].values())
    assert first["writes_applied"] > 0
    assert second["writes_applied"] == 0 and second["status"] == "ok"
    # the sandbox keeps the real services' harsh defaults, and the report says what they cost:
    # Airtable's 5 requests/s per base, Project Server's queue jobs (#9)
    waited = {name: c["waited"] for name, c in first["connections"].items()}
    assert waited["pmo_airtable"].get("pacing", 0) > 0, waited
    assert waited["plans_pwa"].get("queue jobs", 0) > 0, waited
    names = (
        "status.csv",
        "status.html",
        "roadmap.html",
        "roadmap.png",
        "dependencies.html",
        "dependencies.png",
        "steering-pack.xlsx",
        "steering-pack.pptx",
    )
    assert document["reports"] == [str(tmp_path / "reports" / n) for n in names]
    rows = list(csv.DictReader((tmp_path / "reports" / "status.csv").open()))
    sources = {row["Code"]: row["Sources"] for row in rows}
    assert "delivery_jira" in sources["APP"] and "plans_pwa" in sources["P001"]
    assert (tmp_path / "reports" / "status.html").stat().st_size > 1000
    # each file opens in the library that reads its format
    reports = tmp_path / "reports"
    for picture in ("roadmap.png", "dependencies.png"):
        with Image.open(reports / picture) as image:
            image.load()
            assert image.size[0] >= 1900
    workbook = openpyxl.load_workbook(reports / "steering-pack.xlsx")
    assert workbook["Summary"]["A2"].value.startswith("data as of run 2 (ok)")
    codes = {row[1] for row in workbook["Summary"].iter_rows(values_only=True)}
    assert {"APP", "P001"} <= codes
    deck = Presentation(str(reports / "steering-pack.pptx"))
    assert len(deck.slides) >= 3
    html = (reports / "roadmap.html").read_text()
    assert "Mobile App 3.0" in html and "<script src" not in html
