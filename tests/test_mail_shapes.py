"""Real-world mail shapes end to end: each client's submission (tests/fixtures/mail/*.eml) goes raw into a
Maildir, through `intake run --once` (outbox sending) and `status --json`; the unit is attributed, the section
found, and the acknowledgement in the outbox goes to the sender's addr-spec, threaded on its id verbatim.
The Office 365 and Gmail shapes also come over IMAP from the real Dovecot."""
from __future__ import annotations

import datetime as dt
import email.parser
import email.policy
import io
import json
from contextlib import redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fixtures.mail.make_mail import HERE as MAIL
from fixtures.mail.make_mail import SHAPES, Shape
from servers.dovecot import DovecotServer

from intake.parsers.email import topmost_received_at
from intake.processor import cli
from intake.processor.app import App, open_store
from intake.processor.config import parse_config
from intake.processor.staff.report import status_json

CLOCK = dt.datetime(2024, 3, 2, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=7)))
OFFICE = "bantuyengiaonuconglc@gmail.com"
SECTION = "Đánh giá kết quả tổ chức học tập, quán triệt và triển khai Chuyên đề năm 2024"
CAMPAIGN = {"id": "chuyen-de-2024", "title": "Báo cáo kết quả học tập Chuyên đề năm 2024",
            "opens": "2024-01-22T00:00:00+07:00", "deadline": "2024-02-29T00:00:00+07:00", "units": ["*"],
            "section_title": SECTION}


def config_toml(tmp: Path, mailbox: str) -> str:
    return f"""timezone = "Asia/Ho_Chi_Minh"
isolate_parsing = false
units_file = "{MAIL / 'units.csv'}"
[store]
url = "sqlite:///{tmp / 'intake.db'}"
files_dir = "{tmp / 'files'}"
[mailbox]
{mailbox}
[sending]
kind = "outbox"
from_address = "{OFFICE}"
from_name = "Ban Tuyên giáo - Nữ công LĐLĐ tỉnh Lào Cai"
outbox_dir = "{tmp / 'outbox'}"
[acknowledge]
max_age_days = 3650
[[campaigns]]
id = "{CAMPAIGN['id']}"
title = "{CAMPAIGN['title']}"
opens = {CAMPAIGN['opens']}
deadline = {CAMPAIGN['deadline']}
units = ["*"]
section_title = "{SECTION}"
"""


def cli_json(tmp: Path, *argv: str) -> Any:
    out = io.StringIO()
    with redirect_stdout(out):
        assert cli.main(["--config", str(tmp / "intake.toml"), "-q", *argv], {}, clock=lambda: CLOCK) == 0
    return json.loads(out.getvalue()) if out.getvalue().strip() else None


@dataclass(frozen=True)
class Ack:
    raw: bytes

    def field(self, name: str) -> str:
        """A header as written, unfolded, not decoded."""
        value = email.parser.BytesHeaderParser(policy=email.policy.compat32).parsebytes(self.raw)[name]
        return "" if value is None else " ".join(str(value).split())

    def decoded(self, name: str) -> str:
        return str(email.parser.BytesParser(policy=email.policy.default).parsebytes(self.raw)[name] or "")


def acks_by_recipient(outbox: Path) -> dict[str, Ack]:
    out: dict[str, Ack] = {}
    for path in sorted(outbox.glob("*.eml")):
        ack = Ack(path.read_bytes())
        to = email.parser.BytesParser(policy=email.policy.default).parsebytes(ack.raw)["To"].addresses
        assert len(to) == 1, to
        assert to[0].addr_spec not in out, f"two acknowledgements to {to[0].addr_spec}"
        out[to[0].addr_spec] = ack
    return out


@dataclass(frozen=True)
class Run:
    status: dict[str, Any]
    acks: dict[str, Ack]

    def unit(self, unit_id: str) -> dict[str, Any]:
        (unit,) = (u for u in self.status["units"] if u["id"] == unit_id)
        return unit


@pytest.fixture(scope="module")
def maildir_run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    tmp = tmp_path_factory.mktemp("shapes")
    for sub in ("new", "cur", "tmp"):
        (tmp / "maildir" / sub).mkdir(parents=True)
    for shape in SHAPES.values():
        (tmp / "maildir" / "new" / f"{shape.name}.eml").write_bytes((MAIL / f"{shape.name}.eml").read_bytes())
    (tmp / "intake.toml").write_text(config_toml(tmp, f'kind = "maildir"\npath = "{tmp / "maildir"}"'),
                                     encoding="utf-8")
    cli_json(tmp, "run", "--once")
    return Run(cli_json(tmp, "status", "--json"), acks_by_recipient(tmp / "outbox"))


def test_the_fixtures_are_what_the_generator_writes() -> None:
    assert {p.stem for p in MAIL.glob("*.eml")} == set(SHAPES)
    for shape in SHAPES.values():
        assert (MAIL / f"{shape.name}.eml").read_bytes() == shape.build(), (
            f"{shape.name}.eml differs from a fresh run: .venv/bin/python tests/fixtures/mail/make_mail.py")


