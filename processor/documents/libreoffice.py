"""One LibreOffice for conversions: started when a legacy document first needs it, stopped when idle.

Starting LibreOffice costs about a second of CPU and 200 MB for every
converted .doc; kept running, a conversion costs a tenth of that. `LibreOffice`
starts `uno_bridge.py` with the system Python (Debian's python3-uno; intake's
own interpreter has no UNO), which starts LibreOffice under the reader's
memory limit with a profile of its own (no network, no macros) and converts
one file at a time on request. A conversion that misses its deadline, or a
LibreOffice that dies, gets the bridge and LibreOffice killed as one process
group and the profile removed; the next conversion starts afresh. After
`recycle_after` conversions it is restarted too, so that leaks stay bounded.
Nothing starts it but a conversion, and after `IDLE_SECONDS` without one it
is stopped (it holds about 200 MB): a daemon that reads only .docx never
runs LibreOffice, one that read a .doc this morning no longer holds it.

`LibreOffice.available()` says whether the system Python has UNO; without it
`DocumentReader` runs one LibreOffice per conversion, as before.

Paths: the caller (a document worker, through the pool) names a source and a
target inside the work directory; anything else is refused, so a worker
that went astray cannot make LibreOffice read or write elsewhere.
"""
from __future__ import annotations

import functools
import json
import logging
import os
import select
import shutil
import signal
import subprocess
import threading
import time
import uuid
from contextlib import suppress
from pathlib import Path
from typing import Any

from intake.parsers.errors import UnreadableDocument
from intake.processor.documents import lifeline

log = logging.getLogger(__name__)

SYSTEM_PYTHON = "/usr/bin/python3"
BRIDGE = Path(__file__).with_name("uno_bridge.py")
IDLE_SECONDS = 300.0  # a LibreOffice unused this long is stopped (a daemon may see one .doc a day)
START_GRACE = 10.0  # a start (fresh profile) may take this long beyond the conversion's own timeout
MAX_LINE = 64 * 1024


