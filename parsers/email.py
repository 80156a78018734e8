"""Email bytes in, `ParsedEmail` out (the standard library underneath, mail-parser behind it; no I/O).

Also the header rules that make a message an auto-reply, bulk mail or a
delivery report, which intake records but never acknowledges or counts.

`parse_email` never raises: whatever the bytes (duplicate headers, broken
MIME, undecodable text, nesting a thousand levels deep, no headers at all) it
returns a `ParsedEmail` with what could be read and the trouble listed in
`defects`; a message whose sender cannot be answered says why in
`sender_problem`. The header fields are read by the standard library's
header-only parser (cheap, flat); the standard library's parser reads the
body and the attachments, walking the parts without recursion, and when it
fails mail-parser takes over.
"""
from __future__ import annotations

import datetime as dt
import email.errors
import email.parser
import email.policy
import email.utils
import hashlib
import os
import re
import unicodedata
from collections.abc import Iterable, Iterator
from email.message import Message
from typing import Any

from intake.parsers.headers import clean_text, decode_words, no_reply_reason, usable_address
from intake.parsers.model import Attachment, ParsedEmail

# More MIME boundaries than this and the structure is not parsed at all: the
# standard library needs seconds and then the recursion limit for ~1,000 levels.
MAX_BOUNDARIES = 200
MAX_DEPTH = 50          # parts nested deeper than this are not looked at
MAX_BODY_CHARS = 20000
HEAD_BYTES = 256 * 1024  # the header block read when the body is not parsed
# Headers a message carries once (RFC 5322 3.6); a second one is recorded as a defect.
SINGLE_HEADERS = ("From", "Sender", "Reply-To", "To", "Subject", "Date", "Message-ID", "In-Reply-To",
                  "References", "Return-Path")
_BOUNDARY = re.compile(rb"boundary\s*=", re.IGNORECASE)
# The From line of a header block whose display name holds a raw line break.
_FROM_SALVAGE = re.compile(rb"^From:[^\n]{0,400}?(?:\n[^\n]{0,400}?){0,3}?<([^<>\s@]{1,200}@[^<>\s@]{1,200})>",
                           re.IGNORECASE | re.MULTILINE)

# The stdlib and mail-parser raise these on hostile structure (a second Subject header makes
# mail-parser call .split on a list); each is recorded as a defect, never raised.
_STRUCTURE_ERRORS = (email.errors.MessageError, RecursionError, ValueError, LookupError,
                     AttributeError, TypeError, IndexError, AssertionError, UnicodeError)


def parse_email(raw: bytes) -> ParsedEmail:
    """Parse one message; never raises. Trouble is listed in `defects`."""
    defects: list[str] = []
    if not raw.strip():
        defects.append("empty message")
    msg = _parse_headers(header_block(raw), defects)
    attachments, body = _content(raw, defects)
    return _parsed(msg, raw, defects, tuple(attachments), body, unparsed="")


def parse_email_headers(raw: bytes, why: str) -> ParsedEmail:
    """The header fields only (read from the first HEAD_BYTES), for a message whose body is not parsed:
    too large, or its parse ran out of memory or time. `why` lands in `body_unparsed` and `defects`
    ("": only the header was wanted, e.g. to attribute the message before it is processed)."""
    defects = [why] if why else []
    return _parsed(_parse_headers(header_block(raw), defects), raw, defects, (), "", unparsed=why)


def _parsed(msg: Message, raw: bytes, defects: list[str], attachments: tuple[Attachment, ...], body: str,
            unparsed: str) -> ParsedEmail:
    for name in SINGLE_HEADERS:
        if len(msg.get_all(name) or []) > 1:
            defects.append(f"duplicate {name} header")
    name, address, sender_problem = _sender(msg, raw[:HEAD_BYTES], defects)
    return ParsedEmail(
        message_id=message_id(msg, raw),
        from_address=address,
        from_name=name,
        subject=clean_text(decode_words(header_text(msg, "Subject"))),
        date_header=_header_date(header_text(msg, "Date")),
        received_header_at=topmost_received_at(msg),
        references=_references(msg),
        return_path=_return_path(msg),
        never_acknowledge=never_acknowledge_reason(msg),
        attachments=attachments,
        body_text=body[:MAX_BODY_CHARS],
        defects=tuple(sorted(set(defects))),
        sender_problem=sender_problem,
        body_unparsed=unparsed,
    )


