"""What the store hands out: frozen dataclasses of plain values, never ORM rows.

The use-case layer (`processor/services.py`) re-exports these for the CLI and
the web app (CONTRACTS §2).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from intake.parsers.model import Candidate


@dataclass(frozen=True)
class SectionView:
    found: bool
    heading: str | None
    text: str
    figures: dict[str, Any]
    score: float
    reason: str = ""
    confidence: str = "sure"                 # parsers.model.Confidence value
    candidates: tuple[Candidate, ...] = ()   # best first
    chosen_by: str = "finder"                # "finder" | "staff"


@dataclass(frozen=True)
class AttachmentView:
    position: int
    filename: str
    content_type: str
    size: int
    kind: str
    is_report: bool
    problem: str | None


@dataclass(frozen=True)
class OutgoingView:
    to: str
    subject: str
    state: str
    sent_at: dt.datetime | None
    body_text: str
    last_error: str | None = None


@dataclass(frozen=True)
class MessageView:
    """One incoming message as staff see it (`intake show`, the dashboard)."""

    reference: str | None
    message_id: str
    from_address: str
    from_name: str
    subject: str
    received_at: dt.datetime
    unit_id: str | None
    unit_name: str | None
    match: str
    campaign_id: str | None
    state: str
    problems: tuple[str, ...]
    attachments: tuple[AttachmentView, ...]
    section: SectionView | None
    acknowledgement: OutgoingView | None
    ignore_reason: str | None
    dismissed: bool
    pk: int = 0
    error: str | None = None


@dataclass(frozen=True)
class DecisionView:
    """One staff decision, active or revoked."""

    id: int
    kind: str                   # store.models.DecisionKind value
    unit_id: str | None
    unit_name: str | None
    campaign_id: str | None
    reason: str
    until: dt.datetime | None
    decided_by: str
    decided_at: dt.datetime
    revoked_at: dt.datetime | None
    revoked_by: str | None
    address: str | None = None
    reference: str | None = None        # the message a SECTION / DISMISS decision is about
    heading: str | None = None          # SECTION: the heading chosen (None: "no section"); LEARNED: the new one
    message_pk: int | None = None
    source_id: int | None = None        # LEARNED: the SECTION decision learned from; CORRECTED_ACK: the LEARNED one

    @property
    def active(self) -> bool:
        return self.revoked_at is None


@dataclass(frozen=True)
class Lesson:
    """An active staff choice of section that teaches its campaign's finder (`exemplar`: parsers.guide.Exemplar
    as JSON)."""

    decision_id: int
    campaign_id: str
    message_pk: int
    exemplar: dict[str, Any]


@dataclass(frozen=True)
class SectionChoice:
    """An active staff choice of a message's section: the attachment and heading block, or none."""

    position: int | None
    block: int | None
