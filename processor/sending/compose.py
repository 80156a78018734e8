"""Outgoing mail built from the Jinja2 templates: plain text plus an HTML alternative.

Every header value is validated before it is set (`intake.parsers.headers`):
ids that are not RFC 5322 msg-ids are dropped, subjects and display names lose
their control characters, the recipient must be a plain addr-spec. The bytes
produced are then parsed again and checked (`check_headers`), so a mail
library that writes a decoded line break does not get to send it.
"""
from __future__ import annotations

import datetime as dt
import email.utils
import logging
import re
from dataclasses import dataclass
from email.header import Header
from email.headerregistry import Address, BaseHeader, HeaderRegistry
from email.message import EmailMessage
from email.policy import EmailPolicy
from importlib.resources import files
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from intake.parsers.errors import HeaderError
from intake.parsers.headers import clean_text, decode_words, has_control, usable_address, valid_msg_id, valid_msg_ids
from intake.processor.times import prose_deadline, prose_time

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Composed:
    subject: str
    message_id: str
    raw: bytes


# Reply prefixes mail programs put before a subject: English, Outlook in Vietnamese
# ("TL:" trả lời), German, Nordic; with Outlook's counters ("Re[2]:") and odd spacing.
REPLY_PREFIX = re.compile(r"^\s*(re|tl|aw|sv|vs|antw)\s*(\[\d+\]|\(\d+\))?\s*:\s*", re.IGNORECASE)
NO_SUBJECT = {"vi": "(không có tiêu đề)", "en": "(no subject)"}


class _ReusingPolicy(EmailPolicy):
    """`email.policy.SMTP` that parses and folds each distinct header once per process.

    The stdlib re-parses a header's text on every assignment and re-folds it on
    every serialisation (RFC 2047 for Vietnamese names and subjects), which made
    composing cost tens of milliseconds per message; the headers named in
    REPEATING are the same in every mail (our From, the MIME part headers).
    Parsed headers are immutable and folding is a pure function of (name,
    text), so theirs are kept: the bytes are exactly the stdlib's. Headers
    new in each mail (Date, Message-ID, To, Subject) are not kept: a parsed
    header holds its whole parse tree, and thousands of them held 40 MB.

    Of those, the date (printable ASCII words) is
    kept as plain text: the stdlib writes a plain value that fits on a line
    as "Name: value" and parses and folds a longer one, which for these is
    what it writes of the parsed header too (tests/test_compose.py). The ids
    (Message-ID, In-Reply-To, References) are written by `_fold_ids`, not the stdlib."""

    def header_store_parse(self, name: str, value: Any) -> tuple[str, Any]:
        if type(value) is _Ids:
            return name, value
        if type(value) is _Encoded:
            return name, str(value)
        if type(value) is str and name.lower() in VERBATIM and _VERBATIM_VALUE.fullmatch(value):
            return name, value
        if type(value) is not str or not _repeats(name, value):
            return super().header_store_parse(name, value)
        key = (name, value)
        found = _PARSED.get(key)
        if found is None:
            found = _remember(_PARSED, key, super().header_store_parse(name, value))
        return found

    def fold(self, name: str, value: Any) -> str:
        if type(value) is _Ids:
            return _fold_ids(name, value, self.linesep)
        return str(super().fold(name, value))

    def fold_binary(self, name: str, value: Any) -> bytes:
        if type(value) is _Ids:
            return _fold_ids(name, value, self.linesep).encode("ascii")
        if not _repeats(name, str(value)):
            return super().fold_binary(name, value)
        key = (name, str(value))
        found = _FOLDED.get(key)
        if found is None:
            found = _remember(_FOLDED, key, super().fold_binary(name, value))
        return found


REPEATING = frozenset({"from", "content-type", "content-transfer-encoding", "mime-version", "auto-submitted",
                       "x-auto-response-suppress"})


VERBATIM = frozenset({"date"})
# Printable ASCII words between single spaces, and nothing that reads as an RFC 2047 encoded word.
_VERBATIM_VALUE = re.compile(r"(?!.*=\?)[!-~]+(?: [!-~]+)*")


HEADER_LINE = 78  # RFC 5322's recommended limit, the SMTP policy's max_line_length
HEADER_LINE_HARD = 998  # RFC 5322 2.1.1: no line longer, CR LF not counted


class _Ids(str):
    """Msg-ids (`valid_msg_id`) separated by single spaces: written as they are, folded between ids only.

    The stdlib folds In-Reply-To and References as unstructured text, and a value it
    cannot fold into 78 columns (one Outlook id is 90 characters) it RFC 2047-encodes,
    which no mail program reads as an id: the thread is lost and `check_headers` refuses
    the mail. An id is one token of the grammar; RFC 5322 3.6.4 allows folding only
    around it."""


