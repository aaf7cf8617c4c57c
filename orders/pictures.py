"""The pictures of ordered products, for order pages and lists: one query for any number of orders."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select

from catalog.models import ListingImage
from marketplace.extensions import db

from .models import Order


def covers_of(orders: Iterable[Order]) -> dict[int, ListingImage]:
    """listing id -> its cover picture (first by position), for every line of `orders` whose
    product still exists and has one. An order line keeps its title and price when the product
    is deleted; its picture then simply is not shown."""
    ids = {line.listing_id for order in orders for line in order.lines if line.listing_id}
    if not ids:
        return {}
    covers: dict[int, ListingImage] = {}
    for image in db.session.scalars(
        select(ListingImage)
        .where(ListingImage.listing_id.in_(ids))
        .order_by(ListingImage.listing_id, ListingImage.position, ListingImage.id)
    ):
        covers.setdefault(image.listing_id, image)
    return covers
