"""The store's operations: what the pipeline, the CLI and the mailbox ledger ask of it.

Every method is one short transaction; none is held across a mailbox fetch
or a document parse.
"""
from __future__ import annotations

import datetime as dt
import email
import email.policy
import functools
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Insert, Table, bindparam, delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from intake.parsers.email import message_id_of
from intake.parsers.model import Attachment, Problem
from intake.store.db import Database, Executor, dialect_of
from intake.store.files import FileStore, sha256_hex
from intake.store.holders import holder_is_dead
from intake.store.models import (
    AttachmentRow,
    Decision,
    DecisionKind,
    MailboxEntry,
    MailboxState,
    Message,
    MessageState,
    Outgoing,
    OutgoingState,
    SectionRow,
    Unit,
    UnitAddress,
    utcnow,
)
from intake.store.records import Attribution, KnownFacts, MessageRecord, OutgoingMail, PendingMail, ack_key
from intake.store.status import CampaignStatus, campaign_status, candidate_json, section_view
from intake.store.views import (
    AttachmentView,
    DecisionView,
    Lesson,
    MessageView,
    OutgoingView,
    SectionChoice,
)

log = logging.getLogger(__name__)

# The per-message path (ingest, known facts, record, delivery) runs these Core statements on a
# Core connection: built once, compiled once, and without the ORM's unit of work.
_MESSAGES: Table = Message.__table__  # type: ignore[assignment]
_ATTACHMENTS: Table = AttachmentRow.__table__  # type: ignore[assignment]
_SECTIONS: Table = SectionRow.__table__  # type: ignore[assignment]
_OUTGOING: Table = Outgoing.__table__  # type: ignore[assignment]
_DECISIONS: Table = Decision.__table__  # type: ignore[assignment]
_ENTRIES: Table = MailboxEntry.__table__  # type: ignore[assignment]
_ADDRESSES: Table = UnitAddress.__table__  # type: ignore[assignment]

_FIND_MESSAGE = select(_MESSAGES.c.id).where(
    _MESSAGES.c.message_id == bindparam("message_id"), _MESSAGES.c.sha256 == bindparam("sha256")).limit(1)
_ADD_MESSAGE = insert(_MESSAGES)
_ADD_ATTACHMENT = insert(_ATTACHMENTS).returning(_ATTACHMENTS.c.id)
_ADD_SECTION = insert(_SECTIONS)
_REGISTERED = select(_ADDRESSES.c.address, _ADDRESSES.c.unit_id)
_EXTENSIONS = (select(_DECISIONS.c.unit_id, _DECISIONS.c.campaign_id, _DECISIONS.c.until)
               .where(_DECISIONS.c.kind == DecisionKind.EXTEND, _DECISIONS.c.revoked_at.is_(None))
               .order_by(_DECISIONS.c.decided_at, _DECISIONS.c.id))
_EARLIER_CAMPAIGN = select(_MESSAGES.c.campaign_id).where(_MESSAGES.c.id == bindparam("pk"))
_QUEUED = select(_OUTGOING.c.id).where(_OUTGOING.c.dedupe_key == bindparam("key")).limit(1)
_SECTION_CHOICE = (select(_DECISIONS.c.position, _DECISIONS.c.block)
                   .where(_DECISIONS.c.kind == DecisionKind.SECTION, _DECISIONS.c.message_pk == bindparam("pk"),
                          _DECISIONS.c.revoked_at.is_(None))
                   .order_by(_DECISIONS.c.decided_at.desc(), _DECISIONS.c.id.desc()).limit(1))
_UNLEARNED = select(_DECISIONS.c.source_id).where(
    _DECISIONS.c.kind == DecisionKind.LEARNED, _DECISIONS.c.message_pk == bindparam("pk"),
    _DECISIONS.c.revoked_at.is_not(None), _DECISIONS.c.source_id.is_not(None))
_LESSONS = (select(_DECISIONS.c.id, _DECISIONS.c.campaign_id, _DECISIONS.c.message_pk, _DECISIONS.c.exemplar)
            .where(_DECISIONS.c.kind == DecisionKind.SECTION, _DECISIONS.c.revoked_at.is_(None),
                   _DECISIONS.c.exemplar.is_not(None), _DECISIONS.c.campaign_id.is_not(None))
            .order_by(_DECISIONS.c.id))
