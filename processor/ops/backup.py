"""`intake backup DEST`: the store and its files in a new folder DEST, while the daemon runs.

DEST/intake.db      the SQLite database (online backup API)
DEST/files/         a copy of files_dir (raw messages, attachments)
DEST/intake.toml    a copy of the config (it holds no passwords)
DEST/named/...      every file the config names (units_file, ca_file), at its path relative to the
                    config's folder (an absolute one under named/ with its full path); never password_file
Restore: README, "Backup and restore".
"""
from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass
from pathlib import Path

from intake.parsers.errors import StoreError
from intake.processor.config import Config
from intake.processor.i18n import _
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
    named: tuple[Path, ...] = ()  # copies of the files the config names


def backup(cfg: Config, dest: Path) -> BackupResult:
    if dest.exists() and any(dest.iterdir()):
        raise StoreError(_("{dest} exists and is not empty: give a new folder", dest=dest))
    dest.mkdir(parents=True, exist_ok=True)
    source = sqlite_file(cfg.store.url)
    database, pages = None, 0
    if source is not None:
        database = dest / "intake.db"
        pages = backup_sqlite(source, database)
    files, size = copy_files(cfg.store.files_dir, dest / "files")
    shutil.copy2(cfg.path, dest / "intake.toml")
    named = tuple(_copy_named(path, cfg.path.absolute().parent, dest / "named") for path in cfg.named_files)
    if source is None:
        raise StoreError(_(
            "the store is PostgreSQL ({url}): back the database up with pg_dump, e.g. "
            "`pg_dump -Fc -f {dump} DBNAME`; files_dir was copied to {files_dir} ({files} files)",
            url=shown_url(cfg.store.url), dump=dest / "intake.dump", files_dir=dest / "files", files=files))
    log.info("backup dest=%s pages=%s files=%s bytes=%s", dest, pages, files, size)
    return BackupResult(dest, database, pages, files, size, named)


def _copy_named(path: Path, config_dir: Path, target: Path) -> Path:
    """Copy one file the config names, keeping where it was relative to the config (for the restore)."""
    where = path.absolute()
    relative = where.relative_to(config_dir) if where.is_relative_to(config_dir) else where.relative_to(where.anchor)
    copy = target / relative
    copy.parent.mkdir(parents=True, exist_ok=True)
    try:
        shutil.copy2(where, copy)
    except OSError as exc:
        raise StoreError(_("cannot copy {path}: {reason}", path=where, reason=exc.strerror)) from exc
    return copy
