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
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from rich.console import Console

from intake.parsers.errors import ConfigError, ExportError, IntakeError, UsageError
from intake.processor.app import App, open_store
from intake.processor.catalog import SOURCE_VI
from intake.processor.catalog_cli import CATALOG_UNITS, cmd_campaign
from intake.processor.config import Config, load_config
from intake.processor.mailbox import open_mailbox
from intake.processor.ops.commands import OPS_COMMANDS, add_ops_commands, find_config, run_init
from intake.processor.ops.logs import intake_version, setup_logging
from intake.processor.ops.memory import steady_heap
from intake.processor.services import Office
from intake.processor.staff.export import EXPORTERS, check_output
from intake.processor.staff.report import local_time, print_status_table, staff_console, status_json
from intake.processor.staff.text import decision_line, message_lines

__all__ = ["UsageError", "build_parser", "main"]

log = logging.getLogger("intake")
Clock = Callable[[], dt.datetime]


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
    link.add_argument("unit_id", metavar="UNIT", help="unit id or name")
    add_catalog_commands(units_sub, sub)

    excuse = sub.add_parser("excuse", help="a unit that owes nothing this time")
    excuse.add_argument("unit_id", metavar="UNIT", help="unit id or name")
    excuse.add_argument("--campaign")
    excuse.add_argument("--reason", required=True)
    extend = sub.add_parser("extend", help="give a unit a later deadline")
    extend.add_argument("unit_id", metavar="UNIT", help="unit id or name")
    extend.add_argument("--campaign")
    extend.add_argument("--until", required=True,
                        help="05/03/2024 17:00, 05/03/2024 (end of that day) or 2024-03-05T17:00; local time")
    export = sub.add_parser("export", help="the status table (csv, xlsx, html) or the compiled report (docx)")
    export.add_argument("--campaign")
    export.add_argument("--format", required=True, choices=tuple(EXPORTERS))
    export.add_argument("-o", "--output", required=True, help="file to write (its folder must exist)")
    export.add_argument("--dialect", default="vn", choices=("vn", "excel-sep", "plain"),
                        help="csv only: vn = ';' and decimal comma with a BOM (Excel, Vietnamese settings); "
                             "excel-sep = vn plus a 'sep=;' line; plain = RFC 4180 for programs")
    remind = sub.add_parser("remind", help="email the units still missing, now")
    remind.add_argument("--campaign")
    remind.add_argument("--dry-run", action="store_true", help="list who would be reminded; send nothing")
    sub.add_parser("check-config", help="validate the config and try the mailbox and SMTP logins")

    show = sub.add_parser("show", help="one message: what was received, the unit, the section, the reply")
    show.add_argument("ref", help="reference number (TN24-00005) or Message-ID")
    retry = sub.add_parser("retry", help="process again a message whose processing failed")
    retry_which = retry.add_mutually_exclusive_group(required=True)
    retry_which.add_argument("ref", nargs="?", help="reference number (TN24-00005) or Message-ID")
    retry_which.add_argument("--failed", action="store_true", help="every message whose processing failed")
    section = sub.add_parser("section", help="correct the section found in one message")
    section_sub = section.add_subparsers(dest="section_command", required=True, metavar="SUBCOMMAND")
    choose = section_sub.add_parser("choose", help="take candidate N, the heading with that text, or none")
    choose.add_argument("ref", help="reference number (TN24-00005) or Message-ID")
    which = choose.add_mutually_exclusive_group(required=True)
    which.add_argument("--candidate", type=int, metavar="N", help="candidate N as `show` lists them")
    which.add_argument("--heading", metavar="TEXT", help="the heading with this text")
    which.add_argument("--none", action="store_true", help="the report has no such section")
    decisions = sub.add_parser("decisions", help="staff decisions; `decisions revoke ID` revokes one")
    decisions.add_argument("--campaign")
    decisions_sub = decisions.add_subparsers(dest="decisions_command", metavar="SUBCOMMAND")
    revoke = decisions_sub.add_parser("revoke", help="revoke one decision")
    revoke.add_argument("decision_id", type=int, metavar="ID")
    dismiss = sub.add_parser("dismiss", help="set aside an unmatched message (it leaves the unmatched list)")
    dismiss.add_argument("ref", help="reference number (TN24-00005) or Message-ID")
    dismiss.add_argument("--reason", default="")
    serve = sub.add_parser("serve", help="the staff web dashboard")
    serve.add_argument("--listen", metavar="HOST:PORT", help="default: [web] listen, else 127.0.0.1:8080")
    users = sub.add_parser("users", help="dashboard accounts")
    users_sub = users.add_subparsers(dest="users_command", required=True, metavar="SUBCOMMAND")
    users_sub.add_parser("add", help="create an account or set its password (read from the terminal or stdin)") \
        .add_argument("name")
    users_sub.add_parser("list", help="list the accounts")
    users_sub.add_parser("remove", help="delete an account (its sessions end)").add_argument("name")
    add_ops_commands(sub)
    return p


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
    imp.add_argument("file", metavar="FILE")
    imp.add_argument("--dry-run", action="store_true", help="chỉ xem trước, không ghi gì")
    imp.add_argument("--yes", action="store_true", help="ghi luôn, không hỏi lại")

    campaign = sub.add_parser("campaign", help="các đợt báo cáo")
    camp_sub = campaign.add_subparsers(dest="campaign_command", required=True, metavar="SUBCOMMAND")
    camp_sub.add_parser("list", help="liệt kê các đợt báo cáo")
    for name, helptext in (("add", "tạo một đợt báo cáo"), ("edit", "sửa một đợt báo cáo (chỉ các mục được nêu)")):
        cmd = camp_sub.add_parser(name, help=helptext)
        if name == "add":
            cmd.add_argument("--id", required=True, dest="campaign_id", help="mã đợt (chữ, số, '.', '-', '_')")
        else:
            cmd.add_argument("campaign_id", metavar="ID", help="mã đợt")
        cmd.add_argument("--title", help="tên đợt báo cáo")
        cmd.add_argument("--opens", metavar="DATE",
                         help="ngày mở đợt: 22/01/2024, 22/01/2024 08:00 hoặc 2024-01-22")
        cmd.add_argument("--deadline", metavar="DATE",
                         help="hạn nộp: 29/02/2024 17:00; chỉ ghi ngày là đến hết ngày đó")
        cmd.add_argument("--section", metavar="TEXT",
                         help="tên mục bắt buộc, đúng như văn bản hướng dẫn viết")
        cmd.add_argument("--units", action="append", metavar="…",
                         help="đơn vị phải báo cáo: all (mặc định), group:NHÓM, hoặc các mã đơn vị, cách nhau dấu phẩy")
        cmd.add_argument("--remind", action="append", metavar="…",
                         help="các mốc nhắc so với hạn nộp, ví dụ \"-3d,-1d,+1d\" (lặp lại được)")
        cmd.add_argument("--keyword", action="append", metavar="TEXT", help="từ khóa giúp tìm mục (lặp lại được)")
        if name == "add":
            cmd.add_argument("--from-guideline", metavar="FILE",
                             help="lấy tên đợt, hạn nộp, mục bắt buộc và đề cương từ văn bản hướng dẫn "
                                  "(.docx, .doc, PDF có chữ, .txt); các tùy chọn khác ghi đè")
        cmd.add_argument("--outline-from", metavar="FILE",
                         help="lấy đề cương báo cáo (I., II., …) từ văn bản hướng dẫn, để tìm mục theo vị trí")
        cmd.add_argument("--outline-required", metavar="TEXT",
                         help="đề mục bắt buộc trong đề cương (số hoặc lời, ví dụ \"III.\"); "
                              "mặc định: đề mục giống tên mục bắt buộc nhất")
    from_guideline = camp_sub.add_parser("from-guideline", help="đọc văn bản hướng dẫn và in những gì một đợt cần")
    from_guideline.add_argument("file", metavar="FILE", help="văn bản hướng dẫn (.docx, .doc, PDF có chữ, .txt)")
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
    return find_config(arg, environ)


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None,
         clock: Clock | None = None) -> int:
    """`clock` (tests) replaces the system clock for every use case."""
    environ = os.environ if environ is None else environ
    args = build_parser().parse_args(attach_values(sys.argv[1:] if argv is None else argv))
    setup_logging(args.verbose, args.quiet)
    if args.command in ("run", "serve"):
        steady_heap()  # long-running: keep the resident size flat
    args.actor = environ.get("SUDO_USER") or environ.get("USER") or ""
    try:
        if args.command == "init":
            return run_init(args, environ)
        cfg = load_config(config_path(args.config, environ), environ)
        if args.command in OPS_COMMANDS:
            return OPS_COMMANDS[args.command](cfg, args)
        return dispatch(args, cfg, clock)
    except (ConfigError, UsageError) as exc:
        print(f"intake: {exc}", file=sys.stderr)
        return 2
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
    say(f"Đã đăng ký địa chỉ {done.address} cho {office.unit(done.unit_id).name} ({done.unit_id}); "
        f"xét lại {done.reevaluated} thư.")
    return 0


