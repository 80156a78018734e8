"""The store's schema under Alembic, on SQLite and PostgreSQL.

- the migrations, applied one by one to an empty database, give exactly the
  models' tables (so a model changed without a new revision fails here);
- a store made by release 0.1.0 (recorded with its data by
  tests/fixtures/store/make_release_0_1_0.py) is refused by every command
  until `intake db upgrade`, which keeps every row; `status --json` is then
  what that release printed;
- a missing store is refused, not created, by commands other than run/db upgrade.
"""
from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import create_engine, text

from intake.processor.cli import main
from intake.store.engine import make_engine
from intake.store.repository import Store
from intake.store.schema import SchemaState, head_revision, inspect_schema, migrate_empty, model_differences

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "store"
TABLES = ("units", "unit_addresses", "campaigns", "messages", "mailbox_entries", "mailbox_state", "attachments",
          "sections", "outgoing", "decisions")


def test_migrations_build_exactly_the_models(store_url: str) -> None:
    engine = make_engine(store_url)
    try:
        migrate_empty(engine)
        assert model_differences(engine) == []
        assert inspect_schema(engine).state == SchemaState.CURRENT
    finally:
        engine.dispose()


def test_a_new_store_is_created_at_the_head_revision(store_url: str, tmp_path: Path) -> None:
    Store(store_url, tmp_path / "files").close()
    engine = make_engine(store_url)
    try:
        schema = inspect_schema(engine)
        assert (schema.state, schema.revision) == (SchemaState.CURRENT, head_revision())
        assert model_differences(engine) == []
    finally:
        engine.dispose()


def _load_release_store(url: str, backend: str, tmp_path: Path) -> None:
    dump = (FIXTURES / f"release-0.1.0.{backend}.sql").read_text(encoding="utf-8")
    if backend == "sqlite":
        db = sqlite3.connect(tmp_path / "intake.db")
        db.executescript(dump)
        db.close()
        return
    script = "\n".join(line for line in dump.splitlines() if not line.startswith("\\"))  # psql meta-commands
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
        conn.execute(script)  # type: ignore[call-overload]


def _assert_contains(new: object, old: object, where: str = "status") -> None:
    """`new` holds everything `old` holds, with the same values (dicts may have more keys)."""
    if isinstance(old, dict):
        assert isinstance(new, dict), where
        for key, value in old.items():
            assert key in new, f"{where}.{key} missing"
            _assert_contains(new[key], value, f"{where}.{key}")
    elif isinstance(old, list):
        assert isinstance(new, list) and len(new) == len(old), where
        for i, (n, o) in enumerate(zip(new, old, strict=True)):
            _assert_contains(n, o, f"{where}[{i}]")
    else:
        assert new == old, f"{where}: {new!r} != {old!r}"


def _counts(url: str) -> dict[str, int]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return {t: int(conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()) for t in TABLES}
    finally:
        engine.dispose()


def test_a_release_0_1_0_store_with_data_is_upgraded(store_url: str, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    backend = "sqlite" if store_url.startswith("sqlite") else "pg"
    _load_release_store(store_url, backend, tmp_path)
    before = _counts(store_url)
    assert before["messages"] >= 5 and before["decisions"] == 2 and before["outgoing"] >= 5
    shutil.copytree(ROOT / "examples" / "maildir", tmp_path / "maildir")
    config = (ROOT / "config.example.toml").read_text(encoding="utf-8")
    config = config.replace('path = "examples/maildir"', 'path = "maildir"')
    config = config.replace('url = "sqlite:///intake.db"', f'url = "{store_url}"')
    (tmp_path / "intake.toml").write_text(config, encoding="utf-8")
    argv = ["-q", "--config", str(tmp_path / "intake.toml")]

    capsys.readouterr()
    assert main([*argv, "status", "--json"], environ={}) == 1
    err = capsys.readouterr().err
    assert "intake db upgrade" in err and "cấu trúc 0.1.0" in err
    assert main([*argv, "run", "--once"], environ={}) == 1  # run creates a new store, never upgrades one
    assert "intake db upgrade" in capsys.readouterr().err

    assert main([*argv, "db", "upgrade"], environ={}) == 0
    assert f"lên {head_revision()}" in capsys.readouterr().out
    assert _counts(store_url) == before
    engine = make_engine(store_url)
    try:
        assert inspect_schema(engine).state == SchemaState.CURRENT
        assert model_differences(engine) == []
    finally:
        engine.dispose()

    assert main([*argv, "status", "--json"], environ={}) == 0
    got = json.loads(capsys.readouterr().out)
    # What release 0.1.0 printed, unchanged; later releases only add fields (the finder's confidence...).
    _assert_contains(got, json.loads((FIXTURES / "release-0.1.0.status.json").read_text(encoding="utf-8")))
    assert {u["id"]: u["status"] for u in got["units"]}["ldld-sa-pa"] == "excused"
    assert main([*argv, "db", "upgrade"], environ={}) == 0
    assert "không cần làm gì" in capsys.readouterr().out
    # The upgraded store works on: run --once over the same mail (the Maildir now sits in another
    # folder, so the ledger records its items again) stores no message twice and sends nothing again.
    assert main([*argv, "run", "--once"], environ={}) == 0
    after = _counts(store_url)
    assert after.pop("mailbox_entries") == 2 * before.pop("mailbox_entries")
    assert after == before


def test_commands_refuse_a_missing_store_and_do_not_create_it(tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copy(ROOT / "config.example.toml", tmp_path / "intake.toml")
    argv = ["-q", "--config", str(tmp_path / "intake.toml")]
    for command in (["status"], ["missing", "--json"], ["units", "list"], ["remind", "--dry-run"], ["health"]):
        assert main([*argv, *command], environ={}) == 1, command
        assert "intake db upgrade" in capsys.readouterr().err
    assert not (tmp_path / "intake.db").exists()
    assert main([*argv, "db", "upgrade"], environ={}) == 0
    assert "đã tạo cơ sở dữ liệu" in capsys.readouterr().out
    assert main([*argv, "status"], environ={}) == 0


def test_a_store_from_a_newer_release_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copy(ROOT / "config.example.toml", tmp_path / "intake.toml")
    argv = ["-q", "--config", str(tmp_path / "intake.toml")]
    assert main([*argv, "db", "upgrade"], environ={}) == 0
    db = sqlite3.connect(tmp_path / "intake.db")
    db.execute("UPDATE alembic_version SET version_num = '9999'")
    db.commit()
    db.close()
    capsys.readouterr()
    assert main([*argv, "status"], environ={}) == 1
    assert "không biết: có phải của một phiên bản mới hơn" in capsys.readouterr().err
    assert main([*argv, "db", "upgrade"], environ={}) == 1
