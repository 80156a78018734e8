"""`intake export`: the status table as CSV, XLSX or HTML; the compiled report as DOCX.

Every format is built from the same rows (`status_rows`), in roster order,
unit names first, times in the configured zone, numbers formatted by
`formatting` (1.234; 98,5%). Text from strangers passes through
`formatting.clean`/`csv_cell` before it reaches a file. The DOCX compiler
lives in `export_docx`. `EXPORTERS` is the registry every caller (CLI, web,
services) goes through; `check_output` is the CLI's guard for `-o`.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from intake.parsers.errors import ExportError, UsageError
from intake.processor.config import ReportConfig
from intake.processor.sending.compose import template_env
from intake.processor.staff.formatting import (
    FIGURE_KEYS,
    FIGURE_TITLES,
    clean,
    csv_cell,
    figures_sentence,
    one_line,
    vn_int,
    vn_percent,
)
from intake.processor.staff.report import (
    STATE_VI,
    decision_clauses,
    local_time,
    message_note,
    problems_in_words,
    review_needed,
    section_label,
)
from intake.store.status import CampaignStatus, UnitState, UnitStatus

FONT = "Times New Roman"
REVIEW_MARK = "cần kiểm tra"


@dataclass(frozen=True)
class ExportContext:
    """What an export needs besides the status: the zone, the time of the data, the office."""

    tz: ZoneInfo
    generated_at: dt.datetime
    report: ReportConfig = field(default_factory=ReportConfig)
    csv_dialect: str = "vn"


@dataclass(frozen=True)
class Column:
    title: str
    width: float          # Excel width, in characters
    kind: str = "text"    # text | int | number | time


COLUMNS = (
    Column("STT", 5, "int"), Column("Đơn vị", 30), Column("Tình trạng", 11), Column("Hạn gửi", 16, "time"),
    Column("Thời điểm nhận", 16, "time"), Column("Số lần gửi", 7, "int"), Column("Tệp báo cáo", 26),
    Column("Mục đánh giá riêng", 40),
    *(Column(FIGURE_TITLES[k], 11, "number" if k == "rate_percent" else "int") for k in FIGURE_KEYS),
    Column("Vấn đề", 22), Column("Ghi chú", 30), Column("Địa chỉ gửi", 26), Column("Mã đơn vị", 16),
)
TITLES = tuple(c.title for c in COLUMNS)
KIND = {c.title: c.kind for c in COLUMNS}


@dataclass(frozen=True)
class Row:
    """One unit's line: typed values (times aware, numbers as numbers) keyed by column title."""

    unit: UnitStatus
    values: dict[str, Any]
    review: bool


def unit_figures(unit: UnitStatus) -> dict[str, Any]:
    latest = unit.latest
    if latest is None or latest.section is None or not latest.section.found:
        return {}
    return {k: v for k, v in latest.section.figures.items() if k in FIGURE_KEYS and isinstance(v, int | float)}


def unit_note(unit: UnitStatus, tz: ZoneInfo, *, with_actor: bool = True) -> str:
    """Decisions and, for a unit without a report, what it did send."""
    clauses = [*decision_clauses(unit, tz, with_actor=with_actor), message_note(unit, tz)]
    return "; ".join(c for c in clauses if c)


def status_rows(status: CampaignStatus, tz: ZoneInfo) -> list[Row]:
    rows = []
    for i, unit in enumerate(status.units, start=1):
        latest = unit.latest
        figures = unit_figures(unit)
        review = review_needed(unit)
        label = one_line(section_label(unit))
        values: dict[str, Any] = {
            "STT": i, "Đơn vị": one_line(unit.name), "Tình trạng": STATE_VI[unit.status],
            "Hạn gửi": unit.deadline.astimezone(tz),
            "Thời điểm nhận": unit.received_at.astimezone(tz) if unit.received_at else None,
            "Số lần gửi": unit.submissions,
            "Tệp báo cáo": one_line(latest.report_attachment) if latest else "",
            "Mục đánh giá riêng": f"{label} ({REVIEW_MARK})" if review else label,
            **{FIGURE_TITLES[k]: figures.get(k) for k in FIGURE_KEYS},
            "Vấn đề": problems_in_words(unit), "Ghi chú": one_line(unit_note(unit, tz)),
            "Địa chỉ gửi": one_line(latest.from_address) if latest else "", "Mã đơn vị": unit.id,
        }
        rows.append(Row(unit, values, review))
    return rows


@dataclass(frozen=True)
class Totals:
    """The totals row: submissions, figures summed, the overall rate from the sums."""

    submissions: int
    figures: dict[str, int | float | None]


