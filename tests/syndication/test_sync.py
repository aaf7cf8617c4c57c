"""The sync engine's decisions, through the adapter protocol with a recording double: what is
sent to a platform, and when; how failures are handled."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from catalog import services as catalog_services
from marketplace import outbox
from marketplace.extensions import db
from marketplace.models import OutboxEvent
from marketplace.timeutil import utcnow
from sellers.services import suspend_shop
from syndication import channels
from syndication.models import CategoryMapping, Connection, SyncRecord, UploadedImage
from syndication.platforms import base as P
from tests.support import image_bytes, read_mails


def drain() -> None:
    outbox.drain()


def mapped(category, platform="shopee", remote="100640", **attributes):
    db.session.add(
        CategoryMapping(
            platform=platform, category_id=category.id, remote_category_id=remote, attributes=attributes
        )
    )
    db.session.commit()


def record_of(listing, connection) -> SyncRecord:
    db.session.expire_all()
    return db.session.scalar(
        select(SyncRecord).where(
            SyncRecord.listing_id == listing.id, SyncRecord.connection_id == connection.id
        )
    )


@pytest.fixture
def synced(factory, opted_in, fake_platform, floor_connection):
    """A listing published on the floor's Shopee store, the calls so far forgotten."""
    category = factory.category("Trái cây")
    mapped(category, brand="No brand")
    listing = opted_in(channels_on=("feeds", "shopee"), category=category, price=45000, stock=10)
    drain()
    record = record_of(listing, floor_connection)
    assert record.state == "synced" and record.remote_id
    assert fake_platform.methods() == ["upload_image", "publish"]
    fake_platform.calls.clear()
    return listing


def owner_of(listing):
    return next(m.user for m in listing.shop.members if m.role == "owner")


def edit(listing, **changes):
    """The producer saves the listing's form with `changes` (everything else as it is)."""
    data = {
        "title": listing.title,
        "category": listing.category,
        "unit": listing.unit,
        "price_vnd": listing.price_vnd,
        "stock": listing.stock,
        "min_order_qty": listing.min_order_qty,
        "weight_grams": listing.weight_grams,
        "description": listing.description,
        "status": listing.status,
        **changes,
    }
    catalog_services.update_listing(listing, data, actor=owner_of(listing))
    db.session.commit()


def test_publish_sends_the_mapped_payload(factory, opted_in, fake_platform, floor_connection):
    category = factory.category("Mật ong")
    mapped(category, remote="100712", origin="Hà Tĩnh")
    listing = opted_in(
        channels_on=("shopee",),
        category=category,
        title="Mật ong rừng",
        price=250000,
        stock=4,
        weight_grams=700,
    )
    drain()
    record = record_of(listing, floor_connection)
    item = fake_platform.items[record.remote_id]
    payload = item["payload"]
    assert payload.sku == f"HT-{listing.id}"
    assert (payload.title, payload.price_vnd, payload.stock, payload.weight_g) == (
        "Mật ong rừng",
        250000,
        4,
        700,
    )
    assert payload.category_id == "100712" and payload.attributes == {"origin": "Hà Tĩnh"}
    assert len(payload.image_ids) == 1 and payload.image_ids[0] in fake_platform.images
    assert record.last_success_at is not None and record.last_error is None
    assert set(record.hashes) == {"presence", "content", "price", "stock"}


def test_a_price_change_sends_only_the_price_call(app, synced, fake_platform, floor_connection):
    edit(synced, price_vnd=50000)
    drain()
    assert fake_platform.methods() == ["update_price"]
    assert fake_platform.items[record_of(synced, floor_connection).remote_id]["price"] == 50000


def test_nothing_changed_sends_nothing(synced, fake_platform, floor_connection):
    edit(synced)  # saved without a change
    drain()
    assert fake_platform.calls == []
    assert record_of(synced, floor_connection).state == "synced"


def test_a_checkout_pushes_only_the_stock(synced, fake_platform, floor_connection):
    from orders.services import reserve_stock

    reserve_stock({synced.id: synced}, {synced.id: 3})
    catalog_services.listing_event(synced.id, "stock")
    db.session.commit()
    drain()
    assert fake_platform.methods() == ["update_stock"]
    assert fake_platform.items[record_of(synced, floor_connection).remote_id]["stock"] == 7


