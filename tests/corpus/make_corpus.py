"""(Re)generate the golden corpus of union reports in tests/corpus/docs/.

Each `<name>.docx` (or `.doc`) gets a `<name>.expected.json` beside it: the
section a reader would take as "the evaluation of the 2024 topic", written by
hand here from the content, never computed by intake's own parsers.

    .venv/bin/python tests/corpus/make_corpus.py          # everything
    .venv/bin/python tests/corpus/make_corpus.py 05 12    # names containing these

Needs python-docx; LibreOffice (`soffice`) and `pandoc` for the files they make
(skipped with a message when missing). The files are committed so tests never
need those tools.
"""
from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
import sys
import tempfile
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import docx
from docx.document import Document as DocxDocument
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls, qn
from docx.shared import Pt
from docx.table import _Cell
from docx.text.paragraph import Paragraph

from intake.parsers.vietnamese import unicode_to_tcvn3, unicode_to_vni

DOCS = Path(__file__).resolve().parent / "docs"

# ------------------------------------------------------------------ content

TARGET_WORDINGS = {
    "caps": "ĐÁNH GIÁ VIỆC TỔ CHỨC HỌC TẬP, QUÁN TRIỆT CHUYÊN ĐỀ NĂM 2024",
    "ket_qua": "Kết quả tổ chức học tập, quán triệt và triển khai thực hiện Chuyên đề năm 2024",
    "rieng": "Đánh giá riêng về kết quả học tập chuyên đề 2024",
}


@dataclass(frozen=True)
class Figures:
    members: int
    participants: int
    rate: str       # as written, Vietnamese decimal comma
    sessions: int

    def as_dict(self) -> dict[str, float | int]:
        return {
            "participants": self.participants,
            "members": self.members,
            "rate_percent": float(self.rate.replace(",", ".")),
            "sessions": self.sessions,
        }


def vn_int(n: int) -> str:
    return f"{n:,}".replace(",", ".")


def section_body(fig: Figures) -> list[str]:
    return [
        "Ban Thường vụ đã ban hành Kế hoạch số 15/KH-LĐLĐ ngày 25/01/2024 về tổ chức học tập, "
        "quán triệt Chuyên đề năm 2024 đến các công đoàn cơ sở trực thuộc.",
        f"Tổng số đoàn viên: {vn_int(fig.members)}; số đoàn viên tham gia học tập: "
        f"{vn_int(fig.participants)}, đạt {fig.rate}%; tổ chức {fig.sessions} buổi/hội nghị.",
        "- Hình thức học tập: trực tiếp tại hội nghị kết hợp trực tuyến, tuyên truyền trên "
        "trang Facebook và nhóm Zalo của công đoàn.",
        "Qua học tập, cán bộ, đoàn viên nhận thức rõ hơn tinh thần 7 dám, gắn với thực hiện "
        "nhiệm vụ chuyên môn tại cơ quan, đơn vị",
    ]


INTRO = (
    "Thực hiện Hướng dẫn số 05/HD-LĐLĐ ngày 26/01/2024 của Liên đoàn Lao động tỉnh Lào Cai về học tập "
    "chuyên đề năm 2024, Ban Thường vụ báo cáo kết quả thực hiện như sau:"
)
LEAD_BODY = [
    "Ngay sau khi nhận được văn bản chỉ đạo, Ban Thường vụ đã xây dựng kế hoạch và phân công "
    "nhiệm vụ cho từng đồng chí ủy viên phụ trách các cụm công đoàn cơ sở.",
    "- Chỉ đạo các công đoàn cơ sở đưa nội dung chuyên đề vào sinh hoạt định kỳ hằng tháng.",
]
RESULT_BODY = [
    "Các công đoàn cơ sở duy trì việc học tập và làm theo Bác gắn với phong trào thi đua lao động "
    "giỏi, lao động sáng tạo; nhiều mô hình, cách làm hay được nhân rộng.",
]
PLAN_BODY = [
    "Tiếp tục tuyên truyền, học tập và làm theo tư tưởng, đạo đức, phong cách Hồ Chí Minh gắn với "
    "chuyên đề năm 2025; biểu dương kịp thời các tập thể, cá nhân điển hình.",
]
CONCLUSION = (
    "Trên đây là báo cáo kết quả học tập, quán triệt và triển khai Chuyên đề năm 2024 của đơn vị, "
    "kính gửi Liên đoàn Lao động tỉnh tổng hợp./."
)


@dataclass
class Section:
    heading: str                 # as the document shows it, numbering included
    level: int                   # 1 = top
    body: list[str] = field(default_factory=list)
    auto_number: str = ""        # when set, `heading` minus this prefix is the text
    target: bool = False


@dataclass
class Report:
    name: str
    parent: str = "LĐLĐ TỈNH LÀO CAI"
    issuer: str = "LĐLĐ HUYỆN BẢO THẮNG"
    number: str = "Số: 12/BC-LĐLĐ"
    place_date: str = "Bảo Thắng, ngày 26 tháng 02 năm 2024"
    subtitle: str = "Kết quả học tập và làm theo tư tưởng, đạo đức, phong cách Hồ Chí Minh năm 2024"
    sections: list[Section] = field(default_factory=list)
    conclusion: str | None = CONCLUSION
    noi_nhan: bool = True
    figures: Figures | None = None
    note: str = ""
    intro: str = INTRO
    signer: str = "TM. BAN THƯỜNG VỤ"

    def target(self) -> Section | None:
        return next((s for s in self.sections if s.target), None)


def standard_sections(fig: Figures, target_heading: str, target_level: int = 1,
                      numbers: Sequence[str] = ("I. ", "II. ", "III. ", "IV. ")) -> list[Section]:
    """The usual report: direction, results, the required evaluation, next steps."""
    if target_level == 1:
        return [
            Section(numbers[0] + "CÔNG TÁC LÃNH ĐẠO, CHỈ ĐẠO", 1, LEAD_BODY),
            Section(numbers[1] + "KẾT QUẢ THỰC HIỆN", 1, RESULT_BODY),
            Section(target_heading, 1, section_body(fig), target=True),
            Section(numbers[3] + "PHƯƠNG HƯỚNG, NHIỆM VỤ NĂM 2025", 1, PLAN_BODY),
        ]
    return [
        Section(numbers[0] + "CÔNG TÁC LÃNH ĐẠO, CHỈ ĐẠO", 1, LEAD_BODY),
        Section(numbers[1] + "KẾT QUẢ THỰC HIỆN", 1, []),
        Section("1. Kết quả thực hiện các phong trào thi đua", 2, RESULT_BODY),
        Section(target_heading, 2, section_body(fig), target=True),
        Section("3. Công tác tuyên truyền", 2, ["Đã đăng 15 tin, bài trên trang thông tin của LĐLĐ huyện."]),
        Section(numbers[2] + "PHƯƠNG HƯỚNG, NHIỆM VỤ NĂM 2025", 1, PLAN_BODY),
    ]


def expected(report: Report, **override: object) -> dict[str, object]:
    target = report.target()
    out: dict[str, object]
    if target is None:
        out = {"heading": None, "found": False, "text_startswith": "", "text_endswith": "",
               "figures": {}, "issuer": report.issuer, "problems": ["section_not_found"]}
    else:
        body = [b for b in target.body if b.strip()]
        out = {
            "heading": target.heading,
            "found": True,
            "text_startswith": body[0][:60] if body else "",
            "text_endswith": body[-1][-60:] if body else "",
            "figures": report.figures.as_dict() if report.figures else {},
            "issuer": report.issuer,
            "problems": [],
        }
    out.update(override)
    if report.note:
        out["note"] = report.note
    return {k: (unicodedata.normalize("NFC", v) if isinstance(v, str) else v) for k, v in out.items()}


# ------------------------------------------------------------ docx helpers

def set_font(run: docx.text.run.Run, name: str, *, only_hansi: bool = False) -> None:
    """Set a run's font; `only_hansi` mimics files where only w:hAnsi names the legacy font."""
    rpr = run._r.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = parse_xml(f"<w:rFonts {nsdecls('w')}/>")
        rpr.insert(0, fonts)
    if only_hansi:
        fonts.set(qn("w:ascii"), "Times New Roman")
    else:
        fonts.set(qn("w:ascii"), name)
    fonts.set(qn("w:hAnsi"), name)


def add_par(container: DocxDocument | _Cell, text: str, *, bold: bool = False, italic: bool = False,
            size: float | None = None, center: bool = False, style: str | None = None) -> Paragraph:
    par = container.add_paragraph(style=style) if style else container.add_paragraph()
    if text:
        run = par.add_run(text)
        run.bold = bold or None
        run.italic = italic or None
        if size:
            run.font.size = Pt(size)
    if center:
        par.alignment = WD_ALIGN_PARAGRAPH.CENTER
    return par


