"""A small pool of long-lived document workers, and read-ahead for the pipeline.

`DocumentPool` keeps one worker process per core (`python -I -m
intake.processor.documents.worker --serve`), each under an address-space
limit for its whole life and a CPU limit renewed for every job, and a
wall-clock deadline per job watched from here. A worker is replaced after
`recycle_after` jobs, after it ran out of memory, and whenever it dies or
misses a deadline; the job in hand then gets
`UnreadableDocument("exceeded memory/time limit")` and the pool goes on.

Jobs go to the workers as pickles (from this process: trusted); answers come
back as JSON plus plain bytes (this process never unpickles anything that
came near a stranger's document). Two kinds of job:

- one attachment: classify, convert, parse (`DocumentReader.read`) and find
  the campaigns' sections in it;
- one raw email (read-ahead): parse the email (under the worker's limits)
  and do the same for each of its Word attachments, so that the worker
  reads the next messages while this process stores and records the
  current one.

`ReadAhead` is what the pipeline talks to: `ahead(items)` hands each
mailbox item's raw bytes to the pool a few items early, `parsed(raw)` is
the email as the worker parsed it, `read(att)` returns the outline (from the
read-ahead when it has it, else from a job of its own), and
`sections(outline, campaigns)` the sections the worker already found
(computed here only when it had none).
"""
from __future__ import annotations

import collections
import dataclasses
import fcntl
import hashlib
import json
import logging
import os
import pickle
import queue
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
from typing import IO, Any, Protocol

from intake.parsers.errors import DocumentError, EncryptedDocument, UnreadableDocument, UnsupportedDocument
from intake.parsers.guide import Guide
from intake.parsers.model import Attachment, Outline, ParsedEmail, SectionResult
from intake.parsers.section import find_section
from intake.processor.documents import (
    LIMIT_EXCEEDED,
    DocumentReader,
    from_json_as,
    outline_from_json,
)
from intake.processor.documents.libreoffice import IDLE_SECONDS, LibreOffice
from intake.processor.ingest.mailparse import mail_from_wire

__all__ = ["CampaignQuery", "DocumentPool", "Inline", "ReadAhead", "Sections"]

log = logging.getLogger(__name__)

WORKER_MODULE = "intake.processor.documents.worker"
FRAME = struct.Struct(">I")
MAX_REPLY = 256 * 1024 * 1024


@dataclass(frozen=True)
class CampaignQuery:
    """What the finder needs of a campaign: its id, section title and keywords, and what the campaign
    taught it (`processor.teaching.campaign_guide`; None: nothing)."""

    id: str
    section_title: str
    keywords: tuple[str, ...] = ()
    guide: Guide | None = None


@dataclass(frozen=True)
class Outcome:
    """One attachment read by a worker: an outline with its sections, or the DocumentError."""

    outline: Outline | None
    sections: dict[str, SectionResult]
    error: DocumentError | None = None

    def unwrap(self) -> Outline:
        if self.error is not None:
            raise self.error
        assert self.outline is not None
        return self.outline


@dataclass(frozen=True)
class MailOutcome:
    """One email read by a worker: the email as parsed (None when its reply was unusable) and
    the Outcome of each Word attachment by the attachment's sha256."""

    parsed: ParsedEmail | None
    documents: dict[str, Outcome]


class Sections(Protocol):
    """What the pipeline asks of its document source."""

    def ahead(self, items: Iterable[Any]) -> Iterator[Any]: ...

    def parsed(self, raw: bytes) -> ParsedEmail | None: ...

    def digest_of(self, data: bytes) -> str | None: ...

    def read(self, att: Attachment) -> Outline: ...

    def sections(self, outline: Outline, campaigns: Sequence[CampaignQuery]) -> dict[str, SectionResult]: ...

    def use_campaigns(self, campaigns: Sequence[CampaignQuery]) -> None:
        """The campaigns whose sections to look for from now on (staff changed the catalog)."""


def find_sections(outline: Outline, campaigns: Sequence[CampaignQuery]) -> dict[str, SectionResult]:
    return {c.id: find_section(outline, c.section_title, c.keywords, guide=c.guide) for c in campaigns}


