"""The pipeline: mailbox -> store raw -> parse -> identify -> extract -> record + acknowledge.

Each message is stored (raw bytes committed) before anything else happens to
it; processing then writes every result, including the acknowledgement to
send, in one transaction, so a crash at any point leaves the message either
stored-unprocessed (processed again on the next run) or fully recorded.
"""
from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import delete, update

from intake.parsers.email import parse_email
from intake.parsers.errors import (
    DocumentError,
    EmailParseError,
    EncryptedDocument,
    UnsupportedDocument,
)
from intake.parsers.filetype import classify, is_word_candidate
from intake.parsers.model import Attachment, FileKind, Outline, ParsedEmail, Problem, SectionResult
from intake.parsers.section import find_section
from intake.parsers.unit import UnitName, address_key, identify_unit
from intake.processor.config import CampaignConfig, Config
from intake.processor.mailbox import Mailbox, MailboxItem
from intake.processor.ops.logs import log_message
from intake.processor.sending.acknowledge import Acknowledger, AckPolicy
from intake.store.models import (
    AttachmentRow,
    MatchMethod,
    Message,
    MessageState,
    SectionRow,
    utcnow,
)
from intake.store.repository import Store

log = logging.getLogger(__name__)

Reader = Callable[[Attachment], Outline]


@dataclass
class ReadAttachment:
    position: int
    attachment: Attachment
    kind: FileKind
    word: bool
    outline: Outline | None = None
    problem: Problem | None = None
    detail: str | None = None
    sections: dict[str, SectionResult] = field(default_factory=dict)


@dataclass(frozen=True)
class RunCounts:
    fetched: int = 0
    new: int = 0
    processed: int = 0
    failed: int = 0


