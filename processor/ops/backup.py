"""`intake backup DEST`: the store and its files in a new folder DEST, while the daemon runs.

DEST/intake.db      the SQLite database (online backup API)
DEST/files/         a copy of files_dir (raw messages, attachments)
DEST/intake.toml    a copy of the config (it holds no passwords)
Restore: README, "Backup and restore".
"""
from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass
from pathlib import Path

from intake.parsers.errors import StoreError
from intake.processor.config import Config
from intake.store.backup import backup_sqlite, copy_files
from intake.store.engine import shown_url, sqlite_file

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BackupResult:
    dest: Path
    database: Path | None  # None: PostgreSQL, not copied
    pages: int
    files: int
    bytes: int


def backup(cfg: Config, dest: Path) -> BackupResult:
    if dest.exists() and any(dest.iterdir()):
        raise StoreError(f"{dest} exists and is not empty: give a new folder")
    dest.mkdir(parents=True, exist_ok=True)
    source = sqlite_file(cfg.store.url)
    database, pages = None, 0
    if source is not None:
        database = dest / "intake.db"
        pages = backup_sqlite(source, database)
    files, size = copy_files(cfg.store.files_dir, dest / "files")
    shutil.copy2(cfg.path, dest / "intake.toml")
    if source is None:
        raise StoreError(
            f"the store is PostgreSQL ({shown_url(cfg.store.url)}): back the database up with pg_dump, e.g. "
            f"`pg_dump -Fc -f {dest / 'intake.dump'} DBNAME`; files_dir was copied to {dest / 'files'} "
            f"({files} files)")
    log.info("backup dest=%s pages=%s files=%s bytes=%s", dest, pages, files, size)
    return BackupResult(dest, database, pages, files, size)
