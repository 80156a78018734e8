"""Regenerate tests/golden/acks/*.eml: one delivered acknowledgement per status.

    .venv/bin/python tests/golden/make_acks.py

Fixed inputs (the example reports of scripts/make_examples.py, the document
fixtures) go through the real pipeline with a fixed clock, and the
acknowledgements are delivered over SMTP to a private aiosmtpd server; each
file is the bytes that server received. Only Message-ID, Date and MIME
boundaries change between runs (`normalise` drops them for comparison).
Also the test-support module of tests/test_acknowledge.py and test_smtp.py.
"""
from __future__ import annotations

import datetime as dt
import importlib.util
import re
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

TESTS = Path(__file__).resolve().parent.parent
ROOT = TESTS.parent
GOLDEN = TESTS / "golden" / "acks"
DOCS = TESTS / "fixtures" / "documents"
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))

from servers.smtp import SmtpServer  # noqa: E402

from intake.processor.app import App, open_store  # noqa: E402
from intake.processor.config import Config, parse_config  # noqa: E402

OFFICE = "bantuyengiaonuconglc@gmail.com"
OFFICE_NAME = "Ban Tuyên giáo - Nữ công LĐLĐ tỉnh Lào Cai"
CLOCK = dt.datetime(2024, 3, 2, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=7)))
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
SECTION_TITLE = "Đánh giá kết quả tổ chức học tập, quán triệt và triển khai Chuyên đề năm 2024"


def _examples() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_examples", ROOT / "scripts" / "make_examples.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


EX = _examples()

UNITS: list[dict[str, Any]] = [
    {"id": "ldld-bao-thang", "name": "LĐLĐ huyện Bảo Thắng", "emails": ["ldldbaothang@gmail.com"]},
    {"id": "ldld-bat-xat", "name": "LĐLĐ huyện Bát Xát", "emails": ["ldldbatxat@gmail.com"]},
    {"id": "ldld-sa-pa", "name": "LĐLĐ thị xã Sa Pa", "emails": ["ldldsapa@gmail.com"]},
    {"id": "ldld-bac-ha", "name": "LĐLĐ huyện Bắc Hà", "emails": ["ldldbacha@gmail.com"]},
    {"id": "cdn-y-te", "name": "Công đoàn ngành Y tế tỉnh Lào Cai", "emails": ["cdnyte.laocai@gmail.com"]},
    {"id": "cdn-giao-duc", "name": "Công đoàn ngành Giáo dục tỉnh Lào Cai", "emails": ["cdngiaoduc@gmail.com"]},
    {"id": "ldld-muong-khuong", "name": "LĐLĐ huyện Mường Khương", "emails": ["ldldmuongkhuong@gmail.com"]},
    {"id": "ldld-van-ban", "name": "LĐLĐ huyện Văn Bàn",
     "aliases": ["Liên đoàn Lao động huyện Văn Bàn"], "emails": []},
]


def config(tmp: Path, sending: dict[str, Any] | None = None, *, language: str = "vi",
           max_per_hour: int = 5) -> Config:
    """A config for a scratch directory: Maildir in tmp/maildir, the store in tmp."""
    (tmp / "maildir" / "new").mkdir(parents=True, exist_ok=True)
    (tmp / "maildir" / "cur").mkdir(exist_ok=True)
    data = {
        "timezone": "Asia/Ho_Chi_Minh",
        "isolate_parsing": False,
        "store": {"url": f"sqlite:///{tmp / 'intake.db'}", "files_dir": str(tmp / "files")},
        "mailbox": {"kind": "maildir", "path": str(tmp / "maildir")},
        "sending": {"kind": "outbox", "outbox_dir": str(tmp / "outbox"), "from_address": OFFICE,
                    "from_name": OFFICE_NAME, **(sending or {})},
        "acknowledge": {"language": language, "max_age_days": 14, "max_per_hour": max_per_hour},
        "units": UNITS,
        "campaigns": [{"id": "chuyen-de-2024", "title": "Báo cáo kết quả học tập Chuyên đề năm 2024",
                       "opens": "2024-01-22T00:00:00+07:00", "deadline": "2024-02-29T00:00:00+07:00",
                       "section_title": SECTION_TITLE}],
    }
    return parse_config(data, tmp / "intake.toml", {"INTAKE_SMTP_PASSWORD": "smtp-secret"})


