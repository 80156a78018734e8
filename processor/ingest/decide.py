"""The decision step: what one message is, decided from values alone (no store, no clock, no I/O).

`decide` takes the parsed message, its attachments as read, the rules from
the config, what the store knows (`KnownFacts`) and the time, and returns a
`Verdict`: the unit and how it was matched, the campaign, which attachment
is the report, its section, the problems, and the acknowledgement to queue
or why there is none. The pipeline reads the inputs and records the verdict
(`Store.record`) in one transaction; the rules of SPEC's "Rules" section are
all here and tested without a database (tests/test_decide.py).
"""
from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from intake.parsers.model import Attachment, FileKind, Outline, ParsedEmail, Problem, SectionResult
from intake.parsers.section import find_section, section_at
from intake.parsers.unit import UnitMatch, UnitName, address_key, identify_unit
from intake.processor.config import AcknowledgeConfig, CampaignConfig, Config, SendingConfig, UnitConfig
from intake.processor.sending.acknowledge import AckFacts, AckPlan, AckPolicy, plan_ack
from intake.store.kinds import MatchMethod, MessageState
from intake.store.records import AttachmentRecord, KnownFacts, MessageRecord

if TYPE_CHECKING:  # the decision stays pure: the catalog arrives as values
    from intake.processor.catalog import Catalog

UNREADABLE_EMAIL = "not a readable email"
NO_CAMPAIGN = "no campaign takes this message (none in the catalog, or all closed)"
STAFF_NO_SECTION = "staff: no section in this report"


@dataclass(frozen=True)
class ReadAttachment:
    """One attachment as the document stage left it: its outline, or why there is none."""

    position: int
    attachment: Attachment
    kind: FileKind
    word: bool
    outline: Outline | None = None
    problem: Problem | None = None
    detail: str | None = None


@dataclass(frozen=True)
class Rules:
    """The parts of the config and of the catalog the decision depends on."""

    units: tuple[UnitConfig, ...]
    campaigns: tuple[CampaignConfig, ...]
    policy: AckPolicy
    acknowledge: AcknowledgeConfig
    sending: SendingConfig
    timezone: ZoneInfo
    names: tuple[UnitName, ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "names", tuple(UnitName(u.id, (u.name, *u.aliases)) for u in self.units))

    @classmethod
    def for_config(cls, cfg: Config, catalog: Catalog) -> Rules:
        return cls(units=catalog.units, campaigns=catalog.campaigns, policy=AckPolicy.for_config(cfg),
                   acknowledge=cfg.acknowledge, sending=cfg.sending, timezone=cfg.timezone)

    def unit_name(self, unit_id: str | None) -> str | None:
        return next((u.name for u in self.units if u.id == unit_id), None)


@dataclass(frozen=True)
class Verdict:
    """Everything decided about one message: what the store records, and the acknowledgement."""

    record: MessageRecord
    ack: AckPlan | None
    no_ack: str | None                                   # why no acknowledgement, when `ack` is None
    sections: Mapping[tuple[int, str], SectionResult]    # (attachment position, campaign id) -> finder's result

    @property
    def unit_id(self) -> str | None:
        return self.record.unit_id

    @property
    def campaign_id(self) -> str | None:
        return self.record.campaign_id

    @property
    def problems(self) -> tuple[Problem, ...]:
        return self.record.problems

    @property
    def report_position(self) -> int | None:
        return self.record.report_position

    @property
    def section(self) -> SectionResult | None:
        return self.record.section


def reference_number(message_pk: int, received_at: dt.datetime) -> str:
    """The number the acknowledgement gives the sender: TN24-00005."""
    return f"TN{received_at:%y}-{message_pk:05d}"


