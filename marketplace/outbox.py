"""The transactional outbox: record side effects with the change, drain them in `flask worker`.

`record()` adds a row to the current session, so it commits or rolls back with the change that
caused it. `drain()` claims due rows, runs the registered handler and marks the row done only
after the handler returned. Failures retry with exponential backoff; after MAX_ATTEMPTS the row
is marked dead and stays visible in /healthz. On PostgreSQL several workers share the table
through FOR UPDATE SKIP LOCKED; on SQLite one worker runs.

Done rows are kept OUTBOX_RETENTION_DAYS (30; 0 keeps them for ever) after they were processed,
then `purge()` deletes them — the worker once an hour, or `flask outbox purge`: a mail row holds
its recipient and text. Pending and dead rows are never purged (a dead row waits for someone to
handle it). A topic may register what else goes with its purged rows (`register_purged`: the
mail's .eml files)."""

from __future__ import annotations

import logging
import time
import uuid
from collections import Counter
from collections.abc import Callable
from contextvars import ContextVar
from datetime import timedelta
from typing import Any

from flask import current_app
from sqlalchemy import delete, func, select, update

from .extensions import db
from .models import OutboxEvent
from .timeutil import utcnow

log = logging.getLogger(__name__)

Handler = Callable[[dict[str, Any], OutboxEvent], None]
MAX_ATTEMPTS = 12
LOCK_SECONDS = 300
PURGE_INTERVAL_S = 3600
PURGE_BATCH = 500


class RetryLater(Exception):
    """A handler may raise this to ask for a retry after `seconds` (e.g. a Retry-After header)."""

    def __init__(self, message: str, seconds: float | None = None):
        super().__init__(message)
        self.seconds = seconds


class PermanentFailure(Exception):
    """The side effect can never succeed (e.g. the receiver answered 410): mark the row dead."""


def _handlers() -> dict[str, Handler]:
    return current_app.extensions.setdefault("outbox_handlers", {})


def register_handler(app, topic: str, handler: Handler) -> None:
    app.extensions.setdefault("outbox_handlers", {})[topic] = handler


def add_handler(app, topic: str, handler: Handler) -> None:
    """Run `handler` for `topic` after the handler already registered (if any): several packages
    listen to one topic (search indexes a listing change, syndication sends it, the page cache
    renews what shows it), in the order their init_app ran. They run in the event's one
    transaction, so either all of them took effect or the event is retried whole — a handler
    after the first must therefore be idempotent, as every handler is."""
    handlers = app.extensions.setdefault("outbox_handlers", {})
    before = handlers.get(topic)
    if before is None or before is _acknowledge:
        handlers[topic] = handler
        return

    def both(payload: dict[str, Any], event: OutboxEvent) -> None:
        before(payload, event)
        handler(payload, event)

    both.__name__ = f"{getattr(before, '__name__', 'handler')}_then_{getattr(handler, '__name__', 'handler')}"
    handlers[topic] = both


def declare_topics(app, *topics: str) -> None:
    """A package names the events it records. Until a later package registers a handler for one
    (search for listing changes, say), its rows are acknowledged instead of piling up as pending."""
    handlers = app.extensions.setdefault("outbox_handlers", {})
    for topic in topics:
        handlers.setdefault(topic, _acknowledge)


def _acknowledge(payload: dict[str, Any], event: OutboxEvent) -> None:
    """Nobody listens to this topic (yet)."""


def record(topic: str, payload: dict[str, Any], *, key: str | None = None) -> OutboxEvent:
    """Add an outbox row to the current transaction. `key` makes the event unique: recording the
    same key twice in one transaction returns the first row instead of a duplicate."""
    key = key or f"{topic}:{uuid.uuid4().hex}"
    for obj in db.session.new:
        if isinstance(obj, OutboxEvent) and obj.idempotency_key == key:
            return obj
    event = OutboxEvent(topic=topic, payload=payload, idempotency_key=key, next_attempt_at=utcnow())
    db.session.add(event)
    return event