_COUNT_SINCE = select(func.count(_OUTGOING.c.id)).where(
    func.lower(_OUTGOING.c.to_address) == bindparam("to"), _OUTGOING.c.created_at >= bindparam("since"),
    _OUTGOING.c.state != OutgoingState.SKIPPED)
_DUE = (select(_OUTGOING.c.id, _OUTGOING.c.kind, _OUTGOING.c.to_address, _OUTGOING.c.raw, _OUTGOING.c.attempts,
               _OUTGOING.c.created_at)
        .where(_OUTGOING.c.state == OutgoingState.PENDING, _OUTGOING.c.next_attempt_at <= bindparam("now"),
               _OUTGOING.c.id > bindparam("after_id"))
        .order_by(_OUTGOING.c.id).limit(bindparam("limit")))
_CLAIM = (update(_OUTGOING).where(_OUTGOING.c.id == bindparam("pk"), _OUTGOING.c.state == OutgoingState.PENDING)
          .values(state=OutgoingState.SENDING, next_attempt_at=bindparam("lease_until"),
                  claimed_by=bindparam("holder")))
# The columns set are the parameters' names (`record`).
_LAST_MESSAGE = select(func.max(_MESSAGES.c.id))
_RECORD_MESSAGE = update(_MESSAGES).where(_MESSAGES.c.id == bindparam("pk"))
_MARK_AFTER_DONE = update(_ENTRIES).where(
    _ENTRIES.c.mailbox == bindparam("mb"), _ENTRIES.c.folder == bindparam("f"),
    _ENTRIES.c.uidvalidity == bindparam("uv"), _ENTRIES.c.item_key == bindparam("key")).values(after_done=True)


# Who sent a new message: (its pk, the registered addresses) -> its attribution (processor/ingest/attribution.py).
Attribute = Callable[[int, Mapping[str, str]], Attribution]
FAILURE_CHARS = 500  # the reason a message's processing failed, as kept for staff


@dataclass(frozen=True)
class Ingested:
    message_pk: int
    new: bool  # False: the same message (Message-ID + content) was stored before
    taken: bool = False  # the id `NewMessage` was decided for went to another writer's message: decide again


@dataclass(frozen=True)
class Arrival:
    """`Store.arrival`: the message stored already (its id), else the id it gets and what deciding needs."""

    existing: int | None
    pk: int
    facts: KnownFacts


@dataclass(frozen=True)
class NewMessage:
    """What `Store.ingest` writes with a new message: its id (`Arrival.pk`), its attribution, and either
    the decision (`record`, the acknowledgement `mail`) or why processing it failed (`failure`)."""

    pk: int
    attribution: Attribution
    decided_at: dt.datetime
    record: MessageRecord | None = None
    mail: OutgoingMail | None = None
    failure: str = ""