@functools.cache
def uno_python(python: str = SYSTEM_PYTHON) -> bool:
    """True when `python` can import uno (checked once per process)."""
    try:
        done = subprocess.run([python, "-I", "-c", "import uno"], capture_output=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


PROFILE_PREFIX = "office-"  # office-<pid of the process that started it>-<random>


def clear_stale_profiles(work_root: Path) -> list[Path]:
    """Remove the profiles of kept LibreOffices whose starting process is gone (a killed daemon's):
    LibreOffice's own lock in them would refuse or slow the next start. Returns what was removed."""
    removed = []
    with suppress(OSError):
        for profile in work_root.glob(f"{PROFILE_PREFIX}*-*"):
            pid = profile.name[len(PROFILE_PREFIX):].split("-", 1)[0]
            if pid.isdigit() and int(pid) != os.getpid() and not process_alive(int(pid)):
                shutil.rmtree(profile, ignore_errors=True)
                removed.append(profile)
    if removed:
        log.info("removed %s LibreOffice profile(s) left by processes that ended", len(removed))
    return removed


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's
        return True
    return True


class LibreOffice:
    """LibreOffice for conversions: started by the first conversion that needs it, kept for the next ones,
    stopped once none came for `idle_seconds` (a daemon with no .doc to read holds no LibreOffice).

    Thread-safe: conversions take turns on one lock, and the idle stopper (one thread, started with the
    first LibreOffice) and close() take the same lock, so neither ever stops a conversion in flight."""

    def __init__(self, soffice: str, work_root: Path, memory_mb: int, *, recycle_after: int = 200,
                 python: str = SYSTEM_PYTHON, idle_seconds: float = IDLE_SECONDS) -> None:
        self.soffice = soffice
        self.work_root = work_root
        self.memory_mb = memory_mb
        self.recycle_after = max(1, recycle_after)
        self.python = python
        self.idle_seconds = idle_seconds
        self.started = 0  # LibreOffice instances started so far (tests, logs)
        # One lock for the process and everything about it; the idle stopper waits on it.
        self._lock = threading.Condition(threading.Lock())
        self._proc: subprocess.Popen[bytes] | None = None
        self._profile: Path | None = None
        self._buffer = b""
        self._served = 0
        self._last_used = 0.0  # time.monotonic() when the last conversion ended
        self._closed = False
        self._stopper: threading.Thread | None = None
        self._lifeline: int | None = None  # the write end of the running bridge's lifeline
        clear_stale_profiles(work_root)

    @staticmethod
    def available(python: str = SYSTEM_PYTHON) -> bool:
        return uno_python(python)

    def running(self) -> bool:
        """Whether a LibreOffice is running for conversions now."""
        with self._lock:
            return self._proc is not None

    # -- conversions ------------------------------------------------------------

    def convert(self, source: Path, target: Path, infilter: str | None, timeout: float) -> str:
        """Convert `source` to .docx at `target`; '' on success, else LibreOffice's reason.

        Raises UnreadableDocument when the conversion missed its deadline or
        LibreOffice died in it (the instance is then gone; the next starts afresh)."""
        self._check_inside(source)
        self._check_inside(target)
        with self._lock:
            if self._closed:
                raise UnreadableDocument("LibreOffice could not convert the file: intake is stopping")
            try:
                return self._convert(source, target, infilter, timeout)
            finally:
                self._last_used = time.monotonic()  # the idle time counts from here

    def _convert(self, source: Path, target: Path, infilter: str | None, timeout: float) -> str:
        proc = self._running(timeout)
        request = {"source": str(source), "target": str(target), "filter": infilter}
        try:
            assert proc.stdin is not None
            proc.stdin.write(json.dumps(request).encode("utf-8") + b"\n")
            proc.stdin.flush()
        except OSError as exc:
            self._stop_now()
            raise UnreadableDocument(f"LibreOffice could not convert the file: it stopped ({exc})") from exc
        reply = self._read_reply(time.monotonic() + timeout, "the conversion")
        self._served += 1
        if reply.get("ok") is True:
            if self._served >= self.recycle_after:
                self._stop_now()
            return ""
        error = str(reply.get("error", "no reason given"))
        if proc.poll() is not None:
            self._stop_now()
        return error

    def _stop_when_idle(self) -> None:
        """The idle stopper's loop, until close(): stop LibreOffice once no conversion used it for
        `idle_seconds`. It holds the lock only between conversions, so it never stops one in flight."""
        with self._lock:
            while not self._closed:
                if self._proc is None:
                    self._lock.wait()  # until a conversion starts one, or close()
                    continue
                left = self._last_used + self.idle_seconds - time.monotonic()
                if left > 0:
                    self._lock.wait(left)
                    continue
                log.info("LibreOffice unused for %.0f s: stopped until the next conversion", self.idle_seconds)
                self._stop_now()

    def _check_inside(self, path: Path) -> None:
        root = self.work_root.resolve()
        if path.parent.resolve().parent != root or path.is_symlink():
            raise UnreadableDocument(f"conversion refused: {path} is not in a conversion directory of {root}")

    # -- the process ------------------------------------------------------------

    def _running(self, timeout: float) -> subprocess.Popen[bytes]:
        if self._proc is not None and self._proc.poll() is None:
            return self._proc
        if self._proc is not None:
            log.warning("LibreOffice (kept for conversions) had stopped: starting a new one")
            self._stop_now()
        from intake.processor.documents import prepare_profile  # the package imports this module

        profile = self.work_root / f"{PROFILE_PREFIX}{os.getpid()}-{uuid.uuid4().hex[:8]}"
        prepare_profile(profile)
        command = [self.python, "-I", str(BRIDGE), "--soffice", self.soffice, "--profile", str(profile),
                   "--pipe", f"intake-{profile.name}", "--memory-mb", str(self.memory_mb)]
        try:
            # Through the lifeline: the bridge and LibreOffice end with this process, even when it is killed.
            proc, self._lifeline = lifeline.start(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                                  stderr=subprocess.DEVNULL, cwd=self.work_root)
        except OSError as exc:
            shutil.rmtree(profile, ignore_errors=True)
            raise UnreadableDocument(f"LibreOffice could not convert the file: cannot start it ({exc})") from exc
        self._proc, self._profile, self._buffer, self._served = proc, profile, b"", 0
        began = time.monotonic()
        ready = self._read_reply(began + timeout + START_GRACE, "its start")
        if ready.get("ready") is not True:
            self._stop_now()
            raise UnreadableDocument(f"LibreOffice could not convert the file: {ready.get('error', 'did not start')}")
        self.started += 1
        log.info("LibreOffice started for conversions (pid %s) in %.1f s", ready.get("pid"), time.monotonic() - began)
        if self._stopper is None:
            self._stopper = threading.Thread(target=self._stop_when_idle, name="libreoffice-idle", daemon=True)
            self._stopper.start()
        self._lock.notify_all()  # the stopper: a LibreOffice to watch
        return proc

    def _read_reply(self, deadline: float, during: str) -> dict[str, Any]:
        proc = self._proc
        assert proc is not None and proc.stdout is not None
        fd = proc.stdout.fileno()
        while b"\n" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                self._stop_now()
                log.warning("LibreOffice missed its deadline during %s: killed", during)
                raise UnreadableDocument(f"LibreOffice conversion timed out during {during}")
            ready, _, _ = select.select([fd], [], [], left)
            if not ready:
                continue
            chunk = os.read(fd, 4096)
            if not chunk or len(self._buffer) > MAX_LINE:
                self._stop_now()
                raise UnreadableDocument(f"LibreOffice could not convert the file: it stopped during {during}")
            self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        try:
            reply = json.loads(line)
        except ValueError:
            reply = None
        if not isinstance(reply, dict):
            self._stop_now()
            raise UnreadableDocument("LibreOffice could not convert the file: its bridge answered nonsense")
        return reply

    def _stop_now(self) -> None:
        proc, profile, line = self._proc, self._profile, self._lifeline
        self._proc, self._profile, self._buffer, self._lifeline = None, None, b"", None
        if line is not None:
            os.close(line)
        if proc is not None:
            with suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
            for stream in (proc.stdin, proc.stdout):
                with suppress(OSError):
                    if stream is not None:
                        stream.close()
            proc.wait()
        if profile is not None:
            shutil.rmtree(profile, ignore_errors=True)

    def close(self) -> None:
        """Let LibreOffice end (EOF to the bridge), then make sure it did; the profile is removed.
        A conversion in flight ends first; none starts after."""
        with self._lock:
            self._closed = True
            self._lock.notify_all()  # the stopper leaves
            proc = self._proc
            if proc is not None and proc.stdin is not None:
                with suppress(OSError):
                    proc.stdin.close()
                with suppress(subprocess.TimeoutExpired):
                    proc.wait(timeout=10)
            self._stop_now()
            stopper = self._stopper
        if stopper is not None:
            stopper.join()
