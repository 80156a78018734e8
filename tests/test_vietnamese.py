"""Unit tests for intake.parsers.vietnamese (pure functions, fast).

The legacy-encoding tables are checked against an independent oracle: UniKey's
charset tables (fcitx5-unikey `unikey/data.cpp`, GPL-2.0), transcribed below as
data for testing only. Product code does not use them. The product tables were
written from the TCVN3/VNI byte layouts, so agreement between the two is evidence
rather than a tautology.
"""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from intake.parsers.vietnamese import (
    Encoding,
    clean,
    detect_encoding,
    fold,
    font_encoding_hint,
    is_vietnamese_syllable,
    normalize_tone_placement,
    tcvn3_to_unicode,
    to_unicode,
    unicode_to_tcvn3,
    unicode_to_vni,
    vni_to_unicode,
)
from intake.parsers.vn_tables import all_vietnamese_letters

# --------------------------------------------------------------------- oracle
# UniKey orders every vowel as (capital, small) pairs of: plain, acute, grave,
# hook, tilde, dot. `data.cpp` is stored as Windows-1252 bytes; the public copy
# read for this test shows them decoded as Mac Roman, so the strings are kept
# exactly as read and turned back into bytes with the mac_roman codec.
_ORACLE_UNICODE_ROWS: dict[str, str] = {
    "a": "AaÁáÀàẢảÃãẠạ",
    "â": "ÂâẤấẦầẨẩẪẫẬậ",
    "ă": "ĂăẮắẰằẲẳẴẵẶặ",
    "e": "EeÉéÈèẺẻẼẽẸẹ",
    "ê": "ÊêẾếỀềỂểỄễỆệ",
    "i": "IiÍíÌìỈỉĨĩỊị",
    "o": "OoÓóÒòỎỏÕõỌọ",
    "ô": "ÔôỐốỒồỔổỖỗỘộ",
    "ơ": "ƠơỚớỜờỞởỠỡỢợ",
    "u": "UuÚúÙùỦủŨũỤụ",
    "ư": "ƯưỨứỪừỬửỮữỰự",
    "y": "YyÝýỲỳỶỷỸỹỴỵ",
    "đ": "Đđ",
}
_ORACLE_TCVN3_MACROMAN: dict[str, str] = {
    "a": "Aa∏∏µµ∂∂∑∑ππ",
    "â": "¢©\u00a0\u00a0««»»……ÀÀ",
    "ă": "°®ææªªººΩΩ∆∆",
    "e": "Ee––ÃÃŒŒœœ——",
    "ê": "£™’’““””‘‘÷÷",
    "i": "Ii››◊◊ÿÿ‹‹ﬁﬁ",
    "o": "Oo„„ﬂﬂ··‚‚‰‰",
    "ô": "§´ËËÂÂÊÊÁÁÈÈ",
    "ơ": "•¨ÌÌÍÍÎÎÏÏÓÓ",
    "u": "UuÛÛÔÔÒÒÚÚÙÙ",
    "ư": "¶≠¯¯ııˆˆ˜˜˘˘",
    "y": "Yy˝˝˙˙˚˚¸¸˛˛",
    "đ": "ßÆ",
}
# VNI-WIN: one 16-bit word per letter, low byte the base, high byte the mark (0 = none).
_ORACLE_VNI_WORDS: dict[str, tuple[int, ...]] = {
    "a": (0x0041, 0x0061, 0xD941, 0xF961, 0xD841, 0xF861, 0xDB41, 0xFB61, 0xD541, 0xF561, 0xCF41, 0xEF61),
    "â": (0xC241, 0xE261, 0xC141, 0xE161, 0xC041, 0xE061, 0xC541, 0xE561, 0xC341, 0xE361, 0xC441, 0xE461),
    "ă": (0xCA41, 0xEA61, 0xC941, 0xE961, 0xC841, 0xE861, 0xDA41, 0xFA61, 0xDC41, 0xFC61, 0xCB41, 0xEB61),
    "e": (0x0045, 0x0065, 0xD945, 0xF965, 0xD845, 0xF865, 0xDB45, 0xFB65, 0xD545, 0xF565, 0xCF45, 0xEF65),
    "ê": (0xC245, 0xE265, 0xC145, 0xE165, 0xC045, 0xE065, 0xC545, 0xE565, 0xC345, 0xE365, 0xC445, 0xE465),
    "i": (0x0049, 0x0069, 0x00CD, 0x00ED, 0x00CC, 0x00EC, 0x00C6, 0x00E6, 0x00D3, 0x00F3, 0x00D2, 0x00F2),
    "o": (0x004F, 0x006F, 0xD94F, 0xF96F, 0xD84F, 0xF86F, 0xDB4F, 0xFB6F, 0xD54F, 0xF56F, 0xCF4F, 0xEF6F),
    "ô": (0xC24F, 0xE26F, 0xC14F, 0xE16F, 0xC04F, 0xE06F, 0xC54F, 0xE56F, 0xC34F, 0xE36F, 0xC44F, 0xE46F),
    "ơ": (0x00D4, 0x00F4, 0xD9D4, 0xF9F4, 0xD8D4, 0xF8F4, 0xDBD4, 0xFBF4, 0xD5D4, 0xF5F4, 0xCFD4, 0xEFF4),
    "u": (0x0055, 0x0075, 0xD955, 0xF975, 0xD855, 0xF875, 0xDB55, 0xFB75, 0xD555, 0xF575, 0xCF55, 0xEF75),
    "ư": (0x00D6, 0x00F6, 0xD9D6, 0xF9F6, 0xD8D6, 0xF8F6, 0xDBD6, 0xFBF6, 0xD5D6, 0xF5F6, 0xCFD6, 0xEFF6),
    "y": (0x0059, 0x0079, 0xD959, 0xF979, 0xD859, 0xF879, 0xDB59, 0xFB79, 0xD559, 0xF579, 0x00CE, 0x00EE),
    "đ": (0x00D1, 0x00F1),
}


