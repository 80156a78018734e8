"""DocumentPool and ReadAhead: long-lived workers under limits, recycled, replaced when they die."""
from __future__ import annotations

import email.policy
import hashlib
import os
import signal
import threading
import time
from email.message import EmailMessage
from pathlib import Path

import pytest
from test_documents import OCTET, docx_with_document_xml, fixture, make_docx, private_dir, process_alive, wrapper

from intake.parsers.email import parse_email
from intake.parsers.errors import UnreadableDocument
from intake.parsers.model import Attachment, ParsedEmail
from intake.parsers.section import find_section
from intake.parsers.word import DocxLimits
from intake.processor.documents import LIMIT_EXCEEDED, DocumentReader, ReaderLimits
from intake.processor.documents.pool import CampaignQuery, DocumentPool, ReadAhead

TITLE = "Đánh giá kết quả học tập Chuyên đề năm 2024"
CAMPAIGNS = (CampaignQuery("cd-2024", TITLE),)


def reader(tmp_path: Path, **limits: object) -> DocumentReader:
    return DocumentReader(ReaderLimits(work_dir=str(private_dir(tmp_path / "work")), **limits))  # type: ignore[arg-type]


def sample(name: str = "sample.docx") -> Attachment:
    return Attachment(name, OCTET, fixture(name))


def kept_office_pids(root: Path) -> list[int]:
    """LibreOffice processes listening for UNO with a profile under `root`."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                command = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if b"--accept=pipe" in command and str(root).encode() in command:
                found.append(int(entry.name))
    return found


def worker_pids(pool: DocumentPool) -> list[int]:
    return [w.proc.pid for w in pool._workers.values()]


def test_outline_and_sections_equal_the_in_process_ones(tmp_path: Path) -> None:
    local = reader(tmp_path)
    with DocumentPool(local, workers=2) as pool:
        for name in ("sample.docx", "sample.doc"):
            outcome = pool.submit(sample(name), CAMPAIGNS).result()
            expected = local.read(sample(name))
            assert outcome.unwrap() == expected
            assert outcome.sections == {"cd-2024": find_section(expected, TITLE)}


def test_workers_live_on_and_are_recycled_after_k_documents(tmp_path: Path) -> None:
    with DocumentPool(reader(tmp_path), workers=1, recycle_after=3) as pool:
        pool.read(sample())
        (first,) = worker_pids(pool)
        pool.read(sample())
        assert worker_pids(pool) == [first]  # the same process served the second document
        pool.read(sample())  # the third: the worker is retired after answering
        assert worker_pids(pool) == []
        time.sleep(0.2)
        assert not process_alive(first)
        for _ in range(4):
            pool.read(sample())
        assert pool.started == 3  # documents 1-3, 4-6, 7


def test_worker_killed_mid_document_fails_that_document_only(tmp_path: Path) -> None:
    started = tmp_path / "converting"
    script = wrapper(tmp_path, "soffice-slow", f"touch {started}\nsleep 30")
    # The worker starts LibreOffice itself here (no LibreOffice kept by the pool), so it dies mid-conversion.
    with DocumentPool(reader(tmp_path, soffice=str(script)), workers=1, keep_libreoffice=False) as pool:
        doomed = pool.submit(sample("sample.doc"))
        deadline = time.monotonic() + 60
        while not started.exists():
            assert time.monotonic() < deadline, "the conversion never started"
            time.sleep(0.05)
        (pid,) = worker_pids(pool)
        os.kill(pid, signal.SIGKILL)
        with pytest.raises(UnreadableDocument) as caught:
            doomed.result(timeout=30).unwrap()
        assert str(caught.value) == LIMIT_EXCEEDED
        # The pool goes on with a fresh worker.
        assert pool.read(Attachment("bc.docx", OCTET, make_docx("Báo cáo", "Nội dung"))).blocks
        assert pool.started == 2


@pytest.mark.slow
def test_memory_breach_is_unreadable_and_the_worker_is_replaced(tmp_path: Path) -> None:
    bomb = docx_with_document_xml(tmp_path / "bomb.docx", 600 * 1024 * 1024)
    lax = DocxLimits(max_part_bytes=1 << 31, max_total_bytes=1 << 32, max_ratio=1e9)
    with DocumentPool(reader(tmp_path, docx=lax, memory_mb=300), workers=1) as pool:
        pool.read(sample())
        (before,) = worker_pids(pool)
        with pytest.raises(UnreadableDocument) as caught:
            pool.read(Attachment("bomb.docx", OCTET, bomb))
        assert str(caught.value) == LIMIT_EXCEEDED
        assert pool.read(sample()).blocks
        assert worker_pids(pool) != [before] and pool.started == 2


def worker_cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_cpu_budget_is_per_document_not_per_worker(tmp_path: Path) -> None:
    """A worker that has used more CPU in total than one document's budget still reads the next ones."""
    with DocumentPool(reader(tmp_path, timeout_seconds=1), workers=1, recycle_after=100_000) as pool:
        pool.read(sample())
        (pid,) = worker_pids(pool)
        deadline = time.monotonic() + 120
        while worker_cpu_seconds(pid) < 2.5:
            assert time.monotonic() < deadline
            for _ in range(10):
                pool.read(sample())
        assert pool.read(sample()).blocks
        assert worker_pids(pool) == [pid] and pool.started == 1


