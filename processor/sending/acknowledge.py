"""Whether and what to acknowledge; the acknowledgement is queued as an
outgoing row in the same transaction that records the submission."""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment
from sqlalchemy import select
from sqlalchemy.orm import Session

from intake.parsers.email import is_synthetic_message_id, normalise_address
from intake.parsers.headers import usable_address
from intake.parsers.model import ParsedEmail, Problem, SectionResult
from intake.processor.config import AcknowledgeConfig, CampaignConfig, Config, SendingConfig
from intake.processor.sending.compose import compose, reply_subject, template_env
from intake.store.models import Message, Outgoing, OutgoingKind, OutgoingState, Unit
from intake.store.repository import Store


@dataclass(frozen=True)
class AckPolicy:
    cfg: AcknowledgeConfig
    own_addresses: tuple[str, ...]

    @classmethod
    def for_config(cls, cfg: Config) -> AckPolicy:
        """Our own addresses: the sender address and the logins of the mail-out and the mailbox."""
        own = (cfg.sending.from_address, cfg.sending.username, cfg.mailbox.username)
        return cls(cfg.acknowledge, tuple(a for a in own if "@" in a))

    def never_acknowledge(self, parsed: ParsedEmail) -> str | None:
        """Auto-replies, bulk mail, reports, robots and our own mail: recorded, never counted."""
        if parsed.never_acknowledge:
            return parsed.never_acknowledge
        sender = normalise_address(parsed.from_address)
        # No usable sender is no reason to ignore: the message is listed for staff (unmatched).
        own = {normalise_address(a) for a in self.own_addresses}
        if sender in own:
            return "our own address"
        if parsed.return_path and normalise_address(parsed.return_path) in own:
            return "our own address (Return-Path)"
        return None


class FileNote(StrEnum):
    """What the acknowledgement says about one attachment."""

    REPORT = "report"              # the report read and used
    EXTRA = "extra"                # beside a readable report: no problem
    ENCRYPTED = "encrypted"
    UNREADABLE = "unreadable"
    UNSUPPORTED = "unsupported"    # a Word-like file this installation cannot convert
    NOT_WORD = "not_word"          # PDF, image, other, with no readable report beside it


def file_note(attachment: Mapping[str, Any], has_report: bool) -> FileNote:
    if attachment.get("is_report"):
        return FileNote.REPORT
    problem = attachment.get("problem")
    if problem == Problem.ENCRYPTED_ATTACHMENT:
        return FileNote.ENCRYPTED
    if problem == Problem.UNREADABLE_ATTACHMENT:
        return FileNote.UNREADABLE
    if problem == Problem.UNSUPPORTED_ATTACHMENT:
        return FileNote.UNSUPPORTED
    return FileNote.EXTRA if has_report else FileNote.NOT_WORD


def zone_label(when: dt.datetime) -> str:
    """'GMT+7' for Asia/Ho_Chi_Minh: the zone the times are shown in, named as offices write it."""
    offset = when.utcoffset() or dt.timedelta()
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    hours, rest = divmod(abs(minutes), 60)
    return f"GMT{sign}{hours}" + (f":{rest:02d}" if rest else "")


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
        if parsed.sender_problem or usable_address(parsed.from_address) is None:
            return  # nobody to answer; staff see the message and the reason
        if s.scalar(select(Outgoing.id).where(Outgoing.dedupe_key == f"ack:{msg.id}")) is not None:
            return  # re-evaluated (e.g. after `units link`): acknowledged once already
        unit = s.get(Unit, msg.unit_id) if msg.unit_id else None
        context = self.context(s, msg, parsed, campaign, attachments, section, unit)
        template = f"ack_{self.ack.language}" if unit else f"ack_unknown_{self.ack.language}"
        original_id = None if is_synthetic_message_id(parsed.message_id) else parsed.message_id
        composed = compose(self.env, template, context,
                           from_address=self.sending.from_address, from_name=self.sending.from_name,
                           to_address=parsed.from_address, to_name=parsed.from_name,
                           subject=reply_subject(parsed.subject, self.ack.language), now=now,
                           in_reply_to=original_id, references=parsed.references)
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

    def context(self, s: Session, msg: Message, parsed: ParsedEmail, campaign: CampaignConfig,
                attachments: Sequence[Mapping[str, Any]], section: SectionResult | None,
                unit: Unit | None) -> dict[str, Any]:
        """Everything the acknowledgement templates show (times already in the configured zone)."""
        received = msg.received_at.astimezone(self.tz)
        extended = self.store.extended_until(s, unit.id, campaign.id) if unit else None
        deadline = (extended or campaign.deadline).astimezone(self.tz)
        files = [{"filename": a["filename"], "note": file_note(a, msg.has_report).value} for a in attachments]
        return {
            "unit_name": unit.name if unit else None,
            "sender_name": parsed.from_name,
            "sender_address": parsed.from_address,
            "campaign": {"id": campaign.id, "title": campaign.title, "section_title": campaign.section_title},
            "deadline": deadline,
            "extended": extended is not None,
            "general_deadline": campaign.deadline.astimezone(self.tz),
            "received_at": received,
            "zone": zone_label(received),
            "on_time": msg.received_at < (extended or campaign.deadline),
            "files": files,
            "has_report": msg.has_report,
            "section_found": bool(section and section.found),
            "heading": section.heading if section and section.found else None,
            "problems": list(msg.problems or []),
            "reference": msg.reference,
            "office": self.sending.from_name or self.sending.from_address,
        }
