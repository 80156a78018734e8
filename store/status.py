"""Who has sent what for one campaign: SPEC's status rules and what they show.

`compute_unit_status` and `timeliness` are the rules themselves (pure, no
database code loaded: the acknowledgement's "on time" asks `timeliness` too);
store/status_reads.py gathers their inputs from the store (`Store.campaign_status`).
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from intake.parsers.model import Candidate
from intake.store.kinds import MessageState, UnitState, timeliness
from intake.store.views import SectionView

COUNTED_STATES = (MessageState.PROCESSED, MessageState.FAILED)


@dataclass(frozen=True)
class SubmissionView:
    """A message as the status table counts it."""

    pk: int
    message_id: str
    from_address: str
    from_name: str
    subject: str
    received_at: dt.datetime
    attachments: tuple[str, ...]
    report_attachment: str | None
    has_report: bool
    problems: tuple[str, ...]
    section: SectionView | None
    reference: str | None
    match: str
    note: str = ""  # e.g. why the sender cannot be answered, or why processing failed
    failed: bool = False  # processing failed: counted as received all the same (SPEC "Every report counts")

    @property
    def counts(self) -> bool:
        """Whether it makes its unit's submission: a readable report, or a message whose processing
        failed (it may well hold one; staff see `processing_failed` and `retry` it)."""
        return self.has_report or self.failed


@dataclass(frozen=True)
class UnitDecisions:
    """The active staff decisions about one unit in one campaign, merged."""

    excused: bool = False
    excuse_reason: str = ""
    extended_until: dt.datetime | None = None
    decided_by: str = ""


@dataclass(frozen=True)
class UnitStatus:
    id: str
    name: str
    group: str
    status: UnitState
    deadline: dt.datetime
    received_at: dt.datetime | None
    submissions: int
    latest: SubmissionView | None
    decision: UnitDecisions = field(default_factory=UnitDecisions)


@dataclass(frozen=True)
class CampaignStatus:
    campaign_id: str
    title: str
    deadline: dt.datetime
    units: tuple[UnitStatus, ...]
    unmatched: tuple[SubmissionView, ...]

    def counts(self) -> dict[UnitState, int]:
        out = {state: 0 for state in UnitState}
        for unit in self.units:
            out[unit.status] += 1
        return out


class Counted(Protocol):
    """What the status rule reads of a message."""

    @property
    def pk(self) -> int: ...
    @property
    def received_at(self) -> dt.datetime: ...
    @property
    def counts(self) -> bool: ...


CountedT = TypeVar("CountedT", bound=Counted)


def compute_unit_status(messages: Sequence[CountedT], deadline: dt.datetime,
                        decision: UnitDecisions) -> tuple[UnitState, dt.datetime | None, CountedT | None]:
    """SPEC: excused if excused; missing until a readable report (or a message whose processing
    failed); then on time or late by the earliest such message; `latest` is the latest such
    message, else the latest message."""
    ordered = sorted(messages, key=lambda m: (m.received_at, m.pk))
    reports = [m for m in ordered if m.counts]
    latest = reports[-1] if reports else (ordered[-1] if ordered else None)
    if decision.excused:
        return UnitState.EXCUSED, (reports[0].received_at if reports else None), latest
    if not reports:
        return UnitState.MISSING, None, latest
    first = reports[0].received_at
    return timeliness(first, decision.extended_until or deadline), first, latest


def message_status(state: str, unit_id: str | None, has_report: bool, received_at: dt.datetime,
                   deadline: dt.datetime | None) -> str:
    """One processed message's status, for its log line: ignored or failed, unmatched, no_report, else
    its timeliness against the campaign's deadline (an extension may still turn "late" into on time)."""
    if state in (MessageState.IGNORED, MessageState.FAILED):
        return state
    if unit_id is None:
        return "unmatched"
    if not has_report:
        return "no_report"
    return UnitState.ON_TIME.value if deadline is None else timeliness(received_at, deadline).value


def candidate_of(data: dict[str, Any]) -> Candidate:
    return Candidate(heading=str(data.get("heading", "")), score=float(data.get("score", 0.0)),
                     why=str(data.get("why", "")), block=int(data.get("block", -1)))


def candidate_json(candidate: Candidate) -> dict[str, Any]:
    return {"heading": candidate.heading, "score": candidate.score, "why": candidate.why, "block": candidate.block}
