"""Who sent what (table `unit_addresses`, with the messages it places): the units' registered
addresses, and which messages a unit, a campaign or a newly linked address has. The roster's
units and campaigns themselves are the catalog (store/catalog.py)."""
from __future__ import annotations

from collections.abc import Callable, Iterable

from sqlalchemy import Table, select

from intake.store.db import Database
from intake.store.models import Message, MessageState, UnitAddress

_MESSAGES: Table = Message.__table__  # type: ignore[assignment]


class Roster:
    """`Store`'s address and roster methods (store/repository.py puts the parts together)."""

    db: Database

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

    def unit_message_pks(self, unit_id: str) -> list[int]:
        """The unit's messages, oldest first."""
        with self.db.read_session() as s:
            return list(s.scalars(select(Message.id).where(Message.unit_id == unit_id)
                                  .order_by(Message.received_at, Message.id)).all())

    def campaign_message_pks(self, campaign_id: str) -> list[int]:
        """The processed messages of a campaign, oldest first."""
        with self.db.reading() as c:
            return list(c.execute(select(_MESSAGES.c.id).where(
                _MESSAGES.c.campaign_id == campaign_id, _MESSAGES.c.state == MessageState.PROCESSED)
                .order_by(_MESSAGES.c.id)).scalars())
