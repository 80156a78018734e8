"""`intake init`: write a commented intake.toml, by questions in Vietnamese or from flags.

Every answer has a flag (`intake init --help`); a question is asked only for
what no flag gave, and only on a terminal: without one, a missing answer is a
usage error naming the flag. The passwords are never written into intake.toml:
typed at the prompt they go to `intake.env` (mode 600, for systemd's
EnvironmentFile=), otherwise they are read from the environment. The roster
comes from a CSV file (`,` or `;` separated, as Excel writes it; columns by
name: id/mã, name/tên, emails/email, aliases, group/nhóm), copied as
units.csv beside intake.toml, or an empty units.csv to fill in. Then the
result goes through `check-config`, and the next steps are printed.
"""
from __future__ import annotations

import argparse
import csv
import datetime as dt
import getpass
import io
import os
import re
import sys
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

from rich.console import Console

from intake.parsers.errors import ConfigError, IntakeError, UsageError
from intake.processor.i18n import _
from intake.processor.staff_dates import parse_staff_datetime

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
# The variables [mailbox] and [sending] read by default (processor/config.py, README); one Gmail app
# password serves both, so intake.env sets both.
IMAP_PASSWORD_ENV, SMTP_PASSWORD_ENV = "INTAKE_IMAP_PASSWORD", "INTAKE_SMTP_PASSWORD"
REPORT_QUESTIONS = (  # [report] key, flag, question, example
    ("parent", "--report-parent", "Cơ quan cấp trên (dòng đầu góc trái báo cáo tổng hợp)", "LĐLĐ TỈNH LÀO CAI"),
    ("office", "--report-office", "Tên cơ quan ban hành báo cáo", "BAN TUYÊN GIÁO - NỮ CÔNG"),
    ("number_prefix", "--report-number-prefix", "Ký hiệu số văn bản (Số: .../KÝ HIỆU)", "BC-TG"),
    ("place", "--report-place", "Địa danh ghi ngày tháng", "Lào Cai"),
    ("signer_title", "--report-signer-title", "Chức vụ người ký", "TRƯỞNG BAN"),
    ("signer_name", "--report-signer-name", "Họ và tên người ký", "Nguyễn Thị A"),
)
GMAIL = {"imap_host": "imap.gmail.com", "imap_port": 993, "imap_security": "ssl",
         "smtp_host": "smtp.gmail.com", "smtp_port": 465, "smtp_security": "ssl"}
UNITS_HEADER = ("id", "name", "aliases", "emails", "group")
# Roster CSV columns as staff name them.
COLUMN_NAMES = {
    "id": ("id", "ma", "ma don vi"), "name": ("name", "ten", "ten don vi", "don vi"),
    "emails": ("emails", "email", "e-mail", "thu dien tu", "dia chi thu"), "aliases": ("aliases", "ten khac"),
    "group": ("group", "nhom", "khoi")}


class InitError(IntakeError):
    """A bad answer or flag (exit 2)."""


