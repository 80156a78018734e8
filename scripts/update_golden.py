"""Accept the whole-pipeline golden records (tests/golden/pipeline/<corpus>.json) from a fresh run.

    .venv/bin/python scripts/update_golden.py                 # every corpus
    .venv/bin/python scripts/update_golden.py examples        # the ones named
    .venv/bin/python scripts/update_golden.py --check         # only show the diff and the summary

A difference is a behaviour change: accept it in the commit that causes it, and
say why there. Prints each corpus's summary (units by status and section, messages
by outcome) and fails when a message ends neither attributed, unmatched nor ignored.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from golden.pipeline import CORPORA, diff, golden_path, invariant_failures, render, run_corpus, summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("corpora", nargs="*", metavar="CORPUS", help=f"one of {', '.join(CORPORA)} (default: all)")
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 on a difference")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.corpora) - set(CORPORA))
    if unknown:
        parser.error(f"unknown corpus {', '.join(unknown)}: choose from {', '.join(CORPORA)}")
    status = 0
    for name in args.corpora or list(CORPORA):
        with tempfile.TemporaryDirectory(prefix=f"intake-golden-{name}-") as tmp:
            record = run_corpus(name, Path(tmp))
        fresh, changes = render(record), diff(name, render(record))
        print(summary(record))
        for failure in invariant_failures(record):
            print(f"  INVARIANT: {failure}")
            status = 1
        if not changes:
            print(f"  {golden_path(name).name}: unchanged")
            continue
        print(changes, end="")
        if args.check:
            status = 1
        else:
            golden_path(name).parent.mkdir(parents=True, exist_ok=True)
            golden_path(name).write_text(fresh, encoding="utf-8")
            print(f"  wrote {golden_path(name)}")
    return status


if __name__ == "__main__":
    sys.exit(main())
