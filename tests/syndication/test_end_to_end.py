"""End to end through the real adapters and the platforms' stand-ins (tests/syndication/platforms
/standins.py: their published signature checks, envelopes, errors, rate limits and token
expiry): the producer connects through the authorisation redirect, the listing is published,
a price change sends only the price call, an order placed on the platform takes the floor's
stock and the new stock goes back, an expired token is refreshed, a rate limit is retried."""

from __future__ import annotations

import time
import urllib.request
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from catalog import services as catalog_services
from marketplace import outbox
from marketplace.extensions import db
from marketplace.models import OutboxEvent
from marketplace.timeutil import utcnow
from syndication import remote_orders
from syndication.models import Connection, RemoteOrder, SyncRecord
from tests.support import sign_in
from tests.syndication.platforms.standins import LazadaStandin, ShopeeStandin
from tests.syndication.test_sync import edit, mapped


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def follow_platform_page(url: str) -> str:
    """The platform's authorisation page: the seller logs in and agrees; it redirects back."""
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        opener.open(url, timeout=10)
    except urllib.error.HTTPError as answer:
        assert answer.code == 302
        return answer.headers["Location"]
    raise AssertionError("the authorisation page did not redirect")


def configure(app, standin) -> None:
    key = standin.platform.upper()
    creds = standin.credentials
    app.config.update(
        {
            f"SYNDICATION_{key}_APP_ID": creds.app_id,
            f"SYNDICATION_{key}_SECRET": creds.secret,
            f"SYNDICATION_{key}_BASE_URL": creds.base_url,
        }
    )


def drain_now() -> None:
    """Drain, making retries due at once (a test does not wait out a backoff)."""
    for _ in range(5):
        outbox.drain()
        pending = db.session.scalars(select(OutboxEvent).where(OutboxEvent.status == "pending")).all()
        if not pending:
            return
        # A stand-in counts calls per wall-clock second, as the platforms do; retrying within the
        # second that ran out of budget would only be refused again (CI saw five refusals in a row).
        time.sleep(1.0 - time.time() % 1.0)
        for event in pending:
            event.next_attempt_at = utcnow()
        db.session.commit()


def api_paths(standin) -> list[str]:
    return [path for _method, path in standin.calls]


@pytest.fixture
def shopee():
    with ShopeeStandin() as standin:
        yield standin