def add_init_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("init", help=_("write a commented intake.toml (questions in Vietnamese, or flags)"))
    p.add_argument("-o", "--output", default="intake.toml", metavar=_("FILE"),
                   help=_("file to write (default ./intake.toml)"))
    p.add_argument("--force", action="store_true", help=_("overwrite an existing file"))
    p.add_argument("--no-input", action="store_true", help=_("never ask: every answer comes from flags"))
    p.add_argument("--data-dir", metavar=_("FOLDER"), help=_("folder of the database and files (default: beside "
                                                            "the config; for the service: /var/lib/intake)"))
    p.add_argument("--mailbox", choices=("gmail", "imap"),
                   help=_("gmail (preset servers) or another IMAP server"))
    p.add_argument("--email", metavar=_("ADDRESS"),
                   help=_("the office's address: the mailbox reports arrive in, and the sender"))
    p.add_argument("--auth", choices=("app-password", "oauth"), help=_("Gmail login (default app-password)"))
    p.add_argument("--oauth-token-command", metavar=_("COMMAND"),
                   help=_("with --auth oauth: command printing an access token"))
    for kind in ("imap", "smtp"):
        p.add_argument(f"--{kind}-host", metavar=_("HOST"), help=_("the server's name"))
        p.add_argument(f"--{kind}-port", type=int, metavar=_("PORT"), help=_("the server's port"))
        p.add_argument(f"--{kind}-security", choices=("ssl", "starttls", "none"),
                       help=_("how the connection is secured"))
    p.add_argument("--imap-username", metavar=_("NAME"), help=_("default: --email"))
    p.add_argument("--smtp-username", metavar=_("NAME"),
                   help=_("default: --email; \"\" for a server without login"))
    p.add_argument("--from-name", metavar=_("NAME"), help=_("the sending name, e.g. \"Ban Tuyên giáo LĐLĐ tỉnh\""))
    p.add_argument("--campaign-title", metavar=_("TITLE"), help=_("the campaign's title"))
    p.add_argument("--campaign-id", metavar="ID", help=_("default: made from the title"))
    p.add_argument("--opens", metavar=_("DATE"), help=_("first day reports count (dd/mm/yyyy; default today)"))
    p.add_argument("--deadline", metavar=_("WHEN"), help=_("dd/mm/yyyy [hh:mm]; a date alone is the end of that day"))
    p.add_argument("--section-title", metavar=_("TITLE"), help=_("the guideline's title of the section to extract"))
    roster = p.add_mutually_exclusive_group()
    roster.add_argument("--roster", metavar=_("FILE"), help=_("CSV file of the units (`,` or `;` separated)"))
    roster.add_argument("--empty-roster", action="store_true", help=_("write an empty units.csv to fill in"))
    for key, flag, _question, example in REPORT_QUESTIONS:
        p.add_argument(flag, dest=f"report_{key}", metavar=_("TEXT"),
                       help=_("[report] {key} of the compiled report, e.g. \"{example}\"", key=key, example=example))
    p.add_argument("--no-check", action="store_true", help=_("do not run check-config afterwards"))


@dataclass
class Answers:
    mailbox: str = "gmail"
    email: str = ""
    auth: str = "app-password"
    oauth_token_command: str = ""
    imap_host: str = ""
    imap_port: int = 993
    imap_security: str = "ssl"
    imap_username: str = ""
    smtp_host: str = ""
    smtp_port: int = 465
    smtp_security: str = "ssl"
    smtp_username: str = ""
    from_name: str = ""
    campaign_title: str = ""
    campaign_id: str = ""
    opens: str = ""
    deadline: str = ""
    section_title: str = ""
    roster: str = ""  # "" = empty template
    password: str = ""  # typed at the prompt only; goes to intake.env, never to intake.toml
    report: dict[str, str] = field(default_factory=dict)  # [report] keys answered


class Asker:
    """Questions on a terminal; without one, a missing answer names its flag."""

    def __init__(self, interactive: bool, console: Console,
                 read: Callable[[str], str] = input, secret: Callable[[str], str] = getpass.getpass) -> None:
        self.interactive, self.console, self.read, self.secret = interactive, console, read, secret

    def ask(self, flag: str, question: str, default: str = "", check: Callable[[str], str | None] | None = None,
            allow_empty: bool = False) -> str:
        if not self.interactive:
            if default or allow_empty:
                return default
            raise InitError(_("{flag}: missing (no terminal to ask on)", flag=flag))
        prompt = f"{question}" + (f" [{default}]" if default else "") + ": "
        while True:
            answer = self.read(prompt).strip() or default
            if not answer and not allow_empty:
                self.console.print("  Cần nhập một giá trị.", highlight=False)
                continue
            problem = check(answer) if check and answer else None
            if problem is None:
                return answer
            self.console.print(f"  {problem}", highlight=False)

    def choose(self, flag: str, question: str, options: list[tuple[str, str]], default: str) -> str:
        if not self.interactive:
            return default
        self.console.print(question, highlight=False)
        for i, (_value, label) in enumerate(options, start=1):
            self.console.print(f"  {i}) {label}", highlight=False)
        numbers = {str(i): value for i, (value, _label) in enumerate(options, start=1)}
        first = next(str(i) for i, (v, _l) in enumerate(options, start=1) if v == default)
        picked = self.ask(flag, "Chọn số", first,
                          check=lambda a: None if a in numbers else "Nhập một số trong danh sách.")
        return numbers[picked]


