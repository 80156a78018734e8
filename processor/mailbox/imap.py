"""IMAP mailbox (Gmail is the common case) with imapclient.

Staff read the same mailbox in Gmail or a phone app, so `\\Seen` says nothing
about what intake has processed: messages are never selected by UNSEEN and
always fetched with BODY.PEEK[], which leaves `\\Seen` alone. What intake has
looked at lives in the store's ledger: (folder, UIDVALIDITY, UID) of every
message, stored or skipped, plus the highest UID handled. A changed
UIDVALIDITY means a full rescan; the store recognises messages it already has
by Message-ID + content hash, so nothing is submitted or acknowledged twice.

Bodies are fetched in batches bounded by total size, and a batch is fully read
before its messages are handed out, so the caller may send commands (the
`after` action) between messages.

New mail first: while a backlog is handed out, a UID SEARCH above the highest
UID known every `news_every` seconds finds what arrived since the round began,
and that is handed out before the rest of the backlog. The folder's state (the
highest UID handled) only ever passes backlog items, which come in UID order,
so a crash mid-round leaves the rest of the backlog above it; only the round's
last item, once stored, lets it reach the highest UID of all.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import logging
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientAbortError, IMAPClientError, LoginError

from intake.parsers.errors import CredentialError, MailboxAuthError, MailboxError
from intake.processor.config import ImapConfig
from intake.processor.credentials import oauth2_token
from intake.processor.i18n import _
from intake.processor.mailbox.base import NEWS_EVERY, Ledger, MailboxItem

log = logging.getLogger(__name__)

KEYWORD = b"$IntakeProcessed"
FLAGGED = b"\\Flagged"
DELETED = b"\\Deleted"
BODY_ITEMS = [b"BODY.PEEK[]", b"INTERNALDATE"]
BATCH_BYTES = 8 * 1024 * 1024  # bodies held in memory at once (one may exceed it alone); 16 MB cost ~5 MB of peak RSS
BATCH_COUNT = 100
SIZE_CHUNK = 2000  # UIDs per RFC822.SIZE fetch: keeps command lines and responses small
MAX_MESSAGE_BYTES = 60 * 1024 * 1024  # larger messages are recorded as seen and skipped
STATE_EVERY = 50  # stored items between two writes of a folder's state
IDLE_TICK = 1.0  # seconds between looks at the stop event while in IDLE

TokenSource = Callable[[ImapConfig], str]


@dataclass(frozen=True)
class Selected:
    uidvalidity: int
    uidnext: int | None
    exists: int
    keywords: bool  # PERMANENTFLAGS has \* : the server stores keywords such as $IntakeProcessed


def _token(cfg: ImapConfig) -> str:
    return str(oauth2_token(cfg.oauth2_token_command, cfg.oauth2_token_file))


class ImapMailbox:
    def __init__(self, cfg: ImapConfig, *, token_source: TokenSource = _token,
                 ignore_capabilities: Sequence[str] = (), keyword: bytes | None = KEYWORD,
                 news_every: float = NEWS_EVERY) -> None:
        """`ignore_capabilities` hides extensions a server advertises but gets wrong; `keyword=None`
        flags with \\Flagged even where keywords are allowed. Both also let tests drive the
        fallbacks against a real server."""
        self.cfg = cfg
        self.identity = f"imap:{cfg.username}@{cfg.host}:{cfg.port}"
        self._token_source = token_source
        self._ignored = {c.upper().encode() for c in ignore_capabilities}
        self._client: IMAPClient | None = None
        self._caps: frozenset[bytes] = frozenset()
        self._selected: Selected | None = None
        self._target_ready = False
        self._keyword = keyword
        self._news_every = news_every
        self.backlog: int | None = None  # messages to fetch, known once fetch_new has listed them (progress)
        # Items yielded but not yet stored, in the order yielded, and the folder state each lets pass once
        # it is (`after_stored`): None for new mail handed out ahead of the backlog.
        self._ledger: Ledger | None = None
        self._unstored: dict[tuple[str, int, str], int | None] = {}
        self._since_state = 0
        self._after_queue: list[int] = []  # UIDs stored whose `after` waits for `flush_after`

    # -- connection -------------------------------------------------------------

    def _connect(self) -> IMAPClient:
        if self._client is not None:
            return self._client
        cfg = self.cfg
        where = f"{cfg.host}:{cfg.port}"
        with _translated(_("connecting to {where}", where=where), cfg):
            context = ssl.create_default_context(cafile=str(cfg.ca_file) if cfg.ca_file else None)
            client = IMAPClient(cfg.host, port=cfg.port, ssl=cfg.security == "ssl", ssl_context=context,
                                timeout=cfg.timeout)
        try:
            with _translated(_("STARTTLS with {where}", where=where), cfg):
                if cfg.security == "starttls":
                    client.starttls(context)
            # INTERNALDATE keeps its offset instead of becoming naive local time.
            client.normalise_times = False
            _quiet_imaplib(client)
            self._login(client)
            with _translated(_("CAPABILITY of {where}", where=where), cfg):
                self._caps = frozenset(c.upper() for c in client.capabilities()) - self._ignored
        except BaseException:
            _drop(client)
            raise
        self._client = client
        log.debug("connected to %s as %s", where, cfg.username)
        return client

    def _login(self, client: IMAPClient) -> None:
        cfg = self.cfg
        oauth = bool(cfg.oauth2_token_command or cfg.oauth2_token_file)
        try:
            secret = self._token_source(cfg) if oauth else cfg.password.value
        except CredentialError as exc:
            raise MailboxError(_("no OAuth2 token for {user}: {reason}", user=cfg.username, reason=exc)) from exc
        if not secret:
            raise MailboxAuthError(_("no password for {user}: nothing found in {source}", user=cfg.username,
                                    source=cfg.password.source))
        try:
            with _translated(_("login to {host}", host=cfg.host), cfg):
                if oauth:
                    client.oauth2_login(cfg.username, secret)
                else:
                    client.login(cfg.username, secret)
        except LoginError as exc:
            how = _("XOAUTH2 token") if oauth else _("user name or password")
            # imapclient re-raises the server's refusal as LoginError(str(error)): "b'[AUTH...] ...'";
            # the error it wraps holds the reply itself.
            raise MailboxAuthError(_("{host} refused the login of {user} ({how}): {reply}", host=cfg.host,
                                     user=cfg.username, how=how, reply=_text(exc.__context__ or exc))) from exc

    def _has(self, capability: bytes) -> bool:
        return capability in self._caps

    @property
    def idle_supported(self) -> bool:
        """IDLE is configured and the server offers it (connects if needed)."""
        self._connect()
        return self.cfg.idle and self._has(b"IDLE")

    def _select(self) -> Selected:
        client = self._connect()
        with _translated(f"selecting folder {self.cfg.folder!r}", self.cfg):
            info = client.select_folder(self.cfg.folder)
        uidnext = info.get(b"UIDNEXT")
        perm = info.get(b"PERMANENTFLAGS", ())
        self._selected = Selected(uidvalidity=int(info[b"UIDVALIDITY"]),
                                  uidnext=int(uidnext) if uidnext is not None else None,
                                  exists=int(info.get(b"EXISTS", 0)),
                                  keywords=b"\\*" in perm)
        return self._selected

    # -- fetching ---------------------------------------------------------------

    def fetch_new(self, ledger: Ledger) -> Iterator[MailboxItem]:
        folder = self.cfg.folder
        sel = self._select()
        state = ledger.folder_state(self.identity, folder)
        if state is not None and state[0] != sel.uidvalidity:
            log.warning("UIDVALIDITY of %s changed from %s to %s: rescanning the folder; messages already "
                        "stored are recognised by Message-ID and content", folder, state[0], sel.uidvalidity)
        last = state[1] if state is not None and state[0] == sel.uidvalidity else 0
        if state is not None and sel.uidnext is not None and sel.uidnext <= last + 1:
            return  # UIDNEXT unchanged: nothing new, no further command needed
        if sel.exists == 0:
            ledger.set_folder_state(self.identity, folder, sel.uidvalidity, last)
            return
        seen = ledger.seen_keys(self.identity, folder, sel.uidvalidity)
        sizes = self._sizes(last)
        todo = [(uid, size) for uid, size in sizes if str(uid) not in seen]
        self.backlog = len(todo)
        highest = max((uid for uid, _ in sizes), default=last)
        self._ledger, self._unstored, self._since_state = ledger, {}, 0
        looked = time.monotonic()
        for batch in _batches(todo):
            for item in self._fetch_batch(ledger, sel, batch):
                yield item
                if time.monotonic() - looked >= self._news_every:
                    news = self._arrivals(highest, seen)
                    highest = max((uid for uid, _ in news), default=highest)
                    for fresh in _batches(news):
                        yield from self._fetch_batch(ledger, sel, fresh, news=True)
                    looked = time.monotonic()
        if self._unstored:  # the state reaches `highest` once the last item yielded is stored
            self._unstored[next(reversed(self._unstored))] = highest
        elif state != (sel.uidvalidity, highest):
            ledger.set_folder_state(self.identity, folder, sel.uidvalidity, highest)

    def _arrivals(self, highest: int, seen: set[str]) -> list[tuple[int, int]]:
        """(uid, size) of messages above `highest` that arrived since the round began."""
        with _translated("looking for new arrivals", self.cfg):
            self._connect().noop()  # Dovecot shows a selected folder's new messages to a SEARCH only after this
        return [(uid, size) for uid, size in self._sizes(highest) if str(uid) not in seen]

    def _sizes(self, last: int) -> list[tuple[int, int]]:
        """(uid, RFC822.SIZE) of every message above `last`, by UID."""
        client = self._connect()
        with _translated("listing new messages", self.cfg):
            # imapclient's fetch() cannot take a range ("n:*"): search for the UIDs first.
            # "n:*" also matches the highest message when its UID is below n.
            criteria: list[Any] = ["UID", f"{last + 1}:*"]
            if self.cfg.since is not None:  # [mailbox] since: INTERNALDATE on or after that day
                criteria += ["SINCE", self.cfg.since]
            uids = sorted(int(u) for u in client.search(criteria) if int(u) > last)
            sizes: list[tuple[int, int]] = []
            for start in range(0, len(uids), SIZE_CHUNK):
                data = client.fetch(uids[start:start + SIZE_CHUNK], [b"RFC822.SIZE"])
                sizes.extend((int(uid), int(d.get(b"RFC822.SIZE", 0))) for uid, d in data.items())
        return sorted(sizes)

    def _fetch_batch(self, ledger: Ledger, sel: Selected, batch: list[tuple[int, int]],
                     news: bool = False) -> Iterator[MailboxItem]:
        """Yield the batch's messages; `news` (arrived during the round, above every backlog UID)
        never moves the folder's state, which would then pass backlog messages not yet stored."""
        folder, client = self.cfg.folder, self._connect()
        wanted = []
        for uid, size in batch:
            if size > MAX_MESSAGE_BYTES:
                log.warning("message UID %s in %s is %s bytes, over the %s-byte limit: skipped", uid, folder, size,
                            MAX_MESSAGE_BYTES)
                ledger.record_seen(self.identity, folder, sel.uidvalidity, str(uid))
            else:
                wanted.append(uid)
        if not wanted:
            return
        with _translated(f"fetching {len(wanted)} messages", self.cfg):
            data = client.fetch(wanted, BODY_ITEMS)
        for uid in wanted:
            got = data.pop(uid, None)  # popped: the batch's memory shrinks as items are handed out
            if got is None or b"BODY[]" not in got:
                log.info("message UID %s left %s before it was fetched", uid, folder)
                continue
            self._unstored[(folder, sel.uidvalidity, str(uid))] = None if news else uid
            yield MailboxItem(folder=folder, uidvalidity=sel.uidvalidity, key=str(uid),
                              received_at=_aware(got.get(b"INTERNALDATE")), raw=bytes(got[b"BODY[]"]))

    # -- after the raw is stored -------------------------------------------------

    def after_stored(self, item: MailboxItem) -> None:
        self._advance_state(item)
        if self.cfg.after == "none":
            return
        sel = self._selected or self._select()
        if item.folder != self.cfg.folder or item.uidvalidity != sel.uidvalidity:
            log.warning("cannot apply %r to UID %s of %s: UIDVALIDITY %s is gone (now %s)", self.cfg.after,
                        item.key, item.folder, item.uidvalidity, sel.uidvalidity)
            return
        self._after_queue.append(int(item.key))

    def flush_after(self) -> None:
        """Apply `after` to the UIDs `after_stored` queued, in one command: a round trip per message
        was a tenth of a backlog's time. Queued UIDs are dropped either way; those a failure left
        undone are applied again next round, since the caller records none of them as done."""
        uids, self._after_queue = self._after_queue, []
        if not uids:
            return
        if self.cfg.after == "flag":
            sel = self._selected or self._select()
            flag = self._keyword if self._keyword and sel.keywords else FLAGGED
            with _translated(f"flagging {_some(uids)}", self.cfg):
                self._connect().add_flags(uids, [flag], silent=True)
        else:
            self._move(uids)

    def _advance_state(self, item: MailboxItem) -> None:
        """Let the folder's state pass a stored item: every STATE_EVERY items, and at the last one.

        Written seldom because the state only saves work: after a crash the next
        round searches from the older state and the ledger skips what it has."""
        key = (item.folder, item.uidvalidity, item.key)
        if key not in self._unstored:
            return
        uid = self._unstored.pop(key)
        if uid is None or self._ledger is None:
            return
        self._since_state += 1
        if not self._unstored or self._since_state >= STATE_EVERY:
            self._ledger.set_folder_state(self.identity, item.folder, item.uidvalidity, uid)
            self._since_state = 0

    def _move(self, uids: list[int]) -> None:
        client, target = self._connect(), self.cfg.move_to
        with _translated(f"moving {_some(uids)} to {target!r}", self.cfg):
            if not self._target_ready:
                if not client.folder_exists(target):
                    log.info("creating folder %r for processed messages", target)
                    client.create_folder(target)
                    with contextlib.suppress(IMAPClientError):  # subscribing only helps mail apps show it
                        client.subscribe_folder(target)
                self._target_ready = True
            if self._has(b"MOVE"):
                client.move(uids, target)
                return
            client.copy(uids, target)
            client.add_flags(uids, [DELETED], silent=True)
            if self._has(b"UIDPLUS"):
                client.uid_expunge(uids)  # those UIDs only: staff's own \Deleted messages stay
            else:
                log.warning("server has no UIDPLUS: %s copied to %r and marked \\Deleted, not expunged",
                            _some(uids), target)

    # -- waiting ------------------------------------------------------------------

    def idle_wait(self, seconds: float, stop: threading.Event) -> bool:
        """Wait in IDLE up to `seconds` (or until `stop`) for new mail; True when the server announced some.

        imapclient's idle_check() returns [] at once, forever, once the server has
        closed the socket: an empty answer well before its timeout means a dead connection.
        """
        client = self._connect()
        if self._selected is None:
            self._select()
        with _translated("starting IDLE", self.cfg):
            client.idle()
        news = False
        deadline = time.monotonic() + seconds
        try:
            while not news and not stop.is_set():
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                tick = min(IDLE_TICK, left)
                began = time.monotonic()
                with _translated("waiting in IDLE", self.cfg):
                    responses = client.idle_check(timeout=tick)
                if not responses and time.monotonic() - began < tick / 2:
                    raise MailboxError(_("{host} closed the connection during IDLE", host=self.cfg.host))
                news = _announces_mail(responses)
        except BaseException:
            _drop(client)
            self._client = None
            raise
        with _translated("ending IDLE", self.cfg):
            _done, responses = client.idle_done()
        return news or _announces_mail(responses)

    # -- check-config and shutdown --------------------------------------------------

    def probe(self) -> str:
        """Log in, find the folder, count its messages; MailboxError with the exact reason otherwise."""
        client, folder = self._connect(), self.cfg.folder
        with _translated(_("looking up folder \"{folder}\"", folder=folder), self.cfg):
            if not client.folder_exists(folder):
                names = sorted(str(name) for _flags, _sep, name in client.list_folders())
                raise MailboxError(_("folder \"{folder}\" does not exist on {host}; folders there: {names}",
                                     folder=folder, host=self.cfg.host, names=", ".join(names) or _("(none)")))
            status = client.folder_status(folder, [b"MESSAGES"])
        count = int(status[b"MESSAGES"])
        return _("{mailbox} folder \"{folder}\": {count} message(s)", mailbox=self.identity, folder=folder,
                 count=count)

    def close(self) -> None:
        client, self._client, self._selected = self._client, None, None
        self._target_ready = False
        if client is None:
            return
        try:
            client.logout()
        except (IMAPClientError, OSError) as exc:
            log.debug("logout failed, connection dropped: %s", exc)
            _drop(client)


