"""The store's operations: what the pipeline, the CLI and the mailbox ledger ask of it.

Every method is one short transaction; none is held across a mailbox fetch
or a document parse.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from intake.parsers.email import message_id_of
from intake.store.db import Database
from intake.store.files import FileStore
from intake.store.models import (
    Campaign,
    Decision,
    DecisionKind,
    MailboxEntry,
    MailboxState,
    Message,
    MessageState,
    Outgoing,
    OutgoingState,
    Unit,
    UnitAddress,
    utcnow,
)


@dataclass(frozen=True)
class RosterUnit:
    id: str
    name: str
    group: str
    aliases: tuple[str, ...]
    emails: tuple[str, ...]


@dataclass(frozen=True)
class CampaignRecord:
    id: str
    title: str
    opens: dt.datetime
    deadline: dt.datetime
    section_title: str


@dataclass(frozen=True)
class Ingested:
    message_pk: int
    new: bool  # False: the same message (Message-ID + content) was stored before


class Store:
    def __init__(self, url: str, files_dir: Path, *, create: bool = True) -> None:
        self.db = Database(url, create=create)
        self.files = FileStore(files_dir)

    def close(self) -> None:
        self.db.dispose()

    # -- roster and campaigns -------------------------------------------------

    def sync_roster(self, units: Sequence[RosterUnit], campaigns: Sequence[CampaignRecord]) -> None:
        """Mirror the configured roster and campaigns; addresses from `units link` stay."""
        with self.db.transaction() as s:
            configured = {u.id for u in units}
            for position, unit in enumerate(units):
                row = s.get(Unit, unit.id) or Unit(id=unit.id)
                row.name, row.group, row.aliases = unit.name, unit.group, list(unit.aliases)
                row.position, row.active = position, True
                s.add(row)
            s.flush()
            s.execute(update(Unit).where(Unit.id.not_in(configured)).values(active=False))
            s.execute(delete(UnitAddress).where(UnitAddress.source == "config"))
            s.flush()
            for unit in units:
                for address in unit.emails:
                    key = address.strip().lower()
                    existing = s.get(UnitAddress, key)
                    if existing is None:
                        s.add(UnitAddress(address=key, unit_id=unit.id, source="config"))
            for camp in campaigns:
                row_c = s.get(Campaign, camp.id) or Campaign(id=camp.id)
                row_c.title, row_c.opens, row_c.deadline = camp.title, camp.opens, camp.deadline
                row_c.section_title = camp.section_title
                s.add(row_c)

    def registered_addresses(self) -> dict[str, str]:
        with self.db.transaction() as s:
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

    # -- mailbox ledger (implements processor.mailbox.Ledger) ---------------

    def seen_keys(self, mailbox: str, folder: str, uidvalidity: int) -> set[str]:
        with self.db.transaction() as s:
            rows = s.scalars(select(MailboxEntry.item_key).where(
                MailboxEntry.mailbox == mailbox, MailboxEntry.folder == folder,
                MailboxEntry.uidvalidity == uidvalidity)).all()
        return set(rows)

    def folder_state(self, mailbox: str, folder: str) -> tuple[int, int] | None:
        with self.db.transaction() as s:
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

    def ingest(self, mailbox: str, folder: str, uidvalidity: int, key: str,
               raw: bytes, received_at: dt.datetime) -> Ingested:
        """Keep the raw bytes and record the item, before anything else happens.

        Idempotent by ledger key and by Message-ID + content hash: the same
        message met again (another UIDVALIDITY, another folder) is not new.
        """
        message_id = message_id_of(raw)
        digest, rel = self.files.put(raw, ".eml")
        with self.db.transaction() as s:
            existing = s.scalars(select(Message.id).where(
                Message.message_id == message_id, Message.sha256 == digest)).first()
            new = existing is None
            if existing is None:
                row = Message(message_id=message_id[:998], sha256=digest, size=len(raw), raw_path=rel,
                              received_at=received_at, state=MessageState.STORED)
                s.add(row)
                s.flush()
                existing = row.id
            _insert_ignore(s, MailboxEntry, ["mailbox", "folder", "uidvalidity", "item_key"],
                           {"mailbox": mailbox, "folder": folder, "uidvalidity": uidvalidity, "item_key": key,
                            "message_pk": existing, "seen_at": utcnow()})
        return Ingested(message_pk=existing, new=new)

    def mark_after_done(self, mailbox: str, folder: str, uidvalidity: int, key: str) -> None:
        with self.db.transaction() as s:
            s.execute(update(MailboxEntry).where(
                MailboxEntry.mailbox == mailbox, MailboxEntry.folder == folder,
                MailboxEntry.uidvalidity == uidvalidity, MailboxEntry.item_key == key).values(after_done=True))

    def entries_awaiting_after(self, mailbox: str) -> list[tuple[str, int, str, dt.datetime]]:
        """(folder, uidvalidity, key, received_at) of stored items whose `after` action was never
        confirmed: a run stopped between `ingest` and `mark_after_done`."""
        with self.db.transaction() as s:
            rows = s.execute(select(MailboxEntry.folder, MailboxEntry.uidvalidity, MailboxEntry.item_key,
                                    Message.received_at)
                             .join(Message, Message.id == MailboxEntry.message_pk)
                             .where(MailboxEntry.mailbox == mailbox, MailboxEntry.after_done.is_(False))
                             .order_by(MailboxEntry.id)).all()
        return [(folder, int(uv), key, when) for folder, uv, key, when in rows]

    def messages_in_state(self, state: MessageState) -> list[int]:
        with self.db.transaction() as s:
            return list(s.scalars(select(Message.id).where(Message.state == state).order_by(Message.id)).all())

    def raw_of(self, message_pk: int) -> tuple[Message, bytes]:
        with self.db.transaction() as s:
            row = s.get(Message, message_pk)
            if row is None:
                raise KeyError(message_pk)
            s.expunge(row)
        return row, self.files.get(row.raw_path)

    def record_failure(self, message_pk: int, error: str) -> None:
        with self.db.transaction() as s:
            s.execute(update(Message).where(Message.id == message_pk).values(
                state=MessageState.FAILED, error=error[:4000], processed_at=utcnow()))

    def session(self) -> AbstractContextManager[Session]:
        """A transaction for callers that write several rows at once."""
        return self.db.transaction()

    # -- decisions --------------------------------------------------------------

    def add_decision(self, kind: DecisionKind, unit_id: str, campaign_id: str, *, reason: str = "",
                     until: dt.datetime | None = None, decided_by: str = "") -> None:
        with self.db.transaction() as s:
            s.add(Decision(kind=kind, unit_id=unit_id, campaign_id=campaign_id, reason=reason, until=until,
                           decided_by=decided_by, decided_at=utcnow()))

    # -- outgoing -----------------------------------------------------------------

    def pending_outgoing(self, now: dt.datetime, limit: int = 100) -> list[Outgoing]:
        with self.db.transaction() as s:
            rows = s.scalars(select(Outgoing).where(
                Outgoing.state == OutgoingState.PENDING, Outgoing.next_attempt_at <= now)
                .order_by(Outgoing.id).limit(limit)).all()
            for row in rows:
                s.expunge(row)
        return list(rows)

    def mark_outgoing(self, pk: int, state: OutgoingState, *, error: str | None = None,
                      next_attempt_at: dt.datetime | None = None) -> None:
        values: dict[str, Any] = {"state": state, "last_error": error, "attempts": Outgoing.attempts + 1}
        if state == OutgoingState.SENT:
            values["sent_at"] = utcnow()
        if next_attempt_at is not None:
            values["next_attempt_at"] = next_attempt_at
        with self.db.transaction() as s:
            s.execute(update(Outgoing).where(Outgoing.id == pk).values(**values))

    def claim_outgoing(self, pk: int, lease_until: dt.datetime) -> bool:
        """PENDING -> SENDING, committed before the transport is called; False if another sender took it.

        While SENDING, `next_attempt_at` is the lease's end: a row still SENDING
        after it was abandoned by a sender that died (see `recover_interrupted`).
        """
        with self.db.transaction() as s:
            done = s.execute(update(Outgoing).where(Outgoing.id == pk, Outgoing.state == OutgoingState.PENDING)
                             .values(state=OutgoingState.SENDING, next_attempt_at=lease_until))
        return bool(getattr(done, "rowcount", 0))

    def recover_interrupted(self, now: dt.datetime, resend_note: str, give_up_note: str) -> tuple[int, int]:
        """Rows left SENDING past their lease: possibly delivered. Resend each once (same bytes, same
        Message-ID), marked with `resend_note`; a row interrupted again while carrying that note is
        marked SENT with `give_up_note`, so a crash at that point costs at most one duplicate.
        Returns (resent, given_up)."""
        resent = given_up = 0
        with self.db.transaction() as s:
            rows = s.scalars(select(Outgoing).where(
                Outgoing.state == OutgoingState.SENDING, Outgoing.next_attempt_at <= now)).all()
            for row in rows:
                if row.last_error == resend_note:
                    row.state, row.last_error, row.sent_at = OutgoingState.SENT, give_up_note, now
                    given_up += 1
                else:
                    row.state, row.last_error, row.next_attempt_at = OutgoingState.PENDING, resend_note, now
                    resent += 1
        return resent, given_up

    def extended_until(self, session: Session, unit_id: str, campaign_id: str) -> dt.datetime | None:
        """The unit's extended deadline for the campaign (the latest `extend` decision), if any."""
        row = session.scalars(select(Decision).where(
            Decision.kind == DecisionKind.EXTEND, Decision.unit_id == unit_id, Decision.campaign_id == campaign_id)
            .order_by(Decision.decided_at.desc(), Decision.id.desc()).limit(1)).first()
        return row.until if row is not None else None

    def outgoing_count_since(self, to_address: str, since: dt.datetime, session: Session) -> int:
        return int(session.scalar(select(func.count(Outgoing.id)).where(
            func.lower(Outgoing.to_address) == to_address.lower(), Outgoing.created_at >= since,
            Outgoing.state != OutgoingState.SKIPPED)) or 0)


def _insert_ignore(s: Session, model: Any, keys: list[str], values: dict[str, Any]) -> None:
    """INSERT ... ON CONFLICT DO NOTHING on SQLite and PostgreSQL alike."""
    dialect = s.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    s.execute(insert(model).values(**values).on_conflict_do_nothing(index_elements=keys))

