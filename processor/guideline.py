"""A guideline file (named on the command line or uploaded to the dashboard) read into GuidelineFacts.

The file is treated as an upload from anyone: its name serves for its suffix
only and never reaches the file system (the kind is judged by the bytes,
`parsers.filetype.sniff`); Word
files are read by the document reader's child process under its memory, CPU
and time limits (a worker of `processor/reading/harness.py`, LibreOffice for .doc); a PDF
goes through poppler's `pdftotext` under `prlimit` with a timeout, in a
private temporary directory where the file is named by its SHA-256; plain
text is decoded here (UTF-8, UTF-16 with its BOM, else Windows-1258). Every
failure is a `UsageError` whose message staff read (Vietnamese).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path
from typing import Any, Final

from intake.parsers.errors import DocumentError, EncryptedDocument, UsageError
from intake.parsers.filetype import Sniffed, sniff
from intake.parsers.guideline import DateRole, GuidelineFacts, Sourced, parse_guideline, unwrap_lines
from intake.parsers.layout import heading_display
from intake.parsers.model import Attachment, BlockKind, FileKind, Outline
from intake.processor.documents import DocumentReader
from intake.processor.reading.harness import Workers

__all__ = [
    "MAX_TEXT_CHARS",
    "ROLE_TEXT",
    "describe_guideline",
    "guideline_json",
    "guideline_text",
    "read_guideline",
]

log = logging.getLogger(__name__)

# A guideline is a few pages (the seed: 12,000 characters); far more is not one.
MAX_TEXT_CHARS: Final = 400_000
_MB: Final = 1024 * 1024

# What staff read when the file cannot be used.
EMPTY_FILE: Final = "Tệp hướng dẫn rỗng."
TOO_LARGE: Final = "Tệp hướng dẫn quá lớn ({size} byte; tối đa {limit} byte)."
TOO_MUCH_TEXT: Final = "Văn bản quá dài để là một hướng dẫn ({chars} ký tự; tối đa {limit})."
NOT_TEXT: Final = "Tệp không phải văn bản thuần (.txt) đọc được."
NOT_A_GUIDELINE_FORMAT: Final = "Không đọc được loại tệp này ({label}): hãy dùng .docx, .doc, PDF có chữ hoặc .txt."
ENCRYPTED: Final = "Tệp được đặt mật khẩu: hãy gỡ mật khẩu rồi tải lên lại."
UNREADABLE_WORD: Final = "Không đọc được tệp Word: {reason}."
NO_PDFTOTEXT: Final = "Máy chủ chưa cài poppler-utils (pdftotext) nên không đọc được PDF: hãy dùng bản Word."
UNREADABLE_PDF: Final = "Không đọc được tệp PDF: {reason}."
IMAGE_ONLY_PDF: Final = ("Tệp PDF không có lớp chữ (có lẽ là bản scan, chỉ có hình ảnh): "
                         "hãy tải lên bản Word (.docx, .doc) hoặc PDF có chữ.")
NO_TEXT: Final = "Văn bản không có nội dung chữ."

# Why a date was or was not taken, as staff read it.
ROLE_TEXT: Final[dict[str, dict[DateRole, str]]] = {
    "vi": {
        DateRole.DEADLINE: "hạn gửi báo cáo",
        DateRole.AMBIGUOUS: "hạn gửi báo cáo, nhưng văn bản còn nêu hạn khác: cần chọn",
        DateRole.LESS_CLEAR: "có thể là hạn báo cáo, nhưng kém rõ hơn hạn đã chọn",
        DateRole.NOT_REPORT: "có từ chỉ thời hạn nhưng không phải hạn gửi báo cáo",
        DateRole.REPORT_WITHOUT_DEADLINE: "nói về báo cáo nhưng không có từ chỉ thời hạn",
        DateRole.CITED_DOCUMENT: "ngày của văn bản được viện dẫn",
        DateRole.DOCUMENT_DATE: "ngày ban hành của chính văn bản này",
        DateRole.PERIOD: "mốc của một khoảng thời gian",
        DateRole.OTHER: "ngày khác (kế hoạch, học tập, hội nghị)",
    },
    "en": {
        DateRole.DEADLINE: "deadline for sending the report",
        DateRole.AMBIGUOUS: "a report deadline, but the guideline gives another: choose one",
        DateRole.LESS_CLEAR: "maybe a report deadline, less plainly than the one taken",
        DateRole.NOT_REPORT: "deadline words, but not for sending the report",
        DateRole.REPORT_WITHOUT_DEADLINE: "about the report, but no deadline words",
        DateRole.CITED_DOCUMENT: "date of a cited document",
        DateRole.DOCUMENT_DATE: "the guideline's own date",
        DateRole.PERIOD: "one end of a period",
        DateRole.OTHER: "another date (plan, study, conference)",
    },
}


def read_guideline(filename: str, data: bytes, tz: dt.tzinfo, now: dt.datetime, *,
                   reader: DocumentReader | None = None) -> GuidelineFacts:
    """The facts a campaign needs from a guideline file (.docx, .doc, text PDF, .txt).

    `filename` is the uploader's name, for its suffix only; `tz` the office's
    zone; `now` the clock (the year of dates written without one, when the
    guideline gives none). `reader` carries the document limits of the
    configuration (`[documents]`); None uses the defaults.
    Raises `UsageError` with a Vietnamese message when the file cannot be used.
    """
    return parse_guideline(guideline_text(filename, data, reader or DocumentReader()), tz, now)


def guideline_text(filename: str, data: bytes, reader: DocumentReader) -> str:
    """The guideline's text, one paragraph a line, whatever the file's format."""
    if not data:
        raise UsageError(EMPTY_FILE)
    limit = reader.limits.max_bytes
    if len(data) > limit:
        raise UsageError(TOO_LARGE.format(size=len(data), limit=limit))
    sniffed = sniff(filename, "", data)
    read = _READERS.get(sniffed.kind)
    if read is None or (sniffed.kind is FileKind.OTHER and sniffed.fmt != "unknown"):
        raise UsageError(NOT_A_GUIDELINE_FORMAT.format(label=sniffed.label))
    text = read(filename, data, reader, sniffed)
    if len(text) > MAX_TEXT_CHARS:
        raise UsageError(TOO_MUCH_TEXT.format(chars=len(text), limit=MAX_TEXT_CHARS))
    if not text.strip():
        raise UsageError(NO_TEXT)
    return text


# ------------------------------------------------------------------ Word


def _word(filename: str, data: bytes, reader: DocumentReader, sniffed: Sniffed) -> str:
    try:
        # One worker of the harness for this upload, under the attachment limits (no LibreOffice kept).
        with Workers(reader, max_mail_bytes=0, workers=1, keep_libreoffice=False) as one:
            outline = one.read_document(Attachment(filename, "", data)).unwrap()
    except EncryptedDocument as exc:
        raise UsageError(ENCRYPTED) from exc
    except DocumentError as exc:
        raise UsageError(UNREADABLE_WORD.format(reason=exc)) from exc
    return document_text(outline)


def document_text(outline: Outline) -> str:
    """An outline's text in document order: a paragraph a line (automatic numbers rendered), a table cell a line."""
    lines: list[str] = []
    for block in outline.blocks:
        if block.kind is BlockKind.TABLE:
            lines.extend(cell for row in block.rows for cell in row if cell.strip())
        else:
            lines.append(heading_display(block))
    return "\n".join(lines)


