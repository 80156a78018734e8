"""The store on SQLite and on a private PostgreSQL: same code, same results."""
from __future__ import annotations

import datetime as dt
import hashlib
import logging
from pathlib import Path

import pytest

import intake.store.files as files_module
from intake.parsers.errors import StoreError
from intake.store.catalog import CampaignEntry, CatalogStore, UnitEntry
from intake.store.kinds import Source
from intake.store.models import Message, MessageState
from intake.store.repository import Store
from intake.store.status import UnitState

T0 = dt.datetime(2024, 2, 20, 2, 0, tzinfo=dt.UTC)
RAW = b"From: a@x.vn\r\nMessage-ID: <one@x.vn>\r\nSubject: s\r\n\r\nbody\r\n"


def make_store(url: str, tmp_path: Path) -> Store:
    store = Store(url, tmp_path / "files")
    CatalogStore(store.db).sync_config(
        [UnitEntry("u1", "LĐLĐ huyện Bảo Thắng", "huyen", (), ("A@X.vn",), Source.CONFIG)],
        [CampaignEntry("c", "Chuyên đề", T0, T0 + dt.timedelta(days=9), "Đánh giá", source=Source.CONFIG)])
    return store


def test_ingest_is_idempotent_by_mailbox_key_and_by_identity(store_url: str, tmp_path: Path) -> None:
    store = make_store(store_url, tmp_path)
    first = store.ingest("imap:x", "INBOX", 7, "1", RAW, T0)
    again = store.ingest("imap:x", "INBOX", 7, "1", RAW, T0)
    moved = store.ingest("imap:x", "INBOX", 8, "1", RAW, T0)  # UIDVALIDITY changed: same message
    assert first.new and not again.new and not moved.new
    assert first.message_pk == again.message_pk == moved.message_pk
    assert store.seen_keys("imap:x", "INBOX", 8) == {"1"}
    received, raw = store.raw_of(first.message_pk)
    assert raw == RAW and received == T0
    assert store.messages_in_state(MessageState.STORED) == [first.message_pk]
    with store.session() as s:
        row = s.get(Message, first.message_pk)
        assert row is not None
        assert (tmp_path / "files" / row.raw_path).read_bytes() == RAW
    other = store.ingest("imap:x", "INBOX", 8, "2", RAW + b"changed", T0)
    assert other.new and other.message_pk != first.message_pk
    store.close()


def test_files_kept_ahead_are_found_in_place_by_ingest(store_url: str, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    store = make_store(store_url, tmp_path)
    attachment = bytes(range(256)) * 40
    digests = store.keep_files(RAW, [attachment])
    assert digests == [hashlib.sha256(RAW).hexdigest(), hashlib.sha256(attachment).hexdigest()]
    files = sorted(p for p in (tmp_path / "files").rglob("*") if p.is_file())
    kept = {p: p.stat().st_ino for p in files}
    hashed: list[bytes] = []
    monkeypatch.setattr(files_module, "sha256_hex", lambda data: hashed.append(data) or "0" * 64)

    def known(data: bytes) -> str | None:  # what the read-ahead answers: only for these very objects
        return dict(zip(map(id, (RAW, attachment)), digests or [], strict=True)).get(id(data))

    got = store.ingest("imap:x", "INBOX", 7, "1", RAW, T0, attachments=[attachment], known=known)
    assert hashed == []  # both digests came from keep_files
    assert got.new and len(files) == 2 and store.raw_of(got.message_pk)[1] == RAW
    # Neither file was written again: the same inodes (a rewrite renames a new file over the old).
    assert {p: p.stat().st_ino for p in files} == kept
    assert sorted(p for p in (tmp_path / "files").rglob("*") if p.is_file()) == files
    store.close()


def test_files_that_cannot_be_kept_ahead_are_left_to_ingest_which_reports_it(
        store_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    store = make_store(store_url, tmp_path)
    raw = RAW + b"blocked"
    blocker = tmp_path / "files" / hashlib.sha256(raw).hexdigest()[:2]
    blocker.parent.mkdir(parents=True, exist_ok=True)
    blocker.write_bytes(b"a file where the folder should be")
    with caplog.at_level(logging.INFO, logger="intake.store.repository"):
        assert store.keep_files(raw, []) is None  # logged, not raised: the read-ahead thread goes on
    assert "its ingest will try again" in caplog.text
    with pytest.raises(StoreError, match="cannot write"):
        store.ingest("imap:x", "INBOX", 7, "2", raw, T0)
    assert store.messages_in_state(MessageState.STORED) == []
    store.close()


def test_times_round_trip_as_utc_and_status_counts(store_url: str, tmp_path: Path) -> None:
    store = make_store(store_url, tmp_path)
    pk = store.ingest("m", "INBOX", 0, "k", RAW, T0.astimezone(dt.timezone(dt.timedelta(hours=7)))).message_pk
    with store.session() as s:
        msg = s.get(Message, pk)
        assert msg is not None
        msg.state, msg.unit_id, msg.campaign_id, msg.has_report = MessageState.PROCESSED, "u1", "c", True
    received, _ = store.raw_of(pk)
    assert received == T0 and received.tzinfo is not None
    status = store.campaign_status("c", "Chuyên đề", T0 + dt.timedelta(days=9), ["u1"])
    assert [(u.id, u.status, u.submissions) for u in status.units] == [("u1", UnitState.ON_TIME, 1)]
    assert store.registered_addresses() == {"a@x.vn": "u1"}
    store.close()


def test_folder_state_and_ledger(store_url: str, tmp_path: Path) -> None:
    store = make_store(store_url, tmp_path)
    assert store.folder_state("imap:x", "INBOX") is None
    store.set_folder_state("imap:x", "INBOX", 5, 10)
    store.set_folder_state("imap:x", "INBOX", 5, 12)
    assert store.folder_state("imap:x", "INBOX") == (5, 12)
    store.record_seen("imap:x", "INBOX", 5, "11")
    store.record_seen("imap:x", "INBOX", 5, "11")
    assert store.seen_keys("imap:x", "INBOX", 5) == {"11"}
    store.close()


def test_reads_wait_for_no_writer_and_writers_in_one_process_take_turns(store_url: str, tmp_path: Path) -> None:
    import threading

    store = make_store(store_url, tmp_path)
    pk = store.ingest("imap:x", "INBOX", 7, "1", RAW, T0).message_pk
    writing, release = threading.Event(), threading.Event()
    order: list[str] = []

    def writer(name: str, hold: bool) -> None:
        with store.db.connection() as c:
            order.append(f"{name} in")
            c.exec_driver_sql(f"UPDATE messages SET error = 'x' WHERE id = {int(pk)}")
            if hold:
                writing.set()
                release.wait(30)
            order.append(f"{name} out")

    first = threading.Thread(target=writer, args=("first", True))
    first.start()
    assert writing.wait(30)
    facts: list[object] = []
    reader = threading.Thread(target=lambda: facts.append(store.known_facts(pk, "a@b.vn", T0)))
    reader.start()
    reader.join(20)  # a reader that waited for the writer would still be waiting (its timeout is 30 s)
    assert not reader.is_alive() and len(facts) == 1
    second = threading.Thread(target=writer, args=("second", False))
    second.start()
    release.set()
    for thread in (first, second):
        thread.join(30)
    assert order == ["first in", "first out", "second in", "second out"]
    store.close()
