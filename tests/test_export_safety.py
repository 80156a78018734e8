"""Exports with a stranger's text in them, Vietnamese numbers, the [report] config and the review mark.

Pure logic over a hand-built CampaignStatus (no store needed): every
exporter must write a file that its own reader opens, whatever characters
the sender put in a file name, subject, display name or section.
"""
from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
from pathlib import Path
from zoneinfo import ZoneInfo

import docx
import openpyxl
import pytest

from intake.parsers.errors import ConfigError, UsageError
from intake.processor.config import ReportConfig, parse_config
from intake.processor.staff.export import EXPORTERS, check_output, render
from intake.processor.staff.export_docx import REVIEW_NOTE
from intake.processor.staff.formatting import csv_cell, sentence, vn_int, vn_number, vn_percent, xml_safe
from intake.processor.staff.rows import ExportContext
from intake.store.status import CampaignStatus, SubmissionView, UnitDecisions, UnitState, UnitStatus
from intake.store.views import SectionView

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
DEADLINE = dt.datetime(2024, 2, 29, tzinfo=TZ)
HOSTILE = "Bao\x00cao\x07\x1b[31m\x0b\x0c\ud800\ufffe\x7f\x85.docx"
CTX = ExportContext(TZ, dt.datetime(2024, 3, 2, 8, 0, tzinfo=TZ),
                    ReportConfig(parent="LĐLĐ TỈNH\x01 LÀO CAI", office="BAN\x02 TUYÊN GIÁO", number_prefix="BC-TG",
                                 place="Lào Cai", signer_title="TRƯỞNG BAN", signer_name="Nguyễn Thị\x03 Hoa"))

pytestmark = pytest.mark.usefixtures("english")


def _message(pk: int, *, name: str, subject: str, files: tuple[str, ...], report: str | None,
             section: SectionView | None, problems: tuple[str, ...] = ()) -> SubmissionView:
    return SubmissionView(pk=pk, message_id=f"<m{pk}@x>", from_address=f"=cmd|' /C calc'!A{pk}@evil.example",
                       from_name=name, subject=subject, received_at=dt.datetime(2024, 2, 27, 9, pk, tzinfo=TZ),
                       attachments=files, report_attachment=report, has_report=report is not None,
                       problems=problems, section=section, reference=f"TN24-0000{pk}", match="address")


def hostile_status() -> CampaignStatus:
    text = ("=HYPERLINK(\"http://evil\")\n+SUM(A1)\n-2+3\n@cmd\nĐơn vị\tTổng số\tTham gia\n"
            "Khối A\x00\t1.250\t1.241\nTổng\t1.250\t1.241\nĐoạn có ký tự\x1b lạ và \ud83d kết thúc.")
    section = SectionView(found=True, confidence="review", heading="=1+1 Mục\x08 đánh giá", text=text,
                            figures={"participants": 1241, "members": 1250, "rate_percent": 99.28, "sessions": 14},
                            score=60.0, reason="x")
    good = _message(1, name="Người\r\nBcc: x@y", subject="Báo cáo\x00\x1f", files=(HOSTILE, "=evil().docx"),
                    report=HOSTILE, section=section)
    pdf_only = _message(2, name="@SUM(1)", subject="-1", files=("Bao cao\x01.pdf",), report=None, section=None,
                        problems=("unsupported_attachment",))
    stray = _message(3, name="+x\x0b", subject="=WEBSERVICE(\"x\")", files=(HOSTILE,), report=None, section=None)
    units = (
        UnitStatus(id="u1", name="=LĐLĐ\x07 huyện A", group="", status=UnitState.ON_TIME, deadline=DEADLINE,
                   received_at=good.received_at, submissions=1, latest=good),
        UnitStatus(id="u2", name="LĐLĐ huyện B", group="", status=UnitState.MISSING, deadline=DEADLINE,
                   received_at=None, submissions=1, latest=pdf_only,
                   decision=UnitDecisions(extended_until=dt.datetime(2024, 3, 6, 17, 0, tzinfo=TZ),
                                         decided_by="-hoa\x00")),
    )
    return CampaignStatus(campaign_id="cd\x00-2024", title="Chuyên đề\x1f 2024", deadline=DEADLINE, units=units,
                          unmatched=(stray,))


@pytest.mark.parametrize("fmt", list(EXPORTERS))
def test_every_format_survives_control_characters(fmt: str, tmp_path: Path) -> None:
    data = render(hostile_status(), fmt, CTX)
    path = tmp_path / f"x.{fmt}"
    path.write_bytes(data)
    if fmt == "xlsx":
        wb = openpyxl.load_workbook(path)
        values = [str(c.value) for ws in wb for row in ws.iter_rows() for c in row if c.value is not None]
        assert any("Bao\ufffdcao" in v for v in values)
    elif fmt == "docx":
        text = "\n".join(p.text for p in docx.Document(str(path)).paragraphs)
        assert "Bao\ufffdcao" in text
    else:
        text = data.decode("utf-8-sig")
        assert "\x00" not in text and "\x07" not in text and "\x1b" not in text
        assert "Bao\ufffdcao" in text


