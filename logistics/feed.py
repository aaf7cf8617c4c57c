"""The partners' order feed: a change log read with an opaque cursor.

THE CURSOR TRAP. A cursor over an auto-increment id or a timestamp loses changes: transaction A
takes id 5, transaction B takes id 6 and commits first, a partner reads "after 4" and gets 6, then
asks "after 6" — and A's 5, committed a moment later, is never seen.

The design here is correct by construction: every change gets its sequence number from ONE
counter row, `UPDATE logistics_feed_counter SET value = value + 1 … RETURNING value`, inside the
writer's own transaction. The UPDATE takes the row's lock and keeps it until that transaction
commits or rolls back, so a second writer waits at the same UPDATE and receives the next number
only after the first one has committed (PostgreSQL re-reads the row after the lock is released).
Numbers are therefore handed out in commit order: when a reader sees number n committed, every
number below n is either committed already (and visible in the same snapshot, because it
committed earlier) or was rolled back and will never appear. "seq > cursor ORDER BY seq" then
never skips anything and never repeats anything. SQLite has a single writer at a time anyway.

The price is that feed writers serialise from their first feed change to their commit; feed
changes are recorded last in a request (packing, cancelling, an address fix), so the lock is held
for the few milliseconds of the commit. tests/logistics/test_feed_concurrency.py proves it on
PostgreSQL with writers committing out of order while a reader pages."""

from __future__ import annotations

import base64
import binascii
import contextlib
import uuid
from collections.abc import Iterable
from typing import Any

from flask import current_app
from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from marketplace import outbox
from marketplace.errors import DomainError
from marketplace.extensions import db
from marketplace.models import Commune
from marketplace.timeutil import utcnow
from orders.models import Order, OrderLine, PaymentMethod
from sellers.models import Shop

from .models import FeedChange, FeedCounter, Partner, Shipment, WebhookDelivery

MAX_LIMIT = 500
DEFAULT_LIMIT = 100
WEBHOOK_TOPIC = "logistics.webhook"


class BadCursor(DomainError):
    status = 400


def next_seq() -> int:
    """The next sequence number, under the counter row's lock until this transaction ends."""
    bump = (
        update(FeedCounter)
        .where(FeedCounter.id == 1)
        .values(value=FeedCounter.value + 1)
        .returning(FeedCounter.value)
        .execution_options(synchronize_session=False)
    )
    value = db.session.execute(bump).scalar()
    if value is None:  # a fresh database (or one a test emptied): the row is created once
        # another writer may have created it meanwhile: then this insert fails, and the row is there
        with contextlib.suppress(IntegrityError), db.session.begin_nested():
            db.session.execute(insert(FeedCounter).values(id=1, value=0))
        value = db.session.execute(bump).scalar_one()
    return int(value)


def record_change(order: Order, partner: Partner, kind: str) -> FeedChange:
    """Append a change of `order` to `partner`'s feed and queue its webhook (when the partner has
    an endpoint). Call it as late as possible in the transaction (see the module docstring)."""
    change = FeedChange(
        seq=next_seq(), partner_id=partner.id, order_id=order.id, kind=kind, created_at=utcnow()
    )
    db.session.add(change)
    if partner.webhook_url and partner.webhook_disabled_at is None:
        queue_webhook(partner, kind, order)
    return change


def queue_webhook(partner: Partner, kind: str, order: Order) -> WebhookDelivery:
    message_id = "msg_" + uuid.uuid4().hex
    now = utcnow()
    delivery = WebhookDelivery(
        partner_id=partner.id,
        message_id=message_id,
        event_type=kind,
        order_code=order.code,
        payload={
            "type": kind,
            "timestamp": now.replace(microsecond=0).isoformat() + "Z",
            "data": order_json(order),
        },
        created_at=now,
    )
    db.session.add(delivery)
    outbox.record(WEBHOOK_TOPIC, {"message_id": message_id}, key=f"{WEBHOOK_TOPIC}:{message_id}:0")
    return delivery


# --- cursors ----------------------------------------------------------------------------------


