"""The operator's console and the province report in a real browser, on the demo province with its
90 days of sales (demo/sales.py): at 390 px and at desktop width, checked by axe, nothing wider
than a phone's screen, every chart with its text alternative, and screenshots kept under
test-results/screenshots/ for a person to look at."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from marketplace.extensions import db
from tests.e2e.axe import assert_accessible
from tests.e2e.conftest import DESKTOP, PHONE
from tests.support import sign_in_page

pytestmark = pytest.mark.e2e

DEMO_PASSWORD = "demo12345"
SIZES = {
    "phone": {"viewport": PHONE, "is_mobile": True, "has_touch": True},
    "desktop": {"viewport": DESKTOP},
}


@pytest.fixture
def demo(live_server):
    from demo.loader import load_demo

    with live_server.app.app_context():
        load_demo()
        db.session.commit()
        db.session.remove()


@pytest.mark.parametrize("size", list(SIZES))
def test_console_and_report_with_data(live_server, new_page, demo, screenshot, size):
    page = new_page(**SIZES[size])
    sign_in_page(page, "operator@demo.vn", DEMO_PASSWORD)
    page.goto("/quan-tri/?ky=90")
    expect(page.get_by_role("heading", name="Việc cần xử lý")).to_be_visible()
    expect(page.locator(".queues li")).to_have_count(10)
    expect(page.locator('.queues a[data-queue="shops"] .count')).not_to_have_text("0")  # a demo shop waits
    charts = page.locator("figure.chart [role=img]")  # SVG drawings and HTML bar lists
    assert charts.count() == 12  # eleven charts and the province map
    gmv = page.locator("#chart-gmv")
    expect(gmv.locator("desc")).not_to_contain_text("chưa có gì")
    assert gmv.locator("circle.point").count() == 90  # a line beyond 62 days, a point per day
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= SIZES[size]["viewport"]["width"], f"the console is {width}px wide"
    gmv.locator("summary").click()  # the table beside the chart opens
    expect(gmv.locator("table tbody tr")).to_have_count(90)
    assert_accessible(page, f"operator console ({size})")
    screenshot(page, "console")

    page.get_by_role("link", name="Báo cáo tỉnh cho kỳ này").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Báo cáo thương mại điện tử tỉnh Hà Tĩnh")
    expect(page.locator("#report-tong-hop")).to_be_visible()
    rows = page.locator("section[aria-labelledby=report-tong-hop] tbody tr")
    expect(rows).to_have_count(7)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= SIZES[size]["viewport"]["width"], f"the report is {width}px wide"
    assert_accessible(page, f"province report ({size})")
    screenshot(page, "report")
    with page.expect_download() as download:
        page.get_by_role("link", name="Tải bảng tính Excel (.xlsx)").click()
    assert download.value.suggested_filename.endswith(".xlsx")
    page.emulate_media(media="print")
    expect(page.locator(".period-form")).to_be_hidden()  # the printout is the report only
    screenshot(page, "report-print")
