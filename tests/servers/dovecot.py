"""A private Dovecot IMAP server for tests.

Each `DovecotServer` lives in its own temporary directory: its own dovecot.conf
(the system configuration is never read), passwd-file, Maildirs, base_dir,
state_dir and log file, so several can run side by side. It listens on
127.0.0.1 only, on a port chosen free just before start.

    server = DovecotServer(tls=False)
    server.start()
    server.append("alice", "INBOX", raw_bytes, internaldate=datetime(...))
    with server.client("alice") as imap:
        imap.select_folder("INBOX")
    server.stop(); server.cleanup()

With `tls=True`, `port` speaks IMAP with STARTTLS required before login
(`ssl = required`), and `ssl_port` speaks implicit TLS (IMAPS); both present a
certificate for 127.0.0.1/localhost issued by a throw-away CA whose PEM is at
`ca_pem`. With `tls=False`, `port` is plaintext IMAP and login is allowed
without TLS.
"""

from __future__ import annotations

import atexit
import contextlib
import grp
import os
import pwd
import re
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path

from imapclient import IMAPClient
from imapclient.imap_utf7 import encode as imap_utf7_encode

from ._util import ManagedServer, ServerStartError, free_port, log_tail, make_cert, require_binary, wait_until

DOVECOT_BINARY = "/usr/sbin/dovecot"
DEFAULT_USERS: dict[str, str] = {
    "intake": "intake-secret",
    "alice": "alice-secret",
    "bob": "bob-secret",
}
START_TIMEOUT = 15.0
STOP_TIMEOUT = 10.0
SPARE_USERS = 20
# Folder hierarchy separator the namespace uses (Gmail uses "/" too).
SEPARATOR = "/"


def _system_user(name: str) -> pwd.struct_passwd:
    try:
        return pwd.getpwnam(name)
    except KeyError as exc:
        raise ServerStartError(f"system user {name!r} needed by the test Dovecot does not exist") from exc