def test_shopee_end_to_end(app, client, factory, opted_in, shopee):
    configure(app, shopee)
    category = factory.category("Trái cây")
    mapped(category, platform="shopee", remote="100636", brand_id="0", brand_name="NoBrand")
    listing = opted_in(
        channels_on=("shopee",), category=category, title="Cam bù Hương Sơn", price=45000, stock=10
    )
    owner = next(m.user for m in listing.shop.members if m.role == "owner")
    drain_now()
    assert db.session.scalar(select(SyncRecord)) is None  # no connection yet: nothing to send

    # The producer connects their Shopee shop: our page -> Shopee's authorisation page -> back.
    sign_in(client, owner)
    page = client.get(f"/kenh-ban/{listing.shop.slug}/kenh-ban-khac/")
    assert page.status_code == 200 and "Kết nối cửa hàng Shopee của bạn" in page.get_data(as_text=True)
    csrf = page.get_data(as_text=True).split('name="csrf_token" value="')[1].split('"')[0]
    started = client.post(
        f"/kenh-ban/{listing.shop.slug}/kenh-ban-khac/ket-noi/shopee", data={"csrf_token": csrf}
    )
    assert started.status_code == 302 and started.headers["Location"].startswith(shopee.base_url)
    back = follow_platform_page(started.headers["Location"])
    parts = urlsplit(back)
    assert parts.path == "/ket-noi-san/shopee/xong" and parse_qs(parts.query)["shop_id"] == ["101"]
    forged = back.replace("state=", "state=x")
    assert client.get(f"{parts.path}?{urlsplit(forged).query}").status_code == 400  # and the state is spent
    # A second round, honest this time.
    started = client.post(
        f"/kenh-ban/{listing.shop.slug}/kenh-ban-khac/ket-noi/shopee", data={"csrf_token": csrf}
    )
    back = urlsplit(follow_platform_page(started.headers["Location"]))
    done = client.get(f"{back.path}?{back.query}")
    assert done.status_code == 302
    connection = db.session.scalar(select(Connection))
    assert (connection.shop_id, connection.remote_shop_id, connection.state) == (
        listing.shop_id,
        "101",
        "active",
    )
    assert connection.access_token and connection.refresh_token and connection.expires_at
    page = client.get(f"/kenh-ban/{listing.shop.slug}/kenh-ban-khac/").get_data(as_text=True)
    assert connection.access_token not in page and connection.refresh_token not in page  # never shown in full

    # Connected: the listing goes out (image once, then the item).
    drain_now()
    record = db.session.scalar(select(SyncRecord))
    assert record.state == "synced", record.last_error
    item = shopee.items[record.remote_id]
    assert item["price"] == 45000 and item["stock"] == 10
    assert api_paths(shopee)[-2:] == ["/api/v2/media_space/upload_image", "/api/v2/product/add_item"]

    # A price change: only the price call.
    shopee.calls.clear()
    edit(listing, price_vnd=48000)
    drain_now()
    assert api_paths(shopee) == ["/api/v2/product/update_price"]
    assert shopee.items[record.remote_id]["price"] == 48000

    # Nothing changed: nothing sent.
    shopee.calls.clear()
    edit(listing)
    drain_now()
    assert shopee.calls == []

    # An order on Shopee takes the floor's stock; the new stock goes back to Shopee.
    shopee.add_order(record.remote_id, 3)
    shopee.calls.clear()
    remote_orders.pull(db.session.get(Connection, connection.id))
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(type(listing), listing.id).stock == 7
    assert db.session.scalar(select(RemoteOrder.state)) == "taken"
    drain_now()
    assert "/api/v2/product/update_stock" in api_paths(shopee)
    assert shopee.items[record.remote_id]["stock"] == 7
    inbox = client.get(f"/kenh-ban/{listing.shop.slug}/don-hang").get_data(as_text=True)
    assert "Đơn đặt trên các nền tảng" in inbox and "Shopee" in inbox

    # The platform expired the access token: refreshed once, the call retried.
    shopee.expire_tokens()
    old = connection.access_token
    shopee.calls.clear()
    edit(listing, price_vnd=49000)
    drain_now()
    db.session.expire_all()
    assert db.session.get(Connection, connection.id).access_token != old
    assert api_paths(shopee) == ["/api/v2/auth/access_token/get", "/api/v2/product/update_price"]

    # Rate limited: retried after the platform's delay.
    shopee.fail_next("rate_limit")
    shopee.calls.clear()
    edit(listing, price_vnd=50000)
    outbox.drain()
    assert db.session.scalar(select(SyncRecord.state)) == "failed"
    drain_now()
    assert api_paths(shopee) == ["/api/v2/product/update_price"]
    assert shopee.items[record.remote_id]["price"] == 50000

    # Archived: deleted on Shopee.
    shopee.calls.clear()
    catalog_services.set_listing_status(listing, "archived", actor=owner)
    db.session.commit()
    drain_now()
    assert api_paths(shopee) == ["/api/v2/product/delete_item"]
    assert db.session.scalar(select(SyncRecord.state)) == "removed"


def test_lazada_floor_connection_end_to_end(app, factory, opted_in):
    with LazadaStandin() as lazada:
        configure(app, lazada)
        token = lazada.issue_token("LZ1")
        connection = Connection(
            shop_id=None,
            platform="lazada",
            remote_shop_id="LZ1",
            access_token=token.access_token,
            refresh_token=token.refresh_token,
            expires_at=token.expires_at.replace(tzinfo=None),
        )
        db.session.add(connection)
        db.session.commit()
        category = factory.category("Mật ong")
        mapped(category, platform="lazada", remote=sorted(lazada.categories)[0])
        listing = opted_in(
            channels_on=("lazada",), category=category, title="Mật ong rừng Vũ Quang", price=250000, stock=5
        )
        drain_now()
        record = db.session.scalar(select(SyncRecord))
        assert record.state == "synced", record.last_error
        assert record.remote_id.split(":")[0] in lazada.items  # "<item_id>:<sku_id>"
        lazada.calls.clear()
        edit(listing, stock=4)
        drain_now()
        assert [p.removeprefix("/rest") for p in api_paths(lazada)] == [
            "/product/price_quantity/update"
        ]  # stock only


