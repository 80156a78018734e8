"""The one worker boundary: child processes that parse mail and read attachments under limits.

    python -I -m intake.processor.reading.harness --memory-mb N --cpu-seconds N

`Workers` (the parent's side) keeps one worker process per core, started
with the first job. A worker sets its limits once, here (`apply_limits`):
an address space for its whole life and a CPU budget renewed before each
job, so that each job gets the same budget however long the worker lived;
the parent watches a wall-clock deadline per job. A worker is replaced
after `recycle_after` jobs, after it ran out of memory (`Refused`), and
when it dies, misses its deadline or sends a malformed reply (the job then
fails with `UnreadableDocument("exceeded memory/time limit")`).

Framing: each frame is a 4-byte big-endian length and that many bytes of
`wire` MessagePack. The first frame to a worker is its `Setup`; then a job
(`ReadMessage`, `ReadDocument`) and its reply (`MessageRead`,
`DocumentRead`, `Refused`), one at a time. A worker that meets a legacy
.doc asks the parent (`ConvertAsk`); the parent's LibreOffice converts it
(`libreoffice.LibreOffice.convert`) and the parent answers `Converted`.

`read_message` is what the pipeline, `retry` and the CLI use: when a worker
fails on a whole message, the message is read again in parts (the email
alone, then each Word file in a job of its own), so that the blame falls on
the attachment that caused it, or on the email (its header read here,
`parse_email_headers`, bounded). `read_messages` keeps the workers busy
while the caller stores what came back: a bounded window of jobs, results
in the order of the items.
"""
from __future__ import annotations

import argparse
import collections
import dataclasses
import fcntl
import functools
import logging
import os
import queue
import resource
import select
import signal
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import IO, Any, Final, NoReturn, Protocol, TypeVar

from intake.parsers.email import parse_email_headers
from intake.parsers.errors import DocumentError, UnreadableDocument, UnsupportedDocument
from intake.parsers.model import Attachment
from intake.processor.documents import DocumentReader
from intake.processor.documents.libreoffice import IDLE_SECONDS, LibreOffice
from intake.processor.reading import wire
from intake.processor.reading.wire import (
    LIMIT_EXCEEDED,
    CampaignQuery,
    ConvertAsk,
    Converted,
    DocumentRead,
    Failure,
    MessageRead,
    ReadDocument,
    ReadMessage,
    Refused,
)
from intake.processor.reading.work import read_document, read_message, word_positions

__all__ = ["InProcess", "Reading", "Workers", "header_only", "main"]

log = logging.getLogger(__name__)

MODULE: Final = "intake.processor.reading.harness"
FRAME: Final = struct.Struct(">I")
MAX_REPLY: Final = 256 * 1024 * 1024
PIPE_BYTES: Final = 1 << 20  # Linux's ceiling for an unprivileged pipe (/proc/sys/fs/pipe-max-size)
PER_WORKER: Final = 12  # messages in flight per worker: the workers go on while the mailbox's next batch comes
WINDOW_BYTES: Final = 48 * 1024 * 1024  # and no more raw bytes than this in flight
_MB: Final = 1024 * 1024
OVER_LIMITS: Final = "mail parsing exceeded its memory/time limit: body not read"

T = TypeVar("T")


class Item(Protocol):
    @property
    def raw(self) -> bytes: ...


ItemT = TypeVar("ItemT", bound=Item)


def header_only(raw: bytes, max_bytes: int) -> MessageRead | None:
    """The header-only reading of a message over `max_bytes` (not parsed at all), else None."""
    if len(raw) <= max_bytes:
        return None
    why = f"message too large ({len(raw) / _MB:.1f} MB > {max_bytes / _MB:.0f} MB): stored, not parsed"
    log.warning("%s", why)
    return MessageRead(parse_email_headers(raw, why))


class Reading(Protocol):
    """Where the pipeline's messages and documents are read: `Workers` or `InProcess`."""

    def read_message(self, raw: bytes, campaigns: Sequence[CampaignQuery]) -> MessageRead: ...

    def read_document(self, att: Attachment, campaigns: Sequence[CampaignQuery] = ()) -> DocumentRead: ...

    def read_messages(self, items: Iterable[ItemT], campaigns: Sequence[CampaignQuery]
                      ) -> Iterator[tuple[ItemT, Callable[[], MessageRead]]]: ...

    def close(self) -> None: ...


