"""Faults lose nothing and send nothing twice, each against the real servers: the IMAP server restarted
mid-fetch, the SMTP server down for an (injected-clock) hour, files_dir on a full disk (a real 1 MB
tmpfs), the SQLite store busy with concurrent `status`/`export` processes while the daemon writes."""
from __future__ import annotations

import collections
import datetime as dt
import email
import email.policy
import os
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from servers.dovecot import DovecotServer
from servers.smtp import SmtpServer
from sqlalchemy import select
from staffkit import STUDY, Clock, at, drop, make_app, make_config, message, report_docx, write_toml
from test_imap import NOW, USER, build_config, flags_by_uid, note, outbox

import intake.processor.mailbox.imap as imap
from intake.parsers.errors import MailboxError, StoreError
from intake.processor.app import App, open_store
from intake.processor.config import Config, load_config
from intake.processor.mailbox.imap import KEYWORD
from intake.processor.sending import MAX_BACKOFF
from intake.processor.sending.smtp import SmtpTransport
from intake.store.models import Message, Outgoing, OutgoingState


def imap_config(tmp: Path, server: DovecotServer) -> Config:
    """test_imap's config, without the hourly cap (every note comes from one address)."""
    cfg = build_config(tmp, server)
    return replace(cfg, acknowledge=replace(cfg.acknowledge, max_per_hour=1000))


def in_reply_to(paths: list[Path]) -> collections.Counter[str]:
    return collections.Counter(
        str(email.message_from_bytes(p.read_bytes(), policy=email.policy.default)["In-Reply-To"]) for p in paths)


def states(app: App) -> collections.Counter[str]:
    with app.store.session() as s:
        return collections.Counter(m.state.value for m in s.scalars(select(Message)).all())


# -- IMAP server restarted mid-fetch ---------------------------------------------------------------


