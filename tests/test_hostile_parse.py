"""parse_email never raises; what it records for broken mail; no-reply addresses; a sender we cannot
answer is listed for staff (unmatched, with the reason), never dropped."""
from __future__ import annotations

import email.policy
from email.message import EmailMessage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from pathlib import Path

import pytest
from hostilekit import INJECT, REGISTERED, b64word, hostile, report, run_one
from hypothesis import given, settings
from hypothesis import strategies as st

from intake.parsers.email import _STRUCTURE_ERRORS, RUN_MIN_LINES, _stdlib_content, parse_email
from intake.parsers.headers import clean_text, no_reply_reason, usable_address, valid_msg_id
from intake.parsers.model import ParsedEmail
from intake.store.models import MessageState


def deep(levels: int) -> bytes:
    head = f"From: LĐLĐ <{REGISTERED}>\r\nSubject: deep\r\nMIME-Version: 1.0\r\n".encode()
    opening = b"".join(b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (i, i)
                       for i in range(levels))
    closing = b"".join(b"--b%d--\r\n" % i for i in reversed(range(levels)))
    return head + opening + b"Content-Type: text/plain\r\n\r\nhi\r\n" + closing


# name -> (raw, expected sender address, a defect that must be recorded (substring) or None)
BROKEN: dict[str, tuple[bytes, str, str | None]] = {
    "two Subject headers": (hostile(b"Subject: one", b"Subject: two"), REGISTERED, "duplicate Subject"),
    "two From headers": (hostile(b"From: <" + REGISTERED.encode() + b">", b"From: other@x.vn"), REGISTERED,
                         "duplicate From"),
    "CR LF in the From display name (raw)": (
        hostile(b'From: "LDLD Bao\r\nThang" <' + REGISTERED.encode() + b">"), REGISTERED, "From header broken"),
    "CR LF in the From display name (encoded word)": (
        hostile(b"From: " + b64word(b"LDLD" + INJECT) + b" <" + REGISTERED.encode() + b">"), REGISTERED, None),
    "1,000 multipart levels": (deep(1000), REGISTERED, "too deep"),
    "60 multipart levels": (deep(60), REGISTERED, None),
    "close boundary misspelt inside a nested part (mail-parser crashes; the standard library reads it)": (
        b'Content-Type: multipart/mixed; boundary="OUT"\nFrom: d@x.vn\nSubject: s\n\n--OUT\n'
        b'Content-Type: multipart/related;\n boundary="IN"\n\n-o_c=E1o?=\n\n--OUT\n'
        b'Content-Type: multipart/related;\n boundary="IN"\n\n--IN\nContent-Type: text/html\n\n<p>x</p>\n'
        b'\n--IN--\n\n--OUT\nContent-Type: text/plain\n\nquoted\n--OUT-misspelt--\n',
        "d@x.vn", "CloseBoundaryNotFoundDefect"),
    "no header/body separator": (b"From: " + REGISTERED.encode() + b"\r\nthis is not a header\r\n", REGISTERED,
                                 "MissingHeaderBodySeparator"),
    "undecodable 8-bit everywhere": (b"From: \xff\xfe <" + REGISTERED.encode() + b">\r\nSubject: \xc3\x28\xa0\r\n"
                                     b"Content-Type: text/plain; charset=x-unknown\r\n\r\n\xff\xfe\xfd", REGISTERED,
                                     None),
    "missing closing boundary": (hostile().rsplit(b"--BOUNDARY--", 1)[0], REGISTERED, None),
    "boundary declared, never used": (hostile().replace(b"--BOUNDARY", b"--OTHER"), REGISTERED, None),
    "multipart without boundary": (hostile().replace(b'; boundary="BOUNDARY"', b""), REGISTERED, None),
    "bad base64 attachment": (hostile().replace(b"base64\r\n\r\n", b"base64\r\n\r\n!!!*\r\n"), REGISTERED, None),
    "unknown charset in encoded word": (hostile(b"Subject: =?x-klingon?b?AAAA?="), REGISTERED, None),
    "broken encoded word": (hostile(b"Subject: =?utf-8?b?####?= =?utf-8?q?=ZZ?="), REGISTERED, None),
    "date from the year 99999": (hostile(b"Date: Mon, 1 Jan 99999 00:00:00 +9999"), REGISTERED, None),
    "empty message": (b"", "", "empty message"),
    "only white space": (b" \r\n\r\n ", "", "empty message"),
    "binary garbage": (bytes(range(256)) * 8, "", None),
    "no From": (hostile(drop=(b"From",)), "", None),
    "From without an address": (hostile(b"From: just a name"), "", None),
    "From group syntax, empty": (hostile(b"From: undisclosed-recipients:;"), "", None),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_parse_email_records_instead_of_raising(case: str) -> None:
    raw, address, defect = BROKEN[case]
    parsed = parse_email(raw)
    assert isinstance(parsed, ParsedEmail)
    assert parsed.from_address == address
    if defect is not None:
        assert any(defect in d for d in parsed.defects), parsed.defects
    if not address:
        assert parsed.sender_problem, "a message without a sender says why"
    for text in (parsed.subject, parsed.from_name, parsed.message_id, *(a.filename for a in parsed.attachments)):
        assert clean_text(text, 10**6) == text.replace("=?", "= ?") or "=?" in text, repr(text)
        assert "\x00" not in text and "\r" not in text and "\n" not in text


def test_two_subjects_keep_the_report_and_the_first_subject() -> None:
    parsed = parse_email(hostile(b"Subject: one", b"Subject: two"))
    assert parsed.subject == "one"
    assert [a.data for a in parsed.attachments] == [report()]


def test_1000_levels_from_a_registered_address_is_attributed(tmp_path: Path) -> None:
    msg, _rows, _unmatched = run_one(tmp_path, deep(1000))
    assert msg.state == MessageState.PROCESSED and msg.unit_id == "ldld-bao-thang"
    assert msg.problems == ["no_attachment"]


@pytest.mark.parametrize(("raw", "reason"), [
    (hostile(drop=(b"From",), attach=False), "no From header"),
    (hostile(b"From: just a name", attach=False), "no usable address"),
    (hostile(b"From: undisclosed-recipients:;", attach=False), "no usable address"),
    (hostile(b"From: " + b64word(b"x" + INJECT) + b" <not an address>", attach=False), "no usable address")])
def test_a_sender_we_cannot_answer_is_listed_unmatched_with_the_reason(raw: bytes, reason: str,
                                                                       tmp_path: Path) -> None:
    msg, outgoing, listed = run_one(tmp_path, raw)
    assert msg.state == MessageState.PROCESSED and msg.ignore_reason is None
    assert outgoing == [], "nobody to answer"
    assert [m["message_id"] for m in listed] == [msg.message_id]
    assert reason in listed[0]["reason"]
    assert "\n" not in listed[0]["reason"] and "\r" not in listed[0]["reason"]


def test_a_report_without_a_usable_sender_is_attributed_by_its_header_and_not_answered(tmp_path: Path) -> None:
    msg, outgoing, _unmatched = run_one(tmp_path, hostile(b"From: just a name"))
    assert msg.state == MessageState.PROCESSED and msg.unit_id == "ldld-bao-thang"
    assert "sender_not_registered" in msg.problems and outgoing == []


@pytest.mark.parametrize("address", [
    "drive-shares-dm-noreply@google.com", "drive-shares-noreply@google.com", "calendar-noreply@google.com",
    "noreply-dmarc-support@google.com", "no.reply@vnpt.vn", "no_reply@ldld.vn", "donotreply@bank.vn",
    "do-not-reply@vnpt.vn", "do_not_reply@x.vn", "DoNotReply@Outlook.com", "noreply@zalo.me", "no-reply@x.vn",
    "noreply+abc@x.vn", "MAILER-DAEMON@gmail.com", "mailer_daemon@x.vn", "postmaster@ldld.vn",
    "bounce@x.vn", "bounces+abc=ldld.vn@sendgrid.net", "bounce-123@mail.x.vn",
])
def test_no_reply_addresses(address: str) -> None:
    assert no_reply_reason(address) is not None


@pytest.mark.parametrize("address", [
    "ldldbaothang@gmail.com", "noreen@x.vn", "reply@x.vn", "replyall@x.vn", "nonreplicable@x.vn",
    "bouncer.hoa@gmail.com", "postmasterchef@x.vn", "donot@x.vn", "nguyen.noreplyhoa@x.vn",
])
def test_people_are_not_no_reply(address: str) -> None:
    assert no_reply_reason(address) is None


def test_drive_share_notice_is_never_listed_for_staff(tmp_path: Path) -> None:
    msg, _rows, unmatched = run_one(tmp_path, hostile(b"From: Google Drive <drive-shares-dm-noreply@google.com>"))
    assert unmatched == []
    assert msg.state == MessageState.IGNORED and "no-reply" in (msg.ignore_reason or "")


@pytest.mark.parametrize(("value", "ok"), [
    ("<a.b@c.d>", True), ("<CAF=x+y/z@mail.gmail.com>", True), ("<a@[127.0.0.1]>", True),
    ("a@b", False), ("<a@b> <c@d>", False), ("<a b@c>", False), ("<a@b>\r\nBcc: x@y", False),
    ("<=?utf-8?b?DQpCY2M6IHhAeQ==?=@x.vn>", False), ("<a\x00@b>", False), ("<@b>", False), ("<a@>", False),
    ("<" + "a" * 300 + "@b>", True), ("<" + "a" * 993 + "@b>", True),  # 997 characters: a line of its own
    ("<" + "a" * 994 + "@b>", False),
    ("<TYZPR05MB14350C5B1E2F4E6D9A0B3C7E8F1D2A4B5C9E@TYZPR05MB1435.apcprd06.prod.outlook.com>", True),
    ("<!&!AAAAAAAAAAAYAAAAAAAAAO5mXq3w$aVHnQm2Jq@laocai.gov.vn>", True),
])
def test_msg_id_syntax(value: str, ok: bool) -> None:
    assert (valid_msg_id(value) is not None) is ok


@pytest.mark.parametrize(("value", "ok"), [
    ("a@x.vn", True), ("A.B+tag@Gmail.com", True), ("a@x.vn\r\nBcc: y@z", False), ("a b@x.vn", False),
    ("a@x.vn, b@y.vn", False), ("<a@x.vn>", True), ("a\x00@x.vn", False), ("a@@x.vn", False), ("", False),
    # RFC 2047 section 5: an encoded word is never part of an addr-spec, whatever it decodes to.
    ("=?utf-8?q?attacker@example.com=0D=0Ax-hx-injected?=", False), ("_attacker@example.com=0d=0ax-hx-injected", False),
    ("a@=?utf-8?q?x?=.vn", False), ("=?utf-8?b?YUB4LnZu?=@x.vn", False),
    ("a@x_y.vn", False), ("a@-x.vn", False), ("a@x.vn.", False), ("a..b@x.vn", False), (".a@x.vn", False),
    ('"a b"@x.vn', False), ("nguyễn@x.vn", False), ("a@công-đoàn.vn", False), ("a" * 65 + "@x.vn", False),
    ("cdcs.thpt-so1.laocai@laocai.gov.vn", True), ("o'brien+bc_2024@xn--cngon-7va.vn", True), ("a@localhost", True),
])
def test_usable_address(value: str, ok: bool) -> None:
    assert (usable_address(value) is not None) is ok


# -- property: mutations of real-world shapes never make parse_email raise --------------------


def _seeds() -> list[bytes]:
    """Message shapes seen in the wild, made with the stdlib: plain, Vietnamese, HTML alternative,
    attachment, forwarded message, RFC 2231 filename, quoted-printable, DSN, nested multipart."""
    out: list[bytes] = []
    plain = EmailMessage()
    plain["From"], plain["To"], plain["Subject"] = "a@x.vn", "b@y.vn", "Báo cáo chuyên đề"
    plain["Message-ID"] = "<p1@x.vn>"
    plain.set_content("Kính gửi Ban Tuyên giáo.")
    out.append(plain.as_bytes())
    alt = EmailMessage()
    alt["From"], alt["To"], alt["Subject"] = "LĐLĐ Bảo Thắng <ldld@gmail.com>", "b@y.vn", "Re: TL: báo cáo"
    alt["References"] = "<r1@x.vn> <r2@x.vn>"
    alt.set_content("Văn bản.")
    alt.add_alternative("<p>Văn <b>bản</b></p>", subtype="html")
    alt.add_attachment(report(), maintype="application", subtype="octet-stream", filename="Báo cáo 2024.docx")
    out.append(alt.as_bytes())
    fwd = EmailMessage()
    fwd["From"], fwd["Subject"] = "c@x.vn", "Fwd: báo cáo"
    fwd.set_content("xem thư dưới")
    fwd.add_attachment(plain)
    out.append(fwd.as_bytes(policy=email.policy.SMTP))
    mixed = MIMEMultipart("mixed")
    mixed["From"], mixed["Subject"] = "d@x.vn", "=?windows-1258?q?B=E1o_c=E1o?="
    inner = MIMEMultipart("related")
    inner.attach(MIMEText("<p>x</p>", "html", "utf-8"))
    mixed.attach(inner)
    mixed.attach(MIMEText("quoted = printable é", "plain", "iso-8859-1"))
    out.append(mixed.as_bytes())
    dsn = EmailMessage()
    dsn["From"], dsn["Subject"] = "MAILER-DAEMON@x.vn", "Undelivered"
    dsn.set_content("report")
    dsn.replace_header("Content-Type", "multipart/report; report-type=delivery-status; boundary=X")
    out.append(dsn.as_bytes())
    out.append(hostile())
    return out


SEEDS = _seeds()
TOKENS = [b"\r\n", b"\n", b"\r", b"\x00", b"--", b"boundary=", b"=?utf-8?b?", b"?=", b"Subject: x\r\n",
          b"From: ", b"<", b">", b'"', b"Content-Type: multipart/mixed; boundary=Z\r\n", b"--Z\r\n",
          b"Content-Transfer-Encoding: base64\r\n", b"\xff", b"\xc3", b"=\r\n", b";", b"filename*0*=utf-8''%",
          b"Content-Type: message/rfc822\r\n\r\n"]


def _run_seeds() -> list[bytes]:
    """Shapes around long base64 runs: CRLF and LF, a run ending the message without a line ending, a
    run before the first boundary, a text body of base64-only words, a run right before a boundary."""
    big = EmailMessage()
    big["From"], big["Subject"] = "e@x.vn", "báo cáo"
    big.set_content("\n".join(["Kinh gui"] * 3 + ["ABCdef0123"] * (RUN_MIN_LINES + 4)) + "\n")
    big.add_attachment(bytes(range(256)) * 40, maintype="application", subtype="octet-stream", filename="a.docx")
    big.add_attachment(report(), maintype="application", subtype="octet-stream", filename="b.docx")
    crlf = big.as_bytes(policy=email.policy.SMTP)
    lf = big.as_bytes()
    run = b"QUJD" * 19 + b"\r\n"
    preamble = crlf.replace(b"\r\n\r\n--", b"\r\n\r\n" + run * (RUN_MIN_LINES + 2) + b"\r\n--", 1)
    unterminated = b"From: f@x.vn\r\nContent-Transfer-Encoding: base64\r\n\r\n" + run * 30 + b"QUJD"
    single = b"From: g@x.vn\nContent-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n\n" + (
        b"QUJDRA==\n" * (RUN_MIN_LINES + 1))
    return [crlf, lf, preamble, unterminated, single, crlf.replace(b"\r\n", b"\r")]


RUN_SEEDS = _run_seeds()


@st.composite
def mutated(draw: st.DrawFn, seeds: list[bytes] = SEEDS) -> bytes:
    data = bytearray(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(1, 8))):
        op = draw(st.sampled_from(["insert", "delete", "flip", "duplicate", "truncate"]))
        pos = draw(st.integers(0, max(0, len(data) - 1)))
        if op == "insert":
            data[pos:pos] = draw(st.sampled_from(TOKENS))
        elif op == "delete":
            del data[pos:pos + draw(st.integers(1, 64))]
        elif op == "flip":
            if data:
                data[pos] = draw(st.integers(0, 255))
        elif op == "duplicate":
            end = pos + draw(st.integers(1, 200))
            data[pos:pos] = data[pos:end]
        else:
            del data[pos:]
    return bytes(data)


