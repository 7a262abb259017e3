"""The roadmap as a picture for slides and e-mail (matplotlib, Agg backend, 16:9 at 150 dpi).

Matplotlib draws text as text (no markup), so names from tools need no escaping here; "$" is
escaped all the same so a name like "$5m saving" is not read as mathtext.
"""

from __future__ import annotations

import textwrap
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.dates as mdates  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import FancyArrowPatch, Patch, Rectangle  # noqa: E402

from pmosync.analysis.roadmap import Roadmap  # noqa: E402
from pmosync.reports.common import (  # noqa: E402
    ARROW_COLOURS,
    ARROW_TEXT,
    RAG_COLOURS,
    RAG_TEXT,
    TODAY_COLOUR,
    fmt_date,
    rag_key,
)

DPI = 150


def draw_title(fig: Any, title: str, height_in: float) -> None:
    """The picture's title, top left, a fixed quarter inch from the top whatever its height."""
    fig.suptitle(
        plain(title, 90),
        x=0.01,
        y=1 - 0.25 / height_in,
        va="top",
        ha="left",
        fontsize=15,
        fontweight="bold",
    )


def plain(text: str, limit: int = 60) -> str:
    """A label matplotlib prints as-is (no mathtext), cut to ``limit`` characters."""
    text = " ".join(str(text).split())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return text.replace("$", r"\$")


def _num(d: date) -> float:
    return float(mdates.date2num(d))


