"""The use-case layer (`processor/services.Office`) and the CLI commands over it, on a Maildir and SQLite."""
from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from staffkit import STUDY, Clock, at, drop, make_app, make_config, message, report_docx, run_cli, write_toml

from intake.parsers.errors import UsageError
from intake.processor.app import App
from intake.processor.services import Office, resolve_unit
from intake.processor.staff_dates import parse_staff_datetime
from intake.processor.units import UnitConfig

HEADING = "II. ĐÁNH GIÁ KẾT QUẢ HỌC TẬP CHUYÊN ĐỀ NĂM 2024"
NOW = at("2024-02-28 12:00")

pytestmark = pytest.mark.usefixtures("english")


@pytest.fixture
def office(tmp_path: Path) -> Iterator[Office]:
    doc = report_docx("", HEADING, STUDY)
    drop(tmp_path, message("ldldbaothang@gmail.com", at("2024-02-20 08:00"), docx=doc, msgid="<bt-1@gmail.com>"), "1")
    drop(tmp_path, message("vanthu.by@yahoo.com", at("2024-02-21 08:00"), docx=report_docx("", HEADING, STUDY),
                           msgid="<by-1@yahoo.com>"), "2")
    drop(tmp_path, message("ldldsapa@gmail.com", at("2024-02-22 08:00"), msgid="<sp-1@gmail.com>"), "3")
    app = make_app(make_config(tmp_path), Clock(NOW))
    app.run_once()
    try:
        yield Office(app)
    finally:
        app.store.close()


def _app(office: Office) -> App:
    return office.app


def test_resolve_unit_by_id_name_alias_and_folded_name(office: Office) -> None:
    assert office.resolve_unit("ldld-bao-yen") == "ldld-bao-yen"
    assert office.resolve_unit("LĐLĐ huyện Bảo Yên") == "ldld-bao-yen"
    assert office.resolve_unit("ldld huyen bao yen") == "ldld-bao-yen"
    assert office.resolve_unit("Liên đoàn Lao động huyện Bảo Thắng") == "ldld-bao-thang"
    assert office.resolve_unit("CĐN Y tế") == "cdn-y-te"
    with pytest.raises(UsageError, match="no unit"):
        office.resolve_unit("LĐLĐ huyện Mường Khương")


ROSTER = (UnitConfig("ldld-bac-ha", "LĐLĐ huyện Bắc Hà"), UnitConfig("ldld-bat-xat", "LĐLĐ huyện Bát Xát"),
          UnitConfig("ldld-bao-yen", "LĐLĐ huyện Bảo Yên", aliases=("Liên đoàn Lao động huyện Bảo Yên",)),
          UnitConfig("cd-a", "Công đoàn trường Mầm non"), UnitConfig("cd-b", "Công đoàn Trường mầm non"))


@pytest.mark.parametrize(("text", "unit_id"), [
    ("ldld-bac-ha", "ldld-bac-ha"), ("LĐLĐ huyện Bắc Hà", "ldld-bac-ha"), ("lđlđ huyen bac ha", "ldld-bac-ha"),
    ("Liên đoàn Lao động huyện Bắc Hà", "ldld-bac-ha"), ("LDLD BAT XAT", "ldld-bat-xat"),
    ("Liên đoàn Lao động huyện Bảo Yên", "ldld-bao-yen"), ("  LĐLĐ huyện Bảo Yên ", "ldld-bao-yen"),
])
def test_resolve_unit_on_a_roster(text: str, unit_id: str) -> None:
    assert resolve_unit(ROSTER, text) == unit_id


@pytest.mark.parametrize(("text", "why"), [
    ("Công đoàn trường mầm non", "several units"), ("LĐLĐ huyện Mường Khương", "no unit"), ("", "empty")])
def test_resolve_unit_refuses(text: str, why: str) -> None:
    with pytest.raises(UsageError, match=why):
        resolve_unit(ROSTER, text)


