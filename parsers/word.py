"""A .docx (bytes) into a typed `Outline`: paragraphs and tables in document
order, with heading levels, rendered automatic numbering, legacy Vietnamese
fonts converted, the issuing body and where the closing block starts.

Pure: bytes in, Outline out. The package is checked (sizes, ratios, member
count, member names) before any XML is parsed, and the XML parts are parsed
here with entity resolution and network access off; python-docx is not used
because its walk misses content (w:sdt, w:ins, nested tables) and it refuses
.docm/.dotx main parts.

Text boxes (w:txbxContent in w:drawing/w:pict) are ignored: they hold logos,
stamps and captions far more often than report text, and their position in
reading order is unknown.
"""
from __future__ import annotations

import contextlib
import io
import itertools
import posixpath
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

import olefile
from lxml import etree

from .docx_numbering import Numbering, to_int, w, wval
from .docx_styles import RunProps, Styles, read_rpr, without_table_styles
from .errors import EncryptedDocument, UnreadableDocument, UnsupportedDocument
from .filetype import OLE_MAGIC, ZIP_MAGIC
from .model import Outline
from .structure import RawBlock, RawCell, RawParagraph, RawTable, infer
from .vietnamese import Encoding, detect_encoding, font_encoding_hint, to_unicode

__all__ = ["DocxLimits", "parse_docx", "read_ooxml"]

MC_NS = "http://schemas.openxmlformats.org/markup-compatibility/2006"
REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"

T_P = w("p")
T_TBL = w("tbl")
T_TR = w("tr")
T_TC = w("tc")
T_R = w("r")
T_T = w("t")
T_SDT = w("sdt")
T_SDT_CONTENT = w("sdtContent")
T_PPR = w("pPr")
T_RPR = w("rPr")
MC_ALT = f"{{{MC_NS}}}AlternateContent"
MC_CHOICE = f"{{{MC_NS}}}Choice"

# Inline containers whose children are runs (or more containers) to read.
_INLINE_DESCEND = frozenset(
    w(tag) for tag in ("ins", "moveTo", "hyperlink", "smartTag", "fldSimple", "customXml", "bdo", "dir")
)
# Block containers whose children are paragraphs/tables to read.
_BLOCK_DESCEND = frozenset(w(tag) for tag in ("customXml", "ins", "moveTo"))

_ONE_MB = 1024 * 1024


@dataclass(frozen=True)
class DocxLimits:
    max_file_bytes: int = 30 * 1024 * 1024
    max_part_bytes: int = 40 * 1024 * 1024        # any one uncompressed zip member
    max_total_bytes: int = 120 * 1024 * 1024      # all members uncompressed
    max_ratio: float = 200.0                      # uncompressed/compressed per member (only above 1 MB)
    max_members: int = 2000


# ---------------------------------------------------------------- package


def _check_ole(data: bytes) -> None:
    try:
        with olefile.OleFileIO(io.BytesIO(data)) as ole:
            encrypted = ole.exists("EncryptedPackage")
    except (OSError, ValueError, IndexError, KeyError) as exc:  # olefile raises these on damage
        raise UnreadableDocument(f"damaged OLE container: {exc}") from exc
    if encrypted:
        raise EncryptedDocument("password-protected Word file (OLE EncryptedPackage)")
    raise UnsupportedDocument("legacy .doc: convert first")


def _bad_member_name(name: str) -> bool:
    if not name or "\x00" in name or "\\" in name or name.startswith("/"):
        return True
    parts = name.split("/")
    return ".." in parts or ":" in parts[0]


def _open_zip(data: bytes, limits: DocxLimits) -> zipfile.ZipFile:
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
        raise UnreadableDocument(f"not a valid zip package: {exc}") from exc
    if len(infos) > limits.max_members:
        raise UnreadableDocument(f"too many zip members ({len(infos)} > {limits.max_members})")
    total = 0
    seen: set[str] = set()
    for info in infos:
        name = info.filename
        if _bad_member_name(name):
            raise UnreadableDocument(f"suspicious zip member name {name!r}")
        if name.lower() in seen:
            raise UnreadableDocument(f"duplicate zip member {name!r}")
        seen.add(name.lower())
        if info.flag_bits & 0x1:
            raise UnreadableDocument(f"encrypted zip member {name!r}")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise UnreadableDocument(f"unsupported compression in {name!r}")
        if info.file_size > limits.max_part_bytes:
            raise UnreadableDocument(f"zip member {name!r} too large ({info.file_size} bytes)")
        total += info.file_size
        if total > limits.max_total_bytes:
            raise UnreadableDocument(f"package too large uncompressed (> {limits.max_total_bytes} bytes)")
        if info.file_size > _ONE_MB:
            ratio = info.file_size / max(info.compress_size, 1)
            if ratio > limits.max_ratio:
                raise UnreadableDocument(f"zip member {name!r} compresses {ratio:.0f}:1 (zip bomb?)")
    return zf


