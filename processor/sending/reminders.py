"""Reminders to units still missing, and the staff's daily digest.

Both are rows of the `outgoing` table, written with a dedupe key that says
what they are for, so that whatever runs them (the daemon's scheduler, the
`remind` command, a restart) never sends the same one twice:

- scheduled reminder: `remind:<campaign>:<unit>:<point>:<address>`, one per
  registered address of the unit; `<point>` is the campaign's `remind` entry
  ("-3d"). A unit gets at most one reminder per point (checked on the
  `remind:<campaign>:<unit>:<point>:` prefix, so an address linked later does
  not trigger a second round);
- manual reminder (`intake remind`): `remind:<campaign>:<unit>:manual:<local
  date>:<address>`: sending it again the same day does nothing;
- digest: `digest:<local date>:<address>`, one a day to each `[staff] emails`
  address, at or after `digest_at` (a daemon started later that day sends it then).

Which point is due is decided from the store and the injected clock, not
from the scheduler's own timing: at time `now` the due point of a unit is the
latest point at or before `now` (its deadline, or its extension, plus the
offset) and not before the campaign opened. Points missed while the daemon
was down are not sent late one after another: only the latest is.
"""
from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment
from rich.console import Console

from intake.parsers.errors import UsageError
from intake.parsers.headers import usable_address
from intake.parsers.model import Problem
from intake.processor.catalog import Catalog, read_catalog
from intake.processor.config import CampaignConfig, Config
from intake.processor.sending import STALE_AFTER  # a reminder point further back: recorded as skipped
from intake.processor.sending.compose import compose, template_env
from intake.processor.staff.report import PROBLEM_VI, STATE_VI
from intake.processor.times import deadline_time, local_time
from intake.processor.units import UnitConfig
from intake.store.kinds import OutgoingKind, OutgoingState
from intake.store.records import OutgoingMail
from intake.store.repository import Store
from intake.store.status import CampaignStatus, UnitState, UnitStatus

log = logging.getLogger(__name__)
MANUAL = "manual"
# A finished campaign stays in the digest this long after its deadline.
DIGEST_KEEPS = dt.timedelta(days=30)


@dataclass(frozen=True)
class Reminder:
    campaign_id: str
    unit_id: str
    unit_name: str
    point: str  # "-3d", or "manual"
    addresses: tuple[str, ...]


@dataclass
class Plan:
    """What a reminder round did (or, dry, would do)."""

    queued: list[Reminder] = field(default_factory=list)
    no_address: list[UnitStatus] = field(default_factory=list)
    already: list[UnitStatus] = field(default_factory=list)
    stale: list[Reminder] = field(default_factory=list)  # recorded as skipped: the point is long past


@dataclass(frozen=True)
class ResendRequest:
    """A request to send again: what staff confirm (subject, body, to whom) and the mails to queue."""

    subject: str
    body: str
    mails: tuple[OutgoingMail, ...]

    @property
    def to(self) -> tuple[str, ...]:
        return tuple(m.to_address for m in self.mails)


