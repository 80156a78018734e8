"""The report's section tree (parsers/layout.py) on hand-built outlines of real layouts."""
from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from intake.parsers.layout import (
    NumberKind,
    build_tree,
    closing_starts,
    number_kind,
    split_number,
    strip_numbering,
)
from intake.parsers.model import Block, BlockKind, Outline


def p(text: str, *, bold: bool = False, numbering: str = "", level: int | None = None) -> Block:
    return Block(BlockKind.PARAGRAPH, text, numbering=numbering, level=level, bold=bold)


def table(*rows: tuple[str, ...]) -> Block:
    return Block(BlockKind.TABLE, "\n".join("\t".join(r) for r in rows), rows=tuple(rows))


def headings(*blocks: Block) -> list[tuple[int, str]]:
    """(depth, heading) of every section of the tree."""
    return [(n.depth, n.heading) for n in build_tree(Outline(blocks=blocks)).nodes]


TITLE_BLOCK = (
    p("ỦY BAN NHÂN DÂN TỈNH LÂM ĐỒNG", bold=True),
    p("BÁO CÁO", bold=True),
    p("Tổng kết công tác phòng, chống ma túy năm 2025", bold=True),
    p("V/v báo cáo kết quả năm 2025"),
    p("Kính gửi: Bộ Công an", bold=True),
    p("Thực hiện Kế hoạch số 12/KH-UBND, UBND tỉnh báo cáo như sau:"),
)


def test_title_block_preamble_and_closing_are_no_sections() -> None:
    tree = build_tree(Outline(blocks=(*TITLE_BLOCK, p("I. KẾT QUẢ", bold=True), p("Nội dung."),
                                      p("Trên đây là báo cáo của UBND tỉnh."), p("Nơi nhận:"))))
    assert [n.heading for n in tree.nodes] == ["I. KẾT QUẢ"]
    assert tree.body_start == len(TITLE_BLOCK)
    assert tree.nodes[0].end == len(TITLE_BLOCK) + 2
    assert "tong ket cong tac" in tree.title_key


def test_levels_come_from_the_numbering_kind_not_the_sequence() -> None:
    assert headings(
        p("I. TÌNH HÌNH", bold=True), p("1. Tội phạm", bold=True), p("a) Trên thế giới"), p("Nội dung."),
        p("b) Trong nước"), p("3.1. Phòng ngừa", bold=True), p("IV. ĐÁNH GIÁ", bold=True),
        p("IV. KIẾN NGHỊ, ĐỀ XUẤT", bold=True), p("2. Kiến nghị", bold=True),
    ) == [(0, "I. TÌNH HÌNH"), (1, "1. Tội phạm"), (2, "a) Trên thế giới"), (2, "b) Trong nước"),
          (2, "3.1. Phòng ngừa"), (0, "IV. ĐÁNH GIÁ"), (0, "IV. KIẾN NGHỊ, ĐỀ XUẤT"), (1, "2. Kiến nghị")]


def test_part_label_alone_takes_the_next_line_as_its_title() -> None:
    tree = build_tree(Outline(blocks=(
        p("Phần thứ nhất", bold=True), p("TÌNH HÌNH, KẾT QUẢ", bold=True), p("I. TÌNH HÌNH", bold=True),
        p("Nội dung."), p("Phần thứ hai", bold=True), p("PHƯƠNG HƯỚNG NĂM 2026", bold=True),
        p("1. Dự báo", bold=True), p("Khó lường."),
    )))
    assert [(n.depth, n.heading) for n in tree.nodes] == [
        (0, "Phần thứ nhất TÌNH HÌNH, KẾT QUẢ"), (1, "I. TÌNH HÌNH"),
        (0, "Phần thứ hai PHƯƠNG HƯỚNG NĂM 2026"), (1, "1. Dự báo")]
    assert tree.nodes[2].head_end == 6  # the title line is heading, not body


def test_run_in_heading_is_matched_on_its_head_only() -> None:
    tree = build_tree(Outline(blocks=(
        p("4. Kết quả đấu tranh", bold=True), p("Bắt 12 vụ."),
        p("5. Về đề xuất kiến nghị: Tỉnh Điện Biên xin đưa ra một số kiến nghị, đề xuất như sau:", bold=True),
        p("Một là: Đề nghị sớm phân bổ vốn."),
    )))
    run_in = tree.nodes[1]
    assert run_in.heading.startswith("5. Về đề xuất kiến nghị: Tỉnh")
    assert run_in.head_key == "ve de xuat kien nghi"


