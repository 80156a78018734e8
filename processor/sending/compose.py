"""Outgoing mail built from the Jinja2 templates: plain text plus an HTML alternative."""
from __future__ import annotations

import datetime as dt
import email.utils
import re
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import EmailPolicy
from importlib.resources import files
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape


@dataclass(frozen=True)
class Composed:
    subject: str
    message_id: str
    raw: bytes


VN_DATETIME = "{:%H} giờ {:%M} phút ngày {:%d/%m/%Y}"
# Reply prefixes mail programs put before a subject: English, Outlook in Vietnamese
# ("TL:" trả lời), German, Nordic; with Outlook's counters ("Re[2]:") and odd spacing.
REPLY_PREFIX = re.compile(r"^\s*(re|tl|aw|sv|vs|antw)\s*(\[\d+\]|\(\d+\))?\s*:\s*", re.IGNORECASE)
NO_SUBJECT = {"vi": "(không có tiêu đề)", "en": "(no subject)"}


class _ReusingPolicy(EmailPolicy):
    """`email.policy.SMTP` that parses and folds each distinct header once per process.

    The stdlib re-parses a header's text on every assignment and re-folds it on
    every serialisation (RFC 2047 for Vietnamese names and subjects), which made
    composing cost tens of milliseconds per message; most headers repeat (our
    From, the MIME part headers, a unit's To, a thread's Subject). Parsed
    headers are immutable and folding is a pure function of (name, text), so
    the results are kept (bounded): the bytes are exactly the stdlib's."""

    def header_store_parse(self, name: str, value: Any) -> tuple[str, Any]:
        if type(value) is not str:  # Address objects and the like: not keyed, parsed as usual
            return super().header_store_parse(name, value)
        key = (name, value)
        found = _PARSED.get(key)
        if found is None:
            found = _remember(_PARSED, key, super().header_store_parse(name, value))
        return found

    def fold_binary(self, name: str, value: Any) -> bytes:
        key = (name, str(value))
        found = _FOLDED.get(key)
        if found is None:
            found = _remember(_FOLDED, key, super().fold_binary(name, value))
        return found


_PARSED: dict[tuple[str, str], tuple[str, Any]] = {}
_FOLDED: dict[tuple[str, str], bytes] = {}
_REMEMBERED = 4096
REUSING_SMTP = _ReusingPolicy(linesep="\r\n")  # the same settings as email.policy.SMTP


def _remember(cache: dict[tuple[str, str], Any], key: tuple[str, str], value: Any) -> Any:
    if len(cache) >= _REMEMBERED:
        cache.clear()
    cache[key] = value
    return value


def template_env() -> Environment:
    env = Environment(loader=FileSystemLoader(str(files("intake.templates"))), undefined=StrictUndefined,
                      autoescape=select_autoescape(["html", "html.j2"]), trim_blocks=True, lstrip_blocks=True,
                      keep_trailing_newline=True)
    env.filters["vn_datetime"] = lambda d: VN_DATETIME.format(d, d, d)
    env.filters["en_datetime"] = lambda d: f"{d:%d %B %Y, %H:%M}".lstrip("0")
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
    """Render `<template>.txt.j2`, and its HTML alternative from the same text."""
    text = env.get_template(f"{template}.txt.j2").render(**context)
    lang = template.rsplit("_", 1)[-1]
    html = env.get_template("mail.html.j2").render(text=text, lang=lang)
    domain = from_address.rpartition("@")[2] or "intake.invalid"
    msg = EmailMessage(policy=REUSING_SMTP)
    msg["From"] = _address(from_name, from_address)
    msg["To"] = _address(to_name, to_address)
    msg["Subject"] = subject
    msg["Date"] = email.utils.format_datetime(now)
    message_id = email.utils.make_msgid(idstring="intake", domain=domain)
    msg["Message-ID"] = message_id
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
        earlier = [r for r in references if r != in_reply_to]
        # RFC 5322 3.6.4: keep the thread's first id when trimming a long chain.
        refs = [*earlier[:1], *earlier[1:][-9:], in_reply_to]
        msg["References"] = " ".join(refs)
    if auto_reply:
        msg["Auto-Submitted"] = "auto-replied"
    else:
        msg["Auto-Submitted"] = "auto-generated"
    msg["X-Auto-Response-Suppress"] = "All"
    msg.set_content(text, cte="quoted-printable")
    msg.add_alternative(html, subtype="html", cte="quoted-printable")
    return Composed(subject=subject, message_id=message_id, raw=msg.as_bytes())


def _address(name: str, address: str) -> Address | str:
    """A display name encoded per RFC 2047 by the policy; a bare address if the pair does not parse."""
    if not name:
        return address
    try:
        return Address(display_name=name, addr_spec=address)
    except (ValueError, IndexError):
        return address
