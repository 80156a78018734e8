"""The store's tables (SQLAlchemy 2 typed ORM), portable to SQLite and PostgreSQL.

Times are stored in UTC as timezone-aware values (`UtcDateTime`), ids of
messages as 64-bit integers, lists as JSON.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    func,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from intake.store.kinds import (
    DecisionKind,
    MatchMethod,
    MessageState,
    OutgoingKind,
    OutgoingState,
    Source,
    ThrottleKey,
    utcnow,
)

__all__ = [
    "AttachmentRow", "Base", "Campaign", "CatalogState", "Decision", "DecisionKind", "LoginFailure", "MailboxEntry",
    "MailboxState", "MatchMethod", "Message", "MessageState", "Outgoing", "OutgoingKind", "OutgoingState", "SectionRow",
    "StaffUser", "ThrottleKey", "Unit", "UnitAddress", "UtcDateTime", "utcnow",
]

BigId = BigInteger().with_variant(Integer, "sqlite")


class UtcDateTime(TypeDecorator[dt.datetime]):
    """Aware datetimes in, aware UTC datetimes out, on every backend."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    pass


class Unit(Base):
    """A unit of the roster; a removed one (`active` false) stays for its messages and decisions."""

    __tablename__ = "units"
    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    group: Mapped[str] = mapped_column(String(100), default="")
    aliases: Mapped[list[str]] = mapped_column(JSON, default=list)
    position: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    emails: Mapped[list[str]] = mapped_column(JSON, default=list)  # as given; unit_addresses is the lookup
    source: Mapped[Source] = mapped_column(Enum(Source, native_enum=False, length=20),
                                           default=Source.CONFIG)


class UnitAddress(Base):
    """A sender address registered for a unit (from the config or `units link`)."""

    __tablename__ = "unit_addresses"
    address: Mapped[str] = mapped_column(String(320), primary_key=True)  # lower-cased
    unit_id: Mapped[str] = mapped_column(ForeignKey("units.id"))
    source: Mapped[str] = mapped_column(String(20), default="config")
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)


class Campaign(Base):
    """A campaign: from [[campaigns]] (mirrored, read-only) or created by staff. One dropped from the
    config is `active` false; a closed one (`closed_at`) keeps everything and takes no new mail by time."""

    __tablename__ = "campaigns"
    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    title: Mapped[str] = mapped_column(String(500))
    opens: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    deadline: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    section_title: Mapped[str] = mapped_column(Text)
    units: Mapped[list[str]] = mapped_column(JSON, default=lambda: ["*"])  # unit ids, "group:NAME", "*"
    section_keywords: Mapped[list[str]] = mapped_column(JSON, default=list)
    remind: Mapped[list[str]] = mapped_column(JSON, default=list)          # "-3d", "+1d", "-12h"
    source: Mapped[Source] = mapped_column(Enum(Source, native_enum=False, length=20),
                                           default=Source.CONFIG)
    position: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, nullable=True)
    closed_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    # The guideline's đề cương for the finder: [[heading as written, level], ...] and the required one's index.
    outline: Mapped[list[list[Any]]] = mapped_column(JSON, default=list)
    outline_required: Mapped[int | None] = mapped_column(Integer, nullable=True)


class CatalogState(Base):
    """One row: the catalog's version, raised by every change of the roster or the campaigns (a running
    daemon rebuilds its rules when it changed), and the digest of the config's part last mirrored."""

    __tablename__ = "catalog_state"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, default=0)
    config_digest: Mapped[str] = mapped_column(String(64), default="")


