"""The work a job asks for, the same in a worker process and in-process (`isolate_parsing = false`)."""
from __future__ import annotations

from collections.abc import Sequence

from intake.parsers.email import parse_email
from intake.parsers.errors import DocumentError, UnreadableDocument
from intake.parsers.filetype import classify, is_word_candidate
from intake.parsers.model import Attachment, Outline, ParsedEmail, SectionResult
from intake.parsers.section import find_section
from intake.processor.documents import DocumentReader
from intake.processor.reading.wire import CampaignQuery, DocumentRead, Failure, MessageRead

__all__ = ["find_sections", "read_document", "read_message", "word_positions"]


def find_sections(outline: Outline, campaigns: Sequence[CampaignQuery]) -> dict[str, SectionResult]:
    return {c.id: find_section(outline, c.section_title, c.keywords, guide=c.guide) for c in campaigns}


def read_document(reader: DocumentReader, att: Attachment, campaigns: Sequence[CampaignQuery]) -> DocumentRead:
    """Classify, convert and parse one attachment, and find the campaigns' sections in it."""
    limit = reader.limits.max_bytes
    try:
        if len(att.data) > limit:
            raise UnreadableDocument(f"file too large ({len(att.data)} bytes > {limit})")
        outline = reader.read(att)
    except DocumentError as exc:
        return DocumentRead(failure=Failure.of(exc))
    return DocumentRead(outline=outline, sections=find_sections(outline, campaigns))


def word_positions(parsed: ParsedEmail) -> list[int]:
    """The positions of the attachments that are read as Word documents."""
    return [i for i, att in enumerate(parsed.attachments)
            if is_word_candidate(att.filename, classify(att.filename, att.content_type, att.data))]


def read_message(reader: DocumentReader, raw: bytes, campaigns: Sequence[CampaignQuery],
                 documents: bool = True) -> MessageRead:
    """Parse the email and (`documents`) read each of its Word attachments once (the same bytes twice
    are read once)."""
    parsed = parse_email(raw)
    if not documents:
        return MessageRead(parsed)
    read: dict[int, DocumentRead] = {}
    by_data: dict[bytes, DocumentRead] = {}
    for position in word_positions(parsed):
        att = parsed.attachments[position]
        found = by_data.get(att.data)
        if found is None:
            found = by_data[att.data] = read_document(reader, att, campaigns)
        read[position] = found
    return MessageRead(parsed, read)
