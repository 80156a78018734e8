"""Participation figures stated in a section's text.

`extract_figures(text)` reads what the section *says*: the number of people
who took part in the study (`participants`), the membership it is measured
against (`members`), the participation rate (`rate_percent`) and the number of
sessions, conferences or classes held (`sessions`). Each key is set only
where the text states it.

Decisions, because staff compile these numbers into a report for the level
above and a wrong number is worse than a missing one:

* The rate is never computed from participants and members. SPEC asks for
  "the participation figures the section states"; a unit that writes
  1.234/1.250 without a percentage has not stated one, and rounding
  conventions differ between units.
* Several matches for one figure: an explicit total ("tổng số", "tổng cộng")
  wins, else the first statement in the section (units lead with the
  overall figure and break it down afterwards).
* A statistics table (header cells such as "Tổng số đoàn viên", "Số tham gia
  học tập", "Tỷ lệ (%)", "Số buổi") is read before the prose, because its
  labels are unambiguous; its "Tổng"/"Cộng" row wins, a single data row is
  accepted, and several unit rows without a total row are not summed.
  Figures the table lacks are taken from the prose. A table whose columns
  name no figure is read row by row as "label: value" sentences (the
  "Nội dung | Số lượng" layout).
* Vietnamese number format: "." groups thousands ("1.234" = 1234), ","
  is the decimal mark ("98,5%" = 98.5). A count written "1,234" (English
  grouping) is read as 1234 since a head count cannot be fractional.
  Percentages above 100 are rejected.

Matching runs on words passed through `fold()` (no diacritics, lower case)
with digits and punctuation kept, so "Đoàn viên", "ĐOÀN VIÊN" and old or new
tone placement all read the same while "1.234" stays one number.
"""
from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from .model import Figures
from .vietnamese import clean, fold

__all__ = ["extract_figures", "parse_count", "parse_percent"]

# A number as units write it: 1.234 / 1.234.567 / 1,234 / 98,5 / 98.5 / 12.
_NUM = r"\d{1,3}(?:[.,]\d{3})+(?![.,]?\d)|\d+(?:[.,]\d+)?"
_PCT = r"\d{1,3}(?:[.,]\d{1,2})?"

# Who is counted. Longest alternatives first so the regex engine takes them whole.
_PEOPLE = (
    r"(?:luot\s+)?(?:"
    r"cong nhan,? vien chuc,? lao dong|cong nhan vien chuc lao dong|cong nhan vien chuc|"
    r"nguoi lao dong|doan vien cong doan|doan vien|hoi vien|dang vien|"
    r"can bo,? (?:dang vien,? )?(?:doan vien|cnvcld|cnvc|cnld|hoi vien)|can bo|"
    r"cb,? ?(?:dv|cnvcld)|cbdv|cnvc-?ld|cnvcld|cnvc|cnld|"
    r"dong chi|nguoi|lao dong|dvcd|dv)"
)
_JOINED = r"(?:tham gia|tham du|duoc hoc|duoc quan triet|duoc tuyen truyen|duoc pho bien|hoc tap)"
_SESSION_NOUN = r"(?:buoi|hoi nghi|lop|cuoc|dot)"
_TOTAL_CUE = re.compile(r"\btong(?: so| cong)?\b")

# Spans that hold digits but are never a figure: years, dates, document numbers.
_NOISE = (
    re.compile(r"\b\d{1,2}\s*/\s*\d{1,2}\s*/\s*\d{2,4}\b"),              # 15/01/2024
    re.compile(r"\b\d+\s*-\s*[a-z]{1,5}(?:\s*/\s*[a-z]{1,6})+"),           # 05-CT/TW, 12-HD/BTCTW
    re.compile(r"\b(?:nam|thang|ngay|quy|so)\s+(?:19|20)\d{2}\b"),          # năm 2024
    re.compile(r"\b(?:thang|ngay|quy)\s+\d{1,2}\b"),                       # tháng 3
    re.compile(r"(?<!tong )\b(?:so|khoa|lan thu)\s+\d{1,3}(?![\d.,/%-])"),      # số 12, Khoá 13
)

