"""The pipeline: mailbox -> store raw -> parse -> read documents -> decide -> record + acknowledge.

The deciding is `decide.decide` (pure); this module does the I/O around it.

Each message's files (raw bytes, attachments) are on disk before its row is
written. A message a document worker read ahead is decided while it is
stored, and its row, every result and the acknowledgement to send are
committed in one transaction; any other message is stored (committed) first
and processed after, in a transaction of its own. A crash at any point
leaves a message either not stored (fetched again: no ledger entry, no
`after`), stored-unprocessed (processed on the next run) or fully recorded.
"""
from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from jinja2 import Environment

from intake.parsers.email import parse_email, parse_email_headers
from intake.parsers.errors import (
    DocumentError,
    EmailParseError,
    EncryptedDocument,
    StoreError,
    UnsupportedDocument,
)
from intake.parsers.filetype import classify, is_word_candidate
from intake.parsers.model import Attachment, Outline, ParsedEmail, Problem
from intake.processor.catalog import Catalog, read_catalog
from intake.processor.config import Config
from intake.processor.documents.pool import CampaignQuery, Inline, Sections
from intake.processor.guidance import campaign_guide
from intake.processor.ingest.attribution import Attributor, Rules
from intake.processor.ingest.decide import ReadAttachment, Verdict, decide
from intake.processor.mailbox import Mailbox, MailboxItem
from intake.processor.ops.logs import log_message
from intake.processor.sending.acknowledge import compose_ack, not_composed
from intake.processor.sending.compose import template_env
from intake.store.catalog import CatalogStore
from intake.store.db import Transaction
from intake.store.kinds import MessageState
from intake.store.leases import MAILBOX_TTL, MESSAGE_TTL, Leases, message_lease
from intake.store.records import OutgoingMail
from intake.store.repository import FAILURE_CHARS, Ingested, Store
from intake.store.summary import MessageSummary, summary_of

log = logging.getLogger(__name__)

Reader = Callable[[Attachment], Outline]
# Acknowledgements to one address are limited per this window (`[acknowledge] max_per_hour`).
RATE_WINDOW = dt.timedelta(hours=1)
BATCH = 50  # items between two writes of the `after` marks and message leases given back
RENEW_EVERY = 60.0  # seconds between renewals of the mailbox lease (MAILBOX_TTL is ten minutes)


def failure_reason(exc: BaseException) -> str:
    """What staff are shown of a fault: its kind and message, one line, never the traceback."""
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}"[:FAILURE_CHARS] if text else type(exc).__name__


@dataclass(frozen=True)
class RunCounts:
    fetched: int = 0
    new: int = 0
    processed: int = 0
    failed: int = 0


