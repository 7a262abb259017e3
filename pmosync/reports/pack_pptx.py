"""The steering committee's PowerPoint deck (python-pptx, 16:9).

Slides: the portfolio (RAG tiles, headline figures, key events), the portfolio roadmap, then
one slide per programme: its roadmap picture, its RAG and reasons (or "not computed"), its
projects' RAG, top risks and the decisions needed. Text from tools goes into text frames as
plain runs (python-pptx escapes XML), cut to a length that fits its box.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from PIL import Image as PILImage
from pptx import Presentation
from pptx.dml.color import RGBColor
from pptx.enum.shapes import MSO_SHAPE
from pptx.enum.text import PP_ALIGN
from pptx.slide import Slide
from pptx.util import Emu, Inches, Length, Pt

from pmosync.reports.common import RAG_COLOURS, RAG_INK, RAG_TEXT, fmt_date

WIDTH, HEIGHT = Inches(13.333), Inches(7.5)
INK = RGBColor(0x0B, 0x0C, 0x0C)
MUTED = RGBColor(0x50, 0x5A, 0x5F)


@dataclass
class ProgrammeSlide:
    title: str
    rag: str | None  # None: programme roll-up not computed
    reasons: str
    projects: list[tuple[str, str | None, str]]  # label, RAG, why
    risks: list[tuple[str, str, Any]]  # title, project, score
    decisions: list[tuple[str, str, date | None]]  # title, project, due
    picture: Path | None = None
    is_programme: bool = True  # False for the projects without a programme


@dataclass
class Deck:
    title: str
    as_of: str
    summary: list[tuple[str, Any]]
    key_events: list[tuple[str, str, str, str]]  # date text, event, project, slip
    roadmap_picture: Path | None
    programmes: list[ProgrammeSlide] = field(default_factory=list)


def _cut(text: str, limit: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _rgb(hex_colour: str) -> RGBColor:
    return RGBColor.from_string(hex_colour.lstrip("#").upper())


def _text(
    slide: Slide,
    left: Length,
    top: Length,
    width: Length,
    height: Length,
    lines: list[tuple[str, int, bool, RGBColor]],
    name: str | None = None,
) -> None:
    box = slide.shapes.add_textbox(left, top, width, height)
    if name:
        box.name = name
    frame = box.text_frame
    frame.word_wrap = True
    for index, (value, size, bold, colour) in enumerate(lines):
        paragraph = frame.paragraphs[0] if index == 0 else frame.add_paragraph()
        run = paragraph.add_run()
        run.text = value
        run.font.size = Pt(size)
        run.font.bold = bold
        run.font.color.rgb = colour


def _title(slide: Slide, title: str, as_of: str) -> None:
    _text(
        slide,
        Inches(0.4),
        Inches(0.2),
        Inches(12.5),
        Inches(0.9),
        [(_cut(title, 80), 28, True, INK), (as_of, 12, False, MUTED)],
        name="Title",
    )


def _rag_tile(slide: Slide, left: Length, top: Length, rag: str | None, label: str) -> None:
    tile = slide.shapes.add_shape(MSO_SHAPE.ROUNDED_RECTANGLE, left, top, Inches(1.8), Inches(1))
    tile.name = f"RAG {RAG_TEXT[rag]}"
    tile.fill.solid()
    tile.fill.fore_color.rgb = _rgb(RAG_COLOURS[rag])
    tile.line.fill.background()
    frame = tile.text_frame
    frame.paragraphs[0].alignment = PP_ALIGN.CENTER
    run = frame.paragraphs[0].add_run()
    run.text = label
    run.font.size = Pt(18)
    run.font.bold = True
    # black on amber, white on red and green: each at least 4.5:1
    run.font.color.rgb = INK if rag == "A" else RGBColor(0xFF, 0xFF, 0xFF)


def _picture(
    slide: Slide, path: Path, left: Length, top: Length, width: Length, height: Length
) -> None:
    """The picture scaled to fit the box, aspect kept."""
    with PILImage.open(path) as image:
        w, h = image.size
    scale = min(width / w, height / h)
    slide.shapes.add_picture(str(path), left, top, Emu(int(w * scale)), Emu(int(h * scale)))


def _table(
    slide: Slide,
    left: Length,
    top: Length,
    width: Length,
    columns: list[str],
    rows: list[list[str]],
    widths: list[float],
    name: str,
) -> None:
    shape = slide.shapes.add_table(
        len(rows) + 1, len(columns), left, top, width, Emu(Inches(0.3) * (len(rows) + 1))
    )
    shape.name = name
    table = shape.table
    for c, (column, w) in enumerate(zip(columns, widths, strict=True)):
        table.columns[c].width = Inches(w)
        table.cell(0, c).text = column
    for r, row in enumerate(rows, start=1):
        for c, value in enumerate(row):
            table.cell(r, c).text = value
    for r in range(len(rows) + 1):
        for c in range(len(columns)):
            for paragraph in table.cell(r, c).text_frame.paragraphs:
                for run in paragraph.runs:
                    run.font.size = Pt(11)


def write_deck(deck: Deck, path: Path) -> Path:
    prs = Presentation()
    prs.slide_width, prs.slide_height = WIDTH, HEIGHT
    blank = prs.slide_layouts[6]

    # 1. the portfolio
    slide = prs.slides.add_slide(blank)
    _title(slide, f"{deck.title}: portfolio", deck.as_of)
    figures = dict(deck.summary)
    for index, key in enumerate(("R", "A", "G")):
        _rag_tile(
            slide,
            Inches(0.4 + index * 1.95),
            Inches(1.4),
            key,
            f"{figures.get(RAG_TEXT[key], 0)} {RAG_TEXT[key]}",
        )
    lines = [
        (f"{label}: {value}", 14, False, INK)
        for label, value in deck.summary
        if label not in ("Red", "Amber", "Green")
    ]
    _text(slide, Inches(0.4), Inches(2.7), Inches(5.6), Inches(4.5), lines, name="Figures")
    events = deck.key_events[:10]
    _text(
        slide,
        Inches(6.4),
        Inches(1.3),
        Inches(6.5),
        Inches(0.5),
        [
            ("Key events ahead", 18, True, INK),
            ("slip against baseline in working days", 11, False, MUTED),
        ],
    )
    if events:
        _table(
            slide,
            Inches(6.4),
            Inches(1.9),
            Inches(6.5),
            ["Date", "Event", "Project", "Slip"],
            [[d, _cut(e, 34), _cut(p, 24), slip] for d, e, p, slip in events],
            [1.2, 2.6, 2.1, 0.6],
            name="Key events",
        )
    else:
        _text(
            slide,
            Inches(6.4),
            Inches(1.9),
            Inches(6.5),
            Inches(0.5),
            [("No open milestone or release in the window.", 14, False, MUTED)],
        )

    # 2. the roadmap
    if deck.roadmap_picture is not None:
        slide = prs.slides.add_slide(blank)
        _title(slide, f"{deck.title}: roadmap", deck.as_of)
        _picture(slide, deck.roadmap_picture, Inches(0.3), Inches(1.2), Inches(12.7), Inches(6.1))

    # 3. one slide per programme
    for programme in deck.programmes:
        slide = prs.slides.add_slide(blank)
        _title(slide, programme.title, deck.as_of)
        if programme.picture is not None:
            _picture(slide, programme.picture, Inches(0.3), Inches(1.2), Inches(7.6), Inches(4.2))
        right = Inches(8.1)
        if not programme.is_programme:
            rag_line = "Not a programme: no programme RAG"
        elif programme.rag:
            rag_line = f"Programme RAG: {RAG_TEXT[programme.rag]}"
        else:
            rag_line = "Programme RAG: not computed (no programme roll-up for this run)"
        _text(
            slide,
            right,
            Inches(1.2),
            Inches(5.0),
            Inches(1.2),
            [(rag_line, 14, True, INK)]
            + ([(_cut(programme.reasons, 220), 11, False, MUTED)] if programme.reasons else []),
            name="Programme RAG",
        )
        project_lines = [
            (
                f"{RAG_TEXT[rag] if rag else 'No RAG'} · {_cut(label, 30)}"
                + (f" — {_cut(why, 34)}" if why else ""),
                10,
                False,
                _rgb(RAG_INK[rag]) if rag else MUTED,
            )
            for label, rag, why in programme.projects[:8]
        ]
        if len(programme.projects) > 8:
            more = len(programme.projects) - 8
            project_lines.append((f"… and {more} more (see the workbook)", 10, False, MUTED))
        _text(
            slide,
            right,
            Inches(2.4),
            Inches(5.0),
            Inches(3.0),
            [("Projects", 14, True, INK)] + project_lines,
            name="Projects",
        )
        risk_lines = [
            (
                f"{score if score is not None else '?'} · {_cut(t, 60)} ({_cut(p, 28)})",
                11,
                False,
                INK,
            )
            for t, p, score in programme.risks[:5]
        ] or [("No open risks.", 11, False, MUTED)]
        _text(
            slide,
            Inches(0.4),
            Inches(5.6),
            Inches(6.2),
            Inches(1.8),
            [("Top risks (probability × impact)", 14, True, INK)] + risk_lines,
            name="Top risks",
        )
        decision_lines = [
            (
                f"{_cut(t, 60)} ({_cut(p, 28)})" + (f", by {fmt_date(d)}" if d else ""),
                11,
                False,
                INK,
            )
            for t, p, d in programme.decisions[:5]
        ] or [("No open decisions.", 11, False, MUTED)]
        _text(
            slide,
            Inches(6.8),
            Inches(5.6),
            Inches(6.2),
            Inches(1.8),
            [("Decisions needed", 14, True, INK)] + decision_lines,
            name="Decisions needed",
        )
    prs.core_properties.title = deck.title
    prs.save(str(path))
    return path
