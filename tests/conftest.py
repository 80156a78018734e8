"""Shared pytest fixtures, and the tiers.

Server fixtures start REAL servers (Dovecot, aiosmtpd, PostgreSQL) on free
loopback ports; a server that cannot start is a test ERROR, never a skip.
The helpers live in tests/servers/ (imported as `servers`).

Tiers (`make test-fast` runs `-m "not server and not slow"`; `make test` runs
all): a test is marked `server` when it requests a server fixture (directly or
through another fixture, or `store_url`'s PostgreSQL case) or names a server
class, and `slow` when its module is in SLOW_MODULES (LibreOffice, the
browser, intake's CLI as a process). Nobody marks a test by hand: a new test
lands in its tier by what it uses. A test of the fast tier that starts one of
those programs all the same fails at once, saying so (`_no_slow_programs`).
"""

from __future__ import annotations

import re
import resource
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TypeVar

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

# ------------------------------------------------------------------- tiers

SERVER_FIXTURES = frozenset({"dovecot", "dovecot_tls", "smtp_server", "smtp_starttls", "smtp_auth_tls", "smtp_ssl",
                             "postgres_server", "pg_url"})
SERVER_CLASSES = frozenset({"DovecotServer", "SmtpServer", "PostgresServer"})
# Modules whose tests start LibreOffice, the browser or intake's CLI as a process, most of them.
SLOW_MODULES = {
    "test_documents": "LibreOffice", "test_reading_workers": "LibreOffice", "test_web_browser": "Chromium",
    "test_ops": "intake's CLI as a process", "test_faults": "intake's CLI as a process, tmpfs mounts",
    "test_backup": "intake's CLI as a process", "test_init": "intake's CLI on a terminal",
    "test_catalog_cli": "intake's CLI as a process", "test_catalog_daemon": "intake's daemon as a process",
    "test_guideline_files": "LibreOffice, pdftotext", "test_kill9": "LibreOffice, intake as a process",
    "test_web_catalog_browser": "Chromium", "test_libreoffice": "LibreOffice, intake's daemon as a process",
}
# What a fast-tier test must not start (a test that does belongs to a module above, or is marked slow).
_SLOW_PROGRAM = re.compile(r"(^|/)(soffice\S*|chromium|node|dovecot|postgres|initdb|pg_ctl|runuser|intake)$")
_SLOW_ARGUMENT = re.compile(r"intake\.processor\.cli|render_export\.py|uno_bridge\.py")


def _names_in(code: Any) -> set[str]:
    """The global names a function's code (and the code nested in it) refers to."""
    names = set(code.co_names)
    for const in code.co_consts:
        if hasattr(const, "co_names"):
            names |= _names_in(const)
    return names


def _is_server_test(item: pytest.Item) -> bool:
    callspec = getattr(item, "callspec", None)
    if callspec is not None and callspec.params.get("store_url") == "postgresql":
        return True
    function = getattr(item, "function", None)
    code = getattr(function, "__code__", None)
    return bool(SERVER_FIXTURES & set(getattr(item, "fixturenames", ()))
                or (code is not None and SERVER_CLASSES & _names_in(code)))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if _is_server_test(item):
            item.add_marker(pytest.mark.server)
        if item.path.stem in SLOW_MODULES:
            item.add_marker(pytest.mark.slow)


_fast_test: list[str] = []  # the fast-tier test running now, if any


def _no_slow_programs(event: str, args: tuple[Any, ...]) -> None:
    if event != "subprocess.Popen" or not _fast_test:
        return
    argv = [str(a) for a in args[1]] if isinstance(args[1], list | tuple) else [str(args[1])]
    program = str(args[0] or argv[0])
    # An argument too: a launcher (processor/documents/lifeline.py) starts LibreOffice as its argument.
    if any(_SLOW_PROGRAM.search(a) or _SLOW_ARGUMENT.search(a) for a in (program, *argv)):
        raise RuntimeError(f"{_fast_test[0]} is in the fast tier but starts {' '.join(argv[:4])}: mark it slow "
                           f"(@pytest.mark.slow) or add its module to SLOW_MODULES in tests/conftest.py")


sys.addaudithook(_no_slow_programs)


def _watched(item: pytest.Item) -> Iterator[object]:
    if not (item.get_closest_marker("server") or item.get_closest_marker("slow")):
        _fast_test.append(item.nodeid)
    try:
        return (yield)
    finally:
        _fast_test.clear()


# The set-up and call of a fast-tier test are watched by `_no_slow_programs`; not its tear-down, where
# pytest also stops the servers of the session (after the last test, whichever it is).
pytest_runtest_setup = pytest.hookimpl(wrapper=True)(_watched)
pytest_runtest_call = pytest.hookimpl(wrapper=True)(_watched)


FAST_TIER = "not server and not slow"
_STARTED = time.monotonic()


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    """The fast tier's time (wall, and the core-seconds of pytest and its children: a busy machine
    stretches the first, not the second)."""
    if config.getoption("markexpr") != FAST_TIER:
        return
    cpu = sum(getattr(resource.getrusage(who), field) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
              for field in ("ru_utime", "ru_stime"))
    terminalreporter.write_line(f"fast tier: {time.monotonic() - _STARTED:.1f} s wall, {cpu:.1f} core-seconds")


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
