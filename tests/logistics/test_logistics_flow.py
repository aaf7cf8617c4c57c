"""The hand-over and the way back: a shop packs, the partner reads its feed and posts events, the
order moves (never backwards), the buyer sees a timeline."""

from __future__ import annotations

from logistics_testlib import event
from sqlalchemy import func, select

from catalog.models import Listing
from logistics.models import ShipmentEvent
from marketplace.extensions import db
from marketplace.models import OutboxEvent
from orders.models import Order, OrderEvent


def _events_url(order):
    return f"/api/v1/logistics/orders/{order.code}/events"


def test_packing_assigns_the_default_partner_and_feeds_it(setup, client):
    order = setup.packed_order()
    shipment = setup.shipment(order)
    assert shipment.partner_id == setup.partner.id and shipment.weight_g == 800
    assert (shipment.length_cm, shipment.width_cm, shipment.height_cm) == (30, 20, 10)
    page = client.get("/api/v1/logistics/orders?limit=10", headers=setup.auth()).get_json()
    assert [e["type"] for e in page["data"]] == ["order.ready_for_pickup"]
    data = page["data"][0]["order"]
    assert data["code"] == order.code and data["cod_vnd"] == order.total_vnd
    assert data["receiver"]["name"] == "Trần Thị Bình" and data["pickup"]["name"] == setup.shop.name
    assert data["items"][0]["quantity"] == 1 and data["inspection"] == "allow"
    assert data["parcel"] == {"weight_g": 800, "length_cm": 30, "width_cm": 20, "height_cm": 10}
    one = client.get(f"/api/v1/logistics/orders/{order.code}", headers=setup.auth())
    assert one.status_code == 200 and one.get_json()["code"] == order.code
    # nothing new after the cursor
    again = client.get(
        f"/api/v1/logistics/orders?cursor={page['next_cursor']}", headers=setup.auth()
    ).get_json()
    assert again["data"] == [] and again["next_cursor"] == page["next_cursor"]


def test_the_shop_may_still_ship_by_hand(setup):
    order = setup.packed_order(partner="")
    assert setup.shipment(order) is None
    assert setup.post(order, "ship", carrier="VNPost", tracking_number="EB123").status_code == 302
    db.session.expire_all()
    assert order.status == "shipped" and order.tracking_number == "EB123"


def test_another_partners_order_is_404_and_bad_cursor_400(setup, client):
    order = setup.packed_order()
    _other, other_key, _s = setup.new_partner("Khác", choose=False)
    response = client.get(f"/api/v1/logistics/orders/{order.code}", headers=setup.auth(other_key))
    assert response.status_code == 404 and response.mimetype == "application/problem+json"
    assert client.get("/api/v1/logistics/orders", headers=setup.auth(other_key)).get_json()["data"] == []
    post = client.post(_events_url(order), json=event("x1", "picked_up"), headers=setup.auth(other_key))
    assert post.status_code == 404
    assert client.get("/api/v1/logistics/orders?cursor=%%%", headers=setup.auth()).status_code == 400
    assert client.get("/api/v1/logistics/orders?limit=501", headers=setup.auth()).status_code == 422


def test_feed_pages_in_order_and_csv_has_a_bom(setup, client):
    orders = [setup.packed_order() for _ in range(3)]
    cancelled = orders[0]
    assert setup.post(cancelled, "reject", reason="Hết hàng").status_code == 302
    seen, cursor = [], ""
    while True:
        page = client.get(
            f"/api/v1/logistics/orders?limit=2&cursor={cursor}", headers=setup.auth()
        ).get_json()
        seen += [(e["type"], e["order"]["code"]) for e in page["data"]]
        cursor = page["next_cursor"]
        if not page["has_more"]:
            break
    assert seen == [("order.ready_for_pickup", o.code) for o in orders] + [
        ("order.cancelled", cancelled.code)
    ]
    response = client.get("/api/v1/logistics/orders", headers={**setup.auth(), "Accept": "text/csv"})
    assert response.status_code == 200 and response.mimetype == "text/csv"
    body = response.get_data()
    assert body.startswith("\ufeff".encode())
    text = body.decode("utf-8-sig")
    assert text.splitlines()[0].startswith("code,change,status") and "Trần Thị Bình" in text
    assert response.headers["X-Next-Cursor"]


