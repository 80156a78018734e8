"""Staff's decisions (table `decisions`): extensions, excuses, links, dismissals, section
choices and what the finder learned from them; a decision is revoked, never deleted."""
from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from intake.store.db import Database
from intake.store.models import Decision, DecisionKind, Message, Unit, utcnow
from intake.store.views import DecisionView, Lesson

_DECISIONS: Table = Decision.__table__  # type: ignore[assignment]

_LESSONS = (select(_DECISIONS.c.id, _DECISIONS.c.campaign_id, _DECISIONS.c.message_pk, _DECISIONS.c.exemplar)
            .where(_DECISIONS.c.kind == DecisionKind.SECTION, _DECISIONS.c.revoked_at.is_(None),
                   _DECISIONS.c.exemplar.is_not(None), _DECISIONS.c.campaign_id.is_not(None))
            .order_by(_DECISIONS.c.id))


class DecisionLog:
    """`Store`'s decision methods (store/repository.py puts the parts together)."""

    db: Database

    def add_decision(self, kind: DecisionKind, unit_id: str | None, campaign_id: str | None, *,
                     reason: str = "", until: dt.datetime | None = None, decided_by: str = "",
                     decided_at: dt.datetime | None = None, message_pk: int | None = None,
                     address: str | None = None, position: int | None = None, block: int | None = None,
                     heading: str | None = None, exemplar: dict[str, Any] | None = None,
                     source_id: int | None = None) -> DecisionView:
        with self.db.transaction() as s:
            row = Decision(kind=kind, unit_id=unit_id, campaign_id=campaign_id, reason=reason, until=until,
                           decided_by=decided_by, decided_at=decided_at or utcnow(), message_pk=message_pk,
                           address=address, position=position, block=block, heading=heading,
                           exemplar=exemplar, source_id=source_id)
            s.add(row)
            s.flush()
            return _decision_view(s, row)

    def decisions(self, campaign_id: str | None = None) -> list[DecisionView]:
        """Every decision (revoked ones too), oldest first; of one campaign when named."""
        with self.db.read_session() as s:
            query = select(Decision).order_by(Decision.decided_at, Decision.id)
            if campaign_id is not None:
                query = query.where(Decision.campaign_id == campaign_id)
            return [_decision_view(s, row) for row in s.scalars(query).all()]

    def decision(self, decision_id: int) -> DecisionView | None:
        with self.db.read_session() as s:
            row = s.get(Decision, decision_id)
            return _decision_view(s, row) if row is not None else None

    def revoke_decision(self, decision_id: int, revoked_by: str, at: dt.datetime) -> DecisionView | None:
        """Mark an active decision revoked; None if there is no such decision. A revoked one stays as it was."""
        with self.db.transaction() as s:
            row = s.get(Decision, decision_id)
            if row is None:
                return None
            if row.revoked_at is None:
                row.revoked_at, row.revoked_by = at, revoked_by
            return _decision_view(s, row)

    def lessons(self) -> list[Lesson]:
        """Every active staff choice of section that teaches its campaign's finder, oldest first."""
        with self.db.reading() as c:
            return [Lesson(decision_id=r.id, campaign_id=r.campaign_id, message_pk=r.message_pk, exemplar=r.exemplar)
                    for r in c.execute(_LESSONS).all() if r.message_pk is not None]

    def learned_from(self, source_id: int) -> list[DecisionView]:
        """The active LEARNED decisions that follow staff choice `source_id`."""
        with self.db.transaction() as s:
            rows = s.scalars(select(Decision).where(Decision.kind == DecisionKind.LEARNED,
                                                    Decision.source_id == source_id,
                                                    Decision.revoked_at.is_(None)).order_by(Decision.id)).all()
            return [_decision_view(s, row) for row in rows]


def _decision_view(s: Session, row: Decision) -> DecisionView:
    unit = s.get(Unit, row.unit_id) if row.unit_id else None
    reference = None
    if row.message_pk is not None:
        reference = s.scalar(select(Message.reference).where(Message.id == row.message_pk))
    return DecisionView(id=row.id, kind=str(row.kind), unit_id=row.unit_id, unit_name=unit.name if unit else None,
                        campaign_id=row.campaign_id, reason=row.reason, until=row.until, decided_by=row.decided_by,
                        decided_at=row.decided_at, revoked_at=row.revoked_at, revoked_by=row.revoked_by,
                        address=row.address, reference=reference, heading=row.heading,
                        message_pk=row.message_pk, source_id=row.source_id)
