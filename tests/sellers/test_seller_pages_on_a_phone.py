"""Seller pages on a phone, server side: number fields ask for the number pad, the shop logo sits in
a fixed box with its size given (never stretched), the CSV example keeps its column names, the
packing slip is tested with the shop's orders (tests/orders/test_seller_order_page.py)."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from tests.support import form_fields, image_bytes, sign_in

ROOT = Path(__file__).resolve().parents[2]


def _input(html: str, name: str) -> str:
    found = re.search(rf'<input[^>]*name="{name}"[^>]*>', html)
    assert found, name
    return found.group(0)


@pytest.fixture
def shop(factory):
    return factory.shop(name="Hợp tác xã Cam Sơn Kim")


@pytest.fixture
def owner(client, shop):
    return sign_in(client, shop.members[0].user)


def test_number_fields_open_the_number_pad(owner, shop, factory, client):
    form = owner.get(f"/kenh-ban/{shop.slug}/san-pham/moi").get_data(as_text=True)
    for name in ("price_vnd", "stock", "min_order_qty", "weight_grams"):
        assert 'inputmode="numeric"' in _input(form, name), name
    profile = owner.get(f"/kenh-ban/{shop.slug}/thong-tin").get_data(as_text=True)
    assert 'inputmode="numeric"' in _input(profile, "tax_code")
    assert 'type="tel"' in _input(profile, "phone")
    shipping = owner.get(f"/kenh-ban/{shop.slug}/van-chuyen").get_data(as_text=True)
    fee_inputs = re.findall(
        r'<input[^>]*name="[^"]*(?:fee_vnd|over_vnd|tier_grams_\d|tier_fee_\d)"[^>]*>', shipping
    )
    assert fee_inputs and all('inputmode="numeric"' in i for i in fee_inputs)


def test_the_shop_logo_shows_in_a_fixed_box_on_the_seller_pages(owner, shop):
    fields = form_fields(owner.get(f"/kenh-ban/{shop.slug}/thong-tin").get_data(as_text=True))
    logo = (io.BytesIO(image_bytes("PNG", size=(600, 200))), "logo.png")  # a wide logo
    response = owner.post(
        f"/kenh-ban/{shop.slug}/thong-tin", data={**fields, "logo": logo}, content_type="multipart/form-data"
    )
    assert response.status_code == 302
    for url in (f"/kenh-ban/{shop.slug}/", f"/kenh-ban/{shop.slug}/thong-tin"):
        html = owner.get(url).get_data(as_text=True)
        box = re.search(r'<div class="shop-logo">(.*?)</div>', html, re.S)
        assert box and re.search(r'<img [^>]*width="64" height="64"', box.group(1)), url
        assert "css/seller.css" in html
    css = (ROOT / "static/css/seller.css").read_text(encoding="utf-8")
    assert re.search(r"\.shop-logo img\{[^}]*object-fit:contain", css)


def test_the_csv_example_names_each_value_by_its_column(owner, shop):
    html = owner.get(f"/kenh-ban/{shop.slug}/san-pham/nhap-csv").get_data(as_text=True)
    rows = re.findall(r'<dl class="csv-row".*?</dl>', html, re.S)
    assert rows
    for row in rows:
        names = re.findall(r"<dt><code>(\w+)</code></dt>", row)
        assert names[:5] == ["shop", "title", "category", "unit", "price_vnd"] and "certifications" in names
    assert f"<dd>{shop.slug}</dd>" in rows[0]
