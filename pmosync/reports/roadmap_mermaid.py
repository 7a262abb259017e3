"""The roadmap as Mermaid gantt text, for wikis and markdown surfaces that render Mermaid.

One ``section`` per programme, a task per project (``crit`` when red), a ``milestone`` per key
date. Names are reduced to characters Mermaid cannot read as syntax (see common.mermaid_text);
ids are generated (p1, m1, ...), never taken from a tool.
"""

from __future__ import annotations

from datetime import timedelta

from pmosync.analysis.roadmap import Roadmap
from pmosync.reports.common import mermaid_text, rag_key


def render_roadmap_mermaid(roadmap: Roadmap) -> str:
    lines = [
        "gantt",
        f"    title {mermaid_text(roadmap.title)}",
        "    dateFormat YYYY-MM-DD",
        "    axisFormat %b %Y",
        # Mermaid's today marker is the reader's today; the status date is a milestone instead.
        "    todayMarker off",
        "    section Status date",
        f"    Status date :milestone, s0, {roadmap.today}, 0d",
    ]
    counter = 0
    for lane in roadmap.lanes:
        lines.append(f"    section {mermaid_text(lane.title)}")
        for bar in lane.bars:
            p = bar.project
            start, finish = p.start or p.finish, p.finish or p.start
            if not start or not finish:
                continue
            counter += 1
            tags = "crit, " if rag_key(p.rag) == "R" else "done, " if p.status == "done" else ""
            # Mermaid's end date is exclusive; ours is the last day of work.
            end = max(finish, start) + timedelta(days=1)
            lines.append(f"    {mermaid_text(p.label)} :{tags}p{counter}, {start}, {end}")
            for d in lane.diamonds:
                if d.project is not p or not d.event.date:
                    continue
                counter += 1
                state = "done, " if d.event.done else ""
                label = d.label
                if p.code and not label.startswith(p.code):
                    label = f"{p.code} {label}"
                name = mermaid_text(label)
                lines.append(f"    {name} :milestone, {state}m{counter}, {d.event.date}, 0d")
    return "\n".join(lines) + "\n"
