"""The compiled report for the level above (`intake export --format docx`).

Layout, as a Vietnamese office lays out a summary: A4 with Decree 30
margins, Times New Roman 13 pt, a title, the campaign and its deadline,
I. a summary table (expected, on time, late, missing, excused) and the
participation figures per unit, II. each unit's section in roster order under
the unit's name, III. the units missing or late.
"""
from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from typing import Any, cast
from zoneinfo import ZoneInfo

from docx import Document
from docx.document import Document as DocumentObject
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor
from docx.table import Table

from intake.processor.staff.report import STATE_VI, decision_note, local_time
from intake.store.status import CampaignStatus, UnitState, UnitStatus

FONT = "Times New Roman"


def compile_report(status: CampaignStatus, tz: ZoneInfo, *, generated_at: dt.datetime, office: str = "") -> bytes:
    doc = Document()
    _page_and_styles(doc)
    _title(doc, status, tz, generated_at, office)
    doc.add_heading("I. TÌNH HÌNH GỬI BÁO CÁO", level=1)
    _summary_table(doc, status)
    _figures_table(doc, status)
    doc.add_heading("II. NỘI DUNG ĐÁNH GIÁ RIÊNG CỦA CÁC ĐƠN VỊ", level=1)
    for number, unit in enumerate(status.units, start=1):
        _unit_section(doc, number, unit, tz)
    doc.add_heading("III. CÁC ĐƠN VỊ CHƯA GỬI, GỬI MUỘN BÁO CÁO", level=1)
    _owing_table(doc, status, tz)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


# ----------------------------------------------------------------- layout


def _page_and_styles(doc: DocumentObject) -> None:
    for section in doc.sections:
        section.page_width, section.page_height = Mm(210), Mm(297)
        section.top_margin, section.bottom_margin = Mm(20), Mm(20)
        section.left_margin, section.right_margin = Mm(30), Mm(15)
    sizes = {"Normal": 13, "Title": 16, "Heading 1": 14, "Heading 2": 13, "Table Grid": 12}
    for name, size in sizes.items():
        style = doc.styles[name]
        style.font.name = FONT
        style.font.size = Pt(size)
        # python-docx sets w:ascii/w:hAnsi only; Word takes Vietnamese letters from eastAsia/cs too.
        rfonts = style.element.get_or_add_rPr().get_or_add_rFonts()
        for attr in ("w:eastAsia", "w:cs"):
            rfonts.set(qn(attr), FONT)
        if name != "Normal":
            style.font.color.rgb = RGBColor(0, 0, 0)
            style.font.bold = True
    normal = doc.styles["Normal"].paragraph_format
    normal.space_after, normal.line_spacing = Pt(6), 1.15
    doc.styles["Heading 2"].font.italic = False


def _title(doc: DocumentObject, status: CampaignStatus, tz: ZoneInfo, generated_at: dt.datetime,
           office: str) -> None:
    if office:
        head = doc.add_paragraph()
        head.add_run(office.upper()).bold = True
    title = doc.add_heading("BÁO CÁO TỔNG HỢP", level=0)
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    for text, bold in ((status.title, True),
                       (f"Hạn gửi báo cáo: {local_time(status.deadline, tz)}", False),
                       (f"Số liệu tổng hợp đến {local_time(generated_at, tz)}", False)):
        para = doc.add_paragraph()
        para.alignment = WD_ALIGN_PARAGRAPH.CENTER
        run = para.add_run(text)
        run.bold, run.italic = bold, not bold


def _table(doc: DocumentObject, header: Sequence[str], rows: Sequence[Sequence[str]],
           widths_mm: Sequence[float]) -> Table:
    table = doc.add_table(rows=1, cols=len(header))
    table.style = doc.styles["Table Grid"]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for cell, text in zip(table.rows[0].cells, header, strict=True):
        cell.text = ""
        cell.paragraphs[0].add_run(text).bold = True
    for values in rows:
        cells = table.add_row().cells
        for cell, text in zip(cells, values, strict=True):
            cell.text = text
    for column, width in zip(table.columns, widths_mm, strict=True):
        for cell in column.cells:
            cell.width = Mm(width)
    return cast(Table, table)


# ---------------------------------------------------------------- content


def _summary_table(doc: DocumentObject, status: CampaignStatus) -> None:
    counts = status.counts()
    no_section = sum(1 for u in status.units if u.latest and u.latest.has_report
                     and (u.latest.section is None or not u.latest.section.found))
    rows = [("Số đơn vị phải báo cáo", len(status.units)),
            ("Gửi đúng hạn", counts[UnitState.ON_TIME]),
            ("Gửi muộn (quá hạn)", counts[UnitState.LATE]),
            ("Chưa gửi", counts[UnitState.MISSING]),
            ("Miễn nộp", counts[UnitState.EXCUSED]),
            ("Báo cáo chưa có mục đánh giá riêng", no_section)]
    _table(doc, ("Nội dung", "Số đơn vị"), [(label, str(n)) for label, n in rows], (120, 40))


