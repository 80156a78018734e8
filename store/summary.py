"""A processed message in a few plain values, for the per-message log line."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select

from intake.store.models import Message, Outgoing, SectionRow
from intake.store.records import MessageRecord
from intake.store.repository import Store


@dataclass(frozen=True)
class MessageSummary:
    reference: str | None
    from_address: str
    unit_id: str | None
    campaign_id: str | None
    state: str          # MessageState value
    match: str          # MatchMethod value
    received_at: dt.datetime
    has_report: bool
    section_found: bool | None  # None: no section row (no readable report)
    problems: tuple[str, ...]
    ack_state: str | None       # OutgoingState value of the acknowledgement, None when none was written


def message_summary(store: Store, message_pk: int) -> MessageSummary | None:
    with store.db.read_session() as s:
        msg = s.get(Message, message_pk)
        if msg is None:
            return None
        found = s.scalar(select(SectionRow.found).where(SectionRow.message_pk == message_pk))
        ack = s.scalar(select(Outgoing.state).where(Outgoing.dedupe_key == f"ack:{message_pk}"))
        return MessageSummary(
            reference=msg.reference, from_address=msg.from_address, unit_id=msg.unit_id,
            campaign_id=msg.campaign_id, state=msg.state.value, match=msg.match.value,
            received_at=msg.received_at, has_report=msg.has_report, section_found=found,
            problems=tuple(msg.problems or ()), ack_state=ack.value if ack is not None else None)


def summary_of(record: MessageRecord, received_at: dt.datetime, ack_state: str | None) -> MessageSummary:
    """The summary of a record just written, without reading it back (`ack_state`: of the mail queued with it)."""
    return MessageSummary(
        reference=record.reference, from_address=record.from_address, unit_id=record.unit_id,
        campaign_id=record.campaign_id, state=record.state.value, match=record.match.value,
        received_at=received_at, has_report=record.has_report,
        section_found=record.section.found if record.section is not None and record.report_position is not None
        else None,
        problems=tuple(p.value for p in record.problems), ack_state=ack_state)
