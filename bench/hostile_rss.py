"""Peak memory (RSS) of the intake process over the hostile mail set, with and without the mail limits.

The set: every header-injection and broken-structure message of the tests
(tests/test_hostile_headers.py, tests/test_hostile_parse.py), 1,000 nested
multipart levels, a 34 MB message (a 25 MB attachment: under the default
40 MB cap, parsed) and a 61 MB one (45 MB attachment: over the cap). Each
variant runs `run --once` over a Maildir holding the set, in a fresh child
process, and reports that process's peak RSS (ru_maxrss) and its children's
(mail and document workers):

- limits:   as shipped (mail parsed in a child under limits, 40 MB cap)
- baseline: the old way, measured in the same run: everything parsed in the
            main process, no cap

    .venv/bin/python bench/hostile_rss.py
"""
from __future__ import annotations

import argparse
import base64
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))


def hostile_set() -> dict[str, bytes]:
    from hostilekit import hostile
    from test_hostile_headers import CASES
    from test_hostile_parse import BROKEN

    out = {f"header: {k}": v for k, v in CASES.items()}
    out.update({f"broken: {k}": v[0] for k, v in BROKEN.items()})

    def big(mb: int) -> bytes:
        part = base64.encodebytes(os.urandom(mb * 1024 * 1024)).replace(b"\n", b"\r\n")
        return hostile(b"Message-ID: <big-%d@x.vn>" % mb).replace(
            b"--BOUNDARY--", b"--BOUNDARY\r\nContent-Type: application/octet-stream\r\n"
            b'Content-Disposition: attachment; filename="video.bin"\r\nContent-Transfer-Encoding: base64\r\n\r\n'
            + part + b"--BOUNDARY--")

    out["big: 25 MB attachment"] = big(25)
    out["big: 45 MB attachment"] = big(45)
    return out


def run_variant(variant: str, maildir: Path, work: Path) -> dict[str, object]:
    """In this (fresh) process: `run --once` over the Maildir; the figures as a dict."""
    from staffkit import make_config

    from intake.processor.app import App, open_store

    cfg = make_config(work)
    cfg = cfg.__class__(**{**cfg.__dict__, "isolate_parsing": variant == "limits",
                           "mailbox": cfg.mailbox.__class__(**{**cfg.mailbox.__dict__, "path": maildir,
                                                               "max_message_mb": 40 if variant == "limits"
                                                               else 100_000})})
    app = App(cfg, open_store(cfg))
    began = time.monotonic()
    _leftover, fetched, _sent = app.run_once()
    elapsed = time.monotonic() - began
    app.store.close()
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"variant": variant, "messages": fetched.fetched, "processed": fetched.processed,
            "failed": fetched.failed, "peak_rss_mb": round(own, 1), "peak_child_rss_mb": round(children, 1),
            "seconds": round(elapsed, 1)}


def write_set(maildir: Path) -> None:
    for sub in ("new", "cur", "tmp"):
        (maildir / sub).mkdir(parents=True, exist_ok=True)
    messages = hostile_set()
    for i, raw in enumerate(messages.values()):
        (maildir / "new" / f"{i:04d}.eml").write_bytes(raw)
    total = sum(len(r) for r in messages.values())
    print(f"hostile set: {len(messages)} messages, {total / 1048576:.1f} MB, largest "
          f"{max(len(r) for r in messages.values()) / 1048576:.1f} MB")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--variant", choices=("limits", "baseline"))
    parser.add_argument("--write", action="store_true")
    parser.add_argument("--maildir", type=Path)
    args = parser.parse_args()
    if args.write:
        write_set(args.maildir)
        return
    if args.variant:
        with tempfile.TemporaryDirectory(prefix="intake-rss-") as work:
            print(json.dumps(run_variant(args.variant, args.maildir, Path(work))))
        return
    # Linux keeps a process's peak RSS across fork and exec: this parent stays small (the set is
    # written by a child), so that each variant's figure is its own.
    with tempfile.TemporaryDirectory(prefix="intake-hostile-") as tmp:
        maildir = Path(tmp) / "maildir"
        subprocess.run([sys.executable, __file__, "--write", "--maildir", str(maildir)], check=True)
        results = {}
        for variant in ("baseline", "limits"):
            done = subprocess.run([sys.executable, __file__, "--variant", variant, "--maildir", str(maildir)],
                                  capture_output=True, text=True, check=True)
            results[variant] = json.loads(done.stdout.strip().splitlines()[-1])
            print(json.dumps(results[variant]))
        base, lim = results["baseline"]["peak_rss_mb"], results["limits"]["peak_rss_mb"]
        assert isinstance(base, float) and isinstance(lim, float)
        print(f"peak RSS of the intake process: {lim:.0f} MB with the limits vs {base:.0f} MB in-process "
              f"(ratio {lim / base:.2f}); budget 300 MB: {'within' if lim < 300 else 'OVER'}")
        print("(peak_child_rss_mb is an upper bound: a worker's figure starts from its parent's RSS at fork)")


if __name__ == "__main__":
    main()
