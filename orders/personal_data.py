"""What orders holds about a person (marketplace/legal/personal_data.py): their orders with lines
and history, the addresses they used, their reviews and their cart.

Erasure keeps every order, payment and line (the accounts of a sale must be kept) and replaces
the personal fields: receiver name, phone, e-mail, street address, the note to the shop, the
reason the buyer gave for cancelling and the buyer's notes in the history. The commune and
province stay (they locate the sale, not the person). Reviews keep their stars and text under an
anonymous name. A complaint keeps its reason, status, amounts and history (the record of a
dispute), while the buyer's own words and photos go: the photo files are deleted by the worker
(PHOTOS_TOPIC) unless another complaint shows the same picture. Orders still on their way, and
complaints not yet resolved, block the erasure: the shop needs the address until the parcel
arrives, and the floor needs the buyer while it decides. Orders placed as a guest are not the account's (they belong to
whoever holds their link), so neither the export nor the erasure touches them."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from sqlalchemy import Text, cast, delete, select, update
from sqlalchemy.orm import selectinload

from marketplace import outbox
from marketplace.extensions import db, rows_matched
from marketplace.images import delete_image
from marketplace.legal.personal_data import ANONYMISED, PersonalDataSource, iso
from marketplace.models import OutboxEvent, User

from .complaint_states import UNRESOLVED
from .models import (
    CartItem,
    Complaint,
    ComplaintEvent,
    Order,
    OrderEvent,
    OrderLine,
    OrderStatus,
    Payment,
    Review,
)

S = OrderStatus
IN_PROGRESS = (S.PENDING_PAYMENT, S.PLACED, S.CONFIRMED, S.PACKED, S.SHIPPED)
PHOTOS_TOPIC = "complaint.photos_erased"
ANONYMOUS_REVIEWER = "Người mua ẩn danh"


def _orders(user: User) -> list[Order]:
    return list(
        db.session.scalars(
            select(Order)
            .where(Order.buyer_id == user.id)
            .order_by(Order.id)
            .options(selectinload(Order.lines), selectinload(Order.events))
        )
    )


def _order(order: Order) -> dict[str, Any]:
    return {
        "code": order.code,
        "payment_code": order.payment.code,
        "placed_at": iso(order.created_at),
        "status": order.status,
        "payment_method": order.payment_method,
        "paid": order.paid,
        "shop": {"name": order.shop.name, "slug": order.shop.slug},
        "receiver_name": order.receiver_name,
        "receiver_phone": order.receiver_phone,
        "email": order.email,
        "address": {"line": order.address_line, "commune": order.commune_name, "province": order.province},
        "note": order.note,
        "cancel_reason": order.cancel_reason,
        "subtotal_vnd": order.subtotal_vnd,
        "shipping_vnd": order.shipping_vnd,
        "total_vnd": order.total_vnd,
        "carrier": order.carrier,
        "tracking_number": order.tracking_number,
        "lines": [
            {
                "title": line.title,
                "unit": line.unit,
                "sku": line.sku,
                "quantity": line.quantity,
                "unit_price_vnd": line.unit_price_vnd,
                "line_total_vnd": line.line_total_vnd,
            }
            for line in order.lines
        ],
        # Who else acted (a shop's staff, the operator) is theirs to tell: only the role is kept.
        "history": [
            {"status": event.to_status, "by": event.actor_role, "at": iso(event.created_at)}
            for event in order.events
        ],
    }


def export(user: User) -> dict[str, Any]:
    orders = _orders(user)
    addresses: dict[tuple, dict[str, Any]] = {}
    for order in orders:
        key = (order.receiver_name, order.receiver_phone, order.address_line, order.commune_id)
        entry = addresses.setdefault(
            key,
            {
                "receiver_name": order.receiver_name,
                "receiver_phone": order.receiver_phone,
                "line": order.address_line,
                "commune": order.commune_name,
                "province": order.province,
                "first_used_at": iso(order.created_at),
                "times_used": 0,
            },
        )
        entry["times_used"] += 1
        entry["last_used_at"] = iso(order.created_at)
    reviews = db.session.execute(
        select(Review, OrderLine.title, Order.code)
        .join(OrderLine, OrderLine.id == Review.order_line_id)
        .join(Order, Order.id == OrderLine.order_id)
        .where(Review.author_id == user.id)
        .order_by(Review.id)
    ).all()
    cart = db.session.scalars(select(CartItem).where(CartItem.user_id == user.id).order_by(CartItem.id))
    complaints = db.session.scalars(
        select(Complaint)
        .join(Order, Order.id == Complaint.order_id)
        .where(Order.buyer_id == user.id)
        .order_by(Complaint.id)
        .options(selectinload(Complaint.events))
    )
    return {
        "addresses": list(addresses.values()),
        "orders": [_order(order) for order in orders],
        "reviews": [
            {
                "product": title,
                "order_code": code,
                "stars": review.stars,
                "text": review.body,
                "name_shown": review.author_name,
                "created_at": iso(review.created_at),
            }
            for review, title, code in reviews
        ],
        "cart": [
            {"listing_id": item.listing_id, "quantity": item.quantity, "added_at": iso(item.added_at)}
            for item in cart
        ],
        "complaints": [
            {
                "order_code": complaint.order.code,
                "reason": complaint.reason,
                "description": complaint.description,
                "photos": list(complaint.photo_keys or []),
                "status": complaint.status,
                "refund_vnd": complaint.refund_vnd,
                "created_at": iso(complaint.created_at),
                "history": [
                    {"action": e.action, "by": e.actor_role, "note": e.note, "at": iso(e.created_at)}
                    for e in complaint.events
                ],
            }
            for complaint in complaints
        ],
    }


def blockers(user: User) -> list[str]:
    codes = list(
        db.session.scalars(
            select(Order.code)
            .where(Order.buyer_id == user.id, Order.status.in_([s.value for s in IN_PROGRESS]))
            .order_by(Order.id)
        )
    )
    disputed = list(
        db.session.scalars(
            select(Order.code)
            .join(Complaint, Complaint.order_id == Order.id)
            .where(Order.buyer_id == user.id, Complaint.status.in_(UNRESOLVED))
            .order_by(Order.id)
        )
    )
    out = []
    if codes:
        out.append(
            _(
                "Bạn còn đơn hàng đang xử lý (%(codes)s). Cửa hàng cần địa chỉ của bạn để giao: hãy chờ "
                "nhận hàng hoặc hủy đơn, rồi xoá tài khoản.",
                codes=", ".join(codes),
            )
        )
    if disputed:
        out.append(
            _(
                "Khiếu nại của bạn về đơn %(codes)s chưa được giải quyết. Hãy chờ kết quả, rồi xoá tài khoản.",
                codes=", ".join(disputed),
            )
        )
    return out


def erase(user: User) -> dict[str, int]:
    orders = db.session.execute(
        update(Order)
        .where(Order.buyer_id == user.id)
        .values(receiver_name=ANONYMISED, receiver_phone="", email="", address_line=ANONYMISED, note="")
        .execution_options(synchronize_session=False)
    )
    payments = db.session.execute(
        update(Payment)
        .where(Payment.buyer_id == user.id)
        .values(email="", phone="")
        .execution_options(synchronize_session=False)
    )
    reviews = db.session.execute(
        update(Review)
        .where(Review.author_id == user.id)
        .values(author_name=ANONYMOUS_REVIEWER)
        .execution_options(synchronize_session=False)
    )
    cart = db.session.execute(delete(CartItem).where(CartItem.user_id == user.id))
    own_orders = select(Order.id).where(Order.buyer_id == user.id)
    # What the buyer typed along the way: the reason they gave when cancelling, their notes in
    # the history. A reason the shop or the operator gave is theirs, and stays.
    db.session.execute(
        update(Order)
        .where(
            Order.buyer_id == user.id,
            Order.id.in_(
                select(OrderEvent.order_id).where(
                    OrderEvent.actor_role == "buyer", OrderEvent.to_status == S.CANCELLED.value
                )
            ),
        )
        .values(cancel_reason=None)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        update(OrderEvent)
        .where(OrderEvent.actor_role == "buyer", OrderEvent.order_id.in_(own_orders))
        .values(note=None)
        .execution_options(synchronize_session=False)
    )
    photos = [
        key
        for keys in db.session.scalars(select(Complaint.photo_keys).where(Complaint.order_id.in_(own_orders)))
        for key in keys or []
    ]
    complaints = db.session.execute(
        update(Complaint)
        .where(Complaint.order_id.in_(own_orders))
        .values(description=ANONYMISED, photo_keys=[])
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        update(ComplaintEvent)
        .where(
            ComplaintEvent.actor_role == "buyer",
            ComplaintEvent.complaint_id.in_(select(Complaint.id).where(Complaint.order_id.in_(own_orders))),
        )
        .values(note=None)
        .execution_options(synchronize_session=False)
    )
    if photos:  # the files go after the commit, if no other complaint shows the same picture
        outbox.record(PHOTOS_TOPIC, {"keys": sorted(set(photos))})
    return {
        "orders": rows_matched(orders),
        "payments": rows_matched(payments),
        "reviews": rows_matched(reviews),
        "cart_items": rows_matched(cart),
        "complaints": rows_matched(complaints),
        "complaint_photos": len(set(photos)),
    }


def photo_in_use(key: str) -> bool:
    """Whether a complaint still shows the picture `key` (pictures are stored once per content:
    two complaints may share one). Keys are hex digests, so a match in the JSON text is exact."""
    return (
        db.session.scalar(select(Complaint.id).where(cast(Complaint.photo_keys, Text).contains(key)).limit(1))
        is not None
    )


def forget_photos(payload: dict[str, Any], event: OutboxEvent) -> None:
    """The outbox handler of PHOTOS_TOPIC: delete the files of erased complaint photos that no
    complaint shows any more (checked again now: a later complaint may have the same picture)."""
    for key in payload.get("keys", []):
        if not photo_in_use(str(key)):
            delete_image(str(key), private=True)


SOURCE = PersonalDataSource("orders", export, erase, blockers)
