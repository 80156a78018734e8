"""The long-lived worker of `DocumentPool`: framed jobs on stdin, framed JSON answers on stdout.

Each frame is a 4-byte big-endian length and that many bytes. A job is a
pickle from the parent (trusted) of one of:

    ("attachment", Attachment, ReaderLimits, campaigns)
    ("email", raw bytes, ReaderLimits, campaigns)

where `campaigns` is a tuple of `CampaignQuery`. The answer is JSON:

    {"outline": {...}, "sections": {campaign id: {...}}}   an attachment read
    {"error": "UnreadableDocument", "message": ...}         a DocumentError
    {"attachments": {sha256: <one of the two above>}}       an email's Word attachments

The address-space limit is set once, after the imports; the CPU limit is
moved before every document to "CPU used so far + the per-document budget",
so that each document gets the same budget however long the worker lived. A
worker that ran out of memory answers `exceeded memory/time limit` with
`"recycle": true` and leaves: the pool starts a fresh one. Any other
exception ends the worker with its traceback on stderr; the pool reports the
job's documents as unreadable.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import pickle
import resource
import struct
import sys
from typing import IO, Any

from intake.parsers.email import parse_email
from intake.parsers.errors import DocumentError, EmailParseError, UnreadableDocument
from intake.parsers.filetype import classify, is_word_candidate
from intake.parsers.model import Attachment
from intake.processor.documents import LIMIT_EXCEEDED, DocumentReader, ReaderLimits
from intake.processor.documents.pool import CampaignQuery, find_sections

FRAME = struct.Struct(">I")
_MB = 1024 * 1024


def _cpu_used() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _budget(cpu_seconds: int) -> None:
    """SIGXCPU once this document has used `cpu_seconds` of CPU (the hard limit is left as it is)."""
    soft = int(_cpu_used()) + cpu_seconds + 1
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))


def _read_frame(stream: IO[bytes]) -> bytes | None:
    header = stream.read(FRAME.size)
    if len(header) < FRAME.size:
        return None
    (size,) = FRAME.unpack(header)
    body = stream.read(size)
    return body if len(body) == size else None


def _one(reader: DocumentReader, att: Attachment, campaigns: tuple[CampaignQuery, ...],
         cpu_seconds: int) -> dict[str, Any]:
    _budget(cpu_seconds)
    try:
        outline = reader.read(att)
    except DocumentError as exc:
        return {"error": type(exc).__name__, "message": str(exc)}
    sections = find_sections(outline, campaigns)
    # asdict gives JSON-ready values here: str enums, tuples (as lists), numbers, None.
    return {"outline": dataclasses.asdict(outline),
            "sections": {key: dataclasses.asdict(value) for key, value in sections.items()}}


def _email(reader: DocumentReader, raw: bytes, campaigns: tuple[CampaignQuery, ...],
           cpu_seconds: int) -> dict[str, Any]:
    _budget(cpu_seconds)
    try:
        parsed = parse_email(raw)
    except EmailParseError as exc:
        return {"error": UnreadableDocument.__name__, "message": f"not a readable email: {exc}"}
    answers: dict[str, Any] = {}
    for att in parsed.attachments:
        if not is_word_candidate(att.filename, classify(att.filename, att.content_type, att.data)):
            continue
        digest = hashlib.sha256(att.data).hexdigest()
        if digest not in answers:
            answers[digest] = _one(reader, att, campaigns, cpu_seconds)
    return {"attachments": answers}


def _answer(job: tuple[Any, ...], cpu_seconds: int) -> dict[str, Any]:
    kind, payload, limits, campaigns = job
    assert isinstance(limits, ReaderLimits)
    reader = DocumentReader(limits)
    if kind == "email":
        return _email(reader, payload, campaigns, cpu_seconds)
    if len(payload.data) > limits.max_bytes:
        return {"error": UnreadableDocument.__name__,
                "message": f"file too large ({len(payload.data)} bytes > {limits.max_bytes})"}
    return _one(reader, payload, campaigns, cpu_seconds)


def serve(memory_mb: int, cpu_seconds: int) -> int:
    memory = memory_mb * _MB
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    while (request := _read_frame(stdin)) is not None:
        job = pickle.loads(request)  # from the parent process, trusted
        del request
        recycle = False
        try:
            reply = _answer(job, cpu_seconds)
        except MemoryError:
            job = None
            reply, recycle = {"error": UnreadableDocument.__name__, "message": LIMIT_EXCEEDED, "recycle": True}, True
        body = json.dumps(reply).encode("ascii")
        stdout.write(FRAME.pack(len(body)) + body)
        stdout.flush()
        if recycle:
            return 0
    return 0