class _Package:
    """The zip members intake reads, fetched by name with the limits enforced."""

    def __init__(self, zf: zipfile.ZipFile, limits: DocxLimits) -> None:
        self._zf = zf
        self._limits = limits
        self._names = {info.filename: info for info in zf.infolist()}

    def has(self, name: str) -> bool:
        return name in self._names

    def read(self, name: str) -> bytes:
        info = self._names[name]
        try:
            with self._zf.open(info) as fh:
                # zipfile stops at the declared size; reading one byte more
                # than the limit catches a lying header all the same.
                data = fh.read(self._limits.max_part_bytes + 1)
        except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
            raise UnreadableDocument(f"cannot read {name}: {exc}") from exc
        if len(data) > self._limits.max_part_bytes:
            raise UnreadableDocument(f"zip member {name!r} too large")
        return data

    def xml(self, name: str, prune: Callable[[bytes], bytes] | None = None) -> etree._Element:
        """The part parsed; `prune` first drops what is never read (the whole part is parsed when the
        pruned bytes do not parse, so a malformed part is reported as it is)."""
        data = self.read(name)
        if prune is not None:
            pruned = prune(data)
            if pruned is not data:
                with contextlib.suppress(UnreadableDocument):
                    return self._parse(name, pruned)
        return self._parse(name, data)

    @staticmethod
    def _parse(name: str, data: bytes) -> etree._Element:
        parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False)
        try:
            root = etree.fromstring(data, parser)
        except etree.XMLSyntaxError as exc:
            raise UnreadableDocument(f"malformed XML in {name}: {exc}") from exc
        if root is None:
            raise UnreadableDocument(f"empty XML part {name}")
        return root

    def relationships(self, source: str) -> dict[str, str]:
        """Relationship type suffix -> absolute part name, for one source part."""
        folder, base = posixpath.split(source)
        rels_name = posixpath.join(folder, "_rels", base + ".rels")
        if not self.has(rels_name):
            return {}
        out: dict[str, str] = {}
        for rel in self.xml(rels_name).iterfind(f"{{{REL_NS}}}Relationship"):
            if rel.get("TargetMode") == "External":
                continue
            rel_type = (rel.get("Type") or "").rsplit("/", 1)[-1]
            target = rel.get("Target") or ""
            if not rel_type or not target:
                continue
            if target.startswith("/"):
                path = target.lstrip("/")
            else:
                path = posixpath.normpath(posixpath.join(folder, target))
            out.setdefault(rel_type, path)
        return out


def _load_parts(data: bytes, limits: DocxLimits) -> tuple[etree._Element, etree._Element | None,
                                                         etree._Element | None]:
    if len(data) > limits.max_file_bytes:
        raise UnreadableDocument(f"file too large ({len(data)} bytes > {limits.max_file_bytes})")
    if data.startswith(OLE_MAGIC):
        _check_ole(data)
    if not data.startswith(ZIP_MAGIC):
        raise UnreadableDocument("not a Word document (neither OOXML zip nor OLE)")
    package = _Package(_open_zip(data, limits), limits)
    main = package.relationships("").get("officeDocument")
    if main is None or not package.has(main):
        main = "word/document.xml"
    if not package.has(main):
        raise UnreadableDocument("no word/document.xml in the package")
    document = package.xml(main)
    rels = package.relationships(main)
    styles_name = rels.get("styles")
    numbering_name = rels.get("numbering")
    styles = (package.xml(styles_name, prune=without_table_styles)
              if styles_name and package.has(styles_name) else None)
    numbering = package.xml(numbering_name) if numbering_name and package.has(numbering_name) else None
    return document, styles, numbering


