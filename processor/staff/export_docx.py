"""The compiled report for the level above (`intake export --format docx`).

Laid out as Decree 30/2020 (Appendix I) lays out an administrative report:
the header table (parent body and office left, national motto right, then
"Số: .../BC-..." and "place, ngày ... tháng ... năm ..." on one line), "BÁO
CÁO" and its subtitle, the body (I. the sending situation with a summary and
the figures table, II. each unit's section in roster order, III. the units
missing or late), then "Nơi nhận:" and the signature block. Placeholders
(dots) stand where staff write by hand: the number, the day, the signer.

A4, margins 20/20/30/15 mm, Times New Roman 13 pt everywhere (14 pt for
the title), the "Nơi nhận" list 11 pt as the decree wants; page numbers
centred in the top margin from page 2. Theme fonts, colours and borders of
python-docx's default styles are stripped (LIBRARY-NOTES, python-docx
"Writing"). Bold only on the header block, headings, table header rows and
totals. Every text from a unit passes through `formatting.xml_safe`.
"""
from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from docx import Document
from docx.document import Document as DocumentObject
from docx.enum.section import WD_SECTION_START
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT, WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_COLOR_INDEX
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt
from docx.table import Table, _Cell
from docx.text.paragraph import Paragraph

from intake.processor.staff.formatting import (
    figures_sentence,
    lower_first,
    one_line,
    sentence,
    vn_int,
    vn_percent,
    xml_safe,
)
from intake.processor.staff.report import STATE_VI, review_needed
from intake.processor.staff.rows import (
    FONT,
    ExportContext,
    status_rows,
    totals,
    unit_figures,
    unit_note,
)
from intake.processor.times import local_time, prose_deadline, prose_time
from intake.store.status import CampaignStatus, UnitState, UnitStatus

BODY_PT = 13
TEXT_WIDTH_MM = 165  # A4 210 - 30 - 15
DOTS = "…………"
SHORT_DOTS = "……"
MOTTO = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
MOTTO_2 = "Độc lập - Tự do - Hạnh phúc"
REVIEW_NOTE = ("[Cán bộ kiểm tra: phần mềm chưa chắc chắn đây đúng là mục đánh giá riêng của đơn vị; "
               "đối chiếu với báo cáo gốc rồi xóa dòng này.]")


def compile_report(status: CampaignStatus, ctx: ExportContext) -> bytes:
    doc = Document()
    _page(doc)
    _styles(doc)
    _header_block(doc, status, ctx)
    _heading(doc, "I. TÌNH HÌNH GỬI BÁO CÁO", 1)
    _summary(doc, status, ctx)
    _heading(doc, "II. NỘI DUNG ĐÁNH GIÁ RIÊNG CỦA CÁC ĐƠN VỊ", 1)
    for number, unit in enumerate(status.units, start=1):
        _unit_section(doc, number, unit, ctx)
    _heading(doc, "III. CÁC ĐƠN VỊ CHƯA GỬI, GỬI MUỘN BÁO CÁO", 1)
    _owing_table(doc, status, ctx)
    _closing(doc, status, ctx)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


# ----------------------------------------------------------------- layout


def _page(doc: DocumentObject) -> None:
    section = doc.sections[0]
    section.start_type = WD_SECTION_START.NEW_PAGE
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(20), Mm(20)
    section.left_margin, section.right_margin = Mm(30), Mm(15)
    section.header_distance, section.footer_distance = Mm(10), Mm(10)
    # Decree 30: page numbers centred in the top margin, not on the first page.
    section.different_first_page_header_footer = True
    para = section.header.paragraphs[0]
    para.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _field(para, "PAGE")


def _field(para: Paragraph, code: str) -> None:
    run = para.add_run()
    for kind, text in (("begin", None), (None, code), ("separate", None), (None, "1"), ("end", None)):
        if kind is not None:
            el = OxmlElement("w:fldChar")
            el.set(qn("w:fldCharType"), kind)
        elif text == code:
            el = OxmlElement("w:instrText")
            el.set(qn("xml:space"), "preserve")
            el.text = f" {code} "
        else:
            el = OxmlElement("w:t")
            el.text = text
        run._r.append(el)


