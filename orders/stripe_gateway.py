"""Card payments through Stripe PaymentIntents, and Stripe's webhooks.

The `stripe` library talks to STRIPE_API_BASE when set (localstripe in tests), else to Stripe.
VND is a zero-decimal currency: amount 150000 means 150.000 ₫, the same integer we store.
Every POST carries our own idempotency key derived from the payment or the order, so a retry
(by the library, the worker or the buyer's second click) never charges or refunds twice."""

from __future__ import annotations

import json
import logging

import stripe
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from marketplace import outbox
from marketplace.errors import Conflict, DomainError
from marketplace.extensions import db
from marketplace.models import OutboxEvent

from . import payments
from .models import Order, OrderStatus, Payment, PaymentMethod, PaymentStatus, StripeEvent

log = logging.getLogger(__name__)
CURRENCY = "vnd"


def enabled() -> bool:
    cfg = current_app.config
    return bool(cfg.get("STRIPE_SECRET_KEY") and cfg.get("STRIPE_PUBLISHABLE_KEY"))


def js_url() -> str:
    """Stripe.js: STRIPE_JS_URL, else the stand-in of the STRIPE_API_BASE server, else Stripe's."""
    cfg = current_app.config
    if cfg.get("STRIPE_JS_URL"):
        return cfg["STRIPE_JS_URL"]
    if cfg.get("STRIPE_API_BASE"):
        return cfg["STRIPE_API_BASE"].rstrip("/") + "/js.stripe.com/v3/"
    return "https://js.stripe.com/v3/"


def client() -> stripe.StripeClient:
    """One client per app and configuration (its HTTP sessions are per thread)."""
    cfg = current_app.config
    key = (cfg["STRIPE_SECRET_KEY"], cfg.get("STRIPE_API_BASE"))
    cache = current_app.extensions.setdefault("orders_stripe_clients", {})
    if key not in cache:
        bases = {"api": cfg["STRIPE_API_BASE"].rstrip("/")} if cfg.get("STRIPE_API_BASE") else None
        cache[key] = stripe.StripeClient(
            cfg["STRIPE_SECRET_KEY"], base_addresses=bases, max_network_retries=2
        )
    return cache[key]


def _pi_value(pi, name):
    return pi.get(name) if isinstance(pi, dict) else getattr(pi, name, None)


