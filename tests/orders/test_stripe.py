"""Card payments with the real `stripe` library against localstripe, and the webhook: signature,
replays, stale timestamps, amount checks, refunds, and a success that arrives after expiry."""

import json
import time
import uuid
from datetime import timedelta

import pytest
import requests
import stripe
from orders_testlib import WEBHOOK_SECRET, drain, payment_code, register_webhook, wait_until
from sqlalchemy import func, select

from catalog.models import Listing
from marketplace.extensions import db
from marketplace.models import OutboxEvent
from marketplace.timeutil import utcnow
from orders import stripe_gateway
from orders.models import LedgerEntry, Order, Payment, StripeEvent
from tests.support import sign_in

WEBHOOK = "/payments/stripe/webhook"


def _payment(code):
    db.session.expire_all()
    return db.session.scalar(select(Payment).where(Payment.code == code))


def _card_checkout(client, shopper, factory, price=150_000, quantity=1, listing=None):
    listing = listing or factory.listing(stock=5, price=price)
    assert shopper.add(listing, quantity).status_code == 302
    code = payment_code(shopper.checkout("card"))
    page = client.get(f"/thanh-toan/{code}")
    assert page.status_code == 200
    return code, listing, page.get_data(as_text=True)


def _api(app):
    with app.app_context():
        return stripe_gateway.client()


def _pay_directly(app, payment, payment_method="pm_card_visa"):
    """What the buyer's browser does through Stripe.js, done with the library: attach and confirm."""
    api = _api(app).v1.payment_intents
    api.update(payment.stripe_payment_intent_id, params={"payment_method": payment_method})
    return api.confirm(payment.stripe_payment_intent_id)


def _event(kind, obj, event_id=None):
    return {
        "id": event_id or f"evt_{uuid.uuid4().hex[:14]}",
        "object": "event",
        "type": kind,
        "created": int(time.time()),
        "data": {"object": obj},
    }


def _post(client, event, *, secret=WEBHOOK_SECRET, timestamp=None, header=None):
    body = json.dumps(event)
    signature = header or stripe.WebhookSignature.generate_signature_header(body, secret, timestamp=timestamp)
    return client.post(
        WEBHOOK, data=body, headers={"Stripe-Signature": signature, "Content-Type": "application/json"}
    )


def _intent(payment, **changes):
    data = {
        "id": payment.stripe_payment_intent_id,
        "object": "payment_intent",
        "amount": payment.amount_vnd,
        "currency": "vnd",
        "status": "succeeded",
        "latest_charge": "ch_test",
        "metadata": {"payment_code": payment.code},
    }
    data.update(changes)
    return data


# --- the card page and server-side confirmation -------------------------------------------------


def test_card_page_creates_one_intent_with_our_idempotency_key(
    stripe_app, client, factory, shopper, monkeypatch
):
    from stripe._payment_intent_service import PaymentIntentService

    seen = []
    real_create = PaymentIntentService.create

    def spy(self, params, options=None):
        seen.append((params, options))
        return real_create(self, params, options)

    monkeypatch.setattr(PaymentIntentService, "create", spy)
    code, _listing, html = _card_checkout(client, shopper, factory)
    payment = _payment(code)
    base = stripe_app.config["STRIPE_API_BASE"]
    assert f'src="{base}/js.stripe.com/v3/"' in html and "pk_test_orders" in html
    assert payment.stripe_payment_intent_id and f"{payment.stripe_payment_intent_id}_secret_" in html
    assert len(seen) == 1
    params, options = seen[0]
    assert options == {"idempotency_key": f"pi:{code}"}
    assert (
        params["amount"] == payment.amount_vnd == 175_000 and params["currency"] == "vnd"
    )  # zero-decimal VND
    pi = _api(stripe_app).v1.payment_intents.retrieve(payment.stripe_payment_intent_id)
    assert pi.amount == 175_000 and pi.currency == "vnd" and pi.metadata["payment_code"] == code
    client.get(f"/thanh-toan/{code}")  # a reload reuses the intent
    assert len(seen) == 1 and _payment(code).stripe_payment_intent_id == payment.stripe_payment_intent_id
    assert payment.expires_at - payment.created_at == timedelta(
        minutes=stripe_app.config["ORDER_PAYMENT_TIMEOUT_MIN"]
    )


