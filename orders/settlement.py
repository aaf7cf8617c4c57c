"""When money the floor holds for a shop may be paid out: held and payable, derived, never stored.

The ledger (orders.models.LedgerEntry) says what the floor owes each shop: the sum of its
entries. Part of that sum is still held: an order's entries (collected, minus what went back)
count as held until the order is delivered, for ORDER_RETURN_WINDOW_DAYS after its delivery
(the buyer may still complain), and while a complaint about it is unresolved. A COD order's
entries are never held: the floor collected nothing for it, so its entries are refunds the floor
advanced to the buyer, which the shop owes at once. What is owed and not held is payable, and a
payout may not exceed it. Everything here is computed from the order's status, its delivery in
the order history and its complaint, at the moment of asking.

A payout and the opening of a complaint (which would hold an order's money) take lock_shop()
before they read what is payable or check the complaint deadline, so one always sees the other."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import ColumnElement, ScalarSelect, and_, case, exists, func, or_, select, text

from marketplace.extensions import db
from marketplace.timeutil import utcnow
from sellers.models import Shop

from .complaint_states import UNRESOLVED
from .models import Complaint, LedgerEntry, Order, OrderEvent, OrderStatus, PaymentMethod

S = OrderStatus
DELIVERED_STATES = (S.DELIVERED.value, S.COMPLETED.value)


def return_window() -> timedelta:
    return timedelta(days=int(current_app.config["ORDER_RETURN_WINDOW_DAYS"]))


def delivered_at_column() -> ScalarSelect[datetime]:
    """The order's (last) delivery time, from its history: correlated to `Order`."""
    return (
        select(func.max(OrderEvent.created_at))
        .where(OrderEvent.order_id == Order.id, OrderEvent.to_status == S.DELIVERED.value)
        .correlate(Order)
        .scalar_subquery()
    )


def delivered_at(order: Order) -> datetime | None:
    return db.session.scalar(
        select(func.max(OrderEvent.created_at)).where(
            OrderEvent.order_id == order.id, OrderEvent.to_status == S.DELIVERED.value
        )
    )


def unresolved_complaint() -> ColumnElement[bool]:
    """The order (correlated to `Order`) has a complaint that is not resolved yet."""
    return exists().where(Complaint.order_id == Order.id, Complaint.status.in_(UNRESOLVED))


def held_condition(now: datetime | None = None) -> ColumnElement[bool]:
    """True for an order whose money the floor still holds (correlated to `Order`)."""
    now = now or utcnow()
    delivered = delivered_at_column()
    return and_(
        Order.payment_method != PaymentMethod.COD.value,  # the floor holds nothing of a COD order
        or_(
            Order.status.not_in(DELIVERED_STATES),
            delivered.is_(None),
            delivered > now - return_window(),
            unresolved_complaint(),
        ),
    )


def held_by_shop(shop_ids: list[int] | None = None, *, now: datetime | None = None) -> dict[int, int]:
    """Per shop, the sum of the entries of orders still held."""
    query = (
        select(LedgerEntry.shop_id, func.sum(LedgerEntry.amount_vnd))
        .join(Order, Order.id == LedgerEntry.order_id)
        .where(held_condition(now))
        .group_by(LedgerEntry.shop_id)
    )
    if shop_ids is not None:
        query = query.where(LedgerEntry.shop_id.in_(shop_ids))
    return {shop_id: int(total or 0) for shop_id, total in db.session.execute(query)}


def lock_shop(shop_id: int) -> None:
    """One settlement decision per shop at a time, held until the transaction ends: call it
    before reading what is payable or whether a complaint may still be opened. PostgreSQL: the
    shop's row FOR NO KEY UPDATE (a checkout inserting an order for the shop is not blocked).
    SQLite ignores FOR UPDATE, and a plain read there sees only what was committed before it:
    a no-op UPDATE of the row takes the database's write lock first, so the reads after it see
    every earlier writer's work and no other writer can commit until this transaction ends."""
    if db.engine.dialect.name == "postgresql":
        db.session.execute(select(Shop.id).where(Shop.id == shop_id).with_for_update(key_share=True))
    else:
        db.session.execute(text("UPDATE shops SET status = status WHERE id = :id"), {"id": shop_id})


def owed_to(shop_id: int) -> int:
    """What the floor owes the shop: the sum of its ledger entries."""
    return int(
        db.session.scalar(
            select(func.coalesce(func.sum(LedgerEntry.amount_vnd), 0)).where(LedgerEntry.shop_id == shop_id)
        )
        or 0
    )


def payable_to(shop_id: int, *, now: datetime | None = None) -> int:
    """What may be paid out to the shop now: owed minus held (negative when the shop was paid
    for an order that was refunded afterwards)."""
    return owed_to(shop_id) - held_by_shop([shop_id], now=now).get(shop_id, 0)


def entry_columns(now: datetime | None = None) -> tuple[ColumnElement[int], ScalarSelect[datetime]]:
    """For a query over LedgerEntry outer-joined to Order: 1 when the entry's order is held now,
    else 0 (meaningless for payouts, which have no order; always 0 for COD orders), and the
    order's delivery time."""
    return case((held_condition(now), 1), else_=0), delivered_at_column()


def payable_on(order: Order) -> datetime | None:
    """When the order's money stops being held for the return window (None before delivery)."""
    if order.status not in DELIVERED_STATES:
        return None
    delivered = delivered_at(order)
    return delivered + return_window() if delivered is not None else None
