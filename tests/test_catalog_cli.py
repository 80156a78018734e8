"""Staff's catalog on the command line: `campaign list|add|edit|close`, `units add|edit|remove|import`,
the decisions they leave, and the pipeline and reminders taking the changes without a restart."""
from __future__ import annotations

import io
import sys
from pathlib import Path

from openpyxl import Workbook
from opskit import INTAKE, Pty, base_env
from staffkit import SECTION_A, STUDY, at, drop, message, report_docx, run_cli, write_toml

from intake.processor.app import App, open_store
from intake.processor.config import load_config

NOW = at("2024-02-28 12:00")
SECTION_B = "Kết quả thực hiện phong trào thi đua Giỏi việc nước, đảm việc nhà năm 2024"
ROSTER_CSV = ("id,name,aliases,emails,group\n"
              "ldld-bac-ha,LĐLĐ huyện Bắc Hà,Liên đoàn Lao động huyện Bắc Hà,ldldbacha@gmail.com,huyen\n"
              "ldld-si-ma-cai,LĐLĐ huyện Si Ma Cai,,ldldsimacai@gmail.com;vanthu.smc@gmail.com,huyen\n"
              ",Công đoàn không mã,,,nganh\n"
              "cdn-giao-duc,Công đoàn ngành Giáo dục,,not-an-address,nganh\n")


def write_bare_toml(tmp: Path) -> None:
    """A config with no [[units]] and no [[campaigns]]: staff create them."""
    write_toml(tmp)
    text = (tmp / "intake.toml").read_text(encoding="utf-8")
    (tmp / "intake.toml").write_text(text[:text.index("[[units]]")], encoding="utf-8")
    for sub in ("new", "cur", "tmp"):
        (tmp / "maildir" / sub).mkdir(parents=True, exist_ok=True)


def ready(tmp: Path) -> None:
    """staffkit's config (three units, one campaign from the config) and its store."""
    write_toml(tmp)
    for sub in ("new", "cur", "tmp"):
        (tmp / "maildir" / sub).mkdir(parents=True, exist_ok=True)
    assert run_cli(tmp, "run", "--once")[0] == 0


def add_campaign(tmp: Path, cid: str = "thi-dua-2024", section: str = SECTION_B, *extra: str) -> tuple[int, str]:
    return run_cli(tmp, "campaign", "add", "--id", cid, "--title", "Báo cáo thi đua năm 2024",
                   "--opens", "22/01/2024", "--deadline", "29/02/2024", "--section", section, *extra, now=NOW)


def test_a_config_without_campaigns_is_valid_and_commands_say_to_add_one(tmp_path: Path, capsys) -> None:
    write_bare_toml(tmp_path)
    assert run_cli(tmp_path, "run", "--once")[0] == 0
    code, _ = run_cli(tmp_path, "status")
    assert code == 2
    assert "intake campaign add" in capsys.readouterr().err
    assert run_cli(tmp_path, "campaign", "list") == (0, "Chưa có đợt báo cáo nào: tạo một đợt bằng "
                                                        "`intake campaign add`.\n")


def test_campaign_add_list_edit_close_and_the_decisions(tmp_path: Path, capsys) -> None:
    ready(tmp_path)
    code, out = add_campaign(tmp_path, "thi-dua-2024", SECTION_B, "--units", "ldld-bao-thang,ldld-bao-yen",
                             "--remind", "-3d,-1d", "--remind", "+1d")
    assert code == 0, capsys.readouterr().err
    assert "mở 00:00 22/01/2024, hạn hết ngày 29/02/2024" in out  # a date alone: the end of that day
    assert "nhắc: -3d, -1d, +1d" in out
    code, out = run_cli(tmp_path, "campaign", "list", now=NOW)
    assert "chuyen-de-2024 — Báo cáo Chuyên đề 2024 [đang nhận; từ tệp cấu hình]" in out
    assert "thi-dua-2024 — Báo cáo thi đua năm 2024 [đang nhận; do cán bộ tạo]" in out
    assert "đơn vị: ldld-bao-thang, ldld-bao-yen" in out
    code, out = run_cli(tmp_path, "campaign", "edit", "thi-dua-2024", "--deadline", "05/03/2024 17:00", now=NOW)
    assert code == 0 and "hạn: hết ngày 29/02/2024 → 17:00 05/03/2024" in out
    assert run_cli(tmp_path, "campaign", "edit", "chuyen-de-2024", "--title", "x")[0] == 2
    assert "tệp cấu hình" in capsys.readouterr().err
    assert run_cli(tmp_path, "campaign", "add", "--id", "bad", "--title", "x", "--opens", "01/03/2024",
                   "--deadline", "01/02/2024", "--section", "y")[0] == 2
    assert "--deadline: hạn nộp phải sau ngày mở đợt" in capsys.readouterr().err
    assert run_cli(tmp_path, "campaign", "add", "--id", "bad", "--title", "x", "--opens", "01/01/2024",
                   "--deadline", "01/02/2024", "--section", "y", "--units", "group:khong-co")[0] == 2
    assert "không đơn vị nào thuộc nhóm" in capsys.readouterr().err
    assert run_cli(tmp_path, "campaign", "close", "thi-dua-2024", user="lan")[0] == 0
    assert "[đã kết thúc; do cán bộ tạo]" in run_cli(tmp_path, "campaign", "list")[1]
    code, out = run_cli(tmp_path, "decisions", "--campaign", "thi-dua-2024")
    lines = out.splitlines()
    assert len(lines) == 3
    assert "tạo đợt báo cáo — đợt thi-dua-2024 — nội dung: Báo cáo thi đua năm 2024 — bởi hoa" in lines[0]
    assert "sửa đợt báo cáo" in lines[1] and "kết thúc đợt báo cáo" in lines[2] and "bởi lan" in lines[2]
    decision_id = lines[0].split()[0].lstrip("#")
    assert run_cli(tmp_path, "decisions", "revoke", decision_id)[0] == 2
    assert "không hủy được" in capsys.readouterr().err