def test_server_confirmation_with_a_good_card_marks_paid(stripe_app, client, factory, shopper):
    code, _listing, _html = _card_checkout(client, shopper, factory)
    response = client.post(f"/thanh-toan/{code}/the", json={"payment_method": "pm_card_visa"})
    assert response.status_code == 200 and response.get_json()["status"] == "succeeded"
    payment = _payment(code)
    assert payment.status == "paid"
    assert all(o.status == "placed" and o.paid for o in payment.orders)
    assert payment.orders[0].events[-1].actor_role == "stripe"
    assert db.session.scalar(select(LedgerEntry)).amount_vnd == payment.amount_vnd


def test_declined_card_leaves_the_checkout_waiting(stripe_app, client, factory, shopper):
    code, _listing, _html = _card_checkout(client, shopper, factory)
    response = client.post(f"/thanh-toan/{code}/the", json={"payment_method": "pm_card_chargeCustomerFail"})
    body = response.get_json()
    assert body.get("error") and "từ chối" in body["error"]
    assert _payment(code).status == "pending"
    assert (
        client.post(f"/thanh-toan/{code}/the", json={"payment_method": "javascript:alert(1)"}).status_code
        == 400
    )


def test_return_page_asks_stripe(stripe_app, client, factory, shopper):
    code, _listing, _html = _card_checkout(client, shopper, factory)
    assert _pay_directly(stripe_app, _payment(code)).status == "succeeded"
    html = client.get(f"/thanh-toan/{code}/ket-qua", follow_redirects=True).get_data(as_text=True)
    assert "Thanh toán thành công" in html
    assert _payment(code).status == "paid"


# --- the webhook, signed by us ------------------------------------------------------------------


def test_webhook_success_then_replay_does_nothing(stripe_app, client, factory, shopper):
    code, _listing, _html = _card_checkout(client, shopper, factory)
    payment = _payment(code)
    event = _event("payment_intent.succeeded", _intent(payment))
    response = _post(client, event)
    assert response.status_code == 200 and response.get_json()["outcome"] == "paid"
    assert _payment(code).status == "paid"
    events_before = db.session.scalar(select(func.count()).select_from(OutboxEvent))
    replay = _post(client, event)
    assert replay.status_code == 200 and replay.get_json()["outcome"] == "duplicate"
    assert db.session.scalar(select(func.count()).select_from(StripeEvent)) == 1
    assert db.session.scalar(select(func.count()).select_from(LedgerEntry)) == 1
    assert db.session.scalar(select(func.count()).select_from(OutboxEvent)) == events_before
    # The same news under a new event id is acknowledged without paying twice.
    again = _post(client, _event("payment_intent.succeeded", _intent(payment)))
    assert again.get_json()["outcome"] == "already_paid"
    assert db.session.scalar(select(func.count()).select_from(LedgerEntry)) == 1


@pytest.mark.parametrize("how", ["wrong_secret", "stale", "garbage_header", "missing_header", "tampered"])
def test_webhook_rejects_bad_signatures_and_changes_nothing(stripe_app, client, factory, shopper, how):
    code, _listing, _html = _card_checkout(client, shopper, factory)
    event = _event("payment_intent.succeeded", _intent(_payment(code)))
    body = json.dumps(event)
    if how == "wrong_secret":
        response = _post(client, event, secret="whsec_someone_else")
    elif how == "stale":
        response = _post(client, event, timestamp=int(time.time()) - 3600)
    elif how == "garbage_header":
        response = _post(client, event, header="t=abc,v1=def")
    elif how == "missing_header":
        response = client.post(WEBHOOK, data=body, headers={"Content-Type": "application/json"})
    else:
        signature = stripe.WebhookSignature.generate_signature_header(body, WEBHOOK_SECRET)
        response = client.post(
            WEBHOOK,
            data=body.replace(str(event["data"]["object"]["amount"]), "1"),
            headers={"Stripe-Signature": signature},
        )
    assert response.status_code == 400
    assert _payment(code).status == "pending"
    assert db.session.scalar(select(func.count()).select_from(StripeEvent)) == 0


@pytest.mark.parametrize("changes", [{"amount": 1_000}, {"currency": "usd"}])
def test_webhook_amount_or_currency_mismatch_is_not_paid(stripe_app, client, factory, shopper, changes):
    code, _listing, _html = _card_checkout(client, shopper, factory)
    response = _post(client, _event("payment_intent.succeeded", _intent(_payment(code), **changes)))
    assert response.status_code == 200 and response.get_json()["outcome"] == "amount_mismatch"
    payment = _payment(code)
    assert payment.status == "pending" and "khác số tiền" in payment.problem
    assert db.session.scalar(select(StripeEvent)).outcome == "amount_mismatch"
    assert db.session.scalar(select(LedgerEntry)) is None


