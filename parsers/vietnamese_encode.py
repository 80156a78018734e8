"""Unicode -> legacy Vietnamese encodings (TCVN3, VNI).

The product only decodes; these inverses exist so test-corpus generators can
make legacy-encoded Word files, and so the decoders can be checked by round trip.
Characters with no Vietnamese meaning pass through unchanged.
"""

from __future__ import annotations

import unicodedata

from .vn_tables import (
    BREVE,
    CIRCUMFLEX,
    HORN,
    TCVN3_ENCODE,
    TONES,
    VNI_BREVE,
    VNI_BREVE_MARKS,
    VNI_CIRCUMFLEX,
    VNI_CIRCUMFLEX_MARKS,
    VNI_D_STROKE,
    VNI_HORN_BASE,
    VNI_I_TONED,
    VNI_TONE_MARKS,
    VNI_Y_DOT,
)


def unicode_to_tcvn3(text: str, *, capitals_font: bool = False) -> str:
    """Encode Unicode Vietnamese as TCVN3 (ABC) characters.

    TCVN3 has no toned capitals. With ``capitals_font=False`` a toned capital is
    written with its small code, which is what UniKey does and what plain
    ``.VnTime`` documents contain (decoding loses that letter's case). With
    ``capitals_font=True`` the text is meant for a ``.VnTimeH``-style font that
    draws every letter as a capital: it is upper-cased first, as a typist with
    Caps Lock would produce it, so toned capitals get small codes and Ă Â Ê Ô Ơ
    Ư Đ their capital codes.
    """
    nfc = unicodedata.normalize("NFC", text)
    if capitals_font:
        nfc = nfc.upper()
    out: list[str] = []
    for char in nfc:
        code = TCVN3_ENCODE.get(char)
        if code is None and char != char.lower():
            code = TCVN3_ENCODE.get(char.lower())
        out.append(code if code is not None else char)
    return "".join(out)


def _vni_letter(char: str) -> str | None:
    """VNI form of one NFC letter, or None when the letter needs no conversion."""
    if char in "đĐ":
        return VNI_D_STROKE[char == "Đ"]
    decomposed = unicodedata.normalize("NFD", char)
    base, marks = decomposed[0], decomposed[1:]
    if not marks or base.lower() not in "aeiouy":
        return None
    upper = base.isupper()
    modifier = next((m for m in marks if m in (CIRCUMFLEX, BREVE, HORN)), None)
    tone_mark = next((m for m in marks if m in TONES), None)
    tone = TONES.index(tone_mark) if tone_mark is not None else None
    if len(marks) != (modifier is not None) + (tone is not None):
        return None  # a mark Vietnamese does not use (e.g. ö, ÿ): not a Vietnamese letter
    low = base.lower()
    if modifier is None:
        if tone is None:
            return None
        if low == "i":
            return VNI_I_TONED[upper][tone]
        if low == "y" and tone == TONES.index("\u0323"):
            return VNI_Y_DOT[upper]
        return base + VNI_TONE_MARKS[upper][tone]
    if modifier == HORN and low in "ou":
        head = VNI_HORN_BASE[base]
        return head if tone is None else head + VNI_TONE_MARKS[upper][tone]
    if modifier == CIRCUMFLEX and low in "aeo":
        tail = VNI_CIRCUMFLEX[upper] if tone is None else VNI_CIRCUMFLEX_MARKS[upper][tone]
        return base + tail
    if modifier == BREVE and low == "a":
        tail = VNI_BREVE[upper] if tone is None else VNI_BREVE_MARKS[upper][tone]
        return base + tail
    return None


def unicode_to_vni(text: str) -> str:
    """Encode Unicode Vietnamese as VNI (VNI-Windows) characters: base letter + mark."""
    out: list[str] = []
    for char in unicodedata.normalize("NFC", text):
        vni = _vni_letter(char)
        out.append(char if vni is None else vni)
    return "".join(out)