class Store:
    def __init__(self, url: str, files_dir: Path, *, create: bool = True) -> None:
        self.db = Database(url, create=create)
        self.files = FileStore(files_dir)

    def close(self) -> None:
        self.db.dispose()

    # -- roster (the catalog itself is store/catalog.py) --------------------------

    def registered_addresses(self) -> dict[str, str]:
        with self.db.read_session() as s:
            rows = s.execute(select(UnitAddress.address, UnitAddress.unit_id)).all()
        return {address: unit_id for address, unit_id in rows}

    def link_address(self, address: str, unit_id: str,
                     same_sender: Callable[[str], str] = str.lower) -> list[int]:
        """Register `address` for `unit_id`; return the pks of messages whose sender has the same
        `same_sender` key (e.g. Gmail without dots and +tags)."""
        key = address.strip().lower()
        with self.db.transaction() as s:
            row = s.get(UnitAddress, key)
            if row is None:
                s.add(UnitAddress(address=key, unit_id=unit_id, source="link"))
            else:
                row.unit_id, row.source = unit_id, "link"
            wanted = same_sender(key)
            senders = s.execute(select(Message.id, Message.from_address).order_by(Message.id)).all()
        return [pk for pk, sender in senders if sender and same_sender(sender) == wanted]

    def waiting_messages(self, addresses: Iterable[str] = (), same_sender: Callable[[str], str] = str.lower,
                         *, no_campaign: bool = False) -> list[int]:
        """Processed messages the catalog may now place: those with no unit whose sender has the same
        `same_sender` key as one of `addresses`, and (`no_campaign`) those no campaign took."""
        wanted = {same_sender(a.strip().lower()) for a in addresses}
        with self.db.transaction() as s:
            rows = s.execute(select(Message.id, Message.from_address, Message.unit_id, Message.campaign_id)
                             .where(Message.state == MessageState.PROCESSED).order_by(Message.id)).all()
        return [pk for pk, sender, unit_id, campaign_id in rows
                if (no_campaign and campaign_id is None)
                or (unit_id is None and sender and same_sender(sender) in wanted)]

    # -- mailbox ledger (implements processor.mailbox.Ledger) ---------------

    def seen_keys(self, mailbox: str, folder: str, uidvalidity: int) -> set[str]:
        with self.db.read_session() as s:
            rows = s.scalars(select(MailboxEntry.item_key).where(
                MailboxEntry.mailbox == mailbox, MailboxEntry.folder == folder,
                MailboxEntry.uidvalidity == uidvalidity)).all()
        return set(rows)

    def folder_state(self, mailbox: str, folder: str) -> tuple[int, int] | None:
        with self.db.read_session() as s:
            row = s.scalars(select(MailboxState).where(
                MailboxState.mailbox == mailbox, MailboxState.folder == folder)).first()
            return None if row is None else (row.uidvalidity, row.last_uid)

    def set_folder_state(self, mailbox: str, folder: str, uidvalidity: int, last_uid: int) -> None:
        with self.db.transaction() as s:
            row = s.scalars(select(MailboxState).where(
                MailboxState.mailbox == mailbox, MailboxState.folder == folder)).first()
            if row is None:
                s.add(MailboxState(mailbox=mailbox, folder=folder, uidvalidity=uidvalidity, last_uid=last_uid))
            else:
                row.uidvalidity, row.last_uid = uidvalidity, last_uid

    def record_seen(self, mailbox: str, folder: str, uidvalidity: int, key: str) -> None:
        with self.db.transaction() as s:
            _insert_ignore(s, MailboxEntry, ["mailbox", "folder", "uidvalidity", "item_key"],
                           {"mailbox": mailbox, "folder": folder, "uidvalidity": uidvalidity, "item_key": key,
                            "seen_at": utcnow()})

    # -- messages -------------------------------------------------------------

    def arrival(self, raw: bytes, sender: str, since: dt.datetime) -> Arrival:
        """What storing `raw` as a new message needs to know, in one read snapshot (no write lock):
        whether it is stored already (Message-ID + content), the id it would get, and what deciding
        about it needs (`known_facts`)."""
        with self.db.reading() as c:
            existing = c.execute(_FIND_MESSAGE, {"message_id": message_id_of(raw), "sha256": sha256_hex(raw)}).scalar()
            pk = int(c.execute(_LAST_MESSAGE).scalar() or 0) + 1
            facts = self.known_facts(pk, sender, since)
        return Arrival(existing=existing, pk=pk, facts=facts)

    def ingest(self, mailbox: str, folder: str, uidvalidity: int, key: str, raw: bytes, received_at: dt.datetime,
               new: NewMessage | None = None) -> Ingested:
        """Keep the raw bytes and record the item, with what was decided about it, in one transaction.

        Idempotent by ledger key and by Message-ID + content hash: the same message met again
        (another UIDVALIDITY, another folder) is not new, and nothing of `new` is written. Else
        `new` (decided from an `arrival` snapshot) is written with the row, under the id it was
        decided for: its attribution (SPEC "Every report counts"), and either the record and its
        acknowledgement or the failure. The files (raw bytes, attachments) are flushed to disk
        first. When another writer took that id meanwhile, nothing is written (`Ingested.taken`).
        Without `new` the message is only stored (state `stored`, processed later: tests, tools)."""
        attachments = [(a.data, "") for a in new.record.attachments] if new is not None and new.record else []
        placed = self.files.put_many([(raw, ".eml"), *attachments])
        digest, rel = placed[0]
        message_id = message_id_of(raw)
        with self.db.connection() as c:
            existing = c.execute(_FIND_MESSAGE, {"message_id": message_id, "sha256": digest}).scalar()
            if existing is not None:
                pk = int(existing)
            else:
                # Ids are given here, never by a sequence: the one a message was decided for, else the next.
                pk = new.pk if new is not None else int(c.execute(_LAST_MESSAGE).scalar() or 0) + 1
                row = {"id": pk, "message_id": message_id[:998], "sha256": digest, "size": len(raw),
                       "raw_path": rel, "received_at": received_at, "state": MessageState.STORED,
                       **(new.attribution.columns() if new is not None else {})}
                try:
                    with c.begin_nested():  # a savepoint: PostgreSQL's transaction survives a refused insert
                        c.execute(_ADD_MESSAGE, row)
                except IntegrityError:
                    if new is None:
                        raise
                    # Another writer took the id (or stored this very message) since `arrival`: decide again.
                    return Ingested(message_pk=pk, new=False, taken=True)
                if new is not None and new.record is not None:
                    _record(c, pk, new.record, new.mail, [d for d, _rel in placed[1:]])
                elif new is not None:
                    _fail(c, pk, new.failure, new.decided_at)
            _insert_ignore(c, MailboxEntry, ["mailbox", "folder", "uidvalidity", "item_key"],
                           {"mailbox": mailbox, "folder": folder, "uidvalidity": uidvalidity, "item_key": key,
                            "message_pk": pk, "seen_at": utcnow()})
        return Ingested(message_pk=pk, new=existing is None)

    def mark_after_done_many(self, mailbox: str, items: Iterable[tuple[str, int, str]]) -> None:
        """Record that `after` was applied to these (folder, uidvalidity, key) items, in one transaction."""
        items = list(items)
        if not items:
            return
        with self.db.connection() as c:
            c.execute(_MARK_AFTER_DONE, [{"mb": mailbox, "f": folder, "uv": uidvalidity, "key": key}
                                         for folder, uidvalidity, key in items])

    def entries_awaiting_after(self, mailbox: str) -> list[tuple[str, int, str, dt.datetime]]:
        """(folder, uidvalidity, key, received_at) of stored items whose `after` action was never
        confirmed: a run stopped between `ingest` and `mark_after_done_many`."""
        with self.db.read_session() as s:
            rows = s.execute(select(MailboxEntry.folder, MailboxEntry.uidvalidity, MailboxEntry.item_key,
                                    Message.received_at)
                             .join(Message, Message.id == MailboxEntry.message_pk)
                             .where(MailboxEntry.mailbox == mailbox, MailboxEntry.after_done.is_(False))
                             .order_by(MailboxEntry.id)).all()
        return [(folder, int(uv), key, when) for folder, uv, key, when in rows]

    def messages_in_state(self, state: MessageState) -> list[int]:
        with self.db.read_session() as s:
            return list(s.scalars(select(Message.id).where(Message.state == state).order_by(Message.id)).all())

    def state_of(self, message_pk: int) -> MessageState | None:
        with self.db.read_session() as s:
            return s.scalar(select(Message.state).where(Message.id == message_pk))

    def raw_of(self, message_pk: int) -> tuple[dt.datetime, bytes]:
        """(received time, raw bytes) of a stored message."""
        with self.db.read_session() as s:
            row = s.get(Message, message_pk)
            if row is None:
                raise KeyError(message_pk)
            received_at, path = row.received_at, row.raw_path
        return received_at, self.files.get(path)

    def record_failure(self, message_pk: int, error: str, at: dt.datetime | None = None) -> None:
        """Processing failed: the message keeps its attribution (unit, campaign, sender) and is
        `failed` with the problem `processing_failed` and the reason, shown to staff; `retry` runs it again."""
        with self.db.connection() as c:
            _fail(c, message_pk, error, at or utcnow())

    def session(self) -> AbstractContextManager[Session]:
        """A raw transaction, for tests that look at rows directly; processor/ never uses it."""
        return self.db.transaction()

    def reset_message(self, message_pk: int, attribute: Attribute) -> None:
        """Forget what processing found (attachments, section, report...): the message is `stored` again,
        attributed afresh by `attribute` (as in `ingest`). History (decisions, acknowledgements) stays."""
        with self.db.connection() as c:
            c.execute(delete(_SECTIONS).where(_SECTIONS.c.message_pk == message_pk))
            c.execute(delete(_ATTACHMENTS).where(_ATTACHMENTS.c.message_pk == message_pk))
            c.execute(update(_MESSAGES).where(_MESSAGES.c.id == message_pk).values(
                state=MessageState.STORED, has_report=False, has_word_file=False))
            _attribute(c, message_pk, attribute)

    # -- staff's view of messages ---------------------------------------------------

    def campaign_status(self, campaign_id: str, title: str, deadline: dt.datetime,
                        expected: Sequence[str]) -> CampaignStatus:
        with self.db.read_session() as s:
            return campaign_status(s, campaign_id, title, deadline, expected)

    def find_message(self, ref: str) -> int | None:
        """The message whose reference number ("TN24-00005") or Message-ID is `ref`."""
        ref = ref.strip()
        if not ref:
            return None
        with self.db.read_session() as s:
            pk = s.scalars(select(Message.id).where(func.upper(Message.reference) == ref.upper())).first()
            if pk is None:
                wanted = ref if ref.startswith("<") else f"<{ref}>"
                pk = s.scalars(select(Message.id).where(Message.message_id.in_((ref, wanted)))
                               .order_by(Message.id)).first()
        return pk

    def unit_message_pks(self, unit_id: str) -> list[int]:
        """The unit's messages, oldest first."""
        with self.db.read_session() as s:
            return list(s.scalars(select(Message.id).where(Message.unit_id == unit_id)
                                  .order_by(Message.received_at, Message.id)).all())

    def message_view(self, message_pk: int) -> MessageView:
        with self.db.read_session() as s:
            msg = s.get(Message, message_pk)
            if msg is None:
                raise KeyError(message_pk)
            unit = s.get(Unit, msg.unit_id) if msg.unit_id else None
            atts = s.scalars(select(AttachmentRow).where(AttachmentRow.message_pk == message_pk)
                             .order_by(AttachmentRow.position)).all()
            sec = s.scalars(select(SectionRow).where(SectionRow.message_pk == message_pk)).first()
            ack = s.scalars(select(Outgoing).where(Outgoing.dedupe_key == ack_key(message_pk))).first()
            dismissed = s.scalars(select(Decision.id).where(
                Decision.kind == DecisionKind.DISMISS, Decision.message_pk == message_pk,
                Decision.revoked_at.is_(None))).first() is not None
            return MessageView(
                reference=msg.reference, message_id=msg.message_id, from_address=msg.from_address,
                from_name=msg.from_name, subject=msg.subject, received_at=msg.received_at, unit_id=msg.unit_id,
                unit_name=unit.name if unit else None, match=str(msg.match), campaign_id=msg.campaign_id,
                state=str(msg.state), problems=tuple(msg.problems or ()),
                attachments=tuple(AttachmentView(position=a.position, filename=a.filename,
                                                 content_type=a.content_type, size=a.size, kind=a.kind,
                                                 is_report=a.is_report, problem=a.problem) for a in atts),
                section=section_view(sec) if sec is not None else None,
                acknowledgement=_outgoing_view(ack) if ack is not None else None,
                ignore_reason=msg.ignore_reason, dismissed=dismissed, pk=msg.id, error=msg.error)

    def attachment_file(self, message_pk: int, position: int) -> Attachment | None:
        with self.db.read_session() as s:
            att = s.scalars(select(AttachmentRow).where(AttachmentRow.message_pk == message_pk,
                                                        AttachmentRow.position == position)).first()
            if att is None:
                return None
            filename, content_type, digest = att.filename, att.content_type, att.sha256
        return Attachment(filename=filename, content_type=content_type,
                          data=self.files.get(self.files.relative_path(digest, "")))

    # -- decisions --------------------------------------------------------------

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

    def campaign_message_pks(self, campaign_id: str) -> list[int]:
        """The processed messages of a campaign, oldest first."""
        with self.db.reading() as c:
            return list(c.execute(select(_MESSAGES.c.id).where(
                _MESSAGES.c.campaign_id == campaign_id, _MESSAGES.c.state == MessageState.PROCESSED)
                .order_by(_MESSAGES.c.id)).scalars())

    def section_choice(self, message_pk: int) -> SectionChoice | None:
        """The staff's latest active choice of this message's section, if any."""
        with self.db.read_session() as s:
            return _section_choice(s, message_pk)

    def unlink_address(self, address: str, unit_id: str,
                       same_sender: Callable[[str], str] = str.lower) -> list[int]:
        """Undo `link_address` (when the address still points at `unit_id`); the pks to re-evaluate."""
        key = address.strip().lower()
        with self.db.transaction() as s:
            row = s.get(UnitAddress, key)
            if row is not None and row.unit_id == unit_id and row.source == "link":
                s.delete(row)
            wanted = same_sender(key)
            senders = s.execute(select(Message.id, Message.from_address).order_by(Message.id)).all()
        return [pk for pk, sender in senders if sender and same_sender(sender) == wanted]

    # -- outgoing -----------------------------------------------------------------

    def pending_outgoing(self, now: dt.datetime, limit: int = 100, after_id: int = 0) -> list[PendingMail]:
        """Due pending rows in id order, at most `limit`, those with an id above `after_id`
        (page through them by passing the last id seen)."""
        with self.db.reading() as c:
            rows = c.execute(_DUE, {"now": now, "after_id": after_id, "limit": limit}).all()
        return [PendingMail(id=r.id, kind=r.kind, to_address=r.to_address, raw=r.raw, attempts=r.attempts,
                            created_at=r.created_at) for r in rows]

    def mark_outgoing(self, pk: int, state: OutgoingState, *, error: str | None = None,
                      next_attempt_at: dt.datetime | None = None, at: dt.datetime | None = None) -> None:
        values: dict[str, Any] = {"state": state, "last_error": error, "attempts": _OUTGOING.c.attempts + 1}
        if state == OutgoingState.SENT:
            values["sent_at"] = at or utcnow()
        if next_attempt_at is not None:
            values["next_attempt_at"] = next_attempt_at
        with self.db.connection() as c:
            c.execute(update(_OUTGOING).where(_OUTGOING.c.id == pk).values(**values))

    def claim_outgoing(self, pk: int, lease_until: dt.datetime, holder: str = "") -> bool:
        """PENDING -> SENDING, committed before the transport is called; False if another sender took it.

        While SENDING, `next_attempt_at` is the lease's end: a row still SENDING
        after it was abandoned by a sender that died (see `recover_interrupted`).
        `holder` (store/holders.py `new_holder`) names the sender: one dead on this
        host has its rows taken at once.
        """
        with self.db.connection() as c:
            done = c.execute(_CLAIM, {"pk": pk, "lease_until": lease_until, "holder": holder or None})
        return bool(done.rowcount)

    def recover_interrupted(self, now: dt.datetime, resend_note: str, give_up_note: str) -> tuple[int, int]:
        """Rows left SENDING past their lease, or claimed by a process of this host that is dead:
        possibly delivered. Resend each once (same bytes, same Message-ID), marked with `resend_note`;
        a row interrupted again while carrying that note is marked SENT with `give_up_note`, so a crash
        at that point costs at most one duplicate. Returns (resent, given_up)."""
        resent = given_up = 0
        with self.db.transaction() as s:
            rows = [row for row in s.scalars(select(Outgoing).where(Outgoing.state == OutgoingState.SENDING)).all()
                    if row.next_attempt_at <= now or (row.claimed_by and holder_is_dead(row.claimed_by))]
            for row in rows:
                if row.last_error == resend_note:
                    row.state, row.last_error, row.sent_at = OutgoingState.SENT, give_up_note, now
                    given_up += 1
                else:
                    row.state, row.last_error, row.next_attempt_at = OutgoingState.PENDING, resend_note, now
                    resent += 1
        return resent, given_up

    def queue(self, mails: Sequence[OutgoingMail], *, unless_prefix: str | None = None) -> int:
        """Queue each mail whose dedupe key was never queued, in one transaction; the number queued.

        With `unless_prefix`, nothing is queued when any key with that prefix exists (one reminder
        per unit and point, whichever addresses it went to)."""
        with self.db.transaction() as s:
            if unless_prefix is not None and _has_prefix(s, unless_prefix):
                return 0
            return sum(_queue(s, mail) for mail in mails)

    def queued(self, *, key: str | None = None, prefix: str | None = None) -> bool:
        """Whether mail with this dedupe key (or one starting with `prefix`) was ever queued."""
        with self.db.read_session() as s:
            if prefix is not None:
                return _has_prefix(s, prefix)
            return s.execute(_QUEUED, {"key": key}).first() is not None

    # -- recording a decision ----------------------------------------------------------

    def known_facts(self, message_pk: int, sender: str, since: dt.datetime) -> KnownFacts:
        """What deciding about message `message_pk` from `sender` needs to know, in one read snapshot
        (joined to the caller's, `arrival`)."""
        with self.db.reading() as c:
            registered = {a: u for a, u in c.execute(_REGISTERED).all()}
            extensions: dict[tuple[str, str], dt.datetime] = {}
            for unit_id, campaign_id, until in c.execute(_EXTENSIONS).all():
                if unit_id and campaign_id and until is not None:
                    extensions[(unit_id, campaign_id)] = until  # the latest wins
            earlier = c.execute(_EARLIER_CAMPAIGN, {"pk": message_pk}).scalar()
            acknowledged = c.execute(_QUEUED, {"key": ack_key(message_pk)}).first() is not None
            recent = _count_since(c, sender, since) if sender else 0
            choice = _section_choice(c, message_pk)
            unlearned = frozenset(c.execute(_UNLEARNED, {"pk": message_pk}).scalars())
        return KnownFacts(registered=registered, extensions=extensions, section_choice=choice, unlearned=unlearned,
                          earlier_campaign=earlier, acknowledged=acknowledged, recent_to_sender=recent)

    def record(self, message_pk: int, record: MessageRecord, mail: OutgoingMail | None = None) -> None:
        """Write what processing decided about a stored message, and its acknowledgement, in one
        transaction; the attachments' bytes are stored (content-addressed, fsynced) first."""
        placed = self.files.put_many([(a.data, "") for a in record.attachments])
        with self.db.connection() as c:
            _record(c, message_pk, record, mail, [digest for digest, _rel in placed])