def test_tiki_review_is_followed_until_the_product_exists(app, runner, factory, opted_in):
    from tests.syndication.platforms.standins import TikiStandin

    with TikiStandin() as tiki:
        configure(app, tiki)
        token = tiki.issue_token(None)  # the floor's in-house app: client credentials
        connection = Connection(
            shop_id=None,
            platform="tiki",
            remote_shop_id="san-ha-tinh",
            access_token=token.access_token,
            refresh_token=None,
            expires_at=token.expires_at.replace(tzinfo=None),
        )
        db.session.add(connection)
        db.session.commit()
        category = factory.category("Chè")
        mapped(category, platform="tiki", remote="8322", origin="Hà Tĩnh")
        tiki.review = "pending"
        listing = opted_in(
            channels_on=("tiki",), category=category, title="Chè xanh Hương Khê", price=60000, stock=40
        )
        drain_now()
        record = db.session.scalar(select(SyncRecord))
        assert record.remote_id.startswith("track:")  # a reviewed request, not a product yet
        edit(listing, price_vnd=65000)
        outbox.drain()
        db.session.expire_all()
        record = db.session.scalar(select(SyncRecord))
        assert record.state == "failed" and "không phản hồi" in record.last_error  # under review: later

        tiki.review = "approve"
        result = runner.invoke(args=["syndication", "reconcile"])
        assert result.exit_code == 0, result.output
        drain_now()
        db.session.expire_all()
        record = db.session.scalar(select(SyncRecord))
        assert record.remote_id.isdigit() and record.state == "synced", record.last_error
        assert tiki.items[record.remote_id]["price"] == 65000


def test_lazada_prices_and_stocks_go_out_fifty_skus_a_call(app, factory, opted_in):
    """Lazada takes 50 SKUs a price/stock call: 60 changed listings, two calls; a listing whose
    price and stock both changed is one SKU in one call; unchanged ones are not sent."""
    with LazadaStandin() as lazada:
        configure(app, lazada)
        token = lazada.issue_token("LZ1")
        db.session.add(
            Connection(
                shop_id=None,
                platform="lazada",
                remote_shop_id="LZ1",
                access_token=token.access_token,
                refresh_token=token.refresh_token,
                expires_at=token.expires_at.replace(tzinfo=None),
            )
        )
        db.session.commit()
        category = factory.category("Mật ong")
        mapped(category, platform="lazada", remote=sorted(lazada.categories)[0])
        shop = factory.shop()
        listings = [
            opted_in(
                shop=shop,
                channels_on=("lazada",),
                category=category,
                title=f"Mật ong rừng {i}",
                price=250000,
                stock=5,
            )
            for i in range(65)
        ]
        drain_now()
        assert (
            db.session.scalar(
                select(db.func.count()).select_from(SyncRecord).where(SyncRecord.state == "synced")
            )
            == 65
        )
        lazada.calls.clear()
        for i, listing in enumerate(listings[:60]):
            if i % 2:
                edit(listing, price_vnd=260000)
            else:
                edit(listing, price_vnd=255000, stock=7)
        drain_now()
        paths = [p.removeprefix("/rest") for p in api_paths(lazada)]
        assert paths == ["/product/price_quantity/update"] * 2
        db.session.expire_all()
        records = {r.listing_id: r for r in db.session.scalars(select(SyncRecord))}
        assert {r.state for r in records.values()} == {"synced"}
        for i, listing in enumerate(listings[:60]):
            item = lazada.items[records[listing.id].remote_id.split(":")[0]]  # "<item_id>:<sku_id>"
            assert (item["price"], item["stock"]) == ((260000, 5) if i % 2 else (255000, 7))
