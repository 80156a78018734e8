"""parse_guideline on the office's seed guideline and on guidelines in the styles offices write."""
from __future__ import annotations

import datetime as dt
import unicodedata
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from intake.parsers.guideline import DateRole, DeadlineRule, GuidelineFacts, Sourced, parse_guideline, unwrap_lines

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = dt.datetime(2026, 1, 5, 9, 0, tzinfo=TZ)
GUIDELINES = Path(__file__).resolve().parent / "fixtures" / "guidelines"
# The office's real guideline (a copy of the team's seed: `make test` needs no folder beside the repository).
SEED = Path(__file__).resolve().parent / "fixtures" / "guideline-2024-seed.txt"
SEED_TITLE = ("Học tập chuyên đề học tập và làm theo tư tưởng, đạo đức, phong cách Hồ Chí Minh năm 2024 về "
              "“Dám nghĩ; dám nói; dám làm; dám chịu trách nhiệm; dám đổi mới, sáng tạo; dám đương đầu với "
              "khó khăn, thử thách; dám hành động vì lợi ích chung”")


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=TZ)


def parse(text: str, now: dt.datetime = NOW) -> GuidelineFacts:
    return parse_guideline(text, TZ, now)


def read(name: str) -> str:
    path = SEED if name == "seed" else GUIDELINES / name
    return path.read_text(encoding="utf-8")


# name: (title, deadline, section title, address)
EXPECTED: dict[str, tuple[str | None, str | None, str | None, str | None]] = {
    "seed": (SEED_TITLE, "2024-02-29T00:00:00",
             "Đánh giá riêng về kết quả tổ chức học tập, quán triệt và triển khai Chuyên đề năm 2024",
             "bantuyengiaonuconglc@gmail.com"),
    "huong-dan-thang-cong-nhan-2025.txt": (
        "Tổ chức các hoạt động Tháng Công nhân và Tháng hành động về an toàn, vệ sinh lao động năm 2025",
        "2025-06-05T23:59:59",
        "Kết quả thăm hỏi, tặng quà đoàn viên, người lao động có hoàn cảnh khó khăn",
        "banchinhsachldldlc@gmail.com"),
    "cong-van-tet-2026.txt": (
        "Báo cáo kết quả chăm lo Tết Nguyên đán Bính Ngọ năm 2026",
        "2026-01-20T17:00:00",
        "Đánh giá kết quả thực hiện chương trình \"Tết Sum vầy\" và hỗ trợ đoàn viên có hoàn cảnh khó khăn",
        "bantochuc.ldldlaocai@gmail.com"),
    "ke-hoach-an-toan-lao-dong.txt": (
        "Hưởng ứng Tháng hành động về an toàn, vệ sinh lao động năm 2025",
        "2025-06-15T23:59:59",
        "Đánh giá công tác tự kiểm tra an toàn, vệ sinh lao động tại cơ sở",
        "congdoanxaydunglc@gmail.com"),
    "thong-bao-tong-ket-2025.txt": (
        "Tổng kết công tác công đoàn năm 2025 và triển khai nhiệm vụ năm 2026",
        "2025-11-28T23:59:59",
        "Công tác phát triển đoàn viên, thành lập công đoàn cơ sở năm 2025",
        "vanphongldldbaothang@gmail.com"),
    "ke-hoach-de-cuong-nghi-quyet.txt": (
        "Sơ kết 5 năm thực hiện Nghị quyết Đại hội XVII Công đoàn tỉnh Lào Cai",
        "2025-12-31T17:00:00",
        "Đánh giá riêng về kết quả thực hiện các chỉ tiêu Nghị quyết giai đoạn 2023-2025",
        "bantochucldld@laocai.gov.vn"),
    "cong-van-so-ket-khong-ro-han.txt": (
        "Báo cáo sơ kết và tổng kết phong trào thi đua \"Lao động giỏi, Lao động sáng tạo\" năm 2025",
        None, None, "bantuyengiaoldld@gmail.com"),
    "huong-dan-dai-hoi-cong-doan-co-so.txt": (
        "Tổ chức đại hội công đoàn cơ sở nhiệm kỳ 2025 - 2030",
        "2025-07-31T23:59:59",
        "Công tác chuẩn bị nhân sự ban chấp hành nhiệm kỳ 2025 - 2030",
        "tochuc.ldldsapa@gmail.com"),
    "ke-hoach-tuyen-truyen-phap-luat.txt": (
        "Tuyên truyền, phổ biến pháp luật cho đoàn viên, công chức, viên chức năm 2025",
        "2025-12-05T00:00:00",
        None,  # "cần nêu rõ số buổi ..." asks for figures, not for a section
        "congdoanvienchuclaocai@gmail.com"),
}

