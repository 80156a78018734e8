"""The dashboard over HTTP (Starlette's TestClient): login gate, CSRF, headers, throttle, actions, downloads.

The store is the examples' Maildir processed once by the real pipeline
(module fixture); each test works on its own copy of it.
"""
from __future__ import annotations

import datetime as dt
import email
import email.policy
import io
import os
import re
import stat
import subprocess
import sys
import time
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.routing import Route
from starlette.testclient import TestClient
from webkit import PASSWORD, SECRET, USER, clone_site, example_site, free_port, site_app

from intake.parsers.errors import ConfigError
from intake.processor import cli
from intake.processor.app import App
from intake.processor.config import load_config, parse_config
from intake.processor.services import Office
from intake.processor.times import local_time
from intake.processor.web.accounts import PER_ACCOUNT, PER_ADDRESS, WINDOW, LoginResult, Logins, hash_password
from intake.processor.web.app import safe_filename
from intake.processor.web.render import section_blocks
from intake.processor.web.security import CSP, safe_next, session_secret
from intake.processor.web.site import create_app
from intake.store.users import Accounts

GET_PAGES = ["/", "/?status=late", "/search?q=TN24-00005", "/units/ldld-bao-thang", "/messages?ref=TN24-00005",
             "/messages/attachment?ref=TN24-00005&n=0", "/unmatched", "/decisions", "/downloads", "/exports/csv",
             "/exports/xlsx", "/exports/html", "/exports/docx", "/exports/reports.zip", "/campaigns", "/campaigns/new",
             "/campaigns/chuyen-de-2024/edit", "/roster", "/roster/ldld-bac-ha/edit"]
POST_ACTIONS = ["/logout", "/units/ldld-bac-ha/excuse", "/units/ldld-bac-ha/extend", "/units/ldld-bac-ha/resend",
                "/messages/section",
                "/messages/retry", "/unmatched/link", "/unmatched/dismiss", "/remind", "/decisions/1/revoke",
                "/decisions/1/corrected-ack",
                "/campaigns/new", "/campaigns/guideline", "/campaigns/chuyen-de-2024/edit",
                "/campaigns/chuyen-de-2024/close", "/roster/add", "/roster/import", "/roster/ldld-bac-ha/edit",
                "/roster/ldld-bac-ha/remove", "/login"]


@dataclass
class Site:
    app: App
    office: Office
    accounts: Accounts
    client: TestClient
    root: Path

    def token(self, path: str = "/") -> str:
        found = re.search(r'name="csrf" value="([^"]+)"', self.client.get(path).text)
        assert found, "no CSRF field on " + path
        return found.group(1)

    def login(self, name: str = USER, password: str = PASSWORD) -> int:
        token = self.token("/login")
        return self.client.post("/login", data={"csrf": token, "name": name, "password": password, "next": "/"},
                                follow_redirects=False).status_code

    def post(self, path: str, **data: str) -> tuple[int, str, str]:
        response = self.client.post(path, data={"csrf": self.token(), **data}, follow_redirects=False)
        return response.status_code, response.headers.get("location", ""), response.text


@pytest.fixture(scope="module")
def processed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("web-site")
    example_site(root)
    return root


def open_site(config: Path, client_address: tuple[str, int] = ("198.51.100.7", 50000)) -> Site:
    app = site_app(config)
    office = Office(app)
    accounts = Accounts(app.store.db)
    asgi = create_app(app.cfg, office, accounts, SECRET, app.clock)
    return Site(app, office, accounts, TestClient(asgi, client=client_address), config.parent)


@pytest.fixture
def site(processed: Path, tmp_path: Path) -> Iterator[Site]:
    s = open_site(clone_site(processed, tmp_path / "site"))
    try:
        yield s
    finally:
        s.client.close()
        s.app.store.close()


@pytest.fixture
def staff(site: Site) -> Site:
    assert site.login() == 303
    return site


# -- the gate ------------------------------------------------------------------------