def backoff_seconds(attempts: int) -> float:
    # 5 s, 10 s, 20 s … capped at 6 hours.
    return min(5 * 2 ** max(attempts - 1, 0), 6 * 3600)


def _claim(batch: int) -> list[int]:
    now = utcnow()
    query = (
        select(OutboxEvent.id)
        .where(OutboxEvent.status == "pending", OutboxEvent.next_attempt_at <= now)
        .where((OutboxEvent.locked_until.is_(None)) | (OutboxEvent.locked_until < now))
        .order_by(OutboxEvent.id)
        .limit(batch)
    )
    if db.engine.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    ids = list(db.session.scalars(query))
    if ids:
        db.session.execute(
            update(OutboxEvent)
            .where(OutboxEvent.id.in_(ids))
            .values(locked_until=now + timedelta(seconds=LOCK_SECONDS))
        )
    db.session.commit()
    return ids


def process_one(event_id: int) -> bool:
    """Run one event's handler. Returns True when the event is done."""
    event = db.session.get(OutboxEvent, event_id)
    if event is None or event.status != "pending":
        db.session.rollback()
        return False
    handler = _handlers().get(event.topic)
    event_topic, payload = event.topic, dict(event.payload)
    try:
        if handler is None:
            raise PermanentFailure(f"no handler for topic {event_topic!r}")
        handler(payload, event)
    except Exception as exc:  # noqa: BLE001 - any failure is recorded and retried
        db.session.rollback()
        event = db.session.get(OutboxEvent, event_id)
        if event is None:  # deleted meanwhile (by hand): nothing left to record the failure on
            return False
        event.attempts += 1
        event.last_error = f"{type(exc).__name__}: {exc}"[:2000]
        event.locked_until = None
        if isinstance(exc, PermanentFailure) or event.attempts >= MAX_ATTEMPTS:
            event.status = "dead"
            log.error("outbox event %s (%s) is dead: %s", event_id, event_topic, exc)
        else:
            delay = (
                exc.seconds
                if isinstance(exc, RetryLater) and exc.seconds
                else backoff_seconds(event.attempts)
            )
            event.next_attempt_at = utcnow() + timedelta(seconds=delay)
            if _first_of_its_kind(event_topic, exc):
                log.warning(
                    "outbox event %s (%s) failed, retry in %ss: %s", event_id, event_topic, delay, exc
                )
        db.session.commit()
        return False
    event.status = "done"
    event.attempts += 1
    event.processed_at = utcnow()
    event.locked_until = None
    event.last_error = None
    db.session.commit()
    return True


# One log line per failing event, when a receiver is down, buries everything else: a drain logs the
# first few failures of each (topic, error) and then one line saying how many more failed the same
# way (every event keeps its own last_error and retry time; the operator's pages show them).
SAME_FAILURE_LOGGED = 3
_failures: ContextVar[Counter[tuple[str, str]] | None] = ContextVar("outbox_failures", default=None)


def _first_of_its_kind(topic: str, exc: Exception) -> bool:
    seen = _failures.get()
    if seen is None:
        return True
    key = (topic, type(exc).__name__)
    seen[key] += 1
    return seen[key] <= SAME_FAILURE_LOGGED


def drain(batch: int = 50, max_batches: int | None = None) -> int:
    """Process due events until none are left (or max_batches). Returns how many succeeded."""
    done = 0
    batches = 0
    seen: Counter[tuple[str, str]] = Counter()
    token = _failures.set(seen)
    try:
        while max_batches is None or batches < max_batches:
            ids = _claim(batch)
            if not ids:
                break
            batches += 1
            for event_id in ids:
                done += process_one(event_id)
    finally:
        _failures.reset(token)
    for (topic, error), count in sorted(seen.items()):
        if count > SAME_FAILURE_LOGGED:
            log.warning(
                "outbox: %s more event(s) of %s failed with %s, each to be retried",
                count - SAME_FAILURE_LOGGED,
                topic,
                error,
            )
    return done