def totals(rows: list[Row]) -> Totals:
    sums: dict[str, int | float | None] = {}
    for key in ("participants", "members", "sessions"):
        present = [r.values[FIGURE_TITLES[key]] for r in rows if r.values[FIGURE_TITLES[key]] is not None]
        sums[key] = sum(present) if present else None
    # The rate over units that gave both figures, never an average of rates.
    both = [r for r in rows if r.values[FIGURE_TITLES["participants"]] is not None
            and r.values[FIGURE_TITLES["members"]]]
    members = sum(r.values[FIGURE_TITLES["members"]] for r in both)
    participants = sum(r.values[FIGURE_TITLES["participants"]] for r in both)
    sums["rate_percent"] = round(100 * participants / members, 1) if members else None
    return Totals(sum(r.values["Số lần gửi"] for r in rows), sums)


def notes(row: Row) -> str:
    """Problems and notes in one cell; a unit without a report has its problems in the note already."""
    has_report = row.unit.latest is not None and row.unit.latest.has_report
    parts = (row.values["Vấn đề"], row.values["Ghi chú"]) if has_report else (row.values["Ghi chú"],)
    return "; ".join(p for p in parts if p)


def counts_line(status: CampaignStatus) -> str:
    counts = status.counts()
    return "; ".join(f"{STATE_VI[s]}: {counts[s]}" for s in UnitState) + f"; tổng số đơn vị: {len(status.units)}"


# ------------------------------------------------------------------- CSV


@dataclass(frozen=True)
class CsvDialect:
    """How numbers, times and cells are written; `vn` is what Excel under Vietnamese settings reads."""

    delimiter: str
    decimal: str
    bom: bool
    sep_line: bool
    help: str


CSV_DIALECTS = {
    "vn": CsvDialect(";", ",", True, False,
                     "UTF-8 with BOM, ';' between cells, decimal comma: Excel under Vietnamese regional "
                     "settings (list separator ';') opens it in columns"),
    "excel-sep": CsvDialect(";", ",", True, True,
                            "as vn, plus a first line 'sep=;' so that Excel under any regional settings "
                            "splits the columns"),
    "plain": CsvDialect(",", ".", False, False,
                        "RFC 4180 for programs: UTF-8 without BOM, ',' between cells, decimal point"),
}


def export_csv(status: CampaignStatus, ctx: ExportContext) -> bytes:
    """One line per unit with every column; times as `2024-02-26 09:12` (local), which Excel reads as dates."""
    dialect = CSV_DIALECTS[ctx.csv_dialect]
    out = io.StringIO()
    if dialect.sep_line:
        out.write(f"sep={dialect.delimiter}\r\n")
    writer = csv.writer(out, delimiter=dialect.delimiter, lineterminator="\r\n")
    writer.writerow(TITLES)
    for row in status_rows(status, ctx.tz):
        writer.writerow([_csv_value(row.values[t], KIND[t], dialect, ctx.tz) for t in TITLES])
    text = out.getvalue()
    return text.encode("utf-8-sig" if dialect.bom else "utf-8")


def _csv_value(value: Any, kind: str, dialect: CsvDialect, tz: ZoneInfo) -> str:
    if value is None:
        return ""
    if kind == "time":
        return f"{value.astimezone(tz):%Y-%m-%d %H:%M}"
    if kind in ("int", "number"):
        return f"{value:g}".replace(".", dialect.decimal)  # no thousands separator: stays machine-readable
    return csv_cell(str(value))


# ------------------------------------------------------------------ XLSX

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


def export_xlsx(status: CampaignStatus, ctx: ExportContext) -> bytes:
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
    return "".join("-" if c in bad else c for c in clean(text))[:31] or "Sheet"