def _fold_ids(name: str, ids: str, linesep: str) -> str:
    """`name: ids` in lines of 78 where the ids allow it; a longer id alone on its line (at most 998).

    An id too long for the field's first line starts on the next one (RFC 5322 FWS may
    begin with CR LF), so any id of up to HEADER_LINE_HARD - 1 characters is written whole."""
    lines = [f"{name}:"]
    for one in ids.split(" "):
        current = lines[-1]
        first_id = len(lines) == 1 and current == f"{name}:"
        if len(current) + 1 + len(one) <= HEADER_LINE or (first_id and len(current) + 1 + len(one) <= HEADER_LINE_HARD):
            lines[-1] = f"{current} {one}"
        else:
            lines.append(f" {one}")
    return linesep.join(lines) + linesep


class _Encoded(str):
    """A header value already in RFC 2047 encoded words and folded (`_encoded`): stored as it is.

    The stdlib parses a Vietnamese subject or display name into a token tree and folds it
    again word by word, which was half the cost of composing an acknowledgement; the legacy
    `email.header.Header` encodes and folds the same text in a tenth of the time. Its lines
    fit in 78 columns, so the policy writes them unchanged (a longer line would be refolded)."""


def _encoded(name: str, text: str, tail: str = "") -> _Encoded:
    """`text` as UTF-8 encoded words folded for header `name`, then `tail` (an `<address>`)."""
    lines = Header(text, "utf-8", header_name=name).encode(linesep="\n").split("\n")
    if tail:
        room = HEADER_LINE - (len(name) + 2 if len(lines) == 1 else 0)
        if len(lines[-1]) + 1 + len(tail) > room:
            lines.append(" " + tail)
        else:
            lines[-1] += " " + tail
    return _Encoded("\n".join(lines))


def _repeats(name: str, value: str) -> bool:
    # A multipart Content-Type carries the mail's own boundary.
    return name.lower() in REPEATING and "boundary=" not in value


class _Registry(HeaderRegistry):
    """The stdlib's header registry, making each header class once: the stdlib builds a new class
    (`type(...)`) for every header it parses, the same class each time."""

    def __init__(self) -> None:
        super().__init__()
        self._made: dict[str, type[BaseHeader]] = {}

    def __getitem__(self, name: str) -> type[BaseHeader]:
        key = name.lower()
        made = self._made.get(key)
        if made is None:
            made = self._made[key] = super().__getitem__(name)
        return made


_PARSED: dict[tuple[str, str], tuple[str, Any]] = {}
_FOLDED: dict[tuple[str, str], bytes] = {}
_REMEMBERED = 4096
REUSING_SMTP = _ReusingPolicy(linesep="\r\n", header_factory=_Registry())  # email.policy.SMTP's settings


def _remember(cache: dict[tuple[str, str], Any], key: tuple[str, str], value: Any) -> Any:
    if len(cache) >= _REMEMBERED:
        cache.clear()
    cache[key] = value
    return value


def template_env() -> Environment:
    # The templates are installed with the package: no reason to stat them for every mail (auto_reload).
    env = Environment(loader=FileSystemLoader(str(files("intake.templates"))), undefined=StrictUndefined,
                      autoescape=select_autoescape(["html", "html.j2"]), trim_blocks=True, lstrip_blocks=True,
                      keep_trailing_newline=True, auto_reload=False)
    env.filters["vn_datetime"] = lambda d: prose_time(d, d.tzinfo)
    env.filters["vn_deadline"] = lambda d: prose_deadline(d, d.tzinfo)
    env.filters["en_datetime"] = lambda d: prose_time(d, d.tzinfo, "en")
    env.filters["en_deadline"] = lambda d: prose_deadline(d, d.tzinfo, "en")
    return env


def reply_subject(original: str, language: str = "vi") -> str:
    """'Re: ' once, however many reply prefixes the original carried (Fwd: is kept)."""
    subject = " ".join(original.split())
    while (found := REPLY_PREFIX.match(subject)) is not None:
        subject = subject[found.end():]
    return f"Re: {subject or NO_SUBJECT.get(language, NO_SUBJECT['vi'])}"


def compose(env: Environment, template: str, context: dict[str, Any], *, from_address: str, from_name: str,
            to_address: str, to_name: str, subject: str, now: dt.datetime,
            in_reply_to: str | None = None, references: tuple[str, ...] = (),
            auto_reply: bool = True) -> Composed:
    """Render `<template>.txt.j2`, and its HTML alternative from the same text.

    When the guard (`check_headers`) refuses the mail with its thread, it is composed
    again without In-Reply-To and References: a fault in a sender's ids may cost the
    thread, never the mail."""
    recipient = usable_address(to_address)
    if recipient is None:
        raise HeaderError(f"not an address we write into To: {clean_text(to_address, 100)!r}")
    text = env.get_template(f"{template}.txt.j2").render(**context)
    lang = template.rsplit("_", 1)[-1]
    html = env.get_template("mail.html.j2").render(text=text, lang=lang)
    domain = from_address.rpartition("@")[2] or "intake.invalid"
    message_id = email.utils.make_msgid(idstring="intake", domain=domain)
    mail = _Mail(from_address=from_address, from_name=from_name, recipient=recipient, to_name=to_name,
                 subject=clean_text(subject), message_id=message_id, date=email.utils.format_datetime(now),
                 auto_reply=auto_reply, text=text, html=html)
    thread = thread_ids(in_reply_to, references)
    if thread:
        try:
            return _composed(mail, thread)
        except HeaderError as exc:
            log.warning("mail %s composed again without its thread (In-Reply-To %s): %s",
                        message_id, thread[-1][:100], exc)
    return _composed(mail, ())


