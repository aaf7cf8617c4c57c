"""A recording test double of a platform adapter (the contract's PlatformAdapter): it keeps the
remote items in memory, records every call, and fails on demand. It tests the sync engine's
decisions (what is sent, when); the adapters themselves are tested against the stand-ins."""

from __future__ import annotations

import dataclasses
import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from syndication.platforms import base as P


@dataclass
class FakePlatform:
    platform: str = "shopee"
    items: dict[str, dict] = field(default_factory=dict)
    images: dict[str, bytes] = field(default_factory=dict)
    calls: list[tuple[str, str]] = field(default_factory=list)  # (method, remote id or "")
    orders: list[P.RemoteOrder] = field(default_factory=list)
    failures: list[Exception] = field(default_factory=list)  # raised by the next calls, in order
    valid_tokens: set[str] = field(default_factory=lambda: {"tok-1"})
    refresh_tokens: set[str] = field(default_factory=lambda: {"ref-1"})
    counter: itertools.count = field(default_factory=lambda: itertools.count(1001))
    batching: bool = False  # price and stock of many SKUs a call

    def factory(self, credentials, token):
        return (BatchingAdapter if self.batching else RecordingAdapter)(self, token)

    def methods(self) -> list[str]:
        return [method for method, _ in self.calls]

    def add_order(self, remote_item_id: str, quantity: int, *, sku: str | None = None) -> str:
        order_id = f"ORD{next(self.counter)}"
        self.orders.append(
            P.RemoteOrder(
                remote_order_id=order_id,
                created_at=datetime.now(UTC),
                status="READY_TO_SHIP",
                lines=(
                    P.RemoteOrderLine(
                        remote_item_id=remote_item_id, sku=sku, quantity=quantity, price_vnd=45000
                    ),
                ),
            )
        )
        return order_id

    def cancel_order(self, remote_order_id: str) -> None:
        """Cancelled on the platform: the order reads CANCELLED (the adapters' flag set)."""
        self.orders = [
            dataclasses.replace(order, status="CANCELLED", cancelled=True)
            if order.remote_order_id == remote_order_id
            else order
            for order in self.orders
        ]


class RecordingAdapter:
    price_stock_batch = 50

    def __init__(self, fake: FakePlatform, token):
        self.fake = fake
        self.platform = fake.platform
        self.token = token

    def _call(self, method: str, remote_id: str = "") -> None:
        if self.fake.failures:
            raise self.fake.failures.pop(0)
        if method != "refresh" and (
            self.token is None or self.token.access_token not in self.fake.valid_tokens
        ):
            raise P.TokenExpired("access token expired")
        self.fake.calls.append((method, remote_id))

    def authorize_url(self, redirect_uri: str, state: str) -> str:
        return f"https://platform.example/auth?redirect={redirect_uri}&state={state}"

    def exchange_code(self, code: str, remote_shop_id: str | None) -> P.Token:
        return P.Token("tok-1", "ref-1", datetime.now(UTC) + timedelta(hours=4), remote_shop_id or "S1")

    def refresh(self) -> P.Token:
        self._call("refresh")
        if self.token is None or self.token.refresh_token not in self.fake.refresh_tokens:
            raise P.AuthRevoked("refresh token revoked")
        n = next(self.fake.counter)
        self.fake.valid_tokens = {f"tok-{n}"}
        self.fake.refresh_tokens = {f"ref-{n}"}
        return P.Token(
            f"tok-{n}", f"ref-{n}", datetime.now(UTC) + timedelta(hours=4), self.token.remote_shop_id
        )

    def upload_image(self, data: bytes, filename: str) -> str:
        self._call("upload_image")
        image_id = f"img{next(self.fake.counter)}"
        self.fake.images[image_id] = data
        return image_id

    def publish(self, listing: P.RemoteListing) -> str:
        self._call("publish")
        remote_id = str(next(self.fake.counter))
        self.fake.items[remote_id] = {
            "sku": listing.sku,
            "price": listing.price_vnd,
            "stock": listing.stock,
            "status": "normal",
            "payload": listing,
        }
        return remote_id

    def update(self, remote_id: str, listing: P.RemoteListing) -> None:
        self._call("update", remote_id)
        self.fake.items[remote_id]["payload"] = listing

    def update_price(self, remote_id: str, price_vnd: int) -> None:
        self._call("update_price", remote_id)
        self.fake.items[remote_id]["price"] = price_vnd

    def update_stock(self, remote_id: str, stock: int) -> None:
        self._call("update_stock", remote_id)
        self.fake.items[remote_id]["stock"] = stock

    def unlist(self, remote_id: str) -> None:
        self._call("unlist", remote_id)
        self.fake.items[remote_id]["status"] = "unlisted"

    def delete(self, remote_id: str) -> None:
        self._call("delete", remote_id)
        self.fake.items[remote_id]["status"] = "deleted"

    def read_item(self, remote_id: str) -> P.RemoteItem:
        self._call("read_item", remote_id)
        item = self.fake.items.get(remote_id)
        if item is None:
            raise P.ValidationFailed("item not found")
        return P.RemoteItem(remote_id, item["sku"], item["price"], item["stock"], item["status"])

    def recent_orders(self, since: datetime) -> list[P.RemoteOrder]:
        self._call("recent_orders")
        return [order for order in self.fake.orders if order.created_at >= since]


class BatchingAdapter(RecordingAdapter):
    """A platform that takes many SKUs' price and stock in one call (as Lazada does)."""

    price_stock_batch = 2

    def update_price_stock(self, changes) -> None:
        self._call("update_price_stock", ",".join(c.remote_id for c in changes))
        for change in changes:
            item = self.fake.items[change.remote_id]
            if change.price_vnd is not None:
                item["price"] = change.price_vnd
            if change.stock is not None:
                item["stock"] = change.stock
