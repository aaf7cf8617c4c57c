"""Buy now ("Mua ngay") on a listing goes straight to checkout with that one item and its
quantity; the cart stays as it was, whether the order is placed or the checkout abandoned."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from orders_testlib import Shopper, payment_code
from sqlalchemy import select

from catalog.models import Listing
from marketplace.extensions import db
from orders import cart
from orders.models import CartItem, Payment
from tests.support import form_fields, sign_in


def _buy_now(client, listing, quantity, via="/mua-ngay"):
    return client.post(via, data={"listing_id": listing.id, "quantity": quantity, "buy_now": "1"})


def _token(response) -> str:
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    location = urlsplit(response.headers["Location"])
    assert location.path == "/thanh-toan"
    return parse_qs(location.query)["buy_now"][0]


def _cart(client) -> dict[int, int]:
    """listing id -> quantity, as the cart page lists them."""
    page = client.get("/gio-hang").get_data(as_text=True)
    return {int(i): int(q) for i, q in re.findall(r'name="qty_(\d+)"[^>]*value="(\d+)"', page)}


def _stock(listing_id: int) -> int:
    db.session.expire_all()
    return db.session.get(Listing, listing_id).stock


@pytest.mark.parametrize("member", [False, True], ids=["guest", "member"])
def test_buy_now_checks_out_one_item_and_leaves_the_cart_as_it_was(client, factory, csrf_off, member):
    if member:
        sign_in(client, factory.user(email="tv@example.vn"))
    shopper = Shopper(client, factory.commune().id)
    in_cart = factory.listing(stock=9, price=30_000, title="Kẹo cu đơ")
    wanted = factory.listing(stock=9, price=45_000, title="Mật ong Hương Sơn")
    assert shopper.add(in_cart, 2).status_code == 302
    assert _cart(client) == {in_cart.id: 2}

    token = _token(_buy_now(client, wanted, 3))
    assert _cart(client) == {in_cart.id: 2}  # untouched by "Mua ngay"
    page = client.get(f"/thanh-toan?buy_now={token}").get_data(as_text=True)
    assert "Giỏ hàng của bạn vẫn giữ nguyên" in page
    assert f"3 × {wanted.title}" in page and in_cart.title not in page
    fields = form_fields(page)
    assert fields["buy_now"] == token
    data = shopper.checkout_data("cod", quote=fields["quote"], token=fields["token"], buy_now=token)
    if member:
        data.pop("email")
    code = payment_code(client.post("/thanh-toan", data=data))

    payment = db.session.scalar(select(Payment).where(Payment.code == code))
    [order] = payment.orders
    assert [(line.listing_id, line.quantity) for line in order.lines] == [(wanted.id, 3)]
    assert payment.amount_vnd == 3 * 45_000 + order.shipping_vnd
    assert _stock(wanted.id) == 6 and _stock(in_cart.id) == 9
    assert _cart(client) == {in_cart.id: 2}  # still as it was
    # The cart's own checkout is still the cart's.
    cart_page = client.get("/thanh-toan").get_data(as_text=True)
    assert f"2 × {in_cart.title}" in cart_page and wanted.title not in cart_page


def test_an_abandoned_buy_now_leaves_nothing_behind(client, factory, shopper):
    in_cart, wanted = factory.listing(stock=5, title="Kẹo cu đơ"), factory.listing(stock=5, title="Mật ong")
    shopper.add(in_cart, 1)
    token = _token(_buy_now(client, wanted, 2))
    assert client.get(f"/thanh-toan?buy_now={token}").status_code == 200
    # Walk away: the cart, the stock and the next checkout are as before.
    assert _cart(client) == {in_cart.id: 1}
    assert _stock(wanted.id) == 5 and db.session.scalar(select(Payment)) is None
    assert wanted.title not in client.get("/thanh-toan").get_data(as_text=True)
    with client.session_transaction() as session:
        assert wanted.id not in [int(k) for k in session.get(cart.SESSION_KEY, {})]


def test_buy_now_from_an_empty_cart_and_the_old_form(client, factory, shopper):
    wanted = factory.listing(stock=5)
    # A page posting "Mua ngay" to the cart's address (no formaction) buys now all the same.
    token = _token(_buy_now(client, wanted, 1, via="/gio-hang/them"))
    assert _cart(client) == {}
    assert client.get(f"/thanh-toan?buy_now={token}").status_code == 200
    # The listing page's button posts to /mua-ngay.
    page = client.get(f"/san-pham/{wanted.slug}").get_data(as_text=True)
    assert 'formaction="/mua-ngay"' in page


def test_buy_now_refuses_what_cannot_be_bought(client, factory, shopper):
    listing = factory.listing(stock=2)
    r = _buy_now(client, listing, 5)
    assert r.status_code == 302 and r.headers["Location"] == f"/san-pham/{listing.slug}"
    assert "chỉ còn 2" in client.get(r.headers["Location"]).get_data(as_text=True)
    r = _buy_now(client, listing, "1,5")
    assert r.status_code == 302 and "Số lượng không hợp lệ." in client.get(r.headers["Location"]).get_data(
        as_text=True
    )
    assert _cart(client) == {}


def test_a_tampered_or_foreign_token_is_refused(app, client, factory, shopper):
    listing = factory.listing(stock=5, price=45_000)
    token = _token(_buy_now(client, listing, 1))
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    r = client.get(f"/thanh-toan?buy_now={tampered}")
    assert r.status_code == 302 and r.headers["Location"] == "/"
    assert "“Mua ngay” đã hết hạn" in client.get("/").get_data(as_text=True)
    with app.test_request_context():
        forged = cart.BuyNow.for_listing(listing, 1)._serializer().dumps([listing.id, 10**9, 0])
        assert cart.BuyNow.from_token(forged) is None  # signed here, but out of bounds
        assert cart.BuyNow.from_token(token).entries() == [cart.Entry(listing.id, 1, 45_000)]
    data = shopper.checkout_data("cod", quote="x", token="t1", buy_now=tampered)
    assert client.post("/thanh-toan", data=data).status_code == 302
    assert db.session.scalar(select(Payment)) is None


def test_a_price_change_during_buy_now_is_shown_before_paying(client, factory, shopper):
    listing = factory.listing(stock=5, price=45_000)
    token = _token(_buy_now(client, listing, 2))
    fields = form_fields(client.get(f"/thanh-toan?buy_now={token}").get_data(as_text=True))
    db.session.get(Listing, listing.id).price_vnd = 50_000
    db.session.commit()
    data = shopper.checkout_data("cod", quote=fields["quote"], token=fields["token"], buy_now=token)
    r = client.post("/thanh-toan", data=data)
    page = r.get_data(as_text=True)
    assert r.status_code == 409 and "50.000" in page
    again = form_fields(page)
    assert again["buy_now"] != token  # it now carries the price seen
    data.update(quote=again["quote"], buy_now=again["buy_now"])
    payment_code(client.post("/thanh-toan", data=data))
    assert db.session.scalar(select(CartItem)) is None and _cart(client) == {}