def decide(message_pk: int, received_at: dt.datetime, parsed: ParsedEmail | None,
           reads: Sequence[ReadAttachment], rules: Rules, facts: KnownFacts, now: dt.datetime,
           found: Mapping[tuple[int, str], SectionResult] | None = None) -> Verdict:
    """SPEC's rules applied to one message (see the module's doc). `found`: sections the document
    stage already found, by (attachment position, campaign id); the rest are found here."""
    if parsed is None:
        camp = campaign_by_time(rules, received_at, None)
        record = MessageRecord(state=MessageState.PROCESSED, processed_at=now, problems=(Problem.NO_ATTACHMENT,),
                               error=UNREADABLE_EMAIL, campaign_id=camp.id if camp is not None else None)
        return Verdict(record=record, ack=None, no_ack=UNREADABLE_EMAIL, sections={})
    base = MessageRecord(state=MessageState.PROCESSED, processed_at=now, from_address=parsed.from_address,
                         from_name=parsed.from_name, subject=parsed.subject, date_header=parsed.date_header,
                         has_word_file=any(r.word for r in reads),
                         reference=reference_number(message_pk, received_at),
                         # Shown to staff beside the message: why its body was not read, or why nobody can be
                         # answered (an unmatched message then says why).
                         error="; ".join(x for x in (parsed.body_unparsed, parsed.sender_problem) if x) or None)
    ignore = rules.policy.never_acknowledge(parsed)
    if ignore is not None:
        record = dataclasses.replace(base, state=MessageState.IGNORED, ignore_reason=ignore[:200],
                                     attachments=tuple(_attachment(r, False) for r in reads))
        return Verdict(record=record, ack=None, no_ack=f"never acknowledged: {ignore}", sections={})

    known = found or {}
    sections = {(r.position, c.id): known.get((r.position, c.id))
                or find_section(r.outline, c.section_title, c.section_keywords)
                for r in reads if r.outline is not None for c in rules.campaigns}
    report, campaign = choose_report(reads, rules.campaigns, sections)
    issuer = next((r.outline.issuer for r in (report, *reads)
                   if r is not None and r.outline is not None and r.outline.issuer), None)
    match = identify_sender(rules, facts.registered, parsed, issuer)
    if campaign is None:
        campaign = campaign_by_time(rules, received_at, match.unit_id)
    section = sections.get((report.position, campaign.id)) if report is not None and campaign is not None else None
    pinned = staff_section(facts, reads, rules.campaigns)
    if pinned is not None:
        report, campaign, chosen = pinned
        finder = sections.get((report.position, campaign.id))
        # The finder's candidates stay listed beside the staff's choice, so it can be changed again.
        section = dataclasses.replace(chosen, candidates=finder.candidates if finder is not None else ())
    problems = tuple(problems_of(reads, report, section, match.method))
    if parsed.body_unparsed:  # too large, or over the parse limits: the files are there, unread
        problems = (Problem.UNREADABLE_ATTACHMENT, *(p for p in problems if p != Problem.NO_ATTACHMENT))
    record = dataclasses.replace(
        base, unit_id=match.unit_id, match=MatchMethod(match.method),
        campaign_id=campaign.id if campaign is not None else None, problems=problems, has_report=report is not None,
        attachments=tuple(_attachment(r, r is report) for r in reads),
        report_position=report.position if report is not None else None,
        section=section if report is not None else None,
        issuer=report.outline.issuer if report is not None and report.outline is not None else None)
    if campaign is None:  # recorded, with its unit, for staff to see; there is no deadline to acknowledge against
        return Verdict(record=record, ack=None, no_ack=NO_CAMPAIGN, sections=sections)
    ack_facts = AckFacts(
        message_pk=message_pk, received_at=received_at, reference=record.reference, unit_id=match.unit_id,
        unit_name=rules.unit_name(match.unit_id), has_word_file=record.has_word_file,
        has_report=record.has_report, files=files_summary(reads, report), section=record.section,
        problems=[p.value for p in problems],
        extended_until=facts.extensions.get((match.unit_id, campaign.id)) if match.unit_id else None,
        acknowledged=facts.acknowledged, recent_to_sender=facts.recent_to_sender)
    ack, no_ack = plan_ack(rules.acknowledge, rules.sending, rules.timezone, parsed, campaign, ack_facts, now)
    return Verdict(record=record, ack=ack, no_ack=no_ack, sections=sections)


def identify_sender(rules: Rules, registered: Mapping[str, str], parsed: ParsedEmail,
                    issuer: str | None) -> UnitMatch:
    """SPEC: a registered address wins (case-insensitively, Gmail's dots and +tags aside); then the
    document's issuer or the display name, matched against names and aliases."""
    keyed = {address_key(a): u for a, u in registered.items()}
    return identify_unit(keyed, rules.names, parsed.from_address, parsed.from_name, issuer)