def encode_cursor(seq: int) -> str:
    return base64.urlsafe_b64encode(f"v1:{seq}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        version, _sep, number = raw.partition(":")
        seq = int(number)
        if version != "v1" or seq < 0 or seq > 2**62:
            raise ValueError(raw)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise BadCursor("invalid cursor", field_errors={"cursor": ["invalid cursor"]}) from None
    return seq


def page(partner: Partner, cursor: str | None, limit: int) -> dict[str, Any]:
    """One page of `partner`'s feed after `cursor`, oldest change first.

    Read as plain rows (no ORM objects: a page of 500 would build thousands): the changes joined
    to their orders and shipments in one query, their lines in a second, their shops in a third."""
    after = decode_cursor(cursor)
    rows = db.session.execute(
        select(
            FeedChange.seq,
            FeedChange.kind,
            FeedChange.created_at.label("changed_at"),
            *[getattr(Order, c) for c in _ORDER_COLUMNS],
            *[getattr(Shipment, c).label(f"ship_{c}") for c in _SHIPMENT_COLUMNS],
        )
        .join(Order, Order.id == FeedChange.order_id)
        .outerjoin(Shipment, Shipment.order_id == Order.id)
        .where(FeedChange.partner_id == partner.id, FeedChange.seq > after)
        .order_by(FeedChange.seq)
        .limit(limit + 1)
    ).all()
    has_more = len(rows) > limit
    rows = rows[:limit]
    if not rows:
        return {"data": [], "next_cursor": encode_cursor(after), "has_more": False}
    last = rows[-1].seq
    in_page = (
        select(FeedChange.order_id)
        .where(FeedChange.partner_id == partner.id, FeedChange.seq > after, FeedChange.seq <= last)
        .scalar_subquery()
    )
    lines: dict[int, list] = {}
    for line in db.session.execute(
        select(
            OrderLine.order_id,
            OrderLine.title,
            OrderLine.sku,
            OrderLine.quantity,
            OrderLine.weight_grams,
            OrderLine.line_total_vnd,
        )
        .where(OrderLine.order_id.in_(in_page))
        .order_by(OrderLine.id)
    ):
        lines.setdefault(line.order_id, []).append(line)
    shops = {
        shop.id: shop
        for shop in db.session.execute(
            select(
                Shop.id,
                Shop.name,
                Shop.phone,
                Shop.address_line,
                Shop.province,
                Commune.name.label("commune_name"),
            )
            .outerjoin(Commune, Commune.id == Shop.commune_id)
            .where(Shop.id.in_({row.shop_id for row in rows}))
        )
    }
    inspection = inspection_rule()
    data = []
    for row in rows:
        shipment = _RowShipment(row) if row.ship_id is not None else None
        data.append(
            {
                "change_id": encode_cursor(row.seq),
                "type": row.kind,
                "changed_at": iso(row.changed_at),
                "order": _json(
                    row,
                    shops[row.shop_id],
                    shops[row.shop_id].commune_name,
                    lines.get(row.id, []),
                    shipment,
                    inspection,
                ),
            }
        )
    return {"data": data, "next_cursor": encode_cursor(last), "has_more": has_more}


_ORDER_COLUMNS = (
    "id",
    "code",
    "status",
    "shop_id",
    "payment_method",
    "paid",
    "total_vnd",
    "subtotal_vnd",
    "weight_grams",
    "receiver_name",
    "receiver_phone",
    "address_line",
    "commune_name",
    "province",
    "note",
    "parcel_weight_grams",
    "parcel_size",
    "tracking_number",
    "created_at",
    "updated_at",
)
_SHIPMENT_COLUMNS = ("id", "status", "tracking_code", "weight_g", "length_cm", "width_cm", "height_cm")


class _RowShipment:
    """A shipment's columns read from a joined row (ship_<column>)."""

    def __init__(self, row: Any) -> None:
        for c in _SHIPMENT_COLUMNS:
            setattr(self, c, getattr(row, f"ship_{c}"))


def load_orders(ids: Iterable[int]) -> dict[int, Order]:
    ids = list(ids)
    if not ids:
        return {}
    rows = db.session.scalars(
        select(Order).where(Order.id.in_(ids)).options(selectinload(Order.lines), selectinload(Order.shop))
    )
    orders = {o.id: o for o in rows}
    shipments = db.session.scalars(select(Shipment).where(Shipment.order_id.in_(ids)))
    for s in shipments:
        orders[s.order_id].__dict__["_logistics_shipment"] = s
    return orders


# --- what a partner sees of an order ----------------------------------------------------------


def iso(value) -> str | None:
    return None if value is None else value.replace(microsecond=0).isoformat() + "Z"


def cod_amount(order: Order) -> int:
    return order.total_vnd if order.payment_method == PaymentMethod.COD.value and not order.paid else 0


def parse_size(text: str | None) -> tuple[int, int, int]:
    """ "30x20x15" (or ×, *, spaces) in cm → (30, 20, 15); anything else → zeros."""
    if not text:
        return 0, 0, 0
    parts = text.lower().replace("×", "x").replace("*", "x").replace("cm", "").split("x")
    try:
        dims = [max(0, min(int(float(p.strip().replace(",", "."))), 1000)) for p in parts]
    except ValueError:
        return 0, 0, 0
    return (dims[0], dims[1], dims[2]) if len(dims) == 3 else (0, 0, 0)


def inspection_rule() -> str:
    return current_app.config["LOGISTICS_INSPECTION"]


def shipment_of(order: Order) -> Shipment | None:
    cached = order.__dict__.get("_logistics_shipment")
    if cached is not None:
        return cached
    return db.session.scalar(select(Shipment).where(Shipment.order_id == order.id))


def order_json(order: Order) -> dict[str, Any]:
    """What a partner sees of one order (the feed, one order, webhooks)."""
    shop = order.shop
    return _json(
        order,
        shop,
        shop.commune.name if shop.commune else "",
        list(order.lines),
        shipment_of(order),
        inspection_rule(),
    )


def _json(
    order: Any, shop: Any, shop_commune: str, lines: list, shipment: Any, inspection: str
) -> dict[str, Any]:
    length, width, height = (
        (shipment.length_cm, shipment.width_cm, shipment.height_cm)
        if shipment
        else parse_size(order.parcel_size)
    )
    rule = "Cho xem hàng, không cho thử" if inspection == "allow" else "Không cho xem hàng"
    note = f"{rule}. {order.note}".strip() if order.note else f"{rule}."
    cod = order.total_vnd if order.payment_method == PaymentMethod.COD.value and not order.paid else 0
    return {
        "code": order.code,
        "status": order.status,
        "shipment_status": shipment.status if shipment else None,
        "tracking_code": (shipment.tracking_code if shipment else None) or order.tracking_number,
        "pickup": {
            "name": shop.name,
            "phone": shop.phone,
            "street": shop.address_line,
            "commune": shop_commune or "",
            "province": shop.province,
        },
        "receiver": {
            "name": order.receiver_name,
            "phone": order.receiver_phone,
            "street": order.address_line,
            "commune": order.commune_name,
            "province": order.province,
        },
        "items": [
            {
                "name": line.title,
                "sku": line.sku or "",
                "quantity": line.quantity,
                "weight_g": line.weight_grams,
                "value_vnd": line.line_total_vnd,
            }
            for line in lines
        ],
        "parcel": {
            "weight_g": (shipment.weight_g if shipment else order.parcel_weight_grams) or order.weight_grams,
            "length_cm": length,
            "width_cm": width,
            "height_cm": height,
        },
        "cod_vnd": cod,
        "declared_value_vnd": order.subtotal_vnd,
        "inspection": inspection,
        "note": note,
        "created_at": iso(order.created_at),
        "updated_at": iso(order.updated_at),
    }


CSV_HEADER = [
    "code",
    "change",
    "status",
    "shipment_status",
    "tracking_code",
    "pickup_name",
    "pickup_phone",
    "pickup_address",
    "receiver_name",
    "receiver_phone",
    "receiver_street",
    "receiver_commune",
    "receiver_province",
    "items",
    "weight_g",
    "size_cm",
    "cod_vnd",
    "declared_value_vnd",
    "inspection",
    "note",
    "created_at",
    "updated_at",
]


def csv_rows(entries: list[dict[str, Any]]) -> list[list[Any]]:
    rows = []
    for entry in entries:
        o = entry["order"]
        p = o["pickup"]
        r = o["receiver"]
        parcel = o["parcel"]
        rows.append(
            [
                o["code"],
                entry.get("type", ""),
                o["status"],
                o["shipment_status"] or "",
                o["tracking_code"] or "",
                p["name"],
                p["phone"],
                ", ".join(x for x in (p["street"], p["commune"], p["province"]) if x),
                r["name"],
                r["phone"],
                r["street"],
                r["commune"],
                r["province"],
                "; ".join(f"{i['name']} x{i['quantity']}" for i in o["items"]),
                parcel["weight_g"],
                f"{parcel['length_cm']}x{parcel['width_cm']}x{parcel['height_cm']}",
                o["cod_vnd"],
                o["declared_value_vnd"],
                o["inspection"],
                o["note"],
                o["created_at"],
                o["updated_at"],
            ]
        )
    return rows
