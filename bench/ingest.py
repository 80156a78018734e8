"""A backlog of N report emails: `intake run --once` against the floor, then IDLE latency and idle CPU.

Starts a private Dovecot (tests/servers/dovecot.py) and an SMTP sink
(tests/servers/smtp.py) on loopback, APPENDs N messages (mixed reports of 30 kB
to 3 MB built from the golden corpus in tests/corpus/docs, some legacy .doc,
some without the section, some auto-replies; every Word file gets its own
bytes, so no cache keyed on content can stand in for parsing), then in the
same run measures:

- the floor: one process fetching the same mail with plain imapclient
  (BODY.PEEK[] in batches of 100) and opening and walking every .docx with
  python-docx;
- `intake run --once` (SQLite, IMAP, SMTP to the sink) as a subprocess: wall
  time, messages per second, peak RSS of intake and all its children (sampled
  from /proc), and apart: intake's own processes (main and document workers)
  and LibreOffice's tree (launcher, UNO bridge, oosplash, soffice.bin);
  whether every due acknowledgement left;
- `intake run` (the daemon) on a fresh store, so the same backlog again:
  `--backlog-arrivals K` reports APPENDed 1 s apart once it has stored its
  first message, and how long each waits for its acknowledgement (APPEND ->
  SMTP DATA) while the backlog is worked through (new mail first);
- `intake run` (the daemon) on the same mailbox: CPU while idle in IMAP IDLE,
  and how long a new message takes to be acknowledged (APPEND -> SMTP DATA).

    .venv/bin/python bench/ingest.py [--messages 2000] [--floor-runs 3] [--profile X.prof | --profile X.txt [--gil]]

Every figure is printed beside the floor measured in the same run, with the
CPU seconds of each kind of process (intake, document workers, LibreOffice
and its bridge). `--profile X.prof` is a cProfile of intake's main process;
`--profile X.txt` samples intake and every child with py-spy
(`bench/spy_top.py X.txt` prints the top entries per kind of process). The
machine's speed drifts by 10-20% between runs (and within one): compare
ratios to the floor, over several runs, not single wall times; `--floor-runs
3` measures the floor again after intake and compares with the mean.
"""
from __future__ import annotations

import argparse
import datetime as dt
import email.policy
import email.utils
import io
import os
import random
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import TypeVar

import docx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from servers.dovecot import DovecotServer  # noqa: E402
from servers.smtp import SmtpServer  # noqa: E402

USER = "intake"
OFFICE = "bantuyengiaonuconglc@gmail.com"
CORPUS = ROOT / "tests" / "corpus" / "docs"
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
DOC_TYPE = "application/msword"
REGISTERED = ("ldldbaothang@gmail.com", "ldldbatxat@gmail.com", "ldldsapa@gmail.com", "ldldbacha@gmail.com",
              "cdnyte.laocai@gmail.com")
MARKER = "BENCHMARKER0000000000"
INTAKE = ROOT / ".venv" / "bin" / "intake"
T = TypeVar("T")


# ------------------------------------------------------------------ corpus


def unique_docx(template: bytes, n: int, size: int, rng: random.Random) -> bytes:
    """`template` with a paragraph of its own and, up to `size` bytes, a picture of random pixels."""
    with zipfile.ZipFile(io.BytesIO(template)) as src:
        members = [(info, src.read(info)) for info in src.infolist()]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info, data in members:
            if info.filename == "word/document.xml":
                text = data.decode("utf-8")
                cut = text.rfind("<w:sectPr")
                cut = cut if cut != -1 else text.rfind("</w:body>")
                extra = "".join(
                    f"<w:p><w:r><w:t>Hồ sơ lưu số {n}-{k}-{rng.getrandbits(48):x}: "
                    f"ý kiến đóng góp của đoàn viên công đoàn cơ sở số {rng.randrange(10**6)}.</w:t></w:r></w:p>"
                    for k in range(1 + rng.randrange(40)))
                data = (text[:cut] + extra + text[cut:]).encode("utf-8")
            elif info.filename == "word/_rels/document.xml.rels":
                data = data.replace(b"</Relationships>", b'<Relationship Id="rIdBench" Type="http://schemas.'
                                    b'openxmlformats.org/officeDocument/2006/relationships/image" '
                                    b'Target="media/bench.png"/></Relationships>')
            elif info.filename == "[Content_Types].xml" and b'Extension="png"' not in data:
                data = data.replace(b"<Default ", b'<Default Extension="png" ContentType="image/png"/><Default ', 1)
            dst.writestr(info.filename, data)
        room = max(1024, size - out.tell())
        picture = b"\x89PNG\r\n\x1a\n" + rng.randbytes(room)
        dst.writestr(zipfile.ZipInfo("word/media/bench.png", (2024, 2, 20, 8, 0, 0)), picture,
                     compress_type=zipfile.ZIP_STORED)
    return out.getvalue()


