"""The schema of release 0.1.0 (main 9df1c91), before migrations existed.

A store made by that release has exactly these tables and no
`alembic_version`; `intake db upgrade` recognises it and stamps it with
this revision before applying the later ones.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
When = sa.DateTime(timezone=True)


def _enum(name: str, *members: str) -> sa.Enum:
    return sa.Enum(*members, name=name, native_enum=False, length=20)


def upgrade() -> None:
    op.create_table(
        "units",
        sa.Column("id", sa.String(100), primary_key=True),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("group", sa.String(100), nullable=False),
        sa.Column("aliases", sa.JSON(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
    )
    op.create_table(
        "campaigns",
        sa.Column("id", sa.String(100), primary_key=True),
        sa.Column("title", sa.String(500), nullable=False),
        sa.Column("opens", When, nullable=False),
        sa.Column("deadline", When, nullable=False),
        sa.Column("section_title", sa.Text(), nullable=False),
    )
    op.create_table(
        "unit_addresses",
        sa.Column("address", sa.String(320), primary_key=True),
        sa.Column("unit_id", sa.String(100), sa.ForeignKey("units.id"), nullable=False),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("created_at", When, nullable=False),
    )
    op.create_table(
        "messages",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("message_id", sa.String(998), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("raw_path", sa.String(200), nullable=False),
        sa.Column("received_at", When, nullable=False),
        sa.Column("stored_at", When, nullable=False),
        sa.Column("state", _enum("messagestate", "STORED", "PROCESSED", "IGNORED", "FAILED"), nullable=False),
        sa.Column("date_header", When, nullable=True),
        sa.Column("from_address", sa.String(320), nullable=False),
        sa.Column("from_name", sa.String(500), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("ignore_reason", sa.String(200), nullable=True),
        sa.Column("unit_id", sa.String(100), sa.ForeignKey("units.id"), nullable=True),
        sa.Column("match", _enum("matchmethod", "ADDRESS", "DOCUMENT_HEADER", "DISPLAY_NAME", "NONE"),
                  nullable=False),
        sa.Column("campaign_id", sa.String(100), sa.ForeignKey("campaigns.id"), nullable=True),
        sa.Column("problems", sa.JSON(), nullable=False),
        sa.Column("has_report", sa.Boolean(), nullable=False),
        sa.Column("has_word_file", sa.Boolean(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("processed_at", When, nullable=True),
        sa.Column("reference", sa.String(40), nullable=True),
        sa.UniqueConstraint("message_id", "sha256", name="uq_message_identity"),
    )
    op.create_index("ix_messages_unit_campaign", "messages", ["unit_id", "campaign_id"])
    op.create_index("ix_messages_state", "messages", ["state"])
    op.create_table(
        "mailbox_entries",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("mailbox", sa.String(300), nullable=False),
        sa.Column("folder", sa.String(300), nullable=False),
        sa.Column("uidvalidity", sa.BigInteger(), nullable=False),
        sa.Column("item_key", sa.String(300), nullable=False),
        sa.Column("message_pk", BigId, sa.ForeignKey("messages.id"), nullable=True),
        sa.Column("seen_at", When, nullable=False),
        sa.Column("after_done", sa.Boolean(), nullable=False),
        sa.UniqueConstraint("mailbox", "folder", "uidvalidity", "item_key", name="uq_mailbox_item"),
    )
    op.create_table(
        "mailbox_state",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("mailbox", sa.String(300), nullable=False),
        sa.Column("folder", sa.String(300), nullable=False),
        sa.Column("uidvalidity", sa.BigInteger(), nullable=False),
        sa.Column("last_uid", sa.BigInteger(), nullable=False),
        sa.UniqueConstraint("mailbox", "folder", name="uq_mailbox_folder"),
    )
    op.create_table(
        "attachments",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("message_pk", BigId, sa.ForeignKey("messages.id"), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(500), nullable=False),
        sa.Column("content_type", sa.String(200), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("problem", sa.String(40), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("is_report", sa.Boolean(), nullable=False),
    )
    op.create_index("ix_attachments_message_pk", "attachments", ["message_pk"])
    op.create_table(
        "sections",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("message_pk", BigId, sa.ForeignKey("messages.id"), nullable=False, unique=True),
        sa.Column("attachment_id", BigId, sa.ForeignKey("attachments.id"), nullable=True),
        sa.Column("found", sa.Boolean(), nullable=False),
        sa.Column("heading", sa.Text(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("figures", sa.JSON(), nullable=False),
        sa.Column("issuer", sa.Text(), nullable=True),
    )
    op.create_table(
        "outgoing",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("kind", _enum("outgoingkind", "ACK", "REMINDER", "DIGEST"), nullable=False),
        sa.Column("dedupe_key", sa.String(300), nullable=False, unique=True),
        sa.Column("message_pk", BigId, sa.ForeignKey("messages.id"), nullable=True),
        sa.Column("unit_id", sa.String(100), nullable=True),
        sa.Column("campaign_id", sa.String(100), nullable=True),
        sa.Column("to_address", sa.String(320), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("our_message_id", sa.String(300), nullable=False),
        sa.Column("raw", sa.LargeBinary(), nullable=False),
        sa.Column("state", _enum("outgoingstate", "PENDING", "SENDING", "SENT", "FAILED", "SKIPPED"),
                  nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", When, nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", When, nullable=False),
        sa.Column("sent_at", When, nullable=True),
    )
    op.create_index("ix_outgoing_state", "outgoing", ["state", "next_attempt_at"])
    op.create_index("ix_outgoing_to_created", "outgoing", ["to_address", "created_at"])
    op.create_table(
        "decisions",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("kind", _enum("decisionkind", "EXCUSE", "EXTEND"), nullable=False),
        sa.Column("unit_id", sa.String(100), sa.ForeignKey("units.id"), nullable=False),
        sa.Column("campaign_id", sa.String(100), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("until", When, nullable=True),
        sa.Column("decided_by", sa.String(200), nullable=False),
        sa.Column("decided_at", When, nullable=False),
    )


def downgrade() -> None:
    for table in ("decisions", "outgoing", "sections", "attachments", "mailbox_state", "mailbox_entries",
                  "messages", "unit_addresses", "campaigns", "units"):
        op.drop_table(table)
