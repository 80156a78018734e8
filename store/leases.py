"""Leases: at most one holder of a named thing at a time, across processes and hosts sharing a store.

A lease is a row of `leases` (name, holder, expires_at). Taking it is one
UPDATE whose WHERE clause says "free, expired, or already mine": on SQLite
(`BEGIN IMMEDIATE`) and on PostgreSQL (the row lock makes a concurrent second
UPDATE re-check the clause after the first commits) exactly one process
wins. A holder renews it while working and releases it when done; a holder
that dies leaves it to expire, after which another takes over.

Names used: "mailbox:<identity>" (one daemon fetches and processes a mailbox;
a second daemon started on the same mailbox by mistake waits) and
"message:<pk>" (one process processes a stored message, whichever daemon or
command found it). Times are the hosts' UTC clocks: keep them in sync (NTP);
the TTL is minutes, so seconds of skew do not matter.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy import Table, delete, or_, select, update

from intake.store.db import Database, Executor, insert_ignore
from intake.store.holders import holder_is_dead, new_holder
from intake.store.models import Lease, utcnow

__all__ = ["MAILBOX_TTL", "MESSAGE_TTL", "Leases", "holder_is_dead", "message_lease", "new_holder"]

MAILBOX_TTL = dt.timedelta(minutes=10)
MESSAGE_TTL = dt.timedelta(minutes=15)
_LEASES: Table = Lease.__table__  # type: ignore[assignment]


def message_lease(message_pk: int) -> str:
    return f"message:{message_pk}"


class Leases:
    def __init__(self, db: Database, holder: str | None = None,
                 clock: Callable[[], dt.datetime] = utcnow) -> None:
        self.db = db
        self.holder = holder or new_holder()
        self.clock = clock

    def acquire(self, name: str, ttl: dt.timedelta) -> bool:
        """Take or renew `name` for `ttl`; False if another holder has it and it has not expired."""
        with self.db.transaction() as s:
            return self.take(s, name, ttl)

    def take(self, s: Executor, name: str, ttl: dt.timedelta) -> bool:
        """`acquire` inside the caller's transaction (the lease is taken when that commits)."""
        now = self.clock()
        insert_ignore(s, Lease, ["name"], {"name": name, "holder": "", "acquired_at": now, "expires_at": now})
        holder = s.execute(select(_LEASES.c.holder).where(_LEASES.c.name == name)).scalar()
        dead = holder if holder is not None and holder_is_dead(holder) else self.holder
        done = s.execute(update(_LEASES).where(
            _LEASES.c.name == name,
            or_(_LEASES.c.holder == self.holder, _LEASES.c.holder == "", _LEASES.c.holder == dead,
                _LEASES.c.expires_at <= now))
            .values(holder=self.holder, acquired_at=now, expires_at=now + ttl))
        return bool(getattr(done, "rowcount", 0))

    def take_message(self, s: Executor, message_pk: int) -> bool:
        """The lease on processing a message, taken in the transaction that stores it.

        The message is new, so its lease is usually new too: one INSERT; a row left
        from an earlier life of the same id goes the long way."""
        now, name = self.clock(), message_lease(message_pk)
        if insert_ignore(s, Lease, ["name"], {"name": name, "holder": self.holder, "acquired_at": now,
                                              "expires_at": now + MESSAGE_TTL}):
            return True
        return self.take(s, name, MESSAGE_TTL)

    def renew(self, name: str, ttl: dt.timedelta) -> bool:
        """Extend a lease this holder has; False if it was lost (expired and taken by another)."""
        now = self.clock()
        with self.db.connection() as c:
            done = c.execute(update(_LEASES).where(_LEASES.c.name == name, _LEASES.c.holder == self.holder)
                             .values(expires_at=now + ttl))
        return bool(done.rowcount)

    def release(self, *names: str) -> None:
        """Give up these leases (those this holder has), in one transaction."""
        if not names:
            return
        with self.db.connection() as c:
            c.execute(delete(_LEASES).where(_LEASES.c.name.in_(names), _LEASES.c.holder == self.holder))

    def holder_of(self, name: str) -> str | None:
        """The current, unexpired holder of `name`, if any."""
        with self.db.read_session() as s:
            row = s.get(Lease, name)
            if row is None or not row.holder or row.expires_at <= self.clock():
                return None
            return row.holder

    @contextmanager
    def held(self, name: str, ttl: dt.timedelta) -> Iterator[bool]:
        """`with leases.held(name, ttl) as ok:` ok says whether it is ours; released at the end if it was."""
        ok = self.acquire(name, ttl)
        try:
            yield ok
        finally:
            if ok:
                self.release(name)
