"""How syndication hears about changes without catalog, sellers or orders knowing it exists.

Every change that matters to a platform is already announced in the outbox in the same
transaction: `listing.changed` (catalog's edits, and the checkout's stock reservation and
release) and `shop.changed` (sellers). A topic has one handler (the search indexer's), so
`chain()` puts syndication's behind it in `app.extensions["outbox_handlers"]`: the worker runs the
indexer, then the fan-out, in the one transaction of that event (a failure retries both; both
are idempotent). No row is added to the outbox until a connection exists.

The worker's periodic tasks: the orders pull every SYNDICATION_PULL_INTERVAL_S, and the nightly
reconcile once a day after SYNDICATION_RECONCILE_HOUR (floor time)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import select

from marketplace import outbox
from marketplace.extensions import db
from marketplace.models import OutboxEvent
from marketplace.timeutil import floor_timezone, utcnow

from . import topics
from .models import Connection, ConnectionState


def any_connection() -> bool:
    return db.session.scalar(select(Connection.id).limit(1)) is not None


def on_listing_changed(payload: dict[str, Any], event: Any) -> None:
    if any_connection():
        from .engine import fan_out

        fan_out(int(payload["listing_id"]))


def on_shop_changed(payload: dict[str, Any], event: Any) -> None:
    if any_connection():
        from .engine import on_shop

        on_shop(payload, event)


# --- the worker's periodic tasks ----------------------------------------------------------------


def _record_once(topic: str, payload: dict[str, Any], key: str, at: datetime | None = None) -> bool:
    if db.session.scalar(select(OutboxEvent.id).where(OutboxEvent.idempotency_key == key)) is not None:
        return False
    row = outbox.record(topic, payload, key=key)
    if at is not None:
        row.next_attempt_at = at
    return True


def schedule_pulls() -> int:
    """One `syndication.pull_orders` per active connection and interval slot."""
    every = int(current_app.config["SYNDICATION_PULL_INTERVAL_S"])
    slot = int(utcnow().timestamp()) // max(every, 1)
    ids = db.session.scalars(
        select(Connection.id).where(Connection.state == ConnectionState.ACTIVE.value)
    ).all()
    n = sum(_record_once(topics.PULL, {"connection_id": cid}, f"{topics.PULL}:{cid}:{slot}") for cid in ids)
    db.session.commit()
    return n


def schedule_reconcile() -> bool:
    """The nightly reconcile: one event per floor day, once its hour has come."""
    now = datetime.now(floor_timezone())
    if now.hour < int(current_app.config["SYNDICATION_RECONCILE_HOUR"]):
        return False
    recorded = _record_once(topics.RECONCILE, {}, f"{topics.RECONCILE}:{now.date().isoformat()}")
    db.session.commit()
    return recorded


def on_reconcile(payload: dict[str, Any], event: Any) -> None:
    from .engine import reconcile_all

    reconcile_all()
