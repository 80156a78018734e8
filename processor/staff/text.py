"""The use cases' results in words, for the terminal (Vietnamese, times in the configured zone)."""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from intake.processor.staff.report import PROBLEM_VI
from intake.processor.times import deadline_time, local_time
from intake.store.kinds import CATALOG_KINDS
from intake.store.views import DecisionView, MessageView

# How a unit was recognised, as "nhận ra qua …" completes it (the dashboard and `intake show`).
MATCH_VI = {"address": "địa chỉ đã đăng ký", "document_header": "tên đơn vị trong văn bản",
            "display_name": "tên người gửi", "none": "chưa xác định"}
CONFIDENCE_VI = {"sure": "chắc chắn", "review": "cần xem lại"}
CHOSEN_VI = {"finder": "tự động", "staff": "cán bộ chọn"}
# A decision's kind (staff's `decisions` list and the dashboard's, which capitalises it).
KIND_VI = {"excuse": "miễn nộp", "extend": "gia hạn", "link": "gán địa chỉ", "section": "chọn mục",
           "dismiss": "bỏ qua thư", "unit_add": "thêm đơn vị", "unit_edit": "sửa đơn vị",
           "unit_remove": "bỏ đơn vị khỏi danh sách", "campaign_add": "tạo đợt báo cáo",
           "campaign_edit": "sửa đợt báo cáo", "campaign_close": "kết thúc đợt báo cáo",
           "learned": "học từ lựa chọn của cán bộ", "corrected_ack": "gửi lại xác nhận đã sửa",
           "resend": "đề nghị gửi lại", "revoke": "huỷ quyết định"}
MESSAGE_STATE_VI = {"stored": "đang chờ xử lý", "processed": "đã xử lý", "ignored": "bỏ qua (thư tự động)",
                    "failed": "lỗi xử lý"}
OUTGOING_VI = {"pending": "đang chờ gửi", "sending": "đang gửi", "sent": "đã gửi", "failed": "gửi lỗi",
               "skipped": "không gửi"}
TEXT_PREVIEW = 600


def message_lines(view: MessageView, tz: ZoneInfo) -> list[str]:
    """`intake show`: what was received, the unit, the section and its candidates, problems, the reply."""
    lines = [f"Thư {view.reference or '(chưa có số)'}  {view.message_id}",
             f"Người gửi: {view.from_name} <{view.from_address}>" if view.from_name
             else f"Người gửi: {view.from_address}",
             f"Tiêu đề: {view.subject}",
             f"Thời điểm nhận: {local_time(view.received_at, tz)}",
             f"Tình trạng xử lý: {MESSAGE_STATE_VI.get(view.state, view.state)}"
             + (f" ({view.ignore_reason})" if view.ignore_reason else "")
             + (" — đã bỏ qua theo quyết định của cán bộ" if view.dismissed else "")]
    unit = f"{view.unit_name} ({view.unit_id})" if view.unit_id else "chưa xác định"
    lines.append(f"Đơn vị: {unit}, nhận ra qua {MATCH_VI.get(view.match, view.match)}" if view.unit_id
                 else f"Đơn vị: {unit}")
    lines.append(f"Đợt báo cáo: {view.campaign_id or '-'}")
    lines.append("Tệp đính kèm:" if view.attachments else "Tệp đính kèm: không có")
    for att in view.attachments:
        notes = [att.kind, f"{max(1, att.size // 1024)} KB"]
        if att.is_report:
            notes.append("báo cáo được dùng")
        if att.problem:
            notes.append(PROBLEM_VI.get(att.problem, att.problem))
        lines.append(f"  {att.position + 1}. {att.filename or '(không tên)'} ({', '.join(notes)})")
    sec = view.section
    if sec is not None:
        found = "tìm thấy" if sec.found else "không tìm thấy"
        lines.append(f"Mục đánh giá riêng: {found} ({CHOSEN_VI.get(sec.chosen_by, sec.chosen_by)}, "
                     f"{CONFIDENCE_VI.get(sec.confidence, sec.confidence)})")
        if sec.found:
            lines.append(f"  Tiêu đề mục: {sec.heading}")
        if sec.candidates:
            lines.append("  Các tiêu đề đã xét (chọn bằng `section choose REF --candidate N`):")
            lines.extend(f"    {i}. {c.heading} ({c.score:g} điểm)" for i, c in enumerate(sec.candidates, start=1))
        if sec.found and sec.text:
            text = sec.text if len(sec.text) <= TEXT_PREVIEW else sec.text[:TEXT_PREVIEW].rstrip() + " …"
            lines.append("  Nội dung:")
            lines.extend(f"    {line}" for line in text.splitlines())
    problems = "; ".join(PROBLEM_VI.get(p, p) for p in view.problems)
    lines.append(f"Vấn đề: {problems or 'không có'}")
    if view.state == "failed":
        lines.append(f"Lỗi khi xử lý: {view.error or 'không rõ'} "
                     f"(xử lý lại bằng `intake retry {view.reference or view.message_id}`)")
    ack = view.acknowledgement
    if ack is None:
        lines.append("Thư báo nhận: không có")
    else:
        when = f" lúc {local_time(ack.sent_at, tz)}" if ack.sent_at else ""
        why = f" ({ack.last_error})" if ack.last_error and ack.state != "sent" else ""
        lines.append(f"Thư báo nhận: tới {ack.to}, {OUTGOING_VI.get(ack.state, ack.state)}{when}{why}")
        lines.append(f"  Tiêu đề: {ack.subject}")
    return lines


def _by(who: str | None, when: dt.datetime, tz: ZoneInfo) -> str:
    """'bởi hoa lúc 12:00 28/02/2024'; a decision recorded before who was known has only the time."""
    return f"bởi {who} lúc {local_time(when, tz)}" if who else f"lúc {local_time(when, tz)}"


def decision_line(d: DecisionView, tz: ZoneInfo) -> str:
    """One decision on one line: id, kind, what about, who and when, revoked or not."""
    what = KIND_VI.get(d.kind, d.kind)
    about = f"{d.unit_name} ({d.unit_id})" if d.unit_id else ""
    if d.kind == "extend" and d.until is not None:
        what += f" đến {deadline_time(d.until, tz)}"
    elif d.kind == "link" and d.address:
        what += f" {d.address}"
    elif d.kind in ("section", "learned"):
        what += f" cho thư {d.reference}: " + (d.heading if d.heading else "không có mục")
    elif d.kind in ("dismiss", "corrected_ack"):
        what += f" {d.reference}"
    parts = [f"#{d.id}", what]
    if about:
        parts.append(about)
    if d.campaign_id:
        parts.append(f"đợt {d.campaign_id}")
    if d.reason:
        parts.append(f"{'nội dung' if d.kind in CATALOG_KINDS else 'lý do'}: {d.reason}")
    parts.append(_by(d.decided_by, d.decided_at, tz))
    if d.revoked_at is not None:
        parts.append("đã huỷ " + _by(d.revoked_by, d.revoked_at, tz))
    return " — ".join(parts)