def smtp_sending(server: SmtpServer, **extra: Any) -> dict[str, Any]:
    """The [sending] table for a test SMTP server (CA file and login as the fixture wants)."""
    table: dict[str, Any] = {"kind": "smtp", "host": server.host, "port": server.port,
                             "security": server.security, "timeout": 10}
    if server.ca_pem is not None:
        table["ca_file"] = str(server.ca_pem)
    if server.auth != "none":
        table["username"] = next(iter(server.users))
    return {**table, **extra}


def report(issuer: str, with_section: bool = True) -> bytes:
    sections = [("I. CÔNG TÁC LÃNH ĐẠO, CHỈ ĐẠO", ["Ban Thường vụ ban hành Kế hoạch triển khai học tập Chuyên đề."])]
    if with_section:
        sections.append(("II. ĐÁNH GIÁ RIÊNG VỀ KẾT QUẢ HỌC TẬP, QUÁN TRIỆT CHUYÊN ĐỀ NĂM 2024",
                         EX.body_study("1.250", "1.234", "98,7", "12")))
    sections.append(("III. PHƯƠNG HƯỚNG, NHIỆM VỤ THỜI GIAN TỚI", ["Tiếp tục đưa Chuyên đề vào sinh hoạt."]))
    rep = EX.Report(issuer=issuer, number="15/BC-LĐLĐ", place_date="Lào Cai, ngày 26 tháng 02 năm 2024",
                    sections=sections)
    return bytes(EX.build_docx(rep))


@dataclass(frozen=True)
class Incoming:
    """One message a unit sends in."""

    sender: str
    name: str
    subject: str
    received: str                       # RFC 5322 date of the topmost Received: header
    msgid: str
    attachments: tuple[tuple[str, bytes, str], ...] = ()
    headers: dict[str, str] = field(default_factory=dict)
    references: str = ""

    def raw(self) -> bytes:
        headers = dict(self.headers)
        if self.references:
            headers.setdefault("In-Reply-To", self.references.split()[-1])
            headers.setdefault("References", self.references)
        return bytes(EX.mail(sender=self.sender, name=self.name, subject=self.subject, received=self.received,
                             msgid=self.msgid, body="Kính gửi Ban Tuyên giáo - Nữ công,\nĐơn vị gửi báo cáo.",
                             attachments=list(self.attachments), headers=headers))