def _title_block(ws: Worksheet, lines: list[tuple[str, int, bool]], width: int) -> int:
    """Merged lines across the table's width; returns the row of the table's header."""
    for row, (text, size, bold) in enumerate(lines, start=1):
        _as_text(ws.cell(row=row, column=1, value=clean(text))).font = Font(name=FONT, size=size, bold=bold)
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
            value = clean(value)
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
        (f"Mã đợt: {status.campaign_id}.   Hạn gửi: {local_time(status.deadline, ctx.tz)}.   "
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


def export_html(status: CampaignStatus, ctx: ExportContext) -> bytes:
    """A self-contained page (inline CSS, no scripts or links): six columns, details on demand, prints on A4."""
    tz = ctx.tz
    rows = status_rows(status, tz)
    total = totals(rows)
    counts = status.counts()
    units = []
    for row in rows:
        v = row.values
        section = row.unit.latest.section if row.unit.latest else None
        figures = {k: v[FIGURE_TITLES[k]] for k in FIGURE_KEYS if v[FIGURE_TITLES[k]] is not None}
        units.append({
            "stt": v["STT"], "name": v["Đơn vị"], "state": row.unit.status.value, "state_vi": v["Tình trạng"],
            "received": local_time(v["Thời điểm nhận"], tz), "figures": _figures_short(figures),
            "note": notes(row), "review": row.review,
            "details": [(title, text) for title, text in (
                ("Hạn gửi", local_time(v["Hạn gửi"], tz)), ("Số lần gửi", vn_int(v["Số lần gửi"])),
                ("Tệp báo cáo", v["Tệp báo cáo"]), ("Địa chỉ gửi", v["Địa chỉ gửi"]),
                ("Mục đánh giá riêng", v["Mục đánh giá riêng"]), ("Số liệu", figures_sentence(figures)),
                ("Mã đơn vị", v["Mã đơn vị"])) if text],
            "text": clean(section.text) if section is not None and section.found else "",
        })
    page = template_env().get_template("report.html.j2").render(
        campaign_id=clean(status.campaign_id), title=clean(status.title),
        office=clean(ctx.report.office or ctx.report.parent),
        units=units, counts=[(STATE_VI[s], s.value, counts[s]) for s in UnitState], total_units=len(status.units),
        totals={"submissions": vn_int(total.submissions), "figures": _figures_short(
            {k: v for k, v in total.figures.items() if v is not None})},
        deadline=local_time(status.deadline, tz), generated=local_time(ctx.generated_at, tz),
        unmatched=[(one_line(m.from_name), one_line(m.from_address), local_time(m.received_at, tz),
                    one_line(m.subject), ", ".join(one_line(a) for a in m.attachments)) for m in status.unmatched])
    return str(page).encode("utf-8")


def _figures_short(figures: dict[str, Any]) -> str:
    """'1.241/1.250 (99,3%); 14 buổi' for a narrow column."""
    parts = []
    if "participants" in figures:
        members = f"/{vn_int(figures['members'])}" if "members" in figures else ""
        parts.append(f"{vn_int(figures['participants'])}{members}")
    if "rate_percent" in figures:
        parts.append(f"({vn_percent(figures['rate_percent'])})")
    text = " ".join(parts)
    if "sessions" in figures:
        text = f"{text}; {vn_int(figures['sessions'])} buổi" if text else f"{vn_int(figures['sessions'])} buổi"
    return text


# --------------------------------------------------------------- registry


def export_docx(status: CampaignStatus, ctx: ExportContext) -> bytes:
    from intake.processor.staff.export_docx import compile_report

    return compile_report(status, ctx)


EXPORTERS: dict[str, Callable[[CampaignStatus, ExportContext], bytes]] = {
    "csv": export_csv, "xlsx": export_xlsx, "html": export_html, "docx": export_docx,
}
FORMATS = tuple(EXPORTERS)
CONTENT_TYPES: dict[str, str] = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "html": "text/html; charset=utf-8",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}
SUFFIXES = {"csv": (".csv", ".txt"), "xlsx": (".xlsx",), "html": (".html", ".htm"), "docx": (".docx",)}


def render(status: CampaignStatus, fmt: str, ctx: ExportContext) -> bytes:
    try:
        exporter = EXPORTERS[fmt]
    except KeyError:
        raise UsageError(f"--format: unknown format {fmt!r}: expected one of {', '.join(FORMATS)}") from None
    if ctx.csv_dialect not in CSV_DIALECTS:
        raise UsageError(f"--dialect: expected one of {', '.join(CSV_DIALECTS)}, got {ctx.csv_dialect!r}")
    return exporter(status, ctx)


def check_output(path: Path, fmt: str) -> None:
    """Refuse, before any work, an output whose folder is missing or whose suffix says another format."""
    if fmt not in SUFFIXES:
        raise UsageError(f"--format: unknown format {fmt!r}: expected one of {', '.join(FORMATS)}")
    if path.suffix and path.suffix.lower() not in SUFFIXES[fmt]:
        owner = next((f for f, sfx in SUFFIXES.items() if path.suffix.lower() in sfx), None)
        said = f" (a {owner} name)" if owner else ""
        raise UsageError(f"-o: {path.name} ends in {path.suffix}{said} but --format is {fmt}: "
                         f"use a name ending in {SUFFIXES[fmt][0]}")
    folder = path.parent
    if not folder.is_dir():
        raise UsageError(f"-o: folder {folder} does not exist (create it first)")
    if path.is_dir():
        raise UsageError(f"-o: {path} is a folder: give a file name ending in {SUFFIXES[fmt][0]}")


def export(status: CampaignStatus, fmt: str, path: Path, ctx: ExportContext) -> None:
    check_output(path, fmt)
    data = render(status, fmt, ctx)
    try:
        path.write_bytes(data)
    except OSError as exc:
        raise ExportError(f"cannot write {path}: {exc.strerror}") from exc

