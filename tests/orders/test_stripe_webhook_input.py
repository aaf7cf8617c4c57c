"""The Stripe webhook with bodies Stripe signed but that are not what we expect (issue 9, findings 12
and 14): nothing is looked up by a missing or odd id, odd bodies are acknowledged and ignored, and
a signature from the future is refused like a stale one. Signed with the stripe library's helper."""

from __future__ import annotations

import json
import time
import uuid

import pytest
import stripe
from orders_testlib import WEBHOOK_SECRET, payment_code, place_cod_order
from sqlalchemy import func, select

from marketplace.extensions import db
from orders.models import LedgerEntry, Order, Payment, StripeEvent

WEBHOOK = "/payments/stripe/webhook"


@pytest.fixture
def webhook_app(app):
    app.config["STRIPE_WEBHOOK_SECRET"] = WEBHOOK_SECRET
    return app


def _post(client, body: str, *, timestamp: int | None = None):
    signature = stripe.WebhookSignature.generate_signature_header(body, WEBHOOK_SECRET, timestamp=timestamp)
    return client.post(
        WEBHOOK, data=body, headers={"Stripe-Signature": signature, "Content-Type": "application/json"}
    )


def _event(kind: str, obj, **overrides) -> str:
    event = {
        "id": f"evt_{uuid.uuid4().hex[:14]}",
        "object": "event",
        "type": kind,
        "created": int(time.time()),
        "data": {"object": obj},
    }
    event.update(overrides)
    return json.dumps(event)


def _events() -> int:
    return db.session.scalar(select(func.count()).select_from(StripeEvent))


def _fresh_order(order_id: int) -> Order:
    db.session.expire_all()
    return db.session.get(Order, order_id)


@pytest.mark.parametrize(
    "intent", [None, "", 12345, {"id": "pi_x"}, ["pi_x"], "pi_x' OR 1=1 --", "ch_notanintent"]
)
def test_charge_refunded_without_a_well_formed_intent_refunds_nothing(
    webhook_app, client, factory, shopper, intent
):
    listing = factory.listing(stock=5, price=100_000)
    order = place_cod_order(shopper, listing)
    order.paid = True  # a delivered COD order: paid, and no PaymentIntent (NULL)
    db.session.commit()
    charge = {
        "id": "ch_cod",
        "object": "charge",
        "payment_intent": intent,
        "amount": order.payment.amount_vnd,
        "amount_refunded": order.payment.amount_vnd,
        "currency": "vnd",
        "refunded": True,
    }
    response = _post(client, _event("charge.refunded", charge))
    assert response.status_code == 200 and response.get_json()["outcome"] == "ignored"
    order = _fresh_order(order.id)
    assert order.status == "placed" and order.paid
    assert order.payment.refunded_vnd == 0 and order.payment.problem is None
    assert db.session.scalar(select(LedgerEntry)) is None
    assert db.session.scalar(select(StripeEvent.outcome)) == "ignored"


def test_charge_refunded_with_an_odd_amount_refunded_is_ignored(webhook_app, client, factory, shopper):
    listing = factory.listing(stock=5, price=100_000)
    order = place_cod_order(shopper, listing)
    payment = order.payment
    payment.method, payment.stripe_payment_intent_id = "card", "pi_known"
    db.session.commit()
    charge = {
        "id": "ch_1",
        "payment_intent": "pi_known",
        "amount": payment.amount_vnd,
        "amount_refunded": "all of it",
        "currency": "vnd",
    }
    response = _post(client, _event("charge.refunded", charge))
    assert response.status_code == 200 and response.get_json()["outcome"] == "ignored"
    assert _fresh_order(order.id).status == "placed"


@pytest.mark.parametrize("intent_id", [None, "", 7, "pi_x\x00"])
def test_intent_success_without_a_well_formed_id_pays_nothing(
    webhook_app, client, factory, shopper, intent_id
):
    listing = factory.listing(stock=5, price=100_000)
    assert shopper.add(listing, 1).status_code == 302
    code = payment_code(shopper.checkout("bank_transfer"))  # pending, no PaymentIntent (NULL)
    payment = db.session.scalar(select(Payment).where(Payment.code == code))
    intent = {"id": intent_id, "amount": payment.amount_vnd, "currency": "vnd", "status": "succeeded"}
    for metadata in ({}, {"payment_code": code}):
        response = _post(client, _event("payment_intent.succeeded", {**intent, "metadata": metadata}))
        assert response.status_code == 200 and response.get_json()["outcome"] == "unknown_payment"
    db.session.expire_all()
    assert db.session.get(Payment, payment.id).status == "pending"
    assert db.session.scalar(select(LedgerEntry)) is None


@pytest.mark.parametrize(
    "body",
    [
        "[]",
        json.dumps([{"id": "evt_1", "type": "charge.refunded"}]),
        '"evt_1"',
        "42",
        "null",
        "not json at all",
        "[" * 100_000,
        json.dumps({"id": 123, "type": "charge.refunded", "data": {"object": {}}}),
        json.dumps({"id": {"x": 1}, "type": "charge.refunded", "data": {"object": {}}}),
        json.dumps({"id": ["evt_1"], "type": "charge.refunded", "data": {"object": {}}}),
        json.dumps({"id": "evt_" + "a" * 500, "type": "charge.refunded", "data": {"object": {}}}),
        json.dumps({"type": "charge.refunded", "data": {"object": {}}}),
        json.dumps({"id": "evt_ok1", "type": 7, "data": {"object": {}}}),
        json.dumps({"id": "evt_ok2", "type": ["charge.refunded"], "data": {"object": {}}}),
        json.dumps({"id": "evt_ok3", "type": None, "data": {"object": {}}}),
    ],
)
def test_signed_bodies_that_are_not_events_are_acknowledged_and_ignored(webhook_app, client, body, caplog):
    response = _post(client, body)
    assert response.status_code == 200
    assert response.get_json() == {"received": True, "outcome": "ignored"}
    assert _events() == 0
    assert any("ignored signed Stripe webhook" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("data", [[], "x", None, {"object": []}, {"object": "pi_1"}, {"object": None}])
def test_events_with_an_odd_data_object_are_recorded_and_touch_nothing(webhook_app, client, data):
    body = json.dumps(
        {"id": f"evt_{uuid.uuid4().hex[:10]}", "type": "payment_intent.succeeded", "data": data}
    )
    response = _post(client, body)
    assert response.status_code == 200 and response.get_json()["outcome"] == "unknown_payment"
    assert _events() == 1


@pytest.mark.parametrize(
    "ahead, status", [(10, 200), (299, 200), (301, 400), (3600, 400), (365 * 86400, 400)]
)
def test_signatures_from_the_future_are_refused_beyond_the_tolerance(webhook_app, client, ahead, status):
    body = _event("customer.created", {"id": "cus_1"})
    response = _post(client, body, timestamp=int(time.time()) + ahead)
    assert response.status_code == status
    assert _events() == (1 if status == 200 else 0)


def test_stale_signatures_are_still_refused(webhook_app, client):
    response = _post(client, _event("customer.created", {"id": "cus_1"}), timestamp=int(time.time()) - 301)
    assert response.status_code == 400 and _events() == 0