class InProcess:
    """Reading in this process (`isolate_parsing = false`, tests): no limits, no workers."""

    def __init__(self, reader: DocumentReader, max_mail_bytes: int) -> None:
        self.reader = reader
        self.max_mail_bytes = max_mail_bytes

    def read_message(self, raw: bytes, campaigns: Sequence[CampaignQuery]) -> MessageRead:
        return header_only(raw, self.max_mail_bytes) or read_message(self.reader, raw, campaigns)

    def read_document(self, att: Attachment, campaigns: Sequence[CampaignQuery] = ()) -> DocumentRead:
        return read_document(self.reader, att, campaigns)

    def read_messages(self, items: Iterable[ItemT], campaigns: Sequence[CampaignQuery]
                      ) -> Iterator[tuple[ItemT, Callable[[], MessageRead]]]:
        for item in items:
            yield item, functools.partial(self.read_message, item.raw, campaigns)

    def close(self) -> None:
        pass


# ---------------------------------------------------------------- the parent's side


@dataclass
class _Job:
    request: bytes
    future: Future[Any]  # of the job's reply type: MessageRead or DocumentRead
    wall_seconds: float


def _widen(pipe: IO[bytes]) -> None:
    """A 1 MB pipe instead of 64 kB: a report of a few MB crosses in a few reads, not fifty."""
    with suppress(OSError):  # refused above the system's ceiling: the default size still works
        fcntl.fcntl(pipe.fileno(), fcntl.F_SETPIPE_SZ, PIPE_BYTES)


class _Worker:
    """One worker process and the pipes to it."""

    def __init__(self, command: list[str], setup: bytes) -> None:
        self.proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, start_new_session=True)
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.stdin: IO[bytes] = self.proc.stdin
        self.stdout: IO[bytes] = self.proc.stdout
        for pipe in (self.stdin, self.stdout):
            _widen(pipe)
        self.jobs = 0
        self._send(setup)

    def ask(self, request: bytes, wall_seconds: float,
            convert: Callable[[ConvertAsk], Converted]) -> MessageRead | DocumentRead | Refused:
        """Send one job and wait for its reply, answering the worker's conversion requests meanwhile;
        UnreadableDocument(LIMIT_EXCEEDED) when the worker dies or misses the deadline, MalformedReply
        when it sends anything but a reply (it is then killed: the caller replaces it)."""
        deadline = time.monotonic() + wall_seconds
        if not self._send(request):
            return self._died("before the job")
        while True:
            body = self._frame(deadline)
            try:
                reply = wire.decode_reply(body)
            except wire.MalformedReply:
                self.kill()
                raise
            if not isinstance(reply, ConvertAsk):
                self.jobs += 1
                return reply
            began = time.monotonic()
            answer = convert(reply)
            deadline += time.monotonic() - began  # the conversion has its own timeout, in the parent's LibreOffice
            if not self._send(wire.encode(answer)):
                return self._died("during a conversion")

    def _send(self, body: bytes) -> bool:
        try:
            self.stdin.write(FRAME.pack(len(body)) + body)
            self.stdin.flush()
        except OSError:  # BrokenPipeError: it died
            return False
        return True

    def _frame(self, deadline: float) -> bytes:
        header = self._read_exact(FRAME.size, deadline)
        if header is None:
            self._died("during the job")
        (size,) = FRAME.unpack(header)
        if size > MAX_REPLY:
            self.kill()
            raise wire.MalformedReply(f"document worker sent an oversized reply ({size} bytes)")
        body = self._read_exact(size, deadline)
        if body is None:
            self._died("while answering")
        return body

    def _read_exact(self, n: int, deadline: float) -> bytes | None:
        fd = self.stdout.fileno()
        chunks: list[bytes] = []
        while n:
            left = deadline - time.monotonic()
            if left <= 0:
                log.warning("worker %s missed its deadline: killed", self.proc.pid)
                self.kill()
                return None
            ready, _, _ = select.select([fd], [], [], left)
            if not ready:
                continue
            chunk = os.read(fd, min(n, PIPE_BYTES))
            if not chunk:
                return None
            chunks.append(chunk)
            n -= len(chunk)
        return b"".join(chunks)

    def _died(self, when: str) -> NoReturn:
        self.kill()
        code = self.proc.returncode
        if code is not None and code < 0:
            log.warning("worker died of signal %d %s", -code, when)
        else:
            log.warning("worker stopped %s (exit status %s)", when, code)
        raise UnreadableDocument(LIMIT_EXCEEDED)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self) -> None:
        """Ask the worker to leave (EOF on its stdin), then make sure it did."""
        with suppress(OSError):
            self.stdin.close()
        with suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=5)
        self.kill()

    def kill(self) -> None:
        with suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        with suppress(OSError):
            self.stdin.close()
        self.proc.wait()
        with suppress(OSError):
            self.stdout.close()


