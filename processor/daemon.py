"""`intake run`: wait for mail, process it, send, run scheduled jobs; stop on SIGTERM/SIGINT.

One connection serves many rounds: a round processes leftovers, fetches what
is new, sends what is due and runs due scheduled jobs; between rounds the
daemon waits in IMAP IDLE when the server offers it (renewed every
IDLE_RENEW seconds, well inside RFC 2177's 29 minutes), else sleeps
`poll_every` seconds (Maildir, servers without IDLE, `idle = false`). Every
wait is cut short by the stop event and by the next scheduled job. Any
network or server failure drops the connection and reconnects after an
exponential, jittered delay; each failure is logged once, with its cause.
Rejected credentials stop the daemon: retrying would only lock the account.
"""
from __future__ import annotations

import logging
import random
import signal
import threading
import time
from collections.abc import Callable
from types import FrameType

from intake.parsers.errors import ConfigError, IntakeError, MailboxAuthError
from intake.processor.app import App
from intake.processor.i18n import in_english
from intake.processor.mailbox import Mailbox

log = logging.getLogger(__name__)

IDLE_RENEW = 9 * 60.0  # seconds in one IDLE command; also keeps NAT and server timeouts at bay
MIN_WAIT = 1.0  # never spin: a scheduler that says "due now" twice still gets a second's pause


def install_stop_handlers(stop: threading.Event) -> None:
    def handler(signum: int, _frame: FrameType | None) -> None:
        log.info("signal %s received: stopping after the message in hand", signum)
        stop.set()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


class Backoff:
    """Delays of about first, 2·first, 4·first … capped at `cap`, each scaled by a random 0.5–1.5."""

    def __init__(self, first: float = 2.0, cap: float = 300.0, rng: Callable[[], float] = random.random) -> None:
        self.first, self.cap, self.rng = first, cap, rng
        self.failures = 0

    def next_delay(self) -> float:
        delay = min(self.cap, self.first * float(2 ** min(self.failures, 30))) * (0.5 + self.rng())
        self.failures += 1
        return delay

    def reset(self) -> None:
        self.failures = 0


def run_daemon(app: App, stop: threading.Event, backoff: Backoff | None = None) -> None:
    """Serve until `stop` is set; MailboxAuthError and ConfigError end the daemon, other failures reconnect."""
    backoff = backoff or Backoff()
    while not stop.is_set():
        mailbox: Mailbox | None = None
        try:
            mailbox = app.open_mailbox()
            _serve(app, mailbox, stop, backoff)
        except (MailboxAuthError, ConfigError):
            raise
        except IntakeError as exc:
            delay = backoff.next_delay()
            log.warning("round failed (failure %s in a row): %s; reconnecting in %.1f s",
                        backoff.failures, in_english(exc), delay)
            _close(mailbox)
            mailbox = None
            _wait(app, stop, delay)
        finally:
            _close(mailbox)


def _serve(app: App, mailbox: Mailbox, stop: threading.Event, backoff: Backoff) -> None:
    while not stop.is_set():
        leftover, fetched, sent = app.run_once(mailbox, stop.is_set)
        if backoff.failures:
            log.info("%s reachable again after %s failed attempt(s)", mailbox.identity, backoff.failures)
            backoff.reset()
        if fetched.fetched or leftover.processed or sent.sent:
            log.info("fetched %s, new %s, processed %s (+%s left from before), failed %s, sent %s",
                     fetched.fetched, fetched.new, fetched.processed, leftover.processed,
                     fetched.failed + leftover.failed, sent.sent)
        _run_scheduled(app)
        if stop.is_set():
            return
        if mailbox.idle_supported:
            mailbox.idle_wait(_bounded(app, IDLE_RENEW), stop)
        else:
            _wait(app, stop, float(app.cfg.mailbox.poll_every))


def _bounded(app: App, seconds: float) -> float:
    """`seconds`, shortened so the next scheduled job is not late."""
    due = app.scheduler.idle_seconds
    if due is None:
        return seconds
    return max(MIN_WAIT, min(seconds, float(due)))


def _run_scheduled(app: App) -> None:
    try:
        app.scheduler.run_pending()
    except IntakeError as exc:  # a job's own failure is no reason to drop the mailbox connection
        log.error("scheduled job failed: %s", in_english(exc))


def _wait(app: App, stop: threading.Event, seconds: float) -> None:
    """Sleep `seconds` unless stopped, running scheduled jobs as they fall due."""
    deadline = time.monotonic() + seconds
    while not stop.is_set():
        left = deadline - time.monotonic()
        if left <= 0:
            return
        if stop.wait(_bounded(app, left) if left > MIN_WAIT else left):
            return
        _run_scheduled(app)


def _close(mailbox: Mailbox | None) -> None:
    if mailbox is None:
        return
    try:
        mailbox.close()
    except IntakeError as exc:
        log.debug("closing %s: %s", mailbox.identity, exc)
