"""Cart and checkout through the pages: one checkout across shops, one order per shop with its own
shipping fee, stock reserved, guest access by signed link, price changes shown before paying."""

import re

from orders_testlib import drain, payment_code
from sqlalchemy import func, select

from catalog.models import Listing
from marketplace.extensions import db
from marketplace.models import OutboxEvent
from orders.models import CartItem, Order, Payment, ShippingRule, ShippingZone
from tests.support import forget_session, read_mails, sign_in


def _stock(listing_id):
    db.session.expire_all()
    return db.session.get(Listing, listing_id).stock


def test_two_shop_checkout_makes_one_payment_and_one_order_per_shop(app, client, factory, shopper):
    shop_a, shop_b = factory.shop(name="HTX Cam Hương Sơn"), factory.shop(name="Mật ong Vũ Quang")
    cam = factory.listing(shop=shop_a, title="Cam bù", price=45_000, stock=10, weight_grams=1000)
    mat_ong = factory.listing(shop=shop_b, title="Mật ong rừng", price=250_000, stock=3, weight_grams=700)
    db.session.add(
        ShippingRule(
            shop_id=shop_b.id,
            zones=[
                ShippingZone(zone="province", flat_fee_vnd=15_000, tiers=[[1000, 5_000]], free_over_vnd=None)
            ],
        )
    )
    db.session.commit()

    assert shopper.add(cam, 3).status_code == 302
    assert shopper.add(mat_ong, 2).status_code == 302
    page = client.get("/thanh-toan").get_data(as_text=True)
    # Each shop's fee is shown before confirming: A default 25.000 + 10.000 (3 kg); B 15.000 + 5.000 (1,4 kg).
    assert "35.000" in page and "20.000" in page
    assert "HTX Cam Hương Sơn" in page and "Mật ong Vũ Quang" in page

    code = payment_code(shopper.checkout("cod"))
    payment = db.session.scalar(select(Payment).where(Payment.code == code))
    orders = sorted(payment.orders, key=lambda o: o.shop_id)
    assert [o.shop_id for o in orders] == sorted([shop_a.id, shop_b.id])
    by_shop = {o.shop_id: o for o in orders}
    assert by_shop[shop_a.id].subtotal_vnd == 135_000 and by_shop[shop_a.id].shipping_vnd == 35_000
    assert by_shop[shop_b.id].subtotal_vnd == 500_000 and by_shop[shop_b.id].shipping_vnd == 20_000
    assert payment.amount_vnd == 135_000 + 35_000 + 500_000 + 20_000 == sum(o.total_vnd for o in orders)
    assert all(o.status == "placed" and o.payment_method == "cod" for o in orders)
    assert {o.code for o in orders} == {f"{code}-1", f"{code}-2"}
    assert _stock(cam.id) == 7 and _stock(mat_ong.id) == 1
    assert db.session.get(Listing, cam.id).sales_count == 3
    # History starts with the placement; the cart is empty; search hears about the stock change.
    assert [e.to_status for e in orders[0].events] == ["placed"]
    assert "trống" in client.get("/gio-hang").get_data(as_text=True)
    topics = [e.topic for e in db.session.scalars(select(OutboxEvent))]
    assert topics.count("listing.changed") >= 2 and "mail.send" in topics

    drain()
    mails = read_mails(app)
    buyer_mail = next(m for m in mails if m["to"] == "khach@example.vn")
    assert code in buyer_mail["subject"] and "690.000" in buyer_mail["body"]
    assert "/don-hang/lien-ket/" in buyer_mail["body"]  # a guest's way back
    assert sum(1 for m in mails if "Đơn hàng mới" in m["subject"]) == 2  # each shop is told