def _styles(doc: DocumentObject) -> None:
    """Times New Roman everywhere: theme fonts, colours and borders removed from every style used."""
    for name in ("Normal", "Title", "Heading 1", "Heading 2", "Heading 3", "Table Grid", "Header", "Footer"):
        style = doc.styles[name]
        rpr = style.element.get_or_add_rPr()
        rfonts = rpr.get_or_add_rFonts()
        for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
            rfonts.attrib.pop(qn(attr), None)
        for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
            rfonts.set(qn(attr), FONT)
        for tag in ("w:color", "w:sz", "w:szCs", "w:b", "w:bCs", "w:i", "w:iCs", "w:spacing", "w:kern"):
            for el in rpr.findall(qn(tag)):
                rpr.remove(el)
        ppr = style.element.find(qn("w:pPr"))
        if ppr is not None:
            for el in ppr.findall(qn("w:pBdr")):
                ppr.remove(el)
        style.font.size = Pt(BODY_PT)
    for name in ("Title", "Heading 1", "Heading 2", "Heading 3"):
        doc.styles[name].font.bold = True
        fmt = doc.styles[name].paragraph_format
        fmt.space_before, fmt.space_after, fmt.keep_with_next = Pt(6), Pt(3), True
    doc.styles["Title"].font.size = Pt(14)
    normal = doc.styles["Normal"].paragraph_format
    normal.space_before, normal.space_after, normal.line_spacing = Pt(0), Pt(4), 1.1
    # The document's default run properties (docDefaults) name the theme too.
    defaults = doc.styles.element.find(qn("w:docDefaults"))
    if defaults is not None:
        for rfonts in defaults.iter(qn("w:rFonts")):
            for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
                rfonts.attrib.pop(qn(attr), None)
            for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
                rfonts.set(qn(attr), FONT)


def _para(container: Any, text: str = "", *, bold: bool = False, italic: bool = False, size: float | None = None,
          align: Any = None, after: float | None = None, indent_mm: float | None = None) -> Paragraph:
    para: Paragraph = container.add_paragraph()
    if text:
        run = para.add_run(xml_safe(text))
        run.bold, run.italic = bold or None, italic or None
        if size:
            run.font.size = Pt(size)
    if align is not None:
        para.alignment = align
    if after is not None:
        para.paragraph_format.space_after = Pt(after)
    if indent_mm is not None:
        para.paragraph_format.first_line_indent = Mm(indent_mm)
    return para


def _cell_para(cell: _Cell, first: bool) -> Paragraph:
    para: Paragraph = cell.paragraphs[0] if first else cell.add_paragraph()
    return para


def _rule(para: Paragraph, width_mm: float, cell_mm: float) -> None:
    """A short black line under a centred line (the decree's rule under the office and the motto)."""
    side = max((cell_mm - width_mm) / 2, 0)
    para.paragraph_format.left_indent = para.paragraph_format.right_indent = Mm(side)
    ppr = para._p.get_or_add_pPr()
    border = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for key, value in (("w:val", "single"), ("w:sz", "6"), ("w:space", "1"), ("w:color", "000000")):
        bottom.set(qn(key), value)
    border.append(bottom)
    ppr.append(border)


