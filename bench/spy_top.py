"""Top entries of a py-spy profile in collapsed (raw) form, per kind of process.

    .venv/bin/python bench/spy_top.py profile.txt [--top 25] [--idle]

py-spy (`record --subprocesses --format raw`) writes one line per distinct
stack: `process N:"command";frame;frame;... count`. This prints, for each
kind of process (intake's main process, document workers, mail workers),
the samples in total and the functions with the largest inclusive and self
share. Samples where a thread only waits (select, poll, read on a pipe,
acquire) are left out unless --idle is given.
"""
from __future__ import annotations

import argparse
import collections
import re
from pathlib import Path

IDLE = re.compile(r"^(select|poll|wait|_wait_for_tstate_lock|acquire|read|recv_into|readinto|accept|sleep|"
                  r"_recv_bytes|_poll|get|_worker|__enter__)\b")
FRAME = re.compile(r"^(?P<func>[^ ]+) \((?P<file>[^:]+)(?::(?P<line>\d+))?\)$")


def process_kind(root: str) -> str:
    if "reading.harness" in root:
        return "worker"
    if "soffice" in root:
        return "soffice"
    return "intake main"


def short(frame: str) -> str:
    match = FRAME.match(frame)
    if not match:
        return frame
    path = match["file"]
    for marker in ("site-packages/", "intake/", "lib/python3"):
        if marker in path:
            path = path[path.index(marker) + len(marker):]
            break
    return f"{match['func']} ({path})"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("profile", type=Path)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--idle", action="store_true", help="count samples of waiting threads too")
    args = parser.parse_args()

    totals: collections.Counter[str] = collections.Counter()
    inclusive: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    own: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    for line in args.profile.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        frames = stack.split(";")
        processes = [f for f in frames if f.startswith("process ")]
        kind = process_kind(processes[-1] if processes else "")
        calls = [short(f) for f in frames if not f.startswith(("process ", "thread "))]
        if not calls:
            continue
        if not args.idle and IDLE.match(calls[-1]):
            continue
        count = int(count_text)
        totals[kind] += count
        for name in set(calls):
            inclusive[kind][name] += count
        own[kind][calls[-1]] += count

    for kind, total in totals.most_common():
        print(f"\n== {kind}: {total} samples")
        print("  inclusive:")
        for name, count in inclusive[kind].most_common(args.top):
            print(f"    {100 * count / total:5.1f}%  {name}")
        print("  self:")
        for name, count in own[kind].most_common(args.top // 2):
            print(f"    {100 * count / total:5.1f}%  {name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
