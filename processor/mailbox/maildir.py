"""A Maildir read-only: every message in new/ and cur/, whatever its flags.

Staff may read the same Maildir with a mail client, which moves files from
new/ to cur/ and appends flags to their names; the part of the name before
'':' stays, so that is the key. intake never moves, renames or flags a file.

New mail first: while a backlog is handed out, new/ is listed again every
`news_every` seconds and what arrived since the round began is handed out
before the rest. The ledger alone says what was read (there is no folder
state), so a crash mid-round leaves every unread file to the next round.
"""
from __future__ import annotations

import datetime as dt
import email.parser
import email.policy
import logging
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from intake.parsers.email import header_block, topmost_received_at
from intake.parsers.errors import MailboxError
from intake.processor.i18n import _
from intake.processor.mailbox.base import NEWS_EVERY, Ledger, MailboxItem

log = logging.getLogger(__name__)
FOLDER = "INBOX"


def received_time(raw: bytes, mtime: float) -> dt.datetime:
    """SPEC: the topmost Received: date, else the file's mtime."""
    headers = email.parser.BytesHeaderParser(policy=email.policy.compat32).parsebytes(header_block(raw))
    when = topmost_received_at(headers)
    return when if when is not None else dt.datetime.fromtimestamp(mtime, dt.UTC)


class MaildirMailbox:
    def __init__(self, path: Path, since: dt.date | None = None, news_every: float = NEWS_EVERY) -> None:
        self.path = path
        self._news_every = news_every
        self.identity = f"maildir:{path.resolve()}"
        self.since = dt.datetime.combine(since, dt.time(), tzinfo=dt.UTC) if since else None
        self.backlog: int | None = None  # items not in the ledger at the start of fetch_new (progress)

    def _files(self) -> Iterator[Path]:
        if not (self.path / "cur").is_dir() and not (self.path / "new").is_dir():
            raise MailboxError(_("{path} is not a Maildir (no cur/ or new/ folder)", path=self.path))
        for sub in ("new", "cur"):
            folder = self.path / sub
            if folder.is_dir():
                yield from sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))

    def fetch_new(self, ledger: Ledger) -> Iterator[MailboxItem]:
        seen = ledger.seen_keys(self.identity, FOLDER, 0)
        files = [f for f in self._files() if _key(f) not in seen]
        self.backlog = len(files)
        listed = {_key(f) for f in files}
        looked = time.monotonic()
        for file_ in files:
            yield from self._read(ledger, file_, seen)
            if time.monotonic() - looked >= self._news_every:
                news = [f for f in self._arrivals() if _key(f) not in listed and _key(f) not in seen]
                listed.update(_key(f) for f in news)
                for fresh in news:
                    yield from self._read(ledger, fresh, seen)
                looked = time.monotonic()

    def _arrivals(self) -> list[Path]:
        folder = self.path / "new"
        if not folder.is_dir():
            return []
        return sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))

    def _read(self, ledger: Ledger, file_: Path, seen: set[str]) -> Iterator[MailboxItem]:
        """The file's item (none when it vanished, was read already or is older than `since`)."""
        key = _key(file_)
        if key in seen:
            return
        try:
            raw = file_.read_bytes()
            mtime = file_.stat().st_mtime
        except FileNotFoundError:
            # A mail client renamed it between listing and reading: find it again.
            moved = self._find(key)
            if moved is None:
                log.warning("maildir message %s vanished before it was read", key)
                return
            raw, mtime = moved.read_bytes(), moved.stat().st_mtime
        seen.add(key)
        received = received_time(raw, mtime)
        if self.since is not None and received < self.since:
            ledger.record_seen(self.identity, FOLDER, 0, key)  # [mailbox] since: never read again
            return
        yield MailboxItem(folder=FOLDER, uidvalidity=0, key=key, received_at=received, raw=raw)

    def _find(self, key: str) -> Path | None:
        for file_ in self._files():
            if _key(file_) == key:
                return file_
        return None

    def probe(self) -> str:
        """For check-config: the Maildir exists and how many messages it holds."""
        return _("Maildir {path}: {count} message(s)", path=self.path, count=sum(1 for _f in self._files()))

    def after_stored(self, item: MailboxItem) -> None:
        """A Maildir is never changed: the ledger alone remembers."""

    def flush_after(self) -> None:
        """Nothing queued: a Maildir is never changed."""

    @property
    def idle_supported(self) -> bool:
        """A Maildir announces nothing: the daemon polls it every `poll_every` seconds."""
        return False

    def idle_wait(self, seconds: float, stop: threading.Event) -> bool:
        """No news to wait for: sleeps (unless stopped) and says nothing arrived."""
        stop.wait(seconds)
        return False

    def close(self) -> None:
        """Nothing to release."""


def _key(file_: Path) -> str:
    """The part of a Maildir name a mail client keeps when it moves the file or adds flags."""
    return file_.name.split(":", 1)[0]
