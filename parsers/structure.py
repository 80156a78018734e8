"""The format-independent step of reading a report: raw blocks with their
formatting facts in, a typed `Outline` out.

A reader (today `word.read_ooxml`) walks its file format and emits
`RawParagraph` and `RawTable` blocks in document order: the text as written
(legacy fonts already converted, soft breaks as "\n", tabs kept), the
rendered automatic numbering, the style name, the outline level its style or
paragraph gives, and the bold/all-caps/size/alignment facts. `infer` decides
from those facts alone the heading levels, the issuing body in the header and
title block, and where the closing block starts; the numbering grammar,
bullets and closing formulas it relies on live in `layout`.

Pure: no I/O, no knowledge of OOXML.
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from .layout import BULLET, NumberKind, split_number
from .model import Block, BlockKind, Outline
from .vietnamese import clean, fold

__all__ = ["RawBlock", "RawCell", "RawParagraph", "RawTable", "infer", "number_level"]


@dataclass(frozen=True)
class RawParagraph:
    """One paragraph as a reader saw it, before any inference."""

    text: str                 # converted, "\n" for soft breaks, tabs kept, not yet cleaned
    style: str = ""           # style name ("" when none)
    style_level: int | None = None  # 1-based level from a heading style or an outline level
    numbering: str = ""       # rendered automatic numbering ("II.", "1.2", "a)")
    num_ilvl: int | None = None     # list level when the paragraph has automatic numbering
    bullet: bool = False      # automatic bullet
    bold: bool = False        # (nearly) all visible characters bold
    left_bold: bool = False   # the part before the first tab is bold
    caps: bool = False        # all-caps formatting on (nearly) all visible characters
    size: int | None = None   # largest font size (half-points)
    centered: bool = False


@dataclass(frozen=True)
class RawCell:
    items: tuple[RawBlock, ...] = ()   # empty for a vertically merged continuation


@dataclass(frozen=True)
class RawTable:
    rows: tuple[tuple[RawCell, ...], ...] = ()


RawBlock = RawParagraph | RawTable


# ---------------------------------------------------------------- headings

_BULLET = BULLET
_LEVEL_OF_KIND: dict[NumberKind, int] = {
    NumberKind.PART: 0, NumberKind.CHAPTER: 0, NumberKind.UPPER: 0, NumberKind.ROMAN: 1, NumberKind.ARTICLE: 1,
    NumberKind.ARABIC: 2, NumberKind.DECIMAL2: 3, NumberKind.DECIMAL3: 4, NumberKind.LETTER: 4,
    NumberKind.PAREN: 4,
}


def number_level(text: str) -> int | None:
    """Level implied by a typed or rendered number prefix, None when there is none.

    0 for parts ("PHẦN I", "A."), 1 Roman and articles, 2 "1."/"1-"/"1/", 3 "1.1",
    4 "1.1.1", "a)" and "1)". The grammar itself lives in `layout.number_kind`.
    """
    number, _rest = split_number(text)
    if number is None:
        return None
    return _LEVEL_OF_KIND.get(number.kind)


def _words(text: str) -> int:
    return len(text.split())


def _is_upper_text(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    return len(letters) >= 3 and all(c.isupper() for c in letters)


@dataclass
class _Candidate:
    """A paragraph (or a one-cell table read as one) on its way to a Block."""

    para: RawParagraph
    text: str           # cleaned, soft breaks as spaces
    explicit: int | None = None
    formatting: bool = False
    caps: bool = False


def _classify(cand: _Candidate) -> None:
    para = cand.para
    text = cand.text
    if not text or para.bullet or (not para.numbering and _BULLET.match(text)):
        return
    words = _words(text)
    if text.rstrip().endswith((";", ",")):
        return
    level: int | None = None
    if para.numbering:
        level = number_level(para.numbering + " ")
    typed = number_level(text)
    if level is None:
        level = typed
    if level is not None and words <= 30:
        cand.explicit = level
        return
    if para.style_level is not None and words <= 60:
        cand.explicit = para.style_level
        return
    if para.num_ilvl is not None and level is None and words <= 30:
        cand.explicit = para.num_ilvl + 1
        return
    if level is not None:
        return  # a numbered sentence of body text
    upper = _is_upper_text(text) or para.caps
    if para.bold and words <= 25 and not para.centered and not text.endswith("."):
        cand.formatting = True
        cand.caps = upper
    elif para.bold and upper and words <= 25 and not para.centered:
        cand.formatting = True
        cand.caps = True


def _assign_levels(cands: list[_Candidate | None]) -> list[int | None]:
    """Turn explicit levels and formatting-only headings into final levels."""
    explicit = [c.explicit for c in cands if c is not None and c.explicit is not None]
    levels: list[int | None] = []
    if explicit:
        shift = 1 if min(explicit) == 0 else 0
        top = min(explicit) + shift
        previous: int | None = None
        for cand in cands:
            if cand is None:
                levels.append(None)
            elif cand.explicit is not None:
                previous = cand.explicit + shift
                levels.append(previous)
            elif cand.formatting:
                if cand.caps or previous is None:
                    levels.append(top)
                else:
                    levels.append(previous + 1)
            else:
                levels.append(None)
        return levels
    # No numbering or heading styles at all: rank by size, then capitals.
    signatures = sorted(
        {(c.para.size or 0, c.caps) for c in cands if c is not None and c.formatting}, reverse=True
    )
    rank = {sig: i + 1 for i, sig in enumerate(signatures)}
    for cand in cands:
        if cand is not None and cand.formatting:
            levels.append(rank[(cand.para.size or 0, cand.caps)])
        else:
            levels.append(None)
    return levels


# ---------------------------------------------------------------- text


def _para_text(para: RawParagraph) -> str:
    return clean(para.text.replace("\n", " "), typography=True).strip()


def _cell_text(cell: RawCell) -> str:
    parts: list[str] = []
    for item in cell.items:
        if isinstance(item, RawParagraph):
            text = _para_text(item)
        else:
            text = "\n".join(
                " ".join(t for t in (_cell_text(c).replace("\n", " ") for c in row) if t)
                for row in item.rows
            )
        if text.strip():
            parts.append(text.strip())
    return "\n".join(parts)


def _single_cell_para(table: RawTable) -> RawParagraph | None:
    """The paragraph of a one-cell table holding one short paragraph, if any."""
    cells = [c for row in table.rows for c in row]
    if len(cells) != 1:
        return None
    paras = [i for i in cells[0].items if isinstance(i, RawParagraph) and i.text.strip()]
    if len(paras) != 1 or len(cells[0].items) != len(paras):
        return None
    return paras[0]


# ---------------------------------------------------------------- header


_LOCATION_START = ("tinh ", "huyen ", "thanh pho ", "thi xa ", "quan ", "xa ", "phuong ", "thi tran ",
                   "truong ", "nganh ")
_GENERIC_END = ("lao dong", "cong doan", "co so", "ldld", "lien doan", "giao duc", "truong")


def _header_line_kept(line: str) -> bool:
    key = fold(line)
    if not any(c.isalpha() for c in key):
        return False
    raw = clean(line).casefold()
    if re.match(r"^s[ốô]\s*[:.]|^s[ốô]\s*\d", raw) or raw.startswith(("v/v", "về việc")):
        return False
    return not ("cong hoa" in key or "doc lap" in key or "hanh phuc" in key)


def _pick_issuer(lines: list[tuple[str, bool]]) -> str | None:
    kept = [(clean(t).strip(), b) for t, b in lines if _header_line_kept(t)]
    kept = [(t, b) for t, b in kept if t]
    if not kept:
        return None
    # Join a body name that a line break split ("LIÊN ĐOÀN LAO ĐỘNG" / "TỈNH LÀO CAI").
    merged: list[tuple[str, bool]] = []
    for text, bold in kept:
        if merged and fold(merged[-1][0]).endswith(_GENERIC_END) and (fold(text) + " ").startswith(
            _LOCATION_START
        ):
            merged[-1] = (merged[-1][0] + " " + text, merged[-1][1] and bold)
        else:
            merged.append((text, bold))
    if len(merged) == 1:
        return merged[0][0]
    bold_lines = [t for t, b in merged if b]
    if bold_lines and len(bold_lines) < len(merged) and not merged[0][1]:
        return " ".join(bold_lines)
    return " ".join(t for t, _ in merged[1:])


def _para_lines(para: RawParagraph) -> list[tuple[str, bool]]:
    return [(line, para.bold or para.left_bold) for line in para.text.split("\n")]


def _is_national(text: str) -> bool:
    key = fold(text[:300])
    return "cong hoa xa hoi" in key or "doc lap - tu do" in key or "doc lap tu do" in key


def _find_issuer(items: list[RawBlock]) -> tuple[str | None, int]:
    """The issuing unit and the number of leading items the header takes."""
    head = items[:8]
    for index, item in enumerate(head[:4]):
        if isinstance(item, RawTable) and item.rows:
            texts = [_cell_text(c) for row in item.rows for c in row]
            if not any(_is_national(t) for t in texts) and not any(
                fold(t).startswith("so") and "/" in t for t in texts
            ):
                continue
            if not all(len(row) >= 2 for row in item.rows[:1]):
                continue
            lines: list[tuple[str, bool]] = []
            for row in item.rows:
                if not row:
                    continue
                for sub in row[0].items:
                    if isinstance(sub, RawParagraph):
                        lines.extend(_para_lines(sub))
            return _pick_issuer(lines), index + 1
    for index, item in enumerate(head):
        if isinstance(item, RawParagraph) and _is_national(item.text):
            tabbed = "\t" in item.text.strip()
            lines = []
            end = index
            if tabbed:
                # Header laid out with tabs: the left part of each line.
                end = index
                for later in head[index:]:
                    if not isinstance(later, RawParagraph) or "\t" not in later.text.strip():
                        break
                    left = later.text.strip().split("\t", 1)[0]
                    lines.append((left, later.left_bold))
                    end += 1
            before = [i for i in head[:index] if isinstance(i, RawParagraph)]
            prefix: list[tuple[str, bool]] = []
            for para in before:
                prefix.extend(_para_lines(para))
            return _pick_issuer(prefix + lines), max(end, index + 1)
    return None, 0


# ---------------------------------------------------------------- entry point


def infer(raw: Sequence[RawBlock], legacy_encodings: tuple[str, ...] = ()) -> Outline:
    """Heading levels, title/header block and closing block from raw blocks."""
    items = [i for i in raw if not (isinstance(i, RawParagraph) and not i.text.strip())]

    issuer, header_items = _find_issuer(items)

    # One candidate per item; None for tables that stay tables.
    cands: list[_Candidate | None] = []
    after_title = False
    for index, item in enumerate(items):
        para = item if isinstance(item, RawParagraph) else _single_cell_para(item)
        if para is None:
            cands.append(None)
            continue
        cand = _Candidate(para, _para_text(para))
        if index >= header_items and not (isinstance(item, RawParagraph) and "\t" in item.text.strip()
                                         and number_level(cand.text) is None):
            _classify(cand)
        is_title = len(cand.text) < 20 and fold(cand.text) == "bao cao"
        if cand.formatting and (is_title or after_title):
            # The document title ("BÁO CÁO" and its subject line) is no section heading.
            cand.formatting = False
        after_title = is_title
        if isinstance(item, RawTable) and cand.explicit is None and not cand.formatting:
            cands.append(None)  # a boxed note, not a heading: keep it a table
            continue
        cands.append(cand)
    levels = _assign_levels(cands)

    blocks: list[Block] = []
    for item, final, level in zip(items, cands, levels, strict=True):
        if final is not None:
            if not final.text:
                continue
            blocks.append(Block(BlockKind.PARAGRAPH, final.text, numbering=final.para.numbering, level=level,
                                style=final.para.style, bold=final.para.bold))
        elif isinstance(item, RawTable):
            rows = tuple(tuple(_cell_text(c) for c in row) for row in item.rows)
            rows = tuple(row for row in rows if any(row))
            if not rows:
                continue
            text = "\n".join("\t".join(cell.replace("\n", " ") for cell in row) for row in rows)
            blocks.append(Block(BlockKind.TABLE, text, rows=rows))
    for block in blocks:
        _ = block.folded  # the matching key, computed once here for every later use
    return Outline(
        blocks=tuple(blocks),
        issuer=issuer,
        legacy_encodings=legacy_encodings,
    )
