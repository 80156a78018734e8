"""Find the campaign's required section in a report's outline.

Units never copy the guideline's section title. They reorder it, shorten it,
drop the year, type it in capitals, number it by hand or with Word's automatic
numbering, and put it in a plain paragraph instead of a heading style. So the
finder scores every plausible heading against the title and keeps the best
one scoring at least `THRESHOLD` (70).

Candidates: every paragraph with a heading `level`, and every other paragraph
shorter than `MAX_HEADING_WORDS` words before the closing block, since a
bold-less "3. Kết quả học tập chuyên đề" is a heading all the same.

Score (0..100), on `fold()`ed text with the numbering stripped:

* base = 50 x coverage + 50 x precision. Words weigh 1, the title's year
  1.5, and function or generic report words ("và", "về", "năm", "đánh giá",
  "kết quả", "tổ chức", "thực hiện" ...) 0.15. Coverage is the weighted share
  of the title's words the candidate contains (a generic word counts only
  when present, since units drop them freely), saturating at 80 %: units
  shorten titles, and "Kết quả học tập chuyên đề" covers what matters.
  Precision is the weighted share of the candidate's own words that the
  title or the keywords contain; quoted or bracketed parts (the study
  topic's slogan) are left out of it. A title word missing verbatim is
  looked up with rapidfuzz (`fuzz.ratio` >= 88, words of 5+ letters: typos) for 0.7 credit.
* Years must agree: a candidate naming a year the title does not is
  rejected; one naming none loses 3. Other numbers likewise: when the title
  names one ("Chỉ thị 05") a candidate naming only others is rejected; numbers
  the title lacks cost 10.
* Negative cues, each only when the title lacks it: the plan part
  ("phương hướng", "nhiệm vụ", "giải pháp", a heading starting with "kế
  hoạch"), proposals ("đề xuất", "kiến nghị"), shortcomings ("tồn tại",
  "hạn chế"), the practice part ("làm theo" without "học tập"), another
  document as topic ("nghị quyết", "chỉ thị", "kết luận" ...; milder when the
  candidate covers the title anyway), the document's own title ("Báo cáo
  ...", "V/v ...", the line under "BÁO CÁO") and the preamble before the
  first numbered or styled heading.
* Heading look: a plain unnumbered paragraph, a bullet, a sentence, or a
  heading with nothing under it (a table-of-contents-like mention) loses
  points.
* Each `keywords` entry found adds 3 (at most 9): evidence, never required.

Ties go to real headings, then to a candidate with a body, then to the
earlier one. When the winner lies inside the body of another candidate that
also passes the threshold and scores at most 15 less, the enclosing one is
taken: the section is the whole part, not its first sub-point.

The body runs from the block after the heading to the next heading of the
same or a higher level, or to the closing block, whichever comes first. A
candidate without a heading level gets one from its numbering pattern
("Phần"/"A." > "III." > "3." > "3.1"/"II.1" > "3.1.1" > "a)"), and later blocks
are compared by the same inference. When the outline does not say where the
closing block starts, a "Trên đây là ..." or "Nơi nhận:" paragraph or a
signature table ("TM.", "KT.", "Nơi nhận:") marks it.
"""
from __future__ import annotations

import dataclasses
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

from rapidfuzz import fuzz, process

from .figures import extract_figures
from .model import Block, BlockKind, Candidate, Confidence, Outline, SectionResult
from .vietnamese import clean, fold, strip_numbering

__all__ = ["MAX_HEADING_WORDS", "THRESHOLD", "find_section", "heading_display", "numbering_rank"]

THRESHOLD = 70.0
MAX_HEADING_WORDS = 40

_STOP_WEIGHT = 0.15
_YEAR_WEIGHT = 1.5
_COVERAGE_SATURATION = 0.8
_FUZZY_CREDIT = 0.7
_FUZZY_CUTOFF = 88.0
# Syllables shorter than this have too many near neighbours (quan/qua) for fuzzy matching.
_FUZZY_MIN_LEN = 5
_ENCLOSING_MARGIN = 15.0
# Below this a candidate cannot reach the threshold whatever its body; skip the boundary walk.
_WORTH_A_BODY = THRESHOLD - 20.0

