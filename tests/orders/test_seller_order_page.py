"""The shop's order pages on a phone: tracking numbers link to the carrier's page, "delivered" needs
a tick the server checks, no empty action card once there is nothing left to do, the pack form's
weight opens the number pad, the packing slip prints on A6 or A5."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from orders_testlib import ShopOrder
from sqlalchemy import select

from marketplace.extensions import db
from orders.models import Order
from orders.tracking import tracking_url

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("carrier", "number", "url"),
    [
        ("GHN", "GHN123", "https://donhang.ghn.vn/?order_code=GHN123"),
        ("Giao Hàng Nhanh", "GHN123", "https://donhang.ghn.vn/?order_code=GHN123"),
        ("ghtk", " S1.A2 ", "https://i.ghtk.vn/S1.A2"),
        ("Giao hàng tiết kiệm", "S1", "https://i.ghtk.vn/S1"),
        ("J&T Express", "8123", "https://jtexpress.vn/vi/tracking?type=track&billcode=8123"),
        ("J&T", "8123", "https://jtexpress.vn/vi/tracking?type=track&billcode=8123"),
        ("Viettel Post", "VTP1", "https://viettelpost.com.vn/tra-cuu-hanh-trinh-don/?key=VTP1"),
        ("Bưu điện", "EB1VN", "https://vnpost.vn/tra-cuu-hanh-trinh/buu-pham?key=EB1VN"),
        ("VNPost", "a b&c", "https://vnpost.vn/tra-cuu-hanh-trinh/buu-pham?key=a%20b%26c"),
    ],
)
def test_known_carriers_link_to_their_tracking_page(carrier, number, url):
    assert tracking_url(carrier, number) == url


@pytest.mark.parametrize(
    ("carrier", "number"),
    [("Cửa hàng tự giao", "X1"), ("Xe khách Hà Tĩnh", "X1"), (None, "X1"), ("GHN", ""), ("GHN", None)],
)
def test_unknown_carriers_or_no_number_give_no_link(carrier, number):
    assert tracking_url(carrier, number) is None


def _input(html: str, name: str) -> str:
    found = re.search(rf'<input[^>]*name="{name}"[^>]*>', html)
    assert found, name
    return found.group(0)


def _order_page(shop_order: ShopOrder) -> str:
    return shop_order.seller.get(shop_order.base).get_data(as_text=True)


def test_the_tracking_number_links_to_the_carrier_in_the_inbox_and_on_the_order(app, factory, shopper):
    shop_order = ShopOrder(app, factory, shopper)
    shop_order.advance("packed")
    assert shop_order.post("ship", carrier="Giao Hàng Nhanh", tracking_number="GHNX42").status_code == 302
    link = 'href="https://donhang.ghn.vn/?order_code=GHNX42"'
    assert link in _order_page(shop_order)
    inbox = shop_order.seller.get(f"/kenh-ban/{shop_order.shop.slug}/don-hang?tab=all").get_data(as_text=True)
    assert link in inbox and 'rel="noopener"' in inbox


def test_a_carrier_the_floor_does_not_know_shows_the_number_without_a_link(app, factory, shopper):
    shop_order = ShopOrder(app, factory, shopper)
    shop_order.advance("packed")
    assert shop_order.post("ship", carrier="Xe khách Hương Sơn", tracking_number="XK-77").status_code == 302
    html = _order_page(shop_order)
    assert "<strong>XK-77</strong>" in html and not re.search(r"<a [^>]*>XK-77</a>", html)


def test_delivered_needs_the_tick_and_the_server_enforces_it(app, factory, shopper):
    shop_order = ShopOrder(app, factory, shopper)
    shop_order.advance("shipped")
    html = _order_page(shop_order)
    form = re.search(r'<form[^>]*action="[^"]*/deliver"[^>]*>(.*?)</form>', html, re.S)
    assert form and re.search(r'<input[^>]*name="confirm"[^>]*required', form.group(1))

    for data in ({}, {"confirm": ""}):
        response = shop_order.post("deliver", **data)
        assert response.status_code == 302  # back to the order, nothing changed
        assert db.session.scalar(select(Order.status).where(Order.id == shop_order.order.id)) == "shipped"
    assert "Hãy đánh dấu xác nhận người mua đã nhận hàng." in _order_page(shop_order)

    assert shop_order.post("deliver", confirm="y").status_code == 302
    assert db.session.scalar(select(Order.status).where(Order.id == shop_order.order.id)) == "delivered"


def test_no_empty_action_card_after_delivery(app, factory, shopper):
    shop_order = ShopOrder(app, factory, shopper)
    shop_order.advance("shipped")
    assert "Xử lý đơn" in _order_page(shop_order)
    assert shop_order.post("deliver", confirm="y").status_code == 302
    html = _order_page(shop_order)
    assert "order-actions" not in html and "Xử lý đơn" not in html


def test_the_pack_form_weight_opens_the_number_pad(app, factory, shopper):
    shop_order = ShopOrder(app, factory, shopper)
    shop_order.advance("confirmed")
    html = shop_order.seller.get(shop_order.base).get_data(as_text=True)
    assert 'inputmode="numeric"' in _input(html, "parcel_weight_grams")


def test_the_packing_slip_prints_on_a6_or_a5_and_fits_a_phone(app, factory, shopper):
    shop_order = ShopOrder(app, factory, shopper)
    slip_url = f"{shop_order.base}/phieu-dong-goi"
    a6 = shop_order.seller.get(slip_url).get_data(as_text=True)
    assert '<body class="size-a6">' in a6 and 'name="viewport"' in a6
    a5 = shop_order.seller.get(f"{slip_url}?kho=a5").get_data(as_text=True)
    assert '<body class="size-a5">' in a5
    assert (
        shop_order.seller.get(f"{slip_url}?kho=letter").get_data(as_text=True).count('class="size-a6"') == 1
    )
    css = (ROOT / "static/css/packing-slip.css").read_text(encoding="utf-8")
    assert (
        "@page{size:105mm 148mm" in css
        and "@page a5{size:148mm 210mm" in css
        and "body.size-a5{page:a5" in css
    )