def test_show_by_reference_and_by_message_id(office: Office) -> None:
    by_id = office.show("<bt-1@gmail.com>")
    assert by_id.unit_id == "ldld-bao-thang" and by_id.match == "address"
    assert by_id.reference is not None and by_id.reference.startswith("TN24-")
    assert office.show(by_id.reference) == by_id
    assert office.show(by_id.reference.lower()) == by_id
    assert office.show("bt-1@gmail.com") == by_id
    assert [a.filename for a in by_id.attachments] == ["Bao cao.docx"] and by_id.attachments[0].is_report
    assert by_id.section is not None and by_id.section.found and by_id.section.heading == HEADING
    assert by_id.section.chosen_by == "finder" and by_id.section.candidates[0].heading == HEADING
    assert by_id.acknowledgement is not None and by_id.acknowledgement.to == "ldldbaothang@gmail.com"
    assert "Bảo Thắng" in by_id.acknowledgement.body_text
    with pytest.raises(UsageError, match="no message"):
        office.show("TN24-99999")


def test_excuse_and_extend_by_name_and_the_past_recorded(office: Office) -> None:
    excused = office.excuse("CĐN Y tế", None, "Đã báo cáo bằng văn bản", "hoa")
    assert (excused.kind, excused.unit_id, excused.decided_by, excused.decided_at) == ("excuse", "cdn-y-te", "hoa",
                                                                                       NOW)
    extended = office.extend("LĐLĐ thị xã Sa Pa", None, at("2024-03-05 17:00"), "hoa")
    assert extended.until == at("2024-03-05 17:00")
    late = office.extend("ldld-sa-pa", None, at("2024-02-28 11:59"), "hoa")  # granted after the fact
    assert late.until == at("2024-02-28 11:59") and [d.id for d in office.repeats(late)] == [extended.id]
    office.revoke(late.id, "hoa")
    status = {u.id: u for u in office.status(None).units}
    assert status["cdn-y-te"].status == "excused"
    assert status["ldld-sa-pa"].deadline == at("2024-03-05 17:00")


def test_missing_never_lists_an_excused_unit_even_with_problems(office: Office) -> None:
    # Sa Pa sent a message without a report: missing, and its latest message has a problem.
    assert "ldld-sa-pa" in {u.id for u in office.missing(None).units}
    office.excuse("ldld-sa-pa", None, "Sáp nhập", "hoa")
    assert "ldld-sa-pa" not in {u.id for u in office.missing(None).units}
    assert "ldld-sa-pa" in {u.id for u in office.status(None).units}


def test_decisions_listed_and_revoked(office: Office) -> None:
    excuse = office.excuse("cdn-y-te", None, "Đã báo cáo bằng văn bản", "hoa")
    assert [d.id for d in office.decisions(None)] == [excuse.id]
    assert [d.id for d in office.decisions("chuyen-de-2024")] == [excuse.id]
    revoked = office.revoke(excuse.id, "lan")
    assert revoked.revoked_by == "lan" and revoked.revoked_at == NOW and not revoked.active
    assert {u.id: u.status for u in office.status(None).units}["cdn-y-te"] == "missing"
    assert office.decisions(None)[0].revoked_at == NOW  # history kept
    with pytest.raises(UsageError, match="already revoked"):
        office.revoke(excuse.id, "lan")
    with pytest.raises(UsageError, match="no decision"):
        office.revoke(9999, "lan")


def test_dismissed_message_leaves_unmatched_until_revoked(office: Office) -> None:
    unmatched = office.status(None).unmatched
    assert [m.from_address for m in unmatched] == ["vanthu.by@yahoo.com"]
    ref = office.show("<by-1@yahoo.com>").reference
    assert ref is not None
    decision = office.dismiss(ref, "thư thử nghiệm", "hoa")
    assert decision.kind == "dismiss" and decision.reference == ref
    assert office.status(None).unmatched == ()
    assert office.show(ref).dismissed
    with pytest.raises(UsageError, match="not an unmatched"):
        office.dismiss("<bt-1@gmail.com>", "", "hoa")
    office.revoke(decision.id, "hoa")
    assert len(office.status(None).unmatched) == 1


def test_link_by_unit_name_re_evaluates_and_can_be_revoked(office: Office) -> None:
    done = office.link_address("Vanthu.BY@yahoo.com", "LĐLĐ huyện Bảo Yên", "hoa")
    assert (done.unit_id, done.reevaluated) == ("ldld-bao-yen", 1)
    assert {u.id: u.status for u in office.status(None).units}["ldld-bao-yen"] == "on_time"
    link = office.decisions(None)[-1]
    assert (link.kind, link.address, link.unit_id) == ("link", "vanthu.by@yahoo.com", "ldld-bao-yen")
    office.revoke(link.id, "hoa")
    assert {u.id: u.status for u in office.status(None).units}["ldld-bao-yen"] == "missing"
    assert len(office.status(None).unmatched) == 1


