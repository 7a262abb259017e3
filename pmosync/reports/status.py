"""Portfolio status pack: one row per project with its consolidated status (CSV and HTML)."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path
from typing import Any

from jinja2 import Environment, select_autoescape
from sqlalchemy import select

from pmosync.config.loader import LoadedConfig
from pmosync.humanize import value_text
from pmosync.reports.common import cell_safe
from pmosync.sync import models
from pmosync.sync.store import Store

COLUMNS = [
    ("programme", "Programme"),
    ("code", "Code"),
    ("name", "Project"),
    ("status", "Status"),
    ("rag", "RAG (entered)"),
    ("rag_computed", "RAG (computed)"),
    ("planned_finish", "Planned finish"),
    ("next_milestone", "Next milestone"),
    ("next_milestone_date", "Due"),
    ("overdue_milestones", "Overdue milestones"),
    ("pmo_status", "Why"),
    ("sources", "Sources"),
]

FINISHED = ("done", "cancelled")
# shown as "1 Jan 2027" on one line (a wrapped date reads as two values)
DATE_COLUMNS = ("planned_finish", "next_milestone_date")

_TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{ title }}</title>
<style>
body{font-family:system-ui,sans-serif;margin:2rem;color:#222}
table{border-collapse:collapse}
td,th{padding:.35rem .7rem;border-bottom:1px solid #ddd;text-align:left}
td.nowrap{white-space:nowrap}
th{background:#f3f3f3}.R{background:#f8d7da}.A{background:#fff3cd}.G{background:#d1e7dd}
</style></head><body>
<h1>{{ title }}</h1><p>As of {{ today }} · {{ rows|length }} projects</p>
<table><thead><tr>{% for _, label in columns %}<th>{{ label }}</th>{% endfor %}</tr></thead>
<tbody>{% for row in rows %}<tr>{% for key, _ in columns %}
<td class="{{ row[key] if key in ('rag', 'rag_computed') else '' }}
{{- ' nowrap' if key in dates else '' }}">
{{- row[key] | human(key) -}}
</td>
{% endfor %}</tr>{% endfor %}</tbody></table></body></html>
"""


def project_rows(store: Store) -> list[dict[str, Any]]:
    with store.sessions() as session:
        projects = session.scalars(
            select(models.Entity).where(models.Entity.entity_type == "project")
        ).all()
        programmes = {
            p.id: p.values.get("name") or p.values.get("code")
            for p in session.scalars(
                select(models.Entity).where(models.Entity.entity_type == "programme")
            )
        }
        sources: dict[str, set[str]] = {}
        deleted: set[str] = set()
        for link in session.scalars(
            select(models.Link).where(models.Link.entity_type == "project")
        ):
            if link.deleted_at is not None:
                deleted.add(link.canonical_id)  # a tool deleted it (sync/tombstones.py)
                continue
            sources.setdefault(link.canonical_id, set()).add(link.connection)
    rows = []
    for project in projects:
        if project.values.get("external"):
            continue  # a stub standing for another plan (see files import): not a project
        if project.id in deleted and project.id not in sources:
            continue  # tombstoned: every tool that held it deleted it; it no longer counts
        row = {key: project.values.get(key) for key, _ in COLUMNS}
        row["sources"] = ", ".join(sorted(sources.get(project.id, ())))
        row["programme"] = programmes.get(project.values.get("programme") or "")
        rows.append(row)
    return sorted(rows, key=lambda r: (str(r["code"] or ""), str(r["name"] or "")))


def _page_row(row: dict[str, Any]) -> dict[str, Any]:
    """Nothing is next for a finished or cancelled project (the CSV keeps the store's data)."""
    if row.get("status") in FINISHED:
        return {**row, "next_milestone": None, "next_milestone_date": None}
    return row


def write_status_reports(loaded: LoadedConfig, directory: Path, today: date) -> list[Path]:
    """Write status.csv and status.html; returns their paths."""
    directory.mkdir(parents=True, exist_ok=True)
    store = Store.open(loaded.store_url())
    try:
        rows = project_rows(store)
    finally:
        store.close()
    csv_path = directory / "status.csv"
    with csv_path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow([label for _, label in COLUMNS])
        for row in rows:
            # text from tools can never run as a spreadsheet formula
            writer.writerow(["" if row[k] is None else cell_safe(row[k]) for k, _ in COLUMNS])
    env = Environment(autoescape=select_autoescape(default=True))
    env.filters["human"] = lambda value, key: value_text(value, key)  # on hold, red, —
    html = env.from_string(_TEMPLATE).render(
        dates=DATE_COLUMNS,
        title=f"{loaded.config.portfolio.name}: portfolio status",
        today=today.isoformat(),
        rows=[_page_row(row) for row in rows],
        columns=COLUMNS,
    )
    html_path = directory / "status.html"
    html_path.write_text(html, encoding="utf-8")
    return [csv_path, html_path]
