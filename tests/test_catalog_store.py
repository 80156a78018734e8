"""The catalog in the store (store/catalog.py) on SQLite and PostgreSQL: the config's items mirrored
read-only, staff's kept beside them, every staff change a decision, the version raised by each."""
from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest

from intake.parsers.errors import UsageError
from intake.store.catalog import CampaignEntry, CatalogStore, Change, UnitEntry
from intake.store.kinds import DecisionKind, Source
from intake.store.repository import Store

T0 = dt.datetime(2024, 2, 20, 2, 0, tzinfo=dt.UTC)
CONFIG_UNIT = UnitEntry("ldld-bao-thang", "LĐLĐ huyện Bảo Thắng", "huyen", (), ("ldldbaothang@gmail.com",),
                        Source.CONFIG)
CONFIG_CAMP = CampaignEntry("chuyen-de-2024", "Chuyên đề 2024", T0, T0 + dt.timedelta(days=9), "Đánh giá",
                            remind=("-3d",), source=Source.CONFIG)
BAC_HA = UnitEntry("ldld-bac-ha", "LĐLĐ huyện Bắc Hà", "huyen", ("Liên đoàn Lao động huyện Bắc Hà",),
                   ("ldldbacha@gmail.com",))
WHO = Change(actor="hoa", at=T0, reason="")


@pytest.fixture
def store(store_url: str, tmp_path: Path) -> Store:
    made = Store(store_url, tmp_path / "files")
    CatalogStore(made.db).sync_config([CONFIG_UNIT], [CONFIG_CAMP])
    yield made
    made.close()


def test_the_config_is_mirrored_once_and_staff_items_stay_beside_it(store: Store) -> None:
    catalog = CatalogStore(store.db)
    first = catalog.version()
    assert catalog.sync_config([CONFIG_UNIT], [CONFIG_CAMP]) is False  # unchanged: nothing written
    assert catalog.version() == first
    catalog.save_units([(BAC_HA, DecisionKind.UNIT_ADD)], WHO)
    assert catalog.version() == first + 1
    rows = catalog.read()
    assert [(u.id, u.source) for u in rows.units] == [("ldld-bao-thang", Source.CONFIG), ("ldld-bac-ha", Source.STAFF)]
    assert rows.campaigns == (CONFIG_CAMP,)
    # The config drops its unit and campaign: they leave the catalog, staff's unit stays.
    assert catalog.sync_config([], []) is True
    rows = catalog.read()
    assert [u.id for u in rows.units] == ["ldld-bac-ha"] and rows.campaigns == ()
    assert store.registered_addresses() == {"ldldbacha@gmail.com": "ldld-bac-ha"}


def test_config_items_are_read_only(store: Store) -> None:
    catalog = CatalogStore(store.db)
    before = catalog.version()
    with pytest.raises(UsageError, match="tệp cấu hình"):
        catalog.save_units([(dataclasses.replace(CONFIG_UNIT, name="x", source=Source.STAFF),
                             DecisionKind.UNIT_EDIT)], WHO)
    with pytest.raises(UsageError, match="tệp cấu hình"):
        catalog.remove_unit("ldld-bao-thang", WHO)
    with pytest.raises(UsageError, match="tệp cấu hình"):
        catalog.close_campaign("chuyen-de-2024", WHO)
    with pytest.raises(UsageError, match="tệp cấu hình"):
        catalog.save_campaign(dataclasses.replace(CONFIG_CAMP, title="x"), DecisionKind.CAMPAIGN_EDIT, WHO)
    assert catalog.version() == before and store.decisions() == []


