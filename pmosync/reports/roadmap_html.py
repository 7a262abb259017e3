"""The roadmap as one self-contained interactive HTML file (inline CSS, JS and SVG; no CDN).

The page carries its data as JSON in a ``<script type="application/json">`` block (escaped so
no value can close the block) and draws it with DOM calls that only ever set ``textContent``,
so a project called ``<script>`` is shown as text, never run.
"""

from __future__ import annotations

from pmosync.analysis.roadmap import Roadmap
from pmosync.reports.common import fmt_date, json_for_script
from pmosync.reports.data import ReportData
from pmosync.reports.roadmap_build import roadmap_payload
from pmosync.reports.templating import environment


def render_roadmap_html(roadmap: Roadmap, data: ReportData) -> str:
    return (
        environment()
        .get_template("roadmap.html.j2")
        .render(
            title=roadmap.title,
            as_of=data.as_of,
            today_text=fmt_date(roadmap.today),
            payload_json=json_for_script(roadmap_payload(roadmap, data)),
        )
    )
