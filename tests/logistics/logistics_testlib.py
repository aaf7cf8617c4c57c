"""Helpers for the logistics tests (imported as `logistics_testlib`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from logistics import services
from logistics.models import Partner, Shipment
from marketplace.extensions import db
from orders.models import Order
from tests.orders.orders_testlib import place_cod_order
from tests.support import sign_in


class Setup:
    """A partner (generic, webhook optional) chosen by a new shop as its default, and helpers to
    place and pack that shop's COD orders through the real pages."""

    def __init__(self, app, factory, shopper):
        self.app, self.factory, self.shopper = app, factory, shopper
        self.owner = factory.user(role="producer")
        self.shop = factory.shop(owner=self.owner)
        self.listing = factory.listing(shop=self.shop, stock=50)
        self.seller = sign_in(app.test_client(), self.owner)
        self.partner, self.key, self.secret = self.new_partner("Giao Nhanh Demo")

    def new_partner(self, name: str, webhook_url: str | None = None, *, choose: bool = True):
        partner, key, secret, _token = services.create_partner(name, actor=None, webhook_url=webhook_url)
        db.session.commit()
        if choose:
            services.set_shop_partners(self.shop, [partner.id], partner.id, actor=self.owner)
            db.session.commit()
        return partner, key, secret

    def auth(self, key: str | None = None) -> dict:
        return {"Authorization": f"Bearer {key or self.key}"}

    def order(self, quantity: int = 1) -> Order:
        return place_cod_order(self.shopper, self.listing, quantity)

    def post(self, order: Order, action: str, **data):
        return self.seller.post(f"/kenh-ban/{self.shop.slug}/don-hang/{order.code}/{action}", data=data)

    def packed_order(self, quantity: int = 1, **pack) -> Order:
        order = self.order(quantity)
        assert self.post(order, "confirm").status_code == 302
        data = {"parcel_weight_grams": "800", "parcel_size": "30x20x10", **pack}
        assert self.post(order, "pack", **data).status_code == 302
        db.session.expire_all()
        assert order.status == "packed", order.status
        return order

    def shipment(self, order: Order) -> Shipment | None:
        db.session.expire_all()
        return db.session.scalar(select(Shipment).where(Shipment.order_id == order.id))


def event(event_id: str, status: str, minutes: int = 0, **extra) -> dict:
    when = datetime(2026, 12, 1, 8, 0, tzinfo=UTC) + timedelta(minutes=minutes)
    return {
        "event_id": event_id,
        "status": status,
        "occurred_at": when.isoformat().replace("+00:00", "Z"),
        **extra,
    }


def partner_named(slug: str) -> Partner:
    return db.session.scalar(select(Partner).where(Partner.slug == slug))
