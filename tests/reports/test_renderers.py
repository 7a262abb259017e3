"""Every report format, written from a seeded store and read back with the library that
opens it: openpyxl, python-pptx, PIL, an XML parser, csv, headless Chromium."""

from __future__ import annotations

import csv
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import openpyxl
from PIL import Image
from pptx import Presentation

from pmosync.reports.outputs import (
    write_dependencies,
    write_pack,
    write_raid_reports,
    write_roadmap,
)
from pmosync.reports.roadmap_build import roadmap_from_data
from pmosync.reports.roadmap_mermaid import render_roadmap_mermaid

from .conftest import FORMULA, HOSTILE, STATUS_DATE, Seed, open_in_chromium

ALL_ROADMAP = {"html", "png", "mermaid", "csv"}


def test_roadmap_html_opens_offline_without_errors_and_shows_every_project(
    seeded: Seed, tmp_path: Path
) -> None:
    [html] = write_roadmap(seeded.data(), STATUS_DATE, tmp_path, {"html"})
    text = html.read_text()
    # self-contained: no external script, style or font
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", text)
    # the hostile name never appears as markup in the file
    assert "<script>alert" not in text and '</script> "Q"' not in text
    page = open_in_chromium(html.as_uri(), tmp_path / "profile")
    assert page.console_errors == []
    assert 'data-ready="1"' in page.dom
    drawn = set(re.findall(r'data-project="([^"]+)"', page.dom))
    i = seeded.ids
    assert drawn == {i["alpha"], i["beta"], i["gamma"], i["hostile"]}
    # the hostile name is shown as text (escaped in the DOM), never run
    assert "&lt;script&gt;alert('x')&lt;/script&gt;" in page.dom
    assert "alert('x')</script>" not in page.dom.replace("&lt;", "<").split("<body", 1)[0]
    assert "Alpha Platform" in page.dom and "Not planned yet" in page.dom  # undated listed
    assert "12 Mar 2027" not in page.dom  # no invented dates
    assert "Status date 1 Dec 2026" in page.dom
    assert 'data-state="violated"' in page.dom  # ALP → BET carries the seeded violation
    assert "Alpha live" in page.dom  # key events lane


def test_roadmap_html_filters_from_the_address(seeded: Seed, tmp_path: Path) -> None:
    [html] = write_roadmap(seeded.data(), STATUS_DATE, tmp_path, {"html"})
    page = open_in_chromium(html.as_uri() + "#rag=R", tmp_path / "p1")
    assert page.console_errors == []
    assert set(re.findall(r'data-rag="([^"]*)"', page.dom)) == {"R"}
    page = open_in_chromium(
        html.as_uri() + "#programme=Digital&tool=delivery_jira", tmp_path / "p2"
    )
    assert set(re.findall(r'data-project="([^"]+)"', page.dom)) == {seeded.ids["alpha"]}


def test_the_chromium_check_does_see_a_script_error(tmp_path: Path) -> None:
    """The console check above is only worth something if it catches an error."""
    page = tmp_path / "broken.html"
    page.write_text("<!doctype html><html><body><script>undefinedThing();</script></body></html>")
    assert open_in_chromium(page.as_uri(), tmp_path / "profile").console_errors


def test_roadmap_png_is_a_slide_sized_picture(seeded: Seed, tmp_path: Path) -> None:
    [png] = write_roadmap(seeded.data(), STATUS_DATE, tmp_path, {"png"})
    with Image.open(png) as image:
        image.load()
        assert image.format == "PNG"
        width, height = image.size
        assert width >= 1900 and 700 <= height <= 6000
        # it is not blank: the RAG red of Beta's bar is in it
        colours = {rgb for _, rgb in image.convert("RGB").getcolors(maxcolors=1 << 22) or []}
        assert (212, 53, 28) in colours


