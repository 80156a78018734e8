"""From a guideline's facts to a campaign form: what `campaign add --from-guideline` and the
dashboard's upload fill in, and what staff still have to give.

Pure: facts and the office's zone in, a `CampaignForm` (and Vietnamese reasons) out. Values
staff typed always win over the guideline's; a value neither gives is reported with the
option that supplies it and, for the deadline, the dates the guideline holds.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from typing import Final

from intake.parsers.errors import UsageError
from intake.parsers.guideline import DateRole, GuidelineFacts, Sourced
from intake.processor.catalog_edit import CampaignForm
from intake.processor.guidance import template_from_guideline
from intake.processor.guideline import ROLE_TEXT

__all__ = ["Highlight", "form_from_guideline", "highlight", "missing_values", "overridden", "require_complete"]

# The form's fields a guideline can fill, with the option that gives each and what staff call it.
FIELDS: Final = (("title", "--title", "tên đợt"), ("deadline", "--deadline", "hạn nộp"),
                 ("section", "--section", "mục bắt buộc"))


def form_from_guideline(facts: GuidelineFacts) -> CampaignForm:
    """The values the guideline gives: title, deadline (ISO with its offset, exact), required section,
    outline; the campaign opens on the guideline's own date when it has one (else None: now)."""
    issued = next((c.when for c in facts.deadline_candidates if c.role is DateRole.DOCUMENT_DATE), None)
    return CampaignForm(
        title=facts.title.value if facts.title else None,
        opens=issued.replace(hour=0, minute=0, second=0).isoformat() if issued else None,
        deadline=facts.deadline.isoformat() if facts.deadline else None,
        section=facts.section_title.value if facts.section_title else None,
        outline=template_from_guideline(facts.outline) or None,
    )


def overridden(base: CampaignForm, typed: CampaignForm) -> CampaignForm:
    """`base` (from the guideline) with every value staff typed in its place."""
    given = {f.name: getattr(typed, f.name) for f in dataclasses.fields(typed) if getattr(typed, f.name) is not None}
    return dataclasses.replace(base, **given)


def missing_values(form: CampaignForm) -> list[tuple[str, str]]:
    """(option, what staff call it) of each value the form still lacks."""
    return [(flag, label) for name, flag, label in FIELDS if not (getattr(form, name) or "").strip()]


def require_complete(form: CampaignForm, facts: GuidelineFacts, tz: dt.tzinfo) -> None:
    """UsageError naming each value still missing, its option, and the dates the guideline holds."""
    missing = missing_values(form)
    if not missing:
        return
    lines = [f"hướng dẫn không nêu rõ {label}: hãy ghi {flag}" for flag, label in missing]
    if any(flag == "--deadline" for flag, _ in missing) and facts.deadline_candidates:
        reasons = ROLE_TEXT["vi"]
        lines.append("các ngày trong văn bản:")
        lines.extend(f"  «{c.written}» → {c.when.astimezone(tz).strftime('%d/%m/%Y %H:%M')}: {reasons[c.role]}"
                     for c in facts.deadline_candidates)
    raise UsageError("\n".join(lines))


@dataclass(frozen=True)
class Highlight:
    """A value's source sentence cut around the value, for `<mark>`."""

    before: str
    value: str
    after: str


def highlight(source: Sourced | None) -> Highlight | None:
    if source is None:
        return None
    start = max(0, source.start - source.sentence_start)
    end = max(start, source.end - source.sentence_start)
    text = source.sentence
    return Highlight(text[:start], text[start:end], text[end:])
