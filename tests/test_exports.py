"""`intake export`: each format written by the CLI over the example Maildir, then opened back and checked."""
from __future__ import annotations

import csv
import datetime as dt
import io
import shutil
from contextlib import redirect_stdout
from html.parser import HTMLParser
from pathlib import Path

import docx
import openpyxl
import pytest

from intake.processor import cli

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example campaign processed once, with an excuse and an extension recorded."""
    tmp = tmp_path_factory.mktemp("exports")
    shutil.copytree(ROOT / "examples" / "maildir", tmp / "maildir")
    text = (ROOT / "config.example.toml").read_text(encoding="utf-8")
    text = text.replace('path = "examples/maildir"', f'path = "{tmp / "maildir"}"')
    text = text.replace('url = "sqlite:///intake.db"', f'url = "sqlite:///{tmp / "intake.db"}"')
    text = text.replace('files_dir = "files"', f'files_dir = "{tmp / "files"}"')
    text = text.replace('outbox_dir = "outbox"', f'outbox_dir = "{tmp / "outbox"}"')
    (tmp / "intake.toml").write_text(text, encoding="utf-8")
    assert _cli(tmp, "run", "--once") == 0
    assert _cli(tmp, "excuse", "cdn-y-te", "--reason", "Đã báo cáo bằng văn bản") == 0
    assert _cli(tmp, "extend", "ldld-bac-ha", "--until", "2024-03-05T17:00") == 0
    for fmt in ("csv", "xlsx", "html", "docx"):
        assert _cli(tmp, "export", "--format", fmt, "-o", str(tmp / f"report.{fmt}")) == 0
    return tmp


# Staff act during the campaign: `extend` refuses a date already past.
DURING_CAMPAIGN = dt.datetime(2024, 2, 28, 12, tzinfo=dt.timezone(dt.timedelta(hours=7)))


def _cli(tmp: Path, *argv: str) -> int:
    with redirect_stdout(io.StringIO()):
        return cli.main(["--config", str(tmp / "intake.toml"), "-q", *argv], {"USER": "hoa"},
                        clock=lambda: DURING_CAMPAIGN)


EXPECTED = {"LĐLĐ huyện Bảo Thắng": "Đúng hạn", "LĐLĐ huyện Bát Xát": "Quá hạn", "LĐLĐ thị xã Sa Pa": "Đúng hạn",
            "LĐLĐ huyện Bắc Hà": "Chưa gửi", "Công đoàn ngành Giáo dục tỉnh Lào Cai": "Đúng hạn",
            "Công đoàn ngành Y tế tỉnh Lào Cai": "Miễn nộp"}


def test_csv_has_bom_and_reads_back(demo: Path) -> None:
    raw = (demo / "report.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert {r["Đơn vị"]: r["Tình trạng"] for r in rows} == EXPECTED
    assert [r["Mã đơn vị"] for r in rows][:2] == ["ldld-bao-thang", "ldld-bat-xat"]  # roster order
    bao_thang = rows[0]
    assert bao_thang["Thời điểm nhận"] == "2024-02-26 09:12"  # local time
    assert bao_thang["Số tham gia học tập"] == "1241" and bao_thang["Số lần gửi"] == "2"
    bac_ha = next(r for r in rows if r["Mã đơn vị"] == "ldld-bac-ha")
    assert bac_ha["Hạn gửi"] == "2024-03-05 17:00" and "Gia hạn" in bac_ha["Ghi chú"]
    y_te = next(r for r in rows if r["Mã đơn vị"] == "cdn-y-te")
    assert "Đã báo cáo bằng văn bản" in y_te["Ghi chú"]


def test_xlsx_header_frozen_filtered_dates_are_dates(demo: Path) -> None:
    wb = openpyxl.load_workbook(demo / "report.xlsx")
    assert wb.sheetnames == ["chuyen-de-2024"]
    ws = wb["chuyen-de-2024"]
    header = [c.value for c in ws[1]]
    assert header[:4] == ["STT", "Mã đơn vị", "Đơn vị", "Tình trạng"]
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == f"A1:{openpyxl.utils.get_column_letter(len(header))}7"
    assert ws.column_dimensions["C"].width >= 30
    received = ws.cell(row=2, column=header.index("Thời điểm nhận") + 1)
    assert received.value == dt.datetime(2024, 2, 26, 9, 12, 3)
    assert received.is_date
    names = {ws.cell(row=r, column=3).value: ws.cell(row=r, column=4).value for r in range(2, ws.max_row + 1)}
    assert names == EXPECTED


class _Cells(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.cells: list[str] = []
        self.tags: set[str] = set()
        self._in = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        if tag in ("td", "th"):
            self._in = True
            self.cells.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th"):
            self._in = False

    def handle_data(self, data: str) -> None:
        if self._in:
            self.cells[-1] += data


def test_html_is_self_contained_and_lists_every_unit(demo: Path) -> None:
    page = (demo / "report.html").read_text(encoding="utf-8")
    parser = _Cells()
    parser.feed(page)
    assert not parser.tags & {"script", "link", "img"}
    assert "@page" in page and 'class="missing"' in page
    for name, state in EXPECTED.items():
        assert name in parser.cells and state in parser.cells
    assert "mamnonhoahong.lc@yahoo.com" in parser.cells  # the unmatched sender


def test_docx_compiled_report_structure(demo: Path) -> None:
    doc = docx.Document(str(demo / "report.docx"))
    section = doc.sections[0]
    assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)
    assert (round(section.left_margin.mm), round(section.right_margin.mm)) == (30, 15)
    assert doc.styles["Normal"].font.name == "Times New Roman"
    headings = [(p.style.name, p.text) for p in doc.paragraphs if p.style.name.startswith(("Heading", "Title"))]
    assert headings[0] == ("Title", "BÁO CÁO TỔNG HỢP")
    level1 = [t for s, t in headings if s == "Heading 1"]
    assert level1 == ["I. TÌNH HÌNH GỬI BÁO CÁO", "II. NỘI DUNG ĐÁNH GIÁ RIÊNG CỦA CÁC ĐƠN VỊ",
                      "III. CÁC ĐƠN VỊ CHƯA GỬI, GỬI MUỘN BÁO CÁO"]
    units = [t for s, t in headings if s == "Heading 2" and t[0].isdigit()]
    assert units == [f"{i}. {name}" for i, name in enumerate(EXPECTED, start=1)]  # roster order
    texts = [p.text for p in doc.paragraphs]
    assert any(t.startswith("Hạn gửi báo cáo: 00:00 29/02/2024") for t in texts)
    assert "Số liệu: 1.241/1.250 đoàn viên tham gia học tập, đạt 99,3%, 14 buổi/hội nghị." in texts
    assert "(Báo cáo của đơn vị chưa có mục đánh giá riêng.)" in texts  # Sa Pa
    summary = {r.cells[0].text: r.cells[1].text for r in doc.tables[0].rows}
    assert summary["Số đơn vị phải báo cáo"] == "6" and summary["Gửi đúng hạn"] == "3"
    assert (summary["Gửi muộn (quá hạn)"], summary["Chưa gửi"], summary["Miễn nộp"]) == ("1", "1", "1")
    owing = doc.tables[-1]
    assert [r.cells[1].text for r in owing.rows[1:]] == ["LĐLĐ huyện Bát Xát", "LĐLĐ huyện Bắc Hà"]
    # Bát Xát's section holds a table: it comes out as a Word table, not tab-joined text.
    assert any(t.rows[0].cells[0].text == "Đơn vị" and len(t.columns) == 4 for t in doc.tables)


def test_unknown_campaign_is_a_usage_error(demo: Path) -> None:
    assert _cli(demo, "export", "--campaign", "nope", "--format", "csv", "-o", str(demo / "x.csv")) == 2
