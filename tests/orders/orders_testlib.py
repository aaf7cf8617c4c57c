"""Helpers for the orders tests (imported as `orders_testlib`; conftest holds the fixtures; what
every folder shares, signing in and servers, is tests/support.py)."""

from __future__ import annotations

import re
import time

from marketplace import outbox
from marketplace.extensions import db

WEBHOOK_SECRET = "whsec_orders_test_secret"
PUBLISHABLE_KEY = "pk_test_orders"


class Shopper:
    """A buyer using the pages: add to cart, open checkout (reading the quote the page shows),
    confirm. Needs the csrf_off fixture (CSRF has its own test)."""

    def __init__(self, client, commune_id: int):
        self.client = client
        self.commune_id = commune_id

    def add(self, listing, quantity: int = 1, **extra):
        return self.client.post(
            "/gio-hang/them", data={"listing_id": listing.id, "quantity": quantity, **extra}
        )

    def form(self) -> dict:
        """The hidden fields the checkout page carries: the quote fingerprint and the one-time token."""
        html = self.client.get("/thanh-toan").get_data(as_text=True)
        out = {}
        for name in ("quote", "token"):
            match = re.search(rf'name="{name}"[^>]*value="([^"]+)"', html) or re.search(
                rf'value="([^"]+)"[^>]*name="{name}"', html
            )
            assert match, html[:2000]
            out[name] = match.group(1)
        return out

    def quote(self) -> str:
        return self.form()["quote"]

    def checkout_data(self, method: str = "cod", **overrides) -> dict:
        data = {
            "email": "khach@example.vn",
            "receiver_name": "Trần Thị Bình",
            "receiver_phone": "0912345678",
            "address_line": "Thôn 2",
            "commune_id": self.commune_id,
            "note": "Giao giờ hành chính",
            "payment_method": method,
            "privacy_consent": "y",  # asked of guests and of members without a consent (legal)
        }
        data.update(overrides)
        if "quote" not in data:
            data.update({k: v for k, v in self.form().items() if k not in data})
        return data

    def checkout(self, method: str = "cod", **overrides):
        return self.client.post("/thanh-toan", data=self.checkout_data(method, **overrides))


def payment_code(response) -> str:
    """The payment code from the redirect after a successful checkout."""
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    match = re.search(r"/thanh-toan/(DH[0-9A-Z]{8})$", response.headers["Location"])
    assert match, response.headers["Location"]
    return match.group(1)


def drain():
    outbox.drain()
    db.session.expire_all()


def register_webhook(api_base: str, url: str, secret: str = WEBHOOK_SECRET) -> None:
    import requests

    response = requests.post(
        f"{api_base}/_config/webhooks/orders-tests", data={"url": url, "secret": secret}, timeout=10
    )
    assert response.status_code == 200, response.text


def wait_until(predicate, seconds: float = 30, interval: float = 0.2):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        db.session.rollback()
        db.session.expire_all()
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("condition not met in time")


def place_cod_order(shopper, listing, quantity: int = 1):
    """A guest's COD checkout of one listing; returns the Order."""
    from sqlalchemy import select

    from orders.models import Order

    assert shopper.add(listing, quantity).status_code == 302
    code = payment_code(shopper.checkout("cod"))
    return db.session.scalar(select(Order).where(Order.code == f"{code}-1"))


class ShopOrder:
    """A new shop's COD order placed by `shopper`, handled by the owner's signed-in client through
    the shop's order pages: `advance("shipped")` confirms, packs and ships it (and "delivered"
    delivers it too), as a shop would."""

    STEPS = (
        ("confirmed", "confirm", {}),
        ("packed", "pack", {"parcel_weight_grams": "500"}),
        ("shipped", "ship", {"carrier": "GHN", "tracking_number": "G1"}),
        ("delivered", "deliver", {"confirm": "y"}),
    )

    def __init__(self, app, factory, shopper, *, stock: int = 5):
        from tests.support import sign_in

        self.owner = factory.user(role="producer")
        self.shop = factory.shop(owner=self.owner)
        self.order = place_cod_order(shopper, factory.listing(shop=self.shop, stock=stock))
        self.seller = sign_in(app.test_client(), self.owner)
        self.base = f"/kenh-ban/{self.shop.slug}/don-hang/{self.order.code}"

    def post(self, action: str, **data):
        return self.seller.post(f"{self.base}/{action}", data=data)

    def advance(self, until: str) -> None:
        for status, action, data in self.STEPS:
            assert self.post(action, **data).status_code == 302, action
            if status == until:
                return
        raise ValueError(until)


def deliver_long_ago(order, *, days: int = 30):
    """Take a placed order through the shop's steps (as its owner) to delivered, and move the
    delivery `days` back in time: past the return window, its money is payable to the shop."""
    from datetime import timedelta

    from sqlalchemy import select, update

    from marketplace.timeutil import utcnow
    from orders import services
    from orders.models import OrderEvent
    from sellers.models import ShopMember

    owner = db.session.scalar(
        select(ShopMember).where(ShopMember.shop_id == order.shop_id, ShopMember.role == "owner")
    ).user
    services.confirm_order(order, actor=owner)
    services.pack_order(order, {"parcel_weight_grams": "500"}, actor=owner)
    services.ship_order(order, {"carrier": "GHN", "tracking_number": "G1"}, actor=owner)
    services.deliver_order(order, actor=owner)
    db.session.execute(
        update(OrderEvent)
        .where(OrderEvent.order_id == order.id, OrderEvent.to_status == "delivered")
        .values(created_at=utcnow() - timedelta(days=days))
    )
    db.session.commit()