def test_section_choice_by_heading_survives_re_evaluation_and_revoke_restores_the_finder(office: Office) -> None:
    ref = office.show("<by-1@yahoo.com>").reference
    assert ref is not None
    chosen = office.choose_section(ref, heading="i. tình hình chung", actor="hoa")
    assert chosen.section is not None and chosen.section.found
    assert chosen.section.heading == "I. TÌNH HÌNH CHUNG" and chosen.section.chosen_by == "staff"
    assert chosen.section.text == "Công tác tuyên truyền được triển khai kịp thời."
    # Linking the sender re-evaluates the message: the staff's choice stays, no second acknowledgement.
    office.link_address("vanthu.by@yahoo.com", "ldld-bao-yen", "hoa")
    again = office.show(ref)
    assert again.unit_id == "ldld-bao-yen"
    assert again.section is not None and again.section.heading == "I. TÌNH HÌNH CHUNG"
    assert again.section.chosen_by == "staff"
    assert again.acknowledgement == chosen.acknowledgement
    section_decision = next(d for d in office.decisions(None) if d.kind == "section")
    assert section_decision.heading == "I. TÌNH HÌNH CHUNG" and section_decision.reference == ref
    office.revoke(section_decision.id, "hoa")
    back = office.show(ref)
    assert back.section is not None and back.section.heading == HEADING and back.section.chosen_by == "finder"


def test_section_choice_by_candidate_and_none(office: Office) -> None:
    view = office.show("<bt-1@gmail.com>")
    assert view.reference is not None and view.section is not None
    with pytest.raises(UsageError, match="candidate"):
        office.choose_section(view.reference, candidate=len(view.section.candidates) + 1, actor="hoa")
    first = office.choose_section(view.reference, candidate=1, actor="hoa")
    assert first.section is not None and first.section.heading == HEADING and first.section.chosen_by == "staff"
    assert first.problems == ()
    assert first.section.candidates == view.section.candidates  # still offered after a staff choice
    none = office.choose_section(view.reference, none=True, actor="hoa")
    assert none.section is not None and not none.section.found and none.section.chosen_by == "staff"
    assert "section_not_found" in none.problems
    with pytest.raises(UsageError, match="no heading"):
        office.choose_section(view.reference, heading="IX. KHÔNG CÓ", actor="hoa")


def test_export_through_the_registry(office: Office) -> None:
    assert office.export(None, "csv").startswith("\ufeffSTT".encode())
    with pytest.raises(UsageError, match="format"):
        office.export(None, "pdf")


def test_attachment_bytes_by_reference(office: Office) -> None:
    ref = office.show("<bt-1@gmail.com>").reference
    assert ref is not None
    got = office.attachment(ref, 0)
    assert got.filename == "Bao cao.docx" and got.data.startswith(b"PK")
    with pytest.raises(UsageError):
        office.attachment(ref, 5)


def test_unit_messages_oldest_first(office: Office) -> None:
    office.link_address("vanthu.by@yahoo.com", "ldld-bao-yen", "hoa")
    drop(Path(office.cfg.path).parent, message("ldldbaoyen@gmail.com", at("2024-02-23 08:00"),
                                               docx=report_docx("", HEADING, STUDY)), "4")
    office.link_address("ldldbaoyen@gmail.com", "ldld-bao-yen", "hoa")
    office.app.run_once()
    assert [m.from_address for m in office.unit_messages("ldld-bao-yen")] == [
        "vanthu.by@yahoo.com", "ldldbaoyen@gmail.com"]


# -- staff dates ---------------------------------------------------------------------

VN = dt.timezone(dt.timedelta(hours=7))


@pytest.mark.parametrize(("text", "expected", "end_of_day"), [
    ("05/03/2024", dt.datetime(2024, 3, 5, 23, 59, 59, tzinfo=VN), True),
    ("5/3/2024 17:00", dt.datetime(2024, 3, 5, 17, 0, tzinfo=VN), False),
    ("05/03/2024 17h30", dt.datetime(2024, 3, 5, 17, 30, tzinfo=VN), False),
    ("2024-03-05", dt.datetime(2024, 3, 5, 23, 59, 59, tzinfo=VN), True),
    ("2024-03-05T17:00", dt.datetime(2024, 3, 5, 17, 0, tzinfo=VN), False),
    ("2024-03-05T17:00+00:00", dt.datetime(2024, 3, 5, 17, 0, tzinfo=dt.UTC), False),
])
def test_parse_staff_datetime(text: str, expected: dt.datetime, end_of_day: bool) -> None:
    assert parse_staff_datetime(text, VN, NOW) == (expected, end_of_day)