def first_par(cell: _Cell, text: str, **kw: object) -> Paragraph:
    par = cell.paragraphs[0]
    run = par.add_run(text)
    run.bold = bool(kw.get("bold")) or None
    run.italic = bool(kw.get("italic")) or None
    if kw.get("center"):
        par.alignment = WD_ALIGN_PARAGRAPH.CENTER
    return par


def header_table(doc: DocxDocument, r: Report) -> None:
    table = doc.add_table(rows=1, cols=2)
    left, right = table.rows[0].cells
    first_par(left, r.parent, center=True)
    add_par(left, r.issuer, bold=True, center=True)
    add_par(left, r.number, center=True)
    first_par(right, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", bold=True, center=True)
    add_par(right, "Độc lập - Tự do - Hạnh phúc", bold=True, center=True)
    add_par(right, r.place_date, italic=True, center=True)


def title(doc: DocxDocument, r: Report) -> None:
    add_par(doc, "BÁO CÁO", bold=True, center=True, size=14)
    add_par(doc, r.subtitle, bold=True, center=True)
    add_par(doc, r.intro)


def signature_table(doc: DocxDocument, r: Report, *, noi_nhan: bool = True) -> None:
    table = doc.add_table(rows=1, cols=2)
    left, right = table.rows[0].cells
    if noi_nhan:
        first_par(left, "Nơi nhận:", bold=True, italic=True)
        add_par(left, "- Ban Tuyên giáo - Nữ công LĐLĐ tỉnh;")
        add_par(left, "- Lưu: VT.")
    first_par(right, r.signer, bold=True, center=True)
    add_par(right, "CHỦ TỊCH", bold=True, center=True)
    add_par(right, "")
    add_par(right, "Nguyễn Văn Hùng", bold=True, center=True)


def closing(doc: DocxDocument, r: Report) -> None:
    if r.conclusion:
        add_par(doc, r.conclusion)
    signature_table(doc, r, noi_nhan=r.noi_nhan)


HeadingWriter = Callable[[DocxDocument, Section], None]


def bold_heading(doc: DocxDocument, s: Section) -> None:
    add_par(doc, s.heading, bold=True)


def body_writer(doc: DocxDocument, s: Section) -> None:
    for text in s.body:
        add_par(doc, text)


def build(r: Report, heading: HeadingWriter = bold_heading,
          body: Callable[[DocxDocument, Section], None] = body_writer,
          doc: DocxDocument | None = None) -> DocxDocument:
    doc = doc or docx.Document()
    header_table(doc, r)
    title(doc, r)
    for s in r.sections:
        heading(doc, s)
        body(doc, s)
    closing(doc, r)
    return doc


def save(doc: DocxDocument, name: str, exp: dict[str, object]) -> None:
    buf = io.BytesIO()
    doc.save(buf)
    write(name + ".docx", buf.getvalue(), name, exp)


def write(filename: str, data: bytes, name: str, exp: dict[str, object]) -> None:
    DOCS.mkdir(parents=True, exist_ok=True)
    (DOCS / filename).write_bytes(data)
    (DOCS / f"{name}.expected.json").write_text(
        json.dumps(exp, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    print(f"{filename:40s} {len(data) // 1024:4d} KB")


# ---------------------------------------------------------- raw numbering

NUMBERING_ABSTRACT = """
<w:abstractNum {ns} w:abstractNumId="{aid}">
  <w:multiLevelType w:val="multilevel"/>
  <w:lvl w:ilvl="0"><w:start w:val="1"/><w:numFmt w:val="upperRoman"/><w:lvlText w:val="%1."/>
    <w:lvlJc w:val="left"/><w:pPr><w:ind w:left="0" w:firstLine="0"/></w:pPr></w:lvl>
  <w:lvl w:ilvl="1"><w:start w:val="1"/><w:numFmt w:val="decimal"/><w:lvlText w:val="%2."/>
    <w:lvlJc w:val="left"/></w:lvl>
  <w:lvl w:ilvl="2"><w:start w:val="1"/><w:numFmt w:val="decimal"/><w:lvlText w:val="%2.%3."/>
    <w:lvlJc w:val="left"/></w:lvl>
  <w:lvl w:ilvl="3"><w:start w:val="1"/><w:numFmt w:val="lowerLetter"/><w:lvlText w:val="%4)"/>
    <w:lvlJc w:val="left"/></w:lvl>
</w:abstractNum>"""


def add_numbering(doc: DocxDocument, aid: int = 90, num_id: int = 90) -> str:
    """Add a I./1./1.1./a) list to numbering.xml; return its numId."""
    numbering = doc.part.numbering_part.element
    abstract = parse_xml(NUMBERING_ABSTRACT.format(ns=nsdecls("w"), aid=aid))
    # abstractNum elements must precede every w:num.
    first_num = numbering.find(qn("w:num"))
    if first_num is not None:
        first_num.addprevious(abstract)
    else:
        numbering.append(abstract)
    numbering.append(parse_xml(
        f'<w:num {nsdecls("w")} w:numId="{num_id}"><w:abstractNumId w:val="{aid}"/></w:num>'
    ))
    return str(num_id)


def set_num(par: Paragraph, num_id: str, ilvl: int) -> None:
    ppr = par._p.get_or_add_pPr()
    ppr.append(parse_xml(
        f'<w:numPr {nsdecls("w")}><w:ilvl w:val="{ilvl}"/><w:numId w:val="{num_id}"/></w:numPr>'
    ))


def soft_hyphens(par: Paragraph) -> None:
    """Write U+00AD as <w:softHyphen/>, as LibreOffice does (TCVN3 'ư')."""
    for run in list(par.runs):
        text = run.text
        if "\u00ad" not in text:
            continue
        r = run._r
        for t in r.findall(qn("w:t")):
            r.remove(t)
        pieces = text.split("\u00ad")
        for i, piece in enumerate(pieces):
            if piece:
                t = parse_xml(f'<w:t {nsdecls("w")} xml:space="preserve"/>')
                t.text = piece
                r.append(t)
            if i < len(pieces) - 1:
                r.append(parse_xml(f'<w:softHyphen {nsdecls("w")}/>'))


# ------------------------------------------------------------- the files

FIG = [
    Figures(1250, 1234, "98,7", 12), Figures(486, 471, "96,9", 5), Figures(2310, 2205, "95,5", 18),
    Figures(58, 58, "100", 2), Figures(1032, 990, "95,9", 9), Figures(745, 731, "98,1", 7),
]


def f01_heading_styles() -> None:
    fig = FIG[0]
    r = Report("01_heading_styles", figures=fig,
               sections=standard_sections(fig, "III. " + TARGET_WORDINGS["caps"]))

    def heading(doc: DocxDocument, s: Section) -> None:
        doc.add_paragraph(s.heading, style=f"Heading {s.level}")
    save(build(r, heading), r.name, expected(r))


def f02_bold_plain() -> None:
    fig = FIG[1]
    r = Report("02_bold_plain", issuer="CÔNG ĐOÀN CƠ SỞ TRƯỜNG THCS XUÂN QUANG",
               parent="LĐLĐ HUYỆN BẢO THẮNG", number="Số: 03/BC-CĐCS", figures=fig,
               sections=standard_sections(fig, "2. " + TARGET_WORDINGS["ket_qua"], target_level=2))
    save(build(r), r.name, expected(r))


def f03_all_caps() -> None:
    fig = FIG[2]
    sections = [
        Section("CÔNG TÁC LÃNH ĐẠO, CHỈ ĐẠO", 1, LEAD_BODY),
        Section("KẾT QUẢ THỰC HIỆN", 1, RESULT_BODY),
        Section("ĐÁNH GIÁ RIÊNG VỀ KẾT QUẢ HỌC TẬP CHUYÊN ĐỀ 2024", 1, section_body(fig), target=True),
        Section("PHƯƠNG HƯỚNG NĂM 2025", 1, PLAN_BODY),
    ]
    r = Report("03_all_caps", issuer="LĐLĐ THÀNH PHỐ LÀO CAI", figures=fig, sections=sections)
    save(build(r), r.name, expected(r))


def f04_typed_roman_plain() -> None:
    """Typed 'III.' in Normal style, headings not bold at all."""
    fig = FIG[3]
    r = Report("04_typed_roman", issuer="CÔNG ĐOÀN CƠ SỞ UBND XÃ PHONG NIÊN", parent="LĐLĐ HUYỆN BẢO THẮNG",
               number="Số: 07/BC-CĐ", figures=fig,
               sections=standard_sections(fig, "III. Đánh giá kết quả tổ chức học tập, quán triệt và triển "
                                               "khai Chuyên đề năm 2024"))

    def heading(doc: DocxDocument, s: Section) -> None:
        add_par(doc, s.heading)
    save(build(r, heading), r.name, expected(r))


def f05_auto_numbering() -> None:
    """I./II./III. only in numbering.xml; lower levels typed."""
    fig = FIG[4]
    sections = standard_sections(fig, "III. " + TARGET_WORDINGS["caps"], target_level=1)
    r = Report("05_auto_numbering", issuer="LĐLĐ HUYỆN BẮC HÀ", figures=fig, sections=sections)
    doc = docx.Document()
    num_id = add_numbering(doc)

    def heading(d: DocxDocument, s: Section) -> None:
        _number, text = s.heading.split(" ", 1)
        par = add_par(d, text, bold=True)
        set_num(par, num_id, 0)
    save(build(r, heading, doc=doc), r.name, expected(r))


def f06_split_runs() -> None:
    fig = FIG[5]
    r = Report("06_split_runs", issuer="LĐLĐ HUYỆN BẢO YÊN", figures=fig,
               sections=standard_sections(fig, "III. " + TARGET_WORDINGS["caps"]))

    def heading(doc: DocxDocument, s: Section) -> None:
        par = doc.add_paragraph()
        pieces = [s.heading[:5], s.heading[5:9], s.heading[9:30], s.heading[30:]]
        for i, piece in enumerate(pieces):
            run = par.add_run(piece)
            run.bold = True
            run.italic = i == 2 or None
            if i == 1:
                # A bookmark and a proofing mark between runs, as Word leaves them.
                run._r.addprevious(parse_xml(f'<w:bookmarkStart {nsdecls("w")} w:id="1" w:name="_Toc1"/>'))
                run._r.addnext(parse_xml(f'<w:proofErr {nsdecls("w")} w:type="spellStart"/>'))
    save(build(r, heading), r.name, expected(r))


def f07_one_cell_table() -> None:
    fig = FIG[0]
    r = Report("07_one_cell_table", issuer="LĐLĐ HUYỆN VĂN BÀN", figures=fig,
               sections=standard_sections(fig, "III. " + TARGET_WORDINGS["caps"]))

    def heading(doc: DocxDocument, s: Section) -> None:
        if s.target:
            table = doc.add_table(rows=1, cols=1)
            table.style = "Table Grid"
            first_par(table.cell(0, 0), s.heading, bold=True)
        else:
            add_par(doc, s.heading, bold=True)
    save(build(r, heading), r.name, expected(r))


def f08_soft_break() -> None:
    fig = FIG[1]
    r = Report("08_soft_break", issuer="LĐLĐ HUYỆN MƯỜNG KHƯƠNG", figures=fig,
               sections=standard_sections(fig, "III. " + TARGET_WORDINGS["caps"]))

    def heading(doc: DocxDocument, s: Section) -> None:
        if not s.target:
            add_par(doc, s.heading, bold=True)
            return
        head, tail = s.heading.split(", ", 1)
        par = doc.add_paragraph()
        run = par.add_run(head + ",")
        run.bold = True
        run.add_break()
        par.add_run(tail).bold = True
    save(build(r, heading), r.name, expected(r))


def nfd_build(name: str, form: Callable[[str], str], fig: Figures, issuer: str) -> None:
    r = Report(name, issuer=issuer, figures=fig,
               sections=standard_sections(fig, "III. " + TARGET_WORDINGS["caps"]))
    doc = build(r)
    for par in iter_all_paragraphs(doc):
        for run in par.runs:
            run.text = form(run.text)
    save(doc, r.name, expected(r))


def iter_all_paragraphs(doc: DocxDocument) -> list[Paragraph]:
    out = list(doc.paragraphs)
    for table in doc.tables:
        for row in table.rows:
            for cell in row.cells:
                out.extend(cell.paragraphs)
    return out


def unikey_combined(text: str) -> str:
    """UniKey's 'Unicode tổ hợp': letters with their shape marks precomposed, tone combining."""
    out = []
    tones = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}
    for char in unicodedata.normalize("NFC", text):
        parts = unicodedata.normalize("NFD", char)
        tone = "".join(c for c in parts if c in tones)
        base = unicodedata.normalize("NFC", "".join(c for c in parts if c not in tones))
        out.append(base + tone)
    return "".join(out)


def f09_nfd() -> None:
    nfd_build("09_nfd", lambda t: unicodedata.normalize("NFD", t), FIG[2], "LĐLĐ HUYỆN BÁT XÁT")


def f10_unikey_combined() -> None:
    nfd_build("10_unikey_combined", unikey_combined, FIG[3], "LĐLĐ HUYỆN SI MA CAI")


def f11_old_tone() -> None:
    fig = FIG[4]
    heading = "III. ĐÁNH GIÁ KẾT QUẢ HỌC TẬP, QUÁN TRIỆT VÀ CỤ THỂ HOÁ CHUYÊN ĐỀ NĂM 2024"
    r = Report("11_old_tone", issuer="CÔNG ĐOÀN NGÀNH GIÁO DỤC TỈNH LÀO CAI", figures=fig,
               parent="LIÊN ĐOÀN LAO ĐỘNG TỈNH LÀO CAI", number="Số: 21/BC-CĐN",
               place_date="Lào Cai, ngày 27 tháng 02 năm 2024",
               sections=standard_sections(fig, heading))
    doc = build(r)
    # Old-style tone placement in the header as well: "CỘNG HOÀ".
    for par in iter_all_paragraphs(doc):
        for run in par.runs:
            run.text = run.text.replace("HÒA", "HOÀ")
    save(doc, r.name, expected(r))


def legacy_doc(name: str, encode_body: Callable[[str], str], encode_caps: Callable[[str], str],
               body_font: str, caps_font: str, *, only_hansi: bool, split_heading: bool,
               fig: Figures, issuer: str) -> None:
    """A report typed in legacy fonts: every run carries legacy bytes."""
    heading = "III. " + TARGET_WORDINGS["caps"]
    r = Report(name, issuer=issuer, figures=fig, sections=standard_sections(fig, heading))
    doc = build(r)
    caps_paragraphs = {s.heading for s in r.sections if s.heading.isupper()}
    for par in iter_all_paragraphs(doc):
        text = par.text
        use_caps = text in caps_paragraphs or (text.isupper() and len(text) > 3)
        for run in par.runs:
            if use_caps:
                run.text = encode_caps(run.text)
                set_font(run, caps_font, only_hansi=only_hansi)
            else:
                run.text = encode_body(run.text)
                set_font(run, body_font, only_hansi=only_hansi)
        if split_heading and text == heading:
            # Split the encoded heading run between a base letter and its VNI mark.
            run = par.runs[0]
            encoded = run.text
            cut = encoded.index("Ù") + 0 if "Ù" in encoded else len(encoded) // 2
            run.text = encoded[:cut]
            second = par.add_run(encoded[cut:])
            second.bold = True
            second.italic = True
            set_font(second, caps_font, only_hansi=only_hansi)
        soft_hyphens(par)
    save(doc, r.name, expected(r))


def f12_tcvn3() -> None:
    legacy_doc("12_tcvn3", unicode_to_tcvn3, lambda t: unicode_to_tcvn3(t, capitals_font=True),
               ".VnTime", ".VnTimeH", only_hansi=True, split_heading=False, fig=FIG[5],
               issuer="LĐLĐ HUYỆN BẢO THẮNG")


def f13_vni() -> None:
    legacy_doc("13_vni", unicode_to_vni, unicode_to_vni, "VNI-Times", "VNI-Times", only_hansi=False,
               split_heading=True, fig=FIG[0], issuer="LĐLĐ HUYỆN SA PA")


def f14_unicode_in_vntime() -> None:
    fig = FIG[1]
    r = Report("14_unicode_vntime_font", issuer="LĐLĐ THỊ XÃ SA PA", figures=fig,
               sections=standard_sections(fig, "III. " + TARGET_WORDINGS["caps"]))
    doc = build(r)
    for par in iter_all_paragraphs(doc):
        for run in par.runs:
            set_font(run, ".VnTimeH" if run.text.isupper() else ".VnTime")
    save(doc, r.name, expected(r))


def f15_stats_table() -> None:
    """The section is one statistics table that runs into the signature table."""
    fig = FIG[2]
    r = Report("15_stats_table", issuer="CÔNG ĐOÀN VIÊN CHỨC TỈNH LÀO CAI",
               parent="LIÊN ĐOÀN LAO ĐỘNG TỈNH LÀO CAI", number="Số: 09/BC-CĐVC", figures=fig,
               conclusion=None, noi_nhan=False,
               sections=[
                   Section("I. CÔNG TÁC LÃNH ĐẠO, CHỈ ĐẠO", 1, LEAD_BODY),
                   Section("II. " + TARGET_WORDINGS["rieng"].upper(), 1, [], target=True),
               ])
    doc = docx.Document()
    header_table(doc, r)
    title(doc, r)
    for s in r.sections:
        add_par(doc, s.heading, bold=True)
        body_writer(doc, s)
    rows = [
        ("TT", "Nội dung", "Số lượng", "Ghi chú"),
        ("1", "Tổng số đoàn viên", vn_int(fig.members), ""),
        ("2", "Số đoàn viên tham gia học tập", vn_int(fig.participants), f"đạt {fig.rate}%"),
        ("3", "Số buổi/hội nghị đã tổ chức", str(fig.sessions), "Trực tiếp và trực tuyến"),
        ("4", "Số CĐCS tổ chức học tập", "36", "Cộng dồn"),
    ]
    table = doc.add_table(rows=len(rows), cols=4)
    table.style = "Table Grid"
    for i, row in enumerate(rows):
        for j, value in enumerate(row):
            first_par(table.cell(i, j), value, bold=i == 0)
    # The last two rows' "Ghi chú" merged vertically.
    table.cell(3, 3).paragraphs[0].runs[0].text = ""
    table.cell(2, 3).merge(table.cell(3, 3))
    sig = doc.add_table(rows=1, cols=2)
    first_par(sig.cell(0, 0), "NGƯỜI LẬP BIỂU", bold=True, center=True)
    add_par(sig.cell(0, 0), "Lò Thị Mai", center=True)
    first_par(sig.cell(0, 1), "TM. BAN THƯỜNG VỤ", bold=True, center=True)
    add_par(sig.cell(0, 1), "PHÓ CHỦ TỊCH", bold=True, center=True)
    exp = expected(r, text_startswith="TT\tNội dung\tSố lượng\tGhi chú",
                   text_endswith="4\tSố CĐCS tổ chức học tập\t36\tCộng dồn")
    save(doc, r.name, exp)


def f16_dash_slash() -> None:
    fig = FIG[3]
    sections = [
        Section("I- CÔNG TÁC LÃNH ĐẠO, CHỈ ĐẠO", 1, LEAD_BODY),
        Section("II- KẾT QUẢ THỰC HIỆN", 1, []),
        Section("1/ Kết quả thực hiện các phong trào thi đua", 2, RESULT_BODY),
        Section("2/ " + TARGET_WORDINGS["rieng"], 2, section_body(fig), target=True),
        Section("3/ Công tác tuyên truyền", 2, ["Đã đăng 15 tin, bài trên trang thông tin của công đoàn."]),
        Section("III- PHƯƠNG HƯỚNG, NHIỆM VỤ NĂM 2025", 1, PLAN_BODY),
    ]
    r = Report("16_dash_slash", issuer="CÔNG ĐOÀN CƠ SỞ BỆNH VIỆN ĐA KHOA HUYỆN BẢO THẮNG",
               parent="LĐLĐ HUYỆN BẢO THẮNG", number="Số: 02/BC-CĐ", figures=fig, sections=sections)
    save(build(r), r.name, expected(r))


def f17_decoys() -> None:
    fig = FIG[4]
    sections = [
        Section("I. KẾT QUẢ HỌC TẬP CHUYÊN ĐỀ NĂM 2023", 1,
                ["Năm 2023 đã tổ chức 10 buổi học tập chuyên đề cho 1.100 đoàn viên, đạt 90,1%."]),
        Section("II. KẾT QUẢ LÀM THEO TƯ TƯỞNG, ĐẠO ĐỨC, PHONG CÁCH HỒ CHÍ MINH", 1, RESULT_BODY),
        Section("III. KẾT QUẢ THỰC HIỆN NGHỊ QUYẾT SỐ 48-NQ/TU NĂM 2024", 1,
                ["Các công đoàn cơ sở tích cực tham gia thực hiện Nghị quyết của Tỉnh ủy."]),
        Section("IV. " + TARGET_WORDINGS["caps"], 1, section_body(fig), target=True),
        Section("V. PHƯƠNG HƯỚNG HỌC TẬP CHUYÊN ĐỀ NĂM 2025", 1, PLAN_BODY),
    ]
    r = Report("17_decoys", issuer="LĐLĐ HUYỆN BẢO THẮNG", figures=fig, sections=sections)
    save(build(r), r.name, expected(r))


def f18_no_section() -> None:
    sections = [
        Section("I. CÔNG TÁC LÃNH ĐẠO, CHỈ ĐẠO", 1, LEAD_BODY),
        Section("II. KẾT QUẢ THỰC HIỆN CÁC PHONG TRÀO THI ĐUA NĂM 2024", 1, RESULT_BODY),
        Section("III. PHƯƠNG HƯỚNG HỌC TẬP CHUYÊN ĐỀ NĂM 2025", 1, PLAN_BODY),
    ]
    r = Report("18_no_section", issuer="LĐLĐ HUYỆN BẢO YÊN", sections=sections)
    save(build(r), r.name, expected(r))


def f19_tab_header() -> None:
    fig = FIG[5]
    r = Report("19_tab_header", issuer="LĐLĐ HUYỆN VĂN BÀN", figures=fig,
               sections=standard_sections(fig, "2. " + TARGET_WORDINGS["rieng"], target_level=2))
    doc = docx.Document()
    lines = [
        (r.parent, False, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"),
        (r.issuer, True, "Độc lập - Tự do - Hạnh phúc"),
        (r.number, False, r.place_date),
    ]
    for left, bold, right in lines:
        par = doc.add_paragraph()
        par.add_run(left).bold = bold or None
        par.add_run("\t\t")
        par.add_run(right).bold = right.isupper() or right.startswith("Độc") or None
    title(doc, r)
    for s in r.sections:
        bold_heading(doc, s)
        body_writer(doc, s)
    closing(doc, r)
    save(doc, r.name, expected(r))


def f20_sdt_tracked() -> None:
    """The section inside a block content control; tracked insertion and deletion in the heading."""
    fig = FIG[0]
    heading = "III. " + TARGET_WORDINGS["caps"]
    r = Report("20_sdt_tracked", issuer="LĐLĐ HUYỆN BẮC HÀ", figures=fig,
               sections=standard_sections(fig, heading))
    doc = build(r)
    body = doc.element.body
    pars = list(body.iterchildren(qn("w:p")))
    texts = ["".join(t.text or "" for t in p.iter(qn("w:t"))) for p in pars]
    start = texts.index(heading)
    end = start + 1 + len(section_body(fig))
    # Tracked changes: "NĂM 2024" inserted, "2023" deleted.
    head_p = pars[start]
    run = head_p.findall(qn("w:r"))[0]
    t = run.find(qn("w:t"))
    t.text = heading.replace(" NĂM 2024", "")
    ins = parse_xml(
        f'<w:ins {nsdecls("w")} w:id="11" w:author="A" w:date="2024-02-20T00:00:00Z">'
        f'<w:r><w:rPr><w:b/></w:rPr><w:t xml:space="preserve"> NĂM 2024</w:t></w:r></w:ins>'
    )
    dele = parse_xml(
        f'<w:del {nsdecls("w")} w:id="12" w:author="A" w:date="2024-02-20T00:00:00Z">'
        f'<w:r><w:rPr><w:b/></w:rPr><w:delText xml:space="preserve"> NĂM 2023</w:delText></w:r></w:del>'
    )
    run.addnext(dele)
    dele.addnext(ins)
    sdt = parse_xml(
        f'<w:sdt {nsdecls("w")}><w:sdtPr><w:alias w:val="Mục đánh giá"/></w:sdtPr><w:sdtContent/></w:sdt>'
    )
    pars[start].addprevious(sdt)
    content = sdt.find(qn("w:sdtContent"))
    for p in pars[start:end]:
        content.append(p)
    save(doc, r.name, expected(r))


def f21_a_level() -> None:
    fig = FIG[1]
    sections = [
        Section("I. CÔNG TÁC LÃNH ĐẠO, CHỈ ĐẠO", 1, LEAD_BODY),
        Section("II. KẾT QUẢ THỰC HIỆN", 1, []),
        Section("1. Kết quả học tập và làm theo Bác", 2, []),
        Section("a) Kết quả làm theo gương Bác trong đoàn viên", 4, RESULT_BODY),
        Section("b) " + TARGET_WORDINGS["rieng"], 4, section_body(fig), target=True),
        Section("c) Công tác tuyên truyền", 4, ["Đã đăng 15 tin, bài trên trang thông tin của công đoàn."]),
        Section("III. PHƯƠNG HƯỚNG, NHIỆM VỤ NĂM 2025", 1, PLAN_BODY),
    ]
    r = Report("21_a_level", issuer="CÔNG ĐOÀN CƠ SỞ TRƯỜNG THPT SỐ 1 BẢO THẮNG",
               parent="CÔNG ĐOÀN NGÀNH GIÁO DỤC TỈNH LÀO CAI", number="Số: 05/BC-CĐCS", figures=fig,
               sections=sections)

    def heading(doc: DocxDocument, s: Section) -> None:
        add_par(doc, s.heading, bold=s.level <= 2, italic=s.level > 2)
    save(build(r, heading), r.name, expected(r))


def f22_auto_multilevel() -> None:
    """Heading styles linked to a multilevel list: I. / 1. / 2.1. rendered from numbering.xml."""
    fig = FIG[2]
    sections = [
        Section("I. CÔNG TÁC LÃNH ĐẠO, CHỈ ĐẠO", 1, LEAD_BODY),
        Section("II. KẾT QUẢ THỰC HIỆN", 1, []),
        Section("1. Học tập chuyên đề", 2, []),
        Section("1.1. Công tác chuẩn bị", 3, ["Chuẩn bị tài liệu, hội trường, đường truyền trực tuyến."]),
        Section("1.2. " + TARGET_WORDINGS["ket_qua"], 3, section_body(fig), target=True),
        Section("2. Làm theo gương Bác", 2, RESULT_BODY),
        Section("III. PHƯƠNG HƯỚNG, NHIỆM VỤ NĂM 2025", 1, PLAN_BODY),
    ]
    r = Report("22_auto_multilevel", issuer="LĐLĐ HUYỆN BÁT XÁT", figures=fig, sections=sections)
    doc = docx.Document()
    num_id = add_numbering(doc)
    # Link Heading 1-3 to the list through the styles, as Word's "Define new multilevel list" does.
    for level in (1, 2, 3):
        style = doc.styles[f"Heading {level}"]
        ppr = style.element.get_or_add_pPr()
        ppr.append(parse_xml(
            f'<w:numPr {nsdecls("w")}><w:ilvl w:val="{level - 1}"/><w:numId w:val="{num_id}"/></w:numPr>'
        ))

    def heading(d: DocxDocument, s: Section) -> None:
        _number, text = s.heading.split(" ", 1)
        d.add_paragraph(text, style=f"Heading {s.level}")
    save(build(r, heading, doc=doc), r.name, expected(r))


def f23_gdocs() -> None:
    """Google Docs export: no heading styles, Arial, bold + larger size, header as plain paragraphs."""
    fig = FIG[3]
    sections = [
        Section("Công tác lãnh đạo, chỉ đạo", 1, LEAD_BODY),
        Section("Kết quả thực hiện", 1, RESULT_BODY),
        Section(TARGET_WORDINGS["rieng"], 1, section_body(fig), target=True),
        Section("Phương hướng năm 2025", 1, PLAN_BODY),
    ]
    r = Report("23_gdocs", issuer="CÔNG ĐOÀN CƠ SỞ CÔNG TY CP ĐẦU TƯ XÂY DỰNG LÀO CAI",
               parent="LĐLĐ THÀNH PHỐ LÀO CAI", number="Số: 01/BC-CĐ", figures=fig, sections=sections)
    doc = docx.Document()
    for text, bold in ((r.parent, False), (r.issuer, True), (r.number, False)):
        add_par(doc, text, bold=bold, size=11)
    add_par(doc, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", bold=True, center=True, size=11)
    add_par(doc, "Độc lập - Tự do - Hạnh phúc", bold=True, center=True, size=11)
    add_par(doc, r.place_date, italic=True, size=11)
    add_par(doc, "BÁO CÁO", bold=True, center=True, size=16)
    add_par(doc, r.subtitle, bold=True, center=True, size=13)
    add_par(doc, INTRO, size=11)
    for s in r.sections:
        add_par(doc, s.heading, bold=True, size=13)
        for text in s.body:
            add_par(doc, text, size=11)
    add_par(doc, CONCLUSION, size=11)
    add_par(doc, "Nơi nhận:", bold=True, italic=True, size=11)
    add_par(doc, "- LĐLĐ thành phố;", size=11)
    add_par(doc, "TM. BAN CHẤP HÀNH", bold=True, size=11)
    add_par(doc, "CHỦ TỊCH", bold=True, size=11)
    for par in doc.paragraphs:
        for run in par.runs:
            set_font(run, "Arial")
    save(doc, r.name, expected(r))


# ------------------------------------------------- LibreOffice and pandoc

def run_tool(args: list[str], cwd: Path) -> bool:
    if shutil.which(args[0]) is None:
        print(f"skipped: {args[0]} not installed")
        return False
    subprocess.run(args, cwd=cwd, check=True, capture_output=True, timeout=180)
    return True


def soffice_convert(src: Path, fmt: str, outdir: Path) -> Path | None:
    profile = outdir.parent / "lo-profile" if outdir.name == "back" else outdir / "lo-profile"
    # HTML would otherwise open in Writer/Web, which cannot save .docx.
    infilter = ["--infilter=HTML (StarWriter)"] if src.suffix == ".html" else []
    ok = run_tool(["soffice", f"-env:UserInstallation=file://{profile}", "--headless", *infilter,
                   "--convert-to", fmt, "--outdir", str(outdir), str(src)], outdir)
    if not ok:
        return None
    ext = fmt.split(":", 1)[0]
    out = outdir / (src.stem + "." + ext)
    return out if out.exists() else None


def html_report(r: Report) -> str:
    target = r.target()
    assert target is not None
    parts = [
        "<html><head><meta charset='utf-8'></head><body>",
        "<table><tr><td><p align='center'>" + r.parent + "</p><p align='center'><b>" + r.issuer
        + "</b></p><p align='center'>" + r.number + "</p></td>",
        "<td><p align='center'><b>CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM</b></p>"
        "<p align='center'><b>Độc lập - Tự do - Hạnh phúc</b></p>"
        "<p align='center'><i>" + r.place_date + "</i></p></td></tr></table>",
        "<p align='center'><b>BÁO CÁO</b></p><p align='center'><b>" + r.subtitle + "</b></p>",
        "<p>" + INTRO + "</p>",
    ]
    for s in r.sections:
        parts.append(f"<h{s.level}>{s.heading}</h{s.level}>")
        parts.extend(f"<p>{b}</p>" for b in s.body)
    parts.append("<p>" + CONCLUSION + "</p>")
    parts.append("<table><tr><td><p><b><i>Nơi nhận:</i></b></p><p>- LĐLĐ tỉnh;</p></td>"
                 "<td><p align='center'><b>TM. BAN THƯỜNG VỤ</b></p><p align='center'><b>CHỦ TỊCH</b></p>"
                 "</td></tr></table></body></html>")
    return "\n".join(parts)


def f30_libreoffice(tmp: Path) -> None:
    fig = FIG[4]
    r = Report("30_libreoffice", issuer="LĐLĐ HUYỆN MƯỜNG KHƯƠNG", figures=fig,
               sections=standard_sections(fig, "III. " + TARGET_WORDINGS["caps"]))
    src = tmp / "lo_report.html"
    src.write_text(html_report(r), encoding="utf-8")
    out = soffice_convert(src, "docx:MS Word 2007 XML", tmp)
    if out is not None:
        write(r.name + ".docx", out.read_bytes(), r.name, expected(r))


def f31_pandoc(tmp: Path) -> None:
    fig = FIG[5]
    r = Report("31_pandoc", issuer="LĐLĐ HUYỆN SI MA CAI", figures=fig,
               sections=standard_sections(fig, "2. " + TARGET_WORDINGS["ket_qua"], target_level=2))
    lines = [
        f"| {r.parent} | CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM |",
        "|:---:|:---:|",
        f"| **{r.issuer}** | **Độc lập - Tự do - Hạnh phúc** |",
        f"| {r.number} | *{r.place_date}* |",
        "",
        "**BÁO CÁO**",
        "",
        INTRO,
        "",
    ]
    for s in r.sections:
        lines.append("#" * s.level + " " + s.heading)
        lines.append("")
        for b in s.body:
            lines.append(b.replace("- ", "\\- ", 1) if b.startswith("- ") else b)
            lines.append("")
    lines += [CONCLUSION, "", "**Nơi nhận:**", "", "\\- LĐLĐ tỉnh;", "", "**TM. BAN THƯỜNG VỤ**", ""]
    src = tmp / "pandoc_report.md"
    src.write_text("\n".join(lines), encoding="utf-8")
    out = tmp / "pandoc_report.docx"
    if run_tool(["pandoc", "-f", "markdown", "-t", "docx", "-o", str(out), str(src)], tmp):
        # pandoc's header table has a header row: the parent sits in it, the issuer below.
        write(r.name + ".docx", out.read_bytes(), r.name, expected(r))


def f32_legacy_doc(tmp: Path) -> None:
    """A Word 97-2003 .doc (LibreOffice-made) with the same content as 01."""
    fig = FIG[0]
    r = Report("32_legacy_doc", issuer="LĐLĐ HUYỆN BẢO THẮNG", figures=fig,
               sections=standard_sections(fig, "III. " + TARGET_WORDINGS["caps"]))
    buf = io.BytesIO()
    build(r).save(buf)
    src = tmp / "legacy_src.docx"
    src.write_bytes(buf.getvalue())
    out = soffice_convert(src, "doc", tmp)
    if out is not None:
        write(r.name + ".doc", out.read_bytes(), r.name, expected(r))


def f33_tcvn3_via_libreoffice(tmp: Path) -> None:
    """A TCVN3 .doc opened and saved as .docx by LibreOffice (ư becomes <w:softHyphen/>)."""
    fig = FIG[1]
    heading = "II. " + TARGET_WORDINGS["caps"]
    r = Report("33_tcvn3_libreoffice", issuer="LĐLĐ HUYỆN BẮC HÀ", figures=fig,
               sections=[Section("I. CÔNG TÁC LÃNH ĐẠO, CHỈ ĐẠO", 1, LEAD_BODY),
                         Section(heading, 1, section_body(fig), target=True),
                         Section("III. PHƯƠNG HƯỚNG NHIỆM VỤ NĂM 2025", 1, PLAN_BODY)])
    doc = build(r)
    for par in iter_all_paragraphs(doc):
        caps = par.text.isupper()
        for run in par.runs:
            run.text = unicode_to_tcvn3(run.text, capitals_font=caps)
            set_font(run, ".VnTimeH" if caps else ".VnTime")
    buf = io.BytesIO()
    doc.save(buf)
    src = tmp / "tcvn3_src.docx"
    src.write_bytes(buf.getvalue())
    as_doc = soffice_convert(src, "doc", tmp)
    if as_doc is None:
        return
    back = tmp / "back"
    back.mkdir(exist_ok=True)
    out = soffice_convert(as_doc, "docx:MS Word 2007 XML", back)
    if out is not None:
        write(r.name + ".docx", out.read_bytes(), r.name, expected(r))


def part_heading(doc: DocxDocument, s: Section) -> None:
    """'Phần thứ hai' centred on its own line, the part's title on the next (one heading)."""
    if s.heading.startswith("Phần thứ"):
        words = s.heading.split()
        add_par(doc, " ".join(words[:3]), bold=True, center=True)
        add_par(doc, " ".join(words[3:]), bold=True, center=True)
    else:
        add_par(doc, s.heading, bold=True)


def f24_part_two_lines() -> None:
    """Parts written 'Phần thứ hai' + a title line; the required section is a whole part."""
    fig = FIG[1]
    sections = [
        Section("Phần thứ nhất TÌNH HÌNH CHUNG", 0, ["Đơn vị có 12 công đoàn cơ sở trực thuộc."]),
        Section("I. CÔNG TÁC LÃNH ĐẠO, CHỈ ĐẠO", 1, LEAD_BODY),
        Section("Phần thứ hai " + TARGET_WORDINGS["caps"], 0, [], target=True),
        Section("1. Công tác tổ chức", 1, section_body(fig)[:1]),
        Section("2. Kết quả cụ thể", 1, section_body(fig)[1:]),
        Section("Phần thứ ba PHƯƠNG HƯỚNG, NHIỆM VỤ NĂM 2025", 0, PLAN_BODY),
    ]
    r = Report("24_part_two_lines", issuer="LĐLĐ HUYỆN BẢO THẮNG", figures=fig, sections=sections,
               note="part heading over two paragraphs; its sub-items are part of the text")
    body = ["1. Công tác tổ chức", *section_body(fig)[:1], "2. Kết quả cụ thể", *section_body(fig)[1:]]
    save(build(r, heading=part_heading), r.name,
         expected(r, text_startswith=body[0][:60], text_endswith=body[-1][-60:]))


def f25_run_in_and_reporting_sentence() -> None:
    """A bold run-in heading ('2. ...: text') and a final '... báo cáo ... ./.' sentence as closing."""
    fig = FIG[3]
    body = section_body(fig)
    sections = [
        Section("1. Công tác lãnh đạo, chỉ đạo", 1, LEAD_BODY),
        Section("2. " + TARGET_WORDINGS["rieng"] + ": đơn vị báo cáo cụ thể như sau:", 1, body, target=True),
        Section("3. Phương hướng, nhiệm vụ năm 2025", 1, PLAN_BODY),
    ]
    r = Report("25_run_in_reporting_sentence", issuer="CÔNG ĐOÀN CƠ SỞ TRƯỜNG THCS XUÂN QUANG",
               parent="LĐLĐ HUYỆN BẢO THẮNG", figures=fig, sections=sections,
               conclusion="Công đoàn cơ sở báo cáo LĐLĐ huyện Bảo Thắng tổng hợp theo quy định./.",
               note="run-in heading; the closing is a reporting sentence, not 'Trên đây'")
    save(build(r), r.name, expected(r))


def f26_appendix_after_signature() -> None:
    """Content after the signature (an appendix with its own Roman headings) is not the section's text."""
    fig = FIG[5]
    r = Report("26_appendix_after_signature", issuer="LĐLĐ HUYỆN VĂN BÀN", figures=fig,
               sections=standard_sections(fig, "III. " + TARGET_WORDINGS["ket_qua"])[:3],
               note="the required section is the last one before the closing block; an appendix follows")
    doc = build(r)
    add_par(doc, "PHỤ LỤC", bold=True, center=True)
    add_par(doc, "I. DANH SÁCH CÔNG ĐOÀN CƠ SỞ THAM GIA", bold=True)
    add_par(doc, "Công đoàn cơ sở Trường Tiểu học số 1; Công đoàn cơ sở Bệnh viện huyện.")
    save(doc, r.name, expected(r))


def f27_speech_asterisk_ordinals() -> None:
    """A speech: salutation, one Roman part, bold '* ...' sub-headings, 'Thứ nhất, ...' items, closing thanks."""
    fig = FIG[0]
    body = ["Thứ nhất, " + section_body(fig)[0], "Thứ hai, " + section_body(fig)[1], *section_body(fig)[2:]]
    sections = [
        Section("I. Về công tác lãnh đạo, chỉ đạo", 1, LEAD_BODY),
        Section("* " + TARGET_WORDINGS["rieng"] + ":", 2, body, target=True),
        Section("* Về phương hướng thời gian tới:", 2, PLAN_BODY),
    ]
    r = Report("27_speech_asterisk_ordinals", issuer="LĐLĐ HUYỆN BẮC HÀ", figures=fig, sections=sections,
               conclusion="Cuối cùng, thay mặt Ban Thường vụ, kính chúc các đồng chí mạnh khỏe, "
                          "chúc Hội nghị thành công tốt đẹp.",
               note="asterisk headings under a Roman part; the closing is a speech's greeting")
    save(build(r), r.name, expected(r))


NEAR_MISSES = {
    "28_near_miss_practice": "III. KẾT QUẢ LÀM THEO TƯ TƯỞNG, ĐẠO ĐỨC, PHONG CÁCH HỒ CHÍ MINH NĂM 2024",
    "29_near_miss_plan": "III. KẾ HOẠCH HỌC TẬP CHUYÊN ĐỀ NĂM 2025",
    "34_near_miss_resolution": "III. KẾT QUẢ HỌC TẬP, QUÁN TRIỆT NGHỊ QUYẾT ĐẠI HỘI XIII CÔNG ĐOÀN VIỆT NAM",
    "35_near_miss_shortcomings": "III. TỒN TẠI, HẠN CHẾ TRONG HỌC TẬP CHUYÊN ĐỀ NĂM 2024",
}


def f28_near_misses() -> None:
    """Reports without the required section, each holding one near miss: the finder must say not found."""
    for name, heading in NEAR_MISSES.items():
        sections = [
            Section("I. CÔNG TÁC LÃNH ĐẠO, CHỈ ĐẠO", 1, LEAD_BODY),
            Section("II. KẾT QUẢ THỰC HIỆN CÁC PHONG TRÀO THI ĐUA NĂM 2024", 1, RESULT_BODY),
            Section(heading, 1, ["Nội dung thuộc một chủ đề khác với chuyên đề được yêu cầu."]),
            Section("IV. PHƯƠNG HƯỚNG, NHIỆM VỤ NĂM 2025", 1, PLAN_BODY),
        ]
        r = Report(name, issuer="LĐLĐ HUYỆN MƯỜNG KHƯƠNG", sections=sections,
                   note="near miss only: the required section is absent")
        save(build(r), r.name, expected(r))


# ------------------------------------------- the 2024 campaign's own shapes (issue 21)

SLOGAN = ("“Dám nghĩ, dám nói, dám làm, dám chịu trách nhiệm, dám đổi mới, sáng tạo, dám đương đầu với "
          "khó khăn, thử thách, dám hành động vì lợi ích chung”")

Body = list[str | tuple[tuple[str, ...], ...]]   # paragraphs, or a table as rows of cells


def campaign_report(r: Report, parts: Sequence[tuple[str, Body]], *,
                    run_in: Sequence[str] = ()) -> DocxDocument:
    """A Decree-30 report; each part is (bold heading, body); `run_in` paragraphs are bold throughout."""
    doc = docx.Document()
    header_table(doc, r)
    title(doc, r)
    for heading, body in parts:
        add_par(doc, heading, bold=True)
        for item in body:
            if isinstance(item, tuple):
                table = doc.add_table(rows=len(item), cols=len(item[0]))
                table.style = "Table Grid"
                for row, cells in zip(table.rows, item, strict=True):
                    for cell, text in zip(row.cells, cells, strict=True):
                        first_par(cell, text, bold=row is table.rows[0])
            elif any(item.startswith(head) for head in run_in):
                add_par(doc, item, bold=True)
            else:
                add_par(doc, item)
    closing(doc, r)
    return doc


def part_text(body: Body) -> list[str]:
    """The body as the section's text lines (a table's rows as tab-joined cells)."""
    out: list[str] = []
    for item in body:
        out.extend("\t".join(row) for row in item) if isinstance(item, tuple) else out.append(item)
    return out


def save_campaign(r: Report, parts: Sequence[tuple[str, Body]], target: str, *,
                  run_in: Sequence[str] = ()) -> None:
    """Save the report; `target` is the required section's heading ("" when it has none)."""
    if target:
        at = next(i for i, (heading, _body) in enumerate(parts) if heading == target)
        level = _level(target)
        stop = next((i for i in range(at + 1, len(parts)) if _level(parts[i][0]) <= level), len(parts))
        lines = part_text(parts[at][1])
        for heading, body in parts[at + 1:stop]:
            lines += [heading, *part_text(body)]
        r.sections = [Section(target, level, lines, target=True)]
    exp = expected(r, text_startswith=lines[0][:60], text_endswith=lines[-1][-60:]) if target else expected(r)
    save(campaign_report(r, parts, run_in=run_in), r.name, exp)


def _level(heading: str) -> int:
    """Outline level of a corpus heading by its typed number (unnumbered: below every number)."""
    number = heading.split(" ", 1)[0]
    if re.fullmatch(r"[IVX]+\.", number):
        return 1
    if re.fullmatch(r"\d+\.", number):
        return 2
    if re.fullmatch(r"\d+\.\d+\.", number):
        return 3
    return 4


KCN_PARTS: list[tuple[str, Body]] = [
    ("I. CÔNG TÁC LÃNH ĐẠO, CHỈ ĐẠO", [
        "Ngay sau khi nhận được Hướng dẫn số 05/HD-LĐLĐ của Liên đoàn Lao động tỉnh, Ban Thường vụ Công đoàn "
        "các Khu công nghiệp đã ban hành Kế hoạch số 04/KH-CĐKCN ngày 30/01/2024 triển khai học tập Chuyên đề "
        "năm 2024 đến 46 công đoàn cơ sở trực thuộc.",
        "- Phân công các đồng chí Ủy viên Ban Thường vụ phụ trách, đôn đốc các công đoàn cơ sở doanh nghiệp.",
    ]),
    ("II. KẾT QUẢ THỰC HIỆN", []),
    ("1. Công tác tuyên truyền, học tập Chuyên đề năm 2024", []),
    ("1.1. Việc ban hành văn bản triển khai", [
        "Ban hành 03 văn bản chỉ đạo, hướng dẫn các công đoàn cơ sở tổ chức học tập Chuyên đề năm 2024 phù "
        "hợp với ca làm việc của công nhân lao động.",
    ]),
    ("1.2. Công tác tuyên truyền", [
        "Đăng tải 25 tin, bài về Chuyên đề năm 2024 trên trang Facebook và nhóm Zalo của Công đoàn các Khu "
        "công nghiệp; in 300 tờ gấp phát tại các nhà máy.",
    ]),
    ("1.3. Kết quả tổ chức học tập, quán triệt Chuyên đề năm 2024 " + SLOGAN, [
        "Công đoàn các Khu công nghiệp tổ chức hội nghị trực tiếp cho 120 cán bộ công đoàn chủ chốt; các "
        "công đoàn cơ sở tổ chức học tập theo ca sản xuất.",
        "Tổng số đoàn viên: 9.870; số đoàn viên tham gia học tập: 9.215, đạt 93,4%; tổ chức 52 buổi/hội nghị.",
        "Qua học tập, đoàn viên, công nhân lao động nhận thức rõ tinh thần “7 dám”, chủ động đề xuất 18 sáng "
        "kiến cải tiến kỹ thuật trong sản xuất.",
    ]),
    ("2. Việc cụ thể hóa nội dung Chuyên đề năm 2024 gắn với nhiệm vụ chính trị", [
        "Các công đoàn cơ sở đưa nội dung Chuyên đề năm 2024 vào thỏa ước lao động tập thể và phong trào "
        "thi đua lao động giỏi, lao động sáng tạo.",
    ]),
    ("3. Đưa nội dung Chuyên đề năm 2024 thành nội dung sinh hoạt thường kỳ của công đoàn", [
        "100% công đoàn cơ sở gắn nội dung chuyên đề với sinh hoạt công đoàn định kỳ hằng tháng.",
    ]),
    ("III. ĐÁNH GIÁ CHUNG", []),
    ("1. Ưu điểm", ["Việc học tập Chuyên đề năm 2024 được triển khai nghiêm túc, đúng thời gian."]),
    ("2. Hạn chế, nguyên nhân", [
        "Một số doanh nghiệp khó bố trí thời gian cho công nhân học tập do đơn hàng tăng sau Tết.",
    ]),
    ("IV. PHƯƠNG HƯỚNG, NHIỆM VỤ THỜI GIAN TỚI", [
        "Tiếp tục tuyên truyền, nhân rộng các điển hình thực hiện tinh thần “7 dám” trong công nhân lao động.",
    ]),
    ("V. ĐỀ XUẤT, KIẾN NGHỊ", ["Đề nghị LĐLĐ tỉnh cấp thêm tài liệu học tập cho các công đoàn cơ sở."]),
]


def f36_kcn_slogan_heading() -> None:
    """The required section is a '1.3.' sub-item whose heading carries the slogan in full."""
    r = Report("36_kcn_slogan_heading", parent="LIÊN ĐOÀN LAO ĐỘNG TỈNH LÀO CAI",
               issuer="CÔNG ĐOÀN CÁC KHU CÔNG NGHIỆP", number="Số: 08/BC-CĐKCN",
               place_date="Lào Cai, ngày 27 tháng 02 năm 2024",
               subtitle="Kết quả học tập, quán triệt và triển khai Chuyên đề năm 2024",
               figures=Figures(9870, 9215, "93,4", 52),
               note="a long heading: the guideline's title inside it, then the slogan in full; "
                    "every other part also names Chuyên đề năm 2024")
    save_campaign(r, KCN_PARTS, KCN_PARTS[5][0])


TAILS = {
    "37_tail_at_unit": ("CÔNG ĐOÀN CƠ SỞ BỆNH VIỆN ĐA KHOA TỈNH", "Số: 02/BC-CĐCS", Figures(612, 598, "97,7", 4),
                        "III. KẾT QUẢ TỔ CHỨC HỌC TẬP, QUÁN TRIỆT CHUYÊN ĐỀ NĂM 2024 TẠI ĐƠN VỊ"),
    "38_quoted_name": ("CÔNG ĐOÀN NGÀNH Y TẾ TỈNH LÀO CAI", "Số: 11/BC-CĐN", Figures(3120, 3046, "97,6", 21),
                       "III. Kết quả học tập, quán triệt và triển khai Chuyên đề năm 2024 về " + SLOGAN
                       + " trong cán bộ, đoàn viên, người lao động của ngành"),
    "39_unquoted_slogan": ("LĐLĐ HUYỆN BẢO YÊN", "Số: 09/BC-LĐLĐ", Figures(2875, 2790, "97,0", 16),
                           "III. ĐÁNH GIÁ KẾT QUẢ HỌC TẬP CHUYÊN ĐỀ NĂM 2024 - DÁM NGHĨ, DÁM NÓI, DÁM LÀM, DÁM "
                           "CHỊU TRÁCH NHIỆM, DÁM ĐỔI MỚI, SÁNG TẠO, DÁM ĐƯƠNG ĐẦU VỚI KHÓ KHĂN, THỬ THÁCH, "
                           "DÁM HÀNH ĐỘNG VÌ LỢI ÍCH CHUNG"),
}


def f37_title_inside_longer_headings() -> None:
    """The guideline's title followed by 'tại đơn vị', a quoted slogan and who learnt, or the slogan unquoted."""
    for name, (issuer, number, fig, heading) in TAILS.items():
        parts: list[tuple[str, Body]] = [
            ("I. CÔNG TÁC LÃNH ĐẠO, CHỈ ĐẠO", [*LEAD_BODY,
             "Ban hành kế hoạch học tập Chuyên đề năm 2024 và phân công cán bộ phụ trách từng bộ phận."]),
            ("II. KẾT QUẢ HỌC TẬP VÀ LÀM THEO TƯ TƯỞNG, ĐẠO ĐỨC, PHONG CÁCH HỒ CHÍ MINH", RESULT_BODY),
            (heading, section_body(fig)),
            ("IV. PHƯƠNG HƯỚNG, NHIỆM VỤ NĂM 2025", PLAN_BODY),
        ]
        r = Report(name, issuer=issuer, number=number, figures=fig, parent="LIÊN ĐOÀN LAO ĐỘNG TỈNH LÀO CAI",
                   place_date="Lào Cai, ngày 28 tháng 02 năm 2024",
                   note="the guideline's title inside a longer heading")
        save_campaign(r, parts, heading)


CONG_THUONG_TABLE = (
    ("TT", "Đơn vị", "Số đoàn viên", "Số tham gia", "Tỷ lệ (%)"),
    ("1", "Công đoàn cơ sở Công ty Điện lực Lào Cai", "845", "832", "98,5"),
    ("2", "Công đoàn cơ sở Công ty Apatit Việt Nam", "2.410", "2.296", "95,3"),
    ("", "Cộng", "3.255", "3.128", "96,1"),
)
CONG_THUONG_PARTS: list[tuple[str, Body]] = [
    ("I. CÔNG TÁC LÃNH ĐẠO, CHỈ ĐẠO", LEAD_BODY),
    ("II. KẾT QUẢ THỰC HIỆN", []),
    ("1. Kết quả học tập và làm theo tư tưởng, đạo đức, phong cách Hồ Chí Minh", RESULT_BODY),
    ("2. Công tác tuyên truyền", ["Đăng 32 tin, bài trên trang thông tin điện tử của Công đoàn ngành."]),
    ("Đánh giá kết quả tổ chức học tập, quán triệt và triển khai Chuyên đề năm 2024", [
        "Công đoàn ngành tổ chức hội nghị học tập Chuyên đề năm 2024 cho cán bộ chủ chốt; kết quả tại các "
        "công đoàn cơ sở như sau:",
        CONG_THUONG_TABLE,
        "Kết quả đạt được: tổ chức 14 buổi/hội nghị, 100% công đoàn cơ sở hoàn thành kế hoạch học tập.",
        "- Cán bộ, đoàn viên liên hệ tinh thần “7 dám” với nhiệm vụ sản xuất, kinh doanh của doanh nghiệp.",
        "Hạn chế:",
        "- Một số đoàn viên làm việc theo ca chưa tham gia học tập đầy đủ.",
    ]),
    ("III. PHƯƠNG HƯỚNG, NHIỆM VỤ NĂM 2025", PLAN_BODY),
]


def f40_cong_thuong_run_in() -> None:
    """An unnumbered bold section: a figures table, then bold 'Kết quả đạt được: ...' and 'Hạn chế:' inside it."""
    r = Report("40_cong_thuong_run_in", parent="LIÊN ĐOÀN LAO ĐỘNG TỈNH LÀO CAI",
               issuer="CÔNG ĐOÀN NGÀNH CÔNG THƯƠNG", number="Số: 06/BC-CĐN",
               place_date="Lào Cai, ngày 26 tháng 02 năm 2024",
               figures=Figures(3255, 3128, "96,1", 14),
               note="run-in bold sub-headings inside an unnumbered section do not end it")
    save_campaign(r, CONG_THUONG_PARTS, CONG_THUONG_PARTS[4][0], run_in=("Kết quả đạt được", "Hạn chế"))


NTM_PARTS: list[tuple[str, Body]] = [
    ("I. CÔNG TÁC LÃNH ĐẠO, CHỈ ĐẠO, ĐIỀU HÀNH", [
        "Đảng ủy ban hành Nghị quyết chuyên đề về xây dựng nông thôn mới nâng cao giai đoạn 2021 - 2025; UBND "
        "xã ban hành 12 kế hoạch triển khai thực hiện.",
        "Công tác tuyên truyền được đẩy mạnh: tổ chức 24 hội nghị quán triệt cho 1.850 lượt cán bộ, đảng viên "
        "và nhân dân; phát động phong trào “Lào Cai chung sức xây dựng nông thôn mới”.",
    ]),
    ("II. KẾT QUẢ TRIỂN KHAI", []),
    ("1. Kết quả thực hiện các tiêu chí", [
        "Đến hết năm 2023, xã đạt 17/19 tiêu chí nông thôn mới nâng cao; thu nhập bình quân đạt 52 triệu "
        "đồng/người/năm.",
    ]),
    ("2. Kết quả huy động, sử dụng nguồn lực", [
        (("Nguồn vốn", "Năm 2021", "Năm 2022", "Năm 2023"), ("Ngân sách Trung ương", "2.150", "2.480", "2.730"),
         ("Nhân dân đóng góp", "850", "920", "1.100")),
    ]),
    ("3. Kết quả thực hiện các nội dung thành phần", [
        "Cứng hóa 4,5 km đường giao thông nông thôn; xây dựng 02 nhà văn hóa thôn; hỗ trợ 35 hộ phát triển "
        "sản xuất.",
    ]),
    ("III. ĐÁNH GIÁ CHUNG", []),
    ("1. Ưu điểm", ["Hệ thống chính trị vào cuộc đồng bộ, người dân tích cực hưởng ứng."]),
    ("2. Tồn tại, hạn chế và nguyên nhân", ["Tiêu chí thu nhập, môi trường chưa bền vững; nguồn lực hạn chế."]),
    ("IV. NHIỆM VỤ, GIẢI PHÁP NĂM 2024 VÀ ĐẾN NĂM 2025", [
        "Phấn đấu đạt chuẩn xã nông thôn mới nâng cao trong năm 2024.",
    ]),
]


def f41_other_subject() -> None:
    """A real report on another subject sent to the campaign: 'II. KẾT QUẢ TRIỂN KHAI' is not the section."""
    r = Report("41_other_subject_ntm", parent="UBND HUYỆN BẢO THẮNG", issuer="ỦY BAN NHÂN DÂN XÃ XUÂN QUANG",
               number="Số: 45/BC-UBND", place_date="Xuân Quang, ngày 20 tháng 02 năm 2024",
               subtitle="Sơ kết 3 năm thực hiện Chương trình MTQG xây dựng nông thôn mới giai đoạn 2021 - 2025",
               intro="Thực hiện Công văn số 112/BCĐ ngày 05/01/2024 của Ban Chỉ đạo các Chương trình mục tiêu "
                     "quốc gia huyện Bảo Thắng, UBND xã Xuân Quang báo cáo sơ kết 3 năm thực hiện như sau:",
               conclusion="Trên đây là báo cáo sơ kết 3 năm thực hiện Chương trình MTQG xây dựng nông thôn mới "
                          "của UBND xã Xuân Quang./.", signer="TM. ỦY BAN NHÂN DÂN",
               note="another subject: generic headings made of the title's words are no evidence")
    save_campaign(r, NTM_PARTS, "")


# -------------------------------------------------------------------- main

PLAIN: list[Callable[[], None]] = [
    f01_heading_styles, f02_bold_plain, f03_all_caps, f04_typed_roman_plain, f05_auto_numbering,
    f06_split_runs, f07_one_cell_table, f08_soft_break, f09_nfd, f10_unikey_combined, f11_old_tone,
    f12_tcvn3, f13_vni, f14_unicode_in_vntime, f15_stats_table, f16_dash_slash, f17_decoys,
    f18_no_section, f19_tab_header, f20_sdt_tracked, f21_a_level, f22_auto_multilevel, f23_gdocs,
    f24_part_two_lines, f25_run_in_and_reporting_sentence, f26_appendix_after_signature,
    f27_speech_asterisk_ordinals, f28_near_misses, f36_kcn_slogan_heading,
    f37_title_inside_longer_headings, f40_cong_thuong_run_in, f41_other_subject,
]
TOOLS: list[Callable[[Path], None]] = [f30_libreoffice, f31_pandoc, f32_legacy_doc, f33_tcvn3_via_libreoffice]


def main(argv: list[str]) -> int:
    wanted = argv[1:]

    def chosen(fn: Callable[..., None]) -> bool:
        return not wanted or any(w in fn.__name__ for w in wanted)

    for fn in PLAIN:
        if chosen(fn):
            fn()
    with tempfile.TemporaryDirectory() as tmp:
        for tool_fn in TOOLS:
            if chosen(tool_fn):
                tool_fn(Path(tmp))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

