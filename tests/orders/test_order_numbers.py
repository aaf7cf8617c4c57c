"""Numbers in the cart, the checkout and the operator's money pages: bounded, parsed by the money
module, refused with a message, never a 500 and never scaled (issue 9 #10, issue 10)."""

from __future__ import annotations

import csv
import io

from orders_testlib import ShopOrder, place_cod_order
from sqlalchemy import func, select

from catalog.models import Listing
from marketplace.extensions import db
from marketplace.money import MAX_PRICE_VND
from orders.models import BankTransaction, LedgerEntry, Order, Payment
from tests.support import sign_in

HUGE = "99999999999999999999"


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_a_cart_beyond_the_total_limit_is_refused_with_a_message_not_a_500(app, factory, shopper):
    """A price accepted at its maximum times a quantity: the checkout refuses instead of writing a
    total its INTEGER column cannot hold (on PostgreSQL that was a 500)."""
    listing = factory.listing(price=MAX_PRICE_VND, stock=50)
    assert shopper.add(listing, 5).status_code == 302  # 2 500 000 000 đồng
    cart = shopper.client.get("/gio-hang").get_data(as_text=True)
    assert "vượt quá giới hạn của một lần đặt hàng" in cart and "2.000.000.000" in cart
    page = shopper.client.get("/thanh-toan").get_data(as_text=True)
    assert "vượt quá giới hạn của một lần đặt hàng" in page
    r = shopper.checkout("cod")
    assert r.status_code == 409 and "vượt quá giới hạn" in r.get_data(as_text=True)
    assert _count(Payment) == 0 and db.session.get(Listing, listing.id).stock == 50
    shopper.client.post("/gio-hang/cap-nhat", data={f"qty_{listing.id}": "4"})  # 2 000 000 000 + shipping
    shopper.client.post("/gio-hang/cap-nhat", data={f"qty_{listing.id}": "3"})
    assert shopper.checkout("cod").status_code == 302 and _count(Payment) == 1


def test_add_to_cart_with_an_impossible_id_or_quantity(app, factory, shopper):
    listing = factory.listing(stock=5)
    r = shopper.client.post("/gio-hang/them", data={"listing_id": HUGE, "quantity": "1"})
    assert r.status_code == 404
    for quantity in ("1.5", HUGE, "abc", "-2"):
        r = shopper.client.post(
            "/gio-hang/them", data={"listing_id": listing.id, "quantity": quantity}, follow_redirects=True
        )
        assert r.status_code == 200 and "Số lượng không hợp lệ." in r.get_data(as_text=True), quantity
    assert shopper.client.get("/gio-hang").get_data(as_text=True).count("qty_") == 0


def test_checkout_with_an_impossible_commune_id_is_a_form_error(app, factory, shopper):
    listing = factory.listing(stock=5)
    assert shopper.add(listing, 1).status_code == 302
    r = shopper.checkout("cod", commune_id=HUGE)
    assert r.status_code == 422 and "Vui lòng chọn xã/phường." in r.get_data(as_text=True)
    assert _count(Order) == 0


def test_parcel_weight_is_typed_like_any_number_and_bounded(app, factory, shopper):
    shop_order = ShopOrder(app, factory, shopper)
    order, seller, base = shop_order.order, shop_order.seller, shop_order.base
    seller.post(f"{base}/confirm")
    html = seller.post(f"{base}/pack", data={"parcel_weight_grams": HUGE}, follow_redirects=True).get_data(
        as_text=True
    )
    assert "Tối đa 100.000.000" in html and db.session.get(Order, order.id).status == "confirmed"
    assert seller.post(f"{base}/pack", data={"parcel_weight_grams": "1.500"}).status_code == 302
    assert db.session.get(Order, order.id).parcel_weight_grams == 1500


def test_operator_pages_take_impossible_ids_and_pages_calmly(app, factory, csrf_off):
    operator = sign_in(app.test_client(), factory.operator())
    for url in (
        f"/quan-tri/don-hang?shop={HUGE}&page={HUGE}",
        "/quan-tri/don-hang?page=abc",
        f"/quan-tri/doi-soat?shop={HUGE}",
        f"/quan-tri/don-hang/{HUGE}",
    ):
        assert operator.get(url).status_code in (200, 404), url


def test_a_payout_with_a_decimal_part_is_refused_not_scaled(app, factory, shopper):
    place_cod_order(shopper, factory.listing(stock=5, price=300_000))
    operator = sign_in(app.test_client(), factory.operator())
    shop_id = db.session.scalar(select(Order.shop_id))
    for amount, message in (("1.000,5", "phần thập phân"), (HUGE, "Tối đa"), ("0", "lớn hơn 0")):
        html = operator.post(
            "/quan-tri/doi-soat/chi-tra",
            data={"shop_id": shop_id, "amount_vnd": amount, "reference": "UNC1"},
            follow_redirects=True,
        ).get_data(as_text=True)
        assert message in html, amount
    assert _count(LedgerEntry) == 0


def test_a_statement_amount_with_cents_is_refused_not_read_as_a_bigger_number(app, factory, csrf_off):
    """ "1943000.50" was read as 194 300 050 đồng."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["Mã giao dịch", "Số tiền ghi có", "Nội dung"])
    writer.writerow(["FT1", "1.943.000,00", "DH23456789"])
    writer.writerow(["FT2", "1943000.50", "DH23456789"])
    operator = sign_in(app.test_client(), factory.operator())
    html = operator.post(
        "/quan-tri/sao-ke",
        data={"statement": (io.BytesIO(buffer.getvalue().encode()), "saoke.csv")},
        content_type="multipart/form-data",
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "số tiền không đọc được" in html and "dòng 3" in html and "1943000.50" in html
    assert _count(BankTransaction) == 0  # nothing of the file, the good line included