def _encrypted(filename: str, data: bytes, reader: DocumentReader, sniffed: Sniffed) -> str:
    raise UsageError(ENCRYPTED)


# ------------------------------------------------------------------ plain text


def _plain(filename: str, data: bytes, reader: DocumentReader, sniffed: Sniffed) -> str:
    return decode_text(data)


_BOMS: Final = ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"))


def decode_text(data: bytes) -> str:
    """UTF-8 or UTF-16 by its BOM; else UTF-8; else Windows-1258 (Vietnamese Windows' own code page)."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(encoding)
            except UnicodeDecodeError as exc:
                raise UsageError(NOT_TEXT) from exc
    if b"\x00" in data:
        raise UsageError(NOT_TEXT)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1258")
    except UnicodeDecodeError as exc:
        raise UsageError(NOT_TEXT) from exc


# ------------------------------------------------------------------ PDF


def _pdf(filename: str, data: bytes, reader: DocumentReader, sniffed: Sniffed) -> str:
    text = unwrap_lines(pdf_text(data, reader))
    if sum(char.isalpha() for char in text) < 20:
        raise UsageError(IMAGE_ONLY_PDF)
    return text


def pdf_text(data: bytes, reader: DocumentReader) -> str:
    """The text layer of a PDF by `pdftotext`, under the reader's memory and time limits."""
    pdftotext = shutil.which("pdftotext")
    prlimit = shutil.which("prlimit")
    if pdftotext is None or prlimit is None:
        raise UsageError(NO_PDFTOTEXT)
    limits = reader.limits
    seconds = max(1, int(limits.timeout_seconds))
    root = reader.work_root()
    with tempfile.TemporaryDirectory(prefix="pdf-", dir=root) as tmp:
        source = Path(tmp) / f"{hashlib.sha256(data).hexdigest()}.pdf"
        target = Path(tmp) / "text.txt"
        source.write_bytes(data)
        command = [prlimit, f"--as={limits.memory_mb * _MB}", f"--cpu={seconds}", "--",
                   pdftotext, "-enc", "UTF-8", "-q", "-nopgbrk", str(source), str(target)]
        _run(command, Path(tmp), seconds)
        size = target.stat().st_size if target.is_file() else 0
        if size > MAX_TEXT_CHARS * 4:
            raise UsageError(TOO_MUCH_TEXT.format(chars=size, limit=MAX_TEXT_CHARS))
        return target.read_bytes().decode("utf-8", "replace") if size else ""


