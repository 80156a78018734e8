"""Mail parsed where a hostile message can cost only a child process.

`MailParser.parse(raw)` is what the pipeline calls (any `Callable[[bytes], ParsedEmail]` will do):

- a message over `max_bytes` is not parsed at all: its header fields are read from
  the header block (`parse_email_headers`) and `body_unparsed` says why;
- with `isolate` (the default, `isolate_parsing` in the config) `parse_email`
  runs in a child process (`python -I -m intake.processor.ingest.mail_worker`)
  under an address-space limit, a CPU limit and a wall-clock timeout; a child
  that dies, runs out, or answers nonsense gives the header-only result with
  the reason, never an exception;
- without it, `parse_email` runs here (tests, `isolate_parsing = false`).

The child's reply is one JSON line (every field but the attachments' bytes,
each attachment with its size) followed by the attachments' bytes: nothing
from the child is unpickled.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import os
import signal
import subprocess
import sys
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

from intake.parsers.email import parse_email, parse_email_headers
from intake.parsers.model import Attachment, ParsedEmail

log = logging.getLogger(__name__)

WORKER_MODULE = "intake.processor.ingest.mail_worker"
OVER_LIMITS = "mail parsing exceeded its memory/time limit: body not read"


@dataclass(frozen=True)
class MailLimits:
    max_bytes: int = 40 * 1024 * 1024   # `[mailbox] max_message_mb`
    memory_mb: int = 1024               # the child's address space (mail-parser needs ~9x the message)
    cpu_seconds: int = 60
    wall_seconds: float = 120.0


class MailParser:
    def __init__(self, limits: MailLimits | None = None, *, isolate: bool = True) -> None:
        self.limits = limits or MailLimits()
        self.isolate = isolate

    def parse(self, raw: bytes) -> ParsedEmail:
        if len(raw) > self.limits.max_bytes:
            why = (f"message too large ({len(raw) / 1048576:.1f} MB > {self.limits.max_bytes / 1048576:.0f} MB): "
                   "stored, not parsed")
            log.warning("%s", why)
            return parse_email_headers(raw, why)
        return self.parse_isolated(raw) if self.isolate else parse_email(raw)

    def parse_isolated(self, raw: bytes) -> ParsedEmail:
        limits = self.limits
        command = [sys.executable, "-I", "-m", WORKER_MODULE, "--memory-mb", str(limits.memory_mb),
                   "--cpu-seconds", str(limits.cpu_seconds)]
        try:
            proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                    start_new_session=True)
        except OSError as exc:
            log.error("cannot start the mail worker: %s", exc)
            return parse_email_headers(raw, f"mail worker could not start: {exc.strerror}")
        try:
            stdout, stderr = proc.communicate(raw, timeout=limits.wall_seconds)
        except subprocess.TimeoutExpired:
            _kill(proc)
            log.warning("mail worker killed after %.0f s", limits.wall_seconds)
            return parse_email_headers(raw, OVER_LIMITS)
        finally:
            _kill(proc)
        if proc.returncode != 0:
            tail = " | ".join(stderr.decode("utf-8", "replace").strip().splitlines()[-3:])
            log.warning("mail worker ended with status %s: %s", proc.returncode, tail)
            return parse_email_headers(raw, OVER_LIMITS)
        try:
            return decode_reply(stdout)
        except (ValueError, KeyError, TypeError) as exc:
            log.error("mail worker sent a malformed reply: %s", exc)
            return parse_email_headers(raw, f"mail worker sent a malformed reply ({type(exc).__name__})")


def _kill(proc: subprocess.Popen[bytes]) -> None:
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    if proc.poll() is None:
        proc.wait()


# -- the reply ---------------------------------------------------------------------------

_TIMES = ("date_header", "received_header_at")


def mail_to_wire(parsed: ParsedEmail) -> tuple[dict[str, Any], bytes]:
    """JSON-ready fields (each attachment with its size) and the attachments' bytes, one after another."""
    fields: dict[str, Any] = {k: getattr(parsed, k) for k in ParsedEmail.__dataclass_fields__ if k != "attachments"}
    for key in _TIMES:
        fields[key] = fields[key].isoformat() if fields[key] is not None else None
    fields["attachments"] = [{"filename": a.filename, "content_type": a.content_type, "size": len(a.data)}
                             for a in parsed.attachments]
    return fields, b"".join(a.data for a in parsed.attachments)


def mail_from_wire(fields: Any, blob: bytes) -> ParsedEmail:
    """The ParsedEmail of `mail_to_wire`; ValueError, KeyError or TypeError when it is not one."""
    if not isinstance(fields, dict):
        raise TypeError("reply is not an object")
    fields = dict(fields)
    view = memoryview(blob)
    attachments = []
    offset = 0
    for item in fields.pop("attachments"):
        size = int(item["size"])
        if size < 0 or offset + size > len(blob):
            raise ValueError("attachment sizes exceed the reply")
        attachments.append(Attachment(filename=str(item["filename"]), content_type=str(item["content_type"]),
                                      data=bytes(view[offset:offset + size])))
        offset += size
    if offset != len(blob):
        raise ValueError("trailing bytes after the attachments")
    for key in _TIMES:
        fields[key] = dt.datetime.fromisoformat(fields[key]) if fields[key] is not None else None
    for key in ("references", "defects"):
        fields[key] = tuple(str(v) for v in fields[key])
    unknown = set(fields) - set(ParsedEmail.__dataclass_fields__)
    if unknown:
        raise KeyError(f"unknown fields {sorted(unknown)}")
    return ParsedEmail(attachments=tuple(attachments), **fields)


def encode_reply(parsed: ParsedEmail) -> bytes:
    fields, blob = mail_to_wire(parsed)
    return json.dumps(fields, ensure_ascii=True).encode("ascii") + b"\n" + blob


def decode_reply(data: bytes) -> ParsedEmail:
    line, _, rest = data.partition(b"\n")
    return mail_from_wire(json.loads(line), rest)