def _no_borders(table: Table) -> None:
    tbl_pr = table._tbl.tblPr
    borders = OxmlElement("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        el = OxmlElement(f"w:{edge}")
        el.set(qn("w:val"), "nil")
        borders.append(el)
    tbl_pr.append(borders)


def _widths(table: Table, widths_mm: Sequence[float]) -> None:
    """Fixed column widths, written both in the grid (LibreOffice) and on each cell (Word)."""
    table.autofit = False
    layout = OxmlElement("w:tblLayout")
    layout.set(qn("w:type"), "fixed")
    table._tbl.tblPr.append(layout)
    for grid_col, width in zip(table._tbl.tblGrid.findall(qn("w:gridCol")), widths_mm, strict=True):
        grid_col.set(qn("w:w"), str(int(Mm(width).twips)))
    for row in table.rows:
        for cell, width in zip(row.cells, widths_mm, strict=True):
            cell.width = Mm(width)


def _header_block(doc: DocumentObject, status: CampaignStatus, ctx: ExportContext) -> None:
    report = ctx.report
    table = doc.add_table(rows=2, cols=2)
    _no_borders(table)
    widths = (72, 93)
    _widths(table, widths)
    (org, motto), (number, place) = table.rows[0].cells, table.rows[1].cells
    center = WD_ALIGN_PARAGRAPH.CENTER
    parent = one_line(report.parent).upper()
    office = one_line(report.office).upper() or DOTS
    first = True
    if parent:
        p = _cell_para(org, True)
        p.add_run(parent).font.size = Pt(12)
        p.alignment, first = center, False
    p = _cell_para(org, first)
    run = p.add_run(office)
    run.bold, run.font.size = True, Pt(12)
    p.alignment = center
    _rule(_cell_para(org, False), 22, widths[0])
    p = motto.paragraphs[0]
    p.add_run(MOTTO).bold = True
    p.runs[0].font.size = Pt(12)
    p.alignment = center
    p = motto.add_paragraph()
    p.add_run(MOTTO_2).bold = True
    p.alignment = center
    _rule(motto.add_paragraph(), 60, widths[1])
    prefix = one_line(report.number_prefix) or "BC"
    p = number.paragraphs[0]
    p.add_run(f"Số: {DOTS}/{prefix}")
    p.alignment = center
    year = ctx.generated_at.astimezone(ctx.tz).year
    place_name = one_line(report.place) or DOTS
    p = place.paragraphs[0]
    p.add_run(f"{place_name}, ngày {SHORT_DOTS} tháng {SHORT_DOTS} năm {year}").italic = True
    p.alignment = center
    for row in table.rows:
        for cell in row.cells:
            for para in cell.paragraphs:
                para.paragraph_format.space_after = Pt(0)
    _para(doc, after=6)
    title = doc.add_paragraph(style="Title")
    title.add_run("BÁO CÁO")
    title.alignment = center
    title.paragraph_format.space_after = Pt(0)
    sub = _para(doc, f"Tổng hợp {lower_first(one_line(status.title))} của các đơn vị", bold=True, align=center,
                after=0)
    sub.paragraph_format.keep_with_next = True
    _rule(_para(doc, after=9), 40, TEXT_WIDTH_MM)


def _heading(doc: DocumentObject, text: str, level: int) -> Paragraph:
    para = doc.add_paragraph(style=f"Heading {level}")
    para.add_run(xml_safe(text))
    para.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
    return para


def _table(doc: DocumentObject, header: Sequence[str], rows: Sequence[Sequence[str]], widths_mm: Sequence[float],
           *, numeric: Sequence[int] = (), total_rows: int = 0, size: float = BODY_PT) -> Table:
    """A grid table: bold header row repeated on each page, sized columns, numbers right-aligned."""
    table: Table = doc.add_table(rows=1 + len(rows), cols=len(header))
    table.style = doc.styles["Table Grid"]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    _widths(table, widths_mm)
    header_row = table.rows[0]
    trpr = header_row._tr.get_or_add_trPr()
    repeat = OxmlElement("w:tblHeader")
    trpr.append(repeat)
    for r, values in enumerate([header, *rows]):
        is_bold = r == 0 or r > len(rows) - total_rows
        for c, (cell, text) in enumerate(zip(table.rows[r].cells, values, strict=True)):
            para = cell.paragraphs[0]
            run = para.add_run(xml_safe(text))
            run.font.size = Pt(size)
            if is_bold:
                run.bold = True
            para.paragraph_format.space_after = Pt(0)
            para.paragraph_format.line_spacing = 1.0
            if r == 0:
                para.alignment = WD_ALIGN_PARAGRAPH.CENTER
                cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
            elif c == 0 and header[0] == "STT":
                para.alignment = WD_ALIGN_PARAGRAPH.CENTER
            elif c in numeric:
                para.alignment = WD_ALIGN_PARAGRAPH.RIGHT if text and text[0].isdigit() else WD_ALIGN_PARAGRAPH.CENTER
    return table


# ---------------------------------------------------------------- content


def lateness(unit: UnitStatus) -> str:
    """'Gửi muộn 1 ngày 14 giờ' for a late unit; '' otherwise."""
    if unit.status != UnitState.LATE or unit.received_at is None:
        return ""
    minutes = int((unit.received_at - unit.deadline).total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    parts = [f"{days} ngày" if days else "", f"{hours} giờ" if hours else "",
             f"{mins} phút" if mins and not days else ""]
    return "Gửi muộn " + " ".join(p for p in parts if p) if any(parts) else "Gửi muộn"


def _summary(doc: DocumentObject, status: CampaignStatus, ctx: ExportContext) -> None:
    counts = status.counts()
    sent = counts[UnitState.ON_TIME] + counts[UnitState.LATE]
    no_section = sum(1 for u in status.units if u.latest and u.latest.has_report
                     and (u.latest.section is None or not u.latest.section.found))
    split = ", ".join(f"{counts[state]} đơn vị {words}" for state, words in (
        (UnitState.ON_TIME, "gửi đúng hạn"), (UnitState.LATE, "gửi muộn")) if counts[state])
    rest = "".join(f"; {counts[state]} đơn vị {words}" for state, words in (
        (UnitState.MISSING, "chưa gửi"), (UnitState.EXCUSED, "được miễn nộp")) if counts[state])
    _para(doc, f"Hạn gửi báo cáo: {prose_deadline(status.deadline, ctx.tz)}. "
               f"Tính đến {prose_time(ctx.generated_at, ctx.tz)}, "
               f"{sent}/{len(status.units)} đơn vị đã gửi báo cáo{f' (trong đó {split})' if split else ''}{rest}.",
          align=WD_ALIGN_PARAGRAPH.JUSTIFY, indent_mm=10)
    rows = [("1", "Số đơn vị phải báo cáo", len(status.units)),
            ("2", "Gửi đúng hạn", counts[UnitState.ON_TIME]),
            ("3", "Gửi muộn (quá hạn)", counts[UnitState.LATE]),
            ("4", "Chưa gửi", counts[UnitState.MISSING]),
            ("5", "Miễn nộp", counts[UnitState.EXCUSED]),
            ("6", "Báo cáo chưa có mục đánh giá riêng", no_section)]
    _table(doc, ("STT", "Nội dung", "Số đơn vị"), [(n, label, vn_int(v)) for n, label, v in rows], (15, 110, 40),
           numeric=(0, 2))
    _para(doc, after=0)
    _figures_table(doc, status, ctx)


def _figures_table(doc: DocumentObject, status: CampaignStatus, ctx: ExportContext) -> None:
    _heading(doc, "Số liệu học tập do các đơn vị báo cáo", 2)
    all_rows = status_rows(status, ctx.tz)
    with_figures = [r for r in all_rows if unit_figures(r.unit)]
    if not with_figures:
        _para(doc, "Chưa có đơn vị nào báo cáo số liệu.", italic=True)
        return
    lines = []
    for i, row in enumerate(with_figures, start=1):
        figures = unit_figures(row.unit)
        lines.append((str(i), row.values["Đơn vị"], vn_int(figures.get("participants")),
                      vn_int(figures.get("members")), vn_percent(figures.get("rate_percent")),
                      vn_int(figures.get("sessions"))))
    total = totals(with_figures).figures
    lines.append(("", "Tổng cộng", vn_int(total["participants"]), vn_int(total["members"]),
                  vn_percent(total["rate_percent"]), vn_int(total["sessions"])))
    _table(doc, ("STT", "Đơn vị", "Số tham gia học tập", "Tổng số đoàn viên", "Tỷ lệ", "Số buổi"), lines,
           (15, 61, 24, 25, 19, 21), numeric=(2, 3, 4, 5), total_rows=1)
    _para(doc, "Tỷ lệ ở dòng Tổng cộng tính trên tổng số của các đơn vị báo cáo đủ cả hai số liệu.",
          italic=True)


def _unit_section(doc: DocumentObject, number: int, unit: UnitStatus, ctx: ExportContext) -> None:
    tz = ctx.tz
    _heading(doc, f"{number}. {one_line(unit.name)}", 2)
    latest = unit.latest
    clauses = [f"Tình trạng: {STATE_VI[unit.status]}"]
    if unit.received_at is not None:
        clauses.append(f"nhận lúc {local_time(unit.received_at, tz)}")
    if latest is not None and latest.has_report:
        clauses.append(f"tệp: {one_line(latest.report_attachment)}")
    note = unit_note(unit, tz, with_actor=False)
    _para(doc, sentence(*clauses, note), italic=True)  # left: a long file name must not stretch the line
    if latest is not None and latest.failed:  # it sent: the note above says the message awaits `retry`
        _para(doc, "(Đã nhận thư của đơn vị nhưng chưa xử lý được; nội dung sẽ có sau khi xử lý lại.)",
              italic=True)
        return
    if latest is None or not latest.has_report:
        if unit.status != UnitState.EXCUSED:
            _para(doc, "(Đơn vị chưa gửi báo cáo.)", italic=True)
        return
    section = latest.section
    if section is None or not section.found:
        _para(doc, "(Báo cáo của đơn vị chưa có mục đánh giá riêng.)", italic=True)
        return
    if review_needed(unit):
        para = _para(doc, REVIEW_NOTE, italic=True)
        for run in para.runs:
            run.font.highlight_color = WD_COLOR_INDEX.YELLOW
    if section.heading:
        _para(doc, f"Mục trong báo cáo của đơn vị: {one_line(section.heading)}", italic=True)
    figures = figures_sentence(unit_figures(unit))
    if figures:
        _para(doc, figures, indent_mm=10)
    _section_text(doc, section.text)


def _section_text(doc: DocumentObject, text: str) -> None:
    """Paragraphs as paragraphs; runs of tab-separated lines (table rows in SPEC's text) as a table."""
    table_rows: list[list[str]] = []
    for line in [*xml_safe(text).split("\n"), ""]:
        if "\t" in line:
            table_rows.append([cell.strip() for cell in line.split("\t")])
            continue
        if table_rows:
            _text_table(doc, table_rows)
            table_rows = []
        if line.strip():
            _para(doc, line.strip(), align=WD_ALIGN_PARAGRAPH.JUSTIFY, indent_mm=10)


def _text_table(doc: DocumentObject, rows: list[list[str]]) -> None:
    """A unit's table as a Word table: first row bold as a header, a last 'Tổng'/'Cộng' row bold as totals."""
    width = max(len(r) for r in rows)
    padded = [[*r, *[""] * (width - len(r))] for r in rows]
    longest = [max(len(r[c]) for r in padded) for c in range(width)]
    weights = [max(min(n, 40), 6) for n in longest]
    widths = [TEXT_WIDTH_MM * w / sum(weights) for w in weights]
    numeric = [c for c in range(width) if all(_numberish(r[c]) for r in padded[1:] if r[c])]
    total_rows = 1 if padded[-1][0].strip().lower().startswith(("tổng", "cộng")) and len(padded) > 2 else 0
    _table(doc, padded[0], padded[1:], widths, numeric=numeric, total_rows=total_rows)
    _para(doc, after=2)


def _numberish(text: str) -> bool:
    return bool(text) and all(ch.isdigit() or ch in ".,%" for ch in text.strip())


def _owing_table(doc: DocumentObject, status: CampaignStatus, ctx: ExportContext) -> None:
    owing = [u for u in status.units if u.status in (UnitState.MISSING, UnitState.LATE)]
    if not owing:
        _para(doc, "Tất cả các đơn vị đã gửi báo cáo đúng hạn.", indent_mm=10)
        return
    rows = [(str(i), one_line(u.name), STATE_VI[u.status], local_time(u.received_at, ctx.tz),
             sentence(lateness(u), unit_note(u, ctx.tz, with_actor=False)) or "Chưa nhận được thư của đơn vị.")
            for i, u in enumerate(owing, start=1)]
    _table(doc, ("STT", "Đơn vị", "Tình trạng", "Thời điểm nhận", "Ghi chú"), rows, (13, 44, 23, 35, 50))
    _para(doc, after=0)


def _closing(doc: DocumentObject, status: CampaignStatus, ctx: ExportContext) -> None:
    report = ctx.report
    _para(doc, f"Trên đây là báo cáo tổng hợp {lower_first(one_line(status.title))} của các đơn vị./.",
          align=WD_ALIGN_PARAGRAPH.JUSTIFY, indent_mm=10, after=9)
    table = doc.add_table(rows=1, cols=2)
    _no_borders(table)
    _widths(table, (80, 85))
    recipients, signer = table.rows[0].cells
    p = recipients.paragraphs[0]
    run = p.add_run("Nơi nhận:")
    run.bold, run.italic, run.font.size = True, True, Pt(12)
    for line in (f"- {DOTS};", f"- {DOTS};", "- Lưu: VT."):
        q = recipients.add_paragraph()
        q.add_run(line).font.size = Pt(11)
        q.paragraph_format.space_after = Pt(0)
    center = WD_ALIGN_PARAGRAPH.CENTER
    title = one_line(report.signer_title).upper() or DOTS
    p = signer.paragraphs[0]
    p.add_run(title).bold = True
    p.alignment = center
    for _ in range(4):
        signer.add_paragraph()
    q = signer.add_paragraph()
    q.add_run(one_line(report.signer_name) or DOTS).bold = True
    q.alignment = center
