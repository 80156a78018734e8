"""Several daemons, one PostgreSQL store: two `intake run` processes on two mailboxes share it, and two on
the SAME mailbox by mistake never process or acknowledge a message twice (store/leases.py). Real processes
against the real Dovecot, PostgreSQL and SMTP fixtures; the figures are printed."""
from __future__ import annotations

import collections
import datetime as dt
import email.utils
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from pathlib import Path

import pytest
from servers.dovecot import DovecotServer
from servers.smtp import SmtpServer
from sqlalchemy import func, select

from intake.processor.app import open_store
from intake.processor.config import parse_config
from intake.processor.mailbox.imap import KEYWORD
from intake.store.models import Lease, Message, MessageState, Outgoing, OutgoingKind
from intake.store.repository import Store

NOW = dt.datetime.now(dt.UTC)
UNITS = 10


def toml(tmp: Path, name: str, pg_url: str, dovecot: DovecotServer, user: str, smtp: SmtpServer) -> Path:
    units = "".join(f'[[units]]\nid = "u{i}"\nname = "Đơn vị {i}"\nemails = ["u{i}@ldld.test"]\n\n'
                    for i in range(UNITS))
    path = tmp / f"{name}.toml"
    path.write_text(f'''timezone = "Asia/Ho_Chi_Minh"
isolate_parsing = false

[store]
url = "{pg_url}"
files_dir = "{tmp / 'files'}"

[mailbox]
kind = "imap"
host = "{dovecot.host}"
port = {dovecot.port}
security = "none"
username = "{user}"
password_env = "TEST_IMAP_PASSWORD"
poll_every = 1

[sending]
kind = "smtp"
host = "127.0.0.1"
port = {smtp.port}
security = "none"
from_address = "office@ldld.test"

[acknowledge]
max_age_days = 3650
max_per_hour = 1000

{units}[[campaigns]]
id = "c1"
title = "Báo cáo"
opens = "{(NOW - dt.timedelta(days=30)).isoformat()}"
deadline = "{(NOW + dt.timedelta(days=30)).isoformat()}"
section_title = "Đánh giá kết quả"
''', encoding="utf-8")
    return path


def note(n: int, tag: str) -> bytes:
    msg = EmailMessage()
    msg["From"] = f"Đơn vị {n % UNITS} <u{n % UNITS}@ldld.test>"
    msg["To"] = "office@ldld.test"
    msg["Subject"] = f"Báo cáo {tag} {n}"
    msg["Date"] = email.utils.format_datetime(NOW)
    msg["Message-ID"] = f"<{tag}-{n}@ldld.test>"
    msg.set_content(f"Báo cáo số {n}.")
    return bytes(msg)


@contextmanager
def daemons(configs: list[tuple[Path, str]], tmp: Path) -> Iterator[list[subprocess.Popen[bytes]]]:
    procs = []
    logs = []
    try:
        for i, (config, password) in enumerate(configs):
            log = (tmp / f"daemon{i}.log").open("wb")
            logs.append(log)
            procs.append(subprocess.Popen(
                [sys.executable, "-m", "intake.processor.cli", "--config", str(config), "run"], cwd=tmp,
                env={**os.environ, "TEST_IMAP_PASSWORD": password}, stdout=log, stderr=subprocess.STDOUT))
        yield procs
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for log in logs:
            log.close()


