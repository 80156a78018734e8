"""End to end over a Maildir: identification, `units link`, excuse/extend, several campaigns, status output."""
from __future__ import annotations

import json
from pathlib import Path

from rich.console import Console
from staffkit import (
    SECTION_A,
    SECTION_B,
    STUDY,
    at,
    campaign,
    drop,
    make_app,
    make_config,
    message,
    report_docx,
    run_cli,
    write_toml,
)

from intake.processor.config import load_config
from intake.processor.staff.report import print_status_table
from intake.store.models import Outgoing, OutgoingKind


def _run(tmp: Path, **kw: object) -> dict[str, object]:
    cfg = make_config(tmp, **kw)  # type: ignore[arg-type]
    app = make_app(cfg)
    try:
        app.run_once()
        return {u.id: u for u in app.status(None).units}  # type: ignore[return-value]
    finally:
        app.store.close()


def test_identification_by_address_header_display_name_and_gmail_variant(tmp_path: Path) -> None:
    doc = report_docx("LĐLĐ huyện Bảo Yên", "II. ĐÁNH GIÁ KẾT QUẢ HỌC TẬP CHUYÊN ĐỀ NĂM 2024", STUDY)
    anonymous = report_docx("", "II. ĐÁNH GIÁ KẾT QUẢ HỌC TẬP CHUYÊN ĐỀ NĂM 2024", STUDY)
    drop(tmp_path, message("LDLD.Bao.Thang+bc@gmail.com", at("2024-02-20 08:00"), docx=anonymous), "1")
    drop(tmp_path, message("vanthu.by@yahoo.com", at("2024-02-21 08:00"), docx=doc), "2")
    drop(tmp_path, message("nguyenvana@yahoo.com", at("2024-02-22 08:00"), name="Cong doan nganh Y te",
                           docx=anonymous), "3")
    units = _run(tmp_path)
    bt, by, yt = units["ldld-bao-thang"], units["ldld-bao-yen"], units["cdn-y-te"]
    assert bt.status == "on_time" and bt.latest.match == "address" and bt.latest.problems == ()  # type: ignore[attr-defined]
    assert by.status == "on_time" and by.latest.match == "document_header"  # type: ignore[attr-defined]
    assert "sender_not_registered" in by.latest.problems  # type: ignore[attr-defined]
    assert yt.status == "on_time" and yt.latest.match == "display_name"  # type: ignore[attr-defined]
    assert units["ldld-sa-pa"].status == "missing"  # type: ignore[attr-defined]


def test_units_link_re_evaluates_without_a_second_acknowledgement(tmp_path: Path) -> None:
    write_toml(tmp_path)
    anonymous = report_docx("", "II. ĐÁNH GIÁ KẾT QUẢ HỌC TẬP CHUYÊN ĐỀ NĂM 2024", STUDY)
    drop(tmp_path, message("Van.Thu.BaoYen@gmail.com", at("2024-02-21 08:00"), docx=anonymous), "1")
    assert run_cli(tmp_path, "run", "--once")[0] == 0
    _code, out = run_cli(tmp_path, "status", "--json")
    data = json.loads(out)
    assert [u["status"] for u in data["units"] if u["id"] == "ldld-bao-yen"] == ["missing"]
    assert [m["from"] for m in data["unmatched"]] == ["Van.Thu.BaoYen@gmail.com"]
    # Linked under another spelling of the same Gmail address.
    assert run_cli(tmp_path, "units", "link", "vanthubaoyen+x@gmail.com", "ldld-bao-yen")[0] == 0
    data = json.loads(run_cli(tmp_path, "status", "--json")[1])
    by = next(u for u in data["units"] if u["id"] == "ldld-bao-yen")
    assert by["status"] == "on_time" and by["latest"]["problems"] == []
    assert data["unmatched"] == []
    app = make_app(load_config(tmp_path / "intake.toml", {}))
    with app.store.session() as s:
        acks = s.query(Outgoing).filter_by(kind=OutgoingKind.ACK).count()
    app.store.close()
    assert acks == 1
    assert len(list((tmp_path / "outbox").glob("*-ack.eml"))) == 1


