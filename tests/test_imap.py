"""The IMAP mailbox and the daemon against a real, private Dovecot (tests/servers/dovecot.py)."""
from __future__ import annotations

import dataclasses
import datetime as dt
import email.utils
import logging
import os
import shlex
import signal
import statistics
import subprocess
import sys
import threading
import time
import tomllib
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from servers.dovecot import DovecotServer
from servers.smtp import SmtpServer
from sqlalchemy import func, select

from intake.parsers.email import topmost_received_at
from intake.parsers.errors import ConfigError, CredentialError, MailboxAuthError, MailboxError
from intake.processor.app import App, open_store
from intake.processor.cli import main
from intake.processor.config import Config, parse_config
from intake.processor.credentials import oauth2_token
from intake.processor.daemon import Backoff, run_daemon
from intake.processor.mailbox.imap import KEYWORD, ImapMailbox
from intake.store.models import MailboxEntry, Message, Outgoing

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples" / "maildir"
USER = "intake"
REGISTERED = "ldldbaothang@gmail.com"  # a unit's address in config.example.toml
NOW = dt.datetime.now(dt.UTC)


# -- helpers --------------------------------------------------------------------


def build_config(tmp: Path, server: DovecotServer, **mailbox: Any) -> Config:
    example = tomllib.loads((ROOT / "config.example.toml").read_text(encoding="utf-8"))
    box = {"kind": "imap", "host": server.host, "port": server.port, "security": "none", "username": USER,
           "password_env": "TEST_IMAP_PASSWORD", "folder": "INBOX", "after": "flag", "poll_every": 1,
           "timeout": 10, **mailbox}
    data = {"timezone": "Asia/Ho_Chi_Minh",
            "store": {"url": f"sqlite:///{tmp / 'intake.db'}", "files_dir": str(tmp / "files")},
            "mailbox": box,
            "sending": {"kind": "outbox", "from_address": "bantuyengiaonuconglc@gmail.com",
                        "outbox_dir": str(tmp / "outbox")},
            "acknowledge": {"max_age_days": 3650}, "units": example["units"], "campaigns": example["campaigns"],
            "isolate_parsing": False}
    return parse_config(data, tmp / "intake.toml", {"TEST_IMAP_PASSWORD": server.users[USER]})


def make_app(cfg: Config, **mailbox_kw: Any) -> App:
    factory = (lambda: ImapMailbox(cfg.mailbox, **mailbox_kw)) if mailbox_kw else None
    return App(cfg, open_store(cfg), mailbox_factory=factory)


def note(n: int, sender: str = REGISTERED, tag: str = "") -> bytes:
    msg = EmailMessage()
    msg["From"] = f"LĐLĐ huyện Bảo Thắng <{sender}>"
    msg["To"] = "bantuyengiaonuconglc@gmail.com"
    msg["Subject"] = f"Báo cáo số {n}{tag}"
    msg["Date"] = email.utils.format_datetime(NOW)
    msg["Message-ID"] = f"<note-{n}{tag}@test.invalid>"
    msg.set_content(f"Kính gửi Ban Tuyên giáo, xin gửi báo cáo số {n}.")
    return bytes(msg)


def load_examples(server: DovecotServer) -> list[int]:
    """APPEND the example Maildir, each with its Received: time as INTERNALDATE and its Maildir flags."""
    import email.parser
    import email.policy

    uids = []
    for path in sorted([*EXAMPLES.glob("cur/*"), *EXAMPLES.glob("new/*")], key=lambda p: p.name):
        raw = path.read_bytes()
        headers = email.parser.BytesHeaderParser(policy=email.policy.compat32).parsebytes(raw)
        when = topmost_received_at(headers)
        assert when is not None
        flags = [b"\\Seen"] if path.name.endswith(",S") else []
        uids.append(server.append(USER, "INBOX", raw, when, flags=flags))
    return uids


def outbox(cfg: Config) -> list[Path]:
    return sorted(cfg.sending.outbox_dir.glob("*.eml")) if cfg.sending.outbox_dir.is_dir() else []


def flags_by_uid(server: DovecotServer, folder: str = "INBOX") -> dict[int, set[bytes]]:
    return {uid: set(flags) for uid, flags in server.list_messages(USER, folder)}


