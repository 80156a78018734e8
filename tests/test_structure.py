"""structure.infer on hand-built raw blocks: no OOXML, only formatting facts."""
from __future__ import annotations

from intake.parsers.layout import closing_starts
from intake.parsers.model import BlockKind, Outline
from intake.parsers.structure import RawCell, RawParagraph, RawTable, infer


def _closing(outline: Outline) -> int | None:
    """Where the report's closing block starts (parsers/layout.py `closing_starts`)."""
    return next(iter(closing_starts(outline.blocks)), None)


def _cell(*texts: str, bold: bool = False) -> RawCell:
    return RawCell(tuple(RawParagraph(t, bold=bold) for t in texts))


def test_header_table_title_block_levels_and_closing() -> None:
    header = RawTable((
        (_cell("LĐLĐ TỈNH LÀO CAI", "CÔNG ĐOÀN NGÀNH GIÁO DỤC", bold=False),
         _cell("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc")),
        (_cell("Số: 12/BC-CĐN"), _cell("Lào Cai, ngày 5 tháng 12 năm 2024")),
    ))
    raw = [
        header,
        RawParagraph("BÁO CÁO", bold=True, centered=True),
        RawParagraph("Kết quả công tác công đoàn năm 2024", bold=True),
        RawParagraph("   "),  # an empty paragraph is dropped
        RawParagraph("I. KẾT QUẢ ĐẠT ĐƯỢC", bold=True),
        RawParagraph("1. Công tác tuyên truyền"),
        RawParagraph("Tổ chức 12 buổi sinh hoạt chuyên đề cho đoàn viên."),
        RawParagraph("Nơi nhận:"),
        RawParagraph("- Như trên;"),
    ]
    outline = infer(raw, legacy_encodings=("tcvn3",))

    assert outline.issuer == "CÔNG ĐOÀN NGÀNH GIÁO DỤC"
    assert outline.legacy_encodings == ("tcvn3",)
    kinds = [b.kind for b in outline.blocks]
    assert kinds[0] is BlockKind.TABLE
    texts = [b.text for b in outline.blocks]
    assert "   " not in texts and len(texts) == 8
    levels = {b.text: b.level for b in outline.blocks}
    # The title block ("BÁO CÁO" and its subject line) is no section heading.
    assert levels["BÁO CÁO"] is None
    assert levels["Kết quả công tác công đoàn năm 2024"] is None
    assert levels["I. KẾT QUẢ ĐẠT ĐƯỢC"] == 1
    assert levels["1. Công tác tuyên truyền"] == 2
    assert levels["Tổ chức 12 buổi sinh hoạt chuyên đề cho đoàn viên."] is None
    assert _closing(outline) == texts.index("Nơi nhận:")


def test_levels_from_style_numbering_and_formatting_facts() -> None:
    raw = [
        RawParagraph("Phần mở đầu", style="Heading 1", style_level=1),
        RawParagraph("Tình hình chung", numbering="1.", num_ilvl=0),
        RawParagraph("Điểm mới năm nay", numbering="1.1", num_ilvl=1),
        RawParagraph("Thuận lợi", bold=True),
        RawParagraph("Một đoạn văn bản thường.", bold=False),
        RawParagraph("gạch đầu dòng", numbering="", bullet=True, num_ilvl=0),
    ]
    levels = [b.level for b in infer(raw).blocks]
    # Style level 1, "1." = 2, "1.1" = 3, a bold unnumbered line one below the previous.
    assert levels == [1, 2, 3, 4, None, None]


def test_formatting_only_documents_rank_by_size_then_capitals() -> None:
    raw = [
        RawParagraph("TỔNG QUAN", bold=True, size=28),
        RawParagraph("Nội dung chính", bold=True, size=26),
        RawParagraph("Đoạn văn thường ở đây."),
        RawParagraph("Chi tiết thêm", bold=True, size=26),
    ]
    outline = infer(raw)
    assert [b.level for b in outline.blocks] == [1, 2, None, 2]
    assert outline.issuer is None and _closing(outline) is None
