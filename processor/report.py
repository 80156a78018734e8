"""Status for people and programs: SPEC's JSON and the staff's terminal table."""
from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from rich import box
from rich.console import Console
from rich.table import Table

from intake.store.status import CampaignStatus, MessageView, UnitState, UnitStatus

STATE_VI = {UnitState.MISSING: "Chưa gửi", UnitState.ON_TIME: "Đúng hạn", UnitState.LATE: "Quá hạn",
            UnitState.EXCUSED: "Miễn nộp"}
STATE_COLOUR = {UnitState.MISSING: "red", UnitState.ON_TIME: "green", UnitState.LATE: "yellow",
                UnitState.EXCUSED: "cyan"}
PROBLEM_VI = {
    "no_attachment": "không có tệp đính kèm",
    "unsupported_attachment": "tệp không phải Word",
    "unreadable_attachment": "tệp Word lỗi",
    "encrypted_attachment": "tệp có mật khẩu",
    "section_not_found": "thiếu mục đánh giá riêng",
    "sender_not_registered": "địa chỉ chưa đăng ký",
}


def iso(when: dt.datetime | None, tz: ZoneInfo) -> str | None:
    return None if when is None else when.astimezone(tz).isoformat(timespec="seconds")


def owes_something(unit: UnitStatus) -> bool:
    """`missing` lists units missing, late, or whose latest report has problems."""
    if unit.status in (UnitState.MISSING, UnitState.LATE):
        return True
    return bool(unit.latest and unit.latest.problems)


def status_json(status: CampaignStatus, tz: ZoneInfo, *, only_owing: bool = False) -> dict[str, Any]:
    units = [u for u in status.units if owes_something(u)] if only_owing else list(status.units)
    return {
        "campaign": {"id": status.campaign_id, "title": status.title, "deadline": iso(status.deadline, tz)},
        "units": [_unit_json(u, tz) for u in units],
        "unmatched": [{"message_id": m.message_id, "from": m.from_address, "received_at": iso(m.received_at, tz),
                       "attachments": list(m.attachments), "subject": m.subject} for m in status.unmatched],
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


def _message_json(m: MessageView, tz: ZoneInfo) -> dict[str, Any]:
    section = None
    if m.section is not None:
        section = {"found": m.section.found, "heading": m.section.heading if m.section.found else None,
                   "text": m.section.text if m.section.found else None, "figures": m.section.figures}
    return {
        "message_id": m.message_id,
        "from": m.from_address,
        "received_at": iso(m.received_at, tz),
        "attachment": m.report_attachment or (m.attachments[0] if m.attachments else None),
        "section": section,
        "problems": list(m.problems),
        "reference": m.reference,
    }


def staff_console() -> Console:
    """A console wide enough for the table when output goes to a file or pipe."""
    console = Console()
    return console if console.is_terminal else Console(width=160)


def print_status_table(status: CampaignStatus, tz: ZoneInfo, console: Console, *, only_owing: bool = False) -> None:
    units = [u for u in status.units if owes_something(u)] if only_owing else list(status.units)
    deadline = status.deadline.astimezone(tz)
    table = Table(title=f"{status.title}\nHạn gửi: {deadline:%H:%M %d/%m/%Y}", box=box.SIMPLE_HEAVY,
                  title_justify="left")
    table.add_column("STT", justify="right")
    table.add_column("Đơn vị", min_width=20)
    table.add_column("Tình trạng", no_wrap=True)
    table.add_column("Thời điểm nhận", no_wrap=True)
    table.add_column("Số lần gửi", justify="right")
    table.add_column("Mục đánh giá riêng", min_width=24)
    table.add_column("Vấn đề")
    for i, unit in enumerate(units, start=1):
        received = unit.received_at.astimezone(tz).strftime("%H:%M %d/%m/%Y") if unit.received_at else ""
        section = ""
        if unit.latest and unit.latest.section:
            section = (unit.latest.section.heading or "")[:60] if unit.latest.section.found else "không tìm thấy"
        problems = ", ".join(PROBLEM_VI.get(p, p) for p in unit.latest.problems) if unit.latest else ""
        colour = STATE_COLOUR[unit.status]
        table.add_row(str(i), unit.name, f"[{colour}]{STATE_VI[unit.status]}[/{colour}]", received,
                      str(unit.submissions), section, problems)
    console.print(table)
    counts = status.counts()
    console.print("  ".join(f"{STATE_VI[s]}: {counts[s]}" for s in UnitState) + f"  (tổng {len(status.units)})")
    if status.unmatched and not only_owing:
        console.print(f"Thư chưa xác định được đơn vị: {len(status.unmatched)}")
        for m in status.unmatched:
            when = m.received_at.astimezone(tz).strftime("%H:%M %d/%m/%Y")
            console.print(f"  - {m.from_address} ({when}): {', '.join(m.attachments) or 'không có tệp'}")
