"""extract_figures: Vietnamese number formats, prose wordings, statistics tables."""
from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from intake.parsers.figures import extract_figures, parse_count, parse_percent


@pytest.mark.parametrize(
    ("token", "value"),
    [("12", 12), ("01", 1), ("1.234", 1234), ("1.234.567", 1234567), ("1,234", 1234),
     ("98,5", None), ("1.23", None), ("12.34.5", None), ("abc", None)],
)
def test_parse_count(token: str, value: int | None) -> None:
    assert parse_count(token) == value


@pytest.mark.parametrize(
    ("token", "value"),
    [("98,5", 98.5), ("98.5", 98.5), ("100", 100.0), ("100%", 100.0), ("0,5 %", 0.5),
     ("101", None), ("1.234", None), ("x", None)],
)
def test_parse_percent(token: str, value: float | None) -> None:
    assert parse_percent(token) == value


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Có 1.234 đoàn viên tham gia học tập, đạt 98,5%.",
         {"participants": 1234, "rate_percent": 98.5}),
        ("Số đoàn viên tham gia học tập: 1.234 người.", {"participants": 1234}),
        ("Số CNVCLĐ tham gia học tập chuyên đề năm 2024 là 856 người.", {"participants": 856}),
        ("Đã có 1.234/1.250 đoàn viên tham gia, đạt 98,7%.",
         {"participants": 1234, "members": 1250, "rate_percent": 98.7}),
        ("Tổng số đoàn viên: 1.250. Số cán bộ, đoàn viên tham gia học tập: 1.234 đồng chí, "
         "đạt tỷ lệ 98,7%.",
         {"participants": 1234, "members": 1250, "rate_percent": 98.7}),
        ("Toàn huyện tổ chức 15 hội nghị quán triệt với 1.234 lượt cán bộ, đoàn viên tham dự "
         "(đạt 98,7%) trên tổng số 1.250 đoàn viên.",
         {"participants": 1234, "members": 1250, "rate_percent": 98.7, "sessions": 15}),
        ("Tỷ lệ đoàn viên tham gia học tập đạt 100%.", {"rate_percent": 100.0}),
        ("LĐLĐ huyện tổ chức được 3 lớp học tập chuyên đề.", {"sessions": 3}),
        ("Các CĐCS đã tổ chức 42 buổi sinh hoạt chuyên đề.", {"sessions": 42}),
        ("Số buổi/hội nghị: 12.", {"sessions": 12}),
        ("ĐOÀN VIÊN THAM GIA: 1.234", {}),  # no "số"/count wording: not a statement we read
        ("CÓ 1.234 ĐOÀN VIÊN THAM GIA HỌC TẬP", {"participants": 1234}),
    ],
)
def test_prose(text: str, expected: dict[str, int | float]) -> None:
    assert extract_figures(text).as_dict() == expected


@pytest.mark.parametrize(
    "text",
    [
        "Không có số liệu.",
        "Ngày 15/01/2024, Ban Thường vụ ban hành Kế hoạch số 12-KH/LĐLĐ về học tập Chuyên đề năm 2024.",
        "25/25 CĐCS tổ chức học tập, đạt 100%.",  # unit coverage, not people
        "Thực hiện Hướng dẫn số 12-HD/BTCTW, ngày 06/7/2018 của Ban Tổ chức Trung ương.",
        "",
    ],
)
def test_nothing_stated_gives_empty(text: str) -> None:
    assert extract_figures(text).as_dict() == {}


def test_rate_is_not_computed_from_participants_and_members() -> None:
    figures = extract_figures("Có 1.234/1.250 đoàn viên tham gia học tập.")
    assert figures.as_dict() == {"participants": 1234, "members": 1250}


def test_overall_total_wins_over_first_breakdown() -> None:
    text = ("Khối cơ quan có 120 đoàn viên tham gia; khối doanh nghiệp có 300 đoàn viên tham gia. "
            "Tổng số 420 đoàn viên tham gia học tập.")
    assert extract_figures(text).participants == 420