def register_purged(app, topic: str, forget: Callable[[list[str]], object]) -> None:
    """`forget(keys)` is called with the idempotency keys of `topic`'s rows after a purge deleted
    them (committed), for what lives outside the database (files)."""
    app.extensions.setdefault("outbox_purged", {})[topic] = forget


def purge(retention_days: int | None = None) -> int:
    """Delete the done rows processed more than `retention_days` (default OUTBOX_RETENTION_DAYS)
    ago, in batches, each committed; 0 days keeps everything. Returns how many rows went."""
    days = current_app.config["OUTBOX_RETENTION_DAYS"] if retention_days is None else retention_days
    if days <= 0:
        return 0
    cutoff = utcnow() - timedelta(days=days)
    hooks: dict[str, Callable[[list[str]], object]] = current_app.extensions.get("outbox_purged", {})
    purged = 0
    while True:
        rows = db.session.execute(
            select(OutboxEvent.id, OutboxEvent.topic, OutboxEvent.idempotency_key)
            .where(OutboxEvent.status == "done", OutboxEvent.processed_at < cutoff)
            .order_by(OutboxEvent.id)
            .limit(PURGE_BATCH)
        ).all()
        if not rows:
            break
        db.session.execute(
            delete(OutboxEvent)
            .where(OutboxEvent.id.in_([row.id for row in rows]), OutboxEvent.status == "done")
            .execution_options(synchronize_session=False)
        )
        db.session.commit()
        purged += len(rows)
        for topic, forget in hooks.items():
            keys = [row.idempotency_key for row in rows if row.topic == topic]
            if keys:
                forget(keys)
    if purged:
        log.info("outbox: purged %s done event(s) processed before %s", purged, cutoff.isoformat())
    return purged


def register_periodic(app, name: str, every_seconds: float, task: Callable[[], object]) -> None:
    """A package's periodic work: the worker calls `task()` (in its app context; the task commits
    what it records) at start and then every `every_seconds`. Keep it short: record outbox events
    for the real work, so it runs, retries and dies like any other side effect."""
    app.extensions.setdefault("worker_periodic", {})[name] = (every_seconds, task)


def run_periodic(due: dict[str, float]) -> None:
    """Run the periodic tasks whose time has come (`due`: name -> next monotonic time)."""
    tasks: dict[str, tuple[float, Callable[[], object]]] = current_app.extensions.get("worker_periodic", {})
    for name, (every, task) in tasks.items():
        if time.monotonic() < due.get(name, 0.0):
            continue
        due[name] = time.monotonic() + every
        try:
            task()
        except Exception:
            log.exception("periodic task %s failed", name)
            db.session.rollback()


def run_worker(poll_seconds: float, stop: Callable[[], bool] = lambda: False) -> None:
    log.info("worker started")
    next_purge = 0.0
    due: dict[str, float] = {}
    while not stop():
        if time.monotonic() >= next_purge:
            next_purge = time.monotonic() + PURGE_INTERVAL_S
            try:
                purge()
            except Exception:
                log.exception("outbox purge failed")
                db.session.rollback()
        run_periodic(due)
        try:
            processed = drain()
        except Exception:
            log.exception("worker loop error")
            db.session.rollback()
            processed = 0
        if not processed:
            time.sleep(poll_seconds)
        db.session.remove()


def stats() -> dict[str, Any]:
    rows = db.session.execute(
        select(OutboxEvent.status, func.count(), func.min(OutboxEvent.created_at)).group_by(
            OutboxEvent.status
        )
    ).all()
    out: dict[str, Any] = {"pending": 0, "dead": 0, "oldest_pending_age_s": None}
    for status, count, oldest in rows:
        if status in ("pending", "dead"):
            out[status] = count
        if status == "pending" and oldest is not None:
            out["oldest_pending_age_s"] = round((utcnow() - oldest).total_seconds(), 1)
    return out
