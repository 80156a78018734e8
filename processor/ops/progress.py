"""Progress of long work (the first `run --once` over a mailbox's backlog).

A `ProgressMailbox` wraps the real mailbox and counts what it hands the
pipeline: an item is *fetched* when yielded and *processed* when the pipeline
asks for the next one (it stores and processes each item before that). The
total is the adapter's `backlog` once it has listed the folder.

On a terminal: a rich progress bar (fetched/processed, rate, time left), log
lines scrolling above it. Otherwise (service, pipe, cron): plain log lines,
one when a big backlog starts, then at most one every `every` seconds, and
one at the end; a round with a small backlog adds no line at all.
"""
from __future__ import annotations

import logging
import sys
import time
from collections.abc import Iterator
from typing import Any, Protocol

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeRemainingColumn

from intake.processor.mailbox import Ledger, Mailbox, MailboxItem

log = logging.getLogger("intake.progress")
BIG_BACKLOG = 20  # plain lines only for a backlog at least this long


class Reporter(Protocol):
    def start_round(self) -> None: ...
    def fetched(self, backlog: int | None) -> None: ...
    def processed(self) -> None: ...
    def end_round(self) -> None: ...
    def __enter__(self) -> Reporter: ...
    def __exit__(self, *exc: object) -> None: ...


class ProgressMailbox:
    """The mailbox, counting for a reporter; everything else goes to the real one."""

    def __init__(self, inner: Mailbox, reporter: Reporter) -> None:
        self.inner, self.reporter = inner, reporter
        self.identity = inner.identity

    def fetch_new(self, ledger: Ledger) -> Iterator[MailboxItem]:
        self.reporter.start_round()
        try:
            for item in self.inner.fetch_new(ledger):
                self.reporter.fetched(getattr(self.inner, "backlog", None))
                yield item
                self.reporter.processed()
        finally:
            self.reporter.end_round()

    def after_stored(self, item: MailboxItem) -> None:
        self.inner.after_stored(item)

    def flush_after(self) -> None:
        self.inner.flush_after()

    def close(self) -> None:
        self.inner.close()

    def __getattr__(self, name: str) -> Any:  # probe, idle_wait, idle_supported ...
        return getattr(self.inner, name)


class _Counts:
    def __init__(self) -> None:
        self.start_round()

    def start_round(self) -> None:
        self.started = time.monotonic()
        self.n_fetched = self.n_processed = 0
        self.backlog: int | None = None

    def rate(self) -> float:
        elapsed = time.monotonic() - self.started
        return self.n_processed / elapsed if elapsed > 0 else 0.0

    def left(self) -> str:
        rate = self.rate()
        if self.backlog is None or rate <= 0:
            return "-"
        seconds = int((self.backlog - self.n_processed) / rate)
        return f"{seconds // 60}m{seconds % 60:02d}s"


class PlainReporter(_Counts):
    def __init__(self, every: float = 10.0, big: int = BIG_BACKLOG) -> None:
        self.every, self.big = every, big
        super().__init__()

    def start_round(self) -> None:
        super().start_round()
        self.last = self.started
        self.loud = False

    def __enter__(self) -> PlainReporter:
        return self

    def __exit__(self, *exc: object) -> None:
        """Rounds report their own end."""

    def fetched(self, backlog: int | None) -> None:
        if self.n_fetched == 0 and backlog is not None:
            self.backlog = backlog
            self.loud = backlog >= self.big
            if self.loud:
                log.info("progress start backlog=%s", backlog)
        self.n_fetched += 1

    def processed(self) -> None:
        self.n_processed += 1
        now = time.monotonic()
        if self.loud and now - self.last >= self.every:
            self.last = now
            log.info("progress fetched=%s processed=%s backlog=%s rate=%.1f/s left=%s", self.n_fetched,
                     self.n_processed, self.backlog, self.rate(), self.left())

    def end_round(self) -> None:
        if self.loud:
            log.info("progress done fetched=%s processed=%s seconds=%.1f rate=%.1f/s", self.n_fetched,
                     self.n_processed, time.monotonic() - self.started, self.rate())


class BarReporter(_Counts):
    """A rich progress bar on the terminal; log lines go above it while it shows."""

    def __init__(self, console: Console) -> None:
        _Counts.start_round(self)
        self.console = console
        self.bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                            TextColumn("{task.fields[rate]}"), TextColumn("còn lại"), TimeRemainingColumn(),
                            console=console, transient=False)
        self.task: TaskID | None = None
        self.handlers: list[tuple[logging.StreamHandler[Any], Any]] = []

    def __enter__(self) -> BarReporter:
        self.bar.start()
        for handler in logging.getLogger().handlers:
            if isinstance(handler, logging.StreamHandler) and handler.stream in (sys.__stderr__, self.console.file):
                self.handlers.append((handler, handler.stream))
                handler.setStream(sys.stderr)  # rich's proxy while the bar shows: lines print above it
        self.task = self.bar.add_task("Thư đã xử lý", total=None, rate="")
        return self

    def fetched(self, backlog: int | None) -> None:
        self.n_fetched += 1
        if backlog is not None and self.backlog is None and self.task is not None:
            self.backlog = backlog
            self.bar.update(self.task, total=backlog)

    def processed(self) -> None:
        self.n_processed += 1
        if self.task is not None:
            self.bar.update(self.task, completed=self.n_processed, rate=f"{self.rate():.1f} thư/s")

    def start_round(self) -> None:
        """One bar for the whole command."""

    def end_round(self) -> None:
        """The bar stops with the command."""

    def __exit__(self, *exc: object) -> None:
        if self.task is not None and self.backlog is None:
            self.bar.update(self.task, total=self.n_processed, completed=self.n_processed)
        self.bar.stop()
        for handler, stream in self.handlers:
            handler.setStream(stream)


def reporter_for(stream: Any = None) -> PlainReporter | BarReporter:
    """A bar on a terminal, plain lines otherwise."""
    stream = stream or sys.stderr
    if stream.isatty():
        return BarReporter(Console(file=stream, stderr=True))
    return PlainReporter()

