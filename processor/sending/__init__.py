"""Mail out: pending rows of the `outgoing` table delivered by a transport."""
from __future__ import annotations

import datetime as dt
import logging
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from intake.parsers.errors import PermanentSendError, SendError
from intake.processor.config import OutboxConfig, SendingConfig
from intake.processor.i18n import in_english
from intake.processor.sending.outbox import OutboxTransport
from intake.processor.sending.smtp import SmtpTransport
from intake.processor.sending.transport import Envelope, Transport
from intake.store.holders import new_holder
from intake.store.kinds import OutgoingKind, OutgoingState

if TYPE_CHECKING:  # the sending stage needs the Store's methods, not the ORM at import time
    from intake.store.records import PendingMail
    from intake.store.repository import Store

# SPEC "No stale mail": reminders and digests never go out more than a day late.
STALE_AFTER = dt.timedelta(days=1)

log = logging.getLogger(__name__)
MAX_BACKOFF = dt.timedelta(hours=1)


def open_transport(cfg: SendingConfig) -> Transport:
    """The one factory for transports, so tests can swap it."""
    if isinstance(cfg, OutboxConfig):
        return OutboxTransport(cfg.outbox_dir)
    return SmtpTransport(cfg)


@dataclass(frozen=True)
class DeliveryCounts:
    sent: int = 0
    retry: int = 0
    failed: int = 0

    def __add__(self, other: DeliveryCounts) -> DeliveryCounts:
        return DeliveryCounts(self.sent + other.sent, self.retry + other.retry, self.failed + other.failed)


def backoff(attempts: int, rng: Callable[[], float] = random.random) -> dt.timedelta:
    """Exponential backoff with jitter: ~1, 2, 4 ... minutes, at most an hour."""
    base = dt.timedelta(minutes=2 ** min(attempts, 10))
    return min(base, MAX_BACKOFF) * (0.5 + rng())


# A row is SENDING from just before the transport is called until it is marked; a sender
# killed in between (after the server's 250, before the mark) leaves it SENDING. Past
# the lease, or at once when its holder is a dead process of this host, it is resent
# once with the same bytes and Message-ID (Gmail and most clients collapse a second
# copy with the same Message-ID); interrupted again, it is taken as delivered. At most
# one duplicate, never a lost acknowledgement.
LEASE = dt.timedelta(minutes=10)
RESEND_NOTE = "delivery interrupted (possibly delivered): sending once more with the same Message-ID"
GIVE_UP_NOTE = "delivery interrupted twice (possibly delivered): not sent again"


def deliver_pending(store: Store, transport: Transport, now: dt.datetime, sender: str) -> DeliveryCounts:
    """Send every due pending row once, from `sender`; a row is marked sent right after the server accepted it."""
    resent, given_up = store.recover_interrupted(now, RESEND_NOTE, GIVE_UP_NOTE)
    if resent or given_up:
        log.warning("%s interrupted deliveries found: %s to resend once, %s taken as delivered",
                    resent + given_up, resent, given_up)
    sent = retry = failed = 0
    holder = new_holder()  # recorded with each claim: a sender that dies here is known dead at once
    for row in _due_rows(store, now):
        if not store.claim_outgoing(row.id, now + LEASE, holder):
            continue  # another sender (e.g. `intake remind` beside the daemon) has it
        stale = row.created_at is not None and row.created_at < now - STALE_AFTER  # SPEC "No stale mail"
        if row.kind != OutgoingKind.ACK and stale:
            log.warning("outgoing %s (%s to %s) queued %s and never sent: stale, skipped", row.id, row.kind.value,
                        row.to_address, row.created_at)
            store.mark_outgoing(row.id, OutgoingState.SKIPPED, error="stale: queued more than a day ago")
            continue
        try:
            transport.send(Envelope(sender=sender, recipients=(row.to_address,), raw=row.raw, label=row.label))
        except PermanentSendError as exc:
            log.error("outgoing %s to %s refused for good: %s", row.id, row.to_address, in_english(exc))
            store.mark_outgoing(row.id, OutgoingState.FAILED, error=str(exc))
            failed += 1
            continue
        except SendError as exc:
            delay = backoff(row.attempts)
            log.warning("outgoing %s to %s not sent, retry in %s: %s", row.id, row.to_address, delay,
                        in_english(exc))
            store.mark_outgoing(row.id, OutgoingState.PENDING, error=str(exc), next_attempt_at=now + delay)
            retry += 1
            continue
        store.mark_outgoing(row.id, OutgoingState.SENT, at=now)
        sent += 1
    return DeliveryCounts(sent=sent, retry=retry, failed=failed)


def _due_rows(store: Store, now: dt.datetime, page: int = 100) -> Iterator[PendingMail]:
    """Every row due at `now`, fetched a page at a time by id: none is left behind, none met twice."""
    last = 0
    while rows := store.pending_outgoing(now, limit=page, after_id=last):
        yield from rows
        last = rows[-1].id
