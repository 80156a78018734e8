"""Reminders and the daily digest, delivered to the real SMTP fixture at simulated times, never twice."""
from __future__ import annotations

import logging
from pathlib import Path

import pytest
import schedule
from servers.smtp import SmtpServer
from staffkit import STUDY, Clock, at, campaign, drop, make_app, make_config, message, report_docx

from intake.processor.app import App
from intake.processor.config import Config
from intake.processor.scheduler import guarded


def _config(tmp: Path, smtp: SmtpServer) -> Config:
    return make_config(
        tmp, campaigns=[campaign(remind=["-3d", "-1d", "+1d"])],
        sending={"kind": "smtp", "host": "127.0.0.1", "port": smtp.port, "security": "none",
                 "from_address": "bantuyengiao@gmail.com", "from_name": "Ban Tuyên giáo - Nữ công"},
        staff={"emails": ["truongban@example.test"], "digest_at": "08:00"})


def _tick(app: App, clock: Clock, when: str) -> None:
    clock.now = at(when)
    app.scheduler.run_all()  # what the daemon's run_pending() does when the job is due


def _sent(smtp: SmtpServer) -> list[tuple[str, str]]:
    return [(m.rcpt_tos[0], str(m.message["Subject"])) for m in smtp.messages]


@pytest.mark.server
def test_reminders_and_digest_at_the_right_times_and_not_after_restart(tmp_path: Path,
                                                                       smtp_server: SmtpServer) -> None:
    cfg = _config(tmp_path, smtp_server)
    doc = report_docx("", "II. ĐÁNH GIÁ KẾT QUẢ HỌC TẬP CHUYÊN ĐỀ NĂM 2024", STUDY)
    drop(tmp_path, message("ldldbaothang@gmail.com", at("2024-02-20 08:00"), docx=doc), "1")
    clock = Clock(at("2024-02-21 07:00"))
    app = make_app(cfg, clock)
    app.run_once()
    app.store.add_decision(  # excused: never reminded
        __import__("intake.store.models", fromlist=["DecisionKind"]).DecisionKind.EXCUSE,
        "ldld-bao-yen", "chuyen-de-2024", reason="sáp nhập", decided_by="hoa")
    smtp_server.wait_for(1)  # the acknowledgement to Bảo Thắng
    smtp_server.reset()

    _tick(app, clock, "2024-02-25 07:59")   # before -3d, before digest_at
    assert _sent(smtp_server) == []
    _tick(app, clock, "2024-02-25 08:00")   # the digest, once
    _tick(app, clock, "2024-02-25 18:00")
    assert _sent(smtp_server) == [("truongban@example.test", "Tình hình nhận báo cáo ngày 25/02/2024")]
    digest = smtp_server.messages[0].message.get_body(("plain",)).get_content()
    assert "- Chưa gửi: 2" in digest and "+ LĐLĐ thị xã Sa Pa" in digest and "- Đúng hạn: 1" in digest
    assert "+ Công đoàn ngành Y tế tỉnh Lào Cai" in digest
    smtp_server.reset()

    _tick(app, clock, "2024-02-26 00:30")   # -3d point: Sa Pa only (Y tế has no address)
    _tick(app, clock, "2024-02-26 01:30")
    assert _sent(smtp_server) == [("ldldsapa@gmail.com", "Nhắc gửi báo cáo: Báo cáo chuyen-de-2024")]
    reminder = smtp_server.messages[0].message
    assert reminder["Auto-Submitted"] == "auto-generated"
    body = reminder.get_body(("plain",)).get_content()
    assert body.startswith("Kính gửi LĐLĐ thị xã Sa Pa,") and "hạn gửi báo cáo là hết ngày 28/02/2024" in body
    smtp_server.reset()
    app.store.close()

    # Restart: a new App and a new scheduler, the same store: nothing is sent again.
    app = make_app(cfg, clock)
    _tick(app, clock, "2024-02-26 02:00")
    assert _sent(smtp_server) == []
    # The daemon was down over -1d; at +1d only the latest point is sent, and today's digest.
    _tick(app, clock, "2024-03-01 09:00")
    assert sorted(_sent(smtp_server)) == [
        ("ldldsapa@gmail.com", "Nhắc gửi báo cáo (quá hạn): Báo cáo chuyen-de-2024"),
        ("truongban@example.test", "Tình hình nhận báo cáo ngày 01/03/2024")]
    _tick(app, clock, "2024-03-05 09:00")   # after the last point: only the day's digest
    assert len(smtp_server.messages) == 3
    app.store.close()


@pytest.mark.server
def test_manual_remind_dry_run_then_once_a_day(tmp_path: Path, smtp_server: SmtpServer) -> None:
    cfg = _config(tmp_path, smtp_server)
    clock = Clock(at("2024-02-27 10:00"))
    app = make_app(cfg, clock)
    camp = app.catalog().campaign(None)
    dry = app.reminders.remind_now(camp, dry_run=True)
    assert [r.unit_id for r in dry.queued] == ["ldld-bao-thang", "ldld-bao-yen", "ldld-sa-pa"]
    assert [u.id for u in dry.no_address] == ["cdn-y-te"]
    assert app.send_pending().sent == 0
    assert [r.unit_id for r in app.reminders.remind_now(camp).queued] == ["ldld-bao-thang", "ldld-bao-yen",
                                                                           "ldld-sa-pa"]
    assert app.send_pending().sent == 3
    again = app.reminders.remind_now(camp)
    assert again.queued == [] and len(again.already) == 3
    clock.now = at("2024-02-28 10:00")
    assert len(app.reminders.remind_now(camp).queued) == 3
    assert app.send_pending().sent == 3
    assert sorted({m.rcpt_tos[0] for m in smtp_server.wait_for(6)}) == [
        "ldldbaothang@gmail.com", "ldldbaoyen@gmail.com", "ldldsapa@gmail.com"]
    app.store.close()


def test_a_failing_job_is_logged_and_stays_scheduled(caplog: pytest.LogCaptureFixture) -> None:
    calls: list[int] = []

    def broken() -> None:
        calls.append(1)
        raise RuntimeError("database is locked")

    scheduler = schedule.Scheduler()
    job = scheduler.every(60).seconds.do(guarded("broken", broken))
    with caplog.at_level(logging.ERROR):
        scheduler.run_all()
        scheduler.run_all()
    assert calls == [1, 1] and job in scheduler.jobs
    assert "scheduled job broken failed" in caplog.text
