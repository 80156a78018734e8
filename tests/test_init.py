"""`intake init`: questions in Vietnamese on a pseudo-terminal, and the same from flags; the written
intake.toml passes check-config against the real Dovecot and SMTP fixtures."""
from __future__ import annotations

import datetime as dt
import io
import os
import stat
import subprocess
import tomllib
from pathlib import Path

from opskit import INTAKE, Pty, base_env, cli, local
from rich.console import Console
from servers.dovecot import DovecotServer
from servers.smtp import SmtpServer

from intake.processor.config import load_config
from intake.processor.ops.init import Asker, ask_password, env_line, guess_roster

ROSTER_SEMICOLON = (
    "Tên đơn vị;Email;Nhóm\n"
    "LĐLĐ huyện Bảo Thắng;ldldbaothang@gmail.com;huyen\n"
    "LĐLĐ huyện Bát Xát;ldldbatxat@gmail.com, vanthu.batxat@gmail.com;huyen\n"
    "Công đoàn ngành Y tế;;nganh\n"
)
ROSTER_COMMA = "id,name,emails\nldld-sa-pa,LĐLĐ thị xã Sa Pa,ldldsapa@gmail.com\n"
SECTION = "Đánh giá kết quả tổ chức học tập, quán triệt và triển khai Chuyên đề năm 2024"


def _servers(dovecot: DovecotServer, smtp: SmtpServer) -> list[str]:
    return ["--no-input", "--mailbox", "imap", "--email", "intake@example.org", "--imap-host", dovecot.host,
            "--imap-port", str(dovecot.port), "--imap-security", "none", "--imap-username", "intake",
            "--smtp-host", smtp.host, "--smtp-port", str(smtp.port), "--smtp-security", "none",
            "--smtp-username", ""]


def test_a_roster_csv_with_commas_or_semicolons(tmp_path: Path) -> None:
    semi = tmp_path / "semi.csv"
    semi.write_bytes("\ufeff".encode() + ROSTER_SEMICOLON.encode())  # as Excel saves "CSV UTF-8"
    rows = guess_roster(semi)
    assert [r["id"] for r in rows] == ["ldld-huyen-bao-thang", "ldld-huyen-bat-xat", "cong-doan-nganh-y-te"]
    assert rows[1]["emails"] == "ldldbatxat@gmail.com;vanthu.batxat@gmail.com" and rows[2]["group"] == "nganh"
    comma = tmp_path / "comma.csv"
    comma.write_text(ROSTER_COMMA, encoding="utf-8")
    assert guess_roster(comma) == [{"id": "ldld-sa-pa", "name": "LĐLĐ thị xã Sa Pa", "aliases": "",
                                   "emails": "ldldsapa@gmail.com", "group": ""}]


def test_init_from_flags_passes_check_config(dovecot: DovecotServer, smtp_server: SmtpServer,
                                              tmp_path: Path) -> None:
    roster = tmp_path / "danh-sach.csv"
    roster.write_text(ROSTER_SEMICOLON, encoding="utf-8")
    target = tmp_path / "office" / "intake.toml"
    env = base_env(INTAKE_IMAP_PASSWORD=dovecot.users["intake"])
    out = cli("init", "-o", str(target), *_servers(dovecot, smtp_server), "--from-name", "Ban Tuyên giáo LĐLĐ tỉnh",
              "--campaign-title", "Báo cáo Chuyên đề năm 2027", "--opens", "01/02/2027",
              "--deadline", "05/03/2027", "--section-title", SECTION, "--roster", str(roster),
              "--report-parent", "LĐLĐ TỈNH LÀO CAI", "--report-office", "BAN TUYÊN GIÁO - NỮ CÔNG",
              "--report-number-prefix", "BC-TG", "--report-place", "Lào Cai", "--report-signer-title", "TRƯỞNG BAN",
              "--report-signer-name", "Nguyễn Thị Hoa", cwd=tmp_path, env=env)
    assert out.returncode == 0, out.stdout + out.stderr
    shown = " ".join(out.stdout.split())
    assert "Đã ghi" in shown and "(3 đơn vị)" in shown and "hộp thư: LỖI" not in shown
    assert "Việc tiếp theo" in shown and "db upgrade" in shown and "users add" in shown and "serve" in shown
    assert "intake-web.service" in shown and "[web] listen và base_url" in shown
    text = target.read_text(encoding="utf-8")
    assert text.count("\n#") >= 2 and dovecot.users["intake"] not in text
    assert 'password_env = "INTAKE_IMAP_PASSWORD"' in text
    cfg = load_config(target, env)
    assert (cfg.report.parent, cfg.report.office, cfg.report.number_prefix, cfg.report.place,
            cfg.report.signer_title, cfg.report.signer_name) == (
        "LĐLĐ TỈNH LÀO CAI", "BAN TUYÊN GIÁO - NỮ CÔNG", "BC-TG", "Lào Cai", "TRƯỞNG BAN", "Nguyễn Thị Hoa")
    assert [u.id for u in cfg.units][:2] == ["ldld-huyen-bao-thang", "ldld-huyen-bat-xat"]
    camp = cfg.campaigns[0]
    assert camp.id == "bao-cao-chuyen-de-nam-2027" and camp.section_title == SECTION
    assert camp.deadline == local("2027-03-05T23:59:59") and camp.opens == local("2027-02-01T00:00:00")
    assert cfg.mailbox.since == dt.date(2027, 1, 2)
    assert cfg.store.url == f"sqlite:///{tmp_path}/office/intake.db"
    assert cli("--config", str(target), "check-config", cwd=tmp_path, env=env).returncode == 0
    # Without the password in the environment the check fails and init says what to do.
    again = cli("init", "--force", "-o", str(target), *_servers(dovecot, smtp_server),
                "--from-name", "Ban", "--campaign-title", "Đợt 1", "--deadline", "05/03/2027",
                "--opens", "01/02/2027", "--section-title", SECTION, "--empty-roster", cwd=tmp_path, env=base_env())
    shown = " ".join(again.stdout.split())
    assert again.returncode == 1 and "hộp thư: LỖI" in shown and "INTAKE_IMAP_PASSWORD" in shown
    assert (tmp_path / "office" / "units.csv").read_text(encoding="utf-8") == "id,name,aliases,emails,group\n"


