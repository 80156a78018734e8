"""Vietnamese text: display cleanup, matching keys, legacy encodings.

Pure functions, no I/O. Legacy-font text (TCVN3/ABC `.Vn*` fonts, VNI `VNI-*`
fonts) arrives as Latin-1 look-alike characters; `detect_encoding` decides by
the characters themselves whether a piece of text is legacy, because real files
name legacy fonts over plain Unicode text.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable
from enum import StrEnum
from typing import Final

from .vietnamese_encode import unicode_to_tcvn3, unicode_to_vni
from .vn_tables import TCVN3_DECODE, TONES, all_vietnamese_letters

__all__ = [
    "Encoding",
    "clean",
    "detect_encoding",
    "fold",
    "font_encoding_hint",
    "is_vietnamese_syllable",
    "normalize_tone_placement",
    "tcvn3_to_unicode",
    "to_unicode",
    "unicode_to_tcvn3",
    "unicode_to_vni",
    "vni_to_unicode",
]


class Encoding(StrEnum):
    """How the characters of a piece of text are to be read."""

    UNICODE = "unicode"
    TCVN3 = "tcvn3"
    VNI = "vni"


# ------------------------------------------------------------------- clean()

_ZERO_WIDTH: Final = frozenset("\u200b\u200c\u200d\u2060\ufeff\u200e\u200f")
_SOFT_HYPHEN: Final = "\u00ad"
# Spaces other than U+0020, plus the tab: headings are aligned with tabs as often as with spaces.
_SPACES: Final = frozenset("\t\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
                           "\u2009\u200a\u202f\u205f\u3000")
_LINE_BREAKS: Final = frozenset("\r\n\v\f\u0085\u2028\u2029")
_DASHES: Final = frozenset("\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d")
_QUOTES: Final = {
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"',
}
# Word's own control characters that leak out of .doc text extraction.
_WORD_CONTROLS: Final = {"\x1e": "-", "\x1f": "", "\x07": " "}
_LINE_SPACES_RE: Final = re.compile(r" *\n[ \n]*")
_SPACE_RUN_RE: Final = re.compile(r" {2,}")


def clean(text: str, *, typography: bool = False) -> str:
    """Display form of a piece of Vietnamese text.

    NFC (which also composes Windows-1258 style base + combining tone and UniKey's
    precomposed-plus-combining output); Icelandic eth Ð/ð, used in Vietnamese
    Unicode text as a look-alike of Đ/đ, becomes Đ/đ; zero-width characters go;
    other spaces and tabs become a space; dashes become '-' and curly quotes
    straight ones; runs of spaces collapse; line breaks are kept as single '\\n'
    because they carry structure (a heading broken over two lines). Case,
    diacritics and tone placement are kept as written.

    Text that still looks legacy-encoded keeps its soft hyphens and eth letters,
    because there they are the letters ư (TCVN3) and é (TCVN3 Ð).

    `typography=True` keeps curly quotes and dashes as written: the display
    form of a document's own words (a section quoted in a compiled report
    must not misquote the unit); matching works on `fold()` anyway.
    """
    if not text:
        return ""
    legacy = _has_latin1_high(text) and detect_encoding(text) is not Encoding.UNICODE
    mapped = text.replace("\r\n", "\n")
    table, needed = _CLEAN_TABLES[(legacy, typography)]
    if needed.search(mapped):  # most text has nothing to map: the search is far cheaper than translate()
        mapped = mapped.translate(table)
    result = unicodedata.normalize("NFC", mapped)
    if "  " in result:
        result = _SPACE_RUN_RE.sub(" ", result)
    if "\n" in result:
        result = _LINE_SPACES_RE.sub("\n", result)
    return result.strip(" \n")


def _clean_table(*, legacy: bool, typography: bool) -> dict[int, str | None]:
    """clean()'s character mapping as one str.translate table (the same rules, applied in C)."""
    table: dict[int, str | None] = {c: None for c in (*range(0x20), *range(0x7F, 0xA0))}  # category Cc
    table.update({ord(c): None for c in _ZERO_WIDTH})
    table[ord(_SOFT_HYPHEN)] = _SOFT_HYPHEN if legacy else None
    table.update({ord(c): " " for c in _SPACES})
    table.update({ord(c): "\n" for c in _LINE_BREAKS})
    if not typography:
        table.update({ord(c): "-" for c in _DASHES})
        table.update({ord(c): q for c, q in _QUOTES.items()})
    table.update({ord(c): r for c, r in _WORD_CONTROLS.items()})
    if not legacy:
        table.update({0x00D0: "Đ", 0x00F0: "đ"})
    return table