class Reminders:
    def __init__(self, cfg: Config, store: Store, clock: Callable[[], dt.datetime],
                 catalog: Callable[[], Catalog] | None = None, env: Environment | None = None) -> None:
        """`catalog`: the roster and campaigns, read again at every run (staff change them while the
        daemon runs); by default read from `store`."""
        self.cfg, self.store, self.clock = cfg, store, clock
        self.catalog = catalog or (lambda: read_catalog(store))
        self.env = env or template_env()
        self.tz: ZoneInfo = cfg.timezone

    def status(self, camp: CampaignConfig, units: tuple[UnitConfig, ...] | None = None) -> CampaignStatus:
        roster = self.catalog().units if units is None else units
        return self.store.campaign_status(camp.id, camp.title, camp.deadline, camp.unit_ids(roster))

    # -- what is due ----------------------------------------------------------------

    def due_point(self, camp: CampaignConfig, unit: UnitStatus, now: dt.datetime) -> str | None:
        """The latest of the campaign's reminder points reached by `now`, for this unit's deadline."""
        reached = [(unit.deadline + p.offset, p.label) for p in camp.remind]
        reached = [(when, p) for when, p in reached if camp.opens <= when <= now]
        return max(reached)[1] if reached else None

    def scheduled(self) -> Plan:
        """Queue the reminders due now for every campaign (the daemon's job)."""
        now = self.clock()
        plan = Plan()
        catalog = self.catalog()
        for camp in catalog.campaigns:
            if not camp.remind or now < camp.opens or camp.closed:  # closing stops a campaign's reminders
                continue
            for unit in self._missing(camp, catalog.units):
                point = self.due_point(camp, unit, now)
                if point is not None:
                    when = unit.deadline + next(p.offset for p in camp.remind if p.label == point)
                    stale = f"stale: reminder point {point} was {when:%Y-%m-%d %H:%M} UTC, more than a day ago" \
                        if when < now - STALE_AFTER else None
                    self._queue(camp, unit, point, now, plan, dry_run=False, skip=stale)
        return plan

    def remind_now(self, camp: CampaignConfig, *, dry_run: bool = False) -> Plan:
        """`intake remind`: every unit still missing, once a day at most."""
        now = self.clock()
        plan = Plan()
        if camp.closed:
            raise UsageError(f"đợt báo cáo \"{camp.id}\" đã kết thúc: không nhắc nữa")
        if now < camp.opens:
            return plan
        for unit in self._missing(camp):
            self._queue(camp, unit, f"{MANUAL}:{now.astimezone(self.tz):%Y-%m-%d}", now, plan, dry_run=dry_run)
        return plan

    def _missing(self, camp: CampaignConfig, units: tuple[UnitConfig, ...] | None = None) -> list[UnitStatus]:
        # Excused units are EXCUSED and units that sent a readable report ON_TIME/LATE: neither is reminded.
        return [u for u in self.status(camp, units).units if u.status == UnitState.MISSING]

    # -- queueing -----------------------------------------------------------------

    def _queue(self, camp: CampaignConfig, unit: UnitStatus, point: str, now: dt.datetime, plan: Plan,
               *, dry_run: bool, skip: str | None = None) -> None:
        addresses = self.addresses_of(unit.id)
        if not addresses:
            plan.no_address.append(unit)
            return
        prefix = f"remind:{camp.id}:{unit.id}:{point}:"
        if self.store.queued(prefix=prefix):
            plan.already.append(unit)
            return
        reminder = Reminder(camp.id, unit.id, unit.name, point.split(":", 1)[0], addresses)
        done = plan.stale if skip else plan.queued
        if dry_run:
            done.append(reminder)
            return
        mails = [self._reminder(camp, unit, point, address, now, skip=skip) for address in addresses]
        if not self.store.queue(mails, unless_prefix=prefix):
            plan.already.append(unit)  # queued meanwhile by another process
            return
        done.append(reminder)
        if skip:
            log.info("reminder %s for %s recorded as skipped, never sent: %s", point, unit.id, skip)
        else:
            log.info("reminder %s queued for %s (%s)", point, unit.id, ", ".join(addresses))

    def addresses_of(self, unit_id: str) -> tuple[str, ...]:
        # An address no header may carry (a line break pasted into `units link`) is never written.
        return tuple(sorted(a for a, u in self.store.registered_addresses().items()
                            if u == unit_id and usable_address(a) == a.strip()))

    def _reminder(self, camp: CampaignConfig, unit: UnitStatus, point: str, address: str,
                  now: dt.datetime, skip: str | None = None) -> OutgoingMail:
        lang = self.cfg.acknowledge.language
        overdue = now >= unit.deadline
        context = {
            "unit_name": unit.name, "office": self.cfg.sending.from_name or self.cfg.sending.from_address,
            "campaign": {"id": camp.id, "title": camp.title, "section_title": camp.section_title},
            "deadline": unit.deadline.astimezone(self.tz), "extended": unit.decision.extended_until is not None,
            "overdue": overdue, "now": now.astimezone(self.tz),
            "earlier_problems": [PROBLEM_VI[p] if lang == "vi" else p.replace("_", " ")
                                 for p in (unit.latest.problems if unit.latest else ())
                                 if p in PROBLEM_VI and p != Problem.PROCESSING_FAILED],  # ours, not theirs
            "reply_to": self.cfg.sending.from_address,
        }
        subject = (f"{'Nhắc gửi báo cáo (quá hạn)' if overdue else 'Nhắc gửi báo cáo'}: {camp.title}"
                   if lang == "vi" else f"{'Overdue report' if overdue else 'Reminder'}: {camp.title}")
        composed = compose(self.env, f"reminder_{lang}", context, from_address=self.cfg.sending.from_address,
                           from_name=self.cfg.sending.from_name, to_address=address, to_name=unit.name,
                           subject=subject, now=now, auto_reply=False)
        return OutgoingMail(kind=OutgoingKind.REMINDER, dedupe_key=f"remind:{camp.id}:{unit.id}:{point}:{address}",
                            to_address=address, subject=composed.subject, our_message_id=composed.message_id,
                            raw=composed.raw, created_at=now, unit_id=unit.id, campaign_id=camp.id,
                            state=OutgoingState.SKIPPED if skip else OutgoingState.PENDING, reason=skip)

    # -- asking a unit to send again ---------------------------------------------------

    def resend_request(self, camp: CampaignConfig, unit: UnitStatus, now: dt.datetime) -> ResendRequest:
        """The mail asking `unit` to send its report again (staff's "Đề nghị gửi lại"): its text for staff
        to confirm, and one mail per registered address to queue."""
        lang = self.cfg.acknowledge.language
        latest = unit.latest
        context = {
            "unit_name": unit.name, "office": self.cfg.sending.from_name or self.cfg.sending.from_address,
            "campaign": {"id": camp.id, "title": camp.title, "section_title": camp.section_title},
            "deadline": unit.deadline.astimezone(self.tz), "reply_to": self.cfg.sending.from_address,
            "reference": latest.reference if latest else None,
            "received_at": latest.received_at.astimezone(self.tz) if latest else None,
            "problems": [PROBLEM_VI[p] if lang == "vi" else p.replace("_", " ")
                         for p in (latest.problems if latest else ()) if p in PROBLEM_VI],
        }
        subject = (f"Đề nghị gửi lại báo cáo: {camp.title}" if lang == "vi"
                   else f"Please send your report again: {camp.title}")
        body = self.env.get_template(f"resend_{lang}.txt.j2").render(context)
        mails = []
        for address in self.addresses_of(unit.id):
            composed = compose(self.env, f"resend_{lang}", context, from_address=self.cfg.sending.from_address,
                               from_name=self.cfg.sending.from_name, to_address=address, to_name=unit.name,
                               subject=subject, now=now, auto_reply=False)
            mails.append(OutgoingMail(kind=OutgoingKind.RESEND, to_address=address, subject=composed.subject,
                                      dedupe_key=f"resend:{camp.id}:{unit.id}:{now.isoformat()}:{address}",
                                      our_message_id=composed.message_id, raw=composed.raw, created_at=now,
                                      unit_id=unit.id, campaign_id=camp.id))
        return ResendRequest(subject=subject, body=body, mails=tuple(mails))

    # -- the daily digest -----------------------------------------------------------

    def digest_due(self, now: dt.datetime) -> bool:
        staff = self.cfg.staff
        if not staff.emails or staff.digest_at is None:
            return False
        local = now.astimezone(self.tz)
        return (local.hour, local.minute) >= (staff.digest_at.hour, staff.digest_at.minute)

    def digest(self) -> int:
        """Queue today's digest to each staff address not sent one yet; the number queued."""
        now = self.clock()
        if not self.digest_due(now):
            return 0
        today = f"{now.astimezone(self.tz):%Y-%m-%d}"
        camps = [c for c in self.catalog().campaigns
                 if c.opens <= now <= c.deadline + DIGEST_KEEPS and not c.closed]
        if not camps:
            return 0
        keys = {address: f"digest:{today}:{address.strip().lower()}" for address in self.cfg.staff.emails}
        due = [a for a, key in keys.items() if not self.store.queued(key=key)]
        if not due:
            return 0
        context = self._digest_context(camps, now)  # its own transactions: never inside another one
        lang = self.cfg.staff.language
        subject = (f"Tình hình nhận báo cáo ngày {now.astimezone(self.tz):%d/%m/%Y}" if lang == "vi"
                   else f"Reports received: {now.astimezone(self.tz):%d %B %Y}")
        mails = []
        for address in due:
            composed = compose(self.env, f"digest_{lang}", context, from_address=self.cfg.sending.from_address,
                               from_name=self.cfg.sending.from_name, to_address=address, to_name="",
                               subject=subject, now=now, auto_reply=False)
            mails.append(OutgoingMail(kind=OutgoingKind.DIGEST, dedupe_key=keys[address], to_address=address,
                                      subject=composed.subject, our_message_id=composed.message_id,
                                      raw=composed.raw, created_at=now))
        # A key queued meanwhile by another process (`intake remind` beside the daemon) is skipped by the store.
        queued = self.store.queue(mails)
        if queued:
            log.info("digest for %s queued to %s address(es)", today, queued)
        return queued

    def _digest_context(self, camps: Sequence[CampaignConfig], now: dt.datetime) -> dict[str, Any]:
        blocks = []
        for camp in camps:
            status = self.status(camp)
            counts = status.counts()
            by_state: dict[UnitState, list[UnitStatus]] = defaultdict(list)
            for unit in status.units:
                by_state[unit.status].append(unit)
            blocks.append({
                "title": camp.title, "id": camp.id, "deadline": deadline_time(camp.deadline, self.tz),
                "counts": [(STATE_VI[s], s.value, counts[s]) for s in UnitState], "total": len(status.units),
                "missing": [u.name for u in by_state[UnitState.MISSING]],
                "late": [(u.name, local_time(u.received_at, self.tz)) for u in by_state[UnitState.LATE]],
                "no_section": [u.name for u in status.units if u.latest and u.latest.has_report
                               and (u.latest.section is None or not u.latest.section.found)],
                "failed": [(u.name, u.latest.reference or "", u.latest.note) for u in status.units
                           if u.latest is not None and u.latest.failed],
                "unmatched": len(status.unmatched),
            })
        return {"campaigns": blocks, "now": local_time(now, self.tz),
                "office": self.cfg.sending.from_name or self.cfg.sending.from_address}


def print_plan(plan: Plan, console: Console, *, dry_run: bool) -> None:
    verb = "Sẽ gửi nhắc" if dry_run else "Đã xếp lịch gửi nhắc"
    for r in plan.queued:
        console.print(f"{verb}: {r.unit_name} -> {', '.join(r.addresses)}", highlight=False)
    for unit in plan.already:
        console.print(f"Đã nhắc hôm nay, không gửi lại: {unit.name}", highlight=False)
    for unit in plan.no_address:
        console.print(f"[yellow]Chưa có địa chỉ thư để nhắc:[/yellow] {unit.name}", highlight=False)
    if not (plan.queued or plan.already or plan.no_address):
        console.print("Không có đơn vị nào cần nhắc.")