@settings(max_examples=300, deadline=None)
@given(mutated())
def test_parse_email_returns_for_mutated_real_world_shapes(raw: bytes) -> None:
    parsed = parse_email(raw)
    assert isinstance(parsed, ParsedEmail)
    assert not parsed.from_address or usable_address(parsed.from_address) == parsed.from_address
    for text in (parsed.subject, parsed.from_name, parsed.message_id):
        assert "\x00" not in text and "\r" not in text and "\n" not in text


def _read(raw: bytes, *, fold_runs: bool) -> object:
    defects: list[str] = []
    try:
        return _stdlib_content(raw, defects, fold_runs=fold_runs), defects
    except _STRUCTURE_ERRORS as exc:  # what parse_email hands to mail-parser: both ways must fail alike
        return type(exc)


@settings(max_examples=400, deadline=None)
@given(mutated(RUN_SEEDS))
def test_long_base64_runs_folded_or_not_the_parser_reads_the_same(raw: bytes) -> None:
    assert _read(raw, fold_runs=True) == _read(raw, fold_runs=False)


def test_long_base64_runs_are_folded_in_every_run_seed_but_the_one_without_line_feeds() -> None:
    import intake.parsers.email as parsing

    folded = [len(parsing._folded_runs(raw)[1].texts) for raw in RUN_SEEDS]
    assert all(folded[:5]) and folded[5] == 0, folded
    for raw in RUN_SEEDS:
        assert _read(raw, fold_runs=True) == _read(raw, fold_runs=False)