def choose_report(reads: Sequence[ReadAttachment], campaigns: Sequence[CampaignConfig],
                  sections: Mapping[tuple[int, str], SectionResult],
                  ) -> tuple[ReadAttachment | None, CampaignConfig | None]:
    """SPEC: the Word file that holds the section (best score over the campaigns), else the largest
    readable one. The campaign is returned when a section decided it."""
    readable = [r for r in reads if r.outline is not None]
    if not readable:
        return None, None
    best: tuple[float, ReadAttachment, CampaignConfig] | None = None
    for read in readable:
        for camp in campaigns:
            sec = sections.get((read.position, camp.id))
            if sec is not None and sec.found and (best is None or sec.score > best[0]):
                best = (sec.score, read, camp)
    if best is not None:
        return best[1], best[2]
    return max(readable, key=lambda r: len(r.attachment.data)), None


def campaign_by_time(rules: Rules, received_at: dt.datetime, unit_id: str | None) -> CampaignConfig | None:
    """The campaign open at the received time (earliest deadline first), preferring one that
    expects the unit; else the nearest deadline. A campaign closed by then takes nothing by time;
    None when no campaign is left."""
    camps = sorted((c for c in rules.campaigns if c.closed_at is None or received_at < c.closed_at),
                   key=lambda c: c.deadline)
    if not camps:
        return None
    open_ = [c for c in camps if c.opens <= received_at] or camps
    if unit_id is not None:
        expecting = [c for c in open_ if unit_id in c.unit_ids(rules.units)]
        open_ = expecting or open_
    pending = [c for c in open_ if received_at < c.deadline]
    return (pending or open_[::-1])[0]


def staff_section(facts: KnownFacts, reads: Sequence[ReadAttachment], campaigns: Sequence[CampaignConfig],
                  ) -> tuple[ReadAttachment, CampaignConfig, SectionResult] | None:
    """The staff's choice of section (`section choose`): it outlives every re-evaluation."""
    choice = facts.section_choice
    camp = next((c for c in campaigns if c.id == facts.earlier_campaign), None)
    if choice is None or camp is None:
        return None
    read = next((r for r in reads if r.position == choice.position), None)
    if read is None or read.outline is None:
        return None
    if choice.block is None:
        return read, camp, SectionResult(found=False, reason=STAFF_NO_SECTION, chosen_by="staff")
    if not 0 <= choice.block < len(read.outline.blocks):
        return None
    return read, camp, section_at(read.outline, choice.block)


def problems_of(reads: Sequence[ReadAttachment], report: ReadAttachment | None, section: SectionResult | None,
                match_method: str) -> list[Problem]:
    """SPEC's problem codes, in SPEC's order. Files beside a readable report raise none."""
    problems: list[Problem] = []
    if report is None:
        words = [r for r in reads if r.word]
        if not reads:
            problems.append(Problem.NO_ATTACHMENT)
        elif not words:
            problems.append(Problem.UNSUPPORTED_ATTACHMENT)
        else:
            for problem in (Problem.ENCRYPTED_ATTACHMENT, Problem.UNREADABLE_ATTACHMENT,
                            Problem.UNSUPPORTED_ATTACHMENT):
                if any(r.problem == problem for r in words):
                    problems.append(problem)
    elif section is None or not section.found:
        problems.append(Problem.SECTION_NOT_FOUND)
    if match_method in (MatchMethod.DOCUMENT_HEADER, MatchMethod.DISPLAY_NAME):
        problems.append(Problem.SENDER_NOT_REGISTERED)
    return problems


def files_summary(reads: Sequence[ReadAttachment], report: ReadAttachment | None) -> list[dict[str, Any]]:
    return [{"filename": r.attachment.filename or f"(tệp {r.position + 1})", "is_report": r is report,
             "problem": r.problem.value if r.problem else None, "kind": r.kind.value} for r in reads]


def _attachment(read: ReadAttachment, is_report: bool) -> AttachmentRecord:
    att = read.attachment
    return AttachmentRecord(position=read.position, filename=att.filename, content_type=att.content_type,
                            data=att.data, kind=read.kind.value, problem=read.problem, detail=read.detail,
                            is_report=is_report)