class Inline:
    """In-process reading (`isolate_parsing = false`): no pool, no read-ahead."""

    def __init__(self, read: Callable[[Attachment], Outline]) -> None:
        self._read = read

    def ahead(self, items: Iterable[Any]) -> Iterator[Any]:
        return iter(items)

    def parsed(self, raw: bytes) -> ParsedEmail | None:
        return None

    def digest_of(self, data: bytes) -> str | None:
        return None

    def read(self, att: Attachment) -> Outline:
        return self._read(att)

    def sections(self, outline: Outline, campaigns: Sequence[CampaignQuery]) -> dict[str, SectionResult]:
        return find_sections(outline, campaigns)

    def use_campaigns(self, campaigns: Sequence[CampaignQuery]) -> None:
        pass  # sections are found when asked, for the campaigns asked


# ---------------------------------------------------------------- the pool


@dataclass
class _Job:
    request: bytes
    future: Future[Any]
    wall_seconds: float
    decode: Callable[[dict[str, Any], bytes], Any]


PIPE_BYTES = 1 << 20  # Linux's default ceiling for an unprivileged pipe (/proc/sys/fs/pipe-max-size)


def _widen(pipe: IO[bytes]) -> None:
    """A 1 MB pipe instead of 64 kB: a report of a few MB crosses in a few reads, not fifty."""
    with suppress(OSError):  # refused above the system's ceiling: the default size still works
        fcntl.fcntl(pipe.fileno(), fcntl.F_SETPIPE_SZ, PIPE_BYTES)


class _Worker:
    """One worker process and the pipes to it."""

    def __init__(self, command: list[str]) -> None:
        self.proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     start_new_session=True)
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.stdin: IO[bytes] = self.proc.stdin
        self.stdout: IO[bytes] = self.proc.stdout
        for pipe in (self.stdin, self.stdout):
            _widen(pipe)
        self.jobs = 0

    def ask(self, request: bytes, wall_seconds: float,
            convert: Callable[[Any], dict[str, Any]]) -> tuple[dict[str, Any], bytes]:
        """Send one job and wait for its answer (the JSON object, the bytes after it), answering
        the worker's conversion requests with `convert` meanwhile; UnreadableDocument(LIMIT_EXCEEDED)
        when the worker dies or misses the deadline (it is then dead: the caller replaces it)."""
        deadline = time.monotonic() + wall_seconds
        if not self._send(request):
            return self._died("before the job")
        while True:
            reply, blob = self._answer(deadline)
            if "convert" not in reply:
                self.jobs += 1
                return reply, blob
            began = time.monotonic()
            answer = convert(reply["convert"])
            deadline += time.monotonic() - began  # the conversion has its own timeout, in the pool's LibreOffice
            if not self._send(json.dumps(answer).encode("ascii")):
                return self._died("during a conversion")

    def _send(self, body: bytes) -> bool:
        try:
            self.stdin.write(FRAME.pack(len(body)) + body)
            self.stdin.flush()
        except (BrokenPipeError, OSError):
            return False
        return True

    def _answer(self, deadline: float) -> tuple[dict[str, Any], bytes]:
        header = self._read_exact(FRAME.size, deadline)
        if header is None:
            return self._died("during the job")
        (size,) = FRAME.unpack(header)
        if size > MAX_REPLY:
            self.kill()
            raise UnreadableDocument(f"document worker sent an oversized reply ({size} bytes)")
        body = self._read_exact(size, deadline)
        if body is None:
            return self._died("while answering")
        line, _, blob = body.partition(b"\n")
        try:
            reply = json.loads(line)
        except ValueError as exc:
            self.kill()
            raise UnreadableDocument(f"document worker sent a malformed reply: {exc}") from exc
        if not isinstance(reply, dict):
            self.kill()
            raise UnreadableDocument("document worker sent a malformed reply")
        return reply, blob

    def _read_exact(self, n: int, deadline: float) -> bytes | None:
        fd = self.stdout.fileno()
        chunks: list[bytes] = []
        while n:
            left = deadline - time.monotonic()
            if left <= 0:
                log.warning("document worker %s missed its deadline: killed", self.proc.pid)
                self.kill()
                return None
            ready, _, _ = select.select([fd], [], [], left)
            if not ready:
                continue
            chunk = os.read(fd, min(n, 1 << 20))
            if not chunk:
                return None
            chunks.append(chunk)
            n -= len(chunk)
        return b"".join(chunks)

    def _died(self, when: str) -> tuple[dict[str, Any], bytes]:
        self.kill()
        code = self.proc.returncode
        if code is not None and code < 0:
            log.warning("document worker died of signal %d %s", -code, when)
        else:
            log.warning("document worker stopped %s (exit status %s)", when, code)
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