def doc_templates(tmp: Path, docx_templates: list[bytes]) -> list[bytes]:
    """Two legacy .doc files (with and without the section) with MARKER in their text, via LibreOffice."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        raise SystemExit("LibreOffice (soffice) is needed to make the .doc share of the corpus")
    made: list[bytes] = []
    for i, template in enumerate(docx_templates):
        document = docx.Document(io.BytesIO(template))
        document.add_paragraph(MARKER)
        source = tmp / f"template{i}.docx"
        document.save(str(source))
        subprocess.run([soffice, "--headless", "--norestore", f"-env:UserInstallation=file://{tmp}/lo",
                        "--convert-to", "doc", "--outdir", str(tmp), str(source)],
                       check=True, capture_output=True, timeout=180)
        made.append((tmp / f"template{i}.doc").read_bytes())
    return made


def unique_doc(template: bytes, n: int) -> bytes:
    """The .doc template with its marker's digits replaced by `n` (same length, so the file stays valid)."""
    digits = f"{n:010d}"
    stamped = MARKER[:-10] + digits
    out = template
    for encoding in ("utf-16-le", "latin-1"):
        out = out.replace(MARKER.encode(encoding), stamped.encode(encoding))
    if out == template:
        raise SystemExit("the .doc template does not hold the marker text")
    return out


def report_size(rng: random.Random) -> int:
    """Most reports are small; one in five carries photos (log-uniform up to 3 MB)."""
    if rng.random() < 0.8:
        return int(30_000 * (5 ** rng.random()))          # 30-150 kB
    return int(150_000 * (20 ** rng.random()))             # 150 kB-3 MB


@dataclass(frozen=True)
class Mix:
    doc_share: float = 0.05
    auto_reply_share: float = 0.05


def make_message(n: int, when: dt.datetime, rng: random.Random, docx_templates: list[bytes],
                 docs: list[bytes], mix: Mix) -> tuple[bytes, str]:
    """One incoming email and its kind ("docx", "doc", "auto-reply")."""
    sender = REGISTERED[n % len(REGISTERED)] if n % 4 else f"donvi{n % 97}@congdoan.example.vn"
    msg = EmailMessage(policy=email.policy.SMTP)
    msg["From"] = email.utils.formataddr((f"Công đoàn cơ sở {n % 97}", sender))
    msg["To"] = OFFICE
    msg["Date"] = email.utils.format_datetime(when)
    msg["Message-ID"] = f"<bench-{n}-{rng.getrandbits(32):x}@congdoan.example.vn>"
    draw = rng.random()
    if draw < mix.auto_reply_share:
        kind = "auto-reply"
        msg["Subject"] = "Trả lời tự động: Báo cáo Chuyên đề năm 2024"
        msg["Auto-Submitted"] = "auto-replied"
        msg.set_content("Tôi đang đi công tác, sẽ trả lời khi trở về.")
        return msg.as_bytes(), kind
    msg["Subject"] = f"Báo cáo kết quả học tập Chuyên đề năm 2024 (số {n})"
    msg.set_content("Kính gửi Ban Tuyên giáo, đơn vị xin gửi báo cáo kèm theo.")
    if draw < mix.auto_reply_share + mix.doc_share:
        kind, data, ctype, name = "doc", unique_doc(docs[n % len(docs)], n), DOC_TYPE, f"Báo cáo {n}.doc"
    else:
        template = docx_templates[n % len(docx_templates)]
        kind, data, ctype, name = "docx", unique_docx(template, n, report_size(rng), rng), DOCX_TYPE, \
            f"BC chuyên đề {n}.docx"
    maintype, subtype = ctype.split("/", 1)
    msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return msg.as_bytes(), kind


