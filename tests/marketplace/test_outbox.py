"""The transactional outbox and the worker: at least once, retried, never lost, never doubled."""

from datetime import timedelta

from marketplace import outbox
from marketplace.extensions import db
from marketplace.models import OutboxEvent
from marketplace.timeutil import utcnow


def test_event_rolls_back_with_its_transaction(app):
    outbox.record("test.topic", {"n": 1})
    db.session.rollback()
    assert OutboxEvent.query.count() == 0


def test_success_marks_done_once(app):
    calls = []
    outbox.register_handler(
        app, "test.ok", lambda payload, event: calls.append((payload["n"], event.idempotency_key))
    )
    outbox.record("test.ok", {"n": 7}, key="k-7")
    db.session.commit()
    assert outbox.drain() == 1
    assert outbox.drain() == 0  # nothing processed twice
    assert calls == [(7, "k-7")]
    event = OutboxEvent.query.one()
    assert event.status == "done" and event.attempts == 1 and event.processed_at


def test_same_key_twice_in_a_transaction_is_one_event(app):
    outbox.record("test.ok", {"n": 1}, key="dup")
    outbox.record("test.ok", {"n": 1}, key="dup")
    db.session.commit()
    assert OutboxEvent.query.count() == 1


def test_failure_retries_with_backoff_and_same_key(app):
    seen = []

    def flaky(payload, event):
        seen.append(event.idempotency_key)
        if len(seen) < 3:
            raise ConnectionError("receiver down")

    outbox.register_handler(app, "test.flaky", flaky)
    outbox.record("test.flaky", {}, key="flaky-1")
    db.session.commit()
    assert outbox.drain() == 0
    event = OutboxEvent.query.one()
    assert event.status == "pending" and event.attempts == 1 and "receiver down" in event.last_error
    assert event.next_attempt_at > utcnow() + timedelta(seconds=3)
    assert outbox.drain() == 0  # not due yet: no hammering
    for _ in range(2):
        event.next_attempt_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
        outbox.drain()
    event = db.session.get(OutboxEvent, event.id)
    assert event.status == "done" and event.attempts == 3
    assert seen == ["flaky-1"] * 3


def test_retry_later_honours_requested_delay(app):
    def busy(payload, event):
        raise outbox.RetryLater("429", seconds=120)

    outbox.register_handler(app, "test.busy", busy)
    outbox.record("test.busy", {})
    db.session.commit()
    outbox.drain()
    event = OutboxEvent.query.one()
    assert timedelta(seconds=110) < event.next_attempt_at - utcnow() <= timedelta(seconds=121)


def test_permanent_failure_and_exhausted_retries_go_dead(app):
    def gone(payload, event):
        raise outbox.PermanentFailure("410 Gone")

    outbox.register_handler(app, "test.gone", gone)
    outbox.record("test.gone", {})
    outbox.record("test.unknown-topic", {})
    db.session.commit()
    outbox.drain()
    assert {e.status for e in OutboxEvent.query.all()} == {"dead"}
    assert outbox.stats()["dead"] == 2


def test_backoff_grows_and_is_capped():
    assert [outbox.backoff_seconds(n) for n in (1, 2, 3)] == [5, 10, 20]
    assert outbox.backoff_seconds(40) == 6 * 3600


def test_worker_command_once(runner, app):
    outbox.register_handler(app, "test.ok", lambda payload, event: None)
    outbox.record("test.ok", {})
    db.session.commit()
    result = runner.invoke(args=["worker", "--once"])
    assert result.exit_code == 0 and "processed 1" in result.output


def test_healthz_reports_database_and_worker(client, app):
    outbox.record("test.pending", {})
    db.session.commit()
    body = client.get("/healthz").json
    assert body["status"] == "ok" and body["database"]["status"] == "ok"
    assert body["worker"]["pending"] == 1 and body["worker"]["oldest_pending_age_s"] is not None


def test_declared_topic_without_listener_is_acknowledged_and_a_listener_takes_over(app):
    outbox.declare_topics(app, "test.declared")
    outbox.record("test.declared", {"n": 1})
    outbox.record("test.undeclared", {"n": 2})
    db.session.commit()
    assert outbox.drain() == 1
    statuses = {e.topic: e.status for e in OutboxEvent.query}
    assert statuses == {"test.declared": "done", "test.undeclared": "dead"}

    seen = []
    outbox.register_handler(app, "test.declared", lambda payload, event: seen.append(payload["n"]))
    outbox.declare_topics(app, "test.declared")  # declaring again does not replace the listener
    outbox.record("test.declared", {"n": 3})
    db.session.commit()
    assert outbox.drain() == 1 and seen == [3]


def test_a_receiver_down_logs_a_few_failures_and_a_count_not_one_line_each(app, caplog):
    def down(payload, event):
        raise ConnectionRefusedError("nobody listens")

    outbox.register_handler(app, "test.down", down)
    outbox.register_handler(app, "test.other", lambda payload, event: 1 / 0)
    with app.app_context():
        for n in range(10):
            outbox.record("test.down", {"n": n})
        outbox.record("test.other", {})
        db.session.commit()
        with caplog.at_level("WARNING", logger="marketplace.outbox"):
            assert outbox.drain() == 0
        lines = [r.getMessage() for r in caplog.records]
        assert sum("(test.down) failed" in line for line in lines) == outbox.SAME_FAILURE_LOGGED
        assert (
            "outbox: 7 more event(s) of test.down failed with ConnectionRefusedError, each to be retried"
            in lines
        )
        assert sum("(test.other) failed" in line for line in lines) == 1
        # Every event keeps its own failure and retry, logged or not.
        events = db.session.scalars(db.select(OutboxEvent).where(OutboxEvent.topic == "test.down")).all()
        assert len(events) == 10
        assert all(
            e.attempts == 1 and e.status == "pending" and "nobody listens" in e.last_error for e in events
        )