def test_webhook_for_an_unknown_intent_is_acknowledged(stripe_app, client):
    response = _post(
        client,
        _event(
            "payment_intent.succeeded", {"id": "pi_unknown", "amount": 1, "currency": "vnd", "metadata": {}}
        ),
    )
    assert response.status_code == 200 and response.get_json()["outcome"] == "unknown_payment"
    assert _post(client, _event("customer.created", {"id": "cus_1"})).get_json()["outcome"] == "ignored"


def test_success_after_expiry_is_refunded_automatically(stripe_app, client, factory, shopper):
    code, listing, _html = _card_checkout(client, shopper, factory)
    payment = _payment(code)
    # The buyer pays at Stripe, but our deadline passes before the news arrives.
    assert _pay_directly(stripe_app, payment).status == "succeeded"
    payment.expires_at = utcnow() - timedelta(seconds=1)
    expiry = db.session.scalar(select(OutboxEvent).where(OutboxEvent.topic == "order.expire"))
    expiry.next_attempt_at = utcnow()
    db.session.commit()
    from orders.payments import expire_payment

    assert expire_payment(payment.id) is True
    db.session.commit()
    expiry.status = "done"
    db.session.commit()
    assert _payment(code).status == "expired" and db.session.get(Listing, listing.id).stock == 5

    response = _post(client, _event("payment_intent.succeeded", _intent(_payment(code))))
    assert response.get_json()["outcome"] == "late_refund"
    refund_event = db.session.scalar(select(OutboxEvent).where(OutboxEvent.topic == "payment.stripe_refund"))
    assert refund_event.payload["amount"] == payment.amount_vnd
    drain()
    assert db.session.get(OutboxEvent, refund_event.id).status == "done"
    refunds = _api(stripe_app).v1.refunds.list(params={"payment_intent": payment.stripe_payment_intent_id})
    assert [r.amount for r in refunds.data] == [payment.amount_vnd]
    assert "hoàn tiền" in _payment(code).problem
    assert all(o.status == "cancelled" for o in _payment(code).orders)


def test_charge_refunded_in_full_refunds_the_orders(stripe_app, client, factory, shopper):
    code, _listing, _html = _card_checkout(client, shopper, factory)
    payment = _payment(code)
    _post(client, _event("payment_intent.succeeded", _intent(payment)))
    charge = {
        "id": "ch_test",
        "object": "charge",
        "payment_intent": payment.stripe_payment_intent_id,
        "amount": payment.amount_vnd,
        "amount_refunded": payment.amount_vnd,
        "currency": "vnd",
        "refunded": True,
    }
    response = _post(client, _event("charge.refunded", charge))
    assert response.get_json()["outcome"] == "refunded"
    payment = _payment(code)
    assert payment.refunded_vnd == payment.amount_vnd
    assert all(o.status == "refunded" for o in payment.orders)
    kinds = sorted(e.kind for e in db.session.scalars(select(LedgerEntry)))
    assert kinds == ["collected", "refunded"]
    # Stripe already refunded: no second refund is asked for.
    assert db.session.scalar(select(OutboxEvent).where(OutboxEvent.topic == "payment.stripe_refund")) is None


# --- refunds and cancellation through the API ---------------------------------------------------


def test_operator_refund_goes_through_stripe_once(stripe_app, client, factory, shopper):
    code, listing, _html = _card_checkout(client, shopper, factory, price=200_000)
    client.post(f"/thanh-toan/{code}/the", json={"payment_method": "pm_card_visa"})
    order = _payment(code).orders[0]
    operator = sign_in(stripe_app.test_client(), factory.operator())
    operator.post(f"/quan-tri/don-hang/{order.code}/hoan-tien", data={"note": "Khách đổi ý"})
    db.session.expire_all()
    order = db.session.get(Order, order.id)
    assert order.status == "refunded"
    drain()
    drain()
    order = db.session.get(Order, order.id)
    assert order.refund_reference and order.refund_reference.startswith("re_")
    refunds = _api(stripe_app).v1.refunds.list(
        params={"payment_intent": order.payment.stripe_payment_intent_id}
    )
    assert [r.amount for r in refunds.data] == [order.total_vnd]
    assert sorted(e.amount_vnd for e in db.session.scalars(select(LedgerEntry))) == [
        -order.total_vnd,
        order.total_vnd,
    ]
    assert db.session.get(Listing, listing.id).stock == 5