# name: every date found, as written, and why it was or was not taken
CANDIDATES: dict[str, list[tuple[str, DateRole]]] = {
    "seed": [
        ("ngày 22/01/2024", DateRole.CITED_DOCUMENT),
        ("ngày 01/12/2023", DateRole.CITED_DOCUMENT),
        ("ngày 06/7/2018", DateRole.CITED_DOCUMENT),
        ("ngày 01/12/2023", DateRole.CITED_DOCUMENT),
        ("trước ngày 29/2/2024", DateRole.DEADLINE),
    ],
    "huong-dan-thang-cong-nhan-2025.txt": [
        ("ngày 20 tháng 3 năm 2025", DateRole.DOCUMENT_DATE),
        ("ngày 10/3/2025", DateRole.CITED_DOCUMENT),
        ("ngày 01/5/2025", DateRole.PERIOD),
        ("ngày 31/5/2025", DateRole.PERIOD),
        ("ngày 28/4/2025", DateRole.OTHER),
        ("chậm nhất ngày 05 tháng 6 năm 2025", DateRole.DEADLINE),
    ],
    "cong-van-tet-2026.txt": [
        ("ngày 05 tháng 12 năm 2025", DateRole.DOCUMENT_DATE),
        ("ngày 25/11/2025", DateRole.CITED_DOCUMENT),
        ("ngày 17/01/2026", DateRole.OTHER),
        ("trước 17 giờ 00 ngày 20 tháng 01 năm 2026", DateRole.DEADLINE),
    ],
    "ke-hoach-an-toan-lao-dong.txt": [
        ("ngày 14 tháng 4 năm 2025", DateRole.DOCUMENT_DATE),
        ("ngày 20/3/2025", DateRole.CITED_DOCUMENT),
        ("ngày 01/5/2025", DateRole.PERIOD),
        ("ngày 31/5/2025", DateRole.PERIOD),
        ("ngày 08/5/2025", DateRole.OTHER),
        ("trước ngày 25/5/2025", DateRole.NOT_REPORT),
        ("ngày 15-6-2025", DateRole.DEADLINE),
    ],
    "thong-bao-tong-ket-2025.txt": [
        ("ngày 03 tháng 11 năm 2025", DateRole.DOCUMENT_DATE),
        ("ngày 18/12", DateRole.OTHER),
        ("trước ngày 10/12", DateRole.NOT_REPORT),
        ("đến hết ngày 28/11", DateRole.DEADLINE),
    ],
    "ke-hoach-de-cuong-nghi-quyet.txt": [
        ("ngày 10 tháng 11 năm 2025", DateRole.DOCUMENT_DATE),
        ("ngày 15 tháng 01 năm 2026", DateRole.OTHER),
        ("trước 17h00 ngày 31/12/2025", DateRole.DEADLINE),
        ("ngày 10/11/2025", DateRole.CITED_DOCUMENT),
    ],
    "cong-van-so-ket-khong-ro-han.txt": [
        ("ngày 02 tháng 4 năm 2025", DateRole.DOCUMENT_DATE),
        ("ngày 15/01/2025", DateRole.CITED_DOCUMENT),
        ("trước ngày 15/6/2025", DateRole.AMBIGUOUS),
        ("trước ngày 15/11/2025", DateRole.AMBIGUOUS),
    ],
    "huong-dan-dai-hoi-cong-doan-co-so.txt": [
        ("ngày 12 tháng 02 năm 2025", DateRole.DOCUMENT_DATE),
        ("ngày 05/01/2025", DateRole.CITED_DOCUMENT),
        ("trước ngày 30/6/2025", DateRole.NOT_REPORT),
        ("ngày 15/3/2025", DateRole.OTHER),
        ("Chậm nhất ngày 31-7-2025", DateRole.DEADLINE),
    ],
    "ke-hoach-tuyen-truyen-phap-luat.txt": [
        ("ngày 25 tháng 9 năm 2025", DateRole.DOCUMENT_DATE),
        ("ngày 06/01/2025", DateRole.CITED_DOCUMENT),
        ("ngày 20/10/2025", DateRole.OTHER),
        ("trước ngày 05 tháng 12 năm 2025", DateRole.DEADLINE),
    ],
}


