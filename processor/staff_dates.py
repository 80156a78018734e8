"""Dates and times typed by staff (`extend --until`, the dashboard's forms).

Offices write dd/mm/yyyy; programs write ISO 8601. A date without a time
means the end of that day: "extend until 05/03/2024" keeps the door open all
of the 5th.
"""
from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

from intake.parsers.errors import UsageError
from intake.parsers.guideline import END_OF_DAY
from intake.processor.i18n import N_, _

VN_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})(?:[ T]+(\d{1,2})[:hg](\d{2}))?$")
EXAMPLES = N_("05/03/2024, 05/03/2024 17:00 or 2024-03-05T17:00")


def parse_staff_datetime(text: str, tz: ZoneInfo | dt.tzinfo, now: dt.datetime, *,
                         day_starts: bool = False) -> tuple[dt.datetime, bool]:
    """(the aware date-time staff meant, whether the end of the day was assumed).

    Accepts dd/mm/yyyy [hh:mm] and ISO 8601 (with or without a time, with or
    without an offset); times without an offset are in `tz`. `now` is the
    caller's clock, for the year check (a typo such as 05/03/0224 is refused).
    `day_starts=True` (a campaign's `opens`): a date alone is 00:00 of that day."""
    value = " ".join(text.split())
    when, end_of_day = _vietnamese(value, tz)
    if when is None:
        when, end_of_day = _iso(value, tz)
    if when is None:
        raise UsageError(_("not a date: \"{text}\" (write e.g. {examples})", text=text, examples=_(EXAMPLES)))
    if abs(when.year - now.astimezone(tz).year) > 50:
        raise UsageError(_("\"{text}\": year {year} is too far from today", text=text, year=when.year))
    if end_of_day and day_starts:
        return when.replace(hour=0, minute=0, second=0), False
    return when, end_of_day


def from_toml_date(value: dt.date, tz: ZoneInfo | dt.tzinfo, *, day_starts: bool = False) -> dt.datetime:
    """A TOML date (`deadline = 2024-03-05`) as staff mean it: the end of that day, or its start."""
    return dt.datetime.combine(value, dt.time() if day_starts else END_OF_DAY, tzinfo=tz)


def _vietnamese(value: str, tz: ZoneInfo | dt.tzinfo) -> tuple[dt.datetime | None, bool]:
    found = VN_DATE.match(value)
    if found is None:
        return None, False
    day, month, year, hour, minute = found.groups()
    try:
        date = dt.date(int(year), int(month), int(day))
        if hour is None:
            return dt.datetime.combine(date, END_OF_DAY, tzinfo=tz), True
        return dt.datetime.combine(date, dt.time(int(hour), int(minute)), tzinfo=tz), False
    except ValueError as exc:
        raise UsageError(_("not a real date: \"{text}\"", text=value)) from exc


def _iso(value: str, tz: ZoneInfo | dt.tzinfo) -> tuple[dt.datetime | None, bool]:
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        try:
            date = dt.date.fromisoformat(value)
        except ValueError as exc:
            raise UsageError(_("not a real date: \"{text}\"", text=value)) from exc
        return dt.datetime.combine(date, END_OF_DAY, tzinfo=tz), True
    try:
        when = dt.datetime.fromisoformat(value)
    except ValueError:
        return None, False
    return (when if when.tzinfo else when.replace(tzinfo=tz)), False
