"""Logistics, in a real browser: a shop packs an order (weight, size, its default carrier), the
demo carrier partner reads it from the feed and posts `picked_up` then `delivered` through the API
over HTTP, and the buyer's order page shows the tracking timeline."""

from __future__ import annotations

import json
import urllib.request

import pytest
from playwright.sync_api import expect

from marketplace.accounts.services import create_user
from marketplace.extensions import db
from marketplace.models import Commune
from tests.support import seed_shop_with_listing, sign_in_page

pytestmark = pytest.mark.e2e

PASSWORD = "matkhau-an-toan-123"


def seed(app) -> dict:
    from catalog.models import Category
    from logistics import services
    from marketplace.slugs import unique_slug
    from orders import services as order_services

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
        owner, shop, listing = seed_shop_with_listing(
            email="cam@example.vn",
            owner_name="Chủ HTX",
            shop_name="HTX Cam Hương Sơn",
            commune_id=commune.id,
            category=category,
            operator=operator,
            title="Cam bù Hương Sơn",
            price=45_000,
            password=PASSWORD,
        )
        partner, key, _secret, _token = services.create_partner("Giao Hàng Demo", actor=operator)
        partner.tracking_url = "https://example.vn/tra-cuu?ma={code}"
        services.set_shop_partners(shop, [partner.id], partner.id, actor=owner)
        buyer = create_user(
            email="khach@example.vn",
            password=PASSWORD,
            full_name="Trần Thị Bình",
            role="buyer",
            confirmed=True,
        )
        quote, _listings = order_services.quote_items([(listing.id, 1)], commune.province)
        payment = order_services.place_checkout(
            [(listing.id, 1)],
            {
                "receiver_name": "Trần Thị Bình",
                "receiver_phone": "0912345678",
                "address_line": "12 Trần Phú",
                "commune_id": str(commune.id),
                "province": commune.province,
                "payment_method": "cod",
                "quote": quote.fingerprint(),
                "privacy_consent": "y",
            },
            buyer=buyer,
        )
        code = payment.orders[0].code
        db.session.commit()
        out = {"shop": shop.slug, "code": code, "key": key}
        db.session.remove()
    return out


def api(base: str, key: str, path: str, body: dict | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(
        base + path,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
        method="POST" if body is not None else "GET",
    )
    with urllib.request.urlopen(request, timeout=15) as response:
        return response.status, json.loads(response.read())


def test_shop_packs_partner_delivers_buyer_sees_timeline(live_server, new_page):
    seeded = seed(live_server.app)
    code = seeded["code"]

    seller = new_page()
    sign_in_page(seller, "cam@example.vn", PASSWORD)
    seller.goto(f"/kenh-ban/{seeded['shop']}/don-hang/{code}")
    seller.get_by_role("button", name="Xác nhận đơn").click()
    seller.get_by_label("Khối lượng kiện hàng (gam)").fill("1200")
    seller.get_by_label("Kích thước (D×R×C, cm)").fill("30x20x15")
    expect(seller.get_by_label("Đơn vị vận chuyển")).to_have_value("giao-hang-demo")
    seller.get_by_role("button", name="Đã đóng gói").click()
    expect(seller.locator(".status")).to_contain_text("Đã đóng gói")

    # the partner reads its feed and reports the parcel's journey through the API, over HTTP
    status, page = api(live_server.url, seeded["key"], "/api/v1/logistics/orders")
    assert status == 200 and [e["order"]["code"] for e in page["data"]] == [code]
    assert page["data"][0]["order"]["parcel"]["weight_g"] == 1200
    events = f"/api/v1/logistics/orders/{code}/events"
    assert (
        api(
            live_server.url,
            seeded["key"],
            events,
            {
                "event_id": "gh-1",
                "status": "picked_up",
                "occurred_at": "2026-12-01T08:00:00Z",
                "tracking_code": "GHD12345",
            },
        )[0]
        == 201
    )
    status, result = api(
        live_server.url,
        seeded["key"],
        events,
        {
            "event_id": "gh-2",
            "status": "delivered",
            "occurred_at": "2026-12-01T15:30:00Z",
            "cod_collected_vnd": 0,
        },
    )
    assert status == 201 and result["order_status"] == "delivered"

    buyer = new_page()
    sign_in_page(buyer, "khach@example.vn", PASSWORD)
    buyer.goto(f"/don-hang/{code}")
    timeline = buyer.locator("section.tracking")
    expect(timeline.get_by_role("heading", name="Theo dõi vận chuyển")).to_be_visible()
    expect(timeline.locator("ol.timeline li")).to_have_count(2)
    expect(timeline.locator("ol.timeline li").nth(0)).to_contain_text("Đã lấy hàng")
    expect(timeline.locator("ol.timeline li").nth(1)).to_contain_text("Đã giao hàng")
    link = timeline.get_by_role("link", name="GHD12345")
    expect(link).to_have_attribute("href", "https://example.vn/tra-cuu?ma=GHD12345")
    expect(buyer.locator(".status")).to_contain_text("Đã giao hàng")
