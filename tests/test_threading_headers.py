"""Threading headers (SPEC Rules): Message-ID, In-Reply-To and References are written as the ids themselves,
never RFC 2047-encoded, folded only between ids; every valid id that fits a line is threaded, an invalid
one is left out, and a guard that fires costs the thread, never the mail. Ids as real clients write them."""
from __future__ import annotations

import email.parser
import email.policy
import logging
from pathlib import Path

import pytest
from hostilekit import REGISTERED, assert_clean_mail, hostile, run_one
from test_compose import CONTEXT, WHEN

from intake.parsers.errors import HeaderError
from intake.processor.sending import compose as composing
from intake.processor.sending.compose import MAX_REFERENCES, check_headers, compose, template_env
from intake.store.models import MessageState, OutgoingKind, OutgoingState

# Office 365 (Exchange Online): <mailbox server><hex>@<server>.<region>.prod.outlook.com, about 90 characters.
O365 = "<TYZPR05MB14350C5B1E2F4E6D9A0B3C7E8F1D2A4B5C9E@TYZPR05MB1435.apcprd06.prod.outlook.com>"
O365_2 = "<SEZPR06MB69583A1C4D2E7F80B9A6C5D4E3F2A1B0C9D8@SEZPR06MB6958.apcprd06.prod.outlook.com>"
# Outlook desktop (MAPI): "!&!" then base64 of an entry id, with "$"; Exchange 2003: "$" separators too.
OUTLOOK_DESKTOP = "<!&!AAAAAAAAAAAYAAAAAAAAAO5mXq3w$aVHnQm2Jq+vH0sBwoAAAEAAAAAq1Xb$bVHnQm2Jq@laocai.gov.vn>"
EXCHANGE_2003 = "<000001d5a1b2$c3d4e5f6$a7b8c9d0$@laocai.gov.vn>"
GMAIL = "<CAJx7b+Gq2f0m1pWc5Xk9Ye2N6mVh4vZ8r=TqK1sD0aLw3Qn7Hg@mail.gmail.com>"


def ack(in_reply_to: str | None, references: tuple[str, ...] = ()) -> composing.Composed:
    return compose(template_env(), "ack_vi", CONTEXT, from_address="bantuyengiao@laocai.gov.vn",
                   from_name="Ban Tuyên giáo", to_address="congdoan@laocai.gov.vn", to_name="Công đoàn",
                   subject="Re: Báo cáo", now=WHEN, in_reply_to=in_reply_to, references=references)


def header_lines(raw: bytes) -> list[bytes]:
    return raw.split(b"\r\n\r\n", 1)[0].split(b"\r\n")


def raw_field(raw: bytes, name: str) -> str | None:
    """The field's value as written, unfolded (CR LF removed), no decoding of any kind."""
    parsed = email.parser.BytesHeaderParser(policy=email.policy.compat32).parsebytes(raw)
    value = parsed[name]
    return None if value is None else " ".join(str(value).split())


def assert_threaded(raw: bytes, parent: str, references: tuple[str, ...]) -> None:
    assert all(len(line) <= 998 for line in header_lines(raw))
    check_headers(raw)
    assert raw_field(raw, "In-Reply-To") == parent
    written = tuple((raw_field(raw, "References") or "").split(" "))
    assert written == references
    # The ids are in the bytes exactly: never encoded, never cut.
    head = raw.split(b"\r\n\r\n", 1)[0].replace(b"\r\n ", b" ")
    for one in (parent, *references):
        assert one.encode("ascii") in head
    assert b"=?" not in b"\r\n".join(line for line in header_lines(raw) if line.lower().startswith(
        (b"in-reply-to", b"references", b"message-id")))
    # What a reader's mail library makes of it: the same ids (the stdlib keeps the folding space of a value
    # that starts on a continuation line, as an id over 985 characters must).
    read = email.parser.BytesParser(policy=email.policy.default).parsebytes(raw)
    assert str(read["In-Reply-To"]).strip() == parent
    assert str(read["References"]).split() == list(references)


@pytest.mark.parametrize("parent", [O365, OUTLOOK_DESKTOP, EXCHANGE_2003, GMAIL])
def test_real_client_ids_are_threaded_byte_identical(parent: str) -> None:
    assert_threaded(ack(parent, (O365_2, parent)).raw, parent, (O365_2, parent))


def test_a_long_id_folds_only_between_ids_and_lines_keep_to_78_where_ids_allow() -> None:
    chain = (O365_2, GMAIL, "<a@b.vn>", O365)
    raw = ack(O365, chain).raw
    assert_threaded(raw, O365, chain)
    for line in header_lines(raw):
        if line.startswith((b" <", b"References:", b"In-Reply-To:")):
            ids = line.split(b":", 1)[1] if line[:1] != b" " else line
            # Over 78 only when the line is one id (and its field name): an id is never split.
            assert len(line) <= 78 or len(ids.split()) == 1, line


