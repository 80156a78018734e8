"""The server fixtures work with real clients (imapclient, smtplib, psycopg, SQLAlchemy)."""

from __future__ import annotations

import contextlib
import smtplib
import socket
import ssl
import time
from datetime import UTC, datetime, timedelta, timezone
from email.message import EmailMessage

import psycopg
import pytest
import sqlalchemy as sa
from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError, LoginError
from servers._util import ServerStartError
from servers.dovecot import DovecotServer
from servers.postgres import PostgresServer
from servers.smtp import SmtpServer

pytestmark = pytest.mark.server

ICT = timezone(timedelta(hours=7))


def _raw(subject: str = "Báo cáo chuyên đề", body: str = "Kính gửi ...") -> bytes:
    msg = EmailMessage()
    msg["From"] = "LĐLĐ huyện Bảo Thắng <ldldbaothang@example.test>"
    msg["To"] = "intake@example.test"
    msg["Subject"] = subject
    msg["Message-ID"] = f"<{time.monotonic_ns()}@example.test>"
    msg.set_content(body)
    return msg.as_bytes().replace(b"\n", b"\r\n")


# ---------------------------------------------------------------------- Dovecot


def test_dovecot_login_append_fetch_internaldate(dovecot: DovecotServer) -> None:
    raw = _raw()
    received = datetime(2024, 2, 28, 23, 59, 30, tzinfo=ICT)
    uid = dovecot.append("intake", "INBOX", raw, internaldate=received)

    with dovecot.client("intake") as client:
        assert client.normalise_times is False
        info = client.select_folder("INBOX")
        assert info[b"EXISTS"] == 1
        data = client.fetch([uid], ["BODY.PEEK[]", "INTERNALDATE", "RFC822.SIZE"])[uid]

    assert data[b"BODY[]"] == raw
    assert data[b"RFC822.SIZE"] == len(raw)
    internaldate = data[b"INTERNALDATE"]
    assert internaldate.tzinfo is not None  # aware: normalise_times is off
    assert internaldate == received
    assert dovecot.list_messages("intake") == [(uid, ())]


def test_dovecot_folders_and_flags(dovecot: DovecotServer) -> None:
    dovecot.create_folder("intake", "Intake/Processed")
    when = datetime(2024, 2, 1, 8, 0, tzinfo=UTC)
    uid = dovecot.append(
        "intake", "Intake/Processed", _raw(), internaldate=when, flags=[b"\\Seen", b"\\Flagged"]
    )
    with dovecot.client("intake") as client:
        names = [name for _flags, _delim, name in client.list_folders()]
    assert "Intake/Processed" in names
    ((got_uid, flags),) = dovecot.list_messages("intake", "Intake/Processed")
    assert got_uid == uid and set(flags) == {b"\\Seen", b"\\Flagged"}
    assert dovecot.list_messages("intake", "INBOX") == []


def test_dovecot_users_have_separate_mailboxes(dovecot: DovecotServer) -> None:
    dovecot.append("alice", "INBOX", _raw(), internaldate=datetime.now(UTC))
    assert len(dovecot.list_messages("alice")) == 1
    assert dovecot.list_messages("bob") == []
    name, password = dovecot.new_user()
    assert dovecot.users[name] == password
    with dovecot.client(name) as client:
        assert client.select_folder("INBOX")[b"EXISTS"] == 0


def test_dovecot_wrong_password_is_refused_quickly(dovecot: DovecotServer) -> None:
    started = time.monotonic()
    for _ in range(3):
        client = dovecot.connect()
        with pytest.raises(LoginError):
            client.login("intake", "wrong password")
        client.shutdown()
    # No auth penalty: Dovecot only batches failures on a 0.5 s timer.
    assert time.monotonic() - started < 3.0


def test_dovecot_idle_reports_append_from_another_connection(dovecot: DovecotServer) -> None:
    with dovecot.client("intake") as watcher:
        watcher.select_folder("INBOX")
        watcher.idle()
        try:
            dovecot.append("intake", "INBOX", _raw(), internaldate=datetime.now(UTC))
            started = time.monotonic()
            responses: list[tuple[int, bytes]] = []
            while time.monotonic() - started < 5 and not any(r[1] == b"EXISTS" for r in responses):
                responses += watcher.idle_check(timeout=1)
        finally:
            watcher.idle_done()
    assert (1, b"EXISTS") in responses
    assert time.monotonic() - started < 5


