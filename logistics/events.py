"""Shipment events in: from the floor's own API (floor vocabulary) or a carrier's native callback
(its words, turned into ours by the partner's mapping table).

Rules, in order: the same event id from the same partner is a replay (200, nothing changes); an
unknown carrier status is stored and shown to the operator but moves nothing; an event older
(occurred_at) than the last one that moved the order is placed in the history only (a late
`in_transit` does not undo `delivered`); a status the order already has is recorded; otherwise
the order moves — or, when the state machine forbids the move, the request answers 409 with the
reason and nothing is stored. Every stored event that is not late or unknown tells the buyer and
the shop (outbox mail)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, text

from marketplace.errors import Conflict, NotFound, ValidationFailed
from marketplace.extensions import db
from marketplace.mail import queue_mail
from marketplace.timeutil import utcnow
from orders import states
from orders.models import Order, OrderStatus, PaymentMethod

from .models import Partner, Shipment, ShipmentEvent

S = OrderStatus
# How far ahead of our clock an event's occurred_at may be (carriers' clocks drift a little).
MAX_CLOCK_AHEAD = timedelta(hours=1)

# The floor's parcel words → the order status they mean.
ORDER_STATUS_FOR = {
    "picked_up": S.SHIPPED.value,
    "in_transit": S.SHIPPED.value,
    "out_for_delivery": S.SHIPPED.value,
    "delivered": S.DELIVERED.value,
    "delivery_failed": S.DELIVERY_FAILED.value,
    "returning": S.RETURNING.value,
    "returned": S.RETURNED.value,
    "lost": S.LOST.value,
    "damaged": S.DAMAGED.value,
}

FLOOR_IDENTITY: dict[str, str | None] = {status: status for status in ORDER_STATUS_FOR}

FLOOR_LABELS = {
    "ready_for_pickup": _l("Chờ lấy hàng"),
    "picked_up": _l("Đã lấy hàng"),
    "in_transit": _l("Đang vận chuyển"),
    "out_for_delivery": _l("Đang giao hàng"),
    "delivered": _l("Đã giao hàng"),
    "delivery_failed": _l("Giao không thành công"),
    "returning": _l("Đang hoàn hàng"),
    "returned": _l("Đã hoàn hàng"),
    "lost": _l("Thất lạc"),
    "damaged": _l("Hư hỏng"),
    "cancelled": _l("Đã hủy"),
}


def floor_label(status: str | None) -> str:
    return str(FLOOR_LABELS[status]) if status in FLOOR_LABELS else (status or "")


@dataclass
class Incoming:
    event_id: str
    order_code: str
    status: str  # the partner's own word (floor word for the floor API)
    occurred_at: datetime
    tracking_code: str | None = None
    reason: str | None = None
    note: str | None = None
    cod_collected_vnd: int | None = None
    # A carrier's own status word (a native callback), turned into ours by the partner's mapping
    # table; False: already the floor's word (the floor's API), taken as it is.
    native: bool = False


@dataclass
class Outcome:
    event: ShipmentEvent
    replay: bool
    order_status: str = ""
    shipment_status: str = ""


def _naive_utc(value: datetime) -> datetime:
    return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value


def shipment_for(partner: Partner, order_code: str) -> Shipment:
    shipment = db.session.scalar(
        select(Shipment)
        .join(Order, Order.id == Shipment.order_id)
        .where(Order.code == order_code, Shipment.partner_id == partner.id)
    )
    if shipment is None:
        raise NotFound(_("Không có đơn %(code)s giao cho đối tác này.", code=order_code))
    return shipment


def _lock_order(order_id: int) -> Order:
    """The order under its row lock until the transaction ends, read after the lock was taken.
    PostgreSQL: FOR UPDATE. SQLite ignores FOR UPDATE and a plain read there sees only what was
    committed before it: a no-op UPDATE takes the database's write lock first (as
    orders.settlement.lock_shop does), so what is read after it is what the last writer left."""
    if db.engine.dialect.name != "postgresql":
        db.session.execute(text("UPDATE orders SET status = status WHERE id = :id"), {"id": order_id})
    order = db.session.scalar(
        select(Order).where(Order.id == order_id).with_for_update().execution_options(populate_existing=True)
    )
    assert order is not None
    return order


def ingest(partner: Partner, incoming: Incoming) -> Outcome:
    """Apply one event (the caller commits). Raises NotFound, Conflict (409)."""
    existing = db.session.scalar(
        select(ShipmentEvent).where(
            ShipmentEvent.partner_id == partner.id, ShipmentEvent.event_id == incoming.event_id
        )
    )
    if existing is not None:
        shipment = db.session.get(Shipment, existing.shipment_id)
        order_code = (
            db.session.scalar(select(Order.code).where(Order.id == shipment.order_id)) if shipment else None
        )
        if order_code != incoming.order_code or existing.carrier_status != incoming.status[:60]:
            # Not a replay: the partner used this event id for another event. Answering "replay"
            # would drop this one silently; say so instead, and change nothing.
            raise Conflict(
                _(
                    "Mã sự kiện %(id)s đã được dùng cho một sự kiện khác (đơn %(code)s, trạng thái %(s)s).",
                    id=incoming.event_id,
                    code=order_code or "",
                    s=existing.carrier_status,
                )
            )
        assert shipment is not None
        order_status = db.session.scalar(select(Order.status).where(Order.id == shipment.order_id))
        return Outcome(existing, True, order_status or "", shipment.status)
    if _naive_utc(incoming.occurred_at) > utcnow() + MAX_CLOCK_AHEAD:
        # An event "from the future" would make every real event after it late: the order
        # could never move again.
        message = _("Thời điểm của sự kiện ở tương lai.")
        raise ValidationFailed({"occurred_at": [message]}, message)
    shipment = shipment_for(partner, incoming.order_code)
    order = _lock_order(shipment.order_id)
    # Judge on the shipment as committed now, not as read before waiting for the lock: another
    # event of this parcel may have moved it meanwhile (a newer one: this one is then late).
    db.session.refresh(shipment)
    occurred = _naive_utc(incoming.occurred_at)
    mapping = (partner.status_map or {}) if incoming.native else FLOOR_IDENTITY
    unknown = incoming.status not in mapping
    floor = None if unknown else mapping[incoming.status]
    if unknown:
        outcome = "unknown"
    elif floor is None:
        outcome = "recorded"
    elif shipment.last_event_at is not None and occurred < shipment.last_event_at:
        outcome = "late"
    else:
        target = ORDER_STATUS_FOR[floor]
        if order.status == target:
            outcome = "recorded"
        else:
            _move(order, shipment, partner, target, floor, incoming)
            outcome = "applied"
        shipment.status = floor
        shipment.last_event_at = occurred
    if incoming.tracking_code and not shipment.tracking_code:
        shipment.tracking_code = incoming.tracking_code[:80]
    event = ShipmentEvent(
        shipment=shipment,
        partner_id=partner.id,
        event_id=incoming.event_id,
        carrier_status=incoming.status[:60],
        floor_status=floor,
        unknown=unknown,
        outcome=outcome,
        occurred_at=occurred,
        tracking_code=incoming.tracking_code,
        reason=incoming.reason,
        note=incoming.note,
        cod_collected_vnd=incoming.cod_collected_vnd,
    )
    # The same event id arriving twice at the same instant: the UNIQUE (partner, event id) makes
    # the second commit fail; the API then answers it as the replay it is (logistics.api).
    db.session.add(event)
    if outcome in ("applied", "recorded") and floor is not None:
        _notify(order, event)
    return Outcome(event, False, order.status, shipment.status)


def _move(
    order: Order, shipment: Shipment, partner: Partner, target: str, floor: str, incoming: Incoming
) -> None:
    from orders import payments, services

    note = " · ".join(
        x for x in (partner.name, floor_label(floor), incoming.reason or incoming.note or "") if x
    )
    tracking = incoming.tracking_code or shipment.tracking_code or order.code
    if order.status == S.PACKED.value and target != S.SHIPPED.value and target != S.REFUNDED.value:
        # The pickup scan never reached us: the carrier has the parcel all the same.
        states.transition(
            order,
            S.SHIPPED.value,
            actor=None,
            actor_role="carrier",
            note=note,
            carrier=partner.name[:60],
            tracking_number=tracking[:80],
        )
    if not states.can_transition(order.status, target):
        raise Conflict(
            _(
                "Không thể chuyển đơn %(code)s từ “%(a)s” sang “%(b)s”.",
                code=order.code,
                a=states.label(order.status),
                b=states.label(target),
            )
        )
    if target == S.DELIVERED.value:
        services.deliver_order(order, actor=None, actor_role="carrier", note=note)
        return
    extra: dict[str, Any] = {}
    if target == S.SHIPPED.value and order.status == S.PACKED.value:
        extra = {"carrier": partner.name[:60], "tracking_number": tracking[:80]}
    states.transition(order, target, actor=None, actor_role="carrier", note=note, **extra)
    if target == S.RETURNED.value:
        attention = []
        if _reported_damaged(shipment):
            # Damaged goods back on the shelf are not sellable stock: the shop checks them and
            # corrects its stock by hand.
            attention.append(_("Hàng bị hư hỏng đã hoàn về: cửa hàng kiểm tra trước khi nhập lại kho."))
        else:
            services.release_stock(order)  # the goods are back on the shop's shelf; no COD was collected
        if order.paid and order.payment_method == PaymentMethod.CARD.value:
            payments.refund_order(
                order, actor=None, actor_role="system", note=_("Hoàn tiền tự động khi hàng bị hoàn.")
            )
        elif order.paid:
            attention.append(_("Hàng đã hoàn về: cần hoàn tiền chuyển khoản cho người mua."))
        if attention:
            shipment.attention = " ".join(attention)
    elif target in (S.LOST.value, S.DAMAGED.value):
        shipment.attention = _("Đơn vị vận chuyển báo: %(s)s.", s=floor_label(floor))


def _reported_damaged(shipment: Shipment) -> bool:
    """Whether the carrier reported this parcel damaged (an event that moved the order)."""
    return (
        db.session.scalar(
            select(ShipmentEvent.id)
            .where(
                ShipmentEvent.shipment_id == shipment.id,
                ShipmentEvent.floor_status == S.DAMAGED.value,
                ShipmentEvent.outcome == "applied",
            )
            .limit(1)
        )
        is not None
    )


def _notify(order: Order, event: ShipmentEvent) -> None:
    from orders.access import order_link
    from orders.notify import shop_address

    subject = _("Đơn %(code)s: %(status)s", code=order.code, status=floor_label(event.floor_status))
    context = {"order": order, "event": event, "status_label": floor_label(event.floor_status)}
    # `delivered` closes the order through orders.services.deliver_order, which sends the buyer
    # its own "delivered" mail: one mail for one parcel arriving, not two.
    if order.email and event.floor_status != S.DELIVERED.value:
        queue_mail(
            order.email,
            subject,
            "logistics_event",
            key=f"mail:shipment-event:{event.partner_id}:{event.event_id}:buyer",
            link=order_link(order),
            **context,
        )
    shop_to = shop_address(order)
    if shop_to:
        queue_mail(
            shop_to,
            subject,
            "logistics_event",
            key=f"mail:shipment-event:{event.partner_id}:{event.event_id}:shop",
            link=None,
            **context,
        )


def timeline(order: Order) -> list[ShipmentEvent]:
    shipment = db.session.scalar(select(Shipment).where(Shipment.order_id == order.id))
    if shipment is None:
        return []
    return list(
        db.session.scalars(
            select(ShipmentEvent)
            .where(ShipmentEvent.shipment_id == shipment.id)
            .order_by(ShipmentEvent.occurred_at, ShipmentEvent.id)
        )
    )
