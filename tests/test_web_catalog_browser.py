"""The dashboard's catalog pages in a real browser (Debian's Chromium through Playwright): a roster
imported with one bad row (the preview first), a campaign created from the form, its overview.

A site of its own: adding a campaign changes which one the overview shows first, so the other
browser tests' site is left alone. Screenshots go to $INTAKE_SCREENSHOTS when it is set.
"""
from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from test_web_browser import CHROMIUM, browser, login  # noqa: F401 - `browser` is a fixture used here
from webkit import served_site

from intake.processor.services import Office

pytestmark = pytest.mark.slow
ROSTER = ("id,name,aliases,emails,group\n"
          "ldld-muong-khuong,LĐLĐ huyện Mường Khương,Liên đoàn Lao động huyện Mường Khương,"
          "ldldmuongkhuong@gmail.com,huyen\n"
          "ldld-si-ma-cai,LĐLĐ huyện Si Ma Cai,,ldldsimacai@gmail.com;vanthu.smc@gmail.com,huyen\n"
          "cd-khu-kinh-te,Công đoàn Khu kinh tế,,thu-sai-dia-chi,nganh\n")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Office]]:
    with served_site(tmp_path_factory.mktemp("web-catalog")) as served:
        yield served


@pytest.fixture
def page(browser: Browser, site: tuple[str, Office]) -> Iterator[Page]:  # noqa: F811 - the fixture above
    assert Path(CHROMIUM).exists()
    context = browser.new_context(locale="vi-VN", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    pg = context.new_page()
    login(pg, site[0])
    try:
        yield pg
    finally:
        context.close()


def shot(page: Page, name: str) -> None:
    folder = os.environ.get("INTAKE_SCREENSHOTS")
    if folder:
        page.screenshot(path=str(Path(folder) / name), full_page=True)


def test_import_a_roster_with_one_bad_row_then_create_a_campaign(page: Page, site: tuple[str, Office],
                                                                  tmp_path: Path) -> None:
    url, office = site
    roster = tmp_path / "danh-sach-don-vi.csv"
    roster.write_text(ROSTER, encoding="utf-8")
    page.click("nav >> text=Danh sách đơn vị")
    expect(page.locator("table.roster tbody tr")).to_have_count(6)
    expect(page.locator("table.roster tbody tr").first).to_contain_text("từ tệp cấu hình")
    page.set_input_files("input[type=file]", str(roster))
    page.click("text=Xem trước…")
    expect(page.locator("h1")).to_have_text("Xem trước: danh-sach-don-vi.csv")
    rows = page.locator("table.import-preview tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.nth(0)).to_contain_text("mới")
    expect(rows.nth(2)).to_contain_text("lỗi")
    expect(rows.nth(2)).to_contain_text("cd-khu-kinh-te")
    expect(rows.nth(2)).to_contain_text("địa chỉ thư không hợp lệ: \"thu-sai-dia-chi\"")
    expect(page.locator(".error")).to_contain_text("Các dòng lỗi sẽ không được ghi")
    assert office.catalog().unit("ldld-muong-khuong") is None  # the preview wrote nothing
    shot(page, "roster-import-preview.png")
    page.click("text=Ghi 2 đơn vị mới và 0 thay đổi")
    expect(page).to_have_url(url + "/roster")
    expect(page.locator(".flash")).to_have_text(
        "Đã nhập danh-sach-don-vi.csv: 2 đơn vị mới, 0 thay đổi; 1 dòng lỗi không ghi.")
    expect(page.locator("table.roster tbody tr")).to_have_count(8)
    expect(page.locator("table.roster tbody tr", has_text="LĐLĐ huyện Si Ma Cai")).to_contain_text("do cán bộ tạo")
    assert office.catalog().unit("cd-khu-kinh-te") is None

    page.click("nav >> text=Đợt báo cáo")
    expect(page.locator("table.campaigns tbody tr")).to_have_count(1)
    expect(page.locator("table.campaigns tbody tr")).to_contain_text("từ tệp cấu hình")
    page.click("text=Tạo đợt báo cáo mới")
    page.fill("input[name=id]", "thi-dua-2024")
    page.fill("input[name=title]", "Báo cáo kết quả phong trào thi đua năm 2024")
    page.fill("input[name=opens]", "01/02/2024")
    page.fill("input[name=deadline]", "15/03/2024 17:00")
    page.fill("input[name=section]", "Kết quả thực hiện phong trào thi đua Giỏi việc nước, đảm việc nhà")
    page.fill("input[name=units]", "group:huyen")
    page.fill("input[name=remind]", "-3d, +1d")
    shot(page, "campaign-form.png")
    page.click("text=Tiếp tục…")
    expect(page.locator("section.confirm")).to_contain_text("Hạn nộp: 17:00 15/03/2024")
    page.click("text=Lưu đợt báo cáo")
    expect(page.locator(".flash")).to_contain_text("Đã tạo đợt thi-dua-2024")
    created = page.locator("table.campaigns tbody tr", has_text="thi-dua-2024")
    expect(created).to_contain_text("do cán bộ tạo")
    expect(created).to_contain_text("group:huyen")
    created.locator("a", has_text="Báo cáo kết quả phong trào thi đua năm 2024").click()
    expect(page).to_have_url(re.compile(r"/\?campaign=thi-dua-2024$"))
    expect(page.locator("h1")).to_have_text("Báo cáo kết quả phong trào thi đua năm 2024")
    units = page.locator("table.units tbody tr")
    expect(units.filter(has_text="LĐLĐ huyện Si Ma Cai")).to_have_count(1)   # the imported units are expected
    expect(units.filter(has_text="Công đoàn ngành Y tế")).to_have_count(0)   # not in group huyen
    shot(page, "campaign-overview.png")
    decisions = [d.kind for d in office.decisions(None)]
    assert decisions.count("unit_add") == 2 and decisions.count("campaign_add") == 1

    # Closed from the list: kept, marked, no longer editable.
    page.click("nav >> text=Đợt báo cáo")
    page.locator("table.campaigns tbody tr", has_text="thi-dua-2024").locator("text=Kết thúc…").click()
    page.click("button.danger")
    expect(page.locator("table.campaigns tbody tr", has_text="thi-dua-2024")).to_contain_text("đã kết thúc")
    expect(page.locator("table.campaigns tbody tr", has_text="thi-dua-2024").locator("text=Sửa")).to_have_count(0)


def test_a_unit_is_edited_and_removed_from_the_roster_page(page: Page, site: tuple[str, Office]) -> None:
    url, office = site
    office.add_unit("ldld-van-ban", name="LĐLĐ huyện Văn Bàn", emails=["ldldvanban@gmail.com"], group="huyen",
                    actor="lan")
    page.goto(url + "/roster")
    page.locator("table.roster tbody tr", has_text="LĐLĐ huyện Văn Bàn").locator("text=Sửa").click()
    page.fill("input[name=emails]", "vanthu.vanban@gmail.com")
    page.click("text=Tiếp tục…")
    page.click("text=Lưu đơn vị")
    expect(page.locator(".flash")).to_contain_text("địa chỉ: ldldvanban@gmail.com → vanthu.vanban@gmail.com")
    page.locator("table.roster tbody tr", has_text="LĐLĐ huyện Văn Bàn").locator("text=Bỏ…").click()
    page.click("button.danger")
    expect(page.locator(".flash")).to_have_text("Đã bỏ đơn vị LĐLĐ huyện Văn Bàn khỏi danh sách.")
    expect(page.locator("table.roster tbody tr", has_text="LĐLĐ huyện Văn Bàn")).to_have_count(0)
    # A config unit has no buttons.
    expect(page.locator("table.roster tbody tr", has_text="LĐLĐ huyện Bảo Thắng").locator("button")).to_have_count(0)


SEED_GUIDELINE = Path(__file__).resolve().parent / "fixtures" / "guideline-2024-seed.txt"
SEED_SECTION = "Đánh giá riêng về kết quả tổ chức học tập, quán triệt và triển khai Chuyên đề năm 2024"
GUIDELINES = SEED_GUIDELINE.parent / "guidelines"


def upload_guideline(page: Page, url: str, path: Path, data: bytes) -> None:
    """On the new-campaign page, upload `data` as the file `path` and read it."""
    path.write_bytes(data)
    page.goto(url + "/campaigns/new")
    page.set_input_files("#guideline-upload input[type=file]", str(path))
    page.click("text=Đọc văn bản")


def test_a_campaign_is_created_from_an_uploaded_guideline(page: Page, site: tuple[str, Office],
                                                          tmp_path: Path) -> None:
    """Upload the guideline: the form comes back filled in, each value beside its sentence with the
    value marked; staff correct what the guideline does not give (the opening) and confirm."""
    url, office = site
    upload_guideline(page, url, tmp_path / "Huong dan 05-HD.txt", SEED_GUIDELINE.read_bytes())
    expect(page.locator("#guideline-upload")).to_contain_text("Đã đọc: Huong dan 05-HD.txt")
    expect(page.locator("input[name=deadline]")).to_have_value("29/02/2024 00:00")
    expect(page.locator("input[name=section]")).to_have_value(SEED_SECTION)
    expect(page.locator("input[name=title]")).to_have_value(re.compile(r"^Học tập chuyên đề .* năm 2024"))
    marks = page.locator("p.source mark")
    expect(marks.nth(1)).to_have_text("trước ngày 29/2/2024")
    expect(marks.nth(2)).to_have_text(re.compile(re.escape(SEED_SECTION), re.IGNORECASE))  # as the sentence writes it
    expect(page.locator("p.source").nth(1)).to_contain_text("các cấp Công đoàn báo cáo kết quả học tập")  # the sentence
    expect(page.locator("p.source", has_text="Địa chỉ nhận báo cáo").locator("mark")).to_have_text(
        "bantuyengiaonuconglc@gmail.com")
    page.fill("input[name=id]", "chuyen-de-tu-huong-dan")
    page.fill("input[name=opens]", "22/01/2024")  # the guideline gives no date of its own: staff set it
    shot(page, "campaign-form-from-guideline.png")
    page.click("text=Tiếp tục…")
    expect(page.locator("section.confirm")).to_contain_text("Hạn nộp: hết ngày 28/02/2024")
    page.click("text=Lưu đợt báo cáo")
    expect(page.locator(".flash")).to_contain_text("Đã tạo đợt chuyen-de-tu-huong-dan")
    page.locator("table.campaigns tbody tr", has_text="chuyen-de-tu-huong-dan").locator("a").first.click()
    expect(page).to_have_url(re.compile(r"/\?campaign=chuyen-de-tu-huong-dan$"))
    expect(page.locator("h1")).to_contain_text("Học tập chuyên đề")
    camp = office.campaign("chuyen-de-tu-huong-dan")
    assert camp.section_title == SEED_SECTION
    made = [d for d in office.decisions("chuyen-de-tu-huong-dan") if d.kind == "campaign_add"]
    assert [d.decided_by for d in made] == ["hoa"]


def test_an_unclear_deadline_lists_the_dates_and_a_bad_file_is_refused(page: Page, site: tuple[str, Office],
                                                                       tmp_path: Path) -> None:
    url, _ = site
    unclear = (GUIDELINES / "cong-van-so-ket-khong-ro-han.txt").read_bytes()
    upload_guideline(page, url, tmp_path / "cong-van.txt", unclear)
    expect(page.locator("input[name=deadline]")).to_have_value("")
    expect(page.locator(".candidates")).to_contain_text("«trước ngày 15/6/2025» → 15/06/2025 00:00")
    expect(page.locator(".candidates")).to_contain_text("«trước ngày 15/11/2025»")
    upload_guideline(page, url, tmp_path / "anh.txt", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)
    expect(page.locator("main")).to_contain_text("Không đọc được văn bản hướng dẫn")


def test_the_guidelines_outline_is_kept_with_the_campaign_made_from_it(page: Page, site: tuple[str, Office],
                                                                       tmp_path: Path) -> None:
    """The đề cương comes with the form (one heading a line), crosses the confirmation intact and is
    stored with its required heading; the edit form shows it again."""
    url, office = site
    plan = (GUIDELINES / "ke-hoach-de-cuong-nghi-quyet.txt").read_bytes()
    upload_guideline(page, url, tmp_path / "ke-hoach-96.txt", plan)
    outline = page.locator("textarea[name=outline]")
    expect(outline).to_have_value(re.compile(r"^I\. ĐẶC ĐIỂM TÌNH HÌNH\n1\. Thuận lợi\n"))
    expect(page.locator("input[name=opens]")).to_have_value("10/11/2025 00:00")  # the guideline's own date
    page.fill("input[name=id]", "so-ket-nq-xvii")
    page.click("text=Tiếp tục…")
    expect(page.locator("section.confirm")).to_contain_text(
        "[2. Đánh giá riêng về kết quả thực hiện các chỉ tiêu Nghị quyết giai đoạn 2023-2025]")
    page.click("text=Lưu đợt báo cáo")
    expect(page.locator(".flash")).to_contain_text("Đã tạo đợt so-ket-nq-xvii")
    camp = office.campaign("so-ket-nq-xvii")
    assert [h.level for h in camp.outline] == [1, 2, 2, 1, 2, 2, 3, 3, 1, 1, 1]
    assert camp.outline_required == 5
    page.goto(url + "/campaigns/so-ket-nq-xvii/edit")
    expect(page.locator("textarea[name=outline]")).to_contain_text("V. ĐỀ XUẤT, KIẾN NGHỊ")
    expect(page.locator("input[name=outline_required]")).to_have_value(camp.outline[5].text)