def test_content_change_updates_and_new_images_upload_once(synced, fake_platform, floor_connection):
    edit(synced, title="Cam bù Hương Sơn loại 1")
    drain()
    assert fake_platform.methods() == ["update"]  # the photo is already there: no upload
    catalog_services.add_images(synced, [image_bytes(color=(10, 200, 10))], actor=owner_of(synced))
    db.session.commit()
    drain()
    assert fake_platform.methods() == ["update", "upload_image", "update"]
    assert db.session.scalar(select(db.func.count()).select_from(UploadedImage)) == 2


@pytest.mark.parametrize("how", ["archived", "hidden", "suspended", "channel_off"])
def test_leaving_deletes_the_remote_copy(how, factory, synced, fake_platform, floor_connection):
    operator = factory.operator()
    if how == "archived":
        catalog_services.set_listing_status(synced, "archived", actor=owner_of(synced))
    elif how == "hidden":
        catalog_services.hide_listing(synced, "Sai thông tin", actor=operator)
    elif how == "suspended":
        suspend_shop(synced.shop, "Vi phạm", actor=operator)
    else:
        channels.set_listing_channel(synced.id, "shopee", False)
        catalog_services.listing_event(synced.id, "channels")
    db.session.commit()
    remote_id = record_of(synced, floor_connection).remote_id
    drain()
    assert fake_platform.methods() == ["delete"]
    assert fake_platform.items[remote_id]["status"] == "deleted"
    record = record_of(synced, floor_connection)
    assert record.state == "removed" and record.remote_id is None
    drain()
    assert fake_platform.methods() == ["delete"]  # and nothing more


def test_unmapped_category_is_reported_not_guessed(factory, opted_in, fake_platform, floor_connection):
    listing = opted_in(channels_on=("shopee",), category=factory.category("Đặc sản khác"))
    drain()
    record = record_of(listing, floor_connection)
    assert fake_platform.calls == []
    assert record.state == "needs_attention"
    assert "chưa được ánh xạ" in record.last_error and "Đặc sản khác" in record.last_error


def test_rate_limit_retries_after_the_platforms_delay(synced, fake_platform, floor_connection):
    fake_platform.failures.append(P.RateLimited("slow down", "error_rate_limit", retry_after=42))
    edit(synced, price_vnd=47000)
    drain()
    record = record_of(synced, floor_connection)
    assert record.state == "failed" and "giới hạn" in record.last_error
    event = db.session.scalar(
        select(OutboxEvent).where(OutboxEvent.topic == "syndication.push", OutboxEvent.status == "pending")
    )
    wait = (event.next_attempt_at - utcnow()).total_seconds()
    assert 35 < wait <= 42
    event.next_attempt_at = utcnow()
    db.session.commit()
    drain()
    assert fake_platform.methods() == ["update_price"]
    assert record_of(synced, floor_connection).state == "synced"


def test_unavailable_retries_with_backoff(synced, fake_platform, floor_connection):
    fake_platform.failures.append(P.Unavailable("502 Bad Gateway"))
    edit(synced, stock=4)
    drain()
    event = db.session.scalar(
        select(OutboxEvent).where(OutboxEvent.topic == "syndication.push", OutboxEvent.status == "pending")
    )
    assert event is not None and event.attempts == 1
    assert record_of(synced, floor_connection).state == "failed"


def test_validation_error_stops_and_says_what_to_fix(synced, fake_platform, floor_connection):
    fake_platform.failures.append(P.ValidationFailed("item_name too long", "error_param", field="item_name"))
    edit(synced, title="Cam bù Hương Sơn chín cây")
    drain()
    record = record_of(synced, floor_connection)
    assert record.state == "needs_attention"
    assert "Tên sản phẩm" in record.last_error and "Hãy sửa" in record.last_error
    assert (
        db.session.scalar(
            select(OutboxEvent).where(OutboxEvent.topic == "syndication.push", OutboxEvent.status != "done")
        )
        is None
    )


