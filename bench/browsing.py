"""A backlog on SQLite worked through alone, then with staff browsing the dashboard on the same store.

Each trial starts from the same processed example site (tests/webkit.py) with
N report emails added to its Maildir (tests/opskit.py's `backlog`), and times
`intake run --once` (parsing in worker processes, acknowledgements written to
the outbox folder) as a subprocess:

- alone;
- while `intake serve` runs on the same store and C clients, each logged in
  with its own session, fetch the overview (`GET /`) in a loop; every fetch
  while the backlog runs is timed.

It prints both backlog times, their ratio (target: within 1.5x), and the
overview's median and p95 (target: p95 under 1 s), with the core-seconds of
intake, of `intake serve` and of the clients: on a small machine clients that
fetch without a pause take cores the backlog would use, which a lock-free
reader cannot give back (`--pause 1` is a person reading each page).

    .venv/bin/python bench/browsing.py [--messages 1000] [--clients 4] [--pause 0]
"""
from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from opskit import backlog  # noqa: E402
from webkit import PASSWORD, USER, clone_site, example_site, free_port  # noqa: E402

INTAKE = ROOT / ".venv" / "bin" / "intake"
WEB_UNIT = ROOT / "deploy" / "intake-web.service"


def web_niceness() -> int:
    """The dashboard's niceness as deployed (`Nice=` in deploy/intake-web.service): the bench runs it so."""
    found = re.search(r"^Nice=(-?\d+)$", WEB_UNIT.read_text(encoding="utf-8"), re.MULTILINE)
    return int(found.group(1)) if found else 0


def site(root: Path, messages: int) -> Path:
    """The example site (processed, one account) with `messages` more waiting in its Maildir, parsed in
    worker processes as a daemon does; its config's path."""
    config = example_site(root)
    text = config.read_text(encoding="utf-8").replace("isolate_parsing = false\n", "", 1)
    config.write_text(text, encoding="utf-8")
    backlog(root, messages, start=100)  # into root/maildir
    return config


def work_through(config: Path, messages: int) -> tuple[float, float]:
    """(seconds, core-seconds of intake and its workers) `intake run --once` takes on the site; fails
    unless it processed `messages` more."""
    before, cpu = processed(config), core_seconds(resource.RUSAGE_CHILDREN)
    began = time.perf_counter()
    subprocess.run([str(INTAKE), "--config", str(config), "-q", "run", "--once"], check=True,
                   stdout=subprocess.DEVNULL)
    took = time.perf_counter() - began
    if processed(config) - before != messages:
        raise SystemExit(f"processed {processed(config) - before} messages, not {messages}")
    return took, core_seconds(resource.RUSAGE_CHILDREN) - cpu


def core_seconds(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def processed(config: Path) -> int:
    """How many messages the site's store has processed (or ignored as auto-replies)."""
    with sqlite3.connect(config.parent / "intake.db") as db:
        return int(db.execute("SELECT count(*) FROM messages WHERE state != 'STORED'").fetchone()[0])


class Browsing:
    """`intake serve` on the site and `clients` threads fetching the overview until stopped."""

    def __init__(self, config: Path, clients: int, pause: float) -> None:
        self.pause = pause
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        text = config.read_text(encoding="utf-8").replace("[web]\n", f'[web]\nlisten = "127.0.0.1:{self.port}"\n', 1)
        config.write_text(text, encoding="utf-8")
        # As deployed: the dashboard at a lower CPU priority than the daemon (deploy/intake-web.service).
        self.server = subprocess.Popen(["nice", "-n", str(web_niceness()), str(INTAKE), "--config", str(config),
                                        "-q", "serve"],
                                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.stop = threading.Event()
        self.measuring = threading.Event()
        self.seconds: list[float] = []
        self.failures = 0
        self._lock = threading.Lock()
        self._wait_ready()
        self.threads = [threading.Thread(target=self._browse, args=(self._client(),), daemon=True)
                        for _ in range(clients)]
        for thread in self.threads:
            thread.start()

    def _wait_ready(self) -> None:
        for _ in range(300):
            try:
                if httpx.get(self.base + "/login", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                if self.server.poll() is not None:
                    raise SystemExit(f"intake serve ended ({self.server.returncode})") from None
                time.sleep(0.1)
        raise SystemExit("intake serve did not answer")

    def _client(self) -> httpx.Client:
        client = httpx.Client(base_url=self.base, timeout=60, headers={"Origin": self.base})
        found = re.search(r'name="csrf" value="([^"]+)"', client.get("/login").text)
        assert found, "no CSRF token on the login page"
        done = client.post("/login", data={"csrf": found[1], "name": USER, "password": PASSWORD, "next": "/"})
        assert done.status_code == 303, done.status_code
        return client

    def _browse(self, client: httpx.Client) -> None:
        try:
            while not self.stop.is_set():
                began = time.perf_counter()
                ok = client.get("/").status_code == 200
                took = time.perf_counter() - began
                if self.measuring.is_set():
                    with self._lock:
                        self.seconds.append(took)
                        self.failures += not ok
                self.stop.wait(self.pause)
        finally:
            client.close()

    def server_core_seconds(self) -> float:
        fields = Path(f"/proc/{self.server.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime

    def close(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(120)
        self.server.terminate()
        self.server.wait(30)


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] if len(values) >= 2 else (values[0] if values else float("nan"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--pause", type=float, default=0.0, help="seconds each client waits between fetches")
    parser.add_argument("--keep", action="store_true", help="keep the scratch directory and print it")
    args = parser.parse_args()
    if not INTAKE.exists():
        raise SystemExit(f"{INTAKE} missing: run `make venv` first")
    tmp = Path(tempfile.mkdtemp(prefix="intake-bench-browsing-"))
    try:
        base = site(tmp / "base", args.messages)
        alone, alone_cpu = work_through(clone_site(base.parent, tmp / "alone"), args.messages)
        print(f"backlog of {args.messages} alone: {alone:.1f} s ({alone_cpu:.1f} core-seconds of intake)")
        config = clone_site(base.parent, tmp / "browsed")
        browsing = Browsing(config, args.clients, args.pause)
        try:
            serve_cpu, bench_cpu = browsing.server_core_seconds(), core_seconds(resource.RUSAGE_SELF)
            browsing.measuring.set()
            browsed, browsed_cpu = work_through(config, args.messages)
            browsing.measuring.clear()
            serve_cpu = browsing.server_core_seconds() - serve_cpu
            bench_cpu = core_seconds(resource.RUSAGE_SELF) - bench_cpu
        finally:
            browsing.close()
        times = browsing.seconds
        print(f"backlog of {args.messages} with {args.clients} clients browsing (pause {args.pause:g} s): "
              f"{browsed:.1f} s ({browsed_cpu:.1f} core-seconds of intake), {browsed / alone:.2f}x alone "
              f"(target within 1.5x)")
        print(f"  meanwhile intake serve used {serve_cpu:.1f} core-seconds and the clients {bench_cpu:.1f}, on "
              f"{os.cpu_count()} cores (load average {os.getloadavg()[0]:.1f})")
        print(f"overview: {len(times)} fetches, {browsing.failures} failed, median {statistics.median(times):.3f} s, "
              f"p95 {p95(times):.3f} s (target under 1 s)")
    finally:
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
