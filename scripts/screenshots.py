#!/usr/bin/env python3
"""Screenshots of the staff dashboard for the README, at desktop and phone widths.

By default it builds a scratch site from the examples with the real command
line (`run --once`, `users add`, `serve --listen`), drives Debian's Chromium
through Playwright, and writes docs/screenshots/dashboard-<page>-<width>.png.
Run from the repository root: .venv/bin/python scripts/screenshots.py
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import Browser, Page, sync_playwright

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
USER, PASSWORD = "hoa", "mat-khau-anh-chup-man-hinh"
WIDTHS = {"desktop": {"viewport": {"width": 1280, "height": 820}, "device_scale_factor": 1},
          "phone": {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True,
                    "has_touch": True}}


def intake(config: Path, *args: str, stdin: str | None = None) -> None:
    subprocess.run([sys.executable, "-m", "intake.processor.cli", "--config", str(config), "-q", *args],
                   input=stdin, text=True, check=True)


def scratch_site(tmp: Path) -> Path:
    shutil.copytree(ROOT / "examples" / "maildir", tmp / "maildir")
    text = (ROOT / "config.example.toml").read_text(encoding="utf-8")
    for key, value in (("url", f"sqlite:///{tmp / 'intake.db'}"), ("files_dir", str(tmp / "files")),
                       ("path", str(tmp / "maildir")), ("outbox_dir", str(tmp / "outbox"))):
        text = re.sub(rf'^{key} = "[^"]*"', f'{key} = "{value}"', text, count=1, flags=re.MULTILINE)
    config = tmp / "intake.toml"
    config.write_text("isolate_parsing = false\n" + text, encoding="utf-8")
    intake(config, "run", "--once")
    intake(config, "users", "add", USER, stdin=PASSWORD + "\n")
    return config


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def served(config: Path) -> Iterator[str]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "intake.processor.cli", "--config", str(config), "-q", "serve",
                             "--listen", f"127.0.0.1:{port}"], env={**os.environ})
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                urllib.request.urlopen(url + "/login", timeout=1).close()
                break
            except (urllib.error.URLError, ConnectionError):
                if proc.poll() is not None:
                    raise SystemExit("screenshots: `intake serve` exited early") from None
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        proc.wait(10)


def shoot(browser: Browser, url: str, out: Path, width: str) -> None:
    context = browser.new_context(**WIDTHS[width], locale="vi-VN")  # type: ignore[arg-type]
    page = context.new_page()

    def save(name: str) -> None:
        page.screenshot(path=str(out / f"dashboard-{name}-{width}.png"), full_page=True)

    page.goto(url + "/login")
    save("login")
    page.fill("input[name=name]", USER)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(url + "/")
    save("overview")
    page.goto(url + "/units/ldld-bao-thang")
    save("unit")
    page.goto(url + "/messages?ref=" + first_reference(page, url, "ldld-sa-pa"))
    save("message")
    page.goto(url + "/unmatched")
    save("unmatched")
    page.goto(url + "/units/ldld-bac-ha")
    page.fill("form[action$='/extend'] input[name=until]", "15/12/2030 17:00")
    page.click("form[action$='/extend'] button")
    save("confirm")
    if width == "desktop":  # one decision, shown on both widths
        page.click("main form button.primary")
    page.goto(url + "/decisions")
    save("decisions")
    page.goto(url + "/downloads")
    save("downloads")
    context.close()


def first_reference(page: Page, url: str, unit_id: str) -> str:
    page.goto(url + f"/units/{unit_id}")
    href = page.locator("article.message h3 a").first.get_attribute("href") or ""
    return href.split("ref=", 1)[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="intake-shots-") as tmp:
        config = scratch_site(Path(tmp))
        with served(config) as url, sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            try:
                for width in WIDTHS:
                    shoot(browser, url, args.out, width)
            finally:
                browser.close()
    for png in sorted(args.out.glob("dashboard-*.png")):
        print(f"{png}\t{png.stat().st_size // 1024} KB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