def routes(site: Site, method: str) -> set[str]:
    app = site.client.app
    assert isinstance(app, Starlette)
    return {r.path for r in app.routes if isinstance(r, Route) and r.methods and method in r.methods}


def test_the_lists_below_cover_every_route(site: Site) -> None:
    def template(path: str) -> str:
        path = path.split("?")[0]
        path = re.sub(r"^/campaigns/(?!new$|guideline$)[^/]+", "/campaigns/{campaign_id}",
                      re.sub(r"^/roster/(?!add$|import$)[^/]+", "/roster/{unit_id}", path))
        return re.sub(r"^/units/[^/]+", "/units/{unit_id}", re.sub(r"^/decisions/\d+", "/decisions/{decision_id}",
                      re.sub(r"^/exports/(csv|xlsx|html|docx)$", "/exports/{fmt}", path)))

    assert routes(site, "GET") - {"/login", "/static/web.css"} == {template(p) for p in GET_PAGES}
    assert routes(site, "POST") == {template(p) for p in POST_ACTIONS}


def test_every_page_and_file_needs_a_login(site: Site) -> None:
    for path in GET_PAGES:
        response = site.client.get(path, follow_redirects=False)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/login?next=%2F"), path
        assert b"PK" not in response.content[:4] and "TN24" not in response.text, path
    assert site.client.get("/static/web.css").status_code == 200  # the only file served without a login


def test_every_post_is_refused_without_a_session(site: Site) -> None:
    for path in POST_ACTIONS[:-1]:
        response = site.client.post(path, data={"reason": "x", "confirmed": "1"}, follow_redirects=False)
        assert response.status_code == 403, path
    assert site.office.decisions(None) == []


def test_every_post_is_refused_without_the_csrf_token(staff: Site) -> None:
    for path in POST_ACTIONS:
        for token in (None, "forged-token"):
            data = {"reason": "lý do", "until": "01/01/2030", "confirmed": "1", "ref": "TN24-00005",
                    "choice": "1", "unit": "cdn-y-te", "address": "mamnonhoahong.lc@yahoo.com",
                    "campaign": "chuyen-de-2024", "name": USER, "password": PASSWORD}
            if token:
                data["csrf"] = token
            response = staff.client.post(path, data=data, follow_redirects=False)
            assert response.status_code == 403, (path, token)
    assert staff.office.decisions(None) == []
    assert staff.client.get("/", follow_redirects=False).status_code == 200  # still logged in


def test_a_post_from_another_site_is_refused(staff: Site) -> None:
    token = staff.token()
    response = staff.client.post("/units/ldld-bac-ha/excuse", headers={"Origin": "https://evil.example"},
                                 data={"csrf": token, "reason": "x", "confirmed": "1"}, follow_redirects=False)
    assert response.status_code == 403
    assert staff.office.decisions(None) == []


def test_headers_and_cookie(staff: Site) -> None:
    response = staff.client.get("/")
    assert response.headers["content-security-policy"] == CSP
    assert "script-src" not in CSP and "'unsafe-inline'" not in CSP and CSP.startswith("default-src 'none'")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["cache-control"] == "no-store"
    assert "<script" not in response.text and " style=" not in response.text
    fresh = TestClient(staff.client.app)
    cookie = fresh.get("/login").headers["set-cookie"]
    assert cookie.startswith("intake_session=")
    assert "httponly" in cookie.lower() and "samesite=strict" in cookie.lower() and "path=/" in cookie.lower()


