"""/tra-cuu-don-hang: an order found by its code and the receiver's phone number opens as the
mailed link does (a grant for a visitor not signed in); a wrong pair answers the same whether the
code exists or not; per IP and per code the look-ups are rate-limited (marketplace/limits.py)."""

from __future__ import annotations

import pytest
from orders_testlib import Shopper, payment_code
from sqlalchemy import select

from marketplace.extensions import db
from orders.access import SESSION_KEY, lookup
from orders.models import Payment
from tests.support import sign_in

NOT_FOUND = "Không tìm thấy đơn hàng với mã và số điện thoại này."


@pytest.fixture
def app_overrides():
    # The production limits, on (other test modules run without them).
    return {"RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": "memory://"}


def _from(ip: str) -> dict:
    return {"environ_base": {"REMOTE_ADDR": ip}}


def _guest_checkout(shopper, factory, **data) -> Payment:
    shopper.add(factory.listing(stock=5), 1)
    shopper.add(factory.listing(stock=5), 1)  # two shops: two orders, -1 and -2
    code = payment_code(shopper.checkout("cod", email="", receiver_phone="0987 654 321", **data))
    return db.session.scalar(select(Payment).where(Payment.code == code))


def _look_up(client, code, phone, ip="10.9.0.1"):
    return client.post("/tra-cuu-don-hang", data={"code": code, "phone": phone}, **_from(ip))


def _grants(client) -> list:
    with client.session_transaction() as session:
        return list(session.get(SESSION_KEY, []))


def test_the_page_asks_for_code_and_phone(client):
    page = client.get("/tra-cuu-don-hang").get_data(as_text=True)
    assert 'name="code"' in page and 'name="phone"' in page and 'name="csrf_token"' in page
    assert 'href="/tra-cuu-don-hang"' in client.get("/").get_data(as_text=True)  # in the header


def test_code_and_phone_open_the_checkout_in_a_fresh_browser(app, factory, shopper, csrf_off):
    payment = _guest_checkout(shopper, factory)
    browser = app.test_client()
    assert browser.get(f"/thanh-toan/{payment.code}").status_code == 302  # sent to sign in
    # Typed as people type: lower case, spaces, +84.
    r = _look_up(browser, f" {payment.code.lower()} ", "+84 987 654 321")
    assert r.status_code == 302 and r.headers["Location"] == f"/thanh-toan/{payment.code}"
    assert _grants(browser) == [payment.code]
    page = browser.get(f"/thanh-toan/{payment.code}").get_data(as_text=True)
    assert payment.code in page and "Hủy đặt hàng" in page  # the guest's actions too

    # An order's own code opens that order.
    other = app.test_client()
    r = _look_up(other, f"{payment.code}-2", "0987654321")
    assert r.status_code == 302 and r.headers["Location"] == f"/don-hang/{payment.code}-2"
    assert other.get(f"/don-hang/{payment.code}-2").status_code == 200


def test_a_wrong_pair_answers_the_same_whether_the_code_exists_or_not(app, factory, shopper, csrf_off):
    payment = _guest_checkout(shopper, factory)
    unknown = "DH" + ("Z" if payment.code[2] != "Z" else "Y") + payment.code[3:]
    answers = []
    for code, phone in (
        (payment.code, "0911222333"),  # the code exists, the phone is wrong
        (unknown, "0987654321"),  # no such code
        (f"{payment.code}-9", "0987654321"),  # no such order in the checkout
    ):
        browser = app.test_client()
        r = _look_up(browser, code, phone)
        body = r.get_data(as_text=True).replace(code, "CODE").replace(phone, "PHONE")
        answers.append((r.status_code, body))
        assert NOT_FOUND in body and _grants(browser) == []
    assert answers[0] == answers[1] == answers[2] and answers[0][0] == 404
    assert lookup(payment.code, "") is None and lookup("", "0987654321") is None


def test_a_members_order_is_theirs_to_see_once_signed_in(app, factory, csrf_off):
    member = factory.user(email="tv@example.vn")
    client = sign_in(app.test_client(), member)
    shopper = Shopper(client, factory.commune().id)
    shopper.add(factory.listing(stock=5), 1)
    code = payment_code(shopper.checkout("cod", receiver_phone="0987654321"))

    stranger = app.test_client()
    r = _look_up(stranger, code, "0987654321")
    assert r.status_code == 302 and r.headers["Location"].startswith("/dang-nhap?next=")
    assert _grants(stranger) == []  # no grant: a member's order needs the member
    r = _look_up(client, code, "0987654321")
    assert r.status_code == 302 and r.headers["Location"] == f"/thanh-toan/{code}"
    someone_else = sign_in(app.test_client(), factory.user(email="khac@example.vn"))
    r = _look_up(someone_else, code, "0987654321")
    assert r.status_code == 200 and "Vui lòng đăng nhập bằng tài khoản đó" in r.get_data(as_text=True)


def test_signed_in_looking_up_a_guest_order_reads_it_without_a_grant(app, factory, shopper, csrf_off):
    payment = _guest_checkout(shopper, factory)
    member = sign_in(app.test_client(), factory.user(email="tv2@example.vn"))
    r = _look_up(member, payment.code, "0987654321")
    page = r.get_data(as_text=True)
    assert r.status_code == 200 and "hãy đăng xuất rồi tra cứu lại" in page and payment.code in page
    assert _grants(member) == []
    assert member.get(f"/thanh-toan/{payment.code}").status_code == 404


def test_look_ups_are_limited_per_ip(app, factory, shopper, csrf_off):
    payment = _guest_checkout(shopper, factory)
    app.config["RATELIMIT_ORDER_LOOKUP"] = "3 per minute"
    browser = app.test_client()
    statuses = [_look_up(browser, f"DH2345678{i}", "0987654321", ip="10.9.1.1").status_code for i in range(3)]
    assert statuses == [404, 404, 404]
    r = _look_up(browser, payment.code, "0987654321", ip="10.9.1.1")  # even the right pair waits
    assert r.status_code == 429 and "Retry-After" in r.headers
    assert _look_up(browser, payment.code, "0987654321", ip="10.9.1.2").status_code == 302
    assert browser.get("/tra-cuu-don-hang", **_from("10.9.1.1")).status_code == 200  # pages are not counted


def test_look_ups_are_limited_per_order_code_across_addresses(app, factory, shopper, csrf_off):
    """Guessing the phone number of a known code from many addresses: the code's own budget."""
    payment = _guest_checkout(shopper, factory)
    app.config["RATELIMIT_ORDER_LOOKUP_CODE"] = "4 per hour"
    statuses = [
        _look_up(app.test_client(), code, f"09876543{i:02d}", ip=f"10.9.2.{i}").status_code
        for i, code in enumerate(
            [payment.code, payment.code.lower(), f"{payment.code}-1", f" {payment.code}-2 "]
        )
    ]
    assert statuses == [404] * 4
    r = _look_up(app.test_client(), payment.code, "0987654321", ip="10.9.2.99")
    assert r.status_code == 429
    other = _guest_checkout(shopper, factory)
    assert _look_up(app.test_client(), other.code, "0987654321", ip="10.9.2.98").status_code == 302


def test_the_production_limits(app):
    assert app.config["RATELIMIT_ORDER_LOOKUP"] == "10 per minute; 60 per hour"
    assert app.config["RATELIMIT_ORDER_LOOKUP_CODE"] == "10 per hour; 30 per day"
    from marketplace.limits import get_limiter

    view = app.view_functions["orders.lookup_order"]
    assert getattr(view, "__wrapper-limiter-instance", None) == get_limiter()
