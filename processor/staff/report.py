"""Status for people and programs: SPEC's JSON and the staff's terminal table."""
from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from intake.parsers.model import Problem
from intake.processor.times import deadline_time, local_time
from intake.store.kinds import UnitState
from intake.store.status import CampaignStatus, SubmissionView, UnitStatus

STATE_VI = {UnitState.MISSING: "Chưa gửi", UnitState.ON_TIME: "Đúng hạn", UnitState.LATE: "Quá hạn",
            UnitState.EXCUSED: "Miễn nộp"}
STATE_COLOUR = {UnitState.MISSING: "red", UnitState.ON_TIME: "green", UnitState.LATE: "yellow",
                UnitState.EXCUSED: "cyan"}
REVIEW = "review"  # parsers.model.Confidence.REVIEW: the finder asks staff to look
# The one owner of the problems' words for staff (CLI, dashboard, exports, digest); every Problem has one.
PROBLEM_VI: dict[str, str] = {
    Problem.NO_ATTACHMENT: "không có tệp đính kèm",
    Problem.UNSUPPORTED_ATTACHMENT: "tệp không phải Word",
    Problem.UNREADABLE_ATTACHMENT: "tệp Word lỗi",
    Problem.ENCRYPTED_ATTACHMENT: "tệp có mật khẩu",
    Problem.SECTION_NOT_FOUND: "thiếu mục đánh giá riêng",
    Problem.SENDER_NOT_REGISTERED: "địa chỉ chưa đăng ký",
    Problem.PROCESSING_FAILED: "lỗi khi xử lý thư (đã tính là đã nhận, cần xử lý lại)",
}


def iso(when: dt.datetime | None, tz: ZoneInfo) -> str | None:
    return None if when is None else when.astimezone(tz).isoformat(timespec="seconds")


def owes_something(unit: UnitStatus) -> bool:
    """`missing` lists units missing, late, or whose latest report has problems; never an excused unit."""
    if unit.status == UnitState.EXCUSED:
        return False
    if unit.status in (UnitState.MISSING, UnitState.LATE):
        return True
    return bool(unit.latest and unit.latest.problems)


def status_json(status: CampaignStatus, tz: ZoneInfo, *, only_owing: bool = False) -> dict[str, Any]:
    units = [u for u in status.units if owes_something(u)] if only_owing else list(status.units)
    return {
        "campaign": {"id": status.campaign_id, "title": status.title, "deadline": iso(status.deadline, tz)},
        "units": [_unit_json(u, tz) for u in units],
        "unmatched": [{"message_id": m.message_id, "from": m.from_address, "received_at": iso(m.received_at, tz),
                       "attachments": list(m.attachments), "subject": m.subject, "reason": m.note}
                      for m in status.unmatched],
    }


def _unit_json(unit: UnitStatus, tz: ZoneInfo) -> dict[str, Any]:
    return {
        "id": unit.id,
        "name": unit.name,
        "status": unit.status.value,
        "received_at": iso(unit.received_at, tz),
        "submissions": unit.submissions,
        "latest": _message_json(unit.latest, tz) if unit.latest else None,
    }


def _message_json(m: SubmissionView, tz: ZoneInfo) -> dict[str, Any]:
    section = None
    if m.section is not None:
        section = {"found": m.section.found, "heading": m.section.heading if m.section.found else None,
                   "text": m.section.text if m.section.found else None, "figures": m.section.figures,
                   "confidence": m.section.confidence,
                   "candidates": [{"heading": c.heading, "score": c.score} for c in m.section.candidates[:3]],
                   "chosen_by": m.section.chosen_by}
    return {
        "message_id": m.message_id,
        "from": m.from_address,
        "received_at": iso(m.received_at, tz),
        "attachment": m.report_attachment or (m.attachments[0] if m.attachments else None),
        "section": section,
        "problems": list(m.problems),
        "reference": m.reference,
    }


def problems_in_words(unit: UnitStatus) -> str:
    return "; ".join(PROBLEM_VI.get(p, p) for p in unit.latest.problems) if unit.latest else ""


def shorten(text: str, width: int) -> str:
    """Cut at a word boundary, with an ellipsis, for a table cell."""
    if len(text) <= width:
        return text
    return text[:width].rsplit(" ", 1)[0].rstrip(",;:") + " …"


def section_label(unit: UnitStatus) -> str:
    """The heading of the section found, or why there is none."""
    if unit.latest is None or not unit.latest.has_report:
        return ""
    section = unit.latest.section
    if section is None or not section.found:
        return "không tìm thấy"
    return section.heading or ""


def table_section_label(unit: UnitStatus) -> str:
    """`section_label`, flagged "cần xem lại" when the finder asks staff to look."""
    label = section_label(unit)
    return f"cần xem lại: {label}" if review_needed(unit) else label


def decision_clauses(unit: UnitStatus, tz: ZoneInfo, *, with_actor: bool = True) -> list[str]:
    """Staff decisions in words, one clause each, without closing punctuation."""
    parts = []
    if unit.decision.excused:
        parts.append(f"Lý do miễn nộp: {unit.decision.excuse_reason}" if unit.decision.excuse_reason
                     else "Được miễn nộp")
    if unit.decision.extended_until is not None:
        parts.append(f"Gia hạn đến {deadline_time(unit.decision.extended_until, tz)}")
    if parts and with_actor and unit.decision.decided_by:
        parts.append(f"Người quyết định: {unit.decision.decided_by}")
    return [p.rstrip(". ") for p in parts]


