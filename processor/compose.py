"""Outgoing mail built from the Jinja2 templates: plain text plus an HTML alternative."""
from __future__ import annotations

import datetime as dt
import email.utils
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from typing import Any

from importlib.resources import files

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape


@dataclass(frozen=True)
class Composed:
    subject: str
    message_id: str
    raw: bytes


def template_env() -> Environment:
    env = Environment(loader=FileSystemLoader(str(files("intake.templates"))), undefined=StrictUndefined,
                      autoescape=select_autoescape(["html", "html.j2"]), trim_blocks=True, lstrip_blocks=True,
                      keep_trailing_newline=True)
    env.filters["vn_datetime"] = lambda d: f"{d:%H:%M} ngày {d:%d/%m/%Y}"
    env.filters["en_datetime"] = lambda d: f"{d:%d %B %Y, %H:%M}"
    return env


def reply_subject(original: str) -> str:
    """'Re: ' once, however many the original carried (Re:, RE:, Fwd: kept)."""
    subject = original.strip()
    while subject[:3].lower() == "re:":
        subject = subject[3:].strip()
    return f"Re: {subject}" if subject else "Re: (không có tiêu đề)"


def compose(env: Environment, template: str, context: dict[str, Any], *, from_address: str, from_name: str,
            to_address: str, to_name: str, subject: str, now: dt.datetime,
            in_reply_to: str | None = None, references: tuple[str, ...] = (),
            auto_reply: bool = True) -> Composed:
    """Render `<template>.txt.j2`, and its HTML alternative from the same text."""
    text = env.get_template(f"{template}.txt.j2").render(**context)
    lang = template.rsplit("_", 1)[-1]
    html = env.get_template("mail.html.j2").render(text=text, lang=lang)
    domain = from_address.rpartition("@")[2] or "intake.invalid"
    msg = EmailMessage(policy=SMTP)
    msg["From"] = Address(display_name=from_name, addr_spec=from_address) if from_name else from_address
    msg["To"] = Address(display_name=to_name, addr_spec=to_address) if to_name else to_address
    msg["Subject"] = subject
    msg["Date"] = email.utils.format_datetime(now)
    message_id = email.utils.make_msgid(idstring="intake", domain=domain)
    msg["Message-ID"] = message_id
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
        refs = [r for r in references if r != in_reply_to][-10:] + [in_reply_to]
        msg["References"] = " ".join(refs)
    if auto_reply:
        msg["Auto-Submitted"] = "auto-replied"
    else:
        msg["Auto-Submitted"] = "auto-generated"
    msg["X-Auto-Response-Suppress"] = "All"
    msg.set_content(text, cte="quoted-printable")
    msg.add_alternative(html, subtype="html", cte="quoted-printable")
    return Composed(subject=subject, message_id=message_id, raw=msg.as_bytes())
