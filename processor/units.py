"""A unit of the roster, as the config or staff define it.

Its own module so that the config (`[[units]]`, `units_file`) and the roster's
.csv/.xlsx reader (roster_file.py) both build it without importing each other.
"""
from __future__ import annotations

from dataclasses import dataclass

from intake.store.kinds import Source


@dataclass(frozen=True)
class UnitConfig:
    id: str
    name: str
    aliases: tuple[str, ...] = ()
    emails: tuple[str, ...] = ()
    group: str = ""
    source: Source = Source.CONFIG   # from the config (read-only in the store) or staff's
