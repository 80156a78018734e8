"""The pure tier: SPEC's "Rules" applied by `decide` to values alone (no database, no server, no files).

Each test names the rule it checks. Outlines are built by hand; the config is
parsed from a dict; what the store would know is a `KnownFacts`.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from intake.parsers.model import (
    Attachment,
    Block,
    BlockKind,
    FileKind,
    Outline,
    ParsedEmail,
    Problem,
)
from intake.processor.catalog import Catalog
from intake.processor.config import parse_config
from intake.processor.ingest.decide import (
    STAFF_NO_SECTION,
    ReadAttachment,
    Rules,
    Verdict,
    decide,
    reference_number,
)
from intake.store.kinds import MatchMethod, MessageState
from intake.store.records import KnownFacts
from intake.store.views import SectionChoice

VN = dt.timezone(dt.timedelta(hours=7))
SECTION_A = "Đánh giá kết quả tổ chức học tập, quán triệt và triển khai Chuyên đề năm 2024"
SECTION_B = "Kết quả thực hiện phong trào thi đua Giỏi việc nước, đảm việc nhà năm 2024"
HEADING_A = "II. ĐÁNH GIÁ KẾT QUẢ HỌC TẬP CHUYÊN ĐỀ NĂM 2024"
HEADING_B = "III. KẾT QUẢ PHONG TRÀO THI ĐUA GIỎI VIỆC NƯỚC, ĐẢM VIỆC NHÀ"
BODY = "Tổng số đoàn viên: 1.250; số đoàn viên tham gia học tập: 1.241, đạt 99,3%."
PK = 5


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=VN)


NOW = at("2024-02-28 12:00")
RECEIVED = at("2024-02-20 08:00")


def rules(*, campaigns: list[dict[str, Any]] | None = None, ack: dict[str, Any] | None = None) -> Rules:
    data: dict[str, Any] = {
        "timezone": "Asia/Ho_Chi_Minh",
        "mailbox": {"kind": "imap", "host": "imap.gmail.com", "username": "bantuyengiao.inbox@gmail.com"},
        "sending": {"kind": "outbox", "from_address": "bantuyengiao@gmail.com", "from_name": "Ban Tuyên giáo"},
        "acknowledge": ack or {},
        "units": [
            {"id": "ldld-bao-thang", "name": "LĐLĐ huyện Bảo Thắng", "emails": ["ldldbaothang@gmail.com"],
             "group": "huyen"},
            {"id": "ldld-bao-yen", "name": "LĐLĐ huyện Bảo Yên", "group": "huyen"},
            {"id": "cdn-y-te", "name": "Công đoàn ngành Y tế tỉnh Lào Cai", "aliases": ["CĐN Y tế"],
             "group": "nganh"},
        ],
        "campaigns": campaigns or [campaign("chuyen-de-2024", SECTION_A)],
    }
    cfg = parse_config(data, Path("intake.toml"), {})
    return Rules.for_config(cfg, Catalog(version=0, units=cfg.units, campaigns=cfg.campaigns))


def campaign(cid: str, section: str, *, opens: str = "2024-01-22T00:00:00+07:00",
             deadline: str = "2024-02-29T00:00:00+07:00", units: list[str] | None = None) -> dict[str, Any]:
    return {"id": cid, "title": f"Báo cáo {cid}", "opens": opens, "deadline": deadline,
            "units": units or ["*"], "section_title": section}


def parsed(sender: str = "ldldbaothang@gmail.com", *, name: str = "", never: str | None = None,
           date: dt.datetime | None = None, attachments: int = 1, return_path: str | None = None) -> ParsedEmail:
    return ParsedEmail(message_id="<m1@gmail.com>", from_address=sender, from_name=name, subject="Báo cáo",
                       date_header=date, received_header_at=None, references=(), return_path=return_path,
                       never_acknowledge=never,
                       attachments=tuple(Attachment(f"f{i}.docx", "application/octet-stream", b"x")
                                         for i in range(attachments)))


def outline(*headings_and_bodies: tuple[str, str], issuer: str | None = None) -> Outline:
    blocks = [Block(BlockKind.PARAGRAPH, "BÁO CÁO")]
    for heading, body in headings_and_bodies:
        blocks += [Block(BlockKind.PARAGRAPH, heading, level=1), Block(BlockKind.PARAGRAPH, body)]
    blocks.append(Block(BlockKind.PARAGRAPH, "Trên đây là báo cáo của đơn vị."))
    return Outline(blocks=tuple(blocks), issuer=issuer)


def word(position: int, doc: Outline | None, *, size: int = 100, problem: Problem | None = None,
         kind: FileKind = FileKind.DOCX, name: str | None = None) -> ReadAttachment:
    att = Attachment(name or f"bao-cao-{position}.docx", "application/octet-stream", b"x" * size)
    return ReadAttachment(position=position, attachment=att, kind=kind, word=kind in (FileKind.DOCX, FileKind.DOC),
                          outline=doc, problem=problem)


def other(position: int, kind: FileKind = FileKind.PDF, size: int = 5000) -> ReadAttachment:
    att = Attachment(f"scan-{position}.pdf", "application/pdf", b"x" * size)
    return ReadAttachment(position=position, attachment=att, kind=kind, word=False)


REPORT_A = outline(("I. TÌNH HÌNH CHUNG", "Triển khai kịp thời."), (HEADING_A, BODY))
NO_SECTION = outline(("I. TÌNH HÌNH CHUNG", "Triển khai kịp thời."), ("II. NHIỆM VỤ THỜI GIAN TỚI", "Tiếp tục."))
FACTS = KnownFacts(registered={"ldldbaothang@gmail.com": "ldld-bao-thang"})


def run(email: ParsedEmail, reads: list[ReadAttachment], *, r: Rules | None = None,
        facts: KnownFacts = FACTS, received: dt.datetime = RECEIVED, now: dt.datetime = NOW) -> Verdict:
    return decide(PK, received, email, reads, r or rules(), facts, now)


# -- received time, on time / late -------------------------------------------------------------


def test_received_time_is_the_mailbox_s_and_the_date_header_is_only_recorded() -> None:
    claimed = at("2024-02-01 08:00")  # the sender's Date: says early; the mailbox received it late
    verdict = run(parsed(date=claimed), [word(0, REPORT_A)], received=at("2024-03-01 08:00"))
    assert verdict.record.date_header == claimed
    assert verdict.ack is not None and verdict.ack.context["on_time"] is False
    assert verdict.ack.context["received_at"] == at("2024-03-01 08:00")


def test_on_time_means_before_the_deadline() -> None:
    just_before = run(parsed(), [word(0, REPORT_A)], received=at("2024-02-28 23:59"))
    exactly = run(parsed(), [word(0, REPORT_A)], received=at("2024-02-29 00:00"))
    assert just_before.ack is not None and just_before.ack.context["on_time"] is True
    assert exactly.ack is not None and exactly.ack.context["on_time"] is False


def test_an_extension_moves_the_unit_s_deadline() -> None:
    facts = dataclasses.replace(FACTS, extensions={("ldld-bao-thang", "chuyen-de-2024"): at("2024-03-05 17:00")})
    verdict = run(parsed(), [word(0, REPORT_A)], facts=facts, received=at("2024-03-02 08:00"))
    assert verdict.ack is not None
    assert verdict.ack.context["on_time"] is True and verdict.ack.context["extended"] is True
    assert verdict.ack.context["deadline"] == at("2024-03-05 17:00")
    other_unit = dataclasses.replace(FACTS, extensions={("ldld-bao-yen", "chuyen-de-2024"): at("2024-03-05 17:00")})
    late = run(parsed(), [word(0, REPORT_A)], facts=other_unit, received=at("2024-03-02 08:00"))
    assert late.ack is not None and late.ack.context["on_time"] is False


# -- unit identification ----------------------------------------------------------------------


def test_a_registered_address_wins_over_the_document_header() -> None:
    doc = dataclasses.replace(REPORT_A, issuer="LĐLĐ huyện Bảo Yên")
    verdict = run(parsed("LDLDBaoThang@Gmail.com", name="CĐN Y tế"), [word(0, doc)])
    assert (verdict.unit_id, verdict.record.match) == ("ldld-bao-thang", MatchMethod.ADDRESS)
    assert verdict.problems == ()


def test_a_gmail_address_matches_without_dots_and_plus_tags() -> None:
    verdict = run(parsed("ldld.bao.thang+bc@gmail.com"), [word(0, REPORT_A)])
    assert (verdict.unit_id, verdict.record.match) == ("ldld-bao-thang", MatchMethod.ADDRESS)


def test_the_document_header_names_the_unit_flagged_sender_not_registered() -> None:
    doc = dataclasses.replace(REPORT_A, issuer="LIÊN ĐOÀN LAO ĐỘNG HUYỆN BẢO YÊN")
    verdict = run(parsed("vanthu@yahoo.com", name="CĐN Y tế"), [word(0, doc)])
    assert (verdict.unit_id, verdict.record.match) == ("ldld-bao-yen", MatchMethod.DOCUMENT_HEADER)
    assert verdict.problems == (Problem.SENDER_NOT_REGISTERED,)


def test_the_display_name_names_the_unit_when_the_document_does_not() -> None:
    verdict = run(parsed("nguyenvana@yahoo.com", name="Cong doan nganh Y te"), [word(0, REPORT_A)])
    assert (verdict.unit_id, verdict.record.match) == ("cdn-y-te", MatchMethod.DISPLAY_NAME)
    assert Problem.SENDER_NOT_REGISTERED in verdict.problems


def test_no_match_leaves_the_message_unmatched_and_an_unknown_sender_with_word_is_acknowledged() -> None:
    verdict = run(parsed("la@example.com"), [word(0, REPORT_A)])
    assert (verdict.unit_id, verdict.record.match) == (None, MatchMethod.NONE)
    assert verdict.record.state == MessageState.PROCESSED
    assert verdict.ack is not None and verdict.ack.template == "ack_unknown_vi"


def test_an_unknown_sender_without_a_word_file_is_not_acknowledged() -> None:
    verdict = run(parsed("la@example.com"), [other(0)])
    assert verdict.ack is None and verdict.no_ack is not None and "without a Word file" in verdict.no_ack


# -- never acknowledge ----------------------------------------------------------------------------


@pytest.mark.parametrize(("email", "why"), [
    (parsed(never="Auto-Submitted: auto-replied"), "Auto-Submitted"),
    (parsed(never="Precedence: bulk"), "Precedence"),
    (parsed("bantuyengiao@gmail.com"), "our own address"),
    (parsed("bantuyengiao.inbox@gmail.com"), "our own address"),
    (parsed("x@example.com", return_path="bantuyengiao@gmail.com"), "Return-Path"),
])
def test_never_acknowledged_never_counted_recorded_all_the_same(email: ParsedEmail, why: str) -> None:
    verdict = run(email, [word(0, None)])
    assert verdict.record.state == MessageState.IGNORED
    assert verdict.record.ignore_reason is not None and why in verdict.record.ignore_reason
    assert verdict.ack is None and verdict.unit_id is None and verdict.campaign_id is None
    assert [a.filename for a in verdict.record.attachments] == ["bao-cao-0.docx"]  # recorded all the same


def test_no_usable_sender_is_listed_for_staff_with_the_reason_and_not_answered() -> None:
    email = dataclasses.replace(parsed(""), sender_problem="no From header")
    verdict = run(email, [word(0, None)])
    assert verdict.record.state == MessageState.PROCESSED and verdict.record.ignore_reason is None
    assert verdict.unit_id is None and verdict.record.error == "no From header"  # unmatched, with the reason
    assert verdict.ack is None and verdict.no_ack is not None and "nobody to answer" in verdict.no_ack


def test_exactly_one_acknowledgement_a_re_evaluation_queues_none() -> None:
    verdict = run(parsed(), [word(0, REPORT_A)], facts=dataclasses.replace(FACTS, acknowledged=True))
    assert verdict.ack is None and verdict.no_ack == "acknowledged once already"
    assert verdict.unit_id == "ldld-bao-thang"  # the rest is decided as usual


def test_the_acknowledgement_is_threaded_to_the_sender() -> None:
    verdict = run(parsed(), [word(0, REPORT_A)])
    assert verdict.ack is not None
    assert (verdict.ack.to_address, verdict.ack.in_reply_to, verdict.ack.subject) == (
        "ldldbaothang@gmail.com", "<m1@gmail.com>", "Re: Báo cáo")
    assert verdict.ack.context["reference"] == reference_number(PK, at("2024-02-20 08:00")) == "TN24-00005"


def test_old_mail_and_the_hourly_limit_are_recorded_skipped() -> None:
    old = run(parsed(), [word(0, REPORT_A)], received=at("2024-01-01 08:00"), now=at("2024-02-28 08:00"))
    assert old.ack is not None and old.ack.skip_reason == "older than 14 days"
    busy = run(parsed(), [word(0, REPORT_A)], facts=dataclasses.replace(FACTS, recent_to_sender=5))
    assert busy.ack is not None and busy.ack.skip_reason is not None and busy.ack.skip_reason.startswith("rate limit")
    quiet = run(parsed(), [word(0, REPORT_A)], facts=dataclasses.replace(FACTS, recent_to_sender=4))
    assert quiet.ack is not None and quiet.ack.skip_reason is None


def test_acknowledgements_disabled() -> None:
    verdict = run(parsed(), [word(0, REPORT_A)], r=rules(ack={"enabled": False}))
    assert verdict.ack is None and verdict.no_ack == "acknowledgements disabled"


# -- which attachment, problems -------------------------------------------------------------------


def test_the_report_is_the_word_file_holding_the_section_not_the_largest() -> None:
    cover = word(0, NO_SECTION, size=9000)
    report = word(1, REPORT_A, size=100)
    verdict = run(parsed(attachments=3), [cover, report, other(2)])
    assert verdict.report_position == 1 and verdict.section is not None and verdict.section.heading == HEADING_A
    assert [a.is_report for a in verdict.record.attachments] == [False, True, False]
    assert verdict.problems == ()  # files beside a readable report raise no problem


def test_without_the_section_the_largest_readable_word_file_is_the_report() -> None:
    verdict = run(parsed(attachments=3), [word(0, NO_SECTION, size=100), word(1, NO_SECTION, size=900),
                                          word(2, None, size=5000, problem=Problem.UNREADABLE_ATTACHMENT)])
    assert verdict.report_position == 1
    assert verdict.problems == (Problem.SECTION_NOT_FOUND,)
    assert verdict.ack is not None and verdict.ack.context["section_found"] is False


def test_a_readable_report_hides_the_broken_files_beside_it() -> None:
    verdict = run(parsed(attachments=2), [word(0, None, problem=Problem.ENCRYPTED_ATTACHMENT), word(1, REPORT_A)])
    assert verdict.problems == () and verdict.report_position == 1


@pytest.mark.parametrize(("reads", "problems"), [
    ([], (Problem.NO_ATTACHMENT,)),
    ([other(0)], (Problem.UNSUPPORTED_ATTACHMENT,)),
    ([word(0, None, problem=Problem.ENCRYPTED_ATTACHMENT)], (Problem.ENCRYPTED_ATTACHMENT,)),
    ([word(0, None, problem=Problem.UNREADABLE_ATTACHMENT), word(1, None, problem=Problem.ENCRYPTED_ATTACHMENT)],
     (Problem.ENCRYPTED_ATTACHMENT, Problem.UNREADABLE_ATTACHMENT)),
])
def test_problems_without_a_readable_report(reads: list[ReadAttachment], problems: tuple[Problem, ...]) -> None:
    verdict = run(parsed(attachments=len(reads)), reads)
    assert verdict.problems == problems and not verdict.record.has_report and verdict.section is None


# -- campaign choice ----------------------------------------------------------------------------------

TWO = [campaign("chuyen-de-2024", SECTION_A),
       campaign("thi-dua-2024", SECTION_B, opens="2024-02-01T00:00:00+07:00",
                deadline="2024-03-15T00:00:00+07:00", units=["group:huyen"])]


def test_the_section_found_decides_the_campaign() -> None:
    doc = outline(("I. TÌNH HÌNH CHUNG", "Triển khai."), (HEADING_B, BODY))
    verdict = run(parsed(), [word(0, doc)], r=rules(campaigns=TWO), received=at("2024-02-10 08:00"))
    assert verdict.campaign_id == "thi-dua-2024" and verdict.problems == ()


def test_without_a_section_the_open_campaign_due_first() -> None:
    verdict = run(parsed(), [word(0, NO_SECTION)], r=rules(campaigns=TWO), received=at("2024-02-10 08:00"))
    assert verdict.campaign_id == "chuyen-de-2024"
    after = run(parsed(), [word(0, NO_SECTION)], r=rules(campaigns=TWO), received=at("2024-03-05 08:00"))
    assert after.campaign_id == "thi-dua-2024"


def test_a_campaign_that_expects_the_unit_is_preferred() -> None:
    # cdn-y-te is not in "group:huyen": after A's deadline its report still goes to A (late), not to B.
    verdict = run(parsed("nguyenvana@yahoo.com", name="CĐN Y tế"), [word(0, NO_SECTION)], r=rules(campaigns=TWO),
                  received=at("2024-03-06 09:00"))
    assert verdict.unit_id == "cdn-y-te" and verdict.campaign_id == "chuyen-de-2024"


# -- the staff's choice of section ------------------------------------------------------------------------


def test_a_staff_section_choice_outlives_re_evaluation() -> None:
    facts = dataclasses.replace(FACTS, section_choice=SectionChoice(position=0, block=1),
                                earlier_campaign="chuyen-de-2024")
    verdict = run(parsed(), [word(0, REPORT_A)], facts=facts)
    assert verdict.section is not None and verdict.section.chosen_by == "staff"
    assert verdict.section.heading == "I. TÌNH HÌNH CHUNG" and verdict.section.text == "Triển khai kịp thời."
    assert verdict.section.candidates == verdict.sections[(0, "chuyen-de-2024")].candidates != ()
    none = run(parsed(), [word(0, REPORT_A)], facts=dataclasses.replace(
        facts, section_choice=SectionChoice(position=0, block=None)))
    assert none.section is not None and not none.section.found and none.section.reason == STAFF_NO_SECTION
    assert none.problems == (Problem.SECTION_NOT_FOUND,)


def test_the_finder_s_candidates_come_with_the_verdict() -> None:
    verdict = run(parsed(), [word(0, REPORT_A)])
    assert verdict.section is not None and verdict.section.chosen_by == "finder"
    assert verdict.section.candidates and verdict.section.candidates[0].heading == HEADING_A
    assert verdict.sections[(0, "chuyen-de-2024")] == verdict.section


# -- the seam itself ---------------------------------------------------------------------------------------


def test_the_decision_step_loads_no_database_code() -> None:
    probe = ("import sys; import intake.processor.ingest.decide, intake.processor.sending.acknowledge; "
             "print(sorted(m for m in sys.modules if m.split('.')[0] == 'sqlalchemy'))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_no_module_of_processor_names_sqlalchemy() -> None:
    processor = Path(__file__).resolve().parent.parent / "processor"
    assert [p.name for p in processor.rglob("*.py") if "sqlalchemy" in p.read_text(encoding="utf-8")] == []
