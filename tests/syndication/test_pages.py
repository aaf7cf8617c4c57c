"""The pages: the producer's channel choices and each channel's state on a listing, the
operator's board (filters, bulk resync), category mappings (unmapped reported) and connections;
operator pages are the operator's only."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from marketplace import outbox
from marketplace.extensions import db
from syndication import channels
from syndication.models import CategoryMapping, ListingChannel, ShopChannel, SyncRecord
from tests.support import sign_in
from tests.syndication.test_sync import mapped


@pytest.fixture
def attention(factory, opted_in, fake_platform, floor_connection):
    """One listing synced, one waiting for its category's mapping."""
    fruit, other = factory.category("Trái cây"), factory.category("Đặc sản khác")
    mapped(fruit)
    ok = opted_in(channels_on=("shopee",), category=fruit, title="Cam bù")
    waiting = opted_in(channels_on=("shopee",), category=other, title="Nhút Thanh Chương")
    outbox.drain()
    return ok, waiting, other


def owner_of(listing):
    return next(m.user for m in listing.shop.members if m.role == "owner")


def test_producer_chooses_channels_for_the_shop_and_one_listing(app, client, factory, opted_in, csrf_off):
    listing = opted_in(channels_on=())
    shop = listing.shop
    sign_in(client, owner_of(listing))
    page = client.get(f"/kenh-ban/{shop.slug}/kenh-ban-khac/")
    assert page.status_code == 200 and "Bán trên các sàn khác" in page.get_data(as_text=True)
    response = client.post(
        f"/kenh-ban/{shop.slug}/kenh-ban-khac/", data={"channel_feeds": "on", "channel_lazada": "on"}
    )
    assert response.status_code == 302
    assert channels.shop_choices(shop.id) == {"feeds": True, "shopee": False, "lazada": True, "tiki": False}

    url = f"/kenh-ban/{shop.slug}/kenh-ban-khac/san-pham/{listing.id}"
    assert (
        client.post(
            url, data={"channel_feeds": "off", "channel_shopee": "on", "channel_lazada": ""}
        ).status_code
        == 302
    )
    db.session.expire_all()
    assert channels.effective(listing) == {"feeds": False, "shopee": True, "lazada": True, "tiki": False}
    rows = {r.channel: r.enabled for r in db.session.scalars(select(ListingChannel))}
    assert rows == {"feeds": False, "shopee": True}  # lazada follows the shop
    assert db.session.scalar(select(ShopChannel).where(ShopChannel.channel == "tiki")).enabled is False
    # The listing's edit page links to its channels.
    edit = client.get(f"/kenh-ban/{shop.slug}/san-pham/{listing.id}").get_data(as_text=True)
    assert url in edit


def test_listing_page_shows_each_channels_state_and_error(client, attention):
    _ok, waiting, _other = attention
    sign_in(client, owner_of(waiting))
    html = client.get(f"/kenh-ban/{waiting.shop.slug}/kenh-ban-khac/san-pham/{waiting.id}").get_data(
        as_text=True
    )
    assert "Cần sửa" in html and "chưa được ánh xạ" in html
    index = client.get(f"/kenh-ban/{waiting.shop.slug}/kenh-ban-khac/").get_data(as_text=True)
    assert "Nhút Thanh Chương" in index  # listed among the products needing attention


def test_operator_board_filters_and_bulk_resync(app, client, factory, attention, fake_platform, csrf_off):
    ok, _waiting, _other = attention
    sign_in(client, factory.operator())
    html = client.get("/quan-tri/kenh-ban/?state=needs_attention").get_data(as_text=True)
    assert "Nhút Thanh Chương" in html and "Cam bù" not in html
    html = client.get("/quan-tri/kenh-ban/?state=synced&platform=shopee").get_data(as_text=True)
    assert "Cam bù" in html and "Nhút Thanh Chương" not in html
    record = db.session.scalar(select(SyncRecord).where(SyncRecord.listing_id == ok.id))
    fake_platform.calls.clear()
    response = client.post("/quan-tri/kenh-ban/dong-bo-lai", data={"record_id": [str(record.id)]})
    assert response.status_code == 302
    outbox.drain()
    # Everything is sent again (the record forgot its hashes), but there is no second publish.
    assert fake_platform.methods() == ["update", "update_price", "update_stock"]


def test_operator_maps_a_category_and_the_waiting_listing_goes_out(
    client, factory, attention, fake_platform, csrf_off
):
    _ok, waiting, other = attention
    sign_in(client, factory.operator())
    html = client.get("/quan-tri/kenh-ban/anh-xa/shopee").get_data(as_text=True)
    assert "Danh mục chưa ánh xạ" in html and "Đặc sản khác" in html
    bad = client.post(
        "/quan-tri/kenh-ban/anh-xa/shopee",
        data={"category_id": other.id, "remote_category_id": "abc", "attributes": "brand"},
    )
    assert bad.status_code == 200  # the page again, with what is wrong
    text = bad.get_data(as_text=True)
    assert "Mã danh mục của nền tảng là một dãy số" in text and "Dòng 1: cần dạng" in text
    assert db.session.scalar(select(CategoryMapping).where(CategoryMapping.category_id == other.id)) is None
    response = client.post(
        "/quan-tri/kenh-ban/anh-xa/shopee",
        data={
            "category_id": other.id,
            "remote_category_id": "100643",
            "attributes": "brand_id = 0\nbrand_name = NoBrand",
        },
    )
    assert response.status_code == 302
    mapping = db.session.scalar(select(CategoryMapping).where(CategoryMapping.category_id == other.id))
    assert mapping.remote_category_id == "100643" and mapping.attributes == {
        "brand_id": "0",
        "brand_name": "NoBrand",
    }
    outbox.drain()
    db.session.expire_all()
    record = db.session.scalar(select(SyncRecord).where(SyncRecord.listing_id == waiting.id))
    assert record.state == "synced" and record.remote_id