def cases() -> dict[str, Incoming]:
    """One incoming message per acknowledgement status, by golden file name."""
    pdf = (DOCS / "sample.pdf").read_bytes()
    return {
        "on_time": Incoming(
            "ldldbaothang@gmail.com", "LĐLĐ huyện Bảo Thắng", "Re: Re: Báo cáo Chuyên đề 2024 - LĐLĐ Bảo Thắng",
            "Tue, 27 Feb 2024 09:12:03 +0700", "bt-0001",
            (("BC chuyên đề 2024 - Bảo Thắng.docx", report("LĐLĐ huyện Bảo Thắng"), DOCX),
             ("BC Bảo Thắng (bản ký).pdf", pdf, "application/pdf")),
            references="<thread-start@ldld.vn> <bt-0000@mail.gmail.com>"),
        "late": Incoming(
            "ldldbatxat@gmail.com", "Liên đoàn Lao động huyện Bát Xát", "Báo cáo chuyên đề năm 2024",
            "Fri, 01 Mar 2024 08:05:00 +0700", "bx-0001",
            (("Bao cao chuyen de 2024.docx", report("LĐLĐ huyện Bát Xát"), DOCX),)),
        "section_missing": Incoming(
            "ldldsapa@gmail.com", "LĐLĐ thị xã Sa Pa", "Báo cáo Chuyên đề",
            "Mon, 26 Feb 2024 15:40:00 +0700", "sp-0001",
            (("BC Sa Pa.docx", report("LĐLĐ thị xã Sa Pa", with_section=False), DOCX),)),
        "no_attachment": Incoming(
            "ldldbacha@gmail.com", "LĐLĐ huyện Bắc Hà", "Gửi báo cáo chuyên đề",
            "Wed, 28 Feb 2024 10:00:00 +0700", "bh-0001"),
        "unsupported_attachment": Incoming(
            "cdnyte.laocai@gmail.com", "Công đoàn ngành Y tế", "Báo cáo Chuyên đề 2024",
            "Tue, 27 Feb 2024 10:03:00 +0700", "yt-0001",
            (("Bao cao Y te.pdf", pdf, "application/pdf"),)),
        "unreadable_attachment": Incoming(
            "cdngiaoduc@gmail.com", "CĐN Giáo dục", "Báo cáo Chuyên đề 2024",
            "Tue, 27 Feb 2024 11:00:00 +0700", "gd-0001",
            (("BC Giáo dục.docx", b"PK\x03\x04" + b"\x00broken zip" * 40, DOCX),)),
        "encrypted_attachment": Incoming(
            "ldldmuongkhuong@gmail.com", "LĐLĐ huyện Mường Khương", "Báo cáo Chuyên đề 2024",
            "Tue, 27 Feb 2024 14:20:00 +0700", "mk-0001",
            (("BC Mường Khương.docx", (DOCS / "encrypted.docx").read_bytes(), DOCX),)),
        "sender_not_registered": Incoming(
            "vanban.ldld@yahoo.com", "Liên đoàn Lao động huyện Văn Bàn", "Báo cáo Chuyên đề 2024",
            "Wed, 28 Feb 2024 16:45:00 +0700", "vb-0001",
            (("BC Văn Bàn.docx", report("LĐLĐ huyện Văn Bàn"), DOCX),)),
        "unknown_sender": Incoming(
            "mamnonhoahong.lc@yahoo.com", "Trường Mầm non Hoa Hồng", "Báo cáo",
            "Tue, 27 Feb 2024 09:30:00 +0700", "hh-0001",
            (("bao cao.docx", report("Trường Mầm non Hoa Hồng"), DOCX),)),
    }


def drop(tmp: Path, messages: dict[str, Incoming] | list[Incoming]) -> None:
    """Put messages into the scratch Maildir's new/."""
    items = messages.values() if isinstance(messages, dict) else messages
    for item in items:
        (tmp / "maildir" / "new" / f"{item.msgid}.eml").write_bytes(item.raw())


@contextmanager
def app_for(cfg: Config, clock: Callable[[], dt.datetime] = lambda: CLOCK) -> Iterator[App]:
    store = open_store(cfg)
    try:
        yield App(cfg, store, clock=clock)
    finally:
        store.close()


def produce(tmp: Path, language: str = "vi") -> dict[str, bytes]:
    """Run every case through the pipeline and SMTP; the delivered bytes by case name."""
    incoming = cases()
    by_address = {item.sender: name for name, item in incoming.items()}
    with SmtpServer() as server:
        cfg = config(tmp, smtp_sending(server), language=language)
        drop(tmp, incoming)
        with app_for(cfg) as app:
            app.run_once()
        got = server.wait_for(len(incoming), timeout=10)
    return {by_address[m.rcpt_tos[0]]: m.raw for m in got}


_VOLATILE = re.compile(rb"^(Message-ID|Date): .*(\r?\n[ \t].*)*$", re.MULTILINE | re.IGNORECASE)
_BOUNDARY = re.compile(rb'boundary="([^"]+)"')


def normalise(raw: bytes) -> bytes:
    """The message without what changes between runs: Message-ID, Date, MIME boundaries."""
    for boundary in set(_BOUNDARY.findall(raw)):
        raw = raw.replace(boundary, b"BOUNDARY")
    return _VOLATILE.sub(rb"\1: (varies)", raw).replace(b"\r\n", b"\n")


def main() -> None:
    GOLDEN.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="intake-acks-") as tmp:
        delivered = produce(Path(tmp))
    for name, raw in sorted(delivered.items()):
        (GOLDEN / f"{name}.eml").write_bytes(raw)
        print(f"wrote {GOLDEN / name}.eml ({len(raw)} bytes)")


if __name__ == "__main__":
    main()
