"""Shared pytest fixtures.

Server fixtures start REAL servers (Dovecot, aiosmtpd, PostgreSQL) on free
loopback ports; a server that cannot start is a test ERROR, never a skip.
The helpers live in tests/servers/ (imported as `servers`).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TypeVar

import pytest
from hypothesis import settings

# pytest runs with --import-mode=importlib, which puts nothing on sys.path:
# make tests/servers importable as `servers` for this file and the tests.
_TESTS_DIR = str(Path(__file__).resolve().parent)
if _TESTS_DIR not in sys.path:
    sys.path.insert(0, _TESTS_DIR)

from servers._util import ManagedServer  # noqa: E402
from servers.dovecot import DovecotServer  # noqa: E402
from servers.postgres import PostgresServer  # noqa: E402
from servers.smtp import SmtpServer  # noqa: E402

from intake.processor import i18n  # noqa: E402

ServerT = TypeVar("ServerT", bound=ManagedServer)

# Property tests draw the same examples on every run, so CI's verdict repeats;
# `--hypothesis-profile=explore` draws new ones when looking for bugs.
settings.register_profile("repeatable", derandomize=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile("repeatable")



@pytest.fixture(autouse=True)
def _default_language() -> Iterator[None]:
    """Every test starts, and leaves, in the default language (Vietnamese)."""
    i18n.use(i18n.DEFAULT_LANGUAGE)
    yield
    i18n.use(i18n.DEFAULT_LANGUAGE)


@pytest.fixture
def english() -> Iterator[None]:
    """Messages in English, as with [acknowledge] language = "en" (tests of a use case's logic that read
    its message; the command line's language is tested in test_cli_language.py)."""
    i18n.use("en")
    yield


def _serve(server: ServerT) -> Iterator[ServerT]:
    """Start a test server for a fixture; clean it up even when start() failed half-way."""
    try:
        server.start()
        yield server
    finally:
        server.cleanup()


# --------------------------------------------------------------------- IMAP


@pytest.fixture
def dovecot() -> Iterator[DovecotServer]:
    """A fresh Dovecot (plaintext IMAP on 127.0.0.1) per test; starts in ~30 ms.

    Users: see `DovecotServer.users` ("intake", "alice", "bob"); `new_user()` adds one.
    """
    yield from _serve(DovecotServer(tls=False))


@pytest.fixture
def dovecot_tls() -> Iterator[DovecotServer]:
    """A fresh Dovecot with `ssl = required`: `port` = IMAP + STARTTLS, `ssl_port` = IMAPS.

    Bound to 127.0.0.2 (still loopback): Dovecot counts a connection whose
    client and server addresses are equal as secured and would let LOGIN
    through before STARTTLS; from 127.0.0.1 to 127.0.0.2 it really refuses.
    The certificate (CA at `ca_pem`) names 127.0.0.2, 127.0.0.1 and localhost.
    """
    yield from _serve(DovecotServer(tls=True, host="127.0.0.2"))


# --------------------------------------------------------------------- SMTP


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """Plain SMTP, no TLS, no AUTH."""
    yield from _serve(SmtpServer(security="none"))


@pytest.fixture
def smtp_starttls() -> Iterator[SmtpServer]:
    """STARTTLS offered (not required); AUTH PLAIN/LOGIN offered once TLS is on, optional."""
    yield from _serve(SmtpServer(security="starttls", auth="optional"))


@pytest.fixture
def smtp_auth_tls() -> Iterator[SmtpServer]:
    """STARTTLS and AUTH both required (`require_starttls`, `auth_required`, `auth_require_tls`)."""
    yield from _serve(SmtpServer(security="starttls", auth="required"))


@pytest.fixture
def smtp_ssl() -> Iterator[SmtpServer]:
    """Implicit TLS (port-465 style); AUTH PLAIN/LOGIN offered, optional."""
    yield from _serve(SmtpServer(security="ssl", auth="optional"))


# --------------------------------------------------------------- PostgreSQL


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One private PostgreSQL cluster for the whole session (initdb + start ~1 s)."""
    yield from _serve(PostgresServer())


@pytest.fixture
def pg_url(postgres_server: PostgresServer) -> Iterator[str]:
    """SQLAlchemy URL (postgresql+psycopg://...) of a fresh, empty database, dropped afterwards."""
    url = postgres_server.new_database()
    try:
        yield url
    finally:
        postgres_server.drop_database(url)


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A SQLAlchemy URL for an empty store: a SQLite file in tmp_path, or a fresh PG database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'intake.db'}"
    url: str = request.getfixturevalue("pg_url")
    return url
