"""Order mails, queued through the outbox in the same transaction as the change they announce.

Each mail's idempotency key names the order and the event, so a retried transaction or a
replayed webhook cannot send the same news twice. A guest may check out with a phone number
alone: then the buyer's mails are not queued at all (the confirmation page shows the order link,
and /tra-cuu-don-hang finds the order by its code and the phone number)."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from marketplace.extensions import db
from marketplace.mail import queue_mail
from marketplace.models import OutboxEvent
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
        payment=payment,
        orders=payment.orders,
        link=payment_link(payment),
        method_label=str(states.METHOD_LABELS[payment.method]),
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
        payment=payment,
        orders=payment.orders,
        link=payment_link(payment),
    )


def shop_address(order: Order) -> str | None:
    """Where mail for the order's shop goes: the shop's address, else its owner's."""
    if order.shop.email:
        return order.shop.email
    owner = db.session.scalar(
        select(ShopMember).where(ShopMember.shop_id == order.shop_id, ShopMember.role == "owner")
    )
    return owner.user.email if owner else None


def shop_new_order(order: Order) -> None:
    """Tell the shop a new order is waiting for confirmation (when it is actually placed)."""
    to = shop_address(order)
    if not to:  # a shop always has an owner; without one there is nobody to tell
        return
    from .access import external_url

    queue_mail(
        to,
        _("Đơn hàng mới %(code)s", code=order.code),
        "order_new_for_shop",
        key=f"mail:order-new-shop:{order.id}",
        order=order,
        link=external_url("orders_seller.show_order", shop_slug=order.shop.slug, code=order.code),
    )


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
