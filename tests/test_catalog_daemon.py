"""A running daemon (`intake run`, a real process, documents read in its worker processes) takes a
unit and a campaign staff add with the CLI while it runs: no config edit, no restart."""
from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

from opskit import INTAKE, base_env, intake, wait_until
from staffkit import STUDY, at, message, report_docx, write_toml

SECTION = "Kết quả thực hiện phong trào thi đua Giỏi việc nước, đảm việc nhà năm 2024"


def test_the_running_daemon_takes_a_new_unit_and_campaign(tmp_path: Path) -> None:
    write_toml(tmp_path)
    text = (tmp_path / "intake.toml").read_text(encoding="utf-8")
    text = text[:text.index("[[units]]")]  # no units, no campaigns: staff create them
    text = text.replace("isolate_parsing = false", "isolate_parsing = true")
    text = text.replace('kind = "maildir"', 'kind = "maildir"\npoll_every = 1')
    config = tmp_path / "intake.toml"
    config.write_text(text, encoding="utf-8")
    for sub in ("new", "cur", "tmp"):
        (tmp_path / "maildir" / sub).mkdir(parents=True, exist_ok=True)
    log_path = tmp_path / "daemon.log"
    with log_path.open("w") as log:
        daemon = subprocess.Popen([*INTAKE, "--config", str(config), "run"], cwd="/", env=base_env(),
                                  stdout=log, stderr=subprocess.STDOUT)

    def logged() -> str:
        return log_path.read_text(encoding="utf-8")

    try:
        wait_until(lambda: "start version=" in logged(), 60, "the daemon to start")
        wait_until(lambda: intake("--config", str(config), "-q", "health", cwd=tmp_path).returncode == 0, 60,
              "the daemon's first mailbox check")
        for argv in (("units", "add", "ldld-bac-ha", "--name", "LĐLĐ huyện Bắc Hà", "--email", "ldldbacha@gmail.com"),
                     ("campaign", "add", "--id", "thi-dua-2024", "--title", "Báo cáo thi đua năm 2024",
                      "--opens", "22/01/2024", "--deadline", "29/02/2024", "--section", SECTION)):
            done = intake("--config", str(config), *argv, cwd=tmp_path)
            assert done.returncode == 0, done.stderr
        raw = message("ldldbacha@gmail.com", at("2024-02-21 08:00"), docx=report_docx("", SECTION, STUDY),
                      msgid="<bac-ha@gmail.com>")
        (tmp_path / "maildir" / "tmp" / "1").write_bytes(raw)
        os.rename(tmp_path / "maildir" / "tmp" / "1", tmp_path / "maildir" / "new" / "1")
        wait_until(lambda: "unit=ldld-bac-ha" in logged(), 120, "the message to be processed")
    finally:
        daemon.send_signal(signal.SIGTERM)
        code = daemon.wait(timeout=60)
    lines = [line for line in logged().splitlines()
             if "catalog changed" in line or " message ref=" in line or "start version=" in line]
    (tmp_path / "pick-up.log").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))  # kept in the output (pytest -s) for the closing note
    assert code == 0
    assert any("catalog changed" in line and "thi-dua-2024" in line for line in lines)
    processed = next(line for line in lines if " message ref=" in line)
    assert "unit=ldld-bac-ha campaign=thi-dua-2024 status=on_time match=address section=found" in processed
    assert "ack=queued" in processed or "ack=sent" in processed
