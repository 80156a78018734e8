"""The rows every export is built from (`status_rows`), in roster order, and what the formats share:
the columns, the totals, the notes, the context (zone, time of the data, office). `export` (CSV, HTML,
the registry), `export_xlsx` and `export_docx` build on it; it imports none of them."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from intake.processor.config import ReportConfig
from intake.processor.staff.formatting import (
    FIGURE_KEYS,
    FIGURE_TITLES,
    one_line,
)
from intake.processor.staff.report import (
    STATE_VI,
    decision_clauses,
    message_note,
    problems_in_words,
    review_needed,
    section_label,
)
from intake.store.kinds import UnitState
from intake.store.status import CampaignStatus, UnitStatus

FONT = "Times New Roman"
REVIEW_MARK = "cần kiểm tra"


@dataclass(frozen=True)
class ExportContext:
    """What an export needs besides the status: the zone, the time of the data, the office."""

    tz: ZoneInfo
    generated_at: dt.datetime
    report: ReportConfig = field(default_factory=ReportConfig)
    csv_dialect: str = "vn"


@dataclass(frozen=True)
class Column:
    title: str
    width: float          # Excel width, in characters
    kind: str = "text"    # text | int | number | time


COLUMNS = (
    Column("STT", 5, "int"), Column("Đơn vị", 30), Column("Tình trạng", 11), Column("Hạn gửi", 16, "time"),
    Column("Thời điểm nhận", 16, "time"), Column("Số lần gửi", 7, "int"), Column("Tệp báo cáo", 26),
    Column("Mục đánh giá riêng", 40),
    *(Column(FIGURE_TITLES[k], 11, "number" if k == "rate_percent" else "int") for k in FIGURE_KEYS),
    Column("Vấn đề", 22), Column("Ghi chú", 30), Column("Địa chỉ gửi", 26), Column("Mã đơn vị", 16),
)
TITLES = tuple(c.title for c in COLUMNS)
KIND = {c.title: c.kind for c in COLUMNS}


@dataclass(frozen=True)
class Row:
    """One unit's line: typed values (times aware, numbers as numbers) keyed by column title."""

    unit: UnitStatus
    values: dict[str, Any]
    review: bool


def unit_figures(unit: UnitStatus) -> dict[str, Any]:
    latest = unit.latest
    if latest is None or latest.section is None or not latest.section.found:
        return {}
    return {k: v for k, v in latest.section.figures.items() if k in FIGURE_KEYS and isinstance(v, int | float)}


def unit_note(unit: UnitStatus, tz: ZoneInfo, *, with_actor: bool = True) -> str:
    """Decisions and, for a unit without a report, what it did send."""
    clauses = [*decision_clauses(unit, tz, with_actor=with_actor), message_note(unit, tz)]
    return "; ".join(c for c in clauses if c)


def status_rows(status: CampaignStatus, tz: ZoneInfo) -> list[Row]:
    rows = []
    for i, unit in enumerate(status.units, start=1):
        latest = unit.latest
        figures = unit_figures(unit)
        review = review_needed(unit)
        label = one_line(section_label(unit))
        values: dict[str, Any] = {
            "STT": i, "Đơn vị": one_line(unit.name), "Tình trạng": STATE_VI[unit.status],
            "Hạn gửi": unit.deadline.astimezone(tz),
            "Thời điểm nhận": unit.received_at.astimezone(tz) if unit.received_at else None,
            "Số lần gửi": unit.submissions,
            "Tệp báo cáo": one_line(latest.report_attachment) if latest else "",
            "Mục đánh giá riêng": f"{label} ({REVIEW_MARK})" if review else label,
            **{FIGURE_TITLES[k]: figures.get(k) for k in FIGURE_KEYS},
            "Vấn đề": problems_in_words(unit), "Ghi chú": one_line(unit_note(unit, tz)),
            "Địa chỉ gửi": one_line(latest.from_address) if latest else "", "Mã đơn vị": unit.id,
        }
        rows.append(Row(unit, values, review))
    return rows


@dataclass(frozen=True)
class Totals:
    """The totals row: submissions, figures summed, the overall rate from the sums."""

    submissions: int
    figures: dict[str, int | float | None]


def totals(rows: list[Row]) -> Totals:
    sums: dict[str, int | float | None] = {}
    for key in ("participants", "members", "sessions"):
        present = [r.values[FIGURE_TITLES[key]] for r in rows if r.values[FIGURE_TITLES[key]] is not None]
        sums[key] = sum(present) if present else None
    # The rate over units that gave both figures, never an average of rates.
    both = [r for r in rows if r.values[FIGURE_TITLES["participants"]] is not None
            and r.values[FIGURE_TITLES["members"]]]
    members = sum(r.values[FIGURE_TITLES["members"]] for r in both)
    participants = sum(r.values[FIGURE_TITLES["participants"]] for r in both)
    sums["rate_percent"] = round(100 * participants / members, 1) if members else None
    return Totals(sum(r.values["Số lần gửi"] for r in rows), sums)


def notes(row: Row) -> str:
    """Problems and notes in one cell; a unit without a report has its problems in the note already."""
    has_report = row.unit.latest is not None and row.unit.latest.has_report
    parts = (row.values["Vấn đề"], row.values["Ghi chú"]) if has_report else (row.values["Ghi chú"],)
    return "; ".join(p for p in parts if p)


def counts_line(status: CampaignStatus) -> str:
    counts = status.counts()
    return "; ".join(f"{STATE_VI[s]}: {counts[s]}" for s in UnitState) + f"; tổng số đơn vị: {len(status.units)}"


# ------------------------------------------------------------------- CSV
