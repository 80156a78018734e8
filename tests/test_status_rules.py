"""SPEC's status rules, as a pure function."""
from __future__ import annotations

import dataclasses
import datetime as dt
from zoneinfo import ZoneInfo

from rich.console import Console

from intake.processor.staff.report import print_status_table, status_json
from intake.store.status import (
    CampaignStatus,
    SubmissionView,
    UnitDecisions,
    UnitState,
    UnitStatus,
    compute_unit_status,
)
from intake.store.views import SectionView

TZ = dt.timezone(dt.timedelta(hours=7))
DEADLINE = dt.datetime(2024, 2, 29, tzinfo=TZ)


def msg(pk: int, day: int, *, report: bool = True, hour: int = 9) -> SubmissionView:
    section = SectionView(True, "III. ĐÁNH GIÁ", "text", {}, 90.0, "") if report else None
    return SubmissionView(pk=pk, message_id=f"<{pk}@x>", from_address="a@x.vn", from_name="", subject="",
                          received_at=dt.datetime(2024, 2, day, hour, tzinfo=TZ), attachments=("a.docx",),
                          report_attachment="a.docx" if report else None, has_report=report, problems=(),
                          section=section, reference=None, match="address")


def test_missing_without_any_message() -> None:
    assert compute_unit_status([], DEADLINE, UnitDecisions()) == (UnitState.MISSING, None, None)


def test_missing_until_a_readable_report_latest_is_latest_message() -> None:
    m = msg(1, 20, report=False)
    state, first, latest = compute_unit_status([m], DEADLINE, UnitDecisions())
    assert (state, first, latest) == (UnitState.MISSING, None, m)


def test_on_time_by_earliest_report_latest_shows_resubmission() -> None:
    early, resend = msg(1, 27), msg(2, 29)  # the resubmission comes after the deadline
    state, first, latest = compute_unit_status([resend, early], DEADLINE, UnitDecisions())
    assert state == UnitState.ON_TIME and first == early.received_at and latest == resend


def test_latest_is_latest_readable_report_not_a_later_broken_message() -> None:
    good, broken = msg(1, 27), msg(2, 28, report=False)
    assert compute_unit_status([good, broken], DEADLINE, UnitDecisions())[2] == good


def test_late_exactly_at_deadline_and_extension() -> None:
    at_deadline = msg(1, 29, hour=0)
    assert compute_unit_status([at_deadline], DEADLINE, UnitDecisions())[0] == UnitState.LATE
    extended = UnitDecisions(extended_until=DEADLINE + dt.timedelta(days=3))
    assert compute_unit_status([at_deadline], DEADLINE, extended)[0] == UnitState.ON_TIME


def test_excused_wins() -> None:
    assert compute_unit_status([], DEADLINE, UnitDecisions(excused=True))[0] == UnitState.EXCUSED


def test_the_status_table_flags_a_section_to_review() -> None:
    doubtful = dataclasses.replace(msg(1, 20), section=SectionView(True, "III. ĐÁNH GIÁ", "text", {}, 55.0, "",
                                                                    confidence="review"))
    unit = UnitStatus(id="u1", name="LĐLĐ huyện Bắc Hà", group="", status=UnitState.ON_TIME, deadline=DEADLINE,
                      received_at=doubtful.received_at, submissions=1, latest=doubtful)
    status = CampaignStatus(campaign_id="c", title="Chuyên đề", deadline=DEADLINE, units=(unit,), unmatched=())
    console = Console(record=True, width=200)
    print_status_table(status, ZoneInfo("Asia/Ho_Chi_Minh"), console)
    assert "cần xem lại: III. ĐÁNH GIÁ" in console.export_text()
    section = status_json(status, ZoneInfo("Asia/Ho_Chi_Minh"))["units"][0]["latest"]["section"]
    assert (section["confidence"], section["chosen_by"], section["candidates"]) == ("review", "finder", [])