def _oracle_tcvn3() -> dict[str, str]:
    table: dict[str, str] = {}
    for key, letters in _ORACLE_UNICODE_ROWS.items():
        codes = _ORACLE_TCVN3_MACROMAN[key].encode("mac_roman").decode("latin-1")
        table.update(zip(letters, codes, strict=True))
    return table


def _oracle_vni() -> dict[str, str]:
    table: dict[str, str] = {}
    for key, letters in _ORACLE_UNICODE_ROWS.items():
        for letter, word in zip(letters, _ORACLE_VNI_WORDS[key], strict=True):
            base, mark = word & 0xFF, word >> 8
            table[letter] = chr(base) + (chr(mark) if mark else "")
    return table


ORACLE_TCVN3 = _oracle_tcvn3()
ORACLE_VNI = _oracle_vni()
VIETNAMESE_LETTERS = all_vietnamese_letters()


def oracle_encode(text: str, table: dict[str, str]) -> str:
    return "".join(table.get(c, c) for c in unicodedata.normalize("NFC", text))


SENTENCES = [
    "III. ĐÁNH GIÁ KẾT QUẢ TỔ CHỨC HỌC TẬP, QUÁN TRIỆT VÀ TRIỂN KHAI CHUYÊN ĐỀ NĂM 2024",
    "Công đoàn cơ sở Trường THPT số 1 huyện Bảo Thắng",
    "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
    "Độc lập - Tự do - Hạnh phúc",
    "Báo cáo kết quả thực hiện nhiệm vụ năm học 2023-2024",
    "Ban chấp hành Công đoàn cơ sở đã tổ chức quán triệt đến 100% đoàn viên",
    "Liên đoàn Lao động tỉnh Lào Cai; Ủy ban nhân dân huyện Bát Xát",
    "Nơi nhận: Như trên; Lưu VT.",
    "Trên đây là báo cáo của Công đoàn trường, kính gửi cấp trên xem xét.",
    "Thủy lợi, khuyến nông, thuở xưa, quyết định, giữ gìn, nghiêng ngửa, khuỷu tay, khuya",
]