def _date_check(text: str) -> str | None:
    try:
        parse_staff_datetime(text, TZ, dt.datetime.now(TZ))
    except UsageError:
        return "Ngày chưa đúng dạng: nhập như 05/03/2024 hoặc 05/03/2024 17:00."
    return None


def _email_check(text: str) -> str | None:
    return None if re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", text) else "Địa chỉ thư chưa đúng (ví dụ: ten@gmail.com)."


def _file_check(text: str) -> str | None:
    return None if Path(text).expanduser().is_file() else f"Không thấy tệp {text}."


def _roster_check(text: str) -> str | None:
    """A roster file that is there and can be read (the reason, to ask again, when not)."""
    if (missing := _file_check(text)) is not None:
        return missing
    try:
        guess_roster(Path(text))
    except InitError as exc:
        return str(exc)
    return None


def _after_check(deadline: str, opens: str) -> str | None:
    now = dt.datetime.now(TZ)
    start = parse_staff_datetime(opens, TZ, now, day_starts=True)[0]
    if parse_staff_datetime(deadline, TZ, now)[0] <= start:
        return f"Hạn nộp phải sau ngày bắt đầu nhận báo cáo ({opens})."
    return None


def collect(args: argparse.Namespace, asker: Asker, today: dt.date) -> Answers:
    a = Answers()
    a.mailbox = args.mailbox or asker.choose("--mailbox", "Hộp thư nhận báo cáo:",
                                             [("gmail", "Gmail (imap.gmail.com / smtp.gmail.com)"),
                                              ("imap", "Máy chủ thư khác (IMAP + SMTP)")], "gmail")
    a.email = args.email or asker.ask("--email", "Địa chỉ thư của cơ quan (nơi các đơn vị gửi báo cáo đến)",
                                      check=_email_check)
    if _email_check(a.email):
        raise InitError(_("--email: not an email address: \"{value}\"", value=a.email))
    if a.mailbox == "gmail":
        for key, value in GMAIL.items():
            setattr(a, key, getattr(args, key) or value)
        a.auth = args.auth or asker.choose("--auth", "Cách đăng nhập Gmail:",
                                           [("app-password", "Mật khẩu ứng dụng (App password, 16 ký tự)"),
                                            ("oauth", "OAuth2 (xem docs/GMAIL.md)")], "app-password")
        if a.auth == "oauth":
            a.oauth_token_command = args.oauth_token_command or asker.ask(
                "--oauth-token-command", "Lệnh lấy mã truy cập OAuth2 (xem docs/GMAIL.md)")
        a.imap_username = args.imap_username if args.imap_username is not None else a.email
        a.smtp_username = args.smtp_username if args.smtp_username is not None else a.email
    else:
        a.imap_host, a.imap_security, a.imap_port, a.imap_username = _server(args, asker, "imap", a.email)
        a.smtp_host, a.smtp_security, a.smtp_port, a.smtp_username = _server(args, asker, "smtp", a.email)
    if a.auth == "app-password" and asker.interactive:
        a.password = ask_password(asker, gmail=a.mailbox == "gmail")
    a.from_name = args.from_name or asker.ask("--from-name", "Tên người gửi hiển thị trên thư trả lời "
                                              "(ví dụ: Ban Tuyên giáo LĐLĐ tỉnh Lào Cai)")
    a.campaign_title = args.campaign_title or asker.ask("--campaign-title", "Tên đợt báo cáo "
                                                        "(ví dụ: Báo cáo kết quả học tập Chuyên đề năm 2024)")
    a.opens = args.opens or asker.ask("--opens", "Ngày bắt đầu nhận báo cáo (dd/mm/yyyy)",
                                      today.strftime("%d/%m/%Y"), check=_date_check)
    a.deadline = args.deadline or asker.ask("--deadline", "Hạn nộp (dd/mm/yyyy hoặc dd/mm/yyyy hh:mm; "
                                            "chỉ ghi ngày = hết ngày đó)",
                                            check=lambda text: _date_check(text) or _after_check(text, a.opens))
    for flag, text in (("--opens", a.opens), ("--deadline", a.deadline)):
        if _date_check(text):
            raise InitError(_("{flag}: expected a date such as 05/03/2024 or 05/03/2024 17:00, got \"{value}\"",
                            flag=flag, value=text))
    now = dt.datetime.now(TZ)
    opens = parse_staff_datetime(a.opens, TZ, now, day_starts=True)[0]
    if parse_staff_datetime(a.deadline, TZ, now)[0] <= opens:
        raise InitError(_("--deadline: must be after --opens"))
    a.section_title = args.section_title or asker.ask(
        "--section-title", "Tên mục cần lấy trong báo cáo, đúng như trong văn bản hướng dẫn")
    a.campaign_id = args.campaign_id or slug(a.campaign_title) or "dot-bao-cao"
    if args.roster:
        a.roster = args.roster
    elif not args.empty_roster:
        a.roster = asker.ask("--roster", "Tệp CSV danh sách đơn vị (cột id, name, emails; để trống: tạo mẫu "
                             "units.csv để điền sau)", allow_empty=True, check=_roster_check)
    if asker.interactive:
        asker.console.print("Phần đầu và chữ ký của báo cáo tổng hợp gửi cấp trên ([report]; để trống: "
                            "để dòng chấm, điền tay sau):", highlight=False, markup=False)
    for key, flag, question, example in REPORT_QUESTIONS:
        given = getattr(args, f"report_{key}")
        a.report[key] = given if given is not None else asker.ask(flag, f"  {question} (ví dụ: {example})",
                                                                 allow_empty=True)
    return a


