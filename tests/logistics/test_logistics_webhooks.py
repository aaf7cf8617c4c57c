"""Webhooks to partners: signed per Standard Webhooks (checked with the official package), the same
webhook-id on every try, retries honouring Retry-After, 410 disables, other 4xx stop, dead after
the last try; the operator's log and redelivery; a worker killed mid-batch loses nothing."""

from __future__ import annotations

import base64
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select, update
from standardwebhooks.webhooks import Webhook
from webhook_receiver import Receiver

from logistics import services, webhooks
from logistics.models import WebhookDelivery
from marketplace import outbox
from marketplace.extensions import db
from marketplace.models import OutboxEvent
from tests.support import sign_in

ROOT = Path(__file__).resolve().parents[2]
PLACEHOLDER = "whsec_" + base64.b64encode(b"p" * 32).decode()  # replaced by the partner's secret


def _due_and_drain(rounds: int = 1) -> None:
    for _ in range(rounds):
        db.session.execute(
            update(OutboxEvent)
            .where(OutboxEvent.status == "pending")
            .values(next_attempt_at=OutboxEvent.created_at)
        )
        db.session.commit()
        outbox.drain()
    db.session.expire_all()


def _hooked(setup, url):
    partner, key, secret = setup.new_partner("Có Webhook", webhook_url=url)
    setup.partner, setup.key = partner, key
    return partner, secret


def test_signature_matches_the_published_vector():
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    body = b'{"test": 2432232314}'
    ours = webhooks.sign(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body)
    assert ours == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    official = Webhook(secret).sign("msg_p5jXN8AQM9LWM0D4loKWxJek", _dt(1614265330), body.decode())
    assert official == ours


def _dt(ts):
    from datetime import UTC, datetime

    return datetime.fromtimestamp(ts, tz=UTC)


def test_failing_receiver_gets_every_event_with_the_same_id(setup):
    # each message: 500, then 429 with Retry-After, then accepted
    def answer(_id, n):
        return {1: (500, {}), 2: (429, {"Retry-After": "1"})}.get(n, (204, {}))

    with Receiver(PLACEHOLDER, answer) as receiver:
        _partner, secret = _hooked(setup, receiver.url)
        receiver.verifier = Webhook(secret)
        orders = [setup.packed_order() for _ in range(3)]
        assert setup.post(orders[0], "reject", reason="Hết hàng").status_code == 302
        _due_and_drain()
        first = db.session.scalars(select(OutboxEvent).where(OutboxEvent.topic == "logistics.webhook")).all()
        assert all(e.status == "pending" for e in first)
        # the 429's Retry-After (1 s) is honoured, not the 5 min of the schedule
        _due_and_drain()
        waits = [(e.next_attempt_at - e.created_at).total_seconds() for e in first]
        assert all(w < 120 for w in waits), waits
        _due_and_drain()
    rows = db.session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)).all()
    assert [r.event_type for r in rows] == ["order.ready_for_pickup"] * 3 + ["order.cancelled"]
    assert all(r.status == "delivered" and r.attempts == 3 and r.response_code == 204 for r in rows)
    assert all(r["verified"] for r in receiver.received)
    assert receiver.accepted_ids() == {r.message_id for r in rows}
    for row in rows:
        assert receiver.tries(row.message_id) == 3  # the same webhook-id on each of the three tries
    payload = next(r["payload"] for r in receiver.received if r["id"] == rows[0].message_id)
    assert payload["type"] == "order.ready_for_pickup" and payload["data"]["code"] == orders[0].code


def test_410_disables_the_endpoint_and_tells_the_operator(setup, factory):
    factory.operator(email="dieu-hanh@example.vn")
    with Receiver(PLACEHOLDER, lambda _id, _n: (410, {})) as receiver:
        partner, secret = _hooked(setup, receiver.url)
        receiver.verifier = Webhook(secret)
        setup.packed_order()
        _due_and_drain(2)
    db.session.refresh(partner)
    assert partner.webhook_disabled_at is not None
    row = db.session.scalar(select(WebhookDelivery))
    assert row.status == "failed" and row.response_code == 410 and len(receiver.received) == 1
    mails = db.session.scalars(select(OutboxEvent.payload).where(OutboxEvent.topic == "mail.send")).all()
    assert any(m.get("to") == "dieu-hanh@example.vn" and "410" in m["subject"] for m in mails)
    # a disabled endpoint gets nothing more; the operator's page says so
    setup.packed_order()
    assert db.session.scalar(select(WebhookDelivery).where(WebhookDelivery.id != row.id)) is None


