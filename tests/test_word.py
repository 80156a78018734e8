"""parse_docx on the golden corpus and on small documents built inline."""
from __future__ import annotations

import io
import json
import struct
import zipfile
from pathlib import Path

import docx
import pytest
from docx.document import Document as DocxDocument
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls, qn

from intake.parsers.errors import EncryptedDocument, UnreadableDocument, UnsupportedDocument
from intake.parsers.layout import build_tree, closing_starts
from intake.parsers.model import Block, BlockKind, Outline
from intake.parsers.section import section_at
from intake.parsers.structure import number_level
from intake.parsers.vietnamese import unicode_to_tcvn3, unicode_to_vni
from intake.parsers.word import DocxLimits, parse_docx

DOCS = Path(__file__).resolve().parent / "corpus" / "docs"
CORPUS = sorted(p for p in DOCS.glob("*.docx"))


def _closing(outline: Outline) -> int | None:
    """Where the report's closing block starts (parsers/layout.py `closing_starts`)."""
    return next(iter(closing_starts(outline.blocks)), None)


def to_bytes(doc: DocxDocument) -> bytes:
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def shown(block: Block) -> str:
    return f"{block.numbering} {block.text}" if block.numbering else block.text


def section_blocks(outline: Outline, index: int) -> list[Block]:
    """What SPEC calls the section: up to the next same-or-higher heading or the closing block."""
    level = outline.blocks[index].level
    assert level is not None
    end = _closing(outline)
    end = end if end is not None else len(outline.blocks)
    out = []
    for block in outline.blocks[index + 1:end]:
        if block.level is not None and block.level <= level:
            break
        out.append(block)
    return out


# ------------------------------------------------------------------ corpus


def test_corpus_is_there() -> None:
    assert len(CORPUS) >= 25
    for path in DOCS.iterdir():
        assert path.stat().st_size < 100 * 1024, path.name


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.stem)
def test_corpus_document(path: Path) -> None:
    exp = json.loads(path.with_name(path.stem + ".expected.json").read_text(encoding="utf-8"))
    outline = parse_docx(path.read_bytes())
    assert outline.issuer == exp["issuer"]
    assert _closing(outline) is not None
    if not exp["found"]:
        return
    nodes = build_tree(outline).nodes
    matches = [n.index for n in nodes if n.heading == exp["heading"]]
    assert matches, [n.heading for n in nodes]
    text = section_at(outline, matches[0]).text
    assert text.startswith(exp["text_startswith"])
    assert text.endswith(exp["text_endswith"])
    for block in outline.blocks:
        assert block.text == block.text.strip()


def test_legacy_corpus_records_encoding() -> None:
    assert parse_docx((DOCS / "12_tcvn3.docx").read_bytes()).legacy_encodings == ("tcvn3",)
    assert parse_docx((DOCS / "13_vni.docx").read_bytes()).legacy_encodings == ("vni",)
    assert parse_docx((DOCS / "33_tcvn3_libreoffice.docx").read_bytes()).legacy_encodings == ("tcvn3",)
    assert parse_docx((DOCS / "14_unicode_vntime_font.docx").read_bytes()).legacy_encodings == ()


def test_legacy_doc_in_corpus_is_unsupported() -> None:
    with pytest.raises(UnsupportedDocument, match=r"legacy \.doc"):
        parse_docx((DOCS / "32_legacy_doc.doc").read_bytes())


def test_stats_table_section_is_a_table_before_the_signature() -> None:
    outline = parse_docx((DOCS / "15_stats_table.docx").read_bytes())
    heading = next(i for i, b in enumerate(outline.blocks) if b.text.startswith("II."))
    body = section_blocks(outline, heading)
    assert [b.kind for b in body] == [BlockKind.TABLE]
    rows = body[0].rows
    assert rows[2][3] == "đạt 95,5%"
    assert rows[3][3] == ""  # vertically merged continuation cell
    assert _closing(outline) == heading + 2


