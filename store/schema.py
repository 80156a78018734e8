"""The store's schema version: Alembic migrations in store/migrations/.

- A new, empty store is created from the models and stamped with the head
  revision (Alembic's recipe for a fresh database); `run`, `init` and
  `db upgrade` may do that.
- A store made by release 0.1.0 (before migrations) has intake's tables and
  no `alembic_version`: `db upgrade` stamps it with the first revision, then
  applies the rest.
- Every other command refuses a store that is missing or not at the head,
  naming `intake db upgrade`.
"""
from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, inspect
from sqlalchemy.exc import SQLAlchemyError

from intake.parsers.errors import StoreError
from intake.store.engine import make_engine, shown_url, sqlite_file
from intake.store.models import Base

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
FIRST_REVISION = "0001"
# Tables of release 0.1.0: a store holding them and no alembic_version is that release's.
RELEASE_0_1_TABLES = frozenset({"units", "unit_addresses", "campaigns", "messages", "mailbox_entries",
                                "mailbox_state", "attachments", "sections", "outgoing", "decisions"})
UPGRADE_HINT = "run `intake db upgrade` (after `intake backup`)"


class SchemaState(StrEnum):
    EMPTY = "empty"            # no tables at all
    UNVERSIONED = "unversioned"  # release 0.1.0's tables, no version recorded
    OUTDATED = "outdated"      # an older revision
    CURRENT = "current"
    UNKNOWN = "unknown"        # a revision this release does not know (made by a newer intake), or foreign tables


class SchemaOutdated(StoreError):
    """The store is missing or its schema is not this release's: `intake db upgrade`.

    `reason` ("missing", "empty", "unknown", "outdated") and the fields let the command line say
    it in the user's language; the message is the English of it (logs)."""

    def __init__(self, message: str, *, reason: str, where: str, revision: str | None = None,
                 head: str = "") -> None:
        super().__init__(message)
        self.reason, self.where, self.revision, self.head = reason, where, revision, head


@dataclass(frozen=True)
class Schema:
    state: SchemaState
    revision: str | None
    head: str


def _alembic(connection: Connection | None = None) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


@functools.cache
def _scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(_alembic())


def head_revision() -> str:
    head = _scripts().get_current_head()
    assert head is not None
    return head


def inspect_schema(engine: Engine) -> Schema:
    head = head_revision()
    try:
        with engine.connect() as conn:
            tables = set(inspect(conn).get_table_names())
            revision = MigrationContext.configure(conn).get_current_revision()
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot read the store: {exc}") from exc
    if revision is not None:
        known = {s.revision for s in _scripts().walk_revisions()}
        if revision == head:
            return Schema(SchemaState.CURRENT, revision, head)
        return Schema(SchemaState.OUTDATED if revision in known else SchemaState.UNKNOWN, revision, head)
    tables.discard("alembic_version")
    if not tables:
        return Schema(SchemaState.EMPTY, None, head)
    if tables >= RELEASE_0_1_TABLES:
        return Schema(SchemaState.UNVERSIONED, None, head)
    return Schema(SchemaState.UNKNOWN, None, head)


def require_current(engine: Engine, where: str) -> None:
    """Refuse a store this release cannot use as it is."""
    schema = inspect_schema(engine)
    if schema.state == SchemaState.CURRENT:
        return
    if schema.state == SchemaState.EMPTY:
        raise SchemaOutdated(f"the store at {where} is empty: {UPGRADE_HINT} to create it", reason="empty",
                             where=where, head=schema.head)
    if schema.state == SchemaState.UNKNOWN:
        raise SchemaOutdated(f"the store at {where} has schema revision {schema.revision or '(none)'}, "
                             f"which this intake (head {schema.head}) does not know: is it a newer release's?",
                             reason="unknown", where=where, revision=schema.revision, head=schema.head)
    raise SchemaOutdated(f"the store at {where} has schema revision {schema.revision or 'of release 0.1.0'}, "
                         f"this intake needs {schema.head}: {UPGRADE_HINT}", reason="outdated", where=where,
                         revision=schema.revision, head=schema.head)


def create_current(engine: Engine) -> None:
    """A fresh store: the models' tables, stamped with the head revision (nothing to migrate)."""
    try:
        with engine.begin() as conn:
            Base.metadata.create_all(conn)
            cfg = _alembic(conn)
            command.stamp(cfg, "head")
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot create the store's tables: {exc}") from exc


def upgrade(engine: Engine) -> tuple[str | None, str]:
    """Bring the store to the head revision; (revision before, revision after)."""
    schema = inspect_schema(engine)
    if schema.state == SchemaState.UNKNOWN:
        raise SchemaOutdated(f"schema revision {schema.revision or '(foreign tables)'} is unknown to this intake",
                             reason="unknown", where=str(engine.url.render_as_string(hide_password=True)),
                             revision=schema.revision, head=schema.head)
    if schema.state == SchemaState.CURRENT:
        return schema.revision, schema.head
    if schema.state == SchemaState.EMPTY:
        create_current(engine)
        return None, schema.head
    try:
        with engine.begin() as conn:
            cfg = _alembic(conn)
            if schema.state == SchemaState.UNVERSIONED:
                command.stamp(cfg, FIRST_REVISION)
            command.upgrade(cfg, "head")
    except SQLAlchemyError as exc:
        raise StoreError(f"upgrading the store failed (nothing was changed): {exc}") from exc
    return schema.revision or f"{FIRST_REVISION} (release 0.1.0)", schema.head


def migrate_empty(engine: Engine) -> None:
    """Build a store by applying every migration in turn (tests compare it with the models)."""
    with engine.begin() as conn:
        command.upgrade(_alembic(conn), "head")


def model_differences(engine: Engine) -> list[object]:
    """What differs between the store's tables and the models (empty when they match)."""
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(ctx, Base.metadata))


@dataclass(frozen=True)
class StoreProbe:
    """What check-config found of the store: `reason` is "cannot_create", "not_created", "unreachable",
    "reachable" or "outdated"; `detail` the folder, the error or the schema state (words for people
    are the command line's)."""

    ok: bool
    reason: str
    where: str
    detail: str = ""
    revision: str | None = None
    head: str = ""


def probe_store(url: str) -> StoreProbe:
    """For check-config. A store not created yet is usable: `run` or `db upgrade` makes it; an
    unreachable server or an outdated schema is not."""
    where = shown_url(url)
    file_ = sqlite_file(url)
    if file_ is not None and not file_.exists():
        folder = file_.parent
        if not folder.is_dir() or not os.access(folder, os.W_OK):
            return StoreProbe(False, "cannot_create", where, str(folder))
        return StoreProbe(True, "not_created", where)
    engine = make_engine(url)
    try:
        schema = inspect_schema(engine)
    except StoreError as exc:
        return StoreProbe(False, "unreachable", where, str(exc))
    finally:
        engine.dispose()
    if schema.state in (SchemaState.CURRENT, SchemaState.EMPTY):
        return StoreProbe(True, "reachable", where, schema.state.value, schema.revision, schema.head)
    return StoreProbe(False, "outdated", where, schema.state.value, schema.revision, schema.head)
