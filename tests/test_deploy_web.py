"""The dashboard installed: deploy/intake-web.service verifies and is hardened like intake.service, and the
supported way to reach it from the office network, real nginx with TLS in front (deploy/nginx-intake.conf),
serves it with base_url https and a Secure session cookie."""
from __future__ import annotations

import re
import shutil
import ssl
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import trustme
from opskit import INTAKE
from webkit import PASSWORD, SECRET, USER, example_site, free_port, site_app

from intake.processor.services import Office
from intake.processor.web.server import serving_in_thread
from intake.processor.web.site import create_app
from intake.store.users import Accounts

ROOT = Path(__file__).resolve().parent.parent
NGINX = "/usr/sbin/nginx"
HARDENING = ("NoNewPrivileges=yes", "ProtectSystem=strict", "ReadWritePaths=/var/lib/intake", "ProtectHome=yes",
             "PrivateTmp=yes", "PrivateDevices=yes", "RestrictSUIDSGID=yes", "RestrictNamespaces=yes",
             "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6", "UMask=0027", "User=intake", "Group=intake")


def test_the_dashboard_unit_verifies_and_is_hardened_like_the_daemons(tmp_path: Path) -> None:
    unit = (ROOT / "deploy" / "intake-web.service").read_text(encoding="utf-8")
    daemon = (ROOT / "deploy" / "intake.service").read_text(encoding="utf-8").splitlines()
    for needed in (*HARDENING, "ExecStart=/opt/intake/.venv/bin/intake serve",
                   "Environment=INTAKE_CONFIG=/etc/intake/intake.toml"):
        assert needed in unit.splitlines() and (needed in daemon or "serve" in needed), needed
    intake_bin = shutil.which("intake") or str(Path(INTAKE[0]).parent / "intake")
    (tmp_path / "intake-web.service").write_text(unit.replace("/opt/intake/.venv/bin/intake", intake_bin),
                                                 encoding="utf-8")
    out = subprocess.run(["systemd-analyze", "verify", "--man=no", str(tmp_path / "intake-web.service")],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and out.stdout == "", out.stderr
    assert not [line for line in out.stderr.splitlines() if "intake-web.service" in line], out.stderr


@pytest.fixture
def behind_nginx(tmp_path: Path) -> Iterator[tuple[str, ssl.SSLContext]]:
    """The example site served by `intake serve`'s server on loopback, nginx with TLS in front of it,
    configured from deploy/nginx-intake.conf as the README says; yields (base_url, the client's CA)."""
    assert Path(NGINX).exists(), "nginx is missing: apt-get install nginx (scripts/setup-system.sh)"
    app_port, tls_port, plain_port = free_port(), free_port(), free_port()
    base_url = f"https://127.0.0.1:{tls_port}/"
    config = example_site(tmp_path / "site")
    config.write_text(config.read_text(encoding="utf-8").replace(
        "[web]\n", f'[web]\nlisten = "127.0.0.1:{app_port}"\nbase_url = "{base_url}"\n'), encoding="utf-8")
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    cert.cert_chain_pems[0].write_to_path(str(tmp_path / "intake.crt"))
    cert.private_key_pem.write_to_path(str(tmp_path / "intake.key"))
    server = (ROOT / "deploy" / "nginx-intake.conf").read_text(encoding="utf-8")
    for old, new in (("listen 443 ssl;", f"listen 127.0.0.1:{tls_port} ssl;"),
                     ("listen 80;", f"listen 127.0.0.1:{plain_port};"),
                     ("/etc/intake/tls/", f"{tmp_path}/"), ("127.0.0.1:8080", f"127.0.0.1:{app_port}")):
        assert old in server, old
        server = server.replace(old, new)
    (tmp_path / "intake.conf").write_text(server, encoding="utf-8")
    (tmp_path / "nginx.conf").write_text(f"""
pid {tmp_path}/nginx.pid;
error_log {tmp_path}/nginx-error.log;
events {{}}
http {{
    access_log {tmp_path}/nginx-access.log;
    client_body_temp_path {tmp_path}/body; proxy_temp_path {tmp_path}/proxy;
    fastcgi_temp_path {tmp_path}/fastcgi; uwsgi_temp_path {tmp_path}/uwsgi; scgi_temp_path {tmp_path}/scgi;
    include {tmp_path}/intake.conf;
}}
""", encoding="utf-8")
    app = site_app(config)
    asgi = create_app(app.cfg, Office(app), Accounts(app.store.db), SECRET, app.clock)
    nginx = subprocess.Popen([NGINX, "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf"), "-g", "daemon off;"],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        with serving_in_thread(asgi, "127.0.0.1", app_port):
            context = ssl.create_default_context()
            ca.configure_trust(context)
            for _ in range(100):
                try:
                    httpx.get(base_url + "login", verify=context, timeout=2)
                    break
                except httpx.TransportError:
                    assert nginx.poll() is None, nginx.stdout.read().decode() if nginx.stdout else ""
                    time.sleep(0.1)
            yield base_url, context
    finally:
        nginx.terminate()
        nginx.wait(timeout=20)
        app.store.close()


def test_the_dashboard_behind_nginx_with_tls_logs_in_with_a_secure_cookie(
        behind_nginx: tuple[str, ssl.SSLContext]) -> None:
    base_url, context = behind_nginx
    with httpx.Client(base_url=base_url, verify=context, timeout=10) as browser:
        page = browser.get("/login")
        assert page.status_code == 200 and "Đăng nhập" in page.text
        token = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert token
        login = browser.post("/login", data={"csrf": token.group(1), "name": USER, "password": PASSWORD, "next": "/"},
                             headers={"Origin": base_url.rstrip("/")})
        assert login.status_code == 303, login.text
        cookie = login.headers["set-cookie"]
        assert cookie.startswith("intake_session=") and "; secure" in cookie.lower() and "httponly" in cookie.lower()
        overview = browser.get("/")
        assert overview.status_code == 200 and "LĐLĐ huyện Bảo Thắng" in overview.text
        assert "giờ Việt Nam (GMT+7)" in overview.text
        foreign = browser.post("/logout", data={"csrf": token.group(1)}, headers={"Origin": "https://evil.example"})
        assert foreign.status_code == 403  # the Origin check knows the public https address
