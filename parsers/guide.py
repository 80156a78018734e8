"""What a campaign teaches the finder: staff's choices and the guideline's outline.

Pure values in, per-section points out; `section.find_section(..., guide=)`
adds them to the evidence. Nothing here reads the store or a file: the lead
builds a `Guide` from the campaign (staff choices, `[[campaigns]] outline`)
and passes it in. A `Guide` is a frozen dataclass of plain values, so it
serialises as JSON (`dataclasses.asdict`) and travels to the document
workers with the campaign's title.

* Exemplars: headings staff chose in other reports of the same campaign.
  Units of one province copy each other's templates, so a heading worded like
  a chosen one (syllable F1 of the folded wording), of the same numbering
  kind and depth, and at the same place among its siblings, is likely the
  section again.
* Template: the guideline's đề cương (its headings with levels) and which of
  them is the required part. The report's parts are aligned with the
  template's by order and level: among the report's sibling groups, the one
  whose size and wording agree best with the template's siblings of the
  required part gives the aligned section, however it is worded. Part versus
  sub-item is then the template's: the aligned section is preferred over
  its own parts and sub-items.

Without a guide (or with an empty one) every point is 0: nothing changes.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .layout import Node, Tree, build_tree
from .model import Outline
from .vietnamese import fold

__all__ = ["Exemplar", "Guide", "Placement", "TemplateHeading", "exemplar_at", "exemplar_for", "place", "related"]

EXEMPLAR_POINTS = 40.0     # a heading worded exactly like a staff choice
SHAPE_POINTS = 5.0         # ... same numbering kind and depth
POSITION_POINTS = 5.0      # ... same place among its siblings
TEMPLATE_POINTS = 35.0     # the section aligned with the template's required part
MIN_SIMILARITY = 0.5       # below this wording F1 an exemplar says nothing
MOVED_SIMILARITY = 0.85    # ... nor this, for a heading at another place among its siblings
MIN_ALIGNMENT = 0.25       # share of aligned siblings whose wording agrees, for a size mismatch
VOUCH_POINTS = 20.0        # exemplar points that make a section eligible although it says little of the title
OTHER_PART = 0.35          # a section worded this much like another part of the template ...
OTHER_MARGIN = 0.15        # ... and this much more than like the required one is that other part
GENERIC_WORDS = 3          # syllables a heading in the template's place may have beyond the title's
NAMED_ELSEWHERE = 0.6      # a heading outside the template's place saying this share of the title's syllables


@dataclass(frozen=True)
class Exemplar:
    """A heading staff chose in another report of the campaign."""

    wording: str             # folded heading words, numbering left out (`exemplar_at` builds it)
    kind: str = ""           # numbering kind ("roman", "arabic", "decimal2", ...; "" unnumbered)
    depth: int = 0           # 0 for a top-level part
    position: int = 0        # 1-based place among its siblings; 0 unknown


@dataclass(frozen=True)
class TemplateHeading:
    text: str                # as the guideline writes it (numbering may be included)
    level: int               # 1 = top


@dataclass(frozen=True)
class Guide:
    exemplars: tuple[Exemplar, ...] = ()
    template: tuple[TemplateHeading, ...] = ()
    required: int | None = None      # index into `template` of the required part


@dataclass(frozen=True)
class Placement:
    """Points per section (tree order) and the section the template aligns, if any."""

    points: tuple[float, ...]
    aligned: int | None = None
    notes: tuple[str, ...] = ()
    vouched: tuple[bool, ...] = ()   # a staff choice vouches for the section: eligible however little it says


def _syllables(text: str) -> set[str]:
    return {w for w in text.split() if not w.isdigit()}


def similarity(a: str, b: str) -> float:
    """F1 of the folded syllable sets of two headings (0..1)."""
    x, y = _syllables(a), _syllables(b)
    common = len(x & y)
    if not common:
        return 0.0
    return 2 * common / (len(x) + len(y))


def _siblings(tree: Tree, pos: int) -> list[int]:
    parent = tree.nodes[pos].parent
    if parent is not None:
        return list(tree.nodes[parent].children)
    return [k for k, n in enumerate(tree.nodes) if n.parent is None and not n.after_closing]


def exemplar_at(tree: Tree, pos: int) -> Exemplar:
    """The exemplar a staff choice of section `pos` of `tree` teaches."""
    node: Node = tree.nodes[pos]
    siblings = _siblings(tree, pos)
    return Exemplar(wording=node.head_key, kind=node.number.kind.value if node.number else "",
                    depth=node.depth, position=siblings.index(pos) + 1 if pos in siblings else 0)


def exemplar_for(outline: Outline, block: int) -> Exemplar | None:
    """The exemplar staff's choice of the heading at `outline.blocks[block]` teaches (None: no heading)."""
    tree = build_tree(outline)
    pos = next((k for k, node in enumerate(tree.nodes) if node.index == block), None)
    return exemplar_at(tree, pos) if pos is not None else None


def _exemplar_points(tree: Tree, exemplars: Sequence[Exemplar]) -> list[float]:
    """Each exemplar's points go to the sections of the report most like it: a generic heading that
    shares the exemplar's first words ("II. KẾT QUẢ THỰC HIỆN" against "kết quả thực hiện tinh thần
    7 dám") must not take them where the chosen heading itself is missing. Away from the exemplar's
    place among its siblings, the wording must agree closely (`MOVED_SIMILARITY`)."""
    points = [0.0] * len(tree.nodes)
    for ex in exemplars:
        values = [_exemplar_value(tree, pos, ex) for pos in range(len(tree.nodes))]
        best = max(values, default=0.0)
        for pos, value in enumerate(values):
            if value > 0 and value == best:
                points[pos] = max(points[pos], value)
    return points


