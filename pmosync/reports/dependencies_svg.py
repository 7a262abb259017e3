"""The dependency picture as standalone SVG (also inlined in the HTML page).

Every value from a tool goes through ``esc`` (XML text and attributes); tooltips are SVG
``<title>`` elements, so hovering works offline and without scripts.
"""

from __future__ import annotations

from datetime import date
from html import escape

from pmosync.reports.common import ARROW_COLOURS, CRITICAL_COLOUR, TODAY_COLOUR, fmt_date
from pmosync.reports.dependencies_build import DepPicture

LEFT, TOP, WIDTH, ROW, PAD = 230, 64, 1150, 44, 12
EDGE_COLOURS = {**ARROW_COLOURS, "critical": CRITICAL_COLOUR}
EDGE_TEXT = {  # the purple bars are items on the critical path
    "violated": "violated",
    "at_risk": "at risk",
    "critical": "critical chain",
    "ok": "checked, fine",
    "unchecked": "not checked",
}


def esc(value: object) -> str:
    return escape(str(value), quote=True)


def _cut(text: str, limit: int = 34) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def render_dependencies_svg(picture: DepPicture) -> str:
    span = max(1, (picture.end - picture.start).days)

    def x(d: date | None) -> float:
        return LEFT + ((d or picture.today) - picture.start).days / span * WIDTH

    band_top = []
    y = TOP
    for _, rows in picture.bands:
        band_top.append(y)
        y += rows * ROW + 2 * PAD
    height = y + 60
    pos = {n.id: (x(n.day), band_top[n.band] + PAD + n.row * ROW + 14) for n in picture.nodes}
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{LEFT + WIDTH + 40}" height="{height}"'
        f' viewBox="0 0 {LEFT + WIDTH + 40} {height}" font-family="Segoe UI, Arial, sans-serif"'
        f' role="img" aria-label="{esc(picture.title)}">',
        "<defs>",
    ]
    for state, colour in EDGE_COLOURS.items():
        out.append(
            f'<marker id="dep-{state}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7"'
            f' markerHeight="7" orient="auto"><path d="M0 0 L10 5 L0 10 Z" fill="{colour}"/>'
            "</marker>"
        )
    out.append("</defs>")
    out.append('<rect width="100%" height="100%" fill="#fff"/>')
    # months
    month = date(picture.start.year, picture.start.month, 1)
    while month < picture.end:
        xm = x(month)
        out.append(f'<line x1="{xm:.1f}" y1="{TOP - 14}" x2="{xm:.1f}" y2="{y}" stroke="#eee"/>')
        label = f"{month:%b}" + (
            f" {month.year}" if month.month == 1 or month == picture.start else ""
        )
        out.append(
            f'<text x="{xm + 3:.1f}" y="{TOP - 18}" font-size="11" fill="#505a5f">{label}</text>'
        )
        month = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    # bands
    for (label, rows), top in zip(picture.bands, band_top, strict=True):
        fill = "#f7f7f7" if band_top.index(top) % 2 == 0 else "#ffffff"
        out.append(
            f'<rect x="0" y="{top}" width="{LEFT + WIDTH + 40}" height="{rows * ROW + 2 * PAD}"'
            f' fill="{fill}"/>'
        )
        out.append(
            f'<text x="10" y="{top + PAD + 18}" font-size="13" font-weight="600" fill="#0b0c0c">'
            f"{esc(_cut(label, 30))}<title>{esc(label)}</title></text>"
        )
    tx = x(picture.today)
    out.append(
        f'<line x1="{tx:.1f}" y1="{TOP - 40}" x2="{tx:.1f}" y2="{y}" stroke="{TODAY_COLOUR}"'
        ' stroke-width="2" stroke-dasharray="5 3"/>'
        f'<text x="{tx + 4:.1f}" y="{TOP - 36}" font-size="11" font-weight="600"'
        f' fill="{TODAY_COLOUR}">Status date {esc(fmt_date(picture.today))}</text>'
    )
    # edges under nodes
    labels = {n.id: n.label for n in picture.nodes}
    arrive = {n.id: x(n.start or n.day) for n in picture.nodes}
    leave = {n.id: x(n.day or n.start) + WIDTH / span for n in picture.nodes}  # end of day
    for edge in sorted(picture.edges, key=lambda e: list(EDGE_COLOURS).index(e.state) * -1):
        sy, ey = pos[edge.source][1], pos[edge.target][1]
        sx, ex = leave[edge.source], arrive[edge.target]
        colour = EDGE_COLOURS[edge.state]
        # leave to the right, arrive from the left: a link that runs backwards in time loops
        reach = max(30.0, abs(ex - sx) / 3)
        dash = ' stroke-dasharray="5 4"' if edge.state == "unchecked" else ""
        width = 2.6 if edge.state in ("violated", "critical") else 1.5
        tip = f"{labels[edge.source]} → {labels[edge.target]}: {EDGE_TEXT[edge.state]}"
        if edge.messages:
            tip += "\n" + "\n".join(edge.messages)
        out.append(
            f'<path class="edge" data-state="{edge.state}" d="M{sx:.1f} {sy:.1f} C{sx + reach:.1f}'
            f' {sy:.1f} {ex - reach:.1f} {ey:.1f} {ex - 2:.1f} {ey:.1f}" fill="none"'
            f' stroke="{colour}" stroke-width="{width}"{dash} marker-end="url(#dep-{edge.state})">'
            f"<title>{esc(tip)}</title></path>"
        )
        if edge.shortfall_days and edge.cross_project:
            mx, my = sx + (ex - sx) * 0.5, sy + (ey - sy) * 0.5
            out.append(
                f'<rect x="{mx - 34:.1f}" y="{my - 8:.1f}" width="68" height="16" rx="3"'
                f' fill="#fff" stroke="{colour}"/><text x="{mx:.1f}" y="{my + 4:.1f}"'
                f' font-size="11" font-weight="700" fill="{colour}" text-anchor="middle">'
                f"{edge.shortfall_days:.0f}d short</text>"
            )
    for node in picture.nodes:
        ny = pos[node.id][1]
        x0, x1 = arrive[node.id], leave[node.id]
        colour = CRITICAL_COLOUR if node.critical else "#505a5f"
        when = (
            f"{fmt_date(node.start)} – {fmt_date(node.day)}"
            if node.start and node.day and node.start != node.day
            else fmt_date(node.day or node.start, "no date")
        )
        tip = f"{node.label}\n{node.project_label}\n{when}"
        if node.critical:
            tip += "\non the critical path"
        out.append(
            f'<g class="node" data-id="{esc(node.id)}"><title>{esc(tip)}</title>'
            f'<rect x="{x0:.1f}" y="{ny - 5:.1f}" width="{max(4.0, x1 - x0):.1f}" height="10"'
            f' rx="2" fill="{colour}"/>'
            f'<text x="{x0:.1f}" y="{ny + 19:.1f}" font-size="11" fill="#0b0c0c">'
            f"{esc(_cut(node.label))}</text></g>"
        )
    # legend
    lx, ly = 10, y + 30
    for state, text in EDGE_TEXT.items():
        dash = ' stroke-dasharray="5 4"' if state == "unchecked" else ""
        out.append(
            f'<line x1="{lx}" y1="{ly}" x2="{lx + 28}" y2="{ly}" stroke="{EDGE_COLOURS[state]}"'
            f' stroke-width="2.4"{dash}/><text x="{lx + 34}" y="{ly + 4}" font-size="12"'
            f' fill="#505a5f">{text}</text>'
        )
        lx += 150
    out.append("</svg>")
    return "\n".join(out)
