"""Recipients (SPEC Rules): the address we answer is the From header's addr-spec itself, never what an RFC 2047
encoded word decodes to (RFC 2047 section 5); a From that holds no valid addr-spec gets no mail, and the
message is still recorded, attributed where its report names the unit, and listed for staff."""
from __future__ import annotations

from pathlib import Path

import pytest
from hostilekit import REGISTERED, assert_clean_mail, b64word, hostile, qword, run_one

from intake.parsers.email import parse_email
from intake.store.models import MessageState

# The case: a Q-encoded word that decodes to an address and a CR LF, with no real address beside it.
INJECTED_Q = b"=?utf-8?q?attacker@example.com=0D=0Ax-hx-injected?="
NO_ADDRESS: dict[str, bytes] = {
    "Q word decoding to an address and CR LF": b"From: " + INJECTED_Q,
    "B word decoding to an address and a Bcc line": b"From: " + b64word(b"attacker@example.com\r\nBcc: x@y.vn"),
    "Q word decoding to a bare address": b"From: " + qword(b"attacker@example.com"),
    "encoded word in angle brackets": b"From: Ban <" + INJECTED_Q + b">",
    "encoded word as the local part": b"From: <=?utf-8?b?YXR0YWNrZXI=?=@example.com>",
    "encoded word as the domain": b"From: <attacker@=?utf-8?q?example.com?=>",
    "a domain that is no host name": b"From: <attacker@example.com=0D=0Ax-hx-injected>",
    "quoted local part with a space": b'From: <"a b"@example.com>',
    "non-ASCII local part": "From: <nguyễn@laocai.gov.vn>".encode(),
}
# An encoded word in the display name beside a real addr-spec: the addr-spec is answered, the word is a name.
WITH_ADDRESS: dict[str, bytes] = {
    "Q word with an address and CR LF as the name": b"From: " + INJECTED_Q + b" <" + REGISTERED.encode() + b">",
    "quoted encoded word as the name": b'From: "' + INJECTED_Q + b'" <' + REGISTERED.encode() + b">",
    "encoded word as a comment": b"From: " + REGISTERED.encode() + b" (" + INJECTED_Q + b")",
    "Gmail's B-encoded Vietnamese name": b"From: " + b64word("LĐLĐ huyện Bảo Thắng") + f" <{REGISTERED}>".encode(),
}


@pytest.mark.parametrize("case", sorted(NO_ADDRESS))
def test_an_encoded_word_never_becomes_the_sender_address(case: str) -> None:
    parsed = parse_email(hostile(NO_ADDRESS[case]))
    assert parsed.from_address == "" and parsed.sender_problem
    assert "\r" not in parsed.from_name and "\n" not in parsed.from_name


@pytest.mark.parametrize("case", sorted(WITH_ADDRESS))
def test_the_addr_spec_beside_an_encoded_word_is_the_sender(case: str) -> None:
    parsed = parse_email(hostile(WITH_ADDRESS[case]))
    assert parsed.from_address == REGISTERED and not parsed.sender_problem


@pytest.mark.parametrize("case", sorted(NO_ADDRESS))
def test_no_valid_addr_spec_no_mail_but_the_report_counts(case: str, tmp_path: Path) -> None:
    msg, rows, _unmatched = run_one(tmp_path, hostile(NO_ADDRESS[case]))
    assert rows == [], "nobody to answer"
    # The report names its unit in its header: attributed all the same, flagged for staff.
    assert msg.state == MessageState.PROCESSED and msg.unit_id == "ldld-bao-thang" and msg.has_report
    assert "sender_not_registered" in msg.problems and msg.from_address == ""


def test_no_valid_addr_spec_and_no_report_is_listed_for_staff(tmp_path: Path) -> None:
    msg, rows, unmatched = run_one(tmp_path, hostile(NO_ADDRESS["Q word decoding to an address and CR LF"],
                                                     attach=False))
    assert rows == [] and msg.state == MessageState.PROCESSED and msg.ignore_reason is None
    assert [m["message_id"] for m in unmatched] == [msg.message_id]
    assert "no usable address" in unmatched[0]["reason"]


@pytest.mark.parametrize("case", sorted(WITH_ADDRESS))
def test_the_acknowledgement_goes_to_the_addr_spec_only(case: str, tmp_path: Path) -> None:
    msg, rows, _unmatched = run_one(tmp_path, hostile(WITH_ADDRESS[case]))
    assert msg.unit_id == "ldld-bao-thang"
    (row,) = rows
    assert row.to_address == REGISTERED
    headers = assert_clean_mail(row.raw)
    assert headers["to"] == REGISTERED or headers["to"].endswith(f"<{REGISTERED}>")
    assert "example.com" not in headers["to"].rpartition("<")[2]
