"""The `intake` command line (SPEC): exit 0 on success, 2 on bad usage or
config, 1 on other failures."""
from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import os
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from rich.console import Console

from intake.parsers.errors import ConfigError, IntakeError
from intake.parsers.unit import address_key
from intake.processor.app import App, open_store
from intake.processor.config import Config, load_config
from intake.processor.mailbox import open_mailbox
from intake.processor.ops.commands import OPS_COMMANDS, add_ops_commands, find_config, run_init
from intake.processor.ops.logs import intake_version, setup_logging
from intake.processor.staff.report import print_status_table, staff_console, status_json
from intake.store.models import DecisionKind

log = logging.getLogger("intake")


class UsageError(IntakeError):
    """Bad command-line usage (exit 2)."""


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="intake", description="Collect Word reports sent in by email.")
    p.add_argument("--config", help="config file (default: $INTAKE_CONFIG, else ./intake.toml, "
                   "else /etc/intake/intake.toml)")
    p.add_argument("--version", action="version", version=f"intake {intake_version()}")
    verbosity = p.add_mutually_exclusive_group()
    verbosity.add_argument("-v", "--verbose", action="count", default=0,
                           help="log debugging detail (-vv: the libraries' too)")
    verbosity.add_argument("-q", "--quiet", action="store_true", help="log warnings and errors only")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="daemon: fetch, process, acknowledge, run scheduled jobs")
    run.add_argument("--once", action="store_true", help="fetch everything new, process, send, exit")
    for name, helptext in (("status", "one row per expected unit"),
                           ("missing", "units missing, late, or whose latest report has problems")):
        cmd = sub.add_parser(name, help=helptext)
        cmd.add_argument("--campaign")
        cmd.add_argument("--json", action="store_true", help="SPEC's JSON instead of a table")

    units = sub.add_parser("units", help="the roster")
    units_sub = units.add_subparsers(dest="units_command", required=True, metavar="SUBCOMMAND")
    units_sub.add_parser("list", help="list units and their registered addresses")
    link = units_sub.add_parser("link", help="register a sender address for a unit")
    link.add_argument("address")
    link.add_argument("unit_id")

    excuse = sub.add_parser("excuse", help="a unit that owes nothing this time")
    excuse.add_argument("unit_id")
    excuse.add_argument("--campaign")
    excuse.add_argument("--reason", required=True)
    extend = sub.add_parser("extend", help="give a unit a later deadline")
    extend.add_argument("unit_id")
    extend.add_argument("--campaign")
    extend.add_argument("--until", required=True, help="e.g. 2024-03-05T17:00 (local time) or with an offset")
    export = sub.add_parser("export", help="the status table (csv, xlsx, html) or the compiled report (docx)")
    export.add_argument("--campaign")
    export.add_argument("--format", required=True, choices=("csv", "xlsx", "html", "docx"))
    export.add_argument("-o", "--output", required=True, help="file to write")
    remind = sub.add_parser("remind", help="email the units still missing, now")
    remind.add_argument("--campaign")
    remind.add_argument("--dry-run", action="store_true", help="list who would be reminded; send nothing")
    sub.add_parser("check-config", help="validate the config and try the mailbox and SMTP logins")
    add_ops_commands(sub)
    return p


def config_path(arg: str | None, environ: Mapping[str, str]) -> Path:
    """--config, else $INTAKE_CONFIG, else ./intake.toml, else /etc/intake/intake.toml (SPEC)."""
    return find_config(arg, environ)


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    environ = os.environ if environ is None else environ
    args = build_parser().parse_args(argv)
    setup_logging(args.verbose, args.quiet)
    args.actor = environ.get("SUDO_USER") or environ.get("USER") or ""
    try:
        if args.command == "init":
            return run_init(args, environ)
        cfg = load_config(config_path(args.config, environ), environ)
        if args.command in OPS_COMMANDS:
            return OPS_COMMANDS[args.command](cfg, args)
        return dispatch(args, cfg)
    except (ConfigError, UsageError) as exc:
        print(f"intake: {exc}", file=sys.stderr)
        return 2
    except IntakeError as exc:
        print(f"intake: {exc}", file=sys.stderr)
        return 1


def dispatch(args: argparse.Namespace, cfg: Config) -> int:
    if args.command == "check-config":
        from intake.processor.checks import check_config

        return check_config(cfg, Console())
    store = open_store(cfg, create=args.command == "run")  # others refuse a missing/outdated store
    try:
        app = App(cfg, store)
        handler = COMMANDS[args.command]
        return handler(app, args)
    finally:
        store.close()