def test_csv_cells_never_start_a_formula() -> None:
    for dialect in ("vn", "excel-sep", "plain"):
        text = render(hostile_status(), "csv", dataclasses.replace(CTX, csv_dialect=dialect)).decode("utf-8-sig")
        lines = text.splitlines()[1:] if dialect == "excel-sep" else text.splitlines()
        delimiter = "," if dialect == "plain" else ";"
        cells = [c for row in csv.reader(io.StringIO("\n".join(lines)), delimiter=delimiter) for c in row]
        assert cells, dialect
        assert not [c for c in cells if c[:1] in ("=", "+", "-", "@")], dialect
        assert "'=LĐLĐ\ufffd huyện A" in cells and any(c.startswith("'=cmd|") for c in cells)


def test_html_escapes_and_docx_marks_review() -> None:
    page = render(hostile_status(), "html", CTX).decode()
    assert "<script" not in page and 'HYPERLINK(&#34;http://evil&#34;)' in page
    assert "cần kiểm tra mục đánh giá riêng" in page
    doc = docx.Document(io.BytesIO(render(hostile_status(), "docx", CTX)))
    texts = [p.text for p in doc.paragraphs]
    assert REVIEW_NOTE in texts
    # The unit's tab-separated lines became a table with a bold header and a bold totals row.
    table = next(t for t in doc.tables if t.rows[0].cells[0].text == "Đơn vị")
    assert [c.text for c in table.rows[1].cells] == ["Khối A\ufffd", "1.250", "1.241"]
    assert all(r.bold for c in table.rows[-1].cells for p in c.paragraphs for r in p.runs)
    assert not any(r.bold for c in table.rows[1].cells for p in c.paragraphs for r in p.runs)
    # The missing unit that sent only a PDF: the not-sent table says so.
    owing = doc.tables[-2]
    assert owing.rows[1].cells[4].text == (
        "Gia hạn đến 17:00 06/03/2024; thư nhận lúc 09:02 27/02/2024: tệp không phải Word (Bao cao\ufffd.pdf).")
    header = doc.tables[0]
    assert header.cell(0, 0).text.startswith("LĐLĐ TỈNH\ufffd LÀO CAI")
    wb = openpyxl.load_workbook(io.BytesIO(render(hostile_status(), "xlsx", CTX)))
    assert wb.worksheets[0]["F7"].value == "=1+1 Mục\ufffd đánh giá (cần kiểm tra)"
    assert wb.worksheets[0]["F7"].data_type == "s"  # a string, not a formula


def test_vietnamese_numbers() -> None:
    assert (vn_int(1234), vn_int(1234567), vn_int(0), vn_int(None)) == ("1.234", "1.234.567", "0", "")
    assert (vn_number(98.5), vn_number(100.0), vn_number(1234.5), vn_number(97)) == ("98,5", "100", "1.234,5", "97")
    assert (vn_percent(98.47), vn_percent(None)) == ("98,5%", "")
    assert sentence("Gia hạn đến 17:00 06/03/2024.", "tệp: a.docx") == "Gia hạn đến 17:00 06/03/2024; tệp: a.docx."
    assert xml_safe("a\x00b\ud800c\U0001f600") == "a\ufffdb\ufffdc\U0001f600"
    assert (csv_cell("=1"), csv_cell("-x"), csv_cell("@a"), csv_cell("+1"), csv_cell("a=1")) == (
        "'=1", "'-x", "'@a", "'+1", "a=1")


def test_check_output(tmp_path: Path) -> None:
    check_output(tmp_path / "a.xlsx", "xlsx")
    with pytest.raises(UsageError, match=r"no-suffix has no extension: use a name ending in \.csv"):
        check_output(tmp_path / "no-suffix", "csv")
    with pytest.raises(UsageError, match=r"ends in \.xlsx"):
        check_output(tmp_path / "a.xlsx", "csv")
    with pytest.raises(UsageError, match="does not exist"):
        check_output(tmp_path / "nope" / "a.csv", "csv")
    assert not (tmp_path / "nope").exists()


def _config(report: dict[str, object] | None) -> dict[str, object]:
    """The example config, with its [report] table replaced (or removed)."""
    import tomllib

    data = tomllib.loads((Path(__file__).resolve().parent.parent / "config.example.toml").read_text("utf-8"))
    data.pop("report")
    return data if report is None else {**data, "report": report}


def test_report_config() -> None:
    cfg = parse_config(_config({"parent": "LĐLĐ TỈNH LÀO CAI", "place": " Lào Cai ", "signer_title": "TRƯỞNG BAN"}),
                       Path("x.toml"), {})
    assert cfg.report == ReportConfig(parent="LĐLĐ TỈNH LÀO CAI", place="Lào Cai", signer_title="TRƯỞNG BAN")
    assert parse_config(_config(None), Path("x.toml"), {}).report == ReportConfig()
    with pytest.raises(ConfigError, match=r"\[report\] signer"):
        parse_config(_config({"signer": "x"}), Path("x.toml"), {})
    with pytest.raises(ConfigError, match=r"\[report\] office: expected a string"):
        parse_config(_config({"office": 3}), Path("x.toml"), {})
