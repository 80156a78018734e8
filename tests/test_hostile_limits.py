"""Mail size and parse limits: a message over `[mailbox] max_message_mb` is stored, not parsed; mail is
parsed in a child process under memory/CPU limits, whose failure costs the body, never the message."""
from __future__ import annotations

import base64
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hostilekit import REGISTERED, hostile
from sqlalchemy import select
from staffkit import Clock, at, drop, make_app, make_config
from test_hostile_headers import CASES
from test_hostile_parse import BROKEN

from intake.parsers.email import parse_email
from intake.processor.config import parse_config
from intake.processor.documents import DocumentReader, ReaderLimits
from intake.processor.reading.harness import OVER_LIMITS, Workers
from intake.store.models import Message, MessageState

NO_LIMIT = 1 << 40


@pytest.fixture(scope="module")
def workers() -> Iterator[Workers]:
    with Workers(DocumentReader(), NO_LIMIT, workers=1) as pool:
        yield pool


def big(mb: int) -> bytes:
    """A message from a registered unit with the report and a `mb` MB incompressible attachment."""
    blob = os.urandom(mb * 1024 * 1024)
    part = base64.encodebytes(blob).replace(b"\n", b"\r\n")
    raw = hostile()
    return raw.replace(b"--BOUNDARY--", b"--BOUNDARY\r\nContent-Type: application/octet-stream\r\n"
                       b'Content-Disposition: attachment; filename="video.bin"\r\n'
                       b"Content-Transfer-Encoding: base64\r\n\r\n" + part + b"--BOUNDARY--")


@pytest.mark.parametrize("raw", [hostile(), BROKEN["two Subject headers"][0], CASES["every header at once"],
                                 BROKEN["binary garbage"][0], BROKEN["1,000 multipart levels"][0]])
def test_isolated_parse_equals_the_in_process_one(workers: Workers, raw: bytes) -> None:
    assert workers.read_message(raw, ()).email == parse_email(raw)


def test_worker_out_of_memory_gives_the_headers_and_the_reason() -> None:
    with Workers(DocumentReader(ReaderLimits(memory_mb=1)), NO_LIMIT, workers=1) as starved:
        parsed = starved.read_message(hostile(), ()).email
    assert parsed.from_address == REGISTERED and parsed.attachments == ()
    assert parsed.body_unparsed == OVER_LIMITS


def test_over_max_message_mb_is_stored_not_parsed_and_shown(tmp_path: Path) -> None:
    cfg = make_config(tmp_path)
    data = {"timezone": "Asia/Ho_Chi_Minh", "isolate_parsing": True,
            "store": {"url": f"sqlite:///{tmp_path / 'intake.db'}", "files_dir": str(tmp_path / "files")},
            "mailbox": {"kind": "maildir", "path": str(tmp_path / "maildir"), "max_message_mb": 1},
            "sending": {"kind": "outbox", "from_address": "bantuyengiao@gmail.com",
                        "outbox_dir": str(tmp_path / "outbox")},
            "acknowledge": {"max_age_days": 3650},
            "units": [{"id": u.id, "name": u.name, "emails": list(u.emails)} for u in cfg.units],
            "campaigns": [{"id": c.id, "title": c.title, "opens": c.opens.isoformat(),
                           "deadline": c.deadline.isoformat(), "section_title": c.section_title}
                          for c in cfg.campaigns]}
    cfg = parse_config(data, tmp_path / "intake.toml", {})
    assert cfg.mailbox.max_message_mb == 1
    raw = big(2)
    drop(tmp_path, raw, "big")
    drop(tmp_path, hostile(b"Message-ID: <small@x.vn>"), "small")
    app = make_app(cfg, Clock(at("2024-02-27 10:00")))
    try:
        app.run_once()
        with app.store.session() as s:
            rows = {m.message_id: m for m in s.scalars(select(Message)).all()}
            s.expunge_all()
        stored = app.store.files.get(rows["<hostile-base@mail.gmail.com>"].raw_path)
    finally:
        app.store.close()
    large, small = rows["<hostile-base@mail.gmail.com>"], rows["<small@x.vn>"]
    assert stored == raw, "the raw message is kept whole"
    assert large.state == MessageState.PROCESSED and large.unit_id == "ldld-bao-thang"
    assert large.problems == ["unreadable_attachment"] and "too large" in (large.error or "")
    assert small.state == MessageState.PROCESSED and small.has_report, "parsed in the child process"


def test_max_message_mb_must_be_positive(tmp_path: Path) -> None:
    from intake.parsers.errors import ConfigError
    with pytest.raises(ConfigError, match=r"max_message_mb"):
        parse_config({"mailbox": {"kind": "maildir", "path": "m", "max_message_mb": 0},
                      "sending": {"kind": "outbox", "from_address": "a@x.vn"}}, tmp_path / "i.toml", {})
