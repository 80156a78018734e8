"""Regenerate examples/maildir: realistic sample submissions for the demo and the end-to-end test.

    .venv/bin/python scripts/make_examples.py

Reports follow the Decree 30/2020 layout (header table, "Số:", place and
date, title, numbered sections, closing block). Each message is a file in
examples/maildir/cur or new, with a `Received:` header giving its received
time. The output is deterministic, so re-running changes nothing.
"""
from __future__ import annotations

import email.policy
import email.utils
import io
import shutil
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Pt

ROOT = Path(__file__).resolve().parent.parent
MAILDIR = ROOT / "examples" / "maildir"
OFFICE = "bantuyengiaonuconglc@gmail.com"
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@dataclass
class Report:
    issuer: str
    number: str
    place_date: str
    sections: list[tuple[str, list[str]]]
    signer: str = "Nguyễn Văn An"
    title: str = "Kết quả học tập, quán triệt và triển khai Chuyên đề năm 2024"
    bold_headings: bool = False
    table: list[list[str]] = field(default_factory=list)


def body_study(members: str, participants: str, rate: str, sessions: str) -> list[str]:
    return [
        f"Ngay sau khi nhận được Hướng dẫn của LĐLĐ tỉnh, Ban Thường vụ đã chỉ đạo các công đoàn cơ sở tổ chức "
        f"học tập Chuyên đề năm 2024 bằng hình thức trực tiếp kết hợp trực tuyến. Đã tổ chức {sessions} "
        f"hội nghị học tập, quán triệt.",
        f"Tổng số đoàn viên: {members}; số đoàn viên tham gia học tập: {participants}, đạt {rate}%.",
        "- Các công đoàn cơ sở đưa nội dung Chuyên đề vào sinh hoạt công đoàn định kỳ hằng tháng.",
        "- Nhiều đoàn viên đăng ký đăng ký việc làm cụ thể gắn với tinh thần \"Dám nghĩ, dám nói, dám làm\".",
    ]


def build_docx(rep: Report) -> bytes:
    doc = Document()
    style = doc.styles["Normal"]
    style.font.name = "Times New Roman"
    style.font.size = Pt(13)
    header = doc.add_table(rows=1, cols=2)
    left, right = header.rows[0].cells
    left.text = "LĐLĐ TỈNH LÀO CAI"
    left.add_paragraph(rep.issuer.upper()).runs[0].bold = True
    left.add_paragraph(f"Số: {rep.number}")
    right.text = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
    right.paragraphs[0].runs[0].bold = True
    right.add_paragraph("Độc lập - Tự do - Hạnh phúc").runs[0].bold = True
    right.add_paragraph(rep.place_date).runs[0].italic = True
    title = doc.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    title.add_run("BÁO CÁO").bold = True
    sub = doc.add_paragraph()
    sub.alignment = WD_ALIGN_PARAGRAPH.CENTER
    sub.add_run(rep.title).bold = True
    for heading, paragraphs in rep.sections:
        if rep.bold_headings:
            doc.add_paragraph().add_run(heading).bold = True
        else:
            doc.add_heading(heading, level=1 if heading.split(".")[0].isupper() else 2)
        for text in paragraphs:
            if text == "<table>":
                _table(doc, rep.table)
            else:
                doc.add_paragraph(text)
    doc.add_paragraph("Trên đây là báo cáo kết quả học tập, quán triệt và triển khai Chuyên đề năm 2024 "
                      f"của {rep.issuer}./.")
    closing = doc.add_table(rows=1, cols=2)
    recv, sign = closing.rows[0].cells
    recv.text = "Nơi nhận:"
    recv.add_paragraph("- LĐLĐ tỉnh (b/c);")
    recv.add_paragraph("- Lưu: VT.")
    sign.text = "TM. BAN THƯỜNG VỤ"
    sign.add_paragraph("CHỦ TỊCH")
    sign.add_paragraph(rep.signer)
    out = io.BytesIO()
    doc.core_properties.author = rep.issuer
    doc.save(out)
    return _deterministic(out.getvalue())