def ask_password(asker: Asker, *, gmail: bool) -> str:
    """The mailbox password, asked until it can be written into intake.env; Gmail's app password without
    the spaces Gmail shows it with (it is used without them)."""
    while True:
        typed = asker.secret("Mật khẩu (không hiện khi gõ; để trống nếu đã đặt biến môi trường "
                             f"{IMAP_PASSWORD_ENV} và {SMTP_PASSWORD_ENV}): ").strip()
        if gmail and " " in typed:
            typed = typed.replace(" ", "")
            asker.console.print("  Đã bỏ các dấu cách: Gmail hiện mật khẩu ứng dụng thành 4 nhóm, "
                                "nhưng dùng liền không cách.", highlight=False)
        problem = env_value_problem(typed)
        if problem is None:
            return typed
        asker.console.print(f"  {problem}", highlight=False)


def env_value_problem(value: str) -> str | None:
    """Why `value` cannot be written in intake.env as one single-quoted value (read alike by
    `set -a; . intake.env` and systemd's EnvironmentFile=), or None."""
    if any(c in value for c in "'\\\n\r"):
        return ("Mật khẩu có dấu nháy đơn, dấu \\ hoặc xuống dòng: không ghi được vào intake.env. Hãy để trống "
                "rồi ghi mật khẩu vào một tệp riêng và dùng password_file (docs/CONFIG.md).")
    return None


def env_line(name: str, value: str) -> str:
    """NAME='value': the same value for a POSIX shell (`set -a; . intake.env`) and systemd's EnvironmentFile=."""
    assert env_value_problem(value) is None
    return f"{name}='{value}'\n"


