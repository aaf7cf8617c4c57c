"""Syndication: connections to the national platforms, the operator's category mapping, one sync
record per listing × connection, the producers' channel choices, images uploaded once per content
hash, and the orders pulled from the platforms."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from catalog.models import Category, Listing
from marketplace.extensions import Model
from marketplace.timeutil import utcnow
from sellers.models import Shop

# The channels a listing may be carried on: the pull feeds (Google Merchant Center, and the CSV /
# JSON the others fetch) and each push platform.
FEEDS = "feeds"
PUSH_PLATFORMS = ("shopee", "lazada", "tiki")
CHANNELS = (FEEDS, *PUSH_PLATFORMS)
PLATFORM_NAMES = {"shopee": "Shopee", "lazada": "Lazada", "tiki": "Tiki"}


def platform_name(platform: str) -> str:
    return PLATFORM_NAMES.get(platform, platform.title())


class ConnectionState(enum.StrEnum):
    ACTIVE = "active"
    NEEDS_RECONNECTING = "needs_reconnecting"


class SyncState(enum.StrEnum):
    QUEUED = "queued"
    SYNCED = "synced"
    FAILED = "failed"  # a retryable failure (rate limit, platform down): the worker tries again
    NEEDS_ATTENTION = "needs_attention"  # the payload is wrong: someone must fix the listing or mapping
    REMOVED = "removed"


class RemoteOrderState(enum.StrEnum):
    TAKEN = "taken"  # the stock was taken on the floor
    NO_STOCK = "no_stock"  # the floor had no unit left: flagged for the shop
    UNMATCHED = "unmatched"  # no listing of ours behind the remote item
    CANCELLED = "cancelled"  # cancelled (returned, failed) on the platform: a taken stock went back once


class Connection(Model):
    """A link to one shop on a platform: the producer's own (shop_id set) or the floor's flagship
    store (shop_id NULL) carrying many producers' listings. Tokens never leave the server in full."""

    __tablename__ = "syndication_connections"
    __table_args__ = (
        UniqueConstraint("platform", "remote_shop_id"),
        CheckConstraint("state IN ('active','needs_reconnecting')", name="state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int | None] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    platform: Mapped[str] = mapped_column(String(20))
    remote_shop_id: Mapped[str] = mapped_column(String(64))
    access_token: Mapped[str] = mapped_column(Text)
    refresh_token: Mapped[str | None] = mapped_column(Text)
    expires_at: Mapped[datetime | None]  # naive UTC
    state: Mapped[str] = mapped_column(String(20), default=ConnectionState.ACTIVE.value)
    state_reason: Mapped[str | None] = mapped_column(Text)
    orders_pulled_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    shop: Mapped[Shop | None] = relationship()

    @property
    def is_floor(self) -> bool:
        return self.shop_id is None

    @property
    def masked_token(self) -> str:
        token = self.access_token or ""
        return (token[:4] + "…" + token[-2:]) if len(token) > 8 else "…"

    def __repr__(self) -> str:
        return f"<Connection {self.platform} {self.remote_shop_id}>"


class CategoryMapping(Model):
    """Floor category → the platform's leaf category id, with the attributes it requires."""

    __tablename__ = "syndication_category_mappings"
    __table_args__ = (UniqueConstraint("platform", "category_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(20))
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id", ondelete="CASCADE"), index=True)
    remote_category_id: Mapped[str] = mapped_column(String(40))
    attributes: Mapped[dict] = mapped_column(JSON, default=dict)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    category: Mapped[Category] = relationship()


class SyncRecord(Model):
    """What the floor last sent for one listing to one connection, and how it went. `hashes`
    holds one hash per field group (content, price, stock, presence): only a changed group is
    sent again."""

    __tablename__ = "syndication_sync_records"
    __table_args__ = (
        UniqueConstraint("listing_id", "connection_id"),
        CheckConstraint("state IN ('queued','synced','failed','needs_attention','removed')", name="state"),
        Index("ix_syndication_sync_records_state", "state", "connection_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    listing_id: Mapped[int] = mapped_column(ForeignKey("listings.id", ondelete="CASCADE"), index=True)
    connection_id: Mapped[int] = mapped_column(
        ForeignKey("syndication_connections.id", ondelete="CASCADE"), index=True
    )
    state: Mapped[str] = mapped_column(String(20), default=SyncState.QUEUED.value)
    remote_id: Mapped[str | None] = mapped_column(String(64))
    hashes: Mapped[dict] = mapped_column(JSON, default=dict)
    payload_hash: Mapped[str | None] = mapped_column(String(64))  # of the whole last payload
    last_error: Mapped[str | None] = mapped_column(Text)  # plain Vietnamese, with what to fix
    last_success_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    listing: Mapped[Listing] = relationship()
    connection: Mapped[Connection] = relationship()


class ShopChannel(Model):
    """The shop's default for a channel (every listing of the shop unless it says otherwise)."""

    __tablename__ = "syndication_shop_channels"
    __table_args__ = (UniqueConstraint("shop_id", "channel"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(20))
    enabled: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)  # the feeds' validator


class ListingChannel(Model):
    """One listing's own choice for a channel, over the shop's default."""

    __tablename__ = "syndication_listing_channels"
    __table_args__ = (UniqueConstraint("listing_id", "channel"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    listing_id: Mapped[int] = mapped_column(ForeignKey("listings.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(20))
    enabled: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)  # the feeds' validator


class UploadedImage(Model):
    """An image already on a connection's platform, by content hash: uploaded once."""

    __tablename__ = "syndication_uploaded_images"
    __table_args__ = (UniqueConstraint("connection_id", "content_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    connection_id: Mapped[int] = mapped_column(
        ForeignKey("syndication_connections.id", ondelete="CASCADE"), index=True
    )
    content_hash: Mapped[str] = mapped_column(String(80))
    remote_image_id: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class RemoteOrder(Model):
    """One line of an order placed on a platform, as pulled: it took the floor's stock (or found
    none and was flagged). Fulfilment stays on the platform."""

    __tablename__ = "syndication_remote_orders"
    __table_args__ = (
        UniqueConstraint("connection_id", "remote_order_id", "remote_item_id"),
        CheckConstraint("state IN ('taken','no_stock','unmatched','cancelled')", name="state"),
        CheckConstraint("quantity >= 1", name="quantity_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    connection_id: Mapped[int] = mapped_column(
        ForeignKey("syndication_connections.id", ondelete="CASCADE"), index=True
    )
    shop_id: Mapped[int | None] = mapped_column(ForeignKey("shops.id", ondelete="CASCADE"), index=True)
    listing_id: Mapped[int | None] = mapped_column(ForeignKey("listings.id", ondelete="SET NULL"), index=True)
    platform: Mapped[str] = mapped_column(String(20))
    remote_order_id: Mapped[str] = mapped_column(String(64))
    remote_item_id: Mapped[str] = mapped_column(String(64))
    remote_status: Mapped[str] = mapped_column(String(40), default="")
    quantity: Mapped[int]
    price_vnd: Mapped[int] = mapped_column(default=0)
    title: Mapped[str] = mapped_column(String(160), default="")
    state: Mapped[str] = mapped_column(String(20))
    placed_at: Mapped[datetime]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    connection: Mapped[Connection] = relationship()
    listing: Mapped[Listing | None] = relationship()
