"""The Lazada Open Platform adapter against the Lazada stand-in."""

from __future__ import annotations

import json
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
from syndication.platforms.lazada import UNCONFIRMED, Adapter


def listing(image_ids=(), **changes):
    fields = {
        "sku": "MAT-ONG-1",
        "title": "Mật ong Hương Sơn 500 ml",
        "description": "Mật ong hoa rừng Hương Sơn, Hà Tĩnh.",
        "price_vnd": 180000,
        "stock": 25,
        "weight_g": 750,
        "category_id": "10002019",
        "attributes": {"package_length": "10", "package_width": "8", "package_height": "15"},
        "image_ids": tuple(image_ids),
    }
    fields.update(changes)
    return RemoteListing(**fields)


@pytest.fixture
def adapter(lazada):
    return adapter_for(lazada.credentials, lazada.issue_token("200301"), timeout=2.0)


@pytest.fixture
def image(adapter):
    return adapter.upload_image(b"\xff\xd8\xff\xe0honey", "mat-ong.jpg")


@pytest.fixture
def published(adapter, lazada, image):
    remote_id = adapter.publish(listing((image,)))
    lazada.calls.clear()
    return remote_id


def test_registry_gives_the_lazada_adapter(lazada):
    adapter = adapter_for(lazada.credentials, None)
    assert isinstance(adapter, Adapter) and adapter.price_stock_batch == 50
    assert "rate limits" in UNCONFIRMED


def test_publish_sends_the_request_product_payload(adapter, lazada, image):
    assert image.startswith("https://") and image in lazada.images
    remote_id = adapter.publish(listing((image,)))
    item_id, _, sku_id = remote_id.partition(":")
    item = lazada.items[item_id]
    assert str(item["sku_id"]) == sku_id
    assert (item["price"], item["stock"], item["status"], item["sku"]) == (180000, 25, "normal", "MAT-ONG-1")
    product = item["payload"]
    assert product["PrimaryCategory"] == "10002019" and product["Images"] == {"Image": [image]}
    assert product["Attributes"] == {
        "name": "Mật ong Hương Sơn 500 ml",
        "description": "Mật ong hoa rừng Hương Sơn, Hà Tĩnh.",
        "brand": "No Brand",
    }
    assert product["Skus"]["Sku"] == [
        {
            "SellerSku": "MAT-ONG-1",
            "package_weight": 0.75,
            "package_length": "10",
            "package_width": "8",
            "package_height": "15",
            "price": 180000,
            "quantity": 25,
        }
    ]
    assert lazada.calls == [("POST", "/image/upload"), ("POST", "/product/create")]


def test_update_price_stock_read(adapter, lazada, published, image):
    adapter.update(published, listing((image,), title="Mật ong Hương Sơn 1 lít"))
    adapter.update_price(published, 200000)
    adapter.update_stock(published, 9)
    item = lazada.items[published.partition(":")[0]]
    assert item["payload"]["Attributes"]["name"] == "Mật ong Hương Sơn 1 lít"
    assert (item["price"], item["stock"]) == (200000, 9)
    assert lazada.calls == [
        ("POST", "/product/update"),
        ("POST", "/product/price_quantity/update"),
        ("POST", "/product/price_quantity/update"),
    ]
    read = adapter.read_item(published)
    assert (read.remote_id, read.sku, read.price_vnd, read.stock, read.status) == (
        published,
        "MAT-ONG-1",
        200000,
        9,
        "normal",
    )


def test_price_and_stock_go_out_fifty_skus_a_call(adapter, lazada, image):
    lazada.rate_per_second = 10_000
    remote_ids = [adapter.publish(listing((image,), sku=f"MAT-ONG-{n}")) for n in range(120)]
    lazada.calls.clear()
    adapter.update_price_stock(
        [PriceStockChange(rid, price_vnd=150000 + n, stock=n) for n, rid in enumerate(remote_ids)]
        + [PriceStockChange(remote_ids[0])]  # nothing changed: nothing sent for it
    )
    assert lazada.batch_sizes == [50, 50, 20]
    assert lazada.calls == [("POST", "/product/price_quantity/update")] * 3
    for n, rid in enumerate(remote_ids):
        item = lazada.items[rid.partition(":")[0]]
        assert (item["price"], item["stock"]) == (150000 + n, n)


def test_unlist_then_delete(adapter, lazada, published):
    adapter.unlist(published)
    assert adapter.read_item(published).status == "unlisted"
    adapter.delete(published)
    assert adapter.read_item(published).status == "deleted"
    assert adapter.read_item("99999:1").status == "deleted"