def _record(c: Connection, message_pk: int, record: MessageRecord, mail: OutgoingMail | None,
            digests: Sequence[str]) -> None:
    """Write a decision (`Store.record`, `Store.ingest`); `digests`: the SHA-256 of each attachment, in order."""
    done = c.execute(_RECORD_MESSAGE, {
        "pk": message_pk, "state": record.state, "processed_at": record.processed_at, "error": record.error,
        "from_address": record.from_address, "from_name": record.from_name, "subject": record.subject,
        "date_header": record.date_header, "ignore_reason": record.ignore_reason, "unit_id": record.unit_id,
        "match": record.match, "campaign_id": record.campaign_id,
        "problems": [p.value for p in record.problems], "has_report": record.has_report,
        "has_word_file": record.has_word_file, "reference": record.reference})
    if not done.rowcount:
        raise KeyError(message_pk)
    ids = {a.position: c.execute(_ADD_ATTACHMENT, {
        "message_pk": message_pk, "position": a.position, "filename": a.filename,
        "content_type": a.content_type, "sha256": digest, "size": len(a.data), "kind": a.kind,
        "problem": a.problem.value if a.problem else None, "detail": a.detail, "is_report": a.is_report,
    }).scalar_one() for a, digest in zip(record.attachments, digests, strict=True)}
    section = record.section
    if section is not None and record.report_position is not None:
        c.execute(_ADD_SECTION, {
            "message_pk": message_pk, "attachment_id": ids[record.report_position], "found": section.found,
            "heading": section.heading, "text": section.text if section.found else "",
            "score": section.score, "reason": section.reason, "figures": section.figures.as_dict(),
            "issuer": record.issuer, "confidence": section.confidence.value,
            "candidates": [candidate_json(x) for x in section.candidates], "chosen_by": section.chosen_by})
    if mail is not None:
        _queue(c, mail)


