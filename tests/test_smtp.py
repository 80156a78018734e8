"""SmtpTransport and deliver_pending against real aiosmtpd servers (plain, STARTTLS + AUTH, implicit TLS)."""
from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

import pytest
from golden.make_acks import CLOCK, app_for, cases, config, drop, smtp_sending
from servers.smtp import SmtpServer
from sqlalchemy import select

from intake.parsers.errors import SendError
from intake.processor.app import App
from intake.processor.sending import (
    GIVE_UP_NOTE,
    LEASE,
    RESEND_NOTE,
    DeliveryCounts,
    Envelope,
    Transport,
    deliver_pending,
)
from intake.processor.sending.smtp import SmtpTransport
from intake.store.models import Outgoing, OutgoingState


def queue_one(app: App, tmp: Path, case: str = "on_time") -> None:
    """Process one incoming message so that its acknowledgement is pending (nothing sent yet)."""
    drop(tmp, [cases()[case]])
    mailbox = app.open_mailbox()
    try:
        app.pipeline.fetch(mailbox)
    finally:
        mailbox.close()


def rows(app: App) -> list[Outgoing]:
    with app.store.session() as s:
        found = list(s.scalars(select(Outgoing).order_by(Outgoing.id)).all())
        for row in found:
            s.expunge(row)
    return found


def deliver(app: App, server_sending: dict[str, object], tmp: Path, at: dt.datetime = CLOCK) -> DeliveryCounts:
    transport = SmtpTransport(config(tmp, server_sending).sending)
    try:
        return deliver_pending(app.store, transport, at, app.cfg.sending.from_address)
    finally:
        transport.close()