def test_units_add_edit_remove(tmp_path: Path, capsys) -> None:
    ready(tmp_path)
    code, out = run_cli(tmp_path, "units", "add", "ldld-bac-ha", "--name", "LĐLĐ huyện Bắc Hà",
                        "--email", "LDLDBacHa@gmail.com", "--alias", "Liên đoàn Lao động huyện Bắc Hà",
                        "--group", "huyen")
    assert code == 0 and out == "Đã thêm đơn vị LĐLĐ huyện Bắc Hà (ldld-bac-ha), địa chỉ ldldbacha@gmail.com.\n"
    listed = run_cli(tmp_path, "units", "list")[1].splitlines()
    assert listed[0].endswith("từ tệp cấu hình")
    assert listed[-1] == "ldld-bac-ha\tLĐLĐ huyện Bắc Hà\thuyen\tldldbacha@gmail.com\tdo cán bộ tạo"
    assert run_cli(tmp_path, "units", "add", "ldld-x", "--name", "X", "--email", "ldldbaothang@gmail.com")[0] == 2
    assert "đã đăng ký cho đơn vị LĐLĐ huyện Bảo Thắng" in capsys.readouterr().err
    code, out = run_cli(tmp_path, "units", "edit", "ldld-bac-ha", "--name", "Liên đoàn Lao động huyện Bắc Hà")
    assert code == 0 and "tên: LĐLĐ huyện Bắc Hà → Liên đoàn Lao động huyện Bắc Hà" in out
    assert run_cli(tmp_path, "units", "edit", "ldld-bao-thang", "--name", "x")[0] == 2
    assert "lấy từ tệp cấu hình: chỉ sửa được trong tệp cấu hình" in capsys.readouterr().err
    assert run_cli(tmp_path, "units", "remove", "ldld-bao-thang")[0] == 2
    assert run_cli(tmp_path, "units", "remove", "ldld-bac-ha")[0] == 0
    assert "ldld-bac-ha" not in run_cli(tmp_path, "units", "list")[1]
    out = run_cli(tmp_path, "decisions")[1]
    assert "thêm đơn vị — Liên đoàn Lao động huyện Bắc Hà (ldld-bac-ha)" in out
    assert "bỏ đơn vị khỏi danh sách — Liên đoàn Lao động huyện Bắc Hà (ldld-bac-ha)" in out


