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
from intake.processor.i18n import _
from intake.processor.times import local_time
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
        return Health(False, _("FAIL: the mailbox has never been checked (is `intake run` running?)"))
    at, mailbox = last
    age = now - at
    local = local_time(at, cfg.timezone, seconds=True)
    ago = _ago(age)
    if age <= limit:
        return Health(True, _("OK: last mailbox check {when} ({ago} ago) of {mailbox}", when=local, ago=ago,
                               mailbox=mailbox))
    return Health(False, _("FAIL: last mailbox check {when} ({ago} ago, more than {limit}) of {mailbox}", when=local,
                          ago=ago, limit=_ago(limit), mailbox=mailbox))


def _ago(delta: dt.timedelta) -> str:
    seconds = max(0, int(delta.total_seconds()))
    if seconds < 120:
        return _("{n} s", n=seconds)
    if seconds < 7200:
        return _("{n} min", n=seconds // 60)
    if seconds < 2 * 86400:
        return _("{h} h {m} min", h=seconds // 3600, m=seconds % 3600 // 60)
    return _("{n} days", n=seconds // 86400)
