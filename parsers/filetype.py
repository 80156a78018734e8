"""What an attachment really is, judged by its bytes.

Senders label attachments badly: `application/octet-stream`, upper-case
`.DOCX`, a `.doc` that is really HTML or RTF, a part with no name at all. So the
kind is decided by magic bytes (and, for containers, by what is inside), with the
case-folded suffix used only to break ties; the MIME content type alone never
decides anything.

Everything here is pure: no files, no processes, no logging.
"""
from __future__ import annotations

import email
import email.policy
import io
import struct
import zipfile
from dataclasses import dataclass
from pathlib import PurePosixPath, PureWindowsPath

import olefile

from intake.parsers.model import FileKind

__all__ = [
    "Sniffed",
    "classify",
    "html_from_mhtml",
    "is_word_candidate",
    "sniff",
    "suffix_of",
]

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"
ZIP_EMPTY_MAGIC = b"PK\x05\x06"

DOCX_SUFFIXES = frozenset({".docx", ".docm", ".dotx", ".dotm"})
DOC_SUFFIXES = frozenset({".doc", ".dot"})
# Suffixes under which an HTML, MIME-HTML or Word 2003 XML file is taken for a Word file.
WORDLIKE_TEXT_SUFFIXES = DOC_SUFFIXES | DOCX_SUFFIXES | frozenset({".rtf", ".wbk"})
# Suffixes that make an OTHER_WORDLIKE file count as "a Word file" for acknowledgement.
WORD_CANDIDATE_SUFFIXES = frozenset({".doc", ".docx", ".rtf", ".odt"}) | DOC_SUFFIXES | DOCX_SUFFIXES
# Suffixes of Office files that are not word processing (encrypted ones look alike).
NON_WORD_OFFICE_SUFFIXES = frozenset(
    {".xls", ".xlsx", ".xlsm", ".xlsb", ".xlt", ".xltx", ".ppt", ".pptx", ".pptm", ".pps", ".ppsx"}
)
WORD_MIME_TYPES = frozenset(
    {
        "application/msword",
        "application/vnd.ms-word",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.ms-word.document.macroenabled.12",
    }
)
ODT_MIMETYPES = frozenset(
    {"application/vnd.oasis.opendocument.text", "application/vnd.oasis.opendocument.text-template"}
)
WORDPROCESSINGML = b"wordprocessingml"

_FIB_WIDENT_WORD = 0xA5EC
_FIB_F_ENCRYPTED = 0x0100
_MAX_SMALL_PART = 1 << 20  # [Content_Types].xml / mimetype bigger than this is not trusted
_HEAD = 4096  # bytes of a text file looked at for markers


@dataclass(frozen=True)
class Sniffed:
    """The kind of a file plus the concrete format, for conversion and messages.

    `fmt` is one of: docx, doc, encrypted, odt, rtf, html, mhtml, wordml2003,
    pdf, png, jpeg, gif, tiff, bmp, webp, zip, ole, empty, unknown.
    `label` is a human-readable name of the format ("PDF", "PNG image").
    """

    kind: FileKind
    fmt: str
    label: str


def suffix_of(filename: str) -> str:
    """The case-folded last suffix of a sender's file name ("" when none).

    Both separators are honoured so that "C:\\x\\a.DOC" and "a/b.docx" work; the
    name is never used as a path.
    """
    name = PureWindowsPath(PurePosixPath(filename.strip()).name).name
    return PurePosixPath(name.rstrip(". ")).suffix.casefold()


def classify(filename: str, content_type: str, data: bytes) -> FileKind:
    """The FileKind of an attachment (see `sniff`)."""
    return sniff(filename, content_type, data).kind


def is_word_candidate(filename: str, kind: FileKind) -> bool:
    """Whether a message carrying this attachment "attached a Word file".

    DOCX and DOC always count; ENCRYPTED counts unless the name says it is a
    spreadsheet or presentation (encrypted OOXML files all look alike); an
    OTHER_WORDLIKE file counts only under a Word-ish suffix (.doc, .docx, .rtf,
    .odt), so a stray HTML page is not taken for a report.
    """
    suffix = suffix_of(filename)
    if kind in (FileKind.DOCX, FileKind.DOC):
        return True
    if kind is FileKind.ENCRYPTED:
        return suffix not in NON_WORD_OFFICE_SUFFIXES
    if kind is FileKind.OTHER_WORDLIKE:
        return suffix in WORD_CANDIDATE_SUFFIXES
    return False


