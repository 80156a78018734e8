"""What a campaign teaches the finder (parsers/guide.py): staff's choices and the guideline's outline."""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from intake.parsers.guide import Exemplar, Guide, TemplateHeading, exemplar_at
from intake.parsers.layout import build_tree
from intake.parsers.model import Block, BlockKind, Confidence, Outline
from intake.parsers.section import find_section
from intake.parsers.word import parse_docx

TITLE = "Đánh giá kết quả tổ chức học tập, quán triệt và triển khai Chuyên đề năm 2024"
CORPUS = sorted((Path(__file__).resolve().parent / "corpus" / "docs").glob("*.docx"))


def h(text: str, numbering: str = "") -> Block:
    return Block(BlockKind.PARAGRAPH, text, numbering=numbering, level=1, bold=True)


def p(text: str) -> Block:
    return Block(BlockKind.PARAGRAPH, text)


def unit_report(unit: str, parts: list[tuple[str, list[str]]]) -> Outline:
    """A Decree-30 report of one Lào Cai union: preamble, typed bold parts, closing."""
    blocks = [p("LIÊN ĐOÀN LAO ĐỘNG TỈNH LÀO CAI"), p(unit), p("BÁO CÁO"),
              p("Kết quả học tập và làm theo tư tưởng, đạo đức, phong cách Hồ Chí Minh năm 2024"),
              p("Thực hiện Hướng dẫn số 05/HD-LĐLĐ của Liên đoàn Lao động tỉnh, đơn vị báo cáo như sau:")]
    for heading, body in parts:
        blocks.append(h(heading))
        blocks.extend(p(text) for text in body)
    blocks += [p("Trên đây là báo cáo của " + unit + "./."), p("Nơi nhận:"), p("- LĐLĐ tỉnh;")]
    return Outline(blocks=tuple(blocks))


BODY = ["Tổ chức học tập cho 1.234/1.250 đoàn viên, đạt 98,7%; 12 buổi sinh hoạt chuyên đề.",
        "Đoàn viên liên hệ tinh thần dám nghĩ, dám làm với nhiệm vụ chuyên môn."]


def seven_dam_report(unit: str, wording: str, lead: str = "I. TÌNH HÌNH CHUNG") -> Outline:
    """Units of one province copy one template: the required part is worded '... “7 dám” ...'."""
    return unit_report(unit, [
        (lead, ["Đơn vị có 1.250 đoàn viên sinh hoạt tại 14 công đoàn cơ sở."]),
        ("II. CÔNG TÁC LÃNH ĐẠO, CHỈ ĐẠO", ["Ban hành kế hoạch, phân công cán bộ phụ trách."]),
        (wording, BODY),
        ("IV. PHƯƠNG HƯỚNG, NHIỆM VỤ NĂM 2025", ["Tiếp tục tuyên truyền, nhân rộng điển hình."]),
    ])


CAMPAIGN = {
    "LĐLĐ HUYỆN BẢO THẮNG": "III. VIỆC THỰC HIỆN “7 DÁM” TRONG ĐOÀN VIÊN, NGƯỜI LAO ĐỘNG",
    "LĐLĐ HUYỆN BẮC HÀ": "III. VIỆC THỰC HIỆN “7 DÁM” TRONG CÁN BỘ, ĐOÀN VIÊN",
    "LĐLĐ HUYỆN SI MA CAI": "III. Việc thực hiện tinh thần “7 dám” trong đoàn viên",
    "LĐLĐ HUYỆN VĂN BÀN": "III. THỰC HIỆN “7 DÁM” TRONG ĐOÀN VIÊN, NGƯỜI LAO ĐỘNG",
}


def test_without_a_guide_nothing_changes() -> None:
    for path in CORPUS:
        outline = parse_docx(path.read_bytes())
        plain = find_section(outline, TITLE)
        assert find_section(outline, TITLE, guide=None) == plain
        assert find_section(outline, TITLE, guide=Guide()) == plain
    report = seven_dam_report("LĐLĐ HUYỆN BẢO THẮNG", CAMPAIGN["LĐLĐ HUYỆN BẢO THẮNG"])
    assert find_section(report, TITLE, guide=Guide()) == find_section(report, TITLE)


