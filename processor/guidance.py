"""A campaign's đề cương (the template of `parsers.guide.Guide`; `processor.teaching.campaign_guide` builds the Guide).

A campaign's outline is a list of the template's headings as the guideline
writes them ("I. KẾT QUẢ …", "1. …"); their levels come from the numbering
(Roman above "1." above "a)"), ranked so that the top kind present is level 1.
The required part is the heading the section title matches best, or the one
staff named. Without an outline the Guide is empty and nothing changes.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from intake.parsers.errors import UsageError
from intake.parsers.guide import TemplateHeading, similarity
from intake.parsers.guideline import OutlineItem
from intake.parsers.layout import strip_numbering
from intake.parsers.structure import number_level
from intake.parsers.vietnamese import fold

__all__ = ["MIN_REQUIRED_MATCH", "required_of", "template_from_guideline", "template_of"]

# Below this wording F1 with the section title no heading is taken as the required part by itself.
MIN_REQUIRED_MATCH: Final = 0.3


def template_of(headings: Sequence[str]) -> tuple[TemplateHeading, ...]:
    """The template of headings written with their numbers; a heading without one raises UsageError."""
    levels: list[int] = []
    for text in headings:
        level = number_level(text.strip())
        if level is None:
            raise UsageError(f"\"{text}\": đề mục của đề cương phải có số thứ tự (I., 1., a)…)")
        levels.append(level)
    ranks = sorted(set(levels))
    return tuple(TemplateHeading(" ".join(text.split()), ranks.index(level) + 1)
                 for text, level in zip(headings, levels, strict=True))


def template_from_guideline(outline: Sequence[OutlineItem]) -> tuple[TemplateHeading, ...]:
    """The template of the outline a guideline attaches (`GuidelineFacts.outline`, levels already ranked)."""
    return tuple(TemplateHeading(f"{item.number} {item.title}".strip(), item.level) for item in outline)


def required_of(template: Sequence[TemplateHeading], section_title: str, named: str | None = None) -> int | None:
    """Index of the required part: the heading `named` (its number or its words), else the heading
    the section title matches best (None when none matches well enough)."""
    if not template:
        return None
    if named is not None and named.strip():
        key = fold(" ".join(named.split()))
        for k, heading in enumerate(template):
            number, words = strip_numbering(heading.text)
            if key in (fold(heading.text), fold(words)) or (number and key == fold(number)):
                return k
        raise UsageError(f"\"{named}\": không có đề mục này trong đề cương")
    title = fold(section_title)
    scores = [similarity(fold(strip_numbering(h.text)[1]), title) for h in template]
    best = max(range(len(template)), key=lambda k: scores[k])
    return best if scores[best] >= MIN_REQUIRED_MATCH else None
