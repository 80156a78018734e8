"""Config: every SPEC key accepted; every bad value named by file, key and problem."""
from __future__ import annotations

import datetime as dt
import tomllib
from pathlib import Path

import pytest

from intake.parsers.errors import ConfigError
from intake.processor.cli import build_parser, main
from intake.processor.config import (
    ImapConfig,
    MaildirConfig,
    OutboxConfig,
    SmtpConfig,
    load_config,
    parse_config,
    remind_offset,
)
from intake.processor.staff.export import EXPORTERS

ROOT = Path(__file__).resolve().parent.parent
SPEC_EXAMPLE = """
timezone = "Asia/Ho_Chi_Minh"
[store]
url = "sqlite:///intake.db"
files_dir = "files"
[mailbox]
kind = "imap"
host = "imap.gmail.com"
port = 993
security = "ssl"
username = "office@gmail.com"
password_env = "INTAKE_IMAP_PASSWORD"
folder = "INBOX"
after = "flag"
move_to = "Intake/Processed"
poll_every = 60
[sending]
kind = "smtp"
host = "smtp.gmail.com"
port = 465
security = "ssl"
username = "office@gmail.com"
password_env = "INTAKE_SMTP_PASSWORD"
from_address = "office@gmail.com"
from_name = "Ban Tuyên giáo"
outbox_dir = "outbox"
[acknowledge]
enabled = true
language = "vi"
max_age_days = 14
max_per_hour = 5
[[units]]
id = "ldld-bao-thang"
name = "LĐLĐ huyện Bảo Thắng"
aliases = ["Liên đoàn Lao động huyện Bảo Thắng"]
emails = ["ldldbaothang@gmail.com"]
group = "huyen"
[[campaigns]]
id = "chuyen-de-2024"
title = "Báo cáo kết quả học tập Chuyên đề năm 2024"
opens = 2024-01-22T00:00:00+07:00
deadline = 2024-02-29T00:00:00+07:00
units = ["*"]
section_title = "Đánh giá kết quả tổ chức học tập, quán triệt và triển khai Chuyên đề năm 2024"
"""

pytestmark = pytest.mark.usefixtures("english")


def load(text: str, environ: dict[str, str] | None = None) -> object:
    return parse_config(tomllib.loads(text), Path("intake.toml"), environ or {})


def test_spec_example_is_accepted_with_secrets_from_the_environment() -> None:
    cfg = load(SPEC_EXAMPLE, {"INTAKE_IMAP_PASSWORD": "s3cret"})
    assert cfg.mailbox.password.value == "s3cret"  # type: ignore[attr-defined]
    assert "s3cret" not in repr(cfg)
    camp = cfg.campaigns[0]  # type: ignore[attr-defined]
    assert camp.deadline.utcoffset().total_seconds() == 7 * 3600
    assert camp.unit_ids(cfg.units) == ("ldld-bao-thang",)  # type: ignore[attr-defined]


def test_example_config_of_the_repository_loads() -> None:
    cfg = load_config(ROOT / "config.example.toml", {})
    assert cfg.mailbox.kind == "maildir" and cfg.sending.kind == "outbox"
    assert len(cfg.units) >= 5


@pytest.mark.parametrize(("old", "new", "key", "problem"), [
    ('security = "ssl"\nusername = "office@gmail.com"\npassword_env = "INTAKE_IMAP',
     'security = "tls"\nusername = "office@gmail.com"\npassword_env = "INTAKE_IMAP',
     "[mailbox] security", 'expected one of ssl, starttls, none, got "tls"'),
    ('timezone = "Asia/Ho_Chi_Minh"', 'timezone = "Mars/Olympus"', "timezone", "unknown time zone"),
    ("poll_every = 60", "poll_every = -5", "[mailbox] poll_every", "positive"),
    ("poll_every = 60", 'poll_every = "often"', "[mailbox] poll_every", "expected an integer"),
    ('language = "vi"', 'language = "fr"', "[acknowledge] language", "expected one of vi, en"),
    ('url = "sqlite:///intake.db"', 'url = "mysql://x"', "[store] url", "sqlite:// or postgresql://"),
    ("deadline = 2024-02-29T00:00:00+07:00", "deadline = 2024-01-01T00:00:00+07:00",
     "[campaigns #1] deadline", "after opens"),
    ('units = ["*"]', 'units = ["nobody"]', "[campaigns #1] units", 'no unit with id "nobody"'),
    ('password_env = "INTAKE_IMAP_PASSWORD"', 'password = "hunter2"', "[mailbox] password", "never written"),
    ('host = "imap.gmail.com"', 'host = "imap.gmail.com"\nsecurity_level = 3', "[mailbox] security_level",
     "unknown key"),
    ('from_address = "office@gmail.com"', 'from_address = "office"', "[sending] from_address", "email address"),
])
def test_bad_values_name_key_and_problem(old: str, new: str, key: str, problem: str) -> None:
    assert old in SPEC_EXAMPLE
    with pytest.raises(ConfigError) as err:
        load(SPEC_EXAMPLE.replace(old, new, 1))
    assert err.value.key == key
    assert problem in str(err.value)


