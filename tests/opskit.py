"""Helpers for the operations tests: the CLI as a subprocess (optionally on a pseudo-terminal)
and a small project folder with a config using relative paths."""
from __future__ import annotations

import datetime as dt
import fcntl
import os
import re
import select
import shutil
import subprocess
import sys
import termios
import time
from collections.abc import Callable, Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
INTAKE = [sys.executable, "-m", "intake.processor.cli"]
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def base_env(**extra: str) -> dict[str, str]:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/root"),
           "LANG": "C.UTF-8", "USER": "hoa"}
    env.update(extra)
    return env


def intake(*argv: str, cwd: Path, env: Mapping[str, str] | None = None,
           timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """The CLI in a new process (where its own logging, terminal or working directory matters)."""
    return subprocess.run([*INTAKE, *argv], cwd=cwd, env=dict(env or base_env()), capture_output=True, text=True,
                          timeout=timeout)


def cli(*argv: str, cwd: Path, env: Mapping[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The CLI in this process, from `cwd` (faster); the same result shape as `intake`."""
    import contextlib
    import io

    from intake.processor.cli import main

    out, err = io.StringIO(), io.StringIO()
    before = Path.cwd()
    os.chdir(cwd)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(list(argv), environ=dict(env or base_env()))
    finally:
        os.chdir(before)
    return subprocess.CompletedProcess(list(argv), code, out.getvalue(), err.getvalue())


def project(folder: Path, *, maildir: Path | None = None, extra: str = "") -> Path:
    """folder/intake.toml: config.example.toml with relative paths (store, files, outbox, Maildir)."""
    folder.mkdir(parents=True, exist_ok=True)
    if maildir is None:
        shutil.copytree(ROOT / "examples" / "maildir", folder / "maildir")
        box = "maildir"
    else:
        box = str(maildir)
    text = (ROOT / "config.example.toml").read_text(encoding="utf-8")
    text = text.replace('path = "examples/maildir"', f'path = "{box}"')
    text = text.replace("[acknowledge]", f"{extra}\n[acknowledge]" if extra else "[acknowledge]")
    text = "isolate_parsing = false  # tests: parse in-process, faster\n" + text
    (folder / "intake.toml").write_text(text, encoding="utf-8")
    return folder / "intake.toml"


class Pty:
    """A command on a pseudo-terminal (its controlling terminal, so getpass works too)."""

    def __init__(self, argv: list[str], cwd: Path, env: Mapping[str, str], cols: int = 120) -> None:
        self.master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, bytes([24, 0, cols, 0, 0, 0, 0, 0]))

        def child_setup() -> None:
            os.setsid()
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)

        self.proc = subprocess.Popen(argv, cwd=cwd, env=dict(env), stdin=slave, stdout=slave, stderr=slave,
                                     preexec_fn=child_setup, close_fds=True)
        os.close(slave)
        self.buffer = ""

    def _read(self, timeout: float) -> bool:
        ready, _, _ = select.select([self.master], [], [], timeout)
        if not ready:
            return False
        try:
            data = os.read(self.master, 65536)
        except OSError:  # EIO: the child closed the terminal
            return False
        if not data:
            return False
        self.buffer += data.decode("utf-8", "replace")
        return True

    def expect(self, text: str, timeout: float = 30) -> str:
        """Wait until `text` shows; returns what came before it and consumes through it."""
        deadline = time.monotonic() + timeout
        while text not in ANSI.sub("", self.buffer):
            left = deadline - time.monotonic()
            if left <= 0 or (not self._read(min(left, 0.5)) and self.proc.poll() is not None
                             and not self._read(0.1)):
                raise AssertionError(f"{text!r} never came; got:\n{ANSI.sub('', self.buffer)[-2000:]}")
        plain = ANSI.sub("", self.buffer)
        before, _, after = plain.partition(text)
        self.buffer = after
        return before

    def send(self, line: str) -> None:
        os.write(self.master, (line + "\r").encode())

    def finish(self, timeout: float = 120) -> tuple[int, str]:
        """Read to the end; (exit status, everything shown, escape codes included)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self._read(0.5) and self.proc.poll() is not None:
                break
        code = self.proc.wait(timeout=max(1.0, deadline - time.monotonic()))
        os.close(self.master)
        return code, self.buffer


def wait_until(predicate: Callable[[], bool], seconds: float, what: str) -> None:
    """Poll `predicate` until it holds; AssertionError naming `what` after `seconds`."""
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def local(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.timezone(dt.timedelta(hours=7)))


def backlog(folder: Path, count: int, start: int = 0) -> None:
    """`count` messages in folder/maildir, each a report from one of three registered units."""
    from staffkit import SECTION_A, STUDY, at, drop, message, report_docx

    docx = report_docx("LĐLĐ huyện Bảo Thắng", "II. " + SECTION_A, STUDY)
    senders = ("ldldbaothang@gmail.com", "ldldbatxat@gmail.com", "ldldsapa@gmail.com")
    for i in range(start, start + count):
        raw = message(senders[i % 3], at("2024-02-20 08:00") + dt.timedelta(minutes=i), docx=docx,
                      subject=f"Báo cáo số {i}")
        drop(folder, raw, f"1708{i:06d}.M{i}P1.mx1")