def cmd_run(app: App, args: argparse.Namespace) -> int:
    from intake.processor.ops.logs import log_start, log_stop
    from intake.processor.ops.progress import PlainReporter, ProgressMailbox, reporter_for

    mode = "once" if args.once else "daemon"
    log_start(app.cfg, mode)
    if args.once:
        with reporter_for() as reporter:
            box = ProgressMailbox(app.open_mailbox(), reporter)
            try:
                leftover, fetched, sent = app.run_once(box)
            finally:
                box.close()
        log.info("run --once: %s new of %s fetched, %s processed (%s left from before), %s failed, %s sent",
                 fetched.new, fetched.fetched, fetched.processed, leftover.processed,
                 fetched.failed + leftover.failed, sent.sent)
        log_stop(mode, "done")
        return 0
    from intake.processor.daemon import install_stop_handlers, run_daemon

    stop = threading.Event()
    install_stop_handlers(stop)
    app.mailbox_factory = lambda: ProgressMailbox(open_mailbox(app.cfg.mailbox), PlainReporter())
    reason = "error"
    try:
        run_daemon(app, stop)
        reason = "signal"
    finally:
        log_stop(mode, reason)
    return 0


def cmd_status(app: App, args: argparse.Namespace) -> int:
    status = app.status(args.campaign)
    only_owing = args.command == "missing"
    if args.json:
        json.dump(status_json(status, app.cfg.timezone, only_owing=only_owing), sys.stdout, ensure_ascii=False,
                  indent=2)
        sys.stdout.write("\n")
    else:
        print_status_table(status, app.cfg.timezone, staff_console(), only_owing=only_owing)
    return 0


def cmd_units(app: App, args: argparse.Namespace) -> int:
    known = {u.id for u in app.cfg.units}
    if args.units_command == "list":
        addresses = app.store.registered_addresses()
        console = Console()
        for unit in app.cfg.units:
            mine = sorted(a for a, u in addresses.items() if u == unit.id)
            console.print(f"{unit.id}\t{unit.name}\t{unit.group}\t{'; '.join(mine)}", highlight=False)
        return 0
    if args.unit_id not in known:
        raise UsageError(f"unit_id: no unit \"{args.unit_id}\" in the roster")
    if "@" not in args.address:
        raise UsageError(f"address: not an email address: \"{args.address}\"")
    pks = app.store.link_address(args.address, args.unit_id, same_sender=address_key)
    for pk in pks:
        app.pipeline.reprocess(pk)
    log.info("linked %s to %s; re-evaluated %s message(s)", args.address, args.unit_id, len(pks))
    return 0


def _decision(kind: DecisionKind) -> Callable[[App, argparse.Namespace], int]:
    def handler(app: App, args: argparse.Namespace) -> int:
        camp = app.cfg.campaign(args.campaign)
        if args.unit_id not in camp.unit_ids(app.cfg.units):
            raise UsageError(f"unit_id: \"{args.unit_id}\" is not expected in campaign {camp.id}")
        until = None
        if kind == DecisionKind.EXTEND:
            until = parse_when(args.until, app.cfg)
        app.store.add_decision(kind, args.unit_id, camp.id, reason=getattr(args, "reason", "") or "",
                               until=until, decided_by=args.actor)
        return 0

    return handler


def cmd_export(app: App, args: argparse.Namespace) -> int:
    from intake.processor.staff.export import export

    export(app.status(args.campaign), args.format, Path(args.output), app.cfg.timezone,
           generated_at=app.clock(), office=app.cfg.sending.from_name)
    log.info("wrote %s", args.output)
    return 0


def cmd_remind(app: App, args: argparse.Namespace) -> int:
    from intake.processor.sending.reminders import print_plan

    camp = app.cfg.campaign(args.campaign)
    plan = app.reminders.remind_now(camp, dry_run=args.dry_run)
    print_plan(plan, Console(), dry_run=args.dry_run)
    if not args.dry_run:
        sent = app.send_pending()
        log.info("reminders queued %s, sent %s", len(plan.queued), sent.sent)
    return 0


def parse_when(text: str, cfg: Config) -> dt.datetime:
    try:
        when = dt.datetime.fromisoformat(text)
    except ValueError as exc:
        raise UsageError(f"--until: expected a date-time such as 2024-03-05T17:00, got \"{text}\"") from exc
    return when if when.tzinfo else when.replace(tzinfo=cfg.timezone)


COMMANDS: dict[str, Callable[[App, argparse.Namespace], int]] = {
    "run": cmd_run,
    "status": cmd_status,
    "missing": cmd_status,
    "units": cmd_units,
    "excuse": _decision(DecisionKind.EXCUSE),
    "extend": _decision(DecisionKind.EXTEND),
    "export": cmd_export,
    "remind": cmd_remind,
}


if __name__ == "__main__":
    sys.exit(main())