def test_login_is_checked_and_follows_only_local_targets(site: Site) -> None:
    assert site.login(USER, "wrong password!") == 401
    assert site.login("nobody", PASSWORD) == 401
    token = site.token("/login")
    response = site.client.post("/login", data={"csrf": token, "name": USER.upper(), "password": PASSWORD,
                                                "next": "//evil.example/x"}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/"
    assert [safe_next(t) for t in ("/units/a?x=1", "//x", "https://x", "/\\x", "")] == ["/units/a?x=1", "/", "/",
                                                                                        "/", "/"]


def test_logout_ends_the_session(staff: Site) -> None:
    status, location, _ = staff.post("/logout")
    assert (status, location) == (303, "/login")
    assert staff.client.get("/", follow_redirects=False).status_code == 303


def test_a_removed_account_loses_its_session(staff: Site) -> None:
    assert staff.client.get("/", follow_redirects=False).status_code == 200
    assert staff.accounts.remove(USER)
    assert staff.client.get("/", follow_redirects=False).status_code == 303


# -- throttle ----------------------------------------------------------------------------


def test_login_throttle_per_account_holds_even_for_the_right_password(site: Site) -> None:
    for _ in range(PER_ACCOUNT):
        assert site.login(USER, "not the password") == 401
    assert site.login(USER, PASSWORD) == 429
    other = open_site(site.root / "intake.toml", client_address=("203.0.113.9", 40000))
    try:
        assert other.login(USER, PASSWORD) == 429  # per account: another address does not help
    finally:
        other.client.close()
        other.app.store.close()


def test_login_throttle_per_address(site: Site) -> None:
    for i in range(PER_ADDRESS):
        assert site.login(f"guess{i}", "not the password") == 401
    assert site.login(USER, PASSWORD) == 429


def test_throttle_window_moves_on_and_is_persisted(site: Site) -> None:
    now = [dt.datetime(2026, 1, 5, 8, 0, tzinfo=dt.UTC)]
    logins = Logins(site.accounts, lambda: now[0])
    for _ in range(PER_ACCOUNT):
        assert logins.login(USER, "wrong", "192.0.2.1")[0] is LoginResult.WRONG
    # A second process on the same store sees the same failures.
    assert Logins(Accounts(site.app.store.db), lambda: now[0]).login(USER, PASSWORD, "192.0.2.2")[0] \
        is LoginResult.THROTTLED
    now[0] += WINDOW + dt.timedelta(seconds=1)
    assert logins.login(USER, PASSWORD, "192.0.2.1") == (LoginResult.OK, USER)


# -- pages ---------------------------------------------------------------------------------


def test_overview_filters_sorts_and_searches(staff: Site) -> None:
    page = staff.client.get("/").text
    assert "Báo cáo kết quả học tập Chuyên đề năm 2024" in page and "hết ngày 28/02/2024" in page
    assert "09:12 26/02/2024" in page  # Bảo Thắng's first report, in Asia/Ho_Chi_Minh
    late = staff.client.get("/?status=late").text
    assert "LĐLĐ huyện Bát Xát" in late and "LĐLĐ huyện Bảo Thắng" not in late
    nganh = staff.client.get("/?group=nganh").text
    assert nganh.count('class="unit-name"') == 2
    assert staff.client.get("/?q=bac ha").text.count('class="unit-name"') == 1
    names = re.findall(r'class="unit-name">([^<]+)<', staff.client.get("/?sort=name&order=desc").text)
    assert names[0] == "LĐLĐ thị xã Sa Pa" and len(names) == 6
    found = staff.client.get("/search?q=tn24-00005", follow_redirects=False)
    assert found.headers["location"] == "/messages?ref=tn24-00005"
    assert staff.client.get("/search?q=Bắc Hà", follow_redirects=False).headers["location"] == "/units/ldld-bac-ha"


def test_message_page_by_reference_and_message_id(staff: Site) -> None:
    view = staff.office.show("TN24-00005")
    by_id = staff.client.get("/messages", params={"ref": view.message_id})
    assert by_id.status_code == 200 and "TN24-00005" in by_id.text
    assert staff.client.get("/messages?ref=TN99-99999").status_code == 404


def test_attachment_is_a_download_under_its_own_name(staff: Site) -> None:
    view = staff.office.show("TN24-00005")
    att = next(a for a in view.attachments if a.is_report)
    response = staff.client.get(f"/messages/attachment?ref=TN24-00005&n={att.position}")
    assert response.status_code == 200
    assert response.content == staff.office.attachment("TN24-00005", att.position).data
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("attachment; filename=")
    assert "filename*=UTF-8''Bao%20cao%20Sa%20Pa.docx" in disposition
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")


def test_exports_and_the_zip_of_latest_reports(staff: Site) -> None:
    for fmt in ("csv", "xlsx", "html", "docx"):
        response = staff.client.get(f"/exports/{fmt}")
        assert response.status_code == 200, fmt
        assert response.headers["content-disposition"].startswith(f'attachment; filename="chuyen-de-2024.{fmt}"')
        if fmt in ("csv", "html"):
            assert response.content == staff.office.export("chuyen-de-2024", fmt)
        else:
            assert response.content[:2] == b"PK" and zipfile.ZipFile(io.BytesIO(response.content)).testzip() is None
    archive = zipfile.ZipFile(io.BytesIO(staff.client.get("/exports/reports.zip").content))
    names = archive.namelist()
    assert names == ["01 LĐLĐ huyện Bảo Thắng.docx", "02 LĐLĐ huyện Bát Xát.docx", "03 LĐLĐ thị xã Sa Pa.docx",
                     "05 Công đoàn ngành Giáo dục tỉnh Lào Cai.docx"]
    latest = staff.office.status(None).units[0].latest
    assert latest is not None and latest.reference
    report = next(a for a in staff.office.show(latest.reference).attachments if a.is_report)
    assert archive.read(names[0]) == staff.office.attachment(latest.reference, report.position).data


# -- actions ---------------------------------------------------------------------------


def test_excuse_asks_for_confirmation_then_records_who(staff: Site) -> None:
    status, _, page = staff.post("/units/ldld-bac-ha/excuse", campaign="chuyen-de-2024", reason="Đã sáp nhập")
    assert status == 200 and "Xác nhận miễn nộp" in page and "Đã sáp nhập" in page
    assert staff.office.decisions(None) == []
    status, location, _ = staff.post("/units/ldld-bac-ha/excuse", campaign="chuyen-de-2024", reason="Đã sáp nhập",
                                     confirmed="1")
    assert (status, location) == (303, "/units/ldld-bac-ha?campaign=chuyen-de-2024")
    [decision] = staff.office.decisions(None)
    assert (decision.kind, decision.unit_id, decision.reason, decision.decided_by) == \
        ("excuse", "ldld-bac-ha", "Đã sáp nhập", USER)
    unit = next(u for u in staff.office.status(None).units if u.id == "ldld-bac-ha")
    assert unit.status == "excused"
    assert "Đã miễn nộp cho LĐLĐ huyện Bắc Hà." in staff.client.get(location).text


def test_extend_takes_a_past_date_and_says_so_and_takes_dd_mm_yyyy(staff: Site) -> None:
    status, _, page = staff.post("/units/ldld-bat-xat/extend", campaign="chuyen-de-2024", until="hôm qua")
    assert status == 400 and "dd/mm/yyyy" in page
    assert staff.office.decisions(None) == []
    status, _, page = staff.post("/units/ldld-bat-xat/extend", campaign="chuyen-de-2024", until="01/03/2024 17:00")
    assert status == 200 and "Thời điểm này đã qua" in page and "Báo cáo kết quả học tập Chuyên đề năm 2024" in page
    status, location, _ = staff.post("/units/ldld-bat-xat/extend", campaign="chuyen-de-2024",
                                     until="01/03/2024 17:00", confirmed="1")
    assert status == 303 and "Thời điểm này đã qua" in staff.client.get(location).text
    status, _, _ = staff.post("/units/ldld-bat-xat/extend", campaign="chuyen-de-2024", until="05/03/2040 17:00",
                              confirmed="1")
    assert status == 303
    past, future = staff.office.decisions(None)
    assert past.until == dt.datetime(2024, 3, 1, 10, 0, tzinfo=dt.UTC) and past.decided_by == USER
    assert future.until == dt.datetime(2040, 3, 5, 10, 0, tzinfo=dt.UTC) and future.decided_by == USER


def test_revoke_a_decision(staff: Site) -> None:
    staff.post("/units/ldld-bac-ha/excuse", campaign="chuyen-de-2024", reason="nhầm", confirmed="1")
    [decision] = staff.office.decisions(None)
    status, _, page = staff.post(f"/decisions/{decision.id}/revoke", campaign="chuyen-de-2024")
    assert status == 200 and "Xác nhận huỷ quyết định" in page
    status, location, _ = staff.post(f"/decisions/{decision.id}/revoke", campaign="chuyen-de-2024",
                                     next="/decisions", confirmed="1")
    assert (status, location) == (303, "/decisions")
    [revoked] = staff.office.decisions(None)
    assert revoked.revoked_by == USER and revoked.revoked_at is not None
    assert next(u for u in staff.office.status(None).units if u.id == "ldld-bac-ha").status == "missing"


def test_dismiss_an_unmatched_message_with_a_reason(staff: Site) -> None:
    [unmatched] = staff.office.status(None).unmatched
    ref = unmatched.reference or unmatched.message_id
    assert staff.post("/unmatched/dismiss", ref=ref, reason="")[0] == 400
    status, location, _ = staff.post("/unmatched/dismiss", ref=ref, reason="Thư của trường mầm non",
                                     campaign="chuyen-de-2024")
    assert (status, location) == (303, "/unmatched?campaign=chuyen-de-2024")
    assert staff.office.status(None).unmatched == ()
    assert "Không có thư nào chờ xác định đơn vị." in staff.client.get(location).text
    [decision] = staff.office.decisions(None)
    assert (decision.kind, decision.reason, decision.decided_by) == ("dismiss", "Thư của trường mầm non", USER)


def test_a_failed_message_counts_shows_its_reason_and_is_processed_again(
        staff: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    import intake.processor.ingest.pipeline as pipeline

    unit = next(u for u in staff.office.status(None).units if u.id == "ldld-bat-xat")
    assert unit.latest is not None and unit.latest.reference
    ref = unit.latest.reference

    def fault(*_args: object) -> None:
        raise RuntimeError("injected: the finder crashed")

    with monkeypatch.context() as patch:
        patch.setattr(pipeline, "decide", fault)
        staff.app.pipeline.reprocess(staff.app.store.find_message(ref) or 0)
    overview = staff.client.get("/").text
    row = overview.split("LĐLĐ huyện Bát Xát", 1)[1].split("</tr>", 1)[0]
    assert "Quá hạn" in row and "Chưa gửi" not in row  # it sent: counted, late as before
    assert "lỗi khi xử lý thư" in row and "RuntimeError: injected: the finder crashed" in row
    page = staff.client.get(f"/messages?ref={ref}").text
    assert "Xử lý lại" in page and "RuntimeError: injected: the finder crashed" in page
    status, location, _ = staff.post("/messages/retry", ref=ref)
    assert (status, location) == (303, f"/messages?ref={ref}")
    assert staff.office.show(ref).state == "processed" and "Xử lý lại" not in staff.client.get(location).text
    assert staff.post("/messages/retry", ref=ref)[0] == 400  # it did not fail this time


def test_remind_now_lists_then_queues(staff: Site) -> None:
    status, _, page = staff.post("/remind", campaign="chuyen-de-2024")
    assert status == 200 and "Sẽ gửi nhắc: LĐLĐ huyện Bắc Hà (ldldbacha@gmail.com)" in page
    before = set((staff.root / "outbox").glob("*.eml"))
    status, location, _ = staff.post("/remind", campaign="chuyen-de-2024", confirmed="1")
    assert (status, location) == (303, "/?campaign=chuyen-de-2024")
    sent = set((staff.root / "outbox").glob("*.eml")) - before
    assert any(b"ldldbacha@gmail.com" in p.read_bytes() for p in sent)


# -- command line, config, helpers ----------------------------------------------------------------


def test_users_command(processed: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                       capsys: pytest.CaptureFixture[str]) -> None:
    config = str(clone_site(processed, tmp_path / "site"))
    monkeypatch.setattr("sys.stdin", io.StringIO("mot-mat-khau-dai\n"))
    assert cli.main(["--config", config, "users", "add", "Lan"], {}) == 0
    assert cli.main(["--config", config, "users", "list"], {}) == 0
    out = capsys.readouterr().out
    assert "đã tạo tài khoản lan" in out and re.search(r"^hoa\t", out, re.M) and re.search(r"^lan\t", out, re.M)
    monkeypatch.setattr("sys.stdin", io.StringIO("ngan\n"))
    assert cli.main(["--config", config, "users", "add", "tam"], {}) == 2
    assert cli.main(["--config", config, "users", "add", "../x"], {}) == 2
    assert cli.main(["--config", config, "users", "remove", "lan"], {}) == 0
    assert cli.main(["--config", config, "users", "remove", "lan"], {}) == 2
    app = site_app(Path(config))
    try:
        hashed = Accounts(app.store.db).password_hash("hoa")
        assert hashed is not None and hashed.startswith("$argon2id$") and PASSWORD not in hashed
    finally:
        app.store.close()


def test_session_key_file_is_made_once_with_mode_0600(processed: Path, tmp_path: Path) -> None:
    cfg = load_config(clone_site(processed, tmp_path / "site"), {})
    key = session_secret(cfg, {})
    assert cfg.web.secret_file is not None
    assert stat.S_IMODE(os.stat(cfg.web.secret_file).st_mode) == 0o600 and len(key) >= 32
    assert session_secret(cfg, {}) == key
    plain = parse_config({**_minimal(tmp_path)}, tmp_path / "intake.toml", {})
    assert session_secret(plain, {"INTAKE_WEB_SECRET": "e" * 40}) == "e" * 40
    made = session_secret(plain, {})
    assert (tmp_path / "intake-web.key").read_text().strip() == made  # beside the SQLite file


def _minimal(tmp: Path, web: dict[str, str] | None = None) -> dict[str, object]:
    data: dict[str, object] = {
        "store": {"url": f"sqlite:///{tmp / 'intake.db'}", "files_dir": str(tmp / "files")},
        "mailbox": {"kind": "maildir", "path": str(tmp / "maildir")},
        "sending": {"kind": "outbox", "from_address": "a@b.vn"},
        "units": [{"id": "u", "name": "U"}],
        "campaigns": [{"id": "c", "title": "C", "opens": "2024-01-01T00:00:00+07:00",
                       "deadline": "2024-02-01T00:00:00+07:00", "section_title": "S"}]}
    if web is not None:
        data["web"] = web
    return data


def test_web_config(tmp_path: Path) -> None:
    cfg = parse_config(_minimal(tmp_path), tmp_path / "intake.toml", {})
    assert (cfg.web.host, cfg.web.port, cfg.web.base_url) == ("127.0.0.1", 8080, "http://127.0.0.1:8080/")
    cfg = parse_config(_minimal(tmp_path, {"listen": "[::1]:9000", "base_url": "https://bao-cao.example.vn"}),
                       tmp_path / "intake.toml", {})
    assert (cfg.web.host, cfg.web.port, cfg.web.base_url) == ("::1", 9000, "https://bao-cao.example.vn/")
    for web, key in (({"listen": "8080"}, "[web] listen"), ({"listen": "h:99999"}, "[web] listen"),
                     ({"base_url": "ftp://x"}, "[web] base_url"), ({"port": "1"}, "[web] port")):
        with pytest.raises(ConfigError) as err:
            parse_config(_minimal(tmp_path, web), tmp_path / "intake.toml", {})
        assert err.value.key == key


def test_section_text_renders_tables_as_tables() -> None:
    blocks = section_blocks("Kết quả:\nTT\tĐơn vị\tSố\n1\tBảo Thắng\t1.250\nTrên đây là báo cáo.")
    assert [b.text for b in blocks if not b.rows] == ["Kết quả:", "Trên đây là báo cáo."]
    [table] = [b for b in blocks if b.rows]
    assert table.rows == (("TT", "Đơn vị", "Số"), ("1", "Bảo Thắng", "1.250"))


def test_times_and_file_names_for_staff() -> None:
    from zoneinfo import ZoneInfo

    vn = ZoneInfo("Asia/Ho_Chi_Minh")
    assert local_time(dt.datetime(2024, 2, 26, 2, 12, tzinfo=dt.UTC), vn) == "09:12 26/02/2024"
    assert safe_filename("../../etc/passwd") == "passwd"
    assert safe_filename("C:\\Users\\x\\Báo cáo\x00.docx") == "Báo cáo_.docx"
    assert safe_filename("  ..  ") == "tep"
    assert hash_password("mười ký tự trở lên").startswith("$argon2id$")


@pytest.mark.slow  # intake serve as a process
def test_serve_command_listens_where_asked(processed: Path, tmp_path: Path) -> None:
    config = clone_site(processed, tmp_path / "site")
    assert cli.main(["--config", str(config), "serve", "--listen", "127.0.0.1"], {}) == 2
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "intake.processor.cli", "--config", str(config), "-q", "serve",
                             "--listen", f"127.0.0.1:{port}"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        for _ in range(300):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=2) as response:
                    assert response.status == 200
                    assert response.headers["Content-Security-Policy"] == CSP
                    assert "Đăng nhập" in response.read().decode()
                break
            except (urllib.error.URLError, ConnectionError):
                assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
                time.sleep(0.1)
        else:
            pytest.fail("intake serve did not answer")
    finally:
        proc.terminate()
        proc.wait(10)
        if proc.stderr:
            proc.stderr.close()


# -- details staff asked for (issue 23) -----------------------------------------------------------


def test_group_labels_zone_in_words_and_the_campaign_title_on_confirmation(staff: Site) -> None:
    page = staff.client.get("/").text
    assert '<span class="tag">Huyện, thị xã, thành phố</span>' in page and ">Công đoàn ngành</option>" in page
    assert '<span class="tag">huyen</span>' not in page
    assert "giờ Việt Nam (GMT+7)" in page and "Asia/Ho_Chi_Minh" not in page
    status, _, page = staff.post("/units/ldld-bac-ha/excuse", campaign="chuyen-de-2024", reason="sáp nhập")
    assert status == 200 and "Đợt: Báo cáo kết quả học tập Chuyên đề năm 2024" in page


def test_a_repeated_decision_is_noticed(staff: Site) -> None:
    for _ in range(2):
        status, location, _ = staff.post("/units/ldld-bac-ha/excuse", campaign="chuyen-de-2024", reason="sáp nhập",
                                         confirmed="1")
        assert status == 303
    first, second = staff.office.decisions(None)
    assert f"Lưu ý: trùng với quyết định #{first.id} vẫn đang có hiệu lực" in staff.client.get(location).text
    assert staff.office.repeats(second) == [first]


def test_choosing_a_section_shows_the_candidates_text_and_takes_a_typed_heading(staff: Site) -> None:
    view = staff.office.show("TN24-00005")
    assert view.section is not None and view.section.candidates
    texts = staff.office.candidate_texts("TN24-00005")
    assert len(texts) == len(view.section.candidates) and all(texts)
    page = staff.client.get("/messages?ref=TN24-00005").text
    assert f'<span class="candidate-text">{texts[0][:40]}' in page.replace("&#34;", '"')
    assert 'name="heading"' in page
    typed = view.section.candidates[-1].heading
    status, _, page = staff.post("/messages/section", ref="TN24-00005", choice="heading", heading=typed)
    assert status == 200 and f"Mục được chọn: {typed}" in page
    status, _, _ = staff.post("/messages/section", ref="TN24-00005", choice="heading", heading=typed, confirmed="1")
    assert status == 303
    [choice] = [d for d in staff.office.decisions(None) if d.kind == "section"]
    assert choice.heading == typed and choice.decided_by == USER
    status, _, page = staff.post("/messages/section", ref="TN24-00005", choice="heading", heading="")
    assert status == 400 and "Hãy gõ tiêu đề" in page


def test_ask_a_unit_to_send_again(staff: Site) -> None:
    outbox = staff.app.cfg.sending.outbox_dir  # type: ignore[union-attr]
    before = set(outbox.iterdir())
    status, _, page = staff.post("/units/ldld-sa-pa/resend", campaign="chuyen-de-2024")
    assert status == 200 and "Xác nhận đề nghị gửi lại" in page and "Đề nghị đơn vị gửi lại báo cáo" in page
    assert "TN24-00005" in page and staff.office.decisions(None) == [] and set(outbox.iterdir()) == before
    status, location, _ = staff.post("/units/ldld-sa-pa/resend", campaign="chuyen-de-2024", confirmed="1")
    assert status == 303 and "Đã gửi thư đề nghị LĐLĐ thị xã Sa Pa gửi lại báo cáo" in staff.client.get(location).text
    [decision] = staff.office.decisions(None)
    assert (decision.kind, decision.unit_id, decision.decided_by) == ("resend", "ldld-sa-pa", USER)
    [sent] = set(outbox.iterdir()) - before
    mail = email.message_from_bytes(sent.read_bytes(), policy=email.policy.default)
    assert mail["To"].addresses[0].addr_spec == "ldldsapa@gmail.com"
    assert mail["Subject"] == "Đề nghị gửi lại báo cáo: Báo cáo kết quả học tập Chuyên đề năm 2024"
    assert "Đề nghị đơn vị gửi lại báo cáo" in mail.get_body(("plain",)).get_content()
    assert "Đề nghị gửi lại" in staff.client.get("/decisions").text


# -- the catalog pages -----------------------------------------------------------------


def test_with_no_campaign_the_pages_say_to_create_one(processed: Path, tmp_path: Path) -> None:
    config = clone_site(processed, tmp_path / "site")
    text = config.read_text(encoding="utf-8")
    start = text.index("[[campaigns]]")
    end = text.find("\n[", start + 1)
    config.write_text(text[:start] + (text[end:] if end >= 0 else ""), encoding="utf-8")
    site = open_site(config)
    try:
        assert site.login() == 303
        page = site.client.get("/")
        assert page.status_code == 409
        assert "chưa có đợt báo cáo nào" in page.text and 'href="/campaigns"' in page.text
        assert "Chưa có đợt báo cáo nào: hãy tạo một đợt." in site.client.get("/campaigns").text
    finally:
        site.client.close()
        site.app.store.close()


def test_a_config_campaign_or_unit_is_read_only_on_the_dashboard(staff: Site) -> None:
    listed = staff.client.get("/campaigns").text
    assert "từ tệp cấu hình" in listed and "/campaigns/chuyen-de-2024/edit" not in listed
    status, _, body = staff.post("/campaigns/chuyen-de-2024/close", confirmed="1")
    assert status == 400 and "tệp cấu hình" in body
    status, _, body = staff.post("/roster/ldld-bao-thang/remove", confirmed="1")
    assert status == 400 and "tệp cấu hình" in body
    assert staff.office.decisions(None) == []
    status, location, _ = staff.post("/roster/add", id="ldld-van-ban", name="LĐLĐ huyện Văn Bàn",
                                     emails="ldldvanban@gmail.com", aliases="", group="huyen", confirmed="1")
    assert (status, location) == (303, "/roster")
    assert staff.office.catalog().unit("ldld-van-ban") is not None
