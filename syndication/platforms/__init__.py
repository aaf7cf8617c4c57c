"""Adapters to the national platforms (Shopee, Lazada, Tiki): one interface, one module each."""

from .base import (
    PLATFORMS,
    AppCredentials,
    AuthRevoked,
    BatchPriceStock,
    PlatformAdapter,
    PlatformError,
    PriceStockChange,
    RateLimited,
    RemoteItem,
    RemoteListing,
    RemoteOrder,
    RemoteOrderLine,
    Token,
    TokenExpired,
    Unavailable,
    ValidationFailed,
    adapter_for,
)
from .signing import lazada_sign, shopee_sign

__all__ = [
    "PLATFORMS",
    "AppCredentials",
    "AuthRevoked",
    "BatchPriceStock",
    "PlatformAdapter",
    "PlatformError",
    "PriceStockChange",
    "RateLimited",
    "RemoteItem",
    "RemoteListing",
    "RemoteOrder",
    "RemoteOrderLine",
    "Token",
    "TokenExpired",
    "Unavailable",
    "ValidationFailed",
    "adapter_for",
    "lazada_sign",
    "shopee_sign",
]
