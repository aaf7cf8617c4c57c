"""A small storefront for the public-page tests: two shops, a category tree, listings with
pictures, OCOP ratings the operator checked, featured ones and sold-out ones."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from catalog.models import Listing, ListingImage
from marketplace import outbox
from marketplace.extensions import db

ISSUED = (date.today() - timedelta(days=200)).strftime("%d/%m/%Y")


@dataclass
class Storefront:
    top: object
    child: object
    shops: list
    listings: list = field(default_factory=list)


def storefront(factory) -> Storefront:
    top = factory.category("Trái cây")
    child = factory.category("Cam", parent=top)
    shops = [factory.shop(name="HTX Cam bù Sơn Kim"), factory.shop(name="Cơ sở mật ong Vũ Quang")]
    return Storefront(top=top, child=child, shops=shops)


def add_listings(factory, front: Storefront, n: int) -> list[Listing]:
    """`n` more listings, every kind a card shows: pictures, OCOP badges, featured, sold out."""
    operator = factory.operator()
    made = []
    for _ in range(n):
        i = len(front.listings) + 1
        extra = {}
        if i % 3 == 0:
            extra = {
                "ocop_stars": 3 + (i // 3) % 3,  # 3: 4★, 6: 5★, 9: 3★…
                "ocop_certificate_no": f"OCOP-HT-{i:04d}",
                "ocop_level": "province",
                "ocop_issued_on": ISSUED,
            }
        listing = factory.listing(
            shop=front.shops[i % 2],
            title=f"Cam bù Hương Sơn loại {i}",
            price=30000 + 1000 * i,
            stock=0 if i % 5 == 0 else 10,
            category=front.child if i % 2 else front.top,
            origin="Hương Sơn",
            **extra,
        )
        if extra:
            factory.check_ocop(listing, operator=operator)
        if i % 4 == 0:
            listing.featured = True
        if i % 2:
            for position in range(2):
                db.session.add(
                    ListingImage(
                        listing_id=listing.id,
                        key=f"{i:030d}{position:034d}",
                        position=position,
                        width=1200,
                        height=900,
                    )
                )
        front.listings.append(listing)
        made.append(listing)
    db.session.commit()
    outbox.drain()  # the search index (search and category pages) follows through the worker
    return made