def wait_for(predicate: object, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return True
        time.sleep(0.1)
    return bool(predicate())  # type: ignore[operator]


def figures(pg_url: str, tmp: Path, smtp: SmtpServer) -> dict[str, int]:
    store = Store(pg_url, tmp / "files")
    try:
        with store.session() as s:
            messages = int(s.scalar(select(func.count()).select_from(Message)) or 0)
            processed = int(s.scalar(select(func.count()).select_from(Message)
                                     .where(Message.state == MessageState.PROCESSED)) or 0)
            acks = int(s.scalar(select(func.count()).select_from(Outgoing)
                                .where(Outgoing.kind == OutgoingKind.ACK)) or 0)
            leases = int(s.scalar(select(func.count()).select_from(Lease)) or 0)
            ids = list(s.scalars(select(Message.message_id)).all())
    finally:
        store.close()
    replied = collections.Counter(str(m.message["In-Reply-To"]) for m in smtp.messages)
    return {"messages": messages, "distinct_message_ids": len(set(ids)), "processed": processed,
            "ack_rows": acks, "delivered": len(smtp.messages), "duplicate_deliveries": sum(
                c - 1 for c in replied.values() if c > 1), "leases_left": leases}


def prepare(pg_url: str, config: Path) -> None:
    """Create the schema and the roster once, as `intake` does on first start (not raced here)."""
    store = open_store(parse_config(__import__("tomllib").loads(config.read_text()), config,
                                    {"TEST_IMAP_PASSWORD": "x"}))
    store.close()


def run_pair(pg_url: str, dovecot: DovecotServer, smtp: SmtpServer, tmp: Path, users: tuple[str, str],
             before: list[tuple[str, bytes]], during: list[tuple[str, bytes]]) -> dict[str, int]:
    """Two `intake run` processes (one per user's mailbox) on one store: `before` is in the mailboxes when
    they start, `during` arrives while they run; stopped once every distinct message is acknowledged."""
    configs = [toml(tmp, f"d{i}", pg_url, dovecot, user, smtp) for i, user in enumerate(users)]
    prepare(pg_url, configs[0])
    for user, raw in before:
        dovecot.append(user, "INBOX", raw, NOW)
    expected = len({raw for _user, raw in before + during})
    with daemons([(config, dovecot.users[user]) for config, user in zip(configs, users, strict=True)],
                 tmp) as procs:
        for user, raw in during:
            dovecot.append(user, "INBOX", raw, NOW)
            time.sleep(0.05)
        assert wait_for(lambda: len(smtp.messages) >= expected, 60.0), len(smtp.messages)
        time.sleep(3)  # anything sent twice would arrive now
        assert all(p.poll() is None for p in procs), "a daemon died"
    return figures(pg_url, tmp, smtp)


@pytest.mark.server
def test_two_daemons_on_two_mailboxes_share_one_postgresql(
        pg_url: str, dovecot: DovecotServer, smtp_server: SmtpServer, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    before = [(user, note(n, tag)) for n in range(25) for user, tag in (("intake", "a"), ("alice", "b"))]
    before += [(user, note(n, "both")) for n in range(5) for user in ("intake", "alice")]  # Cc'd to both
    during = [(user, note(n, tag)) for n in range(25, 30) for user, tag in (("intake", "a"), ("alice", "b"))]
    got = run_pair(pg_url, dovecot, smtp_server, tmp_path, ("intake", "alice"), before, during)
    with capsys.disabled():
        print(f"\ntwo daemons, two mailboxes, one PostgreSQL: {got}")
    assert got == {"messages": 65, "distinct_message_ids": 65, "processed": 65, "ack_rows": 65, "delivered": 65,
                   "duplicate_deliveries": 0, "leases_left": 0}


@pytest.mark.server
def test_two_daemons_on_the_same_mailbox_never_process_or_acknowledge_twice(
        pg_url: str, dovecot: DovecotServer, smtp_server: SmtpServer, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    got = run_pair(pg_url, dovecot, smtp_server, tmp_path, ("intake", "intake"),
                   [("intake", note(n, "same")) for n in range(40)],
                   [("intake", note(n, "same")) for n in range(40, 60)])
    logs = [(tmp_path / f"daemon{i}.log").read_bytes().decode("utf-8", "replace") for i in range(2)]
    waited = sum(log.count("is being served by") for log in logs)
    fetched_by = [sum(int(n) for n in re.findall(r": fetched (\d+), new", log)) for log in logs]
    with capsys.disabled():
        print(f"\ntwo daemons, the SAME mailbox: {got}; rounds refused by the lease: {waited}; "
              f"messages fetched by each daemon: {fetched_by}")
    assert got == {"messages": 60, "distinct_message_ids": 60, "processed": 60, "ack_rows": 60, "delivered": 60,
                   "duplicate_deliveries": 0, "leases_left": 0}
    assert sum(fetched_by) == 60, "each message fetched by one daemon only"
    flags = dovecot.list_messages("intake")
    assert len(flags) == 60 and all(KEYWORD in f or b"\\Flagged" in f for _uid, f in flags), "all flagged"
