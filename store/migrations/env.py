"""Alembic environment: always run from intake.store.schema with an open connection.

There is no alembic.ini: `intake db upgrade` builds the Alembic config in code
and hands its connection in `config.attributes["connection"]`.
"""
from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from intake.store.models import Base

connection: Connection | None = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `intake db upgrade` (intake.store.schema), not the alembic command")
context.configure(connection=connection, target_metadata=Base.metadata,
                  render_as_batch=connection.dialect.name == "sqlite", compare_type=True)
with context.begin_transaction():
    context.run_migrations()