def test_long_numbered_paragraph_continuing_a_sequence_is_a_heading() -> None:
    long = "3. Về nội dung dự thảo Kế hoạch nâng cao chỉ số năng lực cạnh tranh: " + " ".join(["giao sở"] * 30)
    assert [h for _d, h in headings(p("2. Đối với tiến độ thu hút đầu tư"), p("Nội dung."), p(long),
                                    p("Nội dung khác."))] == ["2. Đối với tiến độ thu hút đầu tư", long]


def test_restarting_list_under_a_sub_item_is_nested() -> None:
    tree = build_tree(Outline(blocks=(
        p("2. Nội dung hoạt động", bold=True), p("b) Các hoạt động", bold=True),
        p("1. Tập huấn"), p("2. Truyền thông"), p("3. Giải pháp", bold=True), p("Nội dung."),
    )))
    depth = {n.heading: n.depth for n in tree.nodes}
    assert depth["1. Tập huấn"] == 2 and depth["2. Truyền thông"] == 2
    assert depth["3. Giải pháp"] == 0
    assert tree.nodes[0].end == 4  # "2." runs over its nested list, up to "3."


def test_articles_ordinals_and_asterisks() -> None:
    assert headings(
        p("Chương I", bold=True), p("NHIỆM VỤ, QUYỀN HẠN", bold=True),
        p("Điều 1. Nhiệm vụ", bold=True, numbering=""), p("1. Tham mưu."),
        p("Điều 2. Quyền hạn", bold=True), p("Được yêu cầu báo cáo."),
    ) == [(0, "Chương I NHIỆM VỤ, QUYỀN HẠN"), (1, "Điều 1. Nhiệm vụ"), (2, "1. Tham mưu."),
          (1, "Điều 2. Quyền hạn")]
    assert headings(
        p("I. Nội dung trọng tâm", bold=True), p("Thứ nhất là, hoàn thiện thể chế", bold=True), p("Nội dung."),
        p("Thứ hai, nâng cao năng lực cán bộ là cần thiết."), p("* Về kiến nghị, đề xuất:", bold=True),
        p("- Đề nghị bố trí vốn."),
    ) == [(0, "I. Nội dung trọng tâm"), (1, "Thứ nhất là, hoàn thiện thể chế"), (1, "* Về kiến nghị, đề xuất:")]


@pytest.mark.parametrize("closing", [
    "Trân trọng thông báo ý kiến kết luận của đồng chí Phó Chủ tịch.",
    "UBND tỉnh trân trọng thông báo để các cơ quan biết, thực hiện./.",
    "UBND tỉnh Lâm Đồng báo cáo Bộ Nội vụ tổng hợp theo quy định./.",
    "Cuối cùng, thay mặt UBND thành phố, kính chúc các đồng chí sức khỏe, chúc Hội nghị thành công.",
    "Trên đây là tham luận của tỉnh Điện Biên.",
])
def test_closing_formulas_end_the_last_section(closing: str) -> None:
    tree = build_tree(Outline(blocks=(p("1. Kết quả", bold=True), p("Nội dung."), p(closing))))
    assert tree.closing == 2 and tree.nodes[0].end == 2


def test_sections_after_the_closing_block_are_kept_and_flagged() -> None:
    signature = table(("Nơi nhận:\n- Như Điều 4;", "KT. GIÁM ĐỐC\nPHÓ GIÁM ĐỐC"))
    tree = build_tree(Outline(blocks=(
        p("Điều 1. Phê duyệt thành viên", bold=True), p("Danh sách kèm theo."), signature,
        p("QUY CHẾ", bold=True), p("Điều 1. Nhiệm vụ", bold=True), p("Tham mưu."),
    )))
    assert [(n.heading, n.after_closing) for n in tree.nodes] == [
        ("Điều 1. Phê duyệt thành viên", False), ("Điều 1. Nhiệm vụ", True)]
    assert tree.nodes[0].end == 2 and tree.nodes[1].end == 6
    assert closing_starts(tree.blocks) == [2]


