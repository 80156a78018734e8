"""Small helpers shared by the test-server wrappers."""

from __future__ import annotations

import os
import shutil
import socket
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Self

import trustme


class ManagedServer:
    """`with Server() as s:` starts it and cleans up after, for every test server."""

    def start(self) -> None:
        raise NotImplementedError

    def cleanup(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.cleanup()


class ServerStartError(RuntimeError):
    """A test server could not be started; the message carries its log tail."""


def free_port(host: str = "127.0.0.1") -> int:
    """Return a TCP port that was free a moment ago (bind to port 0, read it, close)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def wait_until(predicate: Callable[[], bool], timeout: float, interval: float = 0.02) -> bool:
    """Poll `predicate` until it returns True or `timeout` seconds have passed."""
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


def log_tail(path: Path, lines: int = 40) -> str:
    """The last `lines` lines of a log file, or a note that it does not exist."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return f"(no log file at {path})"
    return "\n".join(text.splitlines()[-lines:])


def require_binary(path: str | os.PathLike[str]) -> str:
    """Return `path` if it is an executable file; raise (never skip) otherwise."""
    p = Path(path)
    if p.is_file() and os.access(p, os.X_OK):
        return str(p)
    found = shutil.which(str(path))
    if found:
        return found
    raise ServerStartError(f"required server binary not found or not executable: {path}")


def make_cert(
    tmp_dir: Path, hostnames: tuple[str, ...] = ("127.0.0.1", "localhost")
) -> tuple[Path, Path, Path]:
    """A throw-away CA and a server certificate for `hostnames`.

    Returns (ca_pem, cert_chain_pem, key_pem) written under `tmp_dir`.
    """
    ca = trustme.CA()
    cert = ca.issue_cert(*hostnames)
    ca_pem = tmp_dir / "ca.pem"
    cert_pem = tmp_dir / "server-cert.pem"
    key_pem = tmp_dir / "server-key.pem"
    ca.cert_pem.write_to_path(str(ca_pem))
    cert.cert_chain_pems[0].write_to_path(str(cert_pem))
    for extra in cert.cert_chain_pems[1:]:
        extra.write_to_path(str(cert_pem), append=True)
    cert.private_key_pem.write_to_path(str(key_pem))
    return ca_pem, cert_pem, key_pem


def process_running(pid: int) -> bool:
    """True if `pid` exists and is not a zombie (Linux /proc; reaping by init may lag)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rfind(")") + 2 :].split()[0] != "Z"
