"""DocumentReader against real LibreOffice (never mocked, never skipped).

These tests need `soffice` on PATH; without it they fail, as CI must.
"""
from __future__ import annotations

import hashlib
import io
import random
import re
import shutil
import subprocess
import threading
import time
import unicodedata
import zipfile
from collections.abc import Callable
from pathlib import Path

import docx
import pytest
from msoffcrypto.format.ooxml import OOXMLFile

from intake.parsers.errors import EncryptedDocument, UnreadableDocument, UnsupportedDocument
from intake.parsers.model import Attachment, Outline
from intake.parsers.word import DocxLimits
from intake.processor.documents import NO_LIBREOFFICE, DocumentReader, ReaderLimits
from intake.processor.reading.harness import Workers
from intake.processor.reading.wire import LIMIT_EXCEEDED

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "documents"
OCTET = "application/octet-stream"
SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
HEADING = "III. ĐÁNH GIÁ KẾT QUẢ HỌC TẬP CHUYÊN ĐỀ NĂM 2024"
BODY = "Liên đoàn Lao động huyện Bảo Thắng đã tổ chức cho 1.234 đoàn viên học tập, đạt 98,5%."


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def texts(outline: Outline) -> list[str]:
    return [block.text for block in outline.blocks]


def assert_report_text(outline: Outline) -> None:
    found = texts(outline)
    assert any(HEADING in text for text in found), found
    assert BODY in found, found
    for text in found:
        assert unicodedata.is_normalized("NFC", text)


@pytest.fixture(scope="module")
def reader(tmp_path_factory: pytest.TempPathFactory) -> DocumentReader:
    work = tmp_path_factory.mktemp("soffice")
    work.chmod(0o700)
    return DocumentReader(ReaderLimits(work_dir=str(work)))


def private_dir(path: Path) -> Path:
    path.mkdir(mode=0o700, exist_ok=True)
    return path


def make_docx(*paragraphs: str) -> bytes:
    document = docx.Document()
    for text in paragraphs:
        document.add_paragraph(text)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def soffice_to_doc(data: bytes, tmp_path: Path) -> bytes:
    """Make a legacy .doc from .docx bytes with LibreOffice itself."""
    assert SOFFICE is not None
    source = tmp_path / "made.docx"
    source.write_bytes(data)
    subprocess.run(
        [SOFFICE, "--headless", "--norestore", "--nologo", "--nodefault", "--nolockcheck",
         f"-env:UserInstallation={(tmp_path / 'maker-profile').as_uri()}",
         "--convert-to", "doc:MS Word 97", "--outdir", str(tmp_path / "made"), str(source)],
        check=True, capture_output=True, timeout=120,
    )
    return (tmp_path / "made" / "made.doc").read_bytes()


def wrapper(tmp_path: Path, name: str, body: str) -> Path:
    """A shell script standing in front of the real soffice (it execs it)."""
    assert SOFFICE is not None
    script = tmp_path / name
    script.write_text(f"#!/bin/sh\n{body}\nexec {SOFFICE} \"$@\"\n", encoding="utf-8")
    script.chmod(0o755)
    return script


def vm_hwm_kb() -> int:
    match = re.search(r"VmHWM:\s+(\d+)", Path("/proc/self/status").read_text())
    assert match is not None
    return int(match.group(1))