def _parse_headers(raw: bytes, defects: list[str]) -> Message:
    msg = email.parser.BytesHeaderParser(policy=email.policy.compat32).parsebytes(raw)
    defects.extend(type(d).__name__ for d in msg.defects)
    return msg


def header_text(msg: Message, name: str) -> str:
    """The first `name` header as text: raw 8-bit bytes read as UTF-8 (bad bytes replaced), unfolded;
    encoded words are left for the caller (`decode_words`)."""
    wanted = name.lower()
    for key, value in msg.raw_items():
        if key.lower() == wanted:
            text = str(value)
            if any("\udc80" <= ch <= "\udcff" for ch in text):
                text = text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
            return " ".join(text.split())
    return ""


def _sender(msg: Message, raw: bytes, defects: list[str]) -> tuple[str, str, str]:
    """(display name, address, why the sender cannot be answered or "")."""
    value = header_text(msg, "From")
    if not value:
        salvaged = _salvage_from(raw)
        if salvaged:
            defects.append("From header broken by a line break: address recovered")
            return "", salvaged, ""
        return "", "", "no From header"
    # Addresses are read from the raw value, where an encoded word is one atom:
    # a display name that decodes to CR LF cannot take the address with it.
    for name, addr in email.utils.getaddresses([value]):
        address = usable_address(addr)
        if address is not None:
            return clean_text(decode_words(name)), address, ""
    salvaged = _salvage_from(raw)
    if salvaged:
        defects.append("From header broken by a line break: address recovered")
        return "", salvaged, ""
    return clean_text(decode_words(value)), "", f"no usable address in From: {clean_text(value, 120)}"


def _salvage_from(raw: bytes) -> str | None:
    """The angle-bracketed address of a From header split by a raw line break inside its display name."""
    end = raw.find(b"\r\n\r\n", 0, 64 * 1024)
    head = raw[: end if end >= 0 else 64 * 1024].replace(b"\r", b"\n")
    found = _FROM_SALVAGE.search(head)
    if found is None:
        return None
    return usable_address(found.group(1).decode("utf-8", "replace"))


SYNTHETIC_ID_DOMAIN = "no-message-id.intake.invalid"
MAX_ID_CHARS = 998  # the messages.message_id column; longer is cut (and then threads nothing)


def message_id(msg: Message, raw: bytes) -> str:
    """The Message-ID header in angle brackets (control characters removed), or a stand-in named by
    the content hash, so that a message without one still dedupes when fetched again."""
    value = clean_text(header_text(msg, "Message-ID"), MAX_ID_CHARS).replace(" ", "")
    if value:
        return value if value.startswith("<") else f"<{value}>"
    return f"<{hashlib.sha256(raw).hexdigest()[:32]}@{SYNTHETIC_ID_DOMAIN}>"


def message_id_of(raw: bytes) -> str:
    """`message_id` from the header block alone: cheap enough to run before the message is stored
    (the header parser would otherwise split the whole body into lines, ~4x its size)."""
    return message_id(email.parser.BytesHeaderParser(policy=email.policy.compat32).parsebytes(header_block(raw)), raw)


def header_block(raw: bytes) -> bytes:
    """The header block (at most HEAD_BYTES), with its blank line."""
    for sep in (b"\r\n\r\n", b"\n\n"):
        end = raw.find(sep, 0, HEAD_BYTES)
        if end >= 0:
            return raw[: end + len(sep)]
    return raw[:HEAD_BYTES]


def is_synthetic_message_id(value: str) -> bool:
    return value.endswith(f"@{SYNTHETIC_ID_DOMAIN}>")


def _header_date(value: object) -> dt.datetime | None:
    if not value:
        return None
    try:
        when = email.utils.parsedate_to_datetime(str(value))
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        # RFC 5322 "-0000": the time is UTC with no claim about local time.
        when = when.replace(tzinfo=dt.UTC)
    return when


def topmost_received_at(msg: Message) -> dt.datetime | None:
    """Date of the topmost `Received:` header (the last hop: our server's)."""
    for header in msg.get_all("Received") or []:
        text = str(header)
        if ";" in text:
            when = _header_date(text.rsplit(";", 1)[1].strip())
            if when is not None:
                return when
    return None


