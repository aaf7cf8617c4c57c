"""The Shopee v2 adapter against the Shopee stand-in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from syndication.platforms import (
    AuthRevoked,
    PlatformError,
    PriceStockChange,
    RateLimited,
    RemoteListing,
    TokenExpired,
    Unavailable,
    ValidationFailed,
    adapter_for,
)
from syndication.platforms.shopee import UNCONFIRMED, Adapter


def listing(image_ids=("x",), **changes):
    fields = {
        "sku": "CAM-BU-1",
        "title": "Cam bù Hương Sơn loại 1",
        "description": "Cam bù trồng tại Hương Sơn, Hà Tĩnh. Ngọt thanh, mọng nước.",
        "price_vnd": 45000,
        "stock": 10,
        "weight_g": 1500,
        "category_id": "100636",
        "attributes": {"100001": "Hà Tĩnh", "logistic_id": "50018,50021"},
        "image_ids": tuple(image_ids),
    }
    fields.update(changes)
    return RemoteListing(**fields)


@pytest.fixture
def adapter(shopee):
    return adapter_for(shopee.credentials, shopee.issue_token("101"), timeout=2.0)


@pytest.fixture
def published(adapter, shopee):
    image_id = adapter.upload_image(b"\xff\xd8\xff\xe0fake-jpeg", "cam.jpg")
    remote_id = adapter.publish(listing((image_id,)))
    shopee.calls.clear()
    return remote_id, image_id


def test_registry_gives_the_shopee_adapter(shopee):
    adapter = adapter_for(shopee.credentials, None)
    assert isinstance(adapter, Adapter) and adapter.platform == "shopee" and adapter.price_stock_batch == 1
    assert "rate limits" in UNCONFIRMED


def test_publish_sends_add_item_in_shopee_shape(adapter, shopee):
    image_id = adapter.upload_image(b"\xff\xd8\xff\xe0fake-jpeg", "cam.jpg")
    assert image_id in shopee.images and shopee.images[image_id] == b"\xff\xd8\xff\xe0fake-jpeg"
    remote_id = adapter.publish(listing((image_id,)))
    item = shopee.items[remote_id]
    assert (item["price"], item["stock"], item["status"], item["sku"]) == (45000, 10, "normal", "CAM-BU-1")
    payload = item["payload"]
    assert payload["weight"] == 1.5 and payload["category_id"] == 100636  # kg, integer leaf id
    assert payload["image"] == {"image_id_list": [image_id]}
    assert payload["seller_stock"] == [{"stock": 10}]
    assert payload["logistic_info"] == [
        {"logistic_id": 50018, "enabled": True},
        {"logistic_id": 50021, "enabled": True},
    ]
    assert payload["attribute_list"] == [
        {"attribute_id": 100001, "attribute_value_list": [{"value_id": 0, "original_value_name": "Hà Tĩnh"}]}
    ]
    assert payload["brand"] == {"brand_id": 0, "original_brand_name": "NoBrand"}
    assert shopee.calls == [
        ("POST", "/api/v2/media_space/upload_image"),
        ("POST", "/api/v2/product/add_item"),
    ]


def test_brand_from_the_category_mapping(adapter, shopee):
    image_id = adapter.upload_image(b"\xff\xd8jpeg", "a.jpg")
    remote_id = adapter.publish(listing((image_id,), attributes={"brand": "HTX Cam Hương Sơn"}))
    assert shopee.items[remote_id]["payload"]["brand"] == {
        "brand_id": 0,
        "original_brand_name": "HTX Cam Hương Sơn",
    }


def test_each_change_is_its_own_call(adapter, shopee, published):
    remote_id, image_id = published
    adapter.update(remote_id, listing((image_id,), title="Cam bù Hương Sơn loại đặc biệt"))
    adapter.update_price(remote_id, 52000)
    adapter.update_stock(remote_id, 3)
    item = shopee.items[remote_id]
    assert item["payload"]["item_name"] == "Cam bù Hương Sơn loại đặc biệt"
    assert (item["price"], item["stock"]) == (52000, 3)
    assert shopee.calls == [
        ("POST", "/api/v2/product/update_item"),
        ("POST", "/api/v2/product/update_price"),
        ("POST", "/api/v2/product/update_stock"),
    ]
    read = adapter.read_item(remote_id)
    assert (read.remote_id, read.sku, read.price_vnd, read.stock, read.status) == (
        remote_id,
        "CAM-BU-1",
        52000,
        3,
        "normal",
    )


def test_batched_price_stock_sends_only_what_changed(adapter, shopee, published):
    remote_id, _ = published
    adapter.update_price_stock([PriceStockChange(remote_id, stock=7)])
    assert (
        shopee.calls == [("POST", "/api/v2/product/update_stock")] and shopee.items[remote_id]["stock"] == 7
    )


def test_unlist_then_delete(adapter, shopee, published):
    remote_id, _ = published
    adapter.unlist(remote_id)
    assert adapter.read_item(remote_id).status == "unlisted"
    adapter.delete(remote_id)
    assert adapter.read_item(remote_id).status == "deleted"
    assert adapter.read_item("999999999").status == "deleted"  # Shopee lists nothing for it


def test_recent_orders_pages_and_reads_details(adapter, shopee, published):
    remote_id, _ = published
    order_ids = [shopee.add_order(remote_id, 1 + n % 3) for n in range(120)]  # > one page of 100
    orders = adapter.recent_orders(datetime.now(UTC) - timedelta(days=40))  # three 15-day windows
    assert [o.remote_order_id for o in orders] == order_ids
    first = orders[0]
    assert first.status == "READY_TO_SHIP" and first.created_at.tzinfo is not None
    assert [(line.remote_item_id, line.sku, line.quantity, line.price_vnd) for line in first.lines] == [
        (remote_id, "CAM-BU-1", 1, 45000)
    ]
    details = [c for c in shopee.calls if c[1] == "/api/v2/order/get_order_detail"]
    assert len(details) == 3  # 50 + 50 + 20


def test_authorisation_redirect_exchange_and_refresh(shopee):
    adapter = adapter_for(shopee.credentials, None)
    url = adapter.authorize_url("https://san.example.vn/ket-noi/shopee?x=1", "st4te")
    # the stand-in's auth page checks the partner-level sign and redirects with code and shop_id
    import urllib.request

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        opener.open(url, timeout=5)
        raise AssertionError("expected a redirect")
    except urllib.error.HTTPError as exc:
        with exc:
            location = exc.headers["Location"]
    back = parse_qs(urlsplit(location).query)
    assert back["state"] == ["st4te"] and back["x"] == ["1"] and back["shop_id"] == ["101"]

    token = adapter.exchange_code(back["code"][0], back["shop_id"][0])
    assert token.remote_shop_id == "101" and token.expires_at > datetime.now(UTC) + timedelta(hours=3)
    refreshed = adapter.refresh()
    assert refreshed.access_token != token.access_token and adapter.token == refreshed
    with pytest.raises(AuthRevoked):  # a used code is gone
        adapter.exchange_code(back["code"][0], "101")


def test_expired_token_refreshes_once_and_the_call_succeeds(adapter, shopee, published):
    remote_id, _ = published
    shopee.expire_tokens()
    with pytest.raises(TokenExpired) as caught:
        adapter.update_stock(remote_id, 4)
    assert caught.value.code == "error_auth"
    adapter.refresh()
    adapter.update_stock(remote_id, 4)
    assert shopee.items[remote_id]["stock"] == 4


def test_revoked_authorisation_cannot_refresh(adapter, shopee, published):
    shopee.revoke_tokens()
    with pytest.raises(TokenExpired):
        adapter.update_stock(published[0], 4)
    with pytest.raises(AuthRevoked):
        adapter.refresh()


def test_rate_limit_carries_retry_after(adapter, shopee, published):
    shopee.fail_next("rate_limit")
    with pytest.raises(RateLimited) as caught:
        adapter.update_price(published[0], 50000)
    assert caught.value.code == "error_rate_limit" and caught.value.retry_after == 2.0
    adapter.update_price(published[0], 50000)  # the next one goes through
    assert shopee.items[published[0]]["price"] == 50000


def test_per_second_budget_is_enforced(shopee):
    shopee.rate_per_second = 3
    adapter = adapter_for(shopee.credentials, shopee.issue_token("101"))
    with pytest.raises(RateLimited):
        for _ in range(10):
            adapter.read_item("1")


def test_server_error_and_timeout_are_unavailable(adapter, shopee, published):
    shopee.fail_next("server")
    with pytest.raises(Unavailable) as caught:
        adapter.update_stock(published[0], 2)
    assert caught.value.code == "error_server"
    shopee.timeout_delay = 1.0
    shopee.fail_next("timeout")
    slow = adapter_for(shopee.credentials, adapter.token, timeout=0.3)
    with pytest.raises(Unavailable) as caught:
        slow.update_stock(published[0], 2)
    assert caught.value.code == "timeout"


def test_connection_refused_is_unavailable(shopee):
    adapter = adapter_for(shopee.credentials, shopee.issue_token("101"))
    adapter._base = "http://127.0.0.1:9"  # nothing listens on discard
    with pytest.raises(Unavailable):
        adapter.read_item("1")


def test_remote_validation_error_names_the_field(adapter, shopee):
    image_id = adapter.upload_image(b"\xff\xd8jpeg", "a.jpg")
    with pytest.raises(ValidationFailed) as caught:
        adapter.publish(listing((image_id,), category_id="999"))
    assert caught.value.field == "category_id" and caught.value.code == "error_param"
    with pytest.raises(ValidationFailed) as caught:
        adapter.publish(listing(("never-uploaded",)))
    assert caught.value.field == "image_ids"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"title": "  "}, "title"),
        ({"title": "x" * 121}, "title"),
        ({"price_vnd": 0}, "price_vnd"),
        ({"weight_g": 0}, "weight_g"),
        ({"category_id": ""}, "category_id"),
        ({"category_id": "rau-cu"}, "category_id"),
        ({"image_ids": ()}, "image_ids"),
        ({"attributes": {"colour": "cam"}}, "attributes.colour"),
    ],
)
def test_local_validation_stops_before_any_call(adapter, shopee, change, field):
    with pytest.raises(ValidationFailed) as caught:
        adapter.publish(listing(**change))
    assert caught.value.field == field and shopee.calls == []


def test_wrong_partner_key_is_an_operator_matter(shopee):
    credentials = shopee.credentials
    wrong = type(credentials)(credentials.platform, credentials.app_id, "0" * 64, credentials.base_url)
    adapter = adapter_for(wrong, shopee.issue_token("101"))
    with pytest.raises(PlatformError) as caught:
        adapter.read_item("1")
    assert type(caught.value) is PlatformError and caught.value.code == "error_sign"
    assert "0" * 64 not in repr(wrong)
