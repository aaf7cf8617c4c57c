"""In a real browser: an operator approves a shop, then finds that action in the audit log with
its before and after, filters the log, and the page passes axe at phone and desktop widths
(screenshots kept under test-results/)."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import expect

from marketplace.accounts.services import create_user
from marketplace.extensions import db
from marketplace.models import Commune
from tests.e2e.axe import assert_accessible
from tests.support import PASSWORD, sign_in_page

SHOP_NAME = "Hợp tác xã Cam Vũ Quang"


def seed(app) -> dict:
    from sellers.services import register_shop

    with app.app_context():
        commune = Commune(name="Xã Vũ Quang", province="Hà Tĩnh", kind="xa")
        db.session.add(commune)
        db.session.flush()
        operator = create_user(
            email="bqlsan@example.vn",
            password=PASSWORD,
            full_name="Ban quản lý sàn",
            role="operator",
            confirmed=True,
        )
        owner = create_user(
            email="htx@example.vn",
            password=PASSWORD,
            full_name="Chủ nhiệm HTX",
            role="producer",
            confirmed=True,
        )
        shop = register_shop(
            {
                "name": SHOP_NAME,
                "kind": "cooperative",
                "phone": "0912345678",
                "address_line": "Thôn 3",
                "commune_id": commune.id,
                "registration_number": None,
                "tax_code": "3001234567",
            },
            actor=owner,
        )
        db.session.commit()
        seeded = {"operator": operator.email, "shop_id": shop.id}
        db.session.remove()
    return seeded


def test_an_operator_finds_the_approval_in_the_audit_log(live_server, new_page, screenshot):
    seeded = seed(live_server.app)
    page = new_page()
    sign_in_page(page, seeded["operator"], PASSWORD)
    page.goto(f"/quan-tri/cua-hang/{seeded['shop_id']}")
    page.get_by_role("button", name="Duyệt", exact=True).click()
    expect(page.get_by_text(f"Đã cập nhật trạng thái cửa hàng {SHOP_NAME}")).to_be_visible()

    page.goto("/quan-tri/")
    page.get_by_role("link", name="Nhật ký thao tác của cán bộ").click()
    expect(page.get_by_role("heading", name="Nhật ký thao tác của cán bộ")).to_be_visible()
    row = page.locator("table.audit-log > tbody > tr").filter(has_text=SHOP_NAME)
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Ban quản lý sàn")
    expect(row).to_contain_text("sellers_admin.review_shop")
    expect(row.locator("del", has_text="pending")).to_be_visible()
    expect(row.locator("ins", has_text="approved")).to_be_visible()

    page.get_by_label("Bảng dữ liệu").select_option("shops")
    page.get_by_role("button", name="Lọc").click()
    page.wait_for_url(re.compile(r"bang=shops"))
    expect(page.locator("table.audit-log > tbody > tr")).to_have_count(1)
    assert_accessible(page, "audit-log-desktop")
    screenshot(page, "desktop")

    phone = new_page(viewport={"width": 390, "height": 844})
    sign_in_page(phone, seeded["operator"], PASSWORD)
    phone.goto("/quan-tri/nhat-ky")
    expect(phone.locator("table.audit-log")).to_contain_text(SHOP_NAME)
    assert_accessible(phone, "audit-log-phone")
    screenshot(phone, "phone")

    with page.expect_download() as download:
        page.get_by_role("link", name="Xuất CSV").click()
    text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    assert SHOP_NAME in text and "sellers_admin.review_shop" in text