def assert_submission(run: Run, shape: Shape) -> None:
    unit = run.unit(shape.unit_id)
    assert unit["status"] == "on_time", (shape.name, unit["status"])
    latest = unit["latest"]
    assert latest["message_id"] == shape.message_id
    assert latest["from"] == shape.reply_to
    assert latest["problems"] == [], (shape.name, latest["problems"])
    section = latest["section"]
    assert section["found"] is True and section["heading"] == shape.heading, (shape.name, section["heading"])
    assert section["figures"].get("participants"), shape.name


def assert_threaded_ack(run: Run, shape: Shape) -> None:
    ack = run.acks.get(shape.reply_to)
    assert ack is not None, f"no acknowledgement to {shape.reply_to}; sent to {sorted(run.acks)}"
    assert ack.field("In-Reply-To") == shape.message_id  # the original id, verbatim
    references = ack.field("References").split(" ")
    assert references[-1] == shape.message_id and len(references) <= 11
    assert ack.decoded("Subject").startswith("Re: ") and not ack.decoded("Subject").startswith("Re: Re:")
    assert ack.field("Auto-Submitted") == "auto-replied"
    head = ack.raw.split(b"\r\n\r\n", 1)[0]
    assert all(len(line) <= 998 for line in head.split(b"\r\n"))


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_each_client_shape_is_attributed_found_and_acknowledged_threaded(name: str, maildir_run: Run) -> None:
    shape = SHAPES[name]
    assert_submission(maildir_run, shape)
    assert_threaded_ack(maildir_run, shape)


def test_every_shape_is_acknowledged_once_and_nothing_is_unmatched(maildir_run: Run) -> None:
    assert sorted(maildir_run.acks) == sorted(s.reply_to for s in SHAPES.values())
    assert maildir_run.status["unmatched"] == []


def test_office365_winmail_dat_beside_the_report_raises_no_problem(maildir_run: Run) -> None:
    latest = maildir_run.unit("cd-dien-luc")["latest"]
    assert latest["attachment"] == "BC chuyên đề 2024 - CĐ Điện lực.docx" and latest["problems"] == []


def test_apple_mail_nfd_file_name_is_shown_composed(maildir_run: Run) -> None:
    assert maildir_run.unit("ldld-sa-pa")["latest"]["attachment"] == "Báo cáo chuyên đề Sa Pa.docx"


def test_the_thread_of_30_keeps_its_first_id_and_the_latest(maildir_run: Run) -> None:
    from fixtures.mail.make_mail import CHAIN

    refs = maildir_run.acks["ldldtplaocai@laocai.gov.vn"].field("References").split(" ")
    assert refs == [CHAIN[0], *CHAIN[-9:], SHAPES["thread_30_ids"].message_id]


def test_a_reply_to_our_acknowledgement_threads_on_the_reply_and_keeps_our_id(maildir_run: Run) -> None:
    from fixtures.mail.make_mail import FIRST_ID, OUR_ACK_ID

    refs = maildir_run.acks["ldldvanban@gmail.com"].field("References").split(" ")
    assert refs == [FIRST_ID, OUR_ACK_ID, SHAPES["reply_to_ack"].message_id]


@pytest.mark.server
@pytest.mark.parametrize("name", ["office365", "gmail"])
def test_over_imap_from_dovecot(name: str, dovecot: DovecotServer, tmp_path: Path) -> None:
    shape = SHAPES[name]
    raw = (MAIL / f"{name}.eml").read_bytes()
    when = topmost_received_at(email.parser.BytesHeaderParser(policy=email.policy.compat32).parsebytes(raw))
    assert when is not None
    dovecot.append("intake", "INBOX", raw, when)
    data = {"timezone": "Asia/Ho_Chi_Minh", "isolate_parsing": False, "units_file": str(MAIL / "units.csv"),
            "store": {"url": f"sqlite:///{tmp_path / 'intake.db'}", "files_dir": str(tmp_path / "files")},
            "mailbox": {"kind": "imap", "host": dovecot.host, "port": dovecot.port, "security": "none",
                        "username": "intake", "password_env": "TEST_IMAP_PASSWORD", "folder": "INBOX",
                        "after": "flag", "timeout": 10},
            "sending": {"kind": "outbox", "from_address": OFFICE, "outbox_dir": str(tmp_path / "outbox")},
            "acknowledge": {"max_age_days": 3650}, "campaigns": [CAMPAIGN]}
    cfg = parse_config(data, tmp_path / "intake.toml", {"TEST_IMAP_PASSWORD": dovecot.users["intake"]})
    app = App(cfg, open_store(cfg), clock=lambda: CLOCK)
    try:
        app.run_once()
        run = Run(status_json(app.status(None), cfg.timezone), acks_by_recipient(tmp_path / "outbox"))
    finally:
        app.store.close()
    assert_submission(run, shape)
    assert_threaded_ack(run, shape)
    assert list(run.acks) == [shape.reply_to]
    # Received is the server's INTERNALDATE, kept exactly.
    assert dt.datetime.fromisoformat(run.unit(shape.unit_id)["received_at"]) == when
