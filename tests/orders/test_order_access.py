"""Who may see and act on an order: the buyer's actions are the buyer's (or the guest link's),
the operator acts through the operator's own pages and is recorded as the operator, and the
guest link's grant never sticks to a member's session nor outlives a sign-in or sign-out."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from orders_testlib import ShopOrder, Shopper, payment_code, place_cod_order
from sqlalchemy import select

from marketplace.errors import Forbidden
from marketplace.extensions import db
from orders import services
from orders.access import SESSION_KEY, OrderAccess, make_token, order_access, payment_access
from orders.models import Order, OrderEvent, Review
from tests.support import reloaded, sign_in, sign_out


def _delivered(app, factory, shopper, *, member=None) -> tuple[Order, object]:
    """A delivered COD order (a guest's, or `member`'s when given) and the shop's owner."""
    if member is not None:
        sign_in(shopper.client, member)
    shop_order = ShopOrder(app, factory, shopper)
    shop_order.advance("delivered")
    assert reloaded(shop_order.order).status == "delivered"
    return reloaded(shop_order.order), shop_order.owner


def _grants(client) -> list:
    with client.session_transaction() as session:
        return list(session.get(SESSION_KEY, []))


# --- #3: the operator is not the buyer ----------------------------------------------------------


def test_operator_cannot_review_receive_or_cancel_as_the_buyer(app, client, factory, shopper):
    buyer = factory.user(email="mua@example.vn", name="Người Mua Thật")
    order, _owner = _delivered(app, factory, shopper, member=buyer)
    line = order.lines[0]
    operator = sign_in(app.test_client(), factory.operator())

    r = operator.post(f"/don-hang/{order.code}/danh-gia/{line.id}", data={"stars": "1", "body": "giả"})
    assert r.status_code == 403
    assert operator.post(f"/don-hang/{order.code}/da-nhan").status_code == 403
    assert operator.post(f"/don-hang/{order.code}/huy", data={"reason": "x"}).status_code == 403
    assert operator.post(f"/don-hang/{order.code}/mua-lai").status_code == 403
    assert db.session.scalar(select(Review)) is None and reloaded(order).status == "delivered"
    # The operator's way in is the operator's page of the order.
    r = operator.get(f"/don-hang/{order.code}")
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/quan-tri/don-hang/{order.code}")
    r = operator.get(f"/thanh-toan/{order.payment.code}")
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/quan-tri/don-hang/{order.code}")
    assert operator.get(f"/thanh-toan/{order.payment.code}/trang-thai").status_code == 403

    # The real buyer's review is still possible, and it is theirs.
    r = client.post(f"/don-hang/{order.code}/danh-gia/{line.id}", data={"stars": "5", "body": "Ngon"})
    assert r.status_code == 302
    review = db.session.scalar(select(Review))
    assert (review.author_id, review.author_name, review.stars) == (buyer.id, "Người Mua Thật", 5)


def test_operator_cannot_act_on_a_guest_order_as_the_buyer(app, factory, shopper):
    order, _owner = _delivered(app, factory, shopper)
    operator = sign_in(app.test_client(), factory.operator())
    r = operator.post(f"/don-hang/{order.code}/danh-gia/{order.lines[0].id}", data={"stars": "5"})
    assert r.status_code == 403 and db.session.scalar(select(Review)) is None
    assert operator.post(f"/don-hang/{order.code}/da-nhan").status_code == 403
    assert reloaded(order).status == "delivered"


def test_buyer_services_refuse_anyone_but_the_buyer(app, factory, shopper):
    buyer = factory.user()
    order, owner = _delivered(app, factory, shopper, member=buyer)
    operator, stranger = factory.operator(), factory.user()
    for actor in (operator, owner, stranger, None):
        with pytest.raises(Forbidden):
            services.review_line(order.lines[0], {"stars": 5}, author=actor)
        with pytest.raises(Forbidden):
            services.buyer_received(order, actor=actor)
        with pytest.raises(Forbidden):
            services.buyer_cancel(order, actor=actor)
    db.session.rollback()
    guest_order, _owner = _delivered(app, factory, Shopper(app.test_client(), shopper.commune_id))
    with pytest.raises(Forbidden):  # a member cannot act on a guest's order either
        services.buyer_received(guest_order, actor=buyer)
    db.session.rollback()
    services.buyer_received(guest_order, actor=None)  # the guest (the view checked the link)
    assert reloaded(guest_order).status == "completed"


