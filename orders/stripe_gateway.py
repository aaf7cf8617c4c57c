"""Card payments through Stripe PaymentIntents, and Stripe's webhooks.

The `stripe` library talks to STRIPE_API_BASE when set (localstripe in tests), else to Stripe.
VND is a zero-decimal currency: amount 150000 means 150.000 ₫, the same integer we store.
Every POST carries our own idempotency key derived from the payment or the order, so a retry
(by the library, the worker or the buyer's second click) never charges or refunds twice."""

from __future__ import annotations

import json
import logging
import re
import time

import stripe
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from stripe._base_address import BaseAddresses

from marketplace import outbox
from marketplace.errors import Conflict, DomainError
from marketplace.extensions import db, rows_matched
from marketplace.models import OutboxEvent
from marketplace.security_headers import origin

from . import payments
from .models import Order, OrderStatus, Payment, PaymentMethod, PaymentStatus, StripeEvent

log = logging.getLogger(__name__)
CURRENCY = "vnd"  # zero-decimal: amounts are whole đồng
# The intent names its payment method (card) explicitly: localstripe needs it, and the floor
# offers cards only through Stripe. stripe-python's types for this API version leave the key out.
WEBHOOK_TOLERANCE_S = 300  # Stripe's own default, applied both ways (a signature from the future too)
# Stripe ids are a prefix and letters/digits; anything else in an id field is not looked up.
_EVENT_ID = re.compile(r"evt_[A-Za-z0-9_]{1,76}")
_INTENT_ID = re.compile(r"pi_[A-Za-z0-9_]{1,77}")
_PAYMENT_CODE = re.compile(r"DH[0-9A-Z]{8}")


def _well_formed(value: object, pattern: re.Pattern[str]) -> str | None:
    """`value` when it is a string of the expected form, else None (never a database NULL)."""
    return value if isinstance(value, str) and pattern.fullmatch(value) else None


