"""The worker boundary (processor/reading/harness.py): long-lived workers under limits, recycled, replaced
when they die; messages read in the items' order; what a worker sends is checked, never unpickled."""
from __future__ import annotations

import email.policy
import os
import signal
import sys
import time
from concurrent.futures import Future, ThreadPoolExecutor
from email.message import EmailMessage
from pathlib import Path

import msgspec
import pytest
from test_documents import OCTET, docx_with_document_xml, fixture, make_docx, private_dir, process_alive, wrapper

from intake.parsers.email import parse_email
from intake.parsers.errors import UnreadableDocument
from intake.parsers.model import Attachment
from intake.parsers.section import find_section
from intake.parsers.word import DocxLimits
from intake.processor.documents import DocumentReader, ReaderLimits
from intake.processor.reading import wire
from intake.processor.reading.harness import OVER_LIMITS, InProcess, Workers
from intake.processor.reading.wire import LIMIT_EXCEEDED, CampaignQuery, DocumentRead, MessageRead

TITLE = "Đánh giá kết quả học tập Chuyên đề năm 2024"
CAMPAIGNS = (CampaignQuery("cd-2024", TITLE),)
NO_LIMIT = 1 << 40


def reader(tmp_path: Path, **limits: object) -> DocumentReader:
    return DocumentReader(ReaderLimits(work_dir=str(private_dir(tmp_path / "work")), **limits))  # type: ignore[arg-type]


def workers(local: DocumentReader, max_mail_bytes: int = NO_LIMIT, **options: object) -> Workers:
    return Workers(local, max_mail_bytes, **options)  # type: ignore[arg-type]


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


def worker_pids(pool: Workers) -> list[int]:
    return [w.proc.pid for w in pool._workers.values()]


def read(pool: Workers, name: str = "sample.docx") -> DocumentRead:
    return pool.read_document(sample(name))


def in_background(pool: Workers, att: Attachment) -> Future[DocumentRead]:
    return ThreadPoolExecutor(1).submit(pool.read_document, att)


def wait_for(path: Path, what: str) -> None:
    deadline = time.monotonic() + 60
    while not path.exists() or not path.read_text().strip():
        assert time.monotonic() < deadline, what
        time.sleep(0.02)


def test_outline_and_sections_equal_the_in_process_ones(tmp_path: Path) -> None:
    local = reader(tmp_path)
    with workers(local, workers=2) as pool:
        for name in ("sample.docx", "sample.doc"):
            got = pool.read_document(sample(name), CAMPAIGNS)
            expected = local.read(sample(name))
            assert got.unwrap() == expected
            assert got.sections == {"cd-2024": find_section(expected, TITLE)}
            assert got == InProcess(local, NO_LIMIT).read_document(sample(name), CAMPAIGNS)


def test_workers_live_on_and_are_recycled_after_k_jobs(tmp_path: Path) -> None:
    with workers(reader(tmp_path), workers=1, recycle_after=3) as pool:
        read(pool).unwrap()
        (first,) = worker_pids(pool)
        read(pool).unwrap()
        assert worker_pids(pool) == [first]  # the same process served the second document
        read(pool).unwrap()  # the third: the worker is retired after answering
        assert worker_pids(pool) == []
        time.sleep(0.2)
        assert not process_alive(first)
        for _ in range(4):
            read(pool).unwrap()
        assert pool.started == 3  # documents 1-3, 4-6, 7


def test_worker_killed_mid_document_fails_that_document_only(tmp_path: Path) -> None:
    started = tmp_path / "converting"
    script = wrapper(tmp_path, "soffice-slow", f"echo yes > {started}\nsleep 30")
    # The worker starts LibreOffice itself here (no LibreOffice kept by the parent), so it dies mid-conversion.
    with workers(reader(tmp_path, soffice=str(script)), workers=1, keep_libreoffice=False) as pool:
        doomed = in_background(pool, sample("sample.doc"))
        wait_for(started, "the conversion never started")
        (pid,) = worker_pids(pool)
        os.kill(pid, signal.SIGKILL)
        with pytest.raises(UnreadableDocument) as caught:
            doomed.result(timeout=30)
        assert str(caught.value) == LIMIT_EXCEEDED
        # It goes on with a fresh worker.
        assert pool.read_document(Attachment("bc.docx", OCTET, make_docx("Báo cáo", "Nội dung"))).unwrap().blocks
        assert pool.started == 2


def test_a_worker_killed_mid_message_gets_the_message_read_again_in_parts(tmp_path: Path) -> None:
    """The blame falls on the attachment that caused it: the email and its other Word file are read."""
    started = tmp_path / "converting"
    script = wrapper(tmp_path, "soffice-slow", f"echo yes > {started}\nsleep 30")
    raw = mail(1, ("a.doc", fixture("sample.doc")), ("b.docx", fixture("sample.docx")))
    with workers(reader(tmp_path, soffice=str(script), timeout_seconds=2), workers=1, keep_libreoffice=False) as pool:
        reading = ThreadPoolExecutor(1).submit(pool.read_message, raw, CAMPAIGNS)
        wait_for(started, "the conversion never started")
        os.kill(worker_pids(pool)[0], signal.SIGKILL)
        got = reading.result(timeout=120)
    assert got.email == parse_email(raw)
    with pytest.raises(UnreadableDocument, match="timed out"):
        got.documents[0].unwrap()
    assert got.documents[1].unwrap() == reader(tmp_path).read(sample())
    assert pool.started >= 2