def test_expired_token_refreshes_once_and_retries(synced, fake_platform, floor_connection):
    fake_platform.valid_tokens = {"somebody-else"}  # the platform expired our access token
    edit(synced, price_vnd=52000)
    drain()
    assert fake_platform.methods() == ["refresh", "update_price"]
    connection = db.session.get(Connection, floor_connection.id)
    assert connection.access_token in fake_platform.valid_tokens and connection.state == "active"


def test_a_token_about_to_expire_is_refreshed_before_the_call(synced, fake_platform, floor_connection):
    connection = db.session.get(Connection, floor_connection.id)
    connection.expires_at = utcnow() + timedelta(minutes=5)
    edit(synced, price_vnd=52000)
    drain()
    assert fake_platform.methods() == ["refresh", "update_price"]


def test_revoked_authorisation_needs_reconnecting_and_tells_the_owner(
    app, factory, synced, fake_platform, floor_connection
):
    operator = factory.operator(email="vanhanh@example.vn")
    fake_platform.valid_tokens = set()
    fake_platform.refresh_tokens = set()
    edit(synced, price_vnd=52000)
    drain()
    connection = db.session.get(Connection, floor_connection.id)
    assert connection.state == "needs_reconnecting"
    record = record_of(synced, floor_connection)
    assert record.state == "failed" and "kết nối lại" in record.last_error
    mails = [m for m in read_mails(app) if m["to"] == operator.email]
    assert any("Shopee" in m["subject"] for m in mails)
    # Nothing more is attempted until someone reconnects.
    fake_platform.calls.clear()
    edit(synced, price_vnd=53000)
    drain()
    assert fake_platform.calls == []


def test_reconcile_repairs_drift(runner, synced, fake_platform, floor_connection):
    remote_id = record_of(synced, floor_connection).remote_id
    fake_platform.items[remote_id]["price"] = 1000  # someone edited it on the platform
    result = runner.invoke(args=["syndication", "reconcile"])
    assert result.exit_code == 0, result.output
    assert "drifted 1" in result.output
    drain()
    assert fake_platform.methods() == ["read_item", "recent_orders", "update_price"]
    assert fake_platform.items[remote_id]["price"] == 45000


def test_the_worker_schedules_the_pull_and_the_nightly_reconcile(app, floor_connection):
    from syndication import hooks

    assert "syndication.pulls" in app.extensions["worker_periodic"]
    assert hooks.schedule_pulls() == 1
    assert hooks.schedule_pulls() == 0  # once per slot
    app.config["SYNDICATION_RECONCILE_HOUR"] = 0
    assert hooks.schedule_reconcile() is True
    assert hooks.schedule_reconcile() is False  # once a night


def test_a_refused_signature_fails_for_the_operator_without_retrying(synced, fake_platform, floor_connection):
    fake_platform.failures.append(P.PlatformError("Wrong sign.", "error_sign"))
    edit(synced, price_vnd=46000)
    drain()
    record = record_of(synced, floor_connection)
    assert (
        record.state == "failed" and "error_sign" in record.last_error and "Ban quản lý" in record.last_error
    )
    assert db.session.scalar(select(OutboxEvent).where(OutboxEvent.status != "done")) is None


def test_the_worker_runs_the_periodic_tasks_it_was_given(app, floor_connection):
    due: dict[str, float] = {}
    app.config["SYNDICATION_RECONCILE_HOUR"] = 0
    outbox.run_periodic(due)
    assert {"syndication.pulls", "syndication.reconcile"} <= set(due)
    topics = set(db.session.scalars(select(OutboxEvent.topic).where(OutboxEvent.status == "pending")))
    assert topics == {"syndication.pull_orders", "syndication.reconcile"}
    outbox.run_periodic(due)  # not due again yet: nothing more
    assert db.session.scalar(select(db.func.count()).select_from(OutboxEvent)) == 2


def test_a_revoked_authorisation_during_the_orders_pull(app, fake_platform, floor_connection):
    from syndication import hooks

    fake_platform.valid_tokens = set()
    fake_platform.refresh_tokens = set()
    hooks.schedule_pulls()
    drain()
    assert db.session.get(Connection, floor_connection.id).state == "needs_reconnecting"


