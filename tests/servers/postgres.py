"""A private PostgreSQL cluster for tests.

`initdb -A trust --no-sync -U postgres` into a temporary directory, then
`pg_ctl -w start` on 127.0.0.1 and a free port, its Unix socket in the same
directory. `initdb` and `postgres` refuse to run as root, so as root they run
as the `postgres` system user (`runuser -u postgres --`) on a directory that
user owns; otherwise they run as the current user.

    server = PostgresServer()
    server.start()
    url = server.new_database()      # postgresql+psycopg://postgres@127.0.0.1:PORT/NAME
    server.drop_database(url)
    server.stop(); server.cleanup()
"""

from __future__ import annotations

import atexit
import contextlib
import glob
import itertools
import os
import pwd
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg
from psycopg import sql

from ._util import ManagedServer, ServerStartError, free_port, log_tail, process_running, require_binary

START_TIMEOUT = 15.0
SUPERUSER = "postgres"
SYSTEM_USER = "postgres"


def find_bindir() -> Path:
    """The newest /usr/lib/postgresql/<version>/bin holding initdb and pg_ctl (else PATH's)."""
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"),
        key=lambda p: [int(x) for x in re.findall(r"\d+", p)],
        reverse=True,
    )
    for bindir in candidates:
        if os.access(os.path.join(bindir, "initdb"), os.X_OK) and os.access(
            os.path.join(bindir, "pg_ctl"), os.X_OK
        ):
            return Path(bindir)
    initdb = shutil.which("initdb")
    if initdb and shutil.which("pg_ctl"):
        return Path(initdb).parent
    raise ServerStartError(
        "PostgreSQL server binaries (initdb, pg_ctl) not found under /usr/lib/postgresql/*/bin"
    )


class PostgresServer(ManagedServer):
    """One throw-away PostgreSQL cluster."""

    def __init__(self, *, host: str = "127.0.0.1", bindir: Path | None = None) -> None:
        self.host = host
        self.bindir = bindir or find_bindir()
        self.initdb = require_binary(self.bindir / "initdb")
        self.pg_ctl = require_binary(self.bindir / "pg_ctl")
        self.port = 0
        self.database = "intake_test"
        self.start_seconds: float | None = None
        self._db_seq = itertools.count(1)
        self._running = False
        self._as_root = os.geteuid() == 0
        if self._as_root:
            try:
                self._owner = pwd.getpwnam(SYSTEM_USER)
            except KeyError as exc:
                raise ServerStartError(f"running as root needs the {SYSTEM_USER!r} system user") from exc
            self._runuser = require_binary("runuser")
        else:
            self._owner = pwd.getpwuid(os.geteuid())
        # A short path under /tmp: the Unix socket path must stay under ~100 bytes,
        # and the postgres user must be able to reach it (pytest's tmp dirs are 0700).
        self.dir = Path(tempfile.mkdtemp(prefix="intake-pg-"))
        self.dir.chmod(0o755)
        self.data_dir = self.dir / "data"
        self.socket_dir = self.dir / "sock"
        self.log_path = self.dir / "postgres.log"
        for path in (self.dir, self.socket_dir):
            path.mkdir(exist_ok=True)
            os.chown(path, self._owner.pw_uid, self._owner.pw_gid)

    # --------------------------------------------------------------- lifecycle

    def _run(self, args: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
        cmd = [self._runuser, "-u", self._owner.pw_name, "--", *args] if self._as_root else args
        try:
            return subprocess.run(
                cmd,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=timeout,
                cwd=self.dir,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise ServerStartError(
                f"{args[0]} timed out after {timeout}s\n{log_tail(self.log_path)}"
            ) from exc

    def start(self, timeout: float = START_TIMEOUT) -> None:
        if self._running:
            raise RuntimeError("PostgreSQL is already running")
        began = time.monotonic()
        if not (self.data_dir / "PG_VERSION").exists():
            result = self._run(
                [
                    self.initdb,
                    "-A",
                    "trust",
                    "--no-sync",
                    "-U",
                    SUPERUSER,
                    "-E",
                    "UTF8",
                    "--locale",
                    "C",
                    "-D",
                    str(self.data_dir),
                ],
                timeout,
            )
            if result.returncode != 0:
                raise ServerStartError(
                    f"initdb failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
                )
        fresh = self.port == 0
        for attempt in range(3 if fresh else 1):
            if fresh:
                self.port = free_port(self.host)
            options = (
                f"-p {self.port} -k {self.socket_dir} -c listen_addresses={self.host} "
                "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
            )
            result = self._run(
                [
                    self.pg_ctl,
                    "-w",
                    "-t",
                    str(int(timeout)),
                    "-D",
                    str(self.data_dir),
                    "-l",
                    str(self.log_path),
                    "-o",
                    options,
                    "start",
                ],
                timeout + 5,
            )
            if result.returncode == 0:
                self._running = True
                _LIVE.add(self)
                break
            in_use = "already in use" in log_tail(self.log_path, 20)
            if not (fresh and in_use and attempt < 2):
                raise ServerStartError(
                    f"pg_ctl start failed ({result.returncode}) on port {self.port}:\n"
                    f"{result.stdout}\n{result.stderr}\n--- postgres.log ---\n{log_tail(self.log_path)}"
                )
        with self._admin() as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.database)))
        self.start_seconds = time.monotonic() - began

    def stop(self) -> None:
        """`pg_ctl stop -m immediate`; then make sure the postmaster is gone."""
        if not self._running:
            return
        pid = self._postmaster_pid()
        self._run([self.pg_ctl, "-D", str(self.data_dir), "-m", "immediate", "-w", "stop"], 30)
        if pid is not None:
            deadline = time.monotonic() + 10
            while process_running(pid) and time.monotonic() < deadline:
                time.sleep(0.02)
            if process_running(pid):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, 9)
        self._running = False
        _LIVE.discard(self)

    def _postmaster_pid(self) -> int | None:
        try:
            first = (self.data_dir / "postmaster.pid").read_text().split("\n", 1)[0]
        except (OSError, UnicodeDecodeError):
            return None
        return int(first) if first.strip().isdigit() else None

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


    # --------------------------------------------------------------- databases

    def _admin(self) -> psycopg.Connection[tuple[object, ...]]:
        return psycopg.connect(
            host=self.host,
            port=self.port,
            user=SUPERUSER,
            dbname="postgres",
            autocommit=True,
            connect_timeout=10,
        )

    def url_for(self, database: str) -> str:
        return f"postgresql+psycopg://{SUPERUSER}@{self.host}:{self.port}/{database}"

    @property
    def url(self) -> str:
        """SQLAlchemy URL of the database created at start."""
        return self.url_for(self.database)

    @property
    def dsn(self) -> str:
        """libpq/psycopg connection string of the database created at start."""
        return f"host={self.host} port={self.port} user={SUPERUSER} dbname={self.database}"

    def new_database(self, prefix: str = "t") -> str:
        """Create an empty database; return its SQLAlchemy URL."""
        name = f"{prefix}_{os.getpid()}_{next(self._db_seq)}"
        with self._admin() as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.url_for(name)

    def drop_database(self, url_or_name: str) -> None:
        """Drop a database, disconnecting anyone still connected to it."""
        name = url_or_name.rsplit("/", 1)[-1]
        with self._admin() as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


# Clusters still running at interpreter exit (a teardown that never ran).
_LIVE: set[PostgresServer] = set()


@atexit.register
def _stop_leftovers() -> None:
    for server in list(_LIVE):
        server.cleanup()
