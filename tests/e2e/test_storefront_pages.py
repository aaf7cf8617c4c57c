"""In a real browser, on a phone (390 px): category and search pages show the results first with
the filters in a drawer that opens without JavaScript; on a wide screen the drawer is a sidebar;
the listing page's breadcrumb fits, and its JSON-LD parses with no CSP report (the new_page
fixture fails the test on any)."""

from __future__ import annotations

import json

from playwright.sync_api import expect
from sqlalchemy import select

from marketplace import outbox
from marketplace.extensions import db
from tests.e2e.test_checkout_flow import seed

PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}


def seeded(live_server) -> dict:
    from catalog.models import Category

    out = seed(live_server.app)
    with live_server.app.app_context():
        out["category"] = db.session.scalar(select(Category.slug))
        outbox.drain()  # the worker: the search index behind the search and category pages
        db.session.remove()
    return out


def test_filters_drawer_works_without_javascript_on_a_phone(live_server, new_page):
    data = seeded(live_server)
    page = new_page(java_script_enabled=False, **PHONE)
    for path in (f"/danh-muc/{data['category']}", "/tim-kiem?q=cam"):
        page.goto(path)
        drawer = page.locator("details.filters-drawer")
        expect(drawer).not_to_have_attribute("open", "")
        first_card = page.locator("article.card").first
        expect(first_card).to_be_visible()
        box = first_card.bounding_box()
        assert box is not None and box["y"] < 844, (path, box)  # results first: on the first screen
        stock_filter = page.get_by_label("Chỉ hàng còn")
        expect(stock_filter).to_be_hidden()
        drawer.locator("summary").click()
        expect(stock_filter).to_be_visible()
        stock_filter.check()
        page.get_by_role("button", name="Lọc").click()
        page.wait_for_url("**in_stock=1**")
        assert page.url.split("?")[0].endswith(path.split("?")[0])
        expect(page.locator("article.card").first).to_be_visible()
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 390, path


def test_filters_are_a_sidebar_on_a_wide_screen(live_server, new_page):
    data = seeded(live_server)
    page = new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"/danh-muc/{data['category']}")
    expect(page.get_by_label("Chỉ hàng còn")).to_be_visible()
    expect(page.locator("details.filters-drawer summary")).to_be_hidden()
    facets = page.locator(".search-facets").bounding_box()
    results = page.locator(".search-results").bounding_box()
    assert facets["x"] + facets["width"] <= results["x"]  # side by side


def test_listing_page_on_a_phone_breadcrumb_and_structured_data(live_server, new_page):
    data = seeded(live_server)
    page = new_page(**PHONE)
    page.goto(f"/san-pham/{data['cam']['listing']}")
    crumbs = page.locator("nav.crumbs")
    expect(crumbs.get_by_role("link", name="Trang chủ")).to_be_visible()
    box = crumbs.bounding_box()
    assert box["width"] <= 390 and box["height"] < 48  # one line
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    blocks = page.evaluate(
        "() => [...document.querySelectorAll('script[type=\"application/ld+json\"]')].map(s => s.textContent)"
    )
    product, trail = (json.loads(block) for block in blocks)
    assert product["@type"] == "Product" and product["name"] == data["cam"]["title"]
    assert product["offers"]["price"] == "45000" and product["offers"]["priceCurrency"] == "VND"
    assert trail["@type"] == "BreadcrumbList" and trail["itemListElement"][-1]["name"] == data["cam"]["title"]
    page.wait_for_timeout(200)  # any CSP report arrives before the fixture checks
