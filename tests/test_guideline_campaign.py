"""From the guideline to a campaign (issues 25 and 24): `campaign from-guideline`, `campaign add
--from-guideline`, and the guideline's outline reaching the finder as the campaign's template."""
from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from docx import Document
from staffkit import at, drop, make_config, message, run_cli, write_toml

from intake.parsers.errors import ConfigError
from intake.processor.app import App, open_store
from intake.processor.config import load_config
from intake.processor.teaching import campaign_guide

FIXTURES = Path(__file__).resolve().parent / "fixtures"
SEED = FIXTURES / "guideline-2024-seed.txt"
WITH_OUTLINE = FIXTURES / "guidelines" / "ke-hoach-de-cuong-nghi-quyet.txt"
UNCLEAR = FIXTURES / "guidelines" / "cong-van-so-ket-khong-ro-han.txt"
NOW = at("2025-11-20 09:00")
REQUIRED = "2. Đánh giá riêng về kết quả thực hiện các chỉ tiêu Nghị quyết giai đoạn 2023-2025"


def ready(tmp: Path) -> None:
    write_toml(tmp)
    for sub in ("new", "cur", "tmp"):
        (tmp / "maildir" / sub).mkdir(parents=True, exist_ok=True)
    assert run_cli(tmp, "run", "--once")[0] == 0


def test_from_guideline_prints_what_a_campaign_needs(tmp_path: Path) -> None:
    ready(tmp_path)
    code, out = run_cli(tmp_path, "campaign", "from-guideline", str(SEED), now=at("2024-01-25 09:00"))
    assert code == 0
    assert "Hạn báo cáo: 29/02/2024 00:00:00 +0700 («trước ngày 29/2/2024»)" in out
    code, out = run_cli(tmp_path, "campaign", "from-guideline", str(WITH_OUTLINE), "--json", now=NOW)
    facts = json.loads(out)
    assert code == 0 and facts["deadline"] == "2025-12-31T17:00:00+07:00"
    assert facts["address"] == "bantochucldld@laocai.gov.vn"
    assert facts["section_title"].startswith("Đánh giá riêng về kết quả thực hiện các chỉ tiêu")
    assert [i["number"] for i in facts["outline"]][:3] == ["I.", "1.", "2."]


def test_add_from_guideline_takes_its_values_flags_win_and_the_outline_is_kept(tmp_path: Path, capsys) -> None:
    ready(tmp_path)
    code, out = run_cli(tmp_path, "campaign", "add", "--id", "so-ket-nq", "--from-guideline", str(WITH_OUTLINE),
                        "--title", "Sơ kết Nghị quyết XVII", now=NOW)
    assert code == 0, capsys.readouterr().err
    assert "Sơ kết Nghị quyết XVII" in out and "hạn 17:00 31/12/2025" in out
    assert f"[{REQUIRED}]" in out          # the required heading, marked in the outline
    cfg = load_config(tmp_path / "intake.toml", {})
    app = App(cfg, open_store(cfg))
    camp = app.catalog().campaign("so-ket-nq")
    assert camp.opens == at("2025-11-10 00:00")  # the guideline's own date
    assert camp.outline[camp.outline_required or 0].text == REQUIRED and camp.outline[0].level == 1
    assert [(d.kind, d.decided_by) for d in app.store.decisions("so-ket-nq")][-1:] == [("campaign_add", "hoa")]


def test_an_unclear_deadline_exits_2_listing_the_dates_and_the_option(tmp_path: Path, capsys) -> None:
    ready(tmp_path)
    code, _ = run_cli(tmp_path, "campaign", "add", "--id", "so-ket", "--from-guideline", str(UNCLEAR), now=NOW)
    err = capsys.readouterr().err
    assert code == 2
    assert "hạn nộp: hãy ghi --deadline" in err and "các ngày trong văn bản:" in err
    assert "«trước ngày 15/6/2025»" in err and "«trước ngày 15/11/2025»" in err
    assert "mục bắt buộc: hãy ghi --section" in err
    code, out = run_cli(tmp_path, "campaign", "add", "--id", "so-ket", "--from-guideline", str(UNCLEAR),
                        "--deadline", "15/06/2025", "--section", "Kết quả phong trào thi đua", now=NOW)
    assert code == 0, capsys.readouterr().err
    assert "hạn hết ngày 15/06/2025" in out and "mở 00:00 02/04/2025" in out


def test_outline_from_and_a_named_required_heading(tmp_path: Path, capsys) -> None:
    ready(tmp_path)
    code, out = run_cli(tmp_path, "campaign", "add", "--id", "nq", "--title", "Sơ kết", "--opens", "10/11/2025",
                        "--deadline", "31/12/2025", "--section", "Hạn chế", "--outline-from", str(WITH_OUTLINE),
                        "--outline-required", "III.", now=NOW)
    assert code == 0, capsys.readouterr().err
    assert "[III. HẠN CHẾ, NGUYÊN NHÂN]" in out
    assert run_cli(tmp_path, "campaign", "edit", "nq", "--outline-required", "không có", now=NOW)[0] == 2
    assert "--outline-required" in capsys.readouterr().err


