"""The whole pipeline on the project's corpora, as one comparable record per corpus (tests/golden/pipeline/).

Each corpus is a Maildir run end to end (`App.run_once`: the Maildir, the
store, outbox sending) on a fixed clock; the record holds, for each expected
unit, its status, the latest report's section (heading, a SHA-256 of its
text, figures, confidence), problems; for each message its outcome
(attributed to a unit, unmatched, or ignored with the reason) and its
acknowledgement's headers (To, Subject, In-Reply-To, References,
Auto-Submitted; not Date or Message-ID). tests/test_golden_pipeline.py
compares a fresh run with the committed file; a difference is a behaviour
change that the commit causing it accepts on purpose:

    .venv/bin/python scripts/update_golden.py            # every corpus
    .venv/bin/python scripts/update_golden.py examples   # one

Corpora: `examples` (examples/maildir with config.example.toml's roster),
`mail_shapes` (tests/fixtures/mail: real clients' shapes), `documents` (each
tests/corpus document mailed by a unit of its own).
"""
from __future__ import annotations

import datetime as dt
import difflib
import email.parser
import email.policy
import hashlib
import json
import sys
import tomllib
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

TESTS = Path(__file__).resolve().parent.parent
ROOT = TESTS.parent
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))

from golden.make_acks import EX  # noqa: E402  (scripts/make_examples.py)
from sqlalchemy import select  # noqa: E402

from intake.processor.app import App, open_store  # noqa: E402
from intake.processor.config import Config, parse_config  # noqa: E402
from intake.processor.staff.report import status_json  # noqa: E402
from intake.store.models import Message, MessageState, Outgoing, OutgoingKind  # noqa: E402

GOLDEN = TESTS / "golden" / "pipeline"
CLOCK = dt.datetime(2024, 3, 2, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=7)))
EXAMPLE_CONFIG = ROOT / "config.example.toml"
MAIL_SHAPES = TESTS / "fixtures" / "mail"
DOCUMENTS = TESTS / "corpus" / "docs"
UPDATE_HINT = ("accept it on purpose, in the commit that causes it: .venv/bin/python scripts/update_golden.py {name}"
               " (then review `git diff tests/golden/pipeline/`)")
ACK_HEADERS = ("To", "Subject", "In-Reply-To", "References", "Auto-Submitted")


def _example_settings() -> dict[str, Any]:
    return tomllib.loads(EXAMPLE_CONFIG.read_text(encoding="utf-8"))


def _config(tmp: Path, **roster: Any) -> Config:
    example = _example_settings()
    data = {"timezone": "Asia/Ho_Chi_Minh", "isolate_parsing": False,
            "store": {"url": f"sqlite:///{tmp / 'intake.db'}", "files_dir": str(tmp / "files")},
            "mailbox": {"kind": "maildir", "path": str(tmp / "maildir")},
            "sending": {**example["sending"], "outbox_dir": str(tmp / "outbox")},
            "acknowledge": example["acknowledge"], "campaigns": example["campaigns"], **roster}
    return parse_config(data, tmp / "intake.toml", {})


def _maildir(tmp: Path, messages: dict[str, bytes]) -> None:
    for sub in ("new", "cur", "tmp"):
        (tmp / "maildir" / sub).mkdir(parents=True, exist_ok=True)
    for name, raw in messages.items():
        (tmp / "maildir" / ("cur" if ":2," in name else "new") / name).write_bytes(raw)


def examples(tmp: Path) -> Config:
    folder = ROOT / "examples" / "maildir"
    _maildir(tmp, {p.name: p.read_bytes() for p in sorted([*folder.glob("cur/*"), *folder.glob("new/*")])})
    return _config(tmp, units=_example_settings()["units"])


def mail_shapes(tmp: Path) -> Config:
    _maildir(tmp, {p.name: p.read_bytes() for p in sorted(MAIL_SHAPES.glob("*.eml"))})
    return _config(tmp, units_file=str(MAIL_SHAPES / "units.csv"))