def _quiet_imaplib(client: IMAPClient) -> None:
    """Turn off imaplib's protocol trace unless its logger would show it.

    imapclient sets imaplib's `debug` to 5 and sends the trace to a logger. At
    that level imaplib formats the repr of every response, each whole message
    fetched included, before the logger drops it: an eighth of the main
    process's CPU went into that while reading a backlog of large reports.
    With `-vv` (the logger on) the trace stays as it was."""
    if not logging.getLogger("imapclient.imaplib").isEnabledFor(logging.DEBUG):
        client._imap.debug = 0


def _some(uids: list[int]) -> str:
    """UIDs named for a log line or an error: the first few and how many."""
    shown = ", ".join(str(u) for u in uids[:3])
    return f"UID {shown}" if len(uids) <= 3 else f"{len(uids)} messages (UID {shown}, ...)"


def _batches(todo: list[tuple[int, int]]) -> Iterator[list[tuple[int, int]]]:
    """Consecutive runs of (uid, size) whose sizes add up to at most BATCH_BYTES (at least one each)."""
    batch: list[tuple[int, int]] = []
    total = 0
    for uid, size in todo:
        if batch and (total + size > BATCH_BYTES or len(batch) >= BATCH_COUNT):
            yield batch
            batch, total = [], 0
        batch.append((uid, size))
        total += size
    if batch:
        yield batch