def process_alive(pid: int) -> bool:
    """Running, as opposed to gone or a zombie nobody has reaped yet."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state not in ("Z", "X")


def reset_hwm() -> None:
    Path("/proc/self/clear_refs").write_text("5")


# ---------------------------------------------------------------- LibreOffice present


def test_libreoffice_is_installed() -> None:
    assert SOFFICE is not None, "LibreOffice (soffice) must be installed: run scripts/setup-system.sh"
    assert DocumentReader().soffice is not None


# ---------------------------------------------------------------- conversions


def test_doc_made_from_python_docx_converts_with_vietnamese_intact(
    reader: DocumentReader, tmp_path: Path
) -> None:
    text = "Báo cáo kết quả: Công đoàn ngành Giáo dục, trường THCS Xuân Quang, 47/48 đoàn viên."
    data = soffice_to_doc(make_docx(HEADING, text), tmp_path)
    assert data.startswith(b"\xd0\xcf\x11\xe0")
    outline = reader.read(Attachment("BÁO CÁO.DOC", OCTET, data))
    assert any(HEADING in t for t in texts(outline))
    assert text in texts(outline)


def test_committed_doc_fixture(reader: DocumentReader) -> None:
    outline = reader.read(Attachment("BC chuyen de 2024.doc", "application/msword", fixture("sample.doc")))
    assert_report_text(outline)
    assert any("Đơn vị\tSố người dự" in t for t in texts(outline))


def test_doc_without_name_and_misnamed_docx(reader: DocumentReader) -> None:
    assert_report_text(reader.read(Attachment("", OCTET, fixture("sample.doc"))))
    assert_report_text(reader.read(Attachment("bc.docx", OCTET, fixture("sample.doc"))))


@pytest.mark.parametrize(
    "name", ["html-saved-as.doc", "mhtml-saved-as.doc", "wordml2003-saved-as.doc", "sample.rtf", "sample.odt"]
)
def test_wordlike_formats_convert(reader: DocumentReader, name: str) -> None:
    assert_report_text(reader.read(Attachment(name.upper(), OCTET, fixture(name))))


def test_rtf_named_doc(reader: DocumentReader) -> None:
    assert_report_text(reader.read(Attachment("bao cao.doc", "application/msword", fixture("sample.rtf"))))


def test_docx_needs_no_libreoffice(tmp_path: Path) -> None:
    no_soffice = DocumentReader(ReaderLimits(soffice=str(tmp_path / "no-such-soffice")))
    assert_report_text(no_soffice.read(Attachment("BC.DOCX", OCTET, fixture("sample.docx"))))


# ---------------------------------------------------------------- refusals


@pytest.mark.parametrize(
    ("name", "data", "label"),
    [
        ("scan.pdf", fixture("sample.pdf"), "PDF"),
        ("signed.doc", fixture("sample.pdf"), "PDF"),
        ("logo.png", fixture("pixel.png"), "PNG image"),
        ("notes.txt", "Kính gửi LĐLĐ tỉnh".encode(), "unrecognised .txt file"),
    ],
)
@pytest.mark.parametrize("isolated", [False, True])
def test_not_word_is_unsupported(
    reader: DocumentReader, name: str, data: bytes, label: str, isolated: bool
) -> None:
    read = read_isolated(reader) if isolated else reader.read
    with pytest.raises(UnsupportedDocument, match=re.escape(label)):
        read(Attachment(name, OCTET, data))


@pytest.mark.parametrize(
    "data",
    [
        fixture("sample.docx")[:3000],  # truncated zip
        b"\x01" + random.Random(3).randbytes(5000),  # random bytes
        fixture("sample.docx")[:30] + random.Random(4).randbytes(5000),  # zip header, garbage after
    ],
    ids=["truncated", "random", "zip-garbage"],
)
@pytest.mark.parametrize("isolated", [False, True])
def test_broken_docx_is_unreadable(reader: DocumentReader, data: bytes, isolated: bool) -> None:
    read = read_isolated(reader) if isolated else reader.read
    with pytest.raises(UnreadableDocument):
        read(Attachment("Bao cao.DOCX", OCTET, data))


def test_broken_doc_is_unreadable(reader: DocumentReader) -> None:
    data = fixture("sample.doc")
    broken = data[:4096] + random.Random(5).randbytes(len(data) - 4096)
    with pytest.raises(UnreadableDocument):
        reader.read(Attachment("bc.doc", OCTET, broken))


@pytest.mark.parametrize("isolated", [False, True])
def test_encrypted_docx(reader: DocumentReader, isolated: bool) -> None:
    out = io.BytesIO()
    OOXMLFile(io.BytesIO(make_docx(BODY))).encrypt("mật khẩu", out)
    read = read_isolated(reader) if isolated else reader.read
    with pytest.raises(EncryptedDocument):
        read(Attachment("bc.docx", OCTET, out.getvalue()))
    with pytest.raises(EncryptedDocument):
        read(Attachment("bc.doc", OCTET, fixture("encrypted-fib.doc")))


def test_over_max_bytes(tmp_path: Path) -> None:
    small = DocumentReader(ReaderLimits(max_bytes=1000, work_dir=str(private_dir(tmp_path / "w"))))
    for read in (small.read, read_isolated(small)):
        with pytest.raises(UnreadableDocument, match="too large"):
            read(Attachment("bc.docx", OCTET, fixture("sample.docx")))


@pytest.mark.parametrize("isolated", [False, True])
def test_missing_soffice_is_unsupported(tmp_path: Path, isolated: bool) -> None:
    work = private_dir(tmp_path / "w")
    limits = ReaderLimits(soffice=str(tmp_path / "bin" / "soffice"), work_dir=str(work))
    missing = DocumentReader(limits)
    assert missing.soffice is None
    read = read_isolated(missing) if isolated else missing.read
    for name in ("sample.doc", "sample.rtf", "html-saved-as.doc"):
        with pytest.raises(UnsupportedDocument) as caught:
            read(Attachment(name, OCTET, fixture(name)))
        assert str(caught.value) == NO_LIBREOFFICE


# ---------------------------------------------------------------- zip bombs and isolation


def read_isolated(reader: DocumentReader) -> Callable[[Attachment], Outline]:
    """`reader.read` in a worker of the harness (one worker, a LibreOffice per conversion), as a
    guideline upload is read."""
    def read(att: Attachment) -> Outline:
        with Workers(reader, 1 << 40, workers=1, keep_libreoffice=False) as one:
            return one.read_document(att).unwrap()
    return read


def docx_with_document_xml(path: Path, inflated_bytes: int) -> bytes:
    """A .docx whose word/document.xml inflates to about `inflated_bytes`,
    written in a stream so the test process never holds it."""
    template = zipfile.ZipFile(io.BytesIO(fixture("sample.docx")))
    paragraph = b"<w:p><w:r><w:t>" + "Đoàn viên ".encode() * 50 + b"</w:t></w:r></w:p>"
    chunk = paragraph * (1024 * 1024 // len(paragraph))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as bomb:
        for info in template.infolist():
            if info.filename != "word/document.xml":
                bomb.writestr(info, template.read(info))
        with bomb.open("word/document.xml", "w", force_zip64=True) as member:
            member.write(b'<?xml version="1.0"?><w:document xmlns:w='
                         b'"http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>')
            written = 0
            while written < inflated_bytes:
                member.write(chunk)
                written += len(chunk)
            member.write(b"</w:body></w:document>")
    return path.read_bytes()


@pytest.mark.slow
def test_zip_bomb_is_unreadable_without_parent_memory_growth(reader: DocumentReader, tmp_path: Path) -> None:
    data = docx_with_document_xml(tmp_path / "bomb.docx", 300 * 1024 * 1024)
    assert len(data) < 3 * 1024 * 1024
    reset_hwm()
    before = vm_hwm_kb()
    with pytest.raises(UnreadableDocument):
        read_isolated(reader)(Attachment("bomb.docx", OCTET, data))
    assert vm_hwm_kb() - before < 50 * 1024
    # In-process the package checks refuse it too, before inflating anything.
    with pytest.raises(UnreadableDocument, match=r"too large|zip bomb"):
        reader.read(Attachment("bomb.docx", OCTET, data))


@pytest.mark.slow
def test_memory_limit_stops_what_the_package_checks_let_through(tmp_path: Path) -> None:
    data = docx_with_document_xml(tmp_path / "bomb.docx", 600 * 1024 * 1024)
    lax = DocxLimits(max_part_bytes=1 << 31, max_total_bytes=1 << 32, max_ratio=1e9)
    reader = DocumentReader(ReaderLimits(docx=lax, memory_mb=300, work_dir=str(private_dir(tmp_path / "w"))))
    reset_hwm()
    before = vm_hwm_kb()
    started = time.monotonic()
    with pytest.raises(UnreadableDocument) as caught:
        read_isolated(reader)(Attachment("bomb.docx", OCTET, data))
    assert str(caught.value) == LIMIT_EXCEEDED
    assert time.monotonic() - started < 60
    assert vm_hwm_kb() - before < 50 * 1024


def test_isolated_and_in_process_outlines_are_equal(reader: DocumentReader) -> None:
    for name in ("sample.docx", "sample.doc"):
        att = Attachment(name, OCTET, fixture(name))
        assert read_isolated(reader)(att) == reader.read(att)


CORPUS_DOCS = sorted((Path(__file__).resolve().parent / "corpus" / "docs").glob("*.docx"))


@pytest.mark.parametrize("path", CORPUS_DOCS, ids=lambda p: p.stem)
def test_what_a_worker_sends_reads_back_equal_and_strictly(path: Path) -> None:
    import msgspec

    from intake.parsers.section import find_section
    from intake.parsers.word import parse_docx
    from intake.processor.reading import wire

    outline = parse_docx(path.read_bytes())
    section = find_section(outline, "Đánh giá kết quả học tập, quán triệt Chuyên đề năm 2024")
    read = wire.DocumentRead(outline=outline, sections={"c": section})
    assert wire.decode_reply(wire.encode(read)) == read
    plain = msgspec.to_builtins(read)
    broken_sections = ({**plain["sections"]["c"], "score": "high"}, {**plain["sections"]["c"], "confidence": "certain"},
                       {**plain["sections"]["c"], "candidates": {}},
                       {**plain["sections"]["c"], "figures": {**plain["sections"]["c"]["figures"], "members": 1.5}})
    for broken in broken_sections:
        with pytest.raises(wire.MalformedReply):
            wire.decode_reply(msgspec.msgpack.encode({**plain, "sections": {"c": broken}}))


# ---------------------------------------------------------------- conversion hygiene


def test_sender_filename_never_becomes_a_path(tmp_path: Path) -> None:
    log = tmp_path / "soffice-calls.log"
    script = wrapper(
        tmp_path, "soffice-spy",
        f'for a in "$@"; do echo "ARG $a" >> {log}; done\n'
        f'for f in "$(pwd)"/* "$(pwd)"/.[!.]*; do [ -e "$f" ] && echo "FILE $(basename "$f")" >> {log}; done',
    )
    work = private_dir(tmp_path / "work")
    spy = DocumentReader(ReaderLimits(soffice=str(script), work_dir=str(work)))
    data = fixture("sample.doc")
    outline = spy.read(Attachment("../../etc/passwd.doc", OCTET, data))
    assert_report_text(outline)
    digest = hashlib.sha256(data).hexdigest()
    lines = log.read_text(encoding="utf-8").splitlines()
    files = [line.removeprefix("FILE ") for line in lines if line.startswith("FILE ")]
    args = [line.removeprefix("ARG ") for line in lines if line.startswith("ARG ")]
    assert files == [f"{digest}.doc"]
    assert args[-1].endswith(f"/{digest}.doc")
    assert not any("passwd" in arg or ".." in arg for arg in args)
    # Nothing of the conversion is left behind: only the profile and its lock.
    assert sorted(p.name for p in work.iterdir()) == ["profile", "soffice.lock"]
    assert not Path("/etc/passwd.docx").exists()


def test_conversion_timeout_kills_the_process_group(tmp_path: Path) -> None:
    pid_file = tmp_path / "pids"
    script = wrapper(tmp_path, "soffice-slow", f"sleep 30 &\necho $! > {pid_file}\nwait\n")
    work = private_dir(tmp_path / "work")
    slow = DocumentReader(ReaderLimits(soffice=str(script), work_dir=str(work), timeout_seconds=2))
    started = time.monotonic()
    with pytest.raises(UnreadableDocument, match="timed out"):
        slow.read(Attachment("bc.doc", OCTET, fixture("sample.doc")))
    assert time.monotonic() - started < 10
    sleeper = int(pid_file.read_text())
    time.sleep(0.2)
    assert not process_alive(sleeper)
    # The lock is released: the next conversion can run.
    assert not [p for p in work.iterdir() if p.name.startswith("conv-")]


def test_isolated_conversion_timeout(tmp_path: Path) -> None:
    script = wrapper(tmp_path, "soffice-slow", "sleep 30")
    work = private_dir(tmp_path / "work")
    slow = DocumentReader(ReaderLimits(soffice=str(script), work_dir=str(work), timeout_seconds=2))
    with pytest.raises(UnreadableDocument, match="timed out"):
        read_isolated(slow)(Attachment("bc.doc", OCTET, fixture("sample.doc")))


def test_conversions_run_one_at_a_time(reader: DocumentReader) -> None:
    """Threads share the reader's lock; isolated workers share the file lock."""
    results: list[Outline | BaseException] = []

    def run(isolated: bool, name: str) -> None:
        read = read_isolated(reader) if isolated else reader.read
        try:
            results.append(read(Attachment(name, OCTET, fixture(name))))
        except (UnreadableDocument, UnsupportedDocument) as exc:
            results.append(exc)

    jobs = [(False, "sample.doc"), (False, "sample.rtf"), (True, "sample.odt"), (True, "sample.doc")]
    threads = [threading.Thread(target=run, args=job) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=180)
    assert len(results) == 4
    for result in results:
        assert isinstance(result, Outline), result
        assert_report_text(result)


def test_unsafe_work_dir_is_refused(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    loose = DocumentReader(ReaderLimits(work_dir=str(shared)))
    with pytest.raises(UnsupportedDocument, match="not private"):
        loose.read(Attachment("bc.doc", OCTET, fixture("sample.doc")))