def ensure_intent(payment: Payment) -> tuple[str, str]:
    """The PaymentIntent of a card payment, created on first need: (id, client_secret)."""
    if payment.method != PaymentMethod.CARD.value:
        raise Conflict(_("Thanh toán này không dùng thẻ."))
    if payment.status != PaymentStatus.PENDING.value:
        raise Conflict(_("Thanh toán %(code)s không còn chờ thanh toán.", code=payment.code))
    api = client().v1.payment_intents
    if payment.stripe_payment_intent_id:
        pi = api.retrieve(payment.stripe_payment_intent_id)
        return pi.id, pi.client_secret
    pi = api.create(
        params={
            "amount": payment.amount_vnd,
            "currency": CURRENCY,
            "payment_method_types": ["card"],
            "metadata": {
                "payment_code": payment.code,
                "orders": ",".join(o.code for o in payment.orders)[:500],
            },
        },
        options={"idempotency_key": f"pi:{payment.code}"},
    )
    claimed = db.session.execute(
        update(Payment)
        .where(Payment.id == payment.id, Payment.stripe_payment_intent_id.is_(None))
        .values(stripe_payment_intent_id=pi.id)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.refresh(payment)
    if not claimed and payment.stripe_payment_intent_id != pi.id:
        # Two first visits at once (a stand-in without idempotency keys): keep the stored one.
        try:
            api.cancel(pi.id)
        except stripe.StripeError:
            log.warning("could not cancel duplicate PaymentIntent %s", pi.id)
        pi = api.retrieve(payment.stripe_payment_intent_id)
    return pi.id, pi.client_secret


def confirm_with_method(payment: Payment, payment_method: str) -> dict:
    """Server-side confirmation with a payment method the page created (used where Stripe.js has
    no confirmPayment, e.g. localstripe's stand-in). Returns status and what the page needs."""
    if (
        not payment_method
        or not isinstance(payment_method, str)
        or len(payment_method) > 100
        or not payment_method.startswith(("pm_", "card_", "src_"))
    ):
        raise DomainError(_("Phương thức thanh toán không hợp lệ."))
    pi_id, secret = ensure_intent(payment)
    api = client().v1.payment_intents
    try:
        api.update(pi_id, params={"payment_method": payment_method})
        pi = api.confirm(pi_id)
    except stripe.CardError as exc:
        return {
            "status": "requires_payment_method",
            "error": _("Thẻ bị từ chối: %(m)s", m=exc.user_message or ""),
        }
    except stripe.InvalidRequestError:
        pi = api.retrieve(pi_id)
    return {"status": pi.status, "client_secret": secret}


def sync_intent(payment: Payment) -> str:
    """Ask Stripe how the buyer's payment went (the return page does this; the webhook too)."""
    if not payment.stripe_payment_intent_id:
        return "no_intent"
    pi = client().v1.payment_intents.retrieve(payment.stripe_payment_intent_id)
    if pi.status == "succeeded":
        return apply_succeeded(pi.to_dict(), actor_role="stripe")
    return pi.status


def _payment_for(pi: dict) -> Payment | None:
    payment = db.session.scalar(select(Payment).where(Payment.stripe_payment_intent_id == pi.get("id")))
    if payment is None:
        code = (pi.get("metadata") or {}).get("payment_code")
        if code:
            payment = db.session.scalar(select(Payment).where(Payment.code == code))
            if payment is not None and payment.stripe_payment_intent_id not in (None, pi.get("id")):
                return None
    return payment


def _amount_matches(payment: Payment, obj: dict) -> bool:
    return obj.get("amount") == payment.amount_vnd and str(obj.get("currency", "")).lower() == CURRENCY


def apply_succeeded(pi: dict, *, actor_role: str) -> str:
    payment = _payment_for(pi)
    if payment is None:
        return "unknown_payment"
    if not _amount_matches(payment, pi):
        payment.problem = _(
            "Stripe báo đã thu %(amount)s %(cur)s, khác số tiền của đơn (%(expected)s VND).",
            amount=pi.get("amount"),
            cur=str(pi.get("currency", "")).upper(),
            expected=payment.amount_vnd,
        )
        log.error("PaymentIntent %s amount/currency mismatch for %s", pi.get("id"), payment.code)
        return "amount_mismatch"
    if payment.stripe_payment_intent_id is None:
        payment.stripe_payment_intent_id = pi.get("id")
    if payment.status == PaymentStatus.PENDING.value:
        if payments.mark_paid(
            payment,
            actor=None,
            actor_role=actor_role,
            reference=pi.get("latest_charge") if isinstance(pi.get("latest_charge"), str) else pi.get("id"),
        ):
            return "paid"
    if payment.status == PaymentStatus.PAID.value:
        return "already_paid"
    # Expired or cancelled meanwhile: the stock is gone back to the shelf, so the money goes back.
    schedule_late_refund(payment)
    return "late_refund"


def schedule_late_refund(payment: Payment) -> None:
    key = f"stripe-refund:late:{payment.code}"
    if db.session.scalar(select(OutboxEvent.id).where(OutboxEvent.idempotency_key == key)):
        return  # already asked for (the webhook and the expiry job may both notice)
    outbox.record(
        "payment.stripe_refund",
        {"payment_id": payment.id, "order_id": None, "amount": payment.amount_vnd},
        key=key,
    )
    payment.problem = _("Thanh toán thẻ đến sau khi đơn đã hết hạn hoặc bị hủy: đã tự động hoàn tiền.")
    payment.refunded_vnd = payment.amount_vnd


def apply_failed(pi: dict) -> str:
    payment = _payment_for(pi)
    if payment is None:
        return "unknown_payment"
    # The buyer may try another card until the payment expires; nothing else changes.
    return "noted"


def apply_charge_refunded(charge: dict) -> str:
    payment = db.session.scalar(
        select(Payment).where(Payment.stripe_payment_intent_id == charge.get("payment_intent"))
    )
    if payment is None:
        return "unknown_payment"
    if str(charge.get("currency", "")).lower() != CURRENCY or charge.get("amount") != payment.amount_vnd:
        payment.problem = _("Stripe báo hoàn tiền cho khoản thu khác số tiền của đơn.")
        return "amount_mismatch"
    refunded = int(charge.get("amount_refunded") or 0)
    outcome = "noted"
    if refunded >= payment.amount_vnd:
        # Refunded in full (e.g. from Stripe's dashboard): every order still standing is refunded.
        for order in payment.orders:
            if order.paid and order.status != OrderStatus.REFUNDED.value:
                payments.refund_order(
                    order,
                    actor=None,
                    actor_role="stripe",
                    via_api=False,
                    reference=charge.get("id"),
                    note=_("Hoàn tiền toàn bộ trên Stripe."),
                )
        outcome = "refunded"
    payment.refunded_vnd = max(payment.refunded_vnd, refunded)
    return outcome


def handle_webhook(payload: bytes, signature: str | None) -> tuple[int, str]:
    """Verify, store the event id (UNIQUE) before acting, act. Returns (HTTP status, outcome);
    the view commits."""
    secret = current_app.config.get("STRIPE_WEBHOOK_SECRET")
    if not secret:
        return 400, "webhook secret not configured"
    try:
        text = payload.decode("utf-8")
        stripe.Webhook.construct_event(text, signature, secret)
        event = json.loads(text)
    except (ValueError, UnicodeDecodeError, stripe.SignatureVerificationError) as exc:
        log.warning("rejected Stripe webhook: %s", exc)
        return 400, "bad signature"
    event_id, kind = event.get("id"), event.get("type", "")
    if not event_id:
        return 400, "no event id"
    if db.session.scalar(select(StripeEvent.id).where(StripeEvent.event_id == event_id)):
        return 200, "duplicate"
    row = StripeEvent(event_id=event_id, type=kind[:80])
    db.session.add(row)
    try:
        db.session.flush()  # the first write of the transaction: losing the race loses nothing else
    except IntegrityError:
        db.session.rollback()
        return 200, "duplicate"
    obj = (event.get("data") or {}).get("object") or {}
    if kind == "payment_intent.succeeded":
        outcome = apply_succeeded(obj, actor_role="stripe")
    elif kind == "payment_intent.payment_failed":
        outcome = apply_failed(obj)
    elif kind == "charge.refunded":
        outcome = apply_charge_refunded(obj)
    else:
        outcome = "ignored"
    payment = _payment_for(obj) if kind.startswith("payment_intent.") else None
    row.payment_id = payment.id if payment is not None else None
    row.outcome = outcome
    db.session.flush()
    return 200, outcome


# --- outbox handlers --------------------------------------------------------------------------


def refund_handler(payload: dict, event) -> None:
    """`payment.stripe_refund`: refund an order's amount (or a late payment in full) at Stripe."""
    payment = db.session.get(Payment, payload["payment_id"])
    if payment is None or not payment.stripe_payment_intent_id:
        raise outbox.PermanentFailure(f"payment {payload['payment_id']} has no PaymentIntent")
    refund = client().v1.refunds.create(
        params={
            "payment_intent": payment.stripe_payment_intent_id,
            "amount": int(payload["amount"]),
            "metadata": {"payment_code": payment.code, "order_id": str(payload.get("order_id") or "")},
        },
        options={"idempotency_key": event.idempotency_key},
    )
    if payload.get("order_id"):
        order = db.session.get(Order, payload["order_id"])
        if order is not None:
            order.refund_reference = refund.id
    # No commit here: the outbox commits these changes together with marking the event done.


def cancel_handler(payload: dict, event) -> None:
    """`payment.stripe_cancel`: an unpaid card checkout closed; stop its PaymentIntent. If the buyer
    had in fact paid, treat it as a late success (which refunds)."""
    payment = db.session.get(Payment, payload["payment_id"])
    if payment is None or not payment.stripe_payment_intent_id:
        return
    api = client().v1.payment_intents
    pi = api.retrieve(payment.stripe_payment_intent_id)
    if pi.status == "succeeded":
        apply_succeeded(pi.to_dict(), actor_role="stripe")
        return
    if pi.status in (
        "requires_payment_method",
        "requires_confirmation",
        "requires_action",
        "requires_capture",
    ):
        api.cancel(pi.id, options={"idempotency_key": f"pi-cancel:{payment.code}"})
