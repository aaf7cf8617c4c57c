"""The one adapter interface to the national platforms, its value types, errors and registry.

Pure Python: no Flask, no database. The core (syndication/) owns tokens, sync records and
retries; an adapter turns one intent (publish, update price, ...) into the platform's signed
calls and its answers into these types, and every failure into one of the five errors below,
each of which tells the core what to do next."""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, runtime_checkable


@dataclass(frozen=True)
class AppCredentials:
    """The floor's app on the platform (operator config): Shopee partner_id/partner_key,
    Lazada app_key/app_secret, Tiki client_id/client_secret."""

    platform: str
    app_id: str
    secret: str
    base_url: str

    def __repr__(self) -> str:  # never print the secret into a log
        return (
            f"AppCredentials(platform={self.platform!r}, app_id={self.app_id!r}, base_url={self.base_url!r})"
        )


@dataclass(frozen=True)
class Token:
    access_token: str
    refresh_token: str | None
    expires_at: datetime | None  # aware UTC
    remote_shop_id: str | None

    def __repr__(self) -> str:
        return f"Token(access_token='…{self.access_token[-4:]}', expires_at={self.expires_at!r}, remote_shop_id={self.remote_shop_id!r})"


@dataclass(frozen=True)
class RemoteListing:
    sku: str  # our stable id for the listing (seller SKU)
    title: str  # plain text
    description: str  # plain text
    price_vnd: int
    stock: int
    weight_g: int
    category_id: str  # the platform's leaf category id (from the core's mapping)
    attributes: dict[str, str] = field(default_factory=dict)
    image_ids: tuple[str, ...] = ()  # ids returned by upload_image


@dataclass(frozen=True)
class RemoteItem:
    remote_id: str
    sku: str | None
    price_vnd: int
    stock: int
    status: str  # "normal" | "unlisted" | "deleted" | "banned" | "pending_review" | "rejected"


@dataclass(frozen=True)
class RemoteOrderLine:
    remote_item_id: str
    sku: str | None
    quantity: int
    price_vnd: int


@dataclass(frozen=True)
class RemoteOrder:
    remote_order_id: str
    created_at: datetime  # aware UTC
    status: str  # the platform's own word, as it sent it
    lines: tuple[RemoteOrderLine, ...]
    cancelled: bool = False  # cancelled, returned or failed: from the adapter's CANCELLED_STATUSES


def is_cancelled(status: str, table: dict[str, str]) -> bool:
    """Whether a platform's order status (compared lowercased) is in the adapter's table of
    cancelled statuses (status -> "confirmed" or "unconfirmed: why")."""
    return status.strip().lower() in table


@dataclass(frozen=True)
class PriceStockChange:
    """One SKU's new price and/or stock, for the batched call (None: unchanged)."""

    remote_id: str
    price_vnd: int | None = None
    stock: int | None = None


class PlatformError(Exception):
    """Any failure of a platform call. `.message` is plain English for logs, `.code` the
    platform's own code ("error_sign", "ApiCallLimit", an HTTP status...). A bare PlatformError
    (a signature the platform refuses, an answer we cannot read) is not retried: it needs an
    operator."""

    def __init__(self, message: str, code: str = "") -> None:
        super().__init__(f"{code}: {message}" if code else message)
        self.message = message
        self.code = code


class RateLimited(PlatformError):
    """Throttled: retry after `.retry_after` seconds (Retry-After, or the adapter's hint)."""

    def __init__(self, message: str, code: str = "", retry_after: float | None = None) -> None:
        super().__init__(message, code)
        self.retry_after = retry_after


class Unavailable(PlatformError):
    """5xx, timeouts, connection errors, a product still under review: retry with backoff."""

    def __init__(self, message: str, code: str = "", retry_after: float | None = None) -> None:
        super().__init__(message, code)
        self.retry_after = retry_after


class ValidationFailed(PlatformError):
    """The payload is wrong: stop and show the producer. `.field` names the RemoteListing field
    ("title", "price_vnd", "category_id", "attributes.<name>"...) when known."""

    def __init__(self, message: str, code: str = "", field: str | None = None) -> None:
        super().__init__(message, code)
        self.field = field


class TokenExpired(PlatformError):
    """The access token is no longer accepted: refresh once, then retry the call."""


class AuthRevoked(PlatformError):
    """Refresh impossible (revoked, refresh token expired): the connection needs reconnecting."""


class PlatformAdapter(Protocol):
    platform: str  # "shopee" | "lazada" | "tiki"
    price_stock_batch: int  # how many SKUs one price/stock call may carry (Lazada 50)

    def authorize_url(self, redirect_uri: str, state: str) -> str: ...
    def exchange_code(self, code: str, remote_shop_id: str | None) -> Token: ...
    def refresh(self) -> Token: ...
    def upload_image(self, data: bytes, filename: str) -> str: ...
    def publish(self, listing: RemoteListing) -> str: ...
    def update(self, remote_id: str, listing: RemoteListing) -> None: ...
    def update_price(self, remote_id: str, price_vnd: int) -> None: ...
    def update_stock(self, remote_id: str, stock: int) -> None: ...
    def unlist(self, remote_id: str) -> None: ...
    def delete(self, remote_id: str) -> None: ...
    def read_item(self, remote_id: str) -> RemoteItem: ...
    def recent_orders(self, since: datetime) -> list[RemoteOrder]:
        """Orders created OR updated since `since` (a cancellation of an older order too)."""
        ...


@runtime_checkable
class BatchPriceStock(Protocol):
    """Optional, beside the contract: price and stock of many SKUs in as few calls as the
    platform allows (`price_stock_batch` SKUs a call). Every adapter here implements it."""

    def update_price_stock(self, changes: Sequence[PriceStockChange]) -> None: ...


# platform -> display name. Adding a platform = one module syndication/platforms/<key>.py
# exposing `Adapter` (and its UNCONFIRMED table) + one entry here.
PLATFORMS: dict[str, str] = {"shopee": "Shopee", "lazada": "Lazada", "tiki": "Tiki"}


def adapter_for(
    credentials: AppCredentials, token: Token | None, *, timeout: float = 15.0
) -> PlatformAdapter:
    if credentials.platform not in PLATFORMS:
        raise KeyError(f"no adapter for platform {credentials.platform!r}")
    module = importlib.import_module(f"syndication.platforms.{credentials.platform}")
    adapter: PlatformAdapter = module.Adapter(credentials, token, timeout=timeout)
    return adapter


def require_listing(listing: RemoteListing, *, max_title: int, min_title: int = 1) -> None:
    """The checks every platform makes, made before any call so the producer sees the field."""
    title = listing.title.strip()
    if not min_title <= len(title) <= max_title:
        raise ValidationFailed(
            f"the title must be {min_title}–{max_title} characters (it is {len(title)})", "local", "title"
        )
    if not listing.description.strip():
        raise ValidationFailed("the description is empty", "local", "description")
    if listing.price_vnd <= 0:
        raise ValidationFailed("the price must be positive", "local", "price_vnd")
    if listing.stock < 0:
        raise ValidationFailed("the stock cannot be negative", "local", "stock")
    if listing.weight_g <= 0:
        raise ValidationFailed("the weight must be positive", "local", "weight_g")
    if not listing.category_id:
        raise ValidationFailed("no platform category is mapped", "local", "category_id")
    if not listing.image_ids:
        raise ValidationFailed("at least one image is required", "local", "image_ids")
