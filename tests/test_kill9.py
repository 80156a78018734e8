"""A daemon killed with SIGKILL leaves nothing behind (issue 21): no LibreOffice, UNO bridge or launcher
of its run keeps running, and an acknowledgement it was sending is taken at once by the next run
instead of waiting out its 10-minute lease. Real processes: `intake run --once` in a subprocess, real
LibreOffice converting a real .doc, a real SMTP server (aiosmtpd)."""
from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from servers.smtp import SmtpServer
from staffkit import at, drop, message, with_attachment, write_toml

ROOT = Path(__file__).resolve().parent.parent
INTAKE = Path(sys.executable).parent / "intake"
LIBREOFFICE = (b"soffice.bin", b"oosplash", b"uno_bridge.py", b"lifeline.py", b"/soffice")


def write_config(tmp: Path, *, isolate: bool, sending: str = "") -> Path:
    """staffkit's intake.toml, with the documents read in worker processes or not, and another [sending]."""
    write_toml(tmp)
    path = tmp / "intake.toml"
    text = path.read_text(encoding="utf-8").replace("isolate_parsing = false",
                                                    f"isolate_parsing = {str(isolate).lower()}")
    if sending:
        text = re.sub(r"\[sending\]\n(?:[a-z_]+ = .*\n)+", sending + "\n", text)
    path.write_text(text, encoding="utf-8")
    return path


def smtp_sending(port: int) -> str:
    return (f'[sending]\nkind = "smtp"\nhost = "127.0.0.1"\nport = {port}\nsecurity = "none"\n'
            'from_address = "bantuyengiao@gmail.com"\ntimeout = 120')


def drop_mail(tmp: Path, name: str, *, attachment: tuple[str, bytes] | None) -> None:
    raw = message("ldldbaothang@gmail.com", at("2024-02-27 09:12"), msgid=f"<{name}@mail.gmail.com>")
    drop(tmp, with_attachment(raw, *attachment) if attachment else raw, name)


