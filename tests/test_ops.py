"""Running for months: paths, config lookup, version, health, logs, progress, the service unit,
`[mailbox] since`, staff dates in the config, stale reminders, check-config's probes."""
from __future__ import annotations

import datetime as dt
import json
import logging
import shutil
import subprocess
import time
import tomllib
from email.message import EmailMessage
from pathlib import Path

import pytest
from opskit import ANSI, INTAKE, ROOT, Pty, backlog, base_env, cli, intake, local, project
from servers.dovecot import DovecotServer
from staffkit import SECTION_A, STUDY, Clock, at, campaign, drop, make_app, make_config, message, report_docx

from intake.parsers.errors import ConfigError, UsageError
from intake.processor.app import App, open_store
from intake.processor.catalog import read_catalog
from intake.processor.config import OutboxConfig, load_config, parse_config
from intake.processor.ops.commands import find_config
from intake.processor.ops.logs import intake_version, log_message
from intake.processor.staff_dates import parse_staff_datetime
from intake.store.heartbeat import MAILBOX_CHECK, beat
from intake.store.kinds import MessageState
from intake.store.models import Outgoing, OutgoingKind, OutgoingState
from intake.store.repository import Store

VN = dt.timezone(dt.timedelta(hours=7))
NOW = dt.datetime(2024, 3, 1, tzinfo=dt.UTC)


# -- paths and config lookup ------------------------------------------------------


def test_commands_from_other_folders_see_the_same_store(tmp_path: Path) -> None:
    config = project(tmp_path / "office")
    elsewhere, another = tmp_path / "elsewhere", tmp_path / "another"
    elsewhere.mkdir()
    another.mkdir()
    assert cli("-q", "--config", str(config), "run", "--once", cwd=elsewhere).returncode == 0
    first = cli("-q", "--config", str(config), "status", "--json", cwd=another)
    assert first.returncode == 0, first.stderr
    statuses = {u["id"]: u["status"] for u in json.loads(first.stdout)["units"]}
    assert statuses["ldld-bao-thang"] == "on_time"  # not a fresh empty store: the mail processed above
    # $INTAKE_CONFIG (relative to where the command starts) and ./intake.toml give the same answer.
    by_env = cli("-q", "status", "--json", cwd=tmp_path, env=base_env(INTAKE_CONFIG="office/intake.toml"))
    here = cli("-q", "status", "--json", cwd=tmp_path / "office")
    assert by_env.stdout == first.stdout == here.stdout
    assert (tmp_path / "office" / "intake.db").exists() and (tmp_path / "office" / "files").is_dir()
    assert (tmp_path / "office" / "outbox").is_dir()
    assert sorted(p.name for p in elsewhere.iterdir()) == [] and sorted(p.name for p in another.iterdir()) == []
    # A second run from yet another folder finds nothing new: the same ledger, no second acknowledgement.
    outbox = sorted((tmp_path / "office" / "outbox").iterdir())
    assert cli("-q", "--config", str(config), "run", "--once", cwd=another).returncode == 0
    assert sorted((tmp_path / "office" / "outbox").iterdir()) == outbox


def test_relative_paths_in_the_config_are_taken_from_its_folder(tmp_path: Path) -> None:
    data = tomllib.loads((ROOT / "config.example.toml").read_text(encoding="utf-8"))
    data["store"] = {"url": "sqlite:///data/intake.db?timeout=5", "files_dir": "data/files"}
    cfg = parse_config(data, Path("conf/intake.toml"), {})
    base = Path.cwd() / "conf"
    assert cfg.store.url == f"sqlite:///{base}/data/intake.db?timeout=5"
    assert cfg.store.files_dir == base / "data" / "files"
    assert cfg.mailbox.path == base / "examples" / "maildir"
    assert cfg.sending.outbox_dir == base / "outbox"
    data["store"] = {"url": "sqlite:////srv/intake.db"}
    assert parse_config(data, Path("conf/intake.toml"), {}).store.url == "sqlite:////srv/intake.db"
    data["store"] = {"url": "postgresql+psycopg://intake@db/intake"}
    assert parse_config(data, Path("conf/intake.toml"), {}).store.url == "postgresql+psycopg://intake@db/intake"