def render_roadmap_png(
    roadmap: Roadmap, path: Path, *, subtitle: str = "", width_in: float = 13.33
) -> Path:
    """Write the roadmap picture; returns the path."""
    row_h = 1.0
    positions: dict[str, float] = {}
    lane_spans: list[tuple[str, str | None, float, float]] = []
    y = 0.0
    for lane in roadmap.lanes:
        top = y
        for bar in lane.bars:
            positions[bar.project.id] = y + bar.row * row_h + 0.5
        y += max(lane.rows, 1) * row_h + 0.4
        lane_spans.append((lane.title, lane.rag, top, y))
    total_rows = max(y, 3.0)
    height_in = max(5.0, min(40.0, 1.9 + total_rows * 0.42))
    fig, ax = plt.subplots(figsize=(width_in, height_in), dpi=DPI)
    fig.subplots_adjust(
        left=1.85 / width_in, right=0.985, top=1 - 1.2 / height_in, bottom=1.05 / height_in
    )
    start, end = roadmap.start, roadmap.end
    ax.set_xlim(_num(start), _num(end))
    ax.set_ylim(total_rows, -0.2)
    ax.set_yticks([])
    for spine in ("left", "right", "top"):
        ax.spines[spine].set_visible(False)

    # quarter bands and month grid
    month = date(start.year, start.month, 1)
    while month < end:
        nxt = date(month.year + (month.month // 12), month.month % 12 + 1, 1)
        if ((month.month - 1) // 3) % 2 == 1:
            ax.axvspan(_num(month), _num(min(nxt, end)), color="#f3f3f3", zorder=0, lw=0)
        month = nxt
    span_days = (end - start).days
    interval = 1 if span_days <= 400 else 3 if span_days <= 1200 else 6
    ax.xaxis.set_major_locator(mdates.MonthLocator(interval=interval))
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%b\n%Y"))
    ax.tick_params(axis="x", labelsize=8, colors="#505a5f")
    ax.xaxis.grid(True, color="#e6e7e8", zorder=0)
    ax.set_axisbelow(True)

    # lanes
    for index, (title, rag, top, bottom) in enumerate(lane_spans):
        if index:
            ax.axhline(top - 0.2, color="#b1b4b6", lw=0.8, zorder=1)
        ax.text(
            -0.01,
            (top + bottom - 0.4) / 2,
            "\n".join(textwrap.wrap(plain(title, 60), 22)[:3]),
            transform=ax.get_yaxis_transform(),
            ha="right",
            va="center",
            fontsize=9.5,
            fontweight="bold",
            color="#0b0c0c",
        )
        if rag_key(rag):
            ax.add_patch(
                Rectangle(
                    (-0.006, top),
                    0.004,
                    bottom - top - 0.4,
                    transform=ax.get_yaxis_transform(),
                    color=RAG_COLOURS[rag_key(rag)],
                    clip_on=False,
                )
            )

    # bars, baselines, diamonds
    for lane in roadmap.lanes:
        for bar in lane.bars:
            p = bar.project
            yc = positions[p.id]
            if p.baseline_start and p.baseline_finish:
                ax.add_patch(
                    Rectangle(
                        (_num(p.baseline_start), yc + 0.05),
                        (p.baseline_finish - p.baseline_start).days + 1,
                        0.22,
                        fill=False,
                        ls="--",
                        lw=0.8,
                        ec="#6f777b",
                        zorder=2,
                    )
                )
            first = p.start or p.finish
            last = p.finish or p.start
            if first and last:
                colour = RAG_COLOURS[rag_key(p.rag)]
                ax.add_patch(
                    Rectangle(
                        (_num(first), yc - 0.12),
                        (last - first).days + 1,
                        0.3,
                        color=colour,
                        zorder=3,
                        alpha=0.9 if p.dates_basis == "planned" else 1.0,
                    )
                )
                width_days = (last - first).days + 1
                if width_days > (roadmap.end - roadmap.start).days / 60:
                    # the RAG as a letter too, for readers who cannot tell the colours apart
                    ax.text(
                        _num(first) + width_days * 0.004 + 1,
                        yc + 0.03,
                        rag_key(p.rag) or "–",
                        fontsize=6.5,
                        fontweight="bold",
                        color="#0b0c0c" if rag_key(p.rag) == "A" else "white",  # contrast
                        va="center",
                        ha="left",
                        zorder=6,
                    )
                ax.text(
                    _num(first),
                    yc - 0.2,
                    plain(p.label, 48),
                    fontsize=7.5,
                    va="bottom",
                    ha="left",
                    color="#0b0c0c",
                    zorder=6,
                )
        for d in lane.diamonds:
            if not d.project:
                continue
            yc = positions[d.project.id] + 0.03
            if d.event.baseline:
                ax.plot(
                    _num(d.event.baseline),
                    yc,
                    marker="D",
                    ms=5,
                    mfc="white",
                    mec="#0b0c0c",
                    mew=0.8,
                    zorder=4,
                    ls="none",
                )
                if d.event.date and d.event.date != d.event.baseline:
                    ax.plot(
                        [_num(d.event.baseline), _num(d.event.date)],
                        [yc, yc],
                        color="#0b0c0c",
                        lw=0.7,
                        zorder=4,
                    )
            if d.event.date:
                ax.plot(
                    _num(d.event.date),
                    yc,
                    marker="v" if d.event.kind == "release" else "D",
                    ms=5.5,
                    mfc="#b1b4b6" if d.event.done else "#0b0c0c",
                    mec="white",
                    mew=0.6,
                    zorder=5,
                    ls="none",
                )

    # arrows between projects
    bars = {b.project.id: b.project for b in roadmap.bars}
    for arrow in roadmap.arrows:
        s, t = bars.get(arrow.source), bars.get(arrow.target)
        if not s or not t:
            continue
        source_day = arrow.source_date or s.finish or s.start
        target_day = arrow.target_date or t.start or t.finish
        if source_day is None or target_day is None:
            continue
        sx = _num(source_day + timedelta(days=1))
        tx = _num(target_day)
        down = positions[t.id] > positions[s.id]
        ax.add_patch(
            FancyArrowPatch(
                (sx, positions[s.id] + (0.18 if down else -0.15)),
                (tx, positions[t.id] - (0.15 if down else -0.18)),
                connectionstyle="arc3,rad=0.2",
                arrowstyle="-|>",
                mutation_scale=9,
                lw=1.6 if arrow.state == "violated" else 1.0,
                ls="--" if arrow.state == "unchecked" else "-",
                color=ARROW_COLOURS[arrow.state],
                alpha=0.85,
                zorder=4,
            )
        )

    # status date
    ax.axvline(_num(roadmap.today), color=TODAY_COLOUR, ls="--", lw=1.4, zorder=5)
    ax.text(
        _num(roadmap.today),
        -0.25,
        f" Status date {fmt_date(roadmap.today)}",
        color=TODAY_COLOUR,
        fontsize=8,
        fontweight="bold",
        va="bottom",
        ha="left",
    )

    draw_title(fig, roadmap.title, height_in)
    notes = [subtitle] if subtitle else []
    if "forecast" not in roadmap.dates_basis:
        notes.append("bars show planned dates (no forecast computed)")
    if roadmap.arrows and not roadmap.findings_computed:
        notes.append("dependency checks not computed for this run")
    if notes:
        fig.text(
            0.01,
            1 - 0.75 / height_in,
            plain(" · ".join(notes), 160),
            fontsize=9,
            color="#505a5f",
            ha="left",
        )

    handles: list[Patch | Line2D] = [
        Patch(color=RAG_COLOURS[k], label=RAG_TEXT[k]) for k in ("R", "A", "G", None)
    ]
    handles += [
        Patch(fill=False, ls="--", ec="#6f777b", label="baseline"),
        Line2D([], [], marker="D", ls="none", mfc="#0b0c0c", mec="white", label="milestone"),
        Line2D([], [], marker="D", ls="none", mfc="white", mec="#0b0c0c", label="baseline date"),
        Line2D([], [], marker="v", ls="none", mfc="#0b0c0c", mec="white", label="release"),
    ]
    states = sorted({a.state for a in roadmap.arrows})
    handles += [
        Line2D(
            [],
            [],
            color=ARROW_COLOURS[s],
            ls="--" if s == "unchecked" else "-",
            label=ARROW_TEXT[s].split(" (")[0],
        )
        for s in states
    ]
    fig.legend(
        handles=handles,
        loc="lower center",
        ncol=min(len(handles), 6),
        fontsize=8,
        frameon=False,
        bbox_to_anchor=(0.5, 0.0),
    )
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
    return path