def test_imap_restart_mid_fetch_loses_nothing_and_acknowledges_once(
        dovecot: DovecotServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(imap, "BATCH_COUNT", 5)  # bodies fetched five at a time: the restart falls between
    for n in range(30):
        dovecot.append(USER, "INBOX", note(n), NOW)
    cfg = imap_config(tmp_path, dovecot)
    app = App(cfg, open_store(cfg))
    handled = 0

    def restart_after_the_12th() -> bool:
        nonlocal handled
        handled += 1
        if handled == 12:
            dovecot.restart()
        return False

    try:
        with pytest.raises(MailboxError):
            app.pipeline.fetch(app.open_mailbox(), restart_after_the_12th)
        first = states(app)
        app.run_once()  # the next round, as the daemon's reconnect would
        app.run_once()
        assert states(app) == {"processed": 30}
    finally:
        app.store.close()
    acks = outbox(cfg)
    assert 12 <= first["processed"] < 30, first
    assert len(acks) == 30 and set(in_reply_to(acks).values()) == {1}
    assert all(KEYWORD in flags for flags in flags_by_uid(dovecot).values())


# -- SMTP down for an hour ------------------------------------------------------------------------


def test_smtp_outage_of_an_hour_then_recovery_sends_each_once(smtp_server: SmtpServer, tmp_path: Path) -> None:
    sending = {"kind": "smtp", "host": "127.0.0.1", "port": smtp_server.port, "security": "none",
               "from_address": "bantuyengiao@gmail.com", "timeout": 5}
    cfg = make_config(tmp_path, sending=sending)
    clock = Clock(at("2024-02-27 10:00"))
    # The transport reads the server's port when it connects: the restarted fixture listens on a new one.
    app = App(cfg, open_store(cfg), clock=clock,
              transport_factory=lambda: SmtpTransport(replace(cfg.sending, port=smtp_server.port)))
    doc = report_docx("", "II. ĐÁNH GIÁ KẾT QUẢ HỌC TẬP CHUYÊN ĐỀ NĂM 2024", STUDY)
    try:
        smtp_server.stop()
        drop(tmp_path, message("ldldbaothang@gmail.com", at("2024-02-27 09:00"), docx=doc), "1")
        drop(tmp_path, message("ldldbaoyen@gmail.com", at("2024-02-27 09:30"), docx=doc), "2")
        rounds = 0
        while clock.now < at("2024-02-27 11:00"):  # an hour of daemon rounds, one a minute, none sleeping
            app.run_once()
            rounds += 1
            if clock.now == at("2024-02-27 10:30"):  # mail keeps arriving during the outage
                drop(tmp_path, message("ldldsapa@gmail.com", at("2024-02-27 10:29"), docx=doc), "3")
            clock.now += dt.timedelta(minutes=1)
        with app.store.session() as s:
            rows = list(s.scalars(select(Outgoing)).all())
        assert len(rows) == 3 and {r.state for r in rows} == {OutgoingState.PENDING}
        assert all("không kết nối được" in (r.last_error or "") for r in rows), [r.last_error for r in rows]
        attempts = sum(r.attempts for r in rows)
        assert 3 <= attempts < rounds, "backoff: far fewer attempts than rounds"
        smtp_server.start()
        clock.now += 2 * MAX_BACKOFF  # past every backoff: jitter stretches the longest to 1.5 x MAX_BACKOFF
        app.run_once()
        app.run_once()
        with app.store.session() as s:
            assert {r.state for r in s.scalars(select(Outgoing)).all()} == {OutgoingState.SENT}
    finally:
        app.store.close()
    got = smtp_server.wait_for(3)
    time.sleep(0.5)
    assert len(smtp_server.messages) == 3
    assert sorted(m.rcpt_tos[0] for m in got) == ["ldldbaothang@gmail.com", "ldldbaoyen@gmail.com",
                                                  "ldldsapa@gmail.com"]


# -- files_dir on a full disk ------------------------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A real 1 MB tmpfs (needs root, as the test machines run; fails, never skips, without it)."""
    mnt = tmp_path / "disk"
    mnt.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m,mode=0700", "tmpfs", str(mnt)], check=True)
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def test_full_disk_is_a_clear_error_and_the_message_waits_on_the_server(
        dovecot: DovecotServer, tmp_path: Path, small_disk: Path) -> None:
    cfg = imap_config(tmp_path, dovecot)
    cfg = replace(cfg, store=replace(cfg.store, files_dir=small_disk / "files"))
    small = [dovecot.append(USER, "INBOX", note(n), NOW) for n in range(3)]
    big = dovecot.append(USER, "INBOX", note(99) + b"\n" + os.urandom(900 * 1024).hex().encode()[:1_600_000], NOW)
    after = dovecot.append(USER, "INBOX", note(100), NOW)
    app = App(cfg, open_store(cfg))
    try:
        with pytest.raises(StoreError, match="No space left on device"):
            app.run_once()
        flags = flags_by_uid(dovecot)
        assert all(KEYWORD in flags[uid] for uid in small)
        assert KEYWORD not in flags[big] and KEYWORD not in flags[after], "left on the server for later"
        assert states(app) == {"processed": 3}
        subprocess.run(["mount", "-o", "remount,size=8m", str(small_disk)], check=True)  # staff free space
        app.run_once()
        app.run_once()
        assert states(app) == {"processed": 5}
    finally:
        app.store.close()
    assert all(KEYWORD in f for f in flags_by_uid(dovecot).values())
    acks = outbox(cfg)
    assert len(acks) == 5 and set(in_reply_to(acks).values()) == {1}


def test_full_disk_while_storing_attachments_leaves_the_message_for_the_next_round(
        tmp_path: Path, small_disk: Path) -> None:
    """The raw fits, its attachment does not: nothing of the message is stored (its files are written before
    its row, with its decision), it stays in the mailbox, and is fetched and processed once space is back."""
    cfg = make_config(tmp_path)
    cfg = replace(cfg, store=replace(cfg.store, files_dir=small_disk / "files"))
    filler = small_disk / "filler"
    doc = report_docx("", "II. ĐÁNH GIÁ KẾT QUẢ HỌC TẬP CHUYÊN ĐỀ NĂM 2024", STUDY)
    raw = message("ldldbaothang@gmail.com", at("2024-02-27 09:00"), docx=doc)
    free = os.statvfs(small_disk).f_bavail * os.statvfs(small_disk).f_frsize
    filler.write_bytes(b"\0" * (free - len(raw) - 8 * 1024))  # room for the raw message, not its attachment
    drop(tmp_path, raw, "1")
    app = make_app(cfg, Clock(at("2024-02-27 10:00")))
    try:
        with pytest.raises(StoreError, match="No space left on device"):
            app.run_once()
        assert states(app) == {}  # not stored, not failed: no ledger entry, fetched again
        filler.unlink()
        app.run_once()
        assert states(app) == {"processed": 1}
    finally:
        app.store.close()
    assert len(outbox(cfg)) == 1


# -- SQLite busy with staff commands while the daemon writes --------------------------------------


def _toml(tmp: Path) -> Path:
    """staffkit's config file, without the hourly cap (every message comes from one address)."""
    write_toml(tmp)
    path = tmp / "intake.toml"
    path.write_text(path.read_text(encoding="utf-8").replace("max_age_days = 3650",
                                                             "max_age_days = 3650\nmax_per_hour = 1000"),
                    encoding="utf-8")
    return path


def test_sqlite_busy_with_status_and_export_while_the_daemon_writes(tmp_path: Path,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    config = _toml(tmp_path)
    doc = report_docx("", "II. ĐÁNH GIÁ KẾT QUẢ HỌC TẬP CHUYÊN ĐỀ NĂM 2024", STUDY)
    for n in range(40):
        drop(tmp_path, message("ldldbaothang@gmail.com", at("2024-02-27 09:00") + dt.timedelta(minutes=n),
                               docx=doc, msgid=f"<busy-{n}@gmail.com>"), f"m{n}")
    cfg = load_config(config, {})
    app = App(cfg, open_store(cfg))
    stop = threading.Event()
    results: list[tuple[str, int, str]] = []

    def staff() -> None:
        commands = [["status", "--json"], ["export", "--format", "xlsx", "-o", str(tmp_path / "t.xlsx")],
                    ["export", "--format", "csv", "-o", str(tmp_path / "t.csv")]]
        i = 0
        while not stop.is_set():
            cmd = commands[i % len(commands)]
            done = subprocess.run([sys.executable, "-m", "intake.processor.cli", "--config", str(config), "-q", *cmd],
                                  capture_output=True, text=True, cwd=tmp_path, timeout=120)
            results.append((cmd[0], done.returncode, done.stderr[-300:]))
            i += 1

    def hold_write_lock() -> None:
        """Another writer holding the database for 2 s, twice, while the daemon works."""
        for _ in range(2):
            con = sqlite3.connect(tmp_path / "intake.db", isolation_level=None, timeout=30)
            con.execute("BEGIN IMMEDIATE")
            time.sleep(2)
            con.execute("COMMIT")
            con.close()
            time.sleep(0.5)

    threads = [threading.Thread(target=staff), threading.Thread(target=hold_write_lock)]
    for t in threads:
        t.start()
    try:
        began = time.monotonic()
        _leftover, fetched, sent = app.run_once()
        elapsed = time.monotonic() - began
        time.sleep(1)
    finally:
        stop.set()
        for t in threads:
            t.join(120)
        app.store.close()
    assert fetched.fetched == 40 and fetched.processed == 40 and fetched.failed == 0
    assert sent.sent == 40 and len(outbox(cfg)) == 40
    assert results and all(code == 0 for _cmd, code, _err in results), [r for r in results if r[1]]
    with capsys.disabled():
        print(f"\nSQLite busy: 40 messages processed in {elapsed:.1f} s beside {len(results)} status/export "
              f"runs and two 2 s write locks; failures 0, acknowledgements 40")