class DocumentPool:
    """`workers` long-lived worker processes reading attachments under limits; thread-safe."""

    def __init__(self, reader: DocumentReader, workers: int | None = None, recycle_after: int = 500,
                 keep_libreoffice: bool = True, libreoffice_idle_seconds: float = IDLE_SECONDS) -> None:
        """`keep_libreoffice`: convert with one LibreOffice kept between conversions (when the system Python
        has UNO), started by the first conversion and stopped after `libreoffice_idle_seconds` without one."""
        self.reader = reader
        self.libreoffice: LibreOffice | None = None
        self._keep_libreoffice = keep_libreoffice
        self._libreoffice_idle_seconds = libreoffice_idle_seconds
        self.size = max(1, workers if workers is not None else (os.cpu_count() or 1))
        self.recycle_after = max(1, recycle_after)
        limits = reader.limits
        self._limits = dataclasses.replace(limits, soffice=reader.soffice or "")
        self._command = [
            sys.executable, "-I", "-m", WORKER_MODULE, "--serve",
            "--memory-mb", str(limits.memory_mb),
            "--cpu-seconds", str(max(1, int(limits.timeout_seconds + 0.999))),
        ]
        self._queue: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._workers: dict[int, _Worker] = {}
        self.started = 0  # worker processes started so far (tests, logs)
        self._closed = False

    # -- jobs -------------------------------------------------------------------

    def submit(self, att: Attachment, campaigns: Sequence[CampaignQuery] = ()) -> Future[Outcome]:
        """Read one attachment (and find the campaigns' sections in it) in a worker."""
        limits = self.reader.limits
        future: Future[Outcome] = Future()
        if len(att.data) > limits.max_bytes:
            future.set_result(Outcome(None, {}, UnreadableDocument(
                f"file too large ({len(att.data)} bytes > {limits.max_bytes})")))
            return future
        request = pickle.dumps(("attachment", att, self._limits, tuple(campaigns)))
        self._put(_Job(request, future, limits.worker_wall_seconds, _outcome))
        return future

    def submit_email(self, raw: bytes, campaigns: Sequence[CampaignQuery] = ()) -> Future[MailOutcome]:
        """Parse a raw email and read every Word attachment of it in a worker."""
        future: Future[MailOutcome] = Future()
        request = pickle.dumps(("email", raw, self._limits, tuple(campaigns)))
        wall = 2 * self.reader.limits.worker_wall_seconds
        self._put(_Job(request, future, wall, _email_outcomes))
        return future

    def read(self, att: Attachment) -> Outline:
        """`DocumentReader.read` in a worker: the Outline or the DocumentError."""
        return self.submit(att).result().unwrap()

    def _put(self, job: _Job) -> None:
        with self._lock:
            if self._closed:
                raise RuntimeError("document pool closed")
            if len(self._threads) < self.size:
                slot = len(self._threads)
                thread = threading.Thread(target=self._serve, args=(slot,), name=f"documents-{slot}", daemon=True)
                self._threads.append(thread)
                thread.start()
        self._queue.put(job)

    # -- one slot -----------------------------------------------------------------

    def _serve(self, slot: int) -> None:
        while (job := self._queue.get()) is not None:
            if not job.future.set_running_or_notify_cancel():
                continue
            try:
                reply, blob = self._ask(slot, job)
                result = job.decode(reply, blob)
            except Exception as exc:  # noqa: BLE001 - handed on, not hidden: the caller's result() raises it
                job.future.set_exception(exc)
            else:
                job.future.set_result(result)
        with self._lock:
            worker = self._workers.pop(slot, None)
        if worker is not None:
            worker.stop()

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
        self._command.append("--office-via-parent")

    def _ask(self, slot: int, job: _Job) -> tuple[dict[str, Any], bytes]:
        with self._lock:
            worker = self._workers.get(slot)
            if worker is None or not worker.alive():
                if self._keep_libreoffice:
                    self._set_up_libreoffice()
                if worker is not None:
                    worker.kill()
                try:
                    worker = self._workers[slot] = _Worker(self._command)
                except OSError as exc:
                    self._workers.pop(slot, None)
                    raise UnreadableDocument(f"cannot start the document worker: {exc}") from exc
                self.started += 1
        try:
            reply, blob = worker.ask(job.request, job.wall_seconds, self._convert)
        except DocumentError:
            with self._lock:
                self._workers.pop(slot, None)
            raise
        if reply.get("recycle") or worker.jobs >= self.recycle_after:
            with self._lock:
                self._workers.pop(slot, None)
            worker.stop()
        return reply, blob

    def _convert(self, request: Any) -> dict[str, Any]:
        """A worker's conversion, done by the pool's LibreOffice."""
        if self.libreoffice is None or not isinstance(request, dict):
            return {"error": "no LibreOffice is kept for conversions", "fatal": True}
        try:
            error = self.libreoffice.convert(Path(str(request["source"])), Path(str(request["target"])),
                                        request.get("filter") and str(request["filter"]),
                                        self.reader.limits.timeout_seconds)
        except KeyError:
            return {"error": "malformed conversion request", "fatal": True}
        except UnreadableDocument as exc:
            return {"error": str(exc), "fatal": True}
        return {"error": error, "fatal": False}

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

    def __enter__(self) -> DocumentPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# ---------------------------------------------------------------- replies