def _table_and_search(table: dict[int, str | None]) -> tuple[dict[int, str | None], re.Pattern[str]]:
    """The table, and a search for any character it changes (those it maps to themselves left out)."""
    changed = "".join(re.escape(chr(code)) for code, to in sorted(table.items()) if to != chr(code))
    return table, re.compile(f"[{changed}]")


_CLEAN_TABLES: Final = {(legacy, typography): _table_and_search(_clean_table(legacy=legacy, typography=typography))
                        for legacy in (False, True) for typography in (False, True)}


# -------------------------------------------------------------------- fold()

_VOWEL_BASES: Final = frozenset("aeiouy")


def _syllable_tone(nfd_syllable: str) -> tuple[str, str | None]:
    """Remove the tone mark from a decomposed syllable, returning it separately."""
    tone = next((m for m in nfd_syllable if m in TONES), None)
    if tone is None:
        return nfd_syllable, None
    return nfd_syllable.replace(tone, "", 1), tone


_SYLLABLE_RE: Final = re.compile(r"\w+")


def _place_tone(syllable: str) -> str:
    """Put the tone of one NFC syllable where the traditional rule puts it (hòa, thúy, ủy)."""
    nfd = unicodedata.normalize("NFD", syllable)
    bare, tone = _syllable_tone(nfd)
    if tone is None:
        return syllable
    # Positions (in `bare`) of vowel base letters, with the following modifier.
    letters: list[tuple[int, str]] = []  # (index of base char, base+modifier)
    i = 0
    while i < len(bare):
        j = i + 1
        while j < len(bare) and unicodedata.combining(bare[j]):
            j += 1
        letters.append((i, bare[i:j]))
        i = j
    lowered = [(idx, s.lower()) for idx, s in letters]
    vowel_pos = [k for k, (_, s) in enumerate(lowered) if s[0] in _VOWEL_BASES]
    if not vowel_pos:
        return syllable
    # The nucleus is the first run of vowel letters; qu / gi onsets own their u / i.
    first = vowel_pos[0]
    run = [first]
    while run[-1] + 1 < len(lowered) and lowered[run[-1] + 1][1][0] in _VOWEL_BASES:
        run.append(run[-1] + 1)
    if len(run) > 1 and first > 0:
        onset = lowered[first - 1][1]
        if (onset == "q" and lowered[first][1] == "u") or (
            onset == "g" and lowered[first][1] == "i"
        ):
            run = run[1:]
    has_coda = run[-1] + 1 < len(lowered)
    modified = [k for k in run if len(lowered[k][1]) > 1]
    if modified:
        # ươ carries the tone on ơ; otherwise the one modified vowel does.
        target = modified[-1]
    elif has_coda or len(run) == 1:
        target = run[-1]
    elif len(run) >= 3:
        target = run[1]
    else:
        # Open oa/oe/uy included: the traditional hòa/khỏe/thủy placement.
        target = run[0]
    insert_at = letters[target][0] + len(letters[target][1])
    placed = bare[:insert_at] + tone + bare[insert_at:]
    return unicodedata.normalize("NFC", placed)


def normalize_tone_placement(text: str) -> str:
    """Move each syllable's tone to the traditional place: hoà -> hòa, thuý -> thúy, uỷ -> ủy.

    The traditional placement is the one the national header uses ("CỘNG HÒA");
    either choice would do for a key, as long as it is one.

    Only for building comparison keys: display text keeps the writer's placement.
    """
    nfc = unicodedata.normalize("NFC", text)
    return _SYLLABLE_RE.sub(lambda m: _place_tone(m.group(0)), nfc)


# Letters with no ASCII form (other scripts) are content too, so only
# non-word characters and the underscore turn into spaces.
_NON_ALNUM_RE: Final = re.compile(r"[\W_]+")




_FOLD_DROP: Final = str.maketrans(dict.fromkeys(_ZERO_WIDTH | {_SOFT_HYPHEN}))
_FOLD_DROP_RE: Final = re.compile("[" + "".join(sorted(_ZERO_WIDTH | {_SOFT_HYPHEN})) + "]")
_COMBINING_RE: Final = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]+")


