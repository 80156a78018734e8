"""read_guideline on real files: .txt in three encodings, .docx, .doc and a text PDF made by LibreOffice,
an image-only PDF, and files that are no guideline. LibreOffice and poppler are real; tests fail without them."""
from __future__ import annotations

import io
import shutil
import struct
import subprocess
import unicodedata
import zlib
from pathlib import Path

import docx
import pytest
from test_guideline import GUIDELINES, NOW, SEED, TZ

from intake.parsers.errors import UsageError
from intake.parsers.guideline import GuidelineFacts
from intake.processor import guideline as reading
from intake.processor.documents import DocumentReader, ReaderLimits
from intake.processor.guideline import describe_guideline, guideline_json, read_guideline

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
TET = "cong-van-tet-2026.txt"
TET_FACTS = {
    "title": "Báo cáo kết quả chăm lo Tết Nguyên đán Bính Ngọ năm 2026",
    "deadline": "2026-01-20T17:00:00+07:00",
    "section_title": "Đánh giá kết quả thực hiện chương trình \"Tết Sum vầy\" và hỗ trợ đoàn viên "
                     "có hoàn cảnh khó khăn",
    "address": "bantochuc.ldldlaocai@gmail.com",
}
TONES = "\u0300\u0301\u0303\u0309\u0323"


@pytest.fixture(scope="module")
def reader(tmp_path_factory: pytest.TempPathFactory) -> DocumentReader:
    work = tmp_path_factory.mktemp("guideline-soffice")
    work.chmod(0o700)
    return DocumentReader(ReaderLimits(work_dir=str(work)))


def facts_of(name: str, data: bytes, reader: DocumentReader) -> GuidelineFacts:
    return read_guideline(name, data, TZ, NOW, reader=reader)


def four(facts: GuidelineFacts) -> dict[str, str | None]:
    out = guideline_json(facts)
    return {key: out[key] for key in ("title", "deadline", "section_title", "address")}


def tet_docx() -> bytes:
    """The công văn as offices lay it out: the header in a two-column table, "V/v" under the number."""
    lines = (GUIDELINES / TET).read_text(encoding="utf-8").split("\n")
    document = docx.Document()
    table = document.add_table(rows=1, cols=2)
    for cell, cell_lines in zip(table.rows[0].cells, (lines[0:3], lines[4:7]), strict=True):
        cell.paragraphs[0].text = cell_lines[0]
        for line in cell_lines[1:]:
            cell.add_paragraph(line)
    for line in lines[7:]:
        if line.strip():
            document.add_paragraph(line)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def png_pixel_image() -> bytes:
    """A small grey PNG, as a scanner would give (no text in it for pdftotext)."""
    width = height = 64
    raw = b"".join(b"\x00" + b"\x80" * width for _ in range(height))

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def image_only_docx() -> bytes:
    document = docx.Document()
    document.add_picture(io.BytesIO(png_pixel_image()))
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def soffice_convert(data: bytes, target: str, tmp_path: Path) -> bytes:
    """Convert .docx bytes with LibreOffice itself ("doc:MS Word 97", "pdf:writer_pdf_Export")."""
    assert SOFFICE is not None, "LibreOffice (soffice) must be installed: run scripts/setup-system.sh"
    source = tmp_path / "made.docx"
    source.write_bytes(data)
    subprocess.run(
        [SOFFICE, "--headless", "--norestore", "--nologo", "--nodefault", "--nolockcheck",
         f"-env:UserInstallation={(tmp_path / 'maker-profile').as_uri()}",
         "--convert-to", target, "--outdir", str(tmp_path / "made"), str(source)],
        check=True, capture_output=True, timeout=180,
    )
    return (tmp_path / "made" / f"made.{target.split(':')[0]}").read_bytes()


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """The công văn as .docx, and the .doc and PDF LibreOffice makes of it; an image-only PDF."""
    data = tet_docx()
    return {
        "docx": data,
        "doc": soffice_convert(data, "doc:MS Word 97", tmp_path_factory.mktemp("doc")),
        "pdf": soffice_convert(data, "pdf:writer_pdf_Export", tmp_path_factory.mktemp("pdf")),
        "scan": soffice_convert(image_only_docx(), "pdf:writer_pdf_Export", tmp_path_factory.mktemp("scan")),
    }


