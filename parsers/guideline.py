"""An office's own guideline read for what a campaign needs (pure: text in, facts out).

A guideline (hướng dẫn, kế hoạch, công văn "V/v ...", thông báo) says what
to report, by when, to which address and which part the report must hold.
`parse_guideline` finds:

* the title: the subject line under the document's kind ("HƯỚNG DẪN" then
  "Học tập chuyên đề ..."), or a công văn's "V/v ..." line;
* the report's deadline, by Vietnamese usage: "trước ngày X" is X at 00:00;
  "chậm nhất ngày X", "hạn ... ngày X", "đến hết ngày X" the end of X
  (23:59:59, as staff dates: `END_OF_DAY`); "trước 17 giờ 00 ngày X" X at
  17:00. Every date found is a candidate with the reason it was or was not
  taken; only a date tied to sending the report is taken, and two different
  such dates leave the deadline empty;
* the required section's title, the object of "cần có mục (đánh giá) riêng
  về ...", "trong báo cáo đề nghị đánh giá ...", "nội dung báo cáo phải có
  mục riêng về ...", worded as the guideline words it without the request
  ("mục đánh giá riêng về X" gives "Đánh giá riêng về X": measured on the
  test corpus, the finder is surer with the guideline's words than with "X");
* the reply address, the e-mail address of the deadline's sentence or of a
  sentence about sending;
* the report outline (đề cương) the guideline attaches, if any.

Each value comes with its sentence and character spans in `GuidelineFacts.text`
(the normalised text), so that a dashboard can highlight it. Matching runs on
a folded copy of the text of the same length (`_Text.key`), so spans found
there hold for the text too.
"""
from __future__ import annotations

import bisect
import datetime as dt
import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from .layout import split_number
from .structure import number_level
from .vietnamese import clean, fold

__all__ = [
    "END_OF_DAY",
    "DateCandidate",
    "DateRole",
    "DeadlineRule",
    "GuidelineFacts",
    "OutlineItem",
    "Sourced",
    "parse_guideline",
    "unwrap_lines",
]

# A deadline date without a time means the end of that day (staff dates say the same).
END_OF_DAY: Final = dt.time(23, 59, 59)


class DeadlineRule(StrEnum):
    """How the moment of a date is read from the words before it."""

    START_OF_DAY = "start_of_day"  # "trước ngày X": X 00:00
    END_OF_DAY = "end_of_day"      # "chậm nhất / hạn / đến hết ngày X": X 23:59:59
    AT_TIME = "at_time"            # "trước 17 giờ 00 ngày X": X 17:00
    PLAIN = "plain"                # a date without deadline words (read as X 00:00)


class DateRole(StrEnum):
    """Why a date was or was not taken as the report's deadline."""

    DEADLINE = "deadline"                  # taken
    AMBIGUOUS = "ambiguous"                # a report deadline, but the guideline gives another one too
    LESS_CLEAR = "less_clear"              # maybe a report deadline, less plainly than the one taken
    NOT_REPORT = "not_report"              # deadline words, but for something other than the report
    REPORT_WITHOUT_DEADLINE = "report_date"  # about the report, but no deadline words
    CITED_DOCUMENT = "cited_document"      # the date of a document cited ("Kế hoạch số ..., ngày ...")
    DOCUMENT_DATE = "document_date"        # the guideline's own date line ("Lào Cai, ngày ...")
    PERIOD = "period"                      # a span ("từ ngày ... đến ngày ...")
    OTHER = "other"                        # the plan's, the study's, a conference's


@dataclass(frozen=True)
class Sourced:
    """A value found in the text, its sentence and where both are in `GuidelineFacts.text`."""

    value: str
    start: int            # span of the words the value comes from
    end: int
    sentence: str
    sentence_start: int
    sentence_end: int


@dataclass(frozen=True)
class DateCandidate:
    """A date found in the guideline, how it reads and whether it was taken."""

    written: str          # the date with its deadline words, as written ("trước ngày 29/2/2024")
    when: dt.datetime     # aware, in the office's zone, by `rule`
    rule: DeadlineRule
    role: DateRole
    taken: bool
    source: Sourced       # value = `written`


@dataclass(frozen=True)
class OutlineItem:
    """A heading of the report outline (đề cương) the guideline attaches."""

    number: str           # "I.", "1.", "a)"
    title: str
    level: int            # 1 = top
    start: int
    end: int


