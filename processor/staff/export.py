"""`intake export`: the status table as CSV, XLSX or HTML; the compiled report as DOCX.

Every format is built from the same rows (`rows.status_rows`), in roster order,
unit names first, times in the configured zone, numbers formatted by
`formatting` (1.234; 98,5%). Text from strangers passes through
`formatting.xml_safe`/`csv_cell` before it reaches a file. The DOCX compiler
lives in `export_docx`. `EXPORTERS` is the registry every caller (CLI, web,
services) goes through; `check_output` is the CLI's guard for `-o`.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from intake.parsers.errors import ExportError, UsageError
from intake.processor.i18n import _
from intake.processor.sending.compose import template_env
from intake.processor.staff.formatting import (
    FIGURE_KEYS,
    FIGURE_TITLES,
    csv_cell,
    figures_sentence,
    one_line,
    vn_int,
    vn_percent,
    xml_safe,
)
from intake.processor.staff.report import STATE_VI
from intake.processor.staff.rows import (
    KIND,
    TITLES,
    ExportContext,
    notes,
    status_rows,
    totals,
)
from intake.processor.times import deadline_time, local_time
from intake.store.status import CampaignStatus, UnitState


@dataclass(frozen=True)
class CsvDialect:
    """How numbers, times and cells are written; `vn` is what Excel under Vietnamese settings reads."""

    delimiter: str
    decimal: str
    bom: bool
    sep_line: bool


# What each is for: `intake export --dialect`'s help and README's "csv".
CSV_DIALECTS = {
    # UTF-8 with BOM, ';' between cells, decimal comma: Excel under Vietnamese regional
    # settings (list separator ';') opens it in columns.
    "vn": CsvDialect(";", ",", True, False),
    # As vn, plus a first line 'sep=;' so that Excel under any regional settings splits the columns.
    "excel-sep": CsvDialect(";", ",", True, True),
    # RFC 4180 for programs: UTF-8 without BOM, ',' between cells, decimal point.
    "plain": CsvDialect(",", ".", False, False),
}


def export_csv(status: CampaignStatus, ctx: ExportContext) -> bytes:
    """One line per unit with every column; times as `2024-02-26 09:12` (local), which Excel reads as dates."""
    dialect = CSV_DIALECTS[ctx.csv_dialect]
    out = io.StringIO()
    if dialect.sep_line:
        out.write(f"sep={dialect.delimiter}\r\n")
    writer = csv.writer(out, delimiter=dialect.delimiter, lineterminator="\r\n")
    writer.writerow(TITLES)
    for row in status_rows(status, ctx.tz):
        writer.writerow([_csv_value(row.values[t], KIND[t], dialect, ctx.tz) for t in TITLES])
    text = out.getvalue()
    return text.encode("utf-8-sig" if dialect.bom else "utf-8")


def _csv_value(value: Any, kind: str, dialect: CsvDialect, tz: ZoneInfo) -> str:
    if value is None:
        return ""
    if kind == "time":
        return f"{value.astimezone(tz):%Y-%m-%d %H:%M}"
    if kind in ("int", "number"):
        return f"{value:g}".replace(".", dialect.decimal)  # no thousands separator: stays machine-readable
    return csv_cell(str(value))


def export_html(status: CampaignStatus, ctx: ExportContext) -> bytes:
    """A self-contained page (inline CSS, no scripts or links): six columns, details on demand, prints on A4."""
    tz = ctx.tz
    rows = status_rows(status, tz)
    total = totals(rows)
    counts = status.counts()
    units = []
    for row in rows:
        v = row.values
        section = row.unit.latest.section if row.unit.latest else None
        figures = {k: v[FIGURE_TITLES[k]] for k in FIGURE_KEYS if v[FIGURE_TITLES[k]] is not None}
        units.append({
            "stt": v["STT"], "name": v["Đơn vị"], "state": row.unit.status.value, "state_vi": v["Tình trạng"],
            "received": local_time(v["Thời điểm nhận"], tz), "figures": _figures_short(figures),
            "note": notes(row), "review": row.review,
            "details": [(title, text) for title, text in (
                ("Hạn gửi", local_time(v["Hạn gửi"], tz)), ("Số lần gửi", vn_int(v["Số lần gửi"])),
                ("Tệp báo cáo", v["Tệp báo cáo"]), ("Địa chỉ gửi", v["Địa chỉ gửi"]),
                ("Mục đánh giá riêng", v["Mục đánh giá riêng"]), ("Số liệu", figures_sentence(figures)),
                ("Mã đơn vị", v["Mã đơn vị"])) if text],
            "text": xml_safe(section.text) if section is not None and section.found else "",
        })
    page = template_env().get_template("report.html.j2").render(
        campaign_id=xml_safe(status.campaign_id), title=xml_safe(status.title),
        office=xml_safe(ctx.report.office or ctx.report.parent),
        units=units, counts=[(STATE_VI[s], s.value, counts[s]) for s in UnitState], total_units=len(status.units),
        totals={"submissions": vn_int(total.submissions), "figures": _figures_short(
            {k: v for k, v in total.figures.items() if v is not None})},
        deadline=deadline_time(status.deadline, tz), generated=local_time(ctx.generated_at, tz),
        unmatched=[(one_line(m.from_name), one_line(m.from_address), local_time(m.received_at, tz),
                    one_line(m.subject), ", ".join(one_line(a) for a in m.attachments)) for m in status.unmatched])
    return str(page).encode("utf-8")


def _figures_short(figures: dict[str, Any]) -> str:
    """'1.241/1.250 (99,3%); 14 buổi' for a narrow column."""
    parts = []
    if "participants" in figures:
        members = f"/{vn_int(figures['members'])}" if "members" in figures else ""
        parts.append(f"{vn_int(figures['participants'])}{members}")
    if "rate_percent" in figures:
        parts.append(f"({vn_percent(figures['rate_percent'])})")
    text = " ".join(parts)
    if "sessions" in figures:
        text = f"{text}; {vn_int(figures['sessions'])} buổi" if text else f"{vn_int(figures['sessions'])} buổi"
    return text


# --------------------------------------------------------------- registry


def export_xlsx(status: CampaignStatus, ctx: ExportContext) -> bytes:
    from intake.processor.staff.export_xlsx import workbook  # openpyxl: loaded when a workbook is wanted

    return workbook(status, ctx)


def export_docx(status: CampaignStatus, ctx: ExportContext) -> bytes:
    from intake.processor.staff.export_docx import compile_report  # python-docx: loaded when a report is wanted

    return compile_report(status, ctx)


EXPORTERS: dict[str, Callable[[CampaignStatus, ExportContext], bytes]] = {
    "csv": export_csv, "xlsx": export_xlsx, "html": export_html, "docx": export_docx,
}
FORMATS = tuple(EXPORTERS)
SUFFIXES = {"csv": (".csv", ".txt"), "xlsx": (".xlsx",), "html": (".html", ".htm"), "docx": (".docx",)}


def render(status: CampaignStatus, fmt: str, ctx: ExportContext) -> bytes:
    try:
        exporter = EXPORTERS[fmt]
    except KeyError:
        raise UsageError(_("--format: unknown format \"{format}\": expected one of {choices}", format=fmt,
                           choices=", ".join(FORMATS))) from None
    if ctx.csv_dialect not in CSV_DIALECTS:
        raise UsageError(_("--dialect: expected one of {choices}, got \"{value}\"", choices=", ".join(CSV_DIALECTS),
                           value=ctx.csv_dialect))
    return exporter(status, ctx)


def check_output(path: Path, fmt: str) -> None:
    """Refuse, before any work, an output whose folder is missing or whose suffix says another format."""
    if fmt not in SUFFIXES:
        raise UsageError(_("--format: unknown format \"{format}\": expected one of {choices}", format=fmt,
                           choices=", ".join(FORMATS)))
    folder = path.parent
    if not folder.is_dir():
        raise UsageError(_("-o: folder {folder} does not exist (create it first)", folder=folder))
    if path.is_dir():
        raise UsageError(_("-o: {path} is a folder: give a file name ending in {suffix}", path=path,
                           suffix=SUFFIXES[fmt][0]))
    if not path.suffix:
        raise UsageError(_("-o: {name} has no extension: use a name ending in {suffix}", name=path.name,
                           suffix=SUFFIXES[fmt][0]))
    if path.suffix.lower() not in SUFFIXES[fmt]:
        owner = next((f for f, sfx in SUFFIXES.items() if path.suffix.lower() in sfx), None)
        said = _(" (a {format} name)", format=owner) if owner else ""
        raise UsageError(_("-o: {name} ends in {suffix}{said} but --format is {format}: "
                           "use a name ending in {wanted}", name=path.name, suffix=path.suffix, said=said,
                           format=fmt, wanted=SUFFIXES[fmt][0]))


def export(status: CampaignStatus, fmt: str, path: Path, ctx: ExportContext) -> None:
    check_output(path, fmt)
    data = render(status, fmt, ctx)
    try:
        path.write_bytes(data)
    except OSError as exc:
        raise ExportError(_("cannot write {path}: {reason}", path=path, reason=exc.strerror)) from exc