def test_at_least_eight_guidelines_of_our_own() -> None:
    written = sorted(path.name for path in GUIDELINES.glob("*.txt"))
    assert len(written) >= 8
    assert set(written) | {"seed"} == set(EXPECTED) == set(CANDIDATES)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_extracts_what_a_campaign_needs(name: str) -> None:
    title, deadline, section, address = EXPECTED[name]
    facts = parse(read(name))
    assert (facts.title.value if facts.title else None) == title
    assert facts.deadline == (at(deadline) if deadline else None)
    assert (facts.section_title.value if facts.section_title else None) == section
    assert (facts.address.value if facts.address else None) == address


@pytest.mark.parametrize("name", sorted(CANDIDATES))
def test_every_date_is_a_candidate_with_its_reason(name: str) -> None:
    facts = parse(read(name))
    assert [(c.written, c.role) for c in facts.deadline_candidates] == CANDIDATES[name]
    taken = [c for c in facts.deadline_candidates if c.taken]
    assert [c.when for c in taken] == ([facts.deadline] if facts.deadline else [])
    if facts.deadline is not None:
        assert facts.deadline_source == taken[0].source


def assert_points_into_text(facts: GuidelineFacts, source: Sourced, *, case_of_first: bool = False) -> None:
    spanned = facts.text[source.start:source.end]
    if case_of_first:  # "V/v báo cáo ..." gives "Báo cáo ...": the first letter is made a capital
        assert spanned[1:] == source.value[1:] and spanned[0].upper() == source.value[0]
    else:
        assert spanned == source.value
    assert facts.text[source.sentence_start:source.sentence_end] == source.sentence
    assert source.sentence_start <= source.start < source.end <= source.sentence_end or (
        source.start >= source.sentence_start and "\n" in facts.text[source.start:source.end])


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_value_has_its_sentence_and_span(name: str) -> None:
    facts = parse(read(name))
    for source in (facts.deadline_source, facts.address):
        if source is not None:
            assert_points_into_text(facts, source)
    for source in (facts.title, facts.section_title):
        if source is not None:
            assert_points_into_text(facts, source, case_of_first=True)
    for candidate in facts.deadline_candidates:
        assert_points_into_text(facts, candidate.source)


def test_seed_deadline_sentence_is_the_request_to_send_the_report() -> None:
    facts = parse(read("seed"))
    assert facts.deadline_source is not None
    sentence = facts.deadline_source.sentence
    assert sentence.startswith("- Kết thúc đợt học tập theo kế hoạch của Tỉnh ủy")
    assert "gửi về Liên đoàn Lao động tỉnh" in sentence and "**" not in sentence
    assert facts.address is not None and facts.address.sentence == sentence
    assert facts.section_title is not None
    assert facts.section_title.sentence.startswith("- Trong báo cáo kết quả việc triển khai")


def test_seed_has_no_outline_and_the_attached_one_is_read_with_levels() -> None:
    assert parse(read("seed")).outline == ()
    outline = parse(read("ke-hoach-de-cuong-nghi-quyet.txt")).outline
    assert [(item.level, item.number, item.title) for item in outline] == [
        (1, "I.", "ĐẶC ĐIỂM TÌNH HÌNH"),
        (2, "1.", "Thuận lợi"),
        (2, "2.", "Khó khăn"),
        (1, "II.", "KẾT QUẢ THỰC HIỆN NGHỊ QUYẾT"),
        (2, "1.", "Công tác tuyên truyền, quán triệt Nghị quyết"),
        (2, "2.", "Đánh giá riêng về kết quả thực hiện các chỉ tiêu Nghị quyết giai đoạn 2023-2025"),
        (3, "a)", "Chỉ tiêu phát triển đoàn viên"),
        (3, "b)", "Chỉ tiêu thành lập công đoàn cơ sở"),
        (1, "III.", "HẠN CHẾ, NGUYÊN NHÂN"),
        (1, "IV.", "PHƯƠNG HƯỚNG, NHIỆM VỤ ĐẾN NĂM 2028"),
        (1, "V.", "ĐỀ XUẤT, KIẾN NGHỊ"),
    ]


