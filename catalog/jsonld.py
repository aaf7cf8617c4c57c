"""Structured data for a listing page (schema.org, JSON-LD): a `Product` with its `Offer`, and the
`BreadcrumbList` of the page, so search engines show the price, the stock and the path.

The page prints it with Jinja's `tojson`, which escapes <, >, & and ' as \\u sequences: a title
holding "</script>" stays inside the data block. A data block is not executed, so the strict CSP
(marketplace/security_headers.py) needs no exception for it."""

from __future__ import annotations

import html
import re
from datetime import date
from typing import Any

from flask import current_app, url_for
from flask_babel import gettext as _

from marketplace.images import image_url_path

from .models import Category, Listing, localized_name

_TAGS = re.compile(r"<[^>]+>")


def _plain(description_html: str, limit: int = 500) -> str:
    text = " ".join(html.unescape(_TAGS.sub(" ", description_html or "")).split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def category_path(category: Category) -> list[Category]:
    """The category and its ancestors, top first (a loop in bad data stops at the first repeat)."""
    path: list[Category] = []
    node: Category | None = category
    while node is not None and node not in path:
        path.append(node)
        node = node.parent
    return path[::-1]


def breadcrumb(listing: Listing) -> list[tuple[str, str]]:
    """(name, absolute URL) from the home page down to the listing itself."""
    site = current_app.config.get("SITE_NAME") or _(
        "Sàn TMĐT %(province)s", province=current_app.config["PROVINCE_NAME"]
    )
    crumbs = [(site, url_for("catalog.home", _external=True))]
    crumbs += [
        (category_display_name(c), url_for("catalog.show_category", slug=c.slug, _external=True))
        for c in category_path(listing.category)
    ]
    crumbs.append((listing.title, url_for("catalog.show_listing", slug=listing.slug, _external=True)))
    return crumbs


def category_display_name(category: Any) -> str:
    """A category's name in the page's language (`{{ category|category_name }}`): the one rule of
    catalog.models.localized_name, for ORM rows and the card rows alike."""
    return localized_name(str(category.name), getattr(category, "name_en", None))


def structured_data(listing: Listing, today: date) -> list[dict[str, Any]]:
    url = url_for("catalog.show_listing", slug=listing.slug, _external=True)
    shop = listing.shop
    shop_url = url_for("catalog.show_shop", slug=shop.slug, _external=True)
    offer: dict[str, Any] = {
        "@type": "Offer",
        "url": url,
        "price": str(listing.price_vnd),
        "priceCurrency": "VND",
        "availability": "https://schema.org/InStock" if listing.in_stock else "https://schema.org/OutOfStock",
        "itemCondition": "https://schema.org/NewCondition",
        "seller": {"@type": "Organization", "name": shop.name, "url": shop_url},
    }
    if listing.min_order_qty > 1:
        offer["eligibleQuantity"] = {
            "@type": "QuantitativeValue",
            "minValue": listing.min_order_qty,
            "unitText": listing.unit,
        }
    product: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "Product",
        "name": listing.title,
        "url": url,
        "brand": {"@type": "Brand", "name": shop.name},
        "category": category_display_name(listing.category),
        "offers": offer,
    }
    description = _plain(listing.description)
    if description:
        product["description"] = description
    if listing.images:
        product["image"] = [
            url_for("shell.media", filename=image_url_path(img.key, "1200.jpg"), _external=True)
            for img in listing.images
        ]
    if listing.sku:
        product["sku"] = listing.sku
    properties = []
    if listing.origin:
        properties.append({"@type": "PropertyValue", "name": _("Xuất xứ"), "value": listing.origin})
    stars = listing.ocop_badge(today)
    if stars:
        properties.append({"@type": "PropertyValue", "name": "OCOP", "value": stars, "unitText": "★"})
    if listing.certifications:
        properties += [
            {"@type": "PropertyValue", "name": _("Chứng nhận"), "value": cert}
            for cert in listing.certifications
        ]
    if properties:
        product["additionalProperty"] = properties
    crumbs = {
        "@context": "https://schema.org",
        "@type": "BreadcrumbList",
        "itemListElement": [
            {"@type": "ListItem", "position": position, "name": name, "item": item}
            for position, (name, item) in enumerate(breadcrumb(listing), start=1)
        ],
    }
    return [product, crumbs]