def _references(msg: Message) -> tuple[str, ...]:
    ids: list[str] = []
    for name in ("References", "In-Reply-To"):
        for found in re.findall(r"<[^<>\s]+>", header_text(msg, name)):
            if found not in ids:
                ids.append(found)
    return tuple(ids)


def _return_path(msg: Message) -> str | None:
    if "Return-Path" not in msg:
        return None
    return clean_text(header_text(msg, "Return-Path")).strip("<>").strip()


# -- body and attachments ----------------------------------------------------------


def _content(raw: bytes, defects: list[str]) -> tuple[list[Attachment], str]:
    """Attachments and the first plain-text body: the stdlib walked flat, else mail-parser."""
    # Counting the word first is twenty times cheaper than the regex, and bounds its count from above.
    boundaries = raw.lower().count(b"boundary")
    if boundaries > MAX_BOUNDARIES:
        boundaries = len(_BOUNDARY.findall(raw))
    if boundaries > MAX_BOUNDARIES:
        defects.append(f"multipart structure too deep or too wide ({boundaries} boundaries): not parsed")
        return [], ""
    try:
        return _stdlib_content(raw, defects)
    except _STRUCTURE_ERRORS as exc:
        defects.append(f"standard library failed ({type(exc).__name__}): read with mail-parser")
    import mailparser  # the fallback only: not loaded by every process that parses mail
    from mailparser.exceptions import MailParserError

    try:
        parsed = mailparser.parse_from_bytes(raw)
        attachments = list(_attachments(parsed.attachments))
        body = parsed.text_plain[0] if parsed.text_plain else ""
        defects.extend(str(c) for c in parsed.defects_categories)
        return attachments, str(body)
    except (MailParserError, *_STRUCTURE_ERRORS) as exc:
        defects.append(f"structure unreadable ({type(exc).__name__})")
        return [], ""


def _attachments(items: Iterable[dict[str, Any]]) -> Iterable[Attachment]:
    from mailparser.utils import decode_base64_payload

    for item in items:
        payload = item.get("payload") or ""
        if item.get("binary"):
            data = decode_base64_payload(payload)
        else:
            data = str(payload).encode(item.get("charset") or "utf-8", errors="replace")
        yield Attachment(filename=_filename(str(item.get("filename") or "")),
                         content_type=clean_text(str(item.get("mail_content_type") or ""), 200), data=data)


def _filename(name: str) -> str:
    """The sender's file name for display: NFC, no control characters."""
    return clean_text(unicodedata.normalize("NFC", name), 300).strip()


def _walk(msg: Message, defects: list[str]) -> Iterator[Message]:
    """Every part, depth first, without recursion; parts deeper than MAX_DEPTH are skipped."""
    stack: list[tuple[Message, int]] = [(msg, 0)]
    while stack:
        part, depth = stack.pop()
        yield part
        if part.is_multipart():
            if depth >= MAX_DEPTH:
                defects.append(f"parts nested deeper than {MAX_DEPTH} levels skipped")
                continue
            children = part.get_payload()
            if isinstance(children, list):
                stack.extend((child, depth + 1) for child in reversed(children) if isinstance(child, Message))


def _stdlib_content(raw: bytes, defects: list[str], *, fold_runs: bool = True) -> tuple[list[Attachment], str]:
    """The parts walked flat: each part with a file name (or marked attachment), the first text/plain.

    The standard library's parser, without mail-parser's re-encoding of every
    attachment to base64 text: half the cost per message. With `fold_runs`,
    long base64 bodies cross the parser as one line each (`_folded_runs`)."""
    shown, runs = _folded_runs(raw) if fold_runs else (raw, _Runs(b"", []))
    msg = email.parser.BytesParser(policy=email.policy.compat32).parsebytes(shown)
    attachments: list[Attachment] = []
    body = ""
    for part in _walk(msg, defects):
        defects.extend(type(d).__name__ for d in part.defects)
        runs.restore(part)
        if part.is_multipart():
            continue
        filename = _part_filename(part)
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        if filename or part.get_content_disposition() == "attachment":
            attachments.append(Attachment(filename=_filename(decode_words(filename)),
                                          content_type=clean_text(part.get_content_type(), 200), data=data))
        elif not body and part.get_content_type() == "text/plain":
            body = _decode_text(data, part.get_content_charset())
    return attachments, body


