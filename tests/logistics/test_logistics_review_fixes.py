"""Regressions found in review: a paused partner's webhooks wait instead of dying, an event id
reused for another event is refused instead of swallowed as a replay, query numbers that pass
str.isdigit() but are no number are a 422, not a server error."""

from __future__ import annotations

import base64

from logistics_testlib import event
from sqlalchemy import select, update
from standardwebhooks.webhooks import Webhook
from webhook_receiver import Receiver

from logistics.models import ShipmentEvent, WebhookDelivery
from marketplace import outbox
from marketplace.extensions import db
from marketplace.models import OutboxEvent

PLACEHOLDER = "whsec_" + base64.b64encode(b"p" * 32).decode()


def _due_and_drain() -> None:
    db.session.execute(
        update(OutboxEvent)
        .where(OutboxEvent.status == "pending")
        .values(next_attempt_at=OutboxEvent.created_at)
    )
    db.session.commit()
    outbox.drain()
    db.session.expire_all()


def test_a_paused_partners_webhooks_wait_and_arrive_after_the_pause(setup):
    with Receiver(PLACEHOLDER) as receiver:
        partner, key, secret = setup.new_partner("Tạm Dừng", webhook_url=receiver.url)
        setup.partner, setup.key = partner, key
        receiver.verifier = Webhook(secret)
        setup.packed_order()
        partner.state = "paused"
        db.session.commit()
        # a long pause: more rechecks than the outbox allows failed tries (MAX_ATTEMPTS)
        for _ in range(outbox.MAX_ATTEMPTS + 2):
            _due_and_drain()
        assert receiver.received == []
        row = db.session.scalar(select(WebhookDelivery))
        assert row.status == "pending" and row.attempts == 0
        topic = OutboxEvent.topic == "logistics.webhook"
        assert db.session.scalar(select(OutboxEvent).where(topic, OutboxEvent.status == "dead")) is None
        assert db.session.scalar(select(OutboxEvent).where(topic, OutboxEvent.status == "pending"))
        partner.state = "active"
        db.session.commit()
        _due_and_drain()
    row = db.session.scalar(select(WebhookDelivery))
    assert row.status == "delivered" and row.attempts == 1
    assert [r["id"] for r in receiver.received] == [row.message_id]
    assert receiver.received[0]["verified"]


def test_an_event_id_reused_for_another_event_is_refused_not_swallowed(setup, client):
    first, second = setup.packed_order(), setup.packed_order()
    url = "/api/v1/logistics/orders/{}/events"
    ok = client.post(url.format(first.code), json=event("e-1", "picked_up"), headers=setup.auth())
    assert ok.status_code == 201
    # the same event again: a replay
    again = client.post(url.format(first.code), json=event("e-1", "picked_up"), headers=setup.auth())
    assert again.status_code == 200 and again.get_json()["replay"] is True
    # the same id for another order, or another status: not a replay, and nothing changes
    other_order = client.post(url.format(second.code), json=event("e-1", "picked_up"), headers=setup.auth())
    assert other_order.status_code == 409
    assert other_order.mimetype == "application/problem+json"
    other_status = client.post(
        url.format(first.code), json=event("e-1", "delivered", 5), headers=setup.auth()
    )
    assert other_status.status_code == 409
    db.session.expire_all()
    assert second.status == "packed" and first.status == "shipped"
    assert db.session.query(ShipmentEvent).count() == 1


def test_limit_that_only_looks_like_digits_is_a_422(setup, client):
    for raw in ("%C2%B2", "%D9%A1", "1" * 5000):
        response = client.get(f"/api/v1/logistics/orders?limit={raw}", headers=setup.auth())
        assert response.status_code == 422, (raw[:10], response.status_code)
        assert response.mimetype == "application/problem+json"