# ------------------------------------------------------------------ floor


def walk_docx(data: bytes) -> int:
    """Open a .docx with python-docx and touch every paragraph and table cell's text."""
    document = docx.Document(io.BytesIO(data))
    chars = sum(len(p.text) for p in document.paragraphs)
    for table in document.tables:
        for row in table.rows:
            for cell in row.cells:
                chars += len(cell.text)
    return chars


def floor(server: DovecotServer) -> tuple[float, int, int]:
    """Seconds to fetch every message (BODY.PEEK[], 100 at a time) and walk every .docx; messages; files."""
    began = time.perf_counter()
    messages = files = 0
    with server.client(USER) as client:
        client.select_folder("INBOX", readonly=True)
        uids = client.search("ALL")
        for start in range(0, len(uids), 100):
            for data in client.fetch(uids[start:start + 100], [b"BODY.PEEK[]"]).values():
                messages += 1
                parsed = email.message_from_bytes(data[b"BODY[]"], policy=email.policy.default)
                for part in parsed.iter_attachments():  # type: ignore[attr-defined]
                    if (part.get_filename() or "").lower().endswith(".docx"):
                        walk_docx(part.get_content())
                        files += 1
    return time.perf_counter() - began, messages, files


# ------------------------------------------------------------------ process tree


def tree(pid: int) -> list[int]:
    """`pid` and every descendant, from /proc."""
    return list(tree_parents(pid))


def tree_parents(pid: int) -> dict[int, int | None]:
    """`pid` and every descendant, each with its parent (None for `pid`), from /proc."""
    found: dict[int, int | None] = {}
    todo: list[tuple[int, int | None]] = [(pid, None)]
    while todo:
        current, parent = todo.pop()
        found[current] = parent
        try:
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children") as fh:
                    todo.extend((int(c), current) for c in fh.read().split())
        except OSError:
            continue
    return found


def rss_kb(pid: int) -> tuple[int, int]:
    """(RSS, of which file-backed: shared library and mapped file pages, which the kernel can drop) in kB."""
    rss = file_backed = 0
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    rss = int(line.split()[1])
                elif line.startswith("RssFile:"):
                    file_backed = int(line.split()[1])
    except OSError:
        pass
    return rss, file_backed