@dataclass(frozen=True)
class GuidelineFacts:
    """What a campaign needs from a guideline; spans index `text`."""

    text: str
    title: Sourced | None
    deadline: dt.datetime | None
    deadline_source: Sourced | None
    section_title: Sourced | None
    address: Sourced | None
    deadline_candidates: tuple[DateCandidate, ...]
    outline: tuple[OutlineItem, ...]


# ------------------------------------------------------------------ text and its key


@functools.cache
def _key_char(char: str) -> str:
    """One character of the folded key: fold() of the character when it is one character, else a space."""
    folded = fold(char)
    return folded if len(folded) == 1 else " "


@dataclass(frozen=True)
class _Sentence:
    start: int
    end: int
    line: int             # index of its line


class _Text:
    """The normalised text, its folded key (same length), its lines and sentences."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.key = "".join(_key_char(c) for c in text)
        self.lines: list[tuple[int, int]] = []
        start = 0
        for line in text.split("\n"):
            self.lines.append((start, start + len(line)))
            start += len(line) + 1
        self.sentences = [s for index, (a, b) in enumerate(self.lines) for s in _split_sentences(text, a, b, index)]

    def sentence_at(self, pos: int) -> _Sentence:
        """The sentence holding `pos` (the one before it when `pos` falls between two)."""
        index = bisect.bisect_right(self._starts, pos) - 1
        return self.sentences[max(index, 0)]

    @functools.cached_property
    def _starts(self) -> list[int]:
        return [sentence.start for sentence in self.sentences]

    @functools.cached_property
    def headings(self) -> list[str]:
        """Per line, the key of the nearest heading-like line at or before it (numbered, or short capitals)."""
        out: list[str] = []
        current = ""
        for a, b in self.lines:
            raw = self.text[a:b].strip()
            if raw and len(raw.split()) <= 14 and (number_level(raw) is not None or raw.isupper()):
                current = self.key[a:b]
            out.append(current)
        return out

    def sourced(self, value: str, start: int, end: int) -> Sourced:
        sentence = self.sentence_at(start)
        return Sourced(value, start, end, self.text[sentence.start:sentence.end], sentence.start, sentence.end)


_ITEM_NUMBER: Final = re.compile(r"[-+*]?\s*(?:[IVXLC]{1,5}|\d{1,2}(?:\.\d{1,2})*|[a-zđA-ZĐ])\.")
_SENTENCE_END: Final = re.compile(r"(?<=[.!?])\s+(?=[\"“(]?[^\W\d_])")


def _split_sentences(text: str, start: int, end: int, line: int) -> Iterator[_Sentence]:
    """The sentences of one line: a full stop followed by a capital ends one, unless it ends an item number."""
    at = start
    for match in _SENTENCE_END.finditer(text, start, end):
        if text[match.end()].isupper() and not _ITEM_NUMBER.fullmatch(text[at:match.start()].strip()):
            yield _Sentence(at, match.start(), line)
            at = match.end()
    if at < end:
        yield _Sentence(at, end, line)


def _normalise(raw: str) -> str:
    """Display text of the guideline: NFC, spaces, line breaks; Markdown bold marks dropped."""
    return clean(raw.replace("**", ""), typography=True)


_BROKEN_DATE: Final = re.compile(r"\b(?:ngày|tháng|năm)$", re.IGNORECASE)


def unwrap_lines(text: str) -> str:
    """Join the visual lines of text extracted from a PDF back into paragraphs.

    A line continues the one before when that one ends no sentence or heading
    (. : ; ! ?), is not in capitals, and either runs the full width of the page
    (a wrapped line; shorter ones end their paragraph, like a title's last line)
    or is followed by a line starting in lower case; a numbered, bulleted or
    capitals line, or a date line, starts a paragraph. A date broken after
    "ngày", "tháng" or "năm" (a narrow header column) is joined again.
    """
    lines = [line.strip() for line in text.split("\n")]
    lengths = sorted(len(line) for line in lines if line)
    width = lengths[int(len(lengths) * 0.9)] if lengths else 0
    paragraphs: list[list[str]] = []
    for line in lines:
        if not line:
            continue
        last = paragraphs[-1][-1] if paragraphs else ""  # the visual line before
        open_end = bool(last) and last[-1] not in ".:;!?" and not last.isupper()
        item = split_number(line)[0] is not None or line[0] in "-+•*" or line.isupper() or _is_date_line(line)
        broken_date = _BROKEN_DATE.search(last[-8:]) is not None and line[0].isdigit()
        if open_end and (broken_date or (not item and (line[0].islower() or len(last) >= 0.7 * width))):
            paragraphs[-1].append(line)
        else:
            paragraphs.append([line])
    return "\n".join(" ".join(paragraph) for paragraph in paragraphs)


# ------------------------------------------------------------------ dates

# Numeric dates on the text (29/2/2024, 29-02-2024, 29.02.2024; 15/12 after "ngày").
_NUMERIC_DATE: Final = re.compile(
    r"(?<![\d/.\-])(\d{1,2})\s?([/.\-])\s?(\d{1,2})(?:\s?\2\s?(\d{4}))?(?![\d/]|\.\d|-\d)")
# Dates in words on the key ("ngày 20 tháng 01 năm 2026", "05 tháng 12 năm 2025").
_WORD_DATE: Final = re.compile(r"\b(ngay\s+)?(\d{1,2})\s+thang\s+(\d{1,2})(?:\s+nam\s+(\d{4}))?\b")
_DAY_WORD_BEFORE: Final = re.compile(r"\bngay\s*$")
# A time before the date: "17 giờ 00", "17h00", "17h", "16 giờ 30 phút", "17:00", with "ngày" after.
_TIME_BEFORE: Final = re.compile(
    r"(\d{1,2})\s*(?:h|giờ|g|:)\s*(\d{2})?\s*(?:phút|')?\s*,?\s*(?:(?:\(|,)?\s*)?(?:ngày\s*)?$", re.IGNORECASE)
_START_OF_DAY_WORDS: Final = re.compile(r"\btruoc\s+(?:ngay\s*)?$")
_END_OF_DAY_WORDS: Final = re.compile(
    r"(?:\b(?:cham nhat|muon nhat|han chot|han cuoi|han)\b(?! che)(?:\s+(?:la|vao|trong|den het|den))*"
    r"\s*(?:ngay\s*)?$)|(?:\b(?:den\s+het|het|trong)\s+ngay\s*$)")
# "hạn" further back in the clause: "Thời hạn gửi báo cáo: ngày 15/12/2025".
# Words just before a date and how they read it, in order: "trước ngày" before "hạn".
_DAY_RULES: Final = ((_START_OF_DAY_WORDS, DeadlineRule.START_OF_DAY), (_END_OF_DAY_WORDS, DeadlineRule.END_OF_DAY))
_DEADLINE_WORD: Final = re.compile(r"\b(?:thoi han|han chot|han cuoi|han nop|han gui|cham nhat|muon nhat)\b")
_UNTIL: Final = re.compile(r"\bden\s+(?:ngay\s*)?$")
_FROM: Final = re.compile(r"\btu\s+(?:ngay\s*)?$")
_SINCE: Final = re.compile(r"\btu\b")
_PERIOD_AFTER: Final = re.compile(r"\s*(?:den|-)\s*(?:het\s+)?(?:ngay\s+)?\d")
_CITED: Final = re.compile(
    r"(?:\bsố\s*:?\s*[\w./\-]*\d[\w./\-]*|\b\d+[/\-][A-ZĐ][\w./\-]*)\s*,?\s*(?:(?:ban hành|ký)\s+)?(?:ngày\s*)?$",
    re.IGNORECASE)
# "Lào Cai, ngày 05 tháng 12 năm 2025" (also at the end of a header line run together with the motto).
_DATE_LINE: Final = re.compile(r"(?:^|\s)[^\W\d_][^\d,;:]{1,40},\s*ngày\b[^.;]*\bnăm\s+\d{4}\s*$", re.IGNORECASE)
_HEADER_LINE_CHARS: Final = 400


def _is_date_line(line: str) -> bool:
    return len(line) <= _HEADER_LINE_CHARS and _DATE_LINE.search(line) is not None


_DATE_LINE_YEAR: Final = re.compile(r"\bthang\s+(\d{1,2})?\s*nam\s+(\d{4})\b")
_REPORT_WORD: Final = re.compile(r"\bbao cao\b(?! vien)")
_SEND_WORD: Final = re.compile(r"\b(?:gui|nop|chuyen ve|email|thu dien tu)\b")
_REPORTING_HEADING: Final = re.compile(r"\b(?:che do bao cao|thoi han bao cao|thoi gian bao cao)\b")
# What ends a date's clause after it: "..., hoàn thành trước ngày X và gửi báo cáo chậm nhất ngày Y".
_NEXT_CLAUSE: Final = re.compile(r";|\s(?:và|đồng thời)\s", re.IGNORECASE)
_WINDOW: Final = 80


@dataclass(frozen=True)
class _Found:
    start: int            # of the date itself
    end: int
    day: int
    month: int
    year: int | None


def _find_dates(text: _Text) -> list[_Found]:
    found: list[_Found] = []
    taken: list[tuple[int, int]] = []
    for match in _WORD_DATE.finditer(text.key):
        if match.group(1) is None and match.group(4) is None:
            continue  # "12 tháng 3" alone is no date: a count of months, a time span
        year = int(match.group(4)) if match.group(4) else None
        found.append(_Found(match.start(2), match.end(), int(match.group(2)), int(match.group(3)), year))
        taken.append((match.start(), match.end()))
    for match in _NUMERIC_DATE.finditer(text.text):
        at = bisect.bisect_right(taken, (match.start(), len(text.text))) - 1
        if at >= 0 and taken[at][0] <= match.start() < taken[at][1]:
            continue  # inside a date in words
        year = int(match.group(4)) if match.group(4) else None
        day_word = _DAY_WORD_BEFORE.search(text.key, max(0, match.start() - 12), match.start())
        if year is None and (match.group(2) == "." or not day_word):
            continue  # "2.1", "3/4 đơn vị": a day and month need "ngày" before them
        found.append(_Found(match.start(), match.end(), int(match.group(1)), int(match.group(3)), year))
    return sorted(found, key=lambda f: f.start)


def _document_date(text: _Text) -> tuple[int | None, int | None, tuple[int, int] | None]:
    """(month, year, span) of the guideline's own date line ("Lào Cai, ngày ... tháng 01 năm 2024")."""
    for index in range(min(len(text.lines), 30)):
        a, b = text.lines[index]
        key = text.key[a:b].strip()
        if _is_date_line(text.text[a:b].strip()) and len(key.split()) <= 40:
            year = _DATE_LINE_YEAR.search(key)
            if year is not None:
                return (int(year.group(1)) if year.group(1) else None), int(year.group(2)), (a, b)
            return None, None, (a, b)
    return None, None, None


@dataclass(frozen=True)
class _Reading:
    rule: DeadlineRule
    written_start: int
    time: dt.time | None


def _reading(text: _Text, found: _Found, clause_start: int) -> _Reading:
    """How the words just before a date read it: the first rule that matches wins."""
    lo = max(clause_start, found.start - _WINDOW)
    before_text = text.text[lo:found.start]
    time = _TIME_BEFORE.search(before_text)
    if time is not None and 0 <= int(time.group(1)) <= 23 and 0 <= int(time.group(2) or 0) <= 59:
        at = dt.time(int(time.group(1)), int(time.group(2) or 0))
        head = lo + time.start()
        words = re.search(r"\b(?:truoc|cham nhat|muon nhat|han|den|vao|luc)\s*$", text.key[lo:head])
        return _Reading(DeadlineRule.AT_TIME, lo + words.start() if words else head, at)
    before = text.key[lo:found.start]
    for pattern, rule in _DAY_RULES:
        match = pattern.search(before)
        if match is not None:
            return _Reading(rule, lo + match.start(), None)
    day_word = _DAY_WORD_BEFORE.search(before)
    if _DEADLINE_WORD.search(text.key, clause_start, found.start) and not _FROM.search(before):
        return _Reading(DeadlineRule.END_OF_DAY, lo + day_word.start() if day_word else found.start, None)
    return _Reading(DeadlineRule.PLAIN, lo + day_word.start() if day_word else found.start, None)


def _context(text: _Text, start: int, end: int, heading: str) -> int:
    """How plainly a clause is about sending the report: 2 sending it, 1 the report or sending, 0 neither."""
    clause = text.key[start:end]
    if _REPORTING_HEADING.search(clause) or _REPORTING_HEADING.search(heading):
        return 2
    report, send = bool(_REPORT_WORD.search(clause)), bool(_SEND_WORD.search(clause))
    return 2 if report and send else 1 if report or send else 0


@dataclass(frozen=True)
class _Scored:
    found: _Found
    reading: _Reading
    role: DateRole
    score: int
    when: dt.datetime


def _resolve_year(found: _Found, doc_month: int | None, doc_year: int) -> int:
    if found.year is not None:
        return found.year
    # "trước ngày 15/01" in a guideline dated December means next January.
    if doc_month is not None and found.month + 6 < doc_month:
        return doc_year + 1
    return doc_year


def _moment(date: dt.date, reading: _Reading, tz: dt.tzinfo) -> dt.datetime:
    if reading.rule is DeadlineRule.AT_TIME and reading.time is not None:
        return dt.datetime.combine(date, reading.time, tzinfo=tz)
    if reading.rule is DeadlineRule.END_OF_DAY:
        return dt.datetime.combine(date, END_OF_DAY, tzinfo=tz)
    return dt.datetime.combine(date, dt.time(), tzinfo=tz)


def _score_dates(text: _Text, tz: dt.tzinfo, now: dt.datetime) -> list[_Scored]:
    doc_month, doc_year, doc_span = _document_date(text)
    dates = _find_dates(text)
    year = doc_year or _common_year(dates) or now.astimezone(tz).year
    scored: list[_Scored] = []
    for index, found in enumerate(dates):
        sentence = text.sentence_at(found.start)
        previous = dates[index - 1].end if index and dates[index - 1].end > sentence.start else sentence.start
        following = dates[index + 1].start if index + 1 < len(dates) else sentence.end
        clause_end = min(following, sentence.end) if following > found.end else sentence.end
        joined = _NEXT_CLAUSE.search(text.text, found.end, clause_end)
        clause_end = joined.start() if joined else clause_end
        try:
            date = dt.date(_resolve_year(found, doc_month, year), found.month, found.day)
        except ValueError:
            continue  # 31/02: not a date
        reading = _reading(text, found, previous)
        role, score = _role(text, found, reading, previous, clause_end, sentence, doc_span)
        scored.append(_Scored(found, reading, role, score, _moment(date, reading, tz)))
    return scored


def _common_year(dates: list[_Found]) -> int | None:
    years = [f.year for f in dates if f.year is not None]
    return max(set(years), key=years.count) if years else None


def _role(text: _Text, found: _Found, reading: _Reading, clause_start: int, clause_end: int,
          sentence: _Sentence, doc_span: tuple[int, int] | None) -> tuple[DateRole, int]:
    lo = max(clause_start, found.start - _WINDOW)
    if doc_span is not None and doc_span[0] <= found.start < doc_span[1]:
        return DateRole.DOCUMENT_DATE, 0
    if _CITED.search(text.text[lo:found.start]):
        return DateRole.CITED_DOCUMENT, 0
    before = text.key[lo:found.start]
    after = text.key[found.end:clause_end]
    since = text.key[max(sentence.start, lo - _WINDOW):found.start]
    if _FROM.search(before) or (_UNTIL.search(before) and _SINCE.search(since)) or _PERIOD_AFTER.match(after):
        return DateRole.PERIOD, 0
    context = _context(text, clause_start, clause_end, text.headings[sentence.line])
    if reading.rule is DeadlineRule.PLAIN:
        return (DateRole.REPORT_WITHOUT_DEADLINE if context else DateRole.OTHER), 0
    return (DateRole.DEADLINE if context else DateRole.NOT_REPORT), context


def _candidates(text: _Text, tz: dt.tzinfo, now: dt.datetime) -> tuple[tuple[DateCandidate, ...], int | None]:
    """Every date as a candidate, and the index of the one taken (None when none is clear)."""
    scored = _score_dates(text, tz, now)
    deadlines = [s for s in scored if s.role is DateRole.DEADLINE]
    best = max((s.score for s in deadlines), default=0)
    top = [s for s in deadlines if s.score == best]
    chosen: int | None = None
    if len({s.when for s in top}) == 1:
        chosen = scored.index(top[0])
    out: list[DateCandidate] = []
    for index, item in enumerate(scored):
        role = item.role
        if role is DateRole.DEADLINE and (chosen is None or item.when != scored[chosen].when):
            role = DateRole.AMBIGUOUS if chosen is None else DateRole.LESS_CLEAR
        start = min(item.reading.written_start, item.found.start)
        written = text.text[start:item.found.end]
        out.append(DateCandidate(written, item.when, item.reading.rule, role, index == chosen,
                                 text.sourced(written, start, item.found.end)))
    return tuple(out), chosen


# ------------------------------------------------------------------ title

_KIND_LINE: Final = re.compile(
    r"^(?:huong dan|ke hoach|thong bao|cong van|quyet dinh|chi thi|bao cao|de an|chuong trinh)$")
# "V/v ..." anywhere in a header line (a cell's soft breaks run the header together), "Về việc ..." opening one.
_SUBJECT_LINE: Final = re.compile(r"(?:^|\s)V/v\s*[:.-]?\s*|^\s*Về việc\s*[:.-]?\s*", re.IGNORECASE)
_NOT_SUBJECT: Final = re.compile(r"^(?:thực hiện|căn cứ|kính gửi|số\s*:)", re.IGNORECASE)


def _title(text: _Text) -> Sourced | None:
    """The subject: a công văn's "V/v ..." line, else the line(s) under the document's kind."""
    head = min(len(text.lines), 40)
    for index in range(head):
        a, b = text.lines[index]
        subject = _SUBJECT_LINE.search(text.text[a:b])
        if subject is not None and subject.end() < b - a:
            start = a + subject.end()
            end = _continued(text, index, b)
            value = " ".join(text.text[start:end].split())
            return text.sourced(value[0].upper() + value[1:], start, end)
    for index in range(head - 1):
        a, b = text.lines[index]
        if _KIND_LINE.match(text.key[a:b].strip()) and text.text[a:b].strip().isupper():
            start, end = text.lines[index + 1]
            if start == end or _NOT_SUBJECT.match(text.text[start:end]):
                continue
            end = _continued(text, index + 1, end)
            return text.sourced(" ".join(text.text[start:end].split()), start, end)
    return None


_NOT_CONTINUED: Final = re.compile(
    r"^(?:số\b|kính gửi|độc lập|thực hiện|căn cứ|nơi nhận|\(|[^\d,]{1,40},\s*ngày\b)", re.IGNORECASE)
_MAX_TITLE_LINES: Final = 4


def _continued(text: _Text, index: int, end: int) -> int:
    """End of a subject that runs on over the next lines (a narrow header column wraps it): lines
    that are neither capitals, nor numbered, nor the date line, nor the start of the body."""
    for _ in range(_MAX_TITLE_LINES - 1):
        if index + 1 >= len(text.lines) or text.text[end - 1:end] in (".", ":", ";"):
            break
        a, b = text.lines[index + 1]
        line = text.text[a:b].strip()
        if (not line or line.isupper() or len(line.split()) > 25 or _NOT_CONTINUED.match(line)
                or line.endswith((":", ".")) or _is_date_line(line) or split_number(line)[0] is not None):
            break
        end, index = b, index + 1
    return end


# ------------------------------------------------------------------ section title

# The request before the section's title, on the key; `lead` keeps words that are the title's own.
_SECTION_REQUESTS: Final = (
    re.compile(r"\b(?:can|phai|nen)\s+(?:co|danh)\s+(?:mot\s+)?(?:muc|phan|noi dung)\s+(?:bao cao\s+)?"
               r"(?:(?P<lead>danh gia rieng ve|danh gia rieng|danh gia)\s+|rieng\s+(?:ve\s+)?)"),
    re.compile(r"\b(?:co|danh)\s+(?:mot\s+)?(?:muc|phan)\s+rieng\s+(?:(?P<lead>danh gia)\s+|ve\s+)"),
    re.compile(r"\bbao cao\s+(?:de nghi|can|phai)\s+(?:cac don vi\s+)?(?P<lead>danh gia)\s+"),
    re.compile(r"\btrong bao cao\b[^.;]{0,60}?\b(?:de nghi|yeu cau|can|phai)\s+(?:cac don vi\s+)?"
               r"(?P<lead>danh gia rieng ve|danh gia)\s+"),
)
_SECTION_END_MARK: Final = re.compile(r"[.;:(]")
_SECTION_END_WORDS: Final = re.compile(r"\s(?:để|nhằm|và gửi|gửi về)\s", re.IGNORECASE)


def _section_title(text: _Text) -> Sourced | None:
    for sentence in text.sentences:
        key = text.key[sentence.start:sentence.end]
        for pattern in _SECTION_REQUESTS:
            match = pattern.search(key)
            if match is None:
                continue
            lead = match.start("lead") if match.group("lead") else match.end()
            start = sentence.start + lead
            end = min((m.start() for m in (_SECTION_END_MARK.search(text.text, start, sentence.end),
                                           _SECTION_END_WORDS.search(text.text, start, sentence.end)) if m),
                      default=sentence.end)
            value = text.text[start:end].strip(" ,")
            if len(value.split()) >= 2:
                end = start + len(value)
                return text.sourced(value[0].upper() + value[1:], start, end)
    return None


# ------------------------------------------------------------------ address

# Bounded parts, started only where a run of address characters starts: linear on hostile text.
_EMAIL: Final = re.compile(r"(?<![A-Za-z0-9._%+\-])[A-Za-z0-9][A-Za-z0-9._%+\-]{0,63}@[A-Za-z0-9\-]{1,63}"
                           r"(?:\.[A-Za-z0-9\-]{1,63}){1,8}")
_MAIL_WORDS: Final = re.compile(r"\b(?:gui|nop|email|e mail|thu dien tu|hop thu|dia chi)\b")


def _address(text: _Text, deadline: Sourced | None) -> Sourced | None:
    """The reply address: in the deadline's paragraph, else in a sentence about sending, else the only one."""
    found = list(_EMAIL.finditer(text.text))
    if not found:
        return None
    if deadline is not None:
        line = text.sentence_at(deadline.start).line
        a, b = text.lines[line]
        near = [m for m in found if a <= m.start() < b]
        if near:
            return _sourced_address(text, near[0])
    sending = [m for m in found if _MAIL_WORDS.search(
        text.key, max(text.sentence_at(m.start()).start, m.start() - _WINDOW), m.start())]
    if sending:
        return _sourced_address(text, sending[0])
    if len({m.group(0).casefold() for m in found}) == 1:
        return _sourced_address(text, found[0])
    return None


def _sourced_address(text: _Text, match: re.Match[str]) -> Sourced:
    value = match.group(0).rstrip(".-")
    return text.sourced(value, match.start(), match.start() + len(value))


# ------------------------------------------------------------------ report outline

_OUTLINE_START: Final = re.compile(r"^(?:de cuong|phu luc|mau bao cao|goi y noi dung bao cao)\b")
_OUTLINE_END: Final = re.compile(r"^(?:noi nhan|nguoi lap|tm |kt |tl |thu truong|xac nhan)\b")
_MAX_OUTLINE_WORDS: Final = 30


def _outline(text: _Text) -> tuple[OutlineItem, ...]:
    """The headings of the attached outline: after an "ĐỀ CƯƠNG ..." or "Phụ lục" line, numbered lines."""
    begin = next((i for i, (a, b) in enumerate(text.lines)
                  if _OUTLINE_START.match(text.key[a:b].strip()) and len(text.key[a:b].split()) <= 14), None)
    if begin is None:
        return ()
    raw: list[tuple[str, str, int, int, int]] = []
    for a, b in text.lines[begin + 1:]:
        line = text.text[a:b]
        if _OUTLINE_END.match(text.key[a:b].strip()):
            break
        level = number_level(line)
        number, rest = split_number(line)
        if level is None or number is None:
            continue
        title = rest.split(":", 1)[0].strip() if ":" in rest[:120] else rest.strip()
        if not title or len(title.split()) > _MAX_OUTLINE_WORDS:
            continue
        offset = a + line.find(title)
        raw.append((number.label, title, level, offset, offset + len(title)))
    ranks = sorted({level for _, _, level, _, _ in raw})
    return tuple(OutlineItem(number, title, ranks.index(level) + 1, start, end)
                 for number, title, level, start, end in raw)


# ------------------------------------------------------------------ entry point


def parse_guideline(raw_text: str, tz: dt.tzinfo, now: dt.datetime) -> GuidelineFacts:
    """The facts a campaign needs from a guideline's text.

    `tz` is the office's zone (deadlines are read in it); `now` gives the year
    when neither the guideline's date line nor any of its dates does.
    """
    text = _Text(_normalise(raw_text))
    if not text.text:
        return GuidelineFacts("", None, None, None, None, None, (), ())
    candidates, chosen = _candidates(text, tz, now)
    deadline = candidates[chosen] if chosen is not None else None
    deadline_source = deadline.source if deadline is not None else None
    return GuidelineFacts(
        text=text.text,
        title=_title(text),
        deadline=deadline.when if deadline is not None else None,
        deadline_source=deadline_source,
        section_title=_section_title(text),
        address=_address(text, deadline_source),
        deadline_candidates=candidates,
        outline=_outline(text),
    )
