"""Pure tests of intake.parsers.filetype: no LibreOffice, no processes."""
from __future__ import annotations

import io
import random
import struct
import zipfile
from pathlib import Path

import pytest

from intake.parsers.filetype import classify, html_from_mhtml, is_word_candidate, sniff, suffix_of
from intake.parsers.model import FileKind

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "documents"
OCTET = "application/octet-stream"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def make_zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("filename", "expected"),
    [
        ("report.DOCX", ".docx"),
        ("Báo cáo.Doc", ".doc"),
        ("C:\\Users\\x\\BC.DOC", ".doc"),
        ("../../etc/passwd.doc", ".doc"),
        ("no-suffix", ""),
        ("", ""),
        ("trailing.docx.", ".docx"),
    ],
)
def test_suffix_of(filename: str, expected: str) -> None:
    assert suffix_of(filename) == expected


@pytest.mark.parametrize(
    "filename", ["bc.docx", "BC.DOCX", "bc.docm", "bc.dotx", "bc.doc", "", "ATT00001.bin"]
)
def test_docx_by_content_whatever_the_name(filename: str) -> None:
    assert classify(filename, OCTET, fixture("sample.docx")) is FileKind.DOCX


def test_docx_found_through_content_types_only() -> None:
    types = (b'<Types><Override PartName="/word/main.xml" ContentType="application/'
             b'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>')
    data = make_zip({"[Content_Types].xml": types, "word/main.xml": b"<x/>"})
    assert classify("x.bin", OCTET, data) is FileKind.DOCX


def test_xlsx_is_other() -> None:
    types = (b'<Types><Override ContentType="application/'
             b'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/></Types>')
    data = make_zip({"[Content_Types].xml": types, "xl/workbook.xml": b"<x/>"})
    assert classify("table.xlsx", OCTET, data) is FileKind.OTHER


def test_plain_zip_is_other_even_named_docx() -> None:
    data = make_zip({"readme.txt": b"hello"})
    assert classify("report.docx", OCTET, data) is FileKind.OTHER


def test_truncated_docx_is_still_docx_so_it_reports_unreadable() -> None:
    data = fixture("sample.docx")[:2000]
    assert classify("BC.DOCX", OCTET, data) is FileKind.DOCX
    assert classify("archive.zip", OCTET, data) is FileKind.OTHER


def test_doc() -> None:
    assert classify("BC.DOC", "application/msword", fixture("sample.doc")) is FileKind.DOC
    # A .doc sent without a name, or misnamed .docx, is still a .doc.
    assert classify("", OCTET, fixture("sample.doc")) is FileKind.DOC
    assert classify("bc.docx", OCTET, fixture("sample.doc")) is FileKind.DOC


def test_encrypted_ooxml_is_encrypted() -> None:
    assert classify("bc.docx", OCTET, fixture("encrypted.docx")) is FileKind.ENCRYPTED


def test_doc_with_fib_encryption_flag_is_encrypted() -> None:
    assert classify("bc.doc", OCTET, fixture("encrypted-fib.doc")) is FileKind.ENCRYPTED


def test_ole_without_word_stream_is_other() -> None:
    # An OLE file whose only stream is not "WordDocument" (e.g. an .xls).
    data = bytearray(fixture("sample.doc"))
    index = data.find("WordDocument".encode("utf-16-le"))
    assert index > 0
    data[index : index + 24] = "WordXocument".encode("utf-16-le")
    assert classify("table.xls", OCTET, bytes(data)) is FileKind.OTHER


def test_damaged_ole() -> None:
    data = fixture("sample.doc")[:600]
    assert classify("bc.doc", OCTET, data) is FileKind.DOC
    assert classify("thing.bin", OCTET, data) is FileKind.OTHER


def test_pdf() -> None:
    assert classify("bc.pdf", OCTET, fixture("sample.pdf")) is FileKind.PDF
    assert classify("scan.doc", "application/msword", fixture("sample.pdf")) is FileKind.PDF


@pytest.mark.parametrize(
    "data",
    [
        b"\x89PNG\r\n\x1a\n" + b"\x00" * 20,
        b"\xff\xd8\xff\xe0" + b"\x00" * 20,
        b"GIF89a" + b"\x00" * 20,
        b"II*\x00" + b"\x00" * 20,
        b"MM\x00*" + b"\x00" * 20,
        b"BM" + struct.pack("<IHHII", 100, 0, 0, 54, 40) + b"\x00" * 20,
        b"RIFF\x10\x00\x00\x00WEBPVP8 " + b"\x00" * 20,
    ],
)
def test_images(data: bytes) -> None:
    assert classify("logo.doc", OCTET, data) is FileKind.IMAGE


def test_bm_text_is_not_an_image() -> None:
    assert classify("notes.txt", "text/plain", b"BMW annual report, nothing else") is FileKind.OTHER