# ---------------------------------------------------------- inline builders


def numbered_doc(lvl_texts: list[tuple[str, str]], paragraphs: list[tuple[str, int, str]],
                 extra_num: str = "") -> bytes:
    """A document whose list (numId 7) has the given (numFmt, lvlText) levels."""
    doc = docx.Document()
    levels = "".join(
        f'<w:lvl w:ilvl="{i}"><w:start w:val="1"/><w:numFmt w:val="{fmt}"/>'
        f'<w:lvlText w:val="{text}"/></w:lvl>'
        for i, (fmt, text) in enumerate(lvl_texts)
    )
    numbering = doc.part.numbering_part.element
    abstract = parse_xml(f'<w:abstractNum {nsdecls("w")} w:abstractNumId="77">{levels}</w:abstractNum>')
    first = numbering.find(qn("w:num"))
    if first is not None:
        first.addprevious(abstract)
    else:
        numbering.append(abstract)
    numbering.append(parse_xml(f'<w:num {nsdecls("w")} w:numId="7"><w:abstractNumId w:val="77"/></w:num>'))
    if extra_num:
        numbering.append(parse_xml(extra_num))
    for text, ilvl, num_id in paragraphs:
        par = doc.add_paragraph()
        par.add_run(text).bold = True
        par._p.get_or_add_pPr().append(parse_xml(
            f'<w:numPr {nsdecls("w")}><w:ilvl w:val="{ilvl}"/><w:numId w:val="{num_id}"/></w:numPr>'
        ))
    return to_bytes(doc)


def test_automatic_numbering_rendering() -> None:
    data = numbered_doc(
        [("upperRoman", "%1."), ("decimal", "%2."), ("decimal", "%2.%3."), ("lowerLetter", "%4)")],
        [("MỤC ĐÍCH", 0, "7"), ("Nội dung", 0, "7"), ("Một", 1, "7"), ("Một một", 2, "7"),
         ("Một hai", 2, "7"), ("Chữ a", 3, "7"), ("Hai", 1, "7"), ("Hai một", 2, "7"), ("BA", 0, "7"),
         ("Một lại", 1, "7")],
    )
    blocks = parse_docx(data).blocks
    assert [b.numbering for b in blocks] == [
        "I.", "II.", "1.", "1.1.", "1.2.", "a)", "2.", "2.1.", "III.", "1."]
    assert [b.level for b in blocks] == [1, 1, 2, 3, 3, 4, 2, 3, 1, 2]
    assert blocks[0].text == "MỤC ĐÍCH"  # the number stays out of the text


def test_numbering_start_override_and_is_lgl() -> None:
    override = (f'<w:num {nsdecls("w")} w:numId="8"><w:abstractNumId w:val="77"/>'
                '<w:lvlOverride w:ilvl="0"><w:startOverride w:val="3"/></w:lvlOverride></w:num>')
    data = numbered_doc(
        [("upperRoman", "%1."), ("decimal", "%1.%2.")],
        [("ĐẦU", 0, "7"), ("TIẾP", 0, "8"), ("con", 1, "8")],
        extra_num=override,
    )
    assert [b.numbering for b in parse_docx(data).blocks] == ["I.", "III.", "III.1."]

    doc = docx.Document()
    numbering = doc.part.numbering_part.element
    abstract = parse_xml(
        f'<w:abstractNum {nsdecls("w")} w:abstractNumId="78">'
        '<w:lvl w:ilvl="0"><w:start w:val="2"/><w:numFmt w:val="upperRoman"/><w:lvlText w:val="%1."/></w:lvl>'
        '<w:lvl w:ilvl="1"><w:start w:val="1"/><w:numFmt w:val="decimal"/><w:isLgl/>'
        '<w:lvlText w:val="%1.%2."/></w:lvl>'
        '<w:lvl w:ilvl="2"><w:start w:val="1"/><w:numFmt w:val="bullet"/><w:lvlText w:val="•"/></w:lvl>'
        '</w:abstractNum>'
    )
    numbering.find(qn("w:num")).addprevious(abstract)
    numbering.append(parse_xml(f'<w:num {nsdecls("w")} w:numId="9"><w:abstractNumId w:val="78"/></w:num>'))
    for text, ilvl in (("HAI", 0), ("con", 1), ("gạch đầu dòng", 2)):
        par = doc.add_paragraph(text)
        par._p.get_or_add_pPr().append(parse_xml(
            f'<w:numPr {nsdecls("w")}><w:ilvl w:val="{ilvl}"/><w:numId w:val="9"/></w:numPr>'
        ))
    blocks = parse_docx(to_bytes(doc)).blocks
    assert [b.numbering for b in blocks] == ["II.", "2.1.", "-"]
    assert blocks[2].level is None  # bullets are body