def test_unit_add_edit_remove_each_a_decision_and_history_kept(store: Store) -> None:
    catalog = CatalogStore(store.db)
    catalog.save_units([(BAC_HA, DecisionKind.UNIT_ADD)], WHO)
    with pytest.raises(UsageError, match="đã có đơn vị"):
        catalog.save_units([(BAC_HA, DecisionKind.UNIT_ADD)], WHO)
    excuse = store.add_decision(DecisionKind.EXCUSE, "ldld-bac-ha", "chuyen-de-2024", reason="sáp nhập",
                                decided_by="hoa", decided_at=T0)
    moved = dataclasses.replace(BAC_HA, emails=("vanthu.bacha@gmail.com",), group="")
    catalog.save_units([(moved, DecisionKind.UNIT_EDIT)], Change("lan", T0, "địa chỉ: a → b"))
    assert store.registered_addresses()["vanthu.bacha@gmail.com"] == "ldld-bac-ha"
    assert "ldldbacha@gmail.com" not in store.registered_addresses()
    catalog.remove_unit("ldld-bac-ha", Change("lan", T0 + dt.timedelta(hours=1)))
    assert [u.id for u in catalog.read().units] == ["ldld-bao-thang"]
    assert "vanthu.bacha@gmail.com" not in store.registered_addresses()
    assert catalog.unit("ldld-bac-ha") == (moved, False)  # the row stays for its history
    kinds = [(d.kind, d.unit_id, d.unit_name, d.decided_by) for d in store.decisions()]
    assert kinds == [("unit_add", "ldld-bac-ha", "LĐLĐ huyện Bắc Hà", "hoa"),
                     ("excuse", "ldld-bac-ha", "LĐLĐ huyện Bắc Hà", "hoa"),
                     ("unit_edit", "ldld-bac-ha", "LĐLĐ huyện Bắc Hà", "lan"),
                     ("unit_remove", "ldld-bac-ha", "LĐLĐ huyện Bắc Hà", "lan")]
    assert store.decision(excuse.id) == excuse
    with pytest.raises(UsageError, match="không có đơn vị"):
        catalog.remove_unit("ldld-bac-ha", WHO)
    catalog.save_units([(BAC_HA, DecisionKind.UNIT_ADD)], WHO)  # added again: back, at the end of the roster
    assert [u.id for u in catalog.read().units] == ["ldld-bao-thang", "ldld-bac-ha"]


def test_an_address_another_unit_has_is_refused_but_may_move_within_one_change(store: Store) -> None:
    catalog = CatalogStore(store.db)
    with pytest.raises(UsageError, match="Bảo Thắng"):
        catalog.save_units([(dataclasses.replace(BAC_HA, emails=("ldldbaothang@gmail.com",)),
                             DecisionKind.UNIT_ADD)], WHO)
    assert [u.id for u in catalog.read().units] == ["ldld-bao-thang"]  # nothing of it written
    si_ma_cai = UnitEntry("ldld-si-ma-cai", "LĐLĐ huyện Si Ma Cai", emails=("chung@gmail.com",))
    catalog.save_units([(BAC_HA, DecisionKind.UNIT_ADD), (si_ma_cai, DecisionKind.UNIT_ADD)], WHO)
    # One import: Bắc Hà takes the address Si Ma Cai gives up, whatever the order of the rows.
    catalog.save_units([(dataclasses.replace(BAC_HA, emails=("chung@gmail.com",)), DecisionKind.UNIT_EDIT),
                        (dataclasses.replace(si_ma_cai, emails=()), DecisionKind.UNIT_EDIT)], WHO)
    assert store.registered_addresses() == {"ldldbaothang@gmail.com": "ldld-bao-thang",
                                            "chung@gmail.com": "ldld-bac-ha"}


def test_campaign_add_edit_close(store: Store) -> None:
    catalog = CatalogStore(store.db)
    camp = CampaignEntry("thi-dua-2024", "Thi đua 2024", T0, T0 + dt.timedelta(days=20), "Kết quả thi đua",
                         units=("group:huyen", "ldld-bac-ha"), remind=("-3d", "+1d"), section_keywords=("thi đua",))
    catalog.save_campaign(camp, DecisionKind.CAMPAIGN_ADD, WHO)
    with pytest.raises(UsageError, match="đã có đợt"):
        catalog.save_campaign(camp, DecisionKind.CAMPAIGN_ADD, WHO)
    later = dataclasses.replace(camp, deadline=T0 + dt.timedelta(days=30))
    catalog.save_campaign(later, DecisionKind.CAMPAIGN_EDIT, Change("lan", T0, "hạn: … → …"))
    assert catalog.read().campaigns == (CONFIG_CAMP, later)
    catalog.close_campaign("thi-dua-2024", Change("lan", T0 + dt.timedelta(days=31)))
    closed = catalog.read().campaigns[1]
    assert closed.closed_at == T0 + dt.timedelta(days=31) and closed.closed_by == "lan"
    with pytest.raises(UsageError, match="đã kết thúc"):
        catalog.close_campaign("thi-dua-2024", WHO)
    assert [(d.kind, d.campaign_id) for d in store.decisions("thi-dua-2024")] == [
        ("campaign_add", "thi-dua-2024"), ("campaign_edit", "thi-dua-2024"), ("campaign_close", "thi-dua-2024")]