_ERRORS: dict[str, type[DocumentError]] = {
    cls.__name__: cls for cls in (UnreadableDocument, EncryptedDocument, UnsupportedDocument)
}


def _outcome(reply: dict[str, Any], blob: bytes = b"") -> Outcome:
    if "outline" in reply:
        try:
            outline = outline_from_json(reply["outline"])
            sections = {str(k): from_json_as(SectionResult, v) for k, v in reply.get("sections", {}).items()}
        except (TypeError, ValueError, KeyError) as exc:
            raise UnreadableDocument(f"document worker sent a malformed outline: {exc}") from exc
        return Outcome(outline, sections)
    error_class = _ERRORS.get(str(reply.get("error")), UnreadableDocument)
    return Outcome(None, {}, error_class(str(reply.get("message", ""))))


def _email_outcomes(reply: dict[str, Any], blob: bytes) -> MailOutcome:
    if "attachments" not in reply:
        raise UnreadableDocument(str(reply.get("message", "document worker could not read the email")))
    parsed: ParsedEmail | None = None
    try:
        parsed = mail_from_wire(reply.get("email"), blob)
    except (ValueError, KeyError, TypeError) as exc:
        log.error("document worker sent a malformed email (%s): parsing it apart", exc)
    return MailOutcome(parsed, {str(digest): _outcome(one) for digest, one in reply["attachments"].items()})


# ---------------------------------------------------------------- read-ahead


class _Kept:
    """What `on_read` did with one message read ahead: the SHA-256 of each of its bytes objects
    (the raw message, then each attachment's data), when it has run and hashed them."""

    def __init__(self) -> None:
        self.digests: list[tuple[bytes, str]] = []

    def digest_of(self, data: bytes) -> str | None:
        for kept, digest in self.digests:  # a handful: the raw bytes and the attachments
            if kept is data:
                return digest
        return None


def _hand_over(done: Future[MailOutcome], raw: bytes, on_read: OnRead, kept: _Kept) -> None:
    if done.cancelled() or done.exception() is not None:
        return
    outcome = done.result()
    if outcome.parsed is None:
        return
    digests = on_read(raw, outcome.parsed)
    objects = [raw, *(a.data for a in outcome.parsed.attachments)]
    if digests is not None and len(digests) == len(objects):
        kept.digests = list(zip(objects, digests, strict=True))


# Runs in the pool's thread as each message read ahead comes back: returns the SHA-256s of the
# raw bytes and of each attachment when it hashed them (writing the files does), else None.
OnRead = Callable[[bytes, ParsedEmail], "list[str] | None"]


READ_AHEAD_PER_WORKER = 12        # messages queued per worker: enough to cover a mailbox batch's fetch
READ_AHEAD_BYTES = 48 * 1024 * 1024  # and no more raw bytes than this in flight (with their parsed copies)