# ---------------------------------------------------------------- walking


@dataclass
class _Run:
    text: str
    font: str | None
    bold: bool
    caps: bool
    size: int | None


@dataclass
class _Para:
    text: str                 # converted, "\n" for soft breaks, not yet cleaned
    style: str
    style_level: int | None
    numbering: str
    num_ilvl: int | None      # set when the paragraph has automatic numbering
    bullet: bool              # automatic bullet
    bold: bool                # (nearly) all visible characters bold
    left_bold: bool           # the part before the first tab is bold
    caps: bool                # w:caps on (nearly) all visible characters
    size: int | None          # largest font size (half-points)
    centered: bool
    runs: list[_Run] = field(default_factory=list)


@dataclass
class _Cell:
    items: list[_Para | _Table]
    continuation: bool        # w:vMerge continuation: shown empty


@dataclass
class _Table:
    rows: list[list[_Cell]]


@dataclass
class _Walker:
    styles: Styles
    numbering: Numbering
    encodings: set[str] = field(default_factory=set)
    hints: dict[str, tuple[Encoding | None, bool]] = field(default_factory=dict)
    paragraphs: list[list[_Run]] = field(default_factory=list)
    by_hint: dict[Encoding, Encoding] = field(default_factory=dict)

    # -- block level

    def blocks(self, parent: etree._Element) -> Iterator[_Para | _Table]:
        for child in parent:
            tag = child.tag
            if tag == T_P:
                yield self.paragraph(child)
            elif tag == T_TBL:
                yield self.table(child)
            elif tag == T_SDT:
                content = child.find(T_SDT_CONTENT)
                if content is not None:
                    yield from self.blocks(content)
            elif tag in _BLOCK_DESCEND:
                yield from self.blocks(child)
            elif tag == MC_ALT:
                choice = child.find(MC_CHOICE)
                if choice is not None:
                    yield from self.blocks(choice)

    def _rows(self, parent: etree._Element) -> Iterator[etree._Element]:
        for child in parent:
            if child.tag == T_TR:
                yield child
            elif child.tag == T_SDT:
                content = child.find(T_SDT_CONTENT)
                if content is not None:
                    yield from self._rows(content)
            elif child.tag == w("customXml"):
                yield from self._rows(child)

    def _cells(self, row: etree._Element) -> Iterator[etree._Element]:
        for child in row:
            if child.tag == T_TC:
                yield child
            elif child.tag == T_SDT:
                content = child.find(T_SDT_CONTENT)
                if content is not None:
                    yield from self._cells(content)
            elif child.tag == w("customXml"):
                yield from self._cells(child)

    def table(self, tbl: etree._Element) -> _Table:
        rows: list[list[_Cell]] = []
        for tr in self._rows(tbl):
            cells: list[_Cell] = []
            for tc in self._cells(tr):
                vmerge = tc.find(f"{w('tcPr')}/{w('vMerge')}")
                continuation = vmerge is not None and wval(vmerge) != "restart"
                items = list(self.blocks(tc))
                cells.append(_Cell([] if continuation else items, continuation))
            rows.append(cells)
        return _Table(rows)

    # -- paragraph level

    def paragraph(self, p: etree._Element) -> _Para:
        ppr = p.find(T_PPR)
        style_id: str | None = None
        num_id: str | None = None
        ilvl: int | None = None
        outline: int | None = None
        jc: str | None = None
        if ppr is not None:
            style_id = wval(ppr.find(w("pStyle")))
            num_pr = ppr.find(w("numPr"))
            if num_pr is not None:
                num_id = wval(num_pr.find(w("numId")))
                ilvl_val = wval(num_pr.find(w("ilvl")))
                ilvl = None if ilvl_val is None else to_int(ilvl_val, 0)
            outline_el = ppr.find(w("outlineLvl"))
            if outline_el is not None:
                outline = to_int(wval(outline_el), 9)
            jc = wval(ppr.find(w("jc")))
        style = self.styles.paragraph(style_id)
        if num_id is None and style.num_id is not None:
            num_id = style.num_id
            ilvl = style.ilvl if ilvl is None else ilvl
        level = style.heading_level
        if outline is not None:
            level = outline + 1 if outline < 9 else None
        base = style.rpr.under(self.styles.doc_defaults)

        runs: list[_Run] = []
        self._inline(p, base, runs)
        # Converted later, once the whole document's legacy-font text is known.
        text = "".join(r.text for r in runs)
        self.paragraphs.append(runs)

        numbering = ""
        bullet = False
        num_ilvl: int | None = None
        if num_id is not None and num_id != "0" and text.strip():
            ilvl_i = ilvl or 0
            numbering = self.numbering.next(num_id, ilvl_i)
            bullet = self.numbering.is_bullet(num_id, ilvl_i)
            if numbering or bullet:
                num_ilvl = ilvl_i

        visible = [(r, len(r.text.strip())) for r in runs if r.text.strip()]
        total = sum(n for _, n in visible) or 1
        bold_chars = sum(n for r, n in visible if r.bold)
        caps_chars = sum(n for r, n in visible if r.caps)
        left_bold = True
        for run in runs:
            head = run.text.split("\t", 1)
            if head[0].strip() and not run.bold:
                left_bold = False
            if len(head) > 1:
                break
        sizes = [r.size for r, _ in visible if r.size]
        return _Para(
            text=text,
            style=style.name,
            style_level=level,
            numbering=numbering,
            num_ilvl=num_ilvl,
            bullet=bullet,
            bold=bool(visible) and bold_chars >= 0.9 * total,
            left_bold=left_bold and bool(visible),
            caps=bool(visible) and caps_chars >= 0.9 * total,
            size=max(sizes) if sizes else None,
            centered=(jc or style.jc) == "center",
            runs=runs,
        )

    def _inline(self, parent: etree._Element, base: RunProps, runs: list[_Run]) -> None:
        for child in parent:
            tag = child.tag
            if tag == T_R:
                run = self._run(child, base)
                if run is not None:
                    runs.append(run)
            elif tag in _INLINE_DESCEND:
                self._inline(child, base, runs)
            elif tag == T_SDT:
                content = child.find(T_SDT_CONTENT)
                if content is not None:
                    self._inline(content, base, runs)
            elif tag == MC_ALT:
                choice = child.find(MC_CHOICE)
                if choice is not None:
                    self._inline(choice, base, runs)
            # w:del, w:moveFrom, mc:Fallback, math and the like hold no visible text.

    def _run(self, r: etree._Element, base: RunProps) -> _Run | None:
        parts: list[str] = []
        for child in r:
            tag = child.tag
            if tag == T_T:
                parts.append(child.text or "")
            elif tag == w("tab") or tag == w("ptab"):
                parts.append("\t")
            elif tag == w("br") or tag == w("cr"):
                parts.append("\n")
            elif tag == w("softHyphen"):
                # Kept as U+00AD: in a TCVN3 run it is the letter "ư".
                parts.append("\u00ad")
            elif tag == w("noBreakHyphen"):
                parts.append("-")
        if not parts:
            return None
        rpr = r.find(T_RPR)
        direct = read_rpr(rpr)
        char_style = wval(rpr.find(w("rStyle"))) if rpr is not None else None
        props = direct.under(self.styles.character(char_style)).under(base)
        # read_rpr already prefers hAnsi over ascii over cs within one level.
        font = props.font if props.font else None
        return _Run("".join(parts), font, bool(props.bold), bool(props.caps), props.size)

    # -- legacy fonts

    def _hint(self, font: str | None) -> tuple[Encoding | None, bool]:
        if not font:
            return (None, False)
        cached = self.hints.get(font)
        if cached is None:
            cached = font_encoding_hint(font)
            self.hints[font] = cached
        return cached

    def _groups(self, runs: Sequence[_Run]) -> Iterator[tuple[Encoding | None, bool, list[_Run]]]:
        # Same-hint runs are joined first: a VNI mark may sit in the next run.
        for (encoding_hint, capitals), group in itertools.groupby(runs, key=lambda r: self._hint(r.font)):
            yield encoding_hint, capitals, list(group)

    def decide_document(self, sample_limit: int = 50_000) -> None:
        """Per legacy font family, how the document as a whole reads.

        A short run ("Số: 12/BC", a name in capitals) gives the character
        statistics too little to go on; the rest of the text in the same
        fonts decides for it.
        """
        samples: dict[Encoding, list[str]] = {}
        fonts: dict[Encoding, set[str]] = {}
        sizes: dict[Encoding, int] = {}
        for runs in self.paragraphs:
            for hint, _capitals, group in self._groups(runs):
                if hint is None or sizes.get(hint, 0) > sample_limit:
                    continue
                raw = "".join(r.text for r in group)
                samples.setdefault(hint, []).append(raw)
                fonts.setdefault(hint, set()).update(r.font for r in group if r.font)
                sizes[hint] = sizes.get(hint, 0) + len(raw)
        for hint, texts in samples.items():
            self.by_hint[hint] = detect_encoding("\n".join(texts), sorted(fonts[hint]))

    def convert(self, runs: Sequence[_Run]) -> str:
        out: list[str] = []
        for encoding_hint, capitals, group in self._groups(runs):
            raw = "".join(r.text for r in group)
            if encoding_hint is None and raw.isascii():
                out.append(raw)
                continue
            fonts = sorted({r.font for r in group if r.font})
            encoding = detect_encoding(raw, fonts)
            if encoding == Encoding.UNICODE and encoding_hint is not None and not raw.isascii():
                fallback = self.by_hint.get(encoding_hint, Encoding.UNICODE)
                # Local Unicode-only letters prove Unicode; otherwise the document decides.
                if not any(_unicode_only(c) for c in raw):
                    encoding = fallback
            if encoding == Encoding.UNICODE:
                out.append(raw.replace("\u00ad", ""))
            else:
                self.encodings.add(encoding.name.lower())
                out.append(to_unicode(raw, encoding, capitals_font=capitals))
        return "".join(out)


