"""The reads behind a campaign's status (`Store.campaign_status`): SPEC's status rules (store/status.py,
which loads no database code: the decision step asks it too) over what the store holds, inside the caller's
read transaction.
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from intake.store.models import (
    AttachmentRow,
    Decision,
    DecisionKind,
    Message,
    MessageState,
    SectionRow,
    Unit,
)
from intake.store.status import (
    COUNTED_STATES,
    CampaignStatus,
    SubmissionView,
    UnitDecisions,
    UnitStatus,
    candidate_of,
    compute_unit_status,
)
from intake.store.views import SectionView


@dataclass(frozen=True)
class _Sent:
    """A counted message as `campaign_status` first reads it: what the rule needs, and its unit. The whole
    view (attachments, section) is read only for the messages the status shows."""

    pk: int
    unit_id: str | None
    received_at: dt.datetime
    has_report: bool
    failed: bool

    @property
    def counts(self) -> bool:
        return self.has_report or self.failed


def campaign_status(s: Session, campaign_id: str, title: str, deadline: dt.datetime,
                    expected: Sequence[str]) -> CampaignStatus:
    """The campaign's status, read inside the caller's transaction `s`: the rule over a few columns of
    every counted message, then the whole view of only the messages shown (each unit's latest, the
    unmatched), so a page's cost grows with the roster, not with the messages received."""
    units = {u.id: u for u in s.scalars(select(Unit).where(Unit.id.in_(expected))).all()}
    # A failed message whose header says auto-reply, bulk or our own is ignored with that reason.
    sent = [_Sent(pk=r.id, unit_id=r.unit_id, received_at=r.received_at, has_report=r.has_report,
                  failed=r.state == MessageState.FAILED)
            for r in s.execute(select(Message.id, Message.unit_id, Message.received_at, Message.has_report,
                                      Message.state).where(
                Message.campaign_id == campaign_id, Message.state.in_(COUNTED_STATES),
                Message.ignore_reason.is_(None)))]
    decisions = s.scalars(select(Decision).where(
        Decision.campaign_id == campaign_id, Decision.revoked_at.is_(None),
        Decision.kind.in_((DecisionKind.EXCUSE, DecisionKind.EXTEND)))
        .order_by(Decision.decided_at, Decision.id)).all()
    dismissed = set(s.scalars(select(Decision.message_pk).where(
        Decision.kind == DecisionKind.DISMISS, Decision.revoked_at.is_(None),
        Decision.message_pk.is_not(None))).all())
    per_decision = _decisions(decisions)

    by_unit: dict[str, list[_Sent]] = defaultdict(list)
    unmatched: list[_Sent] = []
    for message in sent:
        if message.unit_id is None:
            if message.pk not in dismissed:
                unmatched.append(message)
        else:
            by_unit[message.unit_id].append(message)
    ruled = []
    for unit_id in expected:
        unit = units.get(unit_id)
        if unit is None:
            continue
        decision = per_decision.get(unit_id, UnitDecisions())
        ruled.append((unit, decision, *compute_unit_status(by_unit[unit_id], deadline, decision)))
    unmatched.sort(key=lambda m: (m.received_at, m.pk))
    views = submission_views(s, [latest.pk for *_, latest in ruled if latest is not None]
                             + [m.pk for m in unmatched])
    rows = tuple(UnitStatus(id=unit.id, name=unit.name, group=unit.group, status=state,
                            deadline=decision.extended_until or deadline, received_at=first,
                            submissions=len(by_unit[unit.id]), latest=views[latest.pk] if latest else None,
                            decision=decision)
                 for unit, decision, state, first, latest in ruled)
    return CampaignStatus(campaign_id=campaign_id, title=title, deadline=deadline, units=rows,
                          unmatched=tuple(views[m.pk] for m in unmatched))


def submission_views(s: Session, pks: Sequence[int]) -> dict[int, SubmissionView]:
    """The messages `pks` as the status shows them, by pk."""
    if not pks:
        return {}
    msgs = s.scalars(select(Message).where(Message.id.in_(pks))).all()
    atts: dict[int, list[AttachmentRow]] = defaultdict(list)
    for att in s.scalars(select(AttachmentRow).where(AttachmentRow.message_pk.in_(pks))
                         .order_by(AttachmentRow.position)).all():
        atts[att.message_pk].append(att)
    secs = {sec.message_pk: sec for sec in s.scalars(select(SectionRow).where(SectionRow.message_pk.in_(pks))).all()}
    return {m.id: _view(m, atts[m.id], secs.get(m.id)) for m in msgs}


def _decisions(rows: Sequence[Decision]) -> dict[str, UnitDecisions]:
    out: dict[str, UnitDecisions] = {}
    for row in rows:  # in decision order: the latest of each kind wins
        if row.unit_id is None:
            continue
        cur = out.get(row.unit_id, UnitDecisions())
        if row.kind == DecisionKind.EXCUSE:
            cur = UnitDecisions(excused=True, excuse_reason=row.reason, extended_until=cur.extended_until,
                               decided_by=row.decided_by)
        else:
            cur = UnitDecisions(excused=cur.excused, excuse_reason=cur.excuse_reason, extended_until=row.until,
                               decided_by=row.decided_by)
        out[row.unit_id] = cur
    return out


def _view(m: Message, atts: Sequence[AttachmentRow], sec: SectionRow | None) -> SubmissionView:
    report = next((a.filename for a in atts if a.is_report), None)
    section = section_view(sec) if sec is not None else None
    return SubmissionView(pk=m.id, message_id=m.message_id, from_address=m.from_address, from_name=m.from_name,
                       subject=m.subject, received_at=m.received_at, attachments=tuple(a.filename for a in atts),
                       report_attachment=report, has_report=m.has_report, problems=tuple(m.problems or ()),
                       section=section, reference=m.reference, match=str(m.match),
                          note=m.error or "", failed=m.state == MessageState.FAILED)


def section_view(sec: SectionRow) -> SectionView:
    return SectionView(found=sec.found, heading=sec.heading, text=sec.text, figures=dict(sec.figures or {}),
                       score=sec.score, reason=sec.reason, confidence=sec.confidence or "sure",
                       candidates=tuple(candidate_of(c) for c in sec.candidates or ()),
                       chosen_by=sec.chosen_by or "finder")