class ReadAhead:
    """The pipeline's document source over a pool: reads the next `window` messages early.

    `ahead` wraps the mailbox's item iterator; `parsed`, `read` and `sections`
    are called while the pipeline processes the item `ahead` last yielded.
    Messages over `max_mail_bytes` are not read ahead (the pipeline reads only
    their header). Outcomes of the read-ahead are used once and dropped with
    their item: nothing is cached.

    The window is wide because the main thread fetches the mailbox in
    batches: while it waits for the next batch the workers go on with what is
    queued, instead of standing idle. `window_bytes` bounds the memory."""

    def __init__(self, pool: DocumentPool, campaigns: Sequence[CampaignQuery], window: int | None = None,
                 max_mail_bytes: int | None = None, window_bytes: int = READ_AHEAD_BYTES,
                 on_read: OnRead | None = None) -> None:
        """`on_read(raw, parsed)` runs in the pool's thread as each message read ahead comes back:
        work on it that need not wait for the pipeline (writing its files) overlaps the pipeline's.
        The digests it returns are `digest_of`'s answers while the message is the current one."""
        self.pool = pool
        self.on_read = on_read
        self.campaigns = tuple(campaigns)
        self.window = window if window is not None else READ_AHEAD_PER_WORKER * pool.size
        self.window_bytes = window_bytes
        self.max_mail_bytes = max_mail_bytes
        self._raw: bytes | None = None
        self._current: Future[MailOutcome] | None = None
        self._kept = _Kept()
        self._found: dict[int, tuple[Outline, dict[str, SectionResult]]] = {}

    def ahead(self, items: Iterable[Any]) -> Iterator[Any]:
        pending: collections.deque[tuple[Any, Future[MailOutcome] | None, _Kept]] = collections.deque()
        source = iter(items)
        exhausted = False
        in_flight = 0  # raw bytes of the pending items
        try:
            while True:
                while not exhausted and len(pending) <= self.window and (
                        not pending or in_flight < self.window_bytes):
                    item = next(source, None)
                    if item is None:
                        exhausted = True
                        break
                    kept = _Kept()
                    pending.append((item, self._submit(item.raw, kept), kept))
                    in_flight += len(item.raw)
                if not pending:
                    return
                item, future, kept = pending.popleft()
                in_flight -= len(item.raw)
                self._raw, self._current, self._kept, self._found = item.raw, future, kept, {}
                yield item
        finally:
            self._raw, self._current, self._kept, self._found = None, None, _Kept(), {}
            for _item, left, _kept in pending:
                if left is not None:
                    left.cancel()

    def _submit(self, raw: bytes, kept: _Kept) -> Future[MailOutcome] | None:
        if self.max_mail_bytes is not None and len(raw) > self.max_mail_bytes:
            return None
        future = self.pool.submit_email(raw, self.campaigns)
        if self.on_read is not None:
            on_read = self.on_read
            future.add_done_callback(lambda done: _hand_over(done, raw, on_read, kept))
        return future

    def use_campaigns(self, campaigns: Sequence[CampaignQuery]) -> None:
        self.campaigns = tuple(campaigns)  # messages submitted from now on; `sections` checks what it gets

    def digest_of(self, data: bytes) -> str | None:
        """The SHA-256 `on_read` computed of this very bytes object of the current message, or None."""
        return self._kept.digest_of(data)

    def parsed(self, raw: bytes) -> ParsedEmail | None:
        """The email as the worker parsed it, when `raw` is the current item's; else None."""
        if self._raw is None or (raw is not self._raw and raw != self._raw):
            return None
        outcome = self._outcome()
        return outcome.parsed if outcome is not None else None

    def read(self, att: Attachment) -> Outline:
        outcome = self._prefetched(att)
        if outcome is None:
            outcome = self.pool.submit(att, self.campaigns).result()
        outline = outcome.unwrap()
        self._found[id(outline)] = (outline, outcome.sections)
        return outline

    def _outcome(self) -> MailOutcome | None:
        current = self._current
        if current is None or current.cancelled():
            return None
        try:
            return current.result()
        except DocumentError as exc:
            log.info("read-ahead of a message failed (%s): reading it apart", exc)
            self._current = None
            return None

    def _prefetched(self, att: Attachment) -> Outcome | None:
        outcome = self._outcome()
        if outcome is None:
            return None
        found = outcome.documents.get(self.digest_of(att.data) or hashlib.sha256(att.data).hexdigest())
        if found is not None and found.error is not None and str(found.error) == LIMIT_EXCEEDED:
            return None  # read it alone, under its own limits, so that the blame is exact
        return found

    def sections(self, outline: Outline, campaigns: Sequence[CampaignQuery]) -> dict[str, SectionResult]:
        known = self._found.get(id(outline))
        wanted = {c.id for c in campaigns}
        if known is not None and known[0] is outline and wanted <= known[1].keys():
            return {k: v for k, v in known[1].items() if k in wanted}
        return find_sections(outline, campaigns)