def test_seed_guideline_file(reader: DocumentReader) -> None:
    facts = facts_of("guideline-2024.txt", SEED.read_bytes(), reader)
    assert four(facts) == {
        "title": "Học tập chuyên đề học tập và làm theo tư tưởng, đạo đức, phong cách Hồ Chí Minh năm 2024 về "
                 "“Dám nghĩ; dám nói; dám làm; dám chịu trách nhiệm; dám đổi mới, sáng tạo; dám đương đầu với "
                 "khó khăn, thử thách; dám hành động vì lợi ích chung”",
        "deadline": "2024-02-29T00:00:00+07:00",
        "section_title": "Đánh giá riêng về kết quả tổ chức học tập, quán triệt và triển khai Chuyên đề năm 2024",
        "address": "bantuyengiaonuconglc@gmail.com",
    }


def windows_1258(text: str) -> bytes:
    """Text as Vietnamese Windows writes it: base letters (â, ê, ơ ...) precomposed, tones combining."""
    out = []
    for char in unicodedata.normalize("NFC", text):
        parts = unicodedata.normalize("NFD", char)
        tones = "".join(c for c in parts if c in TONES)
        out.append(unicodedata.normalize("NFC", "".join(c for c in parts if c not in TONES)) + tones)
    return "".join(out).encode("cp1258")


@pytest.mark.parametrize("encode", [
    lambda text: text.encode("utf-8"),
    lambda text: b"\xef\xbb\xbf" + text.encode("utf-8"),
    lambda text: text.encode("utf-16"),          # with its BOM, little-endian here
    lambda text: b"\xfe\xff" + text.encode("utf-16-be"),
    windows_1258,
], ids=["utf-8", "utf-8-bom", "utf-16-le", "utf-16-be", "windows-1258"])
def test_text_files_in_every_encoding(encode: object, reader: DocumentReader) -> None:
    text = (GUIDELINES / TET).read_text(encoding="utf-8")
    assert callable(encode)
    facts = facts_of("cong van.txt", encode(text), reader)
    assert four(facts) == TET_FACTS


@pytest.mark.parametrize("kind", ["docx", "doc", "pdf"])
def test_word_and_pdf_files(kind: str, made: dict[str, bytes], reader: DocumentReader) -> None:
    facts = facts_of(f"Công văn Tết.{kind}", made[kind], reader)
    assert four(facts) == TET_FACTS
    assert [c.written for c in facts.deadline_candidates] == [
        "ngày 05 tháng 12 năm 2025", "ngày 25/11/2025", "ngày 17/01/2026", "trước 17 giờ 00 ngày 20 tháng 01 năm 2026"]


def test_image_only_pdf_gets_a_clear_error(made: dict[str, bytes], reader: DocumentReader) -> None:
    with pytest.raises(UsageError) as caught:
        facts_of("scan.pdf", made["scan"], reader)
    assert str(caught.value) == reading.IMAGE_ONLY_PDF
    assert "bản scan" in str(caught.value)


@pytest.mark.parametrize(("name", "data", "message"), [
    ("empty.txt", b"", reading.EMPTY_FILE),
    ("photo.png", png_pixel_image(), reading.NOT_A_GUIDELINE_FORMAT.format(label="PNG image")),
    ("binary.txt", b"\x00\x01\x02 not text", reading.NOT_TEXT),
    ("blank.txt", b"  \n\n ", reading.NO_TEXT),
    ("broken.pdf", b"%PDF-1.4\n garbage with no objects", reading.UNREADABLE_PDF.format(
        reason="tệp hỏng hoặc không phải PDF")),
    ("broken.docx", b"PK\x03\x04 not really a zip", None),
])
def test_files_that_are_no_guideline(name: str, data: bytes, message: str | None, reader: DocumentReader) -> None:
    with pytest.raises(UsageError) as caught:
        facts_of(name, data, reader)
    if message is not None:
        assert str(caught.value) == message
    else:
        assert str(caught.value).startswith("Không đọc được tệp Word: ")


