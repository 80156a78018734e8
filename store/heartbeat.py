"""The daemon's heartbeat: the time of its last successful mailbox check, kept in the store
so that `intake health` (another process, maybe another user) reads it wherever it runs."""
from __future__ import annotations

import datetime as dt

from intake.store.models import Heartbeat
from intake.store.repository import Store

MAILBOX_CHECK = "mailbox_check"


def beat(store: Store, name: str, at: dt.datetime, detail: str = "") -> None:
    with store.session() as s:
        row = s.get(Heartbeat, name) or Heartbeat(name=name)
        row.at, row.detail = at, detail[:500]
        s.add(row)


def last_beat(store: Store, name: str) -> tuple[dt.datetime, str] | None:
    with store.session() as s:
        row = s.get(Heartbeat, name)
        return (row.at, row.detail) if row is not None else None