def sourced(env_file: Path) -> tuple[str, str]:
    """The two passwords as `set -a; . intake.env` gives them to a POSIX shell (README)."""
    out = subprocess.run(["sh", "-c", f"set -a; . {env_file}; printf '%s\\n%s' \"$INTAKE_IMAP_PASSWORD\" "
                                      "\"$INTAKE_SMTP_PASSWORD\""], capture_output=True, text=True, check=True)
    assert out.stderr == ""
    imap, smtp = out.stdout.split("\n")
    return imap, smtp


def test_a_gmail_app_password_typed_with_spaces_works_in_intake_env(tmp_path: Path) -> None:
    shown: list[str] = []
    typed = iter(["abc'def", "abcd efgh ijkl mnop"])
    console = Console(file=io.StringIO(), width=200)
    asker = Asker(True, console, read=lambda _q: "", secret=lambda _q: next(typed))
    password = ask_password(asker, gmail=True)
    shown.append(console.file.getvalue())  # type: ignore[attr-defined]
    assert password == "abcdefghijklmnop"
    assert "nháy đơn" in shown[0] and "Đã bỏ các dấu cách" in shown[0]
    env_file = tmp_path / "intake.env"
    env_file.write_text(env_line("INTAKE_IMAP_PASSWORD", "a b$c`d\"e") + env_line("INTAKE_SMTP_PASSWORD", password),
                        encoding="utf-8")
    assert sourced(env_file) == ("a b$c`d\"e", "abcdefghijklmnop")


def test_init_without_a_terminal_names_the_missing_flag(tmp_path: Path) -> None:
    out = cli("init", "--no-input", "--email", "a@example.org", cwd=tmp_path)
    assert out.returncode == 2 and "--from-name: còn thiếu" in out.stdout
    assert not (tmp_path / "intake.toml").exists()


def test_init_gmail_preset_from_flags(tmp_path: Path) -> None:
    out = cli("init", "--no-input", "--no-check", "--email", "bantuyengiao@gmail.com", "--auth", "oauth",
              "--oauth-token-command", "oauth2l fetch --scope https://mail.google.com/", "--from-name", "Ban",
              "--campaign-title", "Đợt 1", "--deadline", "05/03/2027 17:00", "--opens", "01/02/2027",
              "--section-title", SECTION, "--empty-roster", "--data-dir", str(tmp_path / "var"), cwd=tmp_path)
    assert out.returncode == 0, out.stdout
    data = tomllib.loads((tmp_path / "intake.toml").read_text(encoding="utf-8"))
    assert (data["mailbox"]["host"], data["mailbox"]["port"], data["mailbox"]["security"]) == (
        "imap.gmail.com", 993, "ssl")
    assert (data["sending"]["host"], data["sending"]["port"], data["sending"]["security"]) == (
        "smtp.gmail.com", 465, "ssl")
    assert data["mailbox"]["username"] == data["sending"]["username"] == "bantuyengiao@gmail.com"
    assert data["mailbox"]["oauth2_token_command"].startswith("oauth2l")
    cfg = load_config(tmp_path / "intake.toml", {})
    assert cfg.campaigns[0].deadline == local("2027-03-05T17:00:00")
    assert (cfg.store.url, cfg.store.files_dir) == (f"sqlite:///{tmp_path}/var/intake.db", tmp_path / "var" / "files")


