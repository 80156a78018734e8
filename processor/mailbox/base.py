"""What every mailbox adapter hands the pipeline, and what it may ask the store."""
from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class MailboxItem:
    """One message as the mailbox holds it.

    (mailbox identity, folder, uidvalidity, key) names it in the ledger; for a
    Maildir uidvalidity is 0 and key the file's unique name.
    """

    folder: str
    uidvalidity: int
    key: str
    received_at: dt.datetime
    raw: bytes


# Seconds between two looks for new arrivals while a backlog is handed out (new mail first).
NEWS_EVERY = 0.5


class Ledger(Protocol):
    """The store's record of what each mailbox folder has already yielded."""

    def seen_keys(self, mailbox: str, folder: str, uidvalidity: int) -> set[str]: ...

    def folder_state(self, mailbox: str, folder: str) -> tuple[int, int] | None:
        """(uidvalidity, highest uid seen), None on first contact."""
        ...

    def set_folder_state(self, mailbox: str, folder: str, uidvalidity: int, last_uid: int) -> None: ...

    def record_seen(self, mailbox: str, folder: str, uidvalidity: int, key: str) -> None:
        """Remember an item looked at but not stored (e.g. over the size cap)."""
        ...


class Mailbox(Protocol):
    """Every capability the daemon and `check-config` use: no adapter is probed with getattr."""

    identity: str  # stable name of the mailbox in the ledger, e.g. "imap:user@host:993"

    def fetch_new(self, ledger: Ledger) -> Iterator[MailboxItem]:
        """Yield items not yet in the ledger. No server command is left open
        while an item is yielded, so the caller may call `after_stored`."""
        ...

    def after_stored(self, item: MailboxItem) -> None:
        """Queue the configured `after` action; called once the raw is committed, in the order
        the items were yielded. Only then may the folder's state pass the item: a caller may
        read items ahead, and an item yielded but never stored must be yielded again."""
        ...

    def flush_after(self) -> None:
        """Apply the `after` actions queued so far; the caller records them as done only after this."""
        ...

    @property
    def idle_supported(self) -> bool:
        """Whether `idle_wait` can wait for the server's news (IMAP IDLE); else the daemon polls."""
        ...

    def idle_wait(self, seconds: float, stop: threading.Event) -> bool:
        """Wait up to `seconds` (or until `stop`) for new mail; True when the server announced some."""
        ...

    def probe(self) -> str:
        """For check-config: reach the mailbox and say what is there, in one line; MailboxError if not."""
        ...

    def close(self) -> None: ...