def test_roadmap_mermaid_is_a_gantt_with_safe_names(seeded: Seed) -> None:
    text = render_roadmap_mermaid(roadmap_from_data(seeded.data(), STATUS_DATE))
    lines = text.splitlines()
    assert lines[0] == "gantt" and "    dateFormat YYYY-MM-DD" in lines
    assert "    section Digital" in lines and "    section No programme" in lines
    task = re.compile(r"^    ([^:]+) :(crit, |done, )?p\d+, \d{4}-\d\d-\d\d, \d{4}-\d\d-\d\d$")
    milestone = re.compile(r"^    ([^:]+) :milestone, (done, )?[ms]\d+, \d{4}-\d\d-\d\d, 0d$")
    body = [ln for ln in lines if ln.startswith("    ") and not ln.startswith("    section")]
    body = [
        ln for ln in body if not re.match(r"^    (title|dateFormat|axisFormat|todayMarker)", ln)
    ]
    for line in body:
        match = task.match(line) or milestone.match(line)
        assert match, line
        name = match.group(1)
        assert not set(name) & set("<>#;:\"'[]{}`\n"), name
        assert "-->" not in name
    assert any("BET · Beta Rollout :crit, " in ln for ln in body)  # red is crit
    assert any(ln.startswith("    HOS · script alert x /script Q") for ln in body)


def test_roadmap_csv_neutralises_formulas(seeded: Seed, tmp_path: Path) -> None:
    [path] = write_roadmap(seeded.data(), STATUS_DATE, tmp_path, {"csv"})
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    names = {r["Name"] for r in rows}
    assert "ALP · Alpha Platform" in names and "Alpha live" in names
    for row in rows:
        for value in row.values():
            assert not value.startswith(("=", "+", "@")) and not re.match(r"^-\D", value), value
    alpha = next(r for r in rows if r["Name"] == "ALP · Alpha Platform")
    assert alpha["Dates"] == "forecast" and alpha["Finish"] == "2027-04-09"  # CPM early finish
    assert alpha["Baseline finish"] == "2027-03-19" and alpha["Slip (working days)"] == "15"


def test_raid_csv_and_html(seeded: Seed, tmp_path: Path) -> None:
    csv_path, html_path = write_raid_reports(seeded.data(), tmp_path, {"csv", "html"})
    rows = list(csv.DictReader(csv_path.open(encoding="utf-8")))
    assert [r["Title"] for r in rows][0] == "Vendor may slip"  # highest exposure first
    formula = next(r for r in rows if r["Title"].endswith('"click")'))
    assert formula["Title"] == "'" + FORMULA
    assert formula["Mitigation"] == "'-1 day buffer @ops +plan"
    assert next(r for r in rows if r["Title"] == "Vendor may slip")["Owner"] == "Ada Lovelace"
    page = html_path.read_text()
    assert "=HYPERLINK(&#34;http://evil&#34;" in page and "Vendor may slip" in page


def test_excel_pack_reads_back(seeded: Seed, tmp_path: Path) -> None:
    [xlsx] = write_pack(seeded.data(), STATUS_DATE, tmp_path, {"xlsx"})
    wb = openpyxl.load_workbook(xlsx)
    assert wb.sheetnames == [
        "Summary",
        "Programmes",
        "Milestones",
        "RAID log",
        "Dependencies",
        "Roadmap",
    ]
    summary = wb["Summary"]
    assert str(summary["A2"].value).startswith("data as of run 1 (ok) at 01 Dec 2026 09:00 UTC")
    figures = {summary.cell(r, 1).value: summary.cell(r, 2).value for r in range(4, 18)}
    assert figures["Projects"] == 5 and figures["Red"] == 1 and figures["Amber"] == 1
    assert figures["Dependencies violated (links)"] == 1
    assert figures["Records tombstoned (no longer counted)"] == 0
    rules = [r for rng in summary.conditional_formatting for r in rng.rules]
    assert {tuple(r.formula) for r in rules} >= {('"R"',), ('"A"',), ('"G"',)}
    # every cell that starts like a formula is text, never a formula
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)
    header_row = next(r for r in range(1, 40) if summary.cell(r, 1).value == "Programme")
    header = [c.value for c in summary[header_row]]
    project_rows = {
        row[2]: row for row in summary.iter_rows(min_row=header_row + 1, values_only=True)
    }
    hostile = project_rows[HOSTILE]
    assert hostile[header.index("Why")] == FORMULA
    alpha = project_rows["Alpha Platform"]
    assert alpha[header.index("Slip (working days)")] == 15
    assert alpha[header.index("Finish")].date().isoformat() == "2027-04-09"
    milestones = list(wb["Milestones"].iter_rows(min_row=5, values_only=True))
    live = next(r for r in milestones if r[2] == "Alpha live")
    assert (live[4].date().isoformat(), live[5].date().isoformat(), live[6]) == (
        "2027-03-19",
        "2027-03-31",
        8,
    )
    deps = list(wb["Dependencies"].iter_rows(min_row=5, values_only=True))
    assert deps[0][9] == "violation" and deps[0][10] == "high" and deps[0][11] == 9.0
    assert wb["RAID log"].data_validations.dataValidation  # status as a list
    assert wb["Roadmap"]._images  # the picture is in


