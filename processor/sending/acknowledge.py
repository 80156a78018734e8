"""Whether and what to acknowledge (pure: `plan_ack`), and the mail that says it (`compose_ack`).

The acknowledgement is queued in the same transaction that records the
submission (`Store.record`), under the dedupe key `ack:<message>`."""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment

from intake.parsers.email import is_synthetic_message_id, normalise_address
from intake.parsers.headers import usable_address
from intake.parsers.model import ParsedEmail, Problem, SectionResult
from intake.processor.config import AcknowledgeConfig, CampaignConfig, Config, SendingConfig, login_of
from intake.processor.sending.compose import compose, reply_subject
from intake.processor.times import zone_label
from intake.store.kinds import OutgoingKind, OutgoingState
from intake.store.records import OutgoingMail, ack_key
from intake.store.status import UnitState, timeliness

NOT_COMPOSED = "acknowledgement not composed"


@dataclass(frozen=True)
class AckPolicy:
    cfg: AcknowledgeConfig
    own_addresses: tuple[str, ...]

    @classmethod
    def for_config(cls, cfg: Config) -> AckPolicy:
        """Our own addresses: the sender address and the logins of the mail-out and the mailbox."""
        own = (cfg.sending.from_address, login_of(cfg.sending), login_of(cfg.mailbox))
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


@dataclass(frozen=True)
class AckPlan:
    """The acknowledgement decided for one message, before it is rendered and queued."""

    message_pk: int
    template: str                  # "ack_vi", "ack_unknown_en" ...
    context: Mapping[str, Any]     # what the template shows
    to_address: str
    to_name: str
    subject: str
    in_reply_to: str | None
    references: tuple[str, ...]
    unit_id: str | None
    campaign_id: str
    skip_reason: str | None = None  # recorded, never sent (too old, rate limit)


@dataclass(frozen=True)
class AckFacts:
    """What the acknowledgement of one message says and whether it goes out (all plain values)."""

    message_pk: int
    received_at: dt.datetime
    reference: str | None
    unit_id: str | None
    unit_name: str | None
    has_word_file: bool
    has_report: bool
    files: Sequence[Mapping[str, Any]]   # filename, is_report, problem, kind
    section: SectionResult | None
    problems: Sequence[str]
    extended_until: dt.datetime | None
    acknowledged: bool                    # queued once already (a re-evaluation)
    recent_to_sender: int                 # acknowledgements to the sender in the last hour


def plan_ack(ack: AcknowledgeConfig, sending: SendingConfig, tz: ZoneInfo, parsed: ParsedEmail,
             campaign: CampaignConfig, facts: AckFacts, now: dt.datetime) -> tuple[AckPlan | None, str | None]:
    """SPEC's acknowledgement rule, pure: (the plan, None) or (None, why no acknowledgement)."""
    if not ack.enabled:
        return None, "acknowledgements disabled"
    if facts.unit_id is None and not facts.has_word_file:
        return None, "unknown sender without a Word file: nothing to confirm"
    if facts.acknowledged:
        return None, "acknowledged once already"
    if parsed.sender_problem or usable_address(parsed.from_address) is None:
        return None, f"nobody to answer: {parsed.sender_problem or 'no usable sender address'}"
    skip = None
    if facts.received_at < now - dt.timedelta(days=ack.max_age_days):
        skip = f"older than {ack.max_age_days} days"
    elif facts.recent_to_sender >= ack.max_per_hour:
        skip = f"rate limit: {facts.recent_to_sender} acknowledgements to this address in the last hour"
    template = f"ack_{ack.language}" if facts.unit_id else f"ack_unknown_{ack.language}"
    return AckPlan(
        message_pk=facts.message_pk, template=template, context=ack_context(sending, tz, parsed, campaign, facts),
        to_address=parsed.from_address, to_name=parsed.from_name,
        subject=reply_subject(parsed.subject, ack.language),
        in_reply_to=None if is_synthetic_message_id(parsed.message_id) else parsed.message_id,
        references=parsed.references, unit_id=facts.unit_id, campaign_id=campaign.id, skip_reason=skip), None


def ack_context(sending: SendingConfig, tz: ZoneInfo, parsed: ParsedEmail, campaign: CampaignConfig,
                facts: AckFacts) -> dict[str, Any]:
    """Everything the acknowledgement templates show (times already in the configured zone)."""
    received = facts.received_at.astimezone(tz)
    extended = facts.extended_until if facts.unit_id else None
    deadline = (extended or campaign.deadline).astimezone(tz)
    section = facts.section
    return {
        "unit_name": facts.unit_name,
        "sender_name": parsed.from_name,
        "sender_address": parsed.from_address,
        "campaign": {"id": campaign.id, "title": campaign.title, "section_title": campaign.section_title},
        "deadline": deadline,
        "extended": extended is not None,
        "general_deadline": campaign.deadline.astimezone(tz),
        "received_at": received,
        "zone": zone_label(received),
        "on_time": timeliness(facts.received_at, extended or campaign.deadline) is UnitState.ON_TIME,
        "files": [{"filename": a["filename"], "note": file_note(a, facts.has_report).value} for a in facts.files],
        "has_report": facts.has_report,
        "section_found": bool(section and section.found),
        "heading": section.heading if section and section.found else None,
        "problems": list(facts.problems),
        "reference": facts.reference,
        "office": sending.from_name or sending.from_address,
        "corrected": False,  # a corrected acknowledgement staff asked for (`Pipeline.corrected_ack`)
    }


def compose_ack(env: Environment, plan: AckPlan, sending: SendingConfig, now: dt.datetime,
                dedupe_key: str | None = None) -> OutgoingMail:
    """The acknowledgement rendered and ready to queue (pending, or skipped with the reason); under
    `dedupe_key` when it is not the message's first (a corrected one), else `ack_key`."""
    composed = compose(env, plan.template, dict(plan.context), from_address=sending.from_address,
                       from_name=sending.from_name, to_address=plan.to_address, to_name=plan.to_name,
                       subject=plan.subject, now=now, in_reply_to=plan.in_reply_to, references=plan.references)
    return OutgoingMail(kind=OutgoingKind.ACK, dedupe_key=dedupe_key or ack_key(plan.message_pk),
                        to_address=plan.to_address, subject=composed.subject, our_message_id=composed.message_id,
                        raw=composed.raw,
                        created_at=now, state=OutgoingState.SKIPPED if plan.skip_reason else OutgoingState.PENDING,
                        reason=plan.skip_reason, message_pk=plan.message_pk, unit_id=plan.unit_id,
                        campaign_id=plan.campaign_id)


def not_composed(plan: AckPlan, reason: str, now: dt.datetime) -> OutgoingMail:
    """The acknowledgement that could not be composed, recorded failed with why (no bytes to send)."""
    return OutgoingMail(kind=OutgoingKind.ACK, dedupe_key=ack_key(plan.message_pk), to_address=plan.to_address,
                        subject=plan.subject, our_message_id="", raw=b"", created_at=now,
                        state=OutgoingState.FAILED, reason=f"{NOT_COMPOSED}: {reason}",
                        message_pk=plan.message_pk, unit_id=plan.unit_id, campaign_id=plan.campaign_id)
