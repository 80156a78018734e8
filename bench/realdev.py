"""Labelled real documents from ../shared/real-dev (optional: only when present).

Shared by bench/extraction.py and scripts/calibrate_finder.py. Legacy `.doc`
files are converted once with LibreOffice into a cache directory outside the
repository (never into it: the documents are not ours to copy).
"""
from __future__ import annotations

import collections
import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from intake.parsers.model import Outline
from intake.parsers.word import parse_docx


def _find_real_dev() -> Path:
    """$INTAKE_REAL_DEV, else shared/real-dev beside the repository or one of its parents."""
    if os.environ.get("INTAKE_REAL_DEV"):
        return Path(os.environ["INTAKE_REAL_DEV"])
    for parent in Path(__file__).resolve().parents[1].parents:
        if (parent / "shared" / "real-dev" / "cases.json").is_file():
            return parent / "shared" / "real-dev"
    return Path("../shared/real-dev")


REAL_DEV = _find_real_dev()
CACHE = Path(os.environ.get("INTAKE_REALDEV_CACHE", Path(tempfile.gettempdir()) / "intake-realdev-cache"))
F1_MIN = 0.9
_TOKEN = re.compile(r"\w+")


@dataclass(frozen=True)
class Case:
    id: str
    file: str
    title: str
    found: bool
    heading: str
    text: str
    difficulty: str


def cases(root: Path = REAL_DEV) -> list[Case]:
    path = root / "cases.json"
    if not path.is_file():
        return []
    raw = json.loads(path.read_text(encoding="utf-8"))["cases"]
    return [Case(c["id"], c["file"], c["section_title"], bool(c["found"]), c.get("heading") or "",
                 c.get("text") or "", c.get("difficulty", "?")) for c in raw]


def tokens(text: str) -> list[str]:
    """check.py's tokens: NFC, lower-cased, split on non-word characters."""
    return _TOKEN.findall(unicodedata.normalize("NFC", text or "").lower())


def f1(got: str, want: str) -> float:
    g, w = collections.Counter(tokens(got)), collections.Counter(tokens(want))
    if not g and not w:
        return 1.0
    overlap = sum((g & w).values())
    if not g or not w or overlap == 0:
        return 0.0
    p, r = overlap / sum(g.values()), overlap / sum(w.values())
    return 2 * p * r / (p + r)


def docx_bytes(path: Path) -> bytes:
    """The document as .docx bytes; a .doc is converted once and cached by content hash."""
    data = path.read_bytes()
    if path.suffix.lower() == ".docx":
        return data
    CACHE.mkdir(parents=True, exist_ok=True)
    cached = CACHE / (hashlib.sha1(data).hexdigest() + ".docx")
    if cached.is_file():
        return cached.read_bytes()
    soffice = shutil.which("soffice")
    if soffice is None:
        raise RuntimeError("soffice not on PATH: cannot convert " + path.name)
    with tempfile.TemporaryDirectory(prefix="intake-conv-") as tmp:
        src = Path(tmp) / ("in" + path.suffix.lower())
        src.write_bytes(data)
        subprocess.run([soffice, "--headless", f"-env:UserInstallation=file://{tmp}/profile",
                        "--convert-to", "docx", "--outdir", tmp, str(src)],
                       check=True, capture_output=True, timeout=180)
        shutil.copyfile(Path(tmp) / "in.docx", cached)
    return cached.read_bytes()


def outlines(items: list[Case], root: Path = REAL_DEV) -> dict[str, Outline]:
    """One parsed outline per document file the cases name."""
    out: dict[str, Outline] = {}
    for case in items:
        if case.file not in out:
            out[case.file] = parse_docx(docx_bytes(root / "docs" / case.file))
    return out


def split(items: list[Case], folds: int = 2) -> list[list[Case]]:
    """Deterministic split by document (cases of one document stay together)."""
    files = sorted({c.file for c in items}, key=lambda f: hashlib.sha1(f.encode()).hexdigest())
    groups: list[list[Case]] = [[] for _ in range(folds)]
    for i, name in enumerate(files):
        groups[i % folds].extend(c for c in items if c.file == name)
    return groups
