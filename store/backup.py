"""A consistent copy of a SQLite store and its files, taken while the daemon writes.

The database is copied first with SQLite's online backup API (one step: a
snapshot of one instant, WAL readers never block the daemon's writer), then
`files_dir`: files are content-addressed, written to a temporary name and
renamed, and written before the row that names them commits, so every file
the snapshot refers to is already there when the copy of the folder starts.
Temporary files (`.tmp-*`) are left out.
"""
from __future__ import annotations

import os
import shutil
import sqlite3
from pathlib import Path

from intake.parsers.errors import StoreError


def backup_sqlite(source: Path, target: Path) -> int:
    """Copy the database at `source` to the new file `target`; the number of pages copied."""
    if not source.exists():
        raise StoreError(f"no store at {source}")
    try:
        src = sqlite3.connect(source, timeout=30)
        try:
            dst = sqlite3.connect(target)
            try:
                src.backup(dst)  # pages=-1: the whole database in one step, one consistent snapshot
                pages = int(dst.execute("PRAGMA page_count").fetchone()[0])
                check = dst.execute("PRAGMA integrity_check").fetchone()[0]
            finally:
                dst.close()
        finally:
            src.close()
    except sqlite3.Error as exc:
        raise StoreError(f"backing up {source} failed: {exc}") from exc
    if check != "ok":
        raise StoreError(f"the copy {target} failed its integrity check: {check}")
    return pages


def copy_files(source: Path, target: Path) -> tuple[int, int]:
    """Copy the files folder (hard copies, not links); (files, bytes) copied."""
    count = size = 0
    if not source.exists():
        target.mkdir(parents=True)
        return 0, 0
    for folder, dirs, files in os.walk(source):
        dirs.sort()
        rel = Path(folder).relative_to(source)
        (target / rel).mkdir(parents=True, exist_ok=True)
        for name in sorted(files):
            if name.startswith(".tmp-"):
                continue
            try:
                shutil.copy2(Path(folder) / name, target / rel / name)
            except FileNotFoundError:
                continue  # a temporary file renamed away meanwhile
            count += 1
            size += (target / rel / name).stat().st_size
    return count, size
