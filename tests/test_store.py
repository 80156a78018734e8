"""The store on SQLite and on a private PostgreSQL: same code, same results."""
from __future__ import annotations

import datetime as dt
import hashlib
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

import intake.store.engine as engine_module
from intake.parsers.errors import StoreError
from intake.store.catalog import CampaignEntry, CatalogStore, UnitEntry
from intake.store.kinds import OutgoingKind, OutgoingState, Source
from intake.store.models import Message, MessageState
from intake.store.records import AttachmentRecord, Attribution, MessageRecord, OutgoingMail, ack_key
from intake.store.repository import NewMessage, Store
from intake.store.status import CampaignStatus, UnitState
from intake.store.users import Accounts

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


def test_a_new_message_is_written_with_its_decision_under_the_id_it_was_decided_for(
        store_url: str, tmp_path: Path) -> None:
    store = make_store(store_url, tmp_path)
    arrival = store.arrival(RAW, "a@x.vn", T0)
    assert arrival.existing is None and not arrival.facts.acknowledged
    attachment = AttachmentRecord(0, "bc.docx", "application/octet-stream", bytes(range(256)) * 40, "docx")
    record = MessageRecord(MessageState.PROCESSED, T0, from_address="a@x.vn", reference="TN24-00001",
                           attachments=(attachment,))
    mail = OutgoingMail(kind=OutgoingKind.ACK, dedupe_key=ack_key(arrival.pk), to_address="a@x.vn", subject="s",
                        our_message_id="<ack@x.vn>", raw=b"ack", state=OutgoingState.PENDING, created_at=T0,
                        message_pk=arrival.pk)
    got = store.ingest("imap:x", "INBOX", 7, "1", RAW, T0,
                       NewMessage(arrival.pk, Attribution("TN24-00001", "a@x.vn"), T0, record, mail))
    assert got.new and got.message_pk == arrival.pk and not got.taken
    assert store.state_of(got.message_pk) == MessageState.PROCESSED
    assert store.known_facts(got.message_pk, "a@x.vn", T0).acknowledged  # its acknowledgement, same commit
    assert store.attachment_file(got.message_pk, 0) is not None
    # Met again (another UIDVALIDITY): not new, and what came with it is not written.
    again = store.arrival(RAW, "a@x.vn", T0)
    assert again.existing == got.message_pk
    assert not store.ingest("imap:x", "INBOX", 8, "1", RAW, T0).new
    store.close()


def test_an_id_another_writer_took_meanwhile_writes_nothing(store_url: str, tmp_path: Path) -> None:
    store = make_store(store_url, tmp_path)
    arrival = store.arrival(RAW, "a@x.vn", T0)
    other = store.ingest("imap:x", "INBOX", 7, "2", RAW + b"other", T0)  # took the id meanwhile
    assert other.message_pk == arrival.pk
    got = store.ingest("imap:x", "INBOX", 7, "1", RAW, T0,
                       NewMessage(arrival.pk, Attribution("TN24-00001"), T0, failure="RuntimeError: x"))
    assert got.taken and not got.new
    assert store.seen_keys("imap:x", "INBOX", 7) == {"2"}  # no ledger entry: it is decided again
    again = store.arrival(RAW, "a@x.vn", T0)
    failed = store.ingest("imap:x", "INBOX", 7, "1", RAW, T0,
                          NewMessage(again.pk, Attribution("TN24-00002", "a@x.vn"), T0, failure="RuntimeError: x"))
    assert failed.new and store.state_of(failed.message_pk) == MessageState.FAILED
    view = store.message_view(failed.message_pk)
    assert view.error == "RuntimeError: x" and view.reference == "TN24-00002"
    store.close()


def test_files_that_cannot_be_written_leave_nothing_stored(store_url: str, tmp_path: Path) -> None:
    store = make_store(store_url, tmp_path)
    raw = RAW + b"blocked"
    blocker = tmp_path / "files" / hashlib.sha256(raw).hexdigest()[:2]
    blocker.parent.mkdir(parents=True, exist_ok=True)
    blocker.write_bytes(b"a file where the folder should be")
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