def _figures_table(doc: DocumentObject, status: CampaignStatus) -> None:
    rows: list[tuple[str, ...]] = []
    total_participants = total_members = sessions = 0
    for unit in status.units:
        figures = _figures(unit)
        if not figures:
            continue
        rows.append((str(len(rows) + 1), unit.name, vn_int(figures.get("participants")),
                     vn_int(figures.get("members")), vn_percent(figures.get("rate_percent")),
                     vn_int(figures.get("sessions"))))
        if isinstance(figures.get("participants"), int) and isinstance(figures.get("members"), int):
            total_participants += figures["participants"]
            total_members += figures["members"]
        sessions += figures.get("sessions") or 0
    doc.add_heading("Số liệu học tập do các đơn vị báo cáo", level=2)
    if not rows:
        doc.add_paragraph("Chưa có đơn vị nào báo cáo số liệu.")
        return
    rate = 100 * total_participants / total_members if total_members else None
    rows.append(("", "Tổng cộng", vn_int(total_participants), vn_int(total_members), vn_percent(rate),
                 vn_int(sessions)))
    table = _table(doc, ("STT", "Đơn vị", "Số tham gia", "Tổng số đoàn viên", "Tỷ lệ", "Số buổi"), rows,
                   (12, 60, 25, 28, 18, 22))
    for cell in table.rows[-1].cells:
        for run in cell.paragraphs[0].runs:
            run.bold = True


def _figures(unit: UnitStatus) -> dict[str, Any]:
    latest = unit.latest
    if latest is None or latest.section is None or not latest.section.found:
        return {}
    return dict(latest.section.figures)


def _unit_section(doc: DocumentObject, number: int, unit: UnitStatus, tz: ZoneInfo) -> None:
    doc.add_heading(f"{number}. {unit.name}", level=2)
    meta = doc.add_paragraph()
    meta.add_run(f"Tình trạng: {STATE_VI[unit.status]}").italic = True
    if unit.received_at is not None:
        meta.add_run(f"; nhận lúc {local_time(unit.received_at, tz)}").italic = True
    note = decision_note(unit, tz)
    if note:
        meta.add_run(f". {note}").italic = True
    latest = unit.latest
    if latest is None or not latest.has_report:
        _note(doc, "(Đơn vị chưa gửi báo cáo.)" if unit.status != UnitState.EXCUSED else "(Đơn vị được miễn nộp.)")
        return
    meta.add_run(f"; tệp: {latest.report_attachment}").italic = True
    section = latest.section
    if section is None or not section.found:
        _note(doc, "(Báo cáo của đơn vị chưa có mục đánh giá riêng.)")
        return
    figures = figures_sentence(section.figures)
    if figures:
        doc.add_paragraph().add_run(figures).bold = True
    _section_text(doc, section.text)


def _note(doc: DocumentObject, text: str) -> None:
    doc.add_paragraph().add_run(text).italic = True


def _section_text(doc: DocumentObject, text: str) -> None:
    """Paragraphs as paragraphs; runs of tab-separated lines (table rows in SPEC's text) as a table."""
    table_rows: list[list[str]] = []
    for line in [*text.split("\n"), ""]:
        if "\t" in line:
            table_rows.append(line.split("\t"))
            continue
        if table_rows:
            _text_table(doc, table_rows)
            table_rows = []
        if line.strip():
            para = doc.add_paragraph(line)
            para.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
            para.paragraph_format.first_line_indent = Mm(10)


def _text_table(doc: DocumentObject, rows: list[list[str]]) -> None:
    width = max(len(r) for r in rows)
    table = doc.add_table(rows=0, cols=width)
    table.style = doc.styles["Table Grid"]
    for values in rows:
        cells = table.add_row().cells
        for cell, text in zip(cells, [*values, *[""] * (width - len(values))], strict=True):
            cell.text = text


def _owing_table(doc: DocumentObject, status: CampaignStatus, tz: ZoneInfo) -> None:
    owing = [u for u in status.units if u.status in (UnitState.MISSING, UnitState.LATE)]
    if not owing:
        doc.add_paragraph("Tất cả các đơn vị đã gửi báo cáo đúng hạn.")
        return
    rows = [(str(i), u.name, STATE_VI[u.status], local_time(u.received_at, tz), decision_note(u, tz))
            for i, u in enumerate(owing, start=1)]
    _table(doc, ("STT", "Đơn vị", "Tình trạng", "Thời điểm nhận", "Ghi chú"), rows, (12, 62, 25, 32, 34))


# --------------------------------------------------------- number format


def vn_int(value: Any) -> str:
    """1234 -> '1.234' (Vietnamese thousands separator)."""
    if value is None or value == "":
        return ""
    return f"{int(value):,}".replace(",", ".")


def vn_percent(value: Any) -> str:
    """98.7 -> '98,7%'."""
    if value is None:
        return ""
    return f"{float(value):.1f}".rstrip("0").rstrip(".").replace(".", ",") + "%"


def figures_sentence(figures: dict[str, Any]) -> str:
    parts = []
    if figures.get("participants") is not None and figures.get("members") is not None:
        parts.append(f"{vn_int(figures['participants'])}/{vn_int(figures['members'])} đoàn viên tham gia học tập")
    elif figures.get("participants") is not None:
        parts.append(f"{vn_int(figures['participants'])} đoàn viên tham gia học tập")
    if figures.get("rate_percent") is not None:
        parts.append(f"đạt {vn_percent(figures['rate_percent'])}")
    if figures.get("sessions") is not None:
        parts.append(f"{vn_int(figures['sessions'])} buổi/hội nghị")
    return f"Số liệu: {', '.join(parts)}." if parts else ""