def test_init_interactively_in_vietnamese_on_a_terminal(dovecot: DovecotServer, smtp_server: SmtpServer,
                                                         tmp_path: Path) -> None:
    roster = tmp_path / "ds.csv"
    roster.write_text(ROSTER_SEMICOLON, encoding="utf-8")
    term = Pty([*INTAKE, "init"], tmp_path, base_env(TERM="xterm"))
    dialogue = [  # (what the terminal shows, what is typed)
        ("Hộp thư nhận báo cáo:", None), ("Chọn số [1]:", "2"),
        ("Địa chỉ thư của cơ quan", "khong-phai-dia-chi"), ("Địa chỉ thư chưa đúng", "intake@example.org")]
    for name, server, port in (("IMAP", dovecot.host, dovecot.port), ("SMTP", smtp_server.host, smtp_server.port)):
        dialogue += [(f"Máy chủ {name}", server), (f"Kết nối {name}:", None), ("Chọn số [1]:", "3"),
                     (f"Cổng {name} [{143 if name == 'IMAP' else 587}]:", str(port))]
        dialogue.append(("Tên đăng nhập IMAP [intake@example.org]:", "intake") if name == "IMAP"
                        else ("Tên đăng nhập SMTP", ""))
    dialogue += [
        ("Mật khẩu (không hiện khi gõ", dovecot.users["intake"]),
        ("Tên người gửi hiển thị", "Ban Tuyên giáo - Nữ công LĐLĐ tỉnh Lào Cai"),
        ("Tên đợt báo cáo", "Báo cáo Chuyên đề năm 2027"), ("Ngày bắt đầu nhận báo cáo (dd/mm/yyyy) [", ""),
        ("Hạn nộp", "31/02/2027"), ("Ngày chưa đúng dạng", "01/01/2020"), ("Hạn nộp phải sau", "05/03/2027 17:00"),
        ("Tên mục cần lấy trong báo cáo", SECTION), ("Tệp CSV danh sách đơn vị", str(tmp_path / "khong-co.csv")),
        ("Không thấy tệp", str(roster)), ("[report]", None),
        ("Cơ quan cấp trên", "LĐLĐ TỈNH LÀO CAI"), ("Tên cơ quan ban hành", "BAN TUYÊN GIÁO - NỮ CÔNG"),
        ("Ký hiệu số văn bản", "BC-TG"), ("Địa danh", "Lào Cai"), ("Chức vụ người ký", "TRƯỞNG BAN"),
        ("Họ và tên người ký", "")]
    for shown_text, typed in dialogue:
        term.expect(shown_text)
        if typed is not None:
            term.send(typed)
    code, shown = term.finish()
    assert code == 0, shown
    assert dovecot.users["intake"] not in shown  # the password is not echoed
    assert "Việc tiếp theo" in shown and "hộp thư:" in shown and "LỖI" not in shown
    env_file = tmp_path / "intake.env"
    assert stat.S_IMODE(os.stat(env_file).st_mode) == 0o600
    password = dovecot.users["intake"]
    assert env_file.read_text(encoding="utf-8") == (f"INTAKE_IMAP_PASSWORD='{password}'\n"
                                                    f"INTAKE_SMTP_PASSWORD='{password}'\n")
    assert password not in (tmp_path / "intake.toml").read_text(encoding="utf-8")
    assert sourced(env_file) == (password, password)
    env = base_env(INTAKE_IMAP_PASSWORD=password)
    cfg = load_config(tmp_path / "intake.toml", env)
    assert cfg.campaigns[0].deadline == local("2027-03-05T17:00:00") and len(cfg.units) == 3
    assert cfg.sending.from_name == "Ban Tuyên giáo - Nữ công LĐLĐ tỉnh Lào Cai"
    assert (cfg.report.parent, cfg.report.signer_title, cfg.report.signer_name) == (
        "LĐLĐ TỈNH LÀO CAI", "TRƯỞNG BAN", "")
    assert cli("--config", str(tmp_path / "intake.toml"), "check-config", cwd=tmp_path, env=env).returncode == 0