def test_dovecot_restart_keeps_port_and_messages(dovecot: DovecotServer) -> None:
    uid = dovecot.append("intake", "INBOX", _raw(), internaldate=datetime.now(UTC))
    port, uidvalidity = dovecot.port, dovecot.uidvalidity("intake")
    client = dovecot.connect()
    client.login("intake", dovecot.users["intake"])

    dovecot.restart()

    assert dovecot.port == port
    with pytest.raises((IMAPClientError, OSError)):  # the old connection is gone
        client.noop()
    assert dovecot.list_messages("intake") == [(uid, ())]
    assert dovecot.uidvalidity("intake") == uidvalidity


def test_dovecot_kill_then_start(dovecot: DovecotServer) -> None:
    uid = dovecot.append("intake", "INBOX", _raw(), internaldate=datetime.now(UTC))
    dovecot.kill()
    assert not dovecot.running
    with pytest.raises(OSError):
        socket.create_connection((dovecot.host, dovecot.port), timeout=2).close()
    dovecot.start()
    assert dovecot.list_messages("intake") == [(uid, ())]


@pytest.mark.parametrize("folder", ["INBOX", "Intake/Processed"])
def test_dovecot_reset_uidvalidity(dovecot: DovecotServer, folder: str) -> None:
    for i in range(2):
        dovecot.append("intake", folder, _raw(subject=f"m{i}"), internaldate=datetime.now(UTC))
    before = dovecot.list_messages("intake", folder)

    old, new = dovecot.reset_uidvalidity("intake", folder)

    assert new != old
    assert dovecot.uidvalidity("intake", folder) == new
    with dovecot.client("intake") as client:
        assert client.select_folder(folder)[b"UIDVALIDITY"] == new
    assert len(dovecot.list_messages("intake", folder)) == len(before) == 2


def test_two_dovecots_run_side_by_side() -> None:
    with DovecotServer() as one, DovecotServer() as two:
        assert one.port != two.port
        one.append("alice", "INBOX", _raw(), internaldate=datetime.now(UTC))
        assert len(one.list_messages("alice")) == 1
        assert two.list_messages("alice") == []


def test_dovecot_start_failure_raises_with_log() -> None:
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        server = DovecotServer()
        server.port = blocker.getsockname()[1]  # taken: a restart-style start does not pick another
        try:
            with pytest.raises(ServerStartError, match="Address already in use"):
                server.start(timeout=5)
        finally:
            server.cleanup()


def test_dovecot_missing_binary_is_an_error_not_a_skip() -> None:
    with pytest.raises(ServerStartError):
        DovecotServer(binary="/nonexistent/dovecot")


def test_dovecot_tls_starttls_and_imaps_verify_against_ca(dovecot_tls: DovecotServer) -> None:
    assert dovecot_tls.ca_pem is not None and dovecot_tls.ssl_port is not None
    dovecot_tls.append("intake", "INBOX", _raw(), internaldate=datetime.now(UTC))
    with dovecot_tls.client("intake") as client:  # STARTTLS with the CA
        assert client.select_folder("INBOX")[b"EXISTS"] == 1
    with dovecot_tls.client("intake", implicit_tls=True) as client:  # IMAPS with the CA
        assert client.select_folder("INBOX")[b"EXISTS"] == 1


def test_dovecot_tls_fails_without_the_ca(dovecot_tls: DovecotServer) -> None:
    with pytest.raises(ssl.SSLCertVerificationError):
        IMAPClient(dovecot_tls.host, port=dovecot_tls.ssl_port, ssl=True, timeout=5)
    client = IMAPClient(dovecot_tls.host, port=dovecot_tls.port, ssl=False, timeout=5)
    try:
        with pytest.raises(ssl.SSLCertVerificationError):
            client.starttls(ssl.create_default_context())
    finally:
        with contextlib.suppress(OSError):  # the failed handshake closed the socket
            client.shutdown()


def test_dovecot_tls_refuses_login_before_starttls(dovecot_tls: DovecotServer) -> None:
    client = IMAPClient(dovecot_tls.host, port=dovecot_tls.port, ssl=False, timeout=5)
    try:
        assert b"LOGINDISABLED" in client.capabilities()
        with pytest.raises(LoginError):
            client.login("intake", dovecot_tls.users["intake"])
    finally:
        client.shutdown()