def test_a_message_of_blank_lines_is_looked_at_no_further_than_the_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    import intake.parsers.email as parsing

    looked: list[int] = []
    original = parsing._BlankLines.start_from

    def counting(self: object, pos: int) -> int:
        looked.append(pos)
        return original(self, pos)  # type: ignore[arg-type]

    monkeypatch.setattr(parsing._BlankLines, "start_from", counting)
    run = b"QUJD" * 19 + b"\n"
    raw = b"From: a@x.vn\n\n" + b"A\n\n" * 50_000 + run * (RUN_MIN_LINES + 1)
    shown, runs = parsing._folded_runs(raw)
    assert len(looked) == parsing.RUN_MAX_BLANKS and runs.texts == [] and shown == raw  # the late run stays
    assert _read(raw, fold_runs=True) == _read(raw, fold_runs=False)


def test_seed_corpus_parses_cleanly() -> None:
    for raw in SEEDS:
        parsed = parse_email(raw)
        assert parsed.from_address, raw[:200]


def test_mail_parser_reads_what_the_standard_library_cannot(monkeypatch: pytest.MonkeyPatch) -> None:
    """No known message makes the flat stdlib walk raise; if one does, mail-parser still reads it."""
    import intake.parsers.email as parsing

    def fails(raw: bytes, defects: list[str]) -> tuple[list[object], str]:
        raise RecursionError("structure the standard library cannot walk")

    monkeypatch.setattr(parsing, "_stdlib_content", fails)
    parsed = parse_email(hostile())
    assert parsed.from_address == REGISTERED and parsed.attachments
    assert any("standard library failed (RecursionError): read with mail-parser" in d for d in parsed.defects)
