"""A roster file: .csv or .xlsx with the columns of `units_file` (id, name, aliases, emails, group;
several aliases or emails in one cell separated by ';').

Read row by row: each row is a unit or the reason it is not one (with its
line number), so that `units import` can show every error before writing
anything; `units_file` in the config refuses the first error.
"""
from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from openpyxl import load_workbook

from intake.parsers.errors import UsageError
from intake.processor.units import UnitConfig
from intake.store.kinds import Source

ROSTER_COLUMNS = ("id", "name", "aliases", "emails", "group")
ID_RE = re.compile(r"^[\w.-]{1,100}$")   # what a command line and a URL take without quoting
EMAIL_RE = re.compile(r"^[^@\s;,]+@[^@\s;,]+\.[^@\s;,]+$")
MAX_ROWS = 5000


@dataclass(frozen=True)
class RosterRow:
    line: int                  # as a spreadsheet numbers it (the header is line 1)
    unit: UnitConfig | None
    error: str | None = None   # why the row is not a unit (Vietnamese, for staff)
    unit_id: str = ""          # as the row gives them, to name a row with an error
    name: str = ""


def read_roster(filename: str, data: bytes, source: Source = Source.STAFF) -> list[RosterRow]:
    """The rows of a .csv or .xlsx roster; UsageError when the file itself cannot be read."""
    lower = filename.lower()
    if lower.endswith(".xlsx"):
        table = _xlsx_rows(data)
    elif lower.endswith(".csv"):
        try:
            text = data.decode("utf-8-sig")  # Excel writes a BOM
        except UnicodeDecodeError as exc:
            raise UsageError(f"{filename}: không phải văn bản UTF-8 (lưu lại dưới dạng CSV UTF-8)") from exc
        table = list(csv.reader(io.StringIO(text)))
    else:
        raise UsageError(f"{filename}: chỉ nhận tệp .csv hoặc .xlsx")
    return rows_of(table, filename, source)


def rows_of(table: Sequence[Sequence[str]], filename: str, source: Source = Source.STAFF) -> list[RosterRow]:
    if not table:
        raise UsageError(f"{filename}: tệp trống")
    header = [h.strip().lower() for h in table[0]]
    if not {"id", "name"} <= set(header):
        raise UsageError(f"{filename}: dòng đầu phải là tên cột: {','.join(ROSTER_COLUMNS)}")
    if len(table) - 1 > MAX_ROWS:
        raise UsageError(f"{filename}: quá {MAX_ROWS} dòng")
    rows = []
    for line, cells in enumerate(table[1:], start=2):
        if not any(c.strip() for c in cells):
            continue  # a blank line, as spreadsheets leave at the end
        rows.append(_row(line, dict(zip(header, cells, strict=False)), source))
    return _duplicates(rows)


def _row(line: int, row: Mapping[str, str], source: Source) -> RosterRow:
    def cell(name: str) -> str:
        return " ".join((row.get(name) or "").split())

    def split(value: str) -> tuple[str, ...]:
        return tuple(p.strip() for p in value.split(";") if p.strip())

    unit_id, name = cell("id"), cell("name")
    emails = split(cell("emails"))

    def refused(reason: str) -> RosterRow:
        return RosterRow(line, None, reason, unit_id=unit_id[:100], name=name[:300])

    if not unit_id:
        return refused("thiếu mã đơn vị (cột id)")
    if not ID_RE.match(unit_id):
        return refused(f"mã \"{unit_id}\" chỉ được gồm chữ, số, '.', '-', '_' (không dấu cách)")
    if not name:
        return refused("thiếu tên đơn vị (cột name)")
    bad = next((e for e in emails if not EMAIL_RE.match(e)), None)
    if bad is not None:
        return refused(f"địa chỉ thư không hợp lệ: \"{bad}\"")
    return RosterRow(line, UnitConfig(id=unit_id, name=name, aliases=split(cell("aliases")),
                                      emails=tuple(e.lower() for e in emails), group=cell("group"), source=source),
                     unit_id=unit_id, name=name)


def _duplicates(rows: Iterable[RosterRow]) -> list[RosterRow]:
    """A second row with the same id, or an address a row above already has, is an error."""
    ids: dict[str, int] = {}
    addresses: dict[str, int] = {}
    out = []
    for row in rows:
        unit = row.unit
        if unit is not None:
            first = ids.get(unit.id)
            taken = next(((e, addresses[e]) for e in unit.emails if e in addresses), None)
            if first is not None:
                row = RosterRow(row.line, None, f"mã \"{unit.id}\" trùng với dòng {first}", unit.id, unit.name)
            elif taken is not None:
                row = RosterRow(row.line, None, f"địa chỉ {taken[0]} trùng với dòng {taken[1]}", unit.id, unit.name)
            else:
                ids[unit.id] = row.line
                addresses.update((e, row.line) for e in unit.emails)
        out.append(row)
    return out


def _xlsx_rows(data: bytes) -> list[list[str]]:
    """The first sheet's cells as text. openpyxl reads no external links or macros by default."""
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise UsageError(f"không đọc được tệp Excel: {exc}") from exc
    try:
        sheet = book.worksheets[0]
        table = []
        for values in sheet.iter_rows(values_only=True, max_row=MAX_ROWS + 2):
            table.append(["" if v is None else str(v) for v in values])
        return table
    finally:
        book.close()
