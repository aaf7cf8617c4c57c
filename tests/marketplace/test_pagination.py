"""Every paginated list goes through Flask-SQLAlchemy's db.paginate: the public shop page, the API
and the operator's order list; page numbers stay bounded (marketplace/numbers.py)."""

from __future__ import annotations

import re

import pytest

from marketplace.numbers import MAX_PAGE
from tests.support import sign_in


@pytest.fixture
def five_listings(factory):
    shop = factory.shop(name="Hợp tác xã Cam Hương Sơn")
    category = factory.category("Cam")
    for n in range(5):
        factory.listing(shop=shop, title=f"Cam loại {n}", price=10_000 * (n + 1), category=category)
    return shop


def _titles(html: str) -> list[str]:
    return re.findall(r"Cam loại \d", html)


def test_the_shop_page_pages_its_listings(app, client, five_listings):
    app.config["PER_PAGE"] = 2
    base = f"/cua-hang/{five_listings.slug}?sort=price_asc"
    first = client.get(base).get_data(as_text=True)
    assert _titles(first) == ["Cam loại 0", "Cam loại 1"] and "Trang 1 / 3" in first
    assert "5 sản phẩm" in first and 'rel="prev"' not in first
    assert f'href="/cua-hang/{five_listings.slug}?sort=price_asc&amp;page=2"' in first
    last = client.get(f"{base}&page=3").get_data(as_text=True)
    assert _titles(last) == ["Cam loại 4"] and "Trang 3 / 3" in last and 'rel="next"' not in last
    assert 'rel="prev"' in last


@pytest.mark.parametrize(
    ("page", "shown"), [("0", 1), ("abc", 1), ("-2", 1), ("1.0", 1), ("99" * 20, MAX_PAGE)]
)
def test_a_bad_page_number_is_clamped_not_an_error(app, client, five_listings, page, shown):
    app.config["PER_PAGE"] = 2
    response = client.get(f"/cua-hang/{five_listings.slug}?page={page}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert f"Trang {shown} / 3" in html
    assert len(_titles(html)) == (2 if shown == 1 else 0)  # beyond the last page: empty, no 404


def test_the_api_pages_with_the_same_shape(client, five_listings):
    body = client.get(f"/api/v1/listings?shop={five_listings.slug}&per_page=2&page=3&sort=price_asc").json
    assert set(body) == {"total", "page", "per_page", "items"}
    assert (body["total"], body["page"], body["per_page"]) == (5, 3, 2)
    assert [item["title"] for item in body["items"]] == ["Cam loại 4"]
    beyond = client.get(f"/api/v1/listings?shop={five_listings.slug}&per_page=2&page=9").json
    assert beyond == {"total": 5, "page": 9, "per_page": 2, "items": []}


def test_the_operator_order_list_pages(app, client, factory, csrf_off, monkeypatch):
    from orders import operator_views
    from tests.orders.orders_testlib import Shopper, place_cod_order

    monkeypatch.setattr(operator_views, "PER_PAGE", 2)
    listing = factory.listing(stock=50)
    shopper = Shopper(client, factory.commune().id)
    codes = [place_cod_order(shopper, listing).code for _ in range(3)]
    operator = sign_in(app.test_client(), factory.operator())
    first = operator.get("/quan-tri/don-hang").get_data(as_text=True)
    assert "3 đơn hàng" in first and "Trang 1 / 2" in first
    assert codes[2] in first and codes[1] in first and codes[0] not in first  # newest first
    second = operator.get("/quan-tri/don-hang?page=2").get_data(as_text=True)
    assert codes[0] in second and codes[2] not in second
