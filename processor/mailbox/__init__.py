"""Mailbox adapters: where raw messages come from (Maildir, IMAP)."""
from __future__ import annotations

from intake.processor.config import ImapConfig, MailboxConfig
from intake.processor.mailbox.base import Ledger, Mailbox, MailboxItem

__all__ = ["Ledger", "Mailbox", "MailboxItem", "open_mailbox"]


def open_mailbox(cfg: MailboxConfig) -> Mailbox:
    """The one factory for mailbox adapters, so tests can swap it."""
    if isinstance(cfg, ImapConfig):
        from intake.processor.mailbox.imap import ImapMailbox

        return ImapMailbox(cfg)
    from intake.processor.mailbox.maildir import MaildirMailbox

    return MaildirMailbox(cfg.path, since=cfg.since)