def test_size_limits_come_from_the_reader(tmp_path: Path) -> None:
    small = DocumentReader(ReaderLimits(max_bytes=100, work_dir=str(tmp_path)))
    with pytest.raises(UsageError, match="quá lớn"):
        read_guideline("a.txt", b"x" * 101, TZ, NOW, reader=small)
    with pytest.raises(UsageError, match="quá dài"):
        read_guideline("a.txt", "Báo cáo. ".encode() * (reading.MAX_TEXT_CHARS // 8), TZ, NOW)


def test_the_uploader_s_file_name_never_becomes_a_path(made: dict[str, bytes], reader: DocumentReader,
                                                       tmp_path: Path) -> None:
    name = str(tmp_path / "evil" / ".." / "written.pdf")
    facts = facts_of(name, made["pdf"], reader)
    assert facts.deadline is not None
    assert not (tmp_path / "written.pdf").exists() and not (tmp_path / "evil").exists()


def test_json_gives_spec_s_four_values_and_the_sources(reader: DocumentReader) -> None:
    facts = facts_of(TET, (GUIDELINES / TET).read_bytes(), reader)
    out = guideline_json(facts)
    deadline = out["sources"]["deadline"]
    assert deadline["text"] == "trước 17 giờ 00 ngày 20 tháng 01 năm 2026"
    assert facts.text[deadline["start"]:deadline["end"]] == deadline["text"]
    assert deadline["sentence"].startswith("3. Các đơn vị tổng hợp kết quả chăm lo Tết")
    assert [(c["role"], c["taken"], c["why"]) for c in out["deadline_candidates"]] == [
        ("document_date", False, "ngày ban hành của chính văn bản này"),
        ("cited_document", False, "ngày của văn bản được viện dẫn"),
        ("other", False, "ngày khác (kế hoạch, học tập, hội nghị)"),
        ("deadline", True, "hạn gửi báo cáo"),
    ]
    assert out["outline"] == []
    assert guideline_json(facts, "en")["deadline_candidates"][3]["why"] == "deadline for sending the report"


def test_unclear_deadline_is_null_with_candidates_shown(reader: DocumentReader) -> None:
    name = "cong-van-so-ket-khong-ro-han.txt"
    facts = facts_of(name, (GUIDELINES / name).read_bytes(), reader)
    out = guideline_json(facts)
    assert out["deadline"] is None and out["sources"]["deadline"] is None
    assert [c["when"] for c in out["deadline_candidates"] if c["role"] == "ambiguous"] == [
        "2025-06-15T00:00:00+07:00", "2025-11-15T00:00:00+07:00"]
    lines = describe_guideline(facts)
    assert lines[1] == "Hạn báo cáo: chưa rõ"
    assert "  - «trước ngày 15/6/2025» → 15/06/2025 00:00: hạn gửi báo cáo, nhưng văn bản còn nêu hạn khác: cần chọn" \
        in lines


def test_describe_shows_the_outline(reader: DocumentReader) -> None:
    name = "ke-hoach-de-cuong-nghi-quyet.txt"
    lines = describe_guideline(facts_of(name, (GUIDELINES / name).read_bytes(), reader))
    assert lines[:4] == [
        "Tiêu đề: Sơ kết 5 năm thực hiện Nghị quyết Đại hội XVII Công đoàn tỉnh Lào Cai",
        "Hạn báo cáo: 31/12/2025 17:00:00 +0700 («trước 17h00 ngày 31/12/2025»)",
        "Mục bắt buộc: Đánh giá riêng về kết quả thực hiện các chỉ tiêu Nghị quyết giai đoạn 2023-2025",
        "Địa chỉ nhận: bantochucldld@laocai.gov.vn",
    ]
    assert lines[-3:] == ["  III. HẠN CHẾ, NGUYÊN NHÂN", "  IV. PHƯƠNG HƯỚNG, NHIỆM VỤ ĐẾN NĂM 2028",
                          "  V. ĐỀ XUẤT, KIẾN NGHỊ"]


def test_docx_with_its_attached_outline(reader: DocumentReader) -> None:
    name = "ke-hoach-de-cuong-nghi-quyet.txt"
    text = (GUIDELINES / name).read_text(encoding="utf-8")
    document = docx.Document()
    for line in text.split("\n"):
        if line.strip():
            document.add_paragraph(line)
    buffer = io.BytesIO()
    document.save(buffer)
    from_word = facts_of("ke hoach.docx", buffer.getvalue(), reader)
    from_text = facts_of(name, text.encode(), reader)
    assert four(from_word) == four(from_text)
    assert four(from_word)["deadline"] == "2025-12-31T17:00:00+07:00"
    assert [(i.level, i.number, i.title) for i in from_word.outline] == [
        (i.level, i.number, i.title) for i in from_text.outline]
    assert len(from_word.outline) == 11
