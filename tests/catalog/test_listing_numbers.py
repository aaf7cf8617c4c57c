"""Numbers in listings, from the form and from CSV: parsed by the money module, bounded, refused
with a message, never scaled and never a 500 (issue 10's listing-form bug, issue 9 #10)."""

from __future__ import annotations

import pytest

from catalog.csv_import import ImportFailed, import_listings
from catalog.models import Category, Listing
from marketplace.errors import ValidationFailed
from marketplace.extensions import db
from marketplace.money import MAX_PRICE_VND
from tests.catalog.test_csv_import import csv_text, row
from tests.support import sign_in


@pytest.fixture
def shop(factory):
    factory.category("Trái cây")
    return factory.shop(name="Hộ ông Ba")


def _form(category: int, **fields) -> dict:
    return {
        "title": "Cam bù",
        "category_id": category,
        "unit": "kg",
        "price_vnd": "45.000",
        "stock": "10",
        "min_order_qty": "1",
        "status": "active",
        "ocop_stars": "",
        "ocop_level": "",
        **fields,
    }


def _post(client, shop, **fields):
    category = db.session.query(Category).first()
    return client.post(f"/kenh-ban/{shop.slug}/san-pham/moi", data=_form(category.id, **fields))


@pytest.mark.parametrize("price", ["45000.5", "45,5"])
def test_the_listing_form_refuses_a_decimal_price_instead_of_scaling_it(client, csrf_off, shop, price):
    """The form turned "45000.5" into 450 005 đồng and "45,5" into 455."""
    sign_in(client, shop.members[0].user)
    r = _post(client, shop, price_vnd=price)
    assert r.status_code == 200 and "phần thập phân" in r.get_data(as_text=True)  # the form again
    assert db.session.query(Listing).count() == 0


@pytest.mark.parametrize("price, expected", [("45.000", 45000), ("45000", 45000), ("45.000 ₫", 45000)])
def test_the_listing_form_takes_prices_as_people_type_them(client, csrf_off, shop, price, expected):
    sign_in(client, shop.members[0].user)
    assert _post(client, shop, price_vnd=price).status_code == 302
    assert db.session.query(Listing).one().price_vnd == expected


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("price_vnd", "9000000000000000000", "Tối đa 500.000.000"),
        ("stock", "99999999999999999999", "Tối đa"),
        ("min_order_qty", "99999999999999999999", "Tối đa"),
        ("weight_grams", "99999999999999999999", "Tối đa"),
        ("ocop_stars", "abc", "Hạng OCOP từ 1 đến 5 sao."),
        ("ocop_issued_on", "01/01/99999999999999999999", "Ngày công nhận không hợp lệ"),
        ("category_id", "99999999999999999999", "Vui lòng chọn danh mục."),
    ],
)
def test_the_listing_form_bounds_every_number_with_a_message(client, csrf_off, shop, field, value, message):
    sign_in(client, shop.members[0].user)
    extra = {"ocop_certificate_no": "1/QĐ"} if field == "ocop_issued_on" else {}
    r = _post(client, shop, **{field: value, **extra})
    assert r.status_code == 200  # the form again, with the message
    assert message in r.get_data(as_text=True)
    assert db.session.query(Listing).count() == 0


def test_a_price_of_9e18_is_refused_by_the_service(factory):
    """It was accepted, and the first checkout of it was a 500."""
    with pytest.raises(ValidationFailed) as caught:
        factory.listing(price=9 * 10**18)
    assert "Tối đa 500.000.000" in caught.value.field_errors["price_vnd"][0]
    assert factory.listing(price=MAX_PRICE_VND).price_vnd == MAX_PRICE_VND


@pytest.mark.parametrize(
    "column, value",
    [
        ("price_vnd", "9000000000000000000"),
        ("price_vnd", "45,5"),
        ("stock", "99999999999999999999"),
        ("stock", "1.5"),
        ("ocop_stars", "abc"),
    ],
)
def test_csv_numbers_out_of_range_or_odd_are_row_errors(shop, column, value):
    with pytest.raises(ImportFailed) as caught:
        import_listings(csv_text([row(shop, **{column: value})]).encode(), actor=None, shop=shop)
    assert [(e.line, e.column) for e in caught.value.errors] == [(2, column)]
    assert db.session.query(Listing).count() == 0


def test_csv_price_and_form_price_are_one_parser(shop, factory):
    """The CSV import accepted "45,000" and refused "45000.5"; the form now does the same."""
    result = import_listings(csv_text([row(shop, price_vnd="45,000 đ")]).encode(), actor=None, shop=shop)
    assert result.listings[0].price_vnd == 45000


def test_category_position_is_bounded(client, csrf_off, factory):
    sign_in(client, factory.operator())
    r = client.post(
        "/quan-tri/danh-muc", data={"name": "Chè", "parent_id": "0", "position": "99999999999999999999"}
    )
    assert r.status_code == 200 and "Tối đa" in r.get_data(as_text=True)
    assert db.session.query(Category).filter_by(name="Chè").count() == 0
    r = client.post("/quan-tri/danh-muc", data={"name": "Chè", "parent_id": "0", "position": "1.000"})
    assert r.status_code == 302 and db.session.query(Category).filter_by(name="Chè").one().position == 1000
