"""The traps of a new user's first hour (issue 23): who decided, where the config was looked for,
times that read right, a backup that holds the roster."""
from __future__ import annotations

import datetime as dt
import io
import os
import pwd
import subprocess
from contextlib import redirect_stdout
from pathlib import Path
from zoneinfo import ZoneInfo

from docx import Document
from opskit import base_env, cli, project
from staffkit import at, run_cli, write_toml

from intake.processor import cli as cli_module
from intake.processor.cli import command_user
from intake.processor.times import deadline_time, local_time, prose_deadline

VN = ZoneInfo("Asia/Ho_Chi_Minh")


# -- who decided -----------------------------------------------------------------------


def test_the_command_line_user_is_sudo_user_else_user_else_the_login() -> None:
    assert command_user({"SUDO_USER": "hoa", "USER": "root"}) == "hoa"
    assert command_user({"USER": "lan"}) == "lan"
    assert command_user({"LOGNAME": "mai"}) == "mai"
    assert command_user({}) == pwd.getpwuid(os.getuid()).pw_name  # a service or cron: no $USER


def test_decisions_name_who_and_a_revoked_one_names_both(tmp_path: Path) -> None:
    write_toml(tmp_path)
    assert run_cli(tmp_path, "db", "upgrade")[0] == 0
    out = io.StringIO()
    with redirect_stdout(out):
        code = cli_module.main(["--config", str(tmp_path / "intake.toml"), "-q", "excuse", "ldld-bao-yen",
                                "--reason", "Sáp nhập"], {"SUDO_USER": "hoa", "USER": "root"},
                               clock=lambda: at("2024-02-28 12:00"))
    assert code == 0
    assert run_cli(tmp_path, "decisions", "revoke", "1", user="lan", now=at("2024-02-28 15:30"))[0] == 0
    code, listed = run_cli(tmp_path, "decisions")
    assert code == 0 and "bởi hoa lúc 12:00 28/02/2024" in listed
    assert "đã huỷ bởi lan lúc 15:30 28/02/2024" in listed and "bởi ?" not in listed


# -- no config -------------------------------------------------------------------------------


def test_no_config_names_every_place_looked_in_and_intake_init(tmp_path: Path) -> None:
    out = cli("status", cwd=tmp_path, env=base_env())
    assert out.returncode == 2
    err = out.stderr
    for place in ("--config: không ghi", "$INTAKE_CONFIG: chưa đặt", str(tmp_path / "intake.toml"),
                  "/etc/intake/intake.toml", "`intake init`"):
        assert place in err, err
    named = cli("status", cwd=tmp_path, env=base_env(INTAKE_CONFIG="office/intake.toml"))
    assert named.returncode == 2 and f"$INTAKE_CONFIG {tmp_path / 'office' / 'intake.toml'}" in named.stderr
    assert "`intake init -o office/intake.toml`" in named.stderr


# -- times ----------------------------------------------------------------------------------


def test_a_deadline_at_midnight_reads_as_the_end_of_the_day_before() -> None:
    midnight = dt.datetime(2024, 2, 29, 0, 0, tzinfo=VN)
    assert deadline_time(midnight, VN) == "hết ngày 28/02/2024"
    assert deadline_time(midnight, VN, "en") == "end of 28/02/2024"
    assert prose_deadline(midnight, VN) == "hết ngày 28/02/2024"
    assert deadline_time(dt.datetime(2024, 3, 5, 23, 59, 59, tzinfo=VN), VN) == "hết ngày 05/03/2024"
    assert deadline_time(dt.datetime(2024, 3, 5, 17, 0, tzinfo=VN), VN) == "17:00 05/03/2024"
    assert prose_deadline(dt.datetime(2024, 3, 5, 17, 0, tzinfo=VN), VN) == "17 giờ 00 phút, ngày 05/03/2024"
    assert local_time(dt.datetime(2024, 2, 26, 2, 12, 5, tzinfo=dt.UTC), VN, seconds=True) == "09:12:05 26/02/2024"


def test_the_status_table_and_the_compiled_report_say_hết_ngày(tmp_path: Path) -> None:
    config = project(tmp_path / "office")
    office = tmp_path / "office"
    assert cli("-q", "--config", str(config), "run", "--once", cwd=office).returncode == 0
    table = cli("--config", str(config), "status", cwd=office)
    assert table.returncode == 0 and "Hạn gửi: hết ngày 28/02/2024" in table.stdout
    report = office / "bao-cao.docx"
    assert cli("-q", "--config", str(config), "export", "--format", "docx", "-o", str(report), cwd=office) \
        .returncode == 0
    text = "\n".join(p.text for p in Document(str(report)).paragraphs)
    assert "Hạn gửi báo cáo: hết ngày 28/02/2024." in text and "00 giờ 00 phút, ngày 29/02/2024" not in text


