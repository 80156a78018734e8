"""The catalog in the store: units and campaigns created by staff beside the config's (issue 25).

Existing units and campaigns came from the config: they stay `CONFIG`, the
next start mirrors their emails, unit lists, keywords and reminder points
(the config digest is empty, so the first sync always runs).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | None = None
depends_on: str | None = None

When = sa.DateTime(timezone=True)


def _source() -> sa.Column[str]:
    return sa.Column("source", sa.Enum("CONFIG", "STAFF", name="source", native_enum=False, length=20),
                     nullable=False, server_default="CONFIG")


def upgrade() -> None:
    # Plain ADD COLUMN (no batch copy): SQLite would refuse to drop `units` while messages refer to it.
    op.add_column("units", sa.Column("emails", sa.JSON(), nullable=False, server_default="[]"))
    op.add_column("units", _source())
    op.add_column("campaigns", sa.Column("units", sa.JSON(), nullable=False, server_default='["*"]'))
    op.add_column("campaigns", sa.Column("section_keywords", sa.JSON(), nullable=False, server_default="[]"))
    op.add_column("campaigns", sa.Column("remind", sa.JSON(), nullable=False, server_default="[]"))
    op.add_column("campaigns", _source())
    op.add_column("campaigns", sa.Column("position", sa.Integer(), nullable=False, server_default="0"))
    op.add_column("campaigns", sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true()))
    op.add_column("campaigns", sa.Column("closed_at", When, nullable=True))
    op.add_column("campaigns", sa.Column("closed_by", sa.String(200), nullable=True))
    op.create_table(
        "catalog_state",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("config_digest", sa.String(64), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("catalog_state")
    for column in ("closed_by", "closed_at", "active", "position", "source", "remind", "section_keywords", "units"):
        op.drop_column("campaigns", column)
    op.drop_column("units", "source")
    op.drop_column("units", "emails")