def sniff(filename: str, content_type: str, data: bytes) -> Sniffed:
    """Decide what `data` is, from its magic bytes, contents and suffix."""
    suffix = suffix_of(filename)
    mime = content_type.split(";", 1)[0].strip().casefold()
    if not data:
        return Sniffed(FileKind.OTHER, "empty", "empty file")
    if data.startswith(ZIP_MAGIC) or data.startswith(ZIP_EMPTY_MAGIC):
        return _sniff_zip(data, suffix)
    if data.startswith(OLE_MAGIC):
        return _sniff_ole(data, suffix)
    image = _sniff_image(data)
    if image is not None:
        return image
    head = _text_head(data)
    if b"%PDF-" in data[:1024]:
        return Sniffed(FileKind.PDF, "pdf", "PDF")
    if head.startswith(b"{\\rtf"):
        return Sniffed(FileKind.OTHER_WORDLIKE, "rtf", "RTF document")
    wordish_name = suffix in WORDLIKE_TEXT_SUFFIXES or mime in WORD_MIME_TYPES
    lower = head.lower()
    if _is_mime_html(lower):
        if wordish_name or b"urn:schemas-microsoft-com:office:word" in lower:
            return Sniffed(FileKind.OTHER_WORDLIKE, "mhtml", "MIME-HTML (web archive) document")
        return Sniffed(FileKind.OTHER, "mhtml", "MIME-HTML web archive")
    if _is_word2003_xml(lower):
        return Sniffed(FileKind.OTHER_WORDLIKE, "wordml2003", "Word 2003 XML document")
    if _is_html(lower):
        if wordish_name or b"urn:schemas-microsoft-com:office:word" in lower:
            return Sniffed(FileKind.OTHER_WORDLIKE, "html", "HTML document saved as Word")
        return Sniffed(FileKind.OTHER, "html", "HTML page")
    return Sniffed(FileKind.OTHER, "unknown", _unknown_label(suffix))


def _unknown_label(suffix: str) -> str:
    return f"unrecognised {suffix} file" if suffix else "unrecognised file"


def _text_head(data: bytes) -> bytes:
    """The start of a possibly-text file, without BOM and leading white space."""
    head = data[:_HEAD]
    for bom in (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff"):
        if head.startswith(bom):
            head = head[len(bom) :]
            break
    if len(head) >= 2 and (head[0] == 0 or head[1] == 0):
        # UTF-16 text: keep the ASCII bytes so the markers below still match.
        head = head.replace(b"\x00", b"")
    return head.lstrip()


def _is_html(lower: bytes) -> bool:
    if lower.startswith((b"<!doctype html", b"<html", b"<head", b"<body", b"<meta")):
        return True
    if lower.startswith(b"<?xml") and b"<html" in lower:
        return True
    # Word "web page" files open with comments or a BOM before <html ...>.
    return lower.startswith(b"<!--") and b"<html" in lower


def _is_mime_html(lower: bytes) -> bool:
    if not (lower.startswith(b"mime-version:") or lower.startswith(b"content-type:")
            or lower.startswith(b"from:") or lower.startswith(b"subject:")
            or lower.startswith(b"date:") or lower.startswith(b"message-id:")):
        return False
    return b"multipart/related" in lower or b"text/html" in lower


def _is_word2003_xml(lower: bytes) -> bool:
    return lower.startswith(b"<?xml") and (
        b'progid="word.document"' in lower or b"<w:worddocument" in lower
    )


def _sniff_image(data: bytes) -> Sniffed | None:
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return Sniffed(FileKind.IMAGE, "png", "PNG image")
    if data.startswith(b"\xff\xd8\xff"):
        return Sniffed(FileKind.IMAGE, "jpeg", "JPEG image")
    if data.startswith((b"GIF87a", b"GIF89a")):
        return Sniffed(FileKind.IMAGE, "gif", "GIF image")
    if data.startswith((b"II*\x00", b"MM\x00*")):
        return Sniffed(FileKind.IMAGE, "tiff", "TIFF image")
    if data.startswith(b"RIFF") and data[8:12] == b"WEBP":
        return Sniffed(FileKind.IMAGE, "webp", "WebP image")
    if data.startswith(b"BM") and len(data) >= 18:
        # "BM" alone is too weak: also require a known DIB header size.
        (dib_size,) = struct.unpack_from("<I", data, 14)
        if dib_size in (12, 16, 40, 52, 56, 64, 108, 124):
            return Sniffed(FileKind.IMAGE, "bmp", "BMP image")
    return None


def _sniff_zip(data: bytes, suffix: str) -> Sniffed:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            if "word/document.xml" in names:
                return Sniffed(FileKind.DOCX, "docx", "Word document (.docx)")
            mimetype = _small_member(archive, "mimetype")
            if mimetype is not None and mimetype.strip().decode("ascii", "replace") in ODT_MIMETYPES:
                return Sniffed(FileKind.OTHER_WORDLIKE, "odt", "OpenDocument text")
            types = _small_member(archive, "[Content_Types].xml")
            if types is not None and WORDPROCESSINGML in types:
                return Sniffed(FileKind.DOCX, "docx", "Word document (.docx)")
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError,
            NotImplementedError, RuntimeError) as exc:
        # A zip that cannot even be listed: a truncated or corrupt .docx is still a
        # .docx for the purpose of reporting "unreadable" rather than "unsupported".
        if suffix in DOCX_SUFFIXES:
            return Sniffed(FileKind.DOCX, "docx", f"damaged Word document ({type(exc).__name__})")
        return Sniffed(FileKind.OTHER, "zip", "damaged zip archive")
    return Sniffed(FileKind.OTHER, "zip", "zip archive (not a Word document)")


