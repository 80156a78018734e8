"""The outgoing mail queue (table `outgoing`): what is queued, claimed, sent or retried.

Every mail goes in through `queue_mail` (here, or in `Store.record`'s transaction),
which owns deduplication by `dedupe_key`.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table, bindparam, select, update

from intake.store.db import Database, Executor, insert_ignore
from intake.store.holders import holder_is_dead
from intake.store.models import Outgoing, OutgoingState, utcnow
from intake.store.records import OutgoingMail, PendingMail

_OUTGOING: Table = Outgoing.__table__  # type: ignore[assignment]

QUEUED = select(_OUTGOING.c.id).where(_OUTGOING.c.dedupe_key == bindparam("key")).limit(1)
_DUE = (select(_OUTGOING.c.id, _OUTGOING.c.kind, _OUTGOING.c.to_address, _OUTGOING.c.raw, _OUTGOING.c.attempts,
               _OUTGOING.c.created_at)
        .where(_OUTGOING.c.state == OutgoingState.PENDING, _OUTGOING.c.next_attempt_at <= bindparam("now"),
               _OUTGOING.c.id > bindparam("after_id"))
        .order_by(_OUTGOING.c.id).limit(bindparam("limit")))
_CLAIM = (update(_OUTGOING).where(_OUTGOING.c.id == bindparam("pk"), _OUTGOING.c.state == OutgoingState.PENDING)
          .values(state=OutgoingState.SENDING, next_attempt_at=bindparam("lease_until"),
                  claimed_by=bindparam("holder")))


class OutgoingQueue:
    """`Store`'s outgoing-mail methods (store/repository.py puts the parts together)."""

    db: Database

    def pending_outgoing(self, now: dt.datetime, limit: int = 100, after_id: int = 0) -> list[PendingMail]:
        """Due pending rows in id order, at most `limit`, those with an id above `after_id`
        (page through them by passing the last id seen)."""
        with self.db.reading() as c:
            rows = c.execute(_DUE, {"now": now, "after_id": after_id, "limit": limit}).all()
        return [PendingMail(id=r.id, kind=r.kind, to_address=r.to_address, raw=r.raw, attempts=r.attempts,
                            created_at=r.created_at) for r in rows]

    def mark_outgoing(self, pk: int, state: OutgoingState, *, error: str | None = None,
                      next_attempt_at: dt.datetime | None = None, at: dt.datetime | None = None) -> None:
        values: dict[str, Any] = {"state": state, "last_error": error, "attempts": _OUTGOING.c.attempts + 1}
        if state == OutgoingState.SENT:
            values["sent_at"] = at or utcnow()
        if next_attempt_at is not None:
            values["next_attempt_at"] = next_attempt_at
        with self.db.connection() as c:
            c.execute(update(_OUTGOING).where(_OUTGOING.c.id == pk).values(**values))

    def claim_outgoing(self, pk: int, lease_until: dt.datetime, holder: str = "") -> bool:
        """PENDING -> SENDING, committed before the transport is called; False if another sender took it.

        While SENDING, `next_attempt_at` is the lease's end: a row still SENDING
        after it was abandoned by a sender that died (see `recover_interrupted`).
        `holder` (store/holders.py `new_holder`) names the sender: one dead on this
        host has its rows taken at once.
        """
        with self.db.connection() as c:
            done = c.execute(_CLAIM, {"pk": pk, "lease_until": lease_until, "holder": holder or None})
        return bool(done.rowcount)

    def recover_interrupted(self, now: dt.datetime, resend_note: str, give_up_note: str) -> tuple[int, int]:
        """Rows left SENDING past their lease, or claimed by a process of this host that is dead:
        possibly delivered. Resend each once (same bytes, same Message-ID), marked with `resend_note`;
        a row interrupted again while carrying that note is marked SENT with `give_up_note`, so a crash
        at that point costs at most one duplicate. Returns (resent, given_up)."""
        resent = given_up = 0
        with self.db.transaction() as s:
            rows = [row for row in s.scalars(select(Outgoing).where(Outgoing.state == OutgoingState.SENDING)).all()
                    if row.next_attempt_at <= now or (row.claimed_by and holder_is_dead(row.claimed_by))]
            for row in rows:
                if row.last_error == resend_note:
                    row.state, row.last_error, row.sent_at = OutgoingState.SENT, give_up_note, now
                    given_up += 1
                else:
                    row.state, row.last_error, row.next_attempt_at = OutgoingState.PENDING, resend_note, now
                    resent += 1
        return resent, given_up

    def queue(self, mails: Sequence[OutgoingMail], *, unless_prefix: str | None = None) -> int:
        """Queue each mail whose dedupe key was never queued, in one transaction; the number queued.

        With `unless_prefix`, nothing is queued when any key with that prefix exists (one reminder
        per unit and point, whichever addresses it went to)."""
        with self.db.transaction() as s:
            if unless_prefix is not None and _has_prefix(s, unless_prefix):
                return 0
            return sum(queue_mail(s, mail) for mail in mails)

    def queued(self, *, key: str | None = None, prefix: str | None = None) -> bool:
        """Whether mail with this dedupe key (or one starting with `prefix`) was ever queued."""
        with self.db.read_session() as s:
            if prefix is not None:
                return _has_prefix(s, prefix)
            return s.execute(QUEUED, {"key": key}).first() is not None


def queue_mail(s: Executor, mail: OutgoingMail) -> int:
    """Add `mail` unless its dedupe key is taken: 1 if added, else 0."""
    return int(insert_ignore(s, Outgoing, ["dedupe_key"], {
        "kind": mail.kind, "dedupe_key": mail.dedupe_key, "message_pk": mail.message_pk, "unit_id": mail.unit_id,
        "campaign_id": mail.campaign_id, "to_address": mail.to_address, "subject": mail.subject,
        "our_message_id": mail.our_message_id, "raw": mail.raw, "state": mail.state, "last_error": mail.reason,
        "created_at": mail.created_at, "next_attempt_at": mail.created_at, "attempts": 0}))


def _has_prefix(s: Executor, prefix: str) -> bool:
    pattern = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    return s.scalar(select(Outgoing.id).where(Outgoing.dedupe_key.like(pattern, escape="\\")).limit(1)) is not None
