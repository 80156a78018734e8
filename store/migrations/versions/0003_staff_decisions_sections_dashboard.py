"""Staff decisions of every kind (link, section choice, dismiss, revoked), the section finder's
confidence and candidates, and the dashboard's accounts (issues 9, 10 and the web dashboard).

Existing rows keep their meaning: sections found before are `sure`, chosen by
the `finder`, with no candidates recorded; existing decisions stay unrevoked.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
When = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("sections") as batch:
        batch.add_column(sa.Column("confidence", sa.String(20), nullable=False, server_default="sure"))
        batch.add_column(sa.Column("candidates", sa.JSON(), nullable=False, server_default="[]"))
        batch.add_column(sa.Column("chosen_by", sa.String(20), nullable=False, server_default="finder"))
    with op.batch_alter_table("decisions") as batch:
        batch.alter_column("unit_id", existing_type=sa.String(100), nullable=True)
        batch.alter_column("campaign_id", existing_type=sa.String(100), nullable=True)
        batch.add_column(sa.Column("message_pk", BigId, nullable=True))
        batch.add_column(sa.Column("address", sa.String(320), nullable=True))
        batch.add_column(sa.Column("position", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("block", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("heading", sa.Text(), nullable=True))
        batch.add_column(sa.Column("revoked_at", When, nullable=True))
        batch.add_column(sa.Column("revoked_by", sa.String(200), nullable=True))
        batch.create_foreign_key("fk_decisions_message_pk", "messages", ["message_pk"], ["id"])
    op.create_table(
        "staff_users",
        sa.Column("name", sa.String(100), primary_key=True),
        sa.Column("password_hash", sa.String(300), nullable=False),
        sa.Column("created_at", When, nullable=False),
        sa.Column("last_login_at", When, nullable=True),
    )
    op.create_table(
        "login_failures",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.Enum("ACCOUNT", "ADDRESS", name="throttlekey", native_enum=False, length=20),
                  nullable=False),
        sa.Column("key", sa.String(320), nullable=False),
        sa.Column("at", When, nullable=False),
    )
    op.create_index("ix_login_failures_key", "login_failures", ["kind", "key", "at"])


def downgrade() -> None:
    op.drop_index("ix_login_failures_key", table_name="login_failures")
    op.drop_table("login_failures")
    op.drop_table("staff_users")
    with op.batch_alter_table("decisions") as batch:
        batch.drop_constraint("fk_decisions_message_pk", type_="foreignkey")
        for column in ("revoked_by", "revoked_at", "heading", "block", "position", "address", "message_pk"):
            batch.drop_column(column)
        batch.alter_column("campaign_id", existing_type=sa.String(100), nullable=False)
        batch.alter_column("unit_id", existing_type=sa.String(100), nullable=False)
    with op.batch_alter_table("sections") as batch:
        for column in ("chosen_by", "candidates", "confidence"):
            batch.drop_column(column)