def _table(doc: object, rows: list[list[str]]) -> None:
    table = doc.add_table(rows=len(rows), cols=len(rows[0]))  # type: ignore[attr-defined]
    table.style = "Table Grid"
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            table.cell(r, c).text = value


def _deterministic(data: bytes) -> bytes:
    """Rewrite the zip with fixed timestamps so regenerated files are byte-identical."""
    import zipfile

    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                import re

                body = re.sub(rb"<dcterms:(created|modified)[^>]*>[^<]*</dcterms:\1>", b"", body)
            fixed = zipfile.ZipInfo(info.filename, date_time=(2024, 2, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(fixed, body)
    return out.getvalue()


def cover_letter(issuer: str) -> bytes:
    doc = Document()
    doc.add_paragraph(issuer.upper())
    doc.add_paragraph("V/v gửi báo cáo kết quả học tập Chuyên đề năm 2024")
    doc.add_paragraph("Kính gửi: Ban Tuyên giáo - Nữ công LĐLĐ tỉnh Lào Cai")
    doc.add_paragraph(f"{issuer} trân trọng gửi kèm báo cáo kết quả học tập, quán triệt Chuyên đề năm 2024.")
    out = io.BytesIO()
    doc.save(out)
    return _deterministic(out.getvalue())


def mail(*, sender: str, name: str, subject: str, received: str, msgid: str, body: str,
         attachments: list[tuple[str, bytes, str]] = (), headers: dict[str, str] | None = None) -> bytes:  # type: ignore[assignment]
    msg = EmailMessage(policy=email.policy.SMTP)
    msg["Return-Path"] = f"<{sender}>"
    msg["Received"] = (f"from mail-sor-f41.google.com by mx.google.com with SMTPS id {msgid[:8]}; {received}")
    msg["From"] = email.utils.formataddr((name, sender))
    msg["To"] = OFFICE
    msg["Subject"] = subject
    msg["Date"] = received
    msg["Message-ID"] = f"<{msgid}@mail.gmail.com>"
    for key, value in (headers or {}).items():
        msg[key] = value
    msg.set_content(body)
    for filename, data, ctype in attachments:
        maintype, subtype = ctype.split("/", 1)
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    for i, part in enumerate(p for p in msg.walk() if p.is_multipart()):
        part.set_boundary(f"==intake-example-{msgid}-{i}==")  # deterministic output
    return msg.as_bytes()


def reports() -> dict[str, bytes]:
    intro = ("I. CÔNG TÁC LÃNH ĐẠO, CHỈ ĐẠO", ["Ban Thường vụ ban hành Kế hoạch số 05/KH-LĐLĐ triển khai "
                                                "học tập và làm theo tư tưởng, đạo đức, phong cách Hồ Chí Minh."])
    practice = ("II. KẾT QUẢ LÀM THEO TƯ TƯỞNG, ĐẠO ĐỨC, PHONG CÁCH HỒ CHÍ MINH",
                ["Các công đoàn cơ sở đăng ký mô hình, cách làm hay; 12 tập thể, 35 cá nhân được biểu dương."])
    plan = ("IV. PHƯƠNG HƯỚNG, NHIỆM VỤ NĂM 2025", ["Tiếp tục đưa nội dung Chuyên đề vào sinh hoạt công đoàn."])
    return {
        "bao-thang": build_docx(Report(
            issuer="LĐLĐ huyện Bảo Thắng", number="15/BC-LĐLĐ", place_date="Bảo Thắng, ngày 26 tháng 02 năm 2024",
            sections=[intro, practice,
                      ("III. ĐÁNH GIÁ KẾT QUẢ TỔ CHỨC HỌC TẬP, QUÁN TRIỆT VÀ TRIỂN KHAI CHUYÊN ĐỀ NĂM 2024",
                       body_study("1.250", "1.234", "98,7", "12")), plan])),
        "bao-thang-2": build_docx(Report(
            issuer="LĐLĐ huyện Bảo Thắng", number="17/BC-LĐLĐ", place_date="Bảo Thắng, ngày 28 tháng 02 năm 2024",
            sections=[intro, practice,
                      ("III. ĐÁNH GIÁ KẾT QUẢ TỔ CHỨC HỌC TẬP, QUÁN TRIỆT VÀ TRIỂN KHAI CHUYÊN ĐỀ NĂM 2024",
                       body_study("1.250", "1.241", "99,3", "14")), plan])),
        "bat-xat": build_docx(Report(
            issuer="LĐLĐ huyện Bát Xát", number="09/BC-LĐLĐ", place_date="Bát Xát, ngày 01 tháng 3 năm 2024",
            bold_headings=True,
            sections=[("1. Công tác triển khai", ["Ban Thường vụ ban hành văn bản hướng dẫn các CĐCS."]),
                      ("2. Kết quả tổ chức học tập, quán triệt và triển khai thực hiện Chuyên đề năm 2024",
                       ["Kết quả học tập tại các công đoàn cơ sở như sau:", "<table>",
                        "Các CĐCS tổ chức 18 buổi học tập, quán triệt."]),
                      ("3. Phương hướng năm 2025", ["Duy trì sinh hoạt chuyên đề hằng quý."])],
            table=[["Đơn vị", "Tổng số đoàn viên", "Số tham gia học tập", "Tỷ lệ (%)"],
                   ["Khối cơ quan", "420", "415", "98,8"], ["Khối doanh nghiệp", "380", "361", "95,0"],
                   ["Tổng", "800", "776", "97,0"]])),
        "sa-pa": build_docx(Report(
            issuer="LĐLĐ thị xã Sa Pa", number="21/BC-LĐLĐ", place_date="Sa Pa, ngày 25 tháng 02 năm 2024",
            sections=[intro, practice, plan])),
        "giao-duc": build_docx(Report(
            issuer="Công đoàn ngành Giáo dục tỉnh Lào Cai", number="08/BC-CĐN",
            place_date="Lào Cai, ngày 27 tháng 02 năm 2024",
            sections=[intro, ("II. ĐÁNH GIÁ RIÊNG VỀ KẾT QUẢ HỌC TẬP CHUYÊN ĐỀ 2024",
                              body_study("6.812", "6.790", "99,7", "152"))])),
        "mam-non": build_docx(Report(
            issuer="Công đoàn cơ sở Trường Mầm non Hoa Hồng", number="03/BC-CĐCS",
            place_date="Lào Cai, ngày 27 tháng 02 năm 2024",
            sections=[("1. Kết quả học tập, quán triệt Chuyên đề năm 2024", body_study("32", "32", "100", "2"))])),
    }


def messages() -> dict[str, bytes]:
    docs = reports()
    return {
        "1708912323.M1P1.mx1:2,S": mail(
            sender="ldldbaothang@gmail.com", name="LĐLĐ huyện Bảo Thắng",
            subject="Báo cáo kết quả học tập Chuyên đề năm 2024", received="Mon, 26 Feb 2024 09:12:03 +0700",
            msgid="CABT0001", body="Kính gửi Ban Tuyên giáo - Nữ công,\nLĐLĐ huyện Bảo Thắng gửi báo cáo.",
            attachments=[("Công văn gửi báo cáo.docx", cover_letter("LĐLĐ huyện Bảo Thắng"), DOCX_TYPE),
                         ("BC chuyên đề 2024 - Bảo Thắng.docx", docs["bao-thang"], DOCX_TYPE)]),
        "1709087400.M2P1.mx1:2,S": mail(
            sender="LDLDBaoThang@gmail.com", name="LĐLĐ huyện Bảo Thắng",
            subject="Re: Báo cáo kết quả học tập Chuyên đề năm 2024 (bản bổ sung)",
            received="Wed, 28 Feb 2024 10:00:00 +0700", msgid="CABT0002",
            body="Đơn vị gửi lại bản báo cáo đã bổ sung số liệu.",
            attachments=[("BC chuyen de 2024 (bo sung).docx", docs["bao-thang-2"], DOCX_TYPE)]),
        "1709275500.M3P1.mx1:2,": mail(
            sender="ldldbatxat@gmail.com", name="Liên đoàn Lao động huyện Bát Xát",
            subject="V/v báo cáo chuyên đề năm 2024", received="Fri, 01 Mar 2024 14:25:00 +0700",
            msgid="CABX0001", body="Đơn vị xin gửi báo cáo (chậm do tổng hợp số liệu từ các CĐCS).",
            attachments=[("BaoCao_ChuyenDe_BatXat.docx", docs["bat-xat"], "application/octet-stream")]),
        "1708840000.M4P1.mx1:2,S": mail(
            sender="ldldsapa@gmail.com", name="LĐLĐ thị xã Sa Pa",
            subject="Báo cáo học tập và làm theo Bác năm 2024", received="Sun, 25 Feb 2024 12:46:40 +0700",
            msgid="CASP0001", body="Gửi Ban TG-NC báo cáo của LĐLĐ thị xã Sa Pa.",
            attachments=[("Bao cao Sa Pa.docx", docs["sa-pa"], DOCX_TYPE)]),
        "1708998000.M5P1.mx1": mail(
            sender="congdoangiaoduc.laocai@gmail.com", name="Công đoàn ngành Giáo dục",
            subject="Báo cáo chuyên đề 2024 - CĐN Giáo dục", received="Tue, 27 Feb 2024 08:40:00 +0700",
            msgid="CAGD0001", body="Kính gửi LĐLĐ tỉnh báo cáo (bản scan kèm bản Word).",
            attachments=[("BC CĐN Giáo dục.docx", docs["giao-duc"], DOCX_TYPE),
                         ("BC CĐN Giáo dục (bản ký).pdf", b"%PDF-1.4\n% sample signed scan\n%%EOF\n",
                          "application/pdf")]),
        "1709001000.M6P1.mx1": mail(
            sender="mamnonhoahong.lc@yahoo.com", name="Trường MN Hoa Hồng",
            subject="Báo cáo chuyên đề", received="Tue, 27 Feb 2024 09:30:00 +0700", msgid="CAMN0001",
            body="Công đoàn trường gửi báo cáo ạ.",
            attachments=[("bao cao.docx", docs["mam-non"], DOCX_TYPE)]),
        "1709002000.M7P1.mx1": mail(
            sender="ldldbacha@gmail.com", name="LĐLĐ huyện Bắc Hà",
            subject="Tự động trả lời: Hướng dẫn học tập Chuyên đề năm 2024",
            received="Tue, 27 Feb 2024 09:46:40 +0700", msgid="CABH0001",
            body="Tôi đang đi công tác đến hết ngày 05/3/2024.",
            headers={"Auto-Submitted": "auto-replied", "X-Autoreply": "yes"}),
        "1709003000.M8P1.mx1": mail(
            sender="cdnyte.laocai@gmail.com", name="Công đoàn ngành Y tế",
            subject="Báo cáo chuyên đề 2024", received="Tue, 27 Feb 2024 10:03:20 +0700", msgid="CAYT0001",
            body="Đơn vị gửi báo cáo bản PDF."
            , attachments=[("Bao cao Y te.pdf", b"%PDF-1.4\n% scanned report\n%%EOF\n", "application/pdf")]),
    }


def main() -> None:
    if MAILDIR.exists():
        shutil.rmtree(MAILDIR)
    for sub in ("cur", "new", "tmp"):
        (MAILDIR / sub).mkdir(parents=True)
    for name, raw in messages().items():
        folder = "cur" if ":2," in name else "new"
        (MAILDIR / folder / name).write_bytes(raw)
    (MAILDIR / "tmp" / ".keep").write_bytes(b"")
    print(f"wrote {len(messages())} messages to {MAILDIR.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
