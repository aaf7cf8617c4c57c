"""Booking through the outbox with a carrier account, and the carriers' native callbacks, against
the GHN and GHTK stand-ins (real HTTP servers enforcing the carriers' protocols)."""

from __future__ import annotations

from sqlalchemy import select, update

from logistics import services
from logistics.models import ShipmentEvent
from marketplace import outbox
from marketplace.extensions import db
from marketplace.models import OutboxEvent
from tests.logistics.carriers.standins import GHNStandin, GHTKStandin


def _drain_all(rounds: int = 6) -> None:
    """Drain, making retries due at once (the backoff is the outbox's, tested there)."""
    for _ in range(rounds):
        db.session.execute(
            update(OutboxEvent)
            .where(OutboxEvent.status == "pending")
            .values(next_attempt_at=OutboxEvent.created_at)
        )
        db.session.commit()
        outbox.drain()
    db.session.expire_all()


def _carrier_partner(setup, kind: str, standin):
    for commune in {setup.shop.commune, setup.listing.shop.commune}:
        commune.code = commune.code or "18073"
    db.session.commit()
    credentials = {"token": standin.token}
    if kind == "ghn":
        credentials["shop_id"] = standin.shop_id
    partner, _key, _secret, token = services.create_partner(
        kind.upper() + " thử", actor=None, kind=kind, api_base_url=standin.url, credentials=credentials
    )
    db.session.commit()
    services.set_shop_partners(setup.shop, [partner.id], partner.id, actor=setup.owner)
    db.session.commit()
    return partner, token


def test_ghn_booking_retries_then_stores_tracking_and_callbacks_move_the_order(setup, client):
    with GHNStandin() as ghn:
        partner, token = _carrier_partner(setup, "ghn", ghn)
        assert partner.status_map["delivered"] == "delivered"
        ghn.fail_next(status=503, times=2)
        order = setup.packed_order(quantity=2)
        _drain_all()
        shipment = setup.shipment(order)
        assert shipment.booking == "booked", shipment.booking_error
        assert order.code in ghn.shipments and len(ghn.shipments) == 1
        assert shipment.tracking_code == ghn.shipments[order.code].tracking_code
        assert shipment.fee_vnd == ghn.shipments[order.code].fee_vnd
        # GHN's item price is per unit: the line's unit price, not its total
        sent = ghn.shipments[order.code].request["items"]
        assert [(i["quantity"], i["price"]) for i in sent] == [
            (line.quantity, line.unit_price_vnd) for line in order.lines
        ]
        url = f"/api/v1/logistics/callbacks/{partner.slug}/{token}"
        picked = client.post(url, json=ghn.callback_body(order.code, "picked"))
        assert picked.status_code == 201, picked.get_json()
        db.session.expire_all()
        assert order.status == "shipped"
        body = ghn.callback_body(order.code, "delivered")
        assert client.post(url, json=body).status_code == 201
        for _ in range(3):  # GHN retries its callbacks: a replay changes nothing
            assert client.post(url, json=body).status_code == 200
        db.session.expire_all()
        assert order.status == "delivered"
        assert (
            db.session.scalar(
                select(ShipmentEvent.outcome).where(ShipmentEvent.carrier_status == "delivered")
            )
            == "applied"
        )
        # an unknown status is stored and shown, the order does not move
        odd = client.post(url, json=ghn.callback_body(order.code, "teleported"))
        assert odd.status_code == 201 and odd.get_json()["outcome"] == "unknown"
        db.session.expire_all()
        assert order.status == "delivered"
        # a wrong token or slug is a 404, whatever the body
        assert (
            client.post(f"/api/v1/logistics/callbacks/{partner.slug}/{token}x", json=body).status_code == 404
        )
        assert client.post(f"/api/v1/logistics/callbacks/nope/{token}", json=body).status_code == 404
        assert client.post(url, json={"Status": 3}).status_code in (400, 422)
        # the buyer's timeline links the tracking code to GHN's tracking page
        html = setup.shopper.client.get(f"/don-hang/{order.code}").get_data(as_text=True)
        assert shipment.tracking_code in html and "tracking-code" in html


def test_ghn_booking_cancelled_when_the_order_is_cancelled_before_pickup(setup):
    with GHNStandin() as ghn:
        _carrier_partner(setup, "ghn", ghn)
        order = setup.packed_order()
        _drain_all()
        assert setup.shipment(order).booking == "booked"
        assert setup.post(order, "reject", reason="Hết hàng").status_code == 302
        _drain_all()
        assert setup.shipment(order).booking == "cancelled"
        assert ghn.shipments[order.code].status == "cancel"


def test_ghn_bad_token_fails_the_booking_for_the_operator(setup):
    with GHNStandin() as ghn:
        partner, _token = _carrier_partner(setup, "ghn", ghn)
        partner.credentials = {"token": "sai", "shop_id": ghn.shop_id}
        db.session.commit()
        order = setup.packed_order()
        _drain_all()
        shipment = setup.shipment(order)
        assert shipment.booking == "failed" and shipment.attention and not ghn.shipments


def test_ghtk_booking_and_callback(setup, client):
    with GHTKStandin() as ghtk:
        partner, token = _carrier_partner(setup, "ghtk", ghtk)
        order = setup.packed_order()
        _drain_all()
        shipment = setup.shipment(order)
        assert shipment.booking == "booked", shipment.booking_error
        body = {
            "partner_id": order.code,
            "label_id": shipment.tracking_code,
            "status_id": 5,
            "action_time": "2026-12-01T10:00:00+07:00",
            "reason_code": "",
            "reason": "",
            "weight": 0.8,
            "fee": shipment.fee_vnd,
            "pick_money": order.total_vnd,
            "return_part_package": 0,
        }
        response = client.post(f"/api/v1/logistics/callbacks/{partner.slug}/{token}", json=body)
        assert response.status_code == 201, response.get_json()
        db.session.expire_all()
        assert order.status == "delivered"