# The standard library's parser reads a message line by line in Python, and a report of a few MB is
# tens of thousands of base64 lines. A line made only of base64 characters can be neither a boundary
# ("--" first), nor a header (a colon, or white space first), nor the blank line that ends headers,
# so a run of such lines means nothing to the parser's structure: each long run is handed to it as
# one placeholder line, and a part's payload gets its run back before anything reads it. The parts,
# their payloads and their defects are then the parser's own (tests/test_hostile_parse.py).
RUN_MIN_LINES = 16
RUN_MAX_BLANKS = 5000  # a report's email has tens of blank lines; past this many the rest is not folded
_BASE64_LINE_BYTES = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=\r\n"
_PLACEHOLDER = re.compile(r"INTAKE([0-9a-f]{16})RUN(\d+)")  # one message's: its own random 16 hex digits


class _Runs:
    """The runs taken out of a message, by placeholder."""

    def __init__(self, prefix: bytes, texts: list[bytes]) -> None:
        self.prefix = prefix.decode("ascii")
        self.texts = texts

    def restore(self, part: Message) -> None:
        # The stored payload itself: get_payload() hands out a re-decoded copy when it holds raw
        # 8-bit bytes. The parser stored it with set_payload(str): so does this, with the runs back.
        payload = getattr(part, "_payload", None) if self.texts else None
        if isinstance(payload, str) and self.prefix in payload:
            part.set_payload(_PLACEHOLDER.sub(self._run_back, payload))

    def _run_back(self, found: re.Match[str]) -> str:
        if "INTAKE" + found[1] != self.prefix:  # another message's placeholder, written by its sender
            return found[0]
        return self.texts[int(found[2])].decode("ascii")


def _folded_runs(raw: bytes) -> tuple[bytes, _Runs]:
    """`raw` with each run of at least RUN_MIN_LINES base64 lines after a blank line replaced by a
    placeholder line (which keeps the run's last line ending), and the runs taken out.

    One pass over the message (each search resumes where it last stopped, and the chunks checked do
    not overlap), and no more than RUN_MAX_BLANKS blank lines looked at: a message of a million blank
    lines is left to the parser as it is."""
    prefix = b"INTAKE" + os.urandom(8).hex().encode("ascii")
    if prefix in raw:
        return raw, _Runs(prefix, [])
    pieces: list[bytes] = []
    texts: list[bytes] = []
    done = pos = 0
    blanks, dashes = _BlankLines(raw), _Next(raw, b"\n-")
    for _ in range(RUN_MAX_BLANKS):
        start = blanks.start_from(pos)
        if start < 0:
            break
        end = _run_end(raw, start, blanks.at_from(start), dashes.at_from(start))
        if end < 0:
            pos = start
            continue
        ending = 2 if raw[end - 2:end] == b"\r\n" else 1
        pieces += [raw[done:start], prefix + b"RUN%d" % len(texts) + raw[end - ending:end]]
        texts.append(raw[start:end - ending])
        done, pos = end, end - 1  # the run's last line ending may begin the next blank line
    if not texts:
        return raw, _Runs(prefix, [])
    pieces.append(raw[done:])
    return b"".join(pieces), _Runs(prefix, texts)


class _Next:
    """Where `needle` next occurs in `raw` at or after a position that only grows: searched again
    only once the position passes the last one found."""

    def __init__(self, raw: bytes, needle: bytes) -> None:
        self.raw, self.needle, self.at = raw, needle, -2  # -2: not searched yet; -1: none left

    def at_from(self, pos: int) -> int:
        if self.at != -1 and self.at < pos:
            self.at = self.raw.find(self.needle, pos)
        return self.at


class _BlankLines:
    """Blank lines ("\n\n" or "\n\r\n": the line ending before one and the empty line) in order."""

    def __init__(self, raw: bytes) -> None:
        self._found = (_Next(raw, b"\n\n"), _Next(raw, b"\n\r\n"))

    def at_from(self, pos: int) -> int:
        """Where the next blank line at or after `pos` begins (its preceding line ending), or -1."""
        return min((at for at in (n.at_from(pos) for n in self._found) if at >= 0), default=-1)

    def start_from(self, pos: int) -> int:
        """Where the line after the next blank line at or after `pos` begins, or -1."""
        ats = [(n.at_from(pos), len(n.needle)) for n in self._found]
        return min((at + width for at, width in ats if at >= 0), default=-1)


