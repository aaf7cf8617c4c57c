"""What logistics holds about a buyer, for the export and the erasure (marketplace.legal): the
tracking history of their orders, and the copies of their name, phone and address that webhooks to
partners carried (kept in the delivery log). The orders themselves are orders' to anonymise."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update

from marketplace.extensions import db
from marketplace.legal.personal_data import PersonalDataSource, iso
from marketplace.models import User
from orders.models import Order

from .models import Partner, Shipment, ShipmentEvent, WebhookDelivery


def _orders_of(user: User) -> list[Order]:
    return list(db.session.scalars(select(Order).where(Order.buyer_id == user.id).order_by(Order.id)))


def export(user: User) -> dict[str, Any]:
    rows = []
    for order in _orders_of(user):
        shipment = db.session.scalar(select(Shipment).where(Shipment.order_id == order.id))
        if shipment is None:
            continue
        partner = db.session.get(Partner, shipment.partner_id)
        events = db.session.scalars(
            select(ShipmentEvent)
            .where(ShipmentEvent.shipment_id == shipment.id)
            .order_by(ShipmentEvent.occurred_at)
        )
        rows.append(
            {
                "order": order.code,
                "carrier": partner.name if partner else None,
                "tracking_code": shipment.tracking_code,
                "events": [
                    {
                        "status": e.floor_status or e.carrier_status,
                        "at": iso(e.occurred_at),
                        "reason": e.reason,
                    }
                    for e in events
                ],
            }
        )
    return {"shipments": rows} if rows else {}


def erase(user: User) -> dict[str, int]:
    """The webhook log's copies of the buyer's address lose everything but the order code."""
    codes = [order.code for order in _orders_of(user)]
    if not codes:
        return {}
    count = 0
    for delivery in db.session.scalars(select(WebhookDelivery).where(WebhookDelivery.order_code.in_(codes))):
        payload = dict(delivery.payload or {})
        payload["data"] = {"code": delivery.order_code, "redacted": True}
        db.session.execute(
            update(WebhookDelivery).where(WebhookDelivery.id == delivery.id).values(payload=payload)
        )
        count += 1
    return {"logistics_webhook_payloads": count} if count else {}


SOURCE = PersonalDataSource("logistics", export, erase)
