"""Wiring: the objects one command needs, built from the config and nothing else."""
from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import schedule

from intake.parsers.errors import IntakeError
from intake.processor.catalog import Catalog, mirror_config, read_catalog
from intake.processor.config import Config
from intake.processor.documents import DocumentReader, ReaderLimits
from intake.processor.i18n import in_english
from intake.processor.ingest.pipeline import Pipeline, RunCounts
from intake.processor.mailbox import Mailbox, open_mailbox
from intake.processor.ops.health import record_check
from intake.processor.reading.harness import InProcess, Reading, Workers
from intake.processor.scheduler import build_scheduler
from intake.processor.sending import DeliveryCounts, deliver_pending, open_transport
from intake.processor.sending.reminders import Reminders
from intake.processor.sending.transport import Transport
from intake.store.kinds import utcnow
from intake.store.repository import Store
from intake.store.status import CampaignStatus

log = logging.getLogger(__name__)
SEND_EVERY = 1.0  # seconds between deliveries while a round is still fetching (new mail first: 5 s p95)


def open_store(cfg: Config, *, create: bool = True) -> Store:
    """The store, with the config's roster and campaigns mirrored into its catalog; `create=False`
    refuses a missing or outdated store."""
    store = Store(cfg.store.url, cfg.store.files_dir, create=create)
    mirror_config(store, cfg)
    return store


@dataclass
class App:
    cfg: Config
    store: Store
    clock: Callable[[], dt.datetime] = utcnow
    mailbox_factory: Callable[[], Mailbox] | None = None
    transport_factory: Callable[[], Transport] | None = None
    reader: DocumentReader = field(init=False)
    reading: Reading = field(init=False)  # worker processes (`isolate_parsing`), else in this process
    pipeline: Pipeline = field(init=False)
    reminders: Reminders = field(init=False)
    scheduler: schedule.Scheduler = field(init=False)  # the daemon calls run_pending() / idle_seconds

    def __post_init__(self) -> None:
        self.reader = DocumentReader(ReaderLimits())
        max_mail_bytes = self.cfg.mailbox.max_message_mb * 1024 * 1024
        # Workers start with the first message they are given.
        self.reading = (Workers(self.reader, max_mail_bytes) if self.cfg.isolate_parsing
                        else InProcess(self.reader, max_mail_bytes))
        self.pipeline = Pipeline(self.cfg, self.store, self.reading, clock=self.clock)
        self.reminders = Reminders(self.cfg, self.store, self.clock, self.catalog)
        self.scheduler = build_scheduler(self.reminders, self.send_pending)

    def close(self) -> None:
        """Stop the workers (the store is the caller's to close)."""
        self.reading.close()

    def open_mailbox(self) -> Mailbox:
        return self.mailbox_factory() if self.mailbox_factory else open_mailbox(self.cfg.mailbox)

    def open_transport(self) -> Transport:
        return self.transport_factory() if self.transport_factory else open_transport(self.cfg.sending)

    def run_once(self, mailbox: Mailbox | None = None,
                 stop: Callable[[], bool] | None = None) -> tuple[RunCounts, RunCounts, DeliveryCounts]:
        """Process what an earlier run left, fetch everything new, send what is due.

        The daemon passes its open `mailbox` (kept for IDLE) and a `stop` test
        asked between messages; otherwise a mailbox is opened and closed here."""
        leftover = self.pipeline.process_stored()
        own = mailbox is None
        box = self.open_mailbox() if mailbox is None else mailbox
        alongside = _SendingAlongside(self.send_pending, self._anything_due)
        try:
            fetched = self.pipeline.fetch(box, stop)
            record_check(self.store, box.identity, self.clock())  # `intake health` reads it
        finally:
            early = alongside.stop()
            if own:
                box.close()
        return leftover, fetched, early + self.send_pending()

    def _anything_due(self) -> bool:
        return bool(self.store.pending_outgoing(self.clock(), limit=1))

    def send_pending(self) -> DeliveryCounts:
        transport = self.open_transport()
        try:
            return deliver_pending(self.store, transport, self.clock(), self.cfg.sending.from_address)
        finally:
            transport.close()

    def catalog(self) -> Catalog:
        """The roster and campaigns as the store has them now (the config's and staff's)."""
        return read_catalog(self.store)

    def status(self, campaign_id: str | None, catalog: Catalog | None = None) -> CampaignStatus:
        """The campaign's status, its reads in one snapshot (the caller's, when it has one open); `catalog`
        when the caller has read it already, in that snapshot."""
        with self.store.db.reading():
            catalog = catalog or self.catalog()
            camp = catalog.campaign(campaign_id)
            return self.store.campaign_status(camp.id, camp.title, camp.deadline, camp.unit_ids(catalog.units))


class _SendingAlongside:
    """Sends what is due every SEND_EVERY seconds in a thread while a round fetches and processes.

    A backlog's acknowledgements then leave while it is being read (SMTP waits on
    the network and the store, not on this process's CPU), instead of all at the
    end. Claims in the store keep a row from going out twice; the round still
    ends with a `send_pending` of its own, so nothing due is left behind. A
    failure here is logged and ends the thread: the final send meets it again."""

    def __init__(self, send: Callable[[], DeliveryCounts], due: Callable[[], bool]) -> None:
        self._send, self._due = send, due
        self._stop = threading.Event()
        self._counts = DeliveryCounts()
        self._thread = threading.Thread(target=self._run, name="sending", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(SEND_EVERY):
            try:
                if self._due():
                    self._counts = self._counts + self._send()
            except IntakeError as exc:
                log.warning("sending during the round stopped (%s): what is due goes at its end", in_english(exc))
                return

    def stop(self) -> DeliveryCounts:
        self._stop.set()
        self._thread.join()
        return self._counts