@pytest.mark.parametrize(
    ("text", "level"),
    [("I. MỤC ĐÍCH", 1), ("II- NỘI DUNG", 1), ("IV.ĐÁNH GIÁ", 1), ("1. Mục đích", 2), ("2- Kết quả", 2),
     ("2/ Kết quả", 2), ("1.1. Nội dung", 3), ("2.1 Nội dung", 3), ("1.1.1. Chi tiết", 4), ("a) Kết quả", 4),
     ("b. Kết quả", 4), ("PHẦN I: KẾT QUẢ", 0), ("V/v báo cáo", None), ("1.250 đoàn viên", None),
     ("2024 là năm", None), ("12/2023 tổ chức", None), ("Kết quả", None)],
)
def test_number_level(text: str, level: int | None) -> None:
    assert number_level(text) == level


def test_heading_levels_and_body_rules() -> None:
    doc = docx.Document()
    doc.add_paragraph("Heading by style name", style="Heading 2")
    doc.add_paragraph("1. " + "Một câu văn dài về kết quả học tập " * 6)  # > 30 words: body
    doc.add_paragraph("- Gạch đầu dòng ngắn")
    doc.add_paragraph("+ Dấu cộng")
    doc.add_paragraph("• Chấm tròn")
    par = doc.add_paragraph()
    par.add_run("Kết quả nổi bật").bold = True
    custom = doc.styles.add_style("Mục lớn", 1)
    custom.element.get_or_add_pPr().append(parse_xml(f'<w:outlineLvl {nsdecls("w")} w:val="0"/>'))
    doc.add_paragraph("Theo outlineLvl", style="Mục lớn")
    blocks = parse_docx(to_bytes(doc)).blocks
    assert blocks[0].level == 2 and blocks[0].style == "Heading 2"
    assert [b.level for b in blocks[1:5]] == [None, None, None, None]
    assert blocks[5].level is not None and blocks[5].bold
    assert blocks[6].level == 1


def test_split_runs_soft_break_and_tracked_changes() -> None:
    doc = docx.Document()
    par = doc.add_paragraph()
    par.add_run("III. ĐÁNH").bold = True
    run = par.add_run(" GIÁ VIỆC HỌC TẬP,")
    run.bold = True
    run.add_break()
    par.add_run("QUÁN TRIỆT").bold = True
    par._p.append(parse_xml(
        f'<w:del {nsdecls("w")} w:id="1" w:author="a"><w:r><w:delText> CŨ</w:delText></w:r></w:del>'))
    par._p.append(parse_xml(
        f'<w:ins {nsdecls("w")} w:id="2" w:author="a"><w:r><w:rPr><w:b/></w:rPr>'
        '<w:t xml:space="preserve"> NĂM 2024</w:t></w:r></w:ins>'))
    par._p.append(parse_xml(
        f'<w:hyperlink {nsdecls("w")}><w:r><w:rPr><w:b/></w:rPr><w:t xml:space="preserve"> (xem)</w:t></w:r>'
        '</w:hyperlink>'))
    block = parse_docx(to_bytes(doc)).blocks[0]
    assert block.text == "III. ĐÁNH GIÁ VIỆC HỌC TẬP, QUÁN TRIỆT NĂM 2024 (xem)"
    assert block.level == 1