def _run_end(raw: bytes, start: int, next_blank: int, next_dash: int) -> int:
    """The end (after its last line ending) of the run of base64 lines at `start`, or -1 when the lines
    up to the next blank line (at `next_blank`) or "-" line (at `next_dash`; -1 for none) are not all
    base64 characters or are too few."""
    ends = [at + 1 for at in (next_blank, next_dash) if at >= start]
    end = min(ends) if ends else raw.rfind(b"\n") + 1
    chunk = raw[start:end]
    if (chunk.count(b"\n") < RUN_MIN_LINES or chunk[:1] in (b"\r", b"\n")
            or chunk.translate(None, _BASE64_LINE_BYTES) or chunk.count(b"\r") != chunk.count(b"\r\n")):
        return -1
    return end


def _part_filename(part: Message) -> str:
    """The part's file name; raw 8-bit names (against RFC 2047, common all the same) read as UTF-8."""
    name = part.get_filename() or ""
    if "\ufffd" not in name:
        return name
    for header in ("Content-Disposition", "Content-Type"):
        value = next((v for k, v in part.raw_items() if k.lower() == header.lower()), None)
        if not isinstance(value, str):
            continue
        decoded = value.encode("ascii", "surrogateescape").decode("utf-8", "replace")
        probe = Message()
        probe[header] = decoded
        found = probe.get_filename() if header == "Content-Disposition" else probe.get_param("name")
        if isinstance(found, str) and found:
            return found
    return name


def _decode_text(data: bytes, charset: str | None) -> str:
    try:
        return data.decode(charset or "utf-8", errors="replace")
    except LookupError:  # an unknown charset name
        return data.decode("utf-8", errors="replace")


# Headers whose mere presence marks machine mail (auto-responders, lists, cron):
# RFC 3834 and RFC 2369/2919, plus what Zammad, FreeScout, osTicket and RT check.
MACHINE_HEADERS: tuple[str, ...] = (
    "List-Id", "List-Unsubscribe", "List-Post", "List-Help", "List-Subscribe", "List-Owner",
    "X-Autoreply", "X-Autorespond", "X-Auto-Response-Suppress", "X-Autogenerated", "X-AutoReply-From",
    "X-Mail-Autoreply", "X-FC-MachineGenerated", "X-Loop", "X-RT-Loop-Prevention", "X-Cron-Env",
)
BULK_PRECEDENCE = frozenset({"bulk", "list", "junk", "auto_reply"})
REPORT_TYPES = frozenset({"multipart/report", "message/delivery-status", "message/disposition-notification"})


def never_acknowledge_reason(msg: Message) -> str | None:
    """Why this message must never be acknowledged nor counted, else None.

    RFC 3834 plus what helpdesks (RT, Zammad, FreeScout, osTicket) check.
    """
    def header(name: str) -> str:
        return clean_text(header_text(msg, name)).lower()

    auto = header("Auto-Submitted").split(";", 1)[0].strip()
    if "Auto-Submitted" in msg and auto != "no":
        return f"Auto-Submitted: {auto or '(empty)'}"
    for name in ("Precedence", "X-Precedence"):
        if header(name) in BULK_PRECEDENCE:
            return f"{name}: {header(name)}"
    for name in MACHINE_HEADERS:
        if name in msg:
            return f"{name} present"
    if "autoresponder" in header("X-POST-MessageClass") or header("Delivered-To") == "autoresponder":
        return "autoresponder marker"
    if msg.get_content_type() in REPORT_TYPES:
        return f"delivery or read report ({msg.get_content_type()})"
    return _robot_sender_reason(msg)


def _robot_sender_reason(msg: Message) -> str | None:
    if "Return-Path" in msg:
        rp = clean_text(header_text(msg, "Return-Path")).strip("<>").strip()
        if not rp:
            return "empty Return-Path (bounce)"
        if (what := no_reply_reason(rp)) is not None:
            return f"Return-Path {rp} ({what})"
    for _name, from_addr in email.utils.getaddresses([header_text(msg, "From")]):
        if from_addr and (what := no_reply_reason(from_addr)) is not None:
            return f"From {clean_text(from_addr, 150)} ({what})"
    return None


def is_robot_address(address: str) -> bool:
    """mailer-daemon, postmaster, bounces and every spelling of no-reply (see `parsers.headers`)."""
    return no_reply_reason(address) is not None


def normalise_address(address: str) -> str:
    """Lower-cased address for comparisons."""
    return address.strip().strip("<>").lower()
