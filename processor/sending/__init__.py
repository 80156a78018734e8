"""Mail out: pending rows of the `outgoing` table delivered by a transport."""
from __future__ import annotations

import datetime as dt
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from intake.parsers.errors import PermanentSendError, SendError
from intake.processor.config import SendingConfig
from intake.store.models import Outgoing, OutgoingState
from intake.store.repository import Store

log = logging.getLogger(__name__)
MAX_BACKOFF = dt.timedelta(hours=1)


class Transport(Protocol):
    def send(self, row: Outgoing) -> None:
        """Deliver one message; SendError (transient) or PermanentSendError."""
        ...

    def close(self) -> None: ...


def open_transport(cfg: SendingConfig) -> Transport:
    """The one factory for transports, so tests can swap it."""
    if cfg.kind == "outbox":
        from intake.processor.sending.outbox import OutboxTransport

        return OutboxTransport(cfg.outbox_dir)
    from intake.processor.sending.smtp import SmtpTransport

    return SmtpTransport(cfg)


@dataclass(frozen=True)
class DeliveryCounts:
    sent: int = 0
    retry: int = 0
    failed: int = 0


def backoff(attempts: int, rng: Callable[[], float] = random.random) -> dt.timedelta:
    """Exponential backoff with jitter: ~1, 2, 4 ... minutes, at most an hour."""
    base = dt.timedelta(minutes=2 ** min(attempts, 10))
    return min(base, MAX_BACKOFF) * (0.5 + rng())


def deliver_pending(store: Store, transport: Transport, now: dt.datetime) -> DeliveryCounts:
    """Send every due pending row once; a row is marked sent right after the server accepted it."""
    sent = retry = failed = 0
    for row in store.pending_outgoing(now):
        try:
            transport.send(row)
        except PermanentSendError as exc:
            log.error("outgoing %s to %s refused for good: %s", row.id, row.to_address, exc)
            store.mark_outgoing(row.id, OutgoingState.FAILED, error=str(exc))
            failed += 1
            continue
        except SendError as exc:
            delay = backoff(row.attempts)
            log.warning("outgoing %s to %s not sent, retry in %s: %s", row.id, row.to_address, delay, exc)
            store.mark_outgoing(row.id, OutgoingState.PENDING, error=str(exc), next_attempt_at=now + delay)
            retry += 1
            continue
        store.mark_outgoing(row.id, OutgoingState.SENT)
        sent += 1
    return DeliveryCounts(sent=sent, retry=retry, failed=failed)