def test_a_shops_own_connection_takes_over_from_the_floors_store(synced, fake_platform, floor_connection):
    from syndication import services

    floor_copy = record_of(synced, floor_connection).remote_id
    own = Connection(
        shop_id=synced.shop_id,
        platform="shopee",
        remote_shop_id="SHOP-OWN",
        access_token="tok-1",
        refresh_token="ref-1",
        expires_at=utcnow() + timedelta(hours=4),
    )
    db.session.add(own)
    db.session.flush()
    services.resync_connection(own)  # what finishing the authorisation does
    db.session.commit()
    drain()
    # Off the floor's store, onto the shop's own (its photo uploaded there once).
    assert sorted(fake_platform.methods()) == ["delete", "publish", "upload_image"]
    assert fake_platform.items[floor_copy]["status"] == "deleted"
    assert record_of(synced, floor_connection).state == "removed"
    mine = record_of(synced, own)
    assert mine.state == "synced" and mine.remote_id != floor_copy


def test_price_and_stock_wait_for_the_batch_and_a_refused_batch_goes_sku_by_sku(
    factory, opted_in, fake_platform, floor_connection
):
    category = factory.category("Trái cây")
    mapped(category)
    shop = factory.shop()
    listings = [
        opted_in(shop=shop, channels_on=("shopee",), category=category, title=f"Cam {i}") for i in range(3)
    ]
    drain()
    fake_platform.batching = True
    fake_platform.calls.clear()
    for listing in listings:
        edit(listing, price_vnd=47000, stock=8)
    drain()
    assert fake_platform.calls == []  # waiting for the batch (BATCH_DELAY_S)
    event = db.session.scalar(select(OutboxEvent).where(OutboxEvent.topic == "syndication.batch"))
    event.next_attempt_at = utcnow()
    db.session.commit()
    drain()
    assert fake_platform.methods() == ["update_price_stock", "update_price_stock"]  # 2 SKUs a call
    assert {record_of(x, floor_connection).state for x in listings} == {"synced"}
    assert {fake_platform.items[record_of(x, floor_connection).remote_id]["price"] for x in listings} == {
        47000
    }

    fake_platform.calls.clear()
    fake_platform.failures.append(P.ValidationFailed("Price too low", "ItemPriceInvalid"))
    for listing in listings[:2]:
        edit(listing, price_vnd=1000)
    drain()
    event = db.session.scalar(
        select(OutboxEvent).where(OutboxEvent.topic == "syndication.batch", OutboxEvent.status == "pending")
    )
    event.next_attempt_at = utcnow()
    db.session.commit()
    drain()
    # The refused batch is retried SKU by SKU, so each error would land on its own listing.
    assert fake_platform.methods() == ["update_price", "update_price"]
    assert {record_of(x, floor_connection).state for x in listings} == {"synced"}


def _refresh_then(monkeypatch, failure: Exception) -> None:
    """The platform answers the refresh (rotating the refresh token, as Shopee, Lazada and Tiki
    do), then `failure` on the next call."""
    from tests.syndication.doubles import RecordingAdapter

    original = RecordingAdapter.refresh

    def refresh(self):
        token = original(self)
        self.fake.failures.append(failure)
        return token

    monkeypatch.setattr(RecordingAdapter, "refresh", refresh)


@pytest.mark.parametrize("failure", [P.RateLimited("slow down", "429", 30), P.Unavailable("502")])
def test_a_token_refreshed_before_a_throttled_pull_is_kept(
    monkeypatch, app, fake_platform, floor_connection, failure
):
    """The refresh token is single-use: a rotation the platform made must be stored even when
    the call after it is throttled, or the connection is lost at the next refresh."""
    from syndication import hooks

    connection = db.session.get(Connection, floor_connection.id)
    connection.expires_at = utcnow() + timedelta(minutes=5)  # refreshed before the pull
    db.session.commit()
    _refresh_then(monkeypatch, failure)
    hooks.schedule_pulls()
    drain()
    db.session.expire_all()
    connection = db.session.get(Connection, floor_connection.id)
    assert connection.refresh_token in fake_platform.refresh_tokens
    assert connection.access_token in fake_platform.valid_tokens
    event = db.session.scalar(select(OutboxEvent).where(OutboxEvent.topic == "syndication.pull_orders"))
    assert event.status == "pending" and event.attempts == 1  # retried later
    event.next_attempt_at = utcnow()
    db.session.commit()
    drain()
    assert db.session.get(Connection, floor_connection.id).state == "active"
    assert fake_platform.methods()[-1] == "recent_orders"


