"""The dashboard in a real browser: Debian's Chromium driven by Playwright, against uvicorn on a loopback port.

One processed example site, one server and one browser for the module;
each test has its own browser context (cookies) and works on units the
others leave alone, so the order of the tests does not matter.
"""
from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright
from webkit import PASSWORD, USER, served_site

from intake.processor.services import Office

pytestmark = pytest.mark.slow

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


@dataclass
class Served:
    url: str
    office: Office


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with served_site(tmp_path_factory.mktemp("web-browser")) as (url, office):
        yield Served(url, office)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    assert Path(CHROMIUM).exists(), "Debian's chromium is needed: ./scripts/setup-system.sh installs it"
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


def login(page: Page, url: str) -> None:
    page.goto(url + "/login")
    page.fill("input[name=name]", USER)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    expect(page).to_have_url(url + "/")


@pytest.fixture(scope="module")
def session_state(browser: Browser, served: Served) -> Iterator[dict[str, Any]]:
    """One login for the module; each test's context starts with its cookie."""
    context = browser.new_context()
    try:
        login(context.new_page(), served.url)
        yield dict(context.storage_state())
    finally:
        context.close()


@pytest.fixture
def page(browser: Browser, served: Served, session_state: dict[str, Any]) -> Iterator[Page]:
    context = browser.new_context(locale="vi-VN", accept_downloads=True, storage_state=session_state)  # type: ignore[arg-type]
    context.set_default_timeout(15_000)
    pg = context.new_page()
    pg.goto(served.url + "/")
    try:
        yield pg
    finally:
        context.close()


def row(page: Page, name: str) -> str:
    return page.locator("table.units tbody tr", has_text=name).inner_text()


def test_login_is_required_and_wrong_passwords_are_refused(browser: Browser, served: Served) -> None:
    context = browser.new_context()
    pg = context.new_page()
    try:
        pg.goto(served.url + "/units/ldld-bao-thang")
        expect(pg).to_have_url(re.compile(r"/login\?next=%2Funits%2Fldld-bao-thang$"))
        pg.fill("input[name=name]", USER)
        pg.fill("input[name=password]", "sai mật khẩu")
        pg.click("button[type=submit]")
        expect(pg.locator(".error")).to_have_text("Tên đăng nhập hoặc mật khẩu không đúng.")
        pg.fill("input[name=password]", PASSWORD)
        pg.click("button[type=submit]")
        expect(pg).to_have_url(served.url + "/units/ldld-bao-thang")  # back where it was going
        expect(pg.locator("h1")).to_have_text("LĐLĐ huyện Bảo Thắng")
    finally:
        context.close()


def test_overview_reads_filters_and_searches(page: Page, served: Served) -> None:
    expect(page.locator("h1")).to_have_text("Báo cáo kết quả học tập Chuyên đề năm 2024")
    expect(page.locator("table.units tbody tr")).to_have_count(6)
    bao_thang = row(page, "LĐLĐ huyện Bảo Thắng")
    assert "Đúng hạn" in bao_thang and "09:12 26/02/2024" in bao_thang and "III. ĐÁNH GIÁ KẾT QUẢ" in bao_thang
    assert "Quá hạn" in row(page, "LĐLĐ huyện Bát Xát")
    page.select_option("select[name=status]", "late")
    page.click("form.filters button")
    expect(page.locator("table.units tbody tr")).to_have_count(1)
    expect(page.locator("table.units tbody tr")).to_contain_text("LĐLĐ huyện Bát Xát")
    page.select_option("select[name=status]", "")
    page.select_option("select[name=group]", "nganh")
    page.click("form.filters button")
    expect(page.locator(".unit-name")).to_have_text(["Công đoàn ngành Giáo dục tỉnh Lào Cai",
                                                     "Công đoàn ngành Y tế tỉnh Lào Cai"])
    page.fill("header input[name=q]", "TN24-00005")
    page.press("header input[name=q]", "Enter")
    expect(page).to_have_url(re.compile(r"/messages\?ref=TN24-00005$"))
    expect(page.locator("article.message")).to_contain_text("Bao cao Sa Pa.docx")
    page.fill("header input[name=q]", "bac ha")
    page.press("header input[name=q]", "Enter")
    expect(page.locator("h1")).to_have_text("LĐLĐ huyện Bắc Hà")


def test_phone_width_shows_the_table_as_cards(browser: Browser, served: Served) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    pg = context.new_page()
    try:
        login(pg, served.url)
        expect(pg.locator("table.units thead")).to_be_hidden()
        expect(pg.locator("table.units tbody tr").first).to_be_visible()
        width = pg.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"the page scrolls sideways on a phone ({width}px)"
    finally:
        context.close()