@contextmanager
def writer_holding(store: Store, pk: int) -> Iterator[None]:
    """A writer in another thread that has written (it holds the write lock) until the block ends."""
    writing, release = threading.Event(), threading.Event()

    def write() -> None:
        with store.db.connection() as c:
            c.exec_driver_sql(f"UPDATE messages SET error = 'held' WHERE id = {int(pk)}")
            writing.set()
            release.wait(30)

    thread = threading.Thread(target=write)
    thread.start()
    try:
        assert writing.wait(30)
        yield
    finally:
        release.set()
        thread.join(30)


def in_thread(fn: Callable[[], object], seconds: float = 10) -> object:
    """`fn()` run in another thread; fails when it is still running after `seconds` (a reader waiting for
    the writer would wait the busy timeout, 30 s)."""
    done: list[object] = []
    thread = threading.Thread(target=lambda: done.append(fn()))
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive() and len(done) == 1, "blocked"
    return done[0]


def test_readers_wait_for_no_writer_holding_its_transaction(store_url: str, tmp_path: Path) -> None:
    store = make_store(store_url, tmp_path)
    pk = store.ingest("imap:x", "INBOX", 7, "1", RAW, T0).message_pk
    accounts = Accounts(store.db)
    with writer_holding(store, pk):
        assert in_thread(lambda: store.message_view(pk).error) is None  # not the writer's uncommitted 'held'
        status = in_thread(lambda: store.campaign_status("c", "Chuyên đề", T0, ["u1"]))
        assert isinstance(status, CampaignStatus) and len(status.units) == 1
        assert in_thread(lambda: store.seen_keys("imap:x", "INBOX", 7)) == {"1"}
        assert in_thread(lambda: store.known_facts(pk, "a@b.vn", T0).acknowledged) is False
        assert in_thread(lambda: accounts.password_hash("hoa")) is None
    assert store.message_view(pk).error == "held"
    store.close()


def test_a_reader_holds_up_no_writer_and_its_reads_share_one_snapshot(store_url: str, tmp_path: Path) -> None:
    store = make_store(store_url, tmp_path)
    pk = store.ingest("imap:x", "INBOX", 7, "1", RAW, T0).message_pk

    def write() -> None:
        with store.db.connection() as c:
            c.exec_driver_sql(f"UPDATE messages SET error = 'written' WHERE id = {int(pk)}")

    with store.db.reading():
        assert store.message_view(pk).error is None
        in_thread(write)  # committed while the read is open
        assert store.message_view(pk).error is None  # the page's next read: the same snapshot
        assert store.state_of(pk) == MessageState.STORED
    assert store.message_view(pk).error == "written"
    store.close()


def test_writers_in_one_process_take_turns_on_the_process_lock_not_sqlite_busy_waits(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # With SQLite's busy timeout far below how long the first writer holds the lock, the second gets
    # through only by waiting its turn in the process (without the lock: "database is locked").
    monkeypatch.setattr(engine_module, "SQLITE_BUSY_MS", 100)
    store = make_store(f"sqlite:///{tmp_path / 'intake.db'}", tmp_path)
    pk = store.ingest("imap:x", "INBOX", 7, "1", RAW, T0).message_pk
    order: list[str] = []

    def second() -> None:
        with store.db.connection() as c:
            c.exec_driver_sql(f"UPDATE messages SET error = 'second' WHERE id = {int(pk)}")
        order.append("second")

    with writer_holding(store, pk):
        thread = threading.Thread(target=second)
        thread.start()
        time.sleep(0.5)  # five busy timeouts
        order.append("first")
    thread.join(30)
    assert order == ["first", "second"]
    assert store.message_view(pk).error == "second"
    store.close()
