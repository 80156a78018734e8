"""Hostile messages as raw bytes (a mail library would refuse to write most of them), and a checker
for the mail intake writes: only our own headers, each once, no control character anywhere."""
from __future__ import annotations

import base64
import email.parser
import email.policy
import email.utils
import re
from pathlib import Path
from typing import Any

from sqlalchemy import select
from staffkit import STUDY, Clock, at, drop, make_app, make_config, report_docx

from intake.parsers.headers import MSG_ID, decode_words
from intake.processor.staff.report import status_json
from intake.store.models import Message, Outgoing

REGISTERED = "ldldbaothang@gmail.com"
ATTACKER = "evil@attacker.test"
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
_REPORT: list[bytes] = []


def run_one(tmp: Path, raw: bytes) -> tuple[Message, list[Outgoing], list[dict[str, Any]]]:
    """One message through the real pipeline (Maildir, staffkit's roster, outbox): its row, the mail queued,
    and the unmatched list staff see."""
    cfg = make_config(tmp)
    drop(tmp, raw, "hostile")
    app = make_app(cfg, Clock(at("2024-02-27 10:00")))
    try:
        app.run_once()
        with app.store.session() as s:
            (msg,) = s.scalars(select(Message)).all()
            rows = list(s.scalars(select(Outgoing)).all())
            s.expunge_all()
        unmatched = status_json(app.status(None), cfg.timezone)["unmatched"]
    finally:
        app.store.close()
    return msg, rows, unmatched


def report() -> bytes:
    if not _REPORT:
        _REPORT.append(report_docx("LĐLĐ huyện Bảo Thắng", "II. ĐÁNH GIÁ KẾT QUẢ HỌC TẬP CHUYÊN ĐỀ NĂM 2024", STUDY))
    return _REPORT[0]


def b64word(text: str | bytes) -> bytes:
    """An RFC 2047 encoded word (UTF-8, B encoding) of `text`."""
    data = text.encode("utf-8") if isinstance(text, str) else text
    return b"=?utf-8?b?" + base64.b64encode(data) + b"?="


def qword(data: bytes) -> bytes:
    """An RFC 2047 encoded word (UTF-8, Q encoding), every byte escaped."""
    return b"=?utf-8?q?" + b"".join(b"=%02X" % c for c in data) + b"?="


INJECT = f"\r\nBcc: {ATTACKER}".encode()

DEFAULTS: dict[bytes, bytes] = {
    b"Received": b"from mx.google.com by mx1.example with ESMTPS; Tue, 27 Feb 2024 09:12:03 +0700",
    b"From": f"=?utf-8?b?{base64.b64encode('LĐLĐ huyện Bảo Thắng'.encode()).decode()}?= <{REGISTERED}>".encode(),
    b"To": b"bantuyengiao@gmail.com",
    b"Subject": b"Bao cao chuyen de",
    b"Date": b"Tue, 27 Feb 2024 09:12:00 +0700",
    b"Message-ID": b"<hostile-base@mail.gmail.com>",
}


def hostile(*lines: bytes, drop: tuple[bytes, ...] = (), attach: bool = True) -> bytes:
    """A message with a Word report whose header block is DEFAULTS with `lines` replacing the headers
    they name (raw bytes, written as given) and the `drop` headers left out."""
    named = {line.split(b":", 1)[0] for line in lines}
    head = [k + b": " + v for k, v in DEFAULTS.items() if k not in named and k not in drop] + list(lines)
    if not attach:
        return b"\r\n".join([*head, b"", b"Kinh gui Ban Tuyen giao.", b""])
    body = base64.encodebytes(report()).replace(b"\n", b"\r\n")
    return b"\r\n".join([
        *head, b"MIME-Version: 1.0", b'Content-Type: multipart/mixed; boundary="BOUNDARY"', b"",
        b"--BOUNDARY", b"Content-Type: text/plain; charset=utf-8", b"", b"Kinh gui Ban Tuyen giao.",
        b"--BOUNDARY", f"Content-Type: {DOCX_TYPE}".encode(),
        b'Content-Disposition: attachment; filename="Bao cao.docx"', b"Content-Transfer-Encoding: base64", b"",
        body, b"--BOUNDARY--", b""])


ALLOWED = {"from", "to", "subject", "date", "message-id", "in-reply-to", "references", "auto-submitted",
           "x-auto-response-suppress", "mime-version", "content-type", "content-transfer-encoding"}
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029]")


def assert_clean_mail(raw: bytes) -> dict[str, str]:
    """Fail unless `raw` carries only the headers intake writes, each once, every header line ends in
    CR LF with no bare CR/LF/NUL, no control character in any decoded value, ids valid. The headers
    (decoded) by lower-cased name."""
    head = raw.split(b"\r\n\r\n", 1)[0]
    for line in head.split(b"\r\n"):
        assert b"\r" not in line and b"\n" not in line and b"\x00" not in line, line
    msg = email.parser.BytesHeaderParser(policy=email.policy.compat32).parsebytes(raw)
    names = [k.lower() for k in msg]
    assert set(names) <= ALLOWED, f"unexpected headers {sorted(set(names) - ALLOWED)}"
    assert len(names) == len(set(names)), f"repeated headers in {names}"
    values = {}
    for key, value in msg.items():
        decoded = decode_words(" ".join(str(value).split()))
        assert not _CONTROL.search(decoded), f"{key}: {decoded!r}"
        # The attacker's text may survive as words of a subject or display name, never as an address.
        assert ATTACKER not in decoded or key.lower() in ("subject", "to"), f"{key}: {decoded!r}"
        values[key.lower()] = decoded
    for key in ("message-id", "in-reply-to"):
        if key in values:
            assert MSG_ID.fullmatch(values[key]), values[key]
    for ref in values.get("references", "").split():
        assert MSG_ID.fullmatch(ref), ref
    # The body parts too: the nested headers are ours, and the policy's own parser agrees.
    full = email.parser.BytesParser(policy=email.policy.default).parsebytes(raw)
    assert [k.lower() for k in full] == names
    to = email.utils.getaddresses([str(full["To"])])
    assert len(to) == 1 and ATTACKER not in to[0][1], to
    return values