def fold(text: str) -> str:
    """Matching key: no case, no diacritics, đ -> d, punctuation to single spaces.

    Old and new tone placement (hoà/hòa, thuý/thúy, uỷ/ủy) fold equal, since
    every mark goes. Hot path (every block of every report): no per-character
    Python loop, one NFD and two regular expressions.
    """
    if _FOLD_DROP_RE.search(text):  # rare: the search is ten times cheaper than translate()
        text = text.translate(_FOLD_DROP)
    stripped = _COMBINING_RE.sub("", unicodedata.normalize("NFD", text))
    # Ð/ð look-alikes too (fold(fold(x)) == fold(x)); replace() is far cheaper than translate() here.
    folded = stripped.replace("đ", "d").replace("Đ", "d").replace("ð", "d").replace("Ð", "d").casefold()
    return _NON_ALNUM_RE.sub(" ", folded).strip()


# ----------------------------------------------------------- legacy decoding

def _build_vni_decode() -> dict[str, str]:
    """VNI sequence -> Unicode letter, every letter's encoding plus mixed-case variants."""
    table: dict[str, str] = {}
    for letter in all_vietnamese_letters():
        seq = unicode_to_vni(letter)
        if seq != letter:
            table[seq] = letter
    # Typists' mixed case ("Aù" for Á after a case change): the base decides case.
    for seq, letter in list(table.items()):
        if len(seq) == 2:
            for variant in (seq[0] + seq[1].lower(), seq[0] + seq[1].upper()):
                if variant not in table:
                    table[variant] = letter
    return table


# Built from the same row data as the encoder; the tests check both directions
# against an independent oracle, so a single table cannot hide a shared mistake.
_VNI_DECODE: Final = _build_vni_decode()
_VNI_FIRST_CHARS: Final = frozenset(seq[0] for seq in _VNI_DECODE)


def tcvn3_to_unicode(text: str, *, capitals_font: bool = False) -> str:
    """TCVN3 (ABC) text to Unicode NFC.

    ``capitals_font=True`` for ``.VnTimeH``-style fonts (name ends in "H"), which
    store toned capitals as small-letter codes and draw everything as capitals:
    the result is upper-cased.
    """
    decoded = "".join(TCVN3_DECODE.get(char, char) for char in text)
    if capitals_font:
        decoded = decoded.upper()
    return unicodedata.normalize("NFC", decoded)


def vni_to_unicode(text: str) -> str:
    """VNI (VNI-Times etc.) text to Unicode NFC; longest sequence first."""
    out: list[str] = []
    i = 0
    n = len(text)
    while i < n:
        char = text[i]
        if char in _VNI_FIRST_CHARS:
            pair = text[i:i + 2]
            if len(pair) == 2 and pair in _VNI_DECODE:
                out.append(_VNI_DECODE[pair])
                i += 2
                continue
            if char in _VNI_DECODE:
                out.append(_VNI_DECODE[char])
                i += 1
                continue
        out.append(char)
        i += 1
    return unicodedata.normalize("NFC", "".join(out))


def to_unicode(text: str, encoding: Encoding, *, capitals_font: bool = False) -> str:
    """Decode `text` from `encoding`; UNICODE text is only NFC-normalised."""
    if encoding is Encoding.TCVN3:
        return tcvn3_to_unicode(text, capitals_font=capitals_font)
    if encoding is Encoding.VNI:
        return vni_to_unicode(text)
    return unicodedata.normalize("NFC", text)


_VNI_FONT_RE: Final = re.compile(r"^vni[-_ ]", re.IGNORECASE)
_TCVN3_FONT_RE: Final = re.compile(r"^\.?vn[a-z0-9]", re.IGNORECASE)


def font_encoding_hint(font_name: str | None) -> tuple[Encoding | None, bool]:
    """What a font name suggests: ``(encoding or None, is a capitals-only font)``.

    Only a hint: `detect_encoding` confirms by the characters.
    """
    if not font_name:
        return None, False
    name = font_name.strip()
    if _VNI_FONT_RE.match(name):
        return Encoding.VNI, False
    if name.startswith(".") and _TCVN3_FONT_RE.match(name):
        # .VnTimeH, .VnArialH, .VnAvantH: the capitals fonts end in H.
        return Encoding.TCVN3, name.endswith("H")
    return None, False