SERVER_QUESTIONS = {  # kind: (name in questions, default port with ssl, without; username may be empty)
    "imap": ("IMAP", "993", "143", False),
    "smtp": ("SMTP", "465", "587", True),
}


def _server(args: argparse.Namespace, asker: Asker, kind: str, email: str) -> tuple[str, str, int, str]:
    """(host, security, port, username) of another IMAP or SMTP server, from flags or questions."""
    name, ssl_port, plain_port, optional_login = SERVER_QUESTIONS[kind]
    host = getattr(args, f"{kind}_host") or asker.ask(f"--{kind}-host", f"Máy chủ {name}")
    security = getattr(args, f"{kind}_security") or asker.choose(
        f"--{kind}-security", f"Kết nối {name}:", [("ssl", "SSL/TLS"), ("starttls", "STARTTLS"),
                                                  ("none", "không mã hoá (chỉ máy này)")], "ssl")
    port = getattr(args, f"{kind}_port") or int(asker.ask(f"--{kind}-port", f"Cổng {name}",
                                                          ssl_port if security == "ssl" else plain_port,
                                                          check=_port_check))
    username = getattr(args, f"{kind}_username")
    if username is None:
        question = f"Tên đăng nhập {name}" + (" (để trống nếu máy chủ không cần)" if optional_login else "")
        username = asker.ask(f"--{kind}-username", question, "" if optional_login and asker.interactive else email,
                             allow_empty=optional_login)
    return host, security, port, username


def _port_check(text: str) -> str | None:
    return None if text.isdigit() and 0 < int(text) < 65536 else "Cổng là một số từ 1 đến 65535."


def slug(text: str) -> str:
    """'Báo cáo Chuyên đề 2024' -> 'bao-cao-chuyen-de-2024'."""
    plain = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    plain = "".join(c for c in plain if not unicodedata.combining(c)).lower()
    return re.sub(r"[^a-z0-9]+", "-", plain).strip("-")[:60]


def guess_roster(path: Path) -> list[dict[str, str]]:
    """Rows of id,name,aliases,emails,group from a staff CSV (`,` or `;`, BOM or not)."""
    try:
        text = path.expanduser().read_bytes().decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InitError(_("--roster: cannot read {path}: {reason}", path=path, reason=exc)) from exc
    first = text.splitlines()[0] if text.strip() else ""
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    rows = [r for r in reader if any(c.strip() for c in r)]
    if not rows:
        raise InitError(_("--roster: {path} is empty", path=path))
    folded = [slug(h).replace("-", " ") for h in rows[0]]
    columns: dict[str, int] = {}
    for key, names in COLUMN_NAMES.items():
        for i, header in enumerate(folded):
            if header in names and key not in columns:
                columns[key] = i
    if "name" not in columns:
        raise InitError(_("--roster: {path}: no column for the unit's name (name / tên đơn vị) in the first line",
                            path=path))
    out, seen = [], set()
    for line, row in enumerate(rows[1:], start=2):
        def cell(key: str, row: list[str] = row) -> str:
            i = columns.get(key)
            return row[i].strip() if i is not None and i < len(row) else ""

        name = cell("name")
        if not name:
            raise InitError(_("--roster: {path} line {line}: the unit's name is empty", path=path, line=line))
        unit_id = cell("id") or slug(name)
        if unit_id in seen:
            raise InitError(_("--roster: {path} line {line}: unit id \"{id}\" twice", path=path, line=line,
                                id=unit_id))
        seen.add(unit_id)
        emails = ";".join(e.strip() for e in re.split(r"[;,\s]+", cell("emails")) if e.strip())
        out.append({"id": unit_id, "name": name, "aliases": cell("aliases"), "emails": emails,
                    "group": cell("group")})
    return out


def write_units(rows: list[dict[str, str]], target: Path) -> None:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=UNITS_HEADER, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    target.write_text(buf.getvalue(), encoding="utf-8")


