"""The long-lived worker of `DocumentPool`: framed jobs on stdin, framed JSON answers on stdout.

Each frame is a 4-byte big-endian length and that many bytes. A job is a
pickle from the parent (trusted) of one of:

    ("attachment", Attachment, ReaderLimits, campaigns)
    ("email", raw bytes, ReaderLimits, campaigns)

where `campaigns` is a tuple of `CampaignQuery`. The answer is one line of
JSON, a newline, and (for an email) the bytes of its attachments one after
another:

    {"outline": {...}, "sections": {campaign id: {...}}}   an attachment read
    {"error": "UnreadableDocument", "message": ...}         a DocumentError
    {"email": {...}, "attachments": {sha256: <one of the two above>}}
                                                            an email parsed (`mail_to_wire`) and
                                                            its Word attachments read

so that the parent needs no process of its own to parse the email.

With `--office-via-parent` a conversion does not start LibreOffice here:
the worker writes the file into a conversion directory, sends the frame
`{"convert": {"source": ..., "target": ..., "filter": ...}}` and reads the
parent's answer `{"error": "" or LibreOffice's reason, "fatal": bool}`
(the pool's one `office.Office` did the work) before it goes on.

The address-space limit is set once, after the imports; the CPU limit is
moved before every document to "CPU used so far + the per-document budget",
so that each document gets the same budget however long the worker lived. A
worker that ran out of memory answers `exceeded memory/time limit` with
`"recycle": true` and leaves: the pool starts a fresh one. Any other
exception ends the worker with its traceback on stderr; the pool reports the
job's documents as unreadable.
"""
from __future__ import annotations

import hashlib
import json
import pickle
import resource
import struct
import sys
from pathlib import Path
from typing import IO, Any

from intake.parsers.email import parse_email
from intake.parsers.errors import DocumentError, UnreadableDocument
from intake.parsers.filetype import classify, is_word_candidate
from intake.parsers.model import Attachment
from intake.processor.documents import LIMIT_EXCEEDED, DocumentReader, ReaderLimits, to_json
from intake.processor.documents.pool import CampaignQuery, find_sections
from intake.processor.ingest.mailparse import mail_to_wire

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
    return {"outline": to_json(outline), "sections": {key: to_json(value) for key, value in sections.items()}}


def _email(reader: DocumentReader, raw: bytes, campaigns: tuple[CampaignQuery, ...],
           cpu_seconds: int) -> tuple[dict[str, Any], bytes]:
    _budget(cpu_seconds)
    parsed = parse_email(raw)
    del raw
    fields, blob = mail_to_wire(parsed)
    answers: dict[str, Any] = {}
    for att in parsed.attachments:
        if not is_word_candidate(att.filename, classify(att.filename, att.content_type, att.data)):
            continue
        digest = hashlib.sha256(att.data).hexdigest()
        if digest not in answers:
            answers[digest] = _one(reader, att, campaigns, cpu_seconds)
    return {"email": fields, "attachments": answers}, blob


class ParentOffice:
    """The pool's LibreOffice, asked through the parent: a `{"convert": ...}` frame out, its answer in."""

    def __init__(self, stdin: IO[bytes], stdout: IO[bytes]) -> None:
        self.stdin, self.stdout = stdin, stdout

    def convert(self, source: Path, target: Path, infilter: str | None, timeout: float) -> str:
        request = {"convert": {"source": str(source), "target": str(target), "filter": infilter}}
        _write_frame(self.stdout, json.dumps(request).encode("ascii") + b"\n")
        answer = _read_frame(self.stdin)
        if answer is None:
            raise SystemExit(0)  # the parent went away
        reply = json.loads(answer)
        if reply.get("fatal"):
            raise UnreadableDocument(str(reply.get("error", "LibreOffice could not convert the file")))
        return str(reply.get("error", ""))


def _write_frame(stream: IO[bytes], body: bytes, blob: bytes = b"") -> None:
    stream.write(FRAME.pack(len(body) + len(blob)))
    stream.write(body)
    stream.write(blob)
    stream.flush()


def _answer(job: tuple[Any, ...], cpu_seconds: int, office: ParentOffice | None) -> tuple[dict[str, Any], bytes]:
    kind, payload, limits, campaigns = job
    assert isinstance(limits, ReaderLimits)
    reader = DocumentReader(limits, office=office)
    if kind == "email":
        return _email(reader, payload, campaigns, cpu_seconds)
    if len(payload.data) > limits.max_bytes:
        return {"error": UnreadableDocument.__name__,
                "message": f"file too large ({len(payload.data)} bytes > {limits.max_bytes})"}, b""
    return _one(reader, payload, campaigns, cpu_seconds), b""


def serve(memory_mb: int, cpu_seconds: int, office_via_parent: bool = False) -> int:
    memory = memory_mb * _MB
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    office = ParentOffice(stdin, stdout) if office_via_parent else None
    while (request := _read_frame(stdin)) is not None:
        job = pickle.loads(request)  # from the parent process, trusted
        del request
        recycle = False
        try:
            reply, blob = _answer(job, cpu_seconds, office)
        except MemoryError:
            job = None
            reply, blob, recycle = {"error": UnreadableDocument.__name__, "message": LIMIT_EXCEEDED,
                                    "recycle": True}, b"", True
        _write_frame(stdout, json.dumps(reply).encode("ascii") + b"\n", blob)
        del blob
        if recycle:
            return 0
    return 0