@pytest.mark.slow
def test_memory_breach_is_unreadable_and_the_worker_is_replaced(tmp_path: Path) -> None:
    bomb = docx_with_document_xml(tmp_path / "bomb.docx", 600 * 1024 * 1024)
    lax = DocxLimits(max_part_bytes=1 << 31, max_total_bytes=1 << 32, max_ratio=1e9)
    with workers(reader(tmp_path, docx=lax, memory_mb=300), workers=1) as pool:
        read(pool).unwrap()
        (before,) = worker_pids(pool)
        with pytest.raises(UnreadableDocument) as caught:
            pool.read_document(Attachment("bomb.docx", OCTET, bomb))
        assert str(caught.value) == LIMIT_EXCEEDED
        assert read(pool).unwrap().blocks
        assert worker_pids(pool) != [before] and pool.started == 2


def worker_cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_cpu_budget_is_per_job_not_per_worker(tmp_path: Path) -> None:
    """A worker that has used more CPU in total than one job's budget still reads the next ones."""
    with workers(reader(tmp_path, timeout_seconds=1), workers=1, recycle_after=100_000) as pool:
        read(pool).unwrap()
        (pid,) = worker_pids(pool)
        deadline = time.monotonic() + 120
        while worker_cpu_seconds(pid) < 2.5:
            assert time.monotonic() < deadline
            for _ in range(10):
                read(pool).unwrap()
        assert read(pool).unwrap().blocks
        assert worker_pids(pool) == [pid] and pool.started == 1


@pytest.mark.parametrize("keep_libreoffice", [True, False])
def test_conversion_timeout_leaves_the_worker_serving(tmp_path: Path, keep_libreoffice: bool) -> None:
    script = wrapper(tmp_path, "soffice-stuck", "sleep 60")
    with workers(reader(tmp_path, soffice=str(script), timeout_seconds=1), workers=1,
                 keep_libreoffice=keep_libreoffice) as pool:
        with pytest.raises(UnreadableDocument, match="timed out"):
            read(pool, "sample.doc").unwrap()
        assert read(pool).unwrap().blocks
        assert pool.started == 1
        assert (pool.libreoffice is not None) == keep_libreoffice


def test_the_kept_libreoffice_reads_every_legacy_format_as_one_of_its_own_does(tmp_path: Path) -> None:
    """.doc, RTF, ODT, Word 2003 XML, HTML and MHTML saved as .doc: the same outline either way."""
    local = reader(tmp_path)
    names = ["sample.doc", "sample.rtf", "sample.odt", "wordml2003-saved-as.doc", "html-saved-as.doc",
             "mhtml-saved-as.doc"]
    with workers(local, workers=1) as pool:
        kept = {name: read(pool, name).unwrap() for name in names}
        assert pool.libreoffice is not None and pool.libreoffice.started == 1
    for name in names:
        assert kept[name] == local.read(sample(name)), name
        assert kept[name].blocks, name


def test_one_libreoffice_serves_every_conversion_and_leaves_with_the_workers(tmp_path: Path) -> None:
    local = reader(tmp_path)
    with workers(local, workers=2) as pool, ThreadPoolExecutor(4) as threads:
        futures = [threads.submit(pool.read_document, sample("sample.doc"), CAMPAIGNS) for _ in range(4)]
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


def test_messages_come_back_in_order_with_their_outlines_and_sections(tmp_path: Path) -> None:
    docs = [make_docx("III. ĐÁNH GIÁ KẾT QUẢ HỌC TẬP CHUYÊN ĐỀ NĂM 2024", f"Đoàn viên tham gia: {n}") for n in range(6)]
    items = [Item(mail(n, ("note.txt", b"x"), (f"bc{n}.docx", data))) for n, data in enumerate(docs)]
    local = reader(tmp_path)
    with workers(local, workers=2) as pool:
        seen = 0
        for item, reading in pool.read_messages(items, CAMPAIGNS, window=3):
            assert item is items[seen]
            got = reading()
            assert got.email == parse_email(item.raw)  # parsed in the worker, the same as here
            assert set(got.documents) == {1}  # the Word file, by its position; the .txt is not read
            outline = got.documents[1].unwrap()
            assert outline.blocks[1].text == f"Đoàn viên tham gia: {seen}"
            assert got.documents[1].sections == {"cd-2024": find_section(outline, TITLE)}
            assert got.documents[1].sections["cd-2024"].found
            assert got == InProcess(local, NO_LIMIT).read_message(item.raw, CAMPAIGNS)
            seen += 1
        assert seen == 6