def test_sdt_fallback_and_field_text() -> None:
    doc = docx.Document()
    body = doc.element.body
    sect = body[-1]
    sect.addprevious(parse_xml(
        f'<w:sdt {nsdecls("w")}><w:sdtContent><w:p><w:r><w:t>Trong sdt</w:t></w:r>'
        '<w:sdt><w:sdtContent><w:r><w:t xml:space="preserve"> và inline</w:t></w:r></w:sdtContent></w:sdt>'
        '<w:fldSimple w:instr="PAGE"><w:r><w:t xml:space="preserve"> 7</w:t></w:r></w:fldSimple>'
        '</w:p></w:sdtContent></w:sdt>'
    ))
    sect.addprevious(parse_xml(
        '<w:p xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" '
        'xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006">'
        '<w:r><w:t>A</w:t></w:r><mc:AlternateContent><mc:Choice Requires="wps"><w:r><w:t>B</w:t></w:r>'
        '</mc:Choice><mc:Fallback><w:r><w:t>B</w:t></w:r></mc:Fallback></mc:AlternateContent>'
        '<w:r><w:tab/><w:t>C</w:t><w:softHyphen/><w:t>D</w:t><w:noBreakHyphen/><w:t>E</w:t>'
        '<w:instrText> PAGE </w:instrText></w:r></w:p>'
    ))
    blocks = parse_docx(to_bytes(doc)).blocks
    assert blocks[0].text == "Trong sdt và inline 7"
    assert blocks[1].text == "AB CD-E"


def test_tables_merged_and_nested() -> None:
    doc = docx.Document()
    table = doc.add_table(rows=3, cols=3)
    for i in range(3):
        for j in range(3):
            table.cell(i, j).text = f"r{i}c{j}"
    table.cell(0, 0).merge(table.cell(0, 1))       # horizontal: one cell
    table.cell(1, 2).merge(table.cell(2, 2))       # vertical: continuation empty
    table.cell(1, 0).add_paragraph("second para")
    inner = table.cell(2, 1).add_table(rows=1, cols=2)
    inner.cell(0, 0).text = "in1"
    inner.cell(0, 1).text = "in2"
    block = parse_docx(to_bytes(doc)).blocks[0]
    assert block.kind == BlockKind.TABLE
    assert block.rows[0] == ("r0c0\nr0c1", "r0c2")
    assert block.rows[1] == ("r1c0\nsecond para", "r1c1", "r1c2\nr2c2")
    assert block.rows[2] == ("r2c0", "r2c1\nin1 in2", "")
    assert block.text.split("\n") == ["r0c0 r0c1\tr0c2", "r1c0 second para\tr1c1\tr1c2 r2c2",
                                      "r2c0\tr2c1 in1 in2\t"]


def test_one_cell_table_heading_becomes_paragraph() -> None:
    doc = docx.Document()
    doc.add_paragraph("I. MỞ ĐẦU")
    box = doc.add_table(rows=1, cols=1)
    box.cell(0, 0).paragraphs[0].add_run("II. ĐÁNH GIÁ RIÊNG").bold = True
    note = doc.add_table(rows=1, cols=1)
    note.cell(0, 0).text = "Ghi chú: số liệu tính đến ngày 20/02/2024, chưa gồm các đơn vị mới thành lập."
    blocks = parse_docx(to_bytes(doc)).blocks
    assert blocks[1] == Block(BlockKind.PARAGRAPH, "II. ĐÁNH GIÁ RIÊNG", level=1, style="Normal", bold=True)
    assert blocks[2].kind == BlockKind.TABLE


def set_fonts(run: object, name: str) -> None:
    rpr = run._r.get_or_add_rPr()  # type: ignore[attr-defined]
    rpr.insert(0, parse_xml(f'<w:rFonts {nsdecls("w")} w:ascii="Times New Roman" w:hAnsi="{name}"/>'))


