"""The pull feeds: Google Merchant Center (RSS 2.0 with the g: namespace), and the same items as
CSV and JSON for the platforms whose practical route is a feed (Postmart, Voso).

A feed lists exactly the public listings (active, not hidden, of an approved shop) whose
"feeds" channel is on and that have a photo (Google refuses an item without `g:image_link`).
The body is streamed from keyset pages of plain rows, so memory stays flat however many
listings there are; the validator (ETag, Last-Modified) comes from one aggregate query."""

from __future__ import annotations

import hashlib
import html
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from xml.sax.saxutils import escape

from sqlalchemy import func, select

from catalog.models import Category, Listing, ListingImage, ListingStatus
from marketplace.extensions import db
from marketplace.images import image_url_path
from sellers.models import Shop, ShopStatus

from .channels import carried_clause, choices_changed_at
from .models import FEEDS

PAGE = 1000
G_NS = "http://base.google.com/ns/1.0"
MAX_ID, MAX_TITLE, MAX_DESCRIPTION = 50, 150, 5000
IMAGE_VARIANT = "1200.jpg"
_TAGS = re.compile(r"<[^>]+>")
_SPACES = re.compile(r"[ \t\r\f\v]+")
# Characters XML 1.0 cannot carry at all (a control character pasted into a description).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


@dataclass(frozen=True)
class FeedItem:
    id: str
    title: str
    description: str
    link: str
    image_link: str
    availability: str  # in_stock | out_of_stock
    price_vnd: int
    brand: str
    product_type: str
    unit: str
    stock: int

    @property
    def price(self) -> str:
        return f"{self.price_vnd} VND"


def feed_id(listing_id: int) -> str:
    """The stable item id: never reused, ≤ 50 characters."""
    return f"HT-{listing_id}"


def plain_text(description_html: str) -> str:
    text = description_html.replace("</p>", "\n").replace("<br>", "\n").replace("</li>", "\n")
    text = html.unescape(_TAGS.sub(" ", text))
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    return _NOT_XML.sub("", "\n".join(line for line in lines if line))


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _base_query(*, listing_filter: bool = True):
    """The feed's rows. `listing_filter=False` leaves the listing's own status conditions to the
    caller (the pages check them in Python: an indexed status condition would make the planner
    walk the status index instead of the page's primary keys)."""
    cover = (
        select(ListingImage.key)
        .where(ListingImage.listing_id == Listing.id)
        .order_by(ListingImage.position, ListingImage.id)
        .limit(1)
        .correlate(Listing)
        .scalar_subquery()
    )
    query = (
        select(
            Listing.id,
            Listing.slug,
            Listing.title,
            Listing.description,
            Listing.price_vnd,
            Listing.stock,
            Listing.min_order_qty,
            Listing.unit,
            Listing.status,
            Listing.hidden_at,
            Shop.name.label("shop_name"),
            Category.name.label("category_name"),
            cover.label("cover_key"),
        )
        .select_from(Listing)
        .join(Shop, Shop.id == Listing.shop_id)
        .join(Category, Category.id == Listing.category_id)
    )
    query, carried = carried_clause(query, FEEDS)
    query = query.where(Shop.status == ShopStatus.APPROVED.value, carried, cover.is_not(None))
    if listing_filter:
        query = query.where(Listing.status == ListingStatus.ACTIVE.value, Listing.hidden_at.is_(None))
    return query


def items(listing_url: str, media_url: str) -> Iterator[FeedItem]:
    """Every item, by keyset pages of PAGE rows. `listing_url` and `media_url` are absolute URL
    templates with `{slug}` and `{path}` (built once, not per row)."""
    last = 0
    base = _base_query(listing_filter=False)
    while True:
        # The page's ids by the primary key alone (a planner would otherwise walk the status
        # index and sort every remaining row for each page), then those rows that qualify.
        ids = list(
            db.session.scalars(select(Listing.id).where(Listing.id > last).order_by(Listing.id).limit(PAGE))
        )
        if not ids:
            return
        rows = db.session.execute(base.where(Listing.id.in_(ids)).order_by(Listing.id)).all()
        for row in rows:
            if row.status != ListingStatus.ACTIVE.value or row.hidden_at is not None:
                continue
            title = _clip(_NOT_XML.sub("", row.title).strip(), MAX_TITLE)
            description = _clip(plain_text(row.description or "") or title, MAX_DESCRIPTION)
            yield FeedItem(
                id=feed_id(row.id),
                title=title,
                description=description,
                link=listing_url.replace("{slug}", row.slug),
                image_link=media_url.replace("{path}", image_url_path(row.cover_key, IMAGE_VARIANT)),
                availability="in_stock" if row.stock >= max(row.min_order_qty, 1) else "out_of_stock",
                price_vnd=row.price_vnd,
                brand=_clip(row.shop_name, 70),
                product_type=row.category_name,
                unit=row.unit,
                stock=row.stock,
            )
        last = ids[-1]
        db.session.expire_all()