# Words every report heading shares; they say nothing about the topic.
_STOP_WORDS = frozenset({
    "va", "cua", "cac", "nam", "ve", "viec", "danh", "gia", "rieng", "ket", "qua", "thuc", "hien",
    "to", "chuc", "trong", "tai", "cho", "voi", "nhung", "mot", "so", "da", "duoc", "nay", "do",
    "la", "o", "tu", "den", "tren", "sau", "khi", "cong", "tac", "tinh", "hinh", "chung", "gan",
    "hon", "nua", "cu", "the", "nhu", "tiep", "tuc",
})

# (folded phrase, penalty, note). Each applies only when the title lacks the phrase.
_SECTION_KIND_CUES: tuple[tuple[str, float, str], ...] = (
    ("phuong huong", 35.0, "plan part ('phương hướng')"),
    ("nhiem vu", 20.0, "plan part ('nhiệm vụ')"),
    ("giai phap", 20.0, "plan part ('giải pháp')"),
    ("de xuat", 35.0, "proposals ('đề xuất')"),
    ("kien nghi", 35.0, "proposals ('kiến nghị')"),
    ("ton tai", 30.0, "shortcomings ('tồn tại')"),
    ("han che", 30.0, "shortcomings ('hạn chế')"),
    ("bai hoc kinh nghiem", 20.0, "lessons ('bài học kinh nghiệm')"),
)
_OTHER_TOPIC_CUES: tuple[tuple[str, str], ...] = (
    ("nghi quyet", "another topic ('nghị quyết')"),
    ("chi thi", "another topic ('chỉ thị')"),
    ("ket luan", "another topic ('kết luận')"),
    ("nghi dinh", "another topic ('nghị định')"),
    ("quy dinh", "another topic ('quy định')"),
    ("luat", "another topic ('luật')"),
)
_OTHER_TOPIC_PENALTY = 30.0
_OTHER_TOPIC_IN_PASSING = 10.0
_PLAN_START_PENALTY = 30.0
_PLAN_ANYWHERE_PENALTY = 5.0
_PRACTICE_PENALTY = 40.0
_DOC_TITLE_PENALTY = 30.0
_PREAMBLE_PENALTY = 20.0
_NO_YEAR_PENALTY = 3.0
_OTHER_NUMBER_PENALTY = 10.0
_EMPTY_BODY_PENALTY = 15.0
_PLAIN_PARAGRAPH_PENALTY = 5.0
_STYLED_PARAGRAPH_PENALTY = 2.0
_BULLET_PENALTY = 15.0
_SENTENCE_PENALTY = 10.0
_KEYWORD_BONUS = 3.0
_KEYWORD_BONUS_MAX = 9.0

_YEAR = re.compile(r"^(?:19|20)\d{2}$")
_BULLET = re.compile(r"^\s*[-+*•·–—○▪●■□♦◆❖➢➤►✓✔]")
_ROMAN = re.compile(r"^[IVX]+(?=$|[\s.:)/\-])")
_ROMAN_SUB = re.compile(r"^[IVX]+\.\d")
_PART_LABEL = re.compile(r"^(?:phan|chuong|muc)\b")
_BRACKETED = re.compile(r'"[^"]*"|\([^)]*\)|«[^»]*»')
_CLOSING_TEXT = re.compile(r"^(?:tren day la|noi nhan)\b")
_CLOSING_CELL = re.compile(r"(?:^|[\n\t])\s*(?:noi nhan\s*:|tm\.|kt\.)", re.IGNORECASE)


def _words(folded: str) -> list[str]:
    return folded.split()


def heading_display(block: Block) -> str:
    """A heading as the reader sees it: rendered automatic numbering, then the text."""
    text = block.text.strip()
    number = block.numbering.strip()
    return unicodedata.normalize("NFC", f"{number} {text}" if number else text)


def numbering_rank(number: str) -> int | None:
    """Rank of a numbering pattern, 0 highest.

    "Phần I"/"A." 0, "III." 1, "3." 2, "3.1"/"II.1" 3, "3.1.1" 4, "a)" 5; None for
    bullets and no numbering.
    """
    number = number.strip()
    if not number or _BULLET.match(number):
        return None
    if _PART_LABEL.match(fold(number)):
        return 0
    if _ROMAN_SUB.match(number):
        return 3
    if _ROMAN.match(number):
        return 1
    if re.match(r"^\d+(?:\.\d+){2,}", number):
        return 4
    if re.match(r"^\d+\.\d+", number):
        return 3
    if re.match(r"^\(?\d+\s*[.)/:\-]?$", number):
        return 2
    if re.match(r"^[A-ZĐ][.)]?$", number):
        return 0
    if re.match(r"^\(?[a-zđ][.)/]?$", number):
        return 5
    return None