# ------------------------------------------------------------ oracle tables


def test_oracle_covers_every_letter() -> None:
    assert len(VIETNAMESE_LETTERS) == 134
    assert set(VIETNAMESE_LETTERS) <= set(ORACLE_TCVN3)
    assert set(VIETNAMESE_LETTERS) <= set(ORACLE_VNI)


@pytest.mark.parametrize("letter", VIETNAMESE_LETTERS)
def test_tcvn3_encoder_matches_oracle(letter: str) -> None:
    assert unicode_to_tcvn3(letter) == ORACLE_TCVN3[letter]


@pytest.mark.parametrize("letter", VIETNAMESE_LETTERS)
def test_vni_encoder_matches_oracle(letter: str) -> None:
    assert unicode_to_vni(letter) == ORACLE_VNI[letter]


@pytest.mark.parametrize("letter", VIETNAMESE_LETTERS)
def test_tcvn3_decoder_reads_oracle(letter: str) -> None:
    decoded = tcvn3_to_unicode(ORACLE_TCVN3[letter])
    # TCVN3 has no toned capitals: they come back small, or capital with the capitals font.
    has_code_of_its_own = letter == letter.lower() or letter in "ĂÂÊÔƠƯĐ"
    assert decoded == (letter if has_code_of_its_own else letter.lower())
    assert tcvn3_to_unicode(ORACLE_TCVN3[letter], capitals_font=True) == letter.upper()


@pytest.mark.parametrize("letter", VIETNAMESE_LETTERS)
def test_vni_decoder_reads_oracle(letter: str) -> None:
    assert vni_to_unicode(ORACLE_VNI[letter]) == letter


def test_vni_y_hook_and_tilde_are_y_plus_mark() -> None:
    # duydev/vietnamese-conversion's charsets.ts has these four wrong at its HEAD.
    assert unicode_to_vni("ỷỹỶỸ") == "yûyõYÛYÕ"
    assert vni_to_unicode("yûyõYÛYÕ") == "ỷỹỶỸ"


def test_tcvn3_soft_hyphen_is_u_horn() -> None:
    assert tcvn3_to_unicode("Tr\u00adêng") == "Trường"


@pytest.mark.parametrize("sentence", SENTENCES)
def test_sentences_round_trip_through_oracle_encodings(sentence: str) -> None:
    tcvn3 = oracle_encode(sentence, ORACLE_TCVN3)
    vni = oracle_encode(sentence, ORACLE_VNI)
    assert unicode_to_vni(sentence) == vni
    assert vni_to_unicode(vni) == sentence
    assert tcvn3_to_unicode(tcvn3, capitals_font=True) == sentence.upper()
    # Plain TCVN3 keeps the case of everything but toned capitals.
    assert tcvn3_to_unicode(tcvn3).lower() == sentence.lower()
    if sentence == sentence.lower():
        assert tcvn3_to_unicode(tcvn3) == sentence
    assert unicode_to_tcvn3(sentence) == tcvn3


def test_full_heading_round_trips() -> None:
    heading = SENTENCES[0]
    assert tcvn3_to_unicode(unicode_to_tcvn3(heading, capitals_font=True), capitals_font=True) == heading
    assert vni_to_unicode(unicode_to_vni(heading)) == heading
    unit = SENTENCES[1]
    assert tcvn3_to_unicode(unicode_to_tcvn3(unit)) == unit
    assert tcvn3_to_unicode(unicode_to_tcvn3(unit, capitals_font=True), capitals_font=True) == unit.upper()
    assert vni_to_unicode(unicode_to_vni(unit)) == unit


