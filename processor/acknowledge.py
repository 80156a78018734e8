"""Whether and what to acknowledge; the acknowledgement is queued as an
outgoing row in the same transaction that records the submission."""
from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment
from sqlalchemy import select
from sqlalchemy.orm import Session

from intake.parsers.email import normalise_address
from intake.parsers.model import ParsedEmail, Problem, SectionResult
from intake.processor.compose import compose, reply_subject, template_env
from intake.processor.config import AcknowledgeConfig, CampaignConfig, SendingConfig
from intake.store.models import Message, Outgoing, OutgoingKind, OutgoingState, Unit
from intake.store.repository import Store


@dataclass(frozen=True)
class AckPolicy:
    cfg: AcknowledgeConfig
    own_addresses: tuple[str, ...]

    def never_acknowledge(self, parsed: ParsedEmail) -> str | None:
        """Auto-replies, bulk mail, reports, robots and our own mail: recorded, never counted."""
        if parsed.never_acknowledge:
            return parsed.never_acknowledge
        sender = normalise_address(parsed.from_address)
        if not sender or "@" not in sender:
            return "no sender address"
        if sender in {normalise_address(a) for a in self.own_addresses}:
            return "our own address"
        return None


class Acknowledger:
    def __init__(self, ack: AcknowledgeConfig, sending: SendingConfig, store: Store, tz: ZoneInfo,
                 env: Environment | None = None) -> None:
        self.ack, self.sending, self.store, self.tz = ack, sending, store, tz
        self.env = env or template_env()

    def queue(self, s: Session, msg: Message, parsed: ParsedEmail, campaign: CampaignConfig,
              attachments: Sequence[dict[str, Any]], section: SectionResult | None, *, now: dt.datetime) -> None:
        """Write the acknowledgement row for `msg` (pending, or skipped with the reason)."""
        if not self.ack.enabled:
            return
        if msg.unit_id is None and not msg.has_word_file:
            return  # an unknown sender without a Word file: nothing to confirm
        if s.scalar(select(Outgoing.id).where(Outgoing.dedupe_key == f"ack:{msg.id}")) is not None:
            return  # re-evaluated (e.g. after `units link`): acknowledged once already
        unit = s.get(Unit, msg.unit_id) if msg.unit_id else None
        context = self._context(msg, parsed, campaign, attachments, section, unit)
        composed = compose(self.env, f"ack_{self.ack.language}", context,
                           from_address=self.sending.from_address, from_name=self.sending.from_name,
                           to_address=parsed.from_address, to_name=parsed.from_name,
                           subject=reply_subject(parsed.subject), now=now,
                           in_reply_to=parsed.message_id, references=parsed.references)
        state, reason = self._skip_reason(s, msg, parsed, now)
        s.add(Outgoing(kind=OutgoingKind.ACK, dedupe_key=f"ack:{msg.id}", message_pk=msg.id, unit_id=msg.unit_id,
                       campaign_id=campaign.id, to_address=parsed.from_address, subject=composed.subject,
                       our_message_id=composed.message_id, raw=composed.raw, state=state, last_error=reason,
                       created_at=now, next_attempt_at=now))

    def _skip_reason(self, s: Session, msg: Message, parsed: ParsedEmail,
                     now: dt.datetime) -> tuple[OutgoingState, str | None]:
        if msg.received_at < now - dt.timedelta(days=self.ack.max_age_days):
            return OutgoingState.SKIPPED, f"older than {self.ack.max_age_days} days"
        sent = self.store.outgoing_count_since(parsed.from_address, now - dt.timedelta(hours=1), s)
        if sent >= self.ack.max_per_hour:
            return OutgoingState.SKIPPED, f"rate limit: {sent} acknowledgements to this address in the last hour"
        return OutgoingState.PENDING, None

    def _context(self, msg: Message, parsed: ParsedEmail, campaign: CampaignConfig,
                 attachments: Sequence[dict[str, Any]], section: SectionResult | None,
                 unit: Unit | None) -> dict[str, Any]:
        received = msg.received_at.astimezone(self.tz)
        problems = list(msg.problems or [])
        return {
            "unit_name": unit.name if unit else None,
            "sender": parsed.from_name or parsed.from_address,
            "campaign": {"id": campaign.id, "title": campaign.title,
                         "deadline": campaign.deadline.astimezone(self.tz),
                         "section_title": campaign.section_title},
            "received_at": received,
            "on_time": msg.received_at < campaign.deadline,
            "attachments": list(attachments),
            "has_report": msg.has_report,
            "section_found": bool(section and section.found),
            "heading": section.heading if section and section.found else None,
            "problems": problems,
            "Problem": Problem,
            "reference": msg.reference,
            "office": self.sending.from_name or self.sending.from_address,
            "tz_name": str(self.tz),
        }
