"""Builders for the staff-side tests: a config, Word reports, messages in a Maildir, an App on a clock."""
from __future__ import annotations

import datetime as dt
import email
import email.policy
import email.utils
import io
from collections.abc import Callable
from contextlib import redirect_stdout
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from docx import Document

from intake.processor import cli
from intake.processor.app import App, open_store
from intake.processor.config import Config, parse_config

TZ = dt.timezone(dt.timedelta(hours=7))
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
SECTION_A = "Đánh giá kết quả tổ chức học tập, quán triệt và triển khai Chuyên đề năm 2024"
SECTION_B = "Kết quả thực hiện phong trào thi đua Giỏi việc nước, đảm việc nhà năm 2024"

UNITS = [
    {"id": "ldld-bao-thang", "name": "LĐLĐ huyện Bảo Thắng", "aliases": ["Liên đoàn Lao động huyện Bảo Thắng"],
     "emails": ["ldldbaothang@gmail.com"], "group": "huyen"},
    {"id": "ldld-bao-yen", "name": "LĐLĐ huyện Bảo Yên", "emails": ["ldldbaoyen@gmail.com"], "group": "huyen"},
    {"id": "ldld-sa-pa", "name": "LĐLĐ thị xã Sa Pa", "emails": ["ldldsapa@gmail.com"], "group": "huyen"},
    {"id": "cdn-y-te", "name": "Công đoàn ngành Y tế tỉnh Lào Cai", "aliases": ["CĐN Y tế"], "emails": [],
     "group": "nganh"},
]


def campaign(cid: str = "chuyen-de-2024", section: str = SECTION_A, *, opens: str = "2024-01-22T00:00:00+07:00",
             deadline: str = "2024-02-29T00:00:00+07:00", units: list[str] | None = None,
             remind: list[str] | None = None) -> dict[str, Any]:
    return {"id": cid, "title": f"Báo cáo {cid}", "opens": opens, "deadline": deadline,
            "units": units or ["*"], "section_title": section, "remind": remind or []}


def make_config(tmp: Path, *, campaigns: list[dict[str, Any]] | None = None, sending: dict[str, Any] | None = None,
                staff: dict[str, Any] | None = None) -> Config:
    data: dict[str, Any] = {
        "timezone": "Asia/Ho_Chi_Minh",
        "isolate_parsing": False,
        "store": {"url": f"sqlite:///{tmp / 'intake.db'}", "files_dir": str(tmp / "files")},
        "mailbox": {"kind": "maildir", "path": str(tmp / "maildir")},
        "sending": sending or {"kind": "outbox", "from_address": "bantuyengiao@gmail.com",
                               "from_name": "Ban Tuyên giáo - Nữ công LĐLĐ tỉnh Lào Cai",
                               "outbox_dir": str(tmp / "outbox")},
        "acknowledge": {"max_age_days": 3650},
        "units": UNITS,
        "campaigns": campaigns or [campaign()],
        "staff": staff or {},
    }
    return parse_config(data, tmp / "intake.toml", {})


def report_docx(issuer: str, heading: str, body: str) -> bytes:
    doc = Document()
    header = doc.add_table(rows=1, cols=2)
    left, right = header.rows[0].cells
    left.text = "LĐLĐ TỈNH LÀO CAI"
    if issuer:
        left.add_paragraph().add_run(issuer.upper()).bold = True
    left.add_paragraph("Số: 12/BC-LĐLĐ")
    right.text = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
    right.add_paragraph("Độc lập - Tự do - Hạnh phúc")
    doc.add_paragraph("BÁO CÁO")
    doc.add_heading("I. TÌNH HÌNH CHUNG", level=1)
    doc.add_paragraph("Công tác tuyên truyền được triển khai kịp thời.")
    doc.add_heading(heading, level=1)
    doc.add_paragraph(body)
    doc.add_paragraph("Trên đây là báo cáo của đơn vị.")
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


