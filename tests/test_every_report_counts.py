"""SPEC "Every report counts": over every message of every corpus the project has, and with a fault
injected at each stage (reading documents, a document worker dying, deciding, composing, sending),
every message ends attributed to a unit, or in `unmatched`, or ignored with its reason, never none;
a known unit's failed message counts for it (on time or late) with `processing_failed`, and `retry`
processes it again once the fault is gone.

Everything real: the Maildir, SQLite, the document workers (for the dying one), aiosmtpd stopped
for the SMTP fault. The faults are injected where a bug or a library's error would strike."""
from __future__ import annotations

import collections
import datetime as dt
import functools
import os
import signal
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest
from servers.smtp import SmtpServer
from sqlalchemy import select
from staffkit import STUDY, Clock, at, make_app, make_config, message, report_docx, with_attachment
from test_hostile_headers import CASES as HOSTILE_HEADERS
from test_hostile_parse import BROKEN
from test_never_acknowledge import CASES as NEVER_ACKNOWLEDGE

import intake.processor.ingest.pipeline as pipeline_module
import intake.processor.reading.work as work_module
from intake.parsers.errors import HeaderError
from intake.parsers.model import Outline, Problem
from intake.processor.app import App
from intake.processor.config import Config
from intake.processor.services import Office
from intake.processor.staff.report import status_json
from intake.store.models import Message, MessageState, Outgoing, OutgoingKind, OutgoingState
from intake.store.repository import body_text

ROOT = Path(__file__).resolve().parent.parent
NOW = at("2024-02-27 10:00")
WORD = "application/msword"
SENDERS = (("ldldbaothang@gmail.com", ""),                         # registered
           ("vanthu.sapa@yahoo.com", "LĐLĐ thị xã Sa Pa"),         # by display name: sender_not_registered
           ("nguoila@example.org", "Người lạ"))                    # nobody: unmatched


# The documents only LibreOffice reads: their messages are the `libreoffice` corpus, run in the slow tier.
LIBREOFFICE_SUFFIXES = (".doc", ".odt", ".rtf")


@functools.cache  # built once per session: a fifth of this module's time was building it again for each test
def corpus(*, libreoffice: bool = False) -> Mapping[str, bytes]:
    """Every message the project's tests and examples carry, and its documents sent as mail; with
    `libreoffice`, the documents that LibreOffice converts instead, sent as mail."""
    found: dict[str, bytes] = {}
    documents = sorted(p for p in (ROOT / "tests" / "fixtures" / "documents").iterdir()
                       if p.name.endswith(LIBREOFFICE_SUFFIXES) == libreoffice)
    if not libreoffice:
        for path in sorted((ROOT / "examples" / "maildir").glob("*/*")):
            found[f"examples/{path.name}"] = path.read_bytes()
        found.update({f"hostile-headers/{k}": v for k, v in HOSTILE_HEADERS.items()})
        found.update({f"hostile-parse/{k}": v[0] for k, v in BROKEN.items()})
        found.update({f"never-acknowledge/{k}": v.raw() for k, v in NEVER_ACKNOWLEDGE.items()})
        documents = sorted((ROOT / "tests" / "corpus" / "docs").glob("*.docx")) + documents
    for i, path in enumerate(documents):
        sender, name = SENDERS[i % len(SENDERS)]
        raw = message(sender, at("2024-02-20 08:00") + dt.timedelta(minutes=i), name=name,
                      msgid=f"<corpus-{i}@mail.gmail.com>", subject=f"Báo cáo {path.name}")
        found[f"document/{path.name}"] = with_attachment(raw, path.name, path.read_bytes())
    found["document/generated"] = message(SENDERS[0][0], at("2024-02-21 08:00"), msgid="<gen@mail.gmail.com>",
                                          docx=report_docx("LĐLĐ huyện Bảo Thắng", "II. ĐÁNH GIÁ KẾT QUẢ HỌC TẬP "
                                                           "CHUYÊN ĐỀ NĂM 2024", STUDY))
    return MappingProxyType(found)


