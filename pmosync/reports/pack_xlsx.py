"""The steering committee's Excel workbook (openpyxl).

Sheets: Summary (headline figures and every project with RAG conditional formatting),
Programmes, Milestones (baseline / forecast / slip), RAID log (status as a drop-down list),
Dependencies (with findings), Roadmap (the picture). Each sheet says which run its data
comes from. Text from tools is written as text, never a formula: a value that starts with
= + - @ is stored as a string with Excel's quote prefix.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.drawing.image import Image
from openpyxl.formatting.rule import CellIsRule, FormulaRule
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from pmosync.reports.common import RAG_FILL_LIGHT
from pmosync.reports.tables import Table

DATE_FORMAT = "d mmm yyyy"
HEADER_FILL = PatternFill("solid", fgColor="1D3557")
_FORMULA_START = ("=", "+", "-", "@")
STATUS_CHOICES = "not started,active,on hold,done,cancelled"


def _put(ws: Worksheet, row: int, column: int, value: Any) -> None:
    cell = ws.cell(row=row, column=column)
    if isinstance(value, datetime):
        value = value.replace(tzinfo=None)
    cell.value = value
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        cell.data_type = "s"  # text, never a formula
        cell.quotePrefix = True
    elif isinstance(value, date):
        cell.number_format = DATE_FORMAT


def _rag_rules(ws: Worksheet, ref: str) -> None:
    for key, fill in RAG_FILL_LIGHT.items():
        ws.conditional_formatting.add(
            ref,
            CellIsRule(
                operator="equal",
                formula=[f'"{key}"'],
                fill=PatternFill("solid", fgColor=fill, bgColor=fill),
                font=Font(bold=True),
            ),
        )


def _write_table(ws: Worksheet, table: Table, first_row: int, as_of: str) -> int:
    ws.cell(row=1, column=1, value=table.title).font = Font(size=14, bold=True)
    ws.cell(row=2, column=1, value=as_of).font = Font(italic=True, color="505A5F")
    header = first_row
    for c, name in enumerate(table.columns, start=1):
        cell = ws.cell(row=header, column=c, value=name)
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for r, row in enumerate(table.rows, start=header + 1):
        for c, value in enumerate(row, start=1):
            _put(ws, r, c, value)
    last = header + max(1, len(table.rows))
    ws.freeze_panes = ws.cell(row=header + 1, column=1)
    ws.auto_filter.ref = f"A{header}:{get_column_letter(len(table.columns))}{last}"
    for c, name in enumerate(table.columns, start=1):
        values = [len(str(name))] + [len(str(row[c - 1] or "")) for row in table.rows[:200]]
        ws.column_dimensions[get_column_letter(c)].width = min(45, max(10, max(values) + 2))
    return last


def _column(table: Table, name: str) -> str:
    return get_column_letter(table.columns.index(name) + 1)


def write_pack_xlsx(
    path: Path,
    *,
    title: str,
    as_of: str,
    summary: list[tuple[str, Any]],
    projects: Table,
    programmes: Table,
    milestones: Table,
    raid: Table,
    dependencies: Table,
    roadmap_png: Path | None,
) -> Path:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Summary"
    ws.cell(row=1, column=1, value=title).font = Font(size=16, bold=True)
    ws.cell(row=2, column=1, value=as_of).font = Font(italic=True, color="505A5F")
    for r, (label, value) in enumerate(summary, start=4):
        ws.cell(row=r, column=1, value=label).font = Font(bold=True)
        _put(ws, r, 2, value)
    ws.column_dimensions["A"].width = 40
    top = 4 + len(summary) + 2
    # the project table under the headline figures, with RAG colours
    ws.cell(row=top - 1, column=1, value="Projects").font = Font(size=13, bold=True)
    for c, name in enumerate(projects.columns, start=1):
        cell = ws.cell(row=top, column=c, value=name)
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for r, row in enumerate(projects.rows, start=top + 1):
        for c, value in enumerate(row, start=1):
            _put(ws, r, c, value)
    last = top + max(1, len(projects.rows))
    for name in ("RAG (computed)", "RAG (entered)"):
        col = _column(projects, name)
        _rag_rules(ws, f"{col}{top + 1}:{col}{last}")
    slip = _column(projects, "Slip (working days)")
    ws.conditional_formatting.add(
        f"{slip}{top + 1}:{slip}{last}",
        FormulaRule(
            formula=[f"AND(ISNUMBER({slip}{top + 1}),{slip}{top + 1}>0)"],
            font=Font(color="D4351C", bold=True),
        ),
    )
    ws.freeze_panes = ws.cell(row=top + 1, column=4)
    ws.auto_filter.ref = f"A{top}:{get_column_letter(len(projects.columns))}{last}"
    for c, name in enumerate(projects.columns, start=1):
        values = [len(str(name))] + [len(str(row[c - 1] or "")) for row in projects.rows[:200]]
        width = min(45, max(10, max(values) + 2))
        letter = get_column_letter(c)
        current = ws.column_dimensions[letter].width or 0
        ws.column_dimensions[letter].width = max(current, width)

    sheet = wb.create_sheet("Programmes")
    _write_table(sheet, programmes, 4, as_of)
    _rag_rules(sheet, f"B5:B{4 + max(1, len(programmes.rows))}")

    sheet = wb.create_sheet("Milestones")
    last = _write_table(sheet, milestones, 4, as_of)
    col = _column(milestones, "Slip (working days)")
    sheet.conditional_formatting.add(
        f"{col}5:{col}{last}",
        FormulaRule(formula=[f"AND(ISNUMBER({col}5),{col}5>0)"], font=Font(color="D4351C")),
    )
    state = _column(milestones, "State")
    sheet.conditional_formatting.add(
        f"{state}5:{state}{last}",
        CellIsRule(
            operator="equal",
            formula=['"overdue"'],
            fill=PatternFill("solid", fgColor=RAG_FILL_LIGHT["R"], bgColor=RAG_FILL_LIGHT["R"]),
        ),
    )

    sheet = wb.create_sheet("RAID log")
    last = _write_table(sheet, raid, 4, as_of)
    status = _column(raid, "Status")
    validation = DataValidation(type="list", formula1=f'"{STATUS_CHOICES}"', allow_blank=True)
    validation.add(f"{status}5:{status}{max(last, 5) + 200}")
    sheet.add_data_validation(validation)

    sheet = wb.create_sheet("Dependencies")
    last = _write_table(sheet, dependencies, 4, as_of)
    finding = _column(dependencies, "Severity")
    for key, fill in (("high", RAG_FILL_LIGHT["R"]), ("medium", RAG_FILL_LIGHT["A"])):
        sheet.conditional_formatting.add(
            f"{finding}5:{finding}{last}",
            CellIsRule(
                operator="equal",
                formula=[f'"{key}"'],
                fill=PatternFill("solid", fgColor=fill, bgColor=fill),
            ),
        )

    if roadmap_png is not None and roadmap_png.exists():
        sheet = wb.create_sheet("Roadmap")
        sheet.cell(row=1, column=1, value="Roadmap").font = Font(size=14, bold=True)
        sheet.cell(row=2, column=1, value=as_of).font = Font(italic=True, color="505A5F")
        picture = Image(str(roadmap_png))
        scale = 1200 / picture.width
        picture.width, picture.height = 1200, int(picture.height * scale)
        sheet.add_image(picture, "A4")
    for sheet in wb.worksheets:  # printable: landscape, one page wide
        sheet.page_setup.orientation = "landscape"
        sheet.page_setup.fitToWidth = 1
        sheet.page_setup.fitToHeight = 0
        sheet.sheet_properties.pageSetUpPr.fitToPage = True
    wb.properties.title = title
    wb.save(path)
    return path