def test_the_guide_is_plain_serialisable_values() -> None:
    guide = Guide(exemplars=(Exemplar("viec thuc hien 7 dam trong doan vien", "roman", 0, 3),),
                  template=(TemplateHeading("I. Tình hình chung", 1), TemplateHeading("II. Kết quả", 1)),
                  required=1)
    import msgspec  # the codec of the worker boundary, and of a lesson's exemplar in the store

    plain = json.loads(json.dumps(msgspec.to_builtins(guide)))
    assert plain == json.loads(json.dumps(dataclasses.asdict(guide)))
    assert msgspec.convert(plain, Guide) == guide
    assert msgspec.msgpack.decode(msgspec.msgpack.encode(guide), type=Guide) == guide
    with pytest.raises(dataclasses.FrozenInstanceError):
        guide.required = 0  # type: ignore[misc]


def _answers(guide: Guide | None) -> dict[str, tuple[bool, str | None, Confidence]]:
    out = {}
    for unit, wording in CAMPAIGN.items():
        result = find_section(seven_dam_report(unit, wording), TITLE, guide=guide)
        out[unit] = (result.found, result.heading, result.confidence)
    return out


def test_one_staff_choice_resolves_the_reports_that_paraphrase_the_title_the_same_way() -> None:
    before = _answers(None)
    # Not one of them is answered right and sure without help: the wording shares little with the title.
    assert not any(found and heading == CAMPAIGN[u] and conf is Confidence.SURE
                   for u, (found, heading, conf) in before.items())
    # Staff choose the section in the first report; the choice is taught to the campaign.
    first = seven_dam_report("LĐLĐ HUYỆN BẢO THẮNG", CAMPAIGN["LĐLĐ HUYỆN BẢO THẮNG"])
    tree = build_tree(first)
    chosen = next(k for k, n in enumerate(tree.nodes) if n.heading == CAMPAIGN["LĐLĐ HUYỆN BẢO THẮNG"])
    guide = Guide(exemplars=(exemplar_at(tree, chosen),))
    after = _answers(guide)
    for unit, (found, heading, conf) in after.items():
        assert found and heading == CAMPAIGN[unit], (unit, after[unit])
        assert conf is Confidence.SURE
    resolved = sum(1 for u in CAMPAIGN if before[u] != after[u])
    assert resolved == len(CAMPAIGN)


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.stem)
def test_a_taught_choice_never_turns_a_right_answer_wrong(path: Path) -> None:
    exp = json.loads(path.with_name(path.stem + ".expected.json").read_text(encoding="utf-8"))
    first = seven_dam_report("LĐLĐ HUYỆN BẢO THẮNG", CAMPAIGN["LĐLĐ HUYỆN BẢO THẮNG"])
    tree = build_tree(first)
    guide = Guide(exemplars=(exemplar_at(tree, 2),), template=TEMPLATE, required=2)
    outline = parse_docx(path.read_bytes())
    result = find_section(outline, TITLE, guide=guide)
    assert result.found == exp["found"], result.reason
    if exp["found"]:
        assert result.heading == exp["heading"]


TEMPLATE = (
    TemplateHeading("I. Công tác lãnh đạo, chỉ đạo", 1),
    TemplateHeading("II. Kết quả học tập và làm theo Bác", 1),
    TemplateHeading("III. Đánh giá riêng về kết quả tổ chức học tập, quán triệt Chuyên đề năm 2024", 1),
    TemplateHeading("1. Ưu điểm", 2),
    TemplateHeading("2. Hạn chế", 2),
    TemplateHeading("IV. Phương hướng, nhiệm vụ năm 2025", 1),
)


def generic_report(unit: str, third: str) -> Outline:
    """The guideline's outline followed, the required third part worded generically."""
    return unit_report(unit, [
        ("I. CÔNG TÁC LÃNH ĐẠO, CHỈ ĐẠO", ["Ban hành kế hoạch số 05/KH-LĐLĐ."]),
        ("II. KẾT QUẢ HỌC TẬP VÀ LÀM THEO BÁC", ["Các công đoàn cơ sở duy trì học tập và làm theo Bác."]),
        (third, []),
        ("1. Ưu điểm", BODY),
        ("2. Hạn chế", ["Một số đoàn viên làm việc theo ca chưa tham gia đầy đủ."]),
        ("IV. PHƯƠNG HƯỚNG, NHIỆM VỤ NĂM 2025", ["Tiếp tục tuyên truyền."]),
    ])