def _fail(c: Executor, message_pk: int, error: str, at: dt.datetime) -> None:
    """Record that processing the message failed (`Store.record_failure`), its attribution kept."""
    problems = c.execute(select(_MESSAGES.c.problems).where(_MESSAGES.c.id == message_pk)).scalar() or []
    problems = [p for p in problems if p != Problem.PROCESSING_FAILED] + [Problem.PROCESSING_FAILED.value]
    c.execute(update(_MESSAGES).where(_MESSAGES.c.id == message_pk).values(
        state=MessageState.FAILED, error=error[:FAILURE_CHARS], processed_at=at, problems=problems,
        has_report=False))


def _attribute(c: Executor, message_pk: int, attribute: Attribute) -> None:
    """Write who sent message `message_pk` (see `Store.ingest`)."""
    registered = {a: u for a, u in c.execute(_REGISTERED).all()}
    c.execute(update(_MESSAGES).where(_MESSAGES.c.id == message_pk).values(
        **attribute(message_pk, registered).columns()))


def _section_choice(s: Executor, message_pk: int) -> SectionChoice | None:
    row = s.execute(_SECTION_CHOICE, {"pk": message_pk}).first()
    return None if row is None else SectionChoice(position=row.position, block=row.block)


def _outgoing_view(row: Outgoing) -> OutgoingView:
    return OutgoingView(to=row.to_address, subject=row.subject, state=str(row.state), sent_at=row.sent_at,
                        body_text=body_text(row.raw), last_error=row.last_error)


