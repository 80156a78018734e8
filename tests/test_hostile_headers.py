"""Header injection: whatever a sender puts in Subject, From, Message-ID, In-Reply-To, References or
Reply-To (raw CR, LF, NUL, encoded words that decode to them), no acknowledgement, reminder or digest
intake writes carries an injected header or a control character. Each case runs through the real
pipeline; the produced bytes are parsed and checked."""
from __future__ import annotations

import base64
from pathlib import Path

import pytest
from hostilekit import ATTACKER, INJECT, REGISTERED, assert_clean_mail, b64word, hostile, qword, run_one
from servers.smtp import SmtpServer
from sqlalchemy import select
from staffkit import Clock, at, campaign, drop, make_app, make_config

from intake.parsers.errors import HeaderError
from intake.processor.sending.compose import check_headers, compose, template_env
from intake.store.models import Message, MessageState, Outgoing, OutgoingKind

NESTED = b64word(b"=?utf-8?b?" + base64.b64encode(INJECT) + b"?=")  # decodes to an encoded word

CASES: dict[str, bytes] = {
    "subject raw NUL": hostile(b"Subject: Bao cao\x00" + INJECT[2:]),
    "subject raw 8-bit and NUL": hostile(b"Subject: B\xe1o c\xe1o\x00\xff\x1b[31m"),
    "subject B-word CRLF Bcc": hostile(b"Subject: " + b64word("Báo cáo".encode() + INJECT)),
    "subject Q-word CRLF Bcc": hostile(b"Subject: " + qword(b"Bao cao" + INJECT)),
    "subject B-word NUL, ESC, DEL, C1, U+2028": hostile(b"Subject: " + b64word("a\x00b\x1bc\x7fd\x85e\u2028f")),
    "subject bare CR": hostile(b"Subject: Bao cao\r" + INJECT[2:]),
    "subject bare LF": hostile(b"Subject: Bao cao\n" + INJECT[2:]),
    "subject word decoding to a word": hostile(b"Subject: " + NESTED),
    "subject 10,000 characters": hostile(b"Subject: " + b"A" * 10_000),
    "from name B-word CRLF Bcc": hostile(b"From: " + b64word(b"Evil" + INJECT) + f" <{REGISTERED}>".encode()),
    "from name Q-word NUL": hostile(b"From: " + qword(b"Evil\x00Name") + f" <{REGISTERED}>".encode()),
    "from name raw NUL": hostile(b'From: "Evil\x00Name" <' + REGISTERED.encode() + b">"),
    "from name raw CR LF": hostile(b'From: "Evil\r\nBcc: ' + ATTACKER.encode() + b'" <' + REGISTERED.encode() + b">"),
    "from name word decoding to a word": hostile(b"From: " + NESTED + f" <{REGISTERED}>".encode()),
    "message-id B-word CRLF Bcc": hostile(b"Message-ID: " + b64word(b"<a@b.vn>" + INJECT)),
    "message-id word inside brackets": hostile(b"Message-ID: <" + b64word(INJECT) + b"@x.vn>"),
    "message-id raw NUL": hostile(b"Message-ID: <a\x00b@x.vn>"),
    "message-id no brackets, spaces": hostile(b"Message-ID: not an id at all"),
    "in-reply-to B-word CRLF Bcc": hostile(b"In-Reply-To: " + b64word(b"<a@b.vn>" + INJECT)),
    "in-reply-to raw NUL": hostile(b"In-Reply-To: <a\x00@b.vn>"),
    "references one good one word": hostile(b"References: <good@ldld.vn> <" + b64word(INJECT) + b"@x.vn>"),
    "references 500 ids": hostile(b"References: " + b" ".join(b"<r%d@ldld.vn>" % i for i in range(500))),
    "reply-to B-word CRLF Bcc": hostile(b"Reply-To: " + b64word(b"x" + INJECT) + b" <" + ATTACKER.encode() + b">"),
    "reply-to raw attacker": hostile(b"Reply-To: " + ATTACKER.encode()),
    "every header at once": hostile(
        b"Subject: " + b64word(b"S" + INJECT), b"From: " + b64word(b"N" + INJECT) + f" <{REGISTERED}>".encode(),
        b"Message-ID: " + b64word(b"<m@x.vn>" + INJECT), b"In-Reply-To: " + b64word(b"<i@x.vn>" + INJECT),
        b"References: " + b64word(b"<r@x.vn>" + INJECT), b"Reply-To: " + b64word(b"R" + INJECT)),
}


def _run(tmp: Path, raw: bytes) -> tuple[Message, list[Outgoing]]:
    msg, rows, _unmatched = run_one(tmp, raw)
    return msg, rows


