"""Who may see an order: its signed-in buyer, or whoever holds the signed link mailed to a guest.

The link signs the checkout's payment code (itsdangerous); opening it remembers the code in the
session so the guest can pay, cancel and review without carrying the token around."""

from __future__ import annotations

from flask import current_app, has_request_context, session, url_for
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from marketplace.models import User

from .models import Order, Payment

SESSION_KEY = "order_access"
MAX_REMEMBERED = 20


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="order-access")


def make_token(payment: Payment) -> str:
    return _serializer().dumps(payment.code)


def code_from_token(token: str) -> str | None:
    max_age = int(current_app.config["ORDER_LINK_MAX_AGE_DAYS"]) * 86400
    try:
        code = _serializer().loads(token, max_age=max_age)
    except (SignatureExpired, BadSignature):
        return None
    return code if isinstance(code, str) else None


def remember(payment: Payment) -> None:
    codes = [c for c in session.get(SESSION_KEY, []) if c != payment.code]
    session[SESSION_KEY] = ([payment.code] + codes)[:MAX_REMEMBERED]


def can_view_payment(user: User | None, payment: Payment) -> bool:
    if user is not None and getattr(user, "is_authenticated", False):
        if payment.buyer_id == user.id:
            return True
    return has_request_context() and payment.code in session.get(SESSION_KEY, [])


def can_view_order(user: User | None, order: Order) -> bool:
    return can_view_payment(user, order.payment)


def external_url(endpoint: str, **values) -> str:
    """An absolute URL, also from the worker (no request): SERVER_NAME (from BASE_URL) says where
    the site lives."""
    if has_request_context() or current_app.config.get("SERVER_NAME"):
        return url_for(endpoint, _external=True, **values)
    with current_app.test_request_context():
        return url_for(endpoint, _external=True, **values)


def order_link(order: Order) -> str:
    """The link a mail carries: the signed one for guests, the plain order page for members."""
    if order.buyer_id is None:
        return external_url("orders.open_link", token=make_token(order.payment), next=order.code)
    return external_url("orders.show_order", code=order.code)


def payment_link(payment: Payment) -> str:
    if payment.buyer_id is None:
        return external_url("orders.open_link", token=make_token(payment))
    return external_url("orders.show_payment", code=payment.code)
