"""Staff's changes to the catalog, checked and described, from values alone (no store, no clock).

`services.Office` reads the catalog and the registered addresses, calls
these, and writes the result with its decision (`store/catalog.py`). What
staff type (dates, unit lists, reminder points) is parsed here, with a
Vietnamese reason naming the option when it is wrong.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from zoneinfo import ZoneInfo

from intake.parsers.errors import UsageError
from intake.parsers.guide import TemplateHeading
from intake.processor.catalog import Catalog
from intake.processor.config import REMIND_RE, CampaignConfig, RemindPoint, remind_offset
from intake.processor.guidance import required_of
from intake.processor.roster_file import EMAIL_RE, ID_RE, RosterRow
from intake.processor.staff_dates import parse_staff_datetime
from intake.processor.times import deadline_time, local_time
from intake.processor.units import UnitConfig
from intake.store.kinds import Source

ALL = ("all", "*", "tất cả")


@dataclass(frozen=True)
class CampaignForm:
    """A campaign as staff type it (command line or dashboard form); None: unchanged (edit)."""

    title: str | None = None
    opens: str | None = None
    deadline: str | None = None
    section: str | None = None
    units: Sequence[str] | None = None      # "all", "group:NAME", unit ids; commas allowed inside
    remind: Sequence[str] | None = None     # "-3d,-1d,+1d" or one point each
    keywords: Sequence[str] | None = None
    outline: tuple[TemplateHeading, ...] | None = None   # the guideline's đề cương (processor/guidance.py)
    outline_required: str | None = None                  # the required heading, by number or words


def read_only(source: Source, what: str) -> None:
    if source == Source.CONFIG:
        raise UsageError(f"{what} lấy từ tệp cấu hình: chỉ sửa được trong tệp cấu hình")


# -- campaigns -------------------------------------------------------------------------


def campaign_of(campaign_id: str, form: CampaignForm, base: CampaignConfig | None, catalog: Catalog,
                tz: ZoneInfo, now: dt.datetime) -> CampaignConfig:
    """The campaign `form` describes: a new one (`base` None: title, dates and section required) or
    `base` with the fields given changed."""
    if base is None:
        if not ID_RE.match(campaign_id):
            raise UsageError(f"--id: mã \"{campaign_id}\" chỉ được gồm chữ, số, '.', '-', '_' (không dấu cách)")
        missing = [flag for flag, value in (("--title", form.title), ("--opens", form.opens),
                                            ("--deadline", form.deadline), ("--section", form.section))
                   if not (value or "").strip()]
        if missing:
            raise UsageError(f"thiếu {', '.join(missing)}")
    camp = base or CampaignConfig(id=campaign_id, title="", opens=now, deadline=now, section_title="",
                                  source=Source.STAFF)
    changes: dict[str, object] = {}
    if form.title is not None:
        changes["title"] = _required(form.title, "--title")
    if form.section is not None:
        changes["section_title"] = _required(form.section, "--section")
    if form.opens is not None:
        changes["opens"] = _when(form.opens, "--opens", tz, now, day_starts=True)
    if form.deadline is not None:
        changes["deadline"] = _when(form.deadline, "--deadline", tz, now, day_starts=False)
    if form.units is not None:
        changes["units"] = unit_refs(form.units, catalog)
    if form.remind is not None:
        changes["remind"] = remind_points(form.remind)
    if form.keywords is not None:
        changes["section_keywords"] = tuple(k.strip() for k in _items(form.keywords))
    camp = dataclasses.replace(camp, **changes)  # type: ignore[arg-type]
    if form.outline is not None or form.outline_required is not None or form.section is not None:
        camp = _with_required(camp, form)
    if camp.deadline <= camp.opens:
        raise UsageError("--deadline: hạn nộp phải sau ngày mở đợt (--opens)")
    return camp


def _with_required(camp: CampaignConfig, form: CampaignForm) -> CampaignConfig:
    """The outline given and its required part: the heading named, else the one the section title
    matches best (None when none does: the outline then teaches nothing, `campaign list` says so)."""
    outline = camp.outline if form.outline is None else form.outline
    try:
        required = required_of(outline, camp.section_title, form.outline_required)
    except UsageError as exc:
        raise UsageError(f"--outline-required: {exc}") from exc
    return dataclasses.replace(camp, outline=outline, outline_required=required)


def outline_text(camp: CampaignConfig) -> str:
    """The outline in one line, the required part marked; "" without one."""
    return "; ".join(f"[{h.text}]" if k == camp.outline_required else h.text for k, h in enumerate(camp.outline))


def unit_refs(values: Sequence[str], catalog: Catalog) -> tuple[str, ...]:
    refs = _items(values)
    if not refs or any(r.lower() in ALL for r in refs):
        return ("*",)
    ids, groups = {u.id for u in catalog.units}, set(catalog.groups())
    for ref in refs:
        if ref.startswith("group:"):
            if ref[6:] not in groups:
                raise UsageError(f"--units: không đơn vị nào thuộc nhóm \"{ref[6:]}\" (có: {', '.join(groups)})")
        elif ref not in ids:
            raise UsageError(f"--units: không có đơn vị mã \"{ref}\" (xem `intake units list`)")
    return tuple(dict.fromkeys(refs))


def remind_points(values: Sequence[str]) -> tuple[RemindPoint, ...]:
    labels = _items(values)
    bad = [r for r in labels if not REMIND_RE.match(r)]
    if bad:
        raise UsageError(f"--remind: \"{bad[0]}\" không hợp lệ: viết như -3d (3 ngày trước hạn), +1d, -12h")
    return tuple(RemindPoint(label, remind_offset(label)) for label in dict.fromkeys(labels))


def campaign_changes(old: CampaignConfig, new: CampaignConfig, tz: ZoneInfo) -> list[str]:
    """What differs, in words staff read in `decisions`."""
    fields = (("tên", old.title, new.title), ("mở", local_time(old.opens, tz), local_time(new.opens, tz)),
              ("hạn", deadline_time(old.deadline, tz), deadline_time(new.deadline, tz)),
              ("mục", old.section_title, new.section_title),
              ("đơn vị", units_text(old.units), units_text(new.units)),
              ("nhắc", remind_text(old.remind), remind_text(new.remind)),
              ("từ khóa", ", ".join(old.section_keywords), ", ".join(new.section_keywords)),
              ("đề cương", outline_text(old), outline_text(new)))
    return [f"{label}: {a or '—'} → {b or '—'}" for label, a, b in fields if a != b]


def units_text(refs: Sequence[str]) -> str:
    return "tất cả" if tuple(refs) == ("*",) else ", ".join(refs)


def remind_text(points: Sequence[RemindPoint]) -> str:
    return ", ".join(p.label for p in points)


# -- units -----------------------------------------------------------------------------


def unit_of(unit_id: str, base: UnitConfig | None, *, name: str | None = None, emails: Sequence[str] | None = None,
            aliases: Sequence[str] | None = None, group: str | None = None) -> UnitConfig:
    """A new unit (`base` None: a name is required) or `base` with the fields given changed."""
    if base is None and not ID_RE.match(unit_id):
        raise UsageError(f"mã \"{unit_id}\" chỉ được gồm chữ, số, '.', '-', '_' (không dấu cách)")
    unit = base or UnitConfig(id=unit_id, name="", source=Source.STAFF)
    if name is not None or base is None:
        unit = dataclasses.replace(unit, name=_required(name or "", "--name"))
    if emails is not None:
        found = tuple(dict.fromkeys(e.lower() for e in _items(emails, ";")))
        bad = next((e for e in found if not EMAIL_RE.match(e)), None)
        if bad is not None:
            raise UsageError(f"--email: địa chỉ thư không hợp lệ: \"{bad}\"")
        unit = dataclasses.replace(unit, emails=found)
    if aliases is not None:
        unit = dataclasses.replace(unit, aliases=tuple(dict.fromkeys(" ".join(a.split()) for a in aliases
                                                                      if a.strip())))
    if group is not None:
        unit = dataclasses.replace(unit, group=" ".join(group.split()))
    return unit


def unit_changes(old: UnitConfig, new: UnitConfig) -> list[str]:
    fields = (("tên", old.name, new.name), ("địa chỉ", "; ".join(old.emails), "; ".join(new.emails)),
              ("tên khác", "; ".join(old.aliases), "; ".join(new.aliases)), ("nhóm", old.group, new.group))
    return [f"{label}: {a or '—'} → {b or '—'}" for label, a, b in fields if a != b]


def address_conflict(unit: UnitConfig, registered: Mapping[str, str], catalog: Catalog,
                     leaving: frozenset[str] = frozenset()) -> str | None:
    """Why one of the unit's addresses cannot be its (another unit of the roster has it), or None.
    `leaving`: units whose addresses are being replaced in the same change (an import)."""
    for address in unit.emails:
        owner = registered.get(address.lower())
        if owner is not None and owner != unit.id and owner not in leaving and catalog.unit(owner) is not None:
            other = catalog.unit(owner)
            assert other is not None
            return f"địa chỉ {address} đã đăng ký cho đơn vị {other.name} ({owner})"
    return None


# -- import ----------------------------------------------------------------------------


class RowState(StrEnum):
    NEW = "new"
    CHANGED = "changed"
    UNCHANGED = "unchanged"
    ERROR = "error"


ROW_STATE_VI = {RowState.NEW: "mới", RowState.CHANGED: "thay đổi", RowState.UNCHANGED: "không đổi",
                RowState.ERROR: "lỗi"}


@dataclass(frozen=True)
class ImportRow:
    line: int
    state: RowState
    unit_id: str
    name: str
    detail: str = ""                     # the changes, or the error's reason
    unit: UnitConfig | None = None       # what is written (new and changed rows)


@dataclass(frozen=True)
class ImportPreview:
    filename: str
    rows: tuple[ImportRow, ...]

    def count(self, state: RowState) -> int:
        return sum(1 for r in self.rows if r.state == state)

    @property
    def writes(self) -> tuple[ImportRow, ...]:
        return tuple(r for r in self.rows if r.state in (RowState.NEW, RowState.CHANGED))

    def summary(self) -> str:
        return ", ".join(f"{self.count(s)} {ROW_STATE_VI[s]}" for s in RowState)


def preview_import(filename: str, rows: Sequence[RosterRow], catalog: Catalog,
                   registered: Mapping[str, str]) -> ImportPreview:
    """Each row of the file against the catalog: new, changed (with what), unchanged, or an error."""
    in_file = frozenset(r.unit.id for r in rows if r.unit is not None)
    out = []
    for row in rows:
        if row.unit is None:
            out.append(ImportRow(row.line, RowState.ERROR, row.unit_id, row.name, row.error or "dòng không hợp lệ"))
            continue
        out.append(_import_row(row.line, row.unit, catalog, registered, in_file))
    return ImportPreview(filename=filename, rows=tuple(out))


def _import_row(line: int, unit: UnitConfig, catalog: Catalog, registered: Mapping[str, str],
                in_file: frozenset[str]) -> ImportRow:
    old = catalog.unit(unit.id)
    if old is not None and old.source == Source.CONFIG:
        return ImportRow(line, RowState.ERROR, unit.id, unit.name,
                         "đơn vị lấy từ tệp cấu hình: chỉ sửa được trong tệp cấu hình")
    conflict = address_conflict(unit, registered, catalog, leaving=in_file)
    if conflict is not None:
        return ImportRow(line, RowState.ERROR, unit.id, unit.name, conflict)
    if old is None:
        return ImportRow(line, RowState.NEW, unit.id, unit.name, unit=unit)
    changes = unit_changes(old, unit)
    if not changes:
        return ImportRow(line, RowState.UNCHANGED, unit.id, unit.name)
    return ImportRow(line, RowState.CHANGED, unit.id, unit.name, "; ".join(changes), unit=unit)


# -- helpers ---------------------------------------------------------------------------


def _items(values: Sequence[str], sep: str = ",") -> list[str]:
    """Values given repeated or separated ("-3d,-1d" / --remind -3d --remind -1d)."""
    return [part.strip() for value in values for part in value.replace(sep, ",").split(",") if part.strip()]


def _required(value: str, flag: str) -> str:
    text = " ".join(value.split())
    if not text:
        raise UsageError(f"{flag}: không được để trống")
    return text


def _when(text: str, flag: str, tz: ZoneInfo, now: dt.datetime, *, day_starts: bool) -> dt.datetime:
    try:
        return parse_staff_datetime(text, tz, now, day_starts=day_starts)[0]
    except UsageError as exc:
        raise UsageError(f"{flag}: {exc}") from exc