_P_RATIO = re.compile(rf"(?P<part>{_NUM})\s*/\s*(?P<mem>{_NUM})\s+(?:{_PEOPLE})")
_P_COUNT_THEN_JOINED = re.compile(
    rf"(?P<pre>(?:tong so|tong cong|co|voi|thu hut|cho|gom|duoc)\s+)?"
    rf"(?P<part>{_NUM})\s+(?:{_PEOPLE})\b(?P<gap>[^.;:\n\d]{{0,40}}?)\s{_JOINED}"
)
_P_LABEL_THEN_COUNT = re.compile(
    rf"(?P<pre>tong so|so luong|so)\s+(?:{_PEOPLE})\b[^.;\n\d]{{0,40}}?{_JOINED}"
    rf"[^.;\n\d]{{0,30}}?(?P<part>{_NUM})(?!\s*%)"
)
_M_OUT_OF = re.compile(rf"\btren\s+(?:tong\s+so|tong)\s+(?:(?:{_PEOPLE})\s+)?(?:la\s+)?(?P<mem>{_NUM})")
_M_LABEL = re.compile(
    rf"\b(?:tong\s+so|tong)\s+(?:{_PEOPLE})\b(?P<gap>[^.;\n\d]{{0,40}}?)(?:la|:|co)?\s*(?P<mem>{_NUM})(?!\s*%)"
)
_M_COUNT = re.compile(rf"\b(?:tong\s+so|hien\s+co|co\s+tong\s+so)\s+(?P<mem>{_NUM})\s+(?:{_PEOPLE})\b")
_R_RATE = re.compile(
    rf"(?:\bdat(?:\s+ty\s+le|\s+ti\s+le)?|\bty\s+le|\bti\s+le|\bbang|\bchiem)"
    rf"[^.;\n\d%]{{0,40}}?(?P<pct>{_PCT})\s*%"
)
_R_PAREN = re.compile(rf"\(\s*(?:dat\s+)?(?P<pct>{_PCT})\s*%\s*\)")
_S_HELD = re.compile(
    rf"\b(?:to\s+chuc|mo)(?:\s+duoc)?(?:\s+(?:tong\s+so|tong\s+cong|chung|tong))?\s+"
    rf"(?P<n>{_NUM})\s+{_SESSION_NOUN}\b"
)
_S_LABEL = re.compile(
    rf"\b(?:tong\s+)?so\s+{_SESSION_NOUN}\b[^.;\n\d]{{0,40}}?(?:la|:)?\s*(?P<n>{_NUM})(?!\s*%)"
)
_NOT_MEMBERS = re.compile(rf"{_JOINED}|duoc|\bda\b")
_LETTERS = re.compile(r"[^\W\d_]+")
_SENTENCE_END = re.compile(r"[.;!?](?=\s|$)|\n")


def parse_count(token: str) -> int | None:
    """A head count written the Vietnamese way ("1.234"), or None if not a whole number."""
    token = token.strip()
    if re.fullmatch(r"\d+", token):
        return int(token)
    if re.fullmatch(r"\d{1,3}(?:\.\d{3})+", token) or re.fullmatch(r"\d{1,3}(?:,\d{3})+", token):
        return int(re.sub(r"[.,]", "", token))
    return None


def parse_percent(token: str) -> float | None:
    """A percentage ("98,5", "98.5%", "100") as a float in 0..100, else None."""
    token = token.strip().rstrip("%").strip()
    # Three digits after the mark would be Vietnamese thousands grouping, not a decimal.
    if not re.fullmatch(r"\d{1,3}(?:[.,]\d{1,2})?", token):
        return None
    value = float(token.replace(",", "."))
    return value if 0.0 <= value <= 100.0 else None


@dataclass(frozen=True)
class _Hit:
    value: int | float
    start: int
    total: bool  # introduced by "tổng số"/"tổng cộng": the overall figure


def _pick(hits: Sequence[_Hit]) -> int | float | None:
    if not hits:
        return None
    totals = [h for h in hits if h.total]
    chosen = min(totals or hits, key=lambda h: h.start)
    return chosen.value