def test_events_move_the_order_idempotently_and_never_backwards(setup, client, app):
    order = setup.packed_order()
    url = _events_url(order)
    first = client.post(url, json=event("e1", "picked_up", 0, tracking_code="TRK1"), headers=setup.auth())
    assert first.status_code == 201, first.get_json()
    db.session.expire_all()
    assert order.status == "shipped" and order.tracking_number == "TRK1"
    replay = client.post(url, json=event("e1", "picked_up", 0, tracking_code="TRK1"), headers=setup.auth())
    assert replay.status_code == 200 and replay.get_json()["replay"] is True
    assert (
        client.post(
            url, json=event("e2", "delivery_failed", 60, reason="Không liên lạc được"), headers=setup.auth()
        ).status_code
        == 201
    )
    db.session.expire_all()
    assert order.status == "delivery_failed"
    assert (
        client.post(url, json=event("e3", "out_for_delivery", 120), headers=setup.auth()).status_code == 201
    )
    done = client.post(
        url, json=event("e4", "delivered", 180, cod_collected_vnd=order.total_vnd), headers=setup.auth()
    )
    assert done.get_json()["order_status"] == "delivered"
    late = client.post(url, json=event("e5", "in_transit", 30), headers=setup.auth())
    assert late.status_code == 201 and late.get_json()["outcome"] == "late"
    db.session.expire_all()
    assert order.status == "delivered" and order.paid is True
    # an impossible move (delivered -> returning, reported as newer) is a 409 with the reason, not stored
    conflict = client.post(url, json=event("e6", "returning", 240), headers=setup.auth())
    assert conflict.status_code == 409 and order.code in conflict.get_json()["detail"]
    ids = db.session.scalars(select(ShipmentEvent.event_id).order_by(ShipmentEvent.occurred_at)).all()
    assert ids == ["e1", "e5", "e2", "e3", "e4"]  # the history is ordered by occurred_at
    mails = db.session.scalars(
        select(OutboxEvent.idempotency_key).where(OutboxEvent.topic == "mail.send")
    ).all()
    assert any(k.endswith(":e2:buyer") for k in mails) and any(k.endswith(":e4:shop") for k in mails)
    # delivered: the buyer gets the order's own "delivered" mail, not a second one from the event
    assert f"mail:order-delivered:{order.id}" in mails
    assert not any(k.endswith(":e4:buyer") for k in mails)
    # the buyer's page shows the timeline with the tracking code
    page = setup.shopper.client.get(f"/don-hang/{order.code}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200, html[:500]
    assert "Theo dõi vận chuyển" in html and "TRK1" in html and "Giao không thành công" in html


def test_returned_parcel_puts_stock_back_and_collects_nothing(setup, client):
    order = setup.packed_order()
    stock_before = db.session.scalar(select(Listing.stock).where(Listing.id == setup.listing.id))
    url = _events_url(order)
    for n, status in enumerate(("picked_up", "delivery_failed", "returning", "returned")):
        response = client.post(url, json=event(f"r{n}", status, n * 10), headers=setup.auth())
        assert response.status_code == 201, response.get_json()
    db.session.expire_all()
    assert order.status == "returned" and order.paid is False
    assert db.session.scalar(select(Listing.stock).where(Listing.id == setup.listing.id)) == stock_before + 1


def test_a_damaged_parcel_returned_is_not_put_back_as_sellable_stock(setup, client):
    order = setup.packed_order()
    stock_before = db.session.scalar(select(Listing.stock).where(Listing.id == setup.listing.id))
    url = _events_url(order)
    for n, status in enumerate(("picked_up", "damaged", "returning", "returned")):
        response = client.post(url, json=event(f"d{n}", status, n * 10), headers=setup.auth())
        assert response.status_code == 201, response.get_json()
    db.session.expire_all()
    assert order.status == "returned"
    assert db.session.scalar(select(Listing.stock).where(Listing.id == setup.listing.id)) == stock_before
    assert "hư hỏng" in (setup.shipment(order).attention or "")


def test_lost_parcel_is_flagged_for_the_operator(setup, client):
    order = setup.packed_order()
    response = client.post(_events_url(order), json=event("l1", "lost", 5), headers=setup.auth())
    assert response.status_code == 201
    db.session.expire_all()
    assert order.status == "lost"  # straight from packed: the pickup is implied
    assert setup.shipment(order).attention


def test_malformed_events_are_problems(setup, client):
    order = setup.packed_order()
    url = _events_url(order)
    bad_json = client.post(url, data="{", content_type="application/json", headers=setup.auth())
    assert bad_json.status_code == 400 and bad_json.mimetype == "application/problem+json"
    bad = client.post(
        url, json={"event_id": "", "status": "teleported", "occurred_at": "hôm qua"}, headers=setup.auth()
    )
    assert bad.status_code == 422
    assert set(bad.get_json()["errors"]) == {"event_id", "status", "occurred_at"}
    db.session.expire_all()
    assert db.session.get(Order, order.id).status == "packed"


def test_cancel_before_pickup_reaches_the_feed(setup, client):
    order = setup.packed_order()
    assert setup.post(order, "reject", reason="Khách đổi ý").status_code == 302
    assert setup.shipment(order).status == "cancelled"
    page = client.get("/api/v1/logistics/orders", headers=setup.auth()).get_json()
    assert [e["type"] for e in page["data"]] == ["order.ready_for_pickup", "order.cancelled"]
    assert page["data"][1]["order"]["status"] == "cancelled"


def test_personal_data_export_and_erasure(setup, client, app):
    from logistics import personal_data
    from logistics.models import WebhookDelivery
    from marketplace.models import User

    partner, _key, _secret = setup.new_partner("Có URL", webhook_url="https://hooks.example.vn/x")
    setup.partner, setup.key = partner, _key
    buyer = setup.factory.user()
    order = setup.packed_order()
    order.buyer_id = buyer.id
    db.session.commit()
    client.post(
        _events_url(order), json=event("pd1", "picked_up", 0, tracking_code="T1"), headers=setup.auth()
    )
    user = db.session.get(User, buyer.id)
    exported = personal_data.export(user)
    assert exported["shipments"][0]["tracking_code"] == "T1"
    assert personal_data.erase(user) == {"logistics_webhook_payloads": 1}
    payload = db.session.scalar(select(WebhookDelivery.payload))
    assert payload["data"] == {"code": order.code, "redacted": True}
    assert "Trần Thị Bình" not in str(payload)


def test_the_same_event_at_the_same_instant_is_applied_once(setup, app):
    import threading

    order = setup.packed_order()
    body = event("twin", "picked_up", 0)
    barrier = threading.Barrier(6)
    codes: list[int] = []

    def post():
        with app.app_context():
            client = app.test_client()
            barrier.wait()
            codes.append(client.post(_events_url(order), json=body, headers=setup.auth()).status_code)

    threads = [threading.Thread(target=post) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(codes) == [200] * 5 + [201]
    assert db.session.scalar(select(func.count(ShipmentEvent.id))) == 1
    db.session.expire_all()
    assert order.status == "shipped"
    events_of_order = db.session.scalars(
        select(OrderEvent.to_status).where(OrderEvent.order_id == order.id)
    ).all()
    assert events_of_order.count("shipped") == 1


def test_shop_sees_the_shipment_and_reweighs_before_pickup(setup, client):
    order = setup.packed_order()
    page = setup.seller.get(f"/kenh-ban/{setup.shop.slug}/don-hang/{order.code}").get_data(as_text=True)
    assert setup.partner.name in page and "Sửa kiện hàng" in page
    response = setup.post(order, "kien-hang", weight_g="1500", size="40x30x20")
    assert response.status_code == 302
    shipment = setup.shipment(order)
    assert shipment.weight_g == 1500 and shipment.length_cm == 40
    feed_page = client.get("/api/v1/logistics/orders", headers=setup.auth()).get_json()
    assert [e["type"] for e in feed_page["data"]] == ["order.ready_for_pickup", "order.updated"]
    assert feed_page["data"][1]["order"]["parcel"]["weight_g"] == 1500
    client.post(_events_url(order), json=event("p1", "picked_up", 0), headers=setup.auth())
    assert setup.post(order, "kien-hang", weight_g="900").status_code == 302
    assert setup.shipment(order).weight_g == 1500  # picked up: too late to change