def load(tmp: Path, *, only: tuple[str, ...] = (), libreoffice: bool = False,
         **changes: Any) -> tuple[Config, int]:
    """The config, and the corpus dropped into the Maildir (`only`: the corpora named, e.g. "examples/";
    `libreoffice`: the documents LibreOffice converts)."""
    cfg = make_config(tmp, sending=changes.pop("sending", None), staff=changes.pop("staff", None))
    cfg = replace(cfg, acknowledge=replace(cfg.acknowledge, max_per_hour=100000), **changes)
    box = tmp / "maildir"
    for sub in ("new", "cur", "tmp"):
        (box / sub).mkdir(parents=True, exist_ok=True)
    messages = {k: v for k, v in corpus(libreoffice=libreoffice).items() if not only or k.startswith(only)}
    for n, raw in enumerate(messages.values()):
        (box / "new" / f"{n:04d}.corpus").write_bytes(raw)
    return cfg, len(set(messages.values()))  # the same bytes twice are one message


# -- the invariant ---------------------------------------------------------------------------------


def assert_every_message_counts(app: App) -> collections.Counter[str]:
    """SPEC "Every report counts", checked message by message against what staff see (`status --json`).
    Returns how the messages ended."""
    tz = app.cfg.timezone
    seen = {c.id: status_json(app.status(c.id), tz) for c in app.cfg.campaigns}
    ended: collections.Counter[str] = collections.Counter()
    with app.store.session() as s:
        rows = list(s.scalars(select(Message)).all())
        s.expunge_all()
    for m in rows:
        where = f"{m.reference} {m.message_id} ({m.state})"
        assert m.state != MessageState.STORED, f"never processed: {where}"
        assert m.reference, f"no reference: {where}"
        if m.ignore_reason:
            ended["ignored"] += 1
            continue
        assert m.campaign_id, f"no campaign: {where}"
        assert m.state != MessageState.IGNORED, f"ignored without a reason: {where}"
        status = seen[m.campaign_id]
        if m.unit_id is None:
            assert m.message_id in {u["message_id"] for u in status["unmatched"]}, f"hidden: {where}"
            ended["unmatched"] += 1
            continue
        (unit,) = [u for u in status["units"] if u["id"] == m.unit_id]
        assert unit["submissions"] >= 1, f"not counted for {m.unit_id}: {where}"
        ended["attributed"] += 1
        if m.state == MessageState.FAILED:
            ended["failed"] += 1
            assert unit["status"] in ("on_time", "late"), f"{m.unit_id} shown {unit['status']}: {where}"
            assert Problem.PROCESSING_FAILED in m.problems and m.error, where
    for status in seen.values():
        for unit in status["units"]:
            latest = unit["latest"]
            if latest is not None and _state_of(rows, latest["message_id"]) == MessageState.FAILED:
                assert "processing_failed" in latest["problems"], unit
    return ended


def _state_of(rows: list[Message], message_id: str) -> MessageState:
    (state,) = {m.state for m in rows if m.message_id == message_id and m.ignore_reason is None}
    return state


def failed_count(app: App) -> int:
    with app.store.session() as s:
        return len(s.scalars(select(Message.id).where(Message.state == MessageState.FAILED)).all())


# -- the faults ------------------------------------------------------------------------------------


# The corpus, and apart (the slow tier's: LibreOffice) the documents LibreOffice converts.
@pytest.mark.parametrize("libreoffice", [False, pytest.param(True, marks=pytest.mark.slow)])
def test_the_whole_corpus_without_a_fault_counts_every_message(tmp_path: Path, libreoffice: bool) -> None:
    cfg, total = load(tmp_path, libreoffice=libreoffice)
    app = make_app(cfg, Clock(NOW))
    try:
        app.run_once()
        ended = assert_every_message_counts(app)
    finally:
        app.close()
        app.store.close()
    assert sum(ended[k] for k in ("attributed", "unmatched", "ignored")) == total
    assert ended["attributed"] and ended["unmatched"] and not ended["failed"]
    assert ended["ignored"] or libreoffice  # the documents alone hold no auto-reply


def _raise(what: str) -> Callable[..., Any]:
    def fault(*_args: object, **_kwargs: object) -> Any:
        raise RuntimeError(f"injected fault: {what}")
    return fault