def test_every_letter_round_trips_in_words() -> None:
    text = " ".join("x" + letter + "n" for letter in VIETNAMESE_LETTERS)
    assert vni_to_unicode(unicode_to_vni(text)) == text
    assert tcvn3_to_unicode(unicode_to_tcvn3(text)).lower() == text.lower()
    upper = text.upper()
    assert tcvn3_to_unicode(unicode_to_tcvn3(upper, capitals_font=True), capitals_font=True) == upper


def test_vni_mixed_case_mark_follows_base() -> None:
    assert vni_to_unicode("Aùnh") == "Ánh"
    assert vni_to_unicode("aÙ") == "á"


def test_decoders_output_nfc_and_leave_other_text() -> None:
    for decoded in (tcvn3_to_unicode("C«ng ®oµn 2024 ABC"), vni_to_unicode("Coâng ñoaøn 2024 ABC")):
        assert decoded == unicodedata.normalize("NFC", decoded) == "Công đoàn 2024 ABC"


def test_to_unicode_dispatch() -> None:
    assert to_unicode("C«ng", Encoding.TCVN3) == "Công"
    assert to_unicode("c«ng", Encoding.TCVN3, capitals_font=True) == "CÔNG"
    assert to_unicode("Coâng", Encoding.VNI) == "Công"
    nfd = unicodedata.normalize("NFD", "Công  đoàn")
    assert to_unicode(nfd, Encoding.UNICODE) == "Công  đoàn"


def test_encoders_pass_through_non_vietnamese() -> None:
    assert unicode_to_vni("THPT 2024, 98,5% - (x)") == "THPT 2024, 98,5% - (x)"
    assert unicode_to_tcvn3("THPT 2024, 98,5% - (x)") == "THPT 2024, 98,5% - (x)"
    assert unicode_to_vni(unicodedata.normalize("NFD", "Việt")) == "Vieät"


# ---------------------------------------------------------------- font hints


@pytest.mark.parametrize(
    ("font", "expected"),
    [
        (".VnTime", (Encoding.TCVN3, False)),
        (".VnTimeH", (Encoding.TCVN3, True)),
        (".VnArialH", (Encoding.TCVN3, True)),
        (".VnAvant", (Encoding.TCVN3, False)),
        ("VNI-Times", (Encoding.VNI, False)),
        ("VNI-Helve", (Encoding.VNI, False)),
        ("Times New Roman", (None, False)),
        ("VnTimes Roman", (None, False)),
        ("", (None, False)),
        (None, (None, False)),
    ],
)
def test_font_encoding_hint(font: str | None, expected: tuple[Encoding | None, bool]) -> None:
    assert font_encoding_hint(font) == expected


# ----------------------------------------------------------- detect_encoding


@pytest.mark.parametrize("sentence", SENTENCES)
def test_detects_each_encoding_without_font_hint(sentence: str) -> None:
    assert detect_encoding(sentence) is Encoding.UNICODE
    assert detect_encoding(unicodedata.normalize("NFD", sentence)) is Encoding.UNICODE
    assert detect_encoding(oracle_encode(sentence, ORACLE_TCVN3)) is Encoding.TCVN3
    assert detect_encoding(unicode_to_tcvn3(sentence, capitals_font=True)) is Encoding.TCVN3
    assert detect_encoding(oracle_encode(sentence, ORACLE_VNI)) is Encoding.VNI


@pytest.mark.parametrize(
    "text",
    [
        "Báo cáo tình hình",  # Unicode Vietnamese made only of Latin-1 letters
        "Tôi là giáo viên",
        "Chào mừng",
        "Kính gửi",
        "Thông tin",
        "café",
        "Résumé",
        "Le café est délicieux à Paris, où il fait beau.",
        "Curriculum vitæ – naïve façade; Björk, São Paulo, España, año",
        "© 2024 ACME® — 3 × 4 = 12 · ½ · §2 · 25°C · µm",
        "12.345.678 98,5%",
        "2024",
        "",
        "á",
        "à",
        "ô",
        "ñ",
        "Té",
        "où",
        "Loïc",
        "mãe",
        "Zoë et Loïc à Montréal",
        "São João, Malmö, Ærø, Björk",
    ],
)
def test_not_legacy(text: str) -> None:
    assert detect_encoding(text) is Encoding.UNICODE