def _announces_mail(responses: list[Any]) -> bool:
    for resp in responses:
        if isinstance(resp, tuple) and len(resp) >= 2:
            if resp[0] == b"BYE":
                raise MailboxError(_("server ended the session: {reply}", reply=_text(resp[1])))
            if resp[1] in (b"EXISTS", b"RECENT"):
                return True
    return False


def _aware(value: object) -> dt.datetime:
    if not isinstance(value, dt.datetime):
        raise MailboxError(_("server sent no usable INTERNALDATE ({value})", value=repr(value)))
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _text(value: object) -> str:
    if isinstance(value, Exception) and value.args:
        value = value.args[0]
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def _drop(client: IMAPClient) -> None:
    """Close a connection that cannot be logged out politely."""
    with contextlib.suppress(OSError, IMAPClientError):
        client.shutdown()


@contextlib.contextmanager
def _translated(doing: str, cfg: ImapConfig) -> Iterator[None]:
    """Turn what imapclient, ssl and socket raise into MailboxError naming the cause."""
    where = f"{cfg.host}:{cfg.port}"
    try:
        yield
    except LoginError:
        raise
    except socket.gaierror as exc:
        raise MailboxError(_("DNS: cannot resolve {host}: {reason}", host=cfg.host, reason=exc.strerror)) from exc
    except ssl.SSLCertVerificationError as exc:
        raise MailboxError(_("TLS: certificate of {where} not accepted: {reason} (set ca_file for a private CA)",
                             where=where, reason=exc.verify_message)) from exc
    except ssl.SSLError as exc:
        raise MailboxError(_("TLS: {doing} failed: {reason}", doing=doing, reason=exc.reason or exc)) from exc
    except ConnectionRefusedError as exc:
        raise MailboxError(_("{doing}: connection refused (is an IMAP server listening on {where}?)",
                             doing=doing, where=where)) from exc
    except TimeoutError as exc:
        raise MailboxError(_("{doing}: no answer within {seconds} s", doing=doing, seconds=cfg.timeout)) from exc
    except IMAPClientAbortError as exc:
        raise MailboxError(_("{doing}: connection lost: {reason}", doing=doing, reason=_text(exc))) from exc
    except IMAPClientError as exc:
        raise MailboxError(_("{doing}: server said: {reply}", doing=doing, reply=_text(exc))) from exc
    except OSError as exc:
        raise MailboxError(f"{doing}: {exc.strerror or exc}") from exc
