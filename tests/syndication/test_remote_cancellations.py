"""A platform order cancelled after it took the floor's stock gives the stock back exactly once:
the pull re-reads orders updated since the last pull (an older order's cancellation too), the
line turns 'cancelled' through a conditional UPDATE, and the new stock goes out to every other
channel. Through the real adapters and the Shopee / Lazada stand-ins; the concurrency proof runs
on SQLite and on PostgreSQL."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from catalog.models import Listing
from marketplace.extensions import db
from syndication import remote_orders
from syndication.models import Connection, RemoteOrder, SyncRecord
from syndication.platforms import base as P
from tests.syndication.platforms.standins import LazadaStandin, ShopeeStandin
from tests.syndication.test_end_to_end import configure, drain_now
from tests.syndication.test_remote_orders import published, remote_id_of, stock_of
from tests.syndication.test_sync import mapped

THREE_DAYS = 3 * 86400


def connect(app, standin, shop: str) -> Connection:
    configure(app, standin)
    token = standin.issue_token(shop)
    connection = Connection(
        shop_id=None,
        platform=standin.platform,
        remote_shop_id=shop,
        access_token=token.access_token,
        refresh_token=token.refresh_token,
        expires_at=token.expires_at.replace(tzinfo=None),
    )
    db.session.add(connection)
    db.session.commit()
    return connection


def remote_id_on(listing, connection) -> str:
    return db.session.scalar(
        select(SyncRecord.remote_id).where(
            SyncRecord.listing_id == listing.id, SyncRecord.connection_id == connection.id
        )
    )


def pull(connection_id: int) -> None:
    remote_orders.pull(db.session.get(Connection, connection_id))
    db.session.commit()


@pytest.mark.parametrize("origin", ["shopee", "lazada"])
def test_an_order_cancelled_on_the_platform_gives_the_stock_back_once_to_every_channel(
    app, factory, opted_in, origin
):
    with ShopeeStandin() as shopee, LazadaStandin() as lazada:
        connections = {"shopee": connect(app, shopee, "SH1"), "lazada": connect(app, lazada, "LZ1")}
        standins = {"shopee": shopee, "lazada": lazada}
        category = factory.category("Trái cây")
        mapped(category, platform="shopee", remote="100636", brand_id="0", brand_name="NoBrand")
        mapped(category, platform="lazada", remote=sorted(lazada.categories)[0])
        listing = opted_in(
            channels_on=("shopee", "lazada"), category=category, title="Cam bù Hương Sơn", stock=10
        )
        drain_now()
        other = "lazada" if origin == "shopee" else "shopee"
        source, elsewhere = standins[origin], standins[other]
        origin_id, other_id = connections[origin].id, connections[other].id
        elsewhere_item = remote_id_on(listing, connections[other])
        elsewhere_key = elsewhere_item.split(":")[0]

        order_id = source.add_order(remote_id_on(listing, connections[origin]).split(":")[0], 3)
        pull(origin_id)
        drain_now()
        assert stock_of(listing.id) == 7
        assert elsewhere.items[elsewhere_key]["stock"] == 7

        # The order is old now (outside the created-since window) when the buyer cancels it:
        # only the update-time read can see the cancellation.
        with source.lock:
            source.orders[order_id]["created"] -= THREE_DAYS
        source.cancel_order(order_id)
        elsewhere.calls.clear()
        for _ in range(3):  # pulled again and again: given back once
            pull(origin_id)
        assert stock_of(listing.id) == 10
        assert db.session.get(Listing, listing.id).sales_count == 0
        row = db.session.scalar(select(RemoteOrder))
        assert (row.remote_order_id, row.state) == (order_id, "cancelled")
        assert row.remote_status == source.cancelled_status
        drain_now()
        assert elsewhere.calls, "the other channel got no stock push"
        assert elsewhere.items[elsewhere_key]["stock"] == 10
        assert db.session.get(Connection, other_id).state == "active"


def test_the_shops_inbox_shows_the_cancelled_platform_order(
    app, client, factory, opted_in, fake_platform, floor_connection
):
    from tests.support import sign_in

    listing = published(factory, opted_in, stock=10)
    owner = next(m.user for m in listing.shop.members if m.role == "owner")
    order_id = fake_platform.add_order(remote_id_of(listing), 2)
    pull(floor_connection.id)
    fake_platform.cancel_order(order_id)
    pull(floor_connection.id)
    assert stock_of(listing.id) == 10
    sign_in(client, owner)
    page = client.get(f"/kenh-ban/{listing.shop.slug}/don-hang").get_data(as_text=True)
    assert order_id in page and "Đã huỷ trên sàn" in page


def test_a_cancelled_no_stock_order_gives_nothing_back(
    app, factory, opted_in, fake_platform, floor_connection
):
    listing = published(factory, opted_in, stock=1)
    order_id = fake_platform.add_order(remote_id_of(listing), 2)
    pull(floor_connection.id)
    assert db.session.scalar(select(RemoteOrder.state)) == "no_stock"
    fake_platform.cancel_order(order_id)
    fake_platform.add_order("not-ours", 1)
    unmatched_id = fake_platform.orders[-1].remote_order_id
    pull(floor_connection.id)
    fake_platform.cancel_order(unmatched_id)
    pull(floor_connection.id)
    assert stock_of(listing.id) == 1
    assert db.session.get(Listing, listing.id).sales_count == 0
    db.session.expire_all()
    assert [r.state for r in db.session.scalars(select(RemoteOrder).order_by(RemoteOrder.id))] == [
        "cancelled",
        "cancelled",
    ]


def test_one_cancellation_seen_by_eight_workers_at_once_gives_the_stock_back_once(
    app, factory, opted_in, fake_platform, floor_connection
):
    """Overlapping pulls (and a reconcile) read the same cancellation at the same moment: the
    conditional UPDATE ... WHERE state='taken' matches for one of them, which alone releases."""
    listing = published(factory, opted_in, stock=10)
    line = P.RemoteOrderLine(remote_id_of(listing), None, 3, 45000)
    remote_orders.take(
        db.session.get(Connection, floor_connection.id),
        P.RemoteOrder("R-CANCEL", datetime.now(UTC), "READY_TO_SHIP", (line,)),
    )
    db.session.commit()
    assert stock_of(listing.id) == 7
    cancelled = P.RemoteOrder("R-CANCEL", datetime.now(UTC), "CANCELLED", (line,), cancelled=True)
    connection_id = floor_connection.id
    barrier = threading.Barrier(8)
    outcomes: list[int] = []
    errors: list[SQLAlchemyError] = []

    def worker():
        with app.app_context():
            try:
                connection = db.session.get(Connection, connection_id)
                barrier.wait()
                rows = remote_orders.cancel(connection, cancelled)
                db.session.commit()
                outcomes.append(len(rows))
            except SQLAlchemyError as exc:  # reported below, not swallowed
                errors.append(exc)
                db.session.rollback()
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not any(t.is_alive() for t in threads)
    assert not errors, errors
    assert sorted(outcomes) == [0] * 7 + [1], outcomes
    assert stock_of(listing.id) == 10
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(RemoteOrder)) == 1
    assert db.session.scalar(select(RemoteOrder.state)) == "cancelled"


def test_an_order_placed_before_the_connection_and_read_as_updated_takes_nothing(
    app, factory, opted_in, fake_platform, floor_connection
):
    from datetime import timedelta

    listing = published(factory, opted_in, stock=5)
    line = P.RemoteOrderLine(remote_id_of(listing), None, 2, 45000)
    old = P.RemoteOrder("R-OLD", datetime.now(UTC) - timedelta(days=2), "SHIPPED", (line,))
    assert remote_orders.take(db.session.get(Connection, floor_connection.id), old) == []
    db.session.commit()
    assert stock_of(listing.id) == 5