def _is_caps(text: str) -> bool:
    letters = [ch for ch in text if ch.isalpha()]
    return len(letters) >= 3 and all(ch.isupper() for ch in letters)


@dataclass(frozen=True)
class _Info:
    """What the finder needs of one block, computed once."""

    number: str          # rendered automatic number, else the typed one, else ""
    rest: str            # text without the typed number
    folded: str          # fold(rest)
    rank: int | None     # numbering_rank(number)
    word_count: int
    caps: bool
    bullet: bool


def _info(block: Block) -> _Info:
    typed, rest = strip_numbering(block.text)
    number = block.numbering.strip() or typed
    bullet = bool(_BULLET.match(block.text)) or (bool(typed) and bool(_BULLET.match(typed)))
    folded = fold(rest) if block.kind is BlockKind.PARAGRAPH else ""
    return _Info(
        number=number,
        rest=rest,
        folded=folded,
        rank=numbering_rank(number),
        word_count=len(block.text.split()),
        caps=_is_caps(rest),
        bullet=bullet and not block.numbering.strip(),
    )


@dataclass(frozen=True)
class _Title:
    weights: dict[str, float]     # folded title word -> weight
    years: frozenset[str]
    numbers: frozenset[str]       # other numbers the title names
    folded: str
    keywords: tuple[str, ...]
    keyword_words: frozenset[str]
    content_words: tuple[str, ...]


def _number_key(word: str) -> str:
    return word.lstrip("0") or "0"


def _word_weight(word: str) -> float:
    if word.isdigit():
        return _YEAR_WEIGHT if _YEAR.match(word) else 1.0
    return _STOP_WEIGHT if word in _STOP_WORDS else 1.0


def _prepare_title(title: str, keywords: Sequence[str]) -> _Title:
    _number, rest = strip_numbering(title)
    folded = fold(rest)
    weights: dict[str, float] = {}
    years: set[str] = set()
    numbers: set[str] = set()
    for word in _words(folded):
        if word.isdigit() and not _YEAR.match(word):
            numbers.add(_number_key(word))
        elif _YEAR.match(word):
            years.add(word)
        weights[word] = _word_weight(word)
    folded_keywords = tuple(k for k in (fold(kw) for kw in keywords) if k)
    content = tuple(w for w, weight in weights.items() if weight == 1.0 and not w.isdigit())
    return _Title(
        weights=weights,
        years=frozenset(years),
        numbers=frozenset(numbers),
        folded=folded,
        keywords=folded_keywords,
        keyword_words=frozenset(w for k in folded_keywords for w in _words(k)),
        content_words=content,
    )


@dataclass
class _Scored:
    index: int
    score: float = 0.0
    rejected: str | None = None          # why the candidate cannot be the section
    notes: list[str] = field(default_factory=list)
    content_hits: int = 0
    year: str | None = None
    base: float = 0.0                    # word match alone, before cues and penalties
    end: int = 0                         # one past the body's last block
    has_body: bool = False


def _contains(folded: str, phrase: str) -> bool:
    return re.search(rf"(?:^| ){re.escape(phrase)}(?: |$)", folded) is not None


def _coverage(title: _Title, present: set[str], result: _Scored) -> float:
    covered = 0.0
    total = 0.0
    alpha = [w for w in present if not w.isdigit() and len(w) >= _FUZZY_MIN_LEN - 1]
    for word, weight in title.weights.items():
        stop = weight == _STOP_WEIGHT
        if word in present:
            covered += weight
            total += weight
            if word in title.content_words:
                result.content_hits += 1
            continue
        if stop:
            continue  # a generic word left out costs nothing
        total += weight
        if len(word) >= _FUZZY_MIN_LEN and not word.isdigit() and alpha:
            near = process.extractOne(word, alpha, scorer=fuzz.ratio, score_cutoff=_FUZZY_CUTOFF)
            if near is not None:
                covered += weight * _FUZZY_CREDIT
                result.content_hits += 1
    raw = covered / total if total else 0.0
    return min(1.0, raw / _COVERAGE_SATURATION)