def command_line(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            words = fh.read().split(b"\0")
    except OSError:
        return "?"
    return " ".join(w.decode("utf-8", "replace") for w in words if w)


def command_of(pid: int, text: str | None = None) -> str:
    """The kind of process `pid` is (of its command line `text`, when read already)."""
    text = command_line(pid) if text is None else text
    if text == "?":
        return text
    for short in ("py-spy", "reading.harness", "lifeline", "uno_bridge", "oosplash", "soffice", "intake"):
        if short in text:
            return short
    return text[:40]


LIBREOFFICE = frozenset({"uno_bridge", "lifeline", "oosplash", "soffice"})  # kinds that start LibreOffice's tree


def libreoffice_tree(parents: dict[int, int | None], names: dict[int, str]) -> set[int]:
    """The processes of LibreOffice's trees: the launcher (lifeline), the UNO bridge, oosplash, soffice.bin and
    whatever they started; the rest of the tree is intake's own (main process and document workers)."""
    found: set[int] = set()
    for pid in parents:
        current: int | None = pid
        while current is not None:
            if names.get(current) in LIBREOFFICE:
                found.add(pid)
                break
            current = parents.get(current)
    return found


def cpu_seconds(pid: int, *, reaped: bool = True) -> float:
    """User + system CPU of `pid`, with its children's that it reaped unless `reaped` is False."""
    user, system = cpu_split(pid, reaped=reaped)
    return user + system


def cpu_split(pid: int, *, reaped: bool = True) -> tuple[float, float]:
    """(user, system) CPU seconds of `pid`, with its children's that it reaped unless `reaped` is False."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rpartition(")")[2].split()
    except OSError:
        return 0.0, 0.0
    tick = os.sysconf("SC_CLK_TCK")
    user = int(fields[11]) + (int(fields[13]) if reaped else 0)
    system = int(fields[12]) + (int(fields[14]) if reaped else 0)
    return user / tick, system / tick


def machine_busy() -> float:
    """Core-seconds the whole machine has spent busy (not idle or waiting for I/O) since boot."""
    with open("/proc/stat") as fh:
        fields = [int(x) for x in fh.readline().split()[1:]]
    idle = fields[3] + fields[4]
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


@dataclass
class Account:
    """Where a run's core-seconds went: the whole machine, and this bench's own process."""

    wall: float = 0.0
    machine: float = 0.0
    bench: float = 0.0

    @classmethod
    def measure(cls, work: Callable[[], T]) -> tuple[T, Account]:
        began, busy, own = time.perf_counter(), machine_busy(), sum(os.times()[:2])
        result = work()
        return result, cls(time.perf_counter() - began, machine_busy() - busy, sum(os.times()[:2]) - own)

    def line(self, measured: str | None = None, measured_cpu: float = 0.0) -> str:
        """The account; `measured` names processes other than this one and their CPU seconds."""
        capacity = self.wall * (os.cpu_count() or 1)
        rest = self.machine - measured_cpu - self.bench
        others = f"{measured} {measured_cpu:.1f}, " if measured else ""
        return (f"  core-seconds: machine busy {self.machine:.1f} of {capacity:.1f} "
                f"({100 * self.machine / max(capacity, 1e-9):.0f} %); {others}this bench's process "
                f"{self.bench:.1f}, the rest (Dovecot, kernel, other) {rest:.1f}")


class PeakRss:
    """Samples the summed RSS of a process tree every 50 ms until stopped, and each process's CPU time."""

    def __init__(self, pid: int) -> None:
        self.cpu: dict[int, tuple[str, float]] = {}  # pid: (command, CPU seconds at its last sample)
        self.system: dict[int, float] = {}  # pid: system (kernel) CPU seconds of those
        self.pid, self.peak_kb, self.peak_procs = pid, 0, 0
        self.peak_file_kb = 0  # the file-backed part of the peak
        self.peak_anon_kb = 0  # the highest sum of anonymous (RSS less file-backed) memory
        self.peak_own_kb = 0  # intake's own processes (main and workers) alone
        self.peak_libreoffice_kb = 0  # LibreOffice's trees (launcher, bridge, oosplash, soffice.bin) alone
        self.at_own_peak: list[tuple[str, int]] = []  # (command, RSS kB) of intake's processes at their peak
        self.at_peak: list[tuple[str, int]] = []  # (command, RSS kB) of each process at the peak
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.05):
            parents = tree_parents(self.pid)
            lines = {p: command_line(p) for p in parents}
            names = {p: command_of(p, line) for p, line in lines.items()}
            # A child forked but not yet exec'd (starting a worker or LibreOffice) shows its parent's
            # command line and RSS: its pages are the parent's, shared, and counted once.
            sizes = [(p, rss_kb(p) if parent is None or lines[p] != lines.get(parent) else (0, 0))
                     for p, parent in parents.items()]
            for p, _size in sizes:
                # Named anew each time (a fresh child shows its parent's command line), but an exited
                # process (no command line left) keeps the last name it had.
                name = names[p]
                if name in ("", "?") and p in self.cpu:
                    name = self.cpu[p][0]
                user, system = cpu_split(p, reaped=False)
                self.cpu[p], self.system[p] = (name, user + system), system
            total = sum(size for _p, (size, _f) in sizes)
            file_backed = sum(f for _p, (_size, f) in sizes)
            theirs = libreoffice_tree(parents, names)
            ours = sum(size for p, (size, _f) in sizes if p not in theirs)
            if ours > self.peak_own_kb:
                self.peak_own_kb = ours
                self.at_own_peak = [(names[p], size) for p, (size, _f) in sizes if size and p not in theirs]
            self.peak_libreoffice_kb = max(self.peak_libreoffice_kb,
                                           sum(size for p, (size, _f) in sizes if p in theirs))
            self.peak_anon_kb = max(self.peak_anon_kb, total - file_backed)
            if total > self.peak_kb:
                self.peak_kb, self.peak_procs, self.peak_file_kb = total, len(sizes), file_backed
                self.at_peak = [(names[p], size) for p, (size, _f) in sizes if size]

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        return self.peak_kb

    def cpu_total(self) -> tuple[float, float]:
        """(CPU seconds, of which system) of every process of the tree over the run."""
        return sum(seconds for _name, seconds in self.cpu.values()), sum(self.system.values())

    def cpu_by_command(self) -> dict[str, tuple[int, float, float]]:
        """command: (processes, CPU seconds, of which system) over the run (the last 50 ms of each
        process unseen)."""
        totals: dict[str, tuple[int, float, float]] = {}
        for pid, (command, seconds) in self.cpu.items():
            count, total, system = totals.get(command, (0, 0.0, 0.0))
            totals[command] = (count + 1, total + seconds, system + self.system.get(pid, 0.0))
        return totals