def test_an_older_event_racing_a_newer_one_does_not_move_the_order_back(setup, app, monkeypatch):
    """`delivery_failed` (newer) is being applied when `out_for_delivery` (older) arrives: the
    second waits at the order's row lock and must then judge on the shipment as it is committed
    (late), not as it read it before waiting (which would move the order back to shipped)."""
    import threading

    from logistics import events

    order = setup.packed_order()
    client = app.test_client()
    url = f"/api/v1/logistics/orders/{order.code}/events"
    assert client.post(url, json=event("r-0", "in_transit", 0), headers=setup.auth()).status_code == 201
    db.session.commit()

    locked, real_notify = threading.Event(), events._notify

    def slow_notify(order_, event_):
        real_notify(order_, event_)
        if event_.event_id == "r-2":
            locked.set()  # the newer event holds the order's lock until it commits
            locked_hold.wait(1.0)

    locked_hold = threading.Event()
    monkeypatch.setattr(events, "_notify", slow_notify)
    codes: dict[str, int] = {}

    def post(body):
        with app.app_context():
            codes[body["event_id"]] = app.test_client().post(url, json=body, headers=setup.auth()).status_code

    newer = threading.Thread(target=post, args=(event("r-2", "delivery_failed", 120),))
    newer.start()
    assert locked.wait(10)
    older = threading.Thread(target=post, args=(event("r-1", "out_for_delivery", 60),))
    older.start()
    older.join(0.5)  # it reads the shipment, then waits at the lock (PostgreSQL) or the writer lock
    locked_hold.set()
    newer.join(30)
    older.join(30)
    assert codes == {"r-2": 201, "r-1": 201}, codes
    db.session.expire_all()
    assert order.status == "delivery_failed"
    outcomes = dict(db.session.execute(select(ShipmentEvent.event_id, ShipmentEvent.outcome)).all())
    assert outcomes == {"r-0": "applied", "r-2": "applied", "r-1": "late"}, outcomes
    shipment = setup.shipment(order)
    assert shipment.status == "delivery_failed"


def _remit_at_once(app, setup, bodies):
    import threading

    barrier = threading.Barrier(len(bodies))
    answers: list[tuple[int, dict]] = []

    def post(body):
        with app.app_context():
            client = app.test_client()
            barrier.wait()
            response = client.post("/api/v1/logistics/remittances", json=body, headers=setup.auth())
            answers.append((response.status_code, response.get_json()))

    threads = [threading.Thread(target=post, args=(b,)) for b in bodies]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return answers


def _delivered_cod(setup, app, n):
    order = setup.packed_order()
    client = app.test_client()
    url = f"/api/v1/logistics/orders/{order.code}/events"
    body = event(f"rd{n}", "delivered", 60, cod_collected_vnd=order.total_vnd)
    assert client.post(url, json=body, headers=setup.auth()).status_code == 201
    db.session.commit()
    return order


def test_the_same_remittance_posted_twice_at_once_is_stored_once(setup, app):
    from logistics.models import Remittance, RemittanceLine

    order = _delivered_cod(setup, app, 1)
    body = {
        "reference": "CK-DOI",
        "transfer_date": "2026-12-02",
        "lines": [{"order_code": order.code, "amount_vnd": order.total_vnd}],
    }
    answers = _remit_at_once(app, setup, [body] * 4)
    assert sorted(code for code, _ in answers) == [200, 200, 200, 201], answers
    assert db.session.query(Remittance).count() == 1
    assert db.session.query(RemittanceLine).count() == 1


def test_one_order_in_two_remittances_at_once_is_flagged_remitted_twice(setup, app):
    from logistics import remittances

    order = _delivered_cod(setup, app, 2)
    bodies = [
        {
            "reference": f"CK-{n}",
            "transfer_date": "2026-12-02",
            "lines": [{"order_code": order.code, "amount_vnd": order.total_vnd}],
        }
        for n in range(3)
    ]
    answers = _remit_at_once(app, setup, bodies)
    assert sorted(code for code, _ in answers) == [201, 201, 201], answers
    problems = sorted(str(body["lines"][0]["problem"]) for _, body in answers)
    assert problems == ["None", "remitted_twice", "remitted_twice"], problems
    db.session.expire_all()
    [row] = remittances.ledger(setup.partner)
    assert row.remitted_vnd == order.total_vnd and row.outstanding_vnd == 0