# ------------------------------------------------------------------ deadline phrasing, one sentence each

HEAD = "LIÊN ĐOÀN LAO ĐỘNG TỈNH\nLào Cai, ngày 10 tháng 11 năm 2025\nHƯỚNG DẪN\nTổng kết năm 2025\n"


@pytest.mark.parametrize(("sentence", "when", "rule"), [
    ("Các đơn vị gửi báo cáo trước ngày 29/2/2024.", "2024-02-29T00:00:00", DeadlineRule.START_OF_DAY),
    ("Các đơn vị gửi báo cáo trước ngày 29/02/2024.", "2024-02-29T00:00:00", DeadlineRule.START_OF_DAY),
    ("Các đơn vị gửi báo cáo chậm nhất ngày 29-02-2024.", "2024-02-29T23:59:59", DeadlineRule.END_OF_DAY),
    ("Báo cáo gửi về LĐLĐ tỉnh chậm nhất vào ngày 29.02.2024.", "2024-02-29T23:59:59", DeadlineRule.END_OF_DAY),
    ("Hạn gửi báo cáo: ngày 05 tháng 12 năm 2025.", "2025-12-05T23:59:59", DeadlineRule.END_OF_DAY),
    ("Thời hạn nộp báo cáo là ngày 20 tháng 01 năm 2026.", "2026-01-20T23:59:59", DeadlineRule.END_OF_DAY),
    ("Các đơn vị gửi báo cáo đến hết ngày 15/12/2025.", "2025-12-15T23:59:59", DeadlineRule.END_OF_DAY),
    ("Các đơn vị gửi báo cáo trước 17 giờ 00 ngày 15/12/2025.", "2025-12-15T17:00:00", DeadlineRule.AT_TIME),
    ("Các đơn vị gửi báo cáo trước 17h00 ngày 15/12/2025.", "2025-12-15T17:00:00", DeadlineRule.AT_TIME),
    ("Các đơn vị nộp báo cáo trước 16 giờ 30 phút, ngày 15/12/2025.", "2025-12-15T16:30:00",
     DeadlineRule.AT_TIME),
    # the year from the guideline's own date line
    ("Các đơn vị gửi báo cáo trước ngày 15/12.", "2025-12-15T00:00:00", DeadlineRule.START_OF_DAY),
    # a guideline dated November asking for January: next year's
    ("Các đơn vị gửi báo cáo trước ngày 10/01.", "2026-01-10T00:00:00", DeadlineRule.START_OF_DAY),
])
def test_deadline_phrasing(sentence: str, when: str, rule: DeadlineRule) -> None:
    facts = parse(HEAD + sentence)
    assert facts.deadline == at(when)
    taken = [c for c in facts.deadline_candidates if c.taken]
    assert len(taken) == 1 and taken[0].rule is rule


def test_end_of_day_is_the_one_staff_dates_use() -> None:
    from intake.processor.staff_dates import parse_staff_datetime

    facts = parse(HEAD + "Các đơn vị gửi báo cáo chậm nhất ngày 05/03/2024.")
    staff, end_of_day = parse_staff_datetime("05/03/2024", TZ, NOW)
    assert end_of_day and facts.deadline == staff


def test_without_the_document_year_the_clock_gives_it() -> None:
    facts = parse("Các đơn vị gửi báo cáo trước ngày 15/12.", now=dt.datetime(2027, 3, 1, tzinfo=TZ))
    assert facts.deadline == at("2027-12-15T00:00:00")


@pytest.mark.parametrize("sentence", [
    "Các đơn vị hoàn thành việc học tập trước ngày 15/12/2025.",      # deadline words, not the report's
    "Hội nghị tổng kết tổ chức ngày 15/12/2025 tại hội trường tỉnh.",  # a conference
    "Báo cáo gửi về LĐLĐ tỉnh ngày 15/12/2025.",                      # about the report, no deadline words
    "Thời gian học tập từ ngày 01/12/2025 đến ngày 15/12/2025.",       # a period
])
def test_no_deadline_is_invented(sentence: str) -> None:
    facts = parse(HEAD + sentence)
    assert facts.deadline is None
    assert facts.deadline_candidates and not any(c.taken for c in facts.deadline_candidates)


