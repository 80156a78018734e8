"""Unit identification: Vietnamese-aware name matching and Gmail address keys (pure)."""
from __future__ import annotations

import pytest

from intake.parsers.unit import UnitName, address_key, identify_unit, match_name, name_key

ROSTER = (
    UnitName("ldld-bao-thang", ("LĐLĐ huyện Bảo Thắng", "Liên đoàn Lao động huyện Bảo Thắng")),
    UnitName("ldld-bao-yen", ("LĐLĐ huyện Bảo Yên",)),
    UnitName("ldld-sa-pa", ("LĐLĐ thị xã Sa Pa",)),
    UnitName("ldld-tp-lao-cai", ("LĐLĐ thành phố Lào Cai",)),
    UnitName("cdn-giao-duc", ("Công đoàn ngành Giáo dục tỉnh Lào Cai", "CĐN Giáo dục")),
    UnitName("cdn-y-te", ("Công đoàn ngành Y tế tỉnh Lào Cai",)),
    UnitName("cdcs-thpt-so-1", ("CĐCS Trường THPT số 1 Bảo Thắng",)),
)


@pytest.mark.parametrize(("text", "expected"), [
    # abbreviations either way, capitals, diacritics folded
    ("LIÊN ĐOÀN LAO ĐỘNG HUYỆN BẢO THẮNG", "ldld-bao-thang"),
    ("LĐLĐ H. Bảo Thắng", "ldld-bao-thang"),
    ("LDLD Bao Thang", "ldld-bao-thang"),
    ("ldld bao thang", "ldld-bao-thang"),
    ("LÐLÐ huyện Bảo Thắng", "ldld-bao-thang"),  # Icelandic eth for Đ
    ("L\u0110L\u0110 huye\u0323\u0302n Ba\u0309o Tha\u0306\u0301ng", "ldld-bao-thang"),  # NFD
    # the parent body on the line before, as header blocks write it
    ("LĐLĐ TỈNH LÀO CAI LIÊN ĐOÀN LAO ĐỘNG HUYỆN BẢO THẮNG", "ldld-bao-thang"),
    ("LĐLĐ H. Bảo Yên", "ldld-bao-yen"),
    # huyện / thị xã / thành phố / TP are interchangeable for a place name
    ("Liên đoàn Lao động huyện Sa Pa", "ldld-sa-pa"),
    ("LĐLĐ TX Sa Pa", "ldld-sa-pa"),
    ("LĐLĐ TP Lào Cai", "ldld-tp-lao-cai"),
    ("LĐLĐ TỈNH LÀO CAI LĐLĐ THÀNH PHỐ LÀO CAI", "ldld-tp-lao-cai"),
    # CĐ / CĐN / CĐCS
    ("CĐ ngành Giáo dục", "cdn-giao-duc"),
    ("Công đoàn Giáo dục tỉnh", "cdn-giao-duc"),
    ("Cong doan nganh Y te", "cdn-y-te"),
    ("Công đoàn cơ sở Trường Trung học phổ thông số 1 Bảo Thắng", "cdcs-thpt-so-1"),
])
def test_names_and_variants_match(text: str, expected: str) -> None:
    assert match_name(text, ROSTER)[0] == expected


@pytest.mark.parametrize("text", [
    "LĐLĐ tỉnh Lào Cai",          # the province, not the city: its district word matters
    "LĐLĐ huyện Bảo",             # a place name cut short
    "Bảo Thắng Yên",              # syllables of two places mixed
    "LĐLĐ huyện Bắc Hà",          # not in this roster
    "Nguyễn Văn An",              # a person
    "",
])
def test_no_match(text: str) -> None:
    assert match_name(text, ROSTER)[0] is None


def test_bao_thang_never_matches_bao_yen() -> None:
    """Alone on the roster, the other district is still no match: only the district word differs."""
    thang, yen = UnitName("thang", ("LĐLĐ huyện Bảo Thắng",)), UnitName("yen", ("LĐLĐ huyện Bảo Yên",))
    assert match_name("LĐLĐ huyện Bảo Thắng", [yen])[0] is None
    assert match_name("LĐLĐ huyện Bảo Yên", [thang])[0] is None
    assert match_name("LĐLĐ huyện Bảo Yên", [thang, yen])[0] == "yen"


def test_ambiguous_text_matches_nobody() -> None:
    twins = (UnitName("a", ("Công đoàn ngành Y tế",)), UnitName("b", ("CĐN Y tế",)))
    assert match_name("Công đoàn ngành Y tế", twins) == (None, 100.0)


def test_name_key_expands_abbreviations() -> None:
    assert name_key("LĐLĐ TP. Lào Cai") == "lien doan lao dong thanh pho lao cai"
    assert name_key("CĐCS Trường THCS") == "cong doan co so truong trung hoc co so"
    assert name_key("Hoà  Thuý") == name_key("hòa thúy") == "hoa thuy"


@pytest.mark.parametrize(("address", "key"), [
    ("LDLD.Bao.Thang+baocao@gmail.com", "ldldbaothang@gmail.com"),
    ("ldldbaothang@googlemail.com", "ldldbaothang@gmail.com"),
    ("<Ldld.BaoThang@GMAIL.com>", "ldldbaothang@gmail.com"),
    ("van.thu+x@laocai.gov.vn", "van.thu+x@laocai.gov.vn"),  # dots and tags count elsewhere
])
def test_address_key(address: str, key: str) -> None:
    assert address_key(address) == key


def test_identify_order_address_header_display_name() -> None:
    registered = {"ldldbaothang@gmail.com": "ldld-bao-thang"}
    by_address = identify_unit(registered, ROSTER, "ldld.bao.thang+2024@gmail.com", "Cong doan Y te",
                               "LĐLĐ HUYỆN BẢO YÊN")
    assert (by_address.unit_id, by_address.method) == ("ldld-bao-thang", "address")
    by_header = identify_unit(registered, ROSTER, "someone@yahoo.com", "Cong doan nganh Y te",
                              "LĐLĐ HUYỆN BẢO YÊN")
    assert (by_header.unit_id, by_header.method) == ("ldld-bao-yen", "document_header")
    by_name = identify_unit(registered, ROSTER, "someone@yahoo.com", "Cong doan nganh Y te", "UBND xã X")
    assert (by_name.unit_id, by_name.method) == ("cdn-y-te", "display_name")
    nothing = identify_unit(registered, ROSTER, "someone@yahoo.com", "Mai Hoa", None)
    assert (nothing.unit_id, nothing.method) == (None, "none")