DOC_TYPES = {".docx": EX.DOCX_TYPE, ".doc": "application/msword"}
LIBREOFFICE_SUFFIXES = (".doc",)  # the corpus documents only LibreOffice reads (the slow tier's)


def _documents() -> list[tuple[int, Path]]:
    """The corpus documents, each with its number (its unit's and message's)."""
    return list(enumerate(sorted(p for p in DOCUMENTS.iterdir() if p.suffix in DOC_TYPES), start=1))


def documents(tmp: Path, *, libreoffice: bool = True) -> Config:
    """Each corpus document mailed (Gmail-like, make_examples' `mail`) by a unit registered for it alone;
    without `libreoffice`, those LibreOffice reads left out (their units too: the others keep their numbers)."""
    units, messages = [], {}
    for n, path in _documents():
        if not libreoffice and path.suffix in LIBREOFFICE_SUFFIXES:
            continue
        sender = f"donvi{n:02d}@corpus.laocai.gov.vn"
        units.append({"id": f"doc-{path.stem}", "name": f"Đơn vị mẫu {n:02d}", "emails": [sender]})
        messages[f"17090{n:05d}.M{n}P1.corpus"] = EX.mail(
            sender=sender, name=f"Đơn vị mẫu {n:02d}", subject=f"Báo cáo chuyên đề 2024 - mẫu {n:02d}",
            received=f"Tue, 27 Feb 2024 {8 + n // 60:02d}:{n % 60:02d}:00 +0700", msgid=f"CORPUS{n:04d}",
            body="Kính gửi Ban Tuyên giáo - Nữ công, đơn vị gửi báo cáo.",
            attachments=[(path.name, path.read_bytes(), DOC_TYPES[path.suffix])])
    _maildir(tmp, messages)
    return _config(tmp, units=units)


CORPORA: dict[str, Callable[[Path], Config]] = {"examples": examples, "mail_shapes": mail_shapes,
                                                "documents": documents}


def without_libreoffice(record: dict[str, Any]) -> dict[str, Any]:
    """Corpus `documents`' record without the units and messages of the documents LibreOffice reads (each
    unit's outcome is its own message's: the others' records are the same with or without them)."""
    left_out = [(f"doc-{path.stem}", f"<CORPUS{n:04d}@") for n, path in _documents()
                if path.suffix in LIBREOFFICE_SUFFIXES]
    units, ids = {unit for unit, _ in left_out}, tuple(prefix for _, prefix in left_out)
    return {**record, "units": {k: v for k, v in record["units"].items() if k not in units},
            "messages": [m for m in record["messages"] if not m["message_id"].startswith(ids)]}


def run_corpus(name: str, tmp: Path, build: Callable[[Path], Config] | None = None) -> dict[str, Any]:
    """The corpus `name` through the pipeline in `tmp` (built by `build`, else as CORPORA says): its record
    (see the module's doc)."""
    cfg = (build or CORPORA[name])(tmp)
    app = App(cfg, open_store(cfg), clock=lambda: CLOCK)
    try:
        app.run_once()
        status = status_json(app.status(None), cfg.timezone)
        with app.store.session() as s:
            messages = list(s.scalars(select(Message).order_by(Message.message_id)))
            acks = {o.message_pk: o for o in s.scalars(select(Outgoing).where(Outgoing.kind == OutgoingKind.ACK))}
            unmatched = {m["message_id"] for m in status["unmatched"]}
            return {"corpus": name, "units": {u["id"]: _unit(u) for u in status["units"]},
                    "messages": [_message(m, unmatched, acks.get(m.id)) for m in messages]}
    finally:
        app.store.close()


