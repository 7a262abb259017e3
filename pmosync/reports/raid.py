"""The RAID log as CSV and HTML (the Excel pack has it as a sheet too)."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

from pmosync.reports.common import cell_safe, fmt_date
from pmosync.reports.data import ReportData
from pmosync.reports.tables import Table, raid_table
from pmosync.reports.templating import environment


def _text(value: object) -> str:
    if isinstance(value, date):
        return fmt_date(value)
    return "" if value is None else str(value)


def write_raid_csv(table: Table, path: Path) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(table.columns)
        for row in table.rows:
            writer.writerow(
                [v.isoformat() if isinstance(v, date) else cell_safe(_text(v)) for v in row]
            )
    return path


def render_raid_html(table: Table, data: ReportData) -> str:
    return (
        environment()
        .get_template("table.html.j2")
        .render(
            title=f"{data.portfolio}: RAID log",
            as_of=data.as_of,
            columns=table.columns,
            rows=[[_text(v) for v in row] for row in table.rows],
            empty="No RAID items in the store.",
        )
    )


def write_raid(data: ReportData, directory: Path, formats: set[str]) -> list[Path]:
    table = raid_table(data)
    paths = []
    if "csv" in formats:
        paths.append(write_raid_csv(table, directory / "raid.csv"))
    if "html" in formats:
        path = directory / "raid.html"
        path.write_text(render_raid_html(table, data), encoding="utf-8")
        paths.append(path)
    return paths
