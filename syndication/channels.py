"""Which channels carry a listing: the listing's own choice, else its shop's default, else none
(syndication is opt-in). One rule, in Python and in SQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, false, func, select
from sqlalchemy.orm import aliased

from catalog.models import Listing
from marketplace.extensions import db

from .models import CHANNELS, ListingChannel, ShopChannel


def shop_choices(shop_id: int) -> dict[str, bool]:
    rows = db.session.execute(
        select(ShopChannel.channel, ShopChannel.enabled).where(ShopChannel.shop_id == shop_id)
    ).all()
    found: dict[str, bool] = {row[0]: row[1] for row in rows}
    return {channel: bool(found.get(channel, False)) for channel in CHANNELS}


def listing_choices(listing_id: int) -> dict[str, bool | None]:
    """The listing's own choices; None where it follows the shop."""
    rows = db.session.execute(
        select(ListingChannel.channel, ListingChannel.enabled).where(ListingChannel.listing_id == listing_id)
    ).all()
    found: dict[str, bool] = {row[0]: row[1] for row in rows}
    return {channel: found.get(channel) for channel in CHANNELS}


def effective(listing: Listing) -> dict[str, bool]:
    own = listing_choices(listing.id)
    shop = shop_choices(listing.shop_id)
    out: dict[str, bool] = {}
    for channel in CHANNELS:
        mine = own[channel]
        out[channel] = shop[channel] if mine is None else mine
    return out


def carries(listing: Listing, channel: str) -> bool:
    return effective(listing)[channel]


def set_shop_channel(shop_id: int, channel: str, enabled: bool) -> None:
    row = db.session.scalar(
        select(ShopChannel).where(ShopChannel.shop_id == shop_id, ShopChannel.channel == channel)
    )
    if row is None:
        db.session.add(ShopChannel(shop_id=shop_id, channel=channel, enabled=enabled))
    else:
        row.enabled = enabled


def set_listing_channel(listing_id: int, channel: str, enabled: bool | None) -> None:
    """`None`: follow the shop's default again."""
    row = db.session.scalar(
        select(ListingChannel).where(
            ListingChannel.listing_id == listing_id, ListingChannel.channel == channel
        )
    )
    if enabled is None:
        if row is not None:
            db.session.delete(row)
    elif row is None:
        db.session.add(ListingChannel(listing_id=listing_id, channel=channel, enabled=enabled))
    else:
        row.enabled = enabled


def carried_clause(query: Any, channel: str) -> tuple[Any, ColumnElement[bool]]:
    """(`query` outer-joined to the choices, the condition "the channel carries the listing")."""
    own = aliased(ListingChannel)
    shop = aliased(ShopChannel)
    query = query.outerjoin(own, and_(own.listing_id == Listing.id, own.channel == channel)).outerjoin(
        shop, and_(shop.shop_id == Listing.shop_id, shop.channel == channel)
    )
    return query, func.coalesce(own.enabled, shop.enabled, false()) == True  # noqa: E712


def choices_changed_at() -> Any:
    """The latest change of any choice (the feeds' validator: a listing leaving a feed counts)."""
    return db.session.execute(
        select(func.max(ListingChannel.updated_at)).union_all(select(func.max(ShopChannel.updated_at)))
    ).scalars()
