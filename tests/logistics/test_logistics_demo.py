"""The demo's logistics: the printed demo key reads the feed, GHN/GHTK are listed, orders are in
every parcel state, and a second load creates nothing."""

from __future__ import annotations

from sqlalchemy import func, select

from demo.logistics import DEMO_KEY, DEMO_SECRET
from logistics.models import Partner, ShipmentEvent
from marketplace.extensions import db
from orders.models import Order


def test_demo_partner_key_and_parcel_states(app, runner, client):
    first = runner.invoke(args=["demo", "load"])
    assert first.exit_code == 0, first.output
    assert DEMO_KEY in first.output and DEMO_SECRET in first.output
    assert DEMO_KEY in runner.invoke(args=["demo", "accounts"]).output
    states = set(db.session.scalars(select(Order.status)))
    assert {
        "packed",
        "shipped",
        "delivered",
        "delivery_failed",
        "returning",
        "returned",
        "lost",
        "damaged",
    } <= states
    assert {p.slug for p in db.session.scalars(select(Partner))} >= {"giao-hang-demo", "ghn", "ghtk"}
    events = db.session.scalar(select(func.count(ShipmentEvent.id)))
    page = client.get("/api/v1/logistics/orders?limit=500", headers={"Authorization": f"Bearer {DEMO_KEY}"})
    assert page.status_code == 200 and len(page.get_json()["data"]) >= 11
    second = runner.invoke(args=["demo", "load"])
    assert "created nothing" in second.output
    assert db.session.scalar(select(func.count(ShipmentEvent.id))) == events
