"""What a second `run --once` over an unchanged 500-message IMAP mailbox costs.

Starts a private Dovecot (tests/servers/dovecot.py), APPENDs N messages (a
short text and a 30 kB attachment each), runs intake once to take them in,
then runs it again and counts the IMAP commands it sent and the bytes that
crossed the socket in each direction, by wrapping imaplib's send/read calls
(imapclient talks through imaplib).

    .venv/bin/python bench/imap_rerun.py [--messages 500]
"""
from __future__ import annotations

import argparse
import datetime as dt
import imaplib
import sys
import tempfile
import time
import tomllib
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from servers.dovecot import DovecotServer  # noqa: E402

from intake.processor.app import App, open_store  # noqa: E402
from intake.processor.config import parse_config  # noqa: E402

USER = "intake"


@dataclass
class Traffic:
    commands: list[str]
    sent: int = 0
    received: int = 0


@contextmanager
def counted() -> Iterator[Traffic]:
    """Count every imaplib command name and the bytes sent and received while inside."""
    traffic = Traffic(commands=[])
    cls = imaplib.IMAP4
    saved = {name: getattr(cls, name) for name in ("_command", "send", "read", "readline")}

    def wrap(name: str, count: Callable[[Any, Any], None]) -> None:
        original = saved[name]

        def wrapper(self: Any, *args: Any) -> Any:
            result = original(self, *args)
            count(args, result)
            return result

        setattr(cls, name, wrapper)

    wrap("_command", lambda args, _r: traffic.commands.append(str(args[0])))
    wrap("send", lambda args, _r: setattr(traffic, "sent", traffic.sent + len(args[0])))
    wrap("read", lambda _a, r: setattr(traffic, "received", traffic.received + len(r)))
    wrap("readline", lambda _a, r: setattr(traffic, "received", traffic.received + len(r)))
    try:
        yield traffic
    finally:
        for name, original in saved.items():
            setattr(cls, name, original)


def message(n: int) -> bytes:
    msg = EmailMessage()
    msg["From"] = f"Đơn vị {n} <unit{n}@example.org>"
    msg["To"] = "bantuyengiaonuconglc@gmail.com"
    msg["Subject"] = f"Báo cáo số {n}"
    msg["Message-ID"] = f"<bench-{n}@example.org>"
    msg.set_content(f"Kính gửi Ban Tuyên giáo, xin gửi báo cáo số {n}.")
    msg.add_attachment(bytes(range(256)) * 120, maintype="application", subtype="pdf", filename=f"bc-{n}.pdf")
    return bytes(msg)


def config(tmp: Path, server: DovecotServer) -> Any:
    example = tomllib.loads((ROOT / "config.example.toml").read_text(encoding="utf-8"))
    data = {"store": {"url": f"sqlite:///{tmp / 'intake.db'}", "files_dir": str(tmp / "files")},
            "mailbox": {"kind": "imap", "host": server.host, "port": server.port, "security": "none",
                        "username": USER, "password_env": "PW", "after": "flag"},
            "sending": {"kind": "outbox", "from_address": "bantuyengiaonuconglc@gmail.com",
                        "outbox_dir": str(tmp / "outbox")},
            "units": example["units"], "campaigns": example["campaigns"], "isolate_parsing": False}
    return parse_config(data, tmp / "intake.toml", {"PW": server.users[USER]})


def run_once(cfg: Any) -> tuple[Traffic, float, int]:
    app = App(cfg, open_store(cfg))
    try:
        began = time.perf_counter()
        with counted() as traffic:
            _leftover, fetched, _sent = app.run_once()
        return traffic, time.perf_counter() - began, fetched.fetched
    finally:
        app.store.close()


def _tally(commands: list[str]) -> str:
    counts = Counter(commands)
    return ", ".join(f"{name} ×{n}" if n > 1 else name for name, n in counts.items())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=500)
    args = parser.parse_args()
    server = DovecotServer()
    try:
        server.start()
        when = dt.datetime(2024, 2, 20, 8, 0, tzinfo=dt.UTC)
        with server.client(USER) as client:
            for n in range(args.messages):
                client.append("INBOX", message(n), msg_time=when + dt.timedelta(minutes=n))
        with tempfile.TemporaryDirectory(prefix="intake-bench-") as tmp:
            cfg = config(Path(tmp), server)
            for label in ("first run", "second run"):
                traffic, seconds, fetched = run_once(cfg)
                print(f"{label}: {fetched} messages fetched in {seconds:.2f} s; "
                      f"{len(traffic.commands)} IMAP commands ({_tally(traffic.commands)}); "
                      f"{traffic.sent} bytes sent, {traffic.received} bytes received")
    finally:
        server.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