@pytest.mark.parametrize("keep_libreoffice", [True, False])
def test_conversion_timeout_leaves_the_worker_serving(tmp_path: Path, keep_libreoffice: bool) -> None:
    script = wrapper(tmp_path, "soffice-stuck", "sleep 60")
    with DocumentPool(reader(tmp_path, soffice=str(script), timeout_seconds=1), workers=1,
                      keep_libreoffice=keep_libreoffice) as pool:
        with pytest.raises(UnreadableDocument, match="timed out"):
            pool.read(sample("sample.doc"))
        assert pool.read(sample()).blocks
        assert pool.started == 1
        assert (pool.libreoffice is not None) == keep_libreoffice


def test_the_kept_libreoffice_reads_every_legacy_format_as_one_of_its_own_does(tmp_path: Path) -> None:
    """.doc, RTF, ODT, Word 2003 XML, HTML and MHTML saved as .doc: the same outline either way."""
    local = reader(tmp_path)
    names = ["sample.doc", "sample.rtf", "sample.odt", "wordml2003-saved-as.doc", "html-saved-as.doc",
             "mhtml-saved-as.doc"]
    with DocumentPool(local, workers=1) as pool:
        kept = {name: pool.read(sample(name)) for name in names}
        assert pool.libreoffice is not None and pool.libreoffice.started == 1
    for name in names:
        assert kept[name] == local.read(sample(name)), name
        assert kept[name].blocks, name


def test_one_libreoffice_serves_every_conversion_and_leaves_with_the_pool(tmp_path: Path) -> None:
    local = reader(tmp_path)
    with DocumentPool(local, workers=2) as pool:
        futures = [pool.submit(sample("sample.doc"), CAMPAIGNS) for _ in range(4)]
        outlines = [f.result(timeout=120).unwrap() for f in futures]
        assert pool.libreoffice is not None and pool.libreoffice.started == 1  # started once, not once per file
        office_pids = kept_office_pids(local.work_root())
    assert outlines == [local.read(sample("sample.doc"))] * 4  # the same as a LibreOffice of its own
    assert office_pids and not any(process_alive(p) for p in office_pids)
    assert not list(Path(local.work_root()).glob("office-*"))  # its profile is gone too


def mail(n: int, *attachments: tuple[str, bytes]) -> bytes:
    msg = EmailMessage(policy=email.policy.SMTP)
    msg["From"], msg["To"], msg["Subject"] = f"u{n}@example.org", "office@example.org", f"Báo cáo {n}"
    msg.set_content("Kính gửi")
    for name, data in attachments:
        msg.add_attachment(data, maintype="application", subtype="octet-stream", filename=name)
    return msg.as_bytes()


class Item:
    def __init__(self, raw: bytes) -> None:
        self.raw = raw


def test_read_ahead_hands_over_outlines_and_sections_read_early(tmp_path: Path) -> None:
    docs = [make_docx("III. ĐÁNH GIÁ KẾT QUẢ HỌC TẬP CHUYÊN ĐỀ NĂM 2024", f"Đoàn viên tham gia: {n}") for n in range(6)]
    items = [Item(mail(n, (f"bc{n}.docx", data))) for n, data in enumerate(docs)]
    with DocumentPool(reader(tmp_path), workers=2) as pool:
        ahead = ReadAhead(pool, CAMPAIGNS, window=3)
        calls: list[str] = []
        original = pool.submit

        def counting_submit(att: Attachment, campaigns: tuple[CampaignQuery, ...] = ()) -> object:
            calls.append(att.filename)
            return original(att, campaigns)

        pool.submit = counting_submit  # type: ignore[method-assign]
        seen = 0
        for item, data in zip(ahead.ahead(items), docs, strict=True):
            assert item is items[seen]
            outline = ahead.read(Attachment(f"bc{seen}.docx", OCTET, data))
            assert outline.blocks[1].text == f"Đoàn viên tham gia: {seen}"
            sections = ahead.sections(outline, CAMPAIGNS)
            assert sections == {"cd-2024": find_section(outline, TITLE)} and sections["cd-2024"].found
            # The worker parsed the email too: the same ParsedEmail as here, for this item only.
            assert ahead.parsed(bytes(item.raw)) == parse_email(item.raw)
            assert ahead.parsed(items[(seen + 1) % 6].raw) is None
            seen += 1
        assert seen == 6 and calls == []  # every outline came from the read-ahead
        # An attachment the read-ahead did not see is read on its own.
        assert ahead.read(sample()).blocks and calls == ["sample.docx"]