def test_excuse_and_extend_recorded_and_shown(tmp_path: Path) -> None:
    write_toml(tmp_path)
    doc = report_docx("", "II. ĐÁNH GIÁ KẾT QUẢ HỌC TẬP CHUYÊN ĐỀ NĂM 2024", STUDY)
    drop(tmp_path, message("ldldbaothang@gmail.com", at("2024-03-02 08:00"), docx=doc), "1")
    assert run_cli(tmp_path, "run", "--once")[0] == 0
    data = json.loads(run_cli(tmp_path, "missing", "--json")[1])
    assert {u["id"]: u["status"] for u in data["units"]} == {
        "ldld-bao-thang": "late", "ldld-bao-yen": "missing", "cdn-y-te": "missing"}
    assert run_cli(tmp_path, "excuse", "cdn-y-te", "--reason", "Đã báo cáo bằng văn bản")[0] == 0
    assert run_cli(tmp_path, "extend", "ldld-bao-thang", "--until", "2024-03-05T17:00")[0] == 0
    data = json.loads(run_cli(tmp_path, "status", "--json")[1])
    assert {u["id"]: u["status"] for u in data["units"]} == {
        "ldld-bao-thang": "on_time", "ldld-bao-yen": "missing", "cdn-y-te": "excused"}
    missing = json.loads(run_cli(tmp_path, "missing", "--json")[1])
    assert [u["id"] for u in missing["units"]] == ["ldld-bao-yen"]
    # A later extension replaces the earlier one: the latest of each kind wins.
    assert run_cli(tmp_path, "extend", "ldld-bao-thang", "--until", "2024-03-01T17:00")[0] == 0
    app = make_app(load_config(tmp_path / "intake.toml", {}))
    try:
        status = app.status(None)
        console = Console(record=True, width=200)
        print_status_table(status, app.cfg.timezone, console)
        narrow = Console(record=True, width=80)  # an 80-column terminal keeps every fact
        print_status_table(status, app.cfg.timezone, narrow)
    finally:
        app.store.close()
    narrow_text = narrow.export_text()
    folded = " ".join(narrow_text.split())
    assert max(len(line) for line in narrow_text.splitlines()) <= 80
    assert "Ghi chú: Lý do miễn nộp: Đã báo cáo bằng văn bản." in folded
    assert "Ghi chú: Gia hạn đến 17:00 01/03/2024." in folded and "08:00 02/03/2024" in folded
    units = {u.id: u for u in status.units}
    assert units["ldld-bao-thang"].status == "late"
    assert units["cdn-y-te"].decision.decided_by == "hoa"
    text = console.export_text()
    assert "Lý do miễn nộp: Đã báo cáo bằng văn bản." in text
    assert "Gia hạn đến 17:00 01/03/2024." in text
    assert "08:00 02/03/2024" in text  # received time in local time
    assert "Chưa gửi: 1  Đúng hạn: 0  Quá hạn: 1  Miễn nộp: 1" in text
    assert "[chuyen-de-2024]" in text


def test_several_campaigns_by_section_then_by_time(tmp_path: Path) -> None:
    camps = [campaign("chuyen-de-2024", SECTION_A, opens="2024-01-22T00:00:00+07:00",
                      deadline="2024-02-29T00:00:00+07:00"),
             campaign("thi-dua-2024", SECTION_B, opens="2024-02-01T00:00:00+07:00",
                      deadline="2024-03-15T00:00:00+07:00", units=["group:huyen"])]
    section_b = report_docx("", "III. KẾT QUẢ PHONG TRÀO THI ĐUA GIỎI VIỆC NƯỚC, ĐẢM VIỆC NHÀ", STUDY)
    no_section = report_docx("", "III. NHIỆM VỤ THỜI GIAN TỚI", "Tiếp tục triển khai.")
    # Contains campaign B's section although A is open and due sooner.
    drop(tmp_path, message("ldldbaothang@gmail.com", at("2024-02-10 08:00"), docx=section_b), "1")
    # No section: the open campaign with the earliest deadline (A).
    drop(tmp_path, message("ldldsapa@gmail.com", at("2024-02-10 09:00"), docx=no_section), "2")
    # No section, after A's deadline: B, still open.
    drop(tmp_path, message("ldldbaoyen@gmail.com", at("2024-03-05 09:00"), docx=no_section), "3")
    cfg = make_config(tmp_path, campaigns=camps)
    app = make_app(cfg)
    try:
        app.run_once()
        a = {u.id: u.status.value for u in app.status("chuyen-de-2024").units}
        b = {u.id: u.status.value for u in app.status("thi-dua-2024").units}
    finally:
        app.store.close()
    assert a == {"ldld-bao-thang": "missing", "ldld-bao-yen": "missing", "ldld-sa-pa": "on_time",
                 "cdn-y-te": "missing"}
    assert b == {"ldld-bao-thang": "on_time", "ldld-bao-yen": "on_time", "ldld-sa-pa": "missing"}

    # cdn-y-te is not expected by B: its report after A's deadline still goes to A (late), not to B.
    drop(tmp_path, message("nguyenvana@yahoo.com", at("2024-03-06 09:00"), name="CĐN Y tế", docx=no_section), "4")
    app = make_app(cfg)
    try:
        app.run_once()
        assert {u.id: u.status.value for u in app.status("chuyen-de-2024").units}["cdn-y-te"] == "late"
        assert "cdn-y-te" not in {u.id for u in app.status("thi-dua-2024").units}
    finally:
        app.store.close()
