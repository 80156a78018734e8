"""Acknowledgements end to end: Maildir -> pipeline -> outgoing row -> real SMTP (aiosmtpd) -> bytes read back."""
from __future__ import annotations

import datetime as dt
import email
import email.header
import email.policy
from email.message import EmailMessage
from pathlib import Path
from typing import cast

import pytest
from golden.make_acks import (
    CLOCK,
    GOLDEN,
    OFFICE,
    OFFICE_NAME,
    Incoming,
    app_for,
    cases,
    config,
    drop,
    normalise,
    produce,
    report,
    smtp_sending,
)
from servers.smtp import SmtpServer
from sqlalchemy import select

from intake.processor.sending.compose import reply_subject
from intake.store.models import DecisionKind, Outgoing, OutgoingState

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@pytest.fixture(scope="module")
def delivered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    return produce(tmp_path_factory.mktemp("acks"))


def parse(raw: bytes) -> EmailMessage:
    return cast(EmailMessage, email.message_from_bytes(raw, policy=email.policy.default))


def rfc2047(raw: bytes, name: str) -> str:
    """A header as RFC 2047 decodes it (compat32 keeps the encoded words for decode_header)."""
    folded = email.message_from_bytes(raw, policy=email.policy.compat32)[name]
    return str(email.header.make_header(email.header.decode_header(folded)))


def text_of(raw: bytes) -> str:
    body = parse(raw).get_body(("plain",))
    assert body is not None
    return str(body.get_content()).replace("\r\n", "\n")


def test_every_status_has_a_golden_file_equal_to_a_fresh_run(delivered: dict[str, bytes]) -> None:
    assert set(delivered) == set(cases())
    assert {p.stem for p in GOLDEN.glob("*.eml")} == set(cases())
    for name, raw in delivered.items():
        assert normalise(raw) == normalise((GOLDEN / f"{name}.eml").read_bytes()), name


def test_headers_thread_and_encode(delivered: dict[str, bytes]) -> None:
    raw = delivered["on_time"]
    msg = parse(raw)
    head = raw.split(b"\r\n\r\n", 1)[0]
    assert head.isascii()  # every non-ASCII header is RFC 2047 encoded
    assert b"=?utf-8?" in head
    assert msg["Subject"] == "Re: Báo cáo Chuyên đề 2024 - LĐLĐ Bảo Thắng"  # "Re: Re:" collapsed
    assert msg["In-Reply-To"] == "<bt-0001@mail.gmail.com>"
    assert msg["References"].split() == ["<thread-start@ldld.vn>", "<bt-0000@mail.gmail.com>",
                                         "<bt-0001@mail.gmail.com>"]
    # RFC 2047 6.2: white space between adjacent encoded-words is dropped. The stdlib's
    # address parser (policy.default) keeps it inside a phrase, so read with decode_header.
    assert rfc2047(raw, "From") == f"{OFFICE_NAME} <{OFFICE}>"
    assert rfc2047(raw, "To") == "LĐLĐ huyện Bảo Thắng <ldldbaothang@gmail.com>"
    assert msg["Message-ID"].endswith("@gmail.com>")
    assert msg["Auto-Submitted"] == "auto-replied"
    assert msg["X-Auto-Response-Suppress"] == "All"
    assert msg.get_body(("html",)) is not None


def test_unit_receipt_carries_what_was_received(delivered: dict[str, bytes]) -> None:
    text = text_of(delivered["on_time"])
    assert text.startswith("Kính gửi: LĐLĐ huyện Bảo Thắng\n")
    assert "Báo cáo kết quả học tập Chuyên đề năm 2024" in text
    assert "09 giờ 12 phút, ngày 27/02/2024 (GMT+7)" in text
    assert "Hạn gửi: hết ngày 28/02/2024" in text
    assert "Tình trạng: đúng hạn" in text
    assert "1. BC chuyên đề 2024 - Bảo Thắng.docx (báo cáo, đã đọc được)" in text
    assert "2. BC Bảo Thắng (bản ký).pdf (tệp kèm theo)" in text
    assert "“II. ĐÁNH GIÁ RIÊNG VỀ KẾT QUẢ HỌC TẬP, QUÁN TRIỆT CHUYÊN ĐỀ NĂM 2024”" in text
    assert "Số tiếp nhận: TN24-0000" in text
    assert text.rstrip().endswith(f"Trân trọng.\n{OFFICE_NAME}")


