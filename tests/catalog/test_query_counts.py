"""The public pages run a fixed number of SQL statements whatever the number of cards they show
(no N+1): each page is counted with 3 listings and again with 30."""

from __future__ import annotations

import contextlib

import pytest
from sqlalchemy import event

from marketplace.extensions import db
from tests.catalog.catalog_pages_testlib import add_listings, storefront


@contextlib.contextmanager
def counting():
    statements: list[str] = []

    def seen(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)


def pages(front) -> dict[str, str]:
    listing = front.listings[0]  # has pictures and a sibling or more in its shop
    return {
        "home": "/",
        "category": f"/danh-muc/{front.top.slug}",
        "subcategory": f"/danh-muc/{front.child.slug}?in_stock=1",
        "listing": f"/san-pham/{listing.slug}",
        "shop": f"/cua-hang/{front.shops[1].slug}",
        "trace": f"/truy-xuat/{listing.slug}",
        "search": "/tim-kiem?q=cam",
        "sitemap": "/sitemap.xml",
        "api": "/api/v1/listings?per_page=100",
    }


def count(client, path: str) -> tuple[int, str]:
    assert client.get(path).status_code == 200, path  # warm: per-process caches filled
    with counting() as statements:
        response = client.get(path)
    assert response.status_code == 200, path
    return len(statements), response.get_data(as_text=True)


def test_statements_do_not_grow_with_the_cards(client, factory, app):
    app.config["PER_PAGE"] = 40  # every listing of the category on one page
    front = storefront(factory)
    add_listings(factory, front, 3)
    few = {name: count(client, path) for name, path in pages(front).items()}
    add_listings(factory, front, 27)
    many = {name: count(client, path) for name, path in pages(front).items()}
    for name in few:
        assert many[name][0] == few[name][0], (name, few[name][0], many[name][0])
    # The pages really show more cards the second time (or the counts would prove nothing).
    assert many["category"][1].count('class="card"') == 30 > few["category"][1].count('class="card"') == 3
    assert many["home"][1].count('class="card"') > few["home"][1].count('class="card"')
    assert many["shop"][1].count('class="card"') == 15
    assert many["search"][1].count('class="card"') == 30
    assert many["api"][1].count('"slug"') > 30
    # And stay few: fixed, small numbers per page.
    assert all(n <= 10 for n, _ in many.values()), {name: n for name, (n, _) in many.items()}


@pytest.mark.parametrize("signed_in", [False, True])
def test_listing_page_statements_are_fixed_for_a_buyer_too(client, factory, signed_in):
    from tests.support import sign_in

    front = storefront(factory)
    add_listings(factory, front, 4)
    if signed_in:
        sign_in(client, factory.user())
    first, _ = count(client, f"/san-pham/{front.listings[0].slug}")
    add_listings(factory, front, 10)
    second, _ = count(client, f"/san-pham/{front.listings[0].slug}")
    assert first == second
