"""The layout of a Vietnamese administrative report, independent of the file format.

One place for what a heading looks like and where a report's parts start and
end: numbering grammars (parts, Roman, Arabic, decimal, letters, "(1)",
articles "Điều 6.", ordinals "Thứ nhất", asterisks), bullets, the title block,
the preamble and the closing block. `build_tree` turns an `Outline` into the
tree of sections the finder scores.

Tree rules:

* A heading is a paragraph that carries a number (typed or Word's automatic
  one) and reads as a title (short, or "run in": a short head before a colon
  followed by text), or an unnumbered short paragraph the reader sees as a
  heading (heading style/outline level, bold, an asterisk or an ordinal
  "Thứ hai là, ..." in bold). Bullets and sentences are body text.
* Levels come from the numbering kind, not from an unbroken sequence (real
  reports skip "6." and number two parts "IV."): parts > Roman > articles >
  "1." > "1.1" > "1.1.1" > "a)" > "(1)". Unnumbered headings sit under the
  heading before them; one ends an open unnumbered heading only when it is
  dressed as heavily (capitals > a line of its own > a run-in head or a
  "...:" label): a bold "Kết quả đạt được: ..." inside a bold section is its
  sub-heading. A list restarting at "1." under a "b)" is nested,
  not a new top-level item.
* "Phần thứ hai" (or "Chương II") alone on its line takes the next short line
  as its title: one heading over two paragraphs.
* Everything before the first numbered heading is the title block and
  preamble ("BÁO CÁO", the subject line, "V/v ...", "Kính gửi ..."): no
  section. The closing block ("Trên đây là ...", "Trân trọng thông báo ...",
  a final "... báo cáo ... ./.", a speech's closing thanks, "Nơi nhận:", a
  signature) ends the last section. A document can go on after its closing
  block (a decision followed by the regulation it issues, an appendix): the
  headings there form sections of their own, flagged `after_closing`.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Final

from .model import Block, BlockKind, Outline
from .vietnamese import fold

__all__ = [
    "BULLET",
    "Node",
    "NumberKind",
    "Tree",
    "build_tree",
    "closing_starts",
    "heading_display",
    "is_closing_paragraph",
    "number_kind",
    "numbering_rank",
    "split_number",
    "strip_numbering",
]


# ------------------------------------------------------------------ numbering grammar

_ROMAN: Final = r"(?:M{0,3}(?:CM|CD|D?C{0,3})(?:XC|XL|L?X{0,3})(?:IX|IV|V?I{0,3}))"
_ROMAN_LOWER: Final = r"(?:x{0,3}(?:ix|iv|v?i{0,3}))"
_ORDINALS: Final = (
    r"(?:nhất|hai|ba|tư|bốn|năm|sáu|bảy|bẩy|tám|chín|mười(?:\s+(?:một|hai|ba|bốn|lăm|năm))?)"
)
_LABEL_WORDS: Final = r"(?:phần|mục|chương|điều|tiết)"
_DELIM: Final = r"[.:)/\-]"
_NUMBERING_RES: Final[tuple[re.Pattern[str], ...]] = (
    # "Phần I:", "Mục 2.", "Chương III -", "PHẦN THỨ HAI", "Phần A."
    re.compile(
        rf"{_LABEL_WORDS}\s+(?:thứ\s+{_ORDINALS}|{_ROMAN}(?![\w])|\d{{1,3}}(?:\.\d{{1,3}})*|[A-Z](?![\w]))"
        rf"(?:\s*[.:\-)])?(?=\s|$|[^\w])",
        re.IGNORECASE,
    ),
    # "(1)", "(a)", "(IV)"
    re.compile(r"\((?:\d{1,2}|[a-zđ]|" + _ROMAN + r"(?<!\()|" + _ROMAN_LOWER + r"(?<!\())\)"),
    # Roman numerals, optionally multilevel: "III.", "II-", "IV/", "XII.", "I.2.", "II -"
    re.compile(rf"(?=[IVXLCDM]){_ROMAN}(?:\.\d{{1,2}})*\s?{_DELIM}(?![\w/.-]*\d)(?=\s|$|[^\w\d])"
               rf"|(?=[IVXLCDM]){_ROMAN}(?:\.\d{{1,2}})*{_DELIM}(?=\w)(?!\d)"
               rf"|(?=[IVXLCDM]){_ROMAN}(?=\t)"),
    # Lower-case Roman numerals: "ii)", "iv."
    re.compile(rf"(?=[ivx]){_ROMAN_LOWER}[.)](?=\s|$)"),
    # Arabic, multilevel: "2.", "2.1.", "2.1.3", "2-", "2/", "2)"
    re.compile(r"\d{1,2}(?:\.\d{1,2})+\.?(?![\d,])(?=\s|$|[^\w]|[^\W\d])"
               r"|\d{1,2}[.)/\-](?![\d.,/\-])"),
    # Letters: "a)", "b.", "đ)", "A." -- a full stop or slash needs a space after it
    # so that abbreviations ("T.Ư", "Đ/c") survive.
    re.compile(r"[a-zA-ZđĐ]\)|[a-zA-ZđĐ][./](?=\s|$)"),
    # Bullets; a dash or plus before a digit is a sign, not a bullet.
    re.compile(r"[-+*•·▪▫●○◦■□♦◆❖➢➤►✓✔–—](?![\d])"),
)
_LEADING_SPACE: Final = " \t\u00a0\u200b\ufeff\u3000\u202f"


def strip_numbering(text: str) -> tuple[str, str]:
    """Split a leading item number or bullet from a heading.

    Returns ``(number, rest)``, e.g. ``('III.', 'Đánh giá ...')``; ``('', text)``
    when there is none. The number is returned as written (NFC, trimmed); the
    rest has its leading spaces removed.
    """
    nfc = unicodedata.normalize("NFC", text)
    body = nfc.lstrip(_LEADING_SPACE)
    for pattern in _NUMBERING_RES:
        match = pattern.match(body)
        if match is None or not match.group(0).strip():
            continue
        number = match.group(0).strip()
        rest = body[match.end():].lstrip(_LEADING_SPACE)
        return number, rest
    return "", text


class NumberKind(StrEnum):
    PART = "part"          # Phần thứ hai, PHẦN I
    CHAPTER = "chapter"    # Chương II, Mục 1
    UPPER = "upper"        # A., B.
    ROMAN = "roman"        # III.
    ARTICLE = "article"    # Điều 6.
    ARABIC = "arabic"      # 3.  3)  3/  3-
    DECIMAL2 = "decimal2"  # 3.1  II.1
    DECIMAL3 = "decimal3"  # 3.1.1 and deeper
    LETTER = "letter"      # a)  b.  đ)
    PAREN = "paren"        # (1)  (a)  ii)
    ORDINAL = "ordinal"    # Thứ nhất, Hai là
    STAR = "star"          # * Về ...


# Fixed order of numbered kinds; a heading closes every open heading of the same or a lower rank.
_RANK: Final[dict[NumberKind, float]] = {
    NumberKind.PART: 0, NumberKind.CHAPTER: 0.5, NumberKind.UPPER: 1, NumberKind.ROMAN: 2,
    NumberKind.ARTICLE: 2.5, NumberKind.ARABIC: 3, NumberKind.DECIMAL2: 4, NumberKind.DECIMAL3: 5,
    NumberKind.LETTER: 6, NumberKind.PAREN: 7,
}
# Unnumbered kinds float: they sit under whatever heading is open.
_FLOATING: Final = frozenset({NumberKind.ORDINAL, NumberKind.STAR})

BULLET: Final = re.compile(r"^\s*[-+•·▪▫●○◦■□♦◆❖➢➤►✓✔–—→>]")
_ROMAN_RE: Final = re.compile(r"^(?=[IVXLC])M{0,3}(?:CM|CD|D?C{0,3})(?:XC|XL|L?X{0,3})(?:IX|IV|V?I{0,3})$")
_ORDINAL_RE: Final = re.compile(
    r"^(?:thu\s+(?:nhat|hai|ba|tu|bon|nam|sau|bay|bay|tam|chin|muoi)"
    r"|(?:mot|hai|ba|bon|nam|sau|bay|tam|chin|muoi)\s+la)\b"
)
_PART_LABEL: Final = re.compile(r"^(phan|chuong|muc|dieu|tiet)\b")
_ROMAN_VALUES: Final = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100, "D": 500, "M": 1000}

MAX_HEADING_WORDS: Final = 30
_RUN_IN_HEAD_WORDS: Final = 16
_UNNUMBERED_HEADING_WORDS: Final = 25
_BOLD_HEADING_WORDS: Final = 60
_SIBLING_HEADING_WORDS: Final = 80
_BOLD_SIBLING_WORDS: Final = 200


def _roman_value(text: str) -> int:
    total = 0
    for i, ch in enumerate(text):
        value = _ROMAN_VALUES[ch]
        total += -value if i + 1 < len(text) and _ROMAN_VALUES[text[i + 1]] > value else value
    return total


@dataclass(frozen=True)
class Number:
    kind: NumberKind
    value: int          # 1 for "I.", "1.", "a)", "Thứ nhất"; 0 when unknown
    label: str          # as written ("III.", "2.1.", "Phần thứ hai")


def number_kind(label: str) -> Number | None:
    """Classify a numbering label ("III.", "2.1", "a)", "Phần thứ hai", "Điều 6.", "*")."""
    label = label.strip()
    if not label:
        return None
    if label.startswith("*"):
        return Number(NumberKind.STAR, 0, label)
    if BULLET.match(label):
        return None
    key = fold(label)
    part = _PART_LABEL.match(key)
    if part:
        word = part.group(1)
        digits = re.findall(r"\d+", key)
        value = int(digits[0]) if digits else 0
        if word == "phan":
            return Number(NumberKind.PART, value, label)
        if word == "dieu":
            return Number(NumberKind.ARTICLE, value, label)
        return Number(NumberKind.CHAPTER, value, label)
    bare = label.rstrip(".:)/-– ").lstrip("(")
    if label.startswith("("):
        return Number(NumberKind.PAREN, int(bare) if bare.isdigit() else 0, label)
    if re.fullmatch(r"\d{1,3}", bare):
        if label.endswith(")"):
            return Number(NumberKind.PAREN, int(bare), label)
        return Number(NumberKind.ARABIC, int(bare), label)
    if re.fullmatch(r"(?:\d{1,2}|[IVXLC]+)(?:\.\d{1,2})+", bare):
        depth = bare.count(".")
        last = int(bare.rsplit(".", 1)[1])
        return Number(NumberKind.DECIMAL2 if depth == 1 else NumberKind.DECIMAL3, last, label)
    if (_ROMAN_RE.match(bare) and bare in ("I", "V", "X")) or (len(bare) > 1 and _ROMAN_RE.match(bare)):
        return Number(NumberKind.ROMAN, _roman_value(bare), label)
    if re.fullmatch(r"[a-zđ]", bare):
        return Number(NumberKind.LETTER, "abcdđefghiklmnopqrstuvxy".find(bare) + 1, label)
    if re.fullmatch(r"[ivx]+", bare):
        return Number(NumberKind.PAREN, 0, label)
    if re.fullmatch(r"[A-ZĐ]", bare):
        return Number(NumberKind.UPPER, ord(bare) - 64, label)
    return None


def split_number(text: str) -> tuple[Number | None, str]:
    """The typed number opening `text` and the rest: (None, text) when there is none.

    A number runs into its text only before a capital ("II.ĐÁNH GIÁ"), never
    before more of a word ("V/v", "2/2024").
    """
    label, rest = strip_numbering(text)
    if not label:
        return None, text
    body = text.lstrip()
    after = body[len(label):len(label) + 1] if body.startswith(label) else " "
    if after and not after.isspace() and not after.isupper() and not label.startswith("("):
        return None, text
    return number_kind(label), rest


def numbering_rank(label: str) -> int | None:
    """Coarse rank of a numbering label, 0 highest: "Phần"/"A." 0, "III." 1, "3." 2,
    "3.1"/"II.1" 3, "3.1.1" 4, "a)" 5; None for bullets and no numbering."""
    number = number_kind(label)
    if number is None or number.kind in _FLOATING:
        return None
    return {
        NumberKind.PART: 0, NumberKind.CHAPTER: 0, NumberKind.UPPER: 0, NumberKind.ROMAN: 1,
        NumberKind.ARTICLE: 1, NumberKind.ARABIC: 2, NumberKind.DECIMAL2: 3, NumberKind.DECIMAL3: 4,
        NumberKind.LETTER: 5, NumberKind.PAREN: 5,
    }[number.kind]


def heading_display(block: Block) -> str:
    """A heading as the reader sees it: rendered automatic numbering, then the text."""
    text = block.text.strip()
    number = block.numbering.strip()
    return unicodedata.normalize("NFC", f"{number} {text}" if number else text)


# ------------------------------------------------------------------ closing

_CLOSING_STARTS: Final = (
    "tren day la", "tren day", "tran trong thong bao", "noi nhan", "xin tran trong cam on",
    "xin chan thanh cam on", "tran trong cam on", "chuc hoi nghi", "kinh chuc",
)
_SIGNATURE: Final = re.compile(
    r"^(?:(?:tm|t m|kt|tl|q|tuq)\s+)?(?:ban thuong vu|ban chap hanh|chu tich|pho chu tich|nguoi lap bieu|"
    r"thu truong|giam doc|pho giam doc|hieu truong|ban thuong truc|uy ban nhan dan|ubnd|so )"
)
_SIGNATURE_WORDS: Final = 8


_SIGNED_FOR: Final = ("tm ", "t m ", "kt ", "tl ", "q ", "tuq ")
_BODY_NAMES: Final = ("ubnd", "uy ban", "so ")


def _is_signature_line(folded: str) -> bool:
    """"PHÓ CHỦ TỊCH", "KT. GIÁM ĐỐC", "TM. ỦY BAN NHÂN DÂN"; a bare body name is not one."""
    if len(folded.split()) > _SIGNATURE_WORDS or not _SIGNATURE.match(folded):
        return False
    return folded.startswith(_SIGNED_FOR) or not folded.startswith(_BODY_NAMES)


def is_closing_paragraph(block: Block, words: int) -> bool:
    """A paragraph that opens the closing block."""
    key = block.folded[:80]
    if key.startswith(_CLOSING_STARTS) and (words <= 80):
        return not key.startswith("tren day") or words > 3
    if words <= 80 and (" tran trong thong bao" in key or (key.startswith("cuoi cung")
                        and " kinh chuc " in f" {block.folded} ")):
        return True
    # "UBND tỉnh Lâm Đồng báo cáo Bộ Nội vụ ... ./." : a final reporting sentence.
    text = block.text.rstrip()
    return text.endswith("./.") and words <= 60 and " bao cao " in f" {block.folded[:200]} "


def _is_signature_table(block: Block) -> bool:
    head = "\n".join("\t".join(row) for row in block.rows[:6])[:600]
    key = fold(head)
    return key.startswith("noi nhan") or " noi nhan " in f" {key} " or bool(
        re.search(r"(?:^| )(?:tm|kt|tl|tuq) (?:ban|uy ban|so|ubnd|hoi dong|to)", key))


def closing_starts(blocks: Sequence[Block]) -> list[int]:
    """Indexes where a closing block starts (the first one closes the report's body).

    Closing formulas anywhere; a bare signature line ("PHÓ CHỦ TỊCH", "TM. BAN
    THƯỜNG VỤ") or a table holding one only in the last fifth of the document.
    """
    out: list[int] = []
    tail = len(blocks) - max(10, len(blocks) // 5)
    for index, block in enumerate(blocks):
        if block.kind is BlockKind.TABLE:
            if _is_signature_table(block) or (index >= tail and any(
                    _is_signature_line(fold(line)) for row in block.rows[:6] for cell in row
                    for line in cell.split("\n")[:12])):
                out.append(index)
        elif ((block.level is None and is_closing_paragraph(block, len(block.text.split())))
              or (index >= tail and _is_signature_line(block.folded))):
            out.append(index)
    return out


# ------------------------------------------------------------------ tree


@dataclass
class Node:
    """One section: its heading block(s) and the span of its body."""

    index: int                 # block index of the heading
    head_end: int              # one past the heading's blocks (2 blocks for "Phần thứ hai" + title)
    end: int = 0               # one past the section's last block
    number: Number | None = None
    rank: float = 9.0
    head_key: str = ""         # folded heading words used for matching (no number; run-in head only)
    heading: str = ""          # as written, numbering included
    parent: int | None = None  # position of the parent node in Tree.nodes
    children: list[int] = field(default_factory=list)
    depth: int = 0
    after_closing: bool = False
    styled: bool = False       # bold, capitals, heading style or outline level
    bold: bool = False
    numbered: bool = False
    dress: int = 1             # weight of an unnumbered heading: 0 capitals, 1 a line of its own, 2 a label


@dataclass(frozen=True)
class Tree:
    blocks: tuple[Block, ...]
    nodes: tuple[Node, ...]
    body_start: int            # first block after the title block and preamble
    closing: int               # first block of the first closing block
    title_key: str             # folded document title block (subject), for context


def _is_caps(text: str) -> bool:
    """Written in capitals (at least three letters)."""
    return text.isupper() and sum(ch.isalpha() for ch in text[:12]) >= 3


@dataclass(frozen=True)
class _Look:
    number: Number | None
    rest: str            # text without its typed number
    words: int


def _look(block: Block) -> _Look:
    typed_number, rest = split_number(block.text)
    typed = typed_number is not None
    label = block.numbering.strip()
    number = number_kind(label) if label else None
    if number is None and typed:
        number = typed_number
    elif number is None:
        rest = block.text  # a bullet or nothing: keep it as text
    elif label and typed and number is not None:
        # Automatic number plus a typed one: the typed one is part of the text.
        rest = block.text
    if number is None:
        key = block.folded
        ordinal = _ORDINAL_RE.match(key)
        if ordinal:
            number = Number(NumberKind.ORDINAL, 0, "")
    return _Look(number, rest.strip(), len(block.text.split()))


def _heading_key(block: Block, look: _Look) -> tuple[str, bool] | None:
    """(folded heading words, is run-in) when the paragraph reads as a heading, else None."""
    text = look.rest
    words = look.words
    if look.number is not None and look.number.kind in (NumberKind.PART, NumberKind.CHAPTER) and not text:
        return fold(look.number.label), False
    if not text or words == 0:
        return None
    styled = block.bold or _is_caps(text) or block.level is not None
    number = look.number
    stripped = text.rstrip()
    if number is not None and number.kind is not NumberKind.ORDINAL:
        if number.kind is NumberKind.STAR and not block.bold:
            return None
        limit = _BOLD_HEADING_WORDS if block.bold else MAX_HEADING_WORDS
        if words <= limit and not stripped.endswith((";", ",")):
            if words > 20 and stripped.endswith(".") and not styled:
                return None
            head = text.split(":", 1)[0] if ":" in text[:-1] else text
            return fold(head), head is not text
        colon = text.find(":")
        if colon > 0 and len(text[:colon].split()) <= _RUN_IN_HEAD_WORDS:
            return fold(text[:colon]), True
        return None
    if number is not None:  # ordinal paragraph: a heading only when set apart in bold
        if not block.bold:
            return None
        head = re.split(r"[:.]", text, maxsplit=1)[0]
        return fold(head), False
    if BULLET.match(text):
        return None
    if words > _UNNUMBERED_HEADING_WORDS or stripped.endswith((";", ",")):
        return None
    if block.level is not None and (block.bold or words <= 12):
        return block.folded, False
    if (block.bold or _is_caps(text)) and not stripped.endswith("."):
        return block.folded, False
    return None


_DOC_KINDS: Final = ("bao cao", "ke hoach", "thong bao", "tham luan", "quyet dinh", "cong van", "to trinh",
                     "chuong trinh", "huong dan", "quy che", "de an")


def build_tree(outline: Outline) -> Tree:
    """The report's section tree, built once from its outline."""
    blocks = outline.blocks
    n = len(blocks)
    looks: list[_Look | None] = []
    keys: list[tuple[str, bool] | None] = []
    for block in blocks:
        if block.kind is not BlockKind.PARAGRAPH or not block.text.strip():
            looks.append(None)
            keys.append(None)
            continue
        seen = _look(block)
        looks.append(seen)
        keys.append(_heading_key(block, seen))

    closings = closing_starts(blocks)
    first_numbered = next(
        (i for i in range(n) if keys[i] is not None and (look_i := looks[i]) is not None
         and look_i.number is not None and look_i.number.kind not in _FLOATING),
        None,
    )
    if first_numbered is None:
        # No numbered heading at all: skip the title lines up to "Kính gửi"/the subject.
        first_numbered = _after_title_block(blocks)
    body_start = first_numbered
    closing = next((c for c in closings if c >= body_start), n)

    # The document's own subject: title block lines before the body.
    title_parts = [blocks[i].folded for i in range(min(body_start, n)) if blocks[i].kind is BlockKind.PARAGRAPH]
    title_key = " ".join(p for p in title_parts if not p.startswith(("so ", "cong hoa", "doc lap")))

    nodes: list[Node] = []
    stack: list[int] = []      # positions in `nodes`
    closing_iter = [c for c in closings if c >= closing]
    in_closing = False
    i = body_start
    while i < n:
        if closing_iter and i == closing_iter[0]:
            # Close everything open: the closing block ends the sections.
            closing_iter.pop(0)
            for pos in stack:
                nodes[pos].end = i
            stack.clear()
            in_closing = True
            i += 1
            continue
        key = keys[i]
        look = looks[i]
        if key is None and look is not None and stack and look.number is not None \
                and look.number.kind not in _FLOATING \
                and look.words <= (_BOLD_SIBLING_WORDS if blocks[i].bold else _SIBLING_HEADING_WORDS):
            key = _sibling_key(nodes, stack, look)
        if key is None or look is None:
            i += 1
            continue
        block = blocks[i]
        number = look.number
        head_end = i + 1
        heading = heading_display(block)
        head_key = key[0]
        if number is not None and number.kind in (NumberKind.PART, NumberKind.CHAPTER) and look.words <= 4:
            # "Phần thứ hai" alone: its title is the next short paragraph.
            nxt = i + 1
            if nxt < n and blocks[nxt].kind is BlockKind.PARAGRAPH and 0 < len(blocks[nxt].text.split()) <= 40:
                heading = f"{heading} {blocks[nxt].text.strip()}"
                head_key = f"{head_key} {blocks[nxt].folded}".strip()
                head_end = nxt + 1
        if in_closing and number is None:
            i = head_end
            continue
        rank = _RANK.get(number.kind, 9.0) if number is not None else 9.0
        floating = number is None or number.kind in _FLOATING
        node = Node(index=i, head_end=head_end, number=number, rank=rank, head_key=head_key,
                    heading=heading, after_closing=in_closing,
                    styled=block.bold or block.level is not None or _is_caps(look.rest), bold=block.bold,
                    numbered=number is not None and not floating, dress=_dress(look.rest, key[1]))
        # Close open headings this one ends.
        if floating:
            # Same kind of floating heading (or same formatting) is a sibling.
            while stack and not nodes[stack[-1]].numbered and node.number is not None \
                    and nodes[stack[-1]].number is not None:
                nodes[stack.pop()].end = i
            # An unnumbered heading ends an open unnumbered one of the same or a lighter dress only:
            # a bold "Kết quả đạt được: ..." or "Hạn chế:" inside a bold section is its sub-heading.
            while stack and node.number is None and nodes[stack[-1]].number is None \
                    and nodes[stack[-1]].dress >= node.dress:
                nodes[stack.pop()].end = i
            node.rank = (nodes[stack[-1]].rank + 0.5) if stack else 8.0
        else:
            assert number is not None
            same = _same_kind(nodes, stack, number, block.bold)
            top = nodes[stack[-1]] if stack else None
            if (same is not None and number.value == 1 and top is not None and stack[-1] != same
                    and top.numbered and top.rank > nodes[same].rank and not block.bold):
                # A list restarting at 1 under a deeper heading: nested, not a new item.
                node.rank = top.rank + 0.5
            elif same is not None:
                node.rank = nodes[same].rank
                while stack:
                    popped = stack.pop()
                    nodes[popped].end = i
                    if popped == same:
                        break
            else:
                while stack and nodes[stack[-1]].rank >= rank:
                    nodes[stack.pop()].end = i
        if stack:
            node.parent = stack[-1]
            node.depth = nodes[stack[-1]].depth + 1
            nodes[stack[-1]].children.append(len(nodes))
        stack.append(len(nodes))
        nodes.append(node)
        i = head_end
    for pos in stack:
        nodes[pos].end = n
    for node in nodes:
        node.end = max(node.end, node.head_end)
    return Tree(blocks=blocks, nodes=tuple(nodes), body_start=body_start, closing=closing, title_key=title_key)


def _dress(text: str, run_in: bool) -> int:
    """How heavy a heading looks: capitals 0, a line of its own 1, a run-in head or a "...:" label 2."""
    stripped = text.rstrip()
    if run_in or stripped.endswith(":") or ": " in stripped:
        return 2
    return 0 if _is_caps(stripped) else 1


def _same_kind(nodes: Sequence[Node], stack: Sequence[int], number: Number, bold: bool) -> int | None:
    """The open heading this one continues: same kind, preferably the previous number in the same dress."""
    same = [p for p in reversed(stack) if (other := nodes[p].number) is not None and other.kind is number.kind]
    if not same:
        return None
    for wanted in ((True, True), (True, False)):
        for pos in same:
            follows = nodes[pos].number.value == number.value - 1  # type: ignore[union-attr]
            if follows == wanted[0] and (not wanted[1] or nodes[pos].bold == bold):
                return pos
    return same[0]


def _sibling_key(nodes: Sequence[Node], stack: Sequence[int], look: _Look) -> tuple[str, bool] | None:
    """A long numbered paragraph that continues an open heading's sequence ("3." after "2.") is a heading."""
    number = look.number
    assert number is not None
    for pos in reversed(stack):
        other = nodes[pos].number
        if other is not None and other.kind is number.kind:
            if number.value == other.value + 1:
                head = look.rest.split(":", 1)[0]
                return fold(" ".join(head.split()[:_RUN_IN_HEAD_WORDS])), True
            return None
    return None


def _after_title_block(blocks: Sequence[Block]) -> int:
    """First block after the title block of a document without numbered headings."""
    limit = min(len(blocks), 15)
    start = 0
    for i in range(limit):
        key = blocks[i].folded
        if key.startswith(("kinh gui", "v v ", "ve viec")) or key in _DOC_KINDS or (key.startswith(_DOC_KINDS) \
                and len(key.split()) <= 4):
            start = i + 1
    return start
