"""What staff's choices of section teach the finder of their campaign (issue 24).

A staff choice of a heading (`section choose`, the dashboard) keeps, with its
SECTION decision, the exemplar the heading teaches (`parsers.guide.Exemplar`:
wording, numbering kind, depth, place among its siblings). Every active
choice's exemplar reaches the finder of that campaign through the campaign's
`Guide` (`campaign_guide`), in the pipeline and in the document workers.

When staff choose, the campaign's other reports that the finder left for
review or did not find the section in are evaluated again at once; each one
whose answer changed gets a LEARNED decision naming the choice it learned
from. Revoking a LEARNED decision puts back the finder's answer without that
lesson for that report (`KnownFacts.unlearned`); revoking the staff choice
revokes every LEARNED decision that followed it and evaluates those reports
again without it. A change sends no acknowledgement: staff may send a
corrected one (`Office.send_corrected_ack`).
"""
from __future__ import annotations

import dataclasses
from collections.abc import Collection, Sequence
from typing import Any

import msgspec

from intake.parsers.guide import Exemplar, Guide
from intake.parsers.model import Confidence
from intake.processor.config import CampaignConfig
from intake.store.views import Lesson, MessageView, SectionView

__all__ = ["answer_changed", "campaign_guide", "corrected_ack_key", "exemplar_json", "exemplars_of", "learned_reason",
           "needs_help"]

def campaign_guide(campaign: CampaignConfig, exemplars: Sequence[Exemplar]) -> Guide | None:
    """What the campaign teaches its finder; None (nothing changes) when it teaches nothing.
    The one place a campaign's Guide is built: the guideline's outline joins it here."""
    template = campaign.outline if campaign.outline_required is not None else ()
    if not exemplars and not template:
        return None
    return Guide(exemplars=tuple(exemplars), template=tuple(template),
                 required=campaign.outline_required if template else None)


def exemplar_json(exemplar: Exemplar) -> dict[str, Any]:
    return dataclasses.asdict(exemplar)


def exemplars_of(lessons: Sequence[Lesson], campaign_id: str, unlearned: Collection[int] = ()) -> list[Exemplar]:
    """The exemplars of the campaign's active staff choices, but those revoked for one report (`unlearned`)."""
    return [msgspec.convert(lesson.exemplar, Exemplar) for lesson in lessons
            if lesson.campaign_id == campaign_id and lesson.decision_id not in unlearned]


def needs_help(view: MessageView) -> bool:
    """A report the finder left for review or found no section in, that staff did not choose for."""
    if not any(a.is_report for a in view.attachments) or view.campaign_id is None:
        return False
    section = view.section
    if section is not None and section.chosen_by == "staff":
        return False
    return section is None or not section.found or section.confidence == Confidence.REVIEW


def _answer(section: SectionView | None) -> tuple[bool, str | None, str]:
    if section is None:
        return False, None, ""
    return section.found, section.heading if section.found else None, section.confidence


def answer_changed(before: SectionView | None, after: SectionView | None) -> bool:
    return _answer(before) != _answer(after)


def corrected_ack_key(message_pk: int, learned_id: int) -> str:
    """The dedupe key of a corrected acknowledgement: once per LEARNED change of a message."""
    return f"ack-corrected:{message_pk}:{learned_id}"


def describe(section: SectionView | None) -> str:
    """The finder's answer in staff's words."""
    found, heading, confidence = _answer(section)
    if not found:
        return "chưa tìm thấy"
    return f"“{heading}”" + (" (cần xem lại)" if confidence == Confidence.REVIEW else "")


def learned_reason(source_reference: str | None, chosen_by: str, before: SectionView | None,
                   after: SectionView | None) -> str:
    """'học từ TN24-00012, do hoa chọn: chưa tìm thấy → “III. …”'"""
    by = f", do {chosen_by} chọn" if chosen_by else ""
    return f"học từ {source_reference or '?'}{by}: {describe(before)} → {describe(after)}"