def test_two_dates_in_one_sentence_each_read_by_its_own_clause() -> None:
    facts = parse(HEAD + "Các đơn vị hoàn thành học tập trước ngày 30/11/2025 và gửi báo cáo kết quả "
                  "chậm nhất ngày 15/12/2025.")
    assert [(c.written, c.role) for c in facts.deadline_candidates[1:]] == [
        ("trước ngày 30/11/2025", DateRole.NOT_REPORT), ("chậm nhất ngày 15/12/2025", DateRole.DEADLINE)]
    assert facts.deadline == at("2025-12-15T23:59:59")


def test_the_plainer_request_to_send_the_report_wins() -> None:
    facts = parse(HEAD + "Báo cáo sơ bộ trước ngày 20/11/2025.\n"
                  "Các đơn vị gửi báo cáo chính thức về Ban Tổ chức trước ngày 01/12/2025.")
    assert [(c.written, c.role, c.taken) for c in facts.deadline_candidates[1:]] == [
        ("trước ngày 20/11/2025", DateRole.LESS_CLEAR, False), ("trước ngày 01/12/2025", DateRole.DEADLINE, True)]
    assert facts.deadline == at("2025-12-01T00:00:00")


def test_the_same_deadline_twice_is_no_doubt() -> None:
    facts = parse(HEAD + "Các đơn vị gửi báo cáo trước ngày 15/12/2025.\n"
                  "Chế độ báo cáo\nBáo cáo gửi về Ban Tổ chức trước ngày 15/12/2025.")
    assert facts.deadline == at("2025-12-15T00:00:00")
    assert sum(c.taken for c in facts.deadline_candidates) == 1


def test_a_chế_độ_báo_cáo_heading_ties_the_date_to_the_report() -> None:
    facts = parse(HEAD + "IV. CHẾ ĐỘ BÁO CÁO\n- Chậm nhất ngày 10/12/2025, các đơn vị hoàn thành và tổng hợp.")
    assert facts.deadline == at("2025-12-10T23:59:59")


# ------------------------------------------------------------------ section title phrasing


@pytest.mark.parametrize(("sentence", "section"), [
    ("Trong báo cáo cần có mục đánh giá riêng về kết quả học tập Chuyên đề năm 2025.",
     "Đánh giá riêng về kết quả học tập Chuyên đề năm 2025"),
    ("Báo cáo phải có mục riêng về công tác hoà giải ở cơ sở.", "Công tác hoà giải ở cơ sở"),
    ("Nội dung báo cáo phải có mục riêng về kết quả chăm lo Tết cho đoàn viên; gửi kèm danh sách.",
     "Kết quả chăm lo Tết cho đoàn viên"),
    ("Trong báo cáo đề nghị đánh giá việc thực hiện Nghị quyết số 02-NQ/TW (kèm số liệu).",
     "Đánh giá việc thực hiện Nghị quyết số 02-NQ/TW"),
    ("Báo cáo cần có phần riêng đánh giá công tác tuyên truyền để tổng hợp báo cáo Tỉnh ủy.",
     "Đánh giá công tác tuyên truyền"),
])
def test_section_title_without_the_request(sentence: str, section: str) -> None:
    facts = parse(HEAD + sentence)
    assert facts.section_title is not None
    assert facts.section_title.value == section
    assert facts.section_title.sentence == sentence


def test_old_and_decomposed_text_reads_the_same() -> None:
    text = read("huong-dan-thang-cong-nhan-2025.txt")
    plain = parse(text)
    decomposed = parse(unicodedata.normalize("NFD", text).replace("hóa", "hoá"))
    assert decomposed.deadline == plain.deadline
    assert decomposed.section_title == plain.section_title
    assert decomposed.title is not None and unicodedata.is_normalized("NFC", decomposed.title.value)


def test_a_header_run_together_still_gives_subject_and_date_line() -> None:
    # A header table's cell written with soft line breaks reads as one line.
    facts = parse("LIÊN ĐOÀN LAO ĐỘNG TỈNH LÀO CAI Số: 15/LĐLĐ V/v báo cáo công tác nữ công năm 2025\n"
                  "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM Độc lập - Tự do - Hạnh phúc Lào Cai, ngày 05 tháng 11 năm 2025\n"
                  "Các đơn vị gửi báo cáo về Ban Nữ công trước ngày 05/12/2025.")
    assert facts.title is not None and facts.title.value == "Báo cáo công tác nữ công năm 2025"
    assert [c.role for c in facts.deadline_candidates] == [DateRole.DOCUMENT_DATE, DateRole.DEADLINE]


