"""The producer dashboard in a real browser, on a phone (390 px) and a desktop: today's work,
the charts with their tables, the reviews page and the printable settlement statement; axe-core
finds no blocking violation and nothing scrolls sideways. Screenshots go to
test-results/screenshots/ (git-ignored) for a person to look at."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from marketplace.extensions import db
from tests.conftest import Factory
from tests.dashboards.producer_testlib import full_world
from tests.e2e.axe import assert_accessible
from tests.support import sign_in_page

pytestmark = pytest.mark.e2e

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
DESKTOP = {"viewport": {"width": 1280, "height": 900}}
NOVEMBER = "tu=2026-11-01&den=2026-11-30"


@pytest.fixture
def shop(live_server):
    with live_server.app.app_context():
        w = full_world(Factory(live_server.app))
        data = {"slug": w.shop.slug, "owner": w.owner.email, "o1": w.orders["o1"].code}
        db.session.remove()
    return data


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_the_producer_dashboard_in_a_browser(new_page, shop, screenshot, size):
    page = new_page(**(PHONE if size == "phone" else DESKTOP))
    sign_in_page(page, shop["owner"])
    base = f"/kenh-ban/{shop['slug']}"

    page.goto(f"{base}/?{NOVEMBER}")
    today = page.locator(".today-work")
    expect(today).to_contain_text("Đơn chờ xác nhận")
    expect(today.locator("a", has_text="Đơn chờ xác nhận").locator(".count")).to_have_text("2")
    expect(page.locator("#doanh-thu figcaption")).to_contain_text("195.000")
    expect(page.locator("#doanh-thu-theo-kenh")).to_contain_text("Shopee")
    expect(page.locator("#thu-ho-chua-doi-soat")).to_contain_text("GHN Thử")
    page.locator("#doanh-thu summary").click()  # the chart's table opens
    expect(page.locator("#doanh-thu table")).to_contain_text("30/11/2026")
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]
    assert_accessible(page, f"producer dashboard ({size})")
    screenshot(page, f"dashboard-{size}")

    # Weekly buckets through the period form.
    page.select_option("select[name=nhom]", "tuan")
    page.get_by_role("button", name="Xem").click()
    expect(page.locator("#doanh-thu figcaption")).to_contain_text("Tuần từ")

    page.goto(f"{base}/danh-gia?chua_tra_loi=1")
    expect(page.locator(".review-replies")).to_contain_text("Cam hơi dập")
    page.locator(".review-replies textarea").first.fill("Shop xin lỗi chị, đã gửi bù.")
    page.get_by_role("button", name="Gửi câu trả lời").first.click()
    expect(page.locator(".flash-success")).to_contain_text("Đã lưu câu trả lời")
    expect(page.locator(".review-replies")).to_contain_text("Đã trả lời lúc")
    assert_accessible(page, f"reviews ({size})")
    screenshot(page, f"reviews-{size}")

    page.goto(f"{base}/doi-soat?{NOVEMBER}")
    expect(page.locator(".statement")).to_contain_text("Số dư cuối kỳ")
    expect(page.locator(".statement .balances")).to_contain_text("70.000")
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]
    assert_accessible(page, f"statement ({size})")
    screenshot(page, f"statement-{size}")
    expect(page.get_by_role("button", name="In bảng đối soát")).to_be_visible()  # static/js/app.js prints
    page.emulate_media(media="print")
    assert not page.locator(".period-form").is_visible()  # the printout is the statement alone
    screenshot(page, f"statement-print-{size}")