def _precision(title: _Title, block: Block, words: list[str]) -> float:
    # Quoted or bracketed parts name the topic's slogan; they neither help nor hurt.
    _number, rest = strip_numbering(clean(block.text))
    unquoted = _words(fold(_BRACKETED.sub(" ", rest)))
    own = unquoted or words
    own_total = sum(_word_weight(w) for w in own)
    known = sum(_word_weight(w) for w in own if w in title.weights or w in title.keyword_words)
    return known / own_total if own_total else 0.0


def _score(title: _Title, blocks: Sequence[Block], infos: Sequence[_Info], index: int,
           first_heading: int) -> _Scored:
    block, info = blocks[index], infos[index]
    folded = info.folded
    words = _words(folded)
    result = _Scored(index=index)
    if not words:
        result.rejected = "no words"
        return result

    coverage = _coverage(title, set(words), result)
    precision = _precision(title, block, words)
    score = result.base = 50.0 * coverage + 50.0 * precision

    cand_years = {w for w in words if _YEAR.match(w)}
    if title.years and cand_years - title.years:
        result.rejected = "year " + ", ".join(sorted(cand_years - title.years))
        return result
    cand_numbers = {_number_key(w) for w in words if w.isdigit() and not _YEAR.match(w)}
    if title.numbers and cand_numbers and not cand_numbers & title.numbers:
        # "Chỉ thị 03" when the title says "Chỉ thị 05": another document.
        result.rejected = "number " + ", ".join(sorted(cand_numbers))
        return result

    if title.years:
        if cand_years:
            result.year = min(cand_years)
        else:
            score -= _NO_YEAR_PENALTY
            result.notes.append("no year")

    for phrase, penalty, note in _SECTION_KIND_CUES:
        if _contains(folded, phrase) and not _contains(title.folded, phrase):
            score -= penalty
            result.notes.append(note)
    if not _contains(title.folded, "ke hoach"):
        if folded.startswith("ke hoach"):
            score -= _PLAN_START_PENALTY
            result.notes.append("plan ('kế hoạch')")
        elif _contains(folded, "ke hoach"):
            score -= _PLAN_ANYWHERE_PENALTY
    if (_contains(folded, "lam theo") and not _contains(folded, "hoc tap")
            and not _contains(title.folded, "lam theo")):
        score -= _PRACTICE_PENALTY
        result.notes.append("practice part ('làm theo')")
    other_topic = next(((p, n) for p, n in _OTHER_TOPIC_CUES
                        if _contains(folded, p) and not _contains(title.folded, p)), None)
    if other_topic is not None:
        # A heading that covers the title and mentions another document in
        # passing ("... gắn với Chỉ thị 05") is still ours.
        score -= _OTHER_TOPIC_PENALTY if coverage < 0.9 else _OTHER_TOPIC_IN_PASSING
        result.notes.append(other_topic[1])
    else:
        other_numbers = cand_numbers - title.numbers
        if other_numbers:
            score -= _OTHER_NUMBER_PENALTY
            result.notes.append("names " + ", ".join(sorted(other_numbers)))

    if not title.folded.startswith("bao cao") and (
        re.match(r"^(?:bao cao|v v|ve viec)\b", folded) or _follows_report_word(infos, index)
    ):
        score -= _DOC_TITLE_PENALTY
        result.notes.append("document title")
    elif index < first_heading and not info.number:
        score -= _PREAMBLE_PENALTY
        result.notes.append("before the first heading")

    if block.level is None:
        if info.bullet:
            score -= _BULLET_PENALTY
            result.notes.append("bullet item")
        elif not info.number:
            if block.bold or info.caps:
                score -= _STYLED_PARAGRAPH_PENALTY
            else:
                score -= _PLAIN_PARAGRAPH_PENALTY
                result.notes.append("plain paragraph")
        if info.word_count > 20 or (block.text.rstrip().endswith(".") and info.word_count > 12):
            score -= _SENTENCE_PENALTY
            result.notes.append("reads as a sentence")

    bonus = sum(_KEYWORD_BONUS for kw in title.keywords if _contains(folded, kw))
    if bonus:
        score += min(bonus, _KEYWORD_BONUS_MAX)
        result.notes.append("keywords")

    result.score = score
    return result