def body_text(raw: bytes) -> str:
    """The plain-text part of a message we composed."""
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    if not isinstance(msg, EmailMessage):
        return ""
    part = msg.get_body(preferencelist=("plain",))
    if part is None or not isinstance(part, EmailMessage):
        return ""
    return str(part.get_content())


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


def _queue(s: Executor, mail: OutgoingMail) -> int:
    """Add `mail` unless its dedupe key is taken: 1 if added, else 0."""
    return int(_insert_ignore(s, Outgoing, ["dedupe_key"], {
        "kind": mail.kind, "dedupe_key": mail.dedupe_key, "message_pk": mail.message_pk, "unit_id": mail.unit_id,
        "campaign_id": mail.campaign_id, "to_address": mail.to_address, "subject": mail.subject,
        "our_message_id": mail.our_message_id, "raw": mail.raw, "state": mail.state, "last_error": mail.reason,
        "created_at": mail.created_at, "next_attempt_at": mail.created_at, "attempts": 0}))


def _has_prefix(s: Executor, prefix: str) -> bool:
    pattern = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    return s.scalar(select(Outgoing.id).where(Outgoing.dedupe_key.like(pattern, escape="\\")).limit(1)) is not None


def _count_since(s: Executor, to_address: str, since: dt.datetime) -> int:
    return int(s.execute(_COUNT_SINCE, {"to": to_address.lower(), "since": since}).scalar() or 0)


def _insert_ignore(s: Executor, model: Any, keys: list[str], values: dict[str, Any]) -> bool:
    """INSERT ... ON CONFLICT DO NOTHING on SQLite and PostgreSQL alike; True when the row went in."""
    done = s.execute(_insert_ignoring(dialect_of(s).name, model.__table__, tuple(keys)), values)
    return bool(getattr(done, "rowcount", 0) == 1)


@functools.lru_cache(maxsize=32)
def _insert_ignoring(dialect: str, table: Table, keys: tuple[str, ...]) -> Insert:
    """The statement for `_insert_ignore`, built once per table; the values come with each execution."""
    insert_into = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert_into(table).on_conflict_do_nothing(index_elements=list(keys))



insert_ignore = _insert_ignore  # for the store's other modules (leases)