def test_security_none_only_on_loopback() -> None:
    text = SPEC_EXAMPLE.replace('security = "ssl"', 'security = "none"', 1)
    with pytest.raises(ConfigError, match="loopback"):
        load(text)
    assert load(text.replace('host = "imap.gmail.com"', 'host = "127.0.0.1"'))


def test_units_file_csv_with_bom(tmp_path: Path) -> None:
    csv_file = tmp_path / "units.csv"
    csv_file.write_bytes("id,name,aliases,emails,group\n"
                         "ldld-sa-pa,LĐLĐ thị xã Sa Pa,Liên đoàn Lao động Sa Pa;LĐLĐ Sa Pa,"
                         "a@x.vn; b@x.vn,huyen\n".encode("utf-8-sig"))
    start = SPEC_EXAMPLE.index("[[units]]")
    text = SPEC_EXAMPLE[:start] + f'units_file = "{csv_file}"\n' + SPEC_EXAMPLE[SPEC_EXAMPLE.index("[[campaigns]]"):]
    # top-level keys must precede tables in TOML
    text = f'units_file = "{csv_file}"\n' + text.replace(f'units_file = "{csv_file}"\n', "")
    cfg = load(text)
    unit = cfg.units[0]  # type: ignore[attr-defined]
    assert unit.id == "ldld-sa-pa" and unit.name == "LĐLĐ thị xã Sa Pa"
    assert unit.aliases == ("Liên đoàn Lao động Sa Pa", "LĐLĐ Sa Pa")
    assert unit.emails == ("a@x.vn", "b@x.vn")


def test_remind_offsets() -> None:
    assert remind_offset("-3d").days == -3
    assert remind_offset("+12h").total_seconds() == 12 * 3600


def test_cli_exits_2_on_bad_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(SPEC_EXAMPLE.replace('security = "ssl"', 'security = "tls"', 1), encoding="utf-8")
    assert main(["--config", str(bad), "check-config"], environ={}) == 2
    err = capsys.readouterr().err
    assert '[mailbox] security: cần một trong ssl, starttls, none, nhận được "tls"' in err
    assert str(bad) in err
    broken = tmp_path / "broken.toml"
    broken.write_text("[store\nurl = 1\n", encoding="utf-8")
    assert main(["--config", str(broken), "status"], environ={}) == 2
    assert main(["--config", str(tmp_path / "absent.toml"), "status"], environ={}) == 2
    assert "không tìm thấy tệp cấu hình; đã tìm ở: --config" in capsys.readouterr().err


def test_maildir_and_outbox_accept_timeout_and_ignore_server_keys() -> None:
    text = SPEC_EXAMPLE.replace('kind = "imap"', 'kind = "maildir"\npath = "inbox"\ntimeout = 30', 1)
    text = text.replace('kind = "smtp"', 'kind = "outbox"\ntimeout = 30', 1)
    cfg = load(text)
    assert cfg.mailbox.kind == "maildir" and cfg.mailbox.timeout == 30  # type: ignore[attr-defined]
    assert cfg.sending.kind == "outbox" and cfg.sending.timeout == 30  # type: ignore[attr-defined]


def test_mailbox_and_sending_are_tagged_unions_parsed_once() -> None:
    text = SPEC_EXAMPLE.replace('section_title = ', 'remind = ["-3d", "+12h"]\nsection_title = ', 1)
    text += '\n[staff]\nemails = ["truongban@example.test"]\ndigest_at = "07:30"\n'
    cfg = parse_config(tomllib.loads(text), Path("intake.toml"), {})
    assert isinstance(cfg.mailbox, ImapConfig) and cfg.mailbox.username == "office@gmail.com"
    assert isinstance(cfg.sending, SmtpConfig) and cfg.sending.port == 465
    assert [(p.label, p.offset) for p in cfg.campaigns[0].remind] == [
        ("-3d", dt.timedelta(days=-3)), ("+12h", dt.timedelta(hours=12))]
    assert cfg.staff.digest_at == dt.time(7, 30)
    local = SPEC_EXAMPLE.replace('kind = "imap"', 'kind = "maildir"\npath = "inbox"', 1)
    local = local.replace('kind = "smtp"', 'kind = "outbox"', 1)
    cfg = parse_config(tomllib.loads(local), Path("intake.toml"), {})  # relative paths: from the config file's folder
    assert isinstance(cfg.mailbox, MaildirConfig) and cfg.mailbox.path == Path("inbox").absolute()
    assert not hasattr(cfg.mailbox, "host")  # the IMAP keys beside it are accepted, not carried
    assert isinstance(cfg.sending, OutboxConfig) and cfg.sending.outbox_dir == Path("outbox").absolute()
    assert not hasattr(cfg.sending, "username")


def test_export_formats_are_the_registry_s_keys() -> None:
    export = next(a for a in build_parser()._subparsers._group_actions[0].choices["export"]._actions  # type: ignore[union-attr]
                  if a.dest == "format")
    assert tuple(export.choices or ()) == tuple(EXPORTERS) == ("csv", "xlsx", "html", "docx")