def _unicode_only(char: str) -> bool:
    """A Vietnamese letter no 8-bit legacy text contains (ă, đ, ơ, ư, ạ...)."""
    code = ord(char)
    return 0x1EA0 <= code <= 0x1EF9 or 0x0300 <= code <= 0x0323 or char in "ăĂđĐơƠưƯĩĨũŨ"


# ---------------------------------------------------------------- raw blocks


def _convert_items(items: Sequence[_Para | _Table], walker: _Walker) -> None:
    for item in items:
        if isinstance(item, _Para):
            item.text = walker.convert(item.runs)
        else:
            for row in item.rows:
                for cell in row:
                    _convert_items(cell.items, walker)


def _raw(item: _Para | _Table) -> RawBlock:
    if isinstance(item, _Para):
        return RawParagraph(
            text=item.text, style=item.style, style_level=item.style_level, numbering=item.numbering,
            num_ilvl=item.num_ilvl, bullet=item.bullet, bold=item.bold, left_bold=item.left_bold,
            caps=item.caps, size=item.size, centered=item.centered,
        )
    return RawTable(tuple(tuple(RawCell(tuple(_raw(i) for i in cell.items)) for cell in row)
                          for row in item.rows))


def read_ooxml(data: bytes, limits: DocxLimits = DocxLimits()) -> tuple[list[RawBlock], tuple[str, ...]]:
    """The body of a .docx/.docm/.dotx as raw blocks in document order, and the
    legacy encodings its text was converted from.

    Raises UnreadableDocument (corrupt, over a limit), EncryptedDocument
    (OLE EncryptedPackage) or UnsupportedDocument (legacy .doc).
    """
    document, styles_root, numbering_root = _load_parts(data, limits)
    body = document.find(w("body"))
    if body is None:
        raise UnreadableDocument("word/document.xml has no body")
    styles = Styles(styles_root)
    walker = _Walker(styles, Numbering(numbering_root, styles.numbering_styles()))
    items = list(walker.blocks(body))
    walker.decide_document()
    _convert_items(items, walker)
    return [_raw(i) for i in items], tuple(sorted(walker.encodings))


# ---------------------------------------------------------------- entry point


def parse_docx(data: bytes, limits: DocxLimits = DocxLimits()) -> Outline:
    """Parse a Word .docx/.docm/.dotx into an Outline: `read_ooxml`, then the
    format-independent `structure.infer`.

    Raises UnreadableDocument (corrupt, over a limit), EncryptedDocument
    (OLE EncryptedPackage) or UnsupportedDocument (legacy .doc).
    """
    raw, encodings = read_ooxml(data, limits)
    return infer(raw, legacy_encodings=encodings)
