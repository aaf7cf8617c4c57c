"""POST /payments/stripe/webhook: Stripe tells us what happened to a payment.

CSRF-exempt (Stripe signs instead); the raw body is verified before anything is parsed."""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from marketplace.extensions import csrf, db

from . import stripe_gateway

bp = Blueprint("payments", __name__, url_prefix="/payments")


@bp.post("/stripe/webhook")
@csrf.exempt
def stripe_webhook():
    status, outcome = stripe_gateway.handle_webhook(
        request.get_data(cache=False), request.headers.get("Stripe-Signature")
    )
    if status == 200:
        db.session.commit()
    else:
        db.session.rollback()
    return jsonify({"received": status == 200, "outcome": outcome}), status