@pytest.mark.parametrize(("text", "kind"), [
    ("V/v báo cáo", None), ("2/2024 tổ chức", None), ("II.ĐÁNH GIÁ", NumberKind.ROMAN),
    ("Phần thứ hai", NumberKind.PART), ("Điều 6. Trách nhiệm", NumberKind.ARTICLE),
    ("(1) Tăng cường", NumberKind.PAREN), ("2.2 Nguyên nhân:", NumberKind.DECIMAL2),
    ("6.1.Công tác", NumberKind.DECIMAL2), ("3.1.2. Chi tiết", NumberKind.DECIMAL3), ("đ) Kết quả", NumberKind.LETTER),
])
def test_one_numbering_grammar(text: str, kind: NumberKind | None) -> None:
    number, _rest = split_number(text)
    assert (number.kind if number else None) is kind


def test_number_values() -> None:
    assert number_kind("IV.") is not None and number_kind("IV.").value == 4  # type: ignore[union-attr]
    assert number_kind("đ)").value == 5  # type: ignore[union-attr]
    assert number_kind("Phần thứ hai") is not None


# ------------------------------------------------------------ strip_numbering (the numbering grammar)


@pytest.mark.parametrize(
    ("text", "number", "rest"),
    [
        ("III. Đánh giá kết quả", "III.", "Đánh giá kết quả"),
        ("I.", "I.", ""),
        ("II- Kết quả", "II-", "Kết quả"),
        ("IV/ Kết luận", "IV/", "Kết luận"),
        ("XII.Tổng hợp", "XII.", "Tổng hợp"),
        ("I - TÌNH HÌNH", "I -", "TÌNH HÌNH"),
        ("II\tĐÁNH GIÁ", "II", "ĐÁNH GIÁ"),
        ("2. Nội dung", "2.", "Nội dung"),
        ("2.1. Nội dung", "2.1.", "Nội dung"),
        ("2.1.3 Chi tiết", "2.1.3", "Chi tiết"),
        ("2- Kết quả", "2-", "Kết quả"),
        ("2/ Kết quả", "2/", "Kết quả"),
        ("2) Kết quả", "2)", "Kết quả"),
        ("2)Kết quả", "2)", "Kết quả"),
        ("3.Nội dung", "3.", "Nội dung"),
        ("a) Một", "a)", "Một"),
        ("b. Hai", "b.", "Hai"),
        ("đ) Năm", "đ)", "Năm"),
        ("A. MỤC TIÊU", "A.", "MỤC TIÊU"),
        ("(1) Một", "(1)", "Một"),
        ("ii) hai", "ii)", "hai"),
        ("Phần I: Mở đầu", "Phần I:", "Mở đầu"),
        ("Mục 2. Nội dung", "Mục 2.", "Nội dung"),
        ("PHẦN THỨ HAI", "PHẦN THỨ HAI", ""),
        ("PHẦN THỨ HAI: ĐÁNH GIÁ", "PHẦN THỨ HAI:", "ĐÁNH GIÁ"),
        ("Chương III - Tổ chức", "Chương III -", "Tổ chức"),
        ("- gạch đầu dòng", "-", "gạch đầu dòng"),
        ("-Đánh giá", "-", "Đánh giá"),
        ("+ cộng", "+", "cộng"),
        ("• chấm", "•", "chấm"),
        ("* sao", "*", "sao"),
        ("\u00a0 III.\tĐánh giá", "III.", "Đánh giá"),
    ],
)
def test_strip_numbering(text: str, number: str, rest: str) -> None:
    assert strip_numbering(text) == (number, rest)


def test_strip_numbering_nfd_input() -> None:
    nfd = unicodedata.normalize("NFD", "PHẦN THỨ HAI: ĐÁNH GIÁ")
    assert strip_numbering(nfd) == ("PHẦN THỨ HAI:", "ĐÁNH GIÁ")


@pytest.mark.parametrize(
    "text",
    [
        "Iran là một quốc gia",
        "Việc làm",
        "I",
        "Đ/c Nguyễn Văn A",
        "T.Ư Đoàn",
        "12/5/2024 họp",
        "2024 là năm",
        "1.234 người tham gia",
        "-5% so với cùng kỳ",
        "Mục tiêu chung",
        "Phần mở đầu",
        "e-mail",
        "XI măng",
        "Cộng hòa",
        "Mi sợi",
        "",
    ],
)
def test_strip_numbering_leaves_real_words(text: str) -> None:
    assert strip_numbering(text) == ("", text)



@settings(max_examples=300, deadline=None)
@given(st.text(max_size=30))
def test_strip_numbering_is_total(text: str) -> None:
    number, rest = strip_numbering(text)
    assert (rest in unicodedata.normalize("NFC", text)) if number else (rest == text)
