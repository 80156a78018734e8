"""Render Word's automatic numbering ("III.", "2.1.", "a)") from numbering.xml.

Word keeps list numbers outside the paragraph text: the text says "ĐÁNH GIÁ ...",
the page shows "III. ĐÁNH GIÁ ...". Units often use automatic numbers for the
top level only, so the section finder needs them rendered.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from lxml import etree

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def w(tag: str) -> str:
    return f"{{{W_NS}}}{tag}"


def wval(el: etree._Element | None, attr: str = "val") -> str | None:
    if el is None:
        return None
    value = el.get(w(attr))
    return None if value is None else str(value)


def to_int(value: str | None, default: int) -> int:
    if value is None:
        return default
    try:
        return int(value)
    except ValueError:
        return default


@dataclass(frozen=True)
class Level:
    start: int = 1
    num_fmt: str = "decimal"
    lvl_text: str = "%1."
    is_lgl: bool = False
    restart: int | None = None  # w:lvlRestart: 0 = never restart


@dataclass(frozen=True)
class NumDef:
    abstract_id: str
    start_overrides: dict[int, int] = field(default_factory=dict)
    level_overrides: dict[int, Level] = field(default_factory=dict)


def _parse_level(lvl: etree._Element) -> Level:
    restart_el = lvl.find(w("lvlRestart"))
    return Level(
        start=to_int(wval(lvl.find(w("start"))), 1),
        num_fmt=wval(lvl.find(w("numFmt"))) or "decimal",
        lvl_text=wval(lvl.find(w("lvlText"))) or "",
        is_lgl=_on(lvl.find(w("isLgl"))),
        restart=None if restart_el is None else to_int(wval(restart_el), 1),
    )


def _on(el: etree._Element | None) -> bool:
    if el is None:
        return False
    return wval(el) not in ("0", "false", "off", "none")


def _roman(n: int) -> str:
    if n <= 0:
        return str(n)
    out = []
    for value, letters in (
        (1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"),
        (50, "L"), (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I"),
    ):
        while n >= value:
            out.append(letters)
            n -= value
    return "".join(out)


def _letter(n: int) -> str:
    # Word repeats the letter past Z: 27 -> AA, 28 -> BB.
    if n <= 0:
        return str(n)
    return chr(ord("A") + (n - 1) % 26) * ((n - 1) // 26 + 1)


def format_number(n: int, num_fmt: str) -> str:
    if num_fmt == "upperRoman":
        return _roman(n)
    if num_fmt == "lowerRoman":
        return _roman(n).lower()
    if num_fmt == "upperLetter":
        return _letter(n)
    if num_fmt == "lowerLetter":
        return _letter(n).lower()
    if num_fmt == "decimalZero":
        return f"{n:02d}"
    if num_fmt in ("none", "bullet"):
        return ""
    return str(n)


class Numbering:
    """numbering.xml plus the counters of one pass through a document.

    One instance per parse: the counters are state of that walk only.
    """

    def __init__(self, root: etree._Element | None, style_num: dict[str, tuple[str, int]]) -> None:
        self._abstracts: dict[str, dict[int, Level]] = {}
        self._abstract_style_link: dict[str, str] = {}
        self._nums: dict[str, NumDef] = {}
        self._style_num = style_num  # styleId -> (numId, ilvl) for w:numStyleLink
        self._counters: dict[str, list[int | None]] = {}
        if root is None:
            return
        for abstract in root.iterfind(w("abstractNum")):
            abs_id = abstract.get(w("abstractNumId"))
            if abs_id is None:
                continue
            levels = {}
            for lvl in abstract.iterfind(w("lvl")):
                levels[to_int(lvl.get(w("ilvl")), 0)] = _parse_level(lvl)
            self._abstracts[abs_id] = levels
            link = wval(abstract.find(w("numStyleLink")))
            if link:
                self._abstract_style_link[abs_id] = link
        for num in root.iterfind(w("num")):
            num_id = num.get(w("numId"))
            abs_id = wval(num.find(w("abstractNumId")))
            if num_id is None or abs_id is None:
                continue
            starts: dict[int, int] = {}
            lvls: dict[int, Level] = {}
            for override in num.iterfind(w("lvlOverride")):
                ilvl = to_int(override.get(w("ilvl")), 0)
                start_el = override.find(w("startOverride"))
                if start_el is not None:
                    starts[ilvl] = to_int(wval(start_el), 1)
                lvl_el = override.find(w("lvl"))
                if lvl_el is not None:
                    lvls[ilvl] = _parse_level(lvl_el)
            self._nums[num_id] = NumDef(abs_id, starts, lvls)

    def _resolve_abstract(self, abs_id: str, depth: int = 0) -> str:
        # A w:numStyleLink abstractNum holds no levels: follow the numbering style.
        link = self._abstract_style_link.get(abs_id)
        if link is None or depth > 4 or self._abstracts.get(abs_id):
            return abs_id
        target = self._style_num.get(link)
        if target is None:
            return abs_id
        num = self._nums.get(target[0])
        if num is None:
            return abs_id
        return self._resolve_abstract(num.abstract_id, depth + 1)

    def _level(self, num: NumDef, abs_id: str, ilvl: int) -> Level:
        if ilvl in num.level_overrides:
            return num.level_overrides[ilvl]
        return self._abstracts.get(abs_id, {}).get(ilvl, Level())

    def is_bullet(self, num_id: str, ilvl: int) -> bool:
        num = self._nums.get(num_id)
        if num is None:
            return False
        abs_id = self._resolve_abstract(num.abstract_id)
        return self._level(num, abs_id, ilvl).num_fmt == "bullet"

    def next(self, num_id: str, ilvl: int) -> str:
        """Advance the counters for one numbered paragraph; return its number."""
        num = self._nums.get(num_id)
        if num is None or num_id == "0":
            return ""
        ilvl = max(0, min(ilvl, 8))
        abs_id = self._resolve_abstract(num.abstract_id)
        # Word continues a list across w:num instances of one abstractNum unless
        # an instance restarts it with an override.
        overridden = bool(num.start_overrides or num.level_overrides)
        key = f"num:{num_id}" if overridden else f"abs:{abs_id}"
        counters = self._counters.setdefault(key, [None] * 9)

        def start_of(level_index: int) -> int:
            if level_index in num.start_overrides:
                return num.start_overrides[level_index]
            return self._level(num, abs_id, level_index).start

        current = counters[ilvl]
        counters[ilvl] = start_of(ilvl) if current is None else current + 1
        for deeper in range(ilvl + 1, 9):
            restart = self._level(num, abs_id, deeper).restart
            if restart == 0:
                continue
            if restart is None or ilvl < restart:
                counters[deeper] = None
        level = self._level(num, abs_id, ilvl)
        if level.num_fmt == "bullet":
            return "-"
        text = level.lvl_text
        out = []
        i = 0
        while i < len(text):
            ch = text[i]
            if ch == "%" and i + 1 < len(text) and text[i + 1] in "123456789":
                ref = int(text[i + 1]) - 1
                value = counters[ref]
                if value is None:
                    value = start_of(ref)
                fmt = self._level(num, abs_id, ref).num_fmt
                if level.is_lgl:
                    fmt = "decimal"
                out.append(format_number(value, fmt))
                i += 2
                continue
            out.append(ch)
            i += 1
        return "".join(out).strip()
