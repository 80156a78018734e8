"""What the store is asked to write, as plain frozen values (the decision step builds them).

`MessageRecord` is everything processing found about one message
(`Store.record` writes it in one transaction, with its acknowledgement);
`OutgoingMail` is one mail to queue (`Store.queue` owns deduplication);
`PendingMail` is one queued mail handed to a transport; `KnownFacts` is
what the decision step needs to know from the store.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

from intake.parsers.model import Problem, SectionResult
from intake.store.kinds import MatchMethod, MessageState, OutgoingKind, OutgoingState
from intake.store.views import SectionChoice


def ack_key(message_pk: int) -> str:
    """The dedupe key of a message's acknowledgement: it is queued once, whatever re-evaluates it."""
    return f"ack:{message_pk}"


@dataclass(frozen=True)
class AttachmentRecord:
    position: int
    filename: str        # the sender's: display only
    content_type: str
    data: bytes
    kind: str            # parsers.model.FileKind value
    problem: Problem | None = None
    detail: str | None = None
    is_report: bool = False


@dataclass(frozen=True)
class MessageRecord:
    """A processed message's fields; `section` is recorded against the report attachment."""

    state: MessageState
    processed_at: dt.datetime
    from_address: str = ""
    from_name: str = ""
    subject: str = ""
    date_header: dt.datetime | None = None
    ignore_reason: str | None = None
    unit_id: str | None = None
    match: MatchMethod = MatchMethod.NONE
    campaign_id: str | None = None
    problems: tuple[Problem, ...] = ()
    has_report: bool = False
    has_word_file: bool = False
    reference: str | None = None
    attachments: tuple[AttachmentRecord, ...] = ()
    report_position: int | None = None
    section: SectionResult | None = None
    issuer: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class Attribution:
    """Who sent a stored message, written before anything that can fail (`Store.ingest`); processing
    refines it (`MessageRecord`), a failure of processing keeps it (`Store.record_failure`)."""

    reference: str
    from_address: str = ""
    from_name: str = ""
    subject: str = ""
    date_header: dt.datetime | None = None
    unit_id: str | None = None
    match: MatchMethod = MatchMethod.NONE
    campaign_id: str | None = None
    problems: tuple[Problem, ...] = ()
    ignore_reason: str | None = None   # the header says auto-reply, bulk, robot or our own: never counted
    error: str | None = None           # why the sender cannot be answered

    def columns(self) -> dict[str, object]:
        """The `messages` columns it sets."""
        return {"reference": self.reference, "from_address": self.from_address, "from_name": self.from_name,
                "subject": self.subject, "date_header": self.date_header, "unit_id": self.unit_id,
                "match": self.match, "campaign_id": self.campaign_id, "problems": [p.value for p in self.problems],
                "ignore_reason": self.ignore_reason, "error": self.error}


@dataclass(frozen=True)
class OutgoingMail:
    """One mail to send, identified by `dedupe_key` (queued at most once, ever)."""

    kind: OutgoingKind
    dedupe_key: str
    to_address: str
    subject: str
    our_message_id: str
    raw: bytes
    created_at: dt.datetime
    state: OutgoingState = OutgoingState.PENDING   # or SKIPPED, recorded with `reason`
    reason: str | None = None
    message_pk: int | None = None
    unit_id: str | None = None
    campaign_id: str | None = None


@dataclass(frozen=True)
class PendingMail:
    """A queued mail as a transport needs it."""

    id: int
    kind: OutgoingKind
    to_address: str
    raw: bytes
    attempts: int
    created_at: dt.datetime | None = None  # reminders and digests queued more than a day ago are stale

    @property
    def label(self) -> str:
        """A stable name for this mail (the outbox's file name): sending it twice replaces, never duplicates."""
        return f"{self.id:06d}-{self.kind.value}"


@dataclass(frozen=True)
class KnownFacts:
    """What the store knows that the decision about one message depends on."""

    registered: Mapping[str, str] = field(default_factory=dict)   # lower-cased address -> unit id
    extensions: Mapping[tuple[str, str], dt.datetime] = field(default_factory=dict)  # (unit, campaign) -> until
    section_choice: SectionChoice | None = None
    earlier_campaign: str | None = None     # the campaign an earlier evaluation chose
    acknowledged: bool = False              # an acknowledgement is queued already
    recent_to_sender: int = 0               # mail (not skipped) to the sender in the rate-limit window
