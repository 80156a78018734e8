"""Which unit sent a message: registered address first, then the issuing
body in the document's header, then the sender's display name.

Names are compared on a folded key with the abbreviations Vietnamese offices
use expanded (LĐLĐ = Liên đoàn Lao động, CĐ = Công đoàn, ...), so "LĐLĐ
HUYỆN BẢO THẮNG" matches "Liên đoàn Lao động huyện Bảo Thắng".
"""
from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz

from intake.parsers.vietnamese import fold

ABBREVIATIONS: tuple[tuple[str, str], ...] = (
    (r"\bldld\b", "lien doan lao dong"),
    (r"\bcdcs\b", "cong doan co so"),
    (r"\bcdn\b", "cong doan nganh"),
    (r"\bcd\b", "cong doan"),
    (r"\btx\b", "thi xa"),
    (r"\btp\b", "thanh pho"),
    (r"\bh\b", "huyen"),
    (r"\bubnd\b", "uy ban nhan dan"),
    (r"\bthpt\b", "trung hoc pho thong"),
    (r"\bthcs\b", "trung hoc co so"),
    (r"\bptdtnt\b", "pho thong dan toc noi tru"),
)
# Words that every unit's name shares; a match must agree on something else.
GENERIC = frozenset(
    "lien doan lao dong cong doan co so nganh huyen thi xa thanh pho tinh lao cai truong cua "
    "ban chap hanh thuong vu uy nhan dan".split())
MATCH_THRESHOLD = 90.0


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
    key = fold(text)
    for pattern, expansion in ABBREVIATIONS:
        key = re.sub(pattern, expansion, key)
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
    best: tuple[float, str | None] = (0.0, None)
    runner_up = 0.0
    for unit in units:
        score = max((_score(key, name_key(name)) for name in unit.names), default=0.0)
        if score > best[0]:
            runner_up, best = best[0], (score, unit.id)
        elif score > runner_up:
            runner_up = score
    score, unit_id = best
    if unit_id is None or score < MATCH_THRESHOLD or score - runner_up < 3.0:
        return None, score
    return unit_id, score


def _score(text_key: str, name_key_: str) -> float:
    if not name_key_:
        return 0.0
    distinctive = set(name_key_.split()) - GENERIC
    words = set(text_key.split())
    if distinctive and not distinctive <= words:
        # e.g. "huyen bao thang" vs "huyen bao yen": the place name must be there whole.
        return min(fuzz.token_set_ratio(text_key, name_key_), 80.0)
    if text_key == name_key_:
        return 100.0
    if f" {name_key_} " in f" {text_key} ":
        return 97.0
    return float(fuzz.token_set_ratio(text_key, name_key_))


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
