"""The listing document: what the index holds for each public listing, read from the database.

Only rows of catalog.services.public_listings_query() become documents; any other listing id
is deleted from the index. Backends receive plain dicts and know nothing of the ORM."""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from catalog.models import OCOP_VALID_MONTHS, Category, Listing, add_months
from catalog.services import category_ids_below, public_listings_query
from marketplace.extensions import db

from . import text as vi


def category_paths(session=None) -> dict[int, tuple[list[int], list[str]]]:
    """For every category id: ids and names from itself up to the root (one small query)."""
    session = session or db.session
    rows = {cid: (parent, name) for cid, parent, name in session.execute(
        select(Category.id, Category.parent_id, Category.name))}
    paths: dict[int, tuple[list[int], list[str]]] = {}
    for cid in rows:
        ids, names, node, seen = [], [], cid, set()
        while node is not None and node in rows and node not in seen:
            seen.add(node)
            ids.append(node)
            names.append(rows[node][1])
            node = rows[node][0]
        paths[cid] = (ids, names)
    return paths


def _iso(value: datetime | date | None) -> str | None:
    return value.isoformat() if value is not None else None


def build_document(listing: Listing, paths: dict[int, tuple[list[int], list[str]]]) -> dict:
    ids, names = paths.get(listing.category_id, ([listing.category_id], [listing.category.name]))
    cover = listing.images[0] if listing.images else None
    stars = listing.ocop_stars if listing.ocop_stars and listing.ocop_issued_on else None
    expires = add_months(listing.ocop_issued_on, OCOP_VALID_MONTHS) if stars else None
    title = vi.nfc(listing.title).strip()
    published = listing.published_at or listing.created_at
    origin = (listing.origin or "").strip() or None
    return {
        "id": listing.id,
        "title": title,
        "slug": listing.slug,
        "description": vi.plain_text(listing.description),
        "price_vnd": int(listing.price_vnd),
        "unit": listing.unit,
        "in_stock": bool(listing.stock >= listing.min_order_qty),
        "shop_id": listing.shop_id,
        "shop_slug": listing.shop.slug,
        "shop_name": listing.shop.name,
        "category_id": listing.category_id,
        "category_ids": ids,
        "category_names": " / ".join(names),
        "origin": origin,
        "origin_key": " ".join(vi.folded_tokens(origin)) or None,
        "ocop_stars": stars,
        # The badge expires 36 months after issue: stored as a date and compared at query time.
        "ocop_expires_on": _iso(expires),
        "certifications": [c for c in (listing.certifications or []) if c],
        "sales_count": int(listing.sales_count or 0),
        "published_at": published.replace(microsecond=0).isoformat(),
        "image_key": cover.key if cover else None,
        "image_w": cover.width if cover else None,
        "image_h": cover.height if cover else None,
    }


def load_documents(listing_ids: Iterable[int]) -> tuple[list[dict], list[int]]:
    """Documents for the public listings among `listing_ids`, and the ids to delete."""
    wanted = sorted({int(i) for i in listing_ids})
    if not wanted:
        return [], []
    paths = category_paths()
    docs: list[dict] = []
    for start in range(0, len(wanted), 500):
        chunk = wanted[start:start + 500]
        rows = db.session.scalars(public_listings_query().where(Listing.id.in_(chunk))).unique().all()
        docs.extend(build_document(row, paths) for row in rows)
    found = {d["id"] for d in docs}
    return docs, [i for i in wanted if i not in found]


def iter_all_documents(batch: int = 1000) -> Iterator[list[dict]]:
    """Every public listing, in id order, `batch` documents at a time. Rows are streamed with
    yield_per in a session of their own (the caller's session and its objects are untouched)
    and dropped after each batch, so memory stays bounded."""
    with Session(db.engine) as session:
        paths = category_paths(session)
        query = public_listings_query().order_by(Listing.id).execution_options(yield_per=batch)
        chunk: list[dict] = []
        for listing in session.scalars(query):
            chunk.append(build_document(listing, paths))
            if len(chunk) >= batch:
                yield chunk
                chunk = []
                session.expunge_all()
        if chunk:
            yield chunk


def listing_ids_of_shop(shop_id: int) -> list[int]:
    return list(db.session.scalars(select(Listing.id).where(Listing.shop_id == shop_id)))


def listing_ids_of_category(category_id: int) -> list[int]:
    category = db.session.get(Category, category_id)
    if category is None:
        return []
    ids = category_ids_below(category)
    return list(db.session.scalars(select(Listing.id).where(Listing.category_id.in_(ids))))
