"""The operations commands (`db upgrade`, `health`, `backup`, `init`) and config lookup,
kept out of cli.py: it only adds their parsers and calls them."""
from __future__ import annotations

import argparse
import datetime as dt
from collections.abc import Callable, Mapping
from pathlib import Path

from intake.parsers.errors import ConfigError
from intake.processor.config import Config
from intake.processor.i18n import _
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


def config_not_found(arg: str | None, environ: Mapping[str, str], system: Path = SYSTEM_CONFIG) -> ConfigError:
    """No config where `find_config` looked: every place it looked, and how to make one (SPEC)."""
    places = [f"--config {Path(arg).absolute()}" if arg else _("--config: not given")]
    if not arg:
        env = environ.get("INTAKE_CONFIG")
        places.append(f"$INTAKE_CONFIG {Path(env).absolute()}" if env
                      else _("$INTAKE_CONFIG: not set"))
        if not env:
            places += [str(Path("intake.toml").absolute()), str(system)]
    target = f" -o {arg or environ.get('INTAKE_CONFIG')}" if arg or environ.get("INTAKE_CONFIG") else ""
    return ConfigError(_("no config file found; looked in: {places}. Make one with `intake init{target}` "
                         "(questions in Vietnamese), or name one with --config", places="; ".join(places),
                         target=target))


def _exists(path: Path) -> bool:
    try:
        return path.exists()
    except OSError:  # e.g. the service user started in root's home folder
        return False


def add_ops_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    db = sub.add_parser("db", help=_("the store's schema"))
    db_sub = db.add_subparsers(dest="db_command", required=True, metavar=_("SUBCOMMAND"))
    db_sub.add_parser("upgrade", help=_("create the store, or apply schema migrations to it (back it up first)"))
    sub.add_parser("health", help=_("exit 0 when the daemon checked the mailbox recently, 1 otherwise"))
    b = sub.add_parser("backup", help=_("a consistent copy of the store, files_dir, the config and the files it names, "
                                         "into a new folder"))
    b.add_argument("dest", metavar=_("FOLDER"), help=_("a new or empty folder"))
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
        print(_("created the store at {where} (schema {schema})", where=where, schema=after))
    elif before == after:
        print(_("the store at {where} is already at schema {schema}: nothing to do", where=where, schema=after))
    else:
        print(_("upgraded the store at {where} from schema {before} to {after}", where=where, before=before,
                after=after))
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
    print(_("backup in {dest}: database {database} ({pages} pages), {files} files ({bytes} bytes), "
            "config and {named} file(s) it names; restore: see README, \"Backup and restore\"",
            dest=result.dest, database=result.database, pages=result.pages, files=result.files,
            bytes=result.bytes, named=len(result.named)))
    return 0


def run_init(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    from intake.processor.ops.init import init

    return init(args, environ)


OPS_COMMANDS: dict[str, Callable[[Config, argparse.Namespace], int]] = {
    "db": cmd_db,
    "health": cmd_health,
    "backup": cmd_backup,
}
