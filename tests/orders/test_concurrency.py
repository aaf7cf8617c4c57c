"""Many buyers at once: the conditional stock UPDATE sells exactly what is on the shelf, never
more, and a cart spanning two shops is all-or-nothing without deadlocks. Runs on whatever
database the `app` fixture gives (SQLite, then PostgreSQL in `make test`'s second pass)."""

import threading

from orders_testlib import Shopper
from sqlalchemy import func, select

from catalog.models import Listing
from marketplace.extensions import db
from orders.models import Order, Payment

BUYERS = 50


def _prepare(app, factory, carts):
    """One test client per buyer, each with its own cart and the quote its checkout page showed."""
    app.config["WTF_CSRF_ENABLED"] = False
    commune_id = factory.commune().id
    prepared = []
    for i, lines in enumerate(carts):
        client = app.test_client()
        shopper = Shopper(client, commune_id)
        for listing, quantity in lines:
            assert shopper.add(listing, quantity).status_code == 302
        prepared.append((client, shopper.checkout_data("cod", email=f"khach{i}@example.vn")))
    return prepared


def _fire(prepared):
    """All checkouts at once from their own threads (each request has its own app context and
    database session)."""
    barrier = threading.Barrier(len(prepared))
    results = [None] * len(prepared)

    def run(i):
        client, data = prepared[i]
        barrier.wait()
        response = client.post("/thanh-toan", data=data)
        results[i] = (response.status_code, response.get_data(as_text=True))

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(prepared))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not any(t.is_alive() for t in threads), "a checkout hung (deadlock?)"
    return results


def _fresh(listing_id):
    db.session.expire_all()
    return db.session.get(Listing, listing_id)


def test_fifty_buyers_five_units_exactly_five_orders(app, factory):
    listing = factory.listing(title="Cam bù Hương Sơn", stock=5)
    results = _fire(_prepare(app, factory, [[(listing, 1)]] * BUYERS))

    won = [r for r in results if r[0] == 302]
    lost = [r for r in results if r[0] != 302]
    assert len(won) == 5
    assert all(status == 409 for status, _ in lost), {status for status, _ in lost}
    assert all("Sản phẩm “Cam bù Hương Sơn” đã hết hàng." in html for _, html in lost)
    assert _fresh(listing.id).stock == 0
    assert db.session.scalar(select(func.count()).select_from(Order)) == 5
    assert db.session.scalar(select(func.count()).select_from(Payment)) == 5
    assert _fresh(listing.id).sales_count == 5


def test_two_shop_carts_are_all_or_nothing_without_deadlock(app, factory):
    shop_a, shop_b = factory.shop(), factory.shop()
    a = factory.listing(shop=shop_a, title="Bưởi Phúc Trạch", stock=5)
    b = factory.listing(shop=shop_b, title="Kẹo cu đơ", stock=3)
    # Half the carts list B first: the reservation order must not depend on the cart order.
    carts = [[(a, 1), (b, 1)] if i % 2 else [(b, 1), (a, 1)] for i in range(BUYERS)]
    results = _fire(_prepare(app, factory, carts))

    won = [r for r in results if r[0] == 302]
    lost = [r for r in results if r[0] != 302]
    assert len(won) == 3
    assert all(status == 409 and "Sản phẩm “Kẹo cu đơ” đã hết hàng." in html for status, html in lost)
    # The losers' units of A went back with their rollback: 5 - 3 winners.
    assert _fresh(a.id).stock == 2 and _fresh(b.id).stock == 0
    payments = db.session.scalars(select(Payment)).all()
    assert len(payments) == 3 and all(len(p.orders) == 2 for p in payments)