def test_legacy_runs_converted_by_hansi_font() -> None:
    doc = docx.Document()
    par = doc.add_paragraph()
    set_fonts(par.add_run(unicode_to_tcvn3("Đánh giá kết quả học tập của đoàn viên công đoàn")), ".VnTime")
    par = doc.add_paragraph()
    set_fonts(par.add_run(unicode_to_tcvn3("ĐÁNH GIÁ RIÊNG", capitals_font=True)), ".VnTimeH")
    # VNI: a base letter and its mark split across two differently formatted runs.
    encoded = unicode_to_vni("Kết quả học tập chuyên đề")
    par = doc.add_paragraph()
    set_fonts(par.add_run(encoded[:2]), "VNI-Times")
    second = par.add_run(encoded[2:])
    second.bold = True
    set_fonts(second, "VNI-Times")
    par = doc.add_paragraph()
    set_fonts(par.add_run("Văn bản Unicode trong phông .VnTime"), ".VnTime")
    outline = parse_docx(to_bytes(doc))
    assert [b.text for b in outline.blocks] == [
        "Đánh giá kết quả học tập của đoàn viên công đoàn",
        "ĐÁNH GIÁ RIÊNG",
        "Kết quả học tập chuyên đề",
        "Văn bản Unicode trong phông .VnTime",
    ]
    assert outline.legacy_encodings == ("tcvn3", "vni")


def test_tcvn3_soft_hyphen_is_u_horn() -> None:
    doc = docx.Document()
    par = doc.add_paragraph()
    encoded = unicode_to_tcvn3("Công đoàn cơ sở trường học")
    assert "\u00ad" in encoded
    run = par.add_run()
    set_fonts(run, ".VnTime")
    for i, piece in enumerate(encoded.split("\u00ad")):
        if i:
            run._r.append(parse_xml(f'<w:softHyphen {nsdecls("w")}/>'))
        t = parse_xml(f'<w:t {nsdecls("w")} xml:space="preserve"/>')
        t.text = piece
        run._r.append(t)
    assert parse_docx(to_bytes(doc)).blocks[0].text == "Công đoàn cơ sở trường học"


def test_nfd_text_comes_out_nfc() -> None:
    import unicodedata

    doc = docx.Document()
    doc.add_paragraph(unicodedata.normalize("NFD", "Cộng hòa xã hội chủ nghĩa"))
    assert parse_docx(to_bytes(doc)).blocks[0].text == "Cộng hòa xã hội chủ nghĩa"


def test_issuer_table_and_tabs() -> None:
    doc = docx.Document()
    table = doc.add_table(rows=1, cols=2)
    left, right = table.rows[0].cells
    left.paragraphs[0].add_run("LIÊN ĐOÀN LAO ĐỘNG")
    left.add_paragraph().add_run("TỈNH LÀO CAI")
    left.add_paragraph("Số: 15/BC-LĐLĐ")
    right.paragraphs[0].add_run("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM")
    right.add_paragraph("Độc lập - Tự do - Hạnh phúc")
    assert parse_docx(to_bytes(doc)).issuer == "LIÊN ĐOÀN LAO ĐỘNG TỈNH LÀO CAI"

    doc = docx.Document()
    table = doc.add_table(rows=1, cols=2)
    left, right = table.rows[0].cells
    left.paragraphs[0].add_run("LĐLĐ HUYỆN BẢO THẮNG")
    left.add_paragraph().add_run("CÔNG ĐOÀN CƠ SỞ")
    left.add_paragraph().add_run("TRƯỜNG THCS XUÂN QUANG")
    right.paragraphs[0].add_run("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM")
    assert parse_docx(to_bytes(doc)).issuer == "CÔNG ĐOÀN CƠ SỞ TRƯỜNG THCS XUÂN QUANG"

    doc = docx.Document()
    doc.add_paragraph("LĐLĐ TỈNH LÀO CAI\t\tCỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM")
    doc.add_paragraph("LĐLĐ HUYỆN BẮC HÀ\t\tĐộc lập - Tự do - Hạnh phúc")
    doc.add_paragraph("Số: 3/BC-LĐLĐ\t\tBắc Hà, ngày 1 tháng 2 năm 2024")
    doc.add_paragraph("BÁO CÁO")
    assert parse_docx(to_bytes(doc)).issuer == "LĐLĐ HUYỆN BẮC HÀ"

    doc = docx.Document()
    doc.add_paragraph("Báo cáo không có phần đầu")
    assert parse_docx(to_bytes(doc)).issuer is None


