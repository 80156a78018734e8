"""Templates of the dashboard (templates/web/) and the filters they use.

What staff read is Vietnamese; times are shown in the configured zone as
dd/mm/yyyy HH:MM. Autoescaping is always on: every value shown comes from
a sender or a document.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from importlib.resources import files
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from intake.processor.staff.report import PROBLEM_VI, STATE_VI
from intake.processor.times import deadline_time, local_time
from intake.store.kinds import CATALOG_KINDS, UnitState

STATE_CLASS = {UnitState.MISSING: "missing", UnitState.ON_TIME: "on-time", UnitState.LATE: "late",
               UnitState.EXCUSED: "excused"}
DECISION_VI = {"excuse": "Miễn nộp", "extend": "Gia hạn", "link": "Gán địa chỉ", "section": "Chọn mục",
               "dismiss": "Bỏ qua thư", "revoke": "Huỷ quyết định", "unit_add": "Thêm đơn vị",
               "unit_edit": "Sửa đơn vị", "unit_remove": "Bỏ đơn vị", "campaign_add": "Tạo đợt báo cáo",
               "campaign_edit": "Sửa đợt báo cáo", "campaign_close": "Kết thúc đợt báo cáo",
               "learned": "Học từ lựa chọn", "corrected_ack": "Gửi lại xác nhận đã sửa", "resend": "Đề nghị gửi lại"}
CONFIDENCE_VI = {"sure": "chắc chắn", "review": "cần xem lại"}
FIGURE_VI = {"participants": "Số tham gia học tập", "members": "Tổng số đoàn viên", "rate_percent": "Tỷ lệ (%)",
             "sessions": "Số buổi/hội nghị"}
MATCH_VI = {"address": "địa chỉ đã đăng ký", "document_header": "tên trong văn bản",
            "display_name": "tên người gửi", "none": "chưa xác định"}
MESSAGE_STATE_VI = {"stored": "đang chờ xử lý", "processed": "đã xử lý", "ignored": "bỏ qua (thư tự động)",
                    "failed": "lỗi xử lý"}
OUTGOING_VI = {"pending": "đang chờ gửi", "sending": "đang gửi", "sent": "đã gửi", "failed": "gửi lỗi",
               "skipped": "không gửi"}


@dataclass(frozen=True)
class TextBlock:
    """A piece of an extracted section: a paragraph (rows empty) or a table."""

    text: str = ""
    rows: tuple[tuple[str, ...], ...] = ()


def section_blocks(text: str) -> list[TextBlock]:
    """The section's text as paragraphs and tables: table rows are lines with tab-separated cells."""
    out: list[TextBlock] = []
    pending: list[tuple[str, ...]] = []

    def flush() -> None:
        if len(pending) == 1:
            out.append(TextBlock(text="  ".join(c for c in pending[0] if c)))
        elif pending:
            width = max(len(r) for r in pending)
            out.append(TextBlock(rows=tuple(tuple(r) + ("",) * (width - len(r)) for r in pending)))
        pending.clear()

    for line in text.splitlines():
        if "\t" in line:
            pending.append(tuple(c.strip() for c in line.split("\t")))
            continue
        flush()
        if line.strip():
            out.append(TextBlock(text=line.strip()))
    flush()
    return out


def file_size(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size / 1024 / 1024:.1f} MB".replace(".", ",")


def figure(value: Any) -> str:
    """Vietnamese number style: 1.250 and 99,3."""
    if isinstance(value, bool) or value is None:
        return ""
    if isinstance(value, int):
        return f"{value:,}".replace(",", ".")
    if isinstance(value, float):
        return f"{value:,.1f}".replace(",", " ").replace(".", ",").replace(" ", ".")
    return str(value)


def environment(tz: ZoneInfo, group_label: Callable[[str], str] = str) -> Environment:
    """`group_label`: how a unit's group code reads (Config.group_label: [groups], else "Huyện", "Ngành"...)."""
    env = Environment(loader=FileSystemLoader(str(files("intake.templates") / "web")), autoescape=True,
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["local"] = lambda when: local_time(when, tz)
    env.filters["deadline"] = lambda when: deadline_time(when, tz)
    env.filters["group_label"] = group_label
    env.filters["state_vi"] = lambda state: STATE_VI.get(UnitState(state), str(state))
    env.filters["state_class"] = lambda state: STATE_CLASS.get(UnitState(state), "")
    env.filters["problem_vi"] = lambda code: PROBLEM_VI.get(code, code)
    env.filters["decision_vi"] = lambda kind: DECISION_VI.get(str(kind), str(kind))
    env.globals["catalog_kinds"] = CATALOG_KINDS  # changes of the roster or campaigns: not revoked
    env.filters["confidence_vi"] = lambda c: CONFIDENCE_VI.get(str(c), str(c))
    env.filters["figure_vi"] = lambda key: FIGURE_VI.get(key, key)
    env.filters["match_vi"] = lambda m: MATCH_VI.get(str(m), str(m))
    env.filters["message_state_vi"] = lambda m: MESSAGE_STATE_VI.get(str(m), str(m))
    env.filters["outgoing_vi"] = lambda m: OUTGOING_VI.get(str(m), str(m))
    env.filters["number"] = figure
    env.filters["size"] = file_size
    env.filters["blocks"] = section_blocks
    return env
