"""Orders placed on a connected platform: pulled, and each line takes the floor's stock through
the same conditional UPDATE the floor's checkout uses (orders.services.reserve_stock), so a unit
is never sold twice across channels. A line that finds no stock is flagged for the shop at once
(a mail, and the shop's channel order list). Fulfilment stays on the platform.

An order cancelled (returned, failed) on the platform after it took stock gives the stock back
exactly once: the line's state moves 'taken' -> 'cancelled' by a conditional UPDATE, and only the
pull whose UPDATE matched the row releases the units (orders.services.release_units)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from catalog.models import Listing
from catalog.services import listing_event
from marketplace.extensions import db, rows_matched
from marketplace.mail import queue_mail
from marketplace.outbox import RetryLater
from marketplace.timeutil import utcnow
from orders.services import SoldOut, release_units, reserve_stock
from sellers.models import ShopMember

from .models import Connection, RemoteOrder, RemoteOrderState, SyncRecord, platform_name
from .platforms import base as P

OVERLAP = timedelta(minutes=15)  # a pull reads a little before the last one: nothing slips between
_SKU = re.compile(r"HT-(\d{1,12})")


def _listing_for(connection: Connection, line: P.RemoteOrderLine) -> Listing | None:
    listing_id = db.session.scalar(
        select(SyncRecord.listing_id).where(
            SyncRecord.connection_id == connection.id, SyncRecord.remote_id == line.remote_item_id
        )
    )
    if listing_id is None and line.sku and (match := _SKU.fullmatch(line.sku.strip())):
        listing_id = int(match.group(1))
    if listing_id is None:
        return None
    listing = db.session.get(Listing, listing_id)
    if listing is None or (connection.shop_id is not None and listing.shop_id != connection.shop_id):
        return None
    return listing


def take(connection: Connection, order: P.RemoteOrder) -> list[RemoteOrder]:
    """Record one remote order's lines (once: a line already recorded is skipped) and take their
    stock. The caller commits. Raises IntegrityError if another worker recorded it meanwhile
    (its transaction then holds the stock; this one must roll back)."""
    rows: list[RemoteOrder] = []
    if order.cancelled:  # never took stock here: nothing to take, nothing to give back
        return rows
    if connection.created_at is not None and _utc(order) < connection.created_at - OVERLAP:
        return rows  # placed before the connection (read now because it was updated): not ours
    for line in order.lines:
        exists = db.session.scalar(
            select(RemoteOrder.id).where(
                RemoteOrder.connection_id == connection.id,
                RemoteOrder.remote_order_id == order.remote_order_id,
                RemoteOrder.remote_item_id == line.remote_item_id,
            )
        )
        if exists is not None or line.quantity < 1:
            continue
        listing = _listing_for(connection, line)
        row = RemoteOrder(
            connection_id=connection.id,
            platform=connection.platform,
            shop_id=listing.shop_id if listing is not None else connection.shop_id,
            listing_id=listing.id if listing is not None else None,
            remote_order_id=order.remote_order_id[:64],
            remote_item_id=line.remote_item_id[:64],
            remote_status=(order.status or "")[:40],
            quantity=line.quantity,
            price_vnd=line.price_vnd,
            title=listing.title if listing is not None else (line.sku or line.remote_item_id)[:160],
            state=RemoteOrderState.UNMATCHED.value,
            placed_at=_utc(order),
        )
        db.session.add(row)
        db.session.flush()  # the unique row first: a second worker stops here, before the stock
        rows.append(row)
        if listing is None:
            continue
        try:
            with db.session.begin_nested():
                reserve_stock({listing.id: listing}, {listing.id: line.quantity})
        except SoldOut:
            row.state = RemoteOrderState.NO_STOCK.value
            flag_no_stock(row, listing)
        else:
            row.state = RemoteOrderState.TAKEN.value
        listing_event(listing.id, "stock")  # every channel learns the new stock (or that it is 0)
    return rows


def cancel(connection: Connection, order: P.RemoteOrder) -> list[RemoteOrder]:
    """The platform cancelled (returned, failed) an order pulled before: each of its lines turns
    'cancelled'; a line that had taken stock gives it back, once however many pulls see the
    cancellation at the same time (the UPDATE ... WHERE state='taken' matches for one of them).
    A 'no_stock' or 'unmatched' line gives nothing back. The caller commits."""
    rows = db.session.scalars(
        select(RemoteOrder)
        .where(
            RemoteOrder.connection_id == connection.id,
            RemoteOrder.remote_order_id == order.remote_order_id[:64],
            RemoteOrder.state != RemoteOrderState.CANCELLED.value,
        )
        .order_by(RemoteOrder.id)
    ).all()
    cancelled: list[RemoteOrder] = []
    for row in rows:
        released = _move(row, RemoteOrderState.TAKEN, order.status)
        if released and row.listing_id is not None:
            release_units({row.listing_id: row.quantity})  # every channel learns the new stock
        if (
            released
            or _move(row, RemoteOrderState.NO_STOCK, order.status)
            or _move(row, RemoteOrderState.UNMATCHED, order.status)
        ):
            cancelled.append(row)
    for row in cancelled:
        db.session.refresh(row)
    return cancelled


def _move(row: RemoteOrder, state: RemoteOrderState, remote_status: str) -> bool:
    """UPDATE the line to 'cancelled' if it is still in `state`: True when this call did it."""
    result = db.session.execute(
        update(RemoteOrder)
        .where(RemoteOrder.id == row.id, RemoteOrder.state == state.value)
        .values(state=RemoteOrderState.CANCELLED.value, remote_status=(remote_status or "")[:40])
        .execution_options(synchronize_session=False)
    )
    return rows_matched(result) == 1


def _utc(order: P.RemoteOrder) -> datetime:
    moment = order.created_at
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(UTC).replace(tzinfo=None)


def flag_no_stock(row: RemoteOrder, listing: Listing) -> None:
    name = platform_name(row.platform)
    owners = db.session.scalars(
        select(ShopMember).where(ShopMember.shop_id == listing.shop_id, ShopMember.role == "owner")
    ).all()
    for member in owners:
        with force_locale("vi"):
            queue_mail(
                member.user.email,
                _("Đơn %(platform)s %(code)s không còn hàng", platform=name, code=row.remote_order_id),
                "syndication_no_stock",
                key=f"mail:syndication-no-stock:{row.connection_id}:{row.remote_order_id}:{row.remote_item_id}",
                platform=name,
                row=row,
                listing=listing,
            )


def pull(connection: Connection) -> list[RemoteOrder]:
    """Read the orders the platform created or updated since the last pull: take the new ones,
    give back what the cancelled ones took. The caller commits."""
    from .engine import Session

    since = (connection.orders_pulled_at or connection.created_at or utcnow()) - OVERLAP
    started = utcnow()
    session = Session(connection)
    orders = session.call(lambda a: a.recent_orders(since.replace(tzinfo=UTC)))
    rows: list[RemoteOrder] = []
    for order in orders:
        if order.cancelled:
            rows.extend(cancel(connection, order))
        else:
            rows.extend(take(connection, order))
    connection.orders_pulled_at = started
    return rows


def on_pull(payload, event) -> None:
    connection = db.session.get(Connection, int(payload["connection_id"]))
    if connection is None or connection.state != "active":
        return
    try:
        pull(connection)
    except IntegrityError:
        db.session.rollback()
        raise
    except P.AuthRevoked as exc:
        from .engine import needs_reconnecting

        db.session.rollback()
        connection = db.session.get(Connection, int(payload["connection_id"]))
        if connection is not None:
            needs_reconnecting(connection, exc.message)
    except (P.RateLimited, P.Unavailable) as exc:
        # Only the platform call failed (no order was taken yet), but a token refreshed on the
        # way must be kept: the platforms rotate the refresh token, the old one is spent.
        db.session.commit()
        raise RetryLater(f"{exc}", exc.retry_after) from exc
