"""The catalog: the roster of units and the campaigns, kept in the store.

Items come from two sources (`Source`): the config's `[[units]]` /
`units_file` / `[[campaigns]]`, mirrored by `sync_config` and read-only
here, and those staff create (CLI or dashboard). Every staff change is
written with its decision (who, when, what) in one transaction and raises the
catalog's version, which a running daemon watches to rebuild its rules.

A removed unit and a campaign dropped from the config stay as rows
(`active` false): messages and decisions refer to them.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass

from sqlalchemy import RowMapping, Table, delete, func, select, update
from sqlalchemy.orm import Session

from intake.parsers.errors import UsageError
from intake.store.db import Database, insert_ignore
from intake.store.kinds import DecisionKind, Source
from intake.store.models import Campaign, CatalogState, Decision, Unit, UnitAddress

__all__ = ["CampaignEntry", "CatalogRows", "CatalogStore", "Change", "UnitEntry"]

STATE_ID = 1
_UNITS: Table = Unit.__table__  # type: ignore[assignment]
_CAMPAIGNS: Table = Campaign.__table__  # type: ignore[assignment]
# unit_addresses.source of an address given with a unit (config or staff); `units link` writes "link".
ADDRESS_SOURCE = {Source.CONFIG: "config", Source.STAFF: "staff"}


@dataclass(frozen=True)
class UnitEntry:
    id: str
    name: str
    group: str = ""
    aliases: tuple[str, ...] = ()
    emails: tuple[str, ...] = ()
    source: Source = Source.STAFF


@dataclass(frozen=True)
class CampaignEntry:
    id: str
    title: str
    opens: dt.datetime
    deadline: dt.datetime
    section_title: str
    units: tuple[str, ...] = ("*",)          # unit ids, "group:NAME", "*"
    section_keywords: tuple[str, ...] = ()
    remind: tuple[str, ...] = ()             # "-3d", "+1d", "-12h"
    source: Source = Source.STAFF
    closed_at: dt.datetime | None = None
    closed_by: str | None = None
    outline: tuple[tuple[str, int], ...] = ()   # the đề cương: (heading as written, level 1 = top)
    outline_required: int | None = None         # index into `outline` of the required part


@dataclass(frozen=True)
class CatalogRows:
    version: int
    units: tuple[UnitEntry, ...]             # the roster, in its order; removed units left out
    campaigns: tuple[CampaignEntry, ...]     # config's first, then staff's by creation; closed ones included


@dataclass(frozen=True)
class Change:
    """Who changes the catalog, when, and what they said about it (the decision's `reason`)."""

    actor: str
    at: dt.datetime
    reason: str = ""


class CatalogStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    # -- reading -----------------------------------------------------------------

    def version(self) -> int:
        with self.db.reading() as c:
            return int(c.execute(select(CatalogState.version).where(CatalogState.id == STATE_ID)).scalar() or 0)

    def read(self) -> CatalogRows:
        """One consistent snapshot of the catalog (a reading transaction: it waits for no writer)."""
        with self.db.reading() as c:
            version = int(c.execute(select(CatalogState.version).where(CatalogState.id == STATE_ID)).scalar() or 0)
            units = c.execute(select(_UNITS).where(_UNITS.c.active.is_(True))).mappings().all()
            campaigns = c.execute(select(_CAMPAIGNS).where(_CAMPAIGNS.c.active.is_(True))).mappings().all()
        return CatalogRows(version=version,
                           units=tuple(_unit_entry(u) for u in sorted(units, key=_order)),
                           campaigns=tuple(_campaign_entry(c) for c in sorted(campaigns, key=_order)))

    def unit(self, unit_id: str) -> tuple[UnitEntry, bool] | None:
        """A unit by id, removed ones too: (entry, active)."""
        with self.db.reading() as c:
            row = c.execute(select(_UNITS).where(_UNITS.c.id == unit_id)).mappings().first()
        return None if row is None else (_unit_entry(row), bool(row["active"]))

    # -- the config's part -------------------------------------------------------

    def sync_config(self, units: Sequence[UnitEntry], campaigns: Sequence[CampaignEntry]) -> bool:
        """Mirror the config's roster and campaigns (skipped when unchanged since the last time);
        True when something was written. Staff items and addresses from `units link` stay; an id
        the config now gives too becomes the config's."""
        digest = hashlib.sha256(json.dumps([[asdict(u) for u in units], [asdict(c) for c in campaigns]],
                                           default=str, ensure_ascii=False).encode()).hexdigest()
        with self.db.transaction() as s:
            state = _state(s)
            if state.config_digest == digest:
                return False
            self._mirror_units(s, units)
            self._mirror_campaigns(s, campaigns)
            state.config_digest = digest
            _bump(s)
        return True

    def _mirror_units(self, s: Session, units: Sequence[UnitEntry]) -> None:
        configured = {u.id for u in units}
        for position, unit in enumerate(units):
            row = s.get(Unit, unit.id) or Unit(id=unit.id)
            _fill_unit(row, unit, Source.CONFIG)
            row.position = position
            s.add(row)
        s.flush()
        s.execute(update(Unit).where(Unit.id.not_in(configured), Unit.source == Source.CONFIG)
                  .values(active=False))
        s.execute(delete(UnitAddress).where(UnitAddress.source == ADDRESS_SOURCE[Source.CONFIG]))
        s.flush()
        for unit in units:
            for address in unit.emails:
                key = address.strip().lower()
                if s.get(UnitAddress, key) is None:
                    s.add(UnitAddress(address=key, unit_id=unit.id, source=ADDRESS_SOURCE[Source.CONFIG]))

    def _mirror_campaigns(self, s: Session, campaigns: Sequence[CampaignEntry]) -> None:
        for position, camp in enumerate(campaigns):
            row = s.get(Campaign, camp.id) or Campaign(id=camp.id)
            _fill_campaign(row, camp, Source.CONFIG)
            row.position, row.active, row.closed_at, row.closed_by = position, True, None, None
            s.add(row)
        s.flush()
        s.execute(update(Campaign).where(Campaign.id.not_in({c.id for c in campaigns}),
                                         Campaign.source == Source.CONFIG).values(active=False))

    # -- staff changes -----------------------------------------------------------

    def save_units(self, changes: Iterable[tuple[UnitEntry, DecisionKind]], change: Change) -> list[int]:
        """Add (UNIT_ADD) or replace (UNIT_EDIT) staff units, all in one transaction, each with its
        decision; the decisions' ids. A config unit, an id taken (on add) or an address another unit
        has is refused (UsageError) and nothing is written."""
        ids = []
        units = []
        with self.db.transaction() as s:
            for unit, kind in changes:
                row = _writable_unit(s, unit.id, adding=kind == DecisionKind.UNIT_ADD)
                if row is None:
                    row = Unit(id=unit.id, position=_next_position(s, Unit))
                elif not row.active:
                    row.position = _next_position(s, Unit)
                _fill_unit(row, unit, Source.STAFF)
                s.add(row)
                s.flush()
                ids.append(_decide(s, kind, change, unit_id=unit.id))
                units.append(unit)
            # Every unit gives up the addresses it no longer has before any takes one: an import may
            # move an address from one unit to another whatever their order in the file.
            for unit in units:
                _release_addresses(s, unit)
            for unit in units:
                _claim_addresses(s, unit)
            _bump(s)
        return ids

    def remove_unit(self, unit_id: str, change: Change) -> int:
        """The unit leaves the roster (and every campaign's list); its messages and decisions stay,
        its addresses go (new mail from them is then unmatched, for staff to see)."""
        with self.db.transaction() as s:
            row = _writable_unit(s, unit_id, adding=False)
            assert row is not None
            row.active = False
            s.execute(delete(UnitAddress).where(UnitAddress.unit_id == unit_id))
            decision = _decide(s, DecisionKind.UNIT_REMOVE, change, unit_id=unit_id)
            _bump(s)
        return decision

    def save_campaign(self, camp: CampaignEntry, kind: DecisionKind, change: Change) -> int:
        """Add (CAMPAIGN_ADD: the id must be new) or replace (CAMPAIGN_EDIT) a staff campaign."""
        with self.db.transaction() as s:
            row = s.get(Campaign, camp.id)
            if kind == DecisionKind.CAMPAIGN_ADD:
                if row is not None:
                    raise UsageError(f"--id: đã có đợt báo cáo mã \"{camp.id}\"")
                row = Campaign(id=camp.id, position=_next_position(s, Campaign), active=True)
            else:
                row = _writable_campaign(s, camp.id)
            _fill_campaign(row, camp, Source.STAFF)
            s.add(row)
            s.flush()
            decision = _decide(s, kind, change, campaign_id=camp.id)
            _bump(s)
        return decision

    def close_campaign(self, campaign_id: str, change: Change) -> int:
        with self.db.transaction() as s:
            row = _writable_campaign(s, campaign_id)
            if row.closed_at is not None:
                raise UsageError(f"đợt báo cáo \"{campaign_id}\" đã kết thúc từ trước")
            row.closed_at, row.closed_by = change.at, change.actor
            decision = _decide(s, DecisionKind.CAMPAIGN_CLOSE, change, campaign_id=campaign_id)
            _bump(s)
        return decision


# -- rows -----------------------------------------------------------------------


def _order(row: RowMapping) -> tuple[bool, int, str]:
    """The config's items first, in the config's order; then staff's, in the order they were added."""
    return row["source"] != Source.CONFIG, int(row["position"]), str(row["id"])


def _unit_entry(row: RowMapping) -> UnitEntry:
    return UnitEntry(id=row["id"], name=row["name"], group=row["group"], aliases=tuple(row["aliases"] or ()),
                     emails=tuple(row["emails"] or ()), source=Source(row["source"]))


def _campaign_entry(row: RowMapping) -> CampaignEntry:
    return CampaignEntry(id=row["id"], title=row["title"], opens=row["opens"], deadline=row["deadline"],
                         section_title=row["section_title"], units=tuple(row["units"] or ("*",)),
                         section_keywords=tuple(row["section_keywords"] or ()), remind=tuple(row["remind"] or ()),
                         source=Source(row["source"]), closed_at=row["closed_at"], closed_by=row["closed_by"],
                         outline=tuple((str(text), int(level)) for text, level in row["outline"] or ()),
                         outline_required=row["outline_required"])



def _fill_unit(row: Unit, unit: UnitEntry, source: Source) -> None:
    row.name, row.group, row.aliases, row.emails = unit.name, unit.group, list(unit.aliases), list(unit.emails)
    row.source, row.active = source, True


def _fill_campaign(row: Campaign, camp: CampaignEntry, source: Source) -> None:
    row.title, row.opens, row.deadline, row.section_title = camp.title, camp.opens, camp.deadline, camp.section_title
    row.units, row.section_keywords, row.remind = list(camp.units), list(camp.section_keywords), list(camp.remind)
    row.outline, row.outline_required = [[text, level] for text, level in camp.outline], camp.outline_required
    row.source = source


def _writable_unit(s: Session, unit_id: str, *, adding: bool) -> Unit | None:
    """The staff unit to change (None: a new one may be created); UsageError for a config unit,
    an id taken on add, or no such unit on edit and remove."""
    row = s.get(Unit, unit_id)
    if row is not None and row.active and row.source == Source.CONFIG:
        raise UsageError(f"đơn vị \"{unit_id}\" lấy từ tệp cấu hình: chỉ sửa được trong tệp cấu hình")
    if adding and row is not None and row.active:
        raise UsageError(f"đã có đơn vị mã \"{unit_id}\" (sửa bằng `intake units edit`)")
    if not adding and (row is None or not row.active):
        raise UsageError(f"không có đơn vị mã \"{unit_id}\" trong danh sách")
    return row


def _writable_campaign(s: Session, campaign_id: str) -> Campaign:
    row = s.get(Campaign, campaign_id)
    if row is None or not row.active:
        raise UsageError(f"không có đợt báo cáo mã \"{campaign_id}\"")
    if row.source == Source.CONFIG:
        raise UsageError(f"đợt báo cáo \"{campaign_id}\" lấy từ tệp cấu hình: chỉ sửa được trong tệp cấu hình")
    return row


def _wanted(unit: UnitEntry) -> set[str]:
    return {e.strip().lower() for e in unit.emails if e.strip()}


def _release_addresses(s: Session, unit: UnitEntry) -> None:
    wanted = _wanted(unit)
    for row in s.scalars(select(UnitAddress).where(UnitAddress.unit_id == unit.id)).all():
        if row.address not in wanted and row.source == ADDRESS_SOURCE[Source.STAFF]:
            s.delete(row)
    s.flush()


def _claim_addresses(s: Session, unit: UnitEntry) -> None:
    """The unit's addresses are then exactly `unit.emails` (plus those `units link` gave it); an
    address another unit of the roster still has is refused, one a removed unit had is taken over."""
    for address in sorted(_wanted(unit)):
        row = s.get(UnitAddress, address)
        if row is None:
            s.add(UnitAddress(address=address, unit_id=unit.id, source=ADDRESS_SOURCE[Source.STAFF]))
            continue
        if row.unit_id == unit.id:
            continue
        owner = s.get(Unit, row.unit_id)
        if owner is not None and owner.active:
            raise UsageError(f"--email: địa chỉ {address} đã đăng ký cho đơn vị {owner.name} ({owner.id})")
        row.unit_id, row.source = unit.id, ADDRESS_SOURCE[Source.STAFF]


def _next_position(s: Session, model: type[Unit] | type[Campaign]) -> int:
    return int(s.scalar(select(func.max(model.position)).where(model.source == Source.STAFF)) or 0) + 1


def _decide(s: Session, kind: DecisionKind, change: Change, *, unit_id: str | None = None,
            campaign_id: str | None = None) -> int:
    row = Decision(kind=kind, unit_id=unit_id, campaign_id=campaign_id, reason=change.reason,
                   decided_by=change.actor, decided_at=change.at)
    s.add(row)
    s.flush()
    return row.id


def _state(s: Session) -> CatalogState:
    insert_ignore(s, CatalogState, ["id"], {"id": STATE_ID, "version": 0, "config_digest": ""})
    row = s.get(CatalogState, STATE_ID)
    assert row is not None
    return row


def _bump(s: Session) -> None:
    """Raise the version in SQL (not read-modify-write): two concurrent changes give two versions."""
    _state(s)
    s.execute(update(CatalogState).where(CatalogState.id == STATE_ID).values(version=CatalogState.version + 1))