def _whole(value: object) -> int | None:
    """An integer amount as JSON carries it; a float, a string or a boolean is not one."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


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


STRIPE_JS_ORIGIN = "https://js.stripe.com"


def csp_sources() -> dict[str, list[str]]:
    """What the card page's Content-Security-Policy must allow for Stripe.js, and nothing more:
    Stripe's own (its published CSP guide: scripts and frames from js.stripe.com, 3-D Secure frames
    from hooks.stripe.com, calls to api.stripe.com), or the one origin of a stand-in such as
    localstripe (STRIPE_API_BASE / STRIPE_JS_URL), which serves its script and answers its calls."""
    js = origin(js_url())
    base = current_app.config.get("STRIPE_API_BASE")
    api = origin(base) if base else "https://api.stripe.com"
    if js == STRIPE_JS_ORIGIN:
        return {
            "script-src": [js, "https://*.js.stripe.com"],
            "frame-src": [js, "https://*.js.stripe.com", "https://hooks.stripe.com"],
            "connect-src": [api],
        }
    return {"script-src": [js], "connect-src": list(dict.fromkeys([js, api]))}


def client() -> stripe.StripeClient:
    """One client per app and configuration (its HTTP sessions are per thread)."""
    cfg = current_app.config
    key = (cfg["STRIPE_SECRET_KEY"], cfg.get("STRIPE_API_BASE"))
    cache = current_app.extensions.setdefault("orders_stripe_clients", {})
    if key not in cache:
        bases: BaseAddresses | None = (
            {"api": cfg["STRIPE_API_BASE"].rstrip("/")} if cfg.get("STRIPE_API_BASE") else None
        )
        cache[key] = stripe.StripeClient(
            cfg["STRIPE_SECRET_KEY"], base_addresses=bases, max_network_retries=2
        )
    return cache[key]


def ensure_intent(payment: Payment) -> tuple[str, str]:
    """The PaymentIntent of a card payment, created on first need: (id, client_secret)."""
    if payment.method != PaymentMethod.CARD.value:
        raise Conflict(_("Thanh toán này không dùng thẻ."))
    if payment.status != PaymentStatus.PENDING.value:
        raise Conflict(_("Thanh toán %(code)s không còn chờ thanh toán.", code=payment.code))
    api = client().v1.payment_intents
    if payment.stripe_payment_intent_id:
        pi = api.retrieve(payment.stripe_payment_intent_id)
        return pi.id, _client_secret(pi)
    pi = api.create(
        params={  # type: ignore[typeddict-unknown-key]  # payment_method_types: see above
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
    claimed = rows_matched(
        db.session.execute(
            update(Payment)
            .where(Payment.id == payment.id, Payment.stripe_payment_intent_id.is_(None))
            .values(stripe_payment_intent_id=pi.id)
            .execution_options(synchronize_session=False)
        )
    )
    db.session.refresh(payment)
    if not claimed and payment.stripe_payment_intent_id != pi.id:
        # Two first visits at once (a stand-in without idempotency keys): keep the stored one.
        try:
            api.cancel(pi.id)
        except stripe.StripeError:
            log.warning("could not cancel duplicate PaymentIntent %s", pi.id)
        pi = api.retrieve(payment.stripe_payment_intent_id or pi.id)
    return pi.id, _client_secret(pi)


def _client_secret(pi: stripe.PaymentIntent) -> str:
    if not pi.client_secret:  # Stripe always sends it to the secret key that made the intent
        raise RuntimeError(f"PaymentIntent {pi.id} came without a client secret")
    return pi.client_secret


def confirm_with_method(payment: Payment, payment_method: object) -> dict:
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
    """The payment of a PaymentIntent, looked up only by a well-formed id (and payment code): a
    missing or odd id must never become `IS NULL` and match a payment that has no intent."""
    intent_id = _well_formed(pi.get("id"), _INTENT_ID)
    if intent_id is None:
        return None
    payment = db.session.scalar(select(Payment).where(Payment.stripe_payment_intent_id == intent_id))
    if payment is None:
        metadata = pi.get("metadata")
        code = (
            _well_formed(metadata.get("payment_code"), _PAYMENT_CODE) if isinstance(metadata, dict) else None
        )
        if code:
            payment = db.session.scalar(select(Payment).where(Payment.code == code))
            if payment is not None and payment.stripe_payment_intent_id not in (None, intent_id):
                return None
    if payment is not None and payment.method != PaymentMethod.CARD.value:
        return None  # only card payments are Stripe's to change
    return payment


def _amount_matches(payment: Payment, obj: dict) -> bool:
    return (
        _whole(obj.get("amount")) == payment.amount_vnd and str(obj.get("currency", "")).lower() == CURRENCY
    )


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
    if payment.status == PaymentStatus.PENDING.value and payments.mark_paid(
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
    intent_id = _well_formed(charge.get("payment_intent"), _INTENT_ID)
    if intent_id is None:
        # A charge without a PaymentIntent is not one of ours (and `== None` would match COD).
        log.warning("charge.refunded %r without a well-formed payment_intent: ignored", charge.get("id"))
        return "ignored"
    payment = db.session.scalar(select(Payment).where(Payment.stripe_payment_intent_id == intent_id))
    if payment is None or payment.method != PaymentMethod.CARD.value:
        return "unknown_payment"
    if not _amount_matches(payment, charge):
        payment.problem = _("Stripe báo hoàn tiền cho khoản thu khác số tiền của đơn.")
        return "amount_mismatch"
    refunded = _whole(charge.get("amount_refunded"))
    if refunded is None or refunded < 0:
        log.warning("charge.refunded %r with amount_refunded %r: ignored", charge.get("id"), refunded)
        return "ignored"
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
                    reference=charge.get("id") if isinstance(charge.get("id"), str) else None,
                    note=_("Hoàn tiền toàn bộ trên Stripe."),
                )
        outcome = "refunded"
    payment.refunded_vnd = max(payment.refunded_vnd, refunded)
    return outcome


def _signed_at(header: str) -> int | None:
    """The `t=` of a Stripe-Signature header (the first one, as the stripe library reads it)."""
    for item in header.split(","):
        key, _sep, value = item.partition("=")
        if key == "t":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def verify_webhook(payload: bytes, signature: str | None, secret: str) -> str:
    """The body as text when Stripe signed it within the tolerance, either way; raises
    stripe.SignatureVerificationError (or UnicodeDecodeError) otherwise."""
    text = payload.decode("utf-8")
    # The library checks the HMAC and refuses signatures older than the tolerance...
    stripe.WebhookSignature.verify_header(text, signature, secret, WEBHOOK_TOLERANCE_S)
    # ...but not ones from the future: a clock far ahead (or a signature made to be replayed
    # later) is refused as well.
    signed_at = _signed_at(signature or "")
    if signed_at is None or signed_at > time.time() + WEBHOOK_TOLERANCE_S:
        raise stripe.SignatureVerificationError(
            f"Timestamp outside the tolerance zone ({signed_at})", signature, text
        )
    return text


def _event_envelope(text: str) -> tuple[str, str, dict] | str:
    """(event id, type, data.object) of a well-formed event, else the reason it is not one."""
    try:
        event = json.loads(text)
    except (ValueError, RecursionError):
        return "body is not JSON"
    if not isinstance(event, dict):
        return f"body is a JSON {type(event).__name__}, not an object"
    event_id, kind = _well_formed(event.get("id"), _EVENT_ID), event.get("type")
    if event_id is None:
        return f"event id {event.get('id')!r:.100} is not an evt_ id"
    if not isinstance(kind, str) or not kind or len(kind) > 80:
        return f"event type {kind!r:.100} is not a short string"
    data = event.get("data")
    obj = data.get("object") if isinstance(data, dict) else None
    return event_id, kind, obj if isinstance(obj, dict) else {}


def handle_webhook(payload: bytes, signature: str | None) -> tuple[int, str]:
    """Verify, store the event id (UNIQUE) before acting, act. Returns (HTTP status, outcome);
    the view commits. A signed body that is not a well-formed event is acknowledged (Stripe
    would only retry it) and ignored with a log line; nothing is looked up from it."""
    secret = current_app.config.get("STRIPE_WEBHOOK_SECRET")
    if not secret:
        return 400, "webhook secret not configured"
    try:
        text = verify_webhook(payload, signature, secret)
    except (UnicodeDecodeError, stripe.SignatureVerificationError) as exc:
        log.warning("rejected Stripe webhook: %s", exc)
        return 400, "bad signature"
    envelope = _event_envelope(text)
    if isinstance(envelope, str):
        log.warning("ignored signed Stripe webhook: %s", envelope)
        return 200, "ignored"
    event_id, kind, obj = envelope
    if db.session.scalar(select(StripeEvent.id).where(StripeEvent.event_id == event_id)):
        return 200, "duplicate"
    row = StripeEvent(event_id=event_id, type=kind)
    db.session.add(row)
    try:
        db.session.flush()  # the first write of the transaction: losing the race loses nothing else
    except IntegrityError:
        db.session.rollback()
        return 200, "duplicate"
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