def _q(text: str) -> str:
    """A TOML basic string."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def render_config(a: Answers, units: int, today: dt.date, data_dir: Path | None = None) -> str:
    oauth = a.auth == "oauth"
    since = parse_staff_datetime(a.opens, TZ, dt.datetime.now(TZ), day_starts=True)[0].date() - dt.timedelta(days=30)
    def login(env: str) -> str:
        if oauth:
            return f"oauth2_token_command = {_q(a.oauth_token_command)}   # OAuth2: see docs/GMAIL.md"
        return f"password_env = \"{env}\"   # the password is in the environment (intake.env), never here"

    smtp_login = login(SMTP_PASSWORD_ENV) if a.smtp_username else "# no login on this server"
    report = "\n".join(f"{key} = {_q(a.report.get(key, ''))}" for key, _f, _q_, _e in REPORT_QUESTIONS)
    return f"""# intake configuration, written by `intake init` on {today:%d/%m/%Y}.
# Reference: docs/CONFIG.md. Check it with: intake --config THIS_FILE check-config
# Relative paths below are taken from this file's folder.
timezone = "Asia/Ho_Chi_Minh"          # how times are shown; stored in UTC
# The roster: {units} unit(s) in units.csv (columns id,name,aliases,emails,group; ';' between
# several addresses in one cell). Edit it with a spreadsheet, saved as CSV UTF-8.
units_file = "units.csv"

[store]
url = "{_store_url(data_dir)}"    # the database (PostgreSQL: postgresql+psycopg://...)
files_dir = {_q(str(data_dir / "files") if data_dir else "files")}    # original messages and attachments

[mailbox]
kind = "imap"
host = {_q(a.imap_host)}
port = {a.imap_port}
security = "{a.imap_security}"                    # "ssl" | "starttls" | "none" (none: this machine only)
username = {_q(a.imap_username)}
{login(IMAP_PASSWORD_ENV)}
folder = "INBOX"
after = "flag"                         # mark each stored message on the server ("move": to move_to)
poll_every = 60                        # seconds between checks when the server has no IDLE
since = {since.isoformat()}                   # ignore mail received before this day (an old mailbox's backlog)

[sending]
kind = "smtp"                          # "outbox": write .eml files to outbox_dir instead of sending
host = {_q(a.smtp_host)}
port = {a.smtp_port}
security = "{a.smtp_security}"
username = {_q(a.smtp_username)}
{smtp_login}
from_address = {_q(a.email)}
from_name = {_q(a.from_name)}

[acknowledge]
enabled = true                         # reply to every unit's report with what was received
language = "vi"                        # "vi" | "en"
max_age_days = 14                      # never acknowledge mail older than this
max_per_hour = 5                       # acknowledgements to one address in any hour

[[campaigns]]
id = {_q(a.campaign_id)}
title = {_q(a.campaign_title)}
opens = {_q(a.opens)}                  # dd/mm/yyyy [hh:mm], local time
deadline = {_q(a.deadline)}            # a date alone means the end of that day (23:59:59)
units = ["*"]                          # every unit of the roster; or ids, or "group:NAME"
section_title = {_q(a.section_title)}
remind = ["-3d", "-1d", "+1d"]         # remind units still missing 3 days and 1 day before, 1 day after

[report]                               # the compiled report's header and signature (Decree 30/2020);
{report}
                                       # an empty value is left as dots, to fill in by hand

