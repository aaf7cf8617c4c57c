"""Who stands before an order or a checkout, and in what capacity; the guest link's grants.

`order_access()` answers one OrderAccess: the order's signed-in buyer, the holder of the guest
link (a visitor without an account who opened the signed link mailed at checkout), a member of
the selling shop who handles orders, the operator, or nobody. Each route says which of these it
serves: the buyer's pages and actions (/don-hang, /thanh-toan) serve BUYER and GUEST_LINK only;
the shop works on /kenh-ban/…/don-hang, the operator on /quan-tri/don-hang.

The link signs the checkout's payment code (itsdangerous). Opening it while not signed in grants
this browser the checkout: its code is kept in the session, so the guest can pay, cancel and
review without carrying the token around. Grants are for guests only: never stored while
someone is signed in, never honoured for a signed-in user, and dropped whenever anyone signs in
or out in that browser (Flask-Login's signals, so the sign-in pages need not know).

The same grant follows a look-up by the checkout's (or an order's) code and the receiver's phone
number at /tra-cuu-don-hang (`lookup()`), for a guest who gave no e-mail address or lost the mail."""

from __future__ import annotations

import enum
import hmac
import re

from flask import Flask, current_app, has_request_context, session, url_for
from flask_login import user_logged_in, user_logged_out
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select

from marketplace.accounts.services import normalize_phone
from marketplace.extensions import db
from marketplace.models import User
from marketplace.permissions import is_operator
from sellers.permissions import can_handle_orders

from .models import Order, Payment

SESSION_KEY = "order_access"
MAX_REMEMBERED = 20


class OrderAccess(enum.Enum):
    BUYER = "buyer"
    GUEST_LINK = "guest_link"
    SHOP_MEMBER = "shop_member"
    OPERATOR = "operator"
    NONE = "none"

    @property
    def acts_for_buyer(self) -> bool:
        """May use the buyer's pages and actions (pay, cancel, "received", review, reorder)."""
        return self in (OrderAccess.BUYER, OrderAccess.GUEST_LINK)


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


def _signed_in(user: User | None) -> bool:
    return user is not None and bool(getattr(user, "is_authenticated", False))


def is_buyer_of(user: User | None, thing: Order | Payment) -> bool:
    """The signed-in user placed this order (or checkout)."""
    return user is not None and _signed_in(user) and thing.buyer_id == user.id


def holds_guest_link(user: User | None, payment: Payment) -> bool:
    """Nobody is signed in, `payment` is a guest checkout, and this browser opened its link."""
    return (
        not _signed_in(user)
        and payment.buyer_id is None
        and has_request_context()
        and payment.code in session.get(SESSION_KEY, [])
    )


def payment_access(user: User | None, payment: Payment) -> OrderAccess:
    """A checkout spans shops, so no shop member stands before it as such."""
    if is_buyer_of(user, payment):
        return OrderAccess.BUYER
    if holds_guest_link(user, payment):
        return OrderAccess.GUEST_LINK
    if is_operator(user):
        return OrderAccess.OPERATOR
    return OrderAccess.NONE


def order_access(user: User | None, order: Order) -> OrderAccess:
    if is_buyer_of(user, order):
        return OrderAccess.BUYER
    if holds_guest_link(user, order.payment):
        return OrderAccess.GUEST_LINK
    if can_handle_orders(user, order.shop):
        return OrderAccess.SHOP_MEMBER
    if is_operator(user):
        return OrderAccess.OPERATOR
    return OrderAccess.NONE


def grant_guest_access(user: User | None, payment: Payment) -> bool:
    """Let this browser see a guest checkout (just placed, or its mailed link opened). Refused
    (False) when someone is signed in or the checkout belongs to a member."""
    if _signed_in(user) or payment.buyer_id is not None:
        return False
    codes = [c for c in session.get(SESSION_KEY, []) if c != payment.code]
    session[SESSION_KEY] = [payment.code, *codes][:MAX_REMEMBERED]
    return True


def forget_guest_access(*_args: object, **_kwargs: object) -> None:
    """Drop every grant of this browser (a Flask-Login signal receiver, and callable as is)."""
    if has_request_context():
        session.pop(SESSION_KEY, None)


# --- look-up by code and phone number (/tra-cuu-don-hang) ---------------------------------------

LOOKUP_CODE_RE = re.compile(r"(DH[A-Z0-9]{8})(?:-(\d{1,3}))?")


def _phone_key(raw: str | None) -> str:
    """A phone number as compared: separators dropped, +84 written as 0."""
    phone = normalize_phone(raw) or ""
    return "0" + phone[3:] if phone.startswith("+84") else phone


def lookup(code: str | None, phone: str | None) -> tuple[Payment, Order | None] | None:
    """The checkout (and the one order, for an order code) that `code` names, if `phone` is its
    receiver's number; else None, whether the code exists or not. The caller rate-limits."""
    typed = re.sub(r"\s+", "", code or "").upper()
    match = LOOKUP_CODE_RE.fullmatch(typed)
    wanted = _phone_key(phone)
    if match is None or not wanted:
        return None
    payment = db.session.scalar(select(Payment).where(Payment.code == match.group(1)))
    if payment is None or not hmac.compare_digest(_phone_key(payment.phone).encode(), wanted.encode()):
        return None
    if match.group(2) is None:
        return payment, None
    order = next((o for o in payment.orders if o.code == typed), None)
    return (payment, order) if order is not None else None


def init_app(app: Flask) -> None:
    user_logged_in.connect(forget_guest_access, app)
    user_logged_out.connect(forget_guest_access, app)


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
