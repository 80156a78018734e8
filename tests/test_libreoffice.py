"""LibreOffice only when a legacy document needs it (issue 22): none while intake reads only .docx, one
started by the first .doc, stopped after the idle time, a new one for the next .doc; a conversion racing
the idle stop succeeds. Real LibreOffice, real document workers, a real `intake run` daemon."""
from __future__ import annotations

import contextlib
import os
import random
import signal
import sqlite3
import subprocess
import threading
import time
from pathlib import Path

import pytest
from test_documents import fixture, private_dir
from test_kill9 import INTAKE, descendants, drop_mail, libreoffice_of, ps, still_running, write_config
from test_reading_workers import reader, sample, workers

from intake.parsers.errors import UnreadableDocument
from intake.processor.documents.libreoffice import LibreOffice

IDLE = 1.5  # seconds: the tests' idle time (the daemon's is IDLE_SECONDS, 5 minutes)


def ours() -> dict[int, tuple[str, bytes]]:
    """LibreOffice's processes (launcher, UNO bridge, oosplash, soffice.bin) below this test process."""
    return libreoffice_of(descendants(os.getpid()))


def soffice_bins(tree: dict[int, tuple[str, bytes]]) -> set[int]:
    return {pid for pid, (_started, command) in tree.items() if b"soffice.bin" in command}


def converter(tmp_path: Path, idle_seconds: float) -> tuple[LibreOffice, Path]:
    """A LibreOffice (started by nothing yet) and its conversion directory holding a.doc."""
    local = reader(tmp_path)
    assert local.soffice is not None
    libreoffice = LibreOffice(local.soffice, local.work_root(), 1024, idle_seconds=idle_seconds)
    conv = private_dir(local.work_root() / "conv-test")
    (conv / "a.doc").write_bytes(fixture("sample.doc"))
    return libreoffice, conv