def test_members_label_with_participation_is_participants() -> None:
    figures = extract_figures("Tổng số đoàn viên tham gia học tập: 1.234.")
    assert figures.participants == 1234
    assert figures.members is None


STATS = "\n".join([
    "STT\tĐơn vị\tTổng số đoàn viên\tSố tham gia học tập\tTỷ lệ (%)\tSố buổi/hội nghị",
    "1\tCĐCS A\t100\t95\t95,0\t2",
    "2\tCĐCS B\t1.150\t1.139\t99,0\t3",
    "Tổng cộng\t1.250\t1.234\t98,7\t5",   # merged STT+Đơn vị: one cell fewer
])


def test_table_total_row_wins_and_aligns_right() -> None:
    assert extract_figures(STATS).as_dict() == {
        "participants": 1234, "members": 1250, "rate_percent": 98.7, "sessions": 5}


def test_table_with_two_header_rows() -> None:
    text = "\n".join([
        "Đơn vị\tĐoàn viên\tĐoàn viên\tTỷ lệ",
        "\tTổng số\tSố tham gia học tập\t(%)",
        "Cộng\t500\t480\t96",
    ])
    assert extract_figures(text).as_dict() == {"members": 500, "participants": 480, "rate_percent": 96.0}


def test_table_single_data_row() -> None:
    text = "Tổng số đoàn viên\tSố đoàn viên được học tập\tTỷ lệ %\n1.250\t1.234\t98,7"
    assert extract_figures(text).as_dict() == {"members": 1250, "participants": 1234, "rate_percent": 98.7}


def test_table_unit_rows_without_total_are_not_summed() -> None:
    text = "Đơn vị\tTổng số ĐV\tSố ĐV tham gia\nCĐCS A\t100\t95\nCĐCS B\t200\t190"
    assert extract_figures(text).as_dict() == {}


def test_table_figures_first_prose_fills_the_rest() -> None:
    text = "Các cấp công đoàn tổ chức 20 hội nghị.\n" + "Tổng số đoàn viên\tSố tham gia\n1.250\t1.234"
    assert extract_figures(text).as_dict() == {"members": 1250, "participants": 1234, "sessions": 20}


def test_unrelated_table_is_ignored() -> None:
    text = "STT\tTên mô hình\tĐơn vị\n1\tMô hình dân vận khéo\tCĐCS A"
    assert extract_figures(text).as_dict() == {}


def test_label_value_table() -> None:
    text = "\n".join([
        "TT\tNội dung\tSố lượng\tGhi chú",
        "1\tTổng số đoàn viên\t2.310\t",
        "2\tSố đoàn viên tham gia học tập\t2.205\tđạt 95,5%",
        "3\tSố buổi/hội nghị đã tổ chức\t18\t",
        "4\tSố CĐCS tổ chức học tập\t36\tCộng dồn",
    ])
    assert extract_figures(text).as_dict() == {
        "participants": 2205, "members": 2310, "rate_percent": 95.5, "sessions": 18}


@given(st.integers(min_value=1000, max_value=999_999), st.integers(min_value=0, max_value=1000))
def test_thousands_and_decimal_roundtrip(count: int, tenths: int) -> None:
    written = f"{count:,}".replace(",", ".")
    rate = f"{tenths // 10},{tenths % 10}" if tenths % 10 else str(tenths // 10)
    figures = extract_figures(f"Có {written} đoàn viên tham gia học tập, đạt {rate}%.")
    assert figures.participants == count
    assert figures.rate_percent == pytest.approx(tenths / 10)


@given(st.sampled_from(["NFC", "NFD"]))
def test_normal_form_does_not_matter(form: str) -> None:
    text = unicodedata.normalize(form, "Số đoàn viên tham gia học tập: 1.234 người, đạt 98,5%.")
    assert extract_figures(text).as_dict() == {"participants": 1234, "rate_percent": 98.5}