def decision_note(unit: UnitStatus, tz: ZoneInfo) -> str:
    """Staff decisions in words: the excuse's reason, the extension's date, and who decided."""
    return " ".join(f"{p}." for p in decision_clauses(unit, tz))


def message_note(unit: UnitStatus, tz: ZoneInfo) -> str:
    """Why a unit that wrote to us still has no report, e.g. it sent only a PDF."""
    latest = unit.latest
    if latest is not None and latest.failed:
        return failure_note(latest, tz)
    if latest is None or latest.has_report:
        return ""
    problems = "; ".join(PROBLEM_VI.get(p, p) for p in latest.problems) or "không có báo cáo Word"
    files = ", ".join(latest.attachments)
    what = f"{problems} ({files})" if files else problems
    return f"Thư nhận lúc {local_time(latest.received_at, tz)}: {what}"


def staff_note(unit: UnitStatus, tz: ZoneInfo) -> str:
    """The dashboard's note on a unit: staff decisions, and a latest message whose processing failed."""
    failed = failure_note(unit.latest, tz) if unit.latest is not None and unit.latest.failed else ""
    return " ".join(x for x in (decision_note(unit, tz), failed) if x)


def failure_note(message: SubmissionView, tz: ZoneInfo) -> str:
    """A message whose processing failed, for staff: when it came, why, and what to do."""
    reason = f" ({message.note})" if message.note else ""
    return (f"Thư {message.reference or ''} nhận lúc {local_time(message.received_at, tz)}: "
            f"{PROBLEM_VI[Problem.PROCESSING_FAILED]}{reason}; xử lý lại bằng nút \"Xử lý lại\" "
            f"hoặc lệnh \"intake retry {message.reference or ''}\"")


def review_needed(unit: UnitStatus) -> bool:
    """The finder was unsure of the section shown (confidence `review`)."""
    section = unit.latest.section if unit.latest else None
    return section is not None and section.found and section.confidence == REVIEW


def staff_console() -> Console:
    """A console wide enough for the table when output goes to a file or pipe."""
    console = Console()
    return console if console.is_terminal else Console(width=160)


def _table_columns(narrow: bool) -> list[tuple[str, dict[str, Any]]]:
    if narrow:  # an 80-column terminal: every fact kept, in four columns
        return [("STT", {"justify": "right"}), ("Đơn vị", {"ratio": 1}), ("Tình trạng", {"no_wrap": True}),
                ("Lần", {"justify": "right"})]
    return [("STT", {"justify": "right"}), ("Đơn vị", {"min_width": 20}), ("Tình trạng", {"no_wrap": True}),
            ("Thời điểm nhận", {"no_wrap": True}), ("Số lần gửi", {"justify": "right"}),
            ("Mục đánh giá riêng", {"min_width": 24}), ("Vấn đề", {}), ("Ghi chú", {})]


NARROW = 120  # below this many columns the table folds section, problems and notes under the unit's name


def print_status_table(status: CampaignStatus, tz: ZoneInfo, console: Console, *, only_owing: bool = False) -> None:
    units = [u for u in status.units if owes_something(u)] if only_owing else list(status.units)
    title = escape(f"{status.title} [{status.campaign_id}]") + f"\nHạn gửi: {deadline_time(status.deadline, tz)}"
    table = Table(title=title,
                  box=box.SIMPLE_HEAVY, title_justify="left")
    narrow = console.width < NARROW
    for title, options in _table_columns(narrow):
        table.add_column(title, **options)
    for i, unit in enumerate(units, start=1):
        colour = STATE_COLOUR[unit.status]
        state = f"[{colour}]{STATE_VI[unit.status]}[/{colour}]"
        section = escape(shorten(table_section_label(unit), 60))
        problems, note = problems_in_words(unit), escape(decision_note(unit, tz))
        if narrow:
            details = [f"Mục: {section}" if section else "", f"Vấn đề: {problems}" if problems else "",
                       f"Ghi chú: {note}" if note else ""]
            name = "\n".join([escape(unit.name), *(f"[dim]{d}[/dim]" for d in details if d)])
            table.add_row(str(i), name, "\n".join(x for x in (state, local_time(unit.received_at, tz)) if x),
                          str(unit.submissions))
        else:
            table.add_row(str(i), escape(unit.name), state, local_time(unit.received_at, tz), str(unit.submissions),
                          section, problems, note)
    console.print(table)
    counts = status.counts()
    console.print("  ".join(f"[{STATE_COLOUR[s]}]{STATE_VI[s]}: {counts[s]}[/{STATE_COLOUR[s]}]" for s in UnitState)
                  + f"  (tổng {len(status.units)})")
    if status.unmatched and not only_owing:
        console.print(f"Thư chưa xác định được đơn vị: {len(status.unmatched)}")
        for m in status.unmatched:
            console.print(f"  - {m.from_address} ({local_time(m.received_at, tz)}): "
                          f"{', '.join(m.attachments) or 'không có tệp'}", highlight=False)
