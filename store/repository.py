"""The store's operations: what the pipeline, the CLI and the mailbox ledger ask of it.

Every method is one short transaction; none is held across a mailbox fetch
or a document parse.
"""
from __future__ import annotations

import datetime as dt
import email
import email.policy
import logging
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

from sqlalchemy import Connection, Table, bindparam, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from intake.parsers.email import message_id_of
from intake.parsers.model import Attachment, Problem
from intake.store.db import Database, Executor, insert_ignore
from intake.store.decisions import DecisionLog
from intake.store.files import FileStore, sha256_hex
from intake.store.ledger import MailboxLedger
from intake.store.models import (
    AttachmentRow,
    Decision,
    DecisionKind,
    MailboxEntry,
    Message,
    MessageState,
    Outgoing,
    OutgoingState,
    SectionRow,
    Unit,
    UnitAddress,
    utcnow,
)
from intake.store.outgoing import QUEUED, OutgoingQueue, queue_mail
from intake.store.records import Attribution, KnownFacts, MessageRecord, OutgoingMail, ack_key
from intake.store.roster import Roster
from intake.store.status import CampaignStatus, candidate_json
from intake.store.status_reads import campaign_status, section_view
from intake.store.views import (
    AttachmentView,
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
_SECTION_CHOICE = (select(_DECISIONS.c.position, _DECISIONS.c.block)
                   .where(_DECISIONS.c.kind == DecisionKind.SECTION, _DECISIONS.c.message_pk == bindparam("pk"),
                          _DECISIONS.c.revoked_at.is_(None))
                   .order_by(_DECISIONS.c.decided_at.desc(), _DECISIONS.c.id.desc()).limit(1))
_UNLEARNED = select(_DECISIONS.c.source_id).where(
    _DECISIONS.c.kind == DecisionKind.LEARNED, _DECISIONS.c.message_pk == bindparam("pk"),
    _DECISIONS.c.revoked_at.is_not(None), _DECISIONS.c.source_id.is_not(None))
_COUNT_SINCE = select(func.count(_OUTGOING.c.id)).where(
    func.lower(_OUTGOING.c.to_address) == bindparam("to"), _OUTGOING.c.created_at >= bindparam("since"),
    _OUTGOING.c.state != OutgoingState.SKIPPED)
# The columns set are the parameters' names (`record`).
_LAST_MESSAGE = select(func.max(_MESSAGES.c.id))
_RECORD_MESSAGE = update(_MESSAGES).where(_MESSAGES.c.id == bindparam("pk"))


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


class Store(Roster, MailboxLedger, DecisionLog, OutgoingQueue):
    """The store's one facade: the messages' methods are here; what else it stores has a module of
    its own, mixed in (store/roster.py, ledger.py, decisions.py, outgoing.py), so callers keep one
    object and the per-message path keeps one transaction across the tables."""

    def __init__(self, url: str, files_dir: Path, *, create: bool = True) -> None:
        self.db = Database(url, create=create)
        self.files = FileStore(files_dir)

    def close(self) -> None:
        self.db.dispose()

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
            insert_ignore(c, MailboxEntry, ["mailbox", "folder", "uidvalidity", "item_key"],
                           {"mailbox": mailbox, "folder": folder, "uidvalidity": uidvalidity, "item_key": key,
                            "message_pk": pk, "seen_at": utcnow()})
        return Ingested(message_pk=pk, new=existing is None)

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
            acknowledged = c.execute(QUEUED, {"key": ack_key(message_pk)}).first() is not None
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
        queue_mail(c, mail)


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


def _count_since(s: Executor, to_address: str, since: dt.datetime) -> int:
    return int(s.execute(_COUNT_SINCE, {"to": to_address.lower(), "since": since}).scalar() or 0)
