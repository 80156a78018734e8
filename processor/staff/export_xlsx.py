"""The XLSX export (`export.EXPORTERS["xlsx"]`): a status sheet to print and a sheet of each unit's text.

Apart from export.py so that openpyxl is loaded only when a workbook is made.
"""
from __future__ import annotations

import datetime as dt
import io
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from intake.processor.staff.formatting import FIGURE_KEYS, FIGURE_TITLES, xml_safe
from intake.processor.staff.rows import (
    FONT,
    Column,
    ExportContext,
    counts_line,
    notes,
    status_rows,
    totals,
)
from intake.processor.times import deadline_time, local_time
from intake.store.status import CampaignStatus, UnitState

THIN = Side(style="thin", color="000000")
GRID = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
STATE_FILL = {UnitState.MISSING: "F8D7DA", UnitState.ON_TIME: "D4EDDA", UnitState.LATE: "FFF3CD",
              UnitState.EXCUSED: "D1ECF1"}
XLSX_FORMAT = {"int": "#,##0", "number": "0.0", "time": "dd/mm/yyyy hh:mm"}
FIGURE_COLUMNS = tuple(Column(FIGURE_TITLES[k], 8 if k == "rate_percent" else 9,
                              "number" if k == "rate_percent" else "int") for k in FIGURE_KEYS)
NOTES = "Vấn đề, ghi chú"
# Sheet 1 (printed on one A4 landscape width): the state of each unit.
XLSX_COLUMNS = (Column("STT", 5, "int"), Column("Đơn vị", 26), Column("Tình trạng", 10),
                Column("Thời điểm nhận", 15, "time"), Column("Số lần gửi", 6, "int"),
                Column("Mục đánh giá riêng", 30), *FIGURE_COLUMNS, Column(NOTES, 32))
# Sheet 2: what each unit wrote, with its figures, file and address.
TEXT_COLUMNS = (Column("STT", 5, "int"), Column("Đơn vị", 22), Column("Mục đánh giá riêng", 26),
                Column("Nội dung", 72), *FIGURE_COLUMNS, Column("Tệp báo cáo", 20), Column("Địa chỉ gửi", 22))
EXCEL_CELL_MAX = 32_000
LINE_PT = 14.5        # one line of 11 pt Times New Roman
MAX_ROW_PT = 409      # Excel's limit


def workbook(status: CampaignStatus, ctx: ExportContext) -> bytes:
    """Sheet 1: title block, the table, a totals row, A4 landscape; sheet 2: each unit's section text."""
    wb = Workbook()
    sheet = wb.worksheets[0]
    sheet.title = _sheet_title(status.campaign_id)
    _status_sheet(sheet, status, ctx)
    _text_sheet(wb.create_sheet(_sheet_title(f"Nội dung {status.campaign_id}")), status, ctx)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _sheet_title(text: str) -> str:
    bad = set("[]:*?/\\")
    return "".join("-" if c in bad else c for c in xml_safe(text))[:31] or "Sheet"


def _title_block(ws: Worksheet, lines: list[tuple[str, int, bool]], width: int) -> int:
    """Merged lines across the table's width; returns the row of the table's header."""
    for row, (text, size, bold) in enumerate(lines, start=1):
        _as_text(ws.cell(row=row, column=1, value=xml_safe(text))).font = Font(name=FONT, size=size, bold=bold)
        ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=width)
        ws.cell(row=row, column=1).alignment = Alignment(horizontal="center" if row <= 2 else "left")
        ws.row_dimensions[row].height = size * 1.45
    return len(lines) + 2


