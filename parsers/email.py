"""Email bytes in, `ParsedEmail` out (mail-parser underneath; no I/O).

Also the header rules that make a message an auto-reply, bulk mail or a
delivery report, which intake records but never acknowledges or counts.
"""
from __future__ import annotations

import datetime as dt
import email.parser
import email.policy
import email.utils
import hashlib
import re
import unicodedata
from collections.abc import Iterable
from email.message import Message
from typing import Any, Final

import mailparser
from mailparser.exceptions import MailParserError
from mailparser.utils import decode_base64_payload

from intake.parsers.errors import EmailParseError
from intake.parsers.model import Attachment, ParsedEmail

NO_REPLY_LOCALPART = re.compile(
    r"^(mailer[-_.]?daemon|postmaster|(do[-_.]?)?not?[-_.]?reply|bounces?)([-+_.][\w.+=-]*)?$",
    re.IGNORECASE)
ADDRESS_RE = re.compile(r"^[^@\s<>]+@[^@\s<>]+$")


def parse_email(raw: bytes) -> ParsedEmail:
    """Parse one message. Broken structure yields what can be read, with
    defects listed; only input that is not an email at all raises."""
    if not raw.strip():
        raise EmailParseError("empty message")
    try:
        parsed = mailparser.parse_from_bytes(raw)
    except (MailParserError, RecursionError, ValueError, LookupError) as exc:
        raise EmailParseError(f"cannot parse message: {exc}") from exc
    msg: Message = parsed.message
    name, address = _sender(parsed.from_)
    return ParsedEmail(
        message_id=message_id(msg, raw),
        from_address=address,
        from_name=name,
        subject=_one_line(parsed.subject or ""),
        date_header=_header_date(msg.get("Date")),
        received_header_at=topmost_received_at(msg),
        references=_references(msg),
        return_path=_return_path(msg),
        never_acknowledge=never_acknowledge_reason(msg),
        attachments=tuple(_attachments(parsed.attachments)),
        body_text=(parsed.text_plain[0] if parsed.text_plain else "")[:20000],
        defects=tuple(sorted(str(c) for c in parsed.defects_categories)),
    )


def _one_line(text: str) -> str:
    return unicodedata.normalize("NFC", " ".join(text.split()))


def _sender(from_: Any) -> tuple[str, str]:
    if not from_:
        return "", ""
    name, address = from_[0]
    return _one_line(str(name or "")), str(address or "").strip()


SYNTHETIC_ID_DOMAIN = "no-message-id.intake.invalid"


def message_id(msg: Message, raw: bytes) -> str:
    """The Message-ID header in angle brackets, or a stand-in named by the content hash,
    so that a message without one still dedupes when fetched again."""
    value = " ".join(str(msg.get("Message-ID", "")).split())
    if value:
        return value if value.startswith("<") else f"<{value}>"
    return f"<{hashlib.sha256(raw).hexdigest()[:32]}@{SYNTHETIC_ID_DOMAIN}>"


def message_id_of(raw: bytes) -> str:
    """`message_id` from the header block alone: cheap enough to run before the message is stored."""
    # Only the header block goes through the parser: given a whole message it would read the body too.
    end = _END_OF_HEADERS.search(raw)
    head = raw[:end.end()] if end is not None else raw
    return message_id(email.parser.BytesHeaderParser(policy=email.policy.compat32).parsebytes(head), raw)


_END_OF_HEADERS: Final = re.compile(rb"\r?\n\r?\n")


def is_synthetic_message_id(value: str) -> bool:
    return value.endswith(f"@{SYNTHETIC_ID_DOMAIN}>")


def _header_date(value: object) -> dt.datetime | None:
    if not value:
        return None
    try:
        when = email.utils.parsedate_to_datetime(str(value))
    except (TypeError, ValueError, IndexError):
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
        for found in re.findall(r"<[^<>\s]+>", str(msg.get(name, ""))):
            if found not in ids:
                ids.append(found)
    return tuple(ids)


def _return_path(msg: Message) -> str | None:
    if "Return-Path" not in msg:
        return None
    value = str(msg.get("Return-Path", "")).strip()
    return value.strip("<>").strip()


def _attachments(items: Iterable[dict[str, Any]]) -> Iterable[Attachment]:
    for item in items:
        payload = item.get("payload") or ""
        if item.get("binary"):
            data = decode_base64_payload(payload)
        else:
            data = str(payload).encode(item.get("charset") or "utf-8", errors="replace")
        filename = unicodedata.normalize("NFC", str(item.get("filename") or "")).strip()
        yield Attachment(filename=filename, content_type=str(item.get("mail_content_type") or ""), data=data)


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
        return " ".join(str(msg.get(name, "")).split()).lower()

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
        rp = str(msg.get("Return-Path", "")).strip().strip("<>").strip()
        if not rp:
            return "empty Return-Path (bounce)"
        if is_robot_address(rp):
            return f"Return-Path {rp}"
    from_addr = email.utils.parseaddr(str(msg.get("From", "")))[1]
    if from_addr and is_robot_address(from_addr):
        return f"From {from_addr}"
    return None


def is_robot_address(address: str) -> bool:
    local = address.split("@", 1)[0]
    return bool(NO_REPLY_LOCALPART.match(local))


def normalise_address(address: str) -> str:
    """Lower-cased address for comparisons."""
    return address.strip().strip("<>").lower()
