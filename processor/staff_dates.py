"""Dates and times as staff type them: `05/03/2024`, `05/03/2024 17:00`, `2024-03-05T17:00`.

One parser for the config (`deadline`, `opens`) and the commands (`extend --until`).
A date without a time means the END of that day (23:59:59, local time): a
deadline "05/03/2024" lets units send all day long. Callers that mean the
start of a day (`opens`) ask for it.
"""
from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

END_OF_DAY = dt.time(23, 59, 59)
_DMY = re.compile(r"^\s*(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})(?:[ T]+(\d{1,2})[:h](\d{2})(?::(\d{2}))?)?\s*$")


class StaffDateError(ValueError):
    """Not a date staff could have meant; the message says which forms are accepted."""


def parse_staff_datetime(text: str, tz: ZoneInfo | dt.tzinfo, now: dt.datetime | None = None, *,
                         day_starts: bool = False) -> tuple[dt.datetime, bool]:
    """(aware datetime, end_of_day_assumed). `now` is accepted for callers that check the past;
    `day_starts=True` makes a bare date mean 00:00 instead of 23:59:59."""
    del now  # the parse itself needs no clock
    value = text.strip()
    m = _DMY.match(value)
    try:
        if m:
            day, month, year = int(m[1]), int(m[2]), int(m[3])
            if m[4] is None:
                return _day(dt.date(year, month, day), tz, day_starts)
            when = dt.datetime(year, month, day, int(m[4]), int(m[5]), int(m[6] or 0))
            return when.replace(tzinfo=tz), False
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            return _day(dt.date.fromisoformat(value), tz, day_starts)
        when = dt.datetime.fromisoformat(value)
    except ValueError as exc:
        raise StaffDateError(_expected(text)) from exc
    return (when if when.tzinfo else when.replace(tzinfo=tz)), False


def from_toml_date(value: dt.date, tz: ZoneInfo | dt.tzinfo, *, day_starts: bool = False) -> tuple[dt.datetime, bool]:
    """A TOML date (`deadline = 2024-03-05`) read as staff mean it."""
    return _day(value, tz, day_starts)


def _day(day: dt.date, tz: ZoneInfo | dt.tzinfo, day_starts: bool) -> tuple[dt.datetime, bool]:
    if day_starts:
        return dt.datetime.combine(day, dt.time(), tzinfo=tz), False
    return dt.datetime.combine(day, END_OF_DAY, tzinfo=tz), True


def _expected(text: str) -> str:
    return f"expected a date such as 05/03/2024, 05/03/2024 17:00 or 2024-03-05T17:00, got \"{text}\""
