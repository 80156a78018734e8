"""Composing: the reusing policy writes the bytes the standard library's SMTP policy writes, but for the
subject and display names it encodes itself, which read back as written."""
from __future__ import annotations

import datetime as dt
import email.policy
import email.utils
import random
from email.header import decode_header, make_header

import pytest

from intake.processor.sending.compose import REUSING_SMTP, VERBATIM


def folded(policy: email.policy.EmailPolicy, name: str, value: str) -> bytes:
    stored_name, stored = policy.header_store_parse(name, value)
    return policy.fold_binary(stored_name, stored)


def values(rng: random.Random) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for _ in range(300):
        when = dt.datetime(2000, 1, 1, tzinfo=dt.UTC) + dt.timedelta(seconds=rng.randrange(10**9))
        zone = dt.timezone(dt.timedelta(minutes=rng.choice([0, 420, -300, 330])))
        out.append(("Date", email.utils.format_datetime(when.astimezone(zone))))
    out += [("Date", " Mon, 1 Jan 2024"), ("Date", "Mon, 1 Jan 2024 =?utf-8?q?x?=")]
    return out


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_plain_ascii_dates_fold_exactly_as_the_stdlib_folds_them(seed: int) -> None:
    cases = values(random.Random(seed))
    assert {name.lower() for name, _ in cases} == VERBATIM
    for name, value in cases:
        assert folded(REUSING_SMTP, name, value) == folded(email.policy.SMTP, name, value), (name, value)


def without(raw: bytes, *names: bytes) -> bytes:
    """`raw` less the header fields `names` (lower case), continuation lines included."""
    head, sep, body = raw.partition(b"\r\n\r\n")
    kept: list[bytes] = []
    dropping = False
    for line in head.split(b"\r\n"):
        if line[:1] not in (b" ", b"\t"):
            dropping = line.split(b":", 1)[0].lower() in names
        if not dropping:
            kept.append(line)
    return b"\r\n".join(kept) + sep + body


WHEN = dt.datetime(2024, 11, 5, 8, 30, tzinfo=dt.UTC)
CONTEXT = {"unit_name": "Công đoàn cơ sở Trường THPT Lê Quý Đôn", "sender_name": "Nguyễn Văn A",
           "sender_address": "a@x.vn", "campaign": {"id": "c", "title": "Báo cáo năm 2024",
                                                     "section_title": "Đánh giá kết quả học tập"},
           "deadline": WHEN, "extended": False, "general_deadline": WHEN, "received_at": WHEN,
           "zone": "giờ Việt Nam", "on_time": True, "files": [{"filename": "Báo cáo.docx", "note": "report"}],
           "has_report": True, "section_found": True, "heading": "III. Đánh giá", "problems": [],
           "reference": "LĐLĐ-2024-0007", "office": "Liên đoàn Lao động tỉnh"}


def test_a_composed_mail_is_what_the_stdlib_policy_writes_but_for_its_encoded_words(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from intake.processor.sending import compose as composing

    monkeypatch.setattr(email.utils, "make_msgid", lambda idstring=None, domain=None: f"<1.{idstring}@{domain}>")
    when, context = WHEN, CONTEXT
    references = tuple(f"<thread-{n}-{'x' * n}@mail.gmail.com>" for n in range(1, 14))
    subject = "Re: Báo cáo tổng kết công tác công đoàn năm 2024 – đơn vị số 7"

    def composed() -> bytes:
        random.seed(7)  # the multipart boundary
        return composing.compose(
            composing.template_env(), "ack_vi", context, from_address="ldld@x.vn",
            from_name="Liên đoàn Lao động tỉnh Quảng Nam", to_address="congdoan@gmail.com",
            to_name="Nguyễn Thị Bình", subject=subject, now=when, in_reply_to=references[-1],
            references=references).raw

    composing._FOLDED.clear()
    ours = composed()
    assert composing._FOLDED  # written by the reusing policy (the MIME headers)
    # The stdlib alone: its policy, and the subject and the name left for it to encode.
    monkeypatch.setattr(composing, "REUSING_SMTP", email.policy.SMTP)
    monkeypatch.setattr(composing, "_encoded", lambda name, text, tail="": f"{text} {tail}".rstrip())
    theirs = composed()
    assert ours != theirs
    assert without(ours, b"from", b"to", b"subject") == without(theirs, b"from", b"to", b"subject")
    mine, stdlib = (email.message_from_bytes(raw, policy=email.policy.default) for raw in (ours, theirs))
    assert str(mine["To"]) == str(stdlib["To"]) == "Nguyễn Thị Bình <congdoan@gmail.com>"
    assert str(mine["From"]) == str(stdlib["From"]) == "Liên đoàn Lao động tỉnh Quảng Nam <ldld@x.vn>"
    assert str(mine["Subject"]) == subject
    # Python 3.11's folder puts the space before "đoàn" between two encoded words, where readers drop it.
    assert str(stdlib["Subject"]) in (subject, subject.replace("công đoàn", "côngđoàn"))


VIETNAMESE = "aăâbcdđeêghiklmnoôơpqrstuưvxyàảãáạằẳẵắặầẩẫấậèẻẽéẹềểễếệìỉĩíịòỏõóọồổỗốộờởỡớợùủũúụừửữứựỳỷỹýỵ"
SPECIALS = " ,.;:()<>@[]\\\"'=?_-–"


def raw_to(head: bytes) -> str:
    """The To field of a header block, unfolded."""
    field = without(head + b"\r\n\r\n", *(n for n in (b"from", b"subject", b"date", b"message-id", b"auto-submitted",
                                                      b"x-auto-response-suppress", b"mime-version",
                                                      b"content-type")))
    return field.decode("ascii").strip().partition(":")[2].replace("\r\n", "").strip()


def some_text(rng: random.Random, length: int) -> str:
    chars = [rng.choice(VIETNAMESE + VIETNAMESE.upper() + SPECIALS) for _ in range(length)]
    chars[rng.randrange(length)] = rng.choice("ắệữĐ")  # never plain ASCII
    return " ".join("".join(chars).split())


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_vietnamese_subjects_and_names_read_back_as_written_in_lines_of_78(seed: int) -> None:
    from intake.parsers.headers import clean_text
    from intake.processor.sending.compose import compose, template_env

    rng, env = random.Random(seed), template_env()
    for n in range(60):
        subject, name = some_text(rng, rng.randrange(1, 260)), some_text(rng, rng.randrange(1, 120))
        address = f"u{n}@{'d' * rng.randrange(1, 60)}.vn"
        raw = compose(env, "ack_vi", CONTEXT, from_address="ldld@x.vn", from_name="LĐLĐ tỉnh",
                      to_address=address, to_name=name, subject=subject, now=WHEN).raw
        head = raw[:raw.index(b"\r\n\r\n")]
        assert max(len(line) for line in head.split(b"\r\n")) <= 78, head
        read = email.message_from_bytes(raw, policy=email.policy.default)
        assert str(read["Subject"]) == clean_text(subject)
        (to,) = read["To"].addresses
        assert to.addr_spec == address and not read["Subject"].defects and not read["To"].defects
        # RFC 2047 6.2: the space between two encoded words is not text. The stdlib's address
        # parser keeps it in a display name; email.header.decode_header reads as mail programs do.
        phrase = raw_to(head).rpartition(" <")[0]
        assert str(make_header(decode_header(phrase))) == clean_text(name)
        assert to.display_name.replace(" ", "") == clean_text(name).replace(" ", "")