@pytest.mark.parametrize(("case", "expected", "absent"), [
    ("late", ["Tình trạng: gửi muộn, sau hạn gửi", "08 giờ 05 phút, ngày 01/03/2024"], ["đúng hạn"]),
    ("section_missing", ["chưa có phần đánh giá riêng về “Đánh giá kết quả tổ chức học tập",
                         "gửi lại tệp Word"], ["với tiêu đề"]),
    ("no_attachment", ["Tệp đính kèm: không có", "đính kèm báo cáo dưới dạng tệp Word"], ["Tình trạng: đúng"]),
    ("unsupported_attachment", ["Bao cao Y te.pdf (không phải tệp Word)", "gửi thêm bản Word"], []),
    ("unreadable_attachment", ["BC Giáo dục.docx (tệp Word bị lỗi, không mở được)", "lưu lại dưới dạng Word"], []),
    ("encrypted_attachment", ["(tệp Word được đặt mật khẩu, không mở được)", "gỡ mật khẩu"], []),
    ("sender_not_registered", ["Kính gửi: LĐLĐ huyện Văn Bàn", "vanban.ldld@yahoo.com chưa được đăng ký",
                               "xác nhận lại người gửi"], []),
    ("unknown_sender", ["Kính gửi: Trường Mầm non Hoa Hồng", "chưa có trong danh sách đơn vị",
                        "Số tiếp nhận: TN24-", "1. bao cao.docx"], ["Hạn gửi", "Tình trạng"]),
])
def test_content_per_status(delivered: dict[str, bytes], case: str, expected: list[str], absent: list[str]) -> None:
    text = text_of(delivered[case])
    for phrase in expected:
        assert phrase in text, phrase
    for phrase in absent:
        assert phrase not in text, phrase
    explanations = ["Thư không kèm tệp", "không phải tệp Word nên", "bị lỗi, không mở được. Đề nghị",
                    "đặt mật khẩu nên", "chưa được đăng ký là"]
    assert sum(e in text for e in explanations) <= 1  # only the explanation that applies


def test_english_acknowledgement(tmp_path: Path) -> None:
    item = cases()["late"]
    with SmtpServer() as server:
        cfg = config(tmp_path, smtp_sending(server), language="en")
        drop(tmp_path, [item])
        with app_for(cfg) as app:
            app.run_once()
        (got,) = server.wait_for(1)
    text = text_of(got.raw)
    assert text.startswith("Dear LĐLĐ huyện Bát Xát,")
    assert "Status: late, after the deadline" in text
    assert "Deadline: end of 28 February 2024" in text
    assert parse(got.raw)["Subject"] == "Re: Báo cáo chuyên đề năm 2024"


def test_extended_deadline_makes_a_late_message_on_time(tmp_path: Path) -> None:
    item = cases()["late"]  # received 1 March, the campaign's deadline is 29 February
    with SmtpServer() as server:
        cfg = config(tmp_path, smtp_sending(server))
        drop(tmp_path, [item])
        with app_for(cfg) as app:
            app.store.add_decision(DecisionKind.EXTEND, "ldld-bat-xat", "chuyen-de-2024", reason="lũ",
                                   until=dt.datetime(2024, 3, 5, 17, 0, tzinfo=dt.UTC))
            app.run_once()
        (got,) = server.wait_for(1)
    text = text_of(got.raw)
    assert "Tình trạng: đúng hạn" in text
    assert "Hạn gửi (đã được gia hạn): hết ngày 05/03/2024" in text


def test_rate_limit_records_and_skips(tmp_path: Path) -> None:
    docx = report("LĐLĐ huyện Bảo Thắng")
    items = [Incoming("ldldbaothang@gmail.com", "LĐLĐ huyện Bảo Thắng", f"Báo cáo lần {i}",
                      f"Sat, 02 Mar 2024 08:{10 + i:02d}:00 +0700", f"rate-{i}", (("bc.docx", docx, DOCX),))
             for i in range(5)]
    with SmtpServer() as server:
        cfg = config(tmp_path, smtp_sending(server), max_per_hour=3)
        drop(tmp_path, items)
        with app_for(cfg) as app:
            app.run_once()
            with app.store.session() as s:
                rows = s.scalars(select(Outgoing).order_by(Outgoing.id)).all()
                states = [(r.state, r.last_error) for r in rows]
        got = server.wait_for(3)
    assert [s for s, _ in states] == [OutgoingState.SENT] * 3 + [OutgoingState.SKIPPED] * 2
    assert all("rate limit: 3 acknowledgements" in (e or "") for _, e in states[3:])
    assert len(got) == 3


def test_acknowledged_once_when_processed_again(tmp_path: Path) -> None:
    with SmtpServer() as server:
        cfg = config(tmp_path, smtp_sending(server))
        drop(tmp_path, [cases()["on_time"]])
        with app_for(cfg) as app:
            app.run_once()
            app.pipeline.reprocess(1)
            app.send_pending()
            with app.store.session() as s:
                count = len(s.scalars(select(Outgoing)).all())
        assert count == 1
        assert len(server.wait_for(1)) == 1


@pytest.mark.parametrize(("original", "expected"), [
    ("Báo cáo", "Re: Báo cáo"), ("Re: Báo cáo", "Re: Báo cáo"), ("RE: re: Báo cáo", "Re: Báo cáo"),
    ("TL: Re[2]: Báo cáo", "Re: Báo cáo"), ("Fwd: Báo cáo", "Re: Fwd: Báo cáo"), ("", "Re: (không có tiêu đề)"),
])
def test_reply_subject(original: str, expected: str) -> None:
    assert reply_subject(original) == expected


def test_clock_is_fixed() -> None:
    assert CLOCK.utcoffset() == dt.timedelta(hours=7)
