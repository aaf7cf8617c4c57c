"""Seller and operator pages on a phone (390 px), in a real browser, on the demo province: each
page is kept as a screenshot under test-results/phone/ (git-ignored) for a person to look at, and
what can be measured is checked: the signed-in header is one line, the logo keeps its proportions,
no page scrolls sideways, "delivered" needs its tick, the packing slip fits A6 when printed, the
moderation list says which shops are suspended, English pages show the floor's English names."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from marketplace.extensions import db
from tests.support import sign_in_page

pytestmark = pytest.mark.e2e

SHOTS = Path(__file__).resolve().parents[2] / "test-results" / "phone"
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
DEMO_PASSWORD = "demo12345"


@pytest.fixture
def demo(live_server):
    from catalog.models import Category
    from demo.loader import load_demo
    from orders.models import Order
    from sellers.models import Shop

    with live_server.app.app_context():
        load_demo()
        db.session.commit()
        shipped = db.session.scalars(select_orders(Order, "shipped")).first()
        shop = db.session.get(Shop, shipped.shop_id)
        owner = next(m.user.email for m in shop.members if m.role == "owner")
        food = db.session.scalars(db.select(Category).where(Category.slug == "thuc-pham")).one()
        data = {"order": shipped.code, "shop": shop.slug, "owner": owner, "category": food.slug}
        db.session.remove()
    return data


def select_orders(order_model, status):
    return db.select(order_model).where(order_model.status == status).order_by(order_model.id)


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def fits_the_phone(page) -> None:
    """Nothing wider than the screen: the page never scrolls sideways."""
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"{page.url} is {width}px wide"


def printed(page) -> tuple[set, int]:
    """The page printed to PDF at its own @page size: (the sheet sizes in points, how many sheets)."""
    pdf = page.pdf(prefer_css_page_size=True)
    boxes = re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", pdf)
    return {tuple(round(float(n)) for n in box) for box in boxes}, len(re.findall(rb"/Type\s*/Page[^s]", pdf))


def header_is_one_line(page) -> None:
    nav = page.locator(".account-nav").bounding_box()
    link = page.locator(".account-nav a").first.bounding_box()
    assert nav and link and nav["height"] < 2 * link["height"] + 4, (nav, link)


def test_seller_pages_on_a_phone(live_server, new_page, demo):
    page = new_page(**PHONE)
    sign_in_page(page, demo["owner"], DEMO_PASSWORD)
    base = f"/kenh-ban/{demo['shop']}"

    page.goto(f"{base}/")
    header_is_one_line(page)
    fits_the_phone(page)
    logo = page.locator(".shop-logo img")
    expect(logo).to_be_visible()
    box = logo.bounding_box()
    assert box and round(box["width"]) == round(box["height"]) <= 64  # a square box, the picture inside it
    assert logo.evaluate("img => getComputedStyle(img).objectFit") == "contain"
    shot(page, "seller-dashboard")

    page.goto(f"{base}/thong-tin")
    fits_the_phone(page)
    shot(page, "seller-shop-profile")

    page.goto(f"{base}/san-pham/moi")
    for label in ("Giá (đồng)", "Tồn kho", "Khối lượng đóng gói (gam)"):
        assert page.get_by_label(label, exact=True).get_attribute("inputmode") == "numeric", label
    fits_the_phone(page)
    shot(page, "seller-listing-form")

    page.goto(f"{base}/san-pham/nhap-csv")
    fits_the_phone(page)
    expect(page.locator(".csv-row dt").first).to_have_text("shop")
    shot(page, "seller-csv-import")

    page.goto(f"{base}/don-hang?tab=all")
    fits_the_phone(page)
    shot(page, "seller-inbox")

    page.goto(f"{base}/don-hang/{demo['order']}")
    fits_the_phone(page)
    shot(page, "seller-order-shipped")
    deliver = page.get_by_role("button", name="Đã giao thành công")
    deliver.click()  # not ticked: the browser asks for the tick, nothing is sent
    expect(page.get_by_label("Tôi xác nhận người mua đã nhận hàng")).to_be_visible()
    assert page.evaluate("document.querySelector('input[name=confirm]').validity.valueMissing")
    page.get_by_label("Tôi xác nhận người mua đã nhận hàng").check()
    deliver.click()
    expect(page.get_by_text("Đã ghi nhận giao thành công")).to_be_visible()
    expect(page.locator("section.order-actions")).to_have_count(0)  # nothing left to do: no card
    shot(page, "seller-order-delivered")

    page.goto(f"{base}/don-hang/{demo['order']}/phieu-dong-goi")
    fits_the_phone(page)
    shot(page, "seller-packing-slip")
    assert printed(page) == ({(298, 420)}, 1)  # A6 in points, on one sheet
    page.get_by_role("link", name="A5").click()
    page.wait_for_url("**kho=a5**")  # print the A5 page once it has loaded, stylesheet and all
    page.wait_for_load_state("load")
    assert printed(page) == ({(420, 595)}, 1)  # A5


def test_operator_pages_on_a_phone(live_server, new_page, demo):
    page = new_page(**PHONE)
    sign_in_page(page, "operator@demo.vn", DEMO_PASSWORD)
    page.goto("/quan-tri/san-pham?shop_off=1")
    header_is_one_line(page)
    fits_the_phone(page)
    expect(page.locator(".moderation-item").first).to_contain_text("Cửa hàng bị tạm ngưng")
    expect(page.locator(".moderation-item .mod-thumb img").first).to_be_visible()
    shot(page, "operator-moderation-suspended")
    page.goto("/quan-tri/san-pham")
    expect(page.get_by_text(re.compile(r"Trang 1 / \d+"))).to_be_visible()
    shot(page, "operator-moderation")
    page.goto("/quan-tri/danh-muc")
    fits_the_phone(page)
    expect(page.locator("#chung-nhan")).to_be_visible()
    shot(page, "operator-categories")


def test_english_pages_show_the_floors_english_names(live_server, new_page, demo):
    page = new_page(**PHONE)
    page.goto(f"/danh-muc/{demo['category']}")
    page.get_by_role("button", name="English").click()
    expect(page.locator("h1")).to_have_text("Food")
    assert page.title().startswith("Food ·")
    expect(page.locator(".chips").first).to_contain_text("Oranges")
    shot(page, "english-category")
