"""A small pool of long-lived document workers, and read-ahead for the pipeline.

`DocumentPool` keeps one worker process per core (`python -I -m
intake.processor.documents.worker --serve`), each under an address-space
limit for its whole life and a CPU limit renewed for every job, and a
wall-clock deadline per job watched from here. A worker is replaced after
`recycle_after` jobs, after it ran out of memory, and whenever it dies or
misses a deadline; the job in hand then gets
`UnreadableDocument("exceeded memory/time limit")` and the pool goes on.

Jobs go to the workers as pickles (from this process: trusted); answers come
back as JSON (this process never unpickles anything that came near a
stranger's document). Two kinds of job:

- one attachment: classify, convert, parse (`DocumentReader.read`) and find
  the campaigns' sections in it;
- one raw email (read-ahead): parse it and do the same for each of its Word
  attachments, so that the worker reads the next messages' documents while
  this process stores and records the current one.

`ReadAhead` is what the pipeline talks to: `ahead(items)` hands each
mailbox item's raw bytes to the pool a few items early, `read(att)` returns
the outline (from the read-ahead when it has it, else from a job of its
own), and `sections(outline, campaigns)` the sections the worker already
found (computed here only when it had none).
"""
from __future__ import annotations

import collections
import dataclasses
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
from typing import IO, Any, Protocol

from intake.parsers.errors import DocumentError, EncryptedDocument, UnreadableDocument, UnsupportedDocument
from intake.parsers.model import Attachment, Outline, SectionResult
from intake.parsers.section import find_section
from intake.processor.documents import (
    LIMIT_EXCEEDED,
    DocumentReader,
    from_json_as,
    outline_from_json,
)

__all__ = ["CampaignQuery", "DocumentPool", "Inline", "ReadAhead", "Sections"]

log = logging.getLogger(__name__)

WORKER_MODULE = "intake.processor.documents.worker"
FRAME = struct.Struct(">I")
MAX_REPLY = 256 * 1024 * 1024


@dataclass(frozen=True)
class CampaignQuery:
    """What the finder needs of a campaign: its id, section title and keywords."""

    id: str
    section_title: str
    keywords: tuple[str, ...] = ()


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


class Sections(Protocol):
    """What the pipeline asks of its document source."""

    def ahead(self, items: Iterable[Any]) -> Iterator[Any]: ...

    def read(self, att: Attachment) -> Outline: ...

    def sections(self, outline: Outline, campaigns: Sequence[CampaignQuery]) -> dict[str, SectionResult]: ...


def find_sections(outline: Outline, campaigns: Sequence[CampaignQuery]) -> dict[str, SectionResult]:
    return {c.id: find_section(outline, c.section_title, c.keywords) for c in campaigns}


class Inline:
    """In-process reading (`isolate_parsing = false`): no pool, no read-ahead."""

    def __init__(self, read: Callable[[Attachment], Outline]) -> None:
        self._read = read

    def ahead(self, items: Iterable[Any]) -> Iterator[Any]:
        return iter(items)

    def read(self, att: Attachment) -> Outline:
        return self._read(att)

    def sections(self, outline: Outline, campaigns: Sequence[CampaignQuery]) -> dict[str, SectionResult]:
        return find_sections(outline, campaigns)


# ---------------------------------------------------------------- the pool


@dataclass
class _Job:
    request: bytes
    future: Future[Any]
    wall_seconds: float
    decode: Callable[[dict[str, Any]], Any]