def _unit(unit: dict[str, Any]) -> dict[str, Any]:
    latest = unit["latest"]
    out: dict[str, Any] = {"status": unit["status"], "submissions": unit["submissions"]}
    if latest is None:
        return out
    section = latest["section"] or {}
    text = section.get("text")
    out["latest"] = {
        "message_id": latest["message_id"], "attachment": latest["attachment"], "problems": latest["problems"],
        "section": {"found": section.get("found"), "heading": section.get("heading"),
                    "text_sha256": hashlib.sha256(text.encode("utf-8")).hexdigest() if text else None,
                    "figures": section.get("figures"), "confidence": section.get("confidence")},
    }
    return out


def _message(m: Message, unmatched: set[str], ack: Outgoing | None) -> dict[str, Any]:
    if m.unit_id is not None:
        outcome: dict[str, Any] = {"outcome": "attributed", "unit": m.unit_id}
    elif m.state == MessageState.IGNORED and m.ignore_reason:
        outcome = {"outcome": "ignored", "reason": m.ignore_reason}
    elif m.message_id in unmatched:
        outcome = {"outcome": "unmatched"}
    else:
        outcome = {"outcome": "none", "state": m.state.value, "error": m.error}  # the invariant's failure
    return {"message_id": m.message_id, "state": m.state.value, **outcome, "problems": list(m.problems),
            "ack": _ack_headers(ack.raw) if ack is not None else None,
            "ack_state": ack.state.value if ack is not None else None}


def _ack_headers(raw: bytes) -> dict[str, str]:
    """The acknowledgement's headers: To and Subject as a reader sees them, the ids as written."""
    written = email.parser.BytesHeaderParser(policy=email.policy.compat32).parsebytes(raw)
    read = email.parser.BytesParser(policy=email.policy.default).parsebytes(raw)
    out = {}
    for name in ACK_HEADERS:
        value = read[name] if name in ("To", "Subject") else written[name]
        out[name] = " ".join(str(value).split()) if value is not None else ""
    return out


def invariant_failures(record: dict[str, Any]) -> list[str]:
    """Messages that end neither attributed, nor unmatched, nor ignored with a reason (SPEC: never)."""
    return [f"{m['message_id']}: {m['state']} {m.get('error') or ''}".strip()
            for m in record["messages"] if m["outcome"] == "none"]


def render(record: dict[str, Any]) -> str:
    return json.dumps(record, ensure_ascii=False, indent=1, sort_keys=True) + "\n"


def golden_path(name: str) -> Path:
    return GOLDEN / f"{name}.json"


def diff(name: str, fresh: str) -> str:
    """A readable diff of the committed record against `fresh`, empty when they agree."""
    path = golden_path(name)
    committed = path.read_text(encoding="utf-8") if path.exists() else ""
    lines = difflib.unified_diff(committed.splitlines(keepends=True), fresh.splitlines(keepends=True),
                                 fromfile=f"{path.relative_to(ROOT)} (committed)", tofile="fresh run")
    return "".join(lines)


def summary(record: dict[str, Any]) -> str:
    """One line per corpus for people: units by status and section, messages by outcome, acknowledgements."""
    units = record["units"].values()
    by_status = Counter(u["status"] for u in units)
    sections = Counter(_section_outcome(u) for u in units if "latest" in u)
    outcomes = Counter(m["outcome"] for m in record["messages"])
    acks = sum(1 for m in record["messages"] if m["ack"] is not None)
    failed = sum(1 for u in units if "processing_failed" in u.get("latest", {}).get("problems", []))
    parts = [
        f"{record['corpus']}: {len(units)} units ({_counts(by_status)})",
        f"sections ({_counts(sections)})",
        f"{len(record['messages'])} messages ({_counts(outcomes)})",
        f"{acks} acknowledgements", f"{failed} processing_failed",
    ]
    return "; ".join(parts)


def _section_outcome(unit: dict[str, Any]) -> str:
    section = unit["latest"]["section"]
    if section["found"] is None:
        return "no report"
    found = "found" if section["found"] else "not found"
    return f"{found}/{section['confidence']}"


def _counts(counter: Counter[str]) -> str:
    return ", ".join(f"{key} {n}" for key, n in sorted(counter.items())) or "none"