def _small_member(archive: zipfile.ZipFile, name: str) -> bytes | None:
    """A small member's bytes, or None when absent or suspiciously large."""
    try:
        info = archive.getinfo(name)
    except KeyError:
        return None
    if info.file_size > _MAX_SMALL_PART:
        return None
    with archive.open(info) as member:
        return member.read(_MAX_SMALL_PART)


def _sniff_ole(data: bytes, suffix: str) -> Sniffed:
    try:
        with olefile.OleFileIO(io.BytesIO(data)) as ole:
            if ole.exists("EncryptedPackage"):
                return Sniffed(FileKind.ENCRYPTED, "encrypted", "password-protected Office document")
            if ole.exists("WordDocument"):
                with ole.openstream("WordDocument") as stream:
                    fib = stream.read(32)
                if _fib_encrypted(fib):
                    return Sniffed(FileKind.ENCRYPTED, "encrypted", "password-protected Word document")
                return Sniffed(FileKind.DOC, "doc", "Word 97-2003 document (.doc)")
    except (OSError, ValueError, IndexError, KeyError, struct.error, TypeError, EOFError) as exc:
        # olefile raises OSError on most corruption, but its parser is not strict
        # about which exception a malformed directory produces.
        if suffix in DOC_SUFFIXES:
            return Sniffed(FileKind.DOC, "doc", f"damaged Word document ({type(exc).__name__})")
        return Sniffed(FileKind.OTHER, "ole", "damaged OLE compound file")
    return Sniffed(FileKind.OTHER, "ole", "OLE compound file (not a Word document)")


def _fib_encrypted(fib: bytes) -> bool:
    """The FibBase fEncrypted flag (MS-DOC 2.5.2) of a WordDocument stream."""
    if len(fib) < 12:
        return False
    ident, flags = struct.unpack_from("<H8xH", fib, 0)
    return ident == _FIB_WIDENT_WORD and bool(flags & _FIB_F_ENCRYPTED)


def html_from_mhtml(data: bytes) -> bytes | None:
    """The first text/html part of a MIME-HTML file (as Word writes .mht), or None.

    LibreOffice does not import MIME-HTML, so the HTML part is converted on its
    own; when the part's charset is only in the MIME header it is written into a
    <meta> so the HTML importer decodes it right.
    """
    message = email.message_from_bytes(data, policy=email.policy.compat32)
    for part in message.walk():
        if part.get_content_type() != "text/html":
            continue
        payload = part.get_payload(decode=True)
        if not isinstance(payload, bytes):
            continue
        charset = "".join(ch for ch in part.get_content_charset() or "" if ch.isalnum() or ch in "-_.:")
        if charset and b"charset" not in payload[:_HEAD].lower():
            meta = f'<meta http-equiv="Content-Type" content="text/html; charset={charset}">'
            payload = meta.encode("ascii", "replace") + payload
        return payload
    return None
