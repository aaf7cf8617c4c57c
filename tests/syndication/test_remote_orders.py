"""One stock across channels: an order placed on a platform takes the floor's stock through the
checkout's own conditional UPDATE, is taken once however often it is pulled, is flagged for the
shop when no unit is left, and the new stock goes out to every channel. Runs on SQLite and on
PostgreSQL (the oversell proof: 20 floor checkouts and 20 remote orders for 10 units)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from sqlalchemy import func, select

from catalog.models import Listing
from marketplace import outbox
from marketplace.extensions import db
from orders.models import Order
from syndication import remote_orders
from syndication.models import Connection, RemoteOrder, SyncRecord
from syndication.platforms import base as P
from tests.orders.orders_testlib import Shopper
from tests.support import read_mails
from tests.syndication.test_sync import mapped


def published(factory, opted_in, stock):
    category = factory.category("Trái cây")
    mapped(category)
    listing = opted_in(channels_on=("shopee",), category=category, stock=stock, title="Cam bù Hương Sơn")
    outbox.drain()
    return listing


def remote_id_of(listing) -> str:
    return db.session.scalar(select(SyncRecord.remote_id).where(SyncRecord.listing_id == listing.id))


def stock_of(listing_id: int) -> int:
    db.session.expire_all()
    return db.session.get(Listing, listing_id).stock


def test_a_remote_order_takes_stock_once_and_the_stock_goes_out(
    app, factory, opted_in, fake_platform, floor_connection
):
    listing = published(factory, opted_in, stock=10)
    remote_id = remote_id_of(listing)
    fake_platform.calls.clear()
    order_id = fake_platform.add_order(remote_id, 3)

    for _ in range(2):  # pulled twice (an overlap): taken once
        remote_orders.pull(db.session.get(Connection, floor_connection.id))
        db.session.commit()
    assert stock_of(listing.id) == 7
    row = db.session.scalar(select(RemoteOrder))
    assert (row.remote_order_id, row.state, row.quantity, row.shop_id) == (
        order_id,
        "taken",
        3,
        listing.shop_id,
    )
    outbox.drain()
    assert fake_platform.methods() == ["recent_orders", "recent_orders", "update_stock"]
    assert fake_platform.items[remote_id]["stock"] == 7


def test_a_remote_order_matched_by_sku(app, factory, opted_in, fake_platform, floor_connection):
    listing = published(factory, opted_in, stock=5)
    fake_platform.add_order("unknown-item", 2, sku=f"HT-{listing.id}")
    remote_orders.pull(db.session.get(Connection, floor_connection.id))
    db.session.commit()
    assert stock_of(listing.id) == 3


def test_a_remote_order_without_stock_is_flagged_for_the_shop_at_once(
    app, factory, opted_in, fake_platform, floor_connection
):
    listing = published(factory, opted_in, stock=1)
    owner = next(m.user for m in listing.shop.members if m.role == "owner")
    fake_platform.add_order(remote_id_of(listing), 2)
    remote_orders.pull(db.session.get(Connection, floor_connection.id))
    db.session.commit()
    assert stock_of(listing.id) == 1  # nothing taken
    row = db.session.scalar(select(RemoteOrder))
    assert row.state == "no_stock"
    outbox.drain()
    mails = [m for m in read_mails(app) if m["to"] == owner.email]
    assert any("không còn hàng" in m["subject"] for m in mails)


def test_cancelled_and_unmatched_orders_take_nothing(app, factory, opted_in, fake_platform, floor_connection):
    listing = published(factory, opted_in, stock=4)
    fake_platform.orders.append(
        P.RemoteOrder(
            "ORD-C",
            datetime.now(UTC),
            "CANCELLED",
            (P.RemoteOrderLine(remote_id_of(listing), None, 1, 45000),),
            cancelled=True,
        )
    )
    fake_platform.add_order("not-ours", 1)
    remote_orders.pull(db.session.get(Connection, floor_connection.id))
    db.session.commit()
    assert stock_of(listing.id) == 4
    assert [r.state for r in db.session.scalars(select(RemoteOrder))] == ["unmatched"]


def test_two_channels_one_stock_exactly_ten_of_forty_succeed(
    app, factory, opted_in, fake_platform, floor_connection
):
    """20 floor checkouts and 20 remote orders, all at once, for 10 units: exactly 10 succeed
    across both channels, and the stock ends at 0 (never below)."""
    listing = published(factory, opted_in, stock=10)
    remote_id = remote_id_of(listing)
    app.config["WTF_CSRF_ENABLED"] = False
    commune_id = factory.commune().id
    floor = []
    for i in range(20):
        client = app.test_client()
        shopper = Shopper(client, commune_id)
        assert shopper.add(listing, 1).status_code == 302
        floor.append((client, shopper.checkout_data("cod", email=f"khach{i}@example.vn")))
    remote = [
        P.RemoteOrder(
            f"R{i}", datetime.now(UTC), "READY_TO_SHIP", (P.RemoteOrderLine(remote_id, None, 1, 45000),)
        )
        for i in range(20)
    ]
    connection_id = floor_connection.id
    barrier = threading.Barrier(40)
    results: dict[str, list] = {"floor": [], "remote": []}

    def checkout(i):
        client, data = floor[i]
        barrier.wait()
        results["floor"].append(client.post("/thanh-toan", data=data).status_code)

    def remote_order(i):
        with app.app_context():
            barrier.wait()
            connection = db.session.get(Connection, connection_id)
            rows = remote_orders.take(connection, remote[i])
            db.session.commit()
            results["remote"].append(rows[0].state)
            db.session.remove()

    threads = [threading.Thread(target=checkout, args=(i,)) for i in range(20)]
    threads += [threading.Thread(target=remote_order, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not any(t.is_alive() for t in threads), "a checkout or a remote order hung"

    floor_won = results["floor"].count(302)
    remote_won = results["remote"].count("taken")
    assert len(results["floor"]) == 20 and len(results["remote"]) == 20
    assert floor_won + remote_won == 10, (results["floor"], results["remote"])
    assert set(results["floor"]) <= {302, 409}
    assert results["remote"].count("no_stock") == 20 - remote_won
    assert stock_of(listing.id) == 0
    assert db.session.scalar(select(func.count()).select_from(Order)) == floor_won
    assert db.session.scalar(select(func.sum(RemoteOrder.quantity)).where(RemoteOrder.state == "taken")) == (
        remote_won or None
    )


def test_one_remote_order_pulled_by_eight_workers_at_once_takes_stock_once(
    app, factory, opted_in, fake_platform, floor_connection
):
    """The same order read by concurrent pulls (overlapping slots, a reconcile): the line's
    unique row is inserted before the stock is taken, so one worker takes it and the others
    stop on the constraint and roll back."""
    from sqlalchemy.exc import IntegrityError

    listing = published(factory, opted_in, stock=10)
    order = P.RemoteOrder(
        "R-SAME",
        datetime.now(UTC),
        "READY_TO_SHIP",
        (P.RemoteOrderLine(remote_id_of(listing), None, 3, 45000),),
    )
    connection_id = floor_connection.id
    barrier = threading.Barrier(8)
    outcomes: list[str] = []

    def worker():
        with app.app_context():
            barrier.wait()
            try:
                rows = remote_orders.take(db.session.get(Connection, connection_id), order)
                db.session.commit()
                outcomes.append(rows[0].state if rows else "skipped")
            except IntegrityError:
                db.session.rollback()
                outcomes.append("refused")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not any(t.is_alive() for t in threads)
    assert outcomes.count("taken") == 1 and len(outcomes) == 8, outcomes
    assert stock_of(listing.id) == 7
    assert db.session.scalar(select(func.count()).select_from(RemoteOrder)) == 1
