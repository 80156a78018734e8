"""styles.xml resolved into what the outline needs: names, heading levels,
list membership, and the run properties (bold, caps, size, font) a style chain
gives. Only the properties intake uses are read.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from lxml import etree

from .docx_numbering import to_int, w, wval

_HEADING_NAME = re.compile(r"^heading\s*([1-9])$", re.IGNORECASE)

# What `without_table_styles` relies on: the main namespace bound to "w", once, on the root.
_MAIN_NS_DECLARED = re.compile(
    rb"""<w:styles\s[^>]*?xmlns:w\s*=\s*["']http://schemas\.openxmlformats\.org/wordprocessingml/2006/main["']""")
_TABLE_STYLE = re.compile(rb"""<w:style\s[^>]*?\bw:type\s*=\s*["']table["'][^>]*?(/?)>""")
_STYLE_START = b"<w:style"
_STYLE_END = b"</w:style>"


def on_off(el: etree._Element | None) -> bool | None:
    """A w:b/w:caps toggle: None when absent."""
    if el is None:
        return None
    return wval(el) not in ("0", "false", "off", "none")


def without_table_styles(xml: bytes) -> bytes:
    """styles.xml less its table styles, which the outline never reads (`Styles` resolves paragraph
    and character styles, and lists): `xml` itself unless it is laid out as Word writes it.

    Word's and python-docx's templates define a hundred table styles; they make up most of a
    300 kB styles.xml, and parsing them was a third of the time spent on a short report. The cut
    is made only where it cannot change what the rest means: the main namespace bound to "w" once,
    on the root; no comment, CDATA section or DTD (nothing starting "<!"); each table style closed
    by the first "</w:style>" after it, with no other style inside."""
    if b"<!" in xml or xml.count(b"xmlns:w=") != 1 or _MAIN_NS_DECLARED.search(xml) is None:
        return xml
    kept: list[bytes] = []
    pos = 0
    while (found := _TABLE_STYLE.search(xml, pos)) is not None:
        end = found.end()
        if not found.group(1):  # not self-closing: up to the first end tag, with no style inside
            close = xml.find(_STYLE_END, end)
            if close < 0 or xml.find(_STYLE_START, end, close) >= 0:
                return xml
            end = close + len(_STYLE_END)
        kept.append(xml[pos:found.start()])
        pos = end
    if not kept:
        return xml
    kept.append(xml[pos:])
    return b"".join(kept)


@dataclass(frozen=True)
class RunProps:
    """Run properties, each None when this level of the chain does not say."""

    bold: bool | None = None
    caps: bool | None = None
    size: int | None = None  # half-points
    font: str | None = None  # "" = a theme font (never a legacy one)

    def under(self, base: RunProps) -> RunProps:
        """These properties with gaps filled from `base`."""
        return RunProps(
            bold=self.bold if self.bold is not None else base.bold,
            caps=self.caps if self.caps is not None else base.caps,
            size=self.size if self.size is not None else base.size,
            font=self.font if self.font is not None else base.font,
        )


def read_font(rfonts: etree._Element | None) -> str | None:
    """Font of a w:rFonts: hAnsi first because Word draws U+00A1-U+00FF
    (where legacy Vietnamese text lives) with it, then ascii, then cs."""
    if rfonts is None:
        return None
    for attr in ("hAnsi", "ascii", "cs"):
        if rfonts.get(w(attr + "Theme")) is not None:
            return ""
        value = rfonts.get(w(attr))
        if value:
            return str(value)
    return None


def read_rpr(rpr: etree._Element | None) -> RunProps:
    if rpr is None:
        return RunProps()
    size_el = rpr.find(w("sz"))
    return RunProps(
        bold=on_off(rpr.find(w("b"))),
        caps=on_off(rpr.find(w("caps"))),
        size=None if size_el is None else to_int(wval(size_el), 0) or None,
        font=read_font(rpr.find(w("rFonts"))),
    )


@dataclass(frozen=True)
class Style:
    style_id: str
    name: str
    kind: str
    based_on: str | None
    outline_lvl: int | None
    num_id: str | None
    ilvl: int | None
    rpr: RunProps
    jc: str | None


@dataclass(frozen=True)
class ResolvedStyle:
    name: str
    heading_level: int | None  # from "Heading N"/"Title" name or w:outlineLvl
    num_id: str | None
    ilvl: int
    rpr: RunProps
    jc: str | None


def _display_name(raw: str) -> str:
    # Built-in names are stored in lower case ("heading 1"); Word shows them
    # capitalised, as python-docx does.
    match = _HEADING_NAME.match(raw.strip())
    if match:
        return f"Heading {match.group(1)}"
    lowered = raw.strip().lower()
    if lowered == "title":
        return "Title"
    return raw


class Styles:
    """The styles of one document; resolution is memoised per instance."""

    def __init__(self, root: etree._Element | None) -> None:
        # Word's styles.xml defines a hundred or more styles; a document uses a few. Each is read
        # from its element when first asked for.
        self._elements: dict[str, etree._Element] = {}
        self._styles: dict[str, Style | None] = {}
        self.default_para: str | None = None
        self.default_char: str | None = None
        self.doc_defaults = RunProps()
        self._resolved: dict[str, ResolvedStyle] = {}
        self._char_resolved: dict[str, RunProps] = {}
        self._listed: list[str] = []  # ids of the styles that carry a list (w:pPr/w:numPr), in order
        if root is None:
            return
        defaults = root.find(w("docDefaults"))
        if defaults is not None:
            self.doc_defaults = read_rpr(defaults.find(f"{w('rPrDefault')}/{w('rPr')}"))
        style_id_attr, default_attr, type_attr = w("styleId"), w("default"), w("type")
        for el in root.iterfind(w("style")):
            style_id = el.get(style_id_attr)
            if style_id is None:
                continue
            self._elements[style_id] = el
            if el.get(default_attr) in ("1", "true", "on"):
                kind = el.get(type_attr) or "paragraph"
                if kind == "paragraph":
                    self.default_para = style_id
                elif kind == "character":
                    self.default_char = style_id
        for ppr in root.iterfind(f"{w('style')}/{w('pPr')}[{w('numPr')}]"):
            el = ppr.getparent()
            style_id = None if el is None else el.get(style_id_attr)
            if style_id is not None and self._elements.get(style_id) is el:  # the one kept for its id
                self._listed.append(style_id)

    def _style(self, style_id: str) -> Style | None:
        if style_id not in self._styles:
            el = self._elements.get(style_id)
            self._styles[style_id] = None if el is None else _read_style(style_id, el)
        return self._styles[style_id]

    def numbering_styles(self) -> dict[str, tuple[str, int]]:
        """styleId -> (numId, ilvl) for every style that carries a list."""
        found: dict[str, tuple[str, int]] = {}
        for sid in self._listed:
            style = self._style(sid)
            if style is not None and style.num_id is not None:
                found[sid] = (style.num_id, style.ilvl or 0)
        return found

    def _chain(self, style_id: str | None) -> list[Style]:
        chain: list[Style] = []
        seen: set[str] = set()
        while style_id is not None and style_id not in seen and len(chain) < 20:
            seen.add(style_id)
            style = self._style(style_id)
            if style is None:
                break
            chain.append(style)
            style_id = style.based_on
        return chain

    def paragraph(self, style_id: str | None) -> ResolvedStyle:
        key = style_id if style_id is not None and style_id in self._elements else self.default_para
        cache_key = key or ""
        cached = self._resolved.get(cache_key)
        if cached is not None:
            return cached
        chain = self._chain(key)
        name = chain[0].name if chain else ""
        heading: int | None = None
        for style in chain:
            match = _HEADING_NAME.match(style.name)
            if match:
                heading = int(match.group(1))
                break
            if style.name == "Title":
                heading = 1
                break
            if style.outline_lvl is not None:
                heading = style.outline_lvl + 1 if style.outline_lvl < 9 else None
                break
        num_id: str | None = None
        ilvl = 0
        for style in chain:
            if style.num_id is not None:
                num_id = style.num_id
                ilvl = style.ilvl or 0
                break
        jc = next((s.jc for s in chain if s.jc is not None), None)
        rpr = RunProps()
        for style in chain:
            rpr = rpr.under(style.rpr)
        result = ResolvedStyle(name, heading, num_id, ilvl, rpr, jc)
        self._resolved[cache_key] = result
        return result

    def character(self, style_id: str | None) -> RunProps:
        key = style_id or self.default_char
        if key is None:
            return RunProps()
        cached = self._char_resolved.get(key)
        if cached is not None:
            return cached
        rpr = RunProps()
        for style in self._chain(key):
            rpr = rpr.under(style.rpr)
        self._char_resolved[key] = rpr
        return rpr


def _read_style(style_id: str, el: etree._Element) -> Style:
    kind = el.get(w("type")) or "paragraph"
    ppr = el.find(w("pPr"))
    outline: int | None = None
    num_id: str | None = None
    ilvl: int | None = None
    jc: str | None = None
    if ppr is not None:
        outline_el = ppr.find(w("outlineLvl"))
        if outline_el is not None:
            outline = to_int(wval(outline_el), 9)
        num_pr = ppr.find(w("numPr"))
        if num_pr is not None:
            num_id = wval(num_pr.find(w("numId")))
            ilvl_val = wval(num_pr.find(w("ilvl")))
            ilvl = None if ilvl_val is None else to_int(ilvl_val, 0)
        jc = wval(ppr.find(w("jc")))
    return Style(
        style_id=style_id,
        name=_display_name(wval(el.find(w("name"))) or style_id),
        kind=kind,
        based_on=wval(el.find(w("basedOn"))),
        outline_lvl=outline,
        num_id=num_id,
        ilvl=ilvl,
        rpr=read_rpr(el.find(w("rPr"))),
        jc=jc,
    )