def test_shop_member_opening_the_buyer_page_lands_on_the_shop_page(app, factory, shopper):
    order, owner = _delivered(app, factory, shopper)
    seller = sign_in(app.test_client(), owner)
    r = seller.get(f"/don-hang/{order.code}")
    assert r.status_code == 302
    assert r.headers["Location"].endswith(f"/kenh-ban/{order.shop.slug}/don-hang/{order.code}")
    assert seller.post(f"/don-hang/{order.code}/da-nhan").status_code == 403


def test_operator_delivers_and_completes_through_own_routes(app, factory, shopper):
    shop_order = ShopOrder(app, factory, shopper)
    shop_order.advance("shipped")
    order = shop_order.order
    operator_user = factory.operator()
    operator = sign_in(app.test_client(), operator_user)
    admin = f"/quan-tri/don-hang/{order.code}"
    assert "Ghi nhận đã giao" in operator.get(admin).get_data(as_text=True)

    html = operator.post(f"{admin}/da-giao", data={"reason": " "}, follow_redirects=True).get_data(
        as_text=True
    )
    assert "Vui lòng ghi rõ căn cứ" in html and reloaded(order).status == "shipped"
    operator.post(f"{admin}/da-giao", data={"reason": "GHN xác nhận qua tổng đài"})
    assert "Hoàn tất đơn" in operator.get(admin).get_data(as_text=True)
    operator.post(f"{admin}/hoan-tat", data={"reason": "Khách gọi điện báo đã nhận"})

    order = reloaded(order)
    assert order.status == "completed" and order.paid
    last_two = order.events[-2:]
    assert [(e.to_status, e.actor_id, e.actor_role) for e in last_two] == [
        ("delivered", operator_user.id, "operator"),
        ("completed", operator_user.id, "operator"),
    ]
    assert last_two[1].note == "Khách gọi điện báo đã nhận"
    # Nobody else reaches them.
    assert shop_order.seller.post(f"{admin}/hoan-tat", data={"reason": "x"}).status_code == 403


def test_operator_services_need_an_operator(app, factory, shopper):
    order, owner = _delivered(app, factory, shopper)
    with pytest.raises(Forbidden):
        services.operator_complete(order, actor=owner, note="x")
    db.session.rollback()


# --- #5: guest grants are for guests, and end at sign-in and sign-out -----------------------------


def test_member_checkout_leaves_no_grant_and_sign_out_hides_the_order(app, client, factory, shopper):
    member = factory.user(email="thanhvien@example.vn")
    sign_in(client, member)
    shopper.add(factory.listing(stock=5))
    code = payment_code(shopper.checkout("cod"))
    assert _grants(client) == []
    assert client.get(f"/don-hang/{code}-1").status_code == 200
    sign_out(client)
    # The next person on this phone sees neither the address nor a cancel button.
    r = client.get(f"/don-hang/{code}-1")
    assert r.status_code == 302 and "/dang-nhap" in r.headers["Location"]
    assert client.get(f"/thanh-toan/{code}").status_code == 302
    assert client.post(f"/don-hang/{code}-1/huy", data={"reason": "x"}).status_code == 404
    assert reloaded(db.session.scalar(select(Order).where(Order.code == f"{code}-1"))).status == "placed"


def test_a_guest_grant_ends_when_someone_signs_in(app, client, factory, shopper):
    order = place_cod_order(shopper, factory.listing(stock=5))  # a guest on this browser
    assert _grants(client) == [order.payment.code]
    assert client.get(f"/don-hang/{order.code}").status_code == 200
    sign_in(client, factory.user())  # someone else signs in on the same browser
    assert _grants(client) == []
    assert client.get(f"/don-hang/{order.code}").status_code == 404
    sign_out(client)
    r = client.get(f"/don-hang/{order.code}")
    assert r.status_code == 302 and "/dang-nhap" in r.headers["Location"]