@pytest.mark.parametrize("fixture", ["smtp_server", "smtp_auth_tls", "smtp_ssl"])
def test_delivers_over_each_security(fixture: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    server: SmtpServer = request.getfixturevalue(fixture)
    cfg = config(tmp_path, smtp_sending(server))
    with app_for(cfg) as app:
        queue_one(app, tmp_path)
        counts = app.send_pending()
        (row,) = rows(app)
    (got,) = server.wait_for(1)
    assert counts.sent == 1 and row.state == OutgoingState.SENT and row.sent_at is not None
    assert got.mail_from == "bantuyengiaonuconglc@gmail.com"
    assert got.rcpt_tos == ("ldldbaothang@gmail.com",)
    assert got.raw.replace(b"\r\n", b"\n") == row.raw.replace(b"\r\n", b"\n")
    assert got.tls == (server.security != "none")
    assert got.auth_user == ("intake@example.test" if server.auth != "none" else None)


def test_probe_reports_login(smtp_auth_tls: SmtpServer, tmp_path: Path) -> None:
    cfg = config(tmp_path, smtp_sending(smtp_auth_tls))
    message = SmtpTransport(cfg.sending).probe()
    assert message == (f"smtp 127.0.0.1:{smtp_auth_tls.port} (starttls): "
                       "đã kết nối, đăng nhập với tên intake@example.test")


def test_wrong_password_is_transient_with_the_reply(smtp_auth_tls: SmtpServer, tmp_path: Path) -> None:
    cfg = config(tmp_path, smtp_sending(smtp_auth_tls, password_env="WRONG"))
    assert cfg.sending.password.value is None
    with pytest.raises(SendError, match=r"không tìm thấy mật khẩu trong \$WRONG"):
        SmtpTransport(cfg.sending).probe()
    good = config(tmp_path, smtp_sending(smtp_auth_tls)).sending
    bad = type(good)(**{**good.__dict__, "password": type(good.password)("test", "not-the-password")})
    with pytest.raises(SendError, match=r"từ chối đăng nhập của intake@example\.test: 535") as refused:
        SmtpTransport(bad).probe()
    assert type(refused.value) is SendError  # not permanent: staff fix the password, mail then goes out
    assert "not-the-password" not in str(refused.value)


def test_untrusted_certificate_is_refused(smtp_ssl: SmtpServer, tmp_path: Path) -> None:
    sending = smtp_sending(smtp_ssl)
    del sending["ca_file"]
    with pytest.raises(SendError, match="chứng chỉ không đáng tin cậy"):
        SmtpTransport(config(tmp_path, sending).sending).probe()


def test_451_then_recovery_sends_once(smtp_server: SmtpServer, tmp_path: Path) -> None:
    smtp_server.fail_next(451, "4.3.0 try again later", times=1)
    cfg = config(tmp_path, smtp_sending(smtp_server))
    with app_for(cfg) as app:
        queue_one(app, tmp_path)
        first = app.send_pending()
        (row,) = rows(app)
        assert first.retry == 1 and row.state == OutgoingState.PENDING
        assert row.last_error is not None and "451 4.3.0 try again later" in row.last_error
        assert row.next_attempt_at > CLOCK
        assert app.send_pending().sent == 0  # not due yet
        later = deliver(app, smtp_sending(smtp_server), tmp_path, at=row.next_attempt_at)
        assert later.sent == 1
        assert app.send_pending().sent == 0
    assert len(smtp_server.wait_for(1)) == 1
    assert smtp_server.rejections == [("rcpt", 451)]


def test_550_marks_failed_with_the_reply(smtp_server: SmtpServer, tmp_path: Path,
                                        caplog: pytest.LogCaptureFixture) -> None:
    smtp_server.fail_next(550, "5.1.1 no such user", times=None)
    cfg = config(tmp_path, smtp_sending(smtp_server))
    with app_for(cfg) as app, caplog.at_level(logging.ERROR, logger="intake.processor.sending"):
        queue_one(app, tmp_path)
        counts = app.send_pending()
        (row,) = rows(app)
    assert counts.failed == 1
    assert row.state == OutgoingState.FAILED
    assert row.last_error == "máy chủ từ chối người nhận ldldbaothang@gmail.com: 550 5.1.1 no such user"
    # Staff read the reason in Vietnamese; the log stays English (the team's standard).
    (line,) = [r.getMessage() for r in caplog.records if "refused for good" in r.getMessage()]
    assert "550 5.1.1 no such user" in line and "từ chối" not in line, line
    assert smtp_server.messages == []


def test_smtp_down_for_an_hour_loses_nothing(smtp_server: SmtpServer, tmp_path: Path) -> None:
    down = smtp_sending(smtp_server, port=1)  # nothing listens on port 1
    cfg = config(tmp_path, smtp_sending(smtp_server))
    with app_for(cfg) as app:
        for case in ("on_time", "late", "section_missing"):
            queue_one(app, tmp_path, case)
        at = CLOCK
        for _ in range(6):  # an hour of rounds, each failing fast after one refused connection
            deliver(app, down, tmp_path, at=at + dt.timedelta(hours=2))
            at += dt.timedelta(minutes=10)
        assert {r.state for r in rows(app)} == {OutgoingState.PENDING}
        assert all("không kết nối được" in (r.last_error or "") for r in rows(app))
        deliver(app, smtp_sending(smtp_server), tmp_path, at=CLOCK + dt.timedelta(hours=5))
        assert {r.state for r in rows(app)} == {OutgoingState.SENT}
    assert len(smtp_server.wait_for(3)) == 3


class KilledAfterSend:
    """The real transport, then the process 'dies' before deliver_pending can mark the row sent."""

    def __init__(self, inner: Transport) -> None:
        self.inner = inner

    def send(self, envelope: Envelope) -> None:
        self.inner.send(envelope)
        raise KeyboardInterrupt("killed between the server's 250 and the mark")

    def probe(self) -> str:
        return self.inner.probe()

    def close(self) -> None:
        self.inner.close()


def test_kill_between_sent_and_marked_costs_at_most_one_duplicate(smtp_server: SmtpServer, tmp_path: Path) -> None:
    cfg = config(tmp_path, smtp_sending(smtp_server))
    with app_for(cfg) as app:
        queue_one(app, tmp_path)
        for i in range(2):  # killed on the first send, and again on the one resend
            with pytest.raises(KeyboardInterrupt):
                deliver_pending(app.store, KilledAfterSend(SmtpTransport(cfg.sending)),
                                CLOCK + 2 * LEASE * i, cfg.sending.from_address)
            (row,) = rows(app)
            assert row.state == OutgoingState.SENDING
            assert app.send_pending().sent == 0  # within the lease: a live sender may still hold it
        after_first = smtp_server.wait_for(2)
        final = deliver(app, smtp_sending(smtp_server), tmp_path, at=CLOCK + 5 * LEASE)
        (row,) = rows(app)
    assert final.sent == 0
    assert row.state == OutgoingState.SENT and row.last_error == GIVE_UP_NOTE
    assert len(after_first) == 2 and len(smtp_server.messages) == 2  # the original and one duplicate
    assert after_first[0].message["Message-ID"] == after_first[1].message["Message-ID"]


def test_kill_then_restart_resends_once(smtp_server: SmtpServer, tmp_path: Path) -> None:
    cfg = config(tmp_path, smtp_sending(smtp_server))
    with app_for(cfg) as app:
        queue_one(app, tmp_path)
        with pytest.raises(KeyboardInterrupt):
            deliver_pending(app.store, KilledAfterSend(SmtpTransport(cfg.sending)), CLOCK, cfg.sending.from_address)
        resumed = deliver(app, smtp_sending(smtp_server), tmp_path, at=CLOCK + LEASE)
        (row,) = rows(app)
        again = deliver(app, smtp_sending(smtp_server), tmp_path, at=CLOCK + 3 * LEASE)
    assert again.sent == 0
    assert resumed.sent == 1
    assert row.state == OutgoingState.SENT and row.last_error is None
    assert len(smtp_server.wait_for(2)) == 2
    assert RESEND_NOTE.startswith("delivery interrupted")


def test_run_once_drains_every_due_acknowledgement(smtp_server: SmtpServer, tmp_path: Path) -> None:
    """150 due rows (more than one page of `pending_outgoing`) all leave in one `run --once`."""
    cfg = config(tmp_path, smtp_sending(smtp_server), max_per_hour=1000)
    with app_for(cfg) as app:
        queue_one(app, tmp_path)
        (model,) = rows(app)
        with app.store.session() as s:
            s.add_all(Outgoing(kind=model.kind, dedupe_key=f"drain:{n}", to_address=f"unit{n}@example.org",
                               subject=model.subject, our_message_id=f"<drain-{n}@intake>", raw=model.raw,
                               next_attempt_at=CLOCK) for n in range(149))
        _leftover, _fetched, counts = app.run_once()
        states = {row.state for row in rows(app)}
    got = smtp_server.wait_for(150)
    assert counts.sent == 150 and states == {OutgoingState.SENT}
    assert len(got) == 150 and {m.rcpt_tos for m in got} >= {("unit0@example.org",), ("unit148@example.org",)}
