"""Mail intake must never answer: each rule through the real pipeline and a real SMTP server."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from golden.make_acks import DOCX, OFFICE, Incoming, app_for, config, drop, report, smtp_sending
from servers.smtp import SmtpServer
from sqlalchemy import select

from intake.parsers.email import BULK_PRECEDENCE, MACHINE_HEADERS
from intake.store.models import Message, MessageState, Outgoing, OutgoingState

BASE = Incoming("ldldbaothang@gmail.com", "LĐLĐ huyện Bảo Thắng", "Báo cáo Chuyên đề 2024",
                "Tue, 27 Feb 2024 09:12:03 +0700", "never-0001",
                (("BC.docx", report("LĐLĐ huyện Bảo Thắng"), DOCX),))

CASES: dict[str, Incoming] = {
    **{f"auto-submitted {v}": replace(BASE, headers={"Auto-Submitted": v})
       for v in ("auto-replied", "auto-generated", "auto-notified", "auto-replied; owner-email=x@y.vn")},
    **{f"precedence {v}": replace(BASE, headers={"Precedence": v}) for v in sorted(BULK_PRECEDENCE)},
    "x-precedence bulk": replace(BASE, headers={"X-Precedence": "bulk"}),
    **{f"header {h}": replace(BASE, headers={h: "<list.example.vn>" if h.startswith("List") else "yes"})
       for h in MACHINE_HEADERS},
    "autoresponder class": replace(BASE, headers={"X-POST-MessageClass": "9; Autoresponder"}),
    **{f"robot From {a}": replace(BASE, sender=a) for a in (
        "MAILER-DAEMON@gmail.com", "postmaster@ldld.vn", "no-reply@accounts.google.com", "noreply@zalo.me",
        "do-not-reply@vnpt.vn", "bounces+abc=ldld.vn@sendgrid.net")},
    "our own address": replace(BASE, sender=OFFICE, name="Ban Tuyên giáo"),
}


def run(tmp: Path, server: SmtpServer, item: Incoming, *, raw: bytes | None = None) -> tuple[Message, list[Outgoing]]:
    cfg = config(tmp, smtp_sending(server))
    if raw is None:
        drop(tmp, [item])
    else:
        (tmp / "maildir" / "new" / "raw.eml").write_bytes(raw)
    with app_for(cfg) as app:
        app.run_once()
        with app.store.session() as s:
            (msg,) = s.scalars(select(Message)).all()
            outgoing = list(s.scalars(select(Outgoing)).all())
            s.expunge_all()
    return msg, outgoing


def test_an_ordinary_message_is_acknowledged(smtp_server: SmtpServer, tmp_path: Path) -> None:
    msg, outgoing = run(tmp_path, smtp_server, BASE)
    assert msg.state == MessageState.PROCESSED and len(outgoing) == 1
    assert len(smtp_server.wait_for(1)) == 1


@pytest.mark.parametrize("case", sorted(CASES))
def test_never_acknowledged(case: str, smtp_server: SmtpServer, tmp_path: Path) -> None:
    msg, outgoing = run(tmp_path, smtp_server, CASES[case])
    assert msg.state == MessageState.IGNORED, msg.ignore_reason
    assert msg.ignore_reason
    assert outgoing == []
    assert smtp_server.messages == []


def test_empty_return_path_is_a_bounce(smtp_server: SmtpServer, tmp_path: Path) -> None:
    raw = BASE.raw().replace(b"Return-Path: <ldldbaothang@gmail.com>", b"Return-Path: <>")
    msg, outgoing = run(tmp_path, smtp_server, BASE, raw=raw)
    assert (msg.state, msg.ignore_reason, outgoing) == (MessageState.IGNORED, "empty Return-Path (bounce)", [])


def test_delivery_status_notification(smtp_server: SmtpServer, tmp_path: Path) -> None:
    raw = BASE.raw().replace(b"Content-Type: multipart/mixed", b"Content-Type: multipart/report; "
                                                                 b"report-type=delivery-status")
    assert b"multipart/report" in raw
    msg, outgoing = run(tmp_path, smtp_server, BASE, raw=raw)
    assert msg.state == MessageState.IGNORED and "multipart/report" in (msg.ignore_reason or "")
    assert outgoing == []


def test_auto_submitted_no_is_acknowledged(smtp_server: SmtpServer, tmp_path: Path) -> None:
    msg, outgoing = run(tmp_path, smtp_server, replace(BASE, headers={"Auto-Submitted": "no"}))
    assert msg.state == MessageState.PROCESSED and len(outgoing) == 1


def test_too_old_is_recorded_and_skipped(smtp_server: SmtpServer, tmp_path: Path) -> None:
    old = replace(BASE, received="Mon, 05 Feb 2024 09:00:00 +0700")  # 26 days before the clock
    msg, outgoing = run(tmp_path, smtp_server, old)
    assert msg.state == MessageState.PROCESSED  # counted as a submission all the same
    assert [(o.state, o.last_error) for o in outgoing] == [(OutgoingState.SKIPPED, "older than 14 days")]
    assert smtp_server.messages == []
