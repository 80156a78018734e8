"""The exporter registry: format name -> function building the file's bytes.

`intake export --format` offers exactly these keys; the web app lists them too.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from intake.processor.staff.export import export_csv, export_html, export_xlsx
from intake.store.status import CampaignStatus


@dataclass(frozen=True)
class ExportContext:
    tz: ZoneInfo
    generated_at: dt.datetime
    office: str = ""


Exporter = Callable[[CampaignStatus, ExportContext], bytes]


def _csv(status: CampaignStatus, ctx: ExportContext) -> bytes:
    return export_csv(status, ctx.tz)


def _xlsx(status: CampaignStatus, ctx: ExportContext) -> bytes:
    return export_xlsx([status], ctx.tz)


def _html(status: CampaignStatus, ctx: ExportContext) -> bytes:
    return export_html(status, ctx.tz, generated_at=ctx.generated_at)


def _docx(status: CampaignStatus, ctx: ExportContext) -> bytes:
    from intake.processor.staff.export_docx import compile_report  # python-docx: loaded when asked for

    return compile_report(status, ctx.tz, generated_at=ctx.generated_at, office=ctx.office)


EXPORTERS: dict[str, Exporter] = {"csv": _csv, "xlsx": _xlsx, "html": _html, "docx": _docx}
CONTENT_TYPES: dict[str, str] = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "html": "text/html; charset=utf-8",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}