@pytest.mark.parametrize("case", sorted(CASES))
def test_acknowledgement_carries_no_injected_header(case: str, tmp_path: Path) -> None:
    msg, rows = _run(tmp_path, CASES[case])
    assert msg.state == MessageState.PROCESSED, (msg.state, msg.error, msg.ignore_reason)
    assert msg.unit_id == "ldld-bao-thang" and msg.has_report
    assert [r.kind for r in rows] == [OutgoingKind.ACK], "the registered unit is acknowledged once"
    headers = assert_clean_mail(rows[0].raw)
    assert headers["to"].endswith(f"<{REGISTERED}>") or headers["to"] == REGISTERED
    assert rows[0].to_address == REGISTERED
    assert not {"bcc", "cc", "reply-to"} & set(headers)
    # What staff see is one clean line too.
    for text in (msg.subject, msg.from_name, msg.message_id):
        assert not any(ord(c) < 32 or 0x7F <= ord(c) <= 0x9F for c in text), repr(text)


def test_hostile_ack_over_real_smtp_goes_to_the_sender_only(tmp_path: Path, smtp_server: SmtpServer) -> None:
    cfg = make_config(tmp_path, sending={"kind": "smtp", "host": "127.0.0.1", "port": smtp_server.port,
                                         "security": "none", "from_address": "bantuyengiao@gmail.com",
                                         "from_name": "Ban Tuyên giáo"})
    drop(tmp_path, CASES["every header at once"], "hostile")
    app = make_app(cfg, Clock(at("2024-02-27 10:00")))
    try:
        app.run_once()
    finally:
        app.store.close()
    (got,) = smtp_server.wait_for(1)
    assert list(got.rcpt_tos) == [REGISTERED]
    assert_clean_mail(got.raw)


def test_in_reply_to_kept_when_valid_and_dropped_when_not(tmp_path: Path) -> None:
    _msg, rows = _run(tmp_path, hostile(b"Message-ID: <ok.1@mail.gmail.com>",
                                        b"References: <first@ldld.vn> <" + b64word(INJECT) + b"@x.vn>"))
    headers = assert_clean_mail(rows[0].raw)
    assert headers["in-reply-to"] == "<ok.1@mail.gmail.com>"
    assert headers["references"] == "<first@ldld.vn> <ok.1@mail.gmail.com>"
    _msg, rows = _run(tmp_path / "2", CASES["message-id word inside brackets"])
    assert "in-reply-to" not in assert_clean_mail(rows[0].raw)


def test_reminder_and_digest_with_hostile_names_titles_and_addresses(tmp_path: Path) -> None:
    """Staff-side mail: a campaign title and a unit name holding CR LF (from a pasted config), and an
    address linked by mistake with a line break in it: every queued mail is clean, the bad address
    gets nothing."""
    camp = campaign(remind=["-3d"])
    camp["title"] = "Chuyên đề\r\nBcc: " + ATTACKER
    cfg = make_config(tmp_path, campaigns=[camp], staff={"emails": ["truongban@example.test"], "digest_at": "08:00"})
    clock = Clock(at("2024-02-26 09:00"))
    app = make_app(cfg, clock)
    try:
        app.store.link_address(f"ldldsapa2@gmail.com\r\nBcc: {ATTACKER}", "ldld-sa-pa")
        app.scheduler.run_all()
        with app.store.session() as s:
            rows = list(s.scalars(select(Outgoing)).all())
            s.expunge_all()
    finally:
        app.store.close()
    kinds = sorted(r.kind.value for r in rows)
    assert "digest" in kinds and "reminder" in kinds, kinds
    assert all(ATTACKER not in r.to_address and "\n" not in r.to_address for r in rows)
    for row in rows:
        headers = assert_clean_mail(row.raw)
        assert "bcc" not in headers


@pytest.mark.parametrize("raw", [
    b"From: a@x.vn\r\nTo: b@x.vn\r\nBcc: evil@attacker.test\r\nSubject: s\r\n\r\nbody",
    b"From: a@x.vn\r\nTo: b@x.vn\r\nSubject: s\nBcc: evil@attacker.test\r\n\r\nbody",
    b"From: a@x.vn\r\nTo: b@x.vn\r\nSubject: s\x00\r\n\r\nbody",
    b"From: a@x.vn\r\nTo: b@x.vn\r\nSubject: " + b64word(INJECT) + b"\r\n\r\nbody",
    b"From: a@x.vn\r\nTo: b@x.vn\r\nSubject: s\r\nSubject: t\r\n\r\nbody",
    b"From: a@x.vn\r\nTo: b@x.vn\r\nIn-Reply-To: <" + b64word(INJECT) + b"@x.vn>\r\n\r\nbody",
])
def test_the_final_check_refuses_what_a_library_might_write(raw: bytes) -> None:
    """Whatever the Python version's serializer does, these bytes would not be queued."""
    with pytest.raises(HeaderError):
        check_headers(raw)


def test_compose_refuses_an_unusable_recipient() -> None:
    import datetime as dt
    with pytest.raises(HeaderError):
        compose(template_env(), "ack_vi", {}, from_address="o@x.vn", from_name="O",
                to_address="a@x.vn" + INJECT.decode(), to_name="", subject="s",
                now=dt.datetime(2024, 1, 1, tzinfo=dt.UTC))
