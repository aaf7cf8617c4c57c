"""Which catalog pages the anonymous page cache keeps (marketplace/pagecache.py), what each
shows, and which scopes a change bumps.

Scopes: the rows a page loaded (`listings:<id>`, `shops:<id>`, `categories:<id>`, tracked by
the cache itself), plus the lists a page shows: `category-listings:<id>` (a category page, which
includes its subcategories' listings), `shop-listings:<id>` (a shop page, and "more from this
shop" on a listing page) and `catalog` (home, sitemap, the API's list; search adds its pages).

A change bumps: a listing — its row, its shop's and its category's (and ancestors') lists, and
`catalog`; a shop — its row, its list, the lists of the categories its listings are in (a
suspended shop's listings leave them), `catalog`; a category — its row, its and its ancestors'
lists, `catalog`. A listing that moved to another category leaves the old category page through
its own row, which that page loaded."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from flask import Flask
from sqlalchemy import select

from marketplace import pagecache
from marketplace.extensions import db
from sellers.models import Shop

from . import certifications
from .models import Category, Listing

CATALOG = "catalog"
# The floor's certification names (badges, facet labels) as the operator last edited them.
CERTIFICATIONS = "certifications"


def _category_chain(category_id: int | None) -> list[int]:
    ids: list[int] = []
    while category_id is not None and category_id not in ids:
        ids.append(category_id)
        category_id = db.session.scalar(select(Category.parent_id).where(Category.id == category_id))
    return ids


def category_scopes(category_ids: Iterable[int]) -> set[str]:
    out: set[str] = set()
    for category_id in category_ids:
        out.update(f"category-listings:{cid}" for cid in _category_chain(category_id))
    return out


def on_listing_changed(payload: dict[str, Any], _event: Any) -> None:
    listing_id = int(payload["listing_id"])
    scopes = {f"listings:{listing_id}", CATALOG}
    row = db.session.execute(
        select(Listing.shop_id, Listing.category_id).where(Listing.id == listing_id)
    ).first()
    if row is not None:
        scopes.add(f"shop-listings:{row.shop_id}")
        scopes |= category_scopes([row.category_id])
    pagecache.bump(*scopes)


def on_shop_changed(payload: dict[str, Any], _event: Any) -> None:
    shop_id = int(payload["shop_id"])
    categories = db.session.scalars(select(Listing.category_id).where(Listing.shop_id == shop_id).distinct())
    pagecache.bump(f"shops:{shop_id}", f"shop-listings:{shop_id}", CATALOG, *category_scopes(categories))


def on_category_changed(payload: dict[str, Any], _event: Any) -> None:
    category_id = int(payload["category_id"])
    pagecache.bump(f"categories:{category_id}", CATALOG, *category_scopes([category_id]))


def on_certification_changed(_payload: dict[str, Any], _event: Any) -> None:
    """A certification's name or English name: every page that may show it as a badge or a facet."""
    pagecache.bump(CERTIFICATIONS, CATALOG)


def _category_page(args: Mapping[str, Any]) -> list[str]:
    category_id = db.session.scalar(select(Category.id).where(Category.slug == args.get("slug")))
    return [f"category-listings:{category_id}", CERTIFICATIONS] if category_id else []


def _listing_page(args: Mapping[str, Any]) -> list[str]:
    row = db.session.execute(
        select(Listing.id, Listing.shop_id).where(Listing.slug == args.get("slug"))
    ).first()
    return [f"listings:{row.id}", f"shop-listings:{row.shop_id}", CERTIFICATIONS] if row else []


def _shop_page(args: Mapping[str, Any]) -> list[str]:
    shop_id = db.session.scalar(select(Shop.id).where(Shop.slug == args.get("slug")))
    return [f"shops:{shop_id}", f"shop-listings:{shop_id}"] if shop_id else []


def _api_listing(args: Mapping[str, Any]) -> list[str]:
    return [f"listings:{args.get('listing_id')}"]


def init_app(app: Flask) -> None:
    pagecache.track_table(app, "listings", "shops", "categories")
    pagecache.cache_endpoint(app, "catalog.home", [CATALOG])
    pagecache.cache_endpoint(app, "catalog.show_category", _category_page)
    pagecache.cache_endpoint(app, "catalog.show_listing", _listing_page)
    pagecache.cache_endpoint(app, "catalog.show_shop", _shop_page)
    pagecache.cache_endpoint(app, "catalog.trace_listing", _listing_page)
    pagecache.cache_endpoint(app, "catalog.sitemap", [CATALOG])
    pagecache.cache_endpoint(app, "catalog_api.list_listings", [CATALOG])
    pagecache.cache_endpoint(app, "catalog_api.get_listing", _api_listing)
    pagecache.on_topic(app, "listing.changed", on_listing_changed)
    pagecache.on_topic(app, "shop.changed", on_shop_changed)
    pagecache.on_topic(app, "category.changed", on_category_changed)
    pagecache.on_topic(app, certifications.TOPIC, on_certification_changed)