def count(app: App, model: Any) -> int:
    with app.store.session() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


@pytest.fixture
def daemon() -> Iterator[Any]:
    """Start `run_daemon` in a thread; stopped and joined at the end of the test."""
    running: list[tuple[threading.Thread, threading.Event]] = []
    crashed: list[BaseException] = []

    def serve(app: App, stop: threading.Event, backoff: Backoff | None) -> None:
        try:
            run_daemon(app, stop, backoff)
        except BaseException as exc:  # reported by the fixture: a dead daemon thread must fail the test
            crashed.append(exc)
            raise

    def start(app: App, backoff: Backoff | None = None) -> threading.Event:
        stop = threading.Event()
        thread = threading.Thread(target=serve, args=(app, stop, backoff), daemon=True)
        thread.start()
        running.append((thread, stop))
        return stop

    yield start
    for thread, stop in running:
        began = time.monotonic()
        stop.set()
        thread.join(10)
        assert not thread.is_alive(), "the daemon did not stop within 10 s"
        assert time.monotonic() - began < 3.0, "the daemon took more than 3 s to stop"
    assert not crashed, f"the daemon died: {crashed[0]!r}"


def wait_for(predicate: Any, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return bool(predicate())


# -- run --once -----------------------------------------------------------------


def test_run_once_over_loaded_mailbox_then_rerun_fetches_nothing(dovecot: DovecotServer, tmp_path: Path) -> None:
    uids = load_examples(dovecot)
    before = flags_by_uid(dovecot)
    cfg = build_config(tmp_path, dovecot)
    app = make_app(cfg)

    _leftover, fetched, sent = app.run_once()
    assert (fetched.fetched, fetched.new, fetched.failed) == (8, 8, 0)
    assert sent.sent == 7 == len(outbox(cfg))  # the auto-reply is never acknowledged
    units = {u.id: u for u in app.status(None).units}
    assert units["ldld-bao-thang"].status.value == "on_time"
    assert units["ldld-bat-xat"].status.value == "late"  # decided by INTERNALDATE
    after = flags_by_uid(dovecot)
    for uid in uids:
        assert after[uid] == before[uid] | {KEYWORD}  # \Seen neither added nor removed
    assert sum(b"\\Seen" in f for f in after.values()) == 3

    again = make_app(cfg).run_once()
    assert again[1].fetched == 0 and again[2].sent == 0
    assert len(outbox(cfg)) == 7 and count(app, Message) == 8
    assert flags_by_uid(dovecot) == after


def test_imaplib_traces_the_protocol_only_for_a_logger_that_shows_it(dovecot: DovecotServer, tmp_path: Path,
                                                                     caplog: pytest.LogCaptureFixture) -> None:
    cfg = build_config(tmp_path, dovecot)
    quiet = ImapMailbox(cfg.mailbox)
    try:
        # imapclient asks imaplib for its full trace; with the logger off, no repr of each fetched
        # message is built only to be dropped.
        assert quiet._connect()._imap.debug == 0
    finally:
        quiet.close()
    traced = ImapMailbox(cfg.mailbox)
    try:
        with caplog.at_level(logging.DEBUG, logger="imapclient.imaplib"):
            traced._connect().noop()
        trace = [r.getMessage() for r in caplog.records if r.name == "imapclient.imaplib"]
        assert any("NOOP" in line for line in trace)  # `-vv` still shows the protocol
        assert not any(dovecot.users[USER] in line for line in trace)  # LOGIN is redacted
    finally:
        traced.close()


def test_received_time_is_internaldate_with_its_offset(dovecot: DovecotServer, tmp_path: Path) -> None:
    when = dt.datetime(2024, 2, 28, 23, 59, 30, tzinfo=dt.timezone(dt.timedelta(hours=7)))
    dovecot.append(USER, "INBOX", note(1), when)
    cfg = build_config(tmp_path, dovecot, after="none")
    app = make_app(cfg)
    app.run_once()
    with app.store.session() as s:
        stored = s.scalars(select(Message.received_at)).one()
    assert stored == when and stored.utcoffset() == dt.timedelta(0)


def test_crash_between_store_and_after_is_finished_next_run(dovecot: DovecotServer, tmp_path: Path) -> None:
    uid = dovecot.append(USER, "INBOX", note(1), NOW)
    cfg = build_config(tmp_path, dovecot)
    app = make_app(cfg)
    box = ImapMailbox(cfg.mailbox)
    item = next(box.fetch_new(app.store))
    app.store.ingest(box.identity, item.folder, item.uidvalidity, item.key, item.raw, item.received_at)
    box.close()  # "crash": stored, never flagged, never processed
    assert KEYWORD not in flags_by_uid(dovecot)[uid]

    leftover, fetched, sent = app.run_once()
    assert leftover.processed == 1 and fetched.fetched == 0 and sent.sent == 1
    assert KEYWORD in flags_by_uid(dovecot)[uid]
    with app.store.session() as s:
        assert s.scalars(select(MailboxEntry.after_done)).all() == [True]
    assert make_app(cfg).run_once()[2].sent == 0


def test_items_read_ahead_but_never_stored_are_fetched_again(dovecot: DovecotServer, tmp_path: Path) -> None:
    uids = [dovecot.append(USER, "INBOX", note(n), NOW) for n in range(4)]
    cfg = build_config(tmp_path, dovecot)
    app = make_app(cfg)
    box = ImapMailbox(cfg.mailbox)
    items = box.fetch_new(app.store)
    first, *_ahead = [next(items) for _ in range(3)]  # a reader ahead holds three, stores one
    app.store.ingest(box.identity, first.folder, first.uidvalidity, first.key, first.raw, first.received_at)
    box.after_stored(first)
    items.close()  # "crash" with two items read ahead, not stored
    box.close()

    _leftover, fetched, _sent = app.run_once()
    assert (fetched.fetched, fetched.new) == (3, 3)  # the two read ahead and the one never reached
    assert count(app, Message) == 4
    assert app.store.folder_state(box.identity, "INBOX") == (dovecot.uidvalidity(USER), uids[-1])
    assert make_app(cfg).run_once()[1].fetched == 0


# -- after modes ------------------------------------------------------------------


def test_after_is_one_command_per_batch_and_a_failed_one_is_applied_next_round(
        dovecot: DovecotServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from imapclient import IMAPClient
    from imapclient.exceptions import IMAPClientError

    uids = [dovecot.append(USER, "INBOX", note(n), NOW) for n in range(5)]
    cfg = build_config(tmp_path, dovecot, after="flag")
    calls: list[list[int]] = []
    real = IMAPClient.add_flags

    def add_flags(client: IMAPClient, messages: list[int], flags: list[bytes], silent: bool = False) -> Any:
        calls.append(sorted(int(m) for m in messages))
        if len(calls) == 1:
            raise IMAPClientError("STORE failed: the connection dropped")  # the first batch's command fails
        return real(client, messages, flags, silent=silent)

    monkeypatch.setattr(IMAPClient, "add_flags", add_flags)
    app = make_app(cfg)
    with pytest.raises(MailboxError):
        app.run_once()
    assert calls == [uids]  # all five stored messages in one command
    assert not any(KEYWORD in flags for flags in flags_by_uid(dovecot).values())
    assert len(app.store.entries_awaiting_after(app.open_mailbox().identity)) == 5
    assert count(app, Message) == 5  # stored and processed all the same

    _leftover, fetched, _sent = make_app(cfg).run_once()
    assert fetched.fetched == 0 and calls[1:] == [uids]
    assert all(KEYWORD in flags for flags in flags_by_uid(dovecot).values())
    with app.store.session() as s:
        assert s.scalars(select(MailboxEntry.after_done)).all() == [True] * 5


def test_a_message_whose_deciding_fails_is_stored_alone_and_recorded_as_failed(
        dovecot: DovecotServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from intake.processor.ingest import pipeline
    from intake.store.repository import Store

    uids = [dovecot.append(USER, "INBOX", note(n), NOW) for n in range(3)]
    real_decide, real_ingest = pipeline.decide, Store.ingest
    ingests: list[str] = []

    def decide(pk: int, received_at: Any, parsed: Any, *args: Any) -> Any:
        if "số 1" in parsed.subject:
            raise RuntimeError("deciding broke on this one")
        return real_decide(pk, received_at, parsed, *args)

    def ingest(store: Store, *args: Any, **kwargs: Any) -> Any:
        ingests.append(args[3])  # the item's key: its UID
        return real_ingest(store, *args, **kwargs)

    monkeypatch.setattr(pipeline, "decide", decide)
    monkeypatch.setattr(Store, "ingest", ingest)
    # Read in the workers, decided, then stored with its decision in one transaction.
    app = make_app(dataclasses.replace(build_config(tmp_path, dovecot), isolate_parsing=True))
    try:
        _leftover, fetched, sent = app.run_once()
    finally:
        app.close()
    assert (fetched.new, fetched.processed, fetched.failed, sent.sent) == (3, 2, 1, 2)
    # One write for each, the failed one included: stored with its attribution and the failure.
    assert ingests == [str(uids[0]), str(uids[1]), str(uids[2])]
    with app.store.session() as s:
        rows = s.execute(select(Message.state, Message.error, Message.reference, Message.from_address,
                                Message.problems).order_by(Message.id)).all()
    assert [str(row.state) for row in rows] == ["processed", "failed", "processed"]
    assert rows[1].error == "RuntimeError: deciding broke on this one"
    # Attributed when it was stored, before the fault: it keeps its sender and number.
    assert rows[1].reference and rows[1].from_address and "processing_failed" in rows[1].problems
    assert all(KEYWORD in flags for flags in flags_by_uid(dovecot).values())


def test_after_flag_falls_back_to_flagged(dovecot: DovecotServer, tmp_path: Path) -> None:
    uid = dovecot.append(USER, "INBOX", note(1), NOW, flags=[b"\\Seen"])
    cfg = build_config(tmp_path, dovecot, after="flag")
    make_app(cfg, keyword=None).run_once()
    assert flags_by_uid(dovecot)[uid] == {b"\\Seen", b"\\Flagged"}


def test_after_none_changes_nothing(dovecot: DovecotServer, tmp_path: Path) -> None:
    dovecot.append(USER, "INBOX", note(1), NOW)
    dovecot.append(USER, "INBOX", note(2), NOW, flags=[b"\\Seen", b"\\Answered"])
    before = flags_by_uid(dovecot)
    cfg = build_config(tmp_path, dovecot, after="none")
    assert make_app(cfg).run_once()[1].new == 2
    assert flags_by_uid(dovecot) == before


def test_after_move_creates_the_folder_and_keeps_flags(dovecot: DovecotServer, tmp_path: Path) -> None:
    dovecot.append(USER, "INBOX", note(1), NOW, flags=[b"\\Seen"])
    dovecot.append(USER, "INBOX", note(2), NOW)
    cfg = build_config(tmp_path, dovecot, after="move", move_to="Intake/Processed")
    with dovecot.client(USER) as c:
        assert not c.folder_exists("Intake/Processed")
    app = make_app(cfg)
    assert app.run_once()[1].new == 2
    assert flags_by_uid(dovecot) == {}
    moved = sorted(flags_by_uid(dovecot, "Intake/Processed").values(), key=len)
    assert moved == [set(), {b"\\Seen"}]
    assert make_app(cfg).run_once()[1].fetched == 0
    assert len(outbox(cfg)) == 2


def test_after_move_without_move_extension_expunges_only_that_uid(dovecot: DovecotServer, tmp_path: Path) -> None:
    kept = dovecot.append(USER, "INBOX", note(1), NOW)
    staff_deleted = dovecot.append(USER, "INBOX", note(2), NOW, flags=[b"\\Deleted"])
    make_app(build_config(tmp_path, dovecot, after="none")).run_once()  # both known, left alone
    dovecot.append(USER, "INBOX", note(3), NOW, flags=[b"\\Seen"])

    cfg = build_config(tmp_path, dovecot, after="move", move_to="Processed")
    assert make_app(cfg, ignore_capabilities=("MOVE",)).run_once()[1].new == 1
    assert flags_by_uid(dovecot) == {kept: set(), staff_deleted: {b"\\Deleted"}}
    assert list(flags_by_uid(dovecot, "Processed").values()) == [{b"\\Seen"}]


# -- UIDVALIDITY -------------------------------------------------------------------


def test_uidvalidity_reset_rescans_without_duplicates(dovecot: DovecotServer, tmp_path: Path) -> None:
    for n in range(3):
        dovecot.append(USER, "INBOX", note(n), NOW)
    cfg = build_config(tmp_path, dovecot)
    assert make_app(cfg).run_once()[2].sent == 3
    _old, new = dovecot.reset_uidvalidity(USER)
    dovecot.append(USER, "INBOX", note(9), NOW)

    app = make_app(cfg)
    _leftover, fetched, sent = app.run_once()
    assert (fetched.fetched, fetched.new, sent.sent) == (4, 1, 1)  # rescanned; only the new one counts
    assert len(outbox(cfg)) == 4 and count(app, Message) == 4
    assert all(KEYWORD in f for f in flags_by_uid(dovecot).values())
    assert app.store.folder_state(f"imap:{USER}@{dovecot.host}:{dovecot.port}", "INBOX") == (new, 4)
    assert make_app(cfg).run_once()[1].fetched == 0


# -- daemon --------------------------------------------------------------------------


def test_idle_delivers_and_acknowledges_within_seconds(dovecot: DovecotServer, tmp_path: Path, daemon: Any,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    cfg = build_config(tmp_path, dovecot)
    app = make_app(cfg)
    box = ImapMailbox(cfg.mailbox)
    assert box.idle_supported
    box.close()
    daemon(app)
    time.sleep(0.5)  # first round done, waiting in IDLE
    latencies = []
    for n in range(5):
        began = time.monotonic()
        dovecot.append(USER, "INBOX", note(n), NOW)
        assert wait_for(lambda n=n: len(outbox(cfg)) == n + 1, 5.0), f"message {n} not acknowledged within 5 s"
        latencies.append(time.monotonic() - began)
        time.sleep(0.2)
    median = statistics.median(latencies)
    with capsys.disabled():
        print(f"\nIDLE: APPEND -> acknowledgement file, median {median * 1000:.0f} ms "
              f"(all: {', '.join(f'{x * 1000:.0f}' for x in latencies)} ms)")
    assert median < 3.0


def test_polling_when_idle_is_off(dovecot: DovecotServer, tmp_path: Path, daemon: Any) -> None:
    cfg = build_config(tmp_path, dovecot, idle=False, poll_every=1)
    daemon(make_app(cfg))
    time.sleep(0.3)
    dovecot.append(USER, "INBOX", note(1), NOW)
    assert wait_for(lambda: len(outbox(cfg)) == 1, 5.0)


def test_daemon_survives_dovecot_restart(dovecot: DovecotServer, tmp_path: Path, daemon: Any,
                                         caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="intake.processor.daemon")
    cfg = build_config(tmp_path, dovecot)
    daemon(make_app(cfg), Backoff(first=0.2, cap=1.0))
    dovecot.append(USER, "INBOX", note(1), NOW)
    assert wait_for(lambda: len(outbox(cfg)) == 1, 5.0)

    dovecot.stop()
    time.sleep(1.5)  # the daemon notices, fails to reconnect, backs off
    dovecot.start()
    dovecot.append(USER, "INBOX", note(2), NOW)
    assert wait_for(lambda: len(outbox(cfg)) == 2, 10.0), "no acknowledgement after the restart"
    assert wait_for(lambda: any("reachable again" in r.getMessage() for r in caplog.records), 2.0)
    failures = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert failures and all("reconnecting in" in m for m in failures)
    # The log stays English (the team's standard), whatever language staff read the error in.
    assert any("closed the connection during IDLE" in m or "connection lost" in m for m in failures)
    assert any("connection refused" in m for m in failures)  # while it was down


def test_daemon_stops_on_sigterm_within_seconds(dovecot: DovecotServer, tmp_path: Path) -> None:
    config = tmp_path / "intake.toml"
    example = (ROOT / "config.example.toml").read_text(encoding="utf-8")
    head, rest = example.split("[mailbox]", 1)
    rest = rest.split("[sending]", 1)[1]
    config.write_text(
        head.replace('url = "sqlite:///intake.db"', f'url = "sqlite:///{tmp_path / "intake.db"}"')
        + f'[mailbox]\nkind = "imap"\nhost = "{dovecot.host}"\nport = {dovecot.port}\nsecurity = "none"\n'
        f'username = "{USER}"\npassword_env = "TEST_IMAP_PASSWORD"\n\n[sending]' + rest, encoding="utf-8")
    env = {**os.environ, "TEST_IMAP_PASSWORD": dovecot.users[USER]}
    proc = subprocess.Popen([sys.executable, "-m", "intake.processor.cli", "--config", str(config), "run"],
                            cwd=tmp_path, env=env, stderr=subprocess.PIPE, text=True)
    try:
        dovecot.append(USER, "INBOX", note(1), NOW)
        assert wait_for(lambda: len(list((tmp_path / "outbox").glob("*.eml"))) == 1, 20.0)
        began = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 0
        assert time.monotonic() - began < 3.0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


# -- check-config and connection errors ----------------------------------------------


def write_toml(tmp: Path, server: DovecotServer, **mailbox: Any) -> Path:
    example = (ROOT / "config.example.toml").read_text(encoding="utf-8")
    head, rest = example.split("[mailbox]", 1)
    rest = rest.split("[sending]", 1)[1]
    box = {"kind": "imap", "host": server.host, "port": server.port, "security": "none", "username": USER,
           "password_env": "TEST_IMAP_PASSWORD", **mailbox}
    lines = "".join(f"{k} = {v!r}\n".replace("'", '"') if isinstance(v, str) else f"{k} = {v}\n"
                    for k, v in box.items())
    path = tmp / "intake.toml"
    path.write_text(f"{head}[mailbox]\n{lines}\n[sending]{rest}", encoding="utf-8")
    return path


def check_config(path: Path, password: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    capsys.readouterr()
    status = main(["--config", str(path), "-q", "check-config"], environ={"TEST_IMAP_PASSWORD": password})
    return status, " ".join(capsys.readouterr().out.split())  # rich wraps long lines


def test_check_config_counts_the_folder(dovecot: DovecotServer, tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    for n in range(3):
        dovecot.append(USER, "INBOX", note(n), NOW)
    status, out = check_config(write_toml(tmp_path, dovecot), dovecot.users[USER], capsys)
    assert status == 0, out
    assert 'thư mục "INBOX": 3 thư' in out


def test_check_config_wrong_password(dovecot: DovecotServer, tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    status, out = check_config(write_toml(tmp_path, dovecot), "not-the-password", capsys)
    assert status == 1
    assert f"hộp thư: LỖI: {dovecot.host} từ chối đăng nhập của intake (tên đăng nhập hoặc mật khẩu)" in out
    assert "not-the-password" not in out


def test_check_config_says_both_refusals_in_vietnamese(dovecot: DovecotServer, smtp_auth_tls: SmtpServer,
                                                       tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Issue 23: what the mail servers refuse reaches the installer in Vietnamese, the servers' replies as sent."""
    path = write_toml(tmp_path, dovecot)
    assert smtp_auth_tls.ca_pem is not None
    smtp = (f'kind = "smtp"\nhost = "{smtp_auth_tls.host}"\nport = {smtp_auth_tls.port}\nsecurity = "starttls"\n'
            f'ca_file = "{smtp_auth_tls.ca_pem}"\nusername = "{next(iter(smtp_auth_tls.users))}"\n'
            'password_env = "TEST_SMTP_PASSWORD"\n')
    path.write_text(path.read_text(encoding="utf-8").replace('kind = "outbox"', smtp, 1), encoding="utf-8")
    capsys.readouterr()
    status = main(["--config", str(path), "-q", "check-config"],
                  environ={"TEST_IMAP_PASSWORD": "not-the-password", "TEST_SMTP_PASSWORD": "nor-this-one"})
    out = " ".join(capsys.readouterr().out.split())
    assert status == 1, out
    assert f"hộp thư: LỖI: {dovecot.host} từ chối đăng nhập của intake (tên đăng nhập hoặc mật khẩu): " \
           "[AUTHENTICATIONFAILED] Authentication failed." in out
    assert f"gửi thư: LỖI: smtp {smtp_auth_tls.host}:{smtp_auth_tls.port} (starttls): từ chối đăng nhập của " \
           "intake@example.test: 535" in out
    assert not {"refused", "login", "password"} & set(out.lower().split()), out
    assert "not-the-password" not in out and "nor-this-one" not in out


def test_check_config_missing_folder_lists_folders(dovecot: DovecotServer, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    dovecot.create_folder(USER, "Reports/2024")
    status, out = check_config(write_toml(tmp_path, dovecot, folder="Reprots"), dovecot.users[USER], capsys)
    assert status == 1
    assert 'không có thư mục "Reprots" trên' in out and "các thư mục hiện có: INBOX, Reports, Reports/2024" in out


def test_missing_folder_stops_a_run_with_the_same_reason(dovecot: DovecotServer, tmp_path: Path) -> None:
    cfg = build_config(tmp_path, dovecot, folder="Nowhere")
    with pytest.raises(MailboxError, match="selecting folder 'Nowhere'"):
        make_app(cfg).run_once()


def test_daemon_gives_up_on_rejected_credentials(dovecot: DovecotServer, tmp_path: Path) -> None:
    cfg = build_config(tmp_path, dovecot)
    dovecot.add_user(USER, "changed-meanwhile")
    with pytest.raises(MailboxAuthError):
        run_daemon(make_app(cfg), threading.Event(), Backoff(first=0.01))


def test_tls_modes_and_verification(dovecot_tls: DovecotServer, tmp_path: Path) -> None:
    assert dovecot_tls.ca_pem is not None and dovecot_tls.ssl_port is not None
    common = {"ca_file": str(dovecot_tls.ca_pem)}
    ssl_box = ImapMailbox(build_config(tmp_path, dovecot_tls, security="ssl", port=dovecot_tls.ssl_port,
                                       **common).mailbox)
    starttls_box = ImapMailbox(build_config(tmp_path, dovecot_tls, security="starttls", **common).mailbox)
    for box in (ssl_box, starttls_box):
        assert box.probe().endswith('thư mục "INBOX": 0 thư')
        box.close()
    untrusted = ImapMailbox(build_config(tmp_path, dovecot_tls, security="ssl", port=dovecot_tls.ssl_port).mailbox)
    with pytest.raises(MailboxError, match=r"TLS: chứng chỉ của 127\.0\.0\.2:\d+ không được chấp nhận"):
        untrusted.probe()
    plain = ImapMailbox(build_config(tmp_path, dovecot_tls, security="starttls", host="localhost",
                                     **common).mailbox)
    with pytest.raises(MailboxError, match=r"kết nối bị từ chối|TLS"):
        plain.probe()  # localhost is 127.0.0.1; this server listens on 127.0.0.2 only


def test_dns_failure_is_named(dovecot: DovecotServer, tmp_path: Path) -> None:
    box = ImapMailbox(build_config(tmp_path, dovecot, host="imap.does-not-exist.invalid", security="ssl").mailbox)
    with pytest.raises(MailboxError, match=r"DNS: không phân giải được tên imap\.does-not-exist\.invalid"):
        box.probe()


def test_none_security_refused_for_remote_host(dovecot: DovecotServer, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="loopback"):
        build_config(tmp_path, dovecot, host="imap.gmail.com", security="none")


# -- XOAUTH2 tokens ---------------------------------------------------------------------


def test_oauth2_token_from_command_and_file(tmp_path: Path) -> None:
    script = tmp_path / "token.sh"
    script.write_text("#!/bin/sh\necho \"$1-token\"\n")
    script.chmod(0o755)
    assert oauth2_token(f"{shlex.quote(str(script))} 'ya29 x'", None) == "ya29 x-token"
    token_file = tmp_path / "token"
    token_file.write_text("\n  ya29.file-token  \n")
    assert oauth2_token(None, token_file) == "ya29.file-token"


def test_oauth2_token_failures_do_not_show_the_token(tmp_path: Path) -> None:
    with pytest.raises(CredentialError, match=r"mã kết thúc 3: bad refresh token$") as failed:
        oauth2_token("sh -c 'echo secret-token; echo bad refresh token >&2; exit 3'", None)
    assert "secret-token" not in str(failed.value)
    with pytest.raises(CredentialError, match="không chạy xong trong 1 giây"):
        oauth2_token("sleep 5", None, timeout=1)
    with pytest.raises(CredentialError, match="không tìm thấy lệnh lấy mã truy cập OAuth2: /no/such/tool"):
        oauth2_token("/no/such/tool", None)
    with pytest.raises(CredentialError, match="không in ra mã nào"):
        oauth2_token("true", None)
    with pytest.raises(ConfigError):
        oauth2_token(None, None)


def test_xoauth2_refusal_is_an_auth_error(dovecot: DovecotServer, tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text("ya29.not-valid-here\n")
    box = ImapMailbox(build_config(tmp_path, dovecot, oauth2_token_file=str(token_file)).mailbox)
    with pytest.raises(MailboxAuthError, match="mã XOAUTH2") as refused:
        box.probe()
    assert "ya29" not in str(refused.value)


# -- new mail first -----------------------------------------------------------------


def append_backlog(server: DovecotServer, n: int) -> list[int]:
    """APPEND `n` notes from strangers on one connection (the backlog of an old mailbox); their UIDs."""
    with server.client(USER) as client:
        return [int(client.append("INBOX", note(i, sender=f"old{i}@example.invalid"), msg_time=NOW)
                    .split(b"APPENDUID ")[1].split()[1].rstrip(b"]")) for i in range(n)]


def test_new_mail_is_acknowledged_before_the_backlog_ends(dovecot: DovecotServer, tmp_path: Path) -> None:
    append_backlog(dovecot, 300)
    cfg = build_config(tmp_path, dovecot)
    app = make_app(cfg, news_every=0.2)
    arrived: list[int] = []

    def arrive() -> None:  # a unit's report lands once the round is well under way
        wait_for(lambda: count(app, Message) >= 20, 60)
        arrived.append(dovecot.append(USER, "INBOX", note(1, tag="-new"), NOW))

    sender = threading.Thread(target=arrive)
    sender.start()
    _leftover, fetched, _sent = app.run_once()
    sender.join()
    assert fetched.new == 301
    with app.store.session() as s:
        new_pk, new_stored = s.execute(select(Message.id, Message.stored_at)
                                       .where(Message.message_id == "<note-1-new@test.invalid>")).one()
        last_stored = s.scalar(select(func.max(Message.stored_at)))
        later = s.scalar(select(func.count()).select_from(Message).where(Message.id > new_pk))
        sent_at = s.scalar(select(Outgoing.sent_at).where(Outgoing.message_pk == new_pk))
    assert later is not None and later >= 200  # stored ahead of most of the backlog, not after it
    assert sent_at is not None and last_stored is not None and sent_at < last_stored  # acknowledged mid-round
    assert new_stored < last_stored
    assert app.store.folder_state(f"imap:{USER}@{dovecot.host}:{dovecot.port}", "INBOX") == (
        dovecot.uidvalidity(USER), arrived[0])
    assert make_app(cfg).run_once()[1].fetched == 0


def test_a_crash_after_new_mail_first_leaves_no_backlog_behind(dovecot: DovecotServer, tmp_path: Path) -> None:
    backlog = append_backlog(dovecot, 30)
    cfg = build_config(tmp_path, dovecot)
    app = make_app(cfg)
    box = ImapMailbox(cfg.mailbox, news_every=0.0)

    def store(item: Any) -> None:
        app.store.ingest(box.identity, item.folder, item.uidvalidity, item.key, item.raw, item.received_at)
        box.after_stored(item)

    items = box.fetch_new(app.store)
    store(next(items))
    fresh = dovecot.append(USER, "INBOX", note(1, tag="-new"), NOW)
    first_news = next(items)
    assert first_news.key == str(fresh)  # handed out ahead of the 29 left of the backlog
    store(first_news)
    store(next(items))
    items.close()  # "crash" mid-round: 2 of the backlog and the new one stored
    box.close()
    state = app.store.folder_state(box.identity, "INBOX")
    assert state is None or state[1] <= backlog[1]  # never past backlog not yet stored

    _leftover, fetched, _sent = app.run_once()
    assert (fetched.fetched, fetched.new) == (28, 28)
    assert count(app, Message) == 31
    assert app.store.folder_state(box.identity, "INBOX") == (dovecot.uidvalidity(USER), fresh)
    assert make_app(cfg).run_once()[1].fetched == 0