# ----------------------------------------------------------- detect_encoding()

# A Vietnamese letter or mark that no legacy 8-bit font text can contain.
_UNICODE_ONLY_RE: Final = re.compile("[\u1ea0-\u1ef9\u0300-\u0323ăĂđĐơƠưƯĩĨũŨ]")
_LATIN1_HIGH_RE: Final = re.compile("[\u00a1-\u00ff]")


def _has_latin1_high(text: str) -> bool:
    return _LATIN1_HIGH_RE.search(text) is not None


def detect_encoding(text: str, fonts: Iterable[str] = ()) -> Encoding:
    """Decide how `text` is encoded, by its characters; font names only lower the bar."""
    if text.isascii():
        return Encoding.UNICODE
    if _UNICODE_ONLY_RE.search(text):
        return Encoding.UNICODE
    hints = {font_encoding_hint(f)[0] for f in fonts}
    return _legacy_by_statistics(text, hints)


# Untoned Vietnamese rhymes (vowel nucleus + final), NFC. Used to tell a real
# syllable from Latin-1 look-alike bytes. The loanword rhymes oong/ooc (boong,
# soóc) are left out: VNI's oâ (ô) would read as TCVN3 "oõ" + ng and pass.
_RHYME_TEXT: Final = """
a ac ach ai am an ang anh ao ap at au ay
ăc ăm ăn ăng ăp ăt
âc âm ân âng âp ât âu ây
e ec em en eng eo ep et
ê êch êm ên ênh êp êt êu
i ia ich im in inh ip it iu iêc iêm iên iêng iêp iêt iêu
o oa oac oach oai oam oan oang oanh oao oap oat oay oăc oăm oăn oăng oăt
oc oe oen oeo oet oi om on ong op ot
ô ôc ôi ôm ôn ông ôp ôt
ơ ơi ơm ơn ơp ơt
u ua uân uâng uât uây uc uê uêch uênh uơ ui um un ung uôc uôi uôm uôn uông uôt up ut
uy uya uych uyên uyêt uynh uyt uyu uyn
ư ưa ưc ưi ưm ưn ưng ưt ưu ươc ươi ươm ươn ương ươp ươt ươu
y yêm yên yêt yêu
"""
_RHYMES: Final = frozenset(_RHYME_TEXT.split())
_ONSETS: Final[tuple[str, ...]] = (
    "ngh", "ch", "gh", "gi", "kh", "ng", "nh", "ph", "qu", "th", "tr",
    "b", "c", "d", "đ", "g", "h", "k", "l", "m", "n", "p", "r", "s", "t", "v", "x", "",
)
_STOP_FINALS: Final = ("c", "ch", "p", "t")
# Tones a syllable ending in a stop consonant cannot carry.
_OPEN_ONLY_TONES: Final = frozenset(TONES[:3])


@functools.lru_cache(maxsize=8192)  # pure; encoding detection asks about the same words again and again
def is_vietnamese_syllable(word: str) -> bool:
    """Whether `word` is spelled like one Vietnamese syllable (any case, any tone placement)."""
    nfd = unicodedata.normalize("NFD", word.lower())
    tones = [c for c in nfd if c in TONES]
    if len(tones) > 1:
        return False
    bare = unicodedata.normalize("NFC", "".join(c for c in nfd if c not in TONES))
    for onset in _ONSETS:
        if not bare.startswith(onset):
            continue
        rhyme = bare[len(onset):]
        if rhyme not in _RHYMES:
            continue
        if tones and tones[0] in _OPEN_ONLY_TONES and rhyme.endswith(_STOP_FINALS):
            continue
        return True
    return False


_TOKEN_SPLIT_RE: Final = re.compile(r"[\s0-9!\"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~\u2010-\u201f\u2026]+")
# Latin-1 characters that are symbols in Unicode but letters in TCVN3: inside a
# word they are next to proof of TCVN3 (c¬ = cơ, n¨m = năm).
_TCVN3_SYMBOL_LETTERS: Final = frozenset("¡¢£¤¥¦§¨©ª«¬\u00ad®µ¶·¸¹»¼½¾×÷")
# Enough words to decide; keeps detection linear and cheap on long documents.
_MAX_DECIDING_WORDS: Final = 400


