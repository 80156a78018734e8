"""Leases (store/leases.py) on both backends: one holder at a time, expiry, renewal, release, and a race."""
from __future__ import annotations

import datetime as dt
import socket
import subprocess
import sys
import threading
from pathlib import Path

from intake.store.leases import MAILBOX_TTL, Leases
from intake.store.repository import Store

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
TTL = dt.timedelta(minutes=10)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> dt.datetime:
        return self.now


def test_one_holder_expiry_renewal_release(store_url: str, tmp_path: Path) -> None:
    store = Store(store_url, tmp_path / "files")
    clock = Clock()
    a, b = Leases(store.db, "a", clock), Leases(store.db, "b", clock)
    try:
        assert a.acquire("mailbox:x", TTL)
        assert not b.acquire("mailbox:x", TTL)
        assert a.acquire("mailbox:x", TTL), "the holder may take it again"
        assert b.acquire("mailbox:y", TTL), "another name is another lease"
        assert b.holder_of("mailbox:x") == "a"
        clock.now = T0 + dt.timedelta(minutes=9)
        assert a.renew("mailbox:x", TTL)
        clock.now = T0 + dt.timedelta(minutes=18)
        assert not b.acquire("mailbox:x", TTL), "renewed: still a's"
        clock.now = T0 + dt.timedelta(minutes=20)
        assert b.acquire("mailbox:x", TTL), "expired: b takes over"
        assert not a.renew("mailbox:x", TTL), "a learns it lost the lease"
        a.release("mailbox:x")
        assert b.holder_of("mailbox:x") == "b", "a cannot release b's lease"
        b.release("mailbox:x")
        assert a.holder_of("mailbox:x") is None
        with a.held("message:1", TTL) as mine, b.held("message:1", TTL) as theirs:
            assert mine and not theirs
        assert b.acquire("message:1", TTL)
    finally:
        store.close()


def test_a_new_message_lease_is_one_insert_and_a_left_row_is_judged_as_ever(store_url: str, tmp_path: Path) -> None:
    store = Store(store_url, tmp_path / "files")
    clock = Clock()
    a, b = Leases(store.db, "a", clock), Leases(store.db, "b", clock)
    try:
        with store.db.transaction() as s:
            assert a.take_message(s, 7)
        assert a.holder_of("message:7") == "a"
        with store.db.transaction() as s:
            assert not b.take_message(s, 7), "a row held by a live holder stays its"
        clock.now = T0 + dt.timedelta(minutes=16)
        with store.db.transaction() as s:
            assert b.take_message(s, 7), "an expired row is taken over"
        assert b.holder_of("message:7") == "b"
        b.release("message:7", "message:8")
        assert b.holder_of("message:7") is None
    finally:
        store.close()


def test_many_processes_racing_for_one_lease_one_wins_each_round(store_url: str, tmp_path: Path) -> None:
    store = Store(store_url, tmp_path / "files")
    try:
        for round_ in range(10):
            name = f"mailbox:race-{round_}"
            start = threading.Barrier(6)
            winners: list[str] = []

            def race(holder: str, name: str = name, start: threading.Barrier = start,
                     winners: list[str] = winners) -> None:
                leases = Leases(store.db, holder)
                start.wait()
                if leases.acquire(name, TTL):
                    winners.append(holder)

            threads = [threading.Thread(target=race, args=(f"h{i}",)) for i in range(6)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(30)
            assert len(winners) == 1, (round_, winners)
    finally:
        store.close()


def test_a_dead_holder_on_this_host_is_taken_over_at_once(store_url: str, tmp_path: Path) -> None:
    """A daemon restarted after a crash does not wait for its own dead lease to expire."""
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    store = Store(store_url, tmp_path / "files")
    db = store.db
    try:
        crashed = Leases(db, holder=f"{socket.gethostname()[:100]}:{dead.pid}:deadbeef")
        alive_elsewhere = Leases(db, holder="another-host:1:cafe0000")
        assert crashed.acquire("mailbox:a", MAILBOX_TTL)
        assert alive_elsewhere.acquire("mailbox:b", MAILBOX_TTL)
        restarted = Leases(db)
        assert restarted.acquire("mailbox:a", MAILBOX_TTL)       # the dead process's lease is taken at once
        assert not restarted.acquire("mailbox:b", MAILBOX_TTL)   # another host's lease runs out first
        assert not Leases(db).acquire("mailbox:a", MAILBOX_TTL)  # and this live process now holds it
    finally:
        store.close()
