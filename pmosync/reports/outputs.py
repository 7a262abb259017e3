"""Which files each `pmo-sync report` command writes, from one snapshot of the store."""

from __future__ import annotations

import tempfile
from dataclasses import replace
from datetime import date
from pathlib import Path

from pmosync.analysis.roadmap import Lane, Roadmap
from pmosync.config.loader import LoadedConfig
from pmosync.reports.common import fmt_date, rag_key
from pmosync.reports.data import CLOSED, ReportData, load_report_data
from pmosync.reports.dependencies_build import build_dependency_picture
from pmosync.reports.dependencies_html import render_dependencies_html
from pmosync.reports.dependencies_png import render_dependencies_png
from pmosync.reports.dependencies_svg import render_dependencies_svg
from pmosync.reports.pack_pptx import Deck, ProgrammeSlide, write_deck
from pmosync.reports.pack_xlsx import write_pack_xlsx
from pmosync.reports.raid import write_raid
from pmosync.reports.roadmap_build import roadmap_from_data
from pmosync.reports.roadmap_csv import write_roadmap_csv
from pmosync.reports.roadmap_html import render_roadmap_html
from pmosync.reports.roadmap_mermaid import render_roadmap_mermaid
from pmosync.reports.roadmap_png import render_roadmap_png
from pmosync.reports.tables import (
    dependency_table,
    milestone_table,
    portfolio_summary,
    programme_table,
    project_table,
    raid_table,
)
from pmosync.sync.store import Store

ROADMAP_FORMATS = ("html", "png", "mermaid", "csv")
DEPENDENCY_FORMATS = ("html", "svg", "png")
RAID_FORMATS = ("csv", "html")
PACK_FORMATS = ("xlsx", "pptx")


def load(loaded: LoadedConfig, programme: str | None = None) -> ReportData:
    store = Store.open(loaded.store_url())
    try:
        return load_report_data(store, loaded.config.portfolio.name, programme=programme)
    finally:
        store.close()


def write_roadmap(
    data: ReportData, today: date, directory: Path, formats: set[str], key_event_days: int = 90
) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    roadmap = roadmap_from_data(data, today, key_event_days=key_event_days)
    paths = []
    if "html" in formats:
        path = directory / "roadmap.html"
        path.write_text(render_roadmap_html(roadmap, data), encoding="utf-8")
        paths.append(path)
    if "png" in formats:
        paths.append(render_roadmap_png(roadmap, directory / "roadmap.png", subtitle=data.as_of))
    if "mermaid" in formats:
        path = directory / "roadmap.mmd"
        path.write_text(render_roadmap_mermaid(roadmap), encoding="utf-8")
        paths.append(path)
    if "csv" in formats:
        paths.append(write_roadmap_csv(roadmap, directory / "roadmap.csv"))
    return paths


def write_dependencies(
    data: ReportData, today: date, directory: Path, formats: set[str]
) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    picture = build_dependency_picture(data, today)
    paths = []
    if "html" in formats:
        path = directory / "dependencies.html"
        path.write_text(render_dependencies_html(picture), encoding="utf-8")
        paths.append(path)
    if "svg" in formats:
        path = directory / "dependencies.svg"
        path.write_text(render_dependencies_svg(picture), encoding="utf-8")
        paths.append(path)
    if "png" in formats:
        paths.append(render_dependencies_png(picture, directory / "dependencies.png"))
    return paths


def write_raid_reports(data: ReportData, directory: Path, formats: set[str]) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    return write_raid(data, directory, formats)


def _lane_roadmap(roadmap: Roadmap, lane: Lane) -> Roadmap:
    ids = {b.project.id for b in lane.bars}
    return replace(
        roadmap,
        title=f"{lane.title}: roadmap",
        lanes=(lane,),
        arrows=tuple(a for a in roadmap.arrows if a.source in ids and a.target in ids),
        key_events=tuple(d for d in roadmap.key_events if d.project and d.project.id in ids),
    )


