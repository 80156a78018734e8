"""The store's facade `Store`, and its messages: stored, attributed, decided, recorded, shown.

Every method is one short transaction; none is held across a mailbox fetch
or a document parse.
"""
from __future__ import annotations

import datetime as dt
import email
import email.policy
import logging
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

from sqlalchemy import Table, bindparam, delete, func, insert, select, update
from sqlalchemy.orm import Session

from intake.parsers.email import message_id_of
from intake.parsers.errors import StoreError
from intake.parsers.model import Attachment, Problem
from intake.store.db import Database, Executor, Transaction, insert_ignore
from intake.store.decisions import DecisionLog
from intake.store.files import FileStore
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
from intake.store.status import CampaignStatus, campaign_status, candidate_json, section_view
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
_ADD_MESSAGE = insert(_MESSAGES).returning(_MESSAGES.c.id)
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
_RECORD_MESSAGE = update(_MESSAGES).where(_MESSAGES.c.id == bindparam("pk"))


# Who sent a new message: (its pk, the registered addresses) -> its attribution (processor/ingest/attribution.py).
Attribute = Callable[[int, Mapping[str, str]], Attribution]
FAILURE_CHARS = 500  # the reason a message's processing failed, as kept for staff


@dataclass(frozen=True)
class Ingested:
    message_pk: int
    new: bool  # False: the same message (Message-ID + content) was stored before


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

    def ingest(self, mailbox: str, folder: str, uidvalidity: int, key: str,
               raw: bytes, received_at: dt.datetime,
               on_new: Callable[[Transaction, int], object] | None = None,
               attachments: Sequence[bytes] = (), known: Callable[[bytes], str | None] | None = None,
               attribute: Attribute | None = None) -> Ingested:
        """Keep the raw bytes and record the item, before anything else happens.

        Idempotent by ledger key and by Message-ID + content hash: the same
        message met again (another UIDVALIDITY, another folder) is not new.
        `on_new(connection, pk)` runs in the same transaction for a new message
        (the pipeline takes the message's lease there). `attachments`, when
        the caller already has them, are stored with the raw bytes: flushed to
        disk together, they cost one flush instead of two. `known` gives the
        SHA-256 of a bytes object already hashed (`keep_files`), or None.
        `attribute(pk, registered addresses)` says who sent a new message (SPEC "Every report
        counts"): written in this transaction, before `on_new`, so that nothing done after can
        leave the message without its sender, unit and campaign.
        """
        message_id = message_id_of(raw)
        digest, rel = self.files.put_many(_message_files(raw, attachments), known)[0]
        with self.db.connection() as c:
            existing = c.execute(_FIND_MESSAGE, {"message_id": message_id, "sha256": digest}).scalar()
            new = existing is None
            if existing is None:
                existing = c.execute(_ADD_MESSAGE, {
                    "message_id": message_id[:998], "sha256": digest, "size": len(raw), "raw_path": rel,
                    "received_at": received_at, "state": MessageState.STORED}).scalar_one()
                if attribute is not None:
                    _attribute(c, existing, attribute)
                if on_new is not None:
                    on_new(c, existing)
            insert_ignore(c, MailboxEntry, ["mailbox", "folder", "uidvalidity", "item_key"],
                           {"mailbox": mailbox, "folder": folder, "uidvalidity": uidvalidity, "item_key": key,
                            "message_pk": existing, "seen_at": utcnow()})
        return Ingested(message_pk=int(existing), new=new)

    def keep_files(self, raw: bytes, attachments: Sequence[bytes]) -> list[str] | None:
        """Write a message's files (raw bytes, attachments) ahead of its `ingest`, which then finds
        them in place: called by the read-ahead's thread, so the writing and flushing overlap the
        pipeline's work. The files are content-addressed and flushed before they get their name, so
        a message never ingested leaves only files a later ingest of it would write anyway. Returns
        their SHA-256s (raw first). A failure is logged and left to `ingest`, which tries again and
        reports it: None."""
        try:
            return [digest for digest, _rel in self.files.put_many(_message_files(raw, attachments))]
        except StoreError as exc:
            log.info("writing a message's files ahead failed (its ingest will try again): %s", exc)
            return None

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
        with self.db.transaction() as s:
            problems = s.scalar(select(Message.problems).where(Message.id == message_pk)) or []
            problems = [p for p in problems if p != Problem.PROCESSING_FAILED] + [Problem.PROCESSING_FAILED.value]
            s.execute(update(Message).where(Message.id == message_pk).values(
                state=MessageState.FAILED, error=error[:FAILURE_CHARS], processed_at=at or utcnow(),
                problems=problems, has_report=False))

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

    def known_facts(self, message_pk: int, sender: str, since: dt.datetime,
                    within: Transaction | None = None) -> KnownFacts:
        """What deciding about message `message_pk` from `sender` needs to know, in one read
        (in the transaction `within` when given, e.g. the one that is storing the message)."""
        with nullcontext(within) if within is not None else self.db.reading() as c:
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

    def record(self, message_pk: int, record: MessageRecord, mail: OutgoingMail | None = None,
               known: Callable[[bytes], str | None] | None = None, within: Transaction | None = None) -> None:
        """Write what processing decided about a message, and its acknowledgement, in one transaction
        (`within`, when given, is the one that is storing the message: it commits both).

        The attachments' bytes are stored (content-addressed, fsynced) first; `known` as for `ingest`."""
        placed = self.files.put_many([(a.data, "") for a in record.attachments], known)
        digests = {a.position: digest for a, (digest, _rel) in zip(record.attachments, placed, strict=True)}
        with nullcontext(within) if within is not None else self.db.connection() as c:
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
                "content_type": a.content_type, "sha256": digests[a.position], "size": len(a.data), "kind": a.kind,
                "problem": a.problem.value if a.problem else None, "detail": a.detail, "is_report": a.is_report,
            }).scalar_one() for a in record.attachments}
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


def _attribute(c: Executor, message_pk: int, attribute: Attribute) -> None:
    """Write who sent message `message_pk` (see `Store.ingest`)."""
    registered = {a: u for a, u in c.execute(_REGISTERED).all()}
    c.execute(update(_MESSAGES).where(_MESSAGES.c.id == message_pk).values(
        **attribute(message_pk, registered).columns()))


def _message_files(raw: bytes, attachments: Sequence[bytes]) -> list[tuple[bytes, str]]:
    """A message's files for the file store: the raw bytes (.eml), then its attachments."""
    return [(raw, ".eml"), *((data, "") for data in attachments)]


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