def _follows_report_word(infos: Sequence[_Info], index: int) -> bool:
    """True under a bare "BÁO CÁO" line: the document's subject line, not a section."""
    for prev in range(index - 1, -1, -1):
        if infos[prev].folded:
            return infos[prev].folded == "bao cao"
    return False


def _closing_start(outline: Outline, infos: Sequence[_Info]) -> int:
    """Where the closing block starts; spotted by its wording when the outline does not say."""
    if outline.closing_start is not None:
        return min(outline.closing_start, len(outline.blocks))
    for index, block in enumerate(outline.blocks):
        if block.kind is BlockKind.PARAGRAPH:
            if block.level is None and _CLOSING_TEXT.match(infos[index].folded):
                return index
        elif _CLOSING_CELL.search(block.text):
            return index
    return len(outline.blocks)


def _heading_like(block: Block, info: _Info) -> bool:
    return block.level is not None or (0 < info.word_count < MAX_HEADING_WORDS)


def _section_end(blocks: Sequence[Block], infos: Sequence[_Info], start: int, limit: int) -> int:
    """Index one past the last block of the body of the heading at `start`."""
    head, head_info = blocks[start], infos[start]
    head_rank = head_info.rank
    enclosing_level = next((b.level for b in reversed(blocks[:start]) if b.level is not None), 1)
    head_shape = (head_info.caps, head.bold)
    for j in range(start + 1, limit):
        block, info = blocks[j], infos[j]
        if block.kind is not BlockKind.PARAGRAPH or not block.text.strip() or info.bullet:
            continue
        rank = info.rank
        if head.level is not None:
            if block.level is not None and block.level <= head.level:
                return j
            if (block.level is None and head_rank is not None and rank is not None
                    and rank <= head_rank and _heading_like(block, info)):
                return j
        elif head_rank is not None:
            if rank is not None and rank <= head_rank and _heading_like(block, info):
                return j
            if block.level is not None and rank is None and block.level <= enclosing_level:
                return j
        else:
            # An unnumbered body-text heading: ends at any real heading, a
            # top-level number, or the next paragraph dressed like it.
            if block.level is not None or rank in (0, 1):
                return j
            if (head_shape != (False, False) and rank is None and (info.caps, block.bold) == head_shape
                    and _heading_like(block, info)):
                return j
    return limit


def _body_text(blocks: Sequence[Block]) -> str:
    lines: list[str] = []
    for block in blocks:
        if block.kind is BlockKind.TABLE:
            if block.text.strip():
                lines.append(unicodedata.normalize("NFC", block.text))
        else:
            shown = heading_display(block)
            if shown:
                lines.append(shown)
    return "\n".join(lines)


