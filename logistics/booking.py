"""Booking pickups with a carrier account, from the worker (outbox topics logistics.book and
logistics.cancel_booking), through `logistics.carriers.adapter_for`.

Booking is idempotent on our order code: the adapter's create_shipment returns the existing
booking when the carrier already has one for that client order code, so a worker that dies after
the carrier answered and before our commit books nothing twice. A cancelled order whose booking
is pending is simply never booked; one already booked is cancelled with the carrier."""

from __future__ import annotations

from sqlalchemy import select, update

from marketplace import outbox
from marketplace.extensions import db, rows_matched
from marketplace.models import OutboxEvent
from orders.models import Order, OrderStatus

from . import feed
from .models import Partner, Shipment
from .services import CANCEL_BOOKING_TOPIC


def parcel_for(shipment: Shipment):
    from .carriers import Contact, Item, Parcel

    order: Order = shipment.order
    shop = order.shop
    commune = order.commune if hasattr(order, "commune") else None
    pickup = Contact(
        name=shop.name,
        phone=shop.phone,
        street=shop.address_line,
        commune_code=(shop.commune.official_code or shop.commune.code or "") if shop.commune else "",
        commune_name=shop.commune.name if shop.commune else "",
        province_code="",
        province_name=shop.province,
    )
    receiver = Contact(
        name=order.receiver_name,
        phone=order.receiver_phone,
        street=order.address_line,
        commune_code=(commune.official_code or commune.code or "") if commune is not None else "",
        commune_name=order.commune_name,
        province_code="",
        province_name=order.province,
    )
    items = tuple(
        Item(
            name=line.title,
            sku=line.sku or "",
            quantity=line.quantity,
            weight_g=line.weight_grams,
            value_vnd=line.unit_price_vnd,  # per unit, as the adapters send it (price × quantity)
        )
        for line in order.lines
    )
    return Parcel(
        order_code=order.code,
        pickup=pickup,
        receiver=receiver,
        items=items,
        weight_g=shipment.weight_g,
        length_cm=shipment.length_cm or 10,
        width_cm=shipment.width_cm or 10,
        height_cm=shipment.height_cm or 10,
        cod_vnd=feed.cod_amount(order),
        declared_value_vnd=order.subtotal_vnd,
        inspection=feed.inspection_rule(),
        note=order.note or "",
    )


def adapter(partner: Partner):
    from .carriers import DEFAULT_BASE_URLS, adapter_for

    return adapter_for(
        partner.kind,
        base_url=partner.api_base_url or DEFAULT_BASE_URLS[partner.kind],
        credentials=dict(partner.credentials or {}),
    )


def _carrier_failure(exc: Exception, shipment: Shipment) -> Exception:
    """A CarrierError → the outbox's RetryLater (retryable) or PermanentFailure (recorded)."""
    message = getattr(exc, "message", str(exc))
    if getattr(exc, "retryable", False):
        return outbox.RetryLater(message, getattr(exc, "retry_after", None))
    shipment.booking = "failed"
    shipment.booking_error = message[:2000]
    shipment.attention = message[:2000]
    db.session.commit()
    return outbox.PermanentFailure(message)


def book_handler(payload: dict, event: OutboxEvent) -> None:
    from .carriers import CarrierError

    shipment = db.session.get(Shipment, int(payload["shipment_id"]))
    if shipment is None or shipment.booking != "pending":
        return
    if shipment.order.status == OrderStatus.CANCELLED.value or shipment.status == "cancelled":
        shipment.booking = "cancelled"
        return
    try:
        booking = adapter(shipment.partner).create_shipment(parcel_for(shipment))
    except CarrierError as exc:
        raise _carrier_failure(exc, shipment) from exc
    # Another worker may have handled the order's cancellation while the carrier answered: it
    # found the booking pending and marked it cancelled. The booking now exists at the carrier
    # all the same: keep it as booked and cancel it there (the cancel handler, with its retries).
    values = {"tracking_code": booking.tracking_code, "fee_vnd": booking.fee_vnd, "booking_error": None}
    booked = rows_matched(
        db.session.execute(
            update(Shipment)
            .where(Shipment.id == shipment.id, Shipment.booking == "pending")
            .values(booking="booked", **values)
            .execution_options(synchronize_session=False)
        )
    )
    if not booked:
        db.session.execute(
            update(Shipment)
            .where(Shipment.id == shipment.id, Shipment.booking == "cancelled")
            .values(booking="booked", **values)
            .execution_options(synchronize_session=False)
        )
        outbox.record(
            CANCEL_BOOKING_TOPIC,
            {"shipment_id": shipment.id},
            key=f"{CANCEL_BOOKING_TOPIC}:{shipment.order.code}:booked-after-cancel",
        )
        return
    db.session.refresh(shipment)
    order = db.session.scalar(select(Order).where(Order.id == shipment.order_id))
    if order is not None and order.tracking_number is None:
        order.tracking_number = booking.tracking_code[:80]
        order.carrier = shipment.partner.name[:60]
        feed.record_change(order, shipment.partner, "order.updated")


def cancel_handler(payload: dict, event: OutboxEvent) -> None:
    from .carriers import CarrierError

    shipment = db.session.get(Shipment, int(payload["shipment_id"]))
    if shipment is None:
        return
    if shipment.booking == "pending":
        # the book handler will see it and do nothing; or, if its booking is in flight, cancel
        # what the carrier answers. Conditional: a booking stored meanwhile is cancelled below.
        cancelled = rows_matched(
            db.session.execute(
                update(Shipment)
                .where(Shipment.id == shipment.id, Shipment.booking == "pending")
                .values(booking="cancelled")
                .execution_options(synchronize_session=False)
            )
        )
        if cancelled:
            return
        db.session.refresh(shipment)
    if shipment.booking != "booked" or not shipment.tracking_code:
        return
    try:
        adapter(shipment.partner).cancel_shipment(shipment.tracking_code)
    except CarrierError as exc:
        raise _carrier_failure(exc, shipment) from exc
    shipment.booking = "cancelled"
