"""outgoing: an index on the lower-cased recipient and creation time.

The acknowledgement rate limit counts the mail queued to one address in the
last hour, comparing addresses without case; without this index each count
read the whole outgoing table, so a backlog run slowed down as it went.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_index("ix_outgoing_to_lower_created", "outgoing", [sa.text("lower(to_address)"), "created_at"])


def downgrade() -> None:
    op.drop_index("ix_outgoing_to_lower_created", table_name="outgoing")