def test_config_lookup_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    system = tmp_path / "etc" / "intake.toml"
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    assert find_config("given.toml", {"INTAKE_CONFIG": "env.toml"}, system) == Path("given.toml")
    assert find_config(None, {"INTAKE_CONFIG": "env.toml"}, system) == Path("env.toml")
    assert find_config(None, {}, system) == Path("intake.toml")  # neither exists: the error names ./intake.toml
    system.parent.mkdir()
    system.write_text("", encoding="utf-8")
    assert find_config(None, {}, system) == system
    (work / "intake.toml").write_text("", encoding="utf-8")
    assert find_config(None, {}, system) == Path("intake.toml")


def test_version(tmp_path: Path) -> None:
    out = intake("--version", cwd=tmp_path)
    assert out.returncode == 0 and out.stdout.strip() == f"intake {intake_version()}"
    assert intake_version() == tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]


# -- health -------------------------------------------------------------------------


def test_health_before_and_after_a_mailbox_check(tmp_path: Path) -> None:
    config = str(project(tmp_path))
    assert cli("--config", config, "db", "upgrade", cwd=tmp_path).returncode == 0
    before = cli("--config", config, "health", cwd=tmp_path)
    assert before.returncode == 1 and before.stdout.count("\n") == 1 and "chưa được kiểm tra lần nào" in before.stdout
    assert cli("-q", "--config", config, "run", "--once", cwd=tmp_path).returncode == 0
    after = cli("--config", config, "health", cwd=tmp_path)
    assert after.returncode == 0 and after.stdout.startswith("OK: lần kiểm tra hộp thư ")
    assert "maildir:" in after.stdout and after.stdout.count("\n") == 1
    # Six minutes of silence with poll_every = 60 (window: 5 minutes) is a failure.
    store = Store(f"sqlite:///{tmp_path / 'intake.db'}", tmp_path / "files", create=False)
    try:
        beat(store, MAILBOX_CHECK, dt.datetime.now(dt.UTC) - dt.timedelta(minutes=6), "maildir:x")
    finally:
        store.close()
    stale = cli("--config", config, "health", cwd=tmp_path)
    assert stale.returncode == 1 and stale.stdout.startswith("FAIL: lần kiểm tra hộp thư")
    assert "cách đây 6 phút" in stale.stdout


# -- logs and progress --------------------------------------------------------------


