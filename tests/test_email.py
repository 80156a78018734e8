"""Email parsing: senders, filenames in every encoding, received time, auto-reply rules."""
from __future__ import annotations

import datetime as dt
import unicodedata
from email.message import EmailMessage

import pytest

from intake.parsers.email import parse_email

NAME = "Báo cáo chuyên đề năm 2024 - LĐLĐ Bảo Thắng.docx"


def message(**headers: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = headers.pop("From", "LĐLĐ huyện Bảo Thắng <LdldBaoThang@Gmail.com>")
    msg["To"] = "office@gmail.com"
    msg["Subject"] = headers.pop("Subject", "Báo cáo chuyên đề")
    msg["Message-ID"] = "<abc@mail.gmail.com>"
    msg["Received"] = "from a by mx.google.com; Tue, 27 Feb 2024 09:12:03 +0700"
    msg["Received"] = "from b by a; Tue, 27 Feb 2024 09:00:00 +0700"
    for key, value in headers.items():
        msg[key.replace("_", "-")] = value
    msg.set_content("Kính gửi Ban Tuyên giáo.")
    return msg


def test_sender_subject_and_topmost_received() -> None:
    parsed = parse_email(message().as_bytes())
    assert parsed.from_address == "LdldBaoThang@Gmail.com"
    assert parsed.from_name == "LĐLĐ huyện Bảo Thắng"
    assert parsed.subject == "Báo cáo chuyên đề"
    assert parsed.message_id == "<abc@mail.gmail.com>"
    assert parsed.received_header_at == dt.datetime(2024, 2, 27, 2, 12, 3, tzinfo=dt.UTC)
    assert parsed.never_acknowledge is None


def _with_raw_filename(disposition: str) -> bytes:
    return (b"From: a@x.vn\r\nTo: b@y.vn\r\nSubject: t\r\nMessage-ID: <m@x>\r\nMIME-Version: 1.0\r\n"
            b'Content-Type: multipart/mixed; boundary="B"\r\n\r\n--B\r\nContent-Type: text/plain\r\n\r\nhi\r\n'
            b"--B\r\nContent-Type: application/octet-stream\r\n" + disposition.encode("utf-8") +
            b"\r\nContent-Transfer-Encoding: base64\r\n\r\nUEsDBA==\r\n--B--\r\n")


@pytest.mark.parametrize("disposition", [
    "Content-Disposition: attachment; filename*=utf-8''B%C3%A1o%20c%C3%A1o%20chuy%C3%AAn%20%C4%91%E1%BB%81%20n%C4%83m"
    "%202024%20-%20L%C4%90L%C4%90%20B%E1%BA%A3o%20Th%E1%BA%AFng.docx",
    'Content-Disposition: attachment; filename="=?UTF-8?B?'
    + __import__("base64").b64encode(NAME.encode()).decode() + '?="',
    "Content-Disposition: attachment; filename=\"" + unicodedata.normalize("NFD", NAME) + "\"",
])
def test_vietnamese_filenames_decode_to_nfc(disposition: str) -> None:
    parsed = parse_email(_with_raw_filename(disposition))
    assert [a.filename for a in parsed.attachments] == [NAME]
    assert parsed.attachments[0].data == b"PK\x03\x04"


@pytest.mark.parametrize(("headers", "reason"), [
    ({"Auto_Submitted": "auto-replied"}, "Auto-Submitted"),
    ({"Precedence": "bulk"}, "Precedence"),
    ({"List_Id": "<list.example>"}, "List-Id"),
    ({"X_Autoreply": "yes"}, "X-Autoreply"),
    ({"X_Auto_Response_Suppress": "All"}, "X-Auto-Response-Suppress"),
    ({"From": "MAILER-DAEMON@mx.example"}, "MAILER-DAEMON"),
    ({"From": "no-reply@example.com"}, "no-reply"),
    ({"Return_Path": "<>"}, "Return-Path"),
])
def test_never_acknowledge_rules(headers: dict[str, str], reason: str) -> None:
    parsed = parse_email(message(**headers).as_bytes())
    assert parsed.never_acknowledge is not None and reason.lower() in parsed.never_acknowledge.lower()


def test_auto_submitted_no_is_a_person() -> None:
    assert parse_email(message(Auto_Submitted="no").as_bytes()).never_acknowledge is None


def test_message_without_message_id_gets_a_stable_one() -> None:
    msg = message()
    del msg["Message-ID"]
    raw = msg.as_bytes()
    assert parse_email(raw).message_id == parse_email(raw).message_id
    assert parse_email(raw).message_id.endswith("@no-message-id.intake.invalid>")