class Message(Base):
    """Every incoming message, stored before anything else is done with it."""

    __tablename__ = "messages"
    __table_args__ = (UniqueConstraint("message_id", "sha256", name="uq_message_identity"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    message_id: Mapped[str] = mapped_column(String(998))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    raw_path: Mapped[str] = mapped_column(String(200))  # relative to files_dir
    received_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    stored_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    state: Mapped[MessageState] = mapped_column(Enum(MessageState, native_enum=False, length=20),
                                                default=MessageState.STORED)
    date_header: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, nullable=True)
    from_address: Mapped[str] = mapped_column(String(320), default="")
    from_name: Mapped[str] = mapped_column(String(500), default="")
    subject: Mapped[str] = mapped_column(Text, default="")
    ignore_reason: Mapped[str | None] = mapped_column(String(200), nullable=True)
    unit_id: Mapped[str | None] = mapped_column(ForeignKey("units.id"), nullable=True)
    match: Mapped[MatchMethod] = mapped_column(Enum(MatchMethod, native_enum=False, length=20),
                                               default=MatchMethod.NONE)
    campaign_id: Mapped[str | None] = mapped_column(ForeignKey("campaigns.id"), nullable=True)
    problems: Mapped[list[str]] = mapped_column(JSON, default=list)
    has_report: Mapped[bool] = mapped_column(Boolean, default=False)
    has_word_file: Mapped[bool] = mapped_column(Boolean, default=False)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    processed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, nullable=True)
    reference: Mapped[str | None] = mapped_column(String(40), nullable=True)


Index("ix_messages_unit_campaign", Message.unit_id, Message.campaign_id)
Index("ix_messages_state", Message.state)


