"""Buyer- and shop-typed order text is cleaned of control characters by the forms, also where a
view hands the posted values to a service (checkout, the shop's actions) (issue 9, finding 14)."""

from __future__ import annotations

from orders_testlib import ShopOrder, place_cod_order
from sqlalchemy import select

from marketplace.extensions import db
from orders.models import Order
from tests.support import sign_in


def _order(order_id: int) -> Order:
    db.session.expire_all()
    return db.session.get(Order, order_id)


def test_checkout_stores_clean_text(client, factory, shopper):
    listing = factory.listing(stock=5)
    assert shopper.add(listing, 1).status_code == 302
    response = shopper.checkout(
        "cod", receiver_name="Trần\r\nThị\x00 Bình", address_line="Thôn 2\x0b", note="Gọi trước\r\nnhé\x00"
    )
    assert response.status_code == 302, response.get_data(as_text=True)[-1500:]
    order = db.session.scalar(select(Order))
    assert order.receiver_name == "Trần Thị Bình" and order.address_line == "Thôn 2"
    assert order.note == "Gọi trước\nnhé"


def test_shop_actions_store_clean_text(app, factory, shopper):
    shop_order = ShopOrder(app, factory, shopper)
    order, seller, base = shop_order.order, shop_order.seller, shop_order.base
    seller.post(f"{base}/confirm")
    seller.post(f"{base}/pack", data={"parcel_weight_grams": "500", "parcel_size": "20×10×10\x00"})
    seller.post(f"{base}/ship", data={"carrier": "GHN\r\nX-Evil: 1", "tracking_number": "X1\x1b"})
    stored = _order(order.id)
    assert stored.status == "shipped"
    assert (
        stored.parcel_size == "20×10×10"
        and stored.carrier == "GHN X-Evil: 1"
        and stored.tracking_number == "X1"
    )


def test_shop_rejection_reason_keeps_its_lines(app, factory, shopper):
    owner = factory.user(role="producer")
    shop = factory.shop(owner=owner)
    order = place_cod_order(shopper, factory.listing(shop=shop, stock=5))
    seller = sign_in(app.test_client(), owner)
    seller.post(
        f"/kenh-ban/{shop.slug}/don-hang/{order.code}/reject", data={"reason": "Hết hàng\r\nxin lỗi\x00"}
    )
    stored = _order(order.id)
    assert stored.status == "cancelled" and "Hết hàng\nxin lỗi" in (stored.cancel_reason or "")