def _run(command: list[str], workdir: Path, seconds: int) -> None:
    env = {"PATH": os.environ.get("PATH", os.defpath), "HOME": str(workdir), "LANG": "C.UTF-8"}
    try:
        proc = subprocess.Popen(command, cwd=workdir, env=env, stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    except OSError as exc:
        raise UsageError(UNREADABLE_PDF.format(reason=exc)) from exc
    try:
        _, stderr = proc.communicate(timeout=seconds * 2 + 5)
    except subprocess.TimeoutExpired as exc:
        log.warning("pdftotext killed after %d s", seconds * 2 + 5)
        raise UsageError(UNREADABLE_PDF.format(reason="quá thời gian cho phép")) from exc
    finally:
        with suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        if proc.poll() is None:
            proc.wait()
    if proc.returncode != 0:
        tail = " | ".join(stderr.decode("utf-8", "replace").strip().splitlines()[-2:])
        log.info("pdftotext failed (exit status %d): %s", proc.returncode, tail)
        reason = "tệp được đặt mật khẩu" if "password" in tail.casefold() else "tệp hỏng hoặc không phải PDF"
        raise UsageError(UNREADABLE_PDF.format(reason=reason))


_READERS: Final[dict[FileKind, Callable[[str, bytes, DocumentReader, Sniffed], str]]] = {
    FileKind.DOCX: _word,
    FileKind.DOC: _word,
    FileKind.OTHER_WORDLIKE: _word,
    FileKind.ENCRYPTED: _encrypted,
    FileKind.PDF: _pdf,
    FileKind.OTHER: _plain,
}


# ------------------------------------------------------------------ output


def _source_json(source: Sourced | None) -> dict[str, Any] | None:
    if source is None:
        return None
    return {"text": source.value, "start": source.start, "end": source.end, "sentence": source.sentence,
            "sentence_start": source.sentence_start, "sentence_end": source.sentence_end}


def guideline_json(facts: GuidelineFacts, language: str = "vi") -> dict[str, Any]:
    """SPEC's `{"title", "deadline", "section_title", "address"}` (deadline ISO 8601 with its offset,
    or null) plus where each came from (`sources`: the words, the sentence, their spans in the
    normalised text), every date found (`deadline_candidates`) and the attached report outline."""
    reasons = ROLE_TEXT.get(language, ROLE_TEXT["vi"])
    return {
        "title": facts.title.value if facts.title else None,
        "deadline": facts.deadline.isoformat() if facts.deadline else None,
        "section_title": facts.section_title.value if facts.section_title else None,
        "address": facts.address.value if facts.address else None,
        "sources": {
            "title": _source_json(facts.title),
            "deadline": _source_json(facts.deadline_source),
            "section_title": _source_json(facts.section_title),
            "address": _source_json(facts.address),
        },
        "deadline_candidates": [
            {"written": c.written, "when": c.when.isoformat(), "rule": c.rule.value, "role": c.role.value,
             "why": reasons[c.role], "taken": c.taken, "source": _source_json(c.source)}
            for c in facts.deadline_candidates
        ],
        "outline": [{"number": item.number, "title": item.title, "level": item.level,
                     "start": item.start, "end": item.end} for item in facts.outline],
    }


_LABELS: Final = {
    "vi": ("Tiêu đề", "Hạn báo cáo", "Mục bắt buộc", "Địa chỉ nhận", "chưa rõ", "Các ngày trong văn bản",
           "Đề cương báo cáo", "đã chọn"),
    "en": ("Title", "Deadline", "Required section", "Reply address", "unclear", "Dates in the guideline",
           "Report outline", "taken"),
}


def describe_guideline(facts: GuidelineFacts, language: str = "vi") -> list[str]:
    """Lines for a person: the four values, every date and why, the outline."""
    title, deadline, section, address, unclear, dates, outline, taken = _LABELS.get(language, _LABELS["vi"])
    reasons = ROLE_TEXT.get(language, ROLE_TEXT["vi"])
    when = facts.deadline.strftime("%d/%m/%Y %H:%M:%S %z") if facts.deadline else unclear
    lines = [
        f"{title}: {facts.title.value if facts.title else unclear}",
        f"{deadline}: {when}" + (f" («{facts.deadline_source.value}»)" if facts.deadline_source else ""),
        f"{section}: {facts.section_title.value if facts.section_title else unclear}",
        f"{address}: {facts.address.value if facts.address else unclear}",
    ]
    if facts.deadline_candidates:
        lines.append(f"{dates}:")
        lines.extend(f"  - «{c.written}» → {c.when.strftime('%d/%m/%Y %H:%M')}: {reasons[c.role]}"
                     + (f" ({taken})" if c.taken else "") for c in facts.deadline_candidates)
    if facts.outline:
        lines.append(f"{outline}:")
        lines.extend(f"  {'  ' * (item.level - 1)}{item.number} {item.title}" for item in facts.outline)
    return lines