def _fold_words(line: str) -> str:
    """`fold()` each run of letters but keep digits and punctuation: "1.234", "98,5%" must survive."""
    return _LETTERS.sub(lambda m: fold(m.group(0)), clean(line))


def _neutralise(folded: str) -> str:
    """Blank out digits that are dates, years or document numbers, keeping offsets."""
    for pattern in _NOISE:
        folded = pattern.sub(lambda m: re.sub(r"\d", "#", m.group(0)), folded)
    return folded


def _sentence_bounds(text: str, pos: int) -> tuple[int, int]:
    start = 0
    for m in _SENTENCE_END.finditer(text, 0, pos):
        start = m.end()
    end_match = _SENTENCE_END.search(text, pos)
    return start, end_match.start() if end_match else len(text)


def _prose_figures(folded: str) -> dict[str, int | float]:
    participants: list[_Hit] = []
    members: list[_Hit] = []
    sessions: list[_Hit] = []
    participant_sentences: list[tuple[int, int]] = []

    def add_participants(token: str, start: int, total: bool) -> None:
        value = parse_count(token)
        if value is not None:
            participants.append(_Hit(value, start, total))
            participant_sentences.append(_sentence_bounds(folded, start))

    for m in _P_RATIO.finditer(folded):
        add_participants(m.group("part"), m.start(), False)
        mem = parse_count(m.group("mem"))
        if mem is not None:
            members.append(_Hit(mem, m.start(), False))
    for m in _P_COUNT_THEN_JOINED.finditer(folded):
        pre = m.group("pre") or ""
        add_participants(m.group("part"), m.start("part"), bool(_TOTAL_CUE.search(pre)))
    for m in _P_LABEL_THEN_COUNT.finditer(folded):
        add_participants(m.group("part"), m.start(), m.group("pre") == "tong so")

    for m in _M_OUT_OF.finditer(folded):
        mem = parse_count(m.group("mem"))
        if mem is not None:
            members.append(_Hit(mem, m.start(), True))
    for m in _M_LABEL.finditer(folded):
        # "tổng số đoàn viên tham gia: N" counts participants, not the membership.
        if _NOT_MEMBERS.search(m.group("gap")):
            continue
        mem = parse_count(m.group("mem"))
        if mem is not None:
            members.append(_Hit(mem, m.start(), True))
    for m in _M_COUNT.finditer(folded):
        follow = folded[m.end() : m.end() + 40]
        if re.match(rf"[^.;\n]*?\s{_JOINED}", follow):
            continue
        mem = parse_count(m.group("mem"))
        if mem is not None:
            members.append(_Hit(mem, m.start(), True))

    for m in _S_HELD.finditer(folded):
        n = parse_count(m.group("n"))
        if n is not None:
            sessions.append(_Hit(n, m.start(), bool(_TOTAL_CUE.search(m.group(0)))))
    for m in _S_LABEL.finditer(folded):
        n = parse_count(m.group("n"))
        if n is not None:
            sessions.append(_Hit(n, m.start(), m.group(0).startswith("tong")))

    rates: list[_Hit] = []
    people = re.compile(rf"\b(?:{_PEOPLE})\b")
    for pattern in (_R_RATE, _R_PAREN):
        for m in pattern.finditer(folded):
            pct = parse_percent(m.group("pct"))
            if pct is None:
                continue
            bounds = _sentence_bounds(folded, m.start())
            # A rate counts only when it is about people taking part: the same
            # sentence as a participant count, or one naming members and study.
            in_participant_sentence = bounds in participant_sentences
            sentence = folded[bounds[0] : bounds[1]]
            about_people = bool(people.search(sentence)) and bool(re.search(_JOINED, sentence))
            if in_participant_sentence or about_people:
                rates.append(_Hit(pct, m.start(), in_participant_sentence))

    out: dict[str, int | float] = {}
    for key, hits in (("participants", participants), ("members", members),
                      ("rate_percent", rates), ("sessions", sessions)):
        value = _pick(hits)
        if value is not None:
            out[key] = value
    return out