class Workers:
    """`workers` long-lived worker processes that read messages and attachments under limits; thread-safe."""

    def __init__(self, reader: DocumentReader, max_mail_bytes: int, workers: int | None = None,
                 recycle_after: int = 500, keep_libreoffice: bool = True,
                 libreoffice_idle_seconds: float = IDLE_SECONDS) -> None:
        """`keep_libreoffice`: convert with one LibreOffice kept between conversions (when the system Python
        has UNO), started by the first conversion and stopped after `libreoffice_idle_seconds` without one."""
        self.reader = reader
        self.max_mail_bytes = max_mail_bytes
        self.libreoffice: LibreOffice | None = None
        self._keep_libreoffice = keep_libreoffice
        self._libreoffice_idle_seconds = libreoffice_idle_seconds
        self.size = max(1, workers if workers is not None else (os.cpu_count() or 1))
        self.recycle_after = max(1, recycle_after)
        limits = reader.limits
        self._setup = wire.Setup(dataclasses.replace(limits, soffice=reader.soffice or ""))
        self._command = [sys.executable, "-I", "-m", MODULE, "--memory-mb", str(limits.memory_mb),
                         "--cpu-seconds", str(max(1, int(limits.timeout_seconds + 0.999)))]
        self._queue: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._workers: dict[int, _Worker] = {}
        self.started = 0  # worker processes started so far (tests, logs)
        self._closed = False

    # -- what callers ask ----------------------------------------------------------

    def read_message(self, raw: bytes, campaigns: Sequence[CampaignQuery]) -> MessageRead:
        return self._finish(raw, campaigns, self._message(raw, campaigns))

    def read_document(self, att: Attachment, campaigns: Sequence[CampaignQuery] = ()) -> DocumentRead:
        return self._document(att, campaigns).result()

    def read_messages(self, items: Iterable[ItemT], campaigns: Sequence[CampaignQuery],
                      window: int | None = None, window_bytes: int = WINDOW_BYTES,
                      ) -> Iterator[tuple[ItemT, Callable[[], MessageRead]]]:
        """Each item with the reading of its raw message (call it for the result), in the items' order,
        while up to `window` messages (at most `window_bytes` of raw bytes) are read in the workers."""
        window = window if window is not None else PER_WORKER * self.size
        asked = tuple(campaigns)
        pending: collections.deque[tuple[ItemT, Future[MessageRead]]] = collections.deque()
        source = iter(items)
        exhausted = False
        in_flight = 0
        try:
            while True:
                while not exhausted and len(pending) <= window and (not pending or in_flight < window_bytes):
                    item = next(source, None)
                    if item is None:
                        exhausted = True
                        break
                    pending.append((item, self._message(item.raw, asked)))
                    in_flight += len(item.raw)
                if not pending:
                    return
                item, future = pending.popleft()
                in_flight -= len(item.raw)
                yield item, functools.partial(self._finish, item.raw, asked, future)
        finally:
            for _item, left in pending:
                left.cancel()

    # -- jobs ---------------------------------------------------------------------

    def _message(self, raw: bytes, campaigns: Sequence[CampaignQuery]) -> Future[MessageRead]:
        future: Future[MessageRead] = Future()
        early = header_only(raw, self.max_mail_bytes)
        if early is not None:
            future.set_result(early)
            return future
        self._put(wire.encode(ReadMessage(raw, tuple(campaigns))), future, 2 * self.reader.limits.worker_wall_seconds)
        return future

    def _document(self, att: Attachment, campaigns: Sequence[CampaignQuery]) -> Future[DocumentRead]:
        future: Future[DocumentRead] = Future()
        limit = self.reader.limits.max_bytes
        if len(att.data) > limit:
            failure = Failure.of(UnreadableDocument(f"file too large ({len(att.data)} bytes > {limit})"))
            future.set_result(DocumentRead(failure=failure))
            return future
        self._put(wire.encode(ReadDocument(att, tuple(campaigns))), future, self.reader.limits.worker_wall_seconds)
        return future

    def _finish(self, raw: bytes, campaigns: Sequence[CampaignQuery], future: Future[MessageRead]) -> MessageRead:
        """The message's reading; when the worker failed on the whole message, read in parts."""
        try:
            return future.result()
        except DocumentError as exc:
            log.info("reading a message in a worker failed (%s): reading it in parts", exc)
        alone = self._message_alone(raw)
        if alone is None:
            return MessageRead(parse_email_headers(raw, OVER_LIMITS))
        parsed = alone.email
        asked = {i: self._document(parsed.attachments[i], campaigns) for i in word_positions(parsed)}
        return MessageRead(parsed, {i: future.result() for i, future in asked.items()})

    def _message_alone(self, raw: bytes) -> MessageRead | None:
        future: Future[MessageRead] = Future()
        self._put(wire.encode(ReadMessage(raw, documents=False)), future, self.reader.limits.worker_wall_seconds)
        try:
            return future.result()
        except DocumentError as exc:
            log.warning("parsing a message in a worker failed (%s): its header only", exc)
            return None

    def _put(self, request: bytes, future: Future[T], wall_seconds: float) -> None:
        with self._lock:
            if self._closed:
                raise RuntimeError("workers closed")
            if len(self._threads) < self.size:
                slot = len(self._threads)
                thread = threading.Thread(target=self._serve, args=(slot,), name=f"worker-{slot}", daemon=True)
                self._threads.append(thread)
                thread.start()
        self._queue.put(_Job(request, future, wall_seconds))

    # -- one slot -------------------------------------------------------------------

    def _serve(self, slot: int) -> None:
        while (job := self._queue.get()) is not None:
            if not job.future.set_running_or_notify_cancel():
                continue
            try:
                reply = self._ask(slot, job)
            except Exception as exc:  # noqa: BLE001 - handed on, not hidden: the caller's result() raises it
                job.future.set_exception(exc)
            else:
                job.future.set_result(reply)
        with self._lock:
            worker = self._workers.pop(slot, None)
        if worker is not None:
            worker.stop()

    def _ask(self, slot: int, job: _Job) -> MessageRead | DocumentRead:
        worker = self._worker(slot)
        try:
            reply = worker.ask(job.request, job.wall_seconds, self._convert)
        except DocumentError:
            with self._lock:
                self._workers.pop(slot, None)
            raise
        if isinstance(reply, Refused) or worker.jobs >= self.recycle_after:
            with self._lock:
                self._workers.pop(slot, None)
            worker.stop()
        if isinstance(reply, Refused):
            raise UnreadableDocument(reply.reason)
        return reply

    def _worker(self, slot: int) -> _Worker:
        with self._lock:
            worker = self._workers.get(slot)
            if worker is not None and worker.alive():
                return worker
            if self._keep_libreoffice:
                self._set_up_libreoffice()
            if worker is not None:
                worker.kill()
            try:
                worker = self._workers[slot] = _Worker(self._command, wire.encode(self._setup))
            except OSError as exc:
                self._workers.pop(slot, None)
                raise UnreadableDocument(f"cannot start a worker: {exc}") from exc
            self.started += 1
            return worker

    def _set_up_libreoffice(self) -> None:
        """Decide, once and before the first worker starts, whether conversions go to a kept LibreOffice."""
        self._keep_libreoffice = False
        soffice = self.reader.soffice
        if soffice is None or not LibreOffice.available():
            log.info("conversions start a LibreOffice each (%s)",
                     "no LibreOffice" if soffice is None else "the system Python has no UNO: install python3-uno")
            return
        try:
            root = self.reader.work_root()
        except UnsupportedDocument as exc:
            log.warning("conversions start a LibreOffice each: %s", exc)
            return
        self.libreoffice = LibreOffice(soffice, root, self.reader.limits.memory_mb,
                                       idle_seconds=self._libreoffice_idle_seconds)  # starts nothing yet
        self._setup = wire.Setup(self._setup.limits, office_via_parent=True)

    def _convert(self, ask: ConvertAsk) -> Converted:
        """A worker's conversion, done by the parent's LibreOffice."""
        if self.libreoffice is None:
            return Converted("no LibreOffice is kept for conversions", fatal=True)
        try:
            error = self.libreoffice.convert(Path(ask.source), Path(ask.target), ask.infilter,
                                        self.reader.limits.timeout_seconds)
        except UnreadableDocument as exc:
            return Converted(str(exc), fatal=True)
        return Converted(error)

    def close(self) -> None:
        """Stop the workers (after the jobs already queued), then LibreOffice."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            threads = list(self._threads)
        for _ in threads:
            self._queue.put(None)
        for thread in threads:
            thread.join()
        if self.libreoffice is not None:
            self.libreoffice.close()

    def __enter__(self) -> Workers:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# ---------------------------------------------------------------- the worker's side


def apply_limits(memory_mb: int) -> None:
    """The worker's limits for its life: its address space, no core dumps (the CPU budget is per job)."""
    memory = memory_mb * _MB
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def budget(cpu_seconds: int) -> None:
    """SIGXCPU once this job has used `cpu_seconds` of CPU (the hard limit is left as it is)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    soft = int(usage.ru_utime + usage.ru_stime) + cpu_seconds + 1
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))


def _read_frame(stream: IO[bytes]) -> bytes | None:
    header = stream.read(FRAME.size)
    if len(header) < FRAME.size:
        return None
    (size,) = FRAME.unpack(header)
    body = stream.read(size)
    return body if len(body) == size else None


def _write_frame(stream: IO[bytes], body: bytes) -> None:
    stream.write(FRAME.pack(len(body)))
    stream.write(body)
    stream.flush()


class ParentLibreOffice:
    """The parent's LibreOffice, asked through the pipes: a `ConvertAsk` out, its `Converted` in."""

    def __init__(self, jobs: IO[bytes], replies: IO[bytes]) -> None:
        self.jobs, self.replies = jobs, replies

    def convert(self, source: Path, target: Path, infilter: str | None, timeout: float) -> str:
        _write_frame(self.replies, wire.encode(ConvertAsk(str(source), str(target), infilter)))
        frame = _read_frame(self.jobs)
        if frame is None:
            raise SystemExit(0)  # the parent went away
        answer = wire.decode_job(frame)  # from the parent, trusted
        if not isinstance(answer, Converted):
            raise SystemExit("the parent answered a conversion with another job")
        if answer.fatal:
            raise UnreadableDocument(answer.error or "LibreOffice could not convert the file")
        return str(answer.error)