FAULTS: dict[str, tuple[str, Callable[..., Any]]] = {
    # A bug or a library's error while reading a document (not a DocumentError: nothing expects it).
    "reading a document raises": ("read_document", _raise("document reader")),
    "deciding raises": ("decide", _raise("decide")),
}


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_a_fault_while_processing_keeps_every_message_counted_and_retry_recovers(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fault: str) -> None:
    cfg, total = load(tmp_path)
    app = make_app(cfg, Clock(NOW))
    where, injected = FAULTS[fault]
    try:
        with monkeypatch.context() as patch:
            if where == "decide":
                patch.setattr(pipeline_module, "decide", injected)
            else:
                patch.setattr(work_module, "read_document", injected)
            app.run_once()
            ended = assert_every_message_counts(app)
            assert ended["failed"] > 0
            assert sum(ended[k] for k in ("attributed", "unmatched", "ignored")) == total
            assert status_json(app.status(None), cfg.timezone)["unmatched"]  # strangers' failed messages
        # The fault fixed (an upgrade): `retry --failed` processes them, and each is counted still.
        results = Office(app).retry_failed()
        assert results and all(r.ok for r in results)
        assert failed_count(app) == 0
        assert_every_message_counts(app)
    finally:
        app.close()
        app.store.close()


def test_decide_raising_for_a_known_unit_shows_it_on_time_with_processing_failed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The issue's case: nothing of the message shown, the unit read "Chưa gửi" though it sent."""
    cfg, _ = load(tmp_path, only=("examples/", "document/"),
                  staff={"emails": ["truongban@example.test"], "digest_at": "08:00"})
    monkeypatch.setattr(pipeline_module, "decide", _raise("decide"))
    app = make_app(cfg, Clock(NOW))
    try:
        app.run_once()
        status = status_json(app.status(None), cfg.timezone)
        missing = status_json(Office(app).missing(None), cfg.timezone)
        assert app.reminders.digest() == 1
        with app.store.session() as s:
            by_name = list(s.scalars(select(Message).where(Message.from_address == SENDERS[1][0])).all())
            (digest,) = s.scalars(select(Outgoing.raw).where(Outgoing.kind == OutgoingKind.DIGEST)).all()
            s.expunge_all()
    finally:
        app.close()
        app.store.close()
    (unit,) = [u for u in status["units"] if u["id"] == "ldld-bao-thang"]
    assert unit["status"] == "on_time" and unit["received_at"] is not None
    assert unit["latest"]["problems"] == ["processing_failed"]
    assert unit["latest"]["reference"].startswith("TN")
    (sapa,) = [u for u in status["units"] if u["id"] == "ldld-sa-pa"]
    assert sapa["status"] == "on_time"
    # Matched by the display name before processing: flagged as SPEC says, and failed.
    assert by_name and {m.unit_id for m in by_name} == {"ldld-sa-pa"}
    assert all(m.problems == ["sender_not_registered", "processing_failed"] for m in by_name)
    # `missing` lists it (its latest report has a problem), the digest names it, neither says "Chưa gửi".
    assert "ldld-bao-thang" in {u["id"] for u in missing["units"]}
    text = body_text(digest)
    failed_part = text.split("chưa xử lý được", 1)[1].split("\n- ", 1)[0]
    assert "+ LĐLĐ huyện Bảo Thắng (TN" in failed_part and "RuntimeError: injected fault: decide" in failed_part
    never_sent = text.split("Đơn vị chưa gửi:", 1)[1].split("\n- ", 1)[0] if "Đơn vị chưa gửi:" in text else ""
    assert "Bảo Thắng" not in never_sent