def wait_until_gone(seen: dict[int, tuple[str, bytes]], seconds: float) -> dict[int, bytes]:
    deadline = time.monotonic() + seconds
    while (left := still_running(seen)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return left


def test_a_pool_starts_libreoffice_for_the_first_doc_and_stops_it_when_idle(tmp_path: Path) -> None:
    local = reader(tmp_path)
    expected = local.read(sample("sample.doc"))  # what a LibreOffice of its own (ended here) makes of it
    with workers(local, workers=2, libreoffice_idle_seconds=IDLE) as pool:
        assert pool.read_document(sample("sample.docx")).unwrap().blocks
        assert pool.read_document(sample("sample.docx")).unwrap().blocks
        after_docx = ours()
        print(f"\nafter two .docx: {ps(after_docx)}")
        assert not after_docx, f"LibreOffice runs though no .doc was read:\n{ps(after_docx)}"

        first = pool.read_document(sample("sample.doc")).unwrap()
        after_doc = ours()
        print(f"after a .doc:\n{ps(after_doc)}")
        assert first == expected
        assert len(soffice_bins(after_doc)) == 1
        assert pool.libreoffice is not None and pool.libreoffice.started == 1 and pool.libreoffice.running()

        left = wait_until_gone(after_doc, IDLE + 30)
        print(f"{IDLE} s idle later: {ps(left)}")
        assert not left, f"the idle LibreOffice was not stopped:\n{ps(left)}"
        assert not pool.libreoffice.running()
        assert pool.read_document(sample("sample.docx")).unwrap().blocks  # a .docx does not bring it back
        assert not ours()

        assert pool.read_document(sample("sample.doc")).unwrap() == first
        again = ours()
        print(f"the next .doc:\n{ps(again)}")
        assert len(soffice_bins(again)) == 1 and not soffice_bins(again) & soffice_bins(after_doc)
        assert pool.libreoffice.started == 2
    assert not wait_until_gone(again, 10)
    assert not list(local.work_root().glob("office-*"))  # the profiles went with them


def test_conversions_racing_the_idle_stop_all_succeed(tmp_path: Path) -> None:
    # An idle time shorter than a conversion, and pauses around it: the stopper gets the lock between
    # conversions again and again, and must never take LibreOffice from under one in flight.
    libreoffice, conv = converter(tmp_path, 0.05)
    errors: list[str] = []

    def convert(thread: int) -> None:
        rng = random.Random(thread)
        for i in range(4):
            target = conv / f"t{thread}-{i}.docx"
            errors.append(libreoffice.convert(conv / "a.doc", target, None, 60) or "")
            if not target.read_bytes().startswith(b"PK"):
                errors.append(f"{target.name} is not a .docx")
            time.sleep(rng.uniform(0.0, 0.4))

    threads = [threading.Thread(target=convert, args=(t,)) for t in range(2)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        libreoffice.close()
    assert errors == [""] * 8
    assert libreoffice.started >= 2  # the stopper did stop it between conversions
    assert not ours()


def test_close_waits_for_the_conversion_in_flight_and_none_starts_after(tmp_path: Path) -> None:
    libreoffice, conv = converter(tmp_path, IDLE)
    result: list[str] = []
    converting = threading.Thread(target=lambda: result.append(libreoffice.convert(conv / "a.doc", conv / "a.docx",
                                                                                   None, 60)))
    converting.start()
    while not ours():  # the conversion has begun (LibreOffice is starting)
        time.sleep(0.01)
    libreoffice.close()
    converting.join()
    assert result == [""] and (conv / "a.docx").read_bytes().startswith(b"PK")
    with pytest.raises(UnreadableDocument, match="stopping"):  # not a LibreOffice started again
        libreoffice.convert(conv / "a.doc", conv / "b.docx", None, 60)
    assert not ours()


def test_an_idle_libreoffice_is_stopped_and_started_again_when_needed(tmp_path: Path) -> None:
    libreoffice, conv = converter(tmp_path, 1.0)
    try:
        assert not ours()  # made, not started
        assert libreoffice.convert(conv / "a.doc", conv / "a.docx", None, 60) == ""
        assert (conv / "a.docx").read_bytes().startswith(b"PK")
        running = ours()
        assert soffice_bins(running)
        assert not wait_until_gone(running, 30), "the idle LibreOffice was not stopped"
        assert libreoffice.convert(conv / "a.doc", conv / "b.docx", None, 60) == ""
        assert libreoffice.started == 2
        with pytest.raises(UnreadableDocument, match="refused"):
            libreoffice.convert(tmp_path / "elsewhere.doc", conv / "c.docx", None, 60)
    finally:
        libreoffice.close()
    assert not ours()


def messages(db: Path) -> int:
    try:
        with sqlite3.connect(db) as c:
            return int(c.execute("SELECT count(*) FROM messages").fetchone()[0])
    except sqlite3.OperationalError:  # the store is being created
        return 0


def test_a_daemon_reading_only_docx_has_no_libreoffice_child(tmp_path: Path) -> None:
    config = write_config(tmp_path, isolate=True)
    config.write_text(config.read_text(encoding="utf-8").replace('kind = "maildir"\n',
                                                                 'kind = "maildir"\npoll_every = 1\n'),
                      encoding="utf-8")
    docx = fixture("sample.docx")
    for n in range(3):
        drop_mail(tmp_path, f"report-{n}", attachment=(f"Bao cao {n}.docx", docx))
    log = tmp_path / "run.log"
    daemon = subprocess.Popen([str(INTAKE), "--config", str(config), "run"], stdout=log.open("wb"),
                              stderr=subprocess.STDOUT, start_new_session=True, cwd=tmp_path)
    seen: dict[int, tuple[str, bytes]] = {}
    try:
        deadline = time.monotonic() + 120
        while messages(tmp_path / "intake.db") < 3:  # watched all along, not only at the end
            assert daemon.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "the daemon did not store the three reports"
            seen.update(descendants(daemon.pid))
            time.sleep(0.05)
        seen.update(descendants(daemon.pid))
        print(f"\n$ intake --config {config} run   # three .docx reports read:\n{ps(still_running(seen))}")
        assert any(b"reading.harness" in command for _started, command in seen.values()), "no document worker"
        assert not libreoffice_of(seen), f"LibreOffice ran for .docx only:\n{ps(libreoffice_of(seen))}"

        drop_mail(tmp_path, "legacy", attachment=("Bao cao.doc", fixture("sample.doc")))
        while not soffice_bins(libreoffice_of(seen)):
            assert daemon.poll() is None, log.read_text()
            assert time.monotonic() < deadline + 120, "no LibreOffice for the .doc"
            seen.update(descendants(daemon.pid))
            time.sleep(0.05)
        while messages(tmp_path / "intake.db") < 4:
            assert time.monotonic() < deadline + 120, "the daemon did not store the .doc report"
            time.sleep(0.05)
        office = libreoffice_of(descendants(daemon.pid))  # now (a fresh profile's first soffice.bin restarts)
        seen.update(office)
        print(f"after a .doc report:\n{ps(office)}")
        assert len(soffice_bins(office)) == 1 and still_running(office)  # kept for the next one (idle 5 min)
        daemon.send_signal(signal.SIGTERM)
        assert daemon.wait(timeout=60) == 0, log.read_text()
        left = wait_until_gone(office, 10)
        print(f"after SIGTERM: {ps(left)}")
        assert not left
    finally:
        if daemon.poll() is None:
            os.killpg(daemon.pid, signal.SIGKILL)
            daemon.wait()
        for pid in still_running(seen):  # never leave ours behind, whatever failed
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