# ------------------------------------------------------------------------- SMTP


def _message(to: str = "ldldbaothang@example.test") -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "intake@example.test"
    msg["To"] = to
    msg["Subject"] = "Re: Báo cáo chuyên đề — đã nhận"
    msg["Auto-Submitted"] = "auto-replied"
    msg.set_content("Đã nhận báo cáo.\n.\nA line that is only a dot, above.\n")
    return msg


def test_smtp_plain_stores_envelope_and_raw_bytes(smtp_server: SmtpServer) -> None:
    msg = _message()
    with smtplib.SMTP(smtp_server.host, smtp_server.port, timeout=10) as client:
        client.send_message(
            msg, from_addr="bounce@example.test", to_addrs=["a@example.test", "b@example.test"]
        )
    (got,) = smtp_server.wait_for(1, timeout=5)
    assert got.mail_from == "bounce@example.test"
    assert got.rcpt_tos == ("a@example.test", "b@example.test")
    assert got.auth_user is None and got.tls is False
    assert got.message["Subject"] == "Re: Báo cáo chuyên đề — đã nhận"
    assert got.message["Auto-Submitted"] == "auto-replied"
    assert b"\r\n.\r\nA line" in got.raw  # dot-unstuffed


def test_smtp_wait_for_times_out(smtp_server: SmtpServer) -> None:
    with pytest.raises(TimeoutError):
        smtp_server.wait_for(1, timeout=0.2)


def test_smtp_auth_tls_requires_starttls_then_auth(smtp_auth_tls: SmtpServer) -> None:
    server = smtp_auth_tls
    user, password = next(iter(server.users.items()))
    with smtplib.SMTP(server.host, server.port, timeout=10) as client:
        client.ehlo()
        assert client.has_extn("starttls") and not client.has_extn("auth")
        with pytest.raises(smtplib.SMTPSenderRefused) as refused:
            client.sendmail("intake@example.test", ["x@example.test"], _message().as_bytes())
        assert refused.value.smtp_code == 530

    with smtplib.SMTP(server.host, server.port, timeout=10) as client:
        client.starttls(context=server.ssl_context())
        client.ehlo()
        assert client.has_extn("auth")
        with pytest.raises(smtplib.SMTPSenderRefused) as refused:
            client.sendmail("intake@example.test", ["x@example.test"], _message().as_bytes())
        assert refused.value.smtp_code == 530  # authentication required
        with pytest.raises(smtplib.SMTPAuthenticationError):
            client.login(user, "wrong")
        client.login(user, password)  # smtplib picks PLAIN
        client.send_message(_message())

    with smtplib.SMTP(server.host, server.port, timeout=10) as client:
        client.starttls(context=server.ssl_context())
        client.ehlo()
        client.user, client.password = user, password
        client.auth("LOGIN", client.auth_login, initial_response_ok=False)
        client.send_message(_message())

    messages = server.wait_for(2, timeout=5)
    assert [m.auth_user for m in messages] == [user, user]
    assert all(m.tls for m in messages)
    assert server.auth_failures >= 1  # smtplib tries PLAIN, then LOGIN


def test_smtp_starttls_verifies_against_ca(smtp_starttls: SmtpServer) -> None:
    with (
        smtplib.SMTP(smtp_starttls.host, smtp_starttls.port, timeout=10) as client,
        pytest.raises(ssl.SSLCertVerificationError),
    ):
        client.starttls(context=ssl.create_default_context())
    with smtplib.SMTP(smtp_starttls.host, smtp_starttls.port, timeout=10) as client:
        client.starttls(context=smtp_starttls.ssl_context())
        client.send_message(_message())  # AUTH is optional here
    (got,) = smtp_starttls.wait_for(1, timeout=5)
    assert got.tls and got.auth_user is None


def test_smtp_ssl_implicit_tls_with_auth(smtp_ssl: SmtpServer) -> None:
    with pytest.raises(ssl.SSLCertVerificationError):
        smtplib.SMTP_SSL(smtp_ssl.host, smtp_ssl.port, timeout=10, context=ssl.create_default_context())
    user, password = next(iter(smtp_ssl.users.items()))
    with smtplib.SMTP_SSL(smtp_ssl.host, smtp_ssl.port, timeout=10, context=smtp_ssl.ssl_context()) as client:
        client.login(user, password)
        client.send_message(_message())
    (got,) = smtp_ssl.wait_for(1, timeout=5)
    assert got.tls and got.auth_user == user