def test_closing_start_variants() -> None:
    doc = docx.Document()
    doc.add_paragraph("I. NỘI DUNG")
    doc.add_paragraph("Chủ tịch công đoàn đã chỉ đạo sát sao việc học tập chuyên đề tại đơn vị.")
    doc.add_paragraph("TRÊN ĐÂY LÀ BÁO CÁO KẾT QUẢ HỌC TẬP CHUYÊN ĐỀ NĂM 2024./.")
    doc.add_paragraph("Nơi nhận:")
    assert _closing(parse_docx(to_bytes(doc))) == 2

    doc = docx.Document()
    doc.add_paragraph("I. NỘI DUNG")
    doc.add_paragraph("Nội dung báo cáo.")
    sig = doc.add_table(rows=1, cols=2)
    sig.cell(0, 0).text = "Nơi nhận:\n- Lưu VT."
    sig.cell(0, 1).text = "KT. CHỦ TỊCH"
    assert _closing(parse_docx(to_bytes(doc))) == 2

    doc = docx.Document()
    doc.add_paragraph("I. NỘI DUNG")
    doc.add_paragraph("Nội dung báo cáo.")
    doc.add_paragraph("PHÓ CHỦ TỊCH")
    assert _closing(parse_docx(to_bytes(doc))) == 2

    doc = docx.Document()
    doc.add_paragraph("Không có phần kết.")
    assert _closing(parse_docx(to_bytes(doc))) is None


# ------------------------------------------------------------ hostile input