class Pipeline:
    def __init__(self, cfg: Config, store: Store, read_document: Reader,
                 acknowledger: Acknowledger, clock: Callable[[], dt.datetime] = utcnow) -> None:
        self.cfg = cfg
        self.store = store
        self.read_document = read_document
        self.acknowledger = acknowledger
        self.clock = clock
        self.units = tuple(UnitName(u.id, (u.name, *u.aliases)) for u in cfg.units)
        self.policy = AckPolicy.for_config(cfg)

    # -- fetching -----------------------------------------------------------------

    def fetch(self, mailbox: Mailbox, stop: Callable[[], bool] | None = None) -> RunCounts:
        """Store every new item of the mailbox and process the new messages.

        `stop` is asked after each message: when it says so the rest waits for the next run."""
        self.finish_after(mailbox)
        fetched = new = processed = failed = 0
        for item in mailbox.fetch_new(self.store):
            fetched += 1
            got = self.store.ingest(mailbox.identity, item.folder, item.uidvalidity, item.key,
                                    item.raw, item.received_at)
            mailbox.after_stored(item)
            self.store.mark_after_done(mailbox.identity, item.folder, item.uidvalidity, item.key)
            if got.new:
                new += 1
                ok = self.process(got.message_pk)
                processed += ok
                failed += not ok
            if stop is not None and stop():
                break
        return RunCounts(fetched=fetched, new=new, processed=processed, failed=failed)

    def finish_after(self, mailbox: Mailbox) -> None:
        """Apply `after` to items an earlier run stored but stopped before flagging or moving."""
        for folder, uidvalidity, key, received_at in self.store.entries_awaiting_after(mailbox.identity):
            mailbox.after_stored(MailboxItem(folder=folder, uidvalidity=uidvalidity, key=key,
                                             received_at=received_at, raw=b""))
            self.store.mark_after_done(mailbox.identity, folder, uidvalidity, key)

    def process_stored(self) -> RunCounts:
        """Process messages stored by an earlier run that stopped before processing them."""
        processed = failed = 0
        for pk in self.store.messages_in_state(MessageState.STORED):
            ok = self.process(pk)
            processed += ok
            failed += not ok
        return RunCounts(processed=processed, failed=failed)

    def reprocess(self, message_pk: int) -> bool:
        """Evaluate a message again (e.g. after `units link`); history and acknowledgements stay."""
        with self.store.session() as s:
            s.execute(delete(SectionRow).where(SectionRow.message_pk == message_pk))
            s.execute(delete(AttachmentRow).where(AttachmentRow.message_pk == message_pk))
            s.execute(update(Message).where(Message.id == message_pk).values(
                state=MessageState.STORED, unit_id=None, match=MatchMethod.NONE, problems=[], has_report=False,
                ignore_reason=None, error=None))
        return self.process(message_pk)

    # -- one message ------------------------------------------------------------

    def process(self, message_pk: int) -> bool:
        """Process one stored message; a failure is recorded, never raised."""
        try:
            self._process(message_pk)
        except Exception as exc:  # the per-message boundary: record, log with traceback, go on
            log.exception("processing message %s failed", message_pk)
            self.store.record_failure(message_pk, f"{type(exc).__name__}: {exc}")
            log_message(self.store, message_pk, self.cfg)
            return False
        log_message(self.store, message_pk, self.cfg)
        return True

    def _process(self, message_pk: int) -> None:
        row, raw = self.store.raw_of(message_pk)
        try:
            parsed: ParsedEmail | None = parse_email(raw)
        except EmailParseError as exc:
            log.warning("message %s is not a readable email: %s", message_pk, exc)
            parsed = None
        if parsed is None:
            self._record_unparseable(message_pk)
            return
        ignore = self.policy.never_acknowledge(parsed)
        # Auto-replies and bulk mail are recorded, never counted: their files are kept, not parsed.
        reads = [self._read(i, att, parse=ignore is None) for i, att in enumerate(parsed.attachments)]
        if ignore is not None:
            self._record(message_pk, row, parsed, reads, ignore=ignore)
            return
        for read in reads:
            if read.outline is not None:
                for camp in self.cfg.campaigns:
                    read.sections[camp.id] = find_section(read.outline, camp.section_title, camp.section_keywords)
        self._record(message_pk, row, parsed, reads, ignore=None)

    def _read(self, position: int, att: Attachment, *, parse: bool) -> ReadAttachment:
        kind = classify(att.filename, att.content_type, att.data)
        read = ReadAttachment(position=position, attachment=att, kind=kind,
                              word=is_word_candidate(att.filename, kind))
        if not read.word or not parse:
            return read
        try:
            read.outline = self.read_document(att)
        except EncryptedDocument as exc:
            read.problem, read.detail = Problem.ENCRYPTED_ATTACHMENT, str(exc)
        except UnsupportedDocument as exc:
            read.problem, read.detail = Problem.UNSUPPORTED_ATTACHMENT, str(exc)
        except DocumentError as exc:
            read.problem, read.detail = Problem.UNREADABLE_ATTACHMENT, str(exc)
        return read

    def _record_unparseable(self, message_pk: int) -> None:
        with self.store.session() as s:
            msg = s.get(Message, message_pk)
            assert msg is not None
            msg.state, msg.problems = MessageState.PROCESSED, [Problem.NO_ATTACHMENT.value]
            msg.error, msg.processed_at = "not a readable email", utcnow()
            msg.campaign_id = self._campaign_by_time(msg.received_at, None).id

    def _record(self, message_pk: int, row: Message, parsed: ParsedEmail, reads: Sequence[ReadAttachment],
                ignore: str | None) -> None:
        report, campaign = self._choose_report(reads, row.received_at)
        # The report's header names the sender best; another Word file's (a cover letter) will do.
        issuer = next((r.outline.issuer for r in (report, *reads)
                       if r is not None and r.outline is not None and r.outline.issuer), None)
        registered = {address_key(a): u for a, u in self.store.registered_addresses().items()}
        match = identify_unit(registered, self.units, parsed.from_address, parsed.from_name, issuer)
        if campaign is None:
            campaign = self._campaign_by_time(row.received_at, match.unit_id)
        section = report.sections.get(campaign.id) if report is not None else None
        problems = _problems(reads, report, section, match.method)
        stored = [(r, self.store.files.put(r.attachment.data, "")) for r in reads]
        with self.store.session() as s:
            msg = s.get(Message, message_pk)
            assert msg is not None
            msg.from_address, msg.from_name, msg.subject = parsed.from_address, parsed.from_name, parsed.subject
            msg.date_header = parsed.date_header
            msg.processed_at = utcnow()
            msg.has_word_file = any(r.word for r in reads)
            msg.reference = f"TN{row.received_at:%y}-{message_pk:05d}"
            rows = {r.position: AttachmentRow(
                message_pk=message_pk, position=r.position, filename=r.attachment.filename,
                content_type=r.attachment.content_type, sha256=digest, size=len(r.attachment.data),
                kind=r.kind.value, problem=r.problem.value if r.problem else None, detail=r.detail,
                is_report=r is report) for r, (digest, _rel) in stored}
            s.add_all(rows.values())
            if ignore is not None:
                msg.state, msg.ignore_reason = MessageState.IGNORED, ignore[:200]
                return
            msg.state = MessageState.PROCESSED
            msg.unit_id = match.unit_id
            msg.match = MatchMethod(match.method)
            msg.campaign_id = campaign.id
            msg.problems = [p.value for p in problems]
            msg.has_report = report is not None
            if report is not None and section is not None:
                s.flush()
                s.add(SectionRow(message_pk=message_pk, attachment_id=rows[report.position].id, found=section.found,
                                 heading=section.heading, text=section.text if section.found else "",
                                 score=section.score, reason=section.reason, figures=section.figures.as_dict(),
                                 issuer=report.outline.issuer if report.outline else None))
            s.flush()
            self.acknowledger.queue(s, msg, parsed, campaign, reads_summary(reads, report), section,
                                    now=self.clock())

    def _choose_report(self, reads: Sequence[ReadAttachment],
                       received_at: dt.datetime) -> tuple[ReadAttachment | None, CampaignConfig | None]:
        """SPEC: the Word file that holds the section, else the largest readable one."""
        readable = [r for r in reads if r.outline is not None]
        if not readable:
            return None, None
        best: tuple[float, ReadAttachment, CampaignConfig] | None = None
        for read in readable:
            for camp in self.cfg.campaigns:
                sec = read.sections.get(camp.id)
                if sec is not None and sec.found and (best is None or sec.score > best[0]):
                    best = (sec.score, read, camp)
        if best is not None:
            return best[1], best[2]
        return max(readable, key=lambda r: len(r.attachment.data)), None

    def _campaign_by_time(self, received_at: dt.datetime, unit_id: str | None) -> CampaignConfig:
        """The campaign open at the received time (earliest deadline first),
        preferring one that expects the unit; else the nearest deadline."""
        camps = sorted(self.cfg.campaigns, key=lambda c: c.deadline)
        open_ = [c for c in camps if c.opens <= received_at] or camps
        if unit_id is not None:
            expecting = [c for c in open_ if unit_id in c.unit_ids(self.cfg.units)]
            open_ = expecting or open_
        pending = [c for c in open_ if received_at < c.deadline]
        return (pending or open_[::-1])[0]


def reads_summary(reads: Sequence[ReadAttachment], report: ReadAttachment | None) -> list[dict[str, object]]:
    return [{"filename": r.attachment.filename or f"(tệp {r.position + 1})", "is_report": r is report,
             "problem": r.problem.value if r.problem else None, "kind": r.kind.value} for r in reads]


def _problems(reads: Sequence[ReadAttachment], report: ReadAttachment | None, section: SectionResult | None,
              match_method: str) -> list[Problem]:
    problems: list[Problem] = []
    if report is None:
        words = [r for r in reads if r.word]
        if not reads:
            problems.append(Problem.NO_ATTACHMENT)
        elif not words:
            problems.append(Problem.UNSUPPORTED_ATTACHMENT)
        else:
            for problem in (Problem.ENCRYPTED_ATTACHMENT, Problem.UNREADABLE_ATTACHMENT,
                            Problem.UNSUPPORTED_ATTACHMENT):
                if any(r.problem == problem for r in words):
                    problems.append(problem)
    elif section is None or not section.found:
        problems.append(Problem.SECTION_NOT_FOUND)
    if match_method in ("document_header", "display_name"):
        problems.append(Problem.SENDER_NOT_REGISTERED)
    return problems