@pytest.mark.parametrize(
    "url", ["/quan-tri/kenh-ban/", "/quan-tri/kenh-ban/anh-xa/shopee", "/quan-tri/kenh-ban/ket-noi"]
)
def test_operator_pages_are_the_operators_only(client, factory, url, floor_connection):
    assert client.get(url).status_code == 302  # to sign in
    sign_in(client, factory.user(role="producer"))
    assert client.get(url).status_code == 403
    client.get("/dang-xuat")
    operator_client = client.application.test_client()
    sign_in(operator_client, factory.operator())
    html = operator_client.get(url).get_data(as_text=True)
    assert "tok-1" not in html  # a token is never shown in full


def test_callback_refuses_a_missing_or_wrong_state(client, factory, fake_platform):
    sign_in(client, factory.user(role="producer"))
    assert client.get("/ket-noi-san/shopee/xong?code=abc&shop_id=1&state=nope").status_code == 400


def test_a_producer_sees_nothing_of_the_floors_token(client, factory, opted_in, floor_connection):
    connection = db.session.get(type(floor_connection), floor_connection.id)
    connection.access_token = "floor-secret-token-XY"
    db.session.commit()
    listing = opted_in(channels_on=("shopee",))
    sign_in(client, owner_of(listing))
    html = client.get(f"/kenh-ban/{listing.shop.slug}/kenh-ban-khac/").get_data(as_text=True)
    assert "FLOOR1" in html  # the floor's store is listed (it may carry the shop's listings)
    assert connection.masked_token not in html and "floo…" not in html


def test_a_producer_cannot_reach_another_shops_listing_orders_or_connection(
    app, client, factory, opted_in, fake_platform, csrf_off
):
    """URL tampering: another shop's listing through one's own shop slug is 404 and changes
    nothing; another shop's slug is refused; its platform orders are not listed."""
    from datetime import datetime

    from syndication.models import Connection, RemoteOrder

    mine, theirs = opted_in(channels_on=()), opted_in(channels_on=())
    connection = Connection(
        shop_id=theirs.shop_id, platform="shopee", remote_shop_id="THEIRS", access_token="their-token-123"
    )
    db.session.add(connection)
    db.session.flush()
    db.session.add(
        RemoteOrder(
            connection_id=connection.id,
            shop_id=theirs.shop_id,
            listing_id=theirs.id,
            platform="shopee",
            remote_order_id="THEIR-ORDER-1",
            remote_item_id="1",
            quantity=1,
            title=theirs.title,
            state="taken",
            placed_at=datetime(2026, 1, 1),
        )
    )
    db.session.commit()
    sign_in(client, owner_of(mine))
    base = f"/kenh-ban/{mine.shop.slug}/kenh-ban-khac"
    assert client.get(f"{base}/san-pham/{theirs.id}").status_code == 404
    assert client.post(f"{base}/san-pham/{theirs.id}", data={"channel_shopee": "on"}).status_code == 404
    assert db.session.scalar(select(ListingChannel)) is None
    for page in ("/", "/don-hang"):
        html = client.get(base + page).get_data(as_text=True)
        assert "THEIR-ORDER-1" not in html and "THEIRS" not in html and "their-t" not in html
    other = f"/kenh-ban/{theirs.shop.slug}/kenh-ban-khac"
    for url in (f"{other}/", f"{other}/don-hang", f"{other}/san-pham/{theirs.id}"):
        assert client.get(url).status_code in (403, 404)
    assert client.post(f"{other}/ket-noi/shopee").status_code in (403, 404)


def test_an_authorisation_binds_to_the_browser_user_and_shop_that_started_it(
    app, client, factory, fake_platform, csrf_off
):
    """The state is spent once; a state started for one shop never connects another (the shop
    comes from the server's session, not from the URL); another user's browser cannot use it."""
    from urllib.parse import parse_qs, urlsplit

    from syndication.models import Connection

    owner = factory.user(role="producer")
    first, second = factory.shop(owner=owner), factory.shop(owner=owner)

    def start(shop) -> str:
        answer = client.post(f"/kenh-ban/{shop.slug}/kenh-ban-khac/ket-noi/shopee")
        assert answer.status_code == 302
        return parse_qs(urlsplit(answer.headers["Location"]).query)["state"][0]

    sign_in(client, owner)
    stale = start(first)
    state = start(second)  # a second start replaces the first
    back = "/ket-noi-san/shopee/xong?code=c0de&shop_id={shop}&state={state}"
    assert client.get(back.format(shop="77", state=stale)).status_code == 400
    state = start(second)
    other = app.test_client()
    sign_in(other, factory.user(role="producer"))
    assert other.get(back.format(shop="77", state=state)).status_code == 400  # not their browser
    assert client.get(back.format(shop="77", state=state)).status_code == 302
    assert client.get(back.format(shop="78", state=state)).status_code == 400  # spent: no replay
    connections = db.session.scalars(select(Connection)).all()
    assert [(c.shop_id, c.remote_shop_id) for c in connections] == [(second.id, "77")]
