"""The roadmap as CSV: one row per project bar and per milestone/release (BI tools, audit)."""

from __future__ import annotations

import csv
from pathlib import Path

from pmosync.analysis.roadmap import Roadmap
from pmosync.reports.common import cell_safe
from pmosync.reports.roadmap_build import CSV_COLUMNS, roadmap_rows


def write_roadmap_csv(roadmap: Roadmap, path: Path) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(CSV_COLUMNS)
        for row in roadmap_rows(roadmap):
            writer.writerow([cell_safe(v) for v in row])
    return path
