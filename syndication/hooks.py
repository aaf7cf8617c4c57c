"""How syndication hears about changes without catalog, sellers or orders knowing it exists.

Every change that matters to a platform is already announced in the outbox in the same
transaction (`listing.changed` by catalog and by the checkout's stock reservation,
`shop.changed` by sellers). A `before_flush` listener on the session sees those rows as they are
added and records a `syndication.listing` / `syndication.shop` event beside each, in the same
transaction: if the change rolls back, so does the sync. (A topic has one handler, the search
indexer's; this piggy-backs instead of replacing it.)

The worker's periodic tasks: the orders pull every SYNDICATION_PULL_INTERVAL_S, and the nightly
reconcile once a day after SYNDICATION_RECONCILE_HOUR (floor time)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from marketplace import outbox
from marketplace.extensions import db
from marketplace.models import OutboxEvent
from marketplace.timeutil import floor_timezone, utcnow

from . import topics
from .models import Connection, ConnectionState

EXTENSION_KEY = "syndication"
_installed = {"done": False}


def _pending(session: Session, topic: str) -> set[Any]:
    return {
        obj.payload.get("listing_id") or obj.payload.get("shop_id")
        for obj in session.new
        if isinstance(obj, OutboxEvent) and obj.topic == topic
    }


def _before_flush(session: Session, _context: Any, _instances: Any) -> None:
    if not has_app_context() or EXTENSION_KEY not in current_app.extensions:
        return
    new = [obj for obj in session.new if isinstance(obj, OutboxEvent)]
    if not new:
        return
    listings = _pending(session, topics.LISTING)
    shops = _pending(session, topics.SHOP)
    for obj in new:
        if obj.topic == "listing.changed":
            listing_id = obj.payload.get("listing_id")
            if listing_id is not None and listing_id not in listings:
                listings.add(listing_id)
                session.add(_event(topics.LISTING, {"listing_id": listing_id}))
        elif obj.topic == "shop.changed":
            shop_id = obj.payload.get("shop_id")
            if shop_id is not None and shop_id not in shops:
                shops.add(shop_id)
                session.add(_event(topics.SHOP, {"shop_id": shop_id}))


def _event(topic: str, payload: dict[str, Any]) -> OutboxEvent:
    import uuid

    return OutboxEvent(
        topic=topic, payload=payload, idempotency_key=f"{topic}:{uuid.uuid4().hex}", next_attempt_at=utcnow()
    )


def install() -> None:
    """Once per process (the listener is on the Session class; it acts only in apps that
    registered syndication)."""
    if not _installed["done"]:
        event.listen(Session, "before_flush", _before_flush)
        _installed["done"] = True


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
