"""The catalog's commands: `units add|edit|remove|import` and `campaign list|add|edit|close`.

Argument handling and printing only; the use cases are `services.Office`'s.
What staff read is Vietnamese.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Callable
from pathlib import Path
from zoneinfo import ZoneInfo

from intake.parsers.errors import UsageError
from intake.processor.app import App
from intake.processor.catalog import SOURCE_VI
from intake.processor.catalog_edit import (
    ROW_STATE_VI,
    CampaignForm,
    ImportPreview,
    RowState,
    outline_text,
    remind_text,
    units_text,
)
from intake.processor.config import CampaignConfig
from intake.processor.guideline import describe_guideline, guideline_json
from intake.processor.services import Office
from intake.processor.times import deadline_time, local_time

YES = ("c", "có", "co", "y", "yes")


def campaign_state(camp: CampaignConfig, now: dt.datetime) -> str:
    if camp.closed:
        return "đã kết thúc"
    if now < camp.opens:
        return "chưa mở"
    return "đang nhận" if now < camp.deadline else "đã quá hạn"


def campaign_lines(camp: CampaignConfig, tz: ZoneInfo, now: dt.datetime) -> list[str]:
    lines = [f"{camp.id} — {camp.title} [{campaign_state(camp, now)}; {SOURCE_VI[camp.source]}]",
             f"  mở {local_time(camp.opens, tz)}, hạn {deadline_time(camp.deadline, tz)}",
             f"  mục: {camp.section_title}",
             f"  đơn vị: {units_text(camp.units)}; nhắc: {remind_text(camp.remind) or 'không'}"]
    if camp.outline:
        lines.append(f"  đề cương: {outline_text(camp)}" if camp.outline_required is not None else
                     f"  đề cương: {len(camp.outline)} đề mục, chưa rõ đề mục bắt buộc (--outline-required): "
                     "chưa dùng để tìm mục")
    if camp.closed_at is not None:
        lines.append(f"  kết thúc lúc {local_time(camp.closed_at, tz)}")
    return lines


def read_file(name: str, flag: str) -> tuple[str, bytes]:
    """A file staff named on the command line: (its name, its bytes)."""
    path = Path(name)
    try:
        return path.name, path.read_bytes()
    except OSError as exc:
        raise UsageError(f"{flag}: không đọc được tệp {path}: {exc.strerror}") from exc


def print_guideline(office: Office, name: str, *, as_json: bool) -> int:
    """`campaign from-guideline FILE [--json]`: what the guideline gives, for staff to confirm."""
    facts = office.read_guideline(*read_file(name, "FILE"))
    if as_json:
        print(json.dumps(guideline_json(facts), ensure_ascii=False, indent=2))
    else:
        for line in describe_guideline(facts):
            print(line)
    return 0


def cmd_campaign(app: App, office: Office, args: argparse.Namespace) -> int:
    tz = app.cfg.timezone
    if args.campaign_command == "list":
        campaigns = office.catalog().campaigns
        for camp in campaigns:
            for line in campaign_lines(camp, tz, office.now()):
                print(line)
        if not campaigns:
            print("Chưa có đợt báo cáo nào: tạo một đợt bằng `intake campaign add`.")
        return 0
    if args.campaign_command == "close":
        camp = office.close_campaign(args.campaign_id, args.actor)
        print(f"Đã kết thúc đợt {camp.id} ({camp.title}): mọi thư và quyết định vẫn giữ, không nhắc nữa.")
        return 0
    if args.campaign_command == "from-guideline":
        return print_guideline(office, args.file, as_json=args.json)
    outline = office.guideline_outline(*read_file(args.outline_from, "--outline-from")) if args.outline_from else None
    form = CampaignForm(title=args.title, opens=args.opens, deadline=args.deadline, section=args.section,
                        units=args.units, remind=args.remind, keywords=args.keyword, outline=outline,
                        outline_required=args.outline_required)
    if args.campaign_command == "add" and args.from_guideline:
        name, data = read_file(args.from_guideline, "--from-guideline")
        camp = office.add_campaign_from_guideline(args.campaign_id, name, data, form, args.actor)
        print(f"Đã tạo đợt {camp.id} từ văn bản hướng dẫn {name}:")
    elif args.campaign_command == "add":
        camp = office.add_campaign(args.campaign_id, form, args.actor)
        print(f"Đã tạo đợt {camp.id}:")
    else:
        camp, changes = office.edit_campaign(args.campaign_id, form, args.actor)
        print(f"Đã sửa đợt {camp.id}: {'; '.join(changes)}")
    for line in campaign_lines(camp, tz, office.now()):
        print(line)
    return 0


def cmd_unit_add(app: App, office: Office, args: argparse.Namespace) -> int:
    unit = office.add_unit(args.unit_id, name=args.name, emails=args.email or (), aliases=args.alias or (),
                           group=args.group or "", actor=args.actor)
    print(f"Đã thêm đơn vị {unit.name} ({unit.id})" + (f", địa chỉ {'; '.join(unit.emails)}" if unit.emails else "")
          + ".")
    return 0


def cmd_unit_edit(app: App, office: Office, args: argparse.Namespace) -> int:
    unit, changes = office.edit_unit(args.unit_id, name=args.name, emails=args.email, aliases=args.alias,
                                     group=args.group, actor=args.actor)
    print(f"Đã sửa đơn vị {unit.name} ({unit.id}): {'; '.join(changes)}.")
    return 0


def cmd_unit_remove(app: App, office: Office, args: argparse.Namespace) -> int:
    unit = office.remove_unit(args.unit_id, args.actor)
    print(f"Đã bỏ đơn vị {unit.name} ({unit.id}) khỏi danh sách; thư và quyết định cũ của đơn vị vẫn giữ.")
    return 0


def preview_lines(preview: ImportPreview) -> list[str]:
    lines = [f"Xem trước {preview.filename}:"]
    for row in preview.rows:
        what = f"{row.name} ({row.unit_id})" if row.unit_id or row.name else ""
        detail = f": {row.detail}" if row.detail else ""
        lines.append(f"  dòng {row.line}: {ROW_STATE_VI[row.state]} {what}{detail}".rstrip())
    lines.append(f"Tổng: {preview.summary()}.")
    if preview.count(RowState.ERROR):
        lines.append("Các dòng lỗi sẽ không được ghi.")
    return lines


def cmd_unit_import(app: App, office: Office, args: argparse.Namespace,
                    ask: Callable[[str], str] = input) -> int:
    name, data = read_file(args.file, "FILE")
    preview = office.preview_import(name, data)
    for line in preview_lines(preview):
        print(line)
    writes = len(preview.writes)
    if args.dry_run:
        print("Chỉ xem trước (--dry-run): chưa ghi gì.")
        return 0
    if not writes:
        print("Không có gì để ghi.")
        return 0
    # On a terminal staff confirm what the preview shows; a script (no terminal: SPEC's plain
    # `units import FILE`) gets the preview printed, then the valid rows written.
    if not args.yes and sys.stdin.isatty():
        answer = ask(f"Ghi {preview.count(RowState.NEW)} đơn vị mới và {preview.count(RowState.CHANGED)} "
                     "thay đổi? [c/K] ")
        if answer.strip().lower() not in YES:
            print("Đã hủy: chưa ghi gì.")
            return 0
    done = office.import_units(name, data, args.actor)
    print(f"Đã ghi: {done.count(RowState.NEW)} đơn vị mới, {done.count(RowState.CHANGED)} thay đổi"
          + (f"; {done.count(RowState.ERROR)} dòng lỗi không ghi." if done.count(RowState.ERROR) else "."))
    return 0


CATALOG_UNITS: dict[str, Callable[[App, Office, argparse.Namespace], int]] = {
    "add": cmd_unit_add, "edit": cmd_unit_edit, "remove": cmd_unit_remove, "import": cmd_unit_import}
