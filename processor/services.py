"""The use cases staff have: what the CLI, the daemon and the web app call (CONTRACTS §2).

`Office` is built from an `App` (config + store + clock + transports). Each
method checks the request (a `UsageError` naming what is wrong: unknown
unit, unknown reference, a past date ...), does it, and returns plain frozen
views: no ORM row and no session ever leaves the store.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass

from intake.parsers.errors import DocumentError, UsageError
from intake.parsers.guide import TemplateHeading, exemplar_for
from intake.parsers.guideline import GuidelineFacts
from intake.parsers.model import Attachment, Outline
from intake.parsers.section import heading_blocks, section_at
from intake.parsers.unit import UnitName, address_key, match_name, name_key
from intake.parsers.vietnamese import fold
from intake.processor.app import App
from intake.processor.catalog import Catalog, campaign_entry, unit_entry
from intake.processor.catalog_edit import (
    CampaignForm,
    ImportPreview,
    RowState,
    address_conflict,
    campaign_changes,
    campaign_of,
    preview_import,
    read_only,
    unit_changes,
    unit_of,
)
from intake.processor.config import CampaignConfig
from intake.processor.guidance import template_from_guideline
from intake.processor.guideline import read_guideline
from intake.processor.guideline_campaign import form_from_guideline, overridden, require_complete
from intake.processor.i18n import _
from intake.processor.roster_file import read_roster
from intake.processor.sending.reminders import Plan, ResendRequest
from intake.processor.staff.export import render
from intake.processor.staff.report import owes_something
from intake.processor.staff.rows import ExportContext
from intake.processor.staff.text import MESSAGE_STATE_VI
from intake.processor.staff_dates import parse_staff_datetime
from intake.processor.teaching import answer_changed, corrected_ack_key, exemplar_json, learned_reason, needs_help
from intake.processor.units import UnitConfig
from intake.store.catalog import CatalogStore, Change
from intake.store.kinds import CATALOG_KINDS, DecisionKind, MessageState, UnitState
from intake.store.status import CampaignStatus, UnitStatus
from intake.store.views import (
    AttachmentView,
    DecisionView,
    MessageView,
    OutgoingView,
    SectionView,
)

__all__ = [
    "AttachmentFile", "AttachmentView", "CampaignStatus", "DecisionView", "LinkResult", "MessageView", "Office",
    "OutgoingView", "ReminderPlan", "RetryResult", "SectionView", "UnitState", "UnitStatus", "parse_staff_datetime",
]

log = logging.getLogger(__name__)

ReminderPlan = Plan
CANDIDATE_PREVIEW = 300  # characters of a candidate section's text shown when staff choose
REPEATABLE = (DecisionKind.EXCUSE, DecisionKind.EXTEND)  # kinds whose repeat staff are told of


@dataclass(frozen=True)
class LinkResult:
    address: str
    unit_id: str
    reevaluated: int


@dataclass(frozen=True)
class RetryResult:
    view: MessageView   # the message as it is now
    ok: bool            # processed this time (False: it failed again, `view.error` says why)


AttachmentFile = Attachment  # filename (the sender's: display only), content_type, data


def resolve_unit(units: Sequence[UnitConfig], text: str) -> str:
    """The id of the unit `text` names: its id; else the one whose name or alias folds the same
    ("lđlđ huyen bac ha"); else the clear best fuzzy match, as sender identification does.
    UsageError when none or several."""
    wanted = text.strip()
    if not wanted:
        raise UsageError(_("unit: empty"))
    for unit in units:
        if unit.id == wanted:
            return unit.id
    key = name_key(wanted)
    exact = sorted({u.id for u in units if key in {name_key(n) for n in (u.name, *u.aliases)}
                    or fold(u.id) == fold(wanted)})
    if len(exact) == 1:
        return exact[0]
    if len(exact) > 1:
        raise UsageError(_("unit: \"{text}\" names several units ({ids}): give the id", text=text,
                           ids=", ".join(exact)))
    unit_id, _score = match_name(wanted, [UnitName(u.id, (u.name, *u.aliases)) for u in units])
    if unit_id is None:
        raise UsageError(_("unit: no unit \"{text}\" in the roster (see `intake units list`)", text=text))
    return unit_id


class Office:
    """Every staff use case, over one App."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.cfg = app.cfg
        self.store = app.store

    def now(self) -> dt.datetime:
        return self.app.clock()

    def snapshot(self) -> AbstractContextManager[object]:
        """The reads inside share one snapshot of the store and take no write lock (a page's reads)."""
        return self.app.store.db.reading()

    # -- status ------------------------------------------------------------------

    def status(self, campaign_id: str | None, catalog: Catalog | None = None) -> CampaignStatus:
        return self.app.status(campaign_id, catalog)

    def missing(self, campaign_id: str | None) -> CampaignStatus:
        """Units missing, late, or whose latest report has problems; never an excused unit."""
        status = self.status(campaign_id)
        return dataclasses.replace(status, units=tuple(u for u in status.units if owes_something(u)))

    def campaign(self, campaign_id: str | None) -> CampaignConfig:
        return self.catalog().campaign(campaign_id)

    def catalog(self) -> Catalog:
        """The roster and the campaigns, the config's and staff's, as the store has them now."""
        return self.app.catalog()

    # -- units -------------------------------------------------------------------

    def resolve_unit(self, text: str) -> str:
        """The unit id named by `text`: an id, or a name or alias (case, diacritics, abbreviations aside)."""
        return resolve_unit(self.catalog().units, text)

    def unit(self, unit_id: str) -> UnitConfig:
        unit = self.catalog().unit(unit_id)
        if unit is None:
            raise UsageError(f"không có đơn vị mã \"{unit_id}\" trong danh sách (xem `intake units list`)")
        return unit

    def link_address(self, address: str, unit: str, actor: str) -> LinkResult:
        """Register a sender address for a unit, and re-evaluate that sender's messages."""
        unit_id = self.resolve_unit(unit)
        address = address.strip()
        if "@" not in address or any(c.isspace() for c in address):
            raise UsageError(_("address: not an email address: \"{address}\"", address=address))
        pks = self.store.link_address(address, unit_id, same_sender=address_key)
        self.store.add_decision(DecisionKind.LINK, unit_id, None, address=address.lower(), decided_by=actor,
                                decided_at=self.now())
        for pk in pks:
            self.app.pipeline.reprocess(pk)
        log.info("linked %s to %s; re-evaluated %s message(s)", address, unit_id, len(pks))
        return LinkResult(address=address.lower(), unit_id=unit_id, reevaluated=len(pks))

    def unit_messages(self, unit_id: str) -> list[MessageView]:
        """The unit's messages, oldest first."""
        unit_id = self.resolve_unit(unit_id)
        return [self.store.message_view(pk) for pk in self.store.unit_message_pks(unit_id)]

    # -- decisions -----------------------------------------------------------------

    def _expected(self, unit: str, campaign_id: str | None) -> tuple[str, CampaignConfig]:
        unit_id = self.resolve_unit(unit)
        catalog = self.catalog()
        camp = catalog.campaign(campaign_id)
        if unit_id not in camp.unit_ids(catalog.units):
            raise UsageError(_("unit: \"{unit}\" is not expected in campaign {campaign}", unit=unit_id,
                               campaign=camp.id))
        return unit_id, camp

    def excuse(self, unit: str, campaign_id: str | None, reason: str, actor: str) -> DecisionView:
        unit_id, camp = self._expected(unit, campaign_id)
        if not reason.strip():
            raise UsageError(_("reason: say why the unit owes nothing this time"))
        return self.store.add_decision(DecisionKind.EXCUSE, unit_id, camp.id, reason=reason.strip(),
                                       decided_by=actor, decided_at=self.now())

    def extend(self, unit: str, campaign_id: str | None, until: dt.datetime, actor: str) -> DecisionView:
        """A later deadline for one unit. A date already past is recorded too: an extension granted
        after the fact (by phone, for a report that came in late); the caller says so."""
        unit_id, camp = self._expected(unit, campaign_id)
        if until.tzinfo is None:
            until = until.replace(tzinfo=self.cfg.timezone)
        return self.store.add_decision(DecisionKind.EXTEND, unit_id, camp.id, until=until, decided_by=actor,
                                       decided_at=self.now())

    def repeats(self, decision: DecisionView) -> list[DecisionView]:
        """Other decisions in force of the same kind for the same unit and campaign (a second excuse or
        extension): staff are told, both stay, the latest extension is the one that counts."""
        return [d for d in self.store.decisions(decision.campaign_id)
                if d.active and d.id != decision.id and d.kind == decision.kind
                and d.unit_id == decision.unit_id and d.kind in REPEATABLE]

    def parse_until(self, text: str) -> tuple[dt.datetime, bool]:
        """A date typed by staff (dd/mm/yyyy [hh:mm] or ISO) and whether it had no time (= the end of that day)."""
        return parse_staff_datetime(text, self.cfg.timezone, self.now())

    def decisions(self, campaign_id: str | None) -> list[DecisionView]:
        """Staff decisions, revoked ones included, oldest first; every campaign's when none is named."""
        if campaign_id is not None:
            campaign_id = self.campaign(campaign_id).id
        return self.store.decisions(campaign_id)

    def revoke(self, decision_id: int, actor: str) -> DecisionView:
        """Revoke a decision; its effect ends (a link is removed, a section choice reverts to the finder's)."""
        before = self.store.decision(decision_id)
        if before is None:
            raise UsageError(_("decision: no decision {id}", id=decision_id))
        if before.revoked_at is not None:
            raise UsageError(_("decision: {id} was already revoked", id=decision_id))
        if before.kind == DecisionKind.CORRECTED_ACK:
            raise UsageError(_("decision: {id} is an acknowledgement already sent: it cannot be revoked",
                               id=decision_id))
        if before.kind in CATALOG_KINDS:
            # Undoing an edit or a removal would silently overwrite what came after it: staff change
            # the unit or campaign again instead, which is recorded as a decision of its own.
            raise UsageError(f"quyết định #{decision_id} là thay đổi danh mục (đơn vị, đợt báo cáo): không hủy được; "
                             "hãy sửa lại bằng `intake units edit` hoặc `intake campaign edit`")
        after = self.store.revoke_decision(decision_id, actor, self.now())
        assert after is not None
        pks: list[int] = []
        if after.kind == DecisionKind.LINK and after.address and after.unit_id:
            pks = self.store.unlink_address(after.address, after.unit_id, same_sender=address_key)
        elif after.kind == DecisionKind.SECTION and after.message_pk is not None:
            # What other reports learned from the choice goes with it: evaluated again without it.
            pks = [after.message_pk, *self._unlearn(after.id, actor)]
        elif after.kind == DecisionKind.LEARNED and after.message_pk is not None:
            pks = [after.message_pk]  # the finder's answer without that lesson (KnownFacts.unlearned)
        for pk in pks:
            self.app.pipeline.reprocess(pk)
        return after

    # -- the catalog: staff's roster and campaigns ------------------------------------

    def _change(self, actor: str, reason: str = "") -> Change:
        return Change(actor=actor, at=self.now(), reason=reason)

    def _catalog_store(self) -> CatalogStore:
        return CatalogStore(self.store.db)

    def add_unit(self, unit_id: str, *, name: str, emails: Sequence[str] = (), aliases: Sequence[str] = (),
                 group: str = "", actor: str) -> UnitConfig:
        catalog = self.catalog()
        existing = catalog.unit(unit_id)
        if existing is not None:
            read_only(existing.source, f"đơn vị \"{unit_id}\"")
            raise UsageError(f"đã có đơn vị mã \"{unit_id}\" (sửa bằng `intake units edit`)")
        unit = unit_of(unit_id.strip(), None, name=name, emails=emails, aliases=aliases, group=group)
        self._check_addresses(unit, catalog)
        self._catalog_store().save_units([(unit_entry(unit), DecisionKind.UNIT_ADD)], self._change(actor, unit.name))
        self._reevaluate_senders(unit.emails)
        return unit

    def edit_unit(self, unit_id: str, *, name: str | None = None, emails: Sequence[str] | None = None,
                  aliases: Sequence[str] | None = None, group: str | None = None,
                  actor: str) -> tuple[UnitConfig, list[str]]:
        """The unit changed and what changed; the options not given stay."""
        catalog = self.catalog()
        old = self.unit(unit_id)
        read_only(old.source, f"đơn vị \"{unit_id}\"")
        new = unit_of(unit_id, old, name=name, emails=emails, aliases=aliases, group=group)
        changes = unit_changes(old, new)
        if not changes:
            raise UsageError(f"đơn vị \"{unit_id}\": không có gì thay đổi")
        self._check_addresses(new, catalog)
        self._catalog_store().save_units([(unit_entry(new), DecisionKind.UNIT_EDIT)],
                                         self._change(actor, "; ".join(changes)))
        self._reevaluate_senders(new.emails)
        return new, changes

    def remove_unit(self, unit_id: str, actor: str) -> UnitConfig:
        """The unit leaves the roster and every campaign; its messages and decisions stay."""
        unit = self.unit(unit_id)
        read_only(unit.source, f"đơn vị \"{unit_id}\"")
        self._catalog_store().remove_unit(unit_id, self._change(actor, unit.name))
        return unit

    def _reevaluate_senders(self, addresses: Sequence[str]) -> None:
        """Unmatched messages from addresses a unit now has are evaluated again, as `units link` does."""
        for pk in self.store.waiting_messages(addresses, same_sender=address_key):
            self.app.pipeline.reprocess(pk)

    def _check_addresses(self, unit: UnitConfig, catalog: Catalog) -> None:
        conflict = address_conflict(unit, self.store.registered_addresses(), catalog)
        if conflict is not None:
            raise UsageError(f"--email: {conflict}")

    def preview_import(self, filename: str, data: bytes) -> ImportPreview:
        """What importing this roster file would do, row by row; nothing is written."""
        return preview_import(filename, read_roster(filename, data), self.catalog(),
                              self.store.registered_addresses())

    def import_units(self, filename: str, data: bytes, actor: str) -> ImportPreview:
        """Write the new and changed rows of the file (the preview computed again now), each with its
        decision, in one transaction; rows with errors are never written."""
        preview = self.preview_import(filename, data)
        writes = [(unit_entry(r.unit), DecisionKind.UNIT_ADD if r.state == RowState.NEW else DecisionKind.UNIT_EDIT)
                  for r in preview.writes if r.unit is not None]
        if writes:
            self._catalog_store().save_units(writes, self._change(actor, f"nhập từ tệp {filename}"))
            self._reevaluate_senders([e for r in preview.writes if r.unit is not None for e in r.unit.emails])
        log.info("roster import from %s by %s: %s", filename, actor or "?", preview.summary())
        return preview

    def campaign_draft(self, campaign_id: str, form: CampaignForm, *, new: bool) -> CampaignConfig:
        """The campaign `form` would make (checked, nothing written): a new one, or campaign_id edited."""
        catalog = self.catalog()
        if new:
            if any(c.id == campaign_id.strip() for c in catalog.campaigns):
                raise UsageError(f"--id: đã có đợt báo cáo mã \"{campaign_id}\"")
            return campaign_of(campaign_id.strip(), form, None, catalog, self.cfg.timezone, self.now())
        old = catalog.campaign(campaign_id)
        read_only(old.source, f"đợt báo cáo \"{campaign_id}\"")
        return campaign_of(campaign_id, form, old, catalog, self.cfg.timezone, self.now())

    def add_campaign(self, campaign_id: str, form: CampaignForm, actor: str) -> CampaignConfig:
        camp = self.campaign_draft(campaign_id, form, new=True)
        self._catalog_store().save_campaign(campaign_entry(camp), DecisionKind.CAMPAIGN_ADD,
                                            self._change(actor, camp.title))
        return camp

    def edit_campaign(self, campaign_id: str, form: CampaignForm, actor: str) -> tuple[CampaignConfig, list[str]]:
        new = self.campaign_draft(campaign_id, form, new=False)
        changes = campaign_changes(self.catalog().campaign(campaign_id), new, self.cfg.timezone)
        if not changes:
            raise UsageError(f"đợt báo cáo \"{campaign_id}\": không có gì thay đổi")
        self._catalog_store().save_campaign(campaign_entry(new), DecisionKind.CAMPAIGN_EDIT,
                                            self._change(actor, "; ".join(changes)))
        return new, changes

    # -- from the guideline to a campaign ------------------------------------------

    def read_guideline(self, filename: str, data: bytes) -> GuidelineFacts:
        """What a campaign needs from a guideline file (the name for its suffix only), read under the
        document reader's limits; UsageError (Vietnamese) when the file cannot be used."""
        return read_guideline(filename, data, self.cfg.timezone, self.now(), reader=self.app.reader)

    def guideline_form(self, facts: GuidelineFacts, typed: CampaignForm | None = None) -> CampaignForm:
        """The campaign form the guideline fills in, with what staff typed in its place; a campaign
        whose guideline gives no date of its own opens now."""
        form = overridden(form_from_guideline(facts), typed or CampaignForm())
        return form if form.opens is not None else dataclasses.replace(form, opens=self.now().isoformat())

    def add_campaign_from_guideline(self, campaign_id: str, filename: str, data: bytes, typed: CampaignForm,
                                    actor: str) -> CampaignConfig:
        """`campaign add --from-guideline`: the guideline's values, staff's in their place; a value
        neither gives (an unclear deadline) is a UsageError listing the candidates and the option."""
        facts = self.read_guideline(filename, data)
        form = self.guideline_form(facts, typed)
        require_complete(form, facts, self.cfg.timezone)
        return self.add_campaign(campaign_id, form, actor)

    def guideline_outline(self, filename: str, data: bytes) -> tuple[TemplateHeading, ...]:
        """`--outline-from FILE`: the đề cương the guideline attaches."""
        template = template_from_guideline(self.read_guideline(filename, data).outline)
        if not template:
            raise UsageError(f"--outline-from: không thấy đề cương báo cáo (I., II., …) trong {filename}")
        return template

    def close_campaign(self, campaign_id: str, actor: str) -> CampaignConfig:
        """Close a campaign: everything stays, its reminders stop, it takes no new mail by time."""
        camp = self.catalog().campaign(campaign_id)
        read_only(camp.source, f"đợt báo cáo \"{campaign_id}\"")
        self._catalog_store().close_campaign(campaign_id, self._change(actor, camp.title))
        return self.catalog().campaign(campaign_id)

    # -- messages ------------------------------------------------------------------

    def _pk(self, ref: str) -> int:
        pk = self.store.find_message(ref)
        if pk is None:
            raise UsageError(_("ref: no message \"{ref}\" (a reference such as TN24-00005, or a Message-ID)", ref=ref))
        return pk

    def show(self, ref: str) -> MessageView:
        return self.store.message_view(self._pk(ref))

    def dismiss(self, ref: str, reason: str, actor: str) -> DecisionView:
        """Set aside a message no unit could be found for: it leaves the `unmatched` list."""
        view = self.show(ref)
        if view.unit_id is not None or view.state not in ("processed", "failed"):
            raise UsageError(_("ref: {ref} is not an unmatched message", ref=ref))
        if view.dismissed:
            raise UsageError(_("ref: {ref} was already dismissed", ref=ref))
        return self.store.add_decision(DecisionKind.DISMISS, None, view.campaign_id, reason=reason.strip(),
                                       decided_by=actor, decided_at=self.now(), message_pk=view.pk)

    def retry(self, ref: str) -> RetryResult:
        """Process again one message whose processing failed (after a fix or an upgrade)."""
        pk = self.store.find_message(ref)
        if pk is None:
            raise UsageError(f"Không có thư \"{ref}\" (hãy ghi số tiếp nhận như TN24-00005, hoặc Message-ID).")
        view = self.store.message_view(pk)
        if view.state != MessageState.FAILED:
            state = MESSAGE_STATE_VI.get(view.state, view.state)
            raise UsageError(f"Thư {ref} không bị lỗi khi xử lý (tình trạng: {state}): không có gì để xử lý lại.")
        return self._retry(pk)

    def retry_failed(self) -> list[RetryResult]:
        """Process again every message whose processing failed, oldest first."""
        return [self._retry(pk) for pk in self.store.messages_in_state(MessageState.FAILED)]

    def _retry(self, pk: int) -> RetryResult:
        self.app.pipeline.reprocess(pk)
        view = self.store.message_view(pk)
        log.info("retried message %s: %s", view.reference, view.state)
        return RetryResult(view=view, ok=view.state != MessageState.FAILED)

    def attachment(self, ref: str, position: int) -> AttachmentFile:
        stored = self.store.attachment_file(self._pk(ref), position)
        if stored is None:
            raise UsageError(_("attachment: message {ref} has no attachment {position}", ref=ref, position=position))
        return stored

    def choose_section(self, ref: str, *, candidate: int | None = None, heading: str | None = None,
                       none: bool = False, actor: str) -> MessageView:
        """Staff correct a message's section: candidate N (1-based, as `show` lists them), the heading
        with that text, or none. Recorded as a decision; the text is re-extracted; no second acknowledgement."""
        if sum((candidate is not None, heading is not None, none)) != 1:
            raise UsageError(_("section: give exactly one of --candidate N, --heading TEXT, --none"))
        view = self.show(ref)
        report = next((a for a in view.attachments if a.is_report), None)
        if report is None or view.campaign_id is None:
            raise UsageError(_("ref: {ref} has no readable Word report to choose a section in", ref=ref))
        block: int | None = None
        chosen: str | None = None
        if candidate is not None:
            candidates = view.section.candidates if view.section else ()
            if not 1 <= candidate <= len(candidates):
                raise UsageError(_("candidate: {ref} has {count} candidate(s), not {candidate}", ref=ref,
                                   count=len(candidates), candidate=candidate))
            block, chosen = candidates[candidate - 1].block, candidates[candidate - 1].heading
        elif heading is not None:
            block, chosen = self._heading_block(self._outline(view.pk, report), report, heading)
        # What the choice teaches the campaign's finder: the heading's wording, numbering and place.
        exemplar = exemplar_for(self._outline(view.pk, report), block) if block is not None else None
        decision = self.store.add_decision(
            DecisionKind.SECTION, view.unit_id, view.campaign_id, decided_by=actor, decided_at=self.now(),
            message_pk=view.pk, position=report.position, block=block, heading=chosen,
            exemplar=exemplar_json(exemplar) if exemplar is not None else None)
        self.app.pipeline.reprocess(view.pk)
        if exemplar is not None:
            self._learn(decision, actor)
        return self.store.message_view(view.pk)

    def _learn(self, source: DecisionView, actor: str) -> list[DecisionView]:
        """Every report of the choice's campaign that the finder left for review or found nothing in
        (staff's own choices aside) evaluated again with what the choice taught; a LEARNED decision for
        each answer that changed. No acknowledgement goes out (`send_corrected_ack` when staff want one)."""
        learned: list[DecisionView] = []
        for pk in self.store.campaign_message_pks(source.campaign_id or ""):
            before = self.store.message_view(pk)
            if pk == source.message_pk or not needs_help(before):
                continue
            self.app.pipeline.reprocess(pk)
            after = self.store.message_view(pk)
            if answer_changed(before.section, after.section):
                learned.append(self.store.add_decision(
                    DecisionKind.LEARNED, after.unit_id, after.campaign_id, decided_by=actor, decided_at=self.now(),
                    reason=learned_reason(source.reference, actor, before.section, after.section),
                    message_pk=pk, heading=after.section.heading if after.section else None, source_id=source.id))
        log.info("staff choice %s taught campaign %s: %s report(s) changed", source.id, source.campaign_id,
                 len(learned))
        return learned

    def _unlearn(self, source_id: int, actor: str) -> list[int]:
        """Revoke what reports learned from staff choice `source_id`; the messages to evaluate again."""
        pks = []
        for learned in self.store.learned_from(source_id):
            self.store.revoke_decision(learned.id, actor, self.now())
            if learned.message_pk is not None:
                pks.append(learned.message_pk)
        return pks

    def send_corrected_ack(self, decision_id: int, actor: str) -> DecisionView:
        """Acknowledge again a report whose section a LEARNED decision changed: the acknowledgement
        template with the section as found now, threaded to the report, under its own dedupe key.
        Recorded as a CORRECTED_ACK decision; sent at once."""
        learned = self.store.decision(decision_id)
        if learned is None or learned.kind != DecisionKind.LEARNED or learned.message_pk is None:
            raise UsageError(f"quyết định #{decision_id} không phải một mục học được từ lựa chọn của cán bộ")
        if learned.revoked_at is not None:
            raise UsageError(f"quyết định #{decision_id} đã bị hủy")
        key = corrected_ack_key(learned.message_pk, learned.id)
        if self.store.queued(key=key):
            raise UsageError(f"thư {learned.reference}: đã gửi lại xác nhận đã sửa cho thay đổi này")
        mail, why = self.app.pipeline.corrected_ack(learned.message_pk, key)
        if mail is None:
            raise UsageError(f"thư {learned.reference}: không có xác nhận để gửi ({why})")
        self.store.queue([mail])
        decision = self.store.add_decision(
            DecisionKind.CORRECTED_ACK, learned.unit_id, learned.campaign_id, decided_by=actor, decided_at=self.now(),
            reason=f"gửi lại xác nhận đã sửa tới {mail.to_address}", message_pk=learned.message_pk,
            heading=learned.heading, source_id=learned.id)
        self.app.send_pending()
        return decision

    def candidate_texts(self, ref: str, length: int = CANDIDATE_PREVIEW) -> list[str]:
        """The start of each candidate's text, in `show`'s order, so that staff choosing a section see what
        lies under each heading ('' where a candidate has no block or the report cannot be read now)."""
        view = self.show(ref)
        candidates = view.section.candidates if view.section else ()
        report = next((a for a in view.attachments if a.is_report), None)
        if not candidates or report is None:
            return []
        stored = self.store.attachment_file(view.pk, report.position)
        if stored is None:
            return ["" for _c in candidates]
        try:
            outline = self.app.pipeline.read_document(stored)
        except DocumentError as exc:
            log.warning("candidate texts of %s: %s", ref, type(exc).__name__)
            return ["" for _c in candidates]
        texts = []
        for cand in candidates:
            text = section_at(outline, cand.block).text if cand.block is not None else ""
            text = " ".join(text.split())
            texts.append(text if len(text) <= length else text[:length].rsplit(" ", 1)[0] + " …")
        return texts

    def _outline(self, pk: int, report: AttachmentView) -> Outline:
        stored = self.store.attachment_file(pk, report.position)
        assert stored is not None
        return self.app.pipeline.read_document(stored)

    def _heading_block(self, outline: Outline, report: AttachmentView, text: str) -> tuple[int, str]:
        wanted = fold(text)
        headings = heading_blocks(outline)
        exact = [h for h in headings if fold(h.heading) == wanted]
        partial = exact or [h for h in headings if wanted and wanted in fold(h.heading)]
        if len(partial) == 1:
            return partial[0].block, partial[0].heading
        if not partial:
            raise UsageError(_("heading: no heading \"{text}\" in {file}", text=text, file=report.filename))
        raise UsageError(_("heading: \"{text}\" matches {count} headings: {headings}", text=text,
                           count=len(partial), headings="; ".join(h.heading for h in partial[:5])))

    # -- outputs -------------------------------------------------------------------

    def export(self, campaign_id: str | None, fmt: str, csv_dialect: str = "vn") -> bytes:
        """The file's bytes, through the exporter registry (an unknown format is a UsageError)."""
        ctx = ExportContext(self.cfg.timezone, self.now(), self.cfg.report, csv_dialect)
        return render(self.status(campaign_id), fmt, ctx)

    def resend_request(self, unit: str, campaign_id: str | None, actor: str, *, send: bool) -> ResendRequest:
        """Ask a unit to send its report again: the templated mail (shown to staff first), then, with
        `send`, queued through `outgoing`, sent, and recorded as a decision. UsageError without an address."""
        unit_id, camp = self._expected(unit, campaign_id)
        row = next(u for u in self.status(camp.id).units if u.id == unit_id)
        request = self.app.reminders.resend_request(camp, row, self.now())
        if not request.mails:
            raise UsageError(_("unit: {unit} has no registered address to write to (see `intake units link`)",
                               unit=unit_id))
        if send:
            self.store.queue(list(request.mails))
            self.store.add_decision(DecisionKind.RESEND, unit_id, camp.id, reason=", ".join(request.to),
                                    decided_by=actor, decided_at=self.now())
            self.app.send_pending()
        return request

    def remind(self, campaign_id: str | None, dry_run: bool, actor: str) -> ReminderPlan:
        """Email the units still missing now (at most once a day each); sends unless `dry_run`."""
        camp = self.campaign(campaign_id)
        plan = self.app.reminders.remind_now(camp, dry_run=dry_run)
        if not dry_run:
            sent = self.app.send_pending()
            log.info("reminders queued by %s: %s, sent %s", actor or "?", len(plan.queued), sent.sent)
        return plan