def cmd_excuse(app: App, office: Office, args: argparse.Namespace) -> int:
    d = office.excuse(args.unit_id, args.campaign, args.reason, args.actor)
    say(f"Đã miễn nộp cho {d.unit_name} ({d.unit_id}), đợt {d.campaign_id}: {d.reason} (quyết định #{d.id}).")
    return 0


def cmd_extend(app: App, office: Office, args: argparse.Namespace) -> int:
    until, end_of_day = office.parse_until(args.until)
    d = office.extend(args.unit_id, args.campaign, until, args.actor)
    whole_day = " (không ghi giờ: tính đến hết ngày)" if end_of_day else ""
    say(f"Đã gia hạn cho {d.unit_name} ({d.unit_id}), đợt {d.campaign_id}, đến "
        f"{local_time(d.until, app.cfg.timezone)}{whole_day} (quyết định #{d.id}).")
    return 0


def cmd_export(app: App, office: Office, args: argparse.Namespace) -> int:
    path = Path(args.output)
    check_output(path, args.format)
    data = office.export(args.campaign, args.format, args.dialect)
    try:
        path.write_bytes(data)
    except OSError as exc:
        raise ExportError(f"cannot write {path}: {exc.strerror}") from exc
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
    chosen = sec.heading if sec is not None and sec.found else "không có mục đánh giá riêng"
    say(f"Đã chọn mục cho thư {view.reference}: {chosen}.")
    return 0


def cmd_decisions(app: App, office: Office, args: argparse.Namespace) -> int:
    tz = app.cfg.timezone
    if args.decisions_command == "revoke":
        say(f"Đã hủy quyết định: {decision_line(office.revoke(args.decision_id, args.actor), tz)}")
        return 0
    found = office.decisions(args.campaign)
    for d in found:
        say(decision_line(d, tz))
    if not found:
        say("Chưa có quyết định nào.")
    return 0


def cmd_dismiss(app: App, office: Office, args: argparse.Namespace) -> int:
    d = office.dismiss(args.ref, args.reason, args.actor)
    say(f"Đã bỏ qua thư {d.reference} (quyết định #{d.id}).")
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

    return users.command(app.store, args.users_command, getattr(args, "name", None), app.clock())


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
