"""How a time reads to people: the one owner of date and time formatting.

Times are stored in UTC and shown in the configured zone, the time before
the date everywhere: "17:00 05/03/2024" in tables, the CLI and the dashboard;
"17 giờ 00 phút, ngày 05/03/2024" in documents and letters (Decree 30 prose).
A deadline that is the end of a day reads as that day: 00:00 on the 29th is
"hết ngày 28/02/2024" (staff read "00:00 29/02" as the 29th), and so is
23:59 on the 28th (a date typed without a time).
"""
from __future__ import annotations

import datetime as dt

DATE = "%d/%m/%Y"
END_OF = {"vi": "hết ngày {date}", "en": "end of {date}"}
PROSE = {"vi": "{t:%H} giờ {t:%M} phút, ngày {t:%d/%m/%Y}", "en": "{day} {t:%B %Y, %H:%M}"}
PROSE_DATE = {"vi": "{t:%d/%m/%Y}", "en": "{day} {t:%B %Y}"}


VIETNAM_ZONES = ("Asia/Ho_Chi_Minh", "Asia/Saigon")


def zone_label(when: dt.datetime) -> str:
    """'GMT+7' for Asia/Ho_Chi_Minh: the zone the times are shown in, named as offices write it."""
    offset = when.utcoffset() or dt.timedelta()
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    hours, rest = divmod(abs(minutes), 60)
    return f"GMT{sign}{hours}" + (f":{rest:02d}" if rest else "")


def zone_words(tz: dt.tzinfo, now: dt.datetime) -> str:
    """'giờ Việt Nam (GMT+7)' for Asia/Ho_Chi_Minh; 'giờ GMT+9' elsewhere: never 'Asia/Ho_Chi_Minh'."""
    label = zone_label(now.astimezone(tz))
    return f"giờ Việt Nam ({label})" if str(tz) in VIETNAM_ZONES else f"giờ {label}"


def local_time(when: dt.datetime | None, tz: dt.tzinfo | None, *, seconds: bool = False) -> str:
    """'09:12 26/02/2024' in `tz` ('' for None); `seconds`: '09:12:05 26/02/2024'."""
    if when is None:
        return ""
    local = when.astimezone(tz)
    return local.strftime(f"%H:%M{':%S' if seconds else ''} {DATE}")


def day_it_ends(when: dt.datetime, tz: dt.tzinfo | None) -> dt.date | None:
    """The day a deadline closes when it is the end of a day (00:00 closes the day before; 23:59 that day)."""
    local = when.astimezone(tz)
    if local.time() == dt.time(0, 0):
        return local.date() - dt.timedelta(days=1)
    if local.time() >= dt.time(23, 59):
        return local.date()
    return None


def deadline_time(when: dt.datetime | None, tz: dt.tzinfo | None, language: str = "vi") -> str:
    """A deadline, compact: 'hết ngày 28/02/2024', else '17:00 05/03/2024'."""
    if when is None:
        return ""
    day = day_it_ends(when, tz)
    return END_OF[language].format(date=day.strftime(DATE)) if day else local_time(when, tz)


def prose_time(when: dt.datetime, tz: dt.tzinfo | None, language: str = "vi") -> str:
    """For letters and documents: '12 giờ 56 phút, ngày 26/11/2026'."""
    local = when.astimezone(tz)
    return PROSE[language].format(t=local, day=local.day)


def prose_deadline(when: dt.datetime, tz: dt.tzinfo | None, language: str = "vi") -> str:
    """A deadline in letters and documents: 'hết ngày 28/02/2024', else as `prose_time`."""
    day = day_it_ends(when, tz)
    if day is None:
        return prose_time(when, tz, language)
    return END_OF[language].format(date=PROSE_DATE[language].format(t=day, day=day.day))
