"""The README's first command: `pmo-sync demo` runs the three-tool sandbox end to end."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from click.testing import CliRunner

from pmosync.cli import main


def test_demo_syncs_three_tools_and_writes_the_reports(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["demo", "--dir", str(tmp_path), "--json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    first, second = document["runs"]
    assert set(first["connections"]) == {"pmo_airtable", "delivery_jira", "plans_pwa"}
    assert all(c["status"] == "ok" for c in first["connections"].values())
    assert first["writes_applied"] > 0
    assert second["writes_applied"] == 0 and second["status"] == "ok"
    assert document["reports"] == [
        str(tmp_path / "reports" / n) for n in ("status.csv", "status.html")
    ]
    rows = list(csv.DictReader((tmp_path / "reports" / "status.csv").open()))
    sources = {row["Code"]: row["Sources"] for row in rows}
    assert "delivery_jira" in sources["APP"] and "plans_pwa" in sources["P001"]
    assert (tmp_path / "reports" / "status.html").stat().st_size > 1000
