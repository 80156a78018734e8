"""Which unit sent a message: registered address first, then the issuing
body in the document's header, then the sender's display name.

Names are compared on a folded key (no diacritics, no case, old and new
tone placement equal) with the abbreviations Vietnamese offices use
expanded (LĐLĐ = Liên đoàn Lao động, CĐ = Công đoàn, CĐCS = Công đoàn cơ
sở, TP = thành phố ...). The district-level words huyện / thị xã / thành
phố are interchangeable (Sa Pa was a huyện until 2019, a thị xã since), so
they are left out of the comparison. Every word of a unit's name that is not
generic (its place or sector: "bao thang", "y te") must be present, whole:
"Bảo Thắng" never matches "Bảo Yên" however close the strings are.
"""
from __future__ import annotations

import itertools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from rapidfuzz import fuzz

from intake.parsers.vietnamese import fold

# Applied in order on the folded key, word-bounded; longer forms first.
ABBREVIATIONS: Final[tuple[tuple[re.Pattern[str], str], ...]] = tuple(
    (re.compile(rf"\b{pattern}\b"), expansion) for pattern, expansion in (
        (r"ld ?ld", "lien doan lao dong"),
        (r"cdcs", "cong doan co so"),
        (r"cdn", "cong doan nganh"),
        (r"cd", "cong doan"),
        (r"tx", "thi xa"),
        (r"tp", "thanh pho"),
        (r"h", "huyen"),
        (r"ubnd", "uy ban nhan dan"),
        (r"thpt", "trung hoc pho thong"),
        (r"thcs", "trung hoc co so"),
        (r"th", "tieu hoc"),
        (r"mn", "mam non"),
        (r"ptdtnt", "pho thong dan toc noi tru"),
        (r"ptdtbt", "pho thong dan toc ban tru"),
        (r"bv", "benh vien"),
        (r"ttyt", "trung tam y te"),
        (r"cty|ct", "cong ty"),
        (r"tnhh", "trach nhiem huu han"),
    ))
# District-level administrative words: interchangeable, so not compared.
DISTRICT_WORDS: Final = re.compile(r"\b(?:huyen|thi xa|thanh pho|quan)\b")
# Words every unit's name shares; a match must agree on the others.
GENERIC: Final = frozenset(
    ["lien", "doan", "lao", "dong", "cong", "co", "so", "nganh", "tinh", "cai", "cua", "ban", "chap", "hanh",
     "thuong", "vu", "uy", "nhan", "dan", "va", "thi", "tran", "xa", "phuong"])
MATCH_THRESHOLD: Final = 90.0
MIN_MARGIN: Final = 3.0  # the best unit must beat the runner-up by this much
CAPPED: Final = 80.0     # score of a name whose distinctive words are not all there


@dataclass(frozen=True)
class UnitName:
    id: str
    names: tuple[str, ...]  # the registered name and its aliases


@dataclass(frozen=True)
class UnitMatch:
    unit_id: str | None
    method: str  # "address" | "document_header" | "display_name" | "none"
    detail: str = ""


def name_key(text: str) -> str:
    """Folded, abbreviations expanded, single spaces."""
    key = fold(text)
    for pattern, expansion in ABBREVIATIONS:
        key = pattern.sub(expansion, key)
    return " ".join(key.split())


def address_key(address: str) -> str:
    """Lower-case; for Gmail, dots and +tags in the local part do not count."""
    local, _, domain = address.strip().strip("<>").lower().rpartition("@")
    if domain in ("gmail.com", "googlemail.com"):
        local = local.split("+", 1)[0].replace(".", "")
        domain = "gmail.com"
    return f"{local}@{domain}" if local else address.strip().lower()


def match_name(text: str, units: Sequence[UnitName]) -> tuple[str | None, float]:
    """The unit whose name or alias best matches `text`, if clearly above the threshold."""
    key = name_key(text)
    if not key:
        return None, 0.0
    scored = sorted(((max((_score(key, name_key(n)) for n in unit.names), default=0.0), unit.id)
                     for unit in units), reverse=True)
    if not scored:
        return None, 0.0
    score, unit_id = scored[0]
    runner_up = scored[1][0] if len(scored) > 1 else 0.0
    if score < MATCH_THRESHOLD or score - runner_up < MIN_MARGIN:
        return None, score
    return unit_id, score


def _without_district_words(key: str) -> str:
    return " ".join(DISTRICT_WORDS.sub(" ", key).split())


def _score(text_full: str, unit_full: str) -> float:
    """Both arguments are `name_key`s."""
    text_key, unit_key = _without_district_words(text_full), _without_district_words(unit_full)
    if not unit_key or not text_key:
        return 0.0
    words = text_key.split()
    unit_words = unit_key.split()
    if all(w in GENERIC for w in unit_words):
        # A name of generic words only ("LĐLĐ thành phố Lào Cai"): its district word is what tells it
        # from the province ("LĐLĐ tỉnh Lào Cai"), so compare in full; the text may name the parent first.
        if f" {text_full}".endswith(f" {unit_full}"):
            return 100.0 if text_full == unit_full else 97.0
        return min(float(fuzz.ratio(text_full, unit_full)), CAPPED)
    if not _has_distinctive(words, unit_words):
        return min(float(fuzz.token_set_ratio(text_key, unit_key)), CAPPED)
    if text_key == unit_key:
        return 100.0
    if f" {unit_key} " in f" {text_key} ":
        return 97.0
    return float(fuzz.token_set_ratio(text_key, unit_key))


def _has_distinctive(words: list[str], unit_words: list[str]) -> bool:
    """Every non-generic word of the name is in the text, and neighbours in the
    name (the syllables of a place name: "bao thang") are neighbours there too."""
    present = set(words)
    if not all(w in present for w in unit_words if w not in GENERIC):
        return False
    pairs = {(a, b) for a, b in itertools.pairwise(words)}
    return all((a, b) in pairs for a, b in itertools.pairwise(unit_words)
               if a not in GENERIC and b not in GENERIC)


def identify_unit(registered: Mapping[str, str], units: Sequence[UnitName], from_address: str,
                  from_name: str, issuer: str | None) -> UnitMatch:
    """`registered` maps address_key()s to unit ids."""
    key = address_key(from_address)
    if key in registered:
        return UnitMatch(registered[key], "address")
    if issuer:
        unit_id, score = match_name(issuer, units)
        if unit_id:
            return UnitMatch(unit_id, "document_header", f"{issuer!r} ({score:.0f})")
    if from_name:
        unit_id, score = match_name(from_name, units)
        if unit_id:
            return UnitMatch(unit_id, "display_name", f"{from_name!r} ({score:.0f})")
    return UnitMatch(None, "none")
