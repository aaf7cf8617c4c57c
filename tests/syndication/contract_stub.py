"""The contract's syndication.platforms.base (INTERFACE-platforms.md), for as long as the
platforms branch is not merged: installed only when the real module is missing."""

from __future__ import annotations

import sys
import types
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class AppCredentials:
    platform: str
    app_id: str
    secret: str
    base_url: str


@dataclass(frozen=True)
class Token:
    access_token: str
    refresh_token: str | None
    expires_at: datetime | None
    remote_shop_id: str | None


@dataclass(frozen=True)
class RemoteListing:
    sku: str
    title: str
    description: str
    price_vnd: int
    stock: int
    weight_g: int
    category_id: str
    attributes: dict
    image_ids: tuple


@dataclass(frozen=True)
class RemoteItem:
    remote_id: str
    sku: str | None
    price_vnd: int
    stock: int
    status: str


@dataclass(frozen=True)
class RemoteOrderLine:
    remote_item_id: str
    sku: str | None
    quantity: int
    price_vnd: int


@dataclass(frozen=True)
class RemoteOrder:
    remote_order_id: str
    created_at: datetime
    status: str
    lines: tuple


class PlatformError(Exception):
    def __init__(self, message: str = "", code: str | None = None, **kw):
        super().__init__(message)
        self.message, self.code = message, code
        for key, value in kw.items():
            setattr(self, key, value)


class RateLimited(PlatformError):
    retry_after: float | None = None


class Unavailable(PlatformError):
    pass


class ValidationFailed(PlatformError):
    field: str | None = None


class TokenExpired(PlatformError):
    pass


class AuthRevoked(PlatformError):
    pass


def install() -> None:
    try:
        import syndication.platforms.base
    except ImportError:
        base = types.ModuleType("syndication.platforms.base")
        for name, value in dict(globals()).items():
            if isinstance(value, type) and value.__module__ == __name__:
                setattr(base, name, value)
        package = sys.modules.get("syndication.platforms") or types.ModuleType("syndication.platforms")
        package.__path__ = []  # type: ignore[attr-defined]
        package.base = base  # type: ignore[attr-defined]
        package.PLATFORMS = {"shopee": "Shopee", "lazada": "Lazada", "tiki": "Tiki"}  # type: ignore[attr-defined]
        sys.modules["syndication.platforms"] = package
        sys.modules["syndication.platforms.base"] = base
        import syndication

        syndication.platforms = package  # type: ignore[attr-defined]
