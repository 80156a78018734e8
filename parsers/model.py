"""Typed results the parsing stages hand to the processor and the store."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property


class Problem(StrEnum):
    """Problem codes of SPEC, in the order they are reported."""

    NO_ATTACHMENT = "no_attachment"
    UNSUPPORTED_ATTACHMENT = "unsupported_attachment"
    UNREADABLE_ATTACHMENT = "unreadable_attachment"
    ENCRYPTED_ATTACHMENT = "encrypted_attachment"
    SECTION_NOT_FOUND = "section_not_found"
    SENDER_NOT_REGISTERED = "sender_not_registered"
    PROCESSING_FAILED = "processing_failed"  # a fault while reading or deciding: counted all the same, retry


class FileKind(StrEnum):
    """What an attachment is, judged by magic bytes and a case-folded suffix."""

    DOCX = "docx"          # OOXML word processing (also .docm, .dotx)
    DOC = "doc"            # legacy OLE Word 97-2003
    ENCRYPTED = "encrypted"  # OLE container holding an EncryptedPackage
    PDF = "pdf"
    IMAGE = "image"
    OTHER_WORDLIKE = "other_wordlike"  # .odt/.rtf/.html-as-.doc: convertible by LibreOffice
    OTHER = "other"


@dataclass(frozen=True)
class Attachment:
    """One attachment as the sender sent it. `filename` is for display only."""

    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class ParsedEmail:
    """What intake needs from one email, parsed from its raw bytes."""

    message_id: str
    from_address: str
    from_name: str
    subject: str
    date_header: dt.datetime | None
    received_header_at: dt.datetime | None  # date of the topmost Received: header
    references: tuple[str, ...]
    return_path: str | None
    never_acknowledge: str | None  # why the message is an auto-reply/bulk/DSN, else None
    attachments: tuple[Attachment, ...]
    body_text: str = ""
    defects: tuple[str, ...] = ()   # what was wrong with the message's structure, for staff and logs
    sender_problem: str = ""        # why the sender cannot be answered ("" when it can)
    body_unparsed: str = ""         # why body and attachments were not read (too large, over limits), else ""


class BlockKind(StrEnum):
    PARAGRAPH = "paragraph"
    TABLE = "table"


@dataclass(frozen=True)
class Block:
    """A paragraph or table of a Word document, in document order.

    `text` is the block's text in Unicode NFC (legacy fonts converted), for a
    table its rows joined by "\\n" with cells joined by "\\t". `numbering` is the
    rendered automatic number ("III.", "2.1.", "a)") that Word keeps outside the
    text, "" when none. `level` is the heading level (1 = top) when the block
    looks like a heading, else None.
    """

    kind: BlockKind
    text: str
    numbering: str = ""
    level: int | None = None
    style: str = ""
    bold: bool = False
    rows: tuple[tuple[str, ...], ...] = ()

    @cached_property
    def folded(self) -> str:
        """`fold(text)`, computed once per block (matching never folds the same text twice)."""
        from .vietnamese import fold  # model stays import-light; vietnamese imports nothing of ours

        return fold(self.text)


@dataclass(frozen=True)
class Outline:
    """A Word document reduced to what section finding needs."""

    blocks: tuple[Block, ...]
    issuer: str | None = None          # issuing body named in the header block
    legacy_encodings: tuple[str, ...] = ()  # e.g. ("tcvn3",) when text was converted


@dataclass(frozen=True)
class Figures:
    participants: int | None = None
    members: int | None = None
    rate_percent: float | None = None
    sessions: int | None = None

    def as_dict(self) -> dict[str, int | float]:
        out: dict[str, int | float] = {}
        for key in ("participants", "members", "rate_percent", "sessions"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        return out


class Confidence(StrEnum):
    """How far staff can trust the finder's answer."""

    SURE = "sure"
    REVIEW = "review"   # the best candidate is weak or not clearly ahead: staff should look


@dataclass(frozen=True)
class Candidate:
    """A heading the finder weighed."""

    heading: str        # as written (document's own characters, NFC), numbering included
    score: float        # 0..100, same scale as SectionResult.score
    why: str            # short English reason (for staff/logs)
    block: int          # index into Outline.blocks of the heading block


@dataclass(frozen=True)
class SectionResult:
    """The required section found (or not) in one outline, and why."""

    found: bool
    heading: str | None = None   # the heading as written, numbering included
    text: str = ""               # body without heading, per SPEC
    score: float = 0.0           # 0..100, the best candidate's score
    reason: str = ""             # for staff: what matched or what came closest
    figures: Figures = field(default_factory=Figures)
    confidence: Confidence = Confidence.SURE
    candidates: tuple[Candidate, ...] = ()   # up to 3, best first, also when found is False
    chosen_by: str = "finder"                 # "finder" | "staff"