@pytest.mark.parametrize("third", ["III. ĐÁNH GIÁ CHUNG", "III. KẾT QUẢ CỤ THỂ", "III. NHẬN XÉT"])
def test_the_templates_third_part_is_found_however_worded(third: str) -> None:
    report = generic_report("LĐLĐ HUYỆN MƯỜNG KHƯƠNG", third)
    guided = find_section(report, TITLE, guide=Guide(template=TEMPLATE, required=2))
    assert guided.found and guided.heading == third, guided.reason
    assert "template part 3 of 4" in guided.reason
    assert guided.text.startswith("1. Ưu điểm") and guided.text.endswith("chưa tham gia đầy đủ.")


def test_part_versus_sub_item_is_the_templates_level() -> None:
    report = unit_report("LĐLĐ HUYỆN BẢO YÊN", [
        ("I. CÔNG TÁC LÃNH ĐẠO, CHỈ ĐẠO", ["Ban hành kế hoạch."]),
        ("II. KẾT QUẢ HỌC TẬP VÀ LÀM THEO BÁC", ["Duy trì học tập."]),
        ("III. ĐÁNH GIÁ KẾT QUẢ", []),
        ("1. Kết quả học tập, quán triệt Chuyên đề năm 2024", BODY),
        ("2. Hạn chế", ["Một số đoàn viên chưa tham gia."]),
        ("IV. PHƯƠNG HƯỚNG, NHIỆM VỤ NĂM 2025", ["Tiếp tục."]),
    ])
    part = find_section(report, TITLE, guide=Guide(template=TEMPLATE, required=2))
    assert part.heading == "III. ĐÁNH GIÁ KẾT QUẢ", part.reason
    item_template = (*TEMPLATE[:3], TemplateHeading("1. Kết quả học tập chuyên đề", 2),
                     TemplateHeading("2. Hạn chế", 2), TEMPLATE[5])
    item = find_section(report, TITLE, guide=Guide(template=item_template, required=3))
    assert item.heading == "1. Kết quả học tập, quán triệt Chuyên đề năm 2024", item.reason


def test_a_template_that_does_not_fit_the_report_teaches_nothing() -> None:
    report = unit_report("LĐLĐ HUYỆN BÁT XÁT", [
        ("I. TÌNH HÌNH", ["Nội dung."]), ("II. CÔNG TÁC TỔ CHỨC CÁN BỘ", ["Kiện toàn ban chấp hành."]),
    ])
    assert find_section(report, TITLE, guide=Guide(template=TEMPLATE, required=2)) == find_section(report, TITLE)


def test_a_generic_heading_that_shares_the_exemplars_first_words_takes_nothing_where_the_choice_is_missing() -> None:
    """'II. KẾT QUẢ THỰC HIỆN' is worded 73 % like 'kết quả thực hiện tinh thần 7 dám' but sits elsewhere:
    in a report without the chosen part it must stay not found, and beside the chosen part it must not
    compete with it (the exemplar's points go to the section most like it)."""
    wording = "III. KẾT QUẢ THỰC HIỆN TINH THẦN “7 DÁM”"
    taught = unit_report("LĐLĐ HUYỆN BẢO THẮNG", [
        ("I. CÔNG TÁC LÃNH ĐẠO, CHỈ ĐẠO", ["Ban hành kế hoạch."]),
        ("II. KẾT QUẢ THỰC HIỆN", ["Các công đoàn cơ sở duy trì học tập."]), (wording, BODY),
        ("IV. PHƯƠNG HƯỚNG, NHIỆM VỤ NĂM 2025", ["Tiếp tục."])])
    tree = build_tree(taught)
    guide = Guide(exemplars=(exemplar_at(tree, next(k for k, n in enumerate(tree.nodes) if n.heading == wording)),))
    guided = find_section(taught, TITLE, guide=guide)
    assert guided.heading == wording and guided.confidence is Confidence.SURE, guided.reason
    without = unit_report("CÔNG ĐOÀN NGÀNH Y TẾ", [
        ("I. CÔNG TÁC LÃNH ĐẠO, CHỈ ĐẠO", ["Ban hành kế hoạch."]),
        ("II. KẾT QUẢ THỰC HIỆN", ["Các công đoàn cơ sở duy trì học tập."]),
        ("III. PHƯƠNG HƯỚNG, NHIỆM VỤ NĂM 2025", ["Tiếp tục."])])
    assert not find_section(without, TITLE).found
    assert not find_section(without, TITLE, guide=guide).found
