"""What intake writes to its log: key=value lines that grep and journald can search.

- one INFO line per message processed (reference, unit, status, section, problems, acknowledgement);
- one line when the daemon starts (version, mailbox, store) and one when it stops;
- third-party libraries' debug chatter (mail-parser, imapclient, ...) stays off
  unless asked for with `-vv`; `-v` is intake's own debug lines only.

Never a message body, a subject, an attachment's content or a secret: the
line names the message by its reference and its sender's address only.
"""
from __future__ import annotations

import logging
import sys
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version

from intake.processor.config import CampaignConfig, Config
from intake.store.db import STORE_LIBRARY_LOGGERS, shown_url
from intake.store.repository import Store
from intake.store.summary import MessageSummary, message_summary

log = logging.getLogger("intake")
# Loggers of libraries that are chatty at DEBUG (mail-parser logs every header it decodes).
# The store's libraries are named by the store (the only place that knows them).
NOISY = ("mailparser", "imapclient", "asyncio", "urllib3", "charset_normalizer", "schedule", "docx", "PIL", "mail",
         *STORE_LIBRARY_LOGGERS)


def intake_version() -> str:
    try:
        return version("intake")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "unknown"


def setup_logging(verbosity: int, quiet: bool) -> None:
    """verbosity 0: INFO; 1 (-v): intake's DEBUG, libraries at WARNING; 2 (-vv): everything at DEBUG."""
    level = logging.WARNING if quiet else logging.DEBUG if verbosity else logging.INFO
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    library_level = logging.DEBUG if verbosity >= 2 else max(level, logging.WARNING)
    for name in NOISY:
        logging.getLogger(name).setLevel(library_level)


def _value(text: object) -> str:
    """A value safe in key=value: no spaces, no quotes, never empty."""
    out = str(text).replace(" ", "_").replace("\"", "'").replace("\n", "_") if text not in (None, "") else "-"
    return out[:120]


def log_start(cfg: Config, mode: str) -> None:
    box = cfg.mailbox
    mailbox = (f"maildir:{box.path}" if box.kind == "maildir"
               else f"imap:{box.username}@{box.host}:{box.port}/{box.folder}")
    log.info("start version=%s mode=%s config=%s mailbox=%s store=%s files=%s", intake_version(), mode,
             _value(cfg.path), _value(mailbox), _value(shown_url(cfg.store.url)), _value(cfg.store.files_dir))


def log_stop(mode: str, reason: str) -> None:
    log.info("stop version=%s mode=%s reason=%s", intake_version(), mode, _value(reason))


def log_message(store: Store, message_pk: int, campaigns: Sequence[CampaignConfig],
                summary: MessageSummary | None = None) -> None:
    """The one line for a processed message (after its transaction committed); `campaigns` the
    catalog's; `summary` when the caller has it, else it is read from the store."""
    if not log.isEnabledFor(logging.INFO):
        return
    m = summary if summary is not None else message_summary(store, message_pk)
    if m is None:
        return
    deadline = next((c.deadline for c in campaigns if c.id == m.campaign_id), None)
    if m.state in ("ignored", "failed"):
        status = m.state
    elif m.unit_id is None:
        status = "unmatched"
    elif not m.has_report:
        status = "no_report"
    else:  # against the campaign's deadline; a staff extension may still turn "late" into on time
        status = "late" if deadline is not None and m.received_at >= deadline else "on_time"
    section = "none" if m.section_found is None else "found" if m.section_found else "not_found"
    ack = "none" if m.ack_state is None else "queued" if m.ack_state == "pending" else m.ack_state
    log.info("message ref=%s from=%s unit=%s campaign=%s status=%s match=%s section=%s problems=%s ack=%s",
             _value(m.reference or f"#{message_pk}"), _value(m.from_address), _value(m.unit_id),
             _value(m.campaign_id), status, m.match, section, ",".join(m.problems) or "-", ack)
