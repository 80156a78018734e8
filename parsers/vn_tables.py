"""Constant tables for the legacy Vietnamese encodings TCVN3 (ABC) and VNI.

Legacy fonts store Vietnamese text as Latin-1 code points; once a Word file is
read, those bytes surface as ordinary characters (TCVN3 0xB8 is U+00B8 "¸" and
means "á"). The tables here are written as a few structured rows per base vowel
rather than as 130 loose pairs, so that a single misplaced byte breaks a whole
row's pattern and is caught by the round-trip tests against an independent oracle.

Sources: the TCVN 5712:1993 "VN3" byte layout (0xA1-0xA7 untoned capitals,
0xA8-0xAE untoned small letters, 0xB5-0xFE toned small letters in the order
grave, hook, tilde, acute, dot) and the VNI-Windows layout (base letter + mark
character). Compared with the MIT-licensed tables of viparse 0.1.31
(`viparse/normalize/tcvn3.py` agrees; its `vni.py` lacks ẳ/Ẳ and spells ỵ as
"yï" where VNI uses the single character "î"), and tested letter by letter
against UniKey's `data.cpp` (GPL, used only as a test oracle, not copied).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

# Combining tone marks in the order every row below uses.
GRAVE: Final = "\u0300"
HOOK: Final = "\u0309"
TILDE: Final = "\u0303"
ACUTE: Final = "\u0301"
DOT: Final = "\u0323"
TONES: Final[tuple[str, ...]] = (GRAVE, HOOK, TILDE, ACUTE, DOT)

CIRCUMFLEX: Final = "\u0302"
BREVE: Final = "\u0306"
HORN: Final = "\u031b"

# The twelve Vietnamese vowels (small, untoned, NFC).
VOWELS: Final[tuple[str, ...]] = ("a", "ă", "â", "e", "ê", "i", "o", "ô", "ơ", "u", "ư", "y")

# ---------------------------------------------------------------- TCVN3 (ABC)
# Toned small vowels, tones in TONES order (grave, hook, tilde, acute, dot).
# Gaps in the byte range (0xBA, 0xBF-0xC5, 0xCD, 0xD9-0xDB, 0xE0, 0xF0) are
# unused by the standard.
_TCVN3_TONED_ROWS: Final[Mapping[str, str]] = MappingProxyType({
    "a": "µ¶·¸¹",
    "ă": "»¼½¾Æ",
    "â": "ÇÈÉÊË",
    "e": "ÌÎÏÐÑ",
    "ê": "ÒÓÔÕÖ",
    "i": "×ØÜÝÞ",
    "o": "ßáâãä",
    "ô": "åæçèé",
    "ơ": "êëìíî",
    "u": "ïñòóô",
    "ư": "õö÷øù",
    "y": "úûüýþ",
})
_TCVN3_PLAIN: Final[Mapping[str, str]] = MappingProxyType({
    "Ă": "¡", "Â": "¢", "Ê": "£", "Ô": "¤", "Ơ": "¥", "Ư": "¦", "Đ": "§",
    "ă": "¨", "â": "©", "ê": "ª", "ô": "«", "ơ": "¬", "ư": "\u00ad", "đ": "®",
})


def _build_tcvn3_encode() -> dict[str, str]:
    table = dict(_TCVN3_PLAIN)
    for vowel, row in _TCVN3_TONED_ROWS.items():
        for tone, code in zip(TONES, row, strict=True):
            table[unicodedata.normalize("NFC", vowel + tone)] = code
    return table


# Unicode letter (NFC) -> TCVN3 character. Toned capitals are absent: the
# encoding has no code for them (see `unicode_to_tcvn3`).
TCVN3_ENCODE: Final[Mapping[str, str]] = MappingProxyType(_build_tcvn3_encode())
# TCVN3 character -> Unicode letter (NFC).
TCVN3_DECODE: Final[Mapping[str, str]] = MappingProxyType({v: k for k, v in TCVN3_ENCODE.items()})

# ------------------------------------------------------------------------ VNI
# Mark characters, tones in TONES order; VNI uses a capital mark after a capital base.
VNI_TONE_MARKS: Final[Mapping[bool, str]] = MappingProxyType({False: "øûõùï", True: "ØÛÕÙÏ"})
# Circumflex combined with each tone, then the bare circumflex.
VNI_CIRCUMFLEX_MARKS: Final[Mapping[bool, str]] = MappingProxyType({False: "àåãáä", True: "ÀÅÃÁÄ"})
VNI_CIRCUMFLEX: Final[Mapping[bool, str]] = MappingProxyType({False: "â", True: "Â"})
# Breve combined with each tone, then the bare breve.
VNI_BREVE_MARKS: Final[Mapping[bool, str]] = MappingProxyType({False: "èúüéë", True: "ÈÚÜÉË"})
VNI_BREVE: Final[Mapping[bool, str]] = MappingProxyType({False: "ê", True: "Ê"})
# ơ and ư replace the base letter instead of taking a mark.
VNI_HORN_BASE: Final[Mapping[str, str]] = MappingProxyType({"o": "ô", "O": "Ô", "u": "ö", "U": "Ö"})
# Latin-1 has toned i letters, so VNI writes i as one character, some of them
# being the letter they look like (ì, í) and some not (æ ỉ, ó ĩ, ò ị).
VNI_I_TONED: Final[Mapping[bool, str]] = MappingProxyType({False: "ìæóíò", True: "ÌÆÓÍÒ"})
# ỵ is the one y form that is a single character.
VNI_Y_DOT: Final[Mapping[bool, str]] = MappingProxyType({False: "î", True: "Î"})
VNI_D_STROKE: Final[Mapping[bool, str]] = MappingProxyType({False: "ñ", True: "Ñ"})


def all_vietnamese_letters() -> list[str]:
    """Every letter with a Vietnamese diacritic or tone, small and capital, NFC: 132 vowels + đ Đ."""
    letters: list[str] = []
    for vowel in VOWELS:
        for tone in ("", *TONES):
            small = unicodedata.normalize("NFC", vowel + tone)
            if small in "aeiouy":
                continue
            letters.append(small)
            letters.append(small.upper())
    letters.extend(["đ", "Đ"])
    return letters