def test_a_guest_grant_ends_at_sign_out(app, client, factory, shopper):
    """Granted while nobody was signed in, then a sign-in and sign-out: gone, whatever
    sign-out does with the rest of the session."""
    order = place_cod_order(shopper, factory.listing(stock=5))
    member = factory.user()
    sign_in(client, member)
    with client.session_transaction() as session:  # as if it had survived the sign-in somehow
        session[SESSION_KEY] = [order.payment.code]
    assert client.get(f"/don-hang/{order.code}").status_code == 404  # never honoured for a member
    sign_out(client)
    assert _grants(client) == []
    assert client.get(f"/don-hang/{order.code}").status_code == 302


def test_member_opening_a_guest_link_sees_it_read_only(app, client, factory, shopper):
    order = place_cod_order(shopper, factory.listing(stock=5))
    member_browser = sign_in(app.test_client(), factory.user())
    link = f"/don-hang/lien-ket/{make_token(order.payment)}?next={order.code}"
    r = member_browser.get(link)
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert order.code in html and "hãy đăng xuất rồi mở lại liên kết" in html
    assert f"/don-hang/{order.code}/huy" not in html and "Thôn 2" not in html
    assert _grants(member_browser) == []
    assert member_browser.post(f"/don-hang/{order.code}/huy", data={"reason": "x"}).status_code == 404
    assert reloaded(order).status == "placed"
    # Signed out, the same link works as the guest's.
    sign_out(member_browser)
    assert member_browser.get(link).status_code == 302
    assert _grants(member_browser) == [order.payment.code]
    assert member_browser.get(f"/don-hang/{order.code}").status_code == 200


# --- the access helpers name the actor ----------------------------------------------------------


def test_order_access_names_each_actor(app, factory, shopper):
    member = factory.user()
    member_order, owner = _delivered(app, factory, shopper, member=member)
    operator, stranger = factory.operator(), factory.user()
    staff = factory.user(role="producer")
    from sellers.models import ShopMember

    db.session.add(ShopMember(shop_id=member_order.shop_id, user_id=staff.id, role="staff"))
    db.session.commit()
    assert order_access(member, member_order) is OrderAccess.BUYER
    assert order_access(owner, member_order) is OrderAccess.SHOP_MEMBER
    assert order_access(staff, member_order) is OrderAccess.SHOP_MEMBER
    assert order_access(operator, member_order) is OrderAccess.OPERATOR
    assert order_access(stranger, member_order) is OrderAccess.NONE
    assert order_access(None, member_order) is OrderAccess.NONE
    assert payment_access(member, member_order.payment) is OrderAccess.BUYER
    assert payment_access(owner, member_order.payment) is OrderAccess.NONE  # a checkout spans shops
    assert [a for a in OrderAccess if a.acts_for_buyer] == [OrderAccess.BUYER, OrderAccess.GUEST_LINK]

    guest_order = place_cod_order(Shopper(app.test_client(), shopper.commune_id), factory.listing(stock=5))
    with app.test_request_context():
        from flask import session

        assert order_access(None, guest_order) is OrderAccess.NONE
        session[SESSION_KEY] = [guest_order.payment.code]
        assert order_access(None, guest_order) is OrderAccess.GUEST_LINK
        assert order_access(stranger, guest_order) is OrderAccess.NONE  # grants are not a member's
        assert order_access(operator, guest_order) is OrderAccess.OPERATOR
    assert db.session.scalar(select(OrderEvent).where(OrderEvent.actor_role == "operator")) is None


def test_a_visitor_refused_a_page_signs_in_and_comes_back_to_it(app, client, factory, shopper):
    """Flask-Login's own sign-in redirect (as for @login_required), with the page and its query
    as `next`; signing in as the buyer lands back on it."""
    member = factory.user()
    sign_in(client, member)
    shopper.add(factory.listing(stock=5))
    code = payment_code(shopper.checkout("cod"))
    sign_out(client)
    r = client.get(f"/thanh-toan/{code}?xem=1")
    location = urlsplit(r.headers["Location"])
    assert r.status_code == 302 and location.path == "/dang-nhap"
    assert parse_qs(location.query) == {"next": [f"/thanh-toan/{code}?xem=1"]}
    back = client.post(
        f"{location.path}?{location.query}", data={"email": member.email, "password": "cam-bu-ht9"}
    )
    assert back.status_code == 302 and back.headers["Location"] == f"/thanh-toan/{code}?xem=1"
    assert client.get(back.headers["Location"]).status_code == 200