STUDY = "Tổng số đoàn viên: 1.250; số đoàn viên tham gia học tập: 1.241, đạt 99,3%. Đã tổ chức 14 hội nghị."


def message(sender: str, received: dt.datetime, *, name: str = "", docx: bytes | None = None,
            msgid: str | None = None, subject: str = "Báo cáo") -> bytes:
    msg = EmailMessage()
    stamp = email.utils.format_datetime(received)
    msg["Received"] = f"from mx.google.com by mx1.example with ESMTPS; {stamp}"
    msg["From"] = email.utils.formataddr((name, sender)) if name else sender
    msg["To"] = "bantuyengiao@gmail.com"
    msg["Subject"] = subject
    msg["Date"] = stamp
    msg["Message-ID"] = msgid or email.utils.make_msgid(domain="mail.gmail.com")
    msg.set_content("Kính gửi Ban Tuyên giáo, đơn vị gửi báo cáo.")
    if docx is not None:
        msg.add_attachment(docx, maintype="application", subtype=DOCX.split("/", 1)[1], filename="Bao cao.docx")
    return msg.as_bytes()


def with_attachment(raw: bytes, filename: str, data: bytes) -> bytes:
    """`raw` with one more attachment (bytes as given, octet-stream)."""
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    msg.add_attachment(data, maintype="application", subtype="octet-stream", filename=filename)
    return msg.as_bytes()


def drop(tmp: Path, raw: bytes, name: str) -> None:
    for sub in ("new", "cur", "tmp"):
        (tmp / "maildir" / sub).mkdir(parents=True, exist_ok=True)
    (tmp / "maildir" / "new" / name).write_bytes(raw)


class Clock:
    """A settable clock for App(clock=...)."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


def make_app(cfg: Config, clock: Callable[[], dt.datetime] | None = None) -> App:
    store = open_store(cfg)
    return App(cfg, store, clock=clock) if clock else App(cfg, store)


def at(text: str) -> dt.datetime:
    """'2024-02-26 09:12' in Vietnam time."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=TZ)


STAFF_NOW = at("2024-02-28 12:00")  # staff act during the campaign: `extend` refuses a past date


def run_cli(tmp: Path, *argv: str, user: str = "hoa", now: dt.datetime = STAFF_NOW) -> tuple[int, str]:
    """`intake --config tmp/intake.toml -q ARGV` as `user`, on a fixed clock: (exit status, stdout)."""
    out = io.StringIO()
    with redirect_stdout(out):
        code = cli.main(["--config", str(tmp / "intake.toml"), "-q", *argv], {"USER": user}, clock=lambda: now)
    return code, out.getvalue()


def write_toml(tmp: Path) -> None:
    """A small intake.toml (Maildir in, outbox out, three units, one campaign) for CLI tests."""
    (tmp / "intake.toml").write_text(f"""
timezone = "Asia/Ho_Chi_Minh"
isolate_parsing = false
[store]
url = "sqlite:///{tmp / 'intake.db'}"
files_dir = "{tmp / 'files'}"
[mailbox]
kind = "maildir"
path = "{tmp / 'maildir'}"
[sending]
kind = "outbox"
from_address = "bantuyengiao@gmail.com"
outbox_dir = "{tmp / 'outbox'}"
[acknowledge]
max_age_days = 3650
[[units]]
id = "ldld-bao-thang"
name = "LĐLĐ huyện Bảo Thắng"
emails = ["ldldbaothang@gmail.com"]
[[units]]
id = "ldld-bao-yen"
name = "LĐLĐ huyện Bảo Yên"
emails = []
[[units]]
id = "cdn-y-te"
name = "Công đoàn ngành Y tế tỉnh Lào Cai"
aliases = ["CĐN Y tế"]
[[campaigns]]
id = "chuyen-de-2024"
title = "Báo cáo Chuyên đề 2024"
opens = 2024-01-22T00:00:00+07:00
deadline = 2024-02-29T00:00:00+07:00
section_title = "{SECTION_A}"
""", encoding="utf-8")