class MailboxEntry(Base):
    """Ledger of every mailbox item looked at: (mailbox, folder, UIDVALIDITY, key)."""

    __tablename__ = "mailbox_entries"
    __table_args__ = (UniqueConstraint("mailbox", "folder", "uidvalidity", "item_key", name="uq_mailbox_item"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    mailbox: Mapped[str] = mapped_column(String(300))
    folder: Mapped[str] = mapped_column(String(300))
    uidvalidity: Mapped[int] = mapped_column(BigInteger, default=0)
    item_key: Mapped[str] = mapped_column(String(300))  # IMAP UID, or Maildir unique name
    message_pk: Mapped[int | None] = mapped_column(ForeignKey("messages.id"), nullable=True)
    seen_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    after_done: Mapped[bool] = mapped_column(Boolean, default=False)


class MailboxState(Base):
    __tablename__ = "mailbox_state"
    __table_args__ = (UniqueConstraint("mailbox", "folder", name="uq_mailbox_folder"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    mailbox: Mapped[str] = mapped_column(String(300))
    folder: Mapped[str] = mapped_column(String(300))
    uidvalidity: Mapped[int] = mapped_column(BigInteger, default=0)
    last_uid: Mapped[int] = mapped_column(BigInteger, default=0)


class AttachmentRow(Base):
    __tablename__ = "attachments"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    message_pk: Mapped[int] = mapped_column(ForeignKey("messages.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    filename: Mapped[str] = mapped_column(String(500))   # as the sender named it: display only
    content_type: Mapped[str] = mapped_column(String(200))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(30))
    problem: Mapped[str | None] = mapped_column(String(40), nullable=True)
    detail: Mapped[str | None] = mapped_column(Text, nullable=True)
    is_report: Mapped[bool] = mapped_column(Boolean, default=False)


class SectionRow(Base):
    """The required section as extracted from a message's report."""

    __tablename__ = "sections"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    message_pk: Mapped[int] = mapped_column(ForeignKey("messages.id"), unique=True)
    attachment_id: Mapped[int | None] = mapped_column(ForeignKey("attachments.id"), nullable=True)
    found: Mapped[bool] = mapped_column(Boolean)
    heading: Mapped[str | None] = mapped_column(Text, nullable=True)
    text: Mapped[str] = mapped_column(Text, default="")
    score: Mapped[float] = mapped_column(Float, default=0.0)
    reason: Mapped[str] = mapped_column(Text, default="")
    figures: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    issuer: Mapped[str | None] = mapped_column(Text, nullable=True)
    confidence: Mapped[str] = mapped_column(String(20), default="sure")
    # [{"heading", "score", "why", "block"}], up to 3, best first
    candidates: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    chosen_by: Mapped[str] = mapped_column(String(20), default="finder")


class Outgoing(Base):
    """Mail intake sends, written in the transaction that decided to send it."""

    __tablename__ = "outgoing"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[OutgoingKind] = mapped_column(Enum(OutgoingKind, native_enum=False, length=20))
    dedupe_key: Mapped[str] = mapped_column(String(300), unique=True)
    message_pk: Mapped[int | None] = mapped_column(ForeignKey("messages.id"), nullable=True)
    unit_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    campaign_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    to_address: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(Text)
    our_message_id: Mapped[str] = mapped_column(String(300))
    raw: Mapped[bytes] = mapped_column(LargeBinary)
    state: Mapped[OutgoingState] = mapped_column(Enum(OutgoingState, native_enum=False, length=20),
                                                 default=OutgoingState.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, nullable=True)
    # While SENDING: who claimed it (store/holders.py), so that a dead sender's row is taken at once.
    claimed_by: Mapped[str | None] = mapped_column(String(200), nullable=True)


Index("ix_outgoing_state", Outgoing.state, Outgoing.next_attempt_at)
Index("ix_outgoing_to_created", Outgoing.to_address, Outgoing.created_at)
# The rate limit's count compares recipients without case (store/repository.py _count_since).
Index("ix_outgoing_to_lower_created", func.lower(Outgoing.to_address), Outgoing.created_at)


class Decision(Base):
    """A staff decision (see DecisionKind); revoked ones are kept, with who revoked them and when."""

    __tablename__ = "decisions"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[DecisionKind] = mapped_column(Enum(DecisionKind, native_enum=False, length=20))
    unit_id: Mapped[str | None] = mapped_column(ForeignKey("units.id"), nullable=True)
    campaign_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    until: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, nullable=True)
    decided_by: Mapped[str] = mapped_column(String(200), default="")
    decided_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    message_pk: Mapped[int | None] = mapped_column(ForeignKey("messages.id"), nullable=True)
    address: Mapped[str | None] = mapped_column(String(320), nullable=True)
    position: Mapped[int | None] = mapped_column(Integer, nullable=True)  # SECTION: the attachment
    block: Mapped[int | None] = mapped_column(Integer, nullable=True)     # SECTION: the heading; None = no section
    heading: Mapped[str | None] = mapped_column(Text, nullable=True)      # SECTION: the heading's text
    # SECTION: what the choice teaches the campaign's finder (parsers.guide.Exemplar as JSON)
    exemplar: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True), nullable=True)
    source_id: Mapped[int | None] = mapped_column(Integer, nullable=True)  # LEARNED, CORRECTED_ACK: what it follows
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, nullable=True)
    revoked_by: Mapped[str | None] = mapped_column(String(200), nullable=True)


class Heartbeat(Base):
    """When the daemon last did something (`intake health` reads it): one row per kind of beat."""

    __tablename__ = "heartbeats"
    name: Mapped[str] = mapped_column(String(50), primary_key=True)  # "mailbox_check", "started"
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    detail: Mapped[str] = mapped_column(Text, default="")


class Lease(Base):
    """Who may work on a named thing until when: "mailbox:<identity>" (one daemon per mailbox),
    "message:<pk>" (one process per stored message). See store/leases.py."""

    __tablename__ = "leases"
    name: Mapped[str] = mapped_column(String(300), primary_key=True)
    holder: Mapped[str] = mapped_column(String(200), default="")
    acquired_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)


# -- the dashboard's accounts and its login throttle's ledger (store/users.py) --


class StaffUser(Base):
    """One dashboard account. `name` is compared as given (already normalised by the caller)."""

    __tablename__ = "staff_users"
    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    password_hash: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, nullable=True)


class LoginFailure(Base):
    """One failed login, counted once per account name and once per client address."""

    __tablename__ = "login_failures"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[ThrottleKey] = mapped_column(Enum(ThrottleKey, native_enum=False, length=20))
    key: Mapped[str] = mapped_column(String(320))
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)


Index("ix_login_failures_key", LoginFailure.kind, LoginFailure.key, LoginFailure.at)