def minimal_docx(document_xml: bytes, extra: dict[str, bytes] | None = None,
                 compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as zf:
        zf.writestr("[Content_Types].xml", b"<Types/>")
        zf.writestr("word/document.xml", document_xml)
        for name, data in (extra or {}).items():
            zf.writestr(name, data)
    return buf.getvalue()


BODY = (b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        b"<w:body><w:p><w:r><w:t>Xin ch\xc3\xa0o</w:t></w:r></w:p></w:body></w:document>")


def test_minimal_package_without_rels_parses() -> None:
    assert parse_docx(minimal_docx(BODY)).blocks[0].text == "Xin chào"


def test_zip_bomb_rejected_before_parsing() -> None:
    bomb = minimal_docx(BODY, {"word/media/bomb.bin": b"\0" * (5 * 1024 * 1024)})
    with pytest.raises(UnreadableDocument, match="zip bomb"):
        parse_docx(bomb)
    with pytest.raises(UnreadableDocument, match="too large"):
        parse_docx(bomb, DocxLimits(max_part_bytes=1024 * 1024, max_ratio=10_000))
    with pytest.raises(UnreadableDocument, match="too large"):
        parse_docx(bomb, DocxLimits(max_total_bytes=2 * 1024 * 1024, max_ratio=10_000))
    with pytest.raises(UnreadableDocument, match="file too large"):
        parse_docx(BODY + b"\0" * 200, DocxLimits(max_file_bytes=100))


def test_member_count_and_names() -> None:
    many = minimal_docx(BODY, {f"word/media/{i}.bin": b"x" for i in range(30)})
    with pytest.raises(UnreadableDocument, match="too many"):
        parse_docx(many, DocxLimits(max_members=10))
    with pytest.raises(UnreadableDocument, match="suspicious"):
        parse_docx(minimal_docx(BODY, {"../evil.xml": b"x"}))


def test_corrupt_and_incomplete_packages() -> None:
    good = minimal_docx(BODY)
    with pytest.raises(UnreadableDocument):
        parse_docx(good[: len(good) // 2])
    with pytest.raises(UnreadableDocument, match="not a Word document"):
        parse_docx(b"%PDF-1.4 not word")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("hello.txt", "x")
    with pytest.raises(UnreadableDocument, match=r"word/document\.xml"):
        parse_docx(buf.getvalue())
    with pytest.raises(UnreadableDocument, match="malformed XML"):
        parse_docx(minimal_docx(b"<w:document><w:body>"))


def test_external_entities_are_not_resolved(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("SECRET")
    xml = (f'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file://{secret}">]>'
           '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
           "<w:body><w:p><w:r><w:t>a&x;b</w:t></w:r></w:p></w:body></w:document>").encode()
    try:
        outline = parse_docx(minimal_docx(xml))
    except UnreadableDocument:
        return
    assert all("SECRET" not in b.text for b in outline.blocks)


def test_docm_and_dotx_content_types_are_fine() -> None:
    data = to_bytes(_doc_with("Báo cáo macro"))
    buf = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            content = src.read(info)
            if info.filename == "[Content_Types].xml":
                content = content.replace(
                    b"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
                    b"application/vnd.ms-word.document.macroEnabled.main+xml",
                )
            dst.writestr(info, content)
    assert parse_docx(buf.getvalue()).blocks[0].text == "Báo cáo macro"


def _doc_with(text: str) -> DocxDocument:
    doc = docx.Document()
    doc.add_paragraph(text)
    return doc


def tiny_ole(stream_name: str) -> bytes:
    """A minimal OLE2 compound file holding one small stream (olefile cannot write)."""
    sector = 512
    endofchain, freesect, fatsect = 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFD
    payload = b"\0" * 4096  # >= mini stream cutoff, so it lives in normal sectors
    n_data = len(payload) // sector
    # Sector 0: FAT; 1: directory; 2..: stream data.
    fat = [fatsect, endofchain] + [3 + i for i in range(n_data - 1)] + [endofchain]
    fat += [freesect] * (sector // 4 - len(fat))
    header = bytearray(sector)
    header[0:8] = bytes.fromhex("D0CF11E0A1B11AE1")
    struct.pack_into("<HHHHH", header, 24, 0x3E, 3, 0xFFFE, 9, 6)
    struct.pack_into("<IIIIIIII", header, 40, 0, 1, 1, 0, 0x1000, endofchain, 0, endofchain)
    struct.pack_into("<I", header, 72, 0)
    struct.pack_into("<I", header, 76, 0)
    for i in range(1, 109):
        struct.pack_into("<I", header, 76 + 4 * i, freesect)

    def entry(name: str, kind: int, start: int, size: int, child: int = 0xFFFFFFFF) -> bytes:
        raw = name.encode("utf-16-le") + b"\0\0"
        out = bytearray(128)
        out[0:len(raw)] = raw
        struct.pack_into("<HBB", out, 64, len(raw), kind, 1)
        struct.pack_into("<III", out, 68, 0xFFFFFFFF, 0xFFFFFFFF, child)
        struct.pack_into("<II", out, 116, start, size)
        return bytes(out)

    directory = entry("Root Entry", 5, endofchain, 0, child=1) + entry(stream_name, 2, 2, len(payload))
    directory += b"\0" * (sector - len(directory))
    return bytes(header) + struct.pack(f"<{sector // 4}I", *fat) + directory + payload


def test_encrypted_ole_detected() -> None:
    with pytest.raises(EncryptedDocument):
        parse_docx(tiny_ole("EncryptedPackage"))
    with pytest.raises(UnsupportedDocument, match=r"legacy \.doc"):
        parse_docx(tiny_ole("WordDocument"))


def test_msoffcrypto_encrypted_docx_detected() -> None:
    msoffcrypto = pytest.importorskip("msoffcrypto")
    from msoffcrypto.format.ooxml import OOXMLFile

    plain = io.BytesIO(to_bytes(_doc_with("Bí mật")))
    encrypted = io.BytesIO()
    OOXMLFile(plain).encrypt("matkhau", encrypted)
    assert msoffcrypto is not None
    with pytest.raises(EncryptedDocument):
        parse_docx(encrypted.getvalue())


def test_curly_quotes_dashes_and_ellipses_are_kept_as_written() -> None:
    doc = docx.Document()
    doc.add_paragraph("I. NỘI DUNG")
    doc.add_paragraph("Phong trào “Góp gạo nuôi em” – ‘tháng’ … 2024")
    blocks = parse_docx(to_bytes(doc)).blocks
    assert blocks[1].text == "Phong trào “Góp gạo nuôi em” – ‘tháng’ … 2024"
    assert blocks[1].folded == "phong trao gop gao nuoi em thang 2024"


# ------------------------------------------------------------------ table styles left out of styles.xml

W_NS = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
PARA_STYLE = ('<w:style w:type="paragraph" w:styleId="Heading1"><w:name w:val="heading 1"/>'
              '<w:pPr><w:outlineLvl w:val="0"/></w:pPr></w:style>')
TABLE_STYLE = ('<w:style w:type="table" w:styleId="Grid"><w:name w:val="Table Grid"/>'
               '<w:tblPr><w:tblBorders/></w:tblPr></w:style>')


def styles_part(body: str, root_attrs: str = W_NS) -> bytes:
    return f'<?xml version="1.0" encoding="UTF-8"?><w:styles {root_attrs}>{body}</w:styles>'.encode()


def test_table_styles_are_cut_and_the_rest_kept() -> None:
    from lxml import etree

    from intake.parsers.docx_styles import Styles, without_table_styles

    xml = styles_part(PARA_STYLE + TABLE_STYLE + "<w:style w:styleId='T2' w:type='table'/>" + PARA_STYLE.replace(
        "Heading1", "Body"))
    cut = without_table_styles(xml)
    root = etree.fromstring(cut)
    assert [el.get(qn("w:styleId")) for el in root.iterfind(qn("w:style"))] == ["Heading1", "Body"]
    assert Styles(root).paragraph("Heading1").heading_level == 1


@pytest.mark.parametrize("xml", [
    styles_part("<!-- a comment -->" + TABLE_STYLE),
    styles_part(TABLE_STYLE.replace("<w:name", f"<w:name {W_NS}")),  # "w" bound a second time
    styles_part(TABLE_STYLE, root_attrs='xmlns:w="urn:other"'),  # "w" is not Word's namespace
    styles_part(TABLE_STYLE.replace("</w:style>", "")),  # never closed
    styles_part(TABLE_STYLE.replace("</w:tblPr>", "</w:tblPr>" + PARA_STYLE)),  # a style inside it
    styles_part(PARA_STYLE),  # nothing to cut
], ids=["comment", "rebound", "other-namespace", "unclosed", "nested", "no-table-style"])
def test_table_styles_are_left_when_the_cut_could_change_meaning(xml: bytes) -> None:
    from intake.parsers.docx_styles import without_table_styles

    assert without_table_styles(xml) is xml


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.stem)
def test_outline_is_the_same_with_table_styles_cut(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import intake.parsers.word as word

    data = path.read_bytes()
    cut = parse_docx(data)
    monkeypatch.setattr(word, "without_table_styles", lambda xml: xml)
    assert parse_docx(data) == cut


def test_python_docx_template_loses_its_table_styles() -> None:
    from intake.parsers.docx_styles import without_table_styles

    with zipfile.ZipFile(io.BytesIO(to_bytes(docx.Document()))) as package:
        xml = package.read("word/styles.xml")
    cut = without_table_styles(xml)
    assert b'w:type="table"' in xml and b'w:type="table"' not in cut
    assert len(cut) < len(xml) / 3