def test_guest_reaches_order_by_signed_link_only(app, client, factory, shopper):
    listing = factory.listing(stock=5)
    shopper.add(listing, 1)
    code = payment_code(shopper.checkout("cod"))
    order = db.session.scalar(select(Order).where(Order.code == f"{code}-1"))
    assert client.get(f"/don-hang/{order.code}").status_code == 200  # the same browser remembers it

    stranger = app.test_client()
    assert stranger.get(f"/don-hang/{order.code}").status_code == 302  # asked to sign in
    assert stranger.get(f"/thanh-toan/{code}").status_code == 302
    drain()
    body = next(m for m in read_mails(app) if m["to"] == "khach@example.vn")["body"]
    link = re.search(r"http://localhost(/don-hang/lien-ket/\S+)", body).group(1)
    guest = app.test_client()
    assert guest.get(link).status_code == 302
    page = guest.get(f"/thanh-toan/{code}").get_data(as_text=True)
    assert order.code in page
    assert guest.get(f"/don-hang/{order.code}").status_code == 200
    tampered = link[:-3] + ("AAA" if not link.endswith("AAA") else "BBB")
    assert "không hợp lệ" in guest.get(tampered, follow_redirects=True).get_data(as_text=True)


def test_signed_in_checkout_uses_account_and_lists_orders(client, factory, csrf_off):
    from orders_testlib import Shopper

    buyer = factory.user(email="mua@example.vn", name="Lê Văn Mua")
    sign_in(client, buyer)
    listing = factory.listing(stock=4)
    shopper = Shopper(client, factory.commune().id)
    shopper.add(listing, 2)
    assert db.session.scalar(select(CartItem).where(CartItem.user_id == buyer.id)).quantity == 2
    page = client.get("/thanh-toan").get_data(as_text=True)
    assert "Lê Văn Mua" in page  # prefilled receiver
    code = payment_code(shopper.checkout("cod", email=""))
    payment = db.session.scalar(select(Payment).where(Payment.code == code))
    assert payment.buyer_id == buyer.id and payment.email == "mua@example.vn"
    assert f"{code}-1" in client.get("/don-hang").get_data(as_text=True)
    assert db.session.scalar(select(CartItem).where(CartItem.user_id == buyer.id)) is None


