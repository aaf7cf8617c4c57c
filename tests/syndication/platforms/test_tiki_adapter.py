"""The Tiki adapter against the Tiki stand-in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from syndication.platforms import (
    AuthRevoked,
    PriceStockChange,
    RateLimited,
    RemoteListing,
    TokenExpired,
    Unavailable,
    ValidationFailed,
    adapter_for,
)
from syndication.platforms.tiki import UNCONFIRMED, Adapter


def listing(image_ids=(), **changes):
    fields = {
        "sku": "CHE-XANH-1",
        "title": "Chè xanh Hà Tĩnh 200 g",
        "description": "Chè xanh búp, sao tay.",
        "price_vnd": 60000,
        "stock": 40,
        "weight_g": 250,
        "category_id": "8322",
        "attributes": {"origin": "Hà Tĩnh"},
        "image_ids": tuple(image_ids),
    }
    fields.update(changes)
    return RemoteListing(**fields)


@pytest.fixture
def adapter(tiki):
    adapter = adapter_for(tiki.credentials, None, timeout=2.0)
    adapter.exchange_code("", None)  # the floor's own app: client credentials
    return adapter


@pytest.fixture
def images(adapter):
    return (
        adapter.upload_image(b"\xff\xd8tea-1", "che-1.jpg"),
        adapter.upload_image(b"\xff\xd8tea-2", "che-2.jpg"),
    )


@pytest.fixture
def published(adapter, tiki, images):
    remote_id = adapter.publish(listing(images))
    tiki.calls.clear()
    return remote_id


def test_registry_gives_the_tiki_adapter(tiki):
    adapter = adapter_for(tiki.credentials, None)
    assert isinstance(adapter, Adapter) and adapter.price_stock_batch == 1 and "payload schema" in UNCONFIRMED


def test_client_credentials_then_bearer(tiki):
    adapter = adapter_for(tiki.credentials, None)
    token = adapter.exchange_code("", None)
    assert token.refresh_token is None and token.expires_at > datetime.now(UTC) + timedelta(minutes=50)
    assert tiki.calls == [("POST", "/sc/oauth2/token")]
    tiki.expire_tokens()
    with pytest.raises(TokenExpired):
        adapter.read_item("1")
    adapter.refresh()  # no refresh token: a new client-credentials token
    assert adapter.read_item("1").status == "deleted"


def test_authorisation_code_and_refresh_token(tiki):
    adapter = adapter_for(tiki.credentials, None)
    assert adapter.authorize_url("https://san.example.vn/cb", "st4te").startswith(
        f"{tiki.base_url}/sc/oauth2/auth?"
    )
    token = adapter.exchange_code(tiki.grant_code("shop-9"), "shop-9")
    assert token.refresh_token and token.remote_shop_id == "shop-9"
    assert adapter.refresh().access_token != token.access_token
    tiki.revoke_tokens()
    with pytest.raises(AuthRevoked) as caught:
        adapter.refresh()
    assert caught.value.code == "invalid_grant"


def test_wrong_client_secret_is_auth_revoked(tiki):
    credentials = tiki.credentials
    wrong = type(credentials)("tiki", credentials.app_id, "nope", credentials.base_url)
    with pytest.raises(AuthRevoked) as caught:
        adapter_for(wrong, None).exchange_code("", None)
    assert caught.value.code == "invalid_client"


def test_publish_is_a_reviewed_request(adapter, tiki, images):
    remote_id = adapter.publish(listing(images))
    assert remote_id.isdigit()  # approved at the first poll: the product id
    request = next(iter(tiki.requests.values()))
    payload = request["payload"]
    assert payload["image"] == images[0] and payload["images"] == [images[1]]
    assert payload["variants"] == [{"sku": "CHE-XANH-1", "price": 60000, "quantity": 40, "image": images[0]}]
    assert (
        payload["attributes"] == {"origin": "Hà Tĩnh", "product_weight_kg": 0.25}
        and payload["category_id"] == 8322
    )
    assert [path for _, path in tiki.calls][-2:] == [
        "/integration/v2.1/requests",
        f"/integration/v2.1/requests/{next(iter(tiki.requests))}",
    ]


def test_a_product_under_review_is_tracked_until_approved(adapter, tiki, images):
    tiki.review = "pending"
    remote_id = adapter.publish(listing(images))
    assert remote_id.startswith("track:")
    assert adapter.read_item(remote_id).status == "pending_review"
    with pytest.raises(Unavailable) as caught:
        adapter.update_price(remote_id, 65000)
    assert caught.value.code == "pending_review" and caught.value.retry_after == 600.0
    tiki.review = "approve"
    read = adapter.read_item(remote_id)
    assert read.remote_id.isdigit() and read.status == "normal" and read.stock == 40
    adapter.update_price(remote_id, 65000)  # the track id still works once approved
    assert tiki.items[read.remote_id]["price"] == 65000


def test_a_rejected_product_stops_with_the_reason(adapter, tiki, images):
    tiki.review = "reject"
    with pytest.raises(ValidationFailed) as caught:
        adapter.publish(listing(images))
    assert "Hình ảnh" in caught.value.message and caught.value.code == "rejected"


def test_update_price_stock_unlist_delete(adapter, tiki, published, images):
    adapter.update(published, listing(images, title="Chè xanh Hà Tĩnh 500 g"))
    adapter.update_price_stock([PriceStockChange(published, price_vnd=70000, stock=5)])  # one call for both
    item = tiki.items[published]
    assert (item["price"], item["stock"], item["payload"]["name"]) == (70000, 5, "Chè xanh Hà Tĩnh 500 g")
    assert tiki.calls == [
        ("POST", "/integration/v2.1/requests/updateProductInfo"),
        ("POST", "/integration/v2.1/products/updateSku"),
    ]
    read = adapter.read_item(published)
    assert (read.sku, read.price_vnd, read.stock, read.status) == ("CHE-XANH-1", 70000, 5, "normal")
    adapter.unlist(published)
    assert adapter.read_item(published).status == "unlisted"
    adapter.delete(published)
    assert adapter.read_item(published).status == "unlisted"  # Tiki: deactivated, not deleted


def test_recent_orders_page_by_page(adapter, tiki, published):
    tiki.rate_per_second = 10_000
    order_ids = [tiki.add_order(published, 2) for _ in range(60)]
    orders = adapter.recent_orders(datetime.now(UTC) - timedelta(hours=1))
    assert [o.remote_order_id for o in orders] == order_ids
    assert [(line.remote_item_id, line.sku, line.quantity, line.price_vnd) for line in orders[0].lines] == [
        (published, "CHE-XANH-1", 2, 60000)
    ]
    assert abs(orders[0].created_at - datetime.now(UTC)) < timedelta(minutes=1)  # local time read as such
    assert sum(1 for c in tiki.calls if c[1] == "/integration/v2/orders") == 2


def test_a_cancelled_order_reads_cancelled(adapter, tiki, published):
    kept, cancelled = tiki.add_order(published, 1), tiki.add_order(published, 1)
    tiki.cancel_order(cancelled)
    orders = {o.remote_order_id: o for o in adapter.recent_orders(datetime.now(UTC) - timedelta(hours=1))}
    assert (orders[kept].cancelled, orders[cancelled].cancelled) == (False, True)
    assert orders[cancelled].status == "canceled"


def test_rate_limit_server_error_timeout(adapter, tiki, published):
    tiki.fail_next("rate_limit")
    with pytest.raises(RateLimited) as caught:
        adapter.update_stock(published, 1)
    assert caught.value.retry_after == 3.0 and caught.value.code == "429"
    tiki.fail_next("server")
    with pytest.raises(Unavailable) as caught:
        adapter.update_stock(published, 1)
    assert caught.value.code == "503"
    tiki.fail_next("timeout")
    with pytest.raises(Unavailable):
        adapter_for(tiki.credentials, adapter.token, timeout=0.3).update_stock(published, 1)
    tiki.fail_next("auth_expired")
    with pytest.raises(TokenExpired):
        adapter.update_stock(published, 1)
    adapter.update_stock(published, 1)
    assert tiki.items[published]["stock"] == 1


def test_validation_error_names_the_field(adapter, images):
    with pytest.raises(ValidationFailed) as caught:
        adapter.publish(listing(images, category_id="1"))
    assert caught.value.field == "category_id"
    with pytest.raises(ValidationFailed) as caught:
        adapter.publish(listing(("https://elsewhere.example/a.jpg",)))
    assert caught.value.field == "image_ids"
