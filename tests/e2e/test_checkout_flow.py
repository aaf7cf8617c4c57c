"""Buying, in a real browser: a visitor buys from two shops in one checkout and pays cash on
delivery; each shop finds its own order, one ships it, and the buyer sees it on the way. Another
buyer pays by card through localstripe's stand-in for Stripe.js."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from marketplace import outbox
from marketplace.accounts.services import create_user
from marketplace.extensions import db
from marketplace.models import Commune
from tests.support import localstripe, read_mails, seed_shop_with_listing, sign_in_page

pytestmark = pytest.mark.e2e

PASSWORD = "matkhau-an-toan-123"


def seed(app) -> dict:
    """Two approved shops with a product each, and a commune to deliver to."""
    from catalog.models import Category
    from marketplace.slugs import unique_slug

    with app.app_context():
        commune = Commune(name="Phường Thành Sen", province="Hà Tĩnh", kind="phuong")
        category = Category(name="Đặc sản", slug=unique_slug(Category, "Đặc sản"))
        db.session.add_all([commune, category])
        db.session.flush()
        operator = create_user(
            email="bql@example.vn",
            password=PASSWORD,
            full_name="Ban quản lý",
            role="operator",
            confirmed=True,
        )
        out = {"commune": commune.name}
        for key, shop_name, title, price in (
            ("cam", "HTX Cam Hương Sơn", "Cam bù Hương Sơn", 45_000),
            ("keo", "Cơ sở Kẹo cu đơ Thanh Tân", "Kẹo cu đơ Hà Tĩnh", 60_000),
        ):
            owner, shop, listing = seed_shop_with_listing(
                email=f"{key}@example.vn",
                owner_name=f"Chủ {shop_name}",
                shop_name=shop_name,
                commune_id=commune.id,
                category=category,
                operator=operator,
                title=title,
                price=price,
                password=PASSWORD,
            )
            out[key] = {
                "owner": owner.email,
                "shop": shop.name,
                "slug": shop.slug,
                "title": title,
                "listing": listing.slug,
            }
        db.session.commit()
        db.session.remove()
    return out


def add_to_cart(page, listing_slug):
    page.goto(f"/san-pham/{listing_slug}")
    button = page.get_by_role("button", name="Thêm vào giỏ hàng")
    assert button.count() == 1, (
        "no add-to-cart form on the listing page: templates/catalog/listing.html "
        "should include orders/_listing_buy.html in its buy box"
    )
    button.click()
    expect(page.get_by_text("vào giỏ hàng.")).to_be_visible()


def fill_checkout(page, seeded, email):
    page.get_by_label("Email nhận thông tin đơn hàng").fill(email)
    page.get_by_label("Họ tên người nhận").fill("Nguyễn Thị Mai")
    page.get_by_label("Số điện thoại người nhận").fill("0987 654 321")
    page.get_by_label("Số nhà, thôn/xóm, đường").fill("12 Nguyễn Du")
    # Province, then its communes (this floor's province is chosen to start with).
    expect(page.get_by_label("Tỉnh/thành phố")).to_have_value("Hà Tĩnh")
    page.get_by_label("Xã/phường").select_option(label=seeded["commune"])
    # A guest agrees to the privacy policy (the box links it; marketplace/legal).
    page.get_by_label("Tôi đã đọc và đồng ý với Chính sách bảo mật thông tin").check()


def test_two_shops_one_cod_checkout_shop_ships_buyer_follows(live_server, new_page):
    seeded = seed(live_server.app)

    buyer = new_page()
    add_to_cart(buyer, seeded["cam"]["listing"])
    add_to_cart(buyer, seeded["keo"]["listing"])
    expect(buyer.locator(".cart-link")).to_contain_text("(2)")
    buyer.goto("/gio-hang")
    expect(buyer.get_by_role("heading", name=seeded["cam"]["shop"])).to_be_visible()
    expect(buyer.get_by_role("heading", name=seeded["keo"]["shop"])).to_be_visible()
    buyer.get_by_role("link", name="Đặt hàng").click()

    fill_checkout(buyer, seeded, "mai@example.vn")
    buyer.get_by_label("Thanh toán khi nhận hàng (COD)").check()
    # Each shop's shipping fee is shown before confirming (default rule: 25.000 ₫ for 1 kg).
    expect(buyer.locator(".quote-shop")).to_have_count(2)
    expect(buyer.locator(".quote-shop .shipping-fee").first).to_contain_text("25.000")
    expect(buyer.locator("#grand-total")).to_contain_text("155.000")
    buyer.get_by_role("button", name="Xác nhận đặt hàng").click()
    expect(buyer.get_by_text("Đặt hàng thành công")).to_be_visible()
    expect(buyer.locator(".order-card")).to_have_count(2)
    code = re.search(r"/thanh-toan/(DH[0-9A-Z]{8})$", buyer.url).group(1)

    # Each shop sees its own order; the orange grower ships hers.
    cam = new_page()
    sign_in_page(cam, seeded["cam"]["owner"], PASSWORD)
    cam.goto(f"/kenh-ban/{seeded['cam']['slug']}/don-hang")
    row = cam.locator("table.inbox tbody tr").filter(has_text=code)
    expect(row).to_have_count(1)
    expect(row).to_contain_text(seeded["cam"]["title"])
    expect(row).not_to_contain_text(seeded["keo"]["title"])
    row.get_by_role("link").first.click()
    cam.get_by_role("button", name="Xác nhận đơn").click()
    expect(cam.get_by_text("Đã xác nhận đơn")).to_be_visible()
    cam.get_by_label("Kích thước (D×R×C, cm)").fill("30x20x15")
    cam.get_by_role("button", name="Đã đóng gói").click()
    expect(cam.get_by_text("Đã ghi nhận đóng gói")).to_be_visible()
    cam.get_by_label("Đơn vị vận chuyển").fill("Viettel Post")
    cam.get_by_label("Mã vận đơn").fill("VTP-2611-001")
    cam.get_by_role("button", name="Đã giao cho đơn vị vận chuyển").click()
    expect(cam.locator(".status")).to_contain_text("Đang giao hàng")
    cam_order = re.search(r"/don-hang/(DH[0-9A-Z]{8}-\d)$", cam.url).group(1)

    keo = new_page()
    sign_in_page(keo, seeded["keo"]["owner"], PASSWORD)
    keo.goto(f"/kenh-ban/{seeded['keo']['slug']}/don-hang")
    keo_row = keo.locator("table.inbox tbody tr").filter(has_text=code)
    expect(keo_row).to_have_count(1)
    expect(keo_row).to_contain_text("Chờ xác nhận")

    # The buyer follows the parcel.
    buyer.goto(f"/don-hang/{cam_order}")
    expect(buyer.locator(".status")).to_contain_text("Đang giao hàng")
    expect(buyer.get_by_text("VTP-2611-001", exact=True)).to_be_visible()
    expect(buyer.locator("ol.history li")).to_have_count(4)
    expect(buyer.locator(".next-step")).to_contain_text("Vui lòng chuẩn bị 70.000")

    with live_server.app.app_context():
        outbox.drain()
        db.session.remove()
    assert len(read_mails(live_server.app)) >= 5  # buyer: placed + shipped + confirmed; each shop: new order


# --- card, through localstripe ------------------------------------------------------------------


@pytest.fixture(scope="module")
def localstripe_server(tmp_path_factory):
    with localstripe(tmp_path_factory.mktemp("localstripe-e2e")) as server:
        yield server


def test_card_payment_through_the_stripe_js_stand_in(live_server, new_page, localstripe_server):
    from orders.models import Payment

    base = localstripe_server["api_base"]
    live_server.app.config.update(
        STRIPE_SECRET_KEY=localstripe_server["secret_key"],
        STRIPE_PUBLISHABLE_KEY="pk_test_e2e",
        STRIPE_API_BASE=base,
        STRIPE_JS_URL=f"{base}/js.stripe.com/v3/",
    )
    seeded = seed(live_server.app)

    buyer = new_page()
    add_to_cart(buyer, seeded["keo"]["listing"])
    buyer.goto("/thanh-toan")
    fill_checkout(buyer, seeded, "the@example.vn")
    buyer.get_by_label("Thẻ thanh toán quốc tế").check()
    buyer.get_by_role("button", name="Xác nhận đặt hàng").click()
    expect(buyer.get_by_role("heading", name="Thanh toán bằng thẻ")).to_be_visible()
    code = re.search(r"/thanh-toan/(DH[0-9A-Z]{8})$", buyer.url).group(1)

    # localstripe-v3.js draws plain inputs in place of Stripe's Payment Element.
    element = buyer.locator("#payment-element")
    expect(element.locator("input")).to_have_count(5)
    element.get_by_placeholder("number").fill("4242424242424242")
    element.get_by_placeholder("exp_month").fill("12")
    element.get_by_placeholder("exp_year").fill("34")
    element.get_by_placeholder("cvc").fill("123")
    element.get_by_placeholder("postal_code").fill("45000")
    buyer.get_by_role("button", name=re.compile("Thanh toán 85.000")).click()
    expect(buyer.get_by_text("Thanh toán thành công")).to_be_visible()
    expect(buyer.locator(".order-card .status")).to_contain_text("Chờ cửa hàng xác nhận")

    with live_server.app.app_context():
        payment = db.session.scalar(select(Payment).where(Payment.code == code))
        assert payment.status == "paid" and payment.stripe_payment_intent_id.startswith("pi_")
        assert all(o.paid and o.status == "placed" for o in payment.orders)
        db.session.remove()