def test_a_token_refreshed_before_a_failed_reconcile_is_kept(
    monkeypatch, runner, synced, fake_platform, floor_connection
):
    connection = db.session.get(Connection, floor_connection.id)
    connection.expires_at = utcnow() + timedelta(minutes=5)
    db.session.commit()
    _refresh_then(monkeypatch, P.Unavailable("502"))
    result = runner.invoke(args=["syndication", "reconcile"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    connection = db.session.get(Connection, floor_connection.id)
    assert connection.refresh_token in fake_platform.refresh_tokens


def test_a_refresh_made_meanwhile_by_another_worker_is_used_not_repeated(fake_platform, floor_connection):
    """Two workers pushing through one connection: the first refreshes (the platform rotates the
    refresh token), the second must take the stored token instead of spending the old refresh
    token, which the platform now refuses (the connection would wrongly need reconnecting)."""
    from datetime import UTC, datetime

    from sqlalchemy import update

    from syndication import engine

    connection = db.session.get(Connection, floor_connection.id)
    session = engine.Session(connection)  # this worker holds tok-1 / ref-1
    other = fake_platform.factory(None, engine.token_of(connection)).refresh()  # the other worker
    db.session.execute(
        update(Connection)
        .where(Connection.id == connection.id)
        .values(
            access_token=other.access_token,
            refresh_token=other.refresh_token,
            expires_at=other.expires_at.astimezone(UTC).replace(tzinfo=None),
        )
        .execution_options(synchronize_session=False)
    )
    fake_platform.calls.clear()
    orders = session.call(lambda a: a.recent_orders(datetime.now(UTC)))  # tok-1 is refused now
    assert orders == []
    assert fake_platform.methods() == ["recent_orders"]  # no second refresh
    assert connection.state == "active" and connection.access_token == other.access_token


def test_a_token_about_to_expire_that_another_worker_refreshed_is_not_refreshed_again(
    fake_platform, floor_connection
):
    from datetime import UTC

    from sqlalchemy import update

    from syndication import engine

    connection = db.session.get(Connection, floor_connection.id)
    connection.expires_at = utcnow() + timedelta(minutes=5)
    db.session.commit()
    connection = db.session.get(Connection, floor_connection.id)
    assert connection.expires_at is not None  # loaded: this worker read the old expiry
    other = fake_platform.factory(None, engine.token_of(connection)).refresh()
    db.session.execute(
        update(Connection)
        .where(Connection.id == connection.id)
        .values(
            access_token=other.access_token,
            refresh_token=other.refresh_token,
            expires_at=other.expires_at.astimezone(UTC).replace(tzinfo=None),
        )
        .execution_options(synchronize_session=False)
    )
    fake_platform.calls.clear()
    session = engine.Session(connection)
    assert fake_platform.methods() == []  # nothing refreshed: the stored token is fresh
    session.call(lambda a: a.recent_orders(utcnow().replace(tzinfo=UTC)))
    assert fake_platform.methods() == ["recent_orders"] and connection.state == "active"


@pytest.mark.parametrize("how", ["archived", "channel_off"])
def test_a_listing_that_leaves_before_it_was_ever_sent_clears_its_problem(
    how, factory, opted_in, fake_platform, floor_connection
):
    """A listing waiting as "needs attention" (unmapped category) that is archived or taken off
    the channel is no longer the producer's problem: its record ends "removed", not stuck."""
    listing = opted_in(channels_on=("shopee",), category=factory.category("Đặc sản khác"))
    drain()
    assert record_of(listing, floor_connection).state == "needs_attention"
    if how == "archived":
        catalog_services.set_listing_status(listing, "archived", actor=owner_of(listing))
    else:
        from syndication import services

        services.set_listing_channels(listing, {"shopee": False}, actor=owner_of(listing))
    db.session.commit()
    drain()
    record = record_of(listing, floor_connection)
    assert (record.state, record.last_error) == ("removed", None)
    assert fake_platform.calls == []
