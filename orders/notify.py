"""Order mails, queued through the outbox in the same transaction as the change they announce.

Each mail's idempotency key names the order and the event, so a retried transaction or a
replayed webhook cannot send the same news twice. A guest may check out with a phone number
alone: then the buyer's mails are not queued at all (the confirmation page shows the order link,
and /tra-cuu-don-hang finds the order by its code and the phone number).

The mails of a checkout and of its payment (order_placed, order_new_for_shop, order_paid) are
rendered by the worker (marketplace.mail.register_context): their rows keep the ids, the link and
the language, and the loaders below read the rows back. What they show does not change after the
checkout (codes, lines, totals, the address), so the mail reads as if rendered at once. The
status mails keep being rendered when queued: they tell the state of that moment."""

from __future__ import annotations

from collections.abc import Iterable

from flask import Flask
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from marketplace.extensions import db
from marketplace.mail import queue_mail, register_context
from marketplace.models import OutboxEvent, User
from sellers.models import ShopMember

from . import states
from .access import order_link, payment_link
from .models import Order, Payment


def _ctx(order: Order) -> dict:
    return {
        "order": order,
        "link": order_link(order),
        "status_label": states.label(order.status),
        "method_label": str(states.METHOD_LABELS[order.payment_method]),
        "next_step": states.next_step(order),
    }


def _to_buyer(address: str, subject: str, template: str, *, key: str, **context) -> None:
    """A mail to the buyer, if the buyer gave an address."""
    if address:
        queue_mail(address, subject, template, key=key, **context)


def _checkout_mail_key(payment: Payment) -> str:
    return f"mail:order-placed:{payment.code}"


def checkout_received(payment: Payment) -> None:
    """Right after checkout: the buyer's summary with the link (a guest's only way back)."""
    if payment.method == "cod":
        subject = _("Đã nhận đơn hàng %(code)s", code=payment.code)
    else:
        subject = _("Đơn hàng %(code)s đang chờ thanh toán", code=payment.code)
    _to_buyer(
        payment.email,
        subject,
        "order_placed",
        key=_checkout_mail_key(payment),
        payment_id=payment.id,
        link=payment_link(payment),
    )


def checkout_mail_state(payment: Payment) -> str | None:
    """What became of the checkout mail: None (no address, none queued, or its row purged after
    OUTBOX_RETENTION_DAYS: nothing left to tell), "queued", "sent" or "failed" (the worker gave
    up on it)."""
    if not payment.email:
        return None
    status = db.session.scalar(
        select(OutboxEvent.status).where(OutboxEvent.idempotency_key == _checkout_mail_key(payment))
    )
    if status is None:
        return None
    return {"done": "sent", "dead": "failed"}.get(status, "queued")


def payment_received(payment: Payment) -> None:
    _to_buyer(
        payment.email,
        _("Đã nhận thanh toán cho đơn %(code)s", code=payment.code),
        "order_paid",
        key=f"mail:order-paid:{payment.code}",
        payment_id=payment.id,
        link=payment_link(payment),
    )


def shop_addresses(orders: Iterable[Order]) -> dict[int, str | None]:
    """Where mail for each order's shop goes (shop id -> address): the shop's address, else its
    owner's; the owners of every shop without one in one query."""
    found: dict[int, str | None] = {o.shop_id: o.shop.email or None for o in orders}
    missing = [shop_id for shop_id, address in found.items() if not address]
    if missing:
        # No autoflush: the rows this transaction still holds (the checkout's outbox rows) are
        # written together later, not split around this read.
        with db.session.no_autoflush:
            rows = db.session.execute(
                select(ShopMember.shop_id, User.email)
                .join(User, User.id == ShopMember.user_id)
                .where(ShopMember.shop_id.in_(missing), ShopMember.role == "owner")
                .order_by(ShopMember.id)
            ).all()
        for shop_id, email in rows:
            found[shop_id] = found[shop_id] or email or None
    return found


def shop_address(order: Order) -> str | None:
    """Where mail for the order's shop goes: the shop's address, else its owner's."""
    return shop_addresses([order])[order.shop_id]


def shop_new_orders(orders: list[Order]) -> None:
    """Tell each shop a new order is waiting for confirmation (when it is actually placed)."""
    from .access import external_url

    addresses = shop_addresses(orders)
    for order in orders:
        to = addresses.get(order.shop_id)
        if not to:  # a shop always has an owner; without one there is nobody to tell
            continue
        queue_mail(
            to,
            _("Đơn hàng mới %(code)s", code=order.code),
            "order_new_for_shop",
            key=f"mail:order-new-shop:{order.id}",
            order_id=order.id,
            link=external_url("orders_seller.show_order", shop_slug=order.shop.slug, code=order.code),
        )


def shop_new_order(order: Order) -> None:
    shop_new_orders([order])


# --- rendered by the worker ---------------------------------------------------------------------


def _payment_context(context: dict) -> dict | None:
    """order_placed and order_paid: the payment with its orders, their shops and lines."""
    payment = db.session.scalar(
        select(Payment)
        .where(Payment.id == int(context["payment_id"]))
        .options(selectinload(Payment.orders).options(joinedload(Order.shop), selectinload(Order.lines)))
    )
    if payment is None or not payment.orders:
        return None
    return {
        "payment": payment,
        "orders": payment.orders,
        "link": context.get("link"),
        "method_label": str(states.METHOD_LABELS[payment.method]),
    }


def _order_context(context: dict) -> dict | None:
    """order_new_for_shop: the order with its shop and lines."""
    order = db.session.scalar(
        select(Order)
        .where(Order.id == int(context["order_id"]))
        .options(joinedload(Order.shop), selectinload(Order.lines))
    )
    if order is None:
        return None
    return {"order": order, "link": context.get("link")}


def init_app(app: Flask) -> None:
    """The mails the worker renders (marketplace.mail.register_context)."""
    register_context(app, "order_placed", _payment_context)
    register_context(app, "order_paid", _payment_context)
    register_context(app, "order_new_for_shop", _order_context)


def status_changed(order: Order, *, reason: str | None = None) -> None:
    """Confirmed, shipped, delivered, cancelled, refunded: one mail each, to the buyer."""
    subjects = {
        "confirmed": _("Đơn %(code)s đã được cửa hàng xác nhận", code=order.code),
        "shipped": _("Đơn %(code)s đang được giao", code=order.code),
        "delivered": _("Đơn %(code)s đã giao thành công", code=order.code),
        "cancelled": _("Đơn %(code)s đã bị hủy", code=order.code),
        "refunded": _("Đơn %(code)s đã được hoàn tiền", code=order.code),
    }
    if order.status not in subjects:
        return
    _to_buyer(
        order.email,
        subjects[order.status],
        f"order_{order.status}",
        key=f"mail:order-{order.status}:{order.id}",
        reason=reason,
        **_ctx(order),
    )
