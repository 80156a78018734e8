"""The daemon's scheduled jobs (reminders, the daily digest) on a `schedule.Scheduler`.

The daemon calls `scheduler.run_pending()` between mailbox checks and sleeps
at most `scheduler.idle_seconds`. The jobs only pace the work: what is due is
decided by `Reminders` from the store and the injected clock, so a restart
(where `schedule` remembers nothing) repeats nothing and misses nothing.
"""
from __future__ import annotations

import logging
from collections.abc import Callable

import schedule

from intake.processor.sending.reminders import Reminders

log = logging.getLogger(__name__)
CHECK_EVERY_SECONDS = 60


def guarded(name: str, job: Callable[[], object]) -> Callable[[], None]:
    """A job that logs its own failure: `schedule` does not reschedule a job that raises, and
    the daemon would then call it again at once, forever (LIBRARY-NOTES)."""
    def run() -> None:
        try:
            job()
        except Exception:  # the job boundary: logged with its traceback, retried at the next tick
            log.exception("scheduled job %s failed; retrying in %s s", name, CHECK_EVERY_SECONDS)

    return run


def build_scheduler(reminders: Reminders, send_pending: Callable[[], object]) -> schedule.Scheduler:
    """One job, every minute: queue due reminders and the digest, then send what is pending."""
    def staff_mail() -> None:
        plan = reminders.scheduled()
        digests = reminders.digest()
        if plan.queued or digests:
            send_pending()

    scheduler = schedule.Scheduler()
    scheduler.every(CHECK_EVERY_SECONDS).seconds.do(guarded("staff mail", staff_mail)).tag("staff-mail")
    return scheduler
