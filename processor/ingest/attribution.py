"""Who sent a message, decided from its header alone (pure): the one owner of the attribution rules.

SPEC "Every report counts": before anything that can fail (reading the
documents, deciding, composing, sending), the stored message carries its
sender, subject, reference number, unit and campaign. `attribute` computes
that from a bounded header-only parse (`parsers.email.parse_email_headers`)
and the registered addresses; `Store.ingest` writes it in the transaction that
stores the raw bytes. Full processing (`decide.decide`) refines it with the
same rules (`identify_sender`, `campaign_by_time`): the document's issuer may
then identify the unit.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from intake.parsers.email import parse_email_headers
from intake.parsers.model import ParsedEmail, Problem
from intake.parsers.unit import UnitMatch, UnitName, address_key, identify_unit
from intake.processor.config import AcknowledgeConfig, CampaignConfig, Config, SendingConfig
from intake.processor.sending.acknowledge import AckPolicy
from intake.processor.units import UnitConfig
from intake.store.kinds import MatchMethod
from intake.store.records import Attribution

if TYPE_CHECKING:  # the rules stay pure: the catalog arrives as values
    from intake.processor.catalog import Catalog


@dataclass(frozen=True)
class Rules:
    """The parts of the config and of the catalog the attribution and the decision depend on."""

    units: tuple[UnitConfig, ...]
    campaigns: tuple[CampaignConfig, ...]
    policy: AckPolicy
    acknowledge: AcknowledgeConfig
    sending: SendingConfig
    timezone: ZoneInfo
    names: tuple[UnitName, ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "names", tuple(UnitName(u.id, (u.name, *u.aliases)) for u in self.units))

    @classmethod
    def for_config(cls, cfg: Config, catalog: Catalog) -> Rules:
        return cls(units=catalog.units, campaigns=catalog.campaigns, policy=AckPolicy.for_config(cfg),
                   acknowledge=cfg.acknowledge, sending=cfg.sending, timezone=cfg.timezone)

    def unit_name(self, unit_id: str | None) -> str | None:
        return next((u.name for u in self.units if u.id == unit_id), None)


def reference_number(message_pk: int, received_at: dt.datetime) -> str:
    """The number the acknowledgement gives the sender: TN24-00005."""
    return f"TN{received_at:%y}-{message_pk:05d}"


def identify_sender(rules: Rules, registered: Mapping[str, str], parsed: ParsedEmail,
                    issuer: str | None) -> UnitMatch:
    """SPEC: a registered address wins (case-insensitively, Gmail's dots and +tags aside); then the
    document's issuer or the display name, matched against names and aliases."""
    keyed = {address_key(a): u for a, u in registered.items()}
    return identify_unit(keyed, rules.names, parsed.from_address, parsed.from_name, issuer)


def campaign_by_time(rules: Rules, received_at: dt.datetime, unit_id: str | None) -> CampaignConfig | None:
    """The campaign open at the received time (earliest deadline first), preferring one that
    expects the unit; else the nearest deadline. A campaign closed by then takes nothing by time;
    None when no campaign is left."""
    camps = sorted((c for c in rules.campaigns if c.closed_at is None or received_at < c.closed_at),
                   key=lambda c: c.deadline)
    if not camps:
        return None
    open_ = [c for c in camps if c.opens <= received_at] or camps
    if unit_id is not None:
        expecting = [c for c in open_ if unit_id in c.unit_ids(rules.units)]
        open_ = expecting or open_
    pending = [c for c in open_ if received_at < c.deadline]
    return (pending or open_[::-1])[0]


def match_problems(method: str) -> tuple[Problem, ...]:
    """The problem a unit matched by name (not by a registered address) carries."""
    return (Problem.SENDER_NOT_REGISTERED,) if method in (MatchMethod.DOCUMENT_HEADER,
                                                          MatchMethod.DISPLAY_NAME) else ()


def attribute(message_pk: int, received_at: dt.datetime, headers: ParsedEmail, rules: Rules,
              registered: Mapping[str, str]) -> Attribution:
    """Who sent the message and for which campaign, from its header fields alone (no document)."""
    ignore = rules.policy.never_acknowledge(headers)
    match = UnitMatch(None, MatchMethod.NONE) if ignore else identify_sender(rules, registered, headers, None)
    campaign = campaign_by_time(rules, received_at, match.unit_id)
    return Attribution(
        from_address=headers.from_address, from_name=headers.from_name, subject=headers.subject,
        date_header=headers.date_header, reference=reference_number(message_pk, received_at),
        unit_id=match.unit_id, match=MatchMethod(match.method),
        campaign_id=campaign.id if campaign is not None else None,
        problems=match_problems(match.method), ignore_reason=ignore[:200] if ignore else None,
        error=headers.sender_problem or None)


def header_fields(raw: bytes) -> ParsedEmail:
    """The bounded header-only parse the attribution reads (the body is never looked at)."""
    return parse_email_headers(raw, "")


class Attributor:
    """`Store.ingest`'s `attribute` for one raw message: the rules bound, the header parsed once."""

    def __init__(self, rules: Rules, raw: bytes, received_at: dt.datetime) -> None:
        self.rules = rules
        self.headers = header_fields(raw)
        self.received_at = received_at

    def __call__(self, message_pk: int, registered: Mapping[str, str]) -> Attribution:
        return attribute(message_pk, self.received_at, self.headers, self.rules, registered)