def test_a_paid_parcel_returned_twice_is_refunded_and_restocked_once(setup, client):
    from catalog.models import Listing
    from orders.models import Order

    order = setup.packed_order()
    db.session.execute(update(Order).where(Order.id == order.id).values(payment_method="card", paid=True))
    db.session.commit()
    stock = db.session.scalar(select(Listing.stock).where(Listing.id == setup.listing.id))
    url = f"/api/v1/logistics/orders/{order.code}/events"
    for n, status in enumerate(("picked_up", "returning", "returned")):
        assert client.post(url, json=event(f"ret{n}", status, n), headers=setup.auth()).status_code == 201
    # the carrier reports the return again, under another event id
    again = client.post(url, json=event("ret-again", "returned", 10), headers=setup.auth())
    assert again.status_code in (201, 409), again.get_json()
    db.session.expire_all()
    assert order.status == "refunded" and order.refunded_vnd == order.total_vnd
    assert db.session.scalar(select(Listing.stock).where(Listing.id == setup.listing.id)) == stock + 1
    refunds = select(OutboxEvent).where(OutboxEvent.topic == "payment.stripe_refund")
    assert len(db.session.scalars(refunds).all()) == 1


def test_an_event_from_the_future_is_refused_and_changes_nothing(setup, client):
    from datetime import UTC, datetime, timedelta

    order = setup.packed_order()
    url = f"/api/v1/logistics/orders/{order.code}/events"
    future = (datetime.now(UTC) + timedelta(days=3)).isoformat()
    response = client.post(
        url, json={"event_id": "f-1", "status": "picked_up", "occurred_at": future}, headers=setup.auth()
    )
    assert response.status_code == 422 and "occurred_at" in response.get_json()["errors"]
    assert db.session.query(ShipmentEvent).count() == 0
    # the real events that follow still move the order
    now = datetime.now(UTC).isoformat()
    ok = client.post(
        url, json={"event_id": "f-2", "status": "picked_up", "occurred_at": now}, headers=setup.auth()
    )
    assert ok.status_code == 201 and ok.get_json()["order_status"] == "shipped"


def test_a_carrier_partner_posting_floor_words_through_the_api_moves_the_order(setup, client):
    """The floor's API takes the floor's own words for every partner; the mapping table is for the
    carrier's native callback words. A GHN partner's `picked_up` was stored as unknown."""
    from logistics import services

    ghn, key, _secret, _token = services.create_partner("GHN Thử", actor=None, kind="ghn")
    db.session.commit()
    services.set_shop_partners(setup.shop, [ghn.id], ghn.id, actor=setup.owner)
    db.session.commit()
    order = setup.packed_order()
    assert setup.shipment(order).partner_id == ghn.id
    url = f"/api/v1/logistics/orders/{order.code}/events"
    response = client.post(url, json=event("g-1", "picked_up"), headers=setup.auth(key))
    assert response.status_code == 201 and response.get_json()["outcome"] == "applied", response.get_json()
    db.session.expire_all()
    assert order.status == "shipped"


