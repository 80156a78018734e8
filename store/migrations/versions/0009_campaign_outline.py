"""The guideline's outline (đề cương) of a campaign, for the finder (issue 24): the headings with
their levels, and which of them is the required part. Existing campaigns have none: nothing changes.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.add_column("campaigns", sa.Column("outline", sa.JSON(), nullable=False, server_default="[]"))
    op.add_column("campaigns", sa.Column("outline_required", sa.Integer(), nullable=True))


def downgrade() -> None:
    for column in ("outline_required", "outline"):
        op.drop_column("campaigns", column)