def test_import_previews_then_writes_only_good_rows(tmp_path: Path, capsys) -> None:
    ready(tmp_path)
    roster = tmp_path / "don-vi.csv"
    roster.write_text("\ufeff" + ROSTER_CSV, encoding="utf-8")
    code, out = run_cli(tmp_path, "units", "import", str(roster), "--dry-run")
    assert code == 0
    assert out.splitlines() == [
        "Xem trước don-vi.csv:",
        "  dòng 2: mới LĐLĐ huyện Bắc Hà (ldld-bac-ha)",
        "  dòng 3: mới LĐLĐ huyện Si Ma Cai (ldld-si-ma-cai)",
        "  dòng 4: lỗi Công đoàn không mã (): thiếu mã đơn vị (cột id)",
        "  dòng 5: lỗi Công đoàn ngành Giáo dục (cdn-giao-duc): địa chỉ thư không hợp lệ: \"not-an-address\"",
        "Tổng: 2 mới, 0 thay đổi, 0 không đổi, 2 lỗi.",
        "Các dòng lỗi sẽ không được ghi.",
        "Chỉ xem trước (--dry-run): chưa ghi gì."]
    assert "ldld-bac-ha" not in run_cli(tmp_path, "units", "list")[1]
    # Not a terminal (a script, SPEC's plain `units import FILE`): the preview is printed, then the valid rows written.
    code, out = run_cli(tmp_path, "units", "import", str(roster))
    assert out.splitlines()[0] == "Xem trước don-vi.csv:"
    assert code == 0 and out.splitlines()[-1] == "Đã ghi: 2 đơn vị mới, 0 thay đổi; 2 dòng lỗi không ghi."
    listed = run_cli(tmp_path, "units", "list")[1]
    assert "ldld-si-ma-cai\tLĐLĐ huyện Si Ma Cai\thuyen\tldldsimacai@gmail.com; vanthu.smc@gmail.com" in listed
    assert "cdn-giao-duc" not in listed
    # Again, as .xlsx, with one unit changed and one from the config (read-only).
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in (("id", "name", "aliases", "emails", "group"),
                ("ldld-bac-ha", "LĐLĐ huyện Bắc Hà", "Liên đoàn Lao động huyện Bắc Hà", "ldldbacha@gmail.com",
                 "huyen"),
                ("ldld-si-ma-cai", "LĐLĐ huyện Si Ma Cai", None, "ldldsimacai@gmail.com", "huyen"),
                ("ldld-bao-thang", "Bảo Thắng", None, None, None)):
        sheet.append(row)
    data = io.BytesIO()
    book.save(data)
    (tmp_path / "don-vi.xlsx").write_bytes(data.getvalue())
    code, out = run_cli(tmp_path, "units", "import", str(tmp_path / "don-vi.xlsx"), "--yes")
    assert code == 0
    assert "  dòng 2: không đổi LĐLĐ huyện Bắc Hà (ldld-bac-ha)" in out
    assert ("  dòng 3: thay đổi LĐLĐ huyện Si Ma Cai (ldld-si-ma-cai): địa chỉ: ldldsimacai@gmail.com; "
            "vanthu.smc@gmail.com → ldldsimacai@gmail.com") in out
    assert "  dòng 4: lỗi Bảo Thắng (ldld-bao-thang): đơn vị lấy từ tệp cấu hình" in out
    assert out.splitlines()[-1] == "Đã ghi: 0 đơn vị mới, 1 thay đổi; 1 dòng lỗi không ghi."
    decided = run_cli(tmp_path, "decisions")[1]
    assert decided.count("nhập từ tệp don-vi.csv") == 2 and decided.count("nhập từ tệp don-vi.xlsx") == 1


def test_import_on_a_terminal_asks_first(tmp_path: Path) -> None:
    ready(tmp_path)
    roster = tmp_path / "don-vi.csv"
    roster.write_text(ROSTER_CSV, encoding="utf-8")
    argv = [*INTAKE, "--config", str(tmp_path / "intake.toml"), "-q", "units", "import", str(roster)]
    pty = Pty(argv, tmp_path, base_env())
    pty.expect("Ghi 2 đơn vị mới và 0 thay đổi? [c/K]")
    pty.send("k")
    code, shown = pty.finish()
    assert code == 0 and "Đã hủy: chưa ghi gì." in shown
    pty = Pty(argv, tmp_path, base_env())
    pty.expect("[c/K]")
    pty.send("c")
    code, shown = pty.finish()
    assert code == 0 and "Đã ghi: 2 đơn vị mới" in shown