def test_recent_orders_with_their_unit_rows(adapter, lazada, published):
    lazada.rate_per_second = 10_000
    order_ids = [lazada.add_order(published.partition(":")[0], 1 + n % 3) for n in range(105)]
    orders = adapter.recent_orders(datetime.now(UTC) - timedelta(days=1))
    assert [o.remote_order_id for o in orders] == order_ids
    assert orders[2].status == "pending" and orders[2].created_at.tzinfo is not None
    assert [(line.remote_item_id, line.sku, line.quantity, line.price_vnd) for line in orders[2].lines] == [
        (published, "MAT-ONG-1", 3, 180000)
    ]
    assert sum(1 for c in lazada.calls if c[1] == "/orders/get") == 4  # 100 + 5 created, 100 + 5 updated
    assert sum(1 for c in lazada.calls if c[1] == "/order/items/get") == 105  # once per order


def test_authorisation_exchange_and_refresh(lazada):
    adapter = adapter_for(lazada.credentials, None)
    url = urlsplit(adapter.authorize_url("https://san.example.vn/ket-noi/lazada", "st4te"))
    query = parse_qs(url.query)
    assert (url.netloc, url.path) == ("auth.lazada.com", "/oauth/authorize")
    assert (
        query["client_id"] == [lazada.app_key]
        and query["state"] == ["st4te"]
        and query["response_type"] == ["code"]
    )

    token = adapter.exchange_code(lazada.grant_code("200301"), None)
    assert token.remote_shop_id == "200301" and token.expires_at > datetime.now(UTC) + timedelta(days=6)
    refreshed = adapter.refresh()
    assert refreshed.access_token != token.access_token and adapter.token == refreshed
    with pytest.raises(AuthRevoked) as caught:
        adapter.exchange_code("not-a-code", None)
    assert caught.value.code == "InvalidCode"


def test_expired_token_then_refresh_then_success(adapter, lazada, published):
    lazada.expire_tokens()
    with pytest.raises(TokenExpired) as caught:
        adapter.update_stock(published, 1)
    assert caught.value.code == "IllegalAccessToken"
    adapter.refresh()
    adapter.update_stock(published, 1)
    assert lazada.items[published.partition(":")[0]]["stock"] == 1


def test_revoked_refresh_is_auth_revoked(adapter, lazada):
    lazada.revoke_tokens()
    with pytest.raises(AuthRevoked) as caught:
        adapter.refresh()
    assert caught.value.code == "IllegalRefreshToken"


def test_api_call_limit_is_rate_limited_with_a_backoff_hint(adapter, lazada, published):
    lazada.fail_next("rate_limit", times=2)
    for _ in range(2):
        with pytest.raises(RateLimited) as caught:
            adapter.update_price(published, 170000)
        assert caught.value.code == "ApiCallLimit" and caught.value.retry_after == 1.0
    adapter.update_price(published, 170000)


def test_server_error_and_timeout_are_unavailable(adapter, lazada, published):
    lazada.fail_next("server")
    with pytest.raises(Unavailable) as caught:
        adapter.read_item(published)
    assert caught.value.code == "InternalError"
    lazada.fail_next("timeout")
    with pytest.raises(Unavailable) as caught:
        adapter_for(lazada.credentials, adapter.token, timeout=0.3).read_item(published)
    assert caught.value.code == "timeout"


def test_validation_error_names_the_field(adapter, image):
    with pytest.raises(ValidationFailed) as caught:
        adapter.publish(listing((image,), category_id="123"))
    assert caught.value.field == "category_id" and caught.value.code == "InvalidParameter"
    with pytest.raises(ValidationFailed) as caught:
        adapter.publish(listing(("https://elsewhere.example/x.jpg",)))
    assert caught.value.field == "image_ids"
    with pytest.raises(ValidationFailed) as caught:
        adapter.update_price("no-colon", 1000)
    assert caught.value.field == "remote_id"


def test_wrong_secret_is_an_operator_matter(lazada):
    credentials = lazada.credentials
    wrong = type(credentials)("lazada", credentials.app_id, "not-the-secret", credentials.base_url)
    with pytest.raises(PlatformError) as caught:
        adapter_for(wrong, lazada.issue_token("1")).read_item("1:1")
    assert type(caught.value) is PlatformError and caught.value.code == "IncompleteSignature"


def test_payload_is_compact_json_and_signed_as_sent(adapter, lazada, image):
    remote_id = adapter.publish(listing((image,), title='Kẹo cu đơ "Hà Tĩnh" & gừng'))
    payload = lazada.items[remote_id.partition(":")[0]]["payload"]
    assert payload["Attributes"]["name"] == 'Kẹo cu đơ "Hà Tĩnh" & gừng'
    assert json.dumps(payload)  # what the stand-in stored came from the signed form field