def test_shop_cancelling_a_paid_card_order_refunds_it(stripe_app, client, factory, shopper):
    from sellers.models import ShopMember

    code, _listing, _html = _card_checkout(client, shopper, factory)
    client.post(f"/thanh-toan/{code}/the", json={"payment_method": "pm_card_visa"})
    order = _payment(code).orders[0]
    owner = db.session.scalar(select(ShopMember).where(ShopMember.shop_id == order.shop_id)).user
    sign_in(stripe_app.test_client(), owner).post(
        f"/kenh-ban/{order.shop.slug}/don-hang/{order.code}/reject", data={"reason": "Hết hàng thật"}
    )
    db.session.expire_all()
    order = db.session.get(Order, order.id)
    assert [e.to_status for e in order.events][-2:] == ["cancelled", "refunded"]
    drain()
    refunds = _api(stripe_app).v1.refunds.list(
        params={"payment_intent": order.payment.stripe_payment_intent_id}
    )
    assert [r.amount for r in refunds.data] == [order.total_vnd]


def test_expired_card_checkout_cancels_its_intent(stripe_app, client, factory, shopper):
    code, listing, _html = _card_checkout(client, shopper, factory)
    payment = _payment(code)
    payment.expires_at = utcnow() - timedelta(seconds=1)
    db.session.scalar(
        select(OutboxEvent).where(OutboxEvent.topic == "order.expire")
    ).next_attempt_at = utcnow()
    db.session.commit()
    drain()
    drain()
    assert _payment(code).status == "expired"
    assert _api(stripe_app).v1.payment_intents.retrieve(payment.stripe_payment_intent_id).status == "canceled"
    assert db.session.get(Listing, listing.id).stock == 5


# --- webhooks delivered by localstripe itself ---------------------------------------------------


def test_localstripe_delivers_signed_webhooks(stripe_app, live_app, localstripe_server, factory, csrf_off):
    from orders_testlib import Shopper

    register_webhook(localstripe_server["api_base"], live_app.url + WEBHOOK)
    browser = requests.Session()
    listing = factory.listing(stock=5, price=90_000)

    class LiveClient:
        """Shopper's interface over real HTTP to the live server."""

        def get(self, path):
            return _Wrapped(browser.get(live_app.url + path, allow_redirects=False))

        def post(self, path, data=None, json=None):
            return _Wrapped(browser.post(live_app.url + path, data=data, json=json, allow_redirects=False))

    shopper = Shopper(LiveClient(), factory.commune().id)
    shopper.add(listing, 1)
    response = shopper.checkout("card")
    code = response.headers["Location"].rsplit("/", 1)[1]
    assert browser.get(f"{live_app.url}/thanh-toan/{code}").status_code == 200
    good = _payment(code)
    assert _pay_directly(stripe_app, good).status == "succeeded"  # only the webhook can tell us
    wait_until(lambda: _payment(code).status == "paid")
    # (Events of earlier tests' intents may reach this server too: they are acknowledged as unknown.)
    stored = db.session.scalar(
        select(StripeEvent).where(
            StripeEvent.type == "payment_intent.succeeded", StripeEvent.payment_id == good.id
        )
    )
    assert stored.outcome == "paid" and stored.event_id.startswith("evt_")

    shopper.add(listing, 1)
    declined = shopper.checkout("card").headers["Location"].rsplit("/", 1)[1]
    browser.get(f"{live_app.url}/thanh-toan/{declined}")
    with pytest.raises(stripe.CardError):
        _pay_directly(stripe_app, _payment(declined), "pm_card_chargeCustomerFail")
    failed = wait_until(
        lambda: db.session.scalar(
            select(StripeEvent).where(
                StripeEvent.type == "payment_intent.payment_failed",
                StripeEvent.payment_id == _payment(declined).id,
            )
        )
    )
    assert failed.outcome == "noted" and _payment(declined).status == "pending"
    register_webhook(localstripe_server["api_base"], "http://127.0.0.1:9/")  # stop sending to this server


class _Wrapped:
    """requests.Response looking like a Flask test response for the Shopper helper."""

    def __init__(self, response):
        self.response = response
        self.status_code = response.status_code
        self.headers = response.headers

    def get_data(self, as_text=False):
        return self.response.text if as_text else self.response.content


def test_webhook_needs_no_csrf_token_but_forms_do(stripe_app, factory):
    """The webhook is exempt from CSRF (Stripe signs instead); the app's forms are not."""
    stripe_app.config["WTF_CSRF_ENABLED"] = True
    client = stripe_app.test_client()
    response = _post(client, _event("customer.created", {"id": "cus_1"}))
    assert response.status_code == 200 and response.get_json()["outcome"] == "ignored"
    listing = factory.listing()
    assert client.post("/gio-hang/them", data={"listing_id": listing.id, "quantity": 1}).status_code == 400