@pytest.mark.parametrize("font", [".VnTime", ".VnTimeH", "VNI-Times"])
def test_font_name_alone_never_makes_unicode_legacy(font: str) -> None:
    for text in (*SENTENCES, "Báo cáo tình hình", "Tôi là giáo viên", "café", "Chào mừng", "cô giáo"):
        assert detect_encoding(text, [font]) is Encoding.UNICODE, text


@pytest.mark.parametrize(
    ("text", "font", "encoding"),
    [
        ("vuï", "VNI-Times", Encoding.VNI),  # vụ; "uï" also spells French ambiguïté
        ("häc", ".VnTime", Encoding.TCVN3),  # học
        ("thêi gian", ".VnTime", Encoding.TCVN3),  # thời gian
        ("HIÖN", ".VnTimeH", Encoding.TCVN3),  # HIỆN
    ],
)
def test_font_hint_lowers_the_threshold(text: str, font: str, encoding: Encoding) -> None:
    assert detect_encoding(text) is Encoding.UNICODE
    assert detect_encoding(text, [font]) is encoding


def test_short_legacy_strings() -> None:
    assert detect_encoding("Tr\u00adêng") is Encoding.TCVN3  # Trường
    assert detect_encoding("B¸o c¸o") is Encoding.TCVN3
    assert detect_encoding("Ñoaøn") is Encoding.VNI
    assert detect_encoding("Baùo caùo") is Encoding.VNI
    assert detect_encoding("Coâng") is Encoding.VNI  # oâ is no Latin-script spelling
    assert detect_encoding("chÊp") is Encoding.TCVN3  # chấp: case no language writes
    assert detect_encoding("CùC") is Encoding.TCVN3  # CỰC in a capitals font
    # Reads as TCVN3 "chửa chuỷ" too; VNI's uû is a spelling only VNI makes.
    assert detect_encoding("chöa chuû") is Encoding.VNI


def test_unicode_only_letters_win() -> None:
    # A stray legacy-looking symbol does not outvote real Unicode Vietnamese.
    assert detect_encoding("Hội nghị ¸ µ") is Encoding.UNICODE
    assert detect_encoding("Tr\u00adường") is Encoding.UNICODE


def test_is_vietnamese_syllable() -> None:
    for word in ("trường", "nghiêng", "khuỷu", "quốc", "gì", "giữ", "hoà", "hòa", "thuý", "ĐÁNH", "ươu"):
        assert is_vietnamese_syllable(word), word
    for word in ("café", "tỡnh", "kẽt", "coâng", "ñoaøn", "c¬", "hello", "â"):
        assert not is_vietnamese_syllable(word), word


# --------------------------------------------------------------------- clean


def test_clean_unifies_normal_forms() -> None:
    nfc = "Cộng hòa xã hội chủ nghĩa Việt Nam"
    nfd = unicodedata.normalize("NFD", nfc)
    # UniKey "composed + combining": precomposed base with a separate tone mark.
    unikey = "C\u00f4\u0323ng h\u00f2a x\u00e3 h\u00f4\u0323i ch\u1ee7 ngh\u0129a Vi\u00ea\u0323t Nam"
    # Windows-1258 style: base (with modifier) + combining tone.
    cp1258 = "Cô\u0323ng ho\u0300a xa\u0303 hô\u0323i chu\u0309 nghi\u0303a Viê\u0323t Nam"
    assert clean(nfd) == clean(unikey) == clean(cp1258) == nfc
    assert fold(nfd) == fold(unikey) == fold(cp1258) == fold(nfc)


