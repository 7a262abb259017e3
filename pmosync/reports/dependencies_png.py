"""The dependency picture as PNG for slides: the SVG's layout, drawn with matplotlib."""

from __future__ import annotations

import textwrap
from datetime import date
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.dates as mdates  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import FancyArrowPatch, Rectangle  # noqa: E402

from pmosync.reports.common import TODAY_COLOUR, fmt_date  # noqa: E402
from pmosync.reports.dependencies_build import DepPicture  # noqa: E402
from pmosync.reports.dependencies_svg import EDGE_COLOURS, EDGE_TEXT  # noqa: E402
from pmosync.reports.roadmap_png import DPI, draw_title, plain  # noqa: E402


def render_dependencies_png(picture: DepPicture, path: Path) -> Path:
    band_top = []
    y = 0.0
    for _, rows in picture.bands:
        band_top.append(y)
        y += rows + 0.6
    total = max(y, 2.0)
    height_in = max(4.5, min(40.0, 2.1 + total * 0.45))
    fig, ax = plt.subplots(figsize=(13.33, height_in), dpi=DPI)
    fig.subplots_adjust(left=0.17, right=0.98, top=1 - 1.2 / height_in, bottom=0.9 / height_in)
    ax.set_xlim(mdates.date2num(picture.start), mdates.date2num(picture.end))
    ax.set_ylim(total, -0.3)
    ax.set_yticks([])
    for spine in ("left", "right", "top"):
        ax.spines[spine].set_visible(False)
    ax.xaxis.set_major_locator(mdates.MonthLocator())
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%b\n%Y"))
    ax.tick_params(axis="x", labelsize=8, colors="#505a5f")
    ax.xaxis.grid(True, color="#eeeeee")
    ax.set_axisbelow(True)
    for index, ((label, rows), top) in enumerate(zip(picture.bands, band_top, strict=True)):
        if index % 2 == 0:
            ax.axhspan(top - 0.3, top + rows + 0.3, color="#f5f5f5", lw=0, zorder=0)
        ax.text(
            -0.01,
            top + rows / 2,
            "\n".join(textwrap.wrap(plain(label, 60), 24)[:3]),
            transform=ax.get_yaxis_transform(),
            ha="right",
            va="center",
            fontsize=9,
            fontweight="bold",
        )

    def num(d: date | None) -> float:
        return float(mdates.date2num(d or picture.today))

    ys = {n.id: band_top[n.band] + n.row + 0.3 for n in picture.nodes}
    arrive = {n.id: num(n.start or n.day) for n in picture.nodes}
    leave = {n.id: num(n.day or n.start) + 1 for n in picture.nodes}
    pos = {n.id: (leave[n.id], ys[n.id]) for n in picture.nodes}
    for edge in picture.edges:
        colour = EDGE_COLOURS[edge.state]
        ax.add_patch(
            FancyArrowPatch(
                (leave[edge.source], ys[edge.source]),
                (arrive[edge.target], ys[edge.target]),
                connectionstyle="arc3,rad=0.15",
                arrowstyle="-|>",
                mutation_scale=10,
                shrinkA=2,
                shrinkB=2,
                color=colour,
                lw=2.2 if edge.state in ("violated", "critical") else 1.1,
                ls="--" if edge.state == "unchecked" else "-",
                zorder=3,
            )
        )
        if edge.shortfall_days and edge.cross_project:  # inside a project: in the table
            (sx, sy), (ex, ey) = pos[edge.source], (arrive[edge.target], ys[edge.target])
            ax.text(
                (sx + ex) / 2,
                (sy + ey) / 2,
                f"{edge.shortfall_days:.0f}d short",
                color=colour,
                fontsize=8,
                fontweight="bold",
                ha="center",
                zorder=6,
                bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none"},
            )
    for node in picture.nodes:
        x0, x1, py = arrive[node.id], leave[node.id], ys[node.id]
        ax.add_patch(
            Rectangle(
                (x0, py - 0.09),
                max(x1 - x0, 1.0),
                0.18,
                color="#912b88" if node.critical else "#505a5f",
                zorder=4,
            )
        )
        ax.text(
            x0, py + 0.36, plain(node.label, 30), fontsize=7.5, ha="left", va="center", zorder=5
        )
    ax.axvline(mdates.date2num(picture.today), color=TODAY_COLOUR, ls="--", lw=1.4)
    ax.text(
        mdates.date2num(picture.today),
        -0.35,
        f" Status date {fmt_date(picture.today)}",
        color=TODAY_COLOUR,
        fontsize=8,
        fontweight="bold",
        va="bottom",
    )
    draw_title(fig, picture.title, height_in)
    notes = [picture.as_of]
    if not picture.checked:
        notes.append("dependency checks not computed for this run")
    if not picture.critical_computed:
        notes.append("critical chain not computed")
    fig.text(0.01, 1 - 0.75 / height_in, plain(" · ".join(notes), 170), fontsize=9, color="#505a5f")
    handles = [
        Line2D([], [], color=EDGE_COLOURS[s], lw=2, ls="--" if s == "unchecked" else "-", label=t)
        for s, t in EDGE_TEXT.items()
    ]
    fig.legend(handles=handles, loc="lower center", ncol=5, fontsize=8, frameon=False)
    if not picture.nodes:
        ax.text(
            0.5,
            0.5,
            "No cross-project dependencies",
            transform=ax.transAxes,
            ha="center",
            fontsize=14,
            color="#505a5f",
        )
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
    return path
