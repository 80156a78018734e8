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
from dataclasses import dataclass
from typing import Any

from intake.parsers.model import Attachment, FileKind, Outline, ParsedEmail, Problem, SectionResult
from intake.parsers.section import find_section, section_at
from intake.processor.config import CampaignConfig
from intake.processor.ingest.attribution import (
    Rules,
    campaign_by_time,
    identify_sender,
    match_problems,
    reference_number,
)
from intake.processor.sending.acknowledge import AckFacts, AckPlan, plan_ack
from intake.store.kinds import MatchMethod, MessageState
from intake.store.records import AttachmentRecord, KnownFacts, MessageRecord

NO_CAMPAIGN_TAKES = "no campaign takes this message (none in the catalog, or all closed)"
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


def decide(message_pk: int, received_at: dt.datetime, parsed: ParsedEmail,
           reads: Sequence[ReadAttachment], rules: Rules, facts: KnownFacts, now: dt.datetime,
           found: Mapping[tuple[int, str], SectionResult] | None = None) -> Verdict:
    """SPEC's rules applied to one message (see the module's doc). `found`: sections the document
    stage already found, by (attachment position, campaign id); the rest are found here."""
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
        return Verdict(record=record, ack=None, no_ack=NO_CAMPAIGN_TAKES, sections=sections)
    ack_facts = AckFacts(
        message_pk=message_pk, received_at=received_at, reference=record.reference, unit_id=match.unit_id,
        unit_name=rules.unit_name(match.unit_id), has_word_file=record.has_word_file,
        has_report=record.has_report, files=files_summary(reads, report), section=record.section,
        problems=[p.value for p in problems],
        extended_until=facts.extensions.get((match.unit_id, campaign.id)) if match.unit_id else None,
        acknowledged=facts.acknowledged, recent_to_sender=facts.recent_to_sender)
    ack, no_ack = plan_ack(rules.acknowledge, rules.sending, rules.timezone, parsed, campaign, ack_facts, now)
    return Verdict(record=record, ack=ack, no_ack=no_ack, sections=sections)


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
    problems.extend(match_problems(match_method))
    return problems


def files_summary(reads: Sequence[ReadAttachment], report: ReadAttachment | None) -> list[dict[str, Any]]:
    return [{"filename": r.attachment.filename or f"(tệp {r.position + 1})", "is_report": r is report,
             "problem": r.problem.value if r.problem else None, "kind": r.kind.value} for r in reads]


def _attachment(read: ReadAttachment, is_report: bool) -> AttachmentRecord:
    att = read.attachment
    return AttachmentRecord(position=read.position, filename=att.filename, content_type=att.content_type,
                            data=att.data, kind=read.kind.value, problem=read.problem, detail=read.detail,
                            is_report=is_report)