def test_empty_text_gives_nothing() -> None:
    facts = parse("   \n")
    assert (facts.title, facts.deadline, facts.section_title, facts.address, facts.deadline_candidates) == (
        None, None, None, None, ())


def test_an_address_away_from_sending_words_is_taken_only_when_alone() -> None:
    two = parse(HEAD + "Liên hệ: vanphong@ldld.vn hoặc bantochuc@ldld.vn.")
    assert two.address is None
    one = parse(HEAD + "Mọi thắc mắc liên hệ vanphong@ldld.vn.")
    assert one.address is not None and one.address.value == "vanphong@ldld.vn"


def test_unwrap_lines_joins_wrapped_lines_and_keeps_headings() -> None:
    wrapped = (
        "HƯỚNG DẪN\n"
        "Tổ chức Tháng Công nhân năm 2025\n"
        "Thực hiện Kế hoạch số 45/KH-TLĐ ngày 10/3/2025 của Tổng Liên đoàn Lao động Việt\n"
        "Nam, Ban Thường vụ hướng dẫn như sau:\n"
        "1. Các đơn vị gửi báo cáo về Liên đoàn Lao động tỉnh trước ngày 29/2/2024 qua\n"
        "email bantuyengiao@gmail.com.\n"
        "2. Khen thưởng\n"
    )
    assert unwrap_lines(wrapped).split("\n") == [
        "HƯỚNG DẪN",
        "Tổ chức Tháng Công nhân năm 2025",
        "Thực hiện Kế hoạch số 45/KH-TLĐ ngày 10/3/2025 của Tổng Liên đoàn Lao động Việt Nam, "
        "Ban Thường vụ hướng dẫn như sau:",
        "1. Các đơn vị gửi báo cáo về Liên đoàn Lao động tỉnh trước ngày 29/2/2024 qua "
        "email bantuyengiao@gmail.com.",
        "2. Khen thưởng",
    ]


# ------------------------------------------------------------------ the section title, measured with the finder

CORPUS = Path(__file__).resolve().parent / "corpus" / "docs"


def test_extracted_section_title_finds_every_corpus_section() -> None:
    """The seed's extracted title ("Đánh giá riêng về ...", the guideline's words) gives the finder the
    expected answer on every corpus document, as the configured title does; the bare object
    ("Kết quả tổ chức ...") would miss the "ĐÁNH GIÁ RIÊNG VỀ ..." headings."""
    import json

    from intake.parsers.section import find_section
    from intake.parsers.word import parse_docx

    facts = parse(read("seed"))
    assert facts.section_title is not None
    documents = sorted(CORPUS.glob("*.docx"))
    assert len(documents) >= 30
    misses = []
    for path in documents:
        expected = json.loads(path.with_suffix(".expected.json").read_text(encoding="utf-8"))
        result = find_section(parse_docx(path.read_bytes()), facts.section_title.value)
        if result.found != expected["found"] or (result.found and result.heading != expected["heading"]):
            misses.append(path.name)
    assert misses == []


@pytest.mark.parametrize("hostile", [
    "1" * 400_000,                                   # one digit run (address and date patterns)
    "Số 1/2 " * 50_000,                              # day/month pairs without "ngày"
    "ngày 1/1/2024 gửi báo cáo. " * 15_000,          # thousands of candidates
    ("x" * 70 + "\n") * 5_000 + "a@b.cc " * 20_000,  # addresses in one long sentence
    "Lào Cai, ngày " * 30_000,                       # a date line that never ends
    "cần có mục đánh giá riêng về " * 15_000,
    "Thời gian từ ngày 1/1/2024 đến ngày 2/1/2024 " * 10_000,  # one sentence of periods
], ids=["digits", "pairs", "dates", "addresses", "date-line", "requests", "periods"])
def test_hostile_text_is_read_in_linear_time(hostile: str) -> None:
    import time

    started = time.monotonic()
    parse(hostile)
    assert time.monotonic() - started < 5


def test_unwrap_lines_is_linear() -> None:
    import time

    started = time.monotonic()
    unwrap_lines("Lào Cai, ngày 1 năm\n" * 20_000 + ("x" * 70 + "\n") * 50_000)
    assert time.monotonic() - started < 5
