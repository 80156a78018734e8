"""`intake health`: is the daemon checking the mailbox? (SPEC: exit 0 when its last successful
mailbox check is recent, 3 × poll_every and at least 5 minutes; 1 otherwise; one line.)

The daemon (and `run --once`) records each successful check in the store's
`heartbeats` table, so `health` works from any user and folder that can read
the config, e.g. from a monitoring cron job or `systemctl` watchdog script.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from intake.processor.config import Config
from intake.store.heartbeat import MAILBOX_CHECK, beat, last_beat
from intake.store.repository import Store

MIN_WINDOW = dt.timedelta(minutes=5)


@dataclass(frozen=True)
class Health:
    ok: bool
    line: str


def window(cfg: Config) -> dt.timedelta:
    return max(MIN_WINDOW, 3 * dt.timedelta(seconds=cfg.mailbox.poll_every))


def record_check(store: Store, mailbox: str, now: dt.datetime) -> None:
    """A mailbox check succeeded now."""
    beat(store, MAILBOX_CHECK, now, mailbox)


def health(cfg: Config, store: Store, now: dt.datetime) -> Health:
    last = last_beat(store, MAILBOX_CHECK)
    limit = window(cfg)
    if last is None:
        return Health(False, "FAIL: the mailbox has never been checked (is `intake run` running?)")
    at, mailbox = last
    age = now - at
    local = at.astimezone(cfg.timezone).strftime("%d/%m/%Y %H:%M:%S")
    ago = _ago(age)
    if age <= limit:
        return Health(True, f"OK: last mailbox check {local} ({ago} ago) of {mailbox}")
    return Health(False, f"FAIL: last mailbox check {local} ({ago} ago, more than {_ago(limit)}) of {mailbox}")


def _ago(delta: dt.timedelta) -> str:
    seconds = max(0, int(delta.total_seconds()))
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    if seconds < 2 * 86400:
        return f"{seconds // 3600} h {seconds % 3600 // 60} min"
    return f"{seconds // 86400} days"
