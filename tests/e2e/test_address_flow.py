"""Addresses in a real browser: a buyer in a Hà Nội ward buys from two Hà Tĩnh shops, choosing the
province (the page comes back with its wards and the fees to it) and typing part of the ward's
name without diacritics; the same without JavaScript through the "Chọn" button; and a shop whose
fresh produce does not leave the province is named before anything is placed."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from marketplace.accounts.services import create_user
from marketplace.extensions import db
from tests.support import seed_shop_with_listing

pytestmark = pytest.mark.e2e

PASSWORD = "matkhau-an-toan-123"


def seed(app) -> dict:
    """The official units of Hà Tĩnh and Hà Nội; two Hà Tĩnh shops, one of which (fresh
    vegetables) delivers within the province only."""
    from catalog.models import Category
    from marketplace.communes import import_official
    from marketplace.models import Commune
    from marketplace.slugs import unique_slug
    from orders.pricing import DEFAULT_RULES, ZONES
    from orders.shipping import save_shipping_rule

    with app.app_context():
        import_official("Hà Tĩnh")
        import_official("Hà Nội")
        category = Category(name="Đặc sản", slug=unique_slug(Category, "Đặc sản"))
        db.session.add(category)
        db.session.flush()
        operator = create_user(
            email="bql@example.vn",
            password=PASSWORD,
            full_name="Ban quản lý",
            role="operator",
            confirmed=True,
        )
        out = {}
        for key, shop_name, commune_name, title, price in (
            ("cam", "HTX Cam Hương Sơn", "Xã Hương Sơn", "Cam bù Hương Sơn", 45_000),
            ("keo", "Cơ sở Kẹo cu đơ Thành Sen", "Phường Thành Sen", "Kẹo cu đơ Hà Tĩnh", 60_000),
            ("rau", "Rau sạch Cẩm Xuyên", "Xã Cẩm Xuyên", "Rau muống nhà lưới", 20_000),
        ):
            commune = db.session.scalar(
                select(Commune).where(Commune.province == "Hà Tĩnh", Commune.name == commune_name)
            )
            owner, shop, listing = seed_shop_with_listing(
                email=f"{key}@example.vn",
                owner_name=shop_name,
                shop_name=shop_name,
                commune_id=commune.id,
                category=category,
                operator=operator,
                title=title,
                price=price,
                password=PASSWORD,
            )
            if key == "rau":
                data = {}
                for zone in ZONES:
                    rule = DEFAULT_RULES[zone]
                    data[f"{zone.value}_flat_fee_vnd"] = str(rule.flat_fee_vnd)
                save_shipping_rule(shop, data, actor=owner)  # no "_ships": the province only
            out[key] = {"shop": shop_name, "title": title, "listing": listing.slug}
        db.session.commit()
        db.session.remove()
    return out


def add_to_cart(page, listing_slug):
    page.goto(f"/san-pham/{listing_slug}")
    page.get_by_role("button", name="Thêm vào giỏ hàng").click()
    expect(page.get_by_text("vào giỏ hàng.")).to_be_visible()


def fill_receiver(page):
    page.get_by_label("Email nhận thông tin đơn hàng").fill("thu.ha@example.vn")
    page.get_by_label("Họ tên người nhận").fill("Lê Thu Hà")
    page.get_by_label("Số điện thoại người nhận").fill("0987 654 321")


def test_a_ha_noi_buyer_chooses_the_province_then_types_the_ward(live_server, new_page):
    seeded = seed(live_server.app)
    buyer = new_page()
    add_to_cart(buyer, seeded["cam"]["listing"])
    add_to_cart(buyer, seeded["keo"]["listing"])
    buyer.goto("/thanh-toan")
    fill_receiver(buyer)
    expect(buyer.get_by_role("button", name="Chọn")).to_have_count(0)  # JavaScript does it
    expect(buyer.locator(".quote-shop .shipping-fee").first).to_contain_text("25.000")

    buyer.get_by_label("Tỉnh/thành phố").select_option("Thành phố Hà Nội")
    expect(buyer.get_by_label("Tỉnh/thành phố")).to_have_value("Thành phố Hà Nội")
    expect(buyer.get_by_label("Họ tên người nhận")).to_have_value("Lê Thu Hà")  # kept
    # The fee to the rest of the country: 40.000 ₫ + 10.000 ₫ from 1 kg, for each shop.
    expect(buyer.locator(".quote-shop .shipping-zone").first).to_contain_text("Các tỉnh khác")
    expect(buyer.locator(".quote-shop .shipping-fee").first).to_contain_text("50.000")
    expect(buyer.locator("#grand-total")).to_contain_text("205.000")

    communes = buyer.get_by_label("Xã/phường")
    buyer.get_by_placeholder("Gõ để lọc, ví dụ: kỳ xuân").fill("hoan kiem")
    expect(communes.locator("option")).to_have_count(2)  # the prompt and the one match
    expect(communes).to_have_value(re.compile(r"^[1-9]\d*$"))  # the only match is chosen
    expect(communes.locator("option:checked")).to_have_text("Phường Hoàn Kiếm")
    buyer.get_by_label("Số nhà, thôn/xóm, đường").fill("12 Hàng Bài")
    buyer.get_by_label("Thanh toán khi nhận hàng (COD)").check()
    buyer.get_by_label("Tôi đã đọc và đồng ý với Chính sách bảo mật thông tin").check()
    buyer.get_by_role("button", name="Xác nhận đặt hàng").click()
    expect(buyer.get_by_text("Đặt hàng thành công")).to_be_visible()
    expect(buyer.locator(".order-card")).to_have_count(2)

    from orders.models import Order

    with live_server.app.app_context():
        orders = list(db.session.scalars(select(Order)))
        assert {(o.commune_name, o.province, o.shipping_zone, o.shipping_vnd) for o in orders} == {
            ("Phường Hoàn Kiếm", "Thành phố Hà Nội", "country", 50_000)
        }
        db.session.remove()


def test_without_javascript_the_province_button_lists_its_wards(live_server, new_page):
    seeded = seed(live_server.app)
    buyer = new_page(java_script_enabled=False)
    add_to_cart(buyer, seeded["keo"]["listing"])
    add_to_cart(buyer, seeded["rau"]["listing"])
    buyer.goto("/thanh-toan")
    fill_receiver(buyer)
    buyer.get_by_label("Tỉnh/thành phố").select_option("Thành phố Hà Nội")
    buyer.get_by_role("button", name="Chọn").click()
    expect(buyer.get_by_label("Tỉnh/thành phố")).to_have_value("Thành phố Hà Nội")
    buyer.get_by_label("Xã/phường").select_option(label="Phường Ba Đình")
    # The vegetables stay in Hà Tĩnh: said before anything is placed, and no button to place it.
    expect(buyer.locator(".refusal")).to_contain_text(
        "Rau sạch Cẩm Xuyên không giao tới Thành phố Hà Nội: “Rau muống nhà lưới”"
    )
    expect(buyer.get_by_role("button", name="Xác nhận đặt hàng")).to_have_count(0)

    # Without the vegetables the order goes through.
    buyer.goto("/gio-hang")
    buyer.locator(".cart-line").filter(has_text="Rau muống").get_by_role("button", name="Xóa").click()
    buyer.goto("/thanh-toan")
    fill_receiver(buyer)
    buyer.get_by_label("Tỉnh/thành phố").select_option("Thành phố Hà Nội")
    buyer.get_by_role("button", name="Chọn").click()
    buyer.get_by_label("Xã/phường").select_option(label="Phường Ba Đình")
    buyer.get_by_label("Số nhà, thôn/xóm, đường").fill("1 Điện Biên Phủ")
    buyer.get_by_label("Thanh toán khi nhận hàng (COD)").check()
    buyer.get_by_label("Tôi đã đọc và đồng ý với Chính sách bảo mật thông tin").check()
    buyer.get_by_role("button", name="Xác nhận đặt hàng").click()
    expect(buyer.get_by_text("Đặt hàng thành công")).to_be_visible()

    from orders.models import Order

    with live_server.app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Order)) == 1
        db.session.remove()