def validator() -> tuple[str, datetime]:
    """(ETag, Last-Modified) of the feeds' current content: the included listings' count and
    newest change, the newest change of any listing, of any shop and of any channel choice (a
    listing leaving the feed moves one of them)."""
    query = _base_query().with_only_columns(func.count(), func.max(Listing.updated_at))
    count, newest = db.session.execute(query).one()
    # Any listing's latest change, included or not: a listing leaving the feed (archived,
    # hidden, drafted) must move Last-Modified forward, never let it step back to the next newest.
    touched = db.session.scalar(select(func.max(Listing.updated_at)))
    shops = db.session.scalar(select(func.max(Shop.updated_at)))
    images = db.session.scalar(select(func.max(ListingImage.id)))
    moments = [m for m in (newest, touched, shops, *choices_changed_at()) if m is not None]
    modified = max(moments) if moments else datetime(2026, 1, 1)
    seed = f"{count}|{newest}|{shops}|{images}|{'|'.join(str(m) for m in moments)}"
    etag = hashlib.sha256(seed.encode()).hexdigest()[:32]
    return etag, modified.replace(microsecond=0, tzinfo=UTC)


# --- renderers -----------------------------------------------------------------------------------


def _x(text: str) -> str:
    """Escaped for XML, without the characters XML 1.0 cannot carry (one in a shop's or a
    category's name, stored before the forms dropped them, would break the whole feed)."""
    return escape(_NOT_XML.sub("", text))


def google_rss(all_items: Iterator[FeedItem], *, title: str, link: str, description: str) -> Iterator[str]:
    yield '<?xml version="1.0" encoding="UTF-8"?>\n'
    yield f'<rss version="2.0" xmlns:g="{G_NS}">\n<channel>\n'
    yield f"<title>{_x(title)}</title>\n<link>{_x(link)}</link>\n<description>{_x(description)}</description>\n"
    chunk: list[str] = []
    for item in all_items:
        chunk.append(
            "<item>"
            f"<g:id>{_x(item.id)}</g:id>"
            f"<g:title>{_x(item.title)}</g:title>"
            f"<g:description>{_x(item.description)}</g:description>"
            f"<g:link>{_x(item.link)}</g:link>"
            f"<g:image_link>{_x(item.image_link)}</g:image_link>"
            f"<g:availability>{item.availability}</g:availability>"
            f"<g:price>{item.price}</g:price>"
            "<g:condition>new</g:condition>"
            f"<g:brand>{_x(item.brand)}</g:brand>"
            "<g:identifier_exists>no</g:identifier_exists>"
            f"<g:product_type>{_x(item.product_type)}</g:product_type>"
            "</item>\n"
        )
        if len(chunk) >= 200:
            yield "".join(chunk)
            chunk = []
    yield "".join(chunk)
    yield "</channel>\n</rss>\n"


CSV_COLUMNS = (
    "id",
    "title",
    "description",
    "link",
    "image_link",
    "availability",
    "price",
    "brand",
    "product_type",
    "unit",
    "stock",
)


def _csv_cell(value: object) -> str:
    text = str(value)
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):  # a spreadsheet must not run it as a formula
        text = "'" + text
    return '"' + text.replace('"', '""') + '"' if any(c in text for c in ',"\n\r') else text


def csv_rows(all_items: Iterator[FeedItem]) -> Iterator[str]:
    yield "\ufeff" + ",".join(CSV_COLUMNS) + "\r\n"
    for item in all_items:
        values = (
            item.id,
            item.title,
            item.description,
            item.link,
            item.image_link,
            item.availability,
            item.price,
            item.brand,
            item.product_type,
            item.unit,
            item.stock,
        )
        yield ",".join(_csv_cell(v) for v in values) + "\r\n"


def json_chunks(all_items: Iterator[FeedItem], *, generated_at: str) -> Iterator[str]:
    yield '{"generated_at": ' + json.dumps(generated_at) + ', "items": ['
    first = True
    for item in all_items:
        record = {
            "id": item.id,
            "title": item.title,
            "description": item.description,
            "link": item.link,
            "image_link": item.image_link,
            "availability": item.availability,
            "price": {"value": item.price_vnd, "currency": "VND"},
            "brand": item.brand,
            "product_type": item.product_type,
            "unit": item.unit,
            "stock": item.stock,
        }
        yield ("" if first else ",") + "\n" + json.dumps(record, ensure_ascii=False)
        first = False
    yield "\n]}\n"
