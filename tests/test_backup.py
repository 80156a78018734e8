"""`intake backup DEST` taken while the daemon writes; restored as the README says; the same status."""
from __future__ import annotations

import json
import shutil
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

from opskit import INTAKE, backlog, base_env, cli, project, wait_until

MESSAGES = 60


def _stored(db: Path) -> int:
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
        try:
            return int(con.execute("SELECT count(*) FROM messages WHERE state != 'STORED'").fetchone()[0])
        finally:
            con.close()
    except sqlite3.OperationalError:  # not created yet
        return 0


def test_backup_while_the_daemon_writes_then_restore(tmp_path: Path) -> None:
    office = tmp_path / "office"
    config = project(office, maildir=None)
    shutil.rmtree(office / "maildir")
    config.write_text(config.read_text(encoding="utf-8").replace("# poll_every = 60", "poll_every = 1"),
                      encoding="utf-8")
    backlog(office, MESSAGES)
    db = office / "intake.db"
    log = (tmp_path / "daemon.log").open("w")
    daemon = subprocess.Popen([*INTAKE, "--config", str(config), "run"], cwd="/", env=base_env(),
                              stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_until(lambda: _stored(db) >= 5, 120, "the daemon to store 5 messages")
        during = _stored(db)
        out = cli("--config", str(config), "backup", str(tmp_path / "backup"), cwd=tmp_path)
        assert out.returncode == 0, out.stdout + out.stderr
        assert _stored(db) < MESSAGES, "the daemon had finished: the backup was not taken while it wrote"
        wait_until(lambda: _stored(db) == MESSAGES, 180, "the daemon to process everything")
        time.sleep(1.5)  # a poll round after the last message: its acknowledgements are sent
    finally:
        daemon.send_signal(signal.SIGTERM)
        code = daemon.wait(timeout=60)
        log.close()
    daemon_log = (tmp_path / "daemon.log").read_text(encoding="utf-8")
    assert code == 0 and "reason=signal" in daemon_log and "start version=" in daemon_log
    final = cli("-q", "--config", str(config), "status", "--json", cwd=tmp_path)
    assert final.returncode == 0

    backup = tmp_path / "backup"
    assert sorted(p.name for p in backup.iterdir()) == ["files", "intake.db", "intake.toml"]
    copied = sqlite3.connect(backup / "intake.db")
    try:
        in_copy = copied.execute("SELECT count(*) FROM messages").fetchone()[0]
        raw_paths = [row[0] for row in copied.execute("SELECT raw_path FROM messages")]
        assert copied.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        copied.close()
    assert during <= in_copy < MESSAGES
    assert all((backup / "files" / rel).is_file() for rel in raw_paths)  # every file the snapshot names

    # Restore (README "Backup and restore"): daemon stopped, store and files replaced by the copy.
    for name in ("intake.db", "intake.db-wal", "intake.db-shm"):
        (office / name).unlink(missing_ok=True)
    shutil.rmtree(office / "files")
    shutil.copy2(backup / "intake.db", office / "intake.db")
    shutil.copytree(backup / "files", office / "files")
    assert cli("-q", "--config", str(config), "status", "--json", cwd=tmp_path).returncode == 0
    # The daemon's next round catches up with what came after the snapshot.
    assert cli("-q", "--config", str(config), "run", "--once", cwd=tmp_path).returncode == 0
    restored = cli("-q", "--config", str(config), "status", "--json", cwd=tmp_path)
    assert json.loads(restored.stdout) == json.loads(final.stdout)


def test_backup_refuses_a_folder_in_use_and_says_pg_dump_for_postgresql(tmp_path: Path, pg_url: str) -> None:
    config = project(tmp_path / "office")
    assert cli("-q", "--config", str(config), "db", "upgrade", cwd=tmp_path).returncode == 0
    (tmp_path / "used").mkdir()
    (tmp_path / "used" / "x").write_text("x", encoding="utf-8")
    used = cli("--config", str(config), "backup", str(tmp_path / "used"), cwd=tmp_path)
    assert used.returncode == 1 and "không trống" in used.stderr
    config.write_text(config.read_text(encoding="utf-8").replace('url = "sqlite:///intake.db"', f'url = "{pg_url}"'),
                      encoding="utf-8")
    pg = cli("--config", str(config), "backup", str(tmp_path / "pgcopy"), cwd=tmp_path)
    assert pg.returncode == 1 and "pg_dump" in pg.stderr and "đã sao chép files_dir" in pg.stderr