def test_a_chain_of_30_ids_keeps_the_first_the_latest_and_the_parent() -> None:
    chain = tuple(f"<TYZPR05MB1435{n:04d}C5B1E2F4E6D9A0B3C7E8F1D2A4B5@TYZPR05MB1435.apcprd06.prod.outlook.com>"
                  for n in range(30))
    raw = ack(chain[-1], chain).raw
    kept = (chain[0], *chain[-MAX_REFERENCES + 1:])
    assert len(kept) == MAX_REFERENCES and kept[-1] == chain[-1]
    assert_threaded(raw, chain[-1], kept)


@pytest.mark.parametrize("length", [98, 500, 985, 986, 996, 997])
def test_ids_up_to_the_line_limit_are_threaded(length: int) -> None:
    parent = "<" + "x" * (length - len("<@laocai.gov.vn>")) + "@laocai.gov.vn>"
    assert len(parent) == length
    raw = ack(parent, (GMAIL, parent)).raw
    assert_threaded(raw, parent, (GMAIL, parent))


@pytest.mark.parametrize("parent", [
    "<" + "x" * 983 + "@laocai.gov.vn>",  # 998 characters: no line can hold it after the fold's space
    "no-angle-brackets@x.vn", "<two@x.vn> <ids@x.vn>", "<a b@x.vn>", "<=?utf-8?q?a?=@x.vn>", "<a@b.vn>\r\nBcc: x@y",
    "<nguyễn@x.vn>", "<@x.vn>", "",
])
def test_an_invalid_parent_id_is_left_out_and_the_mail_still_goes(parent: str) -> None:
    composed = ack(parent, (GMAIL,))
    head = composed.raw.split(b"\r\n\r\n", 1)[0].lower()
    assert b"in-reply-to" not in head and b"references" not in head
    check_headers(composed.raw)


def test_invalid_references_are_dropped_valid_ones_kept() -> None:
    raw = ack(O365, ("<ok@x.vn>", "<bad id@x.vn>", "<=?utf-8?b?QQ==?=@x.vn>", OUTLOOK_DESKTOP, O365)).raw
    assert_threaded(raw, O365, ("<ok@x.vn>", OUTLOOK_DESKTOP, O365))


def test_the_guard_firing_costs_the_thread_not_the_mail(monkeypatch: pytest.MonkeyPatch,
                                                       caplog: pytest.LogCaptureFixture) -> None:
    def strict(raw: bytes) -> None:  # a guard stricter than the composer: it refuses any thread
        if b"\r\nIn-Reply-To:" in raw.split(b"\r\n\r\n", 1)[0]:
            raise HeaderError("composed in-reply-to header refused")
        check_headers(raw)

    monkeypatch.setattr(composing, "check_headers", strict)
    with caplog.at_level(logging.WARNING, logger=composing.__name__):
        composed = ack(O365, (O365,))
    assert b"In-Reply-To" not in composed.raw and b"References" not in composed.raw
    check_headers(composed.raw)
    assert "without its thread" in caplog.text and "refused" in caplog.text


def test_a_guard_that_fires_without_a_thread_still_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(raw: bytes) -> None:
        raise HeaderError("refused")

    monkeypatch.setattr(composing, "check_headers", refuse)
    with pytest.raises(HeaderError):
        ack(O365, (O365,))


def test_check_headers_refuses_a_line_over_998() -> None:
    raw = ack(None).raw
    head, sep, body = raw.partition(b"\r\n\r\n")
    with pytest.raises(HeaderError, match="998"):
        check_headers(head + b"\r\nReferences: <" + b"x" * 990 + b"@laocai.gov.vn>" + sep + body)


# -- through the pipeline: the message recorded and acknowledged, threaded on the sender's own id ------------


@pytest.mark.parametrize("parent", [O365, OUTLOOK_DESKTOP, "<" + "y" * 900 + "@laocai.gov.vn>"])
def test_the_pipeline_acknowledges_long_ids_threaded(parent: str, tmp_path: Path) -> None:
    chain = b" ".join(f"<r{n}@laocai.gov.vn>".encode() for n in range(30))
    msg, rows, _unmatched = run_one(tmp_path, hostile(b"Message-ID: " + parent.encode(), b"References: " + chain))
    assert msg.state == MessageState.PROCESSED and msg.unit_id == "ldld-bao-thang"
    assert msg.message_id == parent
    (row,) = rows
    assert row.kind == OutgoingKind.ACK and row.state == OutgoingState.SENT and row.to_address == REGISTERED
    assert_clean_mail(row.raw)
    assert raw_field(row.raw, "In-Reply-To") == parent
    assert (raw_field(row.raw, "References") or "").split(" ")[-1] == parent


def test_the_pipeline_still_acknowledges_when_the_guard_refuses_the_thread(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def strict(raw: bytes) -> None:
        if b"\r\nIn-Reply-To:" in raw.split(b"\r\n\r\n", 1)[0]:
            raise HeaderError("composed in-reply-to header refused")
        check_headers(raw)

    monkeypatch.setattr(composing, "check_headers", strict)
    msg, rows, _unmatched = run_one(tmp_path, hostile(b"Message-ID: " + O365.encode()))
    assert msg.state == MessageState.PROCESSED and msg.unit_id == "ldld-bao-thang" and msg.has_report
    (row,) = rows
    assert row.state == OutgoingState.SENT and b"In-Reply-To" not in row.raw
