"""The listing document: what the index holds for each public listing, read from the database.

Only rows of catalog.services.public_listings_query() become documents (its joins and WHERE
clause, projected onto the columns the index needs, so a full reindex streams plain rows instead
of ORM objects); any other listing id is deleted from the index. Backends receive plain dicts and
know nothing of the ORM."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date, datetime

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from catalog.models import Category, Listing, ListingImage, OcopCertificate, ocop_rating
from catalog.services import public_listings_query
from marketplace.extensions import db
from sellers.models import Shop

from . import text as vi

COLUMNS = (
    Listing.id,
    Listing.title,
    Listing.slug,
    Listing.description,
    Listing.price_vnd,
    Listing.unit,
    Listing.stock,
    Listing.min_order_qty,
    Listing.shop_id,
    Shop.slug.label("shop_slug"),
    Shop.name.label("shop_name"),
    Listing.category_id,
    Listing.origin,
    OcopCertificate.stars.label("ocop_stars"),
    OcopCertificate.issued_on.label("ocop_issued_on"),
    OcopCertificate.status.label("ocop_status"),
    Listing.certifications,
    Listing.sales_count,
    Listing.published_at,
    Listing.created_at,
)


def public_rows() -> Select:
    """The public listings query, projected onto the indexed columns (same joins, same filter),
    with the listing's OCOP claim from the register: only the operator's check makes stars count."""
    return (
        public_listings_query()
        .outerjoin(OcopCertificate, Listing.ocop_certificate_id == OcopCertificate.id)
        .with_only_columns(*COLUMNS)
    )


def category_paths(session=None) -> dict[int, tuple[list[int], list[str]]]:
    """For every category id: ids and names from itself up to the root (one small query)."""
    session = session or db.session
    rows = {
        cid: (parent, name)
        for cid, parent, name in session.execute(select(Category.id, Category.parent_id, Category.name))
    }
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


def covers(session, listing_ids: list[int]) -> dict[int, tuple[str, int, int]]:
    """The first image (key, width, height) of each listing that has one."""
    out: dict[int, tuple[str, int, int]] = {}
    if not listing_ids:
        return out
    rows = session.execute(
        select(ListingImage.listing_id, ListingImage.key, ListingImage.width, ListingImage.height)
        .where(ListingImage.listing_id.in_(listing_ids))
        .order_by(ListingImage.listing_id, ListingImage.position.desc(), ListingImage.id.desc())
    )
    for listing_id, key, width, height in rows:
        out[listing_id] = (key, width, height)  # the last row written per listing is position 0
    return out


def _iso(value: datetime | date | None) -> str | None:
    return value.isoformat() if value is not None else None


def build_document(
    row, paths: dict[int, tuple[list[int], list[str]]], cover: tuple[str, int, int] | None
) -> dict:
    ids, names = paths.get(row.category_id, ([row.category_id], []))
    # Checked ratings only (catalog.models.ocop_rating); the expiry is compared at query time.
    rating = ocop_rating(row.ocop_stars, row.ocop_issued_on, row.ocop_status)
    stars, expires = rating if rating is not None else (None, None)
    published = row.published_at or row.created_at
    origin = (row.origin or "").strip() or None
    return {
        "id": row.id,
        "title": vi.nfc(row.title).strip(),
        "slug": row.slug,
        "description": vi.plain_text(row.description),
        "price_vnd": int(row.price_vnd),
        "unit": row.unit,
        "in_stock": bool(row.stock >= row.min_order_qty),
        "shop_id": row.shop_id,
        "shop_slug": row.shop_slug,
        "shop_name": row.shop_name,
        "category_id": row.category_id,
        "category_ids": ids,
        "category_names": " / ".join(names),
        "origin": origin,
        "origin_key": " ".join(vi.folded_tokens(origin)) or None,
        "ocop_stars": stars,
        # The badge expires 36 months after issue: stored as a date and compared at query time.
        "ocop_expires_on": _iso(expires),
        "certifications": [c for c in (row.certifications or []) if c],
        "sales_count": int(row.sales_count or 0),
        "published_at": published.replace(microsecond=0).isoformat(),
        "image_key": cover[0] if cover else None,
        "image_w": cover[1] if cover else None,
        "image_h": cover[2] if cover else None,
    }


def load_documents(
    listing_ids: Iterable[int], session: Session | None = None
) -> tuple[list[dict], list[int]]:
    """Documents for the public listings among `listing_ids`, and the ids to delete."""
    reader = session if session is not None else db.session
    wanted = sorted({int(i) for i in listing_ids})
    if not wanted:
        return [], []
    paths = category_paths(reader)
    docs: list[dict] = []
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        rows = reader.execute(public_rows().where(Listing.id.in_(chunk))).all()
        images = covers(reader, [row.id for row in rows])
        docs.extend(build_document(row, paths, images.get(row.id)) for row in rows)
    found = {d["id"] for d in docs}
    return docs, [i for i in wanted if i not in found]


def iter_all_documents(batch: int = 1000) -> Iterator[list[dict]]:
    """Every public listing, in id order, `batch` documents at a time, streamed (yield_per) in a
    session of its own so memory stays bounded and the caller's session is untouched."""
    with Session(db.engine) as session:
        paths = category_paths(session)
        result = session.execute(public_rows().order_by(Listing.id).execution_options(yield_per=batch))
        for partition in result.partitions():
            images = covers(session, [row.id for row in partition])
            yield [build_document(row, paths, images.get(row.id)) for row in partition]


def listing_ids_of_shop(shop_id: int, session: Session | None = None) -> list[int]:
    reader = session if session is not None else db.session
    return list(reader.scalars(select(Listing.id).where(Listing.shop_id == shop_id)))


def listing_ids_of_category(category_id: int, session: Session | None = None) -> list[int]:
    """Listings in the category or any category below it."""
    reader = session if session is not None else db.session
    below = [cid for cid, (path, _names) in category_paths(reader).items() if category_id in path]
    if not below:
        return []
    return list(reader.scalars(select(Listing.id).where(Listing.category_id.in_(below))))