def test_powerpoint_deck_reads_back(seeded: Seed, tmp_path: Path) -> None:
    [pptx] = write_pack(seeded.data(), STATUS_DATE, tmp_path, {"pptx"})
    deck = Presentation(str(pptx))
    slides = list(deck.slides)
    # portfolio, roadmap, Digital, Operations, projects without a programme
    assert len(slides) == 5

    def texts(slide: object) -> str:
        return "\n".join(s.text_frame.text for s in slide.shapes if s.has_text_frame)  # type: ignore[attr-defined]

    first = texts(slides[0])
    assert "Test PMO: portfolio" in first and "1 Red" in first and "1 Amber" in first
    assert any(s.has_table for s in slides[0].shapes)  # key events
    assert any(s.shape_type == 13 for s in slides[1].shapes)  # the roadmap picture
    digital = texts(slides[2])
    assert "Digital" in digital and "Programme RAG: Amber" in digital
    assert "Vendor may slip" in digital and "Approve pilot budget" in digital
    assert "Red · BET · Beta Rollout" in digital
    operations = texts(slides[3])
    assert "Programme RAG: not computed" in operations
    assert "No open risks." in operations
    assert "Not a programme" in texts(slides[4])
    for slide in slides:  # nothing falls off the slide
        for shape in slide.shapes:
            assert shape.left + shape.width <= deck.slide_width
            assert shape.top + shape.height <= deck.slide_height


def test_dependency_picture_marks_violations_and_the_critical_chain(
    seeded: Seed, tmp_path: Path
) -> None:
    html, svg, png = write_dependencies(
        seeded.data(), STATUS_DATE, tmp_path, {"html", "svg", "png"}
    )
    root = ET.fromstring(svg.read_text())  # well-formed despite the hostile names
    ns = {"s": "http://www.w3.org/2000/svg"}
    states = {p.get("data-state") for p in root.iterfind(".//s:path[@class='edge']", ns)}
    assert states == {"violated", "ok", "critical"}
    assert "9d short" in svg.read_text()
    assert HOSTILE.split("\n")[0] not in svg.read_text()
    with Image.open(png) as image:
        assert image.size[0] >= 1900
    page = open_in_chromium(html.as_uri(), tmp_path / "profile")
    assert page.console_errors == []
    assert "9 working day(s) short" in page.dom


def test_not_computed_is_said_never_faked(make_seed: object, tmp_path: Path) -> None:
    seed = make_seed(findings=False, schedule=False)  # type: ignore[operator]
    data = seed.data()
    assert data.findings is None and data.schedule is None
    [xlsx] = write_pack(data, STATUS_DATE, tmp_path, {"xlsx"})
    summary = openpyxl.load_workbook(xlsx)["Summary"]
    figures = {summary.cell(r, 1).value: summary.cell(r, 2).value for r in range(4, 18)}
    assert figures["Dependencies violated (links)"] == "not computed"
    deps = list(openpyxl.load_workbook(xlsx)["Dependencies"].iter_rows(min_row=5, values_only=True))
    assert {r[9] for r in deps} == {"not computed"}
    [html] = write_roadmap(data, STATUS_DATE, tmp_path, {"html"})
    page = open_in_chromium(html.as_uri(), tmp_path / "profile")
    assert "no schedule forecast was computed" in page.dom
    assert "Dependency checks were not computed" in page.dom
    assert 'data-state="unchecked"' in page.dom


def test_tombstoned_records_stop_counting(make_seed: object) -> None:
    seed = make_seed(tombstone_one=True)  # type: ignore[operator]
    data = seed.data()
    assert seed.ids["gone"] not in data.of("milestone") and data.tombstoned == 1
    assert "Deleted milestone" not in {e.name for e in data.event_inputs()}


def test_programme_filter(seeded: Seed, tmp_path: Path) -> None:
    data = seeded.data(programme="dig")
    assert data.project_ids() == {seeded.ids["alpha"], seeded.ids["beta"]}
    [path] = write_roadmap(data, STATUS_DATE, tmp_path, {"csv"})
    projects = {r["Project code"] for r in csv.DictReader(path.open())}
    assert projects == {"ALP", "BET"}
