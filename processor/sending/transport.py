"""What a transport is: it sends an `Envelope` (plain values, no store row)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Envelope:
    """One mail as a transport sends it: plain values, no store row."""

    sender: str                    # the envelope sender (MAIL FROM)
    recipients: tuple[str, ...]
    raw: bytes                     # the whole message, headers included
    label: str                     # stable name of this mail ("000012-ack"): a resend replaces, never duplicates


class Transport(Protocol):
    def send(self, envelope: Envelope) -> None:
        """Deliver one message; SendError (transient) or PermanentSendError."""
        ...

    def probe(self) -> str:
        """For check-config: whether mail can go out, in one line; SendError when not."""
        ...

    def close(self) -> None: ...
