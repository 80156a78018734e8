"""Engine and session set-up, the same code on SQLite and PostgreSQL.

SQLite follows the dialect docs' recipe for writers under contention: the
driver's own transaction handling off, `BEGIN IMMEDIATE` on every begin, WAL,
and a busy timeout on every connection. Two refinements for a process with
several threads (the pipeline, the sender alongside it, the dashboard):

- its own writers take turns on a lock in the process before they ask SQLite
  for the write lock. SQLite's busy handler polls in sleeps of 1, 2, 5, 10 ...
  50 ms; a backlog's two threads spent a tenth and a quarter of their time in
  those sleeps, for locks held well under a millisecond. The busy timeout is
  still what another process (a second daemon, `intake` commands) waits on.
- `reading()` / `read_session()` begin a read transaction: a deferred BEGIN
  on SQLite (in WAL a reader takes no write lock, so it neither waits for a
  writer nor holds one up; its first SELECT fixes its snapshot), REPEATABLE
  READ READ ONLY on PostgreSQL (one snapshot, no lock a writer waits on). A read
  opened while another is open in the same thread joins it: the reads of one
  page share one snapshot. Only `transaction()` and `connection()` write, and
  only they take the write lock.
"""
from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any

from sqlalchemy import Connection, Insert, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from intake.parsers.errors import StoreError
from intake.store.engine import READ_ONLY, READ_OPTIONS, make_engine, shown_url, sqlite_file
from intake.store.schema import (
    UPGRADE_HINT,
    SchemaOutdated,
    SchemaState,
    create_current,
    inspect_schema,
    require_current,
)

# Both run Core statements: the store's helpers take either.
Executor = Session | Connection
# Loggers of the store's libraries: quiet unless `-vv` asks for them (processor/ops/logs.py).
STORE_LIBRARY_LOGGERS = ("sqlalchemy", "alembic")


def dialect_of(executor: Executor) -> Dialect:
    return executor.dialect if isinstance(executor, Connection) else executor.get_bind().dialect


class Database:
    """Owns one engine and hands out short transactions.

    `create=True` (run, init, db upgrade, tests) makes a missing store; with
    `create=False` a missing store is refused without creating anything. Either
    way an existing store must be at this release's schema revision (schema.py)."""

    def __init__(self, url: str, *, create: bool = True) -> None:
        self.url = url
        where = shown_url(url)
        file_ = sqlite_file(url)
        if not create and file_ is not None and not file_.exists():
            raise SchemaOutdated(f"no store at {file_}: {UPGRADE_HINT} to create it, or check [store] url",
                                 reason="missing", where=str(file_))
        self.engine = make_engine(url)
        if create and inspect_schema(self.engine).state == SchemaState.EMPTY:
            create_current(self.engine)
        require_current(self.engine, where)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._reader = self.engine.execution_options(**{READ_ONLY: True}, **READ_OPTIONS.get(
            self.engine.dialect.name, {}))
        self._open_read = threading.local()  # this thread's open read transaction, joined by nested reads
        # SQLite's writers in this process take turns here (see the module's docstring).
        self._turns: AbstractContextManager[Any] = (
            threading.RLock() if self.engine.dialect.name == "sqlite" else nullcontext())

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One short transaction: committed on success, rolled back on error."""
        with self._turns:
            session = self._sessions()
            try:
                with session.begin():
                    yield session
            except SQLAlchemyError as exc:
                raise StoreError(f"database error: {exc}") from exc
            finally:
                session.close()

    @contextmanager
    def connection(self) -> Iterator[Connection]:
        """One short transaction on a Core connection, for the per-message path: the same
        commit and rollback as `transaction()`, without the ORM's session and unit of work
        (a third of the cost per statement)."""
        with self._turns:
            try:
                with self.engine.begin() as conn:
                    yield conn
            except SQLAlchemyError as exc:
                raise StoreError(f"database error: {exc}") from exc

    @contextmanager
    def reading(self) -> Iterator[Connection]:
        """A transaction that only reads: one snapshot, that waits for no writer and holds none up.
        Inside another read of this thread, that one (its snapshot) is used."""
        joined: Connection | None = getattr(self._open_read, "conn", None)
        if joined is not None:
            yield joined
            return
        try:
            with self._reader.begin() as conn:
                self._open_read.conn = conn
                try:
                    yield conn
                finally:
                    self._open_read.conn = None
        except SQLAlchemyError as exc:
            raise StoreError(f"database error: {exc}") from exc

    @contextmanager
    def read_session(self) -> Iterator[Session]:
        """`reading()` for the ORM: a session on the read transaction's connection, never committed."""
        with self.reading() as conn, Session(bind=conn, expire_on_commit=False) as session:
            yield session

    def dispose(self) -> None:
        self.engine.dispose()


def insert_ignore(s: Executor, model: Any, keys: list[str], values: dict[str, Any]) -> bool:
    """INSERT ... ON CONFLICT DO NOTHING on SQLite and PostgreSQL alike; True when the row went in."""
    done = s.execute(_insert_ignoring(dialect_of(s).name, model.__table__, tuple(keys)), values)
    return bool(getattr(done, "rowcount", 0) == 1)


@functools.lru_cache(maxsize=32)
def _insert_ignoring(dialect: str, table: Table, keys: tuple[str, ...]) -> Insert:
    """The statement for `insert_ignore`, built once per table; the values come with each execution."""
    insert_into = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert_into(table).on_conflict_do_nothing(index_elements=list(keys))