@dataclass(frozen=True)
class _Mail:
    """Everything of one outgoing mail but its thread, validated."""

    from_address: str
    from_name: str
    recipient: str
    to_name: str
    subject: str
    message_id: str
    date: str
    auto_reply: bool
    text: str
    html: str


# RFC 5322 3.6.4 has References hold the parent's references and the parent's id; a long
# chain is trimmed as mail programs do, keeping the thread's first id and the latest ones.
MAX_REFERENCES = 11


def thread_ids(in_reply_to: str | None, references: tuple[str, ...]) -> tuple[str, ...]:
    """The References of a reply: valid ids only, the thread's first, the latest, the parent last;
    empty when the parent's id is not a valid msg-id (nothing to thread on)."""
    parent = valid_msg_id(in_reply_to)
    if parent is None:
        return ()
    earlier = [r for r in valid_msg_ids(references) if r != parent]
    return (*earlier[:1], *earlier[1:][-(MAX_REFERENCES - 2):], parent)


def _composed(mail: _Mail, thread: tuple[str, ...]) -> Composed:
    """The bytes of `mail`, threaded on `thread` (References; its last id is In-Reply-To), checked."""
    msg = EmailMessage(policy=REUSING_SMTP)
    msg["From"] = _address(mail.from_name, mail.from_address, header="From")
    msg["To"] = _address(mail.to_name, mail.recipient, header="To")
    msg["Subject"] = mail.subject if mail.subject.isascii() else _encoded("Subject", mail.subject)
    msg["Date"] = mail.date
    msg["Message-ID"] = _Ids(mail.message_id)
    if thread:
        msg["In-Reply-To"] = _Ids(thread[-1])
        msg["References"] = _Ids(" ".join(thread))
    msg["Auto-Submitted"] = "auto-replied" if mail.auto_reply else "auto-generated"
    msg["X-Auto-Response-Suppress"] = "All"
    msg.set_content(mail.text, cte="quoted-printable")
    msg.add_alternative(mail.html, subtype="html", cte="quoted-printable")
    raw = msg.as_bytes()
    check_headers(raw)
    return Composed(subject=mail.subject, message_id=mail.message_id, raw=raw)


def _address(name: str, address: str, header: str | None = None) -> Address | str:
    """A display name (cleaned, then encoded per RFC 2047) and the address; a bare address if the pair
    does not parse. With `header`, a non-ASCII name is encoded here for that header (`_encoded`)."""
    name = clean_text(name)
    if not name:
        return address
    try:
        parsed = Address(display_name=name, addr_spec=address)
    except (ValueError, IndexError):
        return address
    if header is None or name.isascii():
        return parsed
    return _encoded(header, name, f"<{parsed.addr_spec}>")


# The headers `compose` writes, each exactly once.
WRITTEN_HEADERS = frozenset({
    "from", "to", "subject", "date", "message-id", "in-reply-to", "references", "auto-submitted",
    "x-auto-response-suppress", "mime-version", "content-type", "content-transfer-encoding",
})
MSG_ID_HEADERS = ("message-id", "in-reply-to", "references")


def check_headers(raw: bytes) -> None:
    """Raise HeaderError unless the top-level header block of `raw` holds only the headers we write,
    each once, every line ending in CR LF and at most 998 characters, no control character in any
    value (encoded words decoded), and the id headers only valid ids."""
    end = raw.find(b"\r\n\r\n")
    if end < 0:
        raise HeaderError("composed mail has no header/body separator")
    block = raw[:end]
    lines = block.split(b"\r\n")
    seen: list[str] = []
    values: dict[str, str] = {}
    for line in lines:
        if b"\r" in line or b"\n" in line or b"\x00" in line:
            raise HeaderError("composed header holds a bare CR, LF or NUL")
        if len(line) > HEADER_LINE_HARD:
            raise HeaderError(f"composed header line of {len(line)} characters (RFC 5322: at most {HEADER_LINE_HARD})")
        text = line.decode("ascii", errors="replace")
        if text[:1] in (" ", "\t") and seen:
            values[seen[-1]] += text
            continue
        name, colon, value = text.partition(":")
        if not colon:
            raise HeaderError(f"composed header line without a name: {text[:60]!r}")
        seen.append(name.strip().lower())
        values[seen[-1]] = value
    unknown = sorted(set(seen) - WRITTEN_HEADERS)
    repeated = sorted({n for n in seen if seen.count(n) > 1})
    if unknown or repeated:
        raise HeaderError(f"composed mail would carry headers {unknown or repeated}")
    for name, value in values.items():
        if has_control(decode_words(value.replace("\t", " ")).replace("\t", " ")):
            raise HeaderError(f"composed {name} header holds a control character")
        if name in MSG_ID_HEADERS and any(valid_msg_id(v) is None for v in value.split()):
            raise HeaderError(f"composed {name} header holds an invalid id")