def test_a_redirect_is_not_a_delivery(setup):
    """An endpoint that moved answers 301: urllib followed it as a GET without the body, and the
    page it landed on (200) marked the message delivered although the partner never got it."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Elsewhere(BaseHTTPRequestHandler):
        def _ok(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_GET = do_POST = _ok

        def log_message(self, *args) -> None:
            pass

    other = ThreadingHTTPServer(("127.0.0.1", 0), Elsewhere)
    threading.Thread(target=other.serve_forever, daemon=True).start()
    moved = {"Location": f"http://127.0.0.1:{other.server_address[1]}/login"}
    try:
        with Receiver(PLACEHOLDER, lambda _id, _n: (301, moved)) as receiver:
            partner, key, secret = setup.new_partner("Đã Chuyển", webhook_url=receiver.url)
            setup.partner, setup.key = partner, key
            receiver.verifier = Webhook(secret)
            setup.packed_order()
            _due_and_drain()
    finally:
        other.shutdown()
        other.server_close()
    row = db.session.scalar(select(WebhookDelivery))
    assert row.status == "pending" and row.response_code == 301, (row.status, row.response_code)
    assert len(receiver.received) == 1


def test_an_order_cancelled_while_its_booking_is_in_flight_is_cancelled_with_the_carrier(
    setup, app, monkeypatch
):
    """Two workers: one books the pickup (the carrier is slow to answer), the other handles the
    cancellation meanwhile and finds the booking still pending. The booking that then comes back
    must be cancelled with the carrier, not stored as booked for a cancelled order."""
    import threading

    from logistics import booking
    from tests.logistics.carriers.standins import GHNStandin
    from tests.logistics.test_logistics_carrier_wiring import _carrier_partner, _drain_all

    with GHNStandin() as ghn:
        _carrier_partner(setup, "ghn", ghn)
        order = setup.packed_order()
        db.session.commit()
        real_adapter = booking.adapter

        def second_worker():
            with app.app_context():
                assert setup.post(order, "reject", reason="Khách đổi ý").status_code == 302
                cancel = db.session.scalar(
                    select(OutboxEvent.id).where(OutboxEvent.topic == "logistics.cancel_booking")
                )
                assert cancel is not None
                assert outbox.process_one(cancel)  # the booking is still pending here
                db.session.remove()

        class Slow:
            def __init__(self, inner):
                self.inner = inner

            def create_shipment(self, parcel):
                t = threading.Thread(target=second_worker)
                t.start()
                t.join(30)
                return self.inner.create_shipment(parcel)

            def __getattr__(self, name):
                return getattr(self.inner, name)

        monkeypatch.setattr(booking, "adapter", lambda partner: Slow(real_adapter(partner)))
        _drain_all()
        shipment = setup.shipment(order)
        assert order.status == "cancelled"
        assert shipment.booking == "cancelled", shipment.booking
        assert ghn.shipments[order.code].status == "cancel"


def test_a_nul_in_a_carriers_callback_is_a_422_not_a_server_error(setup, client):
    """PostgreSQL text cannot hold NUL: a callback's reason or status carrying one was a 500."""
    from tests.logistics.carriers.standins import GHNStandin
    from tests.logistics.test_logistics_carrier_wiring import _carrier_partner, _drain_all

    with GHNStandin() as ghn:
        partner, token = _carrier_partner(setup, "ghn", ghn)
        order = setup.packed_order()
        _drain_all()  # booked: the stand-in knows the parcel
        url = f"/api/v1/logistics/callbacks/{partner.slug}/{token}"
        for field, value in (("Reason", "Khách\x00hẹn"), ("Status", "pick\x00ed")):
            body = {**ghn.callback_body(order.code, "picked"), field: value}
            response = client.post(url, json=body)
            assert response.status_code == 422, (field, response.status_code)
    assert db.session.query(ShipmentEvent).count() == 0


def test_a_remittance_csv_with_a_nul_is_refused_with_a_message(setup, app, factory):
    import io

    from logistics.models import Remittance
    from tests.support import sign_in

    csv = "\ufeffreference,transfer_date,order_code,amount_vnd\nCK-\x00,01/12/2026,DH-1,12000\n".encode()
    operator = sign_in(app.test_client(), factory.operator())
    app.config["WTF_CSRF_ENABLED"] = False
    response = operator.post(
        "/quan-tri/van-chuyen/doi-soat",
        data={"partner": setup.partner.slug, "file": (io.BytesIO(csv), "doi-soat.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    assert "NUL" in response.get_data(as_text=True)
    assert db.session.query(Remittance).count() == 0


def test_a_retry_after_of_years_waits_a_day_at_most(setup):
    with Receiver(PLACEHOLDER, lambda _id, _n: (503, {"Retry-After": "99999999"})) as receiver:
        partner, key, secret = setup.new_partner("Chậm", webhook_url=receiver.url)
        setup.partner, setup.key = partner, key
        receiver.verifier = Webhook(secret)
        setup.packed_order()
        _due_and_drain()
    [event_row] = db.session.scalars(
        select(OutboxEvent).where(OutboxEvent.topic == "logistics.webhook")
    ).all()
    wait = (event_row.next_attempt_at - event_row.created_at).total_seconds()
    assert event_row.status == "pending" and wait <= 86400 + 120, wait


def test_the_csv_feed_neutralises_formulas_and_keeps_amounts_numbers(setup, client):
    import csv
    import io

    from orders.models import Order

    order = setup.packed_order()
    db.session.execute(
        update(Order)
        .where(Order.id == order.id)
        .values(receiver_name='=HYPERLINK("http://x.example","bấm")', note="@SUM(1+1)")
    )
    db.session.commit()
    response = client.get("/api/v1/logistics/orders", headers={**setup.auth(), "Accept": "text/csv"})
    text = response.get_data(as_text=True)
    assert response.status_code == 200 and text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))
    assert rows[0]["receiver_name"].startswith("'=HYPERLINK")
    assert rows[0]["cod_vnd"] == str(order.total_vnd)
    assert not any(v.startswith(("=", "+", "-", "@")) for row in rows for v in row.values())