def _short(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def find_section(outline: Outline, title: str, keywords: Sequence[str] = ()) -> SectionResult:
    """The section of `outline` that answers the guideline's `title`, or why none does."""
    prepared = _prepare_title(title, keywords)
    blocks = outline.blocks
    infos = [_info(b) for b in blocks]
    limit = _closing_start(outline, infos)
    first_heading = next(
        (i for i in range(limit) if blocks[i].kind is BlockKind.PARAGRAPH
         and (blocks[i].level is not None or infos[i].rank in (0, 1, 2))),
        limit,
    )

    scored: list[_Scored] = []
    for index in range(limit):
        block = blocks[index]
        if block.kind is not BlockKind.PARAGRAPH or not block.text.strip():
            continue
        if block.level is None and infos[index].word_count >= MAX_HEADING_WORDS:
            continue
        candidate = _score(prepared, blocks, infos, index, first_heading)
        if candidate.rejected is None and candidate.score >= _WORTH_A_BODY:
            candidate.end = _section_end(blocks, infos, index, limit)
            candidate.has_body = any(b.text.strip() for b in blocks[index + 1 : candidate.end])
            if not candidate.has_body:
                candidate.score -= _EMPTY_BODY_PENALTY
                candidate.notes.append("nothing under it")
        candidate.score = max(0.0, min(100.0, candidate.score))
        scored.append(candidate)

    if not scored:
        return SectionResult(found=False, reason="no heading or short paragraph before the closing block")

    viable = [s for s in scored if s.rejected is None]

    def preference(s: _Scored) -> tuple[float, bool, bool, int]:
        return (round(s.score, 1), blocks[s.index].level is not None, s.has_body, -s.index)

    best = max(viable, key=preference) if viable else None
    if best is not None and best.score >= THRESHOLD:
        chosen = best
        for outer in sorted(viable, key=lambda s: s.index):
            if (outer.index < chosen.index < outer.end and outer.score >= THRESHOLD
                    and outer.score >= chosen.score - _ENCLOSING_MARGIN):
                chosen = outer
                break
        return _with_candidates(_found(blocks, chosen, len(prepared.content_words)), blocks, viable, chosen)

    parts: list[str] = []
    if best is not None:
        note = f" ({', '.join(best.notes)})" if best.notes else ""
        parts.append(f"closest: '{_short(heading_display(blocks[best.index]))}' score "
                     f"{best.score:.0f}{note}, below {THRESHOLD:.0f}")
    # Staff most want to hear about the heading that matched the title's words
    # best but was held back (another year, the plan part, ...): name it and why.
    likeliest = max(scored, key=lambda s: (s.base, -s.index))
    if likeliest is not best and likeliest.base >= _WORTH_A_BODY:
        shown = _short(heading_display(blocks[likeliest.index]))
        if likeliest.rejected is not None:
            parts.append(f"rejected '{shown}': {likeliest.rejected}")
        else:
            parts.append(f"held back '{shown}' score {likeliest.score:.0f}: {', '.join(likeliest.notes)}")
    return _with_candidates(SectionResult(found=False, score=round(best.score, 1) if best else 0.0,
                                          reason="; ".join(parts) or "no candidate heading"), blocks, viable, None)


def _found(blocks: Sequence[Block], chosen: _Scored, content_total: int) -> SectionResult:
    heading = heading_display(blocks[chosen.index])
    text = _body_text(blocks[chosen.index + 1 : chosen.end])
    details = [f"title words {chosen.content_hits}/{content_total}"]
    if chosen.year:
        details.append(f"year {chosen.year}")
    details.extend(chosen.notes)
    reason = f"matched '{_short(heading)}' score {chosen.score:.0f} ({', '.join(details)})"
    return SectionResult(found=True, heading=heading, text=text, score=round(chosen.score, 1),
                         reason=reason, figures=extract_figures(text))


# -- candidates and the staff's choice (CONTRACTS §1; issue 9 refines the finder) --------

MAX_CANDIDATES = 3


def _with_candidates(result: SectionResult, blocks: Sequence[Block], viable: Sequence[_Scored],
                     chosen: _Scored | None) -> SectionResult:
    """`result` with up to three headings the finder weighed, the chosen one first."""
    ranked = sorted(viable, key=lambda s: (-round(s.score, 1), s.index))
    if chosen is not None:
        ranked = [chosen, *(s for s in ranked if s is not chosen)]
    candidates = tuple(Candidate(heading=heading_display(blocks[s.index]), score=round(s.score, 1),
                                 why=", ".join(s.notes), block=s.index) for s in ranked[:MAX_CANDIDATES])
    return dataclasses.replace(result, candidates=candidates)


def heading_blocks(outline: Outline) -> tuple[Candidate, ...]:
    """Every heading-like block of `outline` (score 0), so staff can name one by its text."""
    infos = [_info(b) for b in outline.blocks]
    limit = _closing_start(outline, infos)
    return tuple(Candidate(heading=heading_display(block), score=0.0, why="", block=index)
                 for index, block in enumerate(outline.blocks[:limit])
                 if block.kind is BlockKind.PARAGRAPH and block.text.strip()
                 and (block.level is not None or infos[index].rank in (0, 1, 2)))


def section_at(outline: Outline, block: int) -> SectionResult:
    """The section whose heading is `outline.blocks[block]`, as staff chose it."""
    blocks = outline.blocks
    if not 0 <= block < len(blocks):
        raise IndexError(f"no block {block} in an outline of {len(blocks)}")
    infos = [_info(b) for b in blocks]
    limit = max(_closing_start(outline, infos), block + 1)
    end = _section_end(blocks, infos, block, limit)
    heading = heading_display(blocks[block])
    text = _body_text(blocks[block + 1 : end])
    return SectionResult(found=True, heading=heading, text=text, score=100.0,
                         reason=f"chosen by staff: '{_short(heading)}'", figures=extract_figures(text),
                         confidence=Confidence.SURE, chosen_by="staff")