def test_read_ahead_hands_each_message_read_to_on_read_from_the_pool_thread(tmp_path: Path) -> None:
    items = [Item(mail(n, (f"bc{n}.docx", make_docx("I. A", f"x{n}")))) for n in range(5)]
    seen: list[tuple[bytes, ParsedEmail, str]] = []
    with DocumentPool(reader(tmp_path), workers=2) as pool:
        ahead = ReadAhead(pool, CAMPAIGNS,
                          on_read=lambda raw, parsed: seen.append((raw, parsed, threading.current_thread().name)))
        for _item in ahead.ahead(items):
            pass
        deadline = time.monotonic() + 30
        while len(seen) < len(items) and time.monotonic() < deadline:
            time.sleep(0.01)
    assert sorted(raw for raw, _p, _t in seen) == sorted(item.raw for item in items)
    assert all(parsed == parse_email(raw) for raw, parsed, _t in seen)
    assert threading.main_thread().name not in {name for _r, _p, name in seen}


def test_digests_on_read_computed_are_given_for_those_very_objects_only(tmp_path: Path) -> None:
    items = [Item(mail(n, (f"bc{n}.docx", make_docx("I. A", f"x{n}")))) for n in range(3)]

    def sha(data: bytes) -> str:
        return hashlib.sha256(data).hexdigest()

    with DocumentPool(reader(tmp_path), workers=1) as pool:
        ahead = ReadAhead(pool, CAMPAIGNS,
                          on_read=lambda raw, parsed: [sha(raw), *(sha(a.data) for a in parsed.attachments)])
        for item in ahead.ahead(items):
            parsed = ahead.parsed(item.raw)
            assert parsed is not None
            deadline = time.monotonic() + 30  # on_read runs in the pool's thread, maybe a little later
            while ahead.digest_of(item.raw) is None and time.monotonic() < deadline:
                time.sleep(0.01)
            assert ahead.digest_of(item.raw) == sha(item.raw)
            assert ahead.digest_of(parsed.attachments[0].data) == sha(parsed.attachments[0].data)
            assert ahead.digest_of(bytes(bytearray(item.raw))) is None  # equal bytes, another object
            assert all(ahead.digest_of(other.raw) is None for other in items if other is not item)
    assert ahead.digest_of(items[-1].raw) is None  # the round is over


def test_read_ahead_holds_no_more_raw_bytes_than_its_bound(tmp_path: Path) -> None:
    items = [Item(mail(n, (f"bc{n}.docx", make_docx("I. A", f"x{n}")))) for n in range(8)]
    size = max(len(item.raw) for item in items)
    with DocumentPool(reader(tmp_path), workers=1) as pool:
        ahead = ReadAhead(pool, CAMPAIGNS, window=20, window_bytes=int(2.5 * size))
        submitted: list[int] = []
        original = pool.submit_email

        def counting(raw: bytes, campaigns: tuple[CampaignQuery, ...] = ()) -> object:
            submitted.append(len(raw))
            return original(raw, campaigns)

        pool.submit_email = counting  # type: ignore[method-assign]
        in_flight_at_yield = []
        for seen, _item in enumerate(ahead.ahead(items)):
            in_flight_at_yield.append(len(submitted) - seen)
        # Three items reach the bound (not the window of 20); each later one replaces the one yielded.
        assert in_flight_at_yield[:5] == [3, 3, 3, 3, 3] and len(submitted) == 8


def test_libreoffice_killed_mid_conversion_then_the_next_one_starts_afresh(tmp_path: Path) -> None:
    pid_file = tmp_path / "soffice.pid"
    script = wrapper(tmp_path, "soffice-watched", f"echo $$ > {pid_file}")  # then execs the real soffice
    with DocumentPool(reader(tmp_path, soffice=str(script)), workers=1) as pool:
        doomed = pool.submit(sample("sample.doc"))
        deadline = time.monotonic() + 60
        while not pid_file.exists() or not pid_file.read_text().strip():
            assert time.monotonic() < deadline, "LibreOffice never started"
            time.sleep(0.02)
        os.kill(int(pid_file.read_text()), signal.SIGKILL)
        with pytest.raises(UnreadableDocument, match="could not convert"):
            doomed.result(timeout=120).unwrap()
        pid_file.unlink()
        # The worker lives on; the next conversion starts a new LibreOffice on a fresh profile.
        assert pool.read(sample("sample.doc")).blocks
        assert pid_file.exists() and pool.started == 1


def test_read_ahead_leaves_a_message_over_the_mail_limit_to_the_pipeline(tmp_path: Path) -> None:
    small, large = Item(mail(1, ("a.docx", make_docx("I. A", "x")))), Item(mail(2, ("b.docx", fixture("sample.docx"))))
    with DocumentPool(reader(tmp_path), workers=1) as pool:
        ahead = ReadAhead(pool, CAMPAIGNS, max_mail_bytes=len(small.raw))
        parsed = [ahead.parsed(item.raw) for item in ahead.ahead([small, large])]
        assert parsed[0] == parse_email(small.raw) and parsed[1] is None
        assert pool.started == 1

