"""Product cards, computed once per page in Python so the template only prints strings.

A page shows up to a few dozen cards; each used to cost a macro call with five `url_for` calls for
its picture, a Babel currency format and a gettext. Here the media prefix and the listing/shop URL
prefixes are built once per page, prices are formatted once per amount (the format is the same in
both languages: the currency is đồng), and the per-page labels are translated once. The card HTML
is printed by `card_grid` in templates/macros/ui.html, for listings (ORM rows) and search hits
alike."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from flask import url_for
from markupsafe import Markup
from sqlalchemy import Select, select
from sqlalchemy.orm import contains_eager, lazyload

from marketplace import pagecache
from marketplace.extensions import db
from marketplace.images import image_url_path
from marketplace.money import format_vnd
from marketplace.timeutil import local_today
from sellers.models import Shop

from .models import Listing, ListingImage

_SLUG_MARK = "--slug--"  # a placeholder URL-safe in every route, replaced by the real slug


@dataclass(frozen=True, slots=True)
class Cover:
    key: str
    width: int
    height: int


@dataclass(frozen=True, slots=True)
class Card:
    id: int
    url: str
    title: str | Markup  # Markup for search hits (highlighted words)
    price: str
    unit: str
    in_stock: bool
    ocop_stars: int | None
    origin: str | None
    shop_name: str
    shop_url: str
    src: str | None = None  # the 320 px JPEG; None: no picture
    jpg_srcset: str = ""
    webp_srcset: str = ""
    width: int | None = None
    height: int | None = None
    snippet: Markup | None = None


@lru_cache(maxsize=4096)
def _price(amount: int) -> str:
    return format_vnd(amount)


class CardMaker:
    """Builds cards for one page: URL prefixes computed once, then plain string work per card."""

    def __init__(self) -> None:
        # url_for once per endpoint: a listing's URL is the prefix + its slug (slugs are ASCII
        # letters, digits and hyphens, which url_for would not quote either).
        self._listing = url_for("catalog.show_listing", slug=_SLUG_MARK).split(_SLUG_MARK)
        self._shop = url_for("catalog.show_shop", slug=_SLUG_MARK).split(_SLUG_MARK)
        self._media = url_for("shell.media", filename="x")[:-1]

    def listing_url(self, slug: str) -> str:
        return self._listing[0] + slug + self._listing[1]

    def shop_url(self, slug: str) -> str:
        return self._shop[0] + slug + self._shop[1]

    def picture(self, key: str) -> tuple[str, str, str]:
        """(src, JPEG srcset, WebP srcset) of a stored image's 320 and 1200 px variants."""
        media = self._media
        jpg320, jpg1200 = media + image_url_path(key, "320.jpg"), media + image_url_path(key, "1200.jpg")
        webp = (
            f"{media}{image_url_path(key, '320.webp')} 320w, {media}{image_url_path(key, '1200.webp')} 1200w"
        )
        return jpg320, f"{jpg320} 320w, {jpg1200} 1200w", webp

    def from_listing(self, listing: Listing, today: date, cover: Cover | None) -> Card:
        picture = self.picture(cover.key) if cover is not None else (None, "", "")
        return Card(
            id=listing.id,
            url=self.listing_url(listing.slug),
            title=listing.title,
            price=_price(listing.price_vnd),
            unit=listing.unit,
            in_stock=listing.in_stock,
            ocop_stars=listing.ocop_badge(today),
            origin=listing.origin,
            shop_name=listing.shop.name,
            shop_url=self.shop_url(listing.shop.slug),
            src=picture[0],
            jpg_srcset=picture[1],
            webp_srcset=picture[2],
            width=cover.width if cover is not None else None,
            height=cover.height if cover is not None else None,
        )

    def from_hit(self, hit) -> Card:
        """A search hit (search.query.Hit): the index already holds what a card shows."""
        picture = self.picture(hit.image_key) if hit.image_key else (None, "", "")
        return Card(
            id=hit.id,
            url=self.listing_url(hit.slug),
            title=hit.title_html,
            price=_price(hit.price_vnd),
            unit=hit.unit,
            in_stock=hit.in_stock,
            ocop_stars=hit.ocop_stars,
            origin=hit.origin,
            shop_name=hit.shop_name,
            shop_url=self.shop_url(hit.shop_slug),
            src=picture[0],
            jpg_srcset=picture[1],
            webp_srcset=picture[2],
            width=hit.image_w if hit.image_key else None,
            height=hit.image_h if hit.image_key else None,
            snippet=hit.snippet_html,
        )


def card_listings_query() -> Select:
    """Public listings (`catalog.services.public_listings_query`, which joins the shop) loading
    only what a card shows: the shop from that join, the OCOP certificate (joined by the model);
    not the images (`covers` reads the first of each in one query for the page), the category or
    the commune."""
    from .services import public_listings_query

    return public_listings_query(images=False).options(
        contains_eager(Listing.shop).lazyload(Shop.commune),
        lazyload(Listing.category),
        lazyload(Listing.images),
    )


def covers(listing_ids: Iterable[int]) -> dict[int, Cover]:
    """The first picture (by position) of each listing, in one query."""
    ids = sorted(set(listing_ids))
    if not ids:
        return {}
    # Every card's listing, also those built from column rows (no ORM row loaded): a cached page
    # showing one is renewed when it changes, e.g. moves to another category.
    pagecache.shows(*(f"listings:{i}" for i in ids))
    out: dict[int, Cover] = {}
    rows = db.session.execute(
        select(ListingImage.listing_id, ListingImage.key, ListingImage.width, ListingImage.height)
        .where(ListingImage.listing_id.in_(ids))
        .order_by(ListingImage.listing_id, ListingImage.position.desc(), ListingImage.id.desc())
    )
    for listing_id, key, width, height in rows:  # the last row of a listing is its first picture
        out[listing_id] = Cover(key, width, height)
    return out


def listing_card_groups(groups: Sequence[Sequence[Listing]], today: date | None = None) -> list[list[Card]]:
    """Cards for several sections of one page (one query for all their pictures)."""
    maker, today = CardMaker(), today or local_today()
    pictures = covers(listing.id for group in groups for listing in group)
    return [[maker.from_listing(item, today, pictures.get(item.id)) for item in group] for group in groups]


def listing_cards(listings: Iterable[Listing], today: date | None = None) -> list[Card]:
    return listing_card_groups([list(listings)], today)[0]


def hit_cards(hits: Iterable) -> list[Card]:
    maker, hits = CardMaker(), list(hits)
    cards = [maker.from_hit(hit) for hit in hits]
    pagecache.shows(*(f"listings:{hit.id}" for hit in hits))
    return cards