@pytest.mark.parametrize(
    ("code", "retried"), [(400, False), (404, False), (408, True), (409, True), (503, True)]
)
def test_which_answers_are_retried(setup, code, retried):
    with Receiver(PLACEHOLDER, lambda _id, n: (code, {}) if n == 1 else (200, {})) as receiver:
        _partner, secret = _hooked(setup, receiver.url)
        receiver.verifier = Webhook(secret)
        setup.packed_order()
        _due_and_drain(2)
    row = db.session.scalar(select(WebhookDelivery))
    assert row.status == ("delivered" if retried else "failed")
    assert len(receiver.received) == (2 if retried else 1)


def test_dead_after_the_last_try_then_redelivered_by_the_operator(setup, app, factory):
    app.config["LOGISTICS_WEBHOOK_MAX_ATTEMPTS"] = 3
    state = {"up": False}
    with Receiver(PLACEHOLDER, lambda _id, _n: (204, {}) if state["up"] else (500, {})) as receiver:
        partner, secret = _hooked(setup, receiver.url)
        receiver.verifier = Webhook(secret)
        setup.packed_order()
        _due_and_drain(4)
        row = db.session.scalar(select(WebhookDelivery))
        assert row.status == "dead" and row.attempts == 3
        operator = sign_in(app.test_client(), factory.operator())
        log = operator.get(f"/quan-tri/van-chuyen/doi-tac/{partner.slug}/webhook?status=dead")
        assert log.status_code == 200 and row.message_id in log.get_data(as_text=True)
        app.config["WTF_CSRF_ENABLED"] = False
        state["up"] = True
        assert (
            operator.post(f"/quan-tri/van-chuyen/doi-tac/{partner.slug}/webhook/gui-lai-tat-ca").status_code
            == 302
        )
        _due_and_drain()
    db.session.refresh(row)
    assert row.status == "delivered"
    assert {r["id"] for r in receiver.received} == {row.message_id}  # redelivered with the same id


def test_rotation_window_sends_both_signatures(setup):
    with Receiver(PLACEHOLDER) as receiver:
        partner, old = _hooked(setup, receiver.url)
        new = services.rotate_secret(partner, actor=None)
        db.session.commit()
        receiver.verifier = Webhook(new)
        setup.packed_order()
        _due_and_drain()
    request = receiver.received[0]
    assert request["verified"] and len(request["headers"]["webhook-signature"].split(" ")) == 2
    body = db.session.scalar(select(WebhookDelivery))
    raw = webhooks.body_of(body)
    Webhook(old).verify(raw, request["headers"])  # the partner still holding the old secret is fine too
    with pytest.raises(Exception):  # noqa: B017 - any secret not ours fails
        Webhook("whsec_" + base64.b64encode(b"x" * 32).decode()).verify(raw, request["headers"])


def _worker(app) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "SECRET_KEY": "test-secret",
        "MAIL_DIR": app.config["MAIL_DIR"],
        "MEDIA_ROOT": app.config["MEDIA_ROOT"],
        "PRIVATE_MEDIA_ROOT": app.config["PRIVATE_MEDIA_ROOT"],
        "WORKER_POLL_S": "0.05",
        "SEARCH_EMBEDDED_PATH": app.config["SEARCH_EMBEDDED_PATH"],
    }
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "worker"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _wait(predicate, seconds=60.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def test_worker_killed_mid_batch_loses_nothing(setup, app):
    with Receiver(PLACEHOLDER, delay_s=0.15) as receiver:
        _partner, secret = _hooked(setup, receiver.url)
        receiver.verifier = Webhook(secret)
        for _ in range(12):
            setup.packed_order()
        db.session.commit()
        ids = set(db.session.scalars(select(WebhookDelivery.message_id)))
        assert len(ids) == 12
        worker = _worker(app)
        try:
            assert _wait(lambda: len(receiver.received) >= 3), "the worker sent nothing"
            worker.send_signal(signal.SIGKILL)
            worker.wait(10)
        finally:
            if worker.poll() is None:
                worker.kill()
        sent_before = len(receiver.received)
        assert sent_before < 12, "the batch was over before the kill"
        # the dead worker's claim expires (LOCK_SECONDS); make it expire now
        db.session.execute(update(OutboxEvent).values(locked_until=None))
        db.session.commit()
        worker = _worker(app)
        try:
            assert _wait(lambda: receiver.accepted_ids() == ids), "not every webhook arrived"
        finally:
            worker.send_signal(signal.SIGTERM)
            worker.wait(20)
    assert all(r["verified"] for r in receiver.received)
    # duplicates (a request in flight when the worker died) carry the same webhook-id
    assert {r["id"] for r in receiver.received} == ids
    db.session.expire_all()
    assert set(db.session.scalars(select(WebhookDelivery.status))) == {"delivered"}
