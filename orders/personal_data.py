"""What orders holds about a person (marketplace/legal/personal_data.py): their orders with lines
and history, the addresses they used, their reviews and their cart.

Erasure keeps every order, payment and line (the accounts of a sale must be kept) and replaces
the personal fields: receiver name, phone, e-mail, street address and the note to the shop. The
commune and province stay (they locate the sale, not the person). Reviews keep their stars and
text under an anonymous name. Orders still on their way block the erasure: the shop needs the
address until the parcel arrives. Orders placed as a guest are not the account's (they belong to
whoever holds their link), so neither the export nor the erasure touches them."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from sqlalchemy import delete, select, update
from sqlalchemy.orm import selectinload

from marketplace.extensions import db, rows_matched
from marketplace.legal.personal_data import ANONYMISED, PersonalDataSource, iso
from marketplace.models import User

from .models import CartItem, Order, OrderLine, OrderStatus, Payment, Review

S = OrderStatus
IN_PROGRESS = (S.PENDING_PAYMENT, S.PLACED, S.CONFIRMED, S.PACKED, S.SHIPPED)
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
    }


def blockers(user: User) -> list[str]:
    codes = list(
        db.session.scalars(
            select(Order.code)
            .where(Order.buyer_id == user.id, Order.status.in_([s.value for s in IN_PROGRESS]))
            .order_by(Order.id)
        )
    )
    if not codes:
        return []
    return [
        _(
            "Bạn còn đơn hàng đang xử lý (%(codes)s). Cửa hàng cần địa chỉ của bạn để giao: hãy chờ "
            "nhận hàng hoặc hủy đơn, rồi xoá tài khoản.",
            codes=", ".join(codes),
        )
    ]


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
    return {
        "orders": rows_matched(orders),
        "payments": rows_matched(payments),
        "reviews": rows_matched(reviews),
        "cart_items": rows_matched(cart),
    }


SOURCE = PersonalDataSource("orders", export, erase, blockers)
