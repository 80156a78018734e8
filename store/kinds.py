"""The store's state and kind enums, and the system clock: plain Python, no SQLAlchemy.

`store/models.py` maps them to columns; processor/ imports them from here, so
nothing outside store/ loads the ORM to name a state.
"""
from __future__ import annotations

import datetime as dt
from enum import StrEnum


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class MessageState(StrEnum):
    STORED = "stored"          # raw bytes kept, not yet processed
    PROCESSED = "processed"    # parsed and recorded
    IGNORED = "ignored"        # auto-reply, bulk, DSN, our own: recorded, never counted
    FAILED = "failed"          # processing raised; kept for staff and retried never automatically


class MatchMethod(StrEnum):
    ADDRESS = "address"
    DOCUMENT_HEADER = "document_header"
    DISPLAY_NAME = "display_name"
    NONE = "none"


class OutgoingKind(StrEnum):
    ACK = "ack"
    REMINDER = "reminder"
    DIGEST = "digest"
    RESEND = "resend"      # staff asked a unit to send its report again


class OutgoingState(StrEnum):
    PENDING = "pending"
    SENDING = "sending"    # handed to the transport; next_attempt_at is the lease's end (see deliver_pending)
    SENT = "sent"
    FAILED = "failed"      # permanent failure, with the server's reply
    SKIPPED = "skipped"    # recorded, deliberately not sent (rate limit, too old)


class DecisionKind(StrEnum):
    EXCUSE = "excuse"      # a unit owes nothing this campaign
    EXTEND = "extend"      # a unit's later deadline (`until`)
    LINK = "link"          # a sender address registered for a unit (`address`)
    SECTION = "section"    # staff chose a message's section (`message_pk`, `block`, `position`)
    DISMISS = "dismiss"    # an unmatched message staff looked at and set aside (`message_pk`)
    # A staff choice taught the finder, and another report's section changed (`message_pk`, `heading`,
    # `source_id` = the SECTION decision learned from). Revoking it puts back the finder's answer without it.
    LEARNED = "learned"
    # A corrected acknowledgement staff sent after a LEARNED change (`message_pk`, `source_id` = the LEARNED one).
    CORRECTED_ACK = "corrected_ack"
    RESEND = "resend"      # staff asked the unit to send its report again (the mail is in `outgoing`)
    # The catalog (roster and campaigns) changed by staff; `reason` says what changed. Not revocable:
    # staff change it again instead (services.Office.revoke says so).
    UNIT_ADD = "unit_add"
    UNIT_EDIT = "unit_edit"
    UNIT_REMOVE = "unit_remove"
    CAMPAIGN_ADD = "campaign_add"
    CAMPAIGN_EDIT = "campaign_edit"
    CAMPAIGN_CLOSE = "campaign_close"


CATALOG_KINDS = frozenset({DecisionKind.UNIT_ADD, DecisionKind.UNIT_EDIT, DecisionKind.UNIT_REMOVE,
                           DecisionKind.CAMPAIGN_ADD, DecisionKind.CAMPAIGN_EDIT, DecisionKind.CAMPAIGN_CLOSE})


class Source(StrEnum):
    """Where a unit or campaign of the catalog comes from."""

    CONFIG = "config"      # [[units]], units_file, [[campaigns]]: read-only in the store
    STAFF = "staff"        # created by staff (CLI or dashboard)


class ThrottleKey(StrEnum):
    ACCOUNT = "account"
    ADDRESS = "address"


class UnitState(StrEnum):
    """A unit's place in a campaign's status table (SPEC "Status rules"; `store/status.py` applies them)."""

    MISSING = "missing"
    ON_TIME = "on_time"
    LATE = "late"
    EXCUSED = "excused"


def timeliness(received_at: dt.datetime, deadline: dt.datetime) -> UnitState:
    """SPEC: a report is on time when received before the deadline (a staff extension's, when one was
    granted), else late. The one owner of that rule: the status table and the acknowledgement ask it."""
    return UnitState.ON_TIME if received_at < deadline else UnitState.LATE