def test_checkout_validation_errors_are_shown_and_nothing_is_reserved(client, factory, shopper):
    listing = factory.listing(stock=5)
    shopper.add(listing, 2)
    response = shopper.checkout(
        "cod", receiver_phone="12345", receiver_name="", address_line="", commune_id=0, email="not-an-email"
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    for message in (
        "Số điện thoại di động không hợp lệ.",
        "Vui lòng nhập tên người nhận.",
        "Vui lòng chọn xã/phường.",
        "Địa chỉ email không hợp lệ.",
    ):
        assert message in html
    assert _stock(listing.id) == 5 and db.session.scalar(select(Payment)) is None


def test_price_change_is_shown_and_must_be_seen_before_paying(client, factory, shopper):
    listing = factory.listing(price=45_000, stock=5)
    shopper.add(listing, 2)
    stale_quote = shopper.quote()
    listing = db.session.get(Listing, listing.id)
    listing.price_vnd = 50_000
    db.session.commit()

    cart = client.get("/gio-hang").get_data(as_text=True)
    assert "Giá khi thêm: 45.000" in cart and "50.000" in cart
    response = shopper.checkout("cod", quote=stale_quote)
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "vừa thay đổi" in html and "100.000" in html
    assert db.session.scalar(select(Payment)) is None and _stock(listing.id) == 5
    # Looking again (a fresh quote) goes through at the new price.
    code = payment_code(shopper.checkout("cod"))
    assert db.session.scalar(select(Order)).subtotal_vnd == 100_000, code


def test_cart_quantity_checked_against_stock_and_minimum(client, factory, shopper):
    listing = factory.listing(stock=3, min_order_qty=2)
    html = client.post(
        "/gio-hang/them", data={"listing_id": listing.id, "quantity": 1}, follow_redirects=True
    ).get_data(as_text=True)
    assert "cần mua tối thiểu 2 kg" in html
    html = shopper.add(listing, 5, next="/gio-hang").headers["Location"]
    html = client.get(html).get_data(as_text=True)
    assert "chỉ còn 3 kg" in html
    shopper.add(listing, 2)
    html = client.post("/gio-hang/cap-nhat", data={f"qty_{listing.id}": 9}, follow_redirects=True).get_data(
        as_text=True
    )
    assert "chỉ còn 3 kg" in html


def test_sold_out_between_cart_and_checkout_keeps_nothing(client, factory, shopper):
    shop_a, shop_b = factory.shop(), factory.shop()
    a = factory.listing(shop=shop_a, stock=5)
    b = factory.listing(shop=shop_b, stock=2)
    shopper.add(a, 2)
    shopper.add(b, 2)
    data = shopper.checkout_data("cod")
    db.session.get(Listing, b.id).stock = 1
    db.session.commit()
    response = client.post("/thanh-toan", data=data)
    assert response.status_code == 409
    assert "chỉ còn 1 kg" in response.get_data(as_text=True)
    assert _stock(a.id) == 5 and _stock(b.id) == 1  # all or nothing
    assert db.session.scalar(select(Payment)) is None


def test_visitor_cart_merges_into_account_on_sign_in(client, factory, csrf_off):
    from orders_testlib import Shopper

    buyer = factory.user()
    first, second = factory.listing(stock=10), factory.listing(stock=10)
    db.session.add(
        CartItem(user_id=buyer.id, listing_id=first.id, quantity=1, price_seen_vnd=first.price_vnd)
    )
    db.session.commit()
    shopper = Shopper(client, factory.commune().id)
    shopper.add(first, 2)
    shopper.add(second, 1)
    assert "(2)" in client.get("/gio-hang").get_data(as_text=True)  # cart_count in the header
    sign_in(client, buyer)
    rows = {
        r.listing_id: r.quantity
        for r in db.session.scalars(select(CartItem).where(CartItem.user_id == buyer.id))
    }
    assert rows == {first.id: 3, second.id: 1}
    forget_session(client)
    assert "Giỏ hàng của bạn đang trống." in client.get("/gio-hang").get_data(as_text=True)


def test_checkout_and_cart_forms_need_csrf(client, factory, csrf_off):
    from orders_testlib import Shopper

    listing = factory.listing()
    shopper = Shopper(client, factory.commune().id)
    shopper.add(listing, 1)
    data = shopper.checkout_data("cod")
    client.application.config["WTF_CSRF_ENABLED"] = True
    assert client.post("/thanh-toan", data=data).status_code == 400
    assert client.post("/gio-hang/them", data={"listing_id": listing.id, "quantity": 1}).status_code == 400
    assert db.session.scalar(select(Payment)) is None


def test_a_double_submitted_checkout_places_one_order(app, client, factory, shopper):
    """A slow network and a second tap on "Xác nhận đặt hàng": the same form, twice."""
    import threading

    listing = factory.listing(stock=10)
    shopper.add(listing, 2)
    data = shopper.checkout_data("cod")
    first = payment_code(client.post("/thanh-toan", data=data))
    shopper.add(listing, 1)  # the cart is not empty, so the form is processed again
    second = payment_code(client.post("/thanh-toan", data=data))
    assert first == second
    assert db.session.scalar(select(func.count()).select_from(Payment)) == 1 and _stock(listing.id) == 8

    # And at the same instant, from two connections.
    shopper.add(listing, 1)
    data = shopper.checkout_data("cod")
    twins = [app.test_client() for _ in range(2)]
    for twin in twins:
        with client.session_transaction() as source, twin.session_transaction() as target:
            target.update(dict(source))
    barrier, codes = threading.Barrier(2), []

    def submit(twin):
        barrier.wait()
        codes.append(payment_code(twin.post("/thanh-toan", data=data)))

    threads = [threading.Thread(target=submit, args=(t,)) for t in twins]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(codes) == 2 and codes[0] == codes[1]
    assert db.session.scalar(select(func.count()).select_from(Payment)) == 2