def _answer(reader: DocumentReader, job: wire.Job) -> MessageRead | DocumentRead:
    if isinstance(job, ReadMessage):
        return read_message(reader, job.raw, job.campaigns, job.documents)
    if isinstance(job, ReadDocument):
        return read_document(reader, job.attachment, job.campaigns)
    raise SystemExit("a conversion's answer came without a conversion")


def serve_jobs(memory_mb: int, cpu_seconds: int) -> int:
    """Answer framed jobs until the parent closes the pipe (or a job ran out of memory)."""
    apply_limits(memory_mb)
    jobs, replies = sys.stdin.buffer, sys.stdout.buffer
    first = _read_frame(jobs)
    if first is None:
        return 0
    setup = wire.decode_setup(first)
    office = ParentLibreOffice(jobs, replies) if setup.office_via_parent else None
    reader = DocumentReader(setup.limits, office=office)
    while (frame := _read_frame(jobs)) is not None:
        budget(cpu_seconds)
        try:
            reply: wire.Reply = _answer(reader, wire.decode_job(frame))
        except MemoryError:
            reply = Refused()
        del frame
        _write_frame(replies, wire.encode(reply))
        if isinstance(reply, Refused):
            return 0
    return 0


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    # SystemExit unwinds through a conversion's `finally`, which kills LibreOffice.
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="intake-worker")
    parser.add_argument("--memory-mb", type=int, required=True)
    parser.add_argument("--cpu-seconds", type=int, required=True)
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, _on_sigterm)
    from intake.processor.ops.memory import steady_heap

    steady_heap()
    return serve_jobs(args.memory_mb, args.cpu_seconds)


if __name__ == "__main__":
    sys.exit(main())