class _Worker:
    """One worker process and the pipes to it."""

    def __init__(self, command: list[str]) -> None:
        self.proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     start_new_session=True)
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.stdin: IO[bytes] = self.proc.stdin
        self.stdout: IO[bytes] = self.proc.stdout
        self.jobs = 0

    def ask(self, request: bytes, wall_seconds: float) -> dict[str, Any]:
        """Send one job and wait for its answer; UnreadableDocument(LIMIT_EXCEEDED) when the
        worker dies or misses the deadline (it is then dead: the caller replaces it)."""
        try:
            self.stdin.write(FRAME.pack(len(request)) + request)
            self.stdin.flush()
        except (BrokenPipeError, OSError):
            return self._died("before the job")
        deadline = time.monotonic() + wall_seconds
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
        self.jobs += 1
        try:
            reply = json.loads(body)
        except ValueError as exc:
            self.kill()
            raise UnreadableDocument(f"document worker sent a malformed reply: {exc}") from exc
        if not isinstance(reply, dict):
            self.kill()
            raise UnreadableDocument("document worker sent a malformed reply")
        return reply

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

    def _died(self, when: str) -> dict[str, Any]:
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

    def __init__(self, reader: DocumentReader, workers: int | None = None, recycle_after: int = 200) -> None:
        self.reader = reader
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

    def submit_email(self, raw: bytes, campaigns: Sequence[CampaignQuery] = ()) -> Future[dict[str, Outcome]]:
        """Read every Word attachment of a raw email in a worker: {attachment sha256: Outcome}."""
        future: Future[dict[str, Outcome]] = Future()
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
                reply = self._ask(slot, job)
                result = job.decode(reply)
            except Exception as exc:  # noqa: BLE001 - handed on, not hidden: the caller's result() raises it
                job.future.set_exception(exc)
            else:
                job.future.set_result(result)
        with self._lock:
            worker = self._workers.pop(slot, None)
        if worker is not None:
            worker.stop()

    def _ask(self, slot: int, job: _Job) -> dict[str, Any]:
        with self._lock:
            worker = self._workers.get(slot)
            if worker is None or not worker.alive():
                if worker is not None:
                    worker.kill()
                try:
                    worker = self._workers[slot] = _Worker(self._command)
                except OSError as exc:
                    self._workers.pop(slot, None)
                    raise UnreadableDocument(f"cannot start the document worker: {exc}") from exc
                self.started += 1
        try:
            reply = worker.ask(job.request, job.wall_seconds)
        except DocumentError:
            with self._lock:
                self._workers.pop(slot, None)
            raise
        if reply.get("recycle") or worker.jobs >= self.recycle_after:
            with self._lock:
                self._workers.pop(slot, None)
            worker.stop()
        return reply

    def close(self) -> None:
        """Stop the workers (after the jobs already queued)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            threads = list(self._threads)
        for _ in threads:
            self._queue.put(None)
        for thread in threads:
            thread.join()

    def __enter__(self) -> DocumentPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# ---------------------------------------------------------------- replies


_ERRORS: dict[str, type[DocumentError]] = {
    cls.__name__: cls for cls in (UnreadableDocument, EncryptedDocument, UnsupportedDocument)
}


def _outcome(reply: dict[str, Any]) -> Outcome:
    if "outline" in reply:
        try:
            outline = outline_from_json(reply["outline"])
            sections = {str(k): from_json_as(SectionResult, v) for k, v in reply.get("sections", {}).items()}
        except (TypeError, ValueError, KeyError) as exc:
            raise UnreadableDocument(f"document worker sent a malformed outline: {exc}") from exc
        return Outcome(outline, sections)
    error_class = _ERRORS.get(str(reply.get("error")), UnreadableDocument)
    return Outcome(None, {}, error_class(str(reply.get("message", ""))))


def _email_outcomes(reply: dict[str, Any]) -> dict[str, Outcome]:
    if "attachments" not in reply:
        raise UnreadableDocument(str(reply.get("message", "document worker could not read the email")))
    return {str(digest): _outcome(one) for digest, one in reply["attachments"].items()}


# ---------------------------------------------------------------- read-ahead


class ReadAhead:
    """The pipeline's document source over a pool: reads the next `window` messages' documents early.

    `ahead` wraps the mailbox's item iterator; `read` and `sections` are called
    while the pipeline processes the item `ahead` last yielded. Outcomes of the
    read-ahead are used once and dropped with their item: nothing is cached."""

    def __init__(self, pool: DocumentPool, campaigns: Sequence[CampaignQuery], window: int | None = None) -> None:
        self.pool = pool
        self.campaigns = tuple(campaigns)
        self.window = window if window is not None else 2 * pool.size
        self._current: Future[dict[str, Outcome]] | None = None
        self._found: dict[int, tuple[Outline, dict[str, SectionResult]]] = {}

    def ahead(self, items: Iterable[Any]) -> Iterator[Any]:
        pending: collections.deque[tuple[Any, Future[dict[str, Outcome]]]] = collections.deque()
        source = iter(items)
        exhausted = False
        try:
            while True:
                while not exhausted and len(pending) <= self.window:
                    item = next(source, None)
                    if item is None:
                        exhausted = True
                        break
                    pending.append((item, self.pool.submit_email(item.raw, self.campaigns)))
                if not pending:
                    return
                item, future = pending.popleft()
                self._current, self._found = future, {}
                yield item
        finally:
            self._current, self._found = None, {}
            for _item, future in pending:
                future.cancel()

    def read(self, att: Attachment) -> Outline:
        outcome = self._prefetched(att)
        if outcome is None:
            outcome = self.pool.submit(att, self.campaigns).result()
        outline = outcome.unwrap()
        self._found[id(outline)] = (outline, outcome.sections)
        return outline

    def _prefetched(self, att: Attachment) -> Outcome | None:
        current = self._current
        if current is None or current.cancelled():
            return None
        try:
            outcomes = current.result()
        except DocumentError as exc:
            log.info("read-ahead of a message failed (%s): reading its attachments one by one", exc)
            self._current = None
            return None
        found = outcomes.get(hashlib.sha256(att.data).hexdigest())
        if found is not None and found.error is not None and str(found.error) == LIMIT_EXCEEDED:
            return None  # read it alone, under its own limits, so that the blame is exact
        return found

    def sections(self, outline: Outline, campaigns: Sequence[CampaignQuery]) -> dict[str, SectionResult]:
        known = self._found.get(id(outline))
        wanted = {c.id for c in campaigns}
        if known is not None and known[0] is outline and wanted <= known[1].keys():
            return {k: v for k, v in known[1].items() if k in wanted}
        return find_sections(outline, campaigns)