# ------------------------------------------------------------------ intake


def write_config(tmp: Path, imap: DovecotServer, smtp: SmtpServer) -> Path:
    example = (ROOT / "config.example.toml").read_text(encoding="utf-8")
    units = example[example.index("[[units]]"):]
    text = f"""timezone = "Asia/Ho_Chi_Minh"
[store]
url = "sqlite:///{tmp / 'intake.db'}"
files_dir = "{tmp / 'files'}"
[mailbox]
kind = "imap"
host = "{imap.host}"
port = {imap.port}
security = "none"
username = "{USER}"
password_env = "BENCH_IMAP_PASSWORD"
after = "flag"
[sending]
kind = "smtp"
host = "{smtp.host}"
port = {smtp.port}
security = "none"
from_address = "{OFFICE}"
from_name = "Ban Tuyên giáo - Nữ công LĐLĐ tỉnh Lào Cai"
[acknowledge]
language = "vi"
max_age_days = 3650
max_per_hour = 100000
{units}"""
    path = tmp / "intake.toml"
    path.write_text(text, encoding="utf-8")
    return path


def intake_command(config: Path, *args: str, profile: str | None = None, gil: bool = False) -> list[str]:
    """intake's command line; `profile` ending in .txt samples every process with py-spy (only the
    threads holding the GIL with `gil`), else cProfile."""
    if profile is None:
        return [str(INTAKE), "--config", str(config), *args]
    if profile.endswith(".txt"):
        spy = ROOT / ".venv" / "bin" / "py-spy"
        sampling = ["--format", "raw", "--rate", "100", *(["--gil"] if gil else [])]
        return [str(spy), "record", "--subprocesses", *sampling, "-o", profile, "--",
                str(INTAKE), "--config", str(config), *args]
    return [sys.executable, "-m", "cProfile", "-o", profile, "-m", "intake.processor.cli",
            "--config", str(config), *args]