@pytest.mark.parametrize("text", ["31/02/2024", "mai", "05/03/0224", ""])
def test_parse_staff_datetime_refuses(text: str) -> None:
    with pytest.raises(UsageError):
        parse_staff_datetime(text, VN, NOW)


# -- the CLI over the same use cases -------------------------------------------------------


def test_cli_show_section_choose_decisions_and_one_line_answers(tmp_path: Path) -> None:
    write_toml(tmp_path)
    drop(tmp_path, message("ldldbaothang@gmail.com", at("2024-02-20 08:00"), docx=report_docx("", HEADING, STUDY),
                           msgid="<bt@gmail.com>"), "1")
    assert run_cli(tmp_path, "run", "--once")[0] == 0
    status = json.loads(run_cli(tmp_path, "status", "--json")[1])
    section = status["units"][0]["latest"]["section"]
    assert section["confidence"] == "sure" and section["chosen_by"] == "finder"
    assert section["candidates"][0] == {"heading": HEADING, "score": section["candidates"][0]["score"]}
    ref = status["units"][0]["latest"]["reference"]

    code, out = run_cli(tmp_path, "show", ref)
    assert code == 0
    assert f"Thư {ref}" in out and "LĐLĐ huyện Bảo Thắng (ldld-bao-thang)" in out and f"1. {HEADING}" in out
    assert "Thư báo nhận: tới ldldbaothang@gmail.com" in out

    code, out = run_cli(tmp_path, "excuse", "LĐLĐ huyện Bảo Yên", "--reason", "Sáp nhập")
    assert code == 0 and out.count("\n") == 1 and "Đã miễn nộp cho LĐLĐ huyện Bảo Yên (ldld-bao-yen)" in out
    code, out = run_cli(tmp_path, "extend", "lđlđ huyện bảo thắng", "--until", "05/03/2024")
    assert code == 0 and out.count("\n") == 1 and "đến hết ngày 05/03/2024 (quyết định" in out
    code, out = run_cli(tmp_path, "extend", "ldld-bao-thang", "--until", "06/03/2024 17:00")
    assert code == 0 and "đến 17:00 06/03/2024 (quyết" in out and out.count("hết ngày") == 1  # in the notice
    assert "Lưu ý: quyết định này trùng với quyết định #2 vẫn đang có hiệu lực" in out
    code, out = run_cli(tmp_path, "extend", "ldld-bao-thang", "--until", "01/02/2024")  # granted after the fact
    assert code == 0 and "đến hết ngày 01/02/2024" in out and "Thời điểm này đã qua" in out
    code, out = run_cli(tmp_path, "section", "choose", ref, "--heading", "I. TÌNH HÌNH CHUNG")
    assert code == 0 and "I. TÌNH HÌNH CHUNG" in out
    chosen = json.loads(run_cli(tmp_path, "status", "--json")[1])["units"][0]["latest"]["section"]
    assert chosen["chosen_by"] == "staff" and chosen["heading"] == "I. TÌNH HÌNH CHUNG"

    code, out = run_cli(tmp_path, "decisions")
    lines = out.splitlines()
    assert code == 0 and len(lines) == 5
    assert "miễn nộp" in lines[0] and all("gia hạn" in line for line in lines[1:4])
    assert "chọn mục" in lines[4] and "bởi hoa" in lines[4]
    first_id = lines[0].split(" ", 1)[0].lstrip("#")
    code, out = run_cli(tmp_path, "decisions", "revoke", first_id)
    assert code == 0 and "đã huỷ bởi hoa lúc 12:00 28/02/2024" in out
    assert run_cli(tmp_path, "decisions", "revoke", first_id)[0] == 2
    assert run_cli(tmp_path, "show", "TN24-99999")[0] == 2
    assert run_cli(tmp_path, "units", "link", "x@y.vn", "không có đơn vị này")[0] == 2
    code, out = run_cli(tmp_path, "units", "link", "vanthu@yahoo.com", "Liên đoàn Lao động huyện Bảo Thắng")
    assert code == 0 and "Đã đăng ký địa chỉ vanthu@yahoo.com cho LĐLĐ huyện Bảo Thắng (ldld-bao-thang)" in out
