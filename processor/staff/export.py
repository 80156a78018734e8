"""`intake export`: the status table as CSV, XLSX or HTML; the compiled report as DOCX.

Every format is built from the same rows (`status_rows`), in roster order,
with Vietnamese column names and times in the configured zone. The DOCX
compiler lives in `export_docx`; `exporters.EXPORTERS` maps format names to builders.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from intake.processor.sending.compose import template_env
from intake.processor.staff.report import (
    STATE_VI,
    decision_note,
    local_time,
    problems_in_words,
    section_label,
)
from intake.store.status import CampaignStatus, UnitState, UnitStatus

FIGURE_COLUMNS = (("participants", "Số tham gia học tập"), ("members", "Tổng số đoàn viên"),
                  ("rate_percent", "Tỷ lệ (%)"), ("sessions", "Số buổi/hội nghị"))
COLUMNS = ("STT", "Mã đơn vị", "Đơn vị", "Tình trạng", "Hạn gửi", "Thời điểm nhận", "Số lần gửi",
           "Tệp báo cáo", "Mục đánh giá riêng", *(title for _, title in FIGURE_COLUMNS), "Vấn đề", "Ghi chú",
           "Địa chỉ gửi")
# Excel column widths, in characters, by column name.
WIDTHS = {"STT": 5, "Mã đơn vị": 16, "Đơn vị": 34, "Tình trạng": 11, "Hạn gửi": 16, "Thời điểm nhận": 16,
          "Số lần gửi": 9, "Tệp báo cáo": 28, "Mục đánh giá riêng": 48, "Vấn đề": 28, "Ghi chú": 32,
          "Địa chỉ gửi": 28}
STATE_FILL = {UnitState.MISSING: "F8D7DA", UnitState.ON_TIME: "D4EDDA", UnitState.LATE: "FFF3CD",
              UnitState.EXCUSED: "D1ECF1"}


@dataclass(frozen=True)
class Row:
    """One unit's line, with times as aware datetimes (formatted per output)."""

    unit: UnitStatus
    values: dict[str, Any]


def status_rows(status: CampaignStatus, tz: ZoneInfo) -> list[Row]:
    rows = []
    for i, unit in enumerate(status.units, start=1):
        latest = unit.latest
        figures = latest.section.figures if latest and latest.section and latest.section.found else {}
        values: dict[str, Any] = {
            "STT": i, "Mã đơn vị": unit.id, "Đơn vị": unit.name, "Tình trạng": STATE_VI[unit.status],
            "Hạn gửi": unit.deadline.astimezone(tz), "Thời điểm nhận": unit.received_at.astimezone(tz)
            if unit.received_at else None,
            "Số lần gửi": unit.submissions,
            "Tệp báo cáo": (latest.report_attachment or "") if latest else "",
            "Mục đánh giá riêng": section_label(unit),
            **{title: figures.get(key) for key, title in FIGURE_COLUMNS},
            "Vấn đề": problems_in_words(unit), "Ghi chú": decision_note(unit, tz),
            "Địa chỉ gửi": latest.from_address if latest else "",
        }
        rows.append(Row(unit, values))
    return rows


def cell_text(value: Any, tz: ZoneInfo) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return str(local_time(value, tz))
    if isinstance(value, float):
        return f"{value:g}".replace(".", ",")  # Vietnamese decimal comma
    return f"{value}"


# ------------------------------------------------------------------- CSV


def export_csv(status: CampaignStatus, tz: ZoneInfo) -> bytes:
    """UTF-8 with a BOM, so that Excel opens the Vietnamese text correctly."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in status_rows(status, tz):
        writer.writerow([_csv_value(row.values[c], tz) for c in COLUMNS])
    return out.getvalue().encode("utf-8-sig")


def _csv_value(value: Any, tz: ZoneInfo) -> str:
    # ISO-like local times: Excel and LibreOffice read them as dates in any locale.
    if isinstance(value, dt.datetime):
        return value.astimezone(tz).strftime("%Y-%m-%d %H:%M")
    return "" if value is None else str(value)


# ------------------------------------------------------------------ XLSX


def export_xlsx(statuses: Sequence[CampaignStatus], tz: ZoneInfo) -> bytes:
    """One sheet per campaign: header frozen, filters on, widths set, times as Excel dates."""
    wb = Workbook()
    wb.remove(wb.worksheets[0])
    for status in statuses:
        _status_sheet(wb.create_sheet(_sheet_title(status.campaign_id)), status, tz)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _sheet_title(campaign_id: str) -> str:
    bad = set("[]:*?/\\")
    return "".join("-" if c in bad else c for c in campaign_id)[:31] or "Sheet"


def _status_sheet(ws: Worksheet, status: CampaignStatus, tz: ZoneInfo) -> None:
    ws.append(list(COLUMNS))
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="center")
    for row in status_rows(status, tz):
        ws.append([_xlsx_value(row.values[c]) for c in COLUMNS])
        fill = PatternFill("solid", fgColor=STATE_FILL[row.unit.status])
        ws.cell(row=ws.max_row, column=COLUMNS.index("Tình trạng") + 1).fill = fill
    for index, name in enumerate(COLUMNS, start=1):
        letter = get_column_letter(index)
        ws.column_dimensions[letter].width = WIDTHS.get(name, 14)
        if name in ("Hạn gửi", "Thời điểm nhận"):
            for cell in ws[letter][1:]:
                cell.number_format = "dd/mm/yyyy hh:mm"
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(COLUMNS))}{ws.max_row}"


def _xlsx_value(value: Any) -> Any:
    # Excel has no time zones: the local wall-clock time, as a real date.
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None)
    return value


# ------------------------------------------------------------------ HTML


def export_html(status: CampaignStatus, tz: ZoneInfo, *, generated_at: dt.datetime) -> bytes:
    """A self-contained page (inline CSS, no scripts or links) that prints on A4."""
    rows = status_rows(status, tz)
    counts = status.counts()
    page = template_env().get_template("report.html.j2").render(
        status=status, columns=COLUMNS,
        rows=[(r.unit.status.value, [cell_text(r.values[c], tz) for c in COLUMNS]) for r in rows],
        counts=[(STATE_VI[s], s.value, counts[s]) for s in UnitState],
        total=len(status.units), deadline=local_time(status.deadline, tz),
        generated=local_time(generated_at, tz),
        unmatched=[(m.from_address, local_time(m.received_at, tz), ", ".join(m.attachments))
                   for m in status.unmatched])
    return str(page).encode("utf-8")