class DovecotServer(ManagedServer):
    """A Dovecot master process (`dovecot -F -c CONF`) with its own data."""

    def __init__(
        self,
        tls: bool = False,
        users: dict[str, str] | None = None,
        *,
        host: str = "127.0.0.1",
        binary: str = DOVECOT_BINARY,
    ) -> None:
        self.tls = tls
        self.host = host
        self.binary = require_binary(binary)
        self.users: dict[str, str] = dict(DEFAULT_USERS if users is None else users)
        for name, password in self.users.items():
            self._check_credentials(name, password)
        self.dir = Path(tempfile.mkdtemp(prefix="intake-dovecot-"))
        # Mail processes run as an unprivileged user: every parent of the
        # Maildirs must be traversable.
        self.dir.chmod(0o755)
        self.mail_dir = self.dir / "mail"
        self.run_dir = self.dir / "run"
        self.state_dir = self.dir / "state"
        self.conf_path = self.dir / "dovecot.conf"
        self.passwd_path = self.dir / "passwd"
        self.log_path = self.dir / "dovecot.log"
        self.stdio_path = self.dir / "dovecot.stdio"
        self.port: int = 0
        self.ssl_port: int | None = None
        self.ca_pem: Path | None = None
        self._cert: tuple[Path, Path] | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._stdio: int | None = None
        # Accounts written to the passwd-file up front and handed out by
        # new_user(): Dovecot notices a changed passwd-file only on its next
        # once-a-second check, so adding a user later costs up to a second.
        self._spare_users: dict[str, str] = {
            f"user{i}": f"user{i}-secret" for i in range(1, SPARE_USERS + 1) if f"user{i}" not in self.users
        }
        self.start_seconds: float | None = None  # duration of the last successful start()

        if os.geteuid() == 0:
            self._internal_user = _system_user("dovecot").pw_name
            self._login_user = _system_user("dovenull").pw_name
            mail = _system_user("nobody")
        else:
            me = pwd.getpwuid(os.geteuid())
            self._internal_user = self._login_user = me.pw_name
            mail = me
        self._mail_uid = mail.pw_uid
        self._mail_gid = mail.pw_gid
        self._mail_user = mail.pw_name
        self._mail_group = grp.getgrgid(mail.pw_gid).gr_name
        self.mail_dir.mkdir()
        os.chown(self.mail_dir, self._mail_uid, self._mail_gid)
        if tls:
            self.ca_pem, cert_pem, key_pem = make_cert(
                self.dir, tuple(dict.fromkeys((host, "127.0.0.1", "localhost")))
            )
            self._cert = (cert_pem, key_pem)
        self._write_passwd()

    # ------------------------------------------------------------------ config

    @staticmethod
    def _check_credentials(name: str, password: str) -> None:
        bad = set(":\n\r")
        if not name or bad & set(name) or bad & set(password) or "/" in name or name.startswith("."):
            raise ValueError(f"user name or password not usable in a passwd-file: {name!r}")

    def _write_passwd(self) -> None:
        accounts = {**self._spare_users, **self.users}
        lines = [f"{name}:{{PLAIN}}{password}::::::\n" for name, password in accounts.items()]
        tmp = self.passwd_path.with_suffix(".tmp")
        tmp.write_text("".join(lines), encoding="utf-8")
        tmp.chmod(0o644)
        # Dovecot re-reads the passwd-file when its mtime/size changes.
        os.replace(tmp, self.passwd_path)

    def _config(self) -> str:
        tls_settings = "ssl = no\n"
        imaps_listener = ""
        if self.tls:
            assert self._cert is not None and self.ssl_port is not None
            cert_pem, key_pem = self._cert
            tls_settings = f"ssl = required\nssl_cert = <{cert_pem}\nssl_key = <{key_pem}\n"
            imaps_listener = (
                f"  inet_listener imaps {{\n    address = {self.host}\n    port = {self.ssl_port}\n"
                "    ssl = yes\n  }\n"
            )
        return f"""# Written by tests/servers/dovecot.py; the system configuration is not read.
base_dir = {self.run_dir}
state_dir = {self.state_dir}
instance_name = intake-test-{self.dir.name}
protocols = imap
listen = {self.host}
shutdown_clients = yes
log_path = {self.log_path}
info_log_path = {self.log_path}
auth_verbose = yes
default_internal_user = {self._internal_user}
default_internal_group = {grp.getgrgid(_system_user(self._internal_user).pw_gid).gr_name}
default_login_user = {self._login_user}
first_valid_uid = 1
first_valid_gid = 1
mail_location = maildir:{self.mail_dir}/%u
mail_plugins =
mailbox_idle_check_interval = 1 secs
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
auth_cache_size = 0
{tls_settings}
namespace inbox {{
  inbox = yes
  separator = {SEPARATOR}
}}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {self.passwd_path}
}}
userdb {{
  driver = static
  args = uid={self._mail_uid} gid={self._mail_gid} home={self.mail_dir}/%u
}}
# No auth penalty (anvil's growing delay after failed logins): tests try
# wrong passwords on purpose and must not wait seconds for each.
service anvil {{
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
service imap-login {{
  inet_listener imap {{
    address = {self.host}
    port = {self.port}
  }}
{imaps_listener}}}
"""

    # --------------------------------------------------------------- lifecycle

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self, timeout: float = START_TIMEOUT) -> None:
        """Start the server; on a fresh server pick free ports (retrying a port race)."""
        if self.running:
            raise RuntimeError("Dovecot is already running")
        fresh = self.port == 0
        attempts = 3 if fresh else 1
        for attempt in range(attempts):
            if fresh:
                self.port = free_port(self.host)
                self.ssl_port = free_port(self.host) if self.tls else None
            try:
                self._start_once(timeout)
                return
            except ServerStartError:
                in_use = "Address already in use" in log_tail(self.log_path, 20)
                if not (fresh and in_use and attempt + 1 < attempts):
                    raise

    def _start_once(self, timeout: float) -> None:
        self.conf_path.write_text(self._config(), encoding="utf-8")
        for d in (self.run_dir, self.state_dir):
            d.mkdir(exist_ok=True)
        began = time.monotonic()
        stdio = os.open(self.stdio_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            # Own session/process group, so teardown can reach every child.
            self._proc = subprocess.Popen(
                [self.binary, "-F", "-c", str(self.conf_path)],
                stdin=subprocess.DEVNULL,
                stdout=stdio,
                stderr=stdio,
                start_new_session=True,
            )
        finally:
            os.close(stdio)
        _LIVE.add(self)
        ok = wait_until(lambda: not self.running or self._greets(), timeout, interval=0.01)
        ssl_port = self.ssl_port
        if ok and self.running and ssl_port is not None:
            ok = wait_until(lambda: not self.running or self._accepts(ssl_port), timeout, interval=0.01)
        if not (ok and self.running):
            exit_code = self._proc.poll()
            self.kill()
            raise ServerStartError(
                f"Dovecot did not come up on {self.host}:{self.port} within {timeout}s "
                f"(exit code {exit_code}).\n--- dovecot.log ---\n{log_tail(self.log_path)}\n"
                f"--- stdout/stderr ---\n{log_tail(self.stdio_path)}"
            )
        self.start_seconds = time.monotonic() - began

    def _greets(self) -> bool:
        try:
            with socket.create_connection((self.host, self.port), timeout=1.0) as sock:
                sock.settimeout(2.0)
                return sock.recv(256).startswith(b"* OK")
        except OSError:
            return False

    def _accepts(self, port: int) -> bool:
        try:
            with socket.create_connection((self.host, port), timeout=1.0):
                return True
        except OSError:
            return False

    def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        """Graceful shutdown (SIGTERM to the master); escalate to SIGKILL after `timeout`."""
        proc = self._proc
        if proc is None:
            return
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            # The master lingers until its log process has drained (1-3 s);
            # once only those two are left every mail process has exited and
            # the data is on disk, so the rest can be killed.
            wait_until(lambda: proc.poll() is not None or _only_master_and_log_left(proc.pid), timeout)
        self._reap(proc)

    def kill(self) -> None:
        """Kill the master and every child at once (a crash, for reconnect tests)."""
        proc = self._proc
        if proc is None:
            return
        self._reap(proc)

    def _reap(self, proc: subprocess.Popen[bytes]) -> None:
        # The process group is ours (start_new_session): it holds the master
        # and the children it forked. Kill what is left, then wait for it to go.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(STOP_TIMEOUT)
        # Orphaned children are reaped by init, maybe lazily: zombies don't count.
        wait_until(lambda: not _group_members(proc.pid), STOP_TIMEOUT)
        self._proc = None
        _LIVE.discard(self)

    def restart(self, timeout: float = START_TIMEOUT) -> None:
        """Stop and start again on the same port(s) with the same data."""
        self.stop()
        self.start(timeout)

    def cleanup(self) -> None:
        """Stop (if needed) and delete the temporary directory."""
        self.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


    # ------------------------------------------------------------------- users

    def add_user(self, name: str, password: str, timeout: float = 5.0) -> None:
        """Add (or change) an account; returns once the running server accepts it."""
        self._check_credentials(name, password)
        self.users[name] = password
        self._spare_users.pop(name, None)
        self._write_passwd()
        if self.running and not wait_until(lambda: self._can_login(name), timeout, interval=0.1):
            raise RuntimeError(f"Dovecot did not pick up the new account {name!r} within {timeout}s")

    def _can_login(self, name: str) -> bool:
        try:
            with self.client(name):
                return True
        except IMAPClient.Error:
            return False

    def new_user(self) -> tuple[str, str]:
        """A fresh account with an empty mailbox, usable at once; returns (name, password)."""
        if self._spare_users:
            name = next(iter(self._spare_users))
            password = self._spare_users.pop(name)
            self.users[name] = password
            return name, password
        seq = len(self.users) + 1
        while f"extra{seq}" in self.users:
            seq += 1
        name, password = f"extra{seq}", f"extra{seq}-secret"
        self.add_user(name, password)
        return name, password

    # ------------------------------------------------------------------ client

    def ssl_context(self) -> ssl.SSLContext:
        """A client context that trusts this server's CA (TLS variant only)."""
        if self.ca_pem is None:
            raise RuntimeError("this DovecotServer was started without TLS")
        return ssl.create_default_context(cafile=str(self.ca_pem))

    def connect(self, *, implicit_tls: bool = False, timeout: float = 10.0) -> IMAPClient:
        """An IMAPClient connected (not logged in); STARTTLS done when the server requires it."""
        if implicit_tls:
            if self.ssl_port is None:
                raise RuntimeError("this DovecotServer has no IMAPS listener (tls=False)")
            return IMAPClient(
                self.host, port=self.ssl_port, ssl=True, ssl_context=self.ssl_context(), timeout=timeout
            )
        client = IMAPClient(self.host, port=self.port, ssl=False, timeout=timeout)
        if self.tls:
            client.starttls(self.ssl_context())
        return client

    @contextlib.contextmanager
    def client(self, user: str, *, implicit_tls: bool = False) -> Iterator[IMAPClient]:
        """A logged-in IMAPClient (normalise_times off); logged out on exit."""
        client = self.connect(implicit_tls=implicit_tls)
        try:
            client.normalise_times = False
            client.login(user, self.users[user])
            yield client
        finally:
            with contextlib.suppress(OSError, IMAPClient.Error, IMAPClient.AbortError):
                client.logout()

    # ------------------------------------------------------------ mail helpers

    def create_folder(self, user: str, folder: str) -> None:
        with self.client(user) as client:
            if not client.folder_exists(folder):
                client.create_folder(folder)
            client.subscribe_folder(folder)

    def append(
        self,
        user: str,
        folder: str,
        raw_bytes: bytes,
        internaldate: datetime,
        flags: Iterable[str | bytes] = (),
    ) -> int:
        """APPEND a message as `user`; returns its UID (from APPENDUID)."""
        with self.client(user) as client:
            if folder.upper() != "INBOX" and not client.folder_exists(folder):
                client.create_folder(folder)
            response = client.append(folder, raw_bytes, flags=tuple(flags), msg_time=internaldate)
        match = re.search(rb"APPENDUID \d+ (\d+)", response)
        if match is None:
            raise RuntimeError(f"APPEND response without APPENDUID: {response!r}")
        return int(match.group(1))

    def list_messages(self, user: str, folder: str = "INBOX") -> list[tuple[int, tuple[bytes, ...]]]:
        """Every message in `folder` as (uid, flags), by UID."""
        with self.client(user) as client:
            client.select_folder(folder, readonly=True)
            uids = client.search("ALL")
            fetched = client.fetch(uids, ["FLAGS"]) if uids else {}
        # \\Recent is a per-session flag: leave it out so results are stable.
        return sorted(
            (int(uid), tuple(f for f in data[b"FLAGS"] if f != b"\\Recent")) for uid, data in fetched.items()
        )

    def uidvalidity(self, user: str, folder: str = "INBOX") -> int:
        with self.client(user) as client:
            status = client.folder_status(folder, [b"UIDVALIDITY"])
        return int(status[b"UIDVALIDITY"])

    def folder_path(self, user: str, folder: str) -> Path:
        """The Maildir (Maildir++ layout) that holds `folder` on disk."""
        root = self.mail_dir / user
        if folder.upper() == "INBOX":
            return root
        encoded = bytes(imap_utf7_encode(folder)).decode("ascii")
        return root / ("." + encoded.replace(SEPARATOR, "."))

    def reset_uidvalidity(self, user: str, folder: str = "INBOX") -> tuple[int, int]:
        """Make the server assign `folder` a new UIDVALIDITY (messages kept, UIDs renumbered).

        Stops the server, deletes the folder's dovecot-uidlist and index files,
        starts it again. Returns (old, new) and raises if it did not change.
        """
        old = self.uidvalidity(user, folder)
        path = self.folder_path(user, folder)
        self.stop()
        removed = [
            p
            for p in path.iterdir()
            if p.is_file() and p.name.startswith(("dovecot-uidlist", "dovecot.index"))
        ]
        if not any(p.name == "dovecot-uidlist" for p in removed):
            self.start()
            raise RuntimeError(f"no dovecot-uidlist in {path}: is {folder!r} the right folder?")
        for p in removed:
            p.unlink()
        self.start()
        new = self.uidvalidity(user, folder)
        if new == old:
            raise RuntimeError(f"UIDVALIDITY of {user}/{folder} did not change ({old})")
        return old, new


# Servers whose processes may still run: killed at interpreter exit even if a
# fixture's teardown never ran (KeyboardInterrupt, an error in a test helper).
_LIVE: set[DovecotServer] = set()


@atexit.register
def _kill_leftovers() -> None:
    for server in list(_LIVE):
        server.cleanup()


def _group_members(pgid: int) -> dict[int, str]:
    """Live (non-zombie) processes of process group `pgid`: pid -> command line (Linux /proc)."""
    members: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:
            continue
        # Fields after the parenthesised command name: state ppid pgrp ...
        fields = stat[stat.rfind(")") + 2 :].split()
        if len(fields) >= 3 and int(fields[2]) == pgid and fields[0] != "Z":
            members[int(entry.name)] = cmdline
    return members


def _only_master_and_log_left(pgid: int) -> bool:
    others = [cmd for pid, cmd in _group_members(pgid).items() if pid != pgid]
    return all(cmd.endswith("/log") for cmd in others)
