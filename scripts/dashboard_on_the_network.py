#!/usr/bin/env python3
"""The dashboard as the README installs it, reached as another PC of the office would.

Builds the examples' site with the real command line (`run --once`, `users add`),
starts `intake serve` as deploy/intake-web.service runs it (INTAKE_CONFIG, no
--listen: `[web] listen` on loopback) and nginx from deploy/nginx-intake.conf
with TLS on this machine's network address (not loopback), then drives
Debian's Chromium there: log in, the overview, a message's section choice with
the candidates' texts. Writes docs/screenshots/service-*.png and prints how
long each step took. Needs nginx (apt-get install nginx).
Run from the repository root: .venv/bin/python scripts/dashboard_on_the_network.py [--address IP]
"""
from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import trustme
from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parent))
from screenshots import CHROMIUM, CHROMIUM_ARGS, PASSWORD, ROOT, USER, scratch_site


def network_address() -> str:
    """This machine's address on its network (the route out), as another PC reaches it."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.connect(("192.0.2.123", 9))  # no packet is sent: only the route is looked up
        return str(s.getsockname()[0])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("", 0))
        return int(s.getsockname()[1])


def nginx_config(tmp: Path, address: str, tls_port: int, app_port: int) -> Path:
    ca = trustme.CA()
    cert = ca.issue_cert(address)
    cert.cert_chain_pems[0].write_to_path(str(tmp / "intake.crt"))
    cert.private_key_pem.write_to_path(str(tmp / "intake.key"))
    server = (ROOT / "deploy" / "nginx-intake.conf").read_text(encoding="utf-8")
    server = (server.replace("listen 443 ssl;", f"listen {address}:{tls_port} ssl;")
              .replace("listen 80;", f"listen {address}:{free_port()};")
              .replace("/etc/intake/tls/", f"{tmp}/").replace("127.0.0.1:8080", f"127.0.0.1:{app_port}"))
    (tmp / "intake.conf").write_text(server, encoding="utf-8")
    conf = tmp / "nginx.conf"
    conf.write_text(f"""pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log;
events {{}}
http {{
    access_log {tmp}/nginx-access.log;
    client_body_temp_path {tmp}/body; proxy_temp_path {tmp}/proxy; fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi; scgi_temp_path {tmp}/scgi;
    include {tmp}/intake.conf;
}}
""", encoding="utf-8")
    return conf


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--address", default=None, help="the address other PCs reach (default: the route out)")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = parser.parse_args()
    address = args.address or network_address()
    args.out.mkdir(parents=True, exist_ok=True)
    timings: list[tuple[str, float]] = []
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="intake-net-") as name:
        tmp = Path(name)
        config = scratch_site(tmp)
        timings.append(("site: run --once, users add", time.monotonic() - start))
        app_port, tls_port = free_port(), free_port()
        base_url = f"https://{address}:{tls_port}/"
        config.write_text(config.read_text(encoding="utf-8")
                          + f'\n[web]\nlisten = "127.0.0.1:{app_port}"\nbase_url = "{base_url}"\n', encoding="utf-8")
        step = time.monotonic()
        serve = subprocess.Popen([sys.executable, "-m", "intake.processor.cli", "serve"],
                                 env={**os.environ, "INTAKE_CONFIG": str(config)}, cwd="/")
        nginx = subprocess.Popen(["/usr/sbin/nginx", "-p", str(tmp), "-c", str(nginx_config(tmp, address, tls_port,
                                                                                            app_port)),
                                  "-g", "daemon off;"])
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
                # The office CA is trusted on staff PCs; here the test CA is not installed in Chromium.
                context = browser.new_context(viewport={"width": 1280, "height": 820}, locale="vi-VN",
                                              ignore_https_errors=True)
                page = context.new_page()
                for _ in range(150):  # until both are up: nginx answers 502 while `intake serve` starts
                    try:
                        if page.goto(base_url + "login").status == 200:
                            break
                    except Exception:  # noqa: BLE001 (nginx is still starting: try again)
                        pass
                    time.sleep(0.2)
                timings.append(("services up, login page over https", time.monotonic() - step))
                page.fill("input[name=name]", USER)
                page.fill("input[name=password]", PASSWORD)
                page.click("button[type=submit]")
                page.wait_for_url(base_url)
                cookie = next(c for c in context.cookies() if c["name"] == "intake_session")
                print(f"session cookie: secure={cookie['secure']} httpOnly={cookie['httpOnly']} "
                      f"sameSite={cookie['sameSite']}")
                page.screenshot(path=str(args.out / "service-overview.png"), full_page=True)
                page.goto(base_url + "messages?ref=TN24-00005")
                page.locator("form.candidates").scroll_into_view_if_needed()
                page.locator("form.candidates").screenshot(path=str(args.out / "service-section-choice.png"))
                timings.append(("logged in, two pages shot", time.monotonic() - step))
                browser.close()
        finally:
            nginx.terminate()
            serve.terminate()
            nginx.wait(20)
            serve.wait(20)
    print(f"dashboard reached at {base_url} (nginx, TLS) from Chromium")
    for what, seconds in timings:
        print(f"{seconds:7.1f} s  {what}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