def test_png_fixture() -> None:
    assert classify("image001.png", "image/png", fixture("pixel.png")) is FileKind.IMAGE


def test_rtf_odt_html_are_wordlike() -> None:
    assert classify("bc.rtf", OCTET, fixture("sample.rtf")) is FileKind.OTHER_WORDLIKE
    assert classify("bc.doc", OCTET, fixture("sample.rtf")) is FileKind.OTHER_WORDLIKE
    assert classify("bc.odt", OCTET, fixture("sample.odt")) is FileKind.OTHER_WORDLIKE
    assert classify("bc.doc", OCTET, fixture("html-saved-as.doc")) is FileKind.OTHER_WORDLIKE
    assert classify("BC.DOC", OCTET, fixture("mhtml-saved-as.doc")) is FileKind.OTHER_WORDLIKE
    assert classify("bc.doc", OCTET, fixture("wordml2003-saved-as.doc")) is FileKind.OTHER_WORDLIKE


@pytest.mark.parametrize(
    "head",
    [b"<!DOCTYPE html><html><body>x</body></html>", b"<html><body>x</body></html>",
     b"\xef\xbb\xbf  <HTML><body>x</body></HTML>", "<html>x</html>".encode("utf-16")],
)
def test_html_named_doc_is_wordlike(head: bytes) -> None:
    assert classify("bc.doc", OCTET, head) is FileKind.OTHER_WORDLIKE


def test_html_with_word_mime_type_is_wordlike() -> None:
    data = b"<html><body>x</body></html>"
    assert classify("ATT0001", "application/msword", data) is FileKind.OTHER_WORDLIKE


def test_plain_html_page_is_other() -> None:
    assert classify("page.html", "text/html", b"<!DOCTYPE html><html><body>x</body></html>") is FileKind.OTHER
    # The content type alone never makes a Word file.
    assert classify("x.txt", "application/msword", b"hello") is FileKind.OTHER


def test_word_2003_xml_is_wordlike() -> None:
    data = b'<?xml version="1.0"?>\n<?mso-application progid="Word.Document"?>\n<w:wordDocument/>'
    assert classify("bc.doc", OCTET, data) is FileKind.OTHER_WORDLIKE


def test_everything_else_is_other() -> None:
    assert classify("bc.docx", OCTET, b"") is FileKind.OTHER
    noise = b"\x01" + random.Random(7).randbytes(4096)
    assert classify("bc.docx", OCTET, noise) is FileKind.OTHER
    assert classify("notes.txt", "text/plain", "Kính gửi: LĐLĐ tỉnh".encode()) is FileKind.OTHER


def test_random_bytes_never_raise() -> None:
    rng = random.Random(1)
    for size in range(0, 1400, 7):
        data = rng.randbytes(size)
        for prefix in (b"", b"PK\x03\x04", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", b"{\\rtf", b"%PDF-"):
            assert isinstance(classify("x.doc", OCTET, prefix + data), FileKind)


def test_sniff_names_the_type() -> None:
    assert sniff("a.pdf", OCTET, fixture("sample.pdf")).label == "PDF"
    assert sniff("a.png", OCTET, fixture("pixel.png")).label == "PNG image"
    assert sniff("a.rtf", OCTET, fixture("sample.rtf")).fmt == "rtf"
    assert sniff("a.doc", OCTET, fixture("mhtml-saved-as.doc")).fmt == "mhtml"


def test_html_from_mhtml_decodes_the_html_part() -> None:
    html = html_from_mhtml(fixture("mhtml-saved-as.doc"))
    assert html is not None
    text = html.decode("utf-8")
    assert "ĐÁNH GIÁ KẾT QUẢ HỌC TẬP" in text
    assert 'charset=utf-8"' in text  # the MIME charset is carried into the HTML


@pytest.mark.parametrize(
    ("filename", "kind", "expected"),
    [
        ("bc.docx", FileKind.DOCX, True),
        ("", FileKind.DOCX, True),
        ("bc.doc", FileKind.DOC, True),
        ("bc.docx", FileKind.ENCRYPTED, True),
        ("ATT0001.bin", FileKind.ENCRYPTED, True),
        ("bang.XLSX", FileKind.ENCRYPTED, False),
        ("bc.DOC", FileKind.OTHER_WORDLIKE, True),
        ("bc.rtf", FileKind.OTHER_WORDLIKE, True),
        ("bc.odt", FileKind.OTHER_WORDLIKE, True),
        ("page.htm", FileKind.OTHER_WORDLIKE, False),
        ("scan.pdf", FileKind.PDF, False),
        ("logo.doc", FileKind.IMAGE, False),
        ("bc.docx", FileKind.OTHER, False),
    ],
)
def test_is_word_candidate(filename: str, kind: FileKind, expected: bool) -> None:
    assert is_word_candidate(filename, kind) is expected