def _programme_slide(data: ReportData, lane: Lane, picture: Path) -> ProgrammeSlide:
    ids = {b.project.id for b in lane.bars} | {
        pid
        for pid in data.project_ids()
        if (data.of("project")[pid].get("programme") or None) == lane.id
    }
    projects = sorted(
        (
            (
                data.project_label(pid),
                rag_key(
                    data.of("project")[pid].get("rag_computed")
                    or data.of("project")[pid].get("rag")
                ),
                str(data.of("project")[pid].get("pmo_status") or ""),
            )
            for pid in ids
        ),
        key=lambda row: ({"R": 0, "A": 1, "G": 2}.get(row[1] or "", 3), row[0].lower()),
    )
    risks = []
    decisions = []
    for v in data.of("raid_item").values():
        if v.get("project") not in ids or v.get("status") in CLOSED:
            continue
        if v.get("kind") == "risk":
            p, i = v.get("probability"), v.get("impact")
            score = p * i if isinstance(p, int) and isinstance(i, int) else None
            risks.append((str(v.get("name") or ""), data.project_label(v["project"]), score))
        elif v.get("kind") == "decision":
            due = date.fromisoformat(v["due"]) if v.get("due") else None
            decisions.append((str(v.get("name") or ""), data.project_label(v["project"]), due))
    risks.sort(key=lambda r: -(r[2] or 0))
    decisions.sort(key=lambda d: d[2] or date.max)
    return ProgrammeSlide(
        title=lane.title if lane.id else "Projects without a programme",
        rag=rag_key(lane.rag) if lane.id else None,
        reasons=lane.reasons
        or ("" if lane.id else "These projects are not mapped to a programme."),
        projects=projects,
        risks=risks,
        decisions=decisions,
        picture=picture,
        is_programme=lane.id is not None,
    )


def write_pack(
    data: ReportData, today: date, directory: Path, formats: set[str], key_event_days: int = 90
) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    roadmap = roadmap_from_data(data, today, key_event_days=key_event_days)
    title = f"{data.portfolio}: steering pack"
    as_of = f"{data.as_of} · status date {fmt_date(today)}"
    summary = portfolio_summary(data, roadmap, today)
    paths = []
    with tempfile.TemporaryDirectory(prefix="pmo-sync-pack-") as scratch:
        picture = render_roadmap_png(roadmap, Path(scratch) / "roadmap.png", subtitle=data.as_of)
        if "xlsx" in formats:
            paths.append(
                write_pack_xlsx(
                    directory / "steering-pack.xlsx",
                    title=title,
                    as_of=as_of,
                    summary=summary,
                    projects=project_table(data, roadmap),
                    programmes=programme_table(data),
                    milestones=milestone_table(data, roadmap, today),
                    raid=raid_table(data),
                    dependencies=dependency_table(data),
                    roadmap_png=picture,
                )
            )
        if "pptx" in formats:
            slides = []
            for index, lane in enumerate(roadmap.lanes):
                lane_picture = render_roadmap_png(
                    _lane_roadmap(roadmap, lane), Path(scratch) / f"lane-{index}.png", width_in=10
                )
                slides.append(_programme_slide(data, lane, lane_picture))
            deck = Deck(
                title=data.portfolio,
                as_of=as_of,
                summary=summary,
                key_events=[
                    (
                        fmt_date(d.event.date),
                        d.label,
                        d.project.label if d.project else "",
                        f"{d.slip_days:+d}" if d.slip_days else "",  # working days
                    )
                    for d in roadmap.key_events
                ],
                roadmap_picture=picture,
                programmes=slides,
            )
            paths.append(write_deck(deck, directory / "steering-pack.pptx"))
    return paths


def write_demo_reports(loaded: LoadedConfig, directory: Path, today: date) -> list[Path]:
    """What `pmo-sync demo` adds beside the status report: the roadmap (HTML and PNG), the
    dependency picture (HTML and PNG), the Excel pack and the PowerPoint deck."""
    data = load(loaded)
    return [
        *write_roadmap(data, today, directory, {"html", "png"}),
        *write_dependencies(data, today, directory, {"html", "png"}),
        *write_pack(data, today, directory, {"xlsx", "pptx"}),
    ]
