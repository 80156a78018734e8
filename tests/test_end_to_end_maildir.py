"""The embedded default end to end: the example Maildir, SQLite, the outbox."""
from __future__ import annotations

import email
import email.policy
import json
import os
import shutil
from pathlib import Path

import pytest

from intake.processor.cli import main
from intake.processor.mailbox import MailboxItem
from intake.processor.mailbox.maildir import MaildirMailbox
from intake.store.repository import Store

ROOT = Path(__file__).resolve().parent.parent
ACKNOWLEDGEABLE = 7  # 8 sample messages, one of them an auto-reply


@pytest.fixture
def demo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.copytree(ROOT / "examples" / "maildir", tmp_path / "examples" / "maildir")
    shutil.copy(ROOT / "config.example.toml", tmp_path / "intake.toml")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(*argv: str) -> int:
    return main(["--config", "intake.toml", "-q", *argv], environ={})


def status(capsys: pytest.CaptureFixture[str], command: str = "status") -> dict:
    capsys.readouterr()
    assert run(command, "--json") == 0
    return json.loads(capsys.readouterr().out)


def snapshot(folder: Path) -> list[tuple[str, float]]:
    return sorted((str(p.relative_to(folder)), p.stat().st_mtime) for p in folder.rglob("*") if p.is_file())


def test_demo_run_status_and_idempotence(demo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    maildir = demo / "examples" / "maildir"
    before = snapshot(maildir)
    assert run("run", "--once") == 0
    first = status(capsys)
    units = {u["id"]: u for u in first["units"]}

    assert units["ldld-bao-thang"]["status"] == "on_time"
    assert units["ldld-bao-thang"]["submissions"] == 2
    latest = units["ldld-bao-thang"]["latest"]
    assert latest["message_id"] == "<CABT0002@mail.gmail.com>"  # the resubmission replaces the section
    assert latest["section"]["heading"].startswith("III. ĐÁNH GIÁ KẾT QUẢ TỔ CHỨC HỌC TẬP")
    assert latest["section"]["figures"] == {"participants": 1241, "members": 1250, "rate_percent": 99.3,
                                            "sessions": 14}
    assert "Phương hướng" not in latest["section"]["text"]
    assert units["ldld-bao-thang"]["received_at"] == "2024-02-26T09:12:03+07:00"

    assert units["ldld-bat-xat"]["status"] == "late"
    assert units["ldld-bat-xat"]["latest"]["section"]["found"] is True
    assert units["ldld-sa-pa"]["status"] == "on_time"
    assert units["ldld-sa-pa"]["latest"]["problems"] == ["section_not_found"]
    assert units["ldld-bac-ha"]["status"] == "missing"  # its auto-reply does not count
    assert units["ldld-bac-ha"]["latest"] is None and units["ldld-bac-ha"]["submissions"] == 0
    assert units["cdn-giao-duc"]["status"] == "on_time"  # matched by the document's header
    assert units["cdn-giao-duc"]["latest"]["problems"] == ["sender_not_registered"]
    assert units["cdn-y-te"]["status"] == "missing"
    assert units["cdn-y-te"]["latest"]["problems"] == ["unsupported_attachment"]
    assert [u["from"] for u in first["unmatched"]] == ["mamnonhoahong.lc@yahoo.com"]

    outbox = sorted((demo / "outbox").glob("*.eml"))
    assert len(outbox) == ACKNOWLEDGEABLE
    acks = [email.message_from_bytes(p.read_bytes(), policy=email.policy.default) for p in outbox]
    assert all(a["Auto-Submitted"] == "auto-replied" and a["In-Reply-To"] for a in acks)
    assert "<CABH0001@mail.gmail.com>" not in {a["In-Reply-To"] for a in acks}  # the auto-reply

    missing = status(capsys, "missing")
    assert {u["id"] for u in missing["units"]} == {"ldld-bat-xat", "ldld-sa-pa", "ldld-bac-ha", "cdn-giao-duc",
                                                    "cdn-y-te"}

    assert run("run", "--once") == 0  # again: nothing new, nothing sent
    assert status(capsys) == first
    assert len(list((demo / "outbox").glob("*.eml"))) == ACKNOWLEDGEABLE
    assert snapshot(maildir) == before  # never moved, renamed or touched


def test_mail_client_renaming_files_does_not_reprocess(demo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("run", "--once") == 0
    first = status(capsys)
    new = demo / "examples" / "maildir" / "new"
    for path in list(new.iterdir()):  # what a mail client does when staff read the mail
        os.rename(path, demo / "examples" / "maildir" / "cur" / f"{path.name}:2,S")
    assert run("run", "--once") == 0
    assert status(capsys) == first
    assert len(list((demo / "outbox").glob("*.eml"))) == ACKNOWLEDGEABLE


def test_status_table_is_vietnamese(demo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("run", "--once") == 0
    capsys.readouterr()
    assert run("status") == 0
    out = capsys.readouterr().out
    for words in ("Đúng hạn", "Quá hạn", "Chưa gửi", "LĐLĐ huyện Bảo Thắng", "thiếu mục đánh giá riêng"):
        assert words in out


def test_new_files_are_read_before_the_rest_of_the_backlog_and_a_crash_loses_none(tmp_path: Path) -> None:
    box_dir = tmp_path / "Maildir"
    for sub in ("cur", "new", "tmp"):
        (box_dir / sub).mkdir(parents=True)
    sample = next((ROOT / "examples" / "maildir" / "cur").iterdir()).read_bytes()
    for n in range(20):
        raw = sample.replace(b"Message-ID: <", f"Message-ID: <old{n}.".encode(), 1)
        (box_dir / "cur" / f"100{n:02d}.old{n}:2,S").write_bytes(raw)
    store = Store(f"sqlite:///{tmp_path / 'intake.db'}", tmp_path / "files")
    box = MaildirMailbox(box_dir, news_every=0.0)

    def keep(item: MailboxItem) -> None:
        store.ingest(box.identity, item.folder, item.uidvalidity, item.key, item.raw, item.received_at)

    items = box.fetch_new(store)
    keep(next(items))
    (box_dir / "new" / "20000.fresh").write_bytes(sample.replace(b"Message-ID: <", b"Message-ID: <fresh.", 1))
    fresh = next(items)
    assert fresh.key == "20000.fresh"  # ahead of the 19 files left of the backlog
    keep(fresh)
    items.close()  # "crash" mid-round

    keys = [item.key for item in MaildirMailbox(box_dir).fetch_new(store)]
    assert sorted(keys) == sorted(f"100{n:02d}.old{n}" for n in range(1, 20))
    store.close()