def config_with_outline(tmp: Path, **extra: object):
    from staffkit import campaign
    camp = campaign("nq", "Đánh giá riêng về kết quả thực hiện các chỉ tiêu Nghị quyết giai đoạn 2023-2025",
                    opens="2025-11-10T00:00:00+07:00", deadline="2025-12-31T17:00:00+07:00")
    camp.update(extra)
    return make_config(tmp, campaigns=[camp])


TEMPLATE = ["I. ĐẶC ĐIỂM TÌNH HÌNH", "1. Thuận lợi", "2. Khó khăn", "II. KẾT QUẢ THỰC HIỆN NGHỊ QUYẾT",
            "1. Công tác tuyên truyền, quán triệt Nghị quyết", REQUIRED, "a) Chỉ tiêu phát triển đoàn viên",
            "III. HẠN CHẾ, NGUYÊN NHÂN", "IV. PHƯƠNG HƯỚNG, NHIỆM VỤ ĐẾN NĂM 2028"]


def test_config_outline_levels_from_numbering_and_bad_keys_named(tmp_path: Path) -> None:
    camp = config_with_outline(tmp_path, outline=TEMPLATE).campaigns[0]
    assert [h.level for h in camp.outline] == [1, 2, 2, 1, 2, 2, 3, 1, 1]
    assert camp.outline_required == 5
    with pytest.raises(ConfigError, match="outline"):
        config_with_outline(tmp_path, outline=["ĐẶC ĐIỂM TÌNH HÌNH"])
    with pytest.raises(ConfigError, match="outline_required"):
        config_with_outline(tmp_path, outline=TEMPLATE, outline_required="VII.")
    assert campaign_guide(config_with_outline(tmp_path).campaigns[0], ()) is None  # no outline: nothing changes


def unit_report(part2: str, item2: str) -> bytes:
    """A report that follows the đề cương, its part II and item II.2 worded its own way."""
    doc = Document()
    for line in ("LIÊN ĐOÀN LAO ĐỘNG HUYỆN BẢO THẮNG", "BÁO CÁO",
                 "Sơ kết 5 năm thực hiện Nghị quyết Đại hội XVII Công đoàn tỉnh"):
        doc.add_paragraph(line)
    parts = [("I. ĐẶC ĐIỂM TÌNH HÌNH", ["1. Thuận lợi", "Đơn vị có 1.250 đoàn viên.", "2. Khó khăn", "Địa bàn rộng."]),
             (part2, ["1. Công tác tuyên truyền, quán triệt Nghị quyết", "Tổ chức 14 hội nghị quán triệt.", item2,
                      "Phát triển 320 đoàn viên, đạt 106% chỉ tiêu Nghị quyết; thành lập 6 công đoàn cơ sở."]),
             ("III. HẠN CHẾ, NGUYÊN NHÂN", ["Một số chỉ tiêu chưa đạt."]),
             ("IV. PHƯƠNG HƯỚNG, NHIỆM VỤ ĐẾN NĂM 2028", ["Tiếp tục."]), ("V. ĐỀ XUẤT, KIẾN NGHỊ", ["Không."])]
    for heading, body in parts:
        doc.add_paragraph().add_run(heading).bold = True
        for text in body:
            if text[:2] in ("1.", "2."):
                doc.add_paragraph().add_run(text).bold = True
            else:
                doc.add_paragraph(text)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


REPORTS = {  # sender: (part II, item II.2), none worded like the template
    "ldldbaothang@gmail.com": ("II. KẾT QUẢ ĐẠT ĐƯỢC", "2. Kết quả cụ thể"),
    "ldldbaoyen@gmail.com": ("II. KẾT QUẢ THỰC HIỆN NGHỊ QUYẾT", "2. Về các chỉ tiêu"),
    "ldldsapa@gmail.com": ("II. KẾT QUẢ THỰC HIỆN NGHỊ QUYẾT", "2. Đánh giá kết quả"),
}


def _sections(tmp: Path, **extra: object) -> dict[str, tuple[bool, str | None, str]]:
    cfg = config_with_outline(tmp, **extra)
    app = App(cfg, open_store(cfg), clock=lambda: at("2025-12-20 09:00"))
    for k, (sender, (part, item)) in enumerate(REPORTS.items()):
        drop(tmp, message(sender, at("2025-12-15 08:00"), docx=unit_report(part, item), msgid=f"<r{k}@gmail.com>"),
             str(k))
    app.run_once()
    out = {}
    for k, sender in enumerate(REPORTS):
        view = app.store.message_view(app.store.find_message(f"<r{k}@gmail.com>") or 0)
        assert view.section is not None
        out[sender] = (view.section.found, view.section.heading, str(view.section.confidence))
    return out


def test_the_guidelines_outline_finds_the_required_part_however_worded(tmp_path: Path) -> None:
    """Through the pipeline (CampaignQuery's guide): without the outline the reports' item II.2 is
    not found or left to review; with it, the item in the template's place is found."""
    (tmp_path / "plain").mkdir()
    (tmp_path / "taught").mkdir()
    plain = _sections(tmp_path / "plain")
    taught = _sections(tmp_path / "taught", outline=TEMPLATE)
    assert not any(found and conf == "sure" and head == item
                   for (found, head, conf), (_, item) in zip(plain.values(), REPORTS.values(), strict=True))
    for sender, (_, item) in REPORTS.items():
        found, heading, _ = taught[sender]
        assert found and heading == item, (sender, taught[sender])
    assert sum(conf == "sure" for _, _, conf in taught.values()) >= 2
