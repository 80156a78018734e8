"""Commands run as the store's owner only.

The service runs as its own user (`intake`, deploy/intake.service). A command
run as another user, root above all (`intake run --once` typed at a root
shell), would leave files, an outbox or SQLite's -wal/-shm behind that the
service user cannot write, and its next run fails with "Permission denied".
So a command refuses when the store (the SQLite file, else `files_dir`) is
owned by someone else, naming the owner and the fix.
"""
from __future__ import annotations

import os
import pwd
from pathlib import Path

from intake.parsers.errors import UsageError
from intake.processor.config import Config
from intake.processor.i18n import _
from intake.store.engine import sqlite_file


def store_owner(cfg: Config) -> tuple[int, Path] | None:
    """(uid, path) of what the store is: its SQLite file, else files_dir; None before it exists."""
    for path in (sqlite_file(cfg.store.url), cfg.store.files_dir):
        if path is None:
            continue
        try:
            return path.stat().st_uid, path
        except FileNotFoundError:
            continue
    return None


def user_name(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def check_store_owner(cfg: Config, argv: list[str]) -> None:
    """UsageError (exit 2) when this process is not the store's owner."""
    found = store_owner(cfg)
    if found is None or found[0] == os.geteuid():
        return
    uid, path = found
    owner = user_name(uid)
    raise UsageError(_("{path} belongs to {owner}, not to {me}: run the command as {owner}, e.g. "
                       "`runuser -u {owner} -- intake {args}` (files written as {me} would stop the service)",
                       path=path, owner=owner, me=user_name(os.geteuid()), args=" ".join(argv)))