def test_unit_page_shows_messages_in_order_and_downloads_an_attachment(page: Page, served: Served) -> None:
    page.click("text=LĐLĐ huyện Bảo Thắng")
    cards = page.locator("article.message")
    expect(cards).to_have_count(2)
    expect(cards.nth(0)).to_contain_text("09:12 26/02/2024")
    expect(cards.nth(1)).to_contain_text("10:00 28/02/2024")
    expect(cards.nth(1).locator(".section-text")).to_contain_text("1.241")
    expect(cards.nth(1).locator("dl.figures")).to_contain_text("99,3")
    expect(cards.nth(0).locator("details.ack summary")).to_contain_text("ldldbaothang@gmail.com")
    link = cards.nth(0).locator("a.download", has_text="BC chuyên đề 2024 - Bảo Thắng.docx")
    with page.expect_download() as info:
        link.click()
    download = info.value
    assert download.suggested_filename == "BC chuyên đề 2024 - Bảo Thắng.docx"
    ref = (cards.nth(0).locator("h3 a").get_attribute("href") or "").split("ref=")[1]
    view = served.office.show(ref)
    report = next(a for a in view.attachments if a.filename == download.suggested_filename)
    assert Path(download.path()).read_bytes() == served.office.attachment(ref, report.position).data


def test_link_an_unmatched_sender_and_the_unit_changes(page: Page, served: Served) -> None:
    assert "Chưa gửi" in row(page, "Công đoàn ngành Y tế tỉnh Lào Cai")
    page.click("header nav >> text=Thư chưa rõ đơn vị")
    card = page.locator("article.unmatched", has_text="mamnonhoahong.lc@yahoo.com")
    card.locator("select[name=unit]").select_option(label="Công đoàn ngành Y tế tỉnh Lào Cai")
    card.locator("text=Gán địa chỉ").click()
    expect(page).to_have_url(re.compile(r"/units/cdn-y-te"))
    expect(page.locator(".flash")).to_contain_text("Đã gán mamnonhoahong.lc@yahoo.com cho Công đoàn ngành Y tế")
    expect(page.locator(".headline .badge")).to_have_text("Đúng hạn")
    expect(page.locator("article.message")).to_have_count(2)
    page.goto(served.url + "/unmatched")
    expect(page.locator("main")).to_contain_text("Không có thư nào chờ xác định đơn vị.")
    page.goto(served.url + "/decisions")
    expect(page.locator("table.decisions tbody tr", has_text="Gán địa chỉ")).to_contain_text(USER)


def test_excuse_a_unit_after_confirming(page: Page, served: Served) -> None:
    page.goto(served.url + "/units/ldld-bac-ha")
    page.fill("form[action$='/excuse'] input[name=reason]", "Đơn vị đã nộp bản giấy")
    page.click("form[action$='/excuse'] button")
    expect(page.locator("h1")).to_have_text("Xác nhận miễn nộp")
    expect(page.locator(".confirm")).to_contain_text("Lý do: Đơn vị đã nộp bản giấy")
    page.click(".confirm button.primary")
    expect(page.locator(".flash")).to_have_text("Đã miễn nộp cho LĐLĐ huyện Bắc Hà.")
    expect(page.locator(".headline .badge")).to_have_text("Miễn nộp")
    page.goto(served.url + "/")
    assert "Lý do miễn nộp: Đơn vị đã nộp bản giấy." in row(page, "LĐLĐ huyện Bắc Hà")
    page.goto(served.url + "/decisions")
    decision = page.locator("table.decisions tbody tr", has_text="Miễn nộp")
    expect(decision).to_contain_text("LĐLĐ huyện Bắc Hà")
    expect(decision).to_contain_text(USER)


def test_choose_the_section_among_the_candidates(page: Page, served: Served) -> None:
    assert "không tìm thấy · cần xem lại" in row(page, "LĐLĐ thị xã Sa Pa")
    page.goto(served.url + "/messages?ref=TN24-00005")
    expect(page.locator("article.message h4").first.locator("xpath=following-sibling::h4[1]")).to_contain_text(
        "không tìm thấy")
    form = page.locator("form.candidates")
    form.locator("label.choice").first.click()
    heading = form.locator("label.choice").first.inner_text().split(" · ")[0].strip()
    form.locator("button").click()
    expect(page.locator("h1")).to_have_text("Xác nhận chọn mục")
    page.click(".confirm button.primary")
    expect(page.locator(".flash")).to_contain_text("Đã chọn mục")
    expect(page.locator(".section-heading")).to_have_text(heading)
    expect(page.locator("article.message")).to_contain_text("do cán bộ chọn")
    page.goto(served.url + "/")
    assert "không tìm thấy" not in row(page, "LĐLĐ thị xã Sa Pa")
    [choice] = [d for d in served.office.decisions(None) if d.kind == "section"]
    assert choice.decided_by == USER and choice.heading == heading


def test_a_past_date_is_recorded_as_granted_after_the_fact(page: Page, served: Served) -> None:
    page.goto(served.url + "/units/ldld-bat-xat")
    page.fill("form[action$='/extend'] input[name=until]", "01/03/2024 17:00")
    page.click("form[action$='/extend'] button")
    expect(page.locator(".confirm")).to_contain_text("Thời điểm này đã qua")
    expect(page.locator(".confirm")).to_contain_text("Báo cáo kết quả học tập Chuyên đề năm 2024")
    assert not [d for d in served.office.decisions(None) if d.unit_id == "ldld-bat-xat"]
    page.click(".confirm button[type=submit]")
    [decision] = [d for d in served.office.decisions(None) if d.unit_id == "ldld-bat-xat"]
    assert decision.until == dt.datetime(2024, 3, 1, 10, 0, tzinfo=dt.UTC) and decision.decided_by == USER
