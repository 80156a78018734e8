"""The operations commands (`db upgrade`, `health`, `backup`, `init`) and config lookup,
kept out of cli.py: it only adds their parsers and calls them."""
from __future__ import annotations

import argparse
import datetime as dt
from collections.abc import Callable, Mapping
from pathlib import Path

from intake.processor.config import Config
from intake.processor.ops.backup import backup
from intake.processor.ops.health import health
from intake.store.engine import make_engine, shown_url
from intake.store.models import utcnow
from intake.store.repository import Store
from intake.store.schema import upgrade

SYSTEM_CONFIG = Path("/etc/intake/intake.toml")


def find_config(arg: str | None, environ: Mapping[str, str], system: Path = SYSTEM_CONFIG) -> Path:
    """SPEC: --config, else $INTAKE_CONFIG, else ./intake.toml, else /etc/intake/intake.toml."""
    if arg:
        return Path(arg)
    if environ.get("INTAKE_CONFIG"):
        return Path(environ["INTAKE_CONFIG"])
    local = Path("intake.toml")
    if _exists(local) or not _exists(system):
        return local  # when neither exists the error names ./intake.toml
    return system


def _exists(path: Path) -> bool:
    try:
        return path.exists()
    except OSError:  # e.g. the service user started in root's home folder
        return False


def add_ops_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    db = sub.add_parser("db", help="the store's schema")
    db_sub = db.add_subparsers(dest="db_command", required=True, metavar="SUBCOMMAND")
    db_sub.add_parser("upgrade", help="create the store, or apply schema migrations to it (back it up first)")
    sub.add_parser("health", help="exit 0 when the daemon checked the mailbox recently, 1 otherwise")
    b = sub.add_parser("backup", help="a consistent copy of the store and files_dir into a new folder DEST")
    b.add_argument("dest", metavar="DEST")
    from intake.processor.ops.init import add_init_parser

    add_init_parser(sub)


def cmd_db(cfg: Config, args: argparse.Namespace) -> int:
    engine = make_engine(cfg.store.url)
    try:
        before, after = upgrade(engine)
    finally:
        engine.dispose()
    where = shown_url(cfg.store.url)
    if before is None:
        print(f"created the store at {where} (schema {after})")
    elif before == after:
        print(f"the store at {where} is already at schema {after}: nothing to do")
    else:
        print(f"upgraded the store at {where} from schema {before} to {after}")
    return 0


def cmd_health(cfg: Config, args: argparse.Namespace, now: Callable[[], dt.datetime] = utcnow) -> int:
    store = Store(cfg.store.url, cfg.store.files_dir, create=False)
    try:
        result = health(cfg, store, now())
    finally:
        store.close()
    print(result.line)
    return 0 if result.ok else 1


def cmd_backup(cfg: Config, args: argparse.Namespace) -> int:
    result = backup(cfg, Path(args.dest))
    print(f"backup in {result.dest}: database {result.database} ({result.pages} pages), "
          f"{result.files} files ({result.bytes} bytes); restore: see README, \"Backup and restore\"")
    return 0


def run_init(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    from intake.processor.ops.init import init

    return init(args, environ)


OPS_COMMANDS: dict[str, Callable[[Config, argparse.Namespace], int]] = {
    "db": cmd_db,
    "health": cmd_health,
    "backup": cmd_backup,
}