def start_intake(config: Path, log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([str(INTAKE), "--config", str(config), "run", "--once"], stdout=log.open("wb"),
                            stderr=subprocess.STDOUT, start_new_session=True, cwd=config.parent)


# -- processes ---------------------------------------------------------------------------------


def processes() -> dict[int, tuple[int, str, bytes]]:
    """pid -> (parent pid, start time, command line) of every process but zombies."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ")
        except (OSError, IndexError):
            continue
        if stat[0] != "Z":
            found[int(entry.name)] = (int(stat[1]), stat[19], command)
    return found


def descendants(root: int) -> dict[int, tuple[str, bytes]]:
    """Every process below `root`: pid -> (start time, command line)."""
    table = processes()
    out: dict[int, tuple[str, bytes]] = {}
    frontier = [root]
    while frontier:
        parent = frontier.pop()
        for pid, (ppid, started, command) in table.items():
            if ppid == parent and pid not in out:
                out[pid] = (started, command)
                frontier.append(pid)
    return out


def still_running(seen: dict[int, tuple[str, bytes]]) -> dict[int, bytes]:
    """Those of `seen` alive now (the same process: same start time), zombies aside."""
    now = processes()
    return {pid: command for pid, (started, command) in seen.items() if pid in now and now[pid][1] == started}


def ps(pids: object) -> str:
    """`ps` of these pids, for the log (the evidence kept with the test run)."""
    listed = ",".join(str(p) for p in pids)  # type: ignore[attr-defined]
    if not listed:
        return "(none)"
    done = subprocess.run(["ps", "-ww", "-o", "pid,ppid,pgid,stat,rss,args", "-p", listed], capture_output=True,
                          text=True, check=False)
    return "\n".join(line[:160] for line in done.stdout.splitlines())


def libreoffice_of(tree: dict[int, tuple[str, bytes]]) -> dict[int, tuple[str, bytes]]:
    return {pid: v for pid, v in tree.items() if any(word in v[1] for word in LIBREOFFICE)}


# -- LibreOffice dies with the daemon ----------------------------------------------------------


@pytest.mark.parametrize("isolate", [True, False], ids=["kept LibreOffice (UNO bridge)", "one-shot soffice"])
def test_sigkill_while_libreoffice_converts_leaves_no_libreoffice(tmp_path: Path, isolate: bool) -> None:
    config = write_config(tmp_path, isolate=isolate)
    drop_mail(tmp_path, "legacy", attachment=("Bao cao.doc", (ROOT / "tests/fixtures/documents/sample.doc")
                                              .read_bytes()))
    daemon = start_intake(config, tmp_path / "run.log")
    seen: dict[int, tuple[str, bytes]] = {}
    deadline = time.monotonic() + 120
    try:
        while not any(b"soffice.bin" in v[1] for v in seen.values()):
            assert daemon.poll() is None, (tmp_path / "run.log").read_text()
            assert time.monotonic() < deadline, "LibreOffice never started"
            seen.update(descendants(daemon.pid))
            time.sleep(0.02)
        time.sleep(0.3)  # LibreOffice at work
        seen.update(descendants(daemon.pid))
        office = libreoffice_of(seen)
        before = ps(office)
        os.kill(daemon.pid, signal.SIGKILL)
        daemon.wait()
        left = still_running(office)
        end = time.monotonic() + 10
        while left and time.monotonic() < end:
            time.sleep(0.1)
            left = still_running(office)
        print(f"\n$ intake --config {config} run --once   # SIGKILLed (pid {daemon.pid}) while LibreOffice ran")
        print(f"ps before the kill:\n{before}\nps 10 s after the kill:\n{ps(left)}")
        assert office, "no LibreOffice process was seen"
        assert not left, f"left behind:\n{ps(left)}"
    finally:
        for pid in still_running(seen):  # never leave ours behind, whatever failed
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


# -- an acknowledgement interrupted mid-send -----------------------------------------------------


def outgoing(db: Path) -> list[tuple[str, str | None, str | None]]:
    try:
        with sqlite3.connect(db) as c:
            return c.execute("SELECT state, claimed_by, last_error FROM outgoing ORDER BY id").fetchall()
    except sqlite3.OperationalError:  # the store is being created
        return []


def test_sender_killed_mid_send_has_its_row_taken_at_once_by_the_next_run(
        tmp_path: Path, smtp_server: SmtpServer) -> None:
    # A server that accepts the connection and never greets: the sender is stuck mid-send.
    mute = socket.socket()
    mute.bind(("127.0.0.1", 0))
    mute.listen(5)
    drop_mail(tmp_path, "report", attachment=None)
    config = write_config(tmp_path, isolate=False, sending=smtp_sending(mute.getsockname()[1]))
    daemon = start_intake(config, tmp_path / "run.log")
    db = tmp_path / "intake.db"
    try:
        deadline = time.monotonic() + 120
        while True:
            assert daemon.poll() is None, (tmp_path / "run.log").read_text()
            assert time.monotonic() < deadline, "never started sending"
            rows = outgoing(db) if db.exists() else []
            if rows and rows[0][0].lower() == "sending":
                break
            time.sleep(0.05)
        holder = rows[0][1]
        assert holder is not None and f":{daemon.pid}:" in holder  # host:pid:suffix of the sender
        os.kill(daemon.pid, signal.SIGKILL)
        daemon.wait()
        killed_at = dt.datetime.now(dt.UTC)
    finally:
        mute.close()
    write_config(tmp_path, isolate=False, sending=smtp_sending(smtp_server.port))
    again = subprocess.run([str(INTAKE), "--config", str(config), "run", "--once"], capture_output=True,
                           cwd=tmp_path, timeout=120, check=False)
    assert again.returncode == 0, again.stderr.decode()
    taken = dt.datetime.now(dt.UTC) - killed_at
    ((state, _holder, _note),) = outgoing(db)
    assert state.lower() == "sent"
    assert b"1 interrupted deliveries found: 1 to resend once" in again.stdout + again.stderr
    assert len(smtp_server.messages) == 1
    assert taken < dt.timedelta(minutes=2)  # not the 10-minute lease


def test_profiles_of_dead_processes_are_cleared_when_libreoffice_is_kept_again(tmp_path: Path) -> None:
    from intake.processor.documents.libreoffice import LibreOffice, clear_stale_profiles

    dead = subprocess.Popen(["true"])
    dead.wait()
    stale = tmp_path / f"office-{dead.pid}-0a1b2c3d"
    ours = tmp_path / f"office-{os.getpid()}-0a1b2c3d"
    alive = tmp_path / "office-1-0a1b2c3d"  # init: alive
    for profile in (stale, ours, alive):
        (profile / "user").mkdir(parents=True)
        (profile / ".lock").write_text("vm,1234")
    LibreOffice("/usr/bin/soffice", tmp_path, 1024)  # a daemon starting
    assert not stale.exists() and ours.exists() and alive.exists()
    assert clear_stale_profiles(tmp_path) == []
