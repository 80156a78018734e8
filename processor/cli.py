"""The `intake` command line (SPEC): exit 0 on success, 2 on bad usage or
config, 1 on other failures.

Argument parsing and printing only: every use case is a method of
`services.Office`, which the web app calls too.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import os
import pwd
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from rich.console import Console

from intake.parsers.errors import ConfigError, ExportError, IntakeError, UsageError
from intake.processor import i18n
from intake.processor.app import App, open_store
from intake.processor.catalog import SOURCE_VI
from intake.processor.catalog_cli import CATALOG_UNITS, cmd_campaign
from intake.processor.config import Config, load_config
from intake.processor.i18n import N_, _
from intake.processor.mailbox import open_mailbox
from intake.processor.ops.commands import OPS_COMMANDS, add_ops_commands, config_not_found, find_config, run_init
from intake.processor.ops.logs import intake_version, setup_logging
from intake.processor.ops.memory import steady_heap
from intake.processor.ops.owner import check_store_owner
from intake.processor.ops.probes import schema_problem
from intake.processor.services import DecisionView, Office
from intake.processor.staff.export import CSV_DIALECTS, EXPORTERS, check_output
from intake.processor.staff.report import print_status_table, staff_console, status_json
from intake.processor.staff.text import decision_line, message_lines
from intake.processor.times import deadline_time
from intake.store.schema import SchemaOutdated

__all__ = ["UsageError", "build_parser", "main"]

log = logging.getLogger("intake")
Clock = Callable[[], dt.datetime]


class CommandParser(argparse.ArgumentParser):
    """An ArgumentParser that keeps its subcommands by name (`subcommands`), so that every command's help can
    be walked (tests check each is Vietnamese); its subparsers are CommandParsers too (argparse's default)."""

    subcommands: dict[str, argparse.ArgumentParser]

    def add_subparsers(self, **kwargs: Any) -> Any:  # typeshed overloads it: kwargs passed on as they are
        action = super().add_subparsers(**kwargs)
        self.subcommands = action.choices  # the Action's public `choices`: name -> parser
        return action


def build_parser() -> argparse.ArgumentParser:
    """The whole command line; build and use it inside `i18n.parser_language()` so argparse speaks too."""
    p = CommandParser(prog="intake", description=_("Collect Word reports sent in by email."))
    p.add_argument("--config", metavar=_("FILE"),
                   help=_("config file (default: $INTAKE_CONFIG, else ./intake.toml, else /etc/intake/intake.toml)"))
    p.add_argument("--version", action="version", version=f"intake {intake_version()}",
                   help=_("show the version and exit"))
    verbosity = p.add_mutually_exclusive_group()
    verbosity.add_argument("-v", "--verbose", action="count", default=0,
                           help=_("log debugging detail (-vv: the libraries' too)"))
    verbosity.add_argument("-q", "--quiet", action="store_true", help=_("log warnings and errors only"))
    sub = p.add_subparsers(dest="command", required=True, metavar=_("COMMAND"))

    run = sub.add_parser("run", help=_("daemon: fetch, process, acknowledge, run scheduled jobs"))
    run.add_argument("--once", action="store_true", help=_("fetch everything new, process, send, exit"))
    for name, helptext in (("status", N_("one row per expected unit")),
                           ("missing", N_("units missing, late, or whose latest report has problems"))):
        cmd = sub.add_parser(name, help=_(helptext))
        add_campaign(cmd)
        cmd.add_argument("--json", action="store_true", help=_("SPEC's JSON instead of a table"))

    units = sub.add_parser("units", help=_("the roster"))
    units_sub = units.add_subparsers(dest="units_command", required=True, metavar=_("SUBCOMMAND"))
    units_sub.add_parser("list", help=_("list units and their registered addresses"))
    link = units_sub.add_parser("link", help=_("register a sender address for a unit"))
    link.add_argument("address", metavar=_("ADDRESS"), help=_("the sender's email address"))
    add_unit(link)
    add_catalog_commands(units_sub, sub)

    excuse = sub.add_parser("excuse", help=_("a unit that owes nothing this time"))
    add_unit(excuse)
    add_campaign(excuse)
    excuse.add_argument("--reason", required=True, metavar=_("TEXT"), help=_("why the unit owes nothing"))
    extend = sub.add_parser("extend", help=_("give a unit a later deadline (a past date too: granted after the fact)"))
    add_unit(extend)
    add_campaign(extend)
    extend.add_argument("--until", required=True, metavar=_("WHEN"),
                        help=_("05/03/2024 17:00, 05/03/2024 (end of that day) or 2024-03-05T17:00; local time"))
    export = sub.add_parser("export", help=_("the status table (csv, xlsx, html) or the compiled report (docx)"))
    add_campaign(export)
    export.add_argument("--format", required=True, choices=tuple(EXPORTERS), help=_("what to write"))
    export.add_argument("-o", "--output", required=True, metavar=_("FILE"),
                        help=_("file to write (its folder must exist; its extension is the format's)"))
    export.add_argument("--dialect", default="vn", choices=tuple(CSV_DIALECTS),
                        help=_("csv only: vn = ';' and decimal comma with a BOM (Excel, Vietnamese settings); "
                               "excel-sep = vn plus a 'sep=;' line; plain = RFC 4180 for programs"))
    remind = sub.add_parser("remind", help=_("email the units still missing, now"))
    add_campaign(remind)
    remind.add_argument("--dry-run", action="store_true", help=_("list who would be reminded; send nothing"))
    sub.add_parser("check-config", help=_("validate the config and try the mailbox and SMTP logins"))

    show = sub.add_parser("show", help=_("one message: what was received, the unit, the section, the reply"))
    add_ref(show)
    retry = sub.add_parser("retry", help=_("process again a message whose processing failed"))
    retry_which = retry.add_mutually_exclusive_group(required=True)
    retry_which.add_argument("ref", nargs="?", metavar="REF", help=_("reference number (TN24-00005) or Message-ID"))
    retry_which.add_argument("--failed", action="store_true", help=_("every message whose processing failed"))
    section = sub.add_parser("section", help=_("correct the section found in one message"))
    section_sub = section.add_subparsers(dest="section_command", required=True, metavar=_("SUBCOMMAND"))
    choose = section_sub.add_parser("choose", help=_("take candidate N, the heading with that text, or none"))
    add_ref(choose)
    which = choose.add_mutually_exclusive_group(required=True)
    which.add_argument("--candidate", type=int, metavar="N", help=_("candidate N as `show` lists them"))
    which.add_argument("--heading", metavar=_("TEXT"), help=_("the heading with this text"))
    which.add_argument("--none", action="store_true", help=_("the report has no such section"))
    decisions = sub.add_parser("decisions", help=_("staff decisions; `decisions revoke ID` revokes one"))
    add_campaign(decisions)
    decisions_sub = decisions.add_subparsers(dest="decisions_command", metavar=_("SUBCOMMAND"))
    revoke = decisions_sub.add_parser("revoke", help=_("revoke one decision"))
    revoke.add_argument("decision_id", type=int, metavar="ID", help=_("the decision's number, as listed"))
    corrected = decisions_sub.add_parser(
        "corrected-ack", help=_("send the unit a corrected acknowledgement after a learned change "
                                "(decision ID of kind learned)"))
    corrected.add_argument("decision_id", type=int, metavar="ID", help=_("the decision's number, as listed"))
    dismiss = sub.add_parser("dismiss", help=_("set aside an unmatched message (it leaves the unmatched list)"))
    add_ref(dismiss)
    dismiss.add_argument("--reason", default="", metavar=_("TEXT"), help=_("why it is set aside"))
    serve = sub.add_parser("serve", help=_("the staff web dashboard"))
    serve.add_argument("--listen", metavar=_("HOST:PORT"), help=_("default: [web] listen, else 127.0.0.1:8080"))
    users = sub.add_parser("users", help=_("dashboard accounts"))
    users_sub = users.add_subparsers(dest="users_command", required=True, metavar=_("SUBCOMMAND"))
    name_help = _("the account's name")
    users_sub.add_parser("add", help=_("create an account or set its password (read from the terminal or stdin)")) \
        .add_argument("name", metavar=_("NAME"), help=name_help)
    users_sub.add_parser("list", help=_("list the accounts"))
    users_sub.add_parser("remove", help=_("delete an account (its sessions end)")) \
        .add_argument("name", metavar=_("NAME"), help=name_help)
    add_ops_commands(sub)
    return p


def add_campaign(cmd: argparse.ArgumentParser) -> None:
    cmd.add_argument("--campaign", metavar="ID", help=_("the campaign (may be left out when there is one)"))


def add_unit(cmd: argparse.ArgumentParser) -> None:
    cmd.add_argument("unit_id", metavar=_("UNIT"), help=_("unit id or name"))


def add_ref(cmd: argparse.ArgumentParser) -> None:
    cmd.add_argument("ref", metavar="REF", help=_("reference number (TN24-00005) or Message-ID"))


def add_catalog_commands(units_sub: Any, sub: Any) -> None:
    """`units add|edit|remove|import` and `campaign list|add|edit|close`: the catalog kept in the store."""
    for name, helptext in (("add", "thêm một đơn vị vào danh sách"), ("edit", "sửa một đơn vị (chỉ các mục được nêu)")):
        cmd = units_sub.add_parser(name, help=helptext)
        cmd.add_argument("unit_id", metavar="ID", help="mã đơn vị (chữ, số, '.', '-', '_')")
        cmd.add_argument("--name", required=name == "add", help="tên đơn vị")
        cmd.add_argument("--email", action="append", metavar="E",
                         help="địa chỉ thư của đơn vị (lặp lại để thêm nhiều; khi sửa: thay cả danh sách)")
        cmd.add_argument("--alias", action="append", metavar="A",
                         help="tên khác của đơn vị (lặp lại để thêm nhiều; khi sửa: thay cả danh sách)")
        cmd.add_argument("--group", metavar="G", help="nhóm của đơn vị (ví dụ: huyen, nganh)")
    units_sub.add_parser("remove", help="bỏ một đơn vị khỏi danh sách (thư và quyết định cũ vẫn giữ)") \
        .add_argument("unit_id", metavar="ID", help="mã đơn vị")
    imp = units_sub.add_parser("import", help="nhập danh sách đơn vị từ tệp .csv hoặc .xlsx "
                               "(cột id, name, aliases, emails, group)")
    imp.add_argument("file", metavar=_("FILE"), help=_("the roster file (.csv or .xlsx)"))
    imp.add_argument("--dry-run", action="store_true", help="chỉ xem trước, không ghi gì")
    imp.add_argument("--yes", action="store_true", help="ghi luôn, không hỏi lại")

    campaign = sub.add_parser("campaign", help="các đợt báo cáo")
    camp_sub = campaign.add_subparsers(dest="campaign_command", required=True, metavar=_("SUBCOMMAND"))
    camp_sub.add_parser("list", help="liệt kê các đợt báo cáo")
    for name, helptext in (("add", "tạo một đợt báo cáo"), ("edit", "sửa một đợt báo cáo (chỉ các mục được nêu)")):
        cmd = camp_sub.add_parser(name, help=helptext)
        if name == "add":
            cmd.add_argument("--id", required=True, dest="campaign_id", help="mã đợt (chữ, số, '.', '-', '_')")
        else:
            cmd.add_argument("campaign_id", metavar="ID", help="mã đợt")
        cmd.add_argument("--title", help="tên đợt báo cáo")
        cmd.add_argument("--opens", metavar=_("DATE"),
                         help="ngày mở đợt: 22/01/2024, 22/01/2024 08:00 hoặc 2024-01-22")
        cmd.add_argument("--deadline", metavar=_("DATE"),
                         help="hạn nộp: 29/02/2024 17:00; chỉ ghi ngày là đến hết ngày đó")
        cmd.add_argument("--section", metavar=_("TEXT"),
                         help="tên mục bắt buộc, đúng như văn bản hướng dẫn viết")
        cmd.add_argument("--units", action="append", metavar="…",
                         help="đơn vị phải báo cáo: all (mặc định), group:NHÓM, hoặc các mã đơn vị, cách nhau dấu phẩy")
        cmd.add_argument("--remind", action="append", metavar="…",
                         help="các mốc nhắc so với hạn nộp, ví dụ \"-3d,-1d,+1d\" (lặp lại được)")
        cmd.add_argument("--keyword", action="append", metavar=_("TEXT"), help="từ khóa giúp tìm mục (lặp lại được)")
        if name == "add":
            cmd.add_argument("--from-guideline", metavar=_("FILE"),
                             help="lấy tên đợt, hạn nộp, mục bắt buộc và đề cương từ văn bản hướng dẫn "
                                  "(.docx, .doc, PDF có chữ, .txt); các tùy chọn khác ghi đè")
        cmd.add_argument("--outline-from", metavar=_("FILE"),
                         help="lấy đề cương báo cáo (I., II., …) từ văn bản hướng dẫn, để tìm mục theo vị trí")
        cmd.add_argument("--outline-required", metavar=_("TEXT"),
                         help="đề mục bắt buộc trong đề cương (số hoặc lời, ví dụ \"III.\"); "
                              "mặc định: đề mục giống tên mục bắt buộc nhất")
    from_guideline = camp_sub.add_parser("from-guideline", help="đọc văn bản hướng dẫn và in những gì một đợt cần")
    from_guideline.add_argument("file", metavar=_("FILE"), help="văn bản hướng dẫn (.docx, .doc, PDF có chữ, .txt)")
    from_guideline.add_argument("--json", action="store_true", help="in dạng JSON")
    camp_sub.add_parser("close", help="kết thúc một đợt: giữ mọi thứ, thôi nhắc, không nhận thêm thư theo thời gian") \
        .add_argument("campaign_id", metavar="ID", help="mã đợt")


DASH_VALUES = ("--remind",)  # values that start with '-' ("-3d,-1d"), which argparse takes for options


def attach_values(argv: Sequence[str]) -> list[str]:
    """`--remind -3d` as `--remind=-3d`, so that SPEC's `--remind "-3d,-1d,+1d"` works as written."""
    out: list[str] = []
    args = list(argv)
    i = 0
    while i < len(args):
        if args[i] in DASH_VALUES and i + 1 < len(args):
            out.append(f"{args[i]}={args[i + 1]}")
            i += 2
            continue
        out.append(args[i])
        i += 1
    return out


def config_path(arg: str | None, environ: Mapping[str, str]) -> Path:
    """--config, else $INTAKE_CONFIG, else ./intake.toml, else /etc/intake/intake.toml (SPEC)."""
    path = find_config(arg, environ)
    try:
        path.stat()
    except FileNotFoundError:
        raise config_not_found(arg, environ) from None
    except OSError:
        pass  # load_config says what is wrong with it
    return path


def command_user(environ: Mapping[str, str]) -> str:
    """Who a decision from the command line is recorded as: $SUDO_USER, else $USER, else the login (SPEC)."""
    named = environ.get("SUDO_USER") or environ.get("USER") or environ.get("LOGNAME")
    if named:
        return named
    try:
        return pwd.getpwuid(os.getuid()).pw_name
    except KeyError:  # a uid with no passwd entry (a container)
        return f"uid {os.getuid()}"


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None,
         clock: Clock | None = None) -> int:
    """`clock` (tests) replaces the system clock for every use case."""
    environ = os.environ if environ is None else environ
    i18n.use(i18n.DEFAULT_LANGUAGE)  # until a config says otherwise
    with i18n.parser_language():
        args = build_parser().parse_args(attach_values(sys.argv[1:] if argv is None else argv))
    setup_logging(args.verbose, args.quiet)
    if args.command in ("run", "serve"):
        steady_heap()  # long-running: keep the resident size flat
    args.actor = command_user(environ)
    try:
        if args.command == "init":
            return run_init(args, environ)
        cfg = load_config(config_path(args.config, environ), environ)
        i18n.use(cfg.acknowledge.language)
        check_store_owner(cfg, list(sys.argv[1:] if argv is None else argv))
        if args.command in OPS_COMMANDS:
            return OPS_COMMANDS[args.command](cfg, args)
        return dispatch(args, cfg, clock)
    except (ConfigError, UsageError) as exc:
        print(f"intake: {exc}", file=sys.stderr)
        return 2
    except SchemaOutdated as exc:
        print(f"intake: {schema_problem(exc)}", file=sys.stderr)
        return 1
    except IntakeError as exc:
        print(f"intake: {exc}", file=sys.stderr)
        return 1


