"""Engine and session set-up, the same code on SQLite and PostgreSQL.

SQLite follows the dialect docs' recipe for writers under contention: the
driver's own transaction handling off, `BEGIN IMMEDIATE` on every begin, WAL,
and a busy timeout on every connection.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from intake.parsers.errors import StoreError
from intake.store import users as _users  # noqa: F401  (registers the dashboard's tables on Base.metadata)
from intake.store.models import Base

SQLITE_BUSY_MS = 30_000


def make_engine(url: str) -> Engine:
    try:
        if url.startswith("sqlite"):
            engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_MS / 1000})
            _sqlite_recipe(engine)
        else:
            engine = create_engine(url, pool_pre_ping=True)
    except (SQLAlchemyError, ImportError) as exc:
        raise StoreError(f"cannot open the store at {url.split('@')[-1]}: {exc}") from exc
    return engine


def _sqlite_recipe(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = FULL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def create_schema(engine: Engine) -> None:
    try:
        Base.metadata.create_all(engine)
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot create the store's tables: {exc}") from exc


class Database:
    """Owns one engine and hands out short transactions."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        create_schema(self.engine)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One short transaction: committed on success, rolled back on error."""
        session = self._sessions()
        try:
            with session.begin():
                yield session
        except SQLAlchemyError as exc:
            raise StoreError(f"database error: {exc}") from exc
        finally:
            session.close()

    def dispose(self) -> None:
        self.engine.dispose()
