"""`intake run`: wait for mail, process it, send, run scheduled jobs; stop on SIGTERM/SIGINT."""
from __future__ import annotations

import logging
import signal
import threading
from types import FrameType

from intake.parsers.errors import IntakeError, MailboxAuthError
from intake.processor.app import App

log = logging.getLogger(__name__)


def install_stop_handlers(stop: threading.Event) -> None:
    def handler(signum: int, _frame: FrameType | None) -> None:
        log.info("signal %s received: stopping after the message in hand", signum)
        stop.set()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


def run_daemon(app: App, stop: threading.Event) -> None:
    """Poll every `poll_every` seconds; a failed round is logged and retried next round."""
    interval = app.cfg.mailbox.poll_every
    while not stop.is_set():
        try:
            leftover, fetched, sent = app.run_once()
            if fetched.fetched or leftover.processed or sent.sent:
                log.info("fetched %s, new %s, sent %s", fetched.fetched, fetched.new, sent.sent)
        except MailboxAuthError:
            raise
        except IntakeError as exc:
            log.error("round failed, retrying in %s s: %s", interval, exc)
        stop.wait(interval)