def _plain_case(token: str) -> bool:
    """lower, UPPER or Title case: how real words are written."""
    return token in (token.lower(), token.upper()) or (
        token[0].isupper() and token[1:] == token[1:].lower()
    )


def _case_anomaly(token: str) -> bool:
    """Case no language writes, but TCVN3 produces: its small toned vowels sit on
    Latin-1 capitals (chÊp = chấp) and small letters (CùC = CỰC in capitals)."""
    upper_run = 0
    seen_lower = False
    for index, char in enumerate(token):
        if char.isupper():
            if seen_lower and (not char.isascii() or not token[index - 1].isascii()):
                return True
            upper_run += 1
        elif char.islower():
            if not char.isascii() and upper_run >= 2:
                return True
            seen_lower = True
    return False


# VNI sequences that also occur in French, Spanish, German... (où, goût, naïve,
# maïs, Noël, Israël): decoding them to a valid syllable proves little.
_LATIN_SAFE_VNI: Final = frozenset({"où", "oû", "aï", "oï", "uï", "eï", "aë", "eë", "oë", "uë"})


def _vni_strong(token: str) -> bool:
    """Whether a token holds a VNI spelling that no Latin-script language uses."""
    if token[0] in "ñÑ":
        return True
    pairs = (token[i:i + 2] for i in range(len(token) - 1))
    return any(p in _VNI_DECODE and p.lower() not in _LATIN_SAFE_VNI for p in pairs)


def _score_encodings(text: str) -> dict[Encoding, tuple[int, int, bool]]:
    """Per legacy encoding: (words only it makes Vietnamese, words it cannot
    explain, whether some word is evidence no Unicode text would produce)."""
    votes = {Encoding.TCVN3: 0, Encoding.VNI: 0}
    against = {Encoding.TCVN3: 0, Encoding.VNI: 0}
    strong = {Encoding.TCVN3: False, Encoding.VNI: False}
    seen = 0
    for token in _TOKEN_SPLIT_RE.split(text):
        if not token or token.isascii():
            continue
        if len(token) == 1 and not token.isalpha():
            continue  # a lone symbol (×, ©, ·) says nothing
        seen += 1
        if seen > _MAX_DECIDING_WORDS:
            break
        as_is = _plain_case(token) and is_vietnamese_syllable(token)
        decodings = ((Encoding.TCVN3, tcvn3_to_unicode(token)), (Encoding.VNI, vni_to_unicode(token)))
        for encoding, decoded in decodings:
            changed = decoded != token
            ok = changed and is_vietnamese_syllable(decoded)
            if ok and not as_is:
                votes[encoding] += 1
            elif (changed and not ok) or (not changed and not as_is):
                # Decoding made nothing Vietnamese of it (ACME® -> ACMEđ), or left
                # a non-Vietnamese word as it was (café): this encoding does not
                # explain the word. Words it leaves valid (VNI chính) are neutral.
                against[encoding] += 1
        if votes[Encoding.TCVN3] and not as_is and is_vietnamese_syllable(decodings[0][1]) and (
            _case_anomaly(token) or any(c in _TCVN3_SYMBOL_LETTERS for c in token)
        ):
            strong[Encoding.TCVN3] = True
        if not as_is and is_vietnamese_syllable(decodings[1][1]) and decodings[1][1] != token and (
            _vni_strong(token)
        ):
            strong[Encoding.VNI] = True
    return {e: (votes[e], against[e], strong[e]) for e in votes}


def _legacy_by_statistics(text: str, hints: set[Encoding | None]) -> Encoding:
    scores = _score_encodings(text)
    best = Encoding.UNICODE
    best_rank = (0, False)
    for encoding in (Encoding.TCVN3, Encoding.VNI):
        votes, against, strong = scores[encoding]
        if encoding in hints:
            # The font says so: a tie between readings goes to the font.
            decided = votes >= 1 and votes >= against
        elif strong:
            decided = votes > against
        else:
            decided = votes >= 2 and votes > against
        # Some words read as both encodings (VNI cuûa is TCVN3 cuỷa): the
        # encoding that leaves fewer words unexplained wins, then the one with
        # spellings only it produces.
        rank = (votes - against, strong)
        if decided and rank > best_rank:
            best, best_rank = encoding, rank
    return best