def test_clean_keeps_tone_placement_and_case() -> None:
    assert clean("Hoà  Bình") == "Hoà Bình"
    assert clean("hòa") == "hòa"
    assert clean("THUÝ") == "THUÝ"


def test_clean_whitespace_dashes_quotes_invisibles() -> None:
    raw = "\ufeff  Độc\u00a0lập\u200b – Tự\u2009do — Hạnh ph\u00adúc \u201cx\u201d \u2018y\u2019\t\t"
    assert clean(raw) == "Độc lập - Tự do - Hạnh phúc \"x\" 'y'"
    assert clean("a\u2012b\u2212c") == "a-b-c"
    assert clean(" \t ") == ""
    assert clean("") == ""


def test_clean_keeps_single_line_breaks() -> None:
    assert clean("PHẦN THỨ HAI \r\n\n  ĐÁNH GIÁ ") == "PHẦN THỨ HAI\nĐÁNH GIÁ"


def test_clean_eth_look_alike() -> None:
    assert clean("ÐOÀN THANH NIÊN") == "ĐOÀN THANH NIÊN"
    assert clean("ðoàn") == "đoàn"
    assert fold("ÐOÀN") == fold("Đoàn") == "doan"


def test_clean_leaves_legacy_text_letters_alone() -> None:
    tcvn3 = "§oµn viªn c«ng ®oµn tr\u00adêng"
    assert clean(tcvn3) == tcvn3
    assert clean("kÕt qu¶ Ð") == "kÕt qu¶ Ð"  # Ð is TCVN3 é here, not Đ


# ---------------------------------------------------------------------- fold


@pytest.mark.parametrize(
    ("old", "new"),
    [("hoà", "hòa"), ("thuý", "thúy"), ("Uỷ ban", "Ủy ban"), ("oà", "òa"), ("khoẻ", "khỏe"),
     ("HOÀ", "Hòa"), ("quý", "qúy"), ("Thuỷ lợi", "thủy lợi")],
)
def test_fold_unifies_tone_placement(old: str, new: str) -> None:
    assert fold(old) == fold(new)


def test_fold_key() -> None:
    assert fold("III. ĐÁNH GIÁ KẾT QUẢ – “Học tập”") == "iii danh gia ket qua hoc tap"
    assert fold("Đồng  chí\u00a0Đặng") == "dong chi dang"
    assert fold("98,5% (2024)") == "98 5 2024"


def test_normalize_tone_placement() -> None:
    assert normalize_tone_placement("hoà thuý uỷ khoẻ") == "hòa thúy ủy khỏe"
    # Syllables with a final consonant or a modified vowel are unaffected.
    assert normalize_tone_placement("hoàng thuyết người quốc") == "hoàng thuyết người quốc"
    assert normalize_tone_placement("HOÀ") == "HÒA"


# ------------------------------------------------------------------ properties

_ALPHABET = "".join(VIETNAMESE_LETTERS) + "abcdeghiklmnopqrstuvxyABCDEGHIKLMNOPQRSTUVXY0123456789 ,.;:-()"


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=_ALPHABET, max_size=40))
def test_any_vietnamese_text_round_trips(text: str) -> None:
    assert vni_to_unicode(unicode_to_vni(text)) == text
    assert tcvn3_to_unicode(unicode_to_tcvn3(text)).lower() == text.lower()
    assert tcvn3_to_unicode(unicode_to_tcvn3(text, capitals_font=True), capitals_font=True) == text.upper()
    assert unicode_to_vni(text) == oracle_encode(text, ORACLE_VNI)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=30))
def test_clean_and_fold_are_total_and_idempotent(text: str) -> None:
    once = clean(text)
    assert clean(once) == once
    assert fold(fold(text)) == fold(text)
    detect_encoding(text)