def test_the_pipeline_and_reminders_take_catalog_changes_without_a_restart(tmp_path: Path) -> None:
    write_bare_toml(tmp_path)
    cfg = load_config(tmp_path / "intake.toml", {})
    app = App(cfg, open_store(cfg), clock=lambda: NOW)
    try:
        drop(tmp_path, message("ldldbacha@gmail.com", at("2024-02-20 08:00"), docx=report_docx("", SECTION_B, STUDY),
                               msgid="<early@gmail.com>"), "1")
        app.run_once()  # no campaign, no unit yet: stored and recorded all the same
        early = app.store.message_view(app.store.find_message("<early@gmail.com>") or 0)
        assert early.campaign_id is None and early.unit_id is None
        assert run_cli(tmp_path, "units", "add", "ldld-bac-ha", "--name", "LĐLĐ huyện Bắc Hà",
                       "--email", "ldldbacha@gmail.com")[0] == 0
        assert add_campaign(tmp_path, "thi-dua-2024", SECTION_B, "--remind", "-3d")[0] == 0
        assert add_campaign(tmp_path, "chuyen-de-2024", SECTION_A)[0] == 0
        assert app.store.message_view(early.pk).unit_id == "ldld-bac-ha"  # `units add` placed its sender
        drop(tmp_path, message("ldldbacha@gmail.com", at("2024-02-21 08:00"), docx=report_docx("", SECTION_B, STUDY),
                               msgid="<new@gmail.com>"), "2")
        app.run_once()  # the same App: its pipeline reads the catalog again
        assert app.store.message_view(early.pk).campaign_id == "thi-dua-2024"  # waiting for a campaign: placed
        new = app.store.message_view(app.store.find_message("<new@gmail.com>") or 0)
        assert (new.unit_id, new.campaign_id) == ("ldld-bac-ha", "thi-dua-2024")
        assert new.section is not None and new.section.found
        # Closing: no reminders any more, and no new mail by time (a message without the section).
        assert run_cli(tmp_path, "campaign", "close", "chuyen-de-2024")[0] == 0
        drop(tmp_path, message("ldldbacha@gmail.com", at("2024-02-22 08:00"), msgid="<plain@gmail.com>"), "3")
        app.run_once()
        plain = app.store.message_view(app.store.find_message("<plain@gmail.com>") or 0)
        assert plain.campaign_id == "thi-dua-2024"
        assert run_cli(tmp_path, "campaign", "close", "thi-dua-2024")[0] == 0
        assert app.reminders.scheduled().queued == []
        status = app.status("thi-dua-2024")
        assert [(u.id, u.status) for u in status.units] == [("ldld-bac-ha", "on_time")]  # everything kept
    finally:
        app.close()
        app.store.close()


def test_a_removed_unit_keeps_its_history_and_its_new_mail_is_unmatched(tmp_path: Path) -> None:
    ready(tmp_path)
    drop(tmp_path, message("ldldbaothang@gmail.com", at("2024-02-20 08:00"), docx=report_docx("", SECTION_A, STUDY),
                           msgid="<bt@gmail.com>"), "1")
    assert run_cli(tmp_path, "units", "add", "ldld-bac-ha", "--name", "LĐLĐ huyện Bắc Hà",
                   "--email", "ldldbacha@gmail.com")[0] == 0
    drop(tmp_path, message("ldldbacha@gmail.com", at("2024-02-20 09:00"), docx=report_docx("", SECTION_A, STUDY),
                           msgid="<bh-1@gmail.com>"), "2")
    assert run_cli(tmp_path, "run", "--once")[0] == 0
    assert '"ldld-bac-ha"' in run_cli(tmp_path, "status", "--json")[1]
    assert run_cli(tmp_path, "units", "remove", "ldld-bac-ha")[0] == 0
    assert '"ldld-bac-ha"' not in run_cli(tmp_path, "status", "--json")[1]
    assert "LĐLĐ huyện Bắc Hà" in run_cli(tmp_path, "show", "<bh-1@gmail.com>")[1]  # its history stays
    drop(tmp_path, message("ldldbacha@gmail.com", at("2024-02-21 09:00"), docx=report_docx("", SECTION_A, STUDY),
                           msgid="<bh-2@gmail.com>"), "3")
    assert run_cli(tmp_path, "run", "--once")[0] == 0
    status = run_cli(tmp_path, "status", "--json")[1]
    assert "bh-2@gmail.com" in status  # unmatched, for staff to see


def test_help_of_the_new_commands_is_vietnamese(tmp_path: Path) -> None:
    import subprocess

    shown = subprocess.run([*INTAKE, "campaign", "add", "--help"], capture_output=True, text=True, env=base_env(),
                           cwd=tmp_path, check=False).stdout
    assert "hạn nộp" in shown and "--remind" in shown and "--units" in shown
    assert sys.executable  # the same interpreter as the tests


def test_mail_that_came_before_any_campaign_is_placed_by_the_next_run(tmp_path: Path) -> None:
    write_bare_toml(tmp_path)
    drop(tmp_path, message("ldldbacha@gmail.com", at("2024-02-20 08:00"), docx=report_docx("", SECTION_B, STUDY),
                           msgid="<waiting@gmail.com>"), "1")
    assert run_cli(tmp_path, "run", "--once")[0] == 0
    assert "<waiting@gmail.com>" in run_cli(tmp_path, "show", "<waiting@gmail.com>")[1]
    assert add_campaign(tmp_path)[0] == 0  # while no daemon runs
    assert run_cli(tmp_path, "run", "--once")[0] == 0  # a new process: the catalog is new to it
    shown = run_cli(tmp_path, "status", "--json")[1]
    assert "waiting@gmail.com" in shown  # in the new campaign's unmatched list