def _header_row(ws: Worksheet, row: int, columns: tuple[Column, ...]) -> None:
    for index, column in enumerate(columns, start=1):
        cell = ws.cell(row=row, column=index, value=column.title)
        cell.font = Font(name=FONT, size=11, bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")
        cell.border = GRID
        cell.fill = PatternFill("solid", fgColor="E9ECEF")
        ws.column_dimensions[get_column_letter(index)].width = column.width
    ws.row_dimensions[row].height = 3 * LINE_PT


def _body_row(ws: Worksheet, row: int, columns: tuple[Column, ...], values: list[Any], *,
              bold: bool = False) -> None:
    """One row of cells, its height set from the wrapped text (LibreOffice does not grow rows on open)."""
    lines = 1
    for col, (column, value) in enumerate(zip(columns, values, strict=True), start=1):
        if isinstance(value, dt.datetime):
            value = value.replace(tzinfo=None)  # Excel has no zones: the local wall-clock time
        elif isinstance(value, str):
            value = xml_safe(value)
            lines = max(lines, _wrapped_lines(value, column.width))
        cell = _as_text(ws.cell(row=row, column=col, value=value))
        cell.font = Font(name=FONT, size=11, bold=bold)
        cell.border = GRID
        align = "center" if column.title == "STT" else "right" if column.kind in ("int", "number") else "left"
        cell.alignment = Alignment(wrap_text=column.kind in ("text", "time"), vertical="top", horizontal=align,
                                   indent=1 if align != "center" else 0)
        if column.kind in XLSX_FORMAT:
            cell.number_format = XLSX_FORMAT[column.kind]
    ws.row_dimensions[row].height = min(MAX_ROW_PT, lines * LINE_PT + 3)


def _as_text(cell: Any) -> Any:
    """openpyxl stores a string starting with '=' as a formula: keep a stranger's text a string."""
    if isinstance(cell.value, str) and cell.value.startswith("="):
        cell.data_type = "s"
    return cell


def _wrapped_lines(text: str, width: float) -> int:
    per_line = max(int(width * 1.3), 1)  # Times New Roman is narrower than Excel's width unit
    return sum(max(1, -(-len(part) // per_line)) for part in text.split("\n"))


def _page_setup(ws: Worksheet, header_row: int) -> None:
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = f"{header_row}:{header_row}"
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.page_margins.top, ws.page_margins.bottom, ws.page_margins.footer = 0.6, 0.8, 0.35
    ws.oddFooter.center.text = "Trang &P/&N"
    ws.oddFooter.center.font = FONT


def _status_sheet(ws: Worksheet, status: CampaignStatus, ctx: ExportContext) -> None:
    width = len(XLSX_COLUMNS)
    head = _title_block(ws, [
        ("TÌNH HÌNH GỬI BÁO CÁO", 14, True),
        (status.title, 13, True),
        (f"Mã đợt: {status.campaign_id}.   Hạn gửi: {deadline_time(status.deadline, ctx.tz)}.   "
         f"Số liệu đến: {local_time(ctx.generated_at, ctx.tz)}.", 12, False),
        (counts_line(status) + ".", 12, False)], width)
    _header_row(ws, head, XLSX_COLUMNS)
    rows = status_rows(status, ctx.tz)
    for r, row in enumerate(rows, start=head + 1):
        values = {**row.values, NOTES: notes(row)}
        _body_row(ws, r, XLSX_COLUMNS, [values[c.title] for c in XLSX_COLUMNS])
        ws.cell(row=r, column=3).fill = PatternFill("solid", fgColor=STATE_FILL[row.unit.status])
    last = head + len(rows)
    total = totals(rows)
    sums: dict[str, Any] = {"Đơn vị": "Tổng cộng", "Số lần gửi": total.submissions,
                            **{FIGURE_TITLES[k]: v for k, v in total.figures.items()}}
    _body_row(ws, last + 1, XLSX_COLUMNS, [sums.get(c.title) for c in XLSX_COLUMNS], bold=True)
    ws.freeze_panes = ws.cell(row=head + 1, column=3)
    ws.auto_filter.ref = f"A{head}:{get_column_letter(width)}{last}"
    _page_setup(ws, head)


def _text_sheet(ws: Worksheet, status: CampaignStatus, ctx: ExportContext) -> None:
    head = _title_block(ws, [("NỘI DUNG MỤC ĐÁNH GIÁ RIÊNG CỦA CÁC ĐƠN VỊ", 14, True), (status.title, 13, True),
                             (f"Số liệu đến: {local_time(ctx.generated_at, ctx.tz)}.", 12, False)],
                        len(TEXT_COLUMNS))
    _header_row(ws, head, TEXT_COLUMNS)
    for r, row in enumerate(status_rows(status, ctx.tz), start=head + 1):
        section = row.unit.latest.section if row.unit.latest else None
        text = section.text if section is not None and section.found else ""
        if len(text) > EXCEL_CELL_MAX:
            text = text[:EXCEL_CELL_MAX] + " … (còn tiếp, xem báo cáo gốc)"
        values = {**row.values, "Nội dung": text.replace("\t", "  |  ")}
        _body_row(ws, r, TEXT_COLUMNS, [values[c.title] for c in TEXT_COLUMNS])
    ws.freeze_panes = ws.cell(row=head + 1, column=3)
    _page_setup(ws, head)


# ------------------------------------------------------------------ HTML