def dispatch(args: argparse.Namespace, cfg: Config, clock: Clock | None = None) -> int:
    if args.command == "check-config":
        from intake.processor.checks import check_config

        return check_config(cfg, Console())
    store = open_store(cfg, create=args.command == "run")  # others refuse a missing/outdated store
    try:
        app = App(cfg, store, clock=clock) if clock is not None else App(cfg, store)
        try:
            return COMMANDS[args.command](app, Office(app), args)
        finally:
            app.close()
    finally:
        store.close()


def say(line: str) -> None:
    print(line)


def say_repeats(office: Office, d: DecisionView, tz: ZoneInfo) -> None:
    """A notice when the decision just taken repeats one already in force (both stay; revoke one)."""
    for earlier in office.repeats(d):
        say(_("Note: this repeats decision #{n}, still in force: {decision}", n=earlier.id,
              decision=decision_line(earlier, tz)))


def cmd_run(app: App, _office: Office, args: argparse.Namespace) -> int:
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


def cmd_status(app: App, office: Office, args: argparse.Namespace) -> int:
    tz = app.cfg.timezone
    if args.json:
        status = office.missing(args.campaign) if args.command == "missing" else office.status(args.campaign)
        json.dump(status_json(status, tz), sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    else:
        print_status_table(office.status(args.campaign), tz, staff_console(), only_owing=args.command == "missing")
    return 0


def cmd_units(app: App, office: Office, args: argparse.Namespace) -> int:
    if args.units_command == "list":
        addresses = app.store.registered_addresses()
        for unit in office.catalog().units:  # tab-separated, unwrapped: for `cut` and spreadsheets too
            mine = sorted(a for a, u in addresses.items() if u == unit.id)
            say(f"{unit.id}\t{unit.name}\t{unit.group}\t{'; '.join(mine)}\t{SOURCE_VI[unit.source]}")
        return 0
    if args.units_command in CATALOG_UNITS:
        return CATALOG_UNITS[args.units_command](app, office, args)
    done = office.link_address(args.address, args.unit_id, args.actor)
    say(_("Registered {address} for {unit} ({id}); {count} message(s) looked at again.", address=done.address,
          unit=office.unit(done.unit_id).name, id=done.unit_id, count=done.reevaluated))
    return 0


def cmd_excuse(app: App, office: Office, args: argparse.Namespace) -> int:
    d = office.excuse(args.unit_id, args.campaign, args.reason, args.actor)
    say(_("Excused {unit} ({id}), campaign {campaign}: {reason} (decision #{n}).", unit=d.unit_name, id=d.unit_id,
          campaign=d.campaign_id, reason=d.reason, n=d.id))
    say_repeats(office, d, app.cfg.timezone)
    return 0


def cmd_extend(app: App, office: Office, args: argparse.Namespace) -> int:
    until, _end_of_day = office.parse_until(args.until)  # a date alone: 23:59:59, shown "hết ngày …"
    d = office.extend(args.unit_id, args.campaign, until, args.actor)
    shown = deadline_time(d.until, app.cfg.timezone, i18n.language())
    say(_("Extended {unit} ({id}), campaign {campaign}, until {until} (decision #{n}).", unit=d.unit_name,
          id=d.unit_id, campaign=d.campaign_id, until=shown, n=d.id))
    if d.until is not None and d.until <= office.now():
        say(_("That time is already past: the extension is recorded as granted after the fact; "
              "a report received before it counts as on time."))
    say_repeats(office, d, app.cfg.timezone)
    return 0


def cmd_export(app: App, office: Office, args: argparse.Namespace) -> int:
    path = Path(args.output)
    check_output(path, args.format)
    data = office.export(args.campaign, args.format, args.dialect)
    try:
        path.write_bytes(data)
    except OSError as exc:
        raise ExportError(_("cannot write {path}: {reason}", path=path, reason=exc.strerror)) from exc
    log.info("wrote %s", path)
    return 0


def cmd_remind(app: App, office: Office, args: argparse.Namespace) -> int:
    from intake.processor.sending.reminders import print_plan

    plan = office.remind(args.campaign, args.dry_run, args.actor)
    print_plan(plan, Console(), dry_run=args.dry_run)
    return 0


def cmd_show(app: App, office: Office, args: argparse.Namespace) -> int:
    for line in message_lines(office.show(args.ref), app.cfg.timezone):
        say(line)
    return 0


def cmd_retry(app: App, office: Office, args: argparse.Namespace) -> int:
    """Exit 0 when every message retried was processed, 1 when one failed again (it says why)."""
    results = office.retry_failed() if args.failed else [office.retry(args.ref)]
    if not results:
        say("Không có thư nào bị lỗi khi xử lý.")
    for done in results:
        view = done.view
        if done.ok:
            unit = view.unit_name or "chưa xác định đơn vị"
            say(f"Đã xử lý lại thư {view.reference}: {unit}.")
        else:
            say(f"Thư {view.reference} vẫn lỗi khi xử lý: {view.error or 'không rõ lý do'}.")
    return 0 if all(d.ok for d in results) else 1


def cmd_section(app: App, office: Office, args: argparse.Namespace) -> int:
    view = office.choose_section(args.ref, candidate=args.candidate, heading=args.heading, none=args.none,
                                 actor=args.actor)
    sec = view.section
    chosen = sec.heading if sec is not None and sec.found else _("no separate evaluation section")
    say(_("Section chosen for message {ref}: {heading}.", ref=view.reference, heading=chosen))
    return 0


def cmd_decisions(app: App, office: Office, args: argparse.Namespace) -> int:
    tz = app.cfg.timezone
    if args.decisions_command == "revoke":
        say(_("Revoked: {decision}", decision=decision_line(office.revoke(args.decision_id, args.actor), tz)))
        return 0
    if args.decisions_command == "corrected-ack":
        say(f"Đã gửi: {decision_line(office.send_corrected_ack(args.decision_id, args.actor), tz)}")
        return 0
    found = office.decisions(args.campaign)
    for d in found:
        say(decision_line(d, tz))
    if not found:
        say(_("No decisions yet."))
    return 0


def cmd_dismiss(app: App, office: Office, args: argparse.Namespace) -> int:
    d = office.dismiss(args.ref, args.reason, args.actor)
    say(_("Message {ref} set aside (decision #{n}).", ref=d.reference, n=d.id))
    return 0


def cmd_serve(app: App, office: Office, args: argparse.Namespace) -> int:
    from intake.processor.config import parse_listen
    from intake.processor.web.server import dashboard, serve

    host, port = app.cfg.web.host, app.cfg.web.port
    if args.listen:
        try:
            host, port = parse_listen(args.listen)
        except ValueError as exc:
            raise UsageError(f"--listen: {exc}") from exc
    serve(dashboard(office, os.environ), host, port)
    return 0


def cmd_users(app: App, _office: Office, args: argparse.Namespace) -> int:
    from intake.processor.web import users

    return users.command(app.store, args.users_command, getattr(args, "name", None), app.clock(),
                         tz=app.cfg.timezone)


COMMANDS: dict[str, Callable[[App, Office, argparse.Namespace], int]] = {
    "run": cmd_run,
    "status": cmd_status,
    "missing": cmd_status,
    "units": cmd_units,
    "excuse": cmd_excuse,
    "extend": cmd_extend,
    "export": cmd_export,
    "remind": cmd_remind,
    "show": cmd_show,
    "retry": cmd_retry,
    "section": cmd_section,
    "decisions": cmd_decisions,
    "dismiss": cmd_dismiss,
    "serve": cmd_serve,
    "users": cmd_users,
    "campaign": cmd_campaign,
}


if __name__ == "__main__":
    sys.exit(main())
