"""Alembic migrations of the store (applied by `intake db upgrade`, see intake.store.schema)."""