[staff]
emails = []                            # staff addresses for the daily digest, e.g. ["ban@gmail.com"]
digest_at = "17:00"
"""


def _store_url(data_dir: Path | None) -> str:
    return f"sqlite:///{data_dir / 'intake.db'}" if data_dir else "sqlite:///intake.db"


def init(args: argparse.Namespace, environ: Mapping[str, str], console: Console | None = None,
         today: dt.date | None = None) -> int:
    console = console or Console(highlight=False)
    today = today or dt.datetime.now(TZ).date()
    target = Path(args.output)
    if target.exists() and not args.force:
        console.print(f"intake init: {target} đã có; dùng --force để ghi đè.")
        return 2
    interactive = not args.no_input and sys.stdin.isatty()
    if interactive:
        console.print("Thiết lập intake: trả lời các câu hỏi (Enter = giữ giá trị trong ngoặc vuông).")
    try:
        answers = collect(args, Asker(interactive, console), today)
        rows = guess_roster(Path(answers.roster)) if answers.roster else []
    except InitError as exc:
        console.print(f"intake init: {exc}")
        return 2
    folder = target.absolute().parent
    folder.mkdir(parents=True, exist_ok=True)
    units_csv = folder / "units.csv"
    if units_csv.exists() and not args.force:
        console.print(f"intake init: {units_csv} đã có; dùng --force để ghi đè.")
        return 2
    write_units(rows, units_csv)
    data_dir = Path(args.data_dir).absolute() if args.data_dir else None
    target.write_text(render_config(answers, len(rows), today, data_dir), encoding="utf-8")
    env = dict(environ)
    env_file = folder / "intake.env"
    if answers.password:
        fd = os.open(env_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            for name in (IMAP_PASSWORD_ENV, SMTP_PASSWORD_ENV):
                fh.write(env_line(name, answers.password))
                env[name] = answers.password
    console.print(f"Đã ghi {target} và {units_csv} ({len(rows)} đơn vị)"
                  + (f", mật khẩu trong {env_file} (chỉ chủ tệp đọc được)." if answers.password else "."))
    code = 0 if args.no_check else _check(target, env, console)
    _next_steps(console, target, env_file if answers.password else None, answers, len(rows), code)
    return code


def _check(target: Path, environ: Mapping[str, str], console: Console) -> int:
    from intake.processor.checks import check_config
    from intake.processor.config import load_config

    console.print("Kiểm tra cấu hình (check-config):")
    try:
        cfg = load_config(target, environ)
    except ConfigError as exc:
        console.print(f"  cấu hình chưa hợp lệ: {exc}")
        return 2
    return check_config(cfg, console)


def _next_steps(console: Console, target: Path, env_file: Path | None, a: Answers, units: int, code: int) -> None:
    cfg = f"--config {target}" if target.name != "intake.toml" or target.parent != Path() else ""
    run = f"intake {cfg} ".replace("  ", " ")
    steps = []
    if code != 0:
        if code == 1 and a.auth == "app-password" and env_file is None:
            steps.append(f"Đặt mật khẩu ứng dụng Gmail vào biến môi trường {IMAP_PASSWORD_ENV} và "
                         f"{SMTP_PASSWORD_ENV} (hoặc tệp intake.env: {IMAP_PASSWORD_ENV}='...'), "
                         f"rồi chạy lại: {run}check-config")
        else:
            steps.append(f"Sửa lỗi ở trên trong {target}, rồi chạy lại: {run}check-config")
    if units == 0:
        steps.append(f"Điền danh sách đơn vị vào {target.absolute().parent / 'units.csv'} "
                     "(mỗi dòng: id,name,aliases,emails,group)")
    steps.append(f"Tạo cơ sở dữ liệu: {run}db upgrade")
    steps.append(f"Chạy thử một lần: {run}run --once   rồi xem: {run}status")
    steps.append(f"Tạo tài khoản cho cán bộ vào trang quản lý: {run}users add TÊN (mật khẩu nhập hai lần)")
    steps.append(f"Mở trang quản lý: {run}serve, rồi vào http://127.0.0.1:8080/ (máy khác trong cơ quan: "
                 "[web] listen và base_url, README \"The dashboard on the office network\")")
    steps.append("Chạy thường trực: cài deploy/intake.service và deploy/intake-web.service "
                 "(README, \"The first hour\")")
    console.print("Việc tiếp theo:")
    for i, step in enumerate(steps, start=1):
        console.print(f"  {i}. {step}", markup=False)  # "[web]" is text, not a rich style