def run_once(config: Path, env: dict[str, str], profile: str | None,
             gil: bool = False) -> tuple[float, PeakRss, str]:
    began = time.perf_counter()
    proc = subprocess.Popen(intake_command(config, "run", "--once", profile=profile, gil=gil), env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    sampler = PeakRss(proc.pid)
    output, _ = proc.communicate()
    seconds = time.perf_counter() - began
    sampler.stop()
    if proc.returncode != 0:
        raise SystemExit(f"intake run --once failed ({proc.returncode}):\n{output.decode()[-3000:]}")
    return seconds, sampler, output.decode("utf-8", "replace")


def db_counts(tmp: Path) -> tuple[dict[str, int], dict[str, int]]:
    con = sqlite3.connect(tmp / "intake.db")
    try:
        messages = dict(con.execute("select state, count(*) from messages group by state").fetchall())
        outgoing = dict(con.execute("select state, count(*) from outgoing group by state").fetchall())
    finally:
        con.close()
    return messages, outgoing


def daemon_figures(config: Path, env: dict[str, str], imap: DovecotServer, smtp: SmtpServer,
                   rounds: int, idle_seconds: float) -> tuple[float, list[float]]:
    """(idle CPU in % of one core, ack latencies in seconds) of `intake run`."""
    proc = subprocess.Popen(intake_command(config, "run"), env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        wait_until_quiet(proc.pid)
        pids = tree(proc.pid)
        before = sum(cpu_seconds(p) for p in pids)
        time.sleep(idle_seconds)
        after = sum(cpu_seconds(p) for p in tree(proc.pid))
        idle_cpu = 100.0 * (after - before) / idle_seconds
        latencies = []
        with imap.client(USER) as client:
            for i in range(rounds):
                sender = f"idle{i}@congdoan.example.vn"
                raw = latency_message(i, sender)
                began = time.time()
                client.append("INBOX", raw, msg_time=dt.datetime.now(dt.UTC))
                got = wait_for_recipient(smtp, sender, timeout=60)
                latencies.append(got - began)
                time.sleep(1.0)
        return idle_cpu, latencies
    finally:
        terminate(proc)


class Arrivals:
    """Reports APPENDed while `run --once` works through the backlog: once it has stored its first
    message (the round has begun), `count` of them 1 s apart; (sender, time appended) of each."""

    def __init__(self, tmp: Path, imap: DovecotServer, count: int) -> None:
        self.tmp, self.imap, self.count = tmp, imap, count
        self.sent: list[tuple[str, float]] = []
        self.thread = threading.Thread(target=self._arrive, daemon=True)

    def _arrive(self) -> None:
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline and db_messages(self.tmp / "intake.db") < 1:
            time.sleep(0.05)
        with self.imap.client(USER) as client:
            for i in range(self.count):
                sender = f"backlog{i}@congdoan.example.vn"
                raw = latency_message(100 + i, sender)
                began = time.time()
                client.append("INBOX", raw, msg_time=dt.datetime.now(dt.UTC))
                self.sent.append((sender, began))
                time.sleep(1.0)

    def latencies(self, smtp: SmtpServer) -> list[float]:
        self.thread.join(600)
        return [wait_for_recipient(smtp, sender, timeout=300) - began for sender, began in self.sent]


def backlog_latencies(tmp: Path, imap: DovecotServer, smtp: SmtpServer, env: dict[str, str],
                      count: int) -> list[float]:
    """Acknowledgement latencies of `count` reports arriving while `intake run` works through the backlog."""
    home = tmp / "arrivals"
    home.mkdir()
    config = write_config(home, imap, smtp)
    arrivals = Arrivals(home, imap, count)
    proc = subprocess.Popen(intake_command(config, "run"), env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        arrivals.thread.start()
        return arrivals.latencies(smtp)
    finally:
        terminate(proc)


def db_messages(path: Path) -> int:
    """Messages stored so far; 0 before the store exists."""
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=1)
        try:
            return int(con.execute("select count(*) from messages").fetchone()[0])
        finally:
            con.close()
    except sqlite3.Error:
        return 0


def terminate(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL after 30 s."""
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def wait_until_quiet(pid: int, timeout: float = 120.0) -> None:
    """Until the daemon has used under 0.05 s of CPU in a second (its first round is over)."""
    deadline = time.monotonic() + timeout
    last = sum(cpu_seconds(p) for p in tree(pid))
    while time.monotonic() < deadline:
        time.sleep(1.0)
        now = sum(cpu_seconds(p) for p in tree(pid))
        if now - last < 0.05:
            return
        last = now
    raise SystemExit("intake run never went quiet")


def latency_message(i: int, sender: str) -> bytes:
    template = (CORPUS / "01_heading_styles.docx").read_bytes()
    msg = EmailMessage(policy=email.policy.SMTP)
    msg["From"] = email.utils.formataddr((f"LĐLĐ thử nghiệm {i}", sender))
    msg["To"] = OFFICE
    msg["Subject"] = f"Báo cáo Chuyên đề năm 2024 - đo độ trễ {i}"
    msg["Date"] = email.utils.format_datetime(dt.datetime.now(dt.UTC))
    msg["Message-ID"] = f"<latency-{i}-{time.time_ns()}@congdoan.example.vn>"
    msg.set_content("Kính gửi Ban Tuyên giáo.")
    msg.add_attachment(unique_docx(template, 10**6 + i, 60_000, random.Random(i)), maintype="application",
                       subtype=DOCX_TYPE.split("/", 1)[1], filename=f"BC {i}.docx")
    return msg.as_bytes()


def wait_for_recipient(smtp: SmtpServer, address: str, timeout: float) -> float:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for got in list(smtp.messages):
            if address in got.rcpt_tos:
                return got.received_at
        time.sleep(0.01)
    raise SystemExit(f"no acknowledgement to {address} within {timeout:.0f} s")


# ------------------------------------------------------------------ main


def load(server: DovecotServer, n: int, mix: Mix, seed: int, tmp: Path) -> dict[str, int]:
    rng = random.Random(seed)
    templates = sorted(CORPUS.glob("*.docx"))
    docx_templates = [p.read_bytes() for p in templates]
    no_section = [t for p, t in zip(templates, docx_templates, strict=True) if "no_section" in p.name]
    docs = doc_templates(tmp, [docx_templates[0], *no_section[:1]])
    now = dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)
    kinds: dict[str, int] = {}
    total = 0
    with server.client(USER) as client:
        for i in range(n):
            raw, kind = make_message(i, now, rng, docx_templates, docs, mix)
            kinds[kind] = kinds.get(kind, 0) + 1
            total += len(raw)
            client.append("INBOX", raw, msg_time=now + dt.timedelta(seconds=i))
    kinds["bytes"] = total
    return kinds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--doc-share", type=float, default=Mix.doc_share)
    parser.add_argument("--auto-reply-share", type=float, default=Mix.auto_reply_share)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--profile", help="write a cProfile of intake's main process here, or with a .txt name "
                        "py-spy's collapsed stacks of intake and its workers (see bench/spy_top.py)")
    parser.add_argument("--gil", action="store_true", help="with a .txt profile: sample only threads holding the "
                        "GIL (Python's own CPU; time in C code that releases the GIL, such as SQLite, is not seen)")
    parser.add_argument("--floor-runs", type=int, default=1,
                        help="measure the floor this many times (the first before intake, the others after it) "
                             "and compare intake with their mean: the machine's speed drifts")
    parser.add_argument("--latency-rounds", type=int, default=5)
    parser.add_argument("--backlog-arrivals", type=int, default=5,
                        help="reports APPENDed 1 s apart while `intake run` works through the backlog on a fresh "
                             "store (after its first message is stored); their acknowledgement latency (0: none)")
    parser.add_argument("--idle-seconds", type=float, default=20.0)
    parser.add_argument("--no-daemon", action="store_true", help="skip the IDLE latency and idle CPU part")
    parser.add_argument("--keep", action="store_true", help="keep the scratch directory and print it")
    args = parser.parse_args()
    if not INTAKE.exists():
        raise SystemExit(f"{INTAKE} missing: run `make venv` first")
    mix = Mix(doc_share=args.doc_share, auto_reply_share=args.auto_reply_share)
    imap, smtp = DovecotServer(tls=False), SmtpServer(security="none")
    tmp = Path(tempfile.mkdtemp(prefix="intake-bench-ingest-"))
    try:
        imap.start()
        smtp.start()
        began = time.perf_counter()
        kinds = load(imap, args.messages, mix, args.seed, tmp)
        print(f"loaded {args.messages} messages ({kinds.get('docx', 0)} .docx, {kinds.get('doc', 0)} .doc, "
              f"{kinds.get('auto-reply', 0)} auto-replies; {kinds['bytes'] / 1e6:.0f} MB) "
              f"in {time.perf_counter() - began:.0f} s")
        (floor_s, floor_msgs, floor_files), floor_account = Account.measure(lambda: floor(imap))
        print(f"floor: {floor_msgs} messages, {floor_files} .docx walked with python-docx in {floor_s:.2f} s "
              f"({floor_msgs / floor_s:.1f} msg/s)")
        print(floor_account.line() + " (the floor runs in this bench's process)")
        config = write_config(tmp, imap, smtp)
        env = {**os.environ, "BENCH_IMAP_PASSWORD": imap.users[USER]}
        (seconds, sampler, output), account = Account.measure(
            lambda: run_once(config, env, args.profile, args.gil))
        peak_kb = sampler.peak_kb
        messages, outgoing = db_counts(tmp)
        pending = outgoing.get("pending", 0) + outgoing.get("sending", 0)
        print(f"intake run --once: {args.messages} messages in {seconds:.2f} s ({args.messages / seconds:.1f} msg/s), "
              f"peak RSS {peak_kb / 1024:.0f} MB (intake + children)")
        print(f"  of the peak, file-backed (library and mapped file pages): {sampler.peak_file_kb / 1024:.0f} MB; "
              f"peak of anonymous memory: {sampler.peak_anon_kb / 1024:.0f} MB")
        print(f"  peak RSS of intake's own processes (main and workers): {sampler.peak_own_kb / 1024:.0f} MB "
              f"({', '.join(f'{name} {kb / 1024:.0f}' for name, kb in sampler.at_own_peak)}); "
              f"of LibreOffice's tree apart: {sampler.peak_libreoffice_kb / 1024:.0f} MB")
        print("  CPU: " + ", ".join(f"{name} {seconds:.1f} s ({count} process{'es' if count > 1 else ''}, "
                                    f"kernel {system:.1f} s)"
                                    for name, (count, seconds, system) in sorted(sampler.cpu_by_command().items())))
        intake_cpu, intake_system = sampler.cpu_total()
        print(account.line(f"intake and its children (of which kernel {intake_system:.1f})", intake_cpu)
              + "; this bench's process is the RSS sampler and the SMTP sink")
        print("  at the peak: " + ", ".join(f"{name} {kb / 1024:.0f} MB" for name, kb in sampler.at_peak))
        print(f"  messages {messages}; acknowledgements {outgoing}; received by the SMTP sink: {len(smtp.messages)}; "
              f"still pending after the run: {pending}")
        if args.floor_runs > 1:
            again = [floor(imap)[0] for _ in range(args.floor_runs - 1)]
            floor_s = statistics.mean([floor_s, *again])
            print(f"floor again after intake: {', '.join(f'{s:.2f}' for s in again)} s; mean {floor_s:.2f} s")
        print(f"intake/floor: {seconds / floor_s:.2f}")
        errors = [line for line in output.splitlines() if " ERROR " in line or "Traceback" in line]
        if errors:
            print(f"  {len(errors)} error lines in intake's log, first: {errors[0][:300]}")
        if args.profile:
            print(f"  profile: {args.profile}")
        if args.backlog_arrivals:
            late = backlog_latencies(tmp, imap, smtp, env, args.backlog_arrivals)
            p95 = statistics.quantiles(late, n=20, method="inclusive")[18] if len(late) > 1 else late[0]
            print(f"backlog IDLE latency: {len(late)} reports appended while `intake run` worked through the "
                  f"backlog (fresh store) acknowledged after median {statistics.median(late):.2f} s, "
                  f"p95 {p95:.2f} s (each: {', '.join(f'{x:.2f}' for x in late)})")
        if not args.no_daemon:
            idle_cpu, latencies = daemon_figures(config, env, imap, smtp, args.latency_rounds, args.idle_seconds)
            print(f"intake run: idle CPU {idle_cpu:.2f}% of a core over {args.idle_seconds:.0f} s; "
                  f"IDLE acknowledgement latency median {statistics.median(latencies):.2f} s "
                  f"(each: {', '.join(f'{x:.2f}' for x in latencies)})")
        if not pending and messages.get("stored", 0) == 0:
            return 0
        return 1
    finally:
        smtp.cleanup()
        imap.cleanup()
        if args.keep:
            print(f"scratch directory kept: {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.stdout.reconfigure(line_buffering=True)
    sys.exit(main())