def _exemplar_value(tree: Tree, pos: int, ex: Exemplar) -> float:
    node = tree.nodes[pos]
    sim = similarity(node.head_key, ex.wording)
    if sim < MIN_SIMILARITY:
        return 0.0
    kind = node.number.kind.value if node.number else ""
    placed = True
    if ex.position:
        siblings = _siblings(tree, pos)
        placed = pos in siblings and siblings.index(pos) + 1 == ex.position
    if not placed and sim < MOVED_SIMILARITY:
        return 0.0
    value = EXEMPLAR_POINTS * sim
    if kind == ex.kind and node.depth == ex.depth:
        value += SHAPE_POINTS
    if ex.position and placed:
        value += POSITION_POINTS
    return value


def _template_group(template: Sequence[TemplateHeading], required: int) -> tuple[list[str], int, int]:
    """The required heading's siblings in the template (folded), its place among them, its level."""
    level = template[required].level
    start = required
    while start > 0 and template[start - 1].level >= level:
        start -= 1
    stop = required + 1
    while stop < len(template) and template[stop].level >= level:
        stop += 1
    group = [k for k in range(start, stop) if template[k].level == level]
    from .layout import strip_numbering  # layout owns the numbering grammar
    words = [fold(strip_numbering(template[k].text)[1]) for k in group]
    return words, group.index(required), level


def _align(tree: Tree, template: Sequence[TemplateHeading], required: int) -> tuple[int | None, str]:
    """The report's section in the required part's place, or None when no sibling group agrees."""
    wanted, place, level = _template_group(template, required)
    groups: dict[int | None, list[int]] = {}
    for pos, node in enumerate(tree.nodes):
        if not node.after_closing:
            groups.setdefault(node.parent, []).append(pos)
    best: tuple[float, int] | None = None
    for group in groups.values():
        if len(group) <= place:
            continue
        # Wording agreement of the other aligned pairs, in order.
        others = [similarity(tree.nodes[group[k]].head_key, wanted[k])
                  for k in range(min(len(group), len(wanted))) if k != place]
        agree = sum(1 for s in others if s >= MIN_SIMILARITY / 2) / (len(others) or 1)
        size = 1.0 if len(group) == len(wanted) else 0.5
        if size < 1.0 and agree < MIN_ALIGNMENT:
            continue
        depth = tree.nodes[group[0]].depth
        fit = size * (0.5 + agree) * (1.0 if depth == level - 1 else 0.75)
        if best is None or fit > best[0]:
            best = (fit, group[place])
    if best is None or best[0] < 0.5:
        return None, ""
    # A section worded like another part of the template is that part, whatever its place.
    own = tree.nodes[best[1]].head_key
    like_required = similarity(own, wanted[place])
    if any(similarity(own, other) >= max(OTHER_PART, like_required + OTHER_MARGIN)
           for k, other in enumerate(wanted) if k != place):
        return None, ""
    return best[1], f"template part {place + 1} of {len(wanted)} (alignment {best[0]:.2f})"


def _generic(heading: str, title: str, template_heading: str) -> bool:
    """A heading that names nothing the title and the template's heading do not:
    "ĐÁNH GIÁ CHUNG", "KẾT QUẢ CỤ THỂ" -- not "KẾT QUẢ HỌC TẬP NGHỊ QUYẾT ĐẠI HỘI XIII"."""
    known = _syllables(title) | _syllables(template_heading)
    return len(_syllables(heading) - known) <= GENERIC_WORDS


def related(tree: Tree, a: int, b: int) -> bool:
    """One section lies inside the other."""
    for low, high in ((a, b), (b, a)):
        up = tree.nodes[low].parent
        while up is not None:
            if up == high:
                return True
            up = tree.nodes[up].parent
    return False


def _named_elsewhere(tree: Tree, aligned: int, title: str) -> bool:
    """A heading outside the template's place (neither in nor around it) that says most of the
    title: the report names the section itself, so the template's place says nothing more
    ("1.3. Kết quả tổ chức học tập, quán triệt Chuyên đề năm 2024" under II against a generic
    "III. ĐÁNH GIÁ CHUNG" in the template's third place)."""
    wanted = _syllables(title)
    if not wanted:
        return False
    return any(len(_syllables(node.head_key) & wanted) >= NAMED_ELSEWHERE * len(wanted)
               for pos, node in enumerate(tree.nodes)
               if pos != aligned and not related(tree, pos, aligned))


def place(tree: Tree, guide: Guide | None, title: str = "") -> Placement:
    """Points per section of `tree` from what the campaign taught (all 0 without a guide).

    `title` is the folded section title: the template vouches only for a
    section whose heading says nothing else (a generic heading in the right
    place), never for one that names another subject.
    """
    points = [0.0] * len(tree.nodes)
    if guide is None or not tree.nodes:
        return Placement(tuple(points))
    notes: list[str] = []
    if guide.exemplars:
        points = _exemplar_points(tree, guide.exemplars)
    vouched = tuple(value >= VOUCH_POINTS for value in points)
    aligned: int | None = None
    if guide.template and guide.required is not None and 0 <= guide.required < len(guide.template):
        aligned, why = _align(tree, guide.template, guide.required)
        required = fold(guide.template[guide.required].text)
        if aligned is not None and not _generic(tree.nodes[aligned].head_key, title, required):
            aligned = None
        if aligned is not None and _named_elsewhere(tree, aligned, title):
            aligned = None
        if aligned is not None:
            points[aligned] += TEMPLATE_POINTS
            notes.append(why)
    return Placement(tuple(points), aligned, tuple(notes), vouched)
