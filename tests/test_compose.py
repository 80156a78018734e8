"""Composing: the reusing policy writes exactly the bytes the standard library's SMTP policy writes."""
from __future__ import annotations

import datetime as dt
import email.policy
import email.utils
import random

import pytest

from intake.processor.sending.compose import REUSING_SMTP, VERBATIM


def folded(policy: email.policy.EmailPolicy, name: str, value: str) -> bytes:
    stored_name, stored = policy.header_store_parse(name, value)
    return policy.fold_binary(stored_name, stored)


def some_id(rng: random.Random, length: int) -> str:
    left = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789.-_+=$") for _ in range(max(1, length)))
    return f"<{left.strip('.') or 'x'}@mail.example.vn>"


def values(rng: random.Random) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for _ in range(300):
        when = dt.datetime(2000, 1, 1, tzinfo=dt.UTC) + dt.timedelta(seconds=rng.randrange(10**9))
        zone = dt.timezone(dt.timedelta(minutes=rng.choice([0, 420, -300, 330])))
        out.append(("Date", email.utils.format_datetime(when.astimezone(zone))))
        out.append(("Message-ID", email.utils.make_msgid(idstring="intake", domain=rng.choice(
            ["ldld.vn", "a" * rng.randrange(1, 90) + ".vn"]))))
        out.append(("In-Reply-To", some_id(rng, rng.randrange(1, 120))))
        out.append(("References", " ".join(some_id(rng, rng.randrange(1, 60)) for _ in range(rng.randrange(1, 12)))))
    # Around the 78-character line: "Message-ID: " is 12 characters, the id's frame 17.
    out += [("Message-ID", some_id(rng, n)) for n in range(40, 60) for _ in range(3)]
    out += [("References", "<=?utf-8?q?x?=@h.vn>"), ("In-Reply-To", "<a@b>  <c@d>"), ("Date", " Mon, 1 Jan 2024")]
    return out


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_plain_ascii_headers_fold_exactly_as_the_stdlib_folds_them(seed: int) -> None:
    cases = values(random.Random(seed))
    assert {name.lower() for name, _ in cases} == VERBATIM
    for name, value in cases:
        assert folded(REUSING_SMTP, name, value) == folded(email.policy.SMTP, name, value), (name, value)
    # Both kinds were met: values written as they are, and values long enough to be folded.
    assert any(len(folded(email.policy.SMTP, n, v).splitlines()) > 1 for n, v in cases)
    assert any(len(folded(email.policy.SMTP, n, v).splitlines()) == 1 for n, v in cases)


def test_a_composed_mail_is_byte_for_byte_what_the_stdlib_policy_writes(monkeypatch: pytest.MonkeyPatch) -> None:
    from intake.processor.sending import compose as composing

    monkeypatch.setattr(email.utils, "make_msgid", lambda idstring=None, domain=None: f"<1.{idstring}@{domain}>")
    when = dt.datetime(2024, 11, 5, 8, 30, tzinfo=dt.UTC)
    context = {"unit_name": "Công đoàn cơ sở Trường THPT Lê Quý Đôn", "sender_name": "Nguyễn Văn A",
               "sender_address": "a@x.vn", "campaign": {"id": "c", "title": "Báo cáo năm 2024",
                                                         "section_title": "Đánh giá kết quả học tập"},
               "deadline": when, "extended": False, "general_deadline": when, "received_at": when,
               "zone": "giờ Việt Nam", "on_time": True, "files": [{"filename": "Báo cáo.docx", "note": "report"}],
               "has_report": True, "section_found": True, "heading": "III. Đánh giá", "problems": [],
               "reference": "LĐLĐ-2024-0007", "office": "Liên đoàn Lao động tỉnh"}
    references = tuple(f"<thread-{n}-{'x' * n}@mail.gmail.com>" for n in range(1, 14))

    def composed() -> bytes:
        random.seed(7)  # the multipart boundary
        return composing.compose(
            composing.template_env(), "ack_vi", context, from_address="ldld@x.vn",
            from_name="Liên đoàn Lao động tỉnh Quảng Nam", to_address="congdoan@gmail.com",
            to_name="Nguyễn Thị Bình", subject="Re: Báo cáo tổng kết công tác công đoàn năm 2024 – đơn vị số 7",
            now=when, in_reply_to=references[-1], references=references).raw

    composing._FOLDED.clear()
    ours = composed()
    assert composing._FOLDED  # written by the reusing policy
    monkeypatch.setattr(composing, "REUSING_SMTP", email.policy.SMTP)
    assert ours == composed()