def test_composing_the_acknowledgement_raising_costs_only_the_acknowledgement(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg, total = load(tmp_path)

    def compose_fails(*_args: object, **_kwargs: object) -> Any:
        raise HeaderError("In-Reply-To is RFC 2047-encoded")

    monkeypatch.setattr(pipeline_module, "compose_ack", compose_fails)
    app = make_app(cfg, Clock(NOW))
    try:
        app.run_once()
        ended = assert_every_message_counts(app)
        with app.store.session() as s:
            acks = list(s.scalars(select(Outgoing)).all())
            reference = s.scalar(select(Message.reference).where(Message.id == acks[0].message_pk))
            s.expunge_all()
        shown = Office(app).show(str(reference))
    finally:
        app.close()
        app.store.close()
    assert not ended["failed"]  # the report is recorded: unit, section, problems
    assert sum(ended[k] for k in ("attributed", "unmatched", "ignored")) == total
    assert acks and all(a.state == OutgoingState.FAILED and "HeaderError" in (a.last_error or "") for a in acks)
    assert shown.acknowledgement is not None and shown.acknowledgement.state == "failed"
    assert shown.section is not None or shown.problems


def test_smtp_failing_costs_nothing_but_a_later_send(tmp_path: Path, smtp_server: SmtpServer) -> None:
    smtp_server.stop()
    sending = {"kind": "smtp", "host": "127.0.0.1", "port": smtp_server.port, "security": "none",
               "from_address": "bantuyengiao@gmail.com", "timeout": 5}
    cfg, total = load(tmp_path, sending=sending)
    app = make_app(cfg, Clock(NOW))
    try:
        app.run_once()
        ended = assert_every_message_counts(app)
        with app.store.session() as s:
            states = collections.Counter(o.state for o in s.scalars(select(Outgoing)).all())
    finally:
        app.close()
        app.store.close()
    assert not ended["failed"] and sum(ended.values()) == total
    assert states and set(states) == {OutgoingState.PENDING}  # waiting to be sent again


def worker_pids() -> list[int]:
    """This process's document workers."""
    mine = str(os.getpid())
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes()
            parent = (entry / "stat").read_text().rsplit(")", 1)[1].split()[1]
        except (OSError, IndexError):
            continue
        if b"intake.processor.reading.harness" in command and parent == mine:
            found.append(int(entry.name))
    return found


@contextmanager
def killing_workers() -> Iterator[list[int]]:
    """SIGKILL every document worker of this process as soon as it shows, until the block ends."""
    killed: list[int] = []
    done = threading.Event()

    def kill() -> None:
        while not done.is_set():
            for pid in worker_pids():
                if pid not in killed:
                    try:
                        os.kill(pid, signal.SIGKILL)
                        killed.append(pid)
                    except ProcessLookupError:
                        pass
            done.wait(0.005)

    thread = threading.Thread(target=kill, daemon=True)
    thread.start()
    try:
        yield killed
    finally:
        done.set()
        thread.join()


@pytest.mark.slow  # starts (and kills) intake's document worker processes, a few dozen of them
def test_document_workers_dying_keep_every_message_counted(tmp_path: Path) -> None:
    cfg, total = load(tmp_path, only=("examples/", "document/"), isolate_parsing=True)
    app = make_app(cfg, Clock(NOW))
    try:
        with killing_workers() as killed:
            app.run_once()
        ended = assert_every_message_counts(app)
    finally:
        app.close()
        app.store.close()
    assert killed  # workers did die
    assert sum(ended[k] for k in ("attributed", "unmatched", "ignored")) == total


def test_retry_of_an_unknown_or_a_healthy_message_exits_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    from staffkit import run_cli, write_toml

    cfg, _ = load(tmp_path, only=("examples/",))
    write_toml(tmp_path)
    app = make_app(cfg, Clock(NOW))
    try:
        app.run_once()
    finally:
        app.close()
        app.store.close()
    capsys.readouterr()
    code, _ = run_cli(tmp_path, "retry", "TN24-99999")
    assert code == 2 and "Không có thư \"TN24-99999\"" in capsys.readouterr().err
    code, _ = run_cli(tmp_path, "retry", "TN24-00001")
    assert code == 2 and "không bị lỗi khi xử lý" in capsys.readouterr().err
    code, out = run_cli(tmp_path, "retry", "--failed")
    assert code == 0 and "Không có thư nào bị lỗi" in out


def test_a_document_read_fault_records_the_reason_not_a_traceback(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    cfg, _ = load(tmp_path, only=("document/",))
    app = make_app(cfg, Clock(NOW))

    def reader(*_args: object) -> Outline:
        raise MemoryError("injected: out of memory")

    monkeypatch.setattr(work_module, "read_document", reader)
    try:
        app.run_once()
        with app.store.session() as s:
            errors = {m.error for m in s.scalars(select(Message).where(Message.state == MessageState.FAILED))}
    finally:
        app.close()
        app.store.close()
    assert errors == {"MemoryError: injected: out of memory"}


def test_every_problem_has_its_words_for_staff() -> None:
    from intake.processor.staff.report import PROBLEM_VI

    assert set(PROBLEM_VI) == set(Problem)
    assert list(Problem)[-1] == Problem.PROCESSING_FAILED  # SPEC's order: the last of the list