def _table_runs(text: str) -> Iterator[list[list[str]]]:
    """Consecutive tab-separated lines: the tables of the section's text."""
    run: list[list[str]] = []
    for line in text.split("\n"):
        if "\t" in line:
            run.append([cell.strip() for cell in line.split("\t")])
        elif run:
            yield run
            run = []
    if run:
        yield run


def _column_key(label: str) -> str | None:
    if not label:
        return None
    if "%" in label or re.search(r"\bt[yi] le\b", label):
        return "rate_percent"
    if re.search(rf"\b{_SESSION_NOUN}\b", label):
        return "sessions"
    if re.search(r"tham gia|tham du|duoc hoc|hoc tap|quan triet|da hoc", label):
        return "participants"
    if re.search(rf"\b(?:{_PEOPLE})\b|\btong so\b", label):
        return "members"
    return None


def _is_total_row(row: Sequence[str]) -> bool:
    first_words = " ".join(fold(cell) for cell in row[:2] if cell)
    return bool(re.match(r"\s*(?:tong|cong)\b", first_words))


def _cell_value(key: str, cell: str) -> int | float | None:
    cell = cell.strip()
    if key == "rate_percent":
        return parse_percent(cell)
    return parse_count(cell)


def _table_figures(rows: list[list[str]]) -> dict[str, int | float]:
    def is_data(row: Sequence[str]) -> bool:
        return sum(1 for cell in row if parse_count(cell) is not None or parse_percent(cell) is not None) >= 1

    first_data = next((i for i, row in enumerate(rows) if is_data(row) and i > 0), None)
    if first_data is None:
        return {}
    header_rows = rows[:first_data]
    width = max(len(row) for row in header_rows)
    labels: list[str] = []
    for col in range(width):
        parts = [_fold_words(row[col]) for row in header_rows if col < len(row) and row[col]]
        labels.append(" ".join(parts))
    columns = {col: key for col, label in enumerate(labels) if (key := _column_key(label)) is not None}
    if not columns:
        return {}

    data_rows = [row for row in rows[first_data:] if any(cell for cell in row)]
    totals = [row for row in data_rows if _is_total_row(row)]
    if totals:
        chosen = totals[-1]
    elif len(data_rows) == 1:
        chosen = data_rows[0]
    else:
        return {}  # unit rows without a total: summing them would be a guess
    # Merged "Tổng cộng" cells leave a total row shorter than the header; the
    # figures sit at the right, so align from the right.
    shift = width - len(chosen)
    out: dict[str, int | float] = {}
    for col, key in columns.items():
        idx = col - shift
        if key in out or not 0 <= idx < len(chosen):
            continue
        value = _cell_value(key, chosen[idx])
        if value is not None:
            out[key] = value
    return out


def _row_sentence(row: Sequence[str]) -> str:
    cells = [cell for cell in row if cell]
    if cells and re.fullmatch(r"\d{1,3}[.)]?|[IVX]+\.?|[a-z]\)", cells[0]):
        cells = cells[1:]  # the row's ordinal, not a figure
    if not cells:
        return ""
    return cells[0].rstrip(":") + ": " + " ".join(cells[1:]) + "."


def extract_figures(text: str) -> Figures:
    """The participation figures `text` states; keys not stated stay None."""
    found: dict[str, int | float] = {}
    row_sentences: list[str] = []
    for rows in _table_runs(text):
        from_columns = _table_figures(rows)
        for key, value in from_columns.items():
            found.setdefault(key, value)
        if not from_columns:
            # A label/value table ("Số đoàn viên tham gia học tập | 2.205 | đạt 95,5%")
            # says in each row what a prose sentence would.
            row_sentences.extend(_row_sentence(row) for row in rows)
    lines = [line for line in text.split("\n") if "\t" not in line] + row_sentences
    prose = "\n".join(_fold_words(line) for line in lines)
    for key, value in _prose_figures(_neutralise(prose)).items():
        found.setdefault(key, value)
    participants = found.get("participants")
    members = found.get("members")
    rate = found.get("rate_percent")
    sessions = found.get("sessions")
    return Figures(
        participants=int(participants) if participants is not None else None,
        members=int(members) if members is not None else None,
        rate_percent=float(rate) if rate is not None else None,
        sessions=int(sessions) if sessions is not None else None,
    )
