"""What every export shows: Vietnamese numbers and text safe for its format.

One owner for number formatting (docx, xlsx, html and csv all call these):
thousands with a dot, decimals with a comma (1.234; 98,5%). And one owner for
making a stranger's text (a file name, a subject, a display name, a section)
safe where it lands: XML 1.0 characters only for docx/xlsx/html, and no
spreadsheet formula in a CSV cell.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

# Characters XML 1.0 forbids (C0 controls but tab/LF/CR, lone surrogates,
# U+FFFE/U+FFFF), plus DEL and the C1 controls, which no office text holds.
_NOT_XML = re.compile("[^\t\n\r\u0020-\u007e\u00a0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
REPLACEMENT = "\ufffd"
# A CSV cell starting with one of these is read as a formula by Excel/LibreOffice.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def xml_safe(text: str | None) -> str:
    """Text safe for XML 1.0 (docx, xlsx, html): forbidden characters become U+FFFD."""
    return _NOT_XML.sub(REPLACEMENT, text or "")


def one_line(text: str | None) -> str:
    """`xml_safe`, with line breaks and tabs folded into single spaces (names, subjects)."""
    return " ".join(xml_safe(text).split())


def csv_cell(text: str) -> str:
    """A cell that a spreadsheet shows as text, never evaluates (OWASP: prefix a quote)."""
    text = xml_safe(text)
    return f"'{text}" if text.startswith(FORMULA_START) else text


def vn_int(value: Any) -> str:
    """1234 -> '1.234'; None -> ''."""
    if value is None or value == "":
        return ""
    return f"{int(value):,}".replace(",", ".")


def vn_number(value: Any, decimals: int = 1) -> str:
    """98.5 -> '98,5'; 100.0 -> '100'; 1234.5 -> '1.234,5'."""
    if value is None or value == "":
        return ""
    if isinstance(value, int) and not isinstance(value, bool):
        return vn_int(value)
    text = f"{float(value):,.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text.replace(",", " ").replace(".", ",").replace(" ", ".")


def vn_percent(value: Any) -> str:
    """98.7 -> '98,7%'."""
    text = vn_number(value)
    return f"{text}%" if text else ""


FIGURE_KEYS = ("participants", "members", "rate_percent", "sessions")
FIGURE_TITLES = {"participants": "Số tham gia học tập", "members": "Tổng số đoàn viên",
                 "rate_percent": "Tỷ lệ (%)", "sessions": "Số buổi/hội nghị"}


def figures_sentence(figures: Mapping[str, Any]) -> str:
    """'Số liệu: 1.241/1.250 đoàn viên tham gia học tập, đạt 99,3%, 14 buổi/hội nghị.'"""
    parts = []
    participants, members = figures.get("participants"), figures.get("members")
    if participants is not None and members is not None:
        parts.append(f"{vn_int(participants)}/{vn_int(members)} đoàn viên tham gia học tập")
    elif participants is not None:
        parts.append(f"{vn_int(participants)} đoàn viên tham gia học tập")
    elif members is not None:
        parts.append(f"tổng số {vn_int(members)} đoàn viên")
    if figures.get("rate_percent") is not None:
        parts.append(f"đạt {vn_percent(figures['rate_percent'])}")
    if figures.get("sessions") is not None:
        parts.append(f"{vn_int(figures['sessions'])} buổi/hội nghị")
    return f"Số liệu: {', '.join(parts)}." if parts else ""


def lower_first(text: str) -> str:
    """'Báo cáo kết quả ...' -> 'báo cáo kết quả ...' inside a sentence; acronyms (LĐLĐ) kept."""
    if len(text) > 1 and text[0].isupper() and not text[1].isupper():
        return text[0].lower() + text[1:]
    return text


def sentence(*clauses: str) -> str:
    """Clauses joined with '; ' and closed with one full stop, whatever they end with.

    Clauses may hold several, already joined with '; '; all but the first start in lower case.
    """
    parts = [p.strip().rstrip(".;,") for c in clauses if c for p in c.split("; ")]
    kept = [p for p in parts if p]
    return "; ".join([kept[0], *(lower_first(p) for p in kept[1:])]) + "." if kept else ""
