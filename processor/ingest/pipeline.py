"""The pipeline: mailbox -> read (worker) -> decide -> store and record + acknowledge, one transaction.

The deciding is `decide.decide` (pure); this module does the I/O around it.

A new message is read first (parsed, its Word files read and their sections
found, in a worker process: `processor/reading`), then decided from what the
store knew in a read snapshot (`Store.arrival`: no write lock held while
deciding and composing), then stored: its files flushed to disk, then its
row, attribution, every result and the acknowledgement to send in one
transaction (`Store.ingest`). When reading, deciding or composing fails, the
message is stored the same way with its attribution and the failure. A
crash at any point leaves a message either not stored (fetched again: no
ledger entry, no `after`) or fully recorded. Messages stored by an earlier
version and left `stored`, `retry` and re-evaluations are processed apart
(`process`, under the message's lease).
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from jinja2 import Environment

from intake.parsers.errors import (
    DocumentError,
    EncryptedDocument,
    StoreError,
    UnsupportedDocument,
)
from intake.parsers.filetype import classify, is_word_candidate
from intake.parsers.model import Attachment, Outline, Problem, SectionResult
from intake.processor.catalog import Catalog, read_catalog
from intake.processor.config import Config
from intake.processor.ingest.attribution import Attributor, Rules
from intake.processor.ingest.decide import ReadAttachment, Verdict, decide
from intake.processor.mailbox import Mailbox, MailboxItem
from intake.processor.ops.logs import log_message
from intake.processor.reading.harness import Reading
from intake.processor.reading.wire import CampaignQuery, DocumentRead, MessageRead
from intake.processor.reading.work import find_sections
from intake.processor.sending.acknowledge import compose_ack, not_composed
from intake.processor.sending.compose import template_env
from intake.processor.teaching import campaign_guide, exemplars_of
from intake.store.catalog import CatalogStore
from intake.store.kinds import MessageState
from intake.store.leases import MAILBOX_TTL, MESSAGE_TTL, Leases, message_lease
from intake.store.records import Attribution, KnownFacts, OutgoingMail
from intake.store.repository import FAILURE_CHARS, Ingested, NewMessage, Store
from intake.store.summary import MessageSummary, summary_of
from intake.store.views import Lesson

log = logging.getLogger(__name__)

# Acknowledgements to one address are limited per this window (`[acknowledge] max_per_hour`).
RATE_WINDOW = dt.timedelta(hours=1)
BATCH = 50  # items between two writes of the `after` marks
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
    def __init__(self, cfg: Config, store: Store, reading: Reading, clock: Callable[[], dt.datetime],
                 env: Environment | None = None) -> None:
        self.cfg = cfg
        self.leases = Leases(store.db)
        self.store = store
        self.reading = reading  # worker processes under limits (`Workers`), or `InProcess`
        self.clock = clock
        self.env = env or template_env()
        self.catalog = read_catalog(store)
        self.lessons: tuple[Lesson, ...] = tuple(store.lessons())
        self._use(self.catalog)
        self._placed: int | None = None  # the catalog version messages without a campaign were last placed for

    # -- the catalog ----------------------------------------------------------------

    def _use(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.campaign_queries = self.queries()
        self.rules = Rules.for_config(self.cfg, catalog)

    def queries(self, unlearned: frozenset[int] = frozenset()) -> tuple[CampaignQuery, ...]:
        """What the finder looks for in each campaign, with what staff's choices taught it
        (but the lessons revoked for the message at hand, `unlearned`)."""
        return tuple(CampaignQuery(c.id, c.section_title, tuple(c.section_keywords),
                                   campaign_guide(c, exemplars_of(self.lessons, c.id, unlearned)))
                     for c in self.catalog.campaigns)

    def refresh(self) -> bool:
        """Read the catalog again when staff changed it since (its version in the store): a running
        daemon takes new campaigns and units without a restart. True when it changed. Staff's
        choices of section (lessons) are read again each time: a new one teaches at once."""
        changed = self.store_catalog_version() != self.catalog.version
        lessons = tuple(self.store.lessons())
        if lessons != self.lessons:
            log.info("staff's choices of section teach the finder: %s lesson(s)", len(lessons))
        if changed or lessons != self.lessons:
            self.lessons = lessons
            self._use(read_catalog(self.store) if changed else self.catalog)
        if changed:
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
        # command for the batch) and their marks. An `after` not marked is applied again.
        after_done: list[tuple[str, int, str]] = []
        renewed = time.monotonic()
        try:
            for item, read in self.reading.read_messages(mailbox.fetch_new(self.store), self.campaign_queries):
                fetched += 1
                got, ok = self._take(mailbox, item, read)
                mailbox.after_stored(item)
                after_done.append((item.folder, item.uidvalidity, item.key))
                if got.new:
                    new += 1
                    processed += ok
                    failed += not ok
                if len(after_done) >= BATCH:
                    self._write_batch(mailbox, after_done)
                if stop is not None and stop():
                    break
                if time.monotonic() - renewed >= RENEW_EVERY:
                    if not self.leases.renew(lease, MAILBOX_TTL):
                        log.error("lease on %s lost (this process stalled past it): stopping this round",
                                  mailbox.identity)
                        break
                    renewed = time.monotonic()
        finally:
            self._write_batch(mailbox, after_done)
        return RunCounts(fetched=fetched, new=new, processed=processed, failed=failed)

    def _take(self, mailbox: Mailbox, item: MailboxItem, read: Callable[[], MessageRead]) -> tuple[Ingested, bool]:
        """Read, decide and store one mailbox item; (what the store did, whether processing succeeded).

        Deciding uses a read snapshot of the store (`Store.arrival`) and holds no lock; the message's row,
        attribution and results (or its failure) are then written in one transaction. When another
        writer took the id it was decided for meanwhile, it is decided again."""
        place = (mailbox.identity, item.folder, item.uidvalidity, item.key)
        attribute = Attributor(self.rules, item.raw, item.received_at)  # who sent it: from the header alone
        message: MessageRead | Exception
        try:
            message = read()
        except StoreError:
            raise
        except Exception as exc:
            log.exception("reading item %s failed", item.key)
            message = exc
        while True:
            now = self.clock()
            sender = message.email.from_address if isinstance(message, MessageRead) else ""
            arrival = self.store.arrival(item.raw, sender, now - RATE_WINDOW)
            if arrival.existing is not None:
                return self.store.ingest(*place, item.raw, item.received_at), True
            new, summary = self._decided(arrival.pk, attribute(arrival.pk, arrival.facts.registered),
                                         item.received_at, message, arrival.facts, now)
            got = self.store.ingest(*place, item.raw, item.received_at, new)
            if not got.taken:
                break
            log.info("message id %s was taken by another writer: deciding item %s again", arrival.pk, item.key)
        log_message(self.store, got.message_pk, self.catalog.campaigns, summary)
        return got, not new.failure

    def _decided(self, message_pk: int, attribution: Attribution, received_at: dt.datetime,
                 message: MessageRead | Exception, facts: KnownFacts, now: dt.datetime
                 ) -> tuple[NewMessage, MessageSummary | None]:
        """What `Store.ingest` writes with the new message: its decision, or why there is none; and the
        summary for the log (None: read it from the store)."""
        try:
            if isinstance(message, Exception):
                raise message
            verdict = self._verdict(message_pk, received_at, message, facts, now)
            mail = self._compose(verdict, now)
        except StoreError:
            raise
        except Exception as exc:  # the per-message boundary: stored with its attribution and the reason
            if exc is not message:
                log.exception("processing message %s failed", message_pk)
            return NewMessage(message_pk, attribution, now, failure=failure_reason(exc)), None
        summary = summary_of(verdict.record, received_at, mail.state.value if mail is not None else None)
        return NewMessage(message_pk, attribution, now, verdict.record, mail), summary

    def _write_batch(self, mailbox: Mailbox, after_done: list[tuple[str, int, str]]) -> None:
        """Apply the queued `after` actions, then record them as done."""
        try:
            mailbox.flush_after()
            self.store.mark_after_done_many(mailbox.identity, after_done)
        finally:
            after_done.clear()

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

    def _process_leased(self, message_pk: int) -> bool:
        """Process a stored message whose lease this process holds."""
        try:
            summary = self._process(message_pk)
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

    def _process(self, message_pk: int) -> MessageSummary | None:
        """Decide about one stored message and record it; the summary for the log (None: read it from the store)."""
        now = self.clock()
        received_at, message, facts = self._stored(message_pk, now)
        verdict = self._verdict(message_pk, received_at, message, facts, now)
        mail = self._compose(verdict, now)
        self.store.record(message_pk, verdict.record, mail)
        if facts.acknowledged:
            return None  # the acknowledgement's state is the earlier one's, in the store
        return summary_of(verdict.record, received_at, mail.state.value if mail is not None else None)

    def _stored(self, message_pk: int, now: dt.datetime) -> tuple[dt.datetime, MessageRead, KnownFacts]:
        """A stored message read again: its received time, its reading, and what the store knows of it."""
        received_at, raw = self.store.raw_of(message_pk)
        message = self.reading.read_message(raw, self.campaign_queries)
        return received_at, message, self.store.known_facts(message_pk, message.email.from_address, now - RATE_WINDOW)

    def _verdict(self, message_pk: int, received_at: dt.datetime, message: MessageRead, facts: KnownFacts,
                 now: dt.datetime) -> Verdict:
        """What `decide` says of the message now, given what the store knew (`facts`)."""
        parsed = message.email
        # Auto-replies and bulk mail are recorded, never counted: their files are kept, not parsed.
        parse = self.rules.policy.never_acknowledge(parsed) is None
        reads = [self._read(i, att, message.documents.get(i), parse=parse) for i, att in enumerate(parsed.attachments)]
        # Left out of its campaign's guide: a lesson staff revoked for this message, and the message's
        # own choice (the finder's candidates beside it stay the finder's).
        unlearned = facts.unlearned | {x.decision_id for x in self.lessons if x.message_pk == message_pk}
        queries = self.queries(unlearned) if unlearned else self.campaign_queries
        found = {(r.position, cid): section for r in reads if r.outline is not None
                 for cid, section in self._sections(r.outline, message.documents.get(r.position), queries).items()}
        return decide(message_pk, received_at, parsed, reads, self.rules, facts, now, found)

    def _sections(self, outline: Outline, read: DocumentRead | None,
                  queries: tuple[CampaignQuery, ...]) -> dict[str, SectionResult]:
        """The sections of `queries` in the outline: the worker's, when it looked for these very queries
        (the campaigns' of this round, `campaign_queries`; a message's own unlearned lessons are not)."""
        if read is not None and queries is self.campaign_queries and all(q.id in read.sections for q in queries):
            return {q.id: read.sections[q.id] for q in queries}
        return find_sections(outline, queries)

    def corrected_ack(self, message_pk: int, dedupe_key: str) -> tuple[OutgoingMail | None, str | None]:
        """The acknowledgement the message would get now, under `dedupe_key`, threaded to it; nothing is
        recorded. (None, why) when there is none to send (no campaign, nobody to answer ...)."""
        self.refresh()
        now = self.clock()
        received_at, message, facts = self._stored(message_pk, now)
        # As if it had never been acknowledged: a corrected acknowledgement staff asked for.
        facts = dataclasses.replace(facts, acknowledged=False, recent_to_sender=0)
        verdict = self._verdict(message_pk, received_at, message, facts, now)
        if verdict.ack is None:
            return None, verdict.no_ack
        # Staff asked for it: neither the age limit nor the hourly rate holds it back.
        plan = dataclasses.replace(verdict.ack, skip_reason=None, context={**verdict.ack.context, "corrected": True})
        return compose_ack(self.env, plan, self.cfg.sending, now, dedupe_key=dedupe_key), None

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

    def read_document(self, att: Attachment) -> Outline:
        """One attachment's outline, read as the pipeline reads it (`show`'s candidate texts); DocumentError."""
        return self.reading.read_document(att).unwrap()

    def _read(self, position: int, att: Attachment, read: DocumentRead | None, *, parse: bool) -> ReadAttachment:
        kind = classify(att.filename, att.content_type, att.data)
        word = is_word_candidate(att.filename, kind)
        if not word or not parse:
            return ReadAttachment(position=position, attachment=att, kind=kind, word=word)
        problem: Problem | None = None
        try:
            outline = (read or self.reading.read_document(att)).unwrap()
            return ReadAttachment(position=position, attachment=att, kind=kind, word=word, outline=outline)
        except EncryptedDocument as exc:
            problem, detail = Problem.ENCRYPTED_ATTACHMENT, str(exc)
        except UnsupportedDocument as exc:
            problem, detail = Problem.UNSUPPORTED_ATTACHMENT, str(exc)
        except DocumentError as exc:
            problem, detail = Problem.UNREADABLE_ATTACHMENT, str(exc)
        return ReadAttachment(position=position, attachment=att, kind=kind, word=word, problem=problem,
                              detail=detail)
