"""The catalog as the rest of the processor sees it: the roster and the campaigns, read from the store.

The store holds both the config's items (mirrored at every start by
`mirror_config`, read-only) and staff's (`intake units …`, `intake campaign
…`, the dashboard). Code that needs units or campaigns calls
`read_catalog(store)` (or `App.catalog()`), never the config's lists; the
pipeline keeps one and reads it again when `version` changed.
"""
from __future__ import annotations

from dataclasses import dataclass

from intake.parsers.errors import UsageError
from intake.parsers.guide import TemplateHeading
from intake.processor.config import CampaignConfig, Config, RemindPoint, remind_offset
from intake.processor.units import UnitConfig
from intake.store.catalog import CampaignEntry, CatalogStore, UnitEntry
from intake.store.kinds import Source
from intake.store.repository import Store

__all__ = ["NO_CAMPAIGN", "Catalog", "campaign_entry", "mirror_config", "read_catalog", "unit_entry"]

NO_CAMPAIGN = "chưa có đợt báo cáo nào: tạo một đợt bằng `intake campaign add`"
SOURCE_VI = {Source.CONFIG: "từ tệp cấu hình", Source.STAFF: "do cán bộ tạo"}


@dataclass(frozen=True)
class Catalog:
    version: int
    units: tuple[UnitConfig, ...]            # the roster, in order (removed units left out)
    campaigns: tuple[CampaignConfig, ...]    # closed ones included

    def campaign(self, campaign_id: str | None) -> CampaignConfig:
        """The campaign named; with none named, the only campaign still running (or the only one)."""
        if campaign_id is None:
            running = [c for c in self.campaigns if not c.closed]
            if len(running) == 1 or len(self.campaigns) == 1:
                return (running or list(self.campaigns))[0]
            if not self.campaigns:
                raise UsageError(NO_CAMPAIGN)
            ids = ", ".join(c.id for c in running or self.campaigns)
            raise UsageError(f"--campaign: có nhiều đợt báo cáo ({ids}): chọn một đợt")
        for camp in self.campaigns:
            if camp.id == campaign_id:
                return camp
        if not self.campaigns:
            raise UsageError(NO_CAMPAIGN)
        raise UsageError(f"--campaign: không có đợt báo cáo \"{campaign_id}\" (xem `intake campaign list`)")

    def unit(self, unit_id: str | None) -> UnitConfig | None:
        return next((u for u in self.units if u.id == unit_id), None)

    def groups(self) -> tuple[str, ...]:
        return tuple(sorted({u.group for u in self.units if u.group}))


def read_catalog(store: Store) -> Catalog:
    rows = CatalogStore(store.db).read()
    return Catalog(version=rows.version, units=tuple(_unit(u) for u in rows.units),
                   campaigns=tuple(_campaign(c) for c in rows.campaigns))


def mirror_config(store: Store, cfg: Config) -> None:
    """Mirror the config's [[units]] / units_file / [[campaigns]] into the store's catalog."""
    CatalogStore(store.db).sync_config([unit_entry(u) for u in cfg.units],
                                       [campaign_entry(c) for c in cfg.campaigns])


def unit_entry(unit: UnitConfig) -> UnitEntry:
    return UnitEntry(id=unit.id, name=unit.name, group=unit.group, aliases=unit.aliases, emails=unit.emails,
                     source=unit.source)


def campaign_entry(camp: CampaignConfig) -> CampaignEntry:
    return CampaignEntry(id=camp.id, title=camp.title, opens=camp.opens, deadline=camp.deadline,
                         section_title=camp.section_title, units=camp.units, section_keywords=camp.section_keywords,
                         remind=tuple(p.label for p in camp.remind), source=camp.source, closed_at=camp.closed_at,
                         outline=tuple((h.text, h.level) for h in camp.outline),
                         outline_required=camp.outline_required)


def _unit(entry: UnitEntry) -> UnitConfig:
    return UnitConfig(id=entry.id, name=entry.name, aliases=entry.aliases, emails=entry.emails, group=entry.group,
                      source=entry.source)


def _campaign(entry: CampaignEntry) -> CampaignConfig:
    return CampaignConfig(id=entry.id, title=entry.title, opens=entry.opens, deadline=entry.deadline,
                          section_title=entry.section_title, units=entry.units,
                          section_keywords=entry.section_keywords,
                          remind=tuple(RemindPoint(label, remind_offset(label)) for label in entry.remind),
                          source=entry.source, closed_at=entry.closed_at,
                          outline=tuple(TemplateHeading(text, level) for text, level in entry.outline),
                          outline_required=entry.outline_required)
