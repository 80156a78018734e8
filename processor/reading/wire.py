"""What crosses the worker boundary, and its one codec (msgspec's MessagePack, typed).

Jobs go from the parent to a worker, replies come back; both are tagged
msgspec Structs whose fields are the frozen dataclasses of `parsers.model`
(msgspec encodes and checks them field by field, bytes as bytes). Nothing is
pickled either way: a reply from a worker that read a stranger's document is
decoded against its declared type, and anything else (a truncated frame, a
field of the wrong type, an unknown tag) is refused with `MalformedReply`.
"""
from __future__ import annotations

import enum
from typing import Final

import msgspec

from intake.parsers.errors import DocumentError, EncryptedDocument, UnreadableDocument, UnsupportedDocument
from intake.parsers.guide import Guide
from intake.parsers.model import Attachment, Outline, ParsedEmail, SectionResult
from intake.processor.documents import ReaderLimits

__all__ = [
    "LIMIT_EXCEEDED", "CampaignQuery", "ConvertAsk", "Converted", "DocumentRead", "Failure", "FailureKind",
    "Job", "MalformedReply", "MessageRead", "ReadDocument", "ReadMessage", "Refused", "Reply", "Setup",
    "decode_job", "decode_reply", "decode_setup", "encode",
]

LIMIT_EXCEEDED: Final = "exceeded memory/time limit"


class CampaignQuery(msgspec.Struct, frozen=True):
    """What the finder needs of a campaign: its id, section title and keywords, and what the campaign
    taught it (`processor.teaching.campaign_guide`; None: nothing)."""

    id: str
    section_title: str
    keywords: tuple[str, ...] = ()
    guide: Guide | None = None


class FailureKind(enum.StrEnum):
    UNREADABLE = "unreadable"
    ENCRYPTED = "encrypted"
    UNSUPPORTED = "unsupported"


_ERRORS: Final[dict[FailureKind, type[DocumentError]]] = {
    FailureKind.UNREADABLE: UnreadableDocument,
    FailureKind.ENCRYPTED: EncryptedDocument,
    FailureKind.UNSUPPORTED: UnsupportedDocument,
}


class Failure(msgspec.Struct, frozen=True):
    """Why an attachment could not be read: a DocumentError as data."""

    kind: FailureKind
    message: str

    @classmethod
    def of(cls, exc: DocumentError) -> Failure:
        kind = next((k for k, error in _ERRORS.items() if isinstance(exc, error)), FailureKind.UNREADABLE)
        return cls(kind, str(exc))

    def error(self) -> DocumentError:
        return _ERRORS[self.kind](self.message)


# ---------------------------------------------------------------- parent -> worker


class Setup(msgspec.Struct, frozen=True):
    """The first frame a worker reads: its reader's limits (soffice: the binary, '' none), and whether
    conversions are asked of the parent's LibreOffice (`ConvertAsk`)."""

    limits: ReaderLimits
    office_via_parent: bool = False


class ReadMessage(msgspec.Struct, frozen=True, tag="message"):
    """Parse a raw email; with `documents`, also read each of its Word attachments and find the
    campaigns' sections in it."""

    raw: bytes
    campaigns: tuple[CampaignQuery, ...] = ()
    documents: bool = True


class ReadDocument(msgspec.Struct, frozen=True, tag="document"):
    """Read one attachment and find the campaigns' sections in it."""

    attachment: Attachment
    campaigns: tuple[CampaignQuery, ...] = ()


class Converted(msgspec.Struct, frozen=True, tag="converted"):
    """The parent's answer to a `ConvertAsk`: LibreOffice's reason ('' when it converted); `fatal`
    when the conversion hung or died (the document is unreadable)."""

    error: str
    fatal: bool = False


Job = ReadMessage | ReadDocument | Converted


# ---------------------------------------------------------------- worker -> parent


class DocumentRead(msgspec.Struct, frozen=True, tag="document"):
    """One attachment read: its outline and the sections found in it, or why it could not be read."""

    outline: Outline | None = None
    failure: Failure | None = None
    sections: dict[str, SectionResult] = {}

    def unwrap(self) -> Outline:
        if self.failure is not None:
            raise self.failure.error()
        if self.outline is None:
            raise UnreadableDocument("document worker sent neither an outline nor a failure")
        return self.outline


class MessageRead(msgspec.Struct, frozen=True, tag="message"):
    """One email read: the message as parsed, and each Word attachment read, by its position
    (none when the email was parsed alone)."""

    email: ParsedEmail
    documents: dict[int, DocumentRead] = {}


class ConvertAsk(msgspec.Struct, frozen=True, tag="convert"):
    """A worker asks the parent's LibreOffice to convert `source` to .docx at `target` (both inside
    the reader's work directory; LibreOffice refuses anything else)."""

    source: str
    target: str
    infilter: str | None = None


class Refused(msgspec.Struct, frozen=True, tag="refused"):
    """The job ran out of memory: the worker leaves after this reply."""

    reason: str = LIMIT_EXCEEDED


Reply = MessageRead | DocumentRead | ConvertAsk | Refused


class MalformedReply(UnreadableDocument):
    """A worker's reply that is not one of `Reply` (the worker is killed, the job is unreadable)."""


_ENCODER: Final = msgspec.msgpack.Encoder()
_REPLIES: Final = msgspec.msgpack.Decoder(Reply)
_JOBS: Final = msgspec.msgpack.Decoder(Job)
_SETUP: Final = msgspec.msgpack.Decoder(Setup)


def encode(value: Setup | Job | Reply) -> bytes:
    return _ENCODER.encode(value)


def decode_reply(data: bytes) -> Reply:
    """A worker's reply, checked against its type; MalformedReply otherwise."""
    try:
        return _REPLIES.decode(data)
    except msgspec.DecodeError as exc:  # ValidationError included
        raise MalformedReply(f"document worker sent a malformed reply: {exc}") from exc


def decode_job(data: bytes) -> Job:
    return _JOBS.decode(data)


def decode_setup(data: bytes) -> Setup:
    return _SETUP.decode(data)