def test_messages_in_flight_hold_no_more_raw_bytes_than_the_bound(tmp_path: Path) -> None:
    items = [Item(mail(n, (f"bc{n}.docx", make_docx("I. A", f"x{n}")))) for n in range(8)]
    size = max(len(item.raw) for item in items)
    taken: list[int] = []

    def source() -> object:
        for n, item in enumerate(items):
            taken.append(n)
            yield item

    with workers(reader(tmp_path), workers=1) as pool:
        in_flight_at_yield = [len(taken) - seen
                              for seen, _pair in enumerate(pool.read_messages(source(), CAMPAIGNS, window=20,
                                                                               window_bytes=int(2.5 * size)))]
    # Three items reach the bound (not the window of 20); each later one replaces the one yielded.
    assert in_flight_at_yield[:5] == [3, 3, 3, 3, 3] and len(taken) == 8


def test_libreoffice_killed_mid_conversion_then_the_next_one_starts_afresh(tmp_path: Path) -> None:
    pid_file = tmp_path / "soffice.pid"
    script = wrapper(tmp_path, "soffice-watched", f"echo $$ > {pid_file}")  # then execs the real soffice
    with workers(reader(tmp_path, soffice=str(script)), workers=1) as pool:
        doomed = in_background(pool, sample("sample.doc"))
        wait_for(pid_file, "LibreOffice never started")
        os.kill(int(pid_file.read_text()), signal.SIGKILL)
        with pytest.raises(UnreadableDocument, match="could not convert"):
            doomed.result(timeout=120).unwrap()
        pid_file.unlink()
        # The worker lives on; the next conversion starts a new LibreOffice on a fresh profile.
        assert read(pool, "sample.doc").unwrap().blocks
        assert pid_file.exists() and pool.started == 1


def test_a_message_over_the_mail_limit_is_read_from_its_header_only_without_a_worker(tmp_path: Path) -> None:
    small, large = Item(mail(1, ("a.docx", make_docx("I. A", "x")))), Item(mail(2, ("b.docx", fixture("sample.docx"))))
    with workers(reader(tmp_path), max_mail_bytes=len(small.raw), workers=1) as pool:
        got = [reading() for _item, reading in pool.read_messages([large, small], CAMPAIGNS)]
        assert got[1].email == parse_email(small.raw) and got[1].documents
        assert "message too large" in got[0].email.body_unparsed and not got[0].email.attachments
        assert got[0].documents == {} and got[0].email.from_address == "u2@example.org"
        assert pool.started == 1


GARBAGE_WORKER = """
import struct, sys
stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
frames = 0
while len(header := stdin.read(4)) == 4:
    stdin.read(struct.unpack(">I", header)[0])
    frames += 1
    if frames > 1:  # the first frame is the setup: not answered
        body = bytes.fromhex(sys.argv[1])
        stdout.write(struct.pack(">I", len(body)) + body)
        stdout.flush()
"""


@pytest.mark.parametrize("reply", [
    b"\x80\x03cos\nsystem\nq\x00.",  # a pickle: never unpickled
    msgspec.msgpack.encode({"type": "document", "outline": {"blocks": [{"kind": "paragraph", "text": 5}]}}),
    msgspec.msgpack.encode({"type": "message", "email": {"subject": "no other field"}}),
    msgspec.msgpack.encode({"type": "unknown"}),
    msgspec.msgpack.encode(wire.DocumentRead())[:-1],  # truncated
])
def test_a_malformed_reply_is_refused_and_its_worker_replaced(tmp_path: Path, reply: bytes) -> None:
    with workers(reader(tmp_path), workers=1) as pool:
        pool._command = [sys.executable, "-I", "-c", GARBAGE_WORKER, reply.hex()]
        with pytest.raises(wire.MalformedReply, match="malformed reply"):
            read(pool)
        with pytest.raises(wire.MalformedReply):
            read(pool)
        assert pool.started == 2  # the first was killed, a fresh one took its place
        # A whole message whose worker answers nonsense: the header is read here, nothing is lost.
        raw = mail(3, ("a.docx", make_docx("I. A", "x")))
        got = pool.read_message(raw, CAMPAIGNS)
    assert got == MessageRead(got.email) and got.email.body_unparsed == OVER_LIMITS
    assert got.email.from_address == "u3@example.org"


def test_wire_round_trips_every_reply_and_refuses_a_wrong_type() -> None:
    outline = DocumentReader().read(sample())
    raw = mail(4, ("a.docx", fixture("sample.docx")))
    for value in (DocumentRead(outline=outline, sections={"c": find_section(outline, TITLE)}),
                  DocumentRead(failure=wire.Failure.of(UnreadableDocument("x"))),
                  MessageRead(parse_email(raw), {0: DocumentRead(outline=outline)}),
                  wire.ConvertAsk("/a", "/b", None), wire.Refused()):
        assert wire.decode_reply(wire.encode(value)) == value
    with pytest.raises(wire.MalformedReply):
        wire.decode_reply(wire.encode(wire.Converted("")))  # a job, not a reply