def test_smtp_451_then_recover(smtp_server: SmtpServer) -> None:
    smtp_server.fail_next(451, "4.3.0 Try again later", times=2)
    with smtplib.SMTP(smtp_server.host, smtp_server.port, timeout=10) as client:
        for _ in range(2):
            with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
                client.send_message(_message())
            assert refused.value.recipients["ldldbaothang@example.test"][0] == 451
            client.rset()
        client.send_message(_message())
    assert len(smtp_server.wait_for(1, timeout=5)) == 1
    assert smtp_server.rejections == [("rcpt", 451), ("rcpt", 451)]


def test_smtp_550_always(smtp_server: SmtpServer) -> None:
    smtp_server.fail_next(550, "5.1.1 No such user", times=None)
    for _ in range(3):
        with (
            smtplib.SMTP(smtp_server.host, smtp_server.port, timeout=10) as client,
            pytest.raises(smtplib.SMTPRecipientsRefused) as refused,
        ):
            client.send_message(_message())
        assert refused.value.recipients["ldldbaothang@example.test"] == (550, b"5.1.1 No such user")
    assert smtp_server.messages == []
    smtp_server.clear_failures()
    with smtplib.SMTP(smtp_server.host, smtp_server.port, timeout=10) as client:
        client.send_message(_message())
    assert len(smtp_server.wait_for(1, timeout=5)) == 1


def test_smtp_data_stage_failure(smtp_server: SmtpServer) -> None:
    smtp_server.fail_next(452, "4.3.1 Insufficient storage", stage="data")
    with smtplib.SMTP(smtp_server.host, smtp_server.port, timeout=10) as client:
        with pytest.raises(smtplib.SMTPDataError) as refused:
            client.send_message(_message())
        assert refused.value.smtp_code == 452
        client.send_message(_message())
    assert len(smtp_server.wait_for(1, timeout=5)) == 1
    assert smtp_server.rejections == [("data", 452)]


def test_smtp_auth_needs_tls() -> None:
    with pytest.raises(ValueError):
        SmtpServer(security="none", auth="required")


# ------------------------------------------------------------------- PostgreSQL


def test_postgres_connect_and_create_table(pg_url: str) -> None:
    url = sa.make_url(pg_url)
    assert url.drivername == "postgresql+psycopg"
    with psycopg.connect(host=url.host, port=url.port, user=url.username, dbname=url.database) as conn:
        conn.execute("CREATE TABLE t (id bigint PRIMARY KEY, name text NOT NULL)")
        conn.execute("INSERT INTO t VALUES (%s, %s)", (2**40, "LĐLĐ huyện Bảo Thắng"))
        assert conn.execute("SELECT id, name FROM t").fetchall() == [(2**40, "LĐLĐ huyện Bảo Thắng")]


def test_pg_url_is_a_fresh_empty_database(pg_url: str, postgres_server: PostgresServer) -> None:
    engine = sa.create_engine(pg_url)
    try:
        with engine.connect() as conn:
            assert sa.inspect(conn).get_table_names() == []
            assert conn.execute(sa.text("SELECT current_database()")).scalar() == sa.make_url(pg_url).database
    finally:
        engine.dispose()
    assert sa.make_url(pg_url).database != postgres_server.database


def test_store_url_works_with_sqlalchemy(store_url: str) -> None:
    metadata = sa.MetaData()
    table = sa.Table(
        "probe", metadata, sa.Column("id", sa.Integer, primary_key=True), sa.Column("text", sa.Text)
    )
    engine = sa.create_engine(store_url)
    try:
        metadata.create_all(engine)
        with engine.begin() as conn:
            conn.execute(table.insert(), [{"id": 1, "text": "Chuyên đề năm 2024"}])
        with engine.connect() as conn:
            assert conn.execute(sa.select(table.c.text)).scalar_one() == "Chuyên đề năm 2024"
    finally:
        engine.dispose()


def test_dovecot_add_user_while_running(dovecot: DovecotServer) -> None:
    dovecot.add_user("ldld-bao-thang", "pw-123")  # returns once Dovecot accepts the login
    with dovecot.client("ldld-bao-thang") as client:
        assert client.select_folder("INBOX")[b"EXISTS"] == 0