def test_one_key_value_line_per_message_start_stop_and_plain_progress(tmp_path: Path) -> None:
    config = project(tmp_path, maildir=tmp_path / "maildir")
    backlog(tmp_path, 25)
    out = intake("--config", str(config), "run", "--once", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    log = out.stderr
    assert f"start version={intake_version()} mode=once" in log and f"mailbox=maildir:{tmp_path}/maildir" in log
    assert f"store=sqlite:///{tmp_path}/intake.db" in log
    assert "stop version=" in log and "reason=done" in log
    lines = [line for line in log.splitlines() if " message ref=" in line]
    assert len(lines) == 25
    first = lines[0].split(" message ", 1)[1]
    fields = dict(part.split("=", 1) for part in first.split())
    assert fields["ref"].startswith("TN24-") and fields["unit"] == "ldld-bao-thang"
    assert fields["status"] == "on_time" and fields["section"] == "found" and fields["problems"] == "-"
    assert fields["ack"] == "queued" and fields["campaign"] == "chuyen-de-2024"
    assert {dict(p.split("=", 1) for p in line.split(" message ", 1)[1].split())["unit"] for line in lines} == {
        "ldld-bao-thang", "ldld-bat-xat", "ldld-sa-pa"}
    # Plain progress lines (not a terminal): a start, an end, no escape codes; no bodies.
    assert "progress start backlog=25" in log and "progress done fetched=25 processed=25" in log
    assert not ANSI.search(log)
    assert "Kính gửi" not in log and "1.241" not in log and "Báo cáo số" not in log


def test_a_progress_bar_on_a_terminal(tmp_path: Path) -> None:
    config = project(tmp_path, maildir=tmp_path / "maildir")
    backlog(tmp_path, 25)
    term = Pty([*INTAKE, "--config", str(config), "run", "--once"], tmp_path, base_env(TERM="xterm-256color"))
    code, shown = term.finish()
    plain = ANSI.sub("", shown)
    assert code == 0, plain[-3000:]
    assert ANSI.search(shown)  # drawn, not printed line by line
    assert "Thư đã xử lý" in plain and "25/25" in plain and "thư/s" in plain and "còn lại" in plain
    assert "progress start" not in plain  # the bar replaces the plain lines
    assert plain.count(" message ref=") == 25  # log lines still show, above the bar


def test_message_lines_say_what_the_store_holds(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """The pipeline logs from the decision it just recorded; read back from the store, every line is the same."""
    config = project(tmp_path)  # the example Maildir: on time, late, unmatched, auto-reply, no section...
    out = intake("--config", str(config), "run", "--once", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    logged = sorted(line.split(" message ", 1)[1] for line in out.stderr.splitlines() if " message ref=" in line)
    cfg = load_config(config, base_env())
    store = open_store(cfg, create=False)
    try:
        with caplog.at_level(logging.INFO, logger="intake"):
            for pk in store.messages_in_state(MessageState.PROCESSED) + store.messages_in_state(MessageState.IGNORED):
                log_message(store, pk, read_catalog(store).campaigns)
    finally:
        store.close()
    # Logged when queued; by now `run --once` has sent them.
    read_back = sorted(r.getMessage().split("message ", 1)[1].replace("ack=sent", "ack=queued")
                       for r in caplog.records if " ref=" in r.getMessage())
    assert len(logged) == 8 and logged == read_back
    assert {line.rsplit("ack=", 1)[1] for line in logged} == {"queued", "none"}


def test_verbose_keeps_the_libraries_debug_lines_off(tmp_path: Path) -> None:
    config = project(tmp_path, maildir=tmp_path / "maildir")
    backlog(tmp_path, 2)
    one = intake("-v", "--config", str(config), "run", "--once", cwd=tmp_path)
    assert one.returncode == 0 and "sqlalchemy" not in one.stderr
    (tmp_path / "intake.db").unlink()
    shutil.rmtree(tmp_path / "files")
    two = intake("-vv", "--config", str(config), "run", "--once", cwd=tmp_path)
    assert two.returncode == 0 and "DEBUG sqlalchemy" in two.stderr


# -- the service unit -----------------------------------------------------------------


def test_the_systemd_unit_verifies(tmp_path: Path) -> None:
    unit = (ROOT / "deploy" / "intake.service").read_text(encoding="utf-8")
    for needed in ("User=intake", "Restart=on-failure", "EnvironmentFile=/etc/intake/intake.env",
                   "ProtectSystem=strict", "ReadWritePaths=/var/lib/intake", "NoNewPrivileges=yes",
                   "ExecStart=/opt/intake/.venv/bin/intake run"):
        assert needed in unit.splitlines(), needed
    # systemd-analyze checks that ExecStart's binary exists: point it at this checkout's.
    intake_bin = shutil.which("intake") or str(Path(INTAKE[0]).parent / "intake")
    (tmp_path / "intake.service").write_text(unit.replace("/opt/intake/.venv/bin/intake", intake_bin),
                                             encoding="utf-8")
    out = subprocess.run(["systemd-analyze", "verify", "--man=no", str(tmp_path / "intake.service")],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and out.stderr == "" and out.stdout == "", out.stderr
    (tmp_path / "broken.service").write_text(unit.replace("Restart=on-failure", "Restart=sometimes"),
                                             encoding="utf-8")
    bad = subprocess.run(["systemd-analyze", "verify", "--man=no", str(tmp_path / "broken.service")],
                         capture_output=True, text=True, timeout=60)
    assert "Failed to parse service restart" in bad.stderr  # the check notices a mistake


# -- [mailbox] since --------------------------------------------------------------------


def test_since_skips_older_mail_in_a_maildir(tmp_path: Path) -> None:
    config = project(tmp_path, maildir=tmp_path / "maildir", extra="")
    text = config.read_text(encoding="utf-8").replace('path = "', 'since = 2024-02-21\npath = "', 1)
    config.write_text(text, encoding="utf-8")
    backlog(tmp_path, 3)  # received 20/02/2024
    drop(tmp_path, message("ldldsapa@gmail.com", at("2024-02-22 08:00"), docx=report_docx("", SECTION_A, STUDY)),
         "1708900000.M99P1.mx1")
    assert cli("-q", "--config", str(config), "run", "--once", cwd=tmp_path).returncode == 0
    units = json.loads(cli("-q", "--config", str(config), "status", "--json", cwd=tmp_path).stdout)["units"]
    assert {u["id"]: u["status"] for u in units}["ldld-sa-pa"] == "on_time"
    assert {u["id"]: u["status"] for u in units}["ldld-bao-thang"] == "missing"


def test_since_is_an_imap_search(dovecot: DovecotServer, tmp_path: Path) -> None:
    from intake.processor.mailbox.imap import ImapMailbox

    def mail(n: int) -> bytes:
        msg = EmailMessage()
        msg["From"], msg["To"], msg["Subject"] = "ldldsapa@gmail.com", "intake@example.org", f"n{n}"
        msg["Message-ID"] = f"<since-{n}@example.org>"
        msg.set_content("x")
        return msg.as_bytes()

    for n, day in enumerate((dt.datetime(2023, 12, 30, 9, tzinfo=dt.UTC), dt.datetime(2024, 1, 2, 9, tzinfo=dt.UTC),
                             dt.datetime(2024, 3, 1, 9, tzinfo=dt.UTC))):
        dovecot.append("intake", "INBOX", mail(n), internaldate=day)
    data = tomllib.loads((ROOT / "config.example.toml").read_text(encoding="utf-8"))
    data["mailbox"] = {"kind": "imap", "host": dovecot.host, "port": dovecot.port, "security": "none",
                       "username": "intake", "password_env": "P", "since": "01/01/2024", "after": "none"}
    cfg = parse_config(data, tmp_path / "intake.toml", {"P": dovecot.users["intake"]})
    assert cfg.mailbox.since == dt.date(2024, 1, 1)
    store = Store(f"sqlite:///{tmp_path / 'intake.db'}", tmp_path / "files")
    box = ImapMailbox(cfg.mailbox)
    try:
        got = [item.raw for item in box.fetch_new(store)]
    finally:
        box.close()
        store.close()
    assert [b"n1" in raw and b"n2" not in raw for raw in got] == [True, False] and b"n2" in got[1]
    assert box.backlog == 2


# -- dates as staff type them -------------------------------------------------------


def test_staff_dates() -> None:
    assert parse_staff_datetime("05/03/2024", VN, NOW) == (dt.datetime(2024, 3, 5, 23, 59, 59, tzinfo=VN), True)
    assert parse_staff_datetime("5/3/2024 17:00", VN, NOW) == (dt.datetime(2024, 3, 5, 17, 0, tzinfo=VN), False)
    assert parse_staff_datetime("2024-03-05", VN, NOW)[0] == dt.datetime(2024, 3, 5, 23, 59, 59, tzinfo=VN)
    assert parse_staff_datetime("2024-03-05T17:00", VN, NOW)[0] == dt.datetime(2024, 3, 5, 17, 0, tzinfo=VN)
    assert parse_staff_datetime("2024-03-05T17:00+00:00", VN, NOW)[0] == dt.datetime(2024, 3, 5, 17, tzinfo=dt.UTC)
    assert parse_staff_datetime("05/03/2024", VN, NOW, day_starts=True)[0] == dt.datetime(2024, 3, 5, tzinfo=VN)
    for bad in ("31/02/2024", "05/13/2024", "tomorrow", "2024/03/05 25:00"):
        with pytest.raises(UsageError):
            parse_staff_datetime(bad, VN, NOW)


def test_campaign_dates_in_the_config_as_staff_type_them(tmp_path: Path) -> None:
    data = tomllib.loads((ROOT / "config.example.toml").read_text(encoding="utf-8"))
    data["campaigns"][0].update(opens="22/01/2024", deadline="29/02/2024")
    camp = parse_config(data, tmp_path / "intake.toml", {}).campaigns[0]
    assert camp.opens == local("2024-01-22T00:00:00") and camp.deadline == local("2024-02-29T23:59:59")
    data["campaigns"][0].update(opens=dt.date(2024, 1, 22), deadline=dt.date(2024, 2, 29))  # TOML dates
    camp = parse_config(data, tmp_path / "intake.toml", {}).campaigns[0]
    assert camp.opens == local("2024-01-22T00:00:00") and camp.deadline == local("2024-02-29T23:59:59")
    data["campaigns"][0].update(deadline="29/02/2024 17:00")
    assert parse_config(data, tmp_path / "intake.toml", {}).campaigns[0].deadline == local("2024-02-29T17:00:00")
    data["campaigns"][0].update(deadline="30/02/2024")
    with pytest.raises(ConfigError, match=r"deadline.*ngày không có thật"):
        parse_config(data, tmp_path / "intake.toml", {})


# -- no stale mail ----------------------------------------------------------------------


def test_a_campaign_a_year_old_sends_no_reminder_and_no_digest(tmp_path: Path) -> None:
    old = campaign("cu-2024", deadline="2024-02-29T00:00:00+07:00", remind=["-3d", "-1d", "+1d"])
    cfg = make_config(tmp_path, campaigns=[old], staff={"emails": ["ban@gmail.com"], "digest_at": "07:00"})
    clock = Clock(at("2025-03-01 09:00"))
    app = make_app(cfg, clock)
    try:
        plan = app.reminders.scheduled()
        assert plan.queued == [] and {r.unit_id for r in plan.stale} == {"ldld-bao-thang", "ldld-bao-yen",
                                                                           "ldld-sa-pa"}
        assert app.reminders.digest() == 0
        assert app.send_pending().sent == 0
        with app.store.session() as s:
            rows = s.query(Outgoing).all()
            assert rows and {(r.kind, r.state) for r in rows} == {(OutgoingKind.REMINDER, OutgoingState.SKIPPED)}
            assert all(r.last_error and r.last_error.startswith("stale") for r in rows)
        assert not (tmp_path / "outbox").exists() or not any((tmp_path / "outbox").iterdir())
        # Recorded: the next tick neither sends nor records it again.
        assert app.reminders.scheduled().stale == [] and app.send_pending().sent == 0
    finally:
        app.store.close()


def test_a_reminder_point_hours_ago_is_still_sent_and_a_queued_one_days_old_is_not(tmp_path: Path) -> None:
    cfg = make_config(tmp_path, campaigns=[campaign("c", deadline="2024-02-29T00:00:00+07:00", remind=["+1d"])])
    clock = Clock(at("2024-03-01 03:00"))  # the +1d point was 3 hours ago
    app = make_app(cfg, clock)
    try:
        assert len(app.reminders.scheduled().queued) == 3
        clock.now = at("2024-03-03 03:00")  # the transport was down for two days
        assert app.send_pending().sent == 0
        with app.store.session() as s:
            assert {r.state for r in s.query(Outgoing).all()} == {OutgoingState.SKIPPED}
    finally:
        app.store.close()


# -- check-config's probes ----------------------------------------------------------------


def test_check_config_reaches_the_store_and_finds_libreoffice(tmp_path: Path) -> None:
    config = project(tmp_path)
    ok = intake("--config", str(config), "check-config", cwd=tmp_path)
    shown = " ".join(ok.stdout.split())  # rich wraps at 80 columns off a terminal
    assert ok.returncode == 0 and "cơ sở dữ liệu: sqlite:///" in shown and "chưa tạo" in shown
    assert "LibreOffice: có " in shown
    no_office = intake("--config", str(config), "check-config", cwd=tmp_path,
                       env=base_env(PATH=str(Path(INTAKE[0]).parent)))
    assert no_office.returncode == 0
    assert "CẢNH BÁO: không có LibreOffice" in " ".join(no_office.stdout.split())
    text = config.read_text(encoding="utf-8").replace('url = "sqlite:///intake.db"',
                                                      'url = "postgresql+psycopg://intake@127.0.0.1:9/intake"')
    config.write_text(text, encoding="utf-8")
    down = intake("--config", str(config), "check-config", cwd=tmp_path)
    shown = " ".join(down.stdout.split())
    assert down.returncode == 1 and "cơ sở dữ liệu: LỖI" in shown and "không kết nối được" in shown


# -- the Makefile -----------------------------------------------------------------------


def test_make_demo_installs_only_the_runtime_and_make_test_needs_no_shared_folder(tmp_path: Path) -> None:
    for name in ("Makefile", "pyproject.toml"):
        shutil.copy(ROOT / name, tmp_path / name)

    def dry(target: str) -> str:
        out = subprocess.run(["make", "-n", target], cwd=tmp_path, capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stderr
        return out.stdout

    demo, test = dry("demo"), dry("test")
    assert "pip install -q -e .\n" in demo and "[test]" not in demo
    assert "pip install -q -e '.[test]'" in test and "pytest" in test
    assert "shared" not in test and "contract" not in test
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "make test" in ci and "if [ -f ../shared/contract-check.py ]" in ci
    assert "SPEC.md" not in (ROOT / "README.md").read_text(encoding="utf-8")  # docs/ document it all


def test_the_heap_of_a_long_run_is_steadied_in_a_fresh_process() -> None:
    """glibc takes the fixed threshold and arena count (bench/ingest.py measures what it saves)."""
    code = "from intake.processor.ops.memory import steady_heap; print(steady_heap())"
    done = subprocess.run([*INTAKE[:1], "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.strip() == "True"


def test_acknowledgements_leave_while_a_backlog_is_still_being_read(tmp_path: Path) -> None:
    config = project(tmp_path, maildir=tmp_path / "maildir")
    backlog(tmp_path, 30)
    cfg = load_config(config, base_env())
    assert isinstance(cfg.sending, OutboxConfig)
    outbox = cfg.sending.outbox_dir
    seen_during_round: list[int] = []

    def stop_after_waiting_once() -> bool:
        # Once, mid-round: wait (up to 20 s) for the sending thread to deliver something.
        if not seen_during_round:
            deadline = time.monotonic() + 20
            while not list(outbox.glob("*.eml")) and time.monotonic() < deadline:
                time.sleep(0.1)
            seen_during_round.append(len(list(outbox.glob("*.eml"))))
        return False

    store = open_store(cfg)
    app = App(cfg, store)
    try:
        _leftover, fetched, sent = app.run_once(stop=stop_after_waiting_once)
    finally:
        app.close()
        store.close()
    assert fetched.new == 30 and seen_during_round and seen_during_round[0] >= 1
    files = list(outbox.glob("*.eml"))
    # Each sent once (the thread's and the round's own send together), none left: the rest were
    # skipped by the per-sender hourly limit, as without the thread.
    assert sent.sent == len(files) > seen_during_round[0]
    ids = {line for f in files for line in f.read_bytes().splitlines() if line.startswith(b"Message-ID:")}
    assert len(ids) == len(files)
    check = Store(cfg.store.url, cfg.store.files_dir, create=False)
    try:
        with check.session() as s:
            states = [row.state for row in s.query(Outgoing).filter(Outgoing.kind == OutgoingKind.ACK)]
    finally:
        check.close()
    assert states.count(OutgoingState.SENT) == len(files) and OutgoingState.PENDING not in states
