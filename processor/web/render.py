"""Templates of the dashboard (templates/web/) and the filters they use.

What staff read is Vietnamese; times are shown in the configured zone as
dd/mm/yyyy HH:MM. Autoescaping is always on: every value shown comes from
a sender or a document.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from importlib.resources import files
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from intake.processor.staff.formatting import FIGURE_TITLES
from intake.processor.staff.report import PROBLEM_VI, STATE_VI
from intake.processor.staff.text import CONFIDENCE_VI, KIND_VI, MATCH_VI, MESSAGE_STATE_VI, OUTGOING_VI
from intake.processor.times import deadline_time, local_time
from intake.store.kinds import CATALOG_KINDS, UnitState

STATE_CLASS = {UnitState.MISSING: "missing", UnitState.ON_TIME: "on-time", UnitState.LATE: "late",
               UnitState.EXCUSED: "excused"}


def decision_vi(kind: object) -> str:
    """A decision's kind as a label (capitalised `KIND_VI`)."""
    words = KIND_VI.get(str(kind), str(kind))
    return words[:1].upper() + words[1:]


@dataclass(frozen=True)
class TextBlock:
    """A piece of an extracted section: a paragraph (rows empty) or a table."""

    text: str = ""
    rows: tuple[tuple[str, ...], ...] = ()


def section_blocks(text: str) -> list[TextBlock]:
    """The section's text as paragraphs and tables: table rows are lines with tab-separated cells."""
    out: list[TextBlock] = []
    pending: list[tuple[str, ...]] = []

    def flush() -> None:
        if len(pending) == 1:
            out.append(TextBlock(text="  ".join(c for c in pending[0] if c)))
        elif pending:
            width = max(len(r) for r in pending)
            out.append(TextBlock(rows=tuple(tuple(r) + ("",) * (width - len(r)) for r in pending)))
        pending.clear()

    for line in text.splitlines():
        if "\t" in line:
            pending.append(tuple(c.strip() for c in line.split("\t")))
            continue
        flush()
        if line.strip():
            out.append(TextBlock(text=line.strip()))
    flush()
    return out


def file_size(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size / 1024 / 1024:.1f} MB".replace(".", ",")


def figure(value: Any) -> str:
    """Vietnamese number style: 1.250 and 99,3."""
    if isinstance(value, bool) or value is None:
        return ""
    if isinstance(value, int):
        return f"{value:,}".replace(",", ".")
    if isinstance(value, float):
        return f"{value:,.1f}".replace(",", " ").replace(".", ",").replace(" ", ".")
    return str(value)


def environment(tz: ZoneInfo, group_label: Callable[[str], str] = str) -> Environment:
    """`group_label`: how a unit's group code reads (Config.group_label: [groups], else "Huyện", "Ngành"...)."""
    env = Environment(loader=FileSystemLoader(str(files("intake.templates") / "web")), autoescape=True,
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["local"] = lambda when: local_time(when, tz)
    env.filters["deadline"] = lambda when: deadline_time(when, tz)
    env.filters["group_label"] = group_label
    env.filters["state_vi"] = lambda state: STATE_VI.get(UnitState(state), str(state))
    env.filters["state_class"] = lambda state: STATE_CLASS.get(UnitState(state), "")
    env.filters["problem_vi"] = lambda code: PROBLEM_VI.get(code, code)
    env.filters["decision_vi"] = decision_vi
    env.globals["catalog_kinds"] = CATALOG_KINDS  # changes of the roster or campaigns: not revoked
    env.filters["confidence_vi"] = lambda c: CONFIDENCE_VI.get(str(c), str(c))
    env.filters["figure_vi"] = lambda key: FIGURE_TITLES.get(key, key)
    env.filters["match_vi"] = lambda m: MATCH_VI.get(str(m), str(m))
    env.filters["message_state_vi"] = lambda m: MESSAGE_STATE_VI.get(str(m), str(m))
    env.filters["outgoing_vi"] = lambda m: OUTGOING_VI.get(str(m), str(m))
    env.filters["number"] = figure
    env.filters["size"] = file_size
    env.filters["blocks"] = section_blocks
    return env
