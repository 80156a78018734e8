"""The mailbox ledger (tables `mailbox_entries`, `mailbox_state`): what each mailbox folder
has already yielded, and which server-side `after` actions are confirmed. `Store` implements
processor.mailbox.Ledger through it."""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy import Table, bindparam, select, update

from intake.store.db import Database, insert_ignore
from intake.store.models import MailboxEntry, MailboxState, Message, utcnow

_ENTRIES: Table = MailboxEntry.__table__  # type: ignore[assignment]

_MARK_AFTER_DONE = update(_ENTRIES).where(
    _ENTRIES.c.mailbox == bindparam("mb"), _ENTRIES.c.folder == bindparam("f"),
    _ENTRIES.c.uidvalidity == bindparam("uv"), _ENTRIES.c.item_key == bindparam("key")).values(after_done=True)


class MailboxLedger:
    """`Store`'s ledger methods (store/repository.py puts the parts together)."""

    db: Database

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
            insert_ignore(s, MailboxEntry, ["mailbox", "folder", "uidvalidity", "item_key"],
                           {"mailbox": mailbox, "folder": folder, "uidvalidity": uidvalidity, "item_key": key,
                            "seen_at": utcnow()})

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