class Pipeline:
    def __init__(self, cfg: Config, store: Store, read_document: Reader, clock: Callable[[], dt.datetime],
                 env: Environment | None = None, documents: Sections | None = None,
                 parse_mail: Callable[[bytes], ParsedEmail] = parse_email) -> None:
        self.cfg = cfg
        self.parse_mail = parse_mail  # MailParser.parse: size cap, child process under limits
        self.leases = Leases(store.db)
        self.store = store
        self.read_document = read_document
        # Where outlines and sections come from: a worker pool reading ahead, or `read_document` inline.
        self.documents = documents if documents is not None else Inline(read_document)
        self.clock = clock
        self.env = env or template_env()
        self.catalog = read_catalog(store)
        self._use(self.catalog)
        self._placed: int | None = None  # the catalog version messages without a campaign were last placed for

    # -- the catalog ----------------------------------------------------------------

    def _use(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.campaign_queries = tuple(CampaignQuery(c.id, c.section_title, tuple(c.section_keywords),
                                                    campaign_guide(c))
                                      for c in catalog.campaigns)
        self.rules = Rules.for_config(self.cfg, catalog)
        self.documents.use_campaigns(self.campaign_queries)

    def refresh(self) -> bool:
        """Read the catalog again when staff changed it since (its version in the store): a running
        daemon takes new campaigns and units without a restart. True when it changed."""
        changed = self.store_catalog_version() != self.catalog.version
        if changed:
            self._use(read_catalog(self.store))
            log.info("catalog changed (version %s): %s units, %s campaigns (%s)", self.catalog.version,
                     len(self.catalog.units), len(self.catalog.campaigns),
                     ", ".join(c.id for c in self.catalog.campaigns if not c.closed) or "none running")
        if self._placed != self.catalog.version and any(not c.closed for c in self.catalog.campaigns):
            self._placed = self.catalog.version  # first, so that processing (which refreshes) does not recurse
            self._place_waiting()
        return changed

    def _place_waiting(self) -> None:
        """Messages recorded while no campaign could take them are evaluated again now that one can
        (after a change of the catalog, and once after a start): they would otherwise be in no
        campaign's status."""
        waiting = self.store.waiting_messages(no_campaign=True)
        for pk in waiting:
            self._reset(pk)
            self.process(pk)
        if waiting:
            log.info("%s message(s) recorded with no campaign evaluated again", len(waiting))

    def _reset(self, message_pk: int) -> None:
        """Forget what processing found, the message attributed afresh from its header."""
        received_at, raw = self.store.raw_of(message_pk)
        self.store.reset_message(message_pk, Attributor(self.rules, raw, received_at))

    def store_catalog_version(self) -> int:
        return CatalogStore(self.store.db).version()

    # -- fetching -----------------------------------------------------------------

    def fetch(self, mailbox: Mailbox, stop: Callable[[], bool] | None = None) -> RunCounts:
        """Store every new item of the mailbox and process the new messages.

        `stop` is asked after each message: when it says so the rest waits for the next run.
        Only the holder of the mailbox's lease fetches: a second daemon on the same mailbox gets nothing."""
        lease = f"mailbox:{mailbox.identity}"
        if not self.leases.acquire(lease, MAILBOX_TTL):
            log.warning("%s is being served by %s: not fetched by this process", mailbox.identity,
                        self.leases.holder_of(lease))
            return RunCounts()
        try:
            return self._fetch(mailbox, lease, stop)
        finally:
            self.leases.release(lease)

    def _fetch(self, mailbox: Mailbox, lease: str, stop: Callable[[], bool] | None) -> RunCounts:
        self.refresh()
        self.finish_after(mailbox)
        fetched = new = processed = failed = 0
        # What a crash may lose without harm is done in batches: the `after` actions (one IMAP
        # command for the batch) and their marks, and the message leases given back. An `after`
        # not marked is applied again, a lease left behind by a dead holder is taken over.
        after_done: list[tuple[str, int, str]] = []
        done_leases: list[str] = []
        renewed = time.monotonic()
        try:
            for item in self.documents.ahead(mailbox.fetch_new(self.store)):
                fetched += 1
                got, decided = self._store(mailbox, item)
                mailbox.after_stored(item)
                after_done.append((item.folder, item.uidvalidity, item.key))
                if got.new:
                    new += 1
                    ok = decided or self._process_leased(got.message_pk, (item.received_at, item.raw))
                    done_leases.append(message_lease(got.message_pk))
                    processed += ok
                    failed += not ok
                if len(after_done) >= BATCH:
                    self._write_batch(mailbox, after_done, done_leases)
                if stop is not None and stop():
                    break
                if time.monotonic() - renewed >= RENEW_EVERY:
                    if not self.leases.renew(lease, MAILBOX_TTL):
                        log.error("lease on %s lost (this process stalled past it): stopping this round",
                                  mailbox.identity)
                        break
                    renewed = time.monotonic()
        finally:
            self._write_batch(mailbox, after_done, done_leases)
        return RunCounts(fetched=fetched, new=new, processed=processed, failed=failed)

    def _store(self, mailbox: Mailbox, item: MailboxItem) -> tuple[Ingested, bool]:
        """Store the item. A new message a worker read ahead is also decided and recorded in the
        transaction that stores it (True): one commit instead of two, and a crash before it leaves
        nothing but files, the message being fetched again. When deciding fails, nothing of it is
        committed: the message is stored alone and processed apart, which records the failure."""
        early = self.documents.parsed(item.raw)  # a worker's, when it read the message ahead
        attachments = [a.data for a in early.attachments] if early else ()
        attribute = Attributor(self.rules, item.raw, item.received_at)  # who sent it: written with the row
        if early is not None:
            summaries: list[MessageSummary | None] = []

            def decide_now(c: Transaction, pk: int) -> None:
                self.leases.take_message(c, pk)
                summaries.append(self._process(pk, (item.received_at, item.raw), within=c))
            try:
                got = self.store.ingest(mailbox.identity, item.folder, item.uidvalidity, item.key, item.raw,
                                        item.received_at, on_new=decide_now, attachments=attachments,
                                        known=self.documents.digest_of, attribute=attribute)
            except StoreError:
                raise
            except Exception as exc:  # noqa: BLE001 - rolled back; stored and processed apart below, which logs it
                log.info("deciding item %s while storing it failed (%s): storing it alone", item.key,
                         type(exc).__name__)
            else:
                if got.new:
                    log_message(self.store, got.message_pk, self.catalog.campaigns, summaries[0])
                return got, got.new
        got = self.store.ingest(mailbox.identity, item.folder, item.uidvalidity, item.key, item.raw,
                                item.received_at, on_new=self.leases.take_message, attachments=attachments,
                                known=self.documents.digest_of, attribute=attribute)
        return got, False

    def _write_batch(self, mailbox: Mailbox, after_done: list[tuple[str, int, str]], done_leases: list[str]) -> None:
        """Apply the queued `after` actions, then record them as done; give the message leases back."""
        try:
            mailbox.flush_after()
            self.store.mark_after_done_many(mailbox.identity, after_done)
        finally:
            self.leases.release(*done_leases)
            after_done.clear()
            done_leases.clear()

    def finish_after(self, mailbox: Mailbox) -> None:
        """Apply `after` to items an earlier run stored but stopped before flagging or moving."""
        waiting = self.store.entries_awaiting_after(mailbox.identity)
        for folder, uidvalidity, key, received_at in waiting:
            mailbox.after_stored(MailboxItem(folder=folder, uidvalidity=uidvalidity, key=key,
                                             received_at=received_at, raw=b""))
        mailbox.flush_after()
        self.store.mark_after_done_many(mailbox.identity, [(f, uv, k) for f, uv, k, _at in waiting])

    def process_stored(self) -> RunCounts:
        """Process messages stored by an earlier run that stopped before processing them."""
        self.refresh()
        processed = failed = 0
        for pk in self.store.messages_in_state(MessageState.STORED):
            ok = self.process(pk)
            processed += ok
            failed += not ok
        return RunCounts(processed=processed, failed=failed)

    def reprocess(self, message_pk: int) -> bool:
        """Evaluate a message again (e.g. after `units link`, or `retry` after a failure); history and
        acknowledgements stay. It is attributed afresh first, so a new failure keeps who sent it."""
        self.refresh()
        self._reset(message_pk)
        return self.process(message_pk)

    # -- one message ------------------------------------------------------------

    def process(self, message_pk: int) -> bool:
        """Process one stored message; a failure is recorded, never raised. Another process holding the
        message's lease (a daemon on another mailbox of the same store) has it: left to that one."""
        with self.leases.held(message_lease(message_pk), MESSAGE_TTL) as mine:
            if not mine:
                log.info("message %s is being processed by another process", message_pk)
                return True
            if self.store.state_of(message_pk) != MessageState.STORED:
                return True  # processed meanwhile by the lease's previous holder
            return self._process_leased(message_pk)

    def _process_leased(self, message_pk: int, stored: tuple[dt.datetime, bytes] | None = None) -> bool:
        """Process a stored message whose lease this process holds; `stored` (received time, raw bytes)
        when the caller has them."""
        try:
            summary = self._process(message_pk, stored)
        except StoreError:
            # The store failed (disk full, database gone), not the message: its transaction is rolled
            # back, it stays `stored`, and the round stops; the next round processes it.
            raise
        except Exception as exc:  # the per-message boundary: record, log with traceback, go on
            # The message keeps the attribution written when it was stored: it counts for its unit,
            # with the problem `processing_failed` and this reason (not the traceback) for staff.
            log.exception("processing message %s failed", message_pk)
            self.store.record_failure(message_pk, failure_reason(exc), self.clock())
            log_message(self.store, message_pk, self.catalog.campaigns)
            return False
        log_message(self.store, message_pk, self.catalog.campaigns, summary)
        return True

    def _process(self, message_pk: int, stored: tuple[dt.datetime, bytes] | None,
                 within: Transaction | None = None) -> MessageSummary | None:
        """Decide about one message and record it; the summary for the log (None: read it from the store).
        `within`: the transaction storing the message, which records the decision too."""
        received_at, raw = stored if stored is not None else self.store.raw_of(message_pk)
        try:
            # Parsed by the worker that read the message ahead, else here (under the mail limits).
            parsed: ParsedEmail | None = self.documents.parsed(raw) or self.parse_mail(raw)
        except EmailParseError as exc:  # its header still says who sent it
            log.warning("message %s is not a readable email: %s", message_pk, exc)
            parsed = parse_email_headers(raw, f"not a readable email: {exc}")
        reads: list[ReadAttachment] = []
        if parsed is not None:
            # Auto-replies and bulk mail are recorded, never counted: their files are kept, not parsed.
            parse = self.rules.policy.never_acknowledge(parsed) is None
            reads = [self._read(i, att, parse=parse) for i, att in enumerate(parsed.attachments)]
        now = self.clock()
        facts = self.store.known_facts(message_pk, parsed.from_address if parsed else "", now - RATE_WINDOW,
                                       within=within)
        found = {(r.position, cid): section for r in reads if r.outline is not None
                 for cid, section in self.documents.sections(r.outline, self.campaign_queries).items()}
        verdict = decide(message_pk, received_at, parsed, reads, self.rules, facts, now, found)
        mail = self._compose(verdict, now)
        self.store.record(message_pk, verdict.record, mail, known=self.documents.digest_of, within=within)
        if facts.acknowledged:
            return None  # the acknowledgement's state is the earlier one's, in the store
        return summary_of(verdict.record, received_at, mail.state.value if mail is not None else None)

    def _compose(self, verdict: Verdict, now: dt.datetime) -> OutgoingMail | None:
        """The acknowledgement to queue with the verdict. Composing it apart from recording: when it
        fails, the verdict is recorded all the same and the acknowledgement is recorded failed with
        the reason (`show` lists it); a fault here costs the acknowledgement, never the report."""
        if verdict.ack is None:
            return None
        try:
            return compose_ack(self.env, verdict.ack, self.cfg.sending, now)
        except StoreError:
            raise
        except Exception as exc:
            log.exception("composing the acknowledgement of message %s failed", verdict.ack.message_pk)
            return not_composed(verdict.ack, failure_reason(exc), now)

    def _read(self, position: int, att: Attachment, *, parse: bool) -> ReadAttachment:
        kind = classify(att.filename, att.content_type, att.data)
        word = is_word_candidate(att.filename, kind)
        if not word or not parse:
            return ReadAttachment(position=position, attachment=att, kind=kind, word=word)
        problem: Problem | None = None
        try:
            return ReadAttachment(position=position, attachment=att, kind=kind, word=word,
                                  outline=self.documents.read(att))
        except EncryptedDocument as exc:
            problem, detail = Problem.ENCRYPTED_ATTACHMENT, str(exc)
        except UnsupportedDocument as exc:
            problem, detail = Problem.UNSUPPORTED_ATTACHMENT, str(exc)
        except DocumentError as exc:
            problem, detail = Problem.UNREADABLE_ATTACHMENT, str(exc)
        return ReadAttachment(position=position, attachment=att, kind=kind, word=word, problem=problem,
                              detail=detail)