def test_users_list_shows_local_time(tmp_path: Path) -> None:
    write_toml(tmp_path)
    assert run_cli(tmp_path, "db", "upgrade")[0] == 0
    import sys

    old = sys.stdin
    sys.stdin = io.StringIO("mat-khau-du-dai-1\n")
    try:
        assert run_cli(tmp_path, "users", "add", "hoa", now=dt.datetime(2024, 2, 28, 2, 0, tzinfo=dt.UTC))[0] == 0
    finally:
        sys.stdin = old
    code, out = run_cli(tmp_path, "users", "list")
    assert code == 0 and "hoa\ttạo lúc 09:00 28/02/2024\tđăng nhập gần nhất -" in out


# -- backup ------------------------------------------------------------------------------------


def test_backup_holds_every_file_the_config_names_but_the_password(tmp_path: Path) -> None:
    office = tmp_path / "office"
    config = project(office)
    text = config.read_text(encoding="utf-8")
    start, end = text.index("[[units]]"), text.index("[[campaigns]]")
    (office / "roster").mkdir()
    (office / "roster" / "units.csv").write_text(
        "id,name,aliases,emails,group\n"
        "ldld-bao-thang,LĐLĐ huyện Bảo Thắng,,ldldbaothang@gmail.com,huyen\n", encoding="utf-8")
    (office / "smtp-password").write_text("bí mật\n", encoding="utf-8")
    text = text[:start].replace("[store]", 'units_file = "roster/units.csv"\n\n[store]') + text[end:]
    config.write_text(text.replace('units = ["*"]', 'units = ["ldld-bao-thang"]'), encoding="utf-8")
    assert cli("-q", "--config", str(config), "db", "upgrade", cwd=office).returncode == 0
    out = cli("--config", str(config), "backup", str(tmp_path / "backup"), cwd=office)
    assert out.returncode == 0, out.stderr
    assert "tệp cấu hình và 1 tệp cấu hình nêu tên" in out.stdout
    copy = tmp_path / "backup" / "named" / "roster" / "units.csv"
    assert copy.read_text(encoding="utf-8") == (office / "roster" / "units.csv").read_text(encoding="utf-8")
    assert not [p for p in (tmp_path / "backup").rglob("*") if "password" in p.name]


# -- the wrong user ----------------------------------------------------------------------------


def test_a_command_run_as_another_user_than_the_stores_owner_refuses(tmp_path: Path) -> None:
    assert os.geteuid() == 0, "this test plays the root who types `intake run --once` at a root shell"
    office = tmp_path / "office"
    config = project(office)
    service = pwd.getpwnam("nobody")  # plays the service user `intake`
    assert cli("-q", "--config", str(config), "db", "upgrade", cwd=office).returncode == 0
    (office / "files").mkdir(exist_ok=True)
    for path in (office, office / "intake.db", office / "files"):
        os.chown(path, service.pw_uid, service.pw_gid)
    before = sorted(p.name for p in office.iterdir())
    out = cli("--config", str(config), "run", "--once", cwd=office)
    assert out.returncode == 2
    assert f"{office / 'intake.db'} thuộc người dùng nobody, không phải root" in out.stderr
    assert f"`runuser -u nobody -- intake --config {config} run --once`" in out.stderr
    assert sorted(p.name for p in office.iterdir()) == before  # no outbox, no -wal/-shm left as root
    assert list((office / "files").iterdir()) == []  # nothing stored as root
    assert cli("--config", str(config), "status", cwd=office).returncode == 2
    # As the owner it runs (here: the owner is root again).
    for path in (office / "intake.db", office / "files"):
        os.chown(path, 0, 0)
    assert cli("-q", "--config", str(config), "status", cwd=office).returncode == 0


def test_the_demo_and_the_dashboard_leave_no_tracked_file_changed() -> None:
    root = Path(__file__).resolve().parent.parent
    for written in ("examples/output/chuyen-de-2024.docx", "intake-web.key", "intake.db", "outbox/x.eml"):
        ignored = subprocess.run(["git", "check-ignore", "-q", written], cwd=root)
        assert ignored.returncode == 0, f"{written} is not git-ignored"
    tracked = subprocess.run(["git", "ls-files", "examples/output"], cwd=root, capture_output=True, text=True)
    assert tracked.stdout == ""
    assert "mkdir -p examples/output" in (root / "Makefile").read_text(encoding="utf-8")
