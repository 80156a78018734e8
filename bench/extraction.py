"""Section-extraction benchmark over a corpus of Word reports with expected answers.

    .venv/bin/python bench/extraction.py tests/corpus/docs [--title "..."] [--keyword K ...] [--real-dev]

Every `<name>.docx` (or `.doc`) in CORPUS_DIR with a `<name>.expected.json`
beside it is parsed with `parse_docx` and searched with `find_section`.
Expected fields: `found` (bool), `heading`, `text` or
`text_startswith`/`text_endswith`, `figures`. Legacy `.doc` files are
converted with LibreOffice in a temporary directory when `soffice` is on PATH,
else skipped with a note (conversion time is not counted as parse time).

Per document: found/not correct, heading correct, text check (token F1 of
whitespace tokens of fold()ed text when the full text is expected, else the
start/end check), figures correct, parse ms, find ms. Then totals. Always
exits 0: it measures, it does not gate.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from intake.parsers.errors import ParseError
from intake.parsers.model import Outline, SectionResult
from intake.parsers.section import find_section
from intake.parsers.vietnamese import fold
from intake.parsers.word import parse_docx

sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench/realdev.py

# SPEC's example campaign, the guideline's own wording.
DEFAULT_TITLE = "Đánh giá kết quả tổ chức học tập, quán triệt và triển khai Chuyên đề năm 2024"
SOFFICE_TIMEOUT_S = 120


@dataclass(frozen=True)
class Row:
    name: str
    found_ok: bool
    heading_ok: bool
    text_check: str          # "F1 0.97", "ok", "start?", "-" ...
    f1: float | None
    text_ok: bool
    figures_ok: bool
    parse_ms: float
    find_ms: float
    note: str
    find_cpu_ms: float = 0.0


def token_f1(got: str, want: str) -> float:
    """F1 over the multiset of whitespace tokens of the folded texts."""
    got_tokens = Counter(fold(got).split())
    want_tokens = Counter(fold(want).split())
    if not got_tokens and not want_tokens:
        return 1.0
    common = sum((got_tokens & want_tokens).values())
    if common == 0:
        return 0.0
    precision = common / sum(got_tokens.values())
    recall = common / sum(want_tokens.values())
    return 2 * precision * recall / (precision + recall)


def figures_equal(got: dict[str, int | float], want: dict[str, int | float]) -> bool:
    if got.keys() != want.keys():
        return False
    return all(math.isclose(float(got[k]), float(want[k]), abs_tol=0.05) for k in want)


def docx_bytes(path: Path, workdir: Path) -> tuple[bytes | None, str]:
    """The file as .docx bytes, converting a legacy .doc when LibreOffice is there."""
    if path.suffix.lower() == ".docx":
        return path.read_bytes(), ""
    soffice = shutil.which("soffice")
    if soffice is None:
        return None, "skipped: not .docx and no soffice on PATH"
    out_dir = workdir / path.stem
    out_dir.mkdir(parents=True, exist_ok=True)
    try:
        subprocess.run(
            [soffice, "--headless", f"-env:UserInstallation=file://{workdir / 'lo-profile'}",
             "--convert-to", "docx", "--outdir", str(out_dir), str(path)],
            check=True, capture_output=True, timeout=SOFFICE_TIMEOUT_S,
        )
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as exc:
        return None, f"skipped: conversion failed ({type(exc).__name__})"
    converted = out_dir / (path.stem + ".docx")
    if not converted.exists():
        return None, "skipped: conversion produced no .docx"
    return converted.read_bytes(), "converted with soffice"


def check_text(result: SectionResult, expected: dict[str, object]) -> tuple[str, float | None, bool]:
    want_found = bool(expected.get("found"))
    if "text" in expected and isinstance(expected["text"], str):
        f1 = token_f1(result.text, expected["text"])
        return f"F1 {f1:.2f}", f1, f1 >= 0.999
    start = expected.get("text_startswith")
    end = expected.get("text_endswith")
    if not want_found:
        ok = not result.text
        return ("ok" if ok else "unexpected text"), None, ok
    problems = []
    if isinstance(start, str) and start and not result.text.startswith(start):
        problems.append("start")
    if isinstance(end, str) and end and not result.text.endswith(end):
        problems.append("end")
    return ("ok" if not problems else "bad " + "+".join(problems)), None, not problems


def run_one(path: Path, expected: dict[str, object], title: str, keywords: Sequence[str],
            workdir: Path) -> Row | str:
    data, note = docx_bytes(path, workdir)
    if data is None:
        return note
    started = time.perf_counter()
    try:
        outline: Outline = parse_docx(data)
    except ParseError as exc:
        return f"parse failed: {type(exc).__name__}: {exc}"
    parsed = time.perf_counter()
    cpu = time.process_time()
    result = find_section(outline, title, keywords)
    done = time.perf_counter()
    find_cpu = (time.process_time() - cpu) * 1000

    want_found = bool(expected.get("found"))
    found_ok = result.found == want_found
    heading_ok = (result.heading or None) == (expected.get("heading") or None)
    text_check, f1, text_ok = check_text(result, expected)
    want_figures = expected.get("figures") or {}
    figures_ok = isinstance(want_figures, dict) and figures_equal(result.figures.as_dict(), want_figures)
    if not (found_ok and heading_ok):
        note = (note + "; " if note else "") + result.reason
    elif not figures_ok:
        note = (note + "; " if note else "") + f"figures {result.figures.as_dict()} != {want_figures}"
    return Row(path.name, found_ok, heading_ok, text_check, f1, text_ok, figures_ok,
               (parsed - started) * 1000, (done - parsed) * 1000, note, find_cpu)


def corpus(directory: Path) -> list[tuple[Path, Path]]:
    pairs = []
    for path in sorted(directory.iterdir()):
        if path.suffix.lower() not in (".docx", ".doc") or path.name.startswith("~$"):
            continue
        expected = path.with_name(path.stem + ".expected.json")
        if expected.exists():
            pairs.append((path, expected))
    return pairs


def mark(ok: bool) -> str:
    return "ok" if ok else "NO"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("corpus_dir", type=Path)
    parser.add_argument("--title", default=DEFAULT_TITLE)
    parser.add_argument("--keyword", action="append", default=[], help="section keyword (repeatable)")
    parser.add_argument("--real-dev", action="store_true",
                        help="also score the labelled real documents of ../shared/real-dev when present")
    args = parser.parse_args(argv)

    pairs = corpus(args.corpus_dir)
    if not pairs:
        print(f"no documents with .expected.json in {args.corpus_dir}")
        return 0
    rows: list[Row] = []
    skipped: list[tuple[str, str]] = []
    header = f"{'document':34} {'found':5} {'head':4} {'text':10} {'figs':4} {'parse ms':>8} {'find ms':>8}"
    print(header)
    print("-" * len(header))
    with tempfile.TemporaryDirectory(prefix="intake-bench-") as tmp:
        for path, expected_path in pairs:
            expected = json.loads(expected_path.read_text(encoding="utf-8"))
            outcome = run_one(path, expected, args.title, args.keyword, Path(tmp))
            if isinstance(outcome, str):
                skipped.append((path.name, outcome))
                print(f"{path.name[:34]:34} {outcome}")
                continue
            rows.append(outcome)
            r = outcome
            print(f"{r.name[:34]:34} {mark(r.found_ok):5} {mark(r.heading_ok):4} {r.text_check:10} "
                  f"{mark(r.figures_ok):4} {r.parse_ms:8.1f} {r.find_ms:8.1f}"
                  + (f"  {r.note}" if r.note else ""))

    if not rows:
        print("nothing measured")
        return 0
    n = len(rows)
    totals = [r.parse_ms + r.find_ms for r in rows]
    f1s = [r.f1 for r in rows if r.f1 is not None]
    print("-" * len(header))
    print(f"documents measured {n}, skipped {len(skipped)}")
    found_ok = sum(r.found_ok for r in rows)
    print(f"found/not correct  {found_ok}/{n} ({100 * found_ok / n:.0f}%)")
    print(f"heading correct    {sum(r.heading_ok for r in rows)}/{n}")
    print(f"text correct       {sum(r.text_ok for r in rows)}/{n}"
          + (f", mean token F1 {statistics.fmean(f1s):.3f} over {len(f1s)} with full text" if f1s
             else " (no full expected texts: start/end checks only)"))
    print(f"figures correct    {sum(r.figures_ok for r in rows)}/{n}")
    parse_mean = statistics.fmean(r.parse_ms for r in rows)
    find_mean = statistics.fmean(r.find_ms for r in rows)
    print(f"time per document  mean {statistics.fmean(totals):.1f} ms, "
          f"median {statistics.median(totals):.1f} ms, max {max(totals):.1f} ms "
          f"(parse mean {parse_mean:.1f}, find mean {find_mean:.1f}, "
          f"find median {statistics.median(r.find_ms for r in rows):.1f}; find CPU time median "
          f"{statistics.median(r.find_cpu_ms for r in rows):.1f}, load average {os.getloadavg()[0]:.1f})")
    if args.real_dev:
        real_dev()
    return 0


def real_dev() -> None:
    """The labelled real documents of ../shared/real-dev, when present (check.py's measure)."""
    import realdev

    from intake.parsers.model import Confidence

    cases = realdev.cases()
    if not cases:
        print(f"real-dev: no cases at {realdev.REAL_DEV} (optional; set INTAKE_REAL_DEV)")
        return
    outlines = realdev.outlines(cases)
    folds = realdev.split(cases, 2)
    fold_of = {c.id: k for k, group in enumerate(folds) for c in group}
    by: dict[str, list[int]] = {}
    per_fold = [[0, 0, 0] for _ in folds]
    found_ok = passed = silent = review = 0
    times: list[float] = []
    cpu_times: list[float] = []
    print(f"\nreal-dev ({realdev.REAL_DEV}): {len(cases)} cases")
    for case in cases:
        started = time.perf_counter()
        cpu = time.process_time()
        result = find_section(outlines[case.file], case.title)
        times.append((time.perf_counter() - started) * 1000)
        cpu_times.append((time.process_time() - cpu) * 1000)
        f1 = realdev.f1(result.text, case.text) if case.found and result.found else 0.0
        ok = (result.found and f1 >= realdev.F1_MIN) if case.found else not result.found
        sure = result.confidence is Confidence.SURE
        is_silent = not ok and result.found and sure
        found_ok += result.found == case.found
        passed += ok
        silent += is_silent
        review += result.found and not sure
        d = by.setdefault(case.difficulty, [0, 0])
        d[0] += ok
        d[1] += 1
        fold = per_fold[fold_of[case.id]]
        fold[0] += ok
        fold[1] += is_silent
        fold[2] += 1
        print(f"  {'PASS' if ok else 'FAIL'} {case.id:30} {case.difficulty:10} found={result.found!s:5} "
              f"F1={f1:.2f} {result.confidence.value:6} {(result.heading or '-')[:60]!r}"
              + ("  [SILENTLY WRONG]" if is_silent else ""))
    n = len(cases)
    print(f"real-dev found/not correct {found_ok}/{n}; passed (found with text F1 >= {realdev.F1_MIN}, "
          f"or rightly not found) {passed}/{n}; silently wrong {silent}; review {review}")
    print("  by difficulty: " + ", ".join(f"{k} {v[0]}/{v[1]}" for k, v in sorted(by.items())))
    print("  by document fold (the split scripts/calibrate_finder.py holds out): "
          + ", ".join(f"fold {k + 1} {f[0]}/{f[2]} (silent {f[1]})" for k, f in enumerate(per_fold)))
    print(f"  find ms per case: median {statistics.median(times):.1f}, max {max(times):.1f} "
          f"(CPU time: median {statistics.median(cpu_times):.1f}, max {max(cpu_times):.1f}; "
          f"load average now {os.getloadavg()[0]:.1f})")


if __name__ == "__main__":
    sys.exit(main())
